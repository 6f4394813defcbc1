/*
 * fhirwall minimise module: the configuration.  Profiles
 * (fw_minimise_profile, parsed by the core: fw_minimise_profile.c), the
 * role map and default per location, the merge, and what fails nginx -t.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "fw_minimise.h"
#include "ngx_http_fw_minimise.h"


static ngx_http_fw_min_profile_t *ngx_http_fw_min_find(ngx_conf_t *cf,
    ngx_str_t *name, ngx_uint_t *kind);


void *
ngx_http_fw_min_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_fw_min_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_min_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mcf->profiles, cf->pool, 4,
                       sizeof(ngx_http_fw_min_profile_t))
        != NGX_OK)
    {
        return NULL;
    }

    return mcf;
}


char *
ngx_http_fw_min_init_main_conf(ngx_conf_t *cf, void *conf)
{
    return NGX_CONF_OK;
}


void *
ngx_http_fw_min_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_min_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_min_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->dflt = { 0, NULL };
     *     conf->bufs = { 0, 0 };
     */

    conf->rules = NGX_CONF_UNSET_PTR;
    conf->passthrough = NGX_CONF_UNSET_PTR;
    conf->hold = NGX_CONF_UNSET_SIZE;

    return conf;
}


char *
ngx_http_fw_min_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_fw_min_loc_conf_t *prev = parent;
    ngx_http_fw_min_loc_conf_t *conf = child;

    ngx_uint_t               i;
    ngx_http_fw_min_rule_t  *rule;

    ngx_conf_merge_ptr_value(conf->rules, prev->rules, NULL);
    ngx_conf_merge_ptr_value(conf->passthrough, prev->passthrough, NULL);
    ngx_conf_merge_size_value(conf->hold, prev->hold, 64 * 1024);
    ngx_conf_merge_bufs_value(conf->bufs, prev->bufs, 4, 16 * 1024);

    if (conf->dflt.data == NULL) {
        conf->dflt = prev->dflt;
    }

    if (conf->bufs.size < 4 * FW_MIN_OUT_RESERVE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_minimise_buffers\" size must be at "
                           "least %d", 4 * FW_MIN_OUT_RESERVE);
        return NGX_CONF_ERROR;
    }

    if (conf->rules && conf->dflt.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_minimise_map\" needs \"fw_minimise_default\""
                           " (the profile when no rule matches)");
        return NGX_CONF_ERROR;
    }

    if (conf->dflt.data == NULL) {
        return NGX_CONF_OK;
    }

    conf->dflt_profile = ngx_http_fw_min_find(cf, &conf->dflt,
                                              &conf->dflt_kind);
    if (conf->dflt_profile == NULL
        && conf->dflt_kind == NGX_HTTP_FW_MIN_PROFILE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_minimise_default\": unknown profile \"%V\"",
                           &conf->dflt);
        return NGX_CONF_ERROR;
    }

    if (conf->rules) {
        rule = conf->rules->elts;

        for (i = 0; i < conf->rules->nelts; i++) {
            rule[i].profile = ngx_http_fw_min_find(cf, &rule[i].name,
                                                   &rule[i].kind);
            if (rule[i].profile == NULL
                && rule[i].kind == NGX_HTTP_FW_MIN_PROFILE)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_minimise_map\": unknown profile "
                                   "\"%V\"", &rule[i].name);
                return NGX_CONF_ERROR;
            }
        }
    }

    return NGX_CONF_OK;
}


/* a profile by name; NULL with *kind NONE or DENY for those two */
static ngx_http_fw_min_profile_t *
ngx_http_fw_min_find(ngx_conf_t *cf, ngx_str_t *name, ngx_uint_t *kind)
{
    char                          err[256];
    ngx_uint_t                    i;
    ngx_http_fw_min_profile_t    *p;
    ngx_http_fw_min_main_conf_t  *mcf;

    *kind = NGX_HTTP_FW_MIN_PROFILE;

    if (name->len == 4 && ngx_strncmp(name->data, "none", 4) == 0) {
        *kind = NGX_HTTP_FW_MIN_NONE;
        return NULL;
    }

    if (name->len == 4 && ngx_strncmp(name->data, "deny", 4) == 0) {
        *kind = NGX_HTTP_FW_MIN_DENY;
        return NULL;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_minimise_module);
    p = mcf->profiles.elts;

    for (i = 0; i < mcf->profiles.nelts; i++) {
        if (p[i].name.len == name->len
            && ngx_strncmp(p[i].name.data, name->data, name->len) == 0)
        {
            return &p[i];
        }
    }

    if (name->len == 11 && ngx_strncmp(name->data, "safe-harbor", 11) == 0)
    {
        /* the built-in profile, made when first named */
        p = ngx_array_push(&mcf->profiles);
        if (p == NULL) {
            return NULL;
        }

        p->name = *name;
        p->prof = ngx_palloc(cf->pool, sizeof(fw_min_profile_t));
        if (p->prof == NULL) {
            return NULL;
        }

        fw_min_profile_init(p->prof);

        if (fw_min_profile_safe_harbor(p->prof, err, sizeof(err)) != 0) {
            return NULL;
        }

        return p;
    }

    return NULL;
}


/*
 * fw_minimise_profile name option ...;
 *   safe-harbor  elements=Type:a,b  drop=Path[,Path]  types=T[,T]
 *   summary=true|text|data|count  request_elements=on|off
 */
char *
ngx_http_fw_min_profile(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_min_main_conf_t *mcf = conf;

    int                         rc;
    char                        err[256];
    size_t                      i, s;
    ngx_str_t                  *value, v;
    ngx_uint_t                  n, kind;
    ngx_http_fw_min_profile_t  *p;

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > 64
        || ngx_strcmp(value[1].data, "none") == 0
        || ngx_strcmp(value[1].data, "deny") == 0
        || ngx_strcmp(value[1].data, "safe-harbor") == 0)
    {
        return "needs a name other than \"none\", \"deny\" and "
               "\"safe-harbor\"";
    }

    for (i = 0; i < value[1].len; i++) {
        if (!isalnum(value[1].data[i]) && value[1].data[i] != '-'
            && value[1].data[i] != '_')
        {
            return "needs a name of letters, digits, \"-\" and \"_\"";
        }
    }

    p = ngx_http_fw_min_find(cf, &value[1], &kind);

    if (p == NULL) {
        p = ngx_array_push(&mcf->profiles);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        p->name = value[1];
        p->prof = ngx_palloc(cf->pool, sizeof(fw_min_profile_t));
        if (p->prof == NULL) {
            return NGX_CONF_ERROR;
        }

        fw_min_profile_init(p->prof);
    }

    for (n = 2; n < cf->args->nelts; n++) {
        v = value[n];
        rc = -1;
        err[0] = '\0';

        if (v.len == 11 && ngx_strcmp(v.data, "safe-harbor") == 0) {
            rc = fw_min_profile_safe_harbor(p->prof, err, sizeof(err));

        } else if (v.len > 9 && ngx_strncmp(v.data, "elements=", 9) == 0) {
            rc = fw_min_profile_elements(p->prof, v.data + 9, v.len - 9,
                                         err, sizeof(err));

        } else if (v.len > 5 && ngx_strncmp(v.data, "drop=", 5) == 0) {
            for (i = 5; i <= v.len; i = s + 1) {
                for (s = i; s < v.len && v.data[s] != ','; s++) {
                    /* void */
                }

                rc = fw_min_profile_drop(p->prof, v.data + i, s - i, err,
                                         sizeof(err));
                if (rc != 0) {
                    break;
                }
            }

        } else if (v.len > 6 && ngx_strncmp(v.data, "types=", 6) == 0) {
            rc = fw_min_profile_types(p->prof, v.data + 6, v.len - 6, err,
                                      sizeof(err));

        } else if (v.len > 8 && ngx_strncmp(v.data, "summary=", 8) == 0) {
            rc = fw_min_profile_summary(p->prof, v.data + 8, v.len - 8, err,
                                        sizeof(err));

        } else if (v.len == 20
                   && ngx_strcmp(v.data, "request_elements=off") == 0)
        {
            p->prof->request_elements = 0;
            rc = 0;

        } else if (v.len == 19
                   && ngx_strcmp(v.data, "request_elements=on") == 0)
        {
            p->prof->request_elements = 1;
            rc = 0;

        } else {
            ngx_snprintf((u_char *) err, sizeof(err) - 1,
                         "unknown option \"%V\"%Z", &v);
        }

        if (rc != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_minimise_profile %V\": %s",
                               &value[1], err);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* fw_minimise_map $value match profile; */
char *
ngx_http_fw_min_map(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_min_loc_conf_t *lcf = conf;

    ngx_str_t                         *value;
    ngx_http_fw_min_rule_t            *rule;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (lcf->rules == NGX_CONF_UNSET_PTR) {
        lcf->rules = ngx_array_create(cf->pool, 4,
                                      sizeof(ngx_http_fw_min_rule_t));
        if (lcf->rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(lcf->rules);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(rule, sizeof(ngx_http_fw_min_rule_t));
    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &rule->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (value[2].len == 0) {
        return "needs a non-empty value to match";
    }

    rule->match = value[2];
    rule->name = value[3];

    return NGX_CONF_OK;
}


char *
ngx_http_fw_min_default(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_min_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->dflt.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->dflt = value[1];

    return NGX_CONF_OK;
}
