/*
 * fhirwall JWT: configuration: the key, token, claim and role directives,
 * creating and merging the configuration and the checks nginx -t makes.
 */


#include "ngx_http_fw_jwt.h"


static char *ngx_http_fw_jwt_key_add(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_str_t *path, ngx_str_t *data,
    ngx_str_t *kid, int alg, int enc);
static char *ngx_http_fw_jwt_merge_keys(ngx_conf_t *cf,
    ngx_http_fw_jwt_loc_conf_t *prev, ngx_http_fw_jwt_loc_conf_t *conf);
static char *ngx_http_fw_jwt_require_values(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_http_fw_jwt_require_t *rq, ngx_str_t *value,
    ngx_uint_t n, int values);
static void ngx_http_fw_jwt_keyset_cleanup(void *data);


/* directives */

char *
ngx_http_fw_jwt_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    int                  alg, enc;
    ngx_str_t           *value, path, data, kid;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    value = cf->args->elts;

    alg = -1;
    enc = FW_JWT_SECRET_RAW;
    ngx_str_null(&kid);

    for (i = 2; i < cf->args->nelts; i++) {

        if (cmd->offset != 2
            && ngx_strncmp(value[i].data, "kid=", 4) == 0)
        {
            kid.data = value[i].data + 4;
            kid.len = value[i].len - 4;
            continue;
        }

        if (cmd->offset != 2
            && ngx_strncmp(value[i].data, "alg=", 4) == 0)
        {
            alg = fw_jwt_alg_from_name(value[i].data + 4, value[i].len - 4);

            if (alg < 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": unsupported algorithm \"%V\"",
                                   &cmd->name, &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (cmd->offset == 1
            && ngx_strncmp(value[i].data, "encoding=", 9) == 0)
        {
            if (ngx_strcmp(value[i].data + 9, "raw") == 0) {
                enc = FW_JWT_SECRET_RAW;

            } else if (ngx_strcmp(value[i].data + 9, "base64") == 0) {
                enc = FW_JWT_SECRET_BASE64;

            } else if (ngx_strcmp(value[i].data + 9, "base64url") == 0) {
                enc = FW_JWT_SECRET_BASE64URL;

            } else {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (jlcf->keys == NULL) {
        jlcf->keys = ngx_pcalloc(cf->pool, sizeof(fw_jwt_keyset_t));
        if (jlcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_fw_jwt_keyset_cleanup;
        cln->data = jlcf->keys;
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": empty file name",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    path = value[1];

    if (ngx_http_fw_read_conf_file(cf, &path,
                                   cmd->offset == 2 ? NGX_HTTP_FW_JWT_JWKS_MAX
                                                    : NGX_HTTP_FW_JWT_KEY_MAX,
                                   &data)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": cannot use key file \"%V\"",
                           &cmd->name, &path);
        return NGX_CONF_ERROR;
    }

    return ngx_http_fw_jwt_key_add(cf, cmd, jlcf, &path, &data, &kid, alg,
                                   enc);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": invalid parameter \"%V\"",
                       &cmd->name, &value[i]);
    return NGX_CONF_ERROR;
}


/* the key file's keys, into this level's key set */

static char *
ngx_http_fw_jwt_key_add(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_str_t *path, ngx_str_t *data,
    ngx_str_t *kid, int alg, int enc)
{
    int     rc;
    char    err[FW_JWT_ERRLEN];
    size_t  added, skipped;

    err[0] = '\0';

    switch (cmd->offset) {
    case 0:
        rc = fw_jwt_keyset_add_pem(jlcf->keys, data->data, data->len,
                                   kid->data, kid->len, alg, err);
        break;

    case 1:
        rc = fw_jwt_keyset_add_secret(jlcf->keys, data->data, data->len, enc,
                                      kid->data, kid->len, alg, err);
        break;

    default:
        rc = fw_jwt_keyset_add_jwks(jlcf->keys, data->data, data->len,
                                    &added, &skipped, err);

        if (rc == FW_OK && skipped) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"%V\" \"%V\": %uz keys that are not "
                               "signature keys were ignored",
                               &cmd->name, path, skipped);
        }
    }

    /* the secret stays in the key set only */
    ngx_explicit_memzero(data->data, data->len);

    if (rc != FW_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" \"%V\": %s",
                           &cmd->name, path, err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_fw_jwt_keyset_cleanup(void *data)
{
    fw_jwt_keyset_free(data);
}


char *
ngx_http_fw_jwt_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    int          alg;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (jlcf->algs != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    jlcf->algs = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 4
            && ngx_strncasecmp(value[i].data, (u_char *) "none", 4) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is never allowed",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        alg = fw_jwt_alg_from_name(value[i].data, value[i].len);

        if (alg < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": unsupported algorithm \"%V\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        jlcf->algs |= FW_JWT_ALG_BIT(alg);
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (jlcf->token != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    jlcf->token = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (jlcf->token == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = jlcf->token;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_str_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t      *value;
    ngx_uint_t      i;
    ngx_array_t   **a;
    fw_jwt_str_t   *s;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NULL) {
        *a = ngx_array_create(cf->pool, 2, sizeof(fw_jwt_str_t));
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

        s->data = value[i].data;
        s->len = value[i].len;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t                  *value;
    ngx_uint_t                  i, n, last;
    ngx_http_fw_jwt_require_t  *rq;

    static struct {
        ngx_str_t  name;
        int        op;
        int        values;      /* 0: none, 1: one number, 2: one or more */
    } ops[] = {
        { ngx_string("eq"), FW_JWT_OP_EQ, 2 },
        { ngx_string("ne"), FW_JWT_OP_NE, 2 },
        { ngx_string("in"), FW_JWT_OP_IN, 2 },
        { ngx_string("any"), FW_JWT_OP_ANY, 2 },
        { ngx_string("all"), FW_JWT_OP_ALL, 2 },
        { ngx_string("gt"), FW_JWT_OP_GT, 1 },
        { ngx_string("ge"), FW_JWT_OP_GE, 1 },
        { ngx_string("lt"), FW_JWT_OP_LT, 1 },
        { ngx_string("le"), FW_JWT_OP_LE, 1 },
        { ngx_string("exists"), FW_JWT_OP_EXISTS, 0 },
        { ngx_string("absent"), FW_JWT_OP_ABSENT, 0 },
        { ngx_null_string, 0, 0 }
    };

    value = cf->args->elts;

    if (jlcf->requires == NULL) {
        jlcf->requires = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_http_fw_jwt_require_t));
        if (jlcf->requires == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rq = ngx_array_push(jlcf->requires);
    if (rq == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(rq, sizeof(ngx_http_fw_jwt_require_t));

    rq->status = NGX_HTTP_FORBIDDEN;
    rq->rq.path.data = value[1].data;
    rq->rq.path.len = value[1].len;

    last = cf->args->nelts;

    if (ngx_strncmp(value[last - 1].data, "error=", 6) == 0) {
        if (ngx_strcmp(value[last - 1].data, "error=401") == 0) {
            rq->status = NGX_HTTP_UNAUTHORIZED;

        } else if (ngx_strcmp(value[last - 1].data, "error=403") == 0) {
            rq->status = NGX_HTTP_FORBIDDEN;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" must be error=401 or "
                               "error=403", &cmd->name, &value[last - 1]);
            return NGX_CONF_ERROR;
        }

        last--;
    }

    for (i = 0; ops[i].name.len; i++) {
        if (ops[i].name.len == value[2].len
            && ngx_strncmp(ops[i].name.data, value[2].data, value[2].len)
               == 0)
        {
            break;
        }
    }

    if (ops[i].name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": unknown operator \"%V\"",
                           &cmd->name, &value[2]);
        return NGX_CONF_ERROR;
    }

    rq->rq.op = ops[i].op;
    n = last - 3;

    if ((ops[i].values == 0 && n != 0)
        || (ops[i].values == 1 && n != 1)
        || (ops[i].values == 2 && n == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": wrong number of values for \"%V\"",
                           &cmd->name, &value[2]);
        return NGX_CONF_ERROR;
    }

    return ngx_http_fw_jwt_require_values(cf, cmd, rq, value, n,
                                          ops[i].values);
}


/* fw_jwt_require_claim's values: a number, or the strings to compare */

static char *
ngx_http_fw_jwt_require_values(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_fw_jwt_require_t *rq, ngx_str_t *value, ngx_uint_t n,
    int values)
{
    u_char        *end;
    ngx_uint_t     i;
    fw_jwt_str_t  *s;

    if (values == 1) {
        rq->rq.number = strtod((char *) value[3].data, (char **) &end);

        if (end != value[3].data + value[3].len || value[3].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is not a number",
                               &cmd->name, &value[3]);
            return NGX_CONF_ERROR;
        }
    }

    if (n) {
        s = ngx_palloc(cf->pool, n * sizeof(fw_jwt_str_t));
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < n; i++) {
            s[i].data = value[3 + i].data;
            s[i].len = value[3 + i].len;
        }

        rq->rq.values = s;
        rq->rq.nvalues = n;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_role(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t      *value;
    ngx_uint_t      i, m;
    fw_jwt_role_t  *role;

    static struct {
        ngx_str_t   name;
        ngx_uint_t  method;
    } methods[] = {
        { ngx_string("GET"), NGX_HTTP_GET },
        { ngx_string("HEAD"), NGX_HTTP_HEAD },
        { ngx_string("POST"), NGX_HTTP_POST },
        { ngx_string("PUT"), NGX_HTTP_PUT },
        { ngx_string("PATCH"), NGX_HTTP_PATCH },
        { ngx_string("DELETE"), NGX_HTTP_DELETE },
        { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS },
        { ngx_null_string, 0 }
    };

    value = cf->args->elts;

    if (jlcf->roles == NULL) {
        jlcf->roles = ngx_array_create(cf->pool, 4, sizeof(fw_jwt_role_t));
        if (jlcf->roles == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    role = ngx_array_push(jlcf->roles);
    if (role == NULL) {
        return NGX_CONF_ERROR;
    }

    role->name.data = value[1].data;
    role->name.len = value[1].len;
    role->methods = 0;

    for (i = 2; i < cf->args->nelts; i++) {
        for (m = 0; methods[m].name.len; m++) {
            if (methods[m].name.len == value[i].len
                && ngx_strncmp(methods[m].name.data, value[i].data,
                               value[i].len) == 0)
            {
                break;
            }
        }

        if (methods[m].name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": unknown method \"%V\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        role->methods |= (unsigned) methods[m].method;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_claim_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t                       *value;
    ngx_uint_t                       i;
    ngx_http_fw_jwt_claim_header_t  *ch;

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (!((value[1].data[i] >= 'a' && value[1].data[i] <= 'z')
              || (value[1].data[i] >= 'A' && value[1].data[i] <= 'Z')
              || (value[1].data[i] >= '0' && value[1].data[i] <= '9')
              || value[1].data[i] == '-' || value[1].data[i] == '_'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid header name \"%V\"",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_fw_request_header_allowed(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": header \"%V\" is one nginx tracks itself "
                           "(or longer than 64 bytes) and cannot carry a claim",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (jlcf->claim_headers == NULL) {
        jlcf->claim_headers = ngx_array_create(cf->pool, 2,
                                   sizeof(ngx_http_fw_jwt_claim_header_t));
        if (jlcf->claim_headers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ch = ngx_array_push(jlcf->claim_headers);
    if (ch == NULL) {
        return NGX_CONF_ERROR;
    }

    ch->name = value[1];
    ch->path = value[2];

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_claim_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t            *value, *path;
    ngx_http_variable_t  *var;

    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid variable name \"%V\"",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    value[1].len--;
    value[1].data++;

    var = ngx_http_add_variable(cf, &value[1], NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_CONF_ERROR;
    }

    path = ngx_palloc(cf->pool, sizeof(ngx_str_t));
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    *path = value[2];

    var->get_handler = ngx_http_fw_jwt_claim_set_variable;
    var->data = (uintptr_t) path;

    return NGX_CONF_OK;
}


void *
ngx_http_fw_jwt_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_main_conf_t));
    if (jmcf == NULL) {
        return NULL;
    }

    jmcf->cache_size = NGX_CONF_UNSET_UINT;

    return jmcf;
}


char *
ngx_http_fw_jwt_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_fw_jwt_main_conf_t *jmcf = conf;

    ngx_conf_init_uint_value(jmcf->cache_size, 1024);

    return NGX_CONF_OK;
}


void *
ngx_http_fw_jwt_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_jwt_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->realm = { 0, NULL };
     *     conf->keys = NULL;
     *     conf->ks = NULL;
     *     conf->issuers = NULL;
     *     conf->audiences = NULL;
     *     conf->requires = NULL;
     *     conf->roles_claim = { 0, NULL };
     *     conf->roles = NULL;
     *     conf->claim_headers = NULL;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->max_size = NGX_CONF_UNSET_SIZE;
    conf->error_format = NGX_CONF_UNSET_UINT;
    conf->phase = NGX_CONF_UNSET_UINT;
    conf->algs = NGX_CONF_UNSET;
    conf->leeway = NGX_CONF_UNSET;
    conf->require_exp = NGX_CONF_UNSET;
    conf->max_lifetime = NGX_CONF_UNSET;
    conf->typ = NGX_CONF_UNSET_UINT;
    conf->replay = NGX_CONF_UNSET_PTR;
    conf->revoke = NGX_CONF_UNSET_PTR;
    conf->revoke_redis = NGX_CONF_UNSET_PTR;
    conf->redis_failure = NGX_CONF_UNSET_UINT;

    ngx_http_fw_jwt_dpop_create_conf(&conf->dpop);
    ngx_http_fw_jwt_introspect_create_conf(&conf->introspect);

    return conf;
}


char *
ngx_http_fw_jwt_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_fw_jwt_loc_conf_t *prev = parent;
    ngx_http_fw_jwt_loc_conf_t *conf = child;

    size_t  i;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "api");
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size,
                              FW_JWT_DEFAULT_MAX);
    ngx_conf_merge_uint_value(conf->error_format, prev->error_format,
                              FW_FORMAT_PROBLEM);
    ngx_conf_merge_uint_value(conf->phase, prev->phase,
                              NGX_HTTP_FW_JWT_PHASE_ACCESS);
    ngx_conf_merge_value(conf->algs, prev->algs, NGX_CONF_UNSET);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_value(conf->require_exp, prev->require_exp, 1);
    ngx_conf_merge_sec_value(conf->max_lifetime, prev->max_lifetime, 0);
    ngx_conf_merge_uint_value(conf->typ, prev->typ, FW_JWT_TYP_EITHER);
    ngx_conf_merge_str_value(conf->roles_claim, prev->roles_claim, "roles");
    ngx_conf_merge_ptr_value(conf->replay, prev->replay, NULL);
    ngx_conf_merge_ptr_value(conf->revoke, prev->revoke, NULL);

    if (conf->issuers == NULL) {
        conf->issuers = prev->issuers;
    }

    if (conf->audiences == NULL) {
        conf->audiences = prev->audiences;
    }

    if (conf->requires == NULL) {
        conf->requires = prev->requires;
    }

    if (conf->roles == NULL) {
        conf->roles = prev->roles;
    }

    if (conf->claim_headers == NULL) {
        conf->claim_headers = prev->claim_headers;
    }

    if (ngx_http_fw_jwt_dpop_merge_conf(cf, &prev->dpop, &conf->dpop,
                                        conf->token != NULL)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_jwt_introspect_merge_conf(cf, &prev->introspect,
                                              &conf->introspect)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->enable && conf->introspect.issuers
        && conf->introspect.uri.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_introspect_issuers\" needs "
                           "\"fw_jwt_introspect\"");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_jwt_redis_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < conf->realm.len; i++) {
        if (conf->realm.data[i] < 0x20 || conf->realm.data[i] == '"'
            || conf->realm.data[i] == '\\' || conf->realm.data[i] == 0x7f)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_jwt_realm\" must not hold quotes, "
                               "backslashes or control characters");
            return NGX_CONF_ERROR;
        }
    }

    if (conf->max_size == 0 || conf->max_size > 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_max_size\" must be between 1 and 1m");
        return NGX_CONF_ERROR;
    }

    return ngx_http_fw_jwt_merge_keys(cf, prev, conf);
}


/* the key sets: inherited, or this level's keys with its allowlist */

static char *
ngx_http_fw_jwt_merge_keys(ngx_conf_t *cf, ngx_http_fw_jwt_loc_conf_t *prev,
    ngx_http_fw_jwt_loc_conf_t *conf)
{
    char      err[FW_JWT_ERRLEN];
    size_t    i;
    unsigned  usable;

    if (conf->remote == NULL) {
        conf->remote = prev->remote;
    }

    if (conf->keys == NULL) {
        conf->keys = prev->keys;
    }

    if (conf->keys == NULL) {
        if (conf->enable && conf->remote == NULL
            && conf->introspect.uri.len == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_jwt\" is on but no key is configured "
                               "(\"fw_jwt_key_file\", \"fw_jwt_secret_file\","
                               " \"fw_jwt_jwks_file\", \"fw_jwt_jwks_uri\""
                               " or \"fw_jwt_introspect\")");
            return NGX_CONF_ERROR;
        }

        if (conf->algs != NGX_CONF_UNSET && conf->algs != 0) {
            /* checked where keys are */
        }

        return NGX_CONF_OK;
    }

    if (conf->keys == prev->keys && conf->algs == prev->algs
        && prev->ks != NULL)
    {
        /* one verifier (and cache owner) for every level that inherits */
        conf->ks = prev->ks;
        return NGX_CONF_OK;
    }

    /* the keys with this level's allowlist */

    conf->ks = ngx_palloc(cf->pool, sizeof(fw_jwt_keyset_t));
    if (conf->ks == NULL) {
        return NGX_CONF_ERROR;
    }

    *conf->ks = *conf->keys;

    usable = 0;

    for (i = 0; i < conf->keys->nkeys; i++) {
        usable |= conf->keys->keys[i].algs;
    }

    conf->ks->algs = (conf->algs == NGX_CONF_UNSET) ? usable
                                                    : (unsigned) conf->algs;

    if (fw_jwt_keyset_check(conf->ks, err) != FW_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_algorithms\" and the keys of this "
                           "location (\"fw_jwt_secret_file\", "
                           "\"fw_jwt_key_file\", \"fw_jwt_jwks_file\"): %s",
                           err);
        return NGX_CONF_ERROR;
    }

    if (fw_jwt_keyset_warn(conf->ks, err)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"fw_jwt_algorithms\" and the HMAC secrets of "
                           "this location: %s", err);
    }

    return NGX_CONF_OK;
}
