/*
 * fhirwall audit: the record before the answer's last byte (issue 15).
 *
 * A client that has a complete answer finds its request in the audit log,
 * whatever happens to the worker or the disk next.  The log phase runs
 * after the answer went out, so the record is written here instead:
 *
 * - the body filter holds back the last byte of what it has seen of the
 *   answer, and when the last buffer comes, writes the record, then lets
 *   the byte go with it;
 * - an answer that is only a header (HEAD, 204, 304, Content-Length: 0)
 *   has its record written by the header filter, before the header goes.
 *
 * When the record cannot be written and fw_audit_fail_closed is on, an
 * answer below 400 is cut instead (NGX_ERROR: the connection is closed,
 * an HTTP/2 stream reset): the client never has it complete.  The log
 * phase writes the record of a request that never got that far (499, an
 * answer cut short, 101, subrequests), and never a second one.
 *
 * The filter sits right after the postpone filter (config:
 * ngx_module_order, and by hand in a static build), so it sees the main
 * request's answer in the order it goes out, subrequests' output
 * included, before gzip and chunked.  Where it is not (another build's
 * order), holding back a byte could reorder a subrequest's output, so it
 * only writes the record before the last buffer.
 */


#include "ngx_http_fw_audit.h"


static ngx_int_t ngx_http_fw_audit_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_audit_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_fw_audit_relink(ngx_http_request_t *r,
    ngx_chain_t *in, ngx_chain_t *data, ngx_chain_t **ll);
static ngx_int_t ngx_http_fw_audit_commit(ngx_http_request_t *r,
    ngx_http_fw_audit_ctx_t *ctx);
static ngx_chain_t *ngx_http_fw_audit_hold(ngx_http_request_t *r,
    ngx_http_fw_audit_ctx_t *ctx, ngx_buf_t *d);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

/* the filter runs after the postpone filter: it may hold back a byte */
static ngx_uint_t  ngx_http_fw_audit_may_hold;


ngx_int_t
ngx_http_fw_audit_filter_init(ngx_conf_t *cf)
{
    ngx_uint_t  i, self, postpone;

    self = cf->cycle->modules_n;
    postpone = cf->cycle->modules_n;

    for (i = 0; i < cf->cycle->modules_n; i++) {
        if (cf->cycle->modules[i] == &ngx_http_fw_audit_module) {
            self = i;

        } else if (ngx_strcmp(cf->cycle->modules[i]->name,
                              "ngx_http_postpone_filter_module")
                   == 0)
        {
            postpone = i;
        }
    }

    /* a filter earlier in the modules is called later */
    ngx_http_fw_audit_may_hold = (self < postpone);

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_fw_audit_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_fw_audit_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_audit_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t                     status;
    ngx_http_fw_audit_ctx_t       *ctx;
    ngx_http_fw_audit_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_audit_module);

    status = r->headers_out.status;

    /* 1xx (101: an upgraded connection) is recorded in the log phase */

    if (r != r->main || alcf->sinks == NULL || r->post_action
        || status < NGX_HTTP_OK)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_audit_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_audit_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_fw_audit_module);
    }

    if (ctx->written) {
        return ngx_http_next_header_filter(r);
    }

    if (!r->header_only && r->method != NGX_HTTP_HEAD
        && status != NGX_HTTP_NO_CONTENT && status != NGX_HTTP_NOT_MODIFIED
        && r->headers_out.content_length_n != 0)
    {
        /* the body filter writes it, before the last byte */
        ctx->hold = 1;
        return ngx_http_next_header_filter(r);
    }

    /* the header is the whole answer */

    if (ngx_http_fw_audit_commit(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_fw_audit_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_uint_t                last;
    ngx_chain_t              *cl, *ln, *out, **ll, *data, *held, *rel;
    ngx_http_fw_audit_ctx_t  *ctx;

    if (in == NULL || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_audit_module);

    if (ctx == NULL || !ctx->hold || ctx->written) {
        return ngx_http_next_body_filter(r, in);
    }

    /* the last buffer, and the last link with data */

    last = 0;
    data = NULL;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->last_buf) {
            last = 1;
        }

        if ((ngx_buf_in_memory(b) || b->in_file) && ngx_buf_size(b) > 0) {
            data = cl;
        }
    }

    if (!last && (data == NULL || !ngx_http_fw_audit_may_hold)) {
        /* flush, sync: the byte held back stays */
        return ngx_http_next_body_filter(r, in);
    }

    out = NULL;
    ll = &out;

    held = ctx->held;
    ctx->held = NULL;

    if (held) {
        ln = ngx_alloc_chain_link(r->pool);
        if (ln == NULL) {
            return NGX_ERROR;
        }

        ln->buf = held->buf;
        *ll = ln;
        ll = &ln->next;
    }

    if (last) {
        if (ngx_http_fw_audit_commit(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        /* the caller's links go on as they are */
        *ll = in;

        rc = ngx_http_next_body_filter(r, out);

        if (held) {
            ngx_free_chain(r->pool, out);
        }

        goto done;
    }

    /* the byte to hold back this time */

    cl = ngx_http_fw_audit_hold(r, ctx, data->buf);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_fw_audit_relink(r, in, data, ll) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_next_body_filter(r, out);

    /* the links are ours (the next filters keep copies) */

    while (out) {
        ln = out->next;
        ngx_free_chain(r->pool, out);
        out = ln;
    }

done:

    /* a byte held back before, once sent, can hold the next one */

    if (held) {
        rel = held;
        rel->next = NULL;
        ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &rel,
                                (ngx_buf_tag_t) &ngx_http_fw_audit_module);
    }

    return rc;
}


/*
 * Our own links to the caller's buffers, after *ll: "data", whose last
 * byte is now held back, is left out when that was its only byte (a flush
 * it carried goes on in a buffer of its own)
 */

static ngx_int_t
ngx_http_fw_audit_relink(ngx_http_request_t *r, ngx_chain_t *in,
    ngx_chain_t *data, ngx_chain_t **ll)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl, *ln;

    for (cl = in; cl; cl = cl->next) {

        if (cl == data && ngx_buf_size(cl->buf) == 0) {
            /* its only byte is held back: the buffer is not sent */

            if (!cl->buf->flush) {
                continue;
            }

            b = ngx_calloc_buf(r->pool);
            if (b == NULL) {
                return NGX_ERROR;
            }

            b->flush = 1;

        } else {
            b = cl->buf;
        }

        ln = ngx_alloc_chain_link(r->pool);
        if (ln == NULL) {
            return NGX_ERROR;
        }

        ln->buf = b;
        *ll = ln;
        ll = &ln->next;
    }

    *ll = NULL;

    return NGX_OK;
}


/* the record, now: NGX_ERROR when the answer is to be cut */

static ngx_int_t
ngx_http_fw_audit_commit(ngx_http_request_t *r, ngx_http_fw_audit_ctx_t *ctx)
{
    ngx_uint_t                     status;
    ngx_http_fw_audit_loc_conf_t  *alcf;

    ctx->written = 1;

    if (ngx_http_fw_audit_request(r) != NGX_ERROR) {
        return NGX_OK;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_audit_module);
    status = r->err_status ? r->err_status : r->headers_out.status;

    if (!alcf->fail_closed || status >= NGX_HTTP_BAD_REQUEST) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "fw_audit: the audit record could not be written, the "
                  "answer is cut short (fw_audit_fail_closed)");

    return NGX_ERROR;
}


/*
 * moves the last byte of "d" into a buffer of ours, ctx->held: a copy of
 * a byte in memory, or the last byte of a file buffer (sendfile)
 */

static ngx_chain_t *
ngx_http_fw_audit_hold(ngx_http_request_t *r, ngx_http_fw_audit_ctx_t *ctx,
    ngx_buf_t *d)
{
    u_char       *start;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    cl = ngx_chain_get_free_buf(r->pool, &ctx->free);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;
    start = b->start;

    if (start == NULL) {
        start = ngx_pnalloc(r->pool, 1);
        if (start == NULL) {
            return NULL;
        }
    }

    ngx_memzero(b, sizeof(ngx_buf_t));

    b->start = start;
    b->end = start + 1;
    b->pos = start;
    b->last = start;
    b->tag = (ngx_buf_tag_t) &ngx_http_fw_audit_module;

    if (ngx_buf_in_memory(d)) {
        *b->last++ = *(d->last - 1);
        b->temporary = 1;

        d->last--;

        if (d->in_file) {
            d->file_last--;
        }

    } else {
        b->in_file = 1;
        b->file = d->file;
        b->file_last = d->file_last;
        b->file_pos = d->file_last - 1;

        d->file_last--;
    }

    cl->next = NULL;
    ctx->held = cl;

    return cl;
}
