/*
 * fhirwall webhook: configuration: the scheme and secret directives, the
 * secrets, merging and the checks nginx -t makes.
 */


#include "ngx_http_fw_webhook.h"


static void ngx_http_fw_webhook_scheme_headers(
    ngx_http_fw_webhook_loc_conf_t *conf);
static void ngx_http_fw_webhook_str(ngx_str_t *dst, const char *src);
static ngx_int_t ngx_http_fw_webhook_load_secrets(ngx_conf_t *cf,
    ngx_http_fw_webhook_loc_conf_t *conf);
static void ngx_http_fw_webhook_secret_cleanup(void *data);
static ngx_int_t ngx_http_fw_webhook_check_buffering(ngx_conf_t *cf);


/* the scheme's headers, from the core's table or fw_webhook_generic */

static void
ngx_http_fw_webhook_scheme_headers(ngx_http_fw_webhook_loc_conf_t *conf)
{
    const fw_webhook_scheme_t  *sch;

    sch = fw_webhook_scheme((int) conf->scheme);

    if (sch == NULL) { /* FW_WEBHOOK_GENERIC */
        conf->h_sig = conf->header;
        conf->h_ts = conf->ts_header;
        conf->h_id = conf->id_header;
        conf->h_prefix = conf->sig_prefix;
        conf->h_format = FW_WEBHOOK_FMT_SINGLE;
        conf->h_encoding = conf->encoding;
        return;
    }

    ngx_http_fw_webhook_str(&conf->h_sig, sch->sig_header);
    ngx_http_fw_webhook_str(&conf->h_ts, sch->ts_header);
    ngx_http_fw_webhook_str(&conf->h_id, sch->id_header);
    ngx_http_fw_webhook_str(&conf->h_prefix, sch->prefix);
    conf->h_format = sch->format;
    conf->h_encoding = sch->encoding;
}


static void
ngx_http_fw_webhook_str(ngx_str_t *dst, const char *src)
{
    dst->data = (u_char *) src;
    dst->len = src ? ngx_strlen(src) : 0;
}


/* configuration */


static ngx_int_t
ngx_http_fw_webhook_load_secrets(ngx_conf_t *cf,
    ngx_http_fw_webhook_loc_conf_t *conf)
{
    ngx_str_t                     *file;
    ngx_uint_t                     i, digest;
    ngx_http_fw_webhook_secret_t  *s;

    digest = (conf->scheme == FW_WEBHOOK_GENERIC) ? conf->digest
                                                  : FW_WEBHOOK_SHA256;

    if (conf->secrets && conf->secrets_scheme == conf->scheme
        && conf->secrets_digest == digest)
    {
        return NGX_OK;
    }

    conf->secrets = ngx_array_create(cf->pool, conf->secret_files->nelts,
                                     sizeof(ngx_http_fw_webhook_secret_t));
    if (conf->secrets == NULL) {
        return NGX_ERROR;
    }

    file = conf->secret_files->elts;

    for (i = 0; i < conf->secret_files->nelts; i++) {
        s = ngx_array_push(conf->secrets);
        if (s == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_fw_webhook_load_secret(cf, "fw_webhook_secret_file",
                                            &file[i], conf->scheme, digest, s)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    conf->secrets_scheme = conf->scheme;
    conf->secrets_digest = digest;

    return NGX_OK;
}


ngx_int_t
ngx_http_fw_webhook_load_secret(ngx_conf_t *cf, const char *directive,
    ngx_str_t *file, ngx_uint_t scheme, ngx_uint_t digest,
    ngx_http_fw_webhook_secret_t *secret)
{
    u_char              *key;
    size_t               key_len;
    ngx_int_t            rc;
    ngx_str_t            name, content;
    ngx_pool_cleanup_t  *cln;

    /* a copy, NUL-terminated: the file is opened by that name */

    name.len = file->len;
    name.data = ngx_pnalloc(cf->pool, file->len + 1);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(name.data, file->data, file->len);
    name.data[name.len] = '\0';

    if (ngx_http_fw_read_conf_file(cf, &name,
                                   NGX_HTTP_FW_WEBHOOK_SECRET_MAX, &content)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\": cannot use secret file \"%V\"",
                           directive, file);
        return NGX_ERROR;
    }

    key = ngx_pnalloc(cf->pool, content.len + 1);
    if (key == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_OK;

    if (fw_webhook_secret_key((int) scheme, content.data, content.len, key,
                              &key_len)
        != FW_WEBHOOK_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\": secret file \"%V\" holds no usable "
                           "secret%s", directive, file,
                           scheme == FW_WEBHOOK_STANDARD
                           ? " (Standard Webhooks secrets are base64, "
                             "optionally after \"whsec_\")" : "");
        rc = NGX_ERROR;
    }

    if (rc == NGX_OK
        && fw_webhook_mac_init(&secret->mac, (int) digest, key, key_len)
           != FW_WEBHOOK_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\": HMAC initialization failed", directive);
        rc = NGX_ERROR;
    }

    ngx_explicit_memzero(content.data, content.len);
    ngx_explicit_memzero(key, content.len);

    if (rc != NGX_OK) {
        return rc;
    }

    secret->file = name;
    secret->nspare = 0;

    secret->spare = ngx_palloc(cf->pool, NGX_HTTP_FW_WEBHOOK_SPARE
                                         * sizeof(fw_webhook_mac_t));

    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (secret->spare == NULL || cln == NULL) {
        fw_webhook_mac_free(&secret->mac);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_fw_webhook_secret_cleanup;
    cln->data = secret;

    return NGX_OK;
}


static void
ngx_http_fw_webhook_secret_cleanup(void *data)
{
    ngx_http_fw_webhook_secret_t *secret = data;

    while (secret->nspare) {
        fw_webhook_mac_free(&secret->spare[--secret->nspare]);
    }

    fw_webhook_mac_free(&secret->mac);
}


static ngx_int_t
ngx_http_fw_webhook_check_buffering(ngx_conf_t *cf)
{
    u_char                     *conf;
    ngx_uint_t                  i, k;
    ngx_flag_t                  value;
    ngx_module_t               *m;
    ngx_command_t              *cmd;
    ngx_http_conf_ctx_t        *ctx;
    ngx_http_core_loc_conf_t   *clcf;

    static char  *directives[] = {
        "proxy_request_buffering", "fastcgi_request_buffering",
        "uwsgi_request_buffering", "scgi_request_buffering", NULL
    };

    /*
     * the upstream modules keep "*_request_buffering" in their location
     * configuration at the offset their command declares; they are merged
     * before this module, whose index is higher
     */

    ctx = cf->ctx;

    for (i = 0; cf->cycle->modules[i]; i++) {
        m = cf->cycle->modules[i];

        if (m->type != NGX_HTTP_MODULE || m->commands == NULL) {
            continue;
        }

        for (cmd = m->commands; cmd->name.len; cmd++) {

            for (k = 0; directives[k]; k++) {
                if (ngx_strcmp(cmd->name.data, directives[k]) == 0) {
                    break;
                }
            }

            if (directives[k] == NULL
                || cmd->conf != NGX_HTTP_LOC_CONF_OFFSET
                || cmd->set != ngx_conf_set_flag_slot)
            {
                continue;
            }

            conf = ctx->loc_conf[m->ctx_index];
            if (conf == NULL) {
                continue;
            }

            value = *(ngx_flag_t *) (conf + cmd->offset);

            if (value == 0) {
                clcf = ctx->loc_conf[ngx_http_core_module.ctx_index];

                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"fw_webhook_sign\" cannot be used with "
                              "\"%s off\" in location \"%V\": the "
                              "signature covers the whole body",
                              directives[k], &clcf->name);
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


char *
ngx_http_fw_webhook_generic(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_webhook_loc_conf_t *lcf = conf;

    ngx_str_t   *value, v;
    ngx_uint_t   i;

    if (lcf->header.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    lcf->digest = FW_WEBHOOK_SHA256;
    lcf->encoding = FW_WEBHOOK_HEX;
    ngx_str_set(&lcf->sig_prefix, "");

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "header=", 7) == 0) {
            lcf->header.data = value[i].data + 7;
            lcf->header.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            lcf->sig_prefix.data = value[i].data + 7;
            lcf->sig_prefix.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timestamp=", 10) == 0) {
            lcf->ts_header.data = value[i].data + 10;
            lcf->ts_header.len = value[i].len - 10;
            if (lcf->ts_header.len == 0) {
                goto invalid;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "id=", 3) == 0) {
            lcf->id_header.data = value[i].data + 3;
            lcf->id_header.len = value[i].len - 3;
            if (lcf->id_header.len == 0) {
                goto invalid;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "digest=", 7) == 0) {
            v.data = value[i].data + 7;
            v.len = value[i].len - 7;

            if (v.len == 6 && ngx_strncmp(v.data, "sha256", 6) == 0) {
                lcf->digest = FW_WEBHOOK_SHA256;

            } else if (v.len == 6 && ngx_strncmp(v.data, "sha512", 6) == 0) {
                lcf->digest = FW_WEBHOOK_SHA512;

            } else {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "encoding=", 9) == 0) {
            v.data = value[i].data + 9;
            v.len = value[i].len - 9;

            if (v.len == 3 && ngx_strncmp(v.data, "hex", 3) == 0) {
                lcf->encoding = FW_WEBHOOK_HEX;

            } else if (v.len == 6 && ngx_strncmp(v.data, "base64", 6) == 0) {
                lcf->encoding = FW_WEBHOOK_BASE64;

            } else {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (lcf->header.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_webhook_generic\" needs \"header=\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" of \"fw_webhook_generic\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


void *
ngx_http_fw_webhook_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_fw_webhook_main_conf_t  *wmcf;

    wmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_webhook_main_conf_t));
    if (wmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     wmcf->redis = NULL;
     *     wmcf->prefix = { 0, NULL };
     *     wmcf->client = NULL;
     *     wmcf->failing = 0;
     */

    wmcf->failure = NGX_CONF_UNSET_UINT;

    return wmcf;
}


char *
ngx_http_fw_webhook_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_fw_webhook_main_conf_t *wmcf = conf;

    if (wmcf->prefix.data == NULL) {
        ngx_str_set(&wmcf->prefix, "fw:webhook:");
    }

    ngx_conf_init_uint_value(wmcf->failure, NGX_HTTP_FW_WH_FAIL_CLOSED);

    return NGX_CONF_OK;
}


void *
ngx_http_fw_webhook_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_webhook_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_webhook_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->secrets = NULL;
     *     conf->header = { 0, NULL };
     *     conf->sig_prefix = { 0, NULL };
     *     conf->ts_header = { 0, NULL };
     *     conf->id_header = { 0, NULL };
     *     conf->sign_secret = NULL;
     */

    conf->scheme = NGX_CONF_UNSET_UINT;
    conf->secret_files = NGX_CONF_UNSET_PTR;
    conf->tolerance = NGX_CONF_UNSET;
    conf->max_body = NGX_CONF_UNSET;
    conf->error_format = NGX_CONF_UNSET_UINT;
    conf->replay = NGX_CONF_UNSET_PTR;
    conf->test_now = NGX_CONF_UNSET;
    conf->digest = NGX_CONF_UNSET_UINT;
    conf->encoding = NGX_CONF_UNSET_UINT;
    conf->signed_prefix = NGX_CONF_UNSET_PTR;
    conf->signed_suffix = NGX_CONF_UNSET_PTR;
    conf->sign_scheme = NGX_CONF_UNSET_UINT;

    return conf;
}


char *
ngx_http_fw_webhook_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_fw_webhook_loc_conf_t *prev = parent;
    ngx_http_fw_webhook_loc_conf_t *conf = child;

    ngx_http_fw_webhook_main_conf_t  *wmcf;

    ngx_conf_merge_uint_value(conf->scheme, prev->scheme, 0);
    ngx_conf_merge_sec_value(conf->tolerance, prev->tolerance, 300);
    ngx_conf_merge_off_value(conf->max_body, prev->max_body, 1024 * 1024);
    ngx_conf_merge_uint_value(conf->error_format, prev->error_format,
                              FW_FORMAT_PROBLEM);
    if (conf->replay == NGX_CONF_UNSET_PTR) {
        conf->replay = prev->replay;
        conf->replay_redis = prev->replay_redis;
    }

    if (conf->replay == NGX_CONF_UNSET_PTR) {
        conf->replay = NULL;
    }
    ngx_conf_merge_value(conf->test_now, prev->test_now, NGX_CONF_UNSET);
    ngx_conf_merge_ptr_value(conf->signed_prefix, prev->signed_prefix, NULL);
    ngx_conf_merge_ptr_value(conf->signed_suffix, prev->signed_suffix, NULL);

    if (conf->header.data == NULL) {
        conf->header = prev->header;
        conf->sig_prefix = prev->sig_prefix;
        conf->ts_header = prev->ts_header;
        conf->id_header = prev->id_header;
        conf->digest = prev->digest;
        conf->encoding = prev->encoding;
    }

    ngx_conf_merge_uint_value(conf->digest, prev->digest, FW_WEBHOOK_SHA256);
    ngx_conf_merge_uint_value(conf->encoding, prev->encoding,
                              FW_WEBHOOK_HEX);

    if (conf->sign_scheme == NGX_CONF_UNSET_UINT) {
        conf->sign_scheme = prev->sign_scheme;
        conf->sign_secret = prev->sign_secret;
    }

    if (conf->sign_scheme == NGX_CONF_UNSET_UINT) {
        conf->sign_scheme = 0;
    }

    if (conf->secret_files == NGX_CONF_UNSET_PTR) {
        conf->secret_files = prev->secret_files;
        conf->secrets = prev->secrets;
        conf->secrets_scheme = prev->secrets_scheme;
        conf->secrets_digest = prev->secrets_digest;
    }

    if (conf->secret_files == NGX_CONF_UNSET_PTR) {
        conf->secret_files = NULL;
    }

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_webhook_module);

    if (conf->replay_redis && wmcf->redis == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_webhook_replay redis\" needs "
                           "\"fw_webhook_replay_redis\"");
        return NGX_CONF_ERROR;
    }

    if (conf->scheme && conf->replay == NULL && conf->replay_redis
        && wmcf->failure == NGX_HTTP_FW_WH_FAIL_LOCAL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_webhook_replay_redis ... failure=local\" "
                           "needs a replay zone: \"fw_webhook_replay "
                           "<zone>\" instead of \"redis\"");
        return NGX_CONF_ERROR;
    }

    if (conf->tolerance < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_webhook_tolerance\" must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (conf->scheme) {

        if (conf->secret_files == NULL || conf->secret_files->nelts == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_webhook\" needs at least one "
                               "\"fw_webhook_secret_file\"");
            return NGX_CONF_ERROR;
        }

        if (conf->scheme == FW_WEBHOOK_GENERIC && conf->header.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_webhook generic\" needs "
                               "\"fw_webhook_generic header=...\"");
            return NGX_CONF_ERROR;
        }

        if (ngx_http_fw_webhook_load_secrets(cf, conf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        ngx_http_fw_webhook_scheme_headers(conf);
    }

    if (conf->sign_scheme && ngx_http_fw_webhook_check_buffering(cf)
                             != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
