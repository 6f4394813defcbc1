/*
 * fhirwall rate limit: configuration: fw_ratelimit_redis, the policies,
 * merging and the checks nginx -t makes.
 */


#include "ngx_http_fw_ratelimit.h"


static ngx_int_t ngx_http_fw_ratelimit_policy_param(ngx_conf_t *cf,
    ngx_http_fw_ratelimit_policy_t *pol, ngx_str_t *v);


/* ------------------------------------------------------ configuration */

void *
ngx_http_fw_ratelimit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_ratelimit_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&rmcf->policies, cf->pool, 4,
                       sizeof(ngx_http_fw_ratelimit_policy_t))
        != NGX_OK)
    {
        return NULL;
    }

    rmcf->zone_size = NGX_CONF_UNSET_SIZE;

    return rmcf;
}


char *
ngx_http_fw_ratelimit_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_fw_ratelimit_main_conf_t  *rmcf = conf;

    if (rmcf->prefix.data == NULL) {
        ngx_str_set(&rmcf->prefix, "fw:rl:");
    }

    ngx_conf_init_size_value(rmcf->zone_size, 1024 * 1024);

    fw_ratelimit_script_sha1(rmcf->sha1);

    return NGX_CONF_OK;
}


void *
ngx_http_fw_ratelimit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_ratelimit_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_ratelimit_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->names = NULL;
     *     lcf->policies = NULL;
     */

    lcf->dry_run = NGX_CONF_UNSET;
    lcf->failure = NGX_CONF_UNSET_UINT;
    lcf->headers = NGX_CONF_UNSET;
    lcf->legacy_headers = NGX_CONF_UNSET;
    lcf->error_format = NGX_CONF_UNSET_UINT;
    lcf->status = NGX_CONF_UNSET_UINT;
    lcf->timeout = NGX_CONF_UNSET_MSEC;

    return lcf;
}


char *
ngx_http_fw_ratelimit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_fw_ratelimit_loc_conf_t *prev = parent;
    ngx_http_fw_ratelimit_loc_conf_t *conf = child;

    ngx_uint_t                          i, j;
    ngx_str_t                          *name;
    ngx_http_fw_ratelimit_policy_t     *pol, **pp;
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    if (conf->names == NULL) {
        conf->names = prev->names;
        conf->policies = prev->policies;
    }

    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    ngx_conf_merge_uint_value(conf->failure, prev->failure,
                              NGX_HTTP_FW_RL_FAIL_OPEN);
    ngx_conf_merge_value(conf->headers, prev->headers, 0);
    ngx_conf_merge_value(conf->legacy_headers, prev->legacy_headers, 0);
    ngx_conf_merge_uint_value(conf->error_format, prev->error_format,
                              FW_FORMAT_PROBLEM);
    ngx_conf_merge_uint_value(conf->status, prev->status,
                              NGX_HTTP_TOO_MANY_REQUESTS);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 0);

    if (conf->names == NULL || conf->policies != NULL) {
        return NGX_CONF_OK;
    }

    /* policies are named here and defined at http{} level: resolve now */

    rmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_fw_ratelimit_module);

    conf->policies = ngx_array_create(cf->pool, conf->names->nelts + 1,
                                      sizeof(void *));
    if (conf->policies == NULL) {
        return NGX_CONF_ERROR;
    }

    name = conf->names->elts;

    for (i = 0; i < conf->names->nelts; i++) {
        pol = rmcf->policies.elts;

        for (j = 0; j < rmcf->policies.nelts; j++) {
            if (pol[j].name.len == name[i].len
                && ngx_strncmp(pol[j].name.data, name[i].data, name[i].len)
                   == 0)
            {
                break;
            }
        }

        if (j == rmcf->policies.nelts) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_ratelimit\" directive: unknown policy "
                               "\"%V\" (define it with "
                               "\"fw_ratelimit_policy\" in http{})",
                               &name[i]);
            return NGX_CONF_ERROR;
        }

        pp = ngx_array_push(conf->policies);
        if (pp == NULL) {
            return NGX_CONF_ERROR;
        }

        *pp = &pol[j];
    }

    if (conf->policies->nelts > 32) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_ratelimit\" directive: more than 32 "
                           "policies in one location");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_ratelimit_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_ratelimit_main_conf_t *rmcf = conf;

    ngx_int_t   rc;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (rmcf->redis) {
        return "is duplicate";
    }

    rmcf->redis = ngx_http_fw_redis_conf_create(cf);
    if (rmcf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len > 7 && ngx_strncmp(value[i].data, "prefix=", 7) == 0)
        {
            rmcf->prefix.data = value[i].data + 7;
            rmcf->prefix.len = value[i].len - 7;

            if (ngx_strlchr(rmcf->prefix.data,
                            rmcf->prefix.data + rmcf->prefix.len, '{')
                || ngx_strlchr(rmcf->prefix.data,
                               rmcf->prefix.data + rmcf->prefix.len, '}'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_ratelimit_redis\" directive: the "
                                   "prefix must not contain braces");
                return NGX_CONF_ERROR;
            }

            continue;
        }

        rc = ngx_http_fw_redis_parse_arg(cf, rmcf->redis, &value[i]);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_ratelimit_redis\" directive: unknown "
                               "parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_fw_redis_conf_finish(cf, rmcf->redis) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* one parameter of fw_ratelimit_policy: NGX_DECLINED when invalid */

static ngx_int_t
ngx_http_fw_ratelimit_policy_param(ngx_conf_t *cf,
    ngx_http_fw_ratelimit_policy_t *pol, ngx_str_t *v)
{
    ngx_int_t                          n;
    ngx_str_t                          s;
    ngx_http_compile_complex_value_t   ccv;

    if (ngx_strncmp(v->data, "limit=", 6) == 0) {
        n = ngx_atoi(v->data + 6, v->len - 6);

        if (n == NGX_ERROR || n == 0
            || (uint64_t) n > FW_RATELIMIT_MAX_LIMIT)
        {
            return NGX_DECLINED;
        }

        pol->limit = (uint64_t) n;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "window=", 7) == 0) {
        s.data = v->data + 7;
        s.len = v->len - 7;

        n = ngx_parse_time(&s, 0);

        if (n == NGX_ERROR || n < 1000 || n % 1000
            || (uint64_t) n > FW_RATELIMIT_MAX_WINDOW)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_ratelimit_policy\" directive: "
                               "invalid \"%V\" (whole seconds, from 1s "
                               "to 1d)", v);
            return NGX_ERROR;
        }

        pol->window = (uint64_t) n;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "key=", 4) == 0) {
        s.data = v->data + 4;
        s.len = v->len - 4;

        if (s.len == 0) {
            return NGX_DECLINED;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = &pol->key;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "cost=", 5) == 0) {
        s.data = v->data + 5;
        s.len = v->len - 5;

        if (s.len == 0) {
            return NGX_DECLINED;
        }

        if (ngx_strlchr(s.data, s.data + s.len, '$') == NULL) {
            n = ngx_atoi(s.data, s.len);

            if (n == NGX_ERROR || (uint64_t) n > FW_RATELIMIT_MAX_LIMIT)
            {
                return NGX_DECLINED;
            }

            pol->cost = (uint64_t) n;
            return NGX_OK;
        }

        pol->cost_cv = ngx_palloc(cf->pool,
                                  sizeof(ngx_http_complex_value_t));
        if (pol->cost_cv == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = pol->cost_cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    return NGX_DECLINED;
}


char *
ngx_http_fw_ratelimit_policy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_ratelimit_main_conf_t *rmcf = conf;

    ngx_int_t                           rc;
    ngx_str_t                          *value;
    ngx_uint_t                          i;
    ngx_http_fw_ratelimit_policy_t     *pol;

    value = cf->args->elts;

    if (!fw_ratelimit_valid_name(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_ratelimit_policy\" directive: invalid "
                           "policy name \"%V\" (letters, digits, \"_\", "
                           "\"-\", \".\", at most %d)", &value[1],
                           FW_RATELIMIT_NAME_MAX);
        return NGX_CONF_ERROR;
    }

    pol = rmcf->policies.elts;

    for (i = 0; i < rmcf->policies.nelts; i++) {
        if (pol[i].name.len == value[1].len
            && ngx_strncmp(pol[i].name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_ratelimit_policy\" directive: "
                               "duplicate policy \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    pol = ngx_array_push(&rmcf->policies);
    if (pol == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(pol, sizeof(ngx_http_fw_ratelimit_policy_t));

    pol->name = value[1];
    pol->index = rmcf->policies.nelts - 1;
    pol->cost = 1;

    for (i = 2; i < cf->args->nelts; i++) {

        rc = ngx_http_fw_ratelimit_policy_param(cf, pol, &value[i]);

        if (rc == NGX_DECLINED) {
            goto invalid;
        }

        if (rc != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (pol->limit == 0 || pol->window == 0 || pol->key.value.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_ratelimit_policy\" directive: policy \"%V\" "
                           "needs limit=, window= and key=", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (pol->limit * pol->window >= FW_RATELIMIT_MAX_PRODUCT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_ratelimit_policy\" directive: policy \"%V\": "
                           "limit times window is too large", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (pol->cost > pol->limit) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_ratelimit_policy\" directive: policy \"%V\": "
                           "cost is larger than limit", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"fw_ratelimit_policy\" directive: invalid parameter "
                       "\"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


char *
ngx_http_fw_ratelimit_status_code(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fw_ratelimit_loc_conf_t *lcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (lcf->status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 400 || n > 599) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_ratelimit_status\" directive: status "
                           "\"%V\" is not between 400 and 599", &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->status = (ngx_uint_t) n;

    return NGX_CONF_OK;
}
