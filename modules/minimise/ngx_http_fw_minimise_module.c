/*
 * fhirwall minimise module: FHIR responses trimmed by role at the gateway.
 * Thin nginx glue over fw_minimise*.c: picks a profile per request from
 * nginx values (a role or scope claim), rewrites the query (_elements,
 * _summary, _include), and filters the response body as it streams.
 *
 * A malformed upstream body: while the output is held (the first
 * fw_minimise_hold bytes) the answer becomes a 502 OperationOutcome; once
 * the header is sent, only filtered bytes have been written, and the
 * connection is aborted (the response is truncated, never unfiltered).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "fw_minimise.h"
#include "ngx_http_fw_minimise.h"


/* c->buffered: output waits for our buffers (the image filter's bit) */
#define NGX_HTTP_FW_MIN_BUFFERED  0x08


typedef struct {
    ngx_uint_t                  kind;
    ngx_http_fw_min_profile_t  *profile;
    ngx_str_t                   status;
    fw_min_filter_t            *f;
    ngx_chain_t                *in;
    ngx_chain_t                *out;
    ngx_chain_t               **last_out;
    ngx_chain_t                *free;
    ngx_chain_t                *busy;
    ngx_buf_t                  *cur;
    ngx_buf_t                  *error;         /* an error body to send */
    ngx_uint_t                  nbufs;
    size_t                      alloc;         /* output buffers, bytes */
    unsigned                    requested:1;   /* precontent ran */
    unsigned                    filtering:1;
    unsigned                    holding:1;
    unsigned                    last:1;
    unsigned                    done:1;
    unsigned                    flush:1;
} ngx_http_fw_min_ctx_t;


static ngx_http_fw_min_ctx_t *ngx_http_fw_min_get_ctx(ngx_http_request_t *r,
    ngx_http_fw_min_loc_conf_t *lcf);
static ngx_int_t ngx_http_fw_min_token(ngx_str_t *v, ngx_str_t *match);
static ngx_int_t ngx_http_fw_min_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_min_query(ngx_http_request_t *r,
    ngx_http_fw_min_ctx_t *ctx);
static ngx_int_t ngx_http_fw_min_identity(ngx_http_request_t *r);
static ngx_uint_t ngx_http_fw_min_is_range(ngx_table_elt_t *h);
static ngx_uint_t ngx_http_fw_min_type_is(ngx_str_t *ct, char *type,
    size_t len);
static ngx_uint_t ngx_http_fw_min_passthrough(ngx_http_request_t *r,
    ngx_http_fw_min_loc_conf_t *lcf);
static ngx_int_t ngx_http_fw_min_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_min_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_fw_min_process(ngx_http_request_t *r,
    ngx_http_fw_min_ctx_t *ctx, ngx_http_fw_min_loc_conf_t *lcf);
static ngx_int_t ngx_http_fw_min_get_buf(ngx_http_request_t *r,
    ngx_http_fw_min_ctx_t *ctx, ngx_http_fw_min_loc_conf_t *lcf);
static ngx_int_t ngx_http_fw_min_flush(ngx_http_request_t *r,
    ngx_http_fw_min_ctx_t *ctx, ngx_http_fw_min_loc_conf_t *lcf);
static ngx_int_t ngx_http_fw_min_error(ngx_http_request_t *r,
    ngx_http_fw_min_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *diag);
static void ngx_http_fw_min_swallow(ngx_chain_t *in);
static ngx_int_t ngx_http_fw_min_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_min_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_min_init(ngx_conf_t *cf);


static ngx_command_t  ngx_http_fw_min_commands[] = {

    { ngx_string("fw_minimise_profile"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_fw_min_profile,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_minimise_map"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE3,
      ngx_http_fw_min_map,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_minimise_default"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_min_default,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_minimise_passthrough"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_conf_set_str_array_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_min_loc_conf_t, passthrough),
      NULL },

    { ngx_string("fw_minimise_hold"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_min_loc_conf_t, hold),
      NULL },

    { ngx_string("fw_minimise_buffers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_conf_set_bufs_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_min_loc_conf_t, bufs),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_minimise_module_ctx = {
    ngx_http_fw_min_add_variables,         /* preconfiguration */
    ngx_http_fw_min_init,                  /* postconfiguration */

    ngx_http_fw_min_create_main_conf,      /* create main configuration */
    ngx_http_fw_min_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_fw_min_create_loc_conf,       /* create location configuration */
    ngx_http_fw_min_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_fw_minimise_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_minimise_module_ctx,      /* module context */
    ngx_http_fw_min_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


#define NGX_HTTP_FW_MIN_V_PROFILE  0
#define NGX_HTTP_FW_MIN_V_STATUS   1

static ngx_http_variable_t  ngx_http_fw_min_vars[] = {

    { ngx_string("fw_minimise_profile"), NULL, ngx_http_fw_min_variable,
      NGX_HTTP_FW_MIN_V_PROFILE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_minimise_status"), NULL, ngx_http_fw_min_variable,
      NGX_HTTP_FW_MIN_V_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_str_t  ngx_http_fw_min_none = ngx_string("none");
static ngx_str_t  ngx_http_fw_min_deny = ngx_string("deny");


/* the request's profile, resolved once */
static ngx_http_fw_min_ctx_t *
ngx_http_fw_min_get_ctx(ngx_http_request_t *r,
    ngx_http_fw_min_loc_conf_t *lcf)
{
    ngx_str_t                v;
    ngx_uint_t               i;
    ngx_http_fw_min_ctx_t   *ctx;
    ngx_http_fw_min_rule_t  *rule;

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_minimise_module);
    if (ctx) {
        return ctx;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_min_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->kind = lcf->dflt_kind;
    ctx->profile = lcf->dflt_profile;

    if (lcf->rules) {
        rule = lcf->rules->elts;

        for (i = 0; i < lcf->rules->nelts; i++) {
            if (ngx_http_complex_value(r, &rule[i].value, &v) != NGX_OK) {
                return NULL;
            }

            if (ngx_http_fw_min_token(&v, &rule[i].match) == NGX_OK) {
                ctx->kind = rule[i].kind;
                ctx->profile = rule[i].profile;
                break;
            }
        }
    }

    if (ctx->kind == NGX_HTTP_FW_MIN_NONE) {
        ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_NONE);
    }

    ctx->last_out = &ctx->out;
    ngx_http_set_ctx(r, ctx, ngx_http_fw_minimise_module);

    return ctx;
}


/* NGX_OK if match is v or one of its space-separated tokens */
static ngx_int_t
ngx_http_fw_min_token(ngx_str_t *v, ngx_str_t *match)
{
    u_char  *p, *end, *s;

    p = v->data;
    end = p + v->len;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == ',')) {
            p++;
        }

        s = p;

        while (p < end && *p != ' ' && *p != ',') {
            p++;
        }

        if ((size_t) (p - s) == match->len
            && ngx_memcmp(s, match->data, match->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_fw_min_handler(ngx_http_request_t *r)
{
    ngx_http_fw_min_ctx_t       *ctx;
    ngx_http_fw_min_loc_conf_t  *lcf;
    fw_min_profile_t            *p;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_minimise_module);

    if (lcf->dflt.data == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_fw_min_get_ctx(r, lcf);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->requested) {
        return NGX_DECLINED;
    }

    ctx->requested = 1;

    if (ctx->kind == NGX_HTTP_FW_MIN_DENY) {
        ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_FORBIDDEN);
        ngx_http_fw_mark_denied(r, "minimise", FW_VOCAB_MINIMISE_FORBIDDEN);
        return ngx_http_fw_send_error(r, NGX_HTTP_FORBIDDEN, FW_FORMAT_FHIR,
                                      "forbidden",
                                      "this role may not read this data");
    }

    if (ctx->kind != NGX_HTTP_FW_MIN_PROFILE) {
        return NGX_DECLINED;
    }

    p = ctx->profile->prof;

    /* a search's parameters in a form body cannot be checked here */
    if (r->method == NGX_HTTP_POST
        && r->uri.len >= 8
        && ngx_strncmp(r->uri.data + r->uri.len - 8, "/_search", 8) == 0
        && (p->types_len || p->nelements || p->summary[0]))
    {
        ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_FORBIDDEN);
        ngx_http_fw_mark_denied(r, "minimise", FW_VOCAB_MINIMISE_FORBIDDEN);
        return ngx_http_fw_send_error(r, NGX_HTTP_FORBIDDEN, FW_FORMAT_FHIR,
                                      "forbidden",
                                      "search with GET under this profile");
    }

    if (ngx_http_fw_min_identity(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_fw_min_query(r, ctx);
}


/* the resource type of a read (T/id) or type search (T), or none */
static ngx_int_t
ngx_http_fw_min_query(ngx_http_request_t *r, ngx_http_fw_min_ctx_t *ctx)
{
    int           rc;
    size_t        olen, tlen, i;
    u_char       *out, *s1, *s2, *e1, *e2, *p, *type;
    const char   *diag;

    /* the last two segments of the path */
    s1 = e1 = s2 = e2 = NULL;
    p = r->uri.data + r->uri.len;

    if (r->uri.len && p[-1] != '/') {
        e2 = p;

        while (p > r->uri.data && p[-1] != '/') {
            p--;
        }

        s2 = p;

        if (p > r->uri.data) {
            p--;
            e1 = p;

            while (p > r->uri.data && p[-1] != '/') {
                p--;
            }

            s1 = p;
        }
    }

    type = NULL;
    tlen = 0;

    for (i = 0; i < 2 && type == NULL; i++) {
        u_char  *s = i ? s1 : s2, *e = i ? e1 : e2, *q;

        if (s == NULL || s == e || *s < 'A' || *s > 'Z') {
            continue;
        }

        for (q = s; q < e && ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z');
             q++)
        {
            /* void */
        }

        if (q == e && (i == 0 || (*s2 != '$' && *s2 != '_'))) {
            type = s;
            tlen = (size_t) (e - s);
        }
    }

    if (!ctx->profile->prof->request_elements) {
        type = NULL;
    }

    out = ngx_pnalloc(r->pool, r->args.len + FW_MIN_LIST_MAX + 64);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    diag = NULL;
    rc = fw_min_query(ctx->profile->prof, type, tlen, r->args.data,
                      r->args.len, out, &olen, &diag);

    if (rc != 0) {
        ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_FORBIDDEN);
        ngx_http_fw_mark_denied(r, "minimise", FW_VOCAB_MINIMISE_FORBIDDEN);
        return ngx_http_fw_send_error(r, (ngx_uint_t) rc, FW_FORMAT_FHIR,
                                      rc == 403 ? "forbidden" : "invalid",
                                      diag);
    }

    if (olen != r->args.len
        || (olen && ngx_memcmp(out, r->args.data, olen) != 0))
    {
        r->args.data = out;
        r->args.len = olen;
        /* proxy_pass sends $uri?$args, not the client's bytes */
        r->valid_unparsed_uri = 0;
    }

    return NGX_DECLINED;
}


/*
 * The upstream is asked for identity: every Accept-Encoding line sent on
 * becomes "identity"; the one nginx reads for the client's answer (gzip)
 * is a copy that keeps the client's value.  Range and If-Range are not
 * sent on (the filtered body's offsets are not the upstream's): the list
 * is rebuilt without them, so that the entries r->headers_in points at
 * stay where they are (a copy of each is in the new list).
 */
static ngx_int_t
ngx_http_fw_min_identity(ngx_http_request_t *r)
{
    ngx_uint_t        i, n;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;
#if (NGX_HTTP_GZIP)
    ngx_table_elt_t  *copy;

    if (r->headers_in.accept_encoding) {
        copy = ngx_palloc(r->pool, sizeof(ngx_table_elt_t));
        if (copy) {
            *copy = *r->headers_in.accept_encoding;
#if (nginx_version >= 1023000)
            copy->next = NULL;
#endif
            r->headers_in.accept_encoding = copy;
        }
    }
#endif

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (ngx_http_fw_min_is_range(&h[i])) {
                n++;

            } else if (h[i].key.len == 15
                       && ngx_strncasecmp(h[i].key.data,
                                          (u_char *) "Accept-Encoding", 15)
                          == 0)
            {
                ngx_str_set(&h[i].value, "identity");
            }
        }
    }

    if (n == 0) {
        return NGX_OK;
    }

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (part = &old.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (ngx_http_fw_min_is_range(&h[i])) {
                continue;
            }

            nh = ngx_list_push(&r->headers_in.headers);
            if (nh == NULL) {
                return NGX_ERROR;
            }

            *nh = h[i];
        }
    }

    r->headers_in.range = NULL;
    r->headers_in.if_range = NULL;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_fw_min_is_range(ngx_table_elt_t *h)
{
    return (h->key.len == 5
            && ngx_strncasecmp(h->key.data, (u_char *) "Range", 5) == 0)
           || (h->key.len == 8
               && ngx_strncasecmp(h->key.data, (u_char *) "If-Range", 8)
                  == 0);
}


/* the media type (before any ';' or ' ') is this one */
static ngx_uint_t
ngx_http_fw_min_type_is(ngx_str_t *ct, char *type, size_t len)
{
    return ct->data && ct->len >= len
           && ngx_strncasecmp(ct->data, (u_char *) type, len) == 0
           && (ct->len == len || ct->data[len] == ';'
               || ct->data[len] == ' ');
}


/* 1 if the answer's media type is one of fw_minimise_passthrough */
static ngx_uint_t
ngx_http_fw_min_passthrough(ngx_http_request_t *r,
    ngx_http_fw_min_loc_conf_t *lcf)
{
    ngx_str_t   *pt;
    ngx_uint_t   i;

    if (lcf->passthrough == NULL) {
        return 0;
    }

    pt = lcf->passthrough->elts;

    for (i = 0; i < lcf->passthrough->nelts; i++) {
        if (ngx_http_fw_min_type_is(&r->headers_out.content_type,
                                    (char *) pt[i].data, pt[i].len))
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_fw_min_header_filter(ngx_http_request_t *r)
{
    ngx_table_elt_t             *ce;
    ngx_http_fw_min_ctx_t       *ctx;
    ngx_http_fw_min_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_minimise_module);

    if (lcf->dflt.data == NULL) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_fw_min_get_ctx(r, lcf);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->filtering) {
        if (ctx->holding && !ctx->done) {
            /* nginx answers itself (an upstream failed): ours is dropped */
            ctx->filtering = 0;
            ngx_http_fw_min_swallow(ctx->in);
            ctx->in = NULL;
        }

        return ngx_http_next_header_filter(r);
    }

    if (ctx->kind != NGX_HTTP_FW_MIN_PROFILE
        || r->header_only
        || r->method == NGX_HTTP_HEAD
        || r->headers_out.status == NGX_HTTP_NO_CONTENT
        || r->headers_out.status == NGX_HTTP_NOT_MODIFIED)
    {
        return ngx_http_next_header_filter(r);
    }

    if (r->headers_out.status == NGX_HTTP_PARTIAL_CONTENT) {
        /* a part of a body cannot be filtered (Range is not sent on) */
        ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_BAD_UPSTREAM);
        ngx_http_fw_mark_denied(r, "minimise", FW_VOCAB_MINIMISE_BAD_UPSTREAM);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_minimise: the upstream answered 206: refused");

        return ngx_http_fw_min_error(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                     "exception",
                                     "the upstream answered a range");
    }

    if (!ngx_http_fw_min_type_is(&r->headers_out.content_type,
                                 "application/fhir+json", 21)
        && !ngx_http_fw_min_type_is(&r->headers_out.content_type,
                                    "application/json", 16))
    {
        if (r->headers_out.status >= 300
            && (r->upstream == NULL || r->err_status))
        {
            /* nginx's own error pages */
            return ngx_http_next_header_filter(r);
        }

        if (ngx_http_fw_min_passthrough(r, lcf)) {
            ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_PASSTHROUGH);
            return ngx_http_next_header_filter(r);
        }

        ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_NOT_ACCEPTABLE);
        ngx_http_fw_mark_denied(r, "minimise",
                                FW_VOCAB_MINIMISE_NOT_ACCEPTABLE);

        return ngx_http_fw_min_error(r, ctx, 406,
                                     "not-supported",
                                     "only FHIR JSON can be minimised here");
    }

    ce = r->headers_out.content_encoding;

    if (ce && ce->hash && ce->value.len
        && !(ce->value.len == 8
             && ngx_strncasecmp(ce->value.data, (u_char *) "identity", 8)
                == 0))
    {
        ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_BAD_UPSTREAM);
        ngx_http_fw_mark_denied(r, "minimise", FW_VOCAB_MINIMISE_BAD_UPSTREAM);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_minimise: the upstream response is encoded "
                      "(\"%V\"): refused", &ce->value);

        return ngx_http_fw_min_error(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                     "exception",
                                     "the upstream response is compressed");
    }

    ctx->f = ngx_palloc(r->pool, sizeof(fw_min_filter_t));
    if (ctx->f == NULL) {
        return NGX_ERROR;
    }

    fw_min_filter_init(ctx->f, ctx->profile->prof);

    ctx->filtering = 1;
    ctx->holding = 1;
    ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_FILTERED);

    ngx_http_clear_content_length(r);
    /* and r->allow_ranges: nginx's range filter (after this one) passes */
    ngx_http_clear_accept_ranges(r);
    ngx_http_weak_etag(r);

    r->filter_need_in_memory = 1;

    /* the header goes with the first filtered bytes (or the 502) */
    return NGX_OK;
}


static void
ngx_http_fw_min_swallow(ngx_chain_t *in)
{
    for ( /* void */ ; in; in = in->next) {
        in->buf->pos = in->buf->last;
        in->buf->file_pos = in->buf->file_last;
    }
}


static ngx_int_t
ngx_http_fw_min_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_int_t                    rc;
    ngx_chain_t                  out;
    ngx_http_fw_min_ctx_t       *ctx;
    ngx_http_fw_min_loc_conf_t  *lcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_minimise_module);

    if (ctx == NULL || (!ctx->filtering && ctx->error == NULL)) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->error) {
        /* our answer instead of the upstream's */
        ngx_http_fw_min_swallow(in);

        out.buf = ctx->error;
        out.next = NULL;
        ctx->error = NULL;
        ctx->done = 1;
        ctx->filtering = 1;

        return ngx_http_next_body_filter(r, &out);
    }

    if (ctx->done) {
        ngx_http_fw_min_swallow(in);
        return (in == NULL) ? ngx_http_next_body_filter(r, NULL) : NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_minimise_module);

    if (in && ngx_chain_add_copy(r->pool, &ctx->in, in) != NGX_OK) {
        return NGX_ERROR;
    }

    for ( ;; ) {
        rc = ngx_http_fw_min_process(r, ctx, lcf);

        if (rc == NGX_DECLINED) {
            /* malformed */
            ngx_str_set(&ctx->status, FW_VOCAB_MINIMISE_BAD_UPSTREAM);
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "fw_minimise: the upstream response is not "
                          "FHIR JSON (%s, at byte %uz)%s",
                          ctx->f->err, ctx->f->in_total,
                          ctx->holding ? "" : ": connection aborted");

            ngx_http_fw_min_swallow(ctx->in);
            ctx->in = NULL;

            if (!ctx->holding) {
                ctx->done = 1;
                return NGX_ERROR;
            }

            ctx->holding = 0;
            ctx->out = NULL;

            /* the 502 replaces the answer (an aborted one keeps its status) */
            ngx_http_fw_mark_denied(r, "minimise",
                                    FW_VOCAB_MINIMISE_BAD_UPSTREAM);

            if (ngx_http_fw_min_error(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                      "exception",
                                      "the upstream response is not "
                                      "valid FHIR JSON")
                == NGX_ERROR)
            {
                return NGX_ERROR;
            }

            return ngx_http_fw_min_body_filter(r, NULL);
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        rc = ngx_http_fw_min_flush(r, ctx, lcf);

        if (rc == NGX_ERROR || ctx->in == NULL || ctx->free == NULL
            || ctx->holding)
        {
            return rc;
        }
    }
}


/* filters ctx->in into output buffers; NGX_DECLINED when malformed */
static ngx_int_t
ngx_http_fw_min_process(ngx_http_request_t *r, ngx_http_fw_min_ctx_t *ctx,
    ngx_http_fw_min_loc_conf_t *lcf)
{
    int           rc;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    while (ctx->in) {
        b = ctx->in->buf;

        if (b->in_file && !ngx_buf_in_memory(b)) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "fw_minimise: a file buffer");
            return NGX_ERROR;
        }

        while (b->pos < b->last) {
            if (ctx->cur == NULL
                || (size_t) (ctx->cur->end - ctx->cur->last)
                   < FW_MIN_OUT_RESERVE)
            {
                rc = ngx_http_fw_min_get_buf(r, ctx, lcf);

                if (rc != NGX_OK) {
                    return rc;    /* NGX_AGAIN: no buffer free */
                }
            }

            rc = fw_min_filter(ctx->f, (const u_char **) &b->pos, b->last,
                               &ctx->cur->last, ctx->cur->end);

            if (rc == FW_MIN_ERROR) {
                return NGX_DECLINED;
            }
        }

        if (b->in_file) {
            b->file_pos = b->file_last;
        }

        if (b->flush) {
            ctx->flush = 1;
        }

        if (b->last_buf || (b->last_in_chain && r != r->main)) {
            if (fw_min_filter_finish(ctx->f) != FW_MIN_DONE) {
                return NGX_DECLINED;
            }

            ctx->last = 1;
        }

        ctx->in = ctx->in->next;
    }

    if ((ctx->last || ctx->flush) && ctx->cur
        && ctx->cur->last > ctx->cur->pos)
    {
        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = ctx->cur;
        cl->next = NULL;
        *ctx->last_out = cl;
        ctx->last_out = &cl->next;
        ctx->cur = NULL;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_min_get_buf(ngx_http_request_t *r, ngx_http_fw_min_ctx_t *ctx,
    ngx_http_fw_min_loc_conf_t *lcf)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (ctx->cur) {
        /* full: on to the output */
        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = ctx->cur;
        cl->next = NULL;
        *ctx->last_out = cl;
        ctx->last_out = &cl->next;
        ctx->cur = NULL;
    }

    if (ctx->free) {
        cl = ctx->free;
        ctx->free = cl->next;
        b = cl->buf;
        ngx_free_chain(r->pool, cl);

        b->pos = b->start;
        b->last = b->start;
        b->flush = 0;
        b->last_buf = 0;
        b->last_in_chain = 0;

    } else if (ctx->holding || ctx->nbufs < (ngx_uint_t) lcf->bufs.num)
    {
        b = ngx_create_temp_buf(r->pool, lcf->bufs.size);
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->tag = (ngx_buf_tag_t) &ngx_http_fw_minimise_module;
        b->recycled = 1;
        ctx->nbufs++;
        ctx->alloc += lcf->bufs.size;

    } else {
        return NGX_AGAIN;
    }

    ctx->cur = b;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_min_flush(ngx_http_request_t *r, ngx_http_fw_min_ctx_t *ctx,
    ngx_http_fw_min_loc_conf_t *lcf)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (ctx->holding) {
        if (!ctx->last && ctx->f->out_total < lcf->hold) {
            return NGX_OK;
        }

        ctx->holding = 0;

        if (ctx->last) {
            r->headers_out.content_length_n = (off_t) ctx->f->out_total;
        }

        rc = ngx_http_next_header_filter(r);

        if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
            ctx->done = 1;
            return rc;
        }

    } else if (ctx->cur && ctx->cur->last > ctx->cur->pos
               && ctx->out == NULL && !ctx->last)
    {
        /* a slow upstream: what is ready goes on */
        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = ctx->cur;
        cl->next = NULL;
        ctx->out = cl;
        ctx->last_out = &cl->next;
        ctx->cur = NULL;
    }

    if (ctx->last && ctx->in == NULL) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        if (r == r->main) {
            b->last_buf = 1;

        } else {
            b->last_in_chain = 1;
        }

        b->sync = 1;
        cl->buf = b;
        cl->next = NULL;
        *ctx->last_out = cl;
        ctx->last_out = &cl->next;
        ctx->done = 1;

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "fw_minimise: %uz bytes in, %uz out, output buffers "
                       "peak %uz bytes, filter state %uz bytes",
                       ctx->f->in_total, ctx->f->out_total, ctx->alloc,
                       sizeof(fw_min_filter_t));
    }

    if (ctx->out == NULL && ctx->busy == NULL) {
        return NGX_OK;
    }

    if (ctx->flush && ctx->out) {
        for (cl = ctx->out; cl->next; cl = cl->next) { /* void */ }
        cl->buf->flush = 1;
        ctx->flush = 0;
    }

    rc = ngx_http_next_body_filter(r, ctx->out);

    ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &ctx->out,
                            (ngx_buf_tag_t) &ngx_http_fw_minimise_module);
    ctx->last_out = &ctx->out;

    if (ctx->in) {
        r->connection->buffered |= NGX_HTTP_FW_MIN_BUFFERED;

    } else {
        r->connection->buffered &= ~NGX_HTTP_FW_MIN_BUFFERED;
    }

    return rc;
}


/* replaces the response with an OperationOutcome (header not sent yet) */
static ngx_int_t
ngx_http_fw_min_error(ngx_http_request_t *r, ngx_http_fw_min_ctx_t *ctx,
    ngx_uint_t status, const char *code, const char *diag)
{
    size_t       len;
    ngx_buf_t   *b;
    const char  *type;

    len = fw_error_body(NULL, 0, FW_FORMAT_FHIR, (unsigned) status, code,
                        (const u_char *) diag, ngx_strlen(diag));

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last += fw_error_body(b->pos, len, FW_FORMAT_FHIR, (unsigned) status,
                             code, (const u_char *) diag, ngx_strlen(diag));

    if (r == r->main) {
        b->last_buf = 1;

    } else {
        b->last_in_chain = 1;
    }

    type = fw_format_content_type(FW_FORMAT_FHIR);

    r->headers_out.status = status;
    r->headers_out.status_line.len = 0;
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

    if (r->headers_out.content_encoding) {
        r->headers_out.content_encoding->hash = 0;
        r->headers_out.content_encoding = NULL;
    }

    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    ctx->error = b;
    ctx->filtering = 1;

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_fw_min_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t                   *s;
    ngx_http_fw_min_ctx_t       *ctx;
    ngx_http_fw_min_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_minimise_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_minimise_module);

    if (ctx == NULL && lcf->dflt.data) {
        ctx = ngx_http_fw_min_get_ctx(r, lcf);
    }

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data == NGX_HTTP_FW_MIN_V_PROFILE) {
        s = (ctx->kind == NGX_HTTP_FW_MIN_NONE) ? &ngx_http_fw_min_none
            : (ctx->kind == NGX_HTTP_FW_MIN_DENY) ? &ngx_http_fw_min_deny
            : &ctx->profile->name;

    } else {
        s = &ctx->status;
    }

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_min_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_fw_min_vars; v->name.len; v++) {
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
ngx_http_fw_min_init(ngx_conf_t *cf)
{
    /*
     * after every access check and the FHIR module's, before the content
     * handler ("Phase order" in docs/DEVELOPING.md)
     */
    if (ngx_http_fw_add_phase_handler(cf, NGX_HTTP_PRECONTENT_PHASE,
                                      ngx_http_fw_min_handler,
                                      NGX_HTTP_FW_RANK_MINIMISE)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_fw_min_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_fw_min_body_filter;

    return NGX_OK;
}
