/*
 * fhirwall audit: who denied a request and why (denied_by, reason, checks),
 * from common/fw_vocab's table and the modules' own word, and
 * fw_audit_check.
 */


#include "ngx_http_fw_audit.h"


static ngx_int_t ngx_http_fw_audit_check_denies(ngx_http_fw_audit_check_t *c,
    ngx_http_variable_value_t *vv);
static ngx_int_t ngx_http_fw_audit_refuses_answers(
    ngx_http_variable_value_t *by);


void
ngx_http_fw_audit_denial(ngx_http_request_t *r,
    ngx_http_fw_audit_main_conf_t *amcf, unsigned status,
    fw_audit_event_t *ev)
{
    u_char                      *p;
    ngx_str_t                   *bym;
    ngx_uint_t                   i;
    ngx_http_variable_value_t   *vv, *by, *why;
    ngx_http_fw_audit_check_t   *c;

    c = amcf->checks->elts;
    by = NULL;
    bym = NULL;

    for (i = 0; i < amcf->checks->nelts; i++) {

        if (c[i].var->index < 0) {
            continue;
        }

        vv = ngx_http_get_indexed_variable(r, c[i].var->index);

        if (vv == NULL || vv->not_found || vv->len == 0) {
            continue;
        }

        if (ev->nchecks < FW_AUDIT_CHECKS_MAX) {
            ev->check_name[ev->nchecks].data = c[i].module.data;
            ev->check_name[ev->nchecks].len = c[i].module.len;
            ev->check_value[ev->nchecks].data = vv->data;
            ev->check_value[ev->nchecks].len = vv->len;
            ev->nchecks++;
        }

        if (by == NULL && ngx_http_fw_audit_check_denies(&c[i], vv)) {
            by = vv;
            bym = &c[i].module;
        }
    }

    if (status < 400 || ev->denied_by.len) {
        return;
    }

    /*
     * the module whose check refused the request said so, unless the
     * request went on to an upstream anyway (satisfy any: another access
     * module allowed it) other than through an error_page; a module that
     * refuses the upstream's answer (minimise) did so after it
     */

    vv = ngx_http_get_indexed_variable(r, amcf->denied_by);
    why = ngx_http_get_indexed_variable(r, amcf->denied_reason);

    if (vv && !vv->not_found && vv->len && why && !why->not_found
        && (r->upstream == NULL || r->error_page
            || ngx_http_fw_audit_refuses_answers(vv)))
    {
        ev->denied_by.data = vv->data;
        ev->denied_by.len = vv->len;
        ev->reason.data = why->data;
        ev->reason.len = why->len;
        return;
    }

    /* a status from an upstream is the upstream's */

    if (r->upstream == NULL && by != NULL) {
        ev->denied_by.data = bym->data;
        ev->denied_by.len = bym->len;
        ev->reason.data = by->data;
        ev->reason.len = by->len;
        return;
    }

    /* nginx itself (limit_req, client_max_body_size, auth_request, ...) */

    ngx_str_set(&ev->denied_by, FW_VOCAB_BY_NGINX);

    if (r->upstream) {
        ngx_str_set(&ev->denied_by, FW_VOCAB_BY_UPSTREAM);
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        ev->reason.len = 0;
        return;
    }

    ev->reason.data = p;
    ev->reason.len = ngx_sprintf(p, "%ui", (ngx_uint_t) status) - p;
}


/* the denied_by module is one that also refuses an upstream's answer */

static ngx_int_t
ngx_http_fw_audit_refuses_answers(ngx_http_variable_value_t *by)
{
    const fw_vocab_module_t  *m;

    m = fw_vocab_module(by->data, by->len);

    return m != NULL && m->response;
}


static ngx_int_t
ngx_http_fw_audit_check_denies(ngx_http_fw_audit_check_t *c,
    ngx_http_variable_value_t *vv)
{
    int          class;
    ngx_str_t   *ok;
    ngx_uint_t   j;

    class = c->vocab ? fw_vocab_class(c->vocab, vv->data, vv->len) : 0;

    switch (c->mode) {

    case NGX_HTTP_FW_AUDIT_CHECK_VOCAB:
        return class == FW_VOCAB_DENIED;

    case NGX_HTTP_FW_AUDIT_CHECK_OK:

        if (class == FW_VOCAB_NOT_CHECKED) {
            return 0;
        }

        ok = c->ok.elts;

        for (j = 0; j < c->ok.nelts; j++) {
            if (ok[j].len == vv->len
                && ngx_strncasecmp(ok[j].data, vv->data, vv->len) == 0)
            {
                return 0;
            }
        }

        return 1;

    default: /* NGX_HTTP_FW_AUDIT_CHECK_RECORD */
        return 0;
    }
}


ngx_int_t
ngx_http_fw_audit_add_check(ngx_conf_t *cf,
    ngx_http_fw_audit_main_conf_t *amcf, const char *module, const char *var,
    char **ok, ngx_uint_t mode)
{
    ngx_str_t                   s, *o;
    ngx_http_fw_audit_check_t  *c;

    c = ngx_array_push(amcf->checks);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->module.data = (u_char *) module;
    c->module.len = ngx_strlen(module);
    c->vocab = fw_vocab_module(c->module.data, c->module.len);
    c->mode = mode;

    if (mode == NGX_HTTP_FW_AUDIT_CHECK_OK && ok[0] == NULL) {
        c->mode = c->vocab ? NGX_HTTP_FW_AUDIT_CHECK_VOCAB
                           : NGX_HTTP_FW_AUDIT_CHECK_RECORD;
    }

    s.data = (u_char *) var;
    s.len = ngx_strlen(var);

    if (s.len < 2 || s.data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not a variable", &s);
        return NGX_ERROR;
    }

    c->var = ngx_http_fw_audit_add_var(cf, amcf, &s);
    if (c->var == NULL) {
        return NGX_ERROR;
    }

    if (ngx_array_init(&c->ok, cf->pool, 4, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    for ( /* void */ ; ok && *ok; ok++) {
        o = ngx_array_push(&c->ok);
        if (o == NULL) {
            return NGX_ERROR;
        }

        o->data = (u_char *) *ok;
        o->len = ngx_strlen(*ok);
    }

    return NGX_OK;
}


char *
ngx_http_fw_audit_check(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_audit_main_conf_t *amcf = conf;

    char       **ok;
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;

    if (amcf->checks == NULL) {
        amcf->checks = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_fw_audit_check_t));
        if (amcf->checks == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (amcf->checks->nelts == FW_AUDIT_CHECKS_MAX) {
        return "is used too many times";
    }

    ok = ngx_pcalloc(cf->pool, cf->args->nelts * sizeof(char *));
    if (ok == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 3; i < cf->args->nelts; i++) {
        ok[i - 3] = (char *) value[i].data;
    }

    if (ngx_http_fw_audit_add_check(cf, amcf, (char *) value[1].data,
                                    (char *) value[2].data, ok,
                                    NGX_HTTP_FW_AUDIT_CHECK_OK)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
