/*
 * fhirwall webhook: verifies inbound webhook signatures in the access
 * phase and signs outbound ones through variables.
 *
 * Verification hashes the body as it arrives: the signed-content prefix
 * goes into one HMAC per secret when the headers are checked, then a
 * request body filter feeds every piece of the body into them while it is
 * being read (before nginx writes it to a temporary file), counting the
 * bytes against fw_webhook_max_body.  When the last piece arrived the
 * verdict is computed once and kept in the request context.  A body that
 * was already read by someone else is hashed from r->request_body->bufs,
 * its temporary file read in bounded chunks.
 *
 * Replay protection remembers verified messages in a shared-memory zone
 * or, with fw_webhook_replay_redis, in Redis (common/'s
 * non-blocking client): the access handler returns NGX_AGAIN while the
 * SET NX is in flight and the reply runs the phases again.
 */


#include "ngx_http_fw_webhook.h"


static ngx_int_t ngx_http_fw_webhook_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_webhook_read_before(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx);
static void ngx_http_fw_webhook_reset(ngx_http_fw_webhook_ctx_t *ctx);
static ngx_uint_t ngx_http_fw_webhook_same_policy(
    ngx_http_fw_webhook_loc_conf_t *a, ngx_http_fw_webhook_loc_conf_t *b);
static void ngx_http_fw_webhook_ctx_cleanup(void *data);
static void ngx_http_fw_webhook_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_webhook_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_fw_webhook_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_webhook_output_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_fw_webhook_parse_headers(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx,
    ngx_str_t *ts, ngx_str_t *id);
static ngx_uint_t ngx_http_fw_webhook_prepare(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx);
static ngx_uint_t ngx_http_fw_webhook_finish(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_fw_webhook_answer(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx);
static void ngx_http_fw_webhook_denied(ngx_http_request_t *r,
    ngx_uint_t verdict);
static ngx_int_t ngx_http_fw_webhook_macs(ngx_http_request_t *r,
    ngx_array_t *secrets, fw_webhook_mac_t **macs);
static void ngx_http_fw_webhook_macs_cleanup(void *data);
static ngx_int_t ngx_http_fw_webhook_update(fw_webhook_mac_t *macs,
    ngx_uint_t n, u_char *p, size_t len);
static ngx_int_t ngx_http_fw_webhook_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_fw_webhook_scheme(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_webhook_test_now(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_fw_webhook_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_webhook_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_webhook_init_process(ngx_cycle_t *cycle);
static void ngx_http_fw_webhook_exit_process(ngx_cycle_t *cycle);
static void ngx_http_fw_webhook_exit_master(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_fw_webhook_schemes[] = {
    { ngx_string("off"), 0 },
    { ngx_string("stripe"), FW_WEBHOOK_STRIPE },
    { ngx_string("standard"), FW_WEBHOOK_STANDARD },
    { ngx_string("standard-webhooks"), FW_WEBHOOK_STANDARD },
    { ngx_string("svix"), FW_WEBHOOK_STANDARD },
    { ngx_string("github"), FW_WEBHOOK_GITHUB },
    { ngx_string("slack"), FW_WEBHOOK_SLACK },
    { ngx_string("generic"), FW_WEBHOOK_GENERIC },
    { ngx_null_string, 0 }
};


/* indexed by NGX_HTTP_FW_WH_*: common/fw_vocab.h's values */
static ngx_str_t  ngx_http_fw_webhook_verdicts[] = {
    ngx_null_string,
    ngx_string(FW_VOCAB_WEBHOOK_VALID),
    ngx_string(FW_VOCAB_WEBHOOK_MISSING),
    ngx_string(FW_VOCAB_WEBHOOK_MALFORMED),
    ngx_string(FW_VOCAB_WEBHOOK_INVALID),
    ngx_string(FW_VOCAB_WEBHOOK_EXPIRED),
    ngx_string(FW_VOCAB_WEBHOOK_TOO_LARGE),
    ngx_string(FW_VOCAB_WEBHOOK_REPLAY),
    ngx_string(FW_VOCAB_WEBHOOK_ERROR),
    ngx_string(FW_VOCAB_WEBHOOK_UNAVAILABLE)
};


static ngx_command_t  ngx_http_fw_webhook_commands[] = {

    { ngx_string("fw_webhook"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_webhook_scheme,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_webhook_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_array_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_webhook_loc_conf_t, secret_files),
      NULL },

    { ngx_string("fw_webhook_tolerance"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_webhook_loc_conf_t, tolerance),
      NULL },

    { ngx_string("fw_webhook_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_webhook_loc_conf_t, max_body),
      NULL },

    { ngx_string("fw_webhook_error_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_webhook_loc_conf_t, error_format),
      &ngx_http_fw_error_formats },

    { ngx_string("fw_webhook_generic"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_webhook_generic,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_webhook_signed_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_webhook_loc_conf_t, signed_prefix),
      NULL },

    { ngx_string("fw_webhook_signed_suffix"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_webhook_loc_conf_t, signed_suffix),
      NULL },

    { ngx_string("fw_webhook_replay_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_webhook_replay_zone,
      0,
      0,
      NULL },

    { ngx_string("fw_webhook_replay_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_fw_webhook_replay_redis_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_webhook_replay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_webhook_replay,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_webhook_sign"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_fw_webhook_sign_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_webhook_test_now"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_webhook_test_now,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_webhook_module_ctx = {
    ngx_http_fw_webhook_add_variables,     /* preconfiguration */
    ngx_http_fw_webhook_init,              /* postconfiguration */

    ngx_http_fw_webhook_create_main_conf,  /* create main configuration */
    ngx_http_fw_webhook_init_main_conf,    /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_fw_webhook_create_loc_conf,   /* create location configuration */
    ngx_http_fw_webhook_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_fw_webhook_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_webhook_module_ctx,       /* module context */
    ngx_http_fw_webhook_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_fw_webhook_init_process,      /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_fw_webhook_exit_process,      /* exit process */
    ngx_http_fw_webhook_exit_master,       /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_fw_webhook_vars[] = {

    { ngx_string("fw_webhook_status"), NULL,
      ngx_http_fw_webhook_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_webhook_sign_id"), NULL,
      ngx_http_fw_webhook_sign_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_webhook_sign_timestamp"), NULL,
      ngx_http_fw_webhook_sign_variable, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_webhook_sign_signature"), NULL,
      ngx_http_fw_webhook_sign_variable, 2,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_request_body_filter_pt   ngx_http_next_request_body_filter;
static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_int_t
ngx_http_fw_webhook_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_fw_webhook_ctx_t       *ctx;
    ngx_http_fw_webhook_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_webhook_module);

    if (lcf->scheme == 0) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_fw_webhook_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->verdict != NGX_HTTP_FW_WH_NONE) {

        if (ngx_http_fw_webhook_same_policy(ctx->policy, lcf)) {
            /* this request was verified (an internal redirect): no more */
            return ngx_http_fw_webhook_answer(r, lcf, ctx);
        }

        /* redirected to a location with other secrets: verify again */
        ngx_http_fw_webhook_reset(ctx);
    }

    if (ctx->macs) {
        if (!ctx->body_done) {
            return NGX_DONE;
        }

        /* the body has been read: the verdict, exactly once */

        ctx->verdict = ngx_http_fw_webhook_finish(r, lcf, ctx);

        return ngx_http_fw_webhook_answer(r, lcf, ctx);
    }

    ctx->policy = lcf;
    ctx->max_body = lcf->max_body;

    ctx->verdict = ngx_http_fw_webhook_prepare(r, lcf, ctx);

    if (ctx->verdict != NGX_HTTP_FW_WH_NONE) {
        return ngx_http_fw_webhook_answer(r, lcf, ctx);
    }

    if (r->headers_in.content_length_n > lcf->max_body) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_webhook: body of %O bytes is larger than "
                      "fw_webhook_max_body %O",
                      r->headers_in.content_length_n, lcf->max_body);
        ctx->verdict = NGX_HTTP_FW_WH_TOO_LARGE;
        return ngx_http_fw_webhook_answer(r, lcf, ctx);
    }

    if (r->request_body || r != r->main) {
        return ngx_http_fw_webhook_read_before(r, lcf, ctx);
    }

    ctx->hashing = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_fw_webhook_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->hashing = 0;

        if (ctx->verdict == NGX_HTTP_FW_WH_TOO_LARGE) {
            /* the rest of the body stays unread on the connection */
            r->keepalive = 0;
            r->lingering_close = 1;
            return ngx_http_fw_webhook_answer(r, lcf, ctx);
        }

        if (ctx->verdict == NGX_HTTP_FW_WH_NONE) {
            ctx->verdict = NGX_HTTP_FW_WH_ERROR;
        }

        ngx_http_fw_webhook_denied(r, ctx->verdict);
        return rc;
    }

    if (rc == NGX_ERROR) {
        ctx->verdict = NGX_HTTP_FW_WH_ERROR;
        ngx_http_fw_webhook_denied(r, NGX_HTTP_FW_WH_ERROR);
        return NGX_ERROR;
    }

    ngx_http_finalize_request(r, NGX_DONE);

    if (!ctx->body_done) {
        /* the body handler runs the phases again when the body is in */
        ctx->waiting = 1;
        return NGX_DONE;
    }

    ctx->verdict = ngx_http_fw_webhook_finish(r, lcf, ctx);

    return ngx_http_fw_webhook_answer(r, lcf, ctx);
}


/*
 * A body read before (another module, an internal redirect) or a
 * subrequest's: hash what is there; an incomplete body fails.
 */

static ngx_int_t
ngx_http_fw_webhook_read_before(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (r->request_body == NULL || r->request_body->rest > 0
        || r->main->reading_body)
    {
        ctx->verdict = NGX_HTTP_FW_WH_INVALID;
        return ngx_http_fw_webhook_answer(r, lcf, ctx);
    }

    rc = ngx_http_fw_webhook_hash_bufs(r, ctx->macs, ctx->nmacs,
                                       r->request_body->bufs,
                                       lcf->max_body, &ctx->received);
    if (rc != NGX_OK) {
        ctx->verdict = (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE)
                       ? NGX_HTTP_FW_WH_TOO_LARGE : NGX_HTTP_FW_WH_ERROR;
        return ngx_http_fw_webhook_answer(r, lcf, ctx);
    }

    ctx->body_done = 1;
    ctx->verdict = ngx_http_fw_webhook_finish(r, lcf, ctx);

    return ngx_http_fw_webhook_answer(r, lcf, ctx);
}


/* a verdict of another location's policy is forgotten */

static void
ngx_http_fw_webhook_reset(ngx_http_fw_webhook_ctx_t *ctx)
{
    ctx->verdict = NGX_HTTP_FW_WH_NONE;
    ctx->answered = 0;
    ctx->hashing = 0;
    ctx->body_done = 0;
    ctx->waiting = 0;
    ctx->received = 0;
    ctx->nmacs = 0;
    ctx->macs = NULL;
    ngx_str_null(&ctx->suffix);
    ngx_str_null(&ctx->id);
    ctx->has_ts = 0;
}


static ngx_uint_t
ngx_http_fw_webhook_same_policy(ngx_http_fw_webhook_loc_conf_t *a,
    ngx_http_fw_webhook_loc_conf_t *b)
{
    ngx_uint_t                     i;
    ngx_http_fw_webhook_secret_t  *sa, *sb;

    /*
     * locations that inherit the same secret files load them each: the
     * same scheme, digest and files is the same policy
     */

    if (a == NULL || a == b) {
        return 1;
    }

    if (a->scheme != b->scheme || a->secrets_digest != b->secrets_digest
        || a->secrets->nelts != b->secrets->nelts)
    {
        return 0;
    }

    if (a->secrets == b->secrets) {
        return 1;
    }

    sa = a->secrets->elts;
    sb = b->secrets->elts;

    for (i = 0; i < a->secrets->nelts; i++) {
        if (sa[i].file.len != sb[i].file.len
            || ngx_strncmp(sa[i].file.data, sb[i].file.data, sa[i].file.len)
               != 0)
        {
            return 0;
        }
    }

    return 1;
}


ngx_http_fw_webhook_ctx_t *
ngx_http_fw_webhook_get_ctx(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_fw_webhook_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_webhook_module);

    if (ctx) {
        return ctx;
    }

    /*
     * an internal redirect (error_page, try_files, named locations) zeroes
     * the module contexts; the verdict lives on in the request pool, found
     * through its cleanup handler, as the realip module does
     */

    if (r->internal || r->filter_finalize) {
        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_fw_webhook_ctx_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_fw_webhook_module);
                return ctx;
            }
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_fw_webhook_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_fw_webhook_ctx_t));

    ctx->request = r;

    cln->handler = ngx_http_fw_webhook_ctx_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_fw_webhook_module);

    return ctx;
}


static void
ngx_http_fw_webhook_ctx_cleanup(void *data)
{
    ngx_http_fw_webhook_ctx_t  *ctx = data;

    /* the handler also marks the context in the pool */

    if (ctx->cmd) {
        /* the request ends before Redis answered: drop the answer */
        ngx_http_fw_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }
}


static void
ngx_http_fw_webhook_body_handler(ngx_http_request_t *r)
{
    ngx_http_fw_webhook_ctx_t  *ctx;

    ctx = ngx_http_fw_webhook_get_ctx(r, 0);

    ctx->body_done = 1;
    ctx->hashing = 0;

    if (!ctx->waiting) {
        /* read at once: the access handler goes on by itself */
        return;
    }

    r->preserve_body = 1;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


static ngx_int_t
ngx_http_fw_webhook_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                      size;
    ngx_buf_t                  *b;
    ngx_chain_t                *cl;
    ngx_http_fw_webhook_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_webhook_module);

    if (ctx == NULL || !ctx->hashing) {
        return ngx_http_next_request_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (!ngx_buf_in_memory(b)) {
            if (ngx_buf_size(b)) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "fw_webhook: request body buffer not in "
                              "memory");
                ctx->hashing = 0;
                ctx->verdict = NGX_HTTP_FW_WH_ERROR;
                ngx_http_fw_webhook_denied(r, NGX_HTTP_FW_WH_ERROR);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            continue;
        }

        size = b->last - b->pos;

        ctx->received += size;

        if (ctx->received > ctx->max_body) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "fw_webhook: body larger than "
                          "fw_webhook_max_body %O", ctx->max_body);
            ctx->hashing = 0;
            ctx->verdict = NGX_HTTP_FW_WH_TOO_LARGE;
            ngx_http_fw_webhook_denied(r, NGX_HTTP_FW_WH_TOO_LARGE);
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        if (ngx_http_fw_webhook_update(ctx->macs, ctx->nmacs, b->pos, size)
            != NGX_OK)
        {
            ctx->hashing = 0;
            ctx->verdict = NGX_HTTP_FW_WH_ERROR;
            ngx_http_fw_webhook_denied(r, NGX_HTTP_FW_WH_ERROR);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_next_request_body_filter(r, in);
}


/*
 * A body that goes over fw_webhook_max_body while nginx waits for more of
 * it is refused from the request body filter (NGX_HTTP_REQUEST_ENTITY_
 * TOO_LARGE), and nginx answers with its own error page: unless an
 * error_page handles it, these two filters put the location's error body
 * in its place.
 */

static ngx_int_t
ngx_http_fw_webhook_header_filter(ngx_http_request_t *r)
{
    size_t                           len;
    ngx_buf_t                       *b;
    const char                      *type;
    ngx_http_fw_webhook_ctx_t       *ctx;
    ngx_http_fw_webhook_loc_conf_t  *lcf;

    static u_char  diag[] = "webhook body too large";

    if (r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        || r != r->main || r->error_page)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_webhook_module);

    if (ctx == NULL || ctx->verdict != NGX_HTTP_FW_WH_TOO_LARGE
        || ctx->answered)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx->answered = 1;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_webhook_module);

    len = fw_error_body(NULL, 0, (int) lcf->error_format,
                        NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "too-long",
                        diag, sizeof(diag) - 1);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last += fw_error_body(b->pos, len, (int) lcf->error_format,
                             NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "too-long",
                             diag, sizeof(diag) - 1);
    b->last_buf = 1;
    b->last_in_chain = 1;

    ctx->errbuf = b;
    ctx->replacing = 1;

    type = fw_format_content_type((int) lcf->error_format);

    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;
    r->headers_out.content_length_n = b->last - b->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_fw_webhook_output_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                 out;
    ngx_http_fw_webhook_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_webhook_module);

    if (ctx == NULL || !ctx->replacing) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's page is dropped, ours goes once */

    if (ctx->errbuf == NULL) {
        return ngx_http_next_body_filter(r, NULL);
    }

    out.buf = ctx->errbuf;
    out.next = NULL;

    ctx->errbuf = NULL;

    return ngx_http_next_body_filter(r, &out);
}


/*
 * The signature header (exactly once), the id and timestamp headers the
 * scheme has; the signatures into ctx->sigs.  Returns a verdict, or
 * NGX_HTTP_FW_WH_NONE.
 */

static ngx_int_t
ngx_http_fw_webhook_parse_headers(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx,
    ngx_str_t *ts, ngx_str_t *id)
{
    int           rc;
    ngx_int_t     hrc;
    ngx_str_t     sig, *name;
    const char   *what;

    hrc = ngx_http_fw_get_header(r, &lcf->h_sig, &sig);

    if (hrc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_webhook: %s \"%V\" header",
                      hrc == NGX_BUSY ? "duplicate" : "no", &lcf->h_sig);
        return hrc == NGX_BUSY ? NGX_HTTP_FW_WH_MALFORMED
                               : NGX_HTTP_FW_WH_MISSING;
    }

    /* the other headers the scheme needs: the id first, as the standard
       scheme checks them; then the timestamp */

    name = NULL;
    hrc = NGX_OK;
    what = "signature";
    rc = FW_WEBHOOK_OK;

    if (lcf->h_id.len) {
        hrc = ngx_http_fw_get_header(r, &lcf->h_id, id);
        name = (hrc != NGX_OK) ? &lcf->h_id : NULL;
    }

    if (name == NULL && lcf->h_ts.len) {
        hrc = ngx_http_fw_get_header(r, &lcf->h_ts, ts);
        name = (hrc != NGX_OK) ? &lcf->h_ts : NULL;
    }

    if (name) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_webhook: %s \"%V\" header",
                      hrc == NGX_BUSY ? "duplicate" : "no", name);
        return NGX_HTTP_FW_WH_MALFORMED;
    }

    if (lcf->h_id.len
        && fw_webhook_check_id(id->data, id->len) != FW_WEBHOOK_OK)
    {
        what = "id";
        rc = FW_WEBHOOK_MALFORMED;

    } else if (lcf->h_format == FW_WEBHOOK_FMT_STRIPE) {
        rc = fw_webhook_parse_stripe(sig.data, sig.len, &ctx->sigs);
        if (rc == FW_WEBHOOK_OK) {
            ts->data = (u_char *) ctx->sigs.ts;
            ts->len = ctx->sigs.ts_len;
        }

    } else if (lcf->h_format == FW_WEBHOOK_FMT_STANDARD) {
        rc = fw_webhook_parse_standard(sig.data, sig.len, &ctx->sigs);

    } else {
        rc = fw_webhook_parse_single(sig.data, sig.len, lcf->h_prefix.data,
                                     lcf->h_prefix.len, (int) lcf->h_encoding,
                                     &ctx->sigs);
    }

    if (rc == FW_WEBHOOK_MISSING) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_webhook: no signature of a known version");
        return NGX_HTTP_FW_WH_MISSING;
    }

    if (rc != FW_WEBHOOK_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_webhook: malformed %s header", what);
        return NGX_HTTP_FW_WH_MALFORMED;
    }

    return NGX_HTTP_FW_WH_NONE;
}


static ngx_uint_t
ngx_http_fw_webhook_prepare(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx)
{
    size_t        n;
    u_char       *p;
    ngx_int_t     rc;
    ngx_str_t     ts, id, prefix;

    ngx_str_null(&ts);
    ngx_str_null(&id);
    ngx_str_null(&prefix);

    rc = ngx_http_fw_webhook_parse_headers(r, lcf, ctx, &ts, &id);
    if (rc != NGX_HTTP_FW_WH_NONE) {
        return rc;
    }

    /* the timestamp window, before any MAC */

    if (ts.data) {
        if (fw_webhook_parse_ts(ts.data, ts.len, &ctx->ts) != FW_WEBHOOK_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "fw_webhook: malformed timestamp");
            return NGX_HTTP_FW_WH_MALFORMED;
        }

        ctx->has_ts = 1;

        if (fw_webhook_check_window(ctx->ts,
                                    ngx_http_fw_webhook_now(lcf),
                                    lcf->tolerance)
            != FW_WEBHOOK_OK)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "fw_webhook: timestamp %uL outside the tolerance "
                          "of %T s", ctx->ts, lcf->tolerance);
            return NGX_HTTP_FW_WH_EXPIRED;
        }
    }

    ctx->id = id;

    /* one HMAC per secret, the signed prefix already in */

    if (ngx_http_fw_webhook_macs(r, lcf->secrets, &ctx->macs) != NGX_OK) {
        return NGX_HTTP_FW_WH_ERROR;
    }

    ctx->nmacs = lcf->secrets->nelts;

    if (lcf->scheme == FW_WEBHOOK_GENERIC) {
        if (lcf->signed_prefix
            && ngx_http_complex_value(r, lcf->signed_prefix, &prefix)
               != NGX_OK)
        {
            return NGX_HTTP_FW_WH_ERROR;
        }

        if (lcf->signed_suffix
            && ngx_http_complex_value(r, lcf->signed_suffix, &ctx->suffix)
               != NGX_OK)
        {
            return NGX_HTTP_FW_WH_ERROR;
        }

    } else {
        n = fw_webhook_signed_prefix(lcf->scheme, id.data, id.len, ts.data,
                                     ts.len, NULL);

        if (n) {
            p = ngx_pnalloc(r->pool, n);
            if (p == NULL) {
                return NGX_HTTP_FW_WH_ERROR;
            }

            prefix.data = p;
            prefix.len = fw_webhook_signed_prefix(lcf->scheme, id.data,
                                                  id.len, ts.data, ts.len,
                                                  p);
        }
    }

    if (ngx_http_fw_webhook_update(ctx->macs, ctx->nmacs, prefix.data,
                                   prefix.len)
        != NGX_OK)
    {
        return NGX_HTTP_FW_WH_ERROR;
    }

    return NGX_HTTP_FW_WH_NONE;
}


static ngx_uint_t
ngx_http_fw_webhook_finish(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx)
{
    size_t                            len, which;
    u_char                            mac[FW_WEBHOOK_MAC_MAX];
    ngx_uint_t                        i, found;
    ngx_http_fw_webhook_main_conf_t  *wmcf;

    if (ctx->suffix.len
        && ngx_http_fw_webhook_update(ctx->macs, ctx->nmacs, ctx->suffix.data,
                                      ctx->suffix.len)
           != NGX_OK)
    {
        return NGX_HTTP_FW_WH_ERROR;
    }

    found = 0;
    which = 0;

    for (i = 0; i < ctx->nmacs; i++) {
        if (fw_webhook_mac_final(&ctx->macs[i], mac, &len) != FW_WEBHOOK_OK) {
            return NGX_HTTP_FW_WH_ERROR;
        }

        if (!found
            && fw_webhook_match(&ctx->sigs, mac, len, &which)
               == FW_WEBHOOK_OK)
        {
            found = 1;
        }
    }

    ngx_explicit_memzero(mac, sizeof(mac));

    if (!found) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_webhook: signature does not match (%O body "
                      "bytes, %ui secrets)", ctx->received, ctx->nmacs);
        return NGX_HTTP_FW_WH_INVALID;
    }

    if (lcf->replay == NULL && !lcf->replay_redis) {
        return NGX_HTTP_FW_WH_VALID;
    }

    if (ngx_http_fw_webhook_replay_key(lcf, ctx, which) != NGX_OK) {
        return NGX_HTTP_FW_WH_ERROR;
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_webhook_module);

    if (wmcf->redis) {
        return ngx_http_fw_webhook_replay_redis(r, lcf, ctx);
    }

    return ngx_http_fw_webhook_replay_check(r, lcf, ctx);
}


static ngx_int_t
ngx_http_fw_webhook_answer(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx)
{
    ngx_uint_t   status;
    const char  *code, *diag;

    static ngx_str_t  www = ngx_string("WWW-Authenticate");
    static ngx_str_t  www_value = ngx_string("Signature");

    switch (ctx->verdict) {

    case NGX_HTTP_FW_WH_VALID:
        return NGX_DECLINED;

    case NGX_HTTP_FW_WH_PENDING:
        /* Redis was asked: its answer runs the phases again */
        return NGX_AGAIN;

    case NGX_HTTP_FW_WH_UNAVAILABLE:
        status = NGX_HTTP_SERVICE_UNAVAILABLE;
        code = "transient";
        diag = "webhook replay protection unavailable";
        break;

    case NGX_HTTP_FW_WH_MISSING:
        status = NGX_HTTP_UNAUTHORIZED;
        code = "security";
        diag = "webhook signature missing";
        break;

    case NGX_HTTP_FW_WH_MALFORMED:
        status = NGX_HTTP_BAD_REQUEST;
        code = "invalid";
        diag = "webhook signature headers malformed";
        break;

    case NGX_HTTP_FW_WH_INVALID:
        status = NGX_HTTP_UNAUTHORIZED;
        code = "security";
        diag = "webhook signature invalid";
        break;

    case NGX_HTTP_FW_WH_EXPIRED:
        status = NGX_HTTP_UNAUTHORIZED;
        code = "security";
        diag = "webhook timestamp outside the tolerance";
        break;

    case NGX_HTTP_FW_WH_TOO_LARGE:
        status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        code = "too-long";
        diag = "webhook body too large";
        break;

    case NGX_HTTP_FW_WH_REPLAY:
        status = NGX_HTTP_CONFLICT;
        code = "duplicate";
        diag = "webhook already received";
        break;

    default:
        status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        code = "exception";
        diag = "webhook verification failed";
        break;
    }

    if (status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_fw_set_header(r, &www, &www_value) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        /* as nginx does for its own 413: no next request on this one */
        r->keepalive = 0;
    }

    ctx->answered = 1;

    ngx_http_fw_webhook_denied(r, ctx->verdict);

    return ngx_http_fw_send_error(r, status, lcf->error_format, code, diag);
}


/* for the audit record: this module refused the request, and why */

static void
ngx_http_fw_webhook_denied(ngx_http_request_t *r, ngx_uint_t verdict)
{
    if (verdict == NGX_HTTP_FW_WH_NONE
        || verdict > NGX_HTTP_FW_WH_UNAVAILABLE)
    {
        verdict = NGX_HTTP_FW_WH_ERROR;
    }

    ngx_http_fw_mark_denied(r, "webhook", (const char *)
                            ngx_http_fw_webhook_verdicts[verdict].data);
}


static ngx_int_t
ngx_http_fw_webhook_macs(ngx_http_request_t *r, ngx_array_t *secrets,
    fw_webhook_mac_t **macs)
{
    ngx_uint_t                     i;
    fw_webhook_mac_t              *m;
    ngx_pool_cleanup_t            *cln;
    ngx_http_fw_webhook_macs_t    *set;
    ngx_http_fw_webhook_secret_t  *s;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_fw_webhook_macs_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    m = ngx_pcalloc(r->pool, secrets->nelts * sizeof(fw_webhook_mac_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    s = secrets->elts;

    set = cln->data;
    set->macs = m;
    set->secrets = s;
    set->n = secrets->nelts;

    cln->handler = ngx_http_fw_webhook_macs_cleanup;

    /*
     * one context per secret in the keyed state: one a finished request
     * of this worker left (reset), else a copy of the template
     */

    for (i = 0; i < secrets->nelts; i++) {

        while (s[i].nspare) {
            m[i] = s[i].spare[--s[i].nspare];

            if (fw_webhook_mac_reset(&m[i]) == FW_WEBHOOK_OK) {
                break;
            }

            fw_webhook_mac_free(&m[i]);
        }

        if (m[i].ctx) {
            continue;
        }

        if (fw_webhook_mac_dup(&m[i], &s[i].mac) != FW_WEBHOOK_OK) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "fw_webhook: EVP_MAC_CTX_dup() failed");
            return NGX_ERROR;
        }
    }

    *macs = m;

    return NGX_OK;
}


static void
ngx_http_fw_webhook_macs_cleanup(void *data)
{
    ngx_http_fw_webhook_macs_t *set = data;

    ngx_uint_t                     i;
    fw_webhook_mac_t              *m;
    ngx_http_fw_webhook_secret_t  *s;

    /* kept for the next request of this worker, a bounded number */

    for (i = 0; i < set->n; i++) {
        m = &set->macs[i];
        s = &set->secrets[i];

        if (m->ctx == NULL) {
            continue;
        }

        if (s->spare && s->nspare < NGX_HTTP_FW_WEBHOOK_SPARE) {
            s->spare[s->nspare++] = *m;
            m->ctx = NULL;
            continue;
        }

        fw_webhook_mac_free(m);
    }
}


static ngx_int_t
ngx_http_fw_webhook_update(fw_webhook_mac_t *macs, ngx_uint_t n, u_char *p,
    size_t len)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (fw_webhook_mac_update(&macs[i], p, len) != FW_WEBHOOK_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_fw_webhook_hash_bufs(ngx_http_request_t *r, fw_webhook_mac_t *macs,
    ngx_uint_t n, ngx_chain_t *in, off_t max, off_t *total)
{
    off_t         pos, size;
    u_char       *buf;
    ssize_t       k;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    buf = NULL;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            size = b->last - b->pos;

            *total += size;
            if (*total > max) {
                return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
            }

            if (ngx_http_fw_webhook_update(macs, n, b->pos, size) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (!b->in_file) {
            continue;
        }

        /* a temporary file: read in bounded chunks */

        *total += b->file_last - b->file_pos;
        if (*total > max) {
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        if (buf == NULL) {
            buf = ngx_pnalloc(r->pool, NGX_HTTP_FW_WEBHOOK_FILE_CHUNK);
            if (buf == NULL) {
                return NGX_ERROR;
            }
        }

        for (pos = b->file_pos; pos < b->file_last; pos += k) {
            size = ngx_min(b->file_last - pos, NGX_HTTP_FW_WEBHOOK_FILE_CHUNK);

            k = ngx_read_file(b->file, buf, (size_t) size, pos);

            if (k == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (k != size) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "fw_webhook: short read of \"%V\"",
                              &b->file->name);
                return NGX_ERROR;
            }

            if (ngx_http_fw_webhook_update(macs, n, buf, k) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


time_t
ngx_http_fw_webhook_now(ngx_http_fw_webhook_loc_conf_t *lcf)
{
    /* fw_webhook_test_now pins the clock at configuration time only */

    return (lcf->test_now != NGX_CONF_UNSET) ? lcf->test_now : ngx_time();
}


/* variables */


static ngx_int_t
ngx_http_fw_webhook_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_fw_webhook_ctx_t  *ctx;

    ctx = ngx_http_fw_webhook_get_ctx(r->main, 0);

    if (ctx == NULL || ctx->verdict == NGX_HTTP_FW_WH_NONE
        || ctx->verdict > NGX_HTTP_FW_WH_UNAVAILABLE)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ngx_http_fw_webhook_verdicts[ctx->verdict].data;
    v->len = ngx_http_fw_webhook_verdicts[ctx->verdict].len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static char *
ngx_http_fw_webhook_scheme(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_webhook_loc_conf_t *lcf = conf;

    ngx_str_t        *value;
    ngx_conf_enum_t  *e;

    if (lcf->scheme != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (e = ngx_http_fw_webhook_schemes; e->name.len; e++) {
        if (e->name.len == value[1].len
            && ngx_strcmp(e->name.data, value[1].data) == 0)
        {
            lcf->scheme = e->value;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown scheme \"%V\" in \"fw_webhook\" (stripe, "
                       "standard, github, slack, generic or off)", &value[1]);

    return NGX_CONF_ERROR;
}


#if !(FW_TEST)

/* a production build: the clock cannot be pinned */

static char *
ngx_http_fw_webhook_test_now(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is for tests only: this build of the webhook module has no "
           "test clock (the t/ suite's build, \"make t\", has it)";
}


#else

static char *
ngx_http_fw_webhook_test_now(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_webhook_loc_conf_t *lcf = conf;

    ngx_str_t           *value;
    unsigned long long   t;

    if (lcf->test_now != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (fw_webhook_parse_ts(value[1].data, value[1].len, &t)
        != FW_WEBHOOK_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Unix time \"%V\" in "
                           "\"fw_webhook_test_now\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->test_now = (time_t) t;

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "\"fw_webhook_test_now\" pins the webhook clock: "
                       "for tests only");

    return NGX_CONF_OK;
}


#endif


static ngx_int_t
ngx_http_fw_webhook_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_fw_webhook_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_webhook_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_fw_webhook_handler;

    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_fw_webhook_body_filter;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_fw_webhook_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_fw_webhook_output_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_webhook_init_process(ngx_cycle_t *cycle)
{
    ngx_http_fw_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_fw_webhook_module);

    if (wmcf == NULL || wmcf->redis == NULL) {
        return NGX_OK;
    }

    wmcf->client = ngx_http_fw_redis_create(cycle, wmcf->redis);

    return wmcf->client ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_fw_webhook_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_fw_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_fw_webhook_module);

    if (wmcf && wmcf->client) {
        ngx_http_fw_redis_destroy(wmcf->client);
        wmcf->client = NULL;
    }

    fw_webhook_mac_cleanup();
}


/* the HMAC algorithm: freed before the module is unloaded */

static void
ngx_http_fw_webhook_exit_master(ngx_cycle_t *cycle)
{
    fw_webhook_mac_cleanup();
}
