/*
 * fhirwall webhook: outbound signing, the $fw_webhook_sign_* variables.
 */


#include "ngx_http_fw_webhook.h"


static ngx_int_t ngx_http_fw_webhook_sign(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx);


ngx_int_t
ngx_http_fw_webhook_sign_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                       *s;
    ngx_http_fw_webhook_ctx_t       *ctx;
    ngx_http_fw_webhook_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_webhook_module);

    if (lcf->sign_scheme == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ctx = ngx_http_fw_webhook_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (!ctx->signed_done) {
        if (ngx_http_fw_webhook_sign(r, lcf, ctx) != NGX_OK) {
            /* an empty value: the receiver refuses, nothing is forged */
            v->not_found = 1;
            return NGX_OK;
        }

        ctx->signed_done = 1;
    }

    s = (data == 0) ? &ctx->sign_id
                    : (data == 1) ? &ctx->sign_ts : &ctx->sign_sig;

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_webhook_sign(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx)
{
    off_t                     total;
    size_t                    len;
    u_char                   *p, mac[FW_WEBHOOK_MAC_MAX];
    u_char                    id[FW_WEBHOOK_NEW_ID_LEN];
    u_char                    ts[NGX_TIME_T_LEN];
    u_char                    prefix[FW_WEBHOOK_NEW_ID_LEN + NGX_TIME_T_LEN
                                     + 2];
    ngx_str_t                 tss;
    fw_webhook_mac_t          m;
    ngx_http_request_body_t  *rb;

    rb = r->main->request_body;

    /*
     * the exact bytes sent upstream are the buffered body: it must be
     * complete (proxy_request_buffering off is refused at nginx -t)
     */

    if (rb == NULL || rb->rest > 0 || r->main->reading_body
        || r->main->request_body_no_buffering)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_webhook_sign: the request body is not read yet, "
                      "the signature variables are usable in "
                      "proxy_set_header with request buffering on");
        return NGX_ERROR;
    }

    tss.data = ts;
    tss.len = ngx_sprintf(ts, "%T", ngx_http_fw_webhook_now(lcf)) - ts;

    if (fw_webhook_new_id(id) != FW_WEBHOOK_OK) {
        return NGX_ERROR;
    }

    len = fw_webhook_signed_prefix(lcf->sign_scheme, id, sizeof(id),
                                   tss.data, tss.len, prefix);

    if (fw_webhook_mac_dup(&m, &lcf->sign_secret->mac) != FW_WEBHOOK_OK) {
        return NGX_ERROR;
    }

    total = 0;

    if (fw_webhook_mac_update(&m, prefix, len) != FW_WEBHOOK_OK
        || ngx_http_fw_webhook_hash_bufs(r, &m, 1, rb->bufs,
                                         NGX_MAX_OFF_T_VALUE, &total)
           != NGX_OK
        || fw_webhook_mac_final(&m, mac, &len) != FW_WEBHOOK_OK)
    {
        fw_webhook_mac_free(&m);
        return NGX_ERROR;
    }

    fw_webhook_mac_free(&m);

    ctx->sign_ts.data = ngx_pnalloc(r->pool, tss.len);
    ctx->sign_id.data = ngx_pnalloc(r->pool, sizeof(id));
    ctx->sign_sig.data = ngx_pnalloc(r->pool,
                                     sizeof("t=,v1=") - 1 + tss.len
                                     + 2 * FW_WEBHOOK_MAC_MAX);
    if (ctx->sign_ts.data == NULL || ctx->sign_id.data == NULL
        || ctx->sign_sig.data == NULL)
    {
        return NGX_ERROR;
    }

    ctx->sign_ts.len = ngx_cpymem(ctx->sign_ts.data, tss.data, tss.len)
                       - ctx->sign_ts.data;
    ctx->sign_id.len = ngx_cpymem(ctx->sign_id.data, id, sizeof(id))
                       - ctx->sign_id.data;

    p = ctx->sign_sig.data;

    if (lcf->sign_scheme == FW_WEBHOOK_STRIPE) {
        p = ngx_cpymem(p, "t=", 2);
        p = ngx_cpymem(p, tss.data, tss.len);
        p = ngx_cpymem(p, ",v1=", 4);
        p += fw_hex_encode(mac, len, p);

    } else {
        p = ngx_cpymem(p, "v1,", 3);
        p += fw_base64_encode(mac, len, p);
    }

    ctx->sign_sig.len = p - ctx->sign_sig.data;

    ngx_explicit_memzero(mac, sizeof(mac));

    return NGX_OK;
}


char *
ngx_http_fw_webhook_sign_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fw_webhook_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->sign_scheme != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0 && cf->args->nelts == 2) {
        lcf->sign_scheme = 0;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "stripe") == 0) {
        lcf->sign_scheme = FW_WEBHOOK_STRIPE;

    } else if (ngx_strcmp(value[1].data, "standard") == 0
               || ngx_strcmp(value[1].data, "standard-webhooks") == 0
               || ngx_strcmp(value[1].data, "svix") == 0)
    {
        lcf->sign_scheme = FW_WEBHOOK_STANDARD;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown scheme \"%V\" in \"fw_webhook_sign\" "
                           "(stripe, standard or off)", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts != 3) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_webhook_sign %V\" needs a secret file",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->sign_secret = ngx_pcalloc(cf->pool,
                                   sizeof(ngx_http_fw_webhook_secret_t));
    if (lcf->sign_secret == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_webhook_load_secret(cf, "fw_webhook_sign", &value[2],
                                        lcf->sign_scheme, FW_WEBHOOK_SHA256,
                                        lcf->sign_secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
