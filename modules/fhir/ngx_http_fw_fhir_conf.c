/*
 * fhirwall FHIR: configuration: the directives, merging, the policy the
 * core checks against and the checks nginx -t makes.
 */


#include "ngx_http_fw_fhir.h"


static char *ngx_http_fw_fhir_auth_default(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf);
static char *ngx_http_fw_fhir_build_policy(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf);
static char *ngx_http_fw_fhir_interactions(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf, fw_fhir_policy_t *pol);
static char *ngx_http_fw_fhir_types_map(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf, ngx_array_t *names, u_char *map,
    const char *directive);


static const char  *ngx_http_fw_fhir_default_formats[] = {
    "json", "xml", "application/json", "application/xml", "text/xml",
    "application/fhir+json", "application/fhir+xml", NULL
};


void *
ngx_http_fw_fhir_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_fhir_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_fhir_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->base = { 0, NULL };
     *     conf->policy = { 0 };
     */

    conf->version = NGX_CONF_UNSET_UINT;
    conf->scopes = NGX_CONF_UNSET_PTR;
    conf->patient = NGX_CONF_UNSET_PTR;
    conf->auth = NGX_CONF_UNSET_PTR;
    conf->allow_types = NGX_CONF_UNSET_PTR;
    conf->deny_types = NGX_CONF_UNSET_PTR;
    conf->allow_interactions = NGX_CONF_UNSET_PTR;
    conf->deny_interactions = NGX_CONF_UNSET_PTR;
    conf->allow_ops = NGX_CONF_UNSET_PTR;
    conf->deny_ops = NGX_CONF_UNSET_PTR;
    conf->op_perms = NGX_CONF_UNSET_PTR;
    conf->formats = NGX_CONF_UNSET_PTR;
    conf->deny_status = NGX_CONF_UNSET_UINT;
    conf->override = NGX_CONF_UNSET_UINT;
    conf->unverifiable = NGX_CONF_UNSET_UINT;
    conf->strict = NGX_CONF_UNSET;
    conf->body_max = NGX_CONF_UNSET_SIZE;
    conf->max_entries = NGX_CONF_UNSET_UINT;

    return conf;
}


char *
ngx_http_fw_fhir_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_fw_fhir_loc_conf_t *prev = parent;
    ngx_http_fw_fhir_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_uint_value(conf->version, prev->version, 0);

    if (conf->base.data == NULL) {
        conf->base = prev->base;
    }

    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NGX_CONF_UNSET_PTR);
    ngx_conf_merge_ptr_value(conf->patient, prev->patient, NULL);
    ngx_conf_merge_ptr_value(conf->auth, prev->auth, NGX_CONF_UNSET_PTR);
    ngx_conf_merge_ptr_value(conf->allow_types, prev->allow_types, NULL);
    ngx_conf_merge_ptr_value(conf->deny_types, prev->deny_types, NULL);
    ngx_conf_merge_ptr_value(conf->allow_interactions,
                             prev->allow_interactions, NULL);
    ngx_conf_merge_ptr_value(conf->deny_interactions,
                             prev->deny_interactions, NULL);
    ngx_conf_merge_ptr_value(conf->allow_ops, prev->allow_ops, NULL);
    ngx_conf_merge_ptr_value(conf->deny_ops, prev->deny_ops, NULL);
    ngx_conf_merge_ptr_value(conf->op_perms, prev->op_perms, NULL);
    ngx_conf_merge_ptr_value(conf->formats, prev->formats, NULL);
    ngx_conf_merge_uint_value(conf->deny_status, prev->deny_status, 405);
    ngx_conf_merge_uint_value(conf->override, prev->override,
                              NGX_HTTP_FW_FHIR_OVERRIDE_REJECT);
    ngx_conf_merge_uint_value(conf->unverifiable, prev->unverifiable, 0);
    ngx_conf_merge_value(conf->strict, prev->strict, 0);
    ngx_conf_merge_size_value(conf->body_max, prev->body_max, 1024 * 1024);
    ngx_conf_merge_uint_value(conf->max_entries, prev->max_entries, 1000);

    if (conf->version == 0) {
        return NGX_CONF_OK;
    }

    /* fail closed: anything that could let requests through unchecked */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->scopes == NGX_CONF_UNSET_PTR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir\" needs \"fw_fhir_scopes\": a variable "
                           "with the granted scopes, or \"off\" for path "
                           "validation only");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_fhir_auth_default(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (clcf->satisfy == NGX_HTTP_SATISFY_ANY) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir\" cannot be used with \"satisfy any\": "
                           "another access module could skip its checks");
        return NGX_CONF_ERROR;
    }

    if (conf->base.data == NULL) {

        if (clcf->named
#if (NGX_PCRE)
            || clcf->regex
#endif
           )
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_fhir\" in a regex or named location "
                               "needs \"fw_fhir_base\"");
            return NGX_CONF_ERROR;
        }

        conf->base = clcf->name;

        while (conf->base.len && conf->base.data[conf->base.len - 1] == '/') {
            conf->base.len--;
        }

        if (conf->base.len == 0) {
            conf->base.data = (u_char *) "";
        }
    }

    return ngx_http_fw_fhir_build_policy(cf, conf);
}


static char *
ngx_http_fw_fhir_build_policy(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf)
{
    ngx_uint_t         i;
    fw_fhir_str_t     *f;
    fw_fhir_policy_t  *pol;

    pol = &conf->policy;

    pol->version = (unsigned) conf->version;
    pol->deny_status = (unsigned) conf->deny_status;
    pol->unverifiable = (unsigned) conf->unverifiable;
    pol->max_entries = conf->max_entries;

    if (conf->allow_types) {
        if (ngx_http_fw_fhir_types_map(cf, conf, conf->allow_types,
                                       conf->type_allow,
                                       "fw_fhir_allow_types")
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        pol->type_allow = conf->type_allow;
    }

    if (conf->deny_types) {
        if (ngx_http_fw_fhir_types_map(cf, conf, conf->deny_types,
                                       conf->type_deny, "fw_fhir_deny_types")
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        pol->type_deny = conf->type_deny;
    }

    if (ngx_http_fw_fhir_interactions(cf, conf, pol) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->allow_ops) {
        pol->op_allow = conf->allow_ops->elts;
        pol->n_op_allow = conf->allow_ops->nelts;
    }

    if (conf->deny_ops) {
        pol->op_deny = conf->deny_ops->elts;
        pol->n_op_deny = conf->deny_ops->nelts;
    }

    /* operations: denied unless "fw_fhir_operation_scope" says otherwise */

    pol->op_default = -1;

    if (conf->op_perms) {
        fw_fhir_opperm_t  *op = conf->op_perms->elts;

        pol->op_perms = op;
        pol->n_op_perms = conf->op_perms->nelts;

        for (i = 0; i < conf->op_perms->nelts; i++) {
            if (op[i].name.len == 1 && op[i].name.data[0] == '*') {
                pol->op_default = op[i].perms;
            }
        }
    }

    if (conf->formats == NULL) {
        conf->formats = ngx_array_create(cf->pool, 8, sizeof(fw_fhir_str_t));
        if (conf->formats == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; ngx_http_fw_fhir_default_formats[i]; i++) {
            f = ngx_array_push(conf->formats);
            if (f == NULL) {
                return NGX_CONF_ERROR;
            }

            f->data = (const u_char *) ngx_http_fw_fhir_default_formats[i];
            f->len = ngx_strlen(ngx_http_fw_fhir_default_formats[i]);
        }
    }

    pol->formats = conf->formats->elts;
    pol->n_formats = conf->formats->nelts;

    return NGX_CONF_OK;
}


/* the interactions the location allows */

static char *
ngx_http_fw_fhir_interactions(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf, fw_fhir_policy_t *pol)
{
    ngx_str_t      *name;
    ngx_uint_t      i;
    unsigned long   mask, m;

    /* interactions: every one unless an allowlist says otherwise */

    mask = 0;

    for (i = 1; i < FW_FHIR_I_COUNT; i++) {
        mask |= 1UL << i;
    }

    if (conf->allow_interactions) {
        mask = 0;
        name = conf->allow_interactions->elts;

        for (i = 0; i < conf->allow_interactions->nelts; i++) {
            m = fw_fhir_interaction_mask(name[i].data, name[i].len);

            if (m == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_fhir_allow_interactions\": unknown "
                                   "interaction \"%V\"", &name[i]);
                return NGX_CONF_ERROR;
            }

            mask |= m;
        }
    }

    if (conf->deny_interactions) {
        name = conf->deny_interactions->elts;

        for (i = 0; i < conf->deny_interactions->nelts; i++) {
            m = fw_fhir_interaction_mask(name[i].data, name[i].len);

            if (m == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_fhir_deny_interactions\": unknown "
                                   "interaction \"%V\"", &name[i]);
                return NGX_CONF_ERROR;
            }

            mask &= ~m;
        }
    }

    pol->interactions = mask;

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_fhir_types_map(ngx_conf_t *cf, ngx_http_fw_fhir_loc_conf_t *conf,
    ngx_array_t *names, u_char *map, const char *directive)
{
    int         t;
    ngx_str_t  *name;
    ngx_uint_t  i;

    ngx_memzero(map, FW_FHIR_TYPE_BITMAP);

    name = names->elts;

    for (i = 0; i < names->nelts; i++) {
        t = fw_fhir_type_lookup((unsigned) conf->version, name[i].data,
                                name[i].len);

        if (t < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\": \"%V\" is not a resource type of "
                               "FHIR %s", directive, &name[i],
                               conf->version == FW_FHIR_R4 ? "R4"
                               : conf->version == FW_FHIR_R4B ? "R4B"
                               : "R5");
            return NGX_CONF_ERROR;
        }

        map[t >> 3] |= (u_char) (1 << (t & 7));
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_fhir(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    ngx_str_t  *value;

    if (flcf->version != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        flcf->version = 0;
        return NGX_CONF_OK;
    }

    flcf->version = fw_fhir_version(value[1].data, value[1].len);

    ((ngx_http_fw_fhir_main_conf_t *)
     ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_fhir_module))
        ->used = 1;

    if (flcf->version == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir\": unknown FHIR version \"%V\" "
                           "(R4, R4B, R5 or off)", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_fhir_base(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    size_t      dlen;
    u_char     *d;
    ngx_str_t  *value, base;

    if (flcf->base.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    base = value[1];

    while (base.len && base.data[base.len - 1] == '/') {
        base.len--;
    }

    d = ngx_pnalloc(cf->pool, base.len + 1);
    if (d == NULL) {
        return NGX_CONF_ERROR;
    }

    /* a plain path: no escapes, no dot or empty segments */

    if ((base.len && base.data[0] != '/')
        || ngx_strlchr(base.data, base.data + base.len, '%')
        || ngx_strlchr(base.data, base.data + base.len, '$')
        || fw_fhir_decode_path(base.data, base.len, d, &dlen) != FW_FHIR_OK)
    {
        goto invalid;
    }

    for (dlen = 0; dlen < base.len; dlen++) {
        if (base.data[dlen] == '/'
            && (dlen + 1 == base.len || base.data[dlen + 1] == '/'
                || (base.data[dlen + 1] == '.'
                    && (dlen + 2 == base.len || base.data[dlen + 2] == '/'
                        || base.data[dlen + 2] == '.'))))
        {
            goto invalid;
        }
    }

    flcf->base = base;

    if (base.len == 0) {
        flcf->base.data = (u_char *) "";
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"fw_fhir_base\": \"%V\" is not a plain path",
                       &value[1]);
    return NGX_CONF_ERROR;
}


char *
ngx_http_fw_fhir_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char                             *d, *e;
    ngx_str_t                          *value, name;
    ngx_http_fw_fhir_value_t          **fv;
    ngx_http_compile_complex_value_t    ccv;

    fv = (ngx_http_fw_fhir_value_t **) (p + cmd->offset);

    if (*fv != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        *fv = NULL;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a variable (or \"off\"), not "
                           "\"%V\"", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    *fv = ngx_palloc(cf->pool, sizeof(ngx_http_fw_fhir_value_t));
    if (*fv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &(*fv)->cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* "$name" or "${name}" alone: the variable's index */

    (*fv)->index = -1;

    d = value[1].data + 1;
    e = value[1].data + value[1].len;

    if (d < e && *d == '{') {
        if (e[-1] != '}') {
            return NGX_CONF_OK;
        }

        d++;
        e--;
    }

    name.data = d;

    while (d < e && ((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z')
                     || (*d >= '0' && *d <= '9') || *d == '_'))
    {
        d++;
    }

    name.len = d - name.data;

    if (d == e && name.len) {
        (*fv)->index = ngx_http_get_variable_index(cf, &name);

        if ((*fv)->index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * The authentication verdict in force: fw_fhir_auth_status, or, when the
 * scopes or the patient come from the JWT module ($fw_jwt_*),
 * $fw_jwt_status.  The variable is only named here: without the JWT
 * module "$fw_jwt_scope" is an unknown variable and nginx -t fails.
 */

static char *
ngx_http_fw_fhir_auth_default(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf)
{
    u_char                    *d, *e;
    ngx_uint_t                 i, jwt;
    ngx_http_fw_fhir_value_t  *fv[3];

    static ngx_str_t  status = ngx_string("fw_jwt_status");
    static char      *names[] = { "fw_fhir_scopes", "fw_fhir_patient",
                                  "fw_fhir_auth_status" };

    fv[0] = conf->scopes;
    fv[1] = conf->patient;
    fv[2] = conf->auth;
    jwt = 0;

    for (i = 0; i < 3; i++) {
        if (fv[i] == NULL || fv[i] == NGX_CONF_UNSET_PTR) {
            continue;
        }

        d = fv[i]->cv.value.data;
        e = d + fv[i]->cv.value.len;

        if (ngx_strlcasestrn(d, e, (u_char *) "fw_jwt_unverified_",
                             sizeof("fw_jwt_unverified_") - 2)
            != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" must not use \"%V\": the "
                               "$fw_jwt_unverified_* variables are for logs "
                               "(claims of a token that failed a check)",
                               names[i], &fv[i]->cv.value);
            return NGX_CONF_ERROR;
        }

        if (i < 2
            && (ngx_strlcasestrn(d, e, (u_char *) "$fw_jwt_",
                                 sizeof("$fw_jwt_") - 2)
                != NULL
                || ngx_strlcasestrn(d, e, (u_char *) "${fw_jwt_",
                                    sizeof("${fw_jwt_") - 2)
                   != NULL))
        {
            jwt = 1;
        }
    }

    if (conf->auth != NGX_CONF_UNSET_PTR) {
        conf->gate = conf->auth;
        return NGX_CONF_OK;
    }

    conf->gate = NULL;

    if (!jwt || conf->scopes == NULL) {
        return NGX_CONF_OK;
    }

    conf->gate = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_fhir_value_t));
    if (conf->gate == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->gate->cv.value = status;
    conf->gate->index = ngx_http_get_variable_index(cf, &status);

    if (conf->gate->index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* every argument, and the arguments of every repetition of a directive */

char *
ngx_http_fw_fhir_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_fhir_ops(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t       *value;
    ngx_uint_t       i;
    ngx_array_t    **a;
    fw_fhir_str_t   *op;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts, sizeof(fw_fhir_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        op = ngx_array_push(*a);
        if (op == NULL) {
            return NGX_CONF_ERROR;
        }

        op->data = value[i].data;
        op->len = value[i].len;

        if (op->len && op->data[0] == '$') {
            op->data++;
            op->len--;
        }

        if (!fw_fhir_valid_op(op->data, op->len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is not an operation name",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_fhir_op_scope(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    int                c;
    ngx_str_t         *value;
    ngx_uint_t         i;
    fw_fhir_opperm_t  *op;

    value = cf->args->elts;

    if (flcf->op_perms == NGX_CONF_UNSET_PTR) {
        flcf->op_perms = ngx_array_create(cf->pool, 4,
                                          sizeof(fw_fhir_opperm_t));
        if (flcf->op_perms == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    op = ngx_array_push(flcf->op_perms);
    if (op == NULL) {
        return NGX_CONF_ERROR;
    }

    op->name.data = value[1].data;
    op->name.len = value[1].len;

    if (op->name.len > 1 && op->name.data[0] == '$') {
        op->name.data++;
        op->name.len--;
    }

    if (!(op->name.len == 1 && op->name.data[0] == '*')
        && !fw_fhir_valid_op(op->name.data, op->name.len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir_operation_scope\": \"%V\" is not an "
                           "operation name or \"*\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[2].data, "deny") == 0) {
        op->perms = -1;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[2].data, "public") == 0) {
        op->perms = 0;
        return NGX_CONF_OK;
    }

    op->perms = 0;

    for (i = 0; i < value[2].len; i++) {
        switch (value[2].data[i]) {
        case 'c': c = FW_FHIR_P_C; break;
        case 'r': c = FW_FHIR_P_R; break;
        case 'u': c = FW_FHIR_P_U; break;
        case 'd': c = FW_FHIR_P_D; break;
        case 's': c = FW_FHIR_P_S; break;
        default: c = 0; break;
        }

        if (c == 0 || (op->perms & c)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_fhir_operation_scope\": \"%V\" is not "
                               "deny, public or SMART permissions (cruds)",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        op->perms |= c;
    }

    if (op->perms == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir_operation_scope\": empty permissions");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_fhir_formats(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    ngx_str_t      *value;
    ngx_uint_t      i;
    fw_fhir_str_t  *f;

    if (flcf->formats != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    flcf->formats = ngx_array_create(cf->pool, cf->args->nelts,
                                     sizeof(fw_fhir_str_t));
    if (flcf->formats == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        f = ngx_array_push(flcf->formats);
        if (f == NULL) {
            return NGX_CONF_ERROR;
        }

        f->data = value[i].data;
        f->len = value[i].len;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_fhir_deny_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    ngx_str_t  *value;

    if (flcf->deny_status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "403") == 0) {
        flcf->deny_status = 403;

    } else if (ngx_strcmp(value[1].data, "405") == 0) {
        flcf->deny_status = 405;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir_deny_status\" must be 403 or 405, not "
                           "\"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
