/*
 * fhirwall FHIR: reading the request: the path, its parameters and
 * headers, method overrides and the strict media types.
 */


#include "ngx_http_fw_fhir.h"


static void ngx_http_fw_fhir_parse_args(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx);
static void ngx_http_fw_fhir_scan_headers(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx);
static ngx_int_t ngx_http_fw_fhir_strip_sr_overrides(ngx_http_request_t *r);
static int ngx_http_fw_fhir_method(ngx_http_request_t *r);


/* the lengths of the header names the module looks at, a bit each */
#define ngx_http_fw_fhir_hbit(s)  ((uint32_t) 1 << (sizeof(s) - 1))

#define NGX_HTTP_FW_FHIR_HEADER_LENS                                          \
    (ngx_http_fw_fhir_hbit("If-None-Exist")                                   \
     | ngx_http_fw_fhir_hbit("Prefer")                                        \
     | ngx_http_fw_fhir_hbit("X-HTTP-Method-Override")                        \
     | ngx_http_fw_fhir_hbit("X-HTTP-Method")                                 \
     | ngx_http_fw_fhir_hbit("X-Method-Override"))


/* also in NGX_HTTP_FW_FHIR_HEADER_LENS */
static ngx_str_t  ngx_http_fw_fhir_override_headers[] = {
    ngx_string("X-HTTP-Method-Override"),
    ngx_string("X-HTTP-Method"),
    ngx_string("X-Method-Override"),
    ngx_null_string
};


void
ngx_http_fw_fhir_parse(ngx_http_request_t *r, ngx_http_fw_fhir_ctx_t *ctx)
{
    size_t                        raw_len, dlen;
    u_char                       *raw, *d, *q, *scratch;
    fw_fhir_str_t                 path, query;
    fw_fhir_verdict_t            *v;
    ngx_http_fw_fhir_loc_conf_t  *flcf;

    flcf = ctx->conf;
    v = &ctx->v;
    ctx->parsed = 1;

    if (r != r->main) {
        /*
         * a subrequest has no raw form of its own (r->unparsed_uri is the
         * main request's): its URI is what it was made with (unescaped by
         * SSI), what its location was found with and what an upstream gets
         * (escaped again); it must be a plain path, its own decoded form.
         * Empty and dot segments are refused by fw_fhir_parse_path(), or
         * by the base check before it.
         */

        if (!fw_fhir_plain_path(r->uri.data, r->uri.len)) {
            fw_fhir_deny(v, 400, "invalid", "invalid",
                         "malformed path: only unreserved characters and "
                         "their escapes are allowed");
            return;
        }

        d = r->uri.data;
        dlen = r->uri.len;

        goto base;
    }

    /*
     * the raw target is what is validated, and what is decided on must be
     * it: proxy_pass without a URI forwards it as it came, one with a URI
     * forwards r->uri and r->args, which must then be the same bytes
     */

    raw = r->unparsed_uri.data;
    raw_len = r->unparsed_uri.len;

    /* a path without escapes is its own decoded form: no copy */

    q = memchr(raw, '?', raw_len);
    scratch = NULL;

    if (!fw_fhir_plain_path(raw, q ? (size_t) (q - raw) : raw_len)) {
        scratch = ngx_pnalloc(r->pool, raw_len);
        if (scratch == NULL) {
            fw_fhir_deny(v, 500, "exception", "error", "out of memory");
            return;
        }
    }

    if (fw_fhir_check_target(raw, raw_len, r->uri.data, r->uri.len,
                             r->args.data, r->args.len, scratch, &path,
                             &query, v)
        != FW_FHIR_OK)
    {
        return;
    }

    d = (u_char *) path.data;
    dlen = path.len;

base:

    if (dlen < flcf->base.len
        || ngx_memcmp(d, flcf->base.data, flcf->base.len) != 0
        || (dlen > flcf->base.len && d[flcf->base.len] != '/'))
    {
        fw_fhir_deny(v, 404, "not-found", "invalid",
                     "not under the FHIR base");
        return;
    }

    ngx_http_fw_fhir_scan_headers(r, ctx);

    if (ctx->override
        && flcf->override == NGX_HTTP_FW_FHIR_OVERRIDE_REJECT)
    {
        fw_fhir_deny(v, 400, "invalid", "method-override",
                     "method override headers are not accepted");
        return;
    }

    if (fw_fhir_parse_path(flcf->version, d + flcf->base.len,
                           dlen - flcf->base.len, &ctx->req, v)
        != FW_FHIR_OK)
    {
        return;
    }

    ctx->req.lenient = ctx->lenient;

    ngx_http_fw_fhir_parse_args(r, ctx);
}


/* the query, the interaction, the location's policy and the compartment */

static void
ngx_http_fw_fhir_parse_args(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx)
{
    size_t                        n;
    u_char                       *p, *scratch;
    fw_fhir_param_t               params[FW_FHIR_MAX_PARAMS];
    fw_fhir_verdict_t            *v;
    ngx_http_fw_fhir_loc_conf_t  *flcf;

    flcf = ctx->conf;
    v = &ctx->v;

    /*
     * the pairs are parsed in place into a stack array, then the ones
     * found are kept; escaped pairs need a buffer for their decoded form
     */

    scratch = NULL;

    if (r->args.len && memchr(r->args.data, '%', r->args.len) != NULL) {
        scratch = ngx_pnalloc(r->pool, r->args.len);
        if (scratch == NULL) {
            fw_fhir_deny(v, 500, "exception", "error", "out of memory");
            return;
        }
    }

    n = 0;

    if (fw_fhir_parse_query(r->args.data, r->args.len, 0, scratch, params,
                            FW_FHIR_MAX_PARAMS, &n, v)
        != FW_FHIR_OK)
    {
        return;
    }

    ctx->params = ngx_palloc(r->pool,
                             ngx_max(n, 1) * sizeof(fw_fhir_param_t));
    if (ctx->params == NULL) {
        fw_fhir_deny(v, 500, "exception", "error", "out of memory");
        return;
    }

    ngx_memcpy(ctx->params, params, n * sizeof(fw_fhir_param_t));
    ctx->max_params = n;
    ctx->nparams = n;

    if (fw_fhir_classify(&ctx->req, ngx_http_fw_fhir_method(r), ctx->params,
                         ctx->nparams, ctx->if_none_exist, v)
        != FW_FHIR_OK)
    {
        return;
    }

    if (fw_fhir_check_policy(&flcf->policy, &ctx->req, ctx->params,
                             ctx->nparams, v)
        != FW_FHIR_OK)
    {
        return;
    }

    fw_fhir_find_patient(&ctx->req, ctx->params, ctx->nparams);

    if (ctx->req.compartment >= 0) {
        n = fw_fhir_types[ctx->req.compartment].len + 1 + ctx->req.id.len;

        p = ngx_pnalloc(r->pool, n);
        if (p == NULL) {
            fw_fhir_deny(v, 500, "exception", "error", "out of memory");
            return;
        }

        ctx->compartment.data = p;
        ctx->compartment.len = ngx_sprintf(p, "%s/%*s",
                                   fw_fhir_types[ctx->req.compartment].name,
                                   ctx->req.id.len, ctx->req.id.data) - p;
    }
}


static void
ngx_http_fw_fhir_scan_headers(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx)
{
    ngx_str_t        *name;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = NULL;

    while (ngx_http_fw_next_header(r, &part, &h, &i)) {

        if (h[i].hash == 0) {
            continue;
        }

        /* most headers have none of the lengths looked for */
        if (h[i].key.len > 31
            || !(NGX_HTTP_FW_FHIR_HEADER_LENS
                 & ((uint32_t) 1 << h[i].key.len)))
        {
            continue;
        }

        if (h[i].key.len == sizeof("If-None-Exist") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "If-None-Exist",
                               h[i].key.len) == 0)
        {
            ctx->if_none_exist = 1;
            continue;
        }

        if (h[i].key.len == sizeof("Prefer") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Prefer",
                               h[i].key.len) == 0
            && ngx_strlcasestrn(h[i].value.data,
                                h[i].value.data + h[i].value.len,
                                (u_char *) "lenient", 7 - 1) != NULL)
        {
            ctx->lenient = 1;
            continue;
        }

        for (name = ngx_http_fw_fhir_override_headers; name->len; name++) {
            if (h[i].key.len == name->len
                && ngx_strncasecmp(h[i].key.data, name->data, name->len)
                   == 0)
            {
                ctx->override = 1;
            }
        }
    }
}


/*
 * Takes the method override headers out of the request header list, so
 * that neither proxy_pass nor any variable sees them (a zero hash does not
 * hide a header from proxy_pass).
 */

ngx_int_t
ngx_http_fw_fhir_strip_overrides(ngx_http_request_t *r)
{
    ngx_str_t  *name;

    if (r != r->main) {
        return ngx_http_fw_fhir_strip_sr_overrides(r);
    }

    for (name = ngx_http_fw_fhir_override_headers; name->len; name++) {
        (void) ngx_http_fw_set_request_header(r, name, NULL);
    }

    return NGX_OK;
}


/*
 * A subrequest's header list is a copy of its parent's list head: the
 * entries (and every part but the first) are the parent's.  Removing
 * entries in place would change the parent's list behind its back, so the
 * subrequest gets a list of its own without the override headers.
 */

static ngx_int_t
ngx_http_fw_fhir_strip_sr_overrides(ngx_http_request_t *r)
{
    ngx_str_t        *name;
    ngx_uint_t        i;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &old.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (name = ngx_http_fw_fhir_override_headers; name->len; name++) {
            if (h[i].key.len == name->len
                && ngx_strncasecmp(h[i].key.data, name->data, name->len)
                   == 0)
            {
                break;
            }
        }

        if (name->len) {
            continue;
        }

        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    return NGX_OK;
}


/*
 * fw_fhir_strict_handling: the upstream gets one Prefer header that starts
 * with "handling=strict" (a server then refuses unknown parameters rather
 * than ignoring them) and keeps the client's other preferences; a
 * client's "handling" preference is dropped.  An extra layer: the
 * compartment decision never relies on it.
 */

ngx_int_t
ngx_http_fw_fhir_force_strict(ngx_http_request_t *r)
{
    size_t            len, k;
    u_char           *p, *s, *e, *t, *end;
    ngx_str_t         name, value;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    static u_char     strict[] = "handling=strict";

    ngx_str_set(&name, "Prefer");

    len = sizeof(strict) - 1;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name.len
            && ngx_strncasecmp(h[i].key.data, name.data, name.len) == 0)
        {
            len += 2 + h[i].value.len;
        }
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    p = ngx_cpymem(p, strict, sizeof(strict) - 1);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != name.len
            || ngx_strncasecmp(h[i].key.data, name.data, name.len) != 0)
        {
            continue;
        }

        end = h[i].value.data + h[i].value.len;

        /* each preference ("a=b; x=y"), comma-separated */

        for (s = h[i].value.data; s < end; s = e + 1) {
            e = ngx_strlchr(s, end, ',');
            if (e == NULL) {
                e = end;
            }

            while (s < e && (*s == ' ' || *s == '\t')) {
                s++;
            }

            t = e;

            while (t > s && (t[-1] == ' ' || t[-1] == '\t')) {
                t--;
            }

            if (t == s) {
                continue;
            }

            for (k = 0; s + k < t && s[k] != '=' && s[k] != ';'
                        && s[k] != ' ' && s[k] != '\t'; k++)
            {
                /* void */
            }

            if (k == sizeof("handling") - 1
                && ngx_strncasecmp(s, (u_char *) "handling", k) == 0)
            {
                continue;
            }

            *p++ = ',';
            *p++ = ' ';
            p = ngx_cpymem(p, s, t - s);
        }
    }

    value.len = p - value.data;

    return ngx_http_fw_set_request_header(r, &name, &value) == NGX_OK
           ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_fw_fhir_media_type(ngx_http_request_t *r, const char *t1,
    const char *t2)
{
    size_t       len, i;
    u_char      *p;
    const char  *t[2];

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    p = r->headers_in.content_type->value.data;
    len = r->headers_in.content_type->value.len;

    for (i = 0; i < len; i++) {
        if (p[i] == ';' || p[i] == ' ' || p[i] == '\t') {
            break;
        }
    }

    len = i;
    t[0] = t1;
    t[1] = t2;

    for (i = 0; i < 2; i++) {
        if (t[i] && ngx_strlen(t[i]) == len
            && ngx_strncasecmp(p, (u_char *) t[i], len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static int
ngx_http_fw_fhir_method(ngx_http_request_t *r)
{
    switch (r->method) {
    case NGX_HTTP_GET:
        return FW_FHIR_M_GET;
    case NGX_HTTP_HEAD:
        return FW_FHIR_M_HEAD;
    case NGX_HTTP_POST:
        return FW_FHIR_M_POST;
    case NGX_HTTP_PUT:
        return FW_FHIR_M_PUT;
    case NGX_HTTP_PATCH:
        return FW_FHIR_M_PATCH;
    case NGX_HTTP_DELETE:
        return FW_FHIR_M_DELETE;
    default:
        return FW_FHIR_M_OTHER;
    }
}
