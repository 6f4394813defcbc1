/*
 * fhirwall JWT: the variables ($fw_jwt_status, $fw_jwt_claim_*, ...).
 */


#include "ngx_http_fw_jwt.h"


/* what tells a prefix variable ($fw_jwt_claim_*, ...) from another */
typedef struct {
    size_t      prefix_len;
    unsigned    header:1;        /* the JOSE header, else the payload */
    unsigned    unverified:1;    /* a verified signature is enough */
} ngx_http_fw_jwt_prefix_var_t;


static ngx_int_t ngx_http_fw_jwt_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_str_t *name,
    const ngx_http_fw_jwt_prefix_var_t *pv);
static json_t *ngx_http_fw_jwt_var_payload(ngx_http_request_t *r,
    ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, json_t *j, char sep);
static ngx_int_t ngx_http_fw_jwt_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_header_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_payload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_sub_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_scope_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_unverified_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_unverified_claim_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static const ngx_http_fw_jwt_prefix_var_t  ngx_http_fw_jwt_claim_var = {
    sizeof("fw_jwt_claim_") - 1, 0, 0
};

static const ngx_http_fw_jwt_prefix_var_t  ngx_http_fw_jwt_header_var = {
    sizeof("fw_jwt_header_") - 1, 1, 0
};

static const ngx_http_fw_jwt_prefix_var_t  ngx_http_fw_jwt_unverified_var = {
    sizeof("fw_jwt_unverified_claim_") - 1, 0, 1
};


static ngx_http_variable_t  ngx_http_fw_jwt_vars[] = {

    { ngx_string("fw_jwt_status"), NULL,
      ngx_http_fw_jwt_status_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_jwt_claim_"), NULL, ngx_http_fw_jwt_claim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("fw_jwt_header_"), NULL, ngx_http_fw_jwt_header_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("fw_jwt_payload"), NULL,
      ngx_http_fw_jwt_payload_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_jwt_sub"), NULL, ngx_http_fw_jwt_sub_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_jwt_scope"), NULL, ngx_http_fw_jwt_scope_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* for logs only: a verified signature, later checks may have failed */

    { ngx_string("fw_jwt_unverified_claim_"), NULL,
      ngx_http_fw_jwt_unverified_claim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("fw_jwt_unverified_payload"), NULL,
      ngx_http_fw_jwt_unverified_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_jwt_unverified_sub"), NULL,
      ngx_http_fw_jwt_unverified_variable, 1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* variables */

static ngx_int_t
ngx_http_fw_jwt_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, json_t *j, char sep)
{
    char    *s;
    size_t   len;
    u_char  *p;

    if (j == NULL || (s = fw_jwt_value_text(j, &len, sep)) == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        ngx_free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(p, s, len);
    ngx_free(s);

    v->data = p;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char             *s;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    s = (ctx->status == NGX_HTTP_FW_JWT_OFF)
        ? FW_VOCAB_JWT_OFF : fw_jwt_status_name(ctx->status);

    v->data = (u_char *) s;
    v->len = ngx_strlen(s);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * The payload's document, made when a variable first reads it (the access
 * check makes it only for what it reads itself): NULL is out of memory,
 * and the variable is then not found (an error), never read as a token
 * without the claim.
 */

static json_t *
ngx_http_fw_jwt_var_payload(ngx_http_request_t *r,
    ngx_http_fw_jwt_ctx_t *ctx)
{
    json_t  *payload;

    payload = fw_jwt_token_payload(&ctx->token);

    if (payload == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_jwt: no memory for the token's claims");
    }

    return payload;
}


/*
 * $fw_jwt_claim_<path>, $fw_jwt_header_<path>, $fw_jwt_unverified_claim_
 * <path>: one getter, the variables differ only in the prefix, the object
 * read and the state the token must be in
 */

static ngx_int_t
ngx_http_fw_jwt_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_str_t *name,
    const ngx_http_fw_jwt_prefix_var_t *pv)
{
    json_t                 *j, *obj;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (pv->unverified ? !ctx->verified : ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    obj = pv->header ? fw_jwt_token_header(&ctx->token)
                     : ngx_http_fw_jwt_var_payload(r, ctx);

    if (obj == NULL && !pv->header) {
        return NGX_ERROR;
    }

    if (name->len < pv->prefix_len) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* nginx lowercased the name: "fhiruser" finds "fhirUser" */

    j = fw_jwt_lookup_name(obj, name->data + pv->prefix_len,
                           name->len - pv->prefix_len);

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


static ngx_int_t
ngx_http_fw_jwt_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_fw_jwt_prefix_variable(r, v, (ngx_str_t *) data,
                                           &ngx_http_fw_jwt_claim_var);
}


static ngx_int_t
ngx_http_fw_jwt_header_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_fw_jwt_prefix_variable(r, v, (ngx_str_t *) data,
                                           &ngx_http_fw_jwt_header_var);
}


static ngx_int_t
ngx_http_fw_jwt_payload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = ngx_http_fw_jwt_var_payload(r, ctx);

    if (j == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


static ngx_int_t
ngx_http_fw_jwt_sub_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = ngx_http_fw_jwt_var_payload(r, ctx);

    if (j == NULL) {
        return NGX_ERROR;
    }

    j = json_object_get(j, "sub");

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


static ngx_int_t
ngx_http_fw_jwt_scope_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *j, *payload;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    payload = ngx_http_fw_jwt_var_payload(r, ctx);

    if (payload == NULL) {
        return NGX_ERROR;
    }

    /* "scope" (RFC 8693, space-separated) or "scp" (an array) */
    j = json_object_get(payload, "scope");

    if (!json_is_string(j)) {
        j = json_object_get(payload, "scp");

        if (!json_is_array(j) && !json_is_string(j)) {
            j = NULL;
        }
    }

    return ngx_http_fw_jwt_json_value(r, v, j, ' ');
}


ngx_int_t
ngx_http_fw_jwt_claim_set_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t              *path = (ngx_str_t *) data;
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = ngx_http_fw_jwt_var_payload(r, ctx);

    if (j == NULL) {
        return NGX_ERROR;
    }

    j = fw_jwt_lookup(j, path->data, path->len);

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


/*
 * $fw_jwt_unverified_*: the claims of a token whose signature verified
 * although a later check (exp, nbf, iss, aud, a requirement) failed, for
 * logs; never from a forged token.  No directive of ours reads them.
 */

static ngx_int_t
ngx_http_fw_jwt_unverified_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (!ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = ngx_http_fw_jwt_var_payload(r, ctx);

    if (j == NULL) {
        return NGX_ERROR;
    }

    if (data) {
        j = json_object_get(j, "sub");
    }

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


static ngx_int_t
ngx_http_fw_jwt_unverified_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_fw_jwt_prefix_variable(r, v, (ngx_str_t *) data,
                                           &ngx_http_fw_jwt_unverified_var);
}


/* the variables, at preconfiguration */

ngx_int_t
ngx_http_fw_jwt_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    if (fw_jwt_init() != FW_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fw_jwt: OpenSSL has no SHA-2 digests");
        return NGX_ERROR;
    }

    for (v = ngx_http_fw_jwt_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    if (ngx_http_fw_jwt_dpop_add_variables(cf,
                                       offsetof(ngx_http_fw_jwt_ctx_t, dpop))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
