/*
 * fhirwall: nginx glue shared by the modules.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"


static ngx_uint_t ngx_http_fw_header_is(ngx_table_elt_t *h, ngx_str_t *name);
static ngx_int_t ngx_http_fw_rank_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_fw_mark_var(ngx_http_request_t *r,
    ngx_http_core_main_conf_t *cmcf, ngx_str_t *name, const char *value);


ngx_conf_enum_t  ngx_http_fw_error_formats[] = {
    { ngx_string("problem"), FW_FORMAT_PROBLEM },
    { ngx_string("fhir"), FW_FORMAT_FHIR },
    { ngx_string("text"), FW_FORMAT_TEXT },
    { ngx_null_string, 0 }
};


ngx_int_t
ngx_http_fw_send_error(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t format, const char *code, const char *diag)
{
    ngx_str_t  s;

    s.data = (u_char *) diag;
    s.len = diag ? ngx_strlen(diag) : 0;

    return ngx_http_fw_send_error_str(r, status, format, code, &s);
}


ngx_int_t
ngx_http_fw_send_error_str(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t format, const char *code, ngx_str_t *diag)
{
    if (r != r->main) {
        /* auth_request and other subrequests: the parent decides */
        return status;
    }

    return ngx_http_fw_send_error_body(r, status, format, code, diag);
}


ngx_int_t
ngx_http_fw_send_error_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t format, const char *code, ngx_str_t *diag)
{
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    const char   *type;
    ngx_chain_t   out;

    if (r->header_sent) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "fhirwall: error %ui after the header was sent",
                      status);
        return NGX_ERROR;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    len = fw_error_body(NULL, 0, (int) format, (unsigned) status, code,
                        diag->data, diag->len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last += fw_error_body(b->pos, len, (int) format, (unsigned) status,
                             code, diag->data, diag->len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    type = fw_format_content_type((int) format);

    r->headers_out.status = status;
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

    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));

    return NGX_DONE;
}


ngx_int_t
ngx_http_fw_set_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
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

        if (h[i].hash != 0
            && h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            h[i].value = *value;
            return NGX_OK;
        }
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *name;
    h->value = *value;
    h->lowcase_key = NULL;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


ngx_int_t
ngx_http_fw_set_www_authenticate(ngx_http_request_t *r, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = r->headers_out.www_authenticate;

    if (h == NULL) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&h->key, "WWW-Authenticate");
        h->lowcase_key = (u_char *) "www-authenticate";
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        r->headers_out.www_authenticate = h;
    }

    h->hash = 1;
    h->value = *value;

    return NGX_OK;
}


ngx_int_t
ngx_http_fw_set_request_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_uint_t                  i, n, hash;
    ngx_list_t                  old;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h, *nh;
    ngx_http_core_main_conf_t  *cmcf;
    u_char                      low[64];

    if (name->len > sizeof(low)) {
        return NGX_ERROR;
    }

    hash = ngx_hash_strlow(low, name->data, name->len);

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    if (ngx_hash_find(&cmcf->headers_in_hash, hash, low, name->len)) {
        /*
         * a header nginx tracks (r->headers_in points at its entry) is
         * never ours to replace: refuse rather than leave a stale pointer
         */
        return NGX_DECLINED;
    }

    /*
     * Every client-sent entry of that name is removed from the list (upstream
     * modules forward every entry they find, whatever its hash), then ours
     * is added.  The list is rebuilt without them rather than compacted:
     * the entries r->headers_in points at (Host, Authorization, User-Agent,
     * ...) must not move, so the old list stays as it is and the new one
     * holds a copy of each entry kept.
     */

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            n += ngx_http_fw_header_is(&h[i], name);
        }
    }

    if (n) {
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
                if (ngx_http_fw_header_is(&h[i], name)) {
                    continue;
                }

                nh = ngx_list_push(&r->headers_in.headers);
                if (nh == NULL) {
                    return NGX_ERROR;
                }

                *nh = h[i];
            }
        }
    }

    if (value == NULL) {
        return NGX_OK;
    }

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = *name;
    h->value = *value;

    h->lowcase_key = ngx_pnalloc(r->pool, name->len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(h->lowcase_key, low, name->len);
    h->hash = hash;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


static ngx_uint_t
ngx_http_fw_header_is(ngx_table_elt_t *h, ngx_str_t *name)
{
    return h->key.len == name->len
           && ngx_strncasecmp(h->key.data, name->data, name->len) == 0;
}


ngx_int_t
ngx_http_fw_request_header_allowed(ngx_str_t *name)
{
    ngx_http_header_t  *hh;

    if (name->len == 0 || name->len > 64) {
        return NGX_DECLINED;
    }

    for (hh = ngx_http_headers_in; hh->name.len; hh++) {
        if (hh->name.len == name->len
            && ngx_strncasecmp(hh->name.data, name->data, name->len) == 0)
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_fw_read_conf_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *out)
{
    u_char          *p;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    /* a NUL-terminated copy: callers may pass a slice of an argument */
    p = ngx_pnalloc(cf->pool, name->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, name->data, name->len);
    p[name->len] = '\0';
    name->data = p;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", name);
        goto failed;
    }

    if (ngx_file_size(&fi) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "file \"%V\" is empty",
                           name);
        goto failed;
    }

    if ((size_t) ngx_file_size(&fi) > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "file \"%V\" is larger than %uz bytes",
                           name, max);
        goto failed;
    }

    out->len = (size_t) ngx_file_size(&fi);
    out->data = ngx_pnalloc(cf->pool, out->len + 1);
    if (out->data == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, out->data, out->len);

    if (n == -1 || (size_t) n != out->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", name);
        goto failed;
    }

    out->data[out->len] = '\0';

    ngx_close_file(fd);

    return NGX_OK;

failed:

    ngx_close_file(fd);

    return NGX_ERROR;
}


ngx_uint_t
ngx_http_fw_next_header(ngx_http_request_t *r, ngx_list_part_t **part,
    ngx_table_elt_t **h, ngx_uint_t *i)
{
    if (*part == NULL) {
        *part = &r->headers_in.headers.part;
        *i = 0;

    } else {
        (*i)++;
    }

    while (*i >= (*part)->nelts) {
        if ((*part)->next == NULL) {
            return 0;
        }

        *part = (*part)->next;
        *i = 0;
    }

    *h = (*part)->elts;

    return 1;
}


ngx_int_t
ngx_http_fw_get_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_uint_t        i, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    found = 0;
    part = NULL;

    while (ngx_http_fw_next_header(r, &part, &h, &i)) {

        if (h[i].hash == 0
            || h[i].key.len != name->len
            || ngx_strncasecmp(h[i].key.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (found) {
            return NGX_BUSY;
        }

        found = 1;
        *value = h[i].value;
    }

    return found ? NGX_OK : NGX_DECLINED;
}


void
ngx_http_fw_mark_denied(ngx_http_request_t *r, const char *module,
    const char *reason)
{
    static ngx_str_t  by = ngx_string("fw_denied_by");
    static ngx_str_t  why = ngx_string("fw_denied_reason");
    static ngx_str_t  count = ngx_string("fw_metrics_denied_by");

    ngx_http_core_main_conf_t  *cmcf;

    if (r != r->main) {
        return;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    ngx_http_fw_mark_var(r, cmcf, &by, module);
    ngx_http_fw_mark_var(r, cmcf, &why, reason);
    ngx_http_fw_mark_var(r, cmcf, &count, module);
}


static void
ngx_http_fw_mark_var(ngx_http_request_t *r, ngx_http_core_main_conf_t *cmcf,
    ngx_str_t *name, const char *value)
{
    ngx_uint_t                  key;
    ngx_http_variable_t        *v;
    ngx_http_variable_value_t  *vv;

    key = ngx_hash_key(name->data, name->len);

    v = ngx_hash_find(&cmcf->variables_hash, key, name->data, name->len);

    if (v == NULL || !(v->flags & NGX_HTTP_VAR_INDEXED)) {
        return;
    }

    /* the last refusal is the one the final status is of (satisfy any,
       error_page to a location that checks again) */

    vv = &r->variables[v->index];

    vv->data = (u_char *) value;
    vv->len = ngx_strlen(value);
    vv->valid = 1;
    vv->no_cacheable = 0;
    vv->not_found = 0;
}


/*
 * The registry of ranked handlers: an array of these, in the "data" of a
 * variable that every module's copy of this code adds with the same name
 * (changeable, so the second add returns the first).  The name carries a
 * layout version.
 */

typedef struct {
    ngx_http_handler_pt  handler;
    ngx_uint_t           phase;
    ngx_uint_t           rank;
} ngx_http_fw_ranked_t;


ngx_int_t
ngx_http_fw_add_phase_handler(ngx_conf_t *cf, ngx_http_phases phase,
    ngx_http_handler_pt handler, ngx_uint_t rank)
{
    ngx_uint_t                  i, j, pos;
    ngx_array_t                *handlers, *reg;
    ngx_http_variable_t        *var;
    ngx_http_handler_pt        *h;
    ngx_http_fw_ranked_t       *e;
    ngx_http_core_main_conf_t  *cmcf;

    static ngx_str_t  name = ngx_string("fw_internal_phase_ranks_1");

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_CHANGEABLE
                                           |NGX_HTTP_VAR_NOCACHEABLE
                                           |NGX_HTTP_VAR_NOHASH);
    if (var == NULL) {
        return NGX_ERROR;
    }

    if (var->data == 0) {
        reg = ngx_array_create(cf->pool, 8, sizeof(ngx_http_fw_ranked_t));
        if (reg == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = ngx_http_fw_rank_variable;
        var->data = (uintptr_t) reg;
    }

    reg = (ngx_array_t *) var->data;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    handlers = &cmcf->phases[phase].handlers;

    /*
     * nginx runs a phase's handlers last added first: ours are kept in
     * decreasing rank along the array, so the new one goes before the
     * first of ours with a lower rank (the end if there is none)
     */

    pos = handlers->nelts;
    h = handlers->elts;
    e = reg->elts;

    for (i = 0; i < handlers->nelts && pos == handlers->nelts; i++) {
        for (j = 0; j < reg->nelts; j++) {
            if (e[j].phase == (ngx_uint_t) phase && e[j].handler == h[i]
                && e[j].rank < rank)
            {
                pos = i;
                break;
            }
        }
    }

    if (ngx_array_push(handlers) == NULL) {
        return NGX_ERROR;
    }

    h = handlers->elts;
    ngx_memmove(&h[pos + 1], &h[pos],
                (handlers->nelts - 1 - pos) * sizeof(ngx_http_handler_pt));
    h[pos] = handler;

    e = ngx_array_push(reg);
    if (e == NULL) {
        return NGX_ERROR;
    }

    e->handler = handler;
    e->phase = phase;
    e->rank = rank;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_rank_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    v->not_found = 1;

    return NGX_OK;
}
