/*
 * fhirwall audit: one tamper-evident audit record per request.
 *
 * nginx glue: directives, the fail-closed check (preaccess phase), the
 * record (log phase), the sinks (files reopened on USR1, stdout, stderr),
 * their buffers, flush timers and fsync policy.  Records, chains and the
 * verifier are in fw_audit*.c.
 */


#include "ngx_http_fw_audit.h"
#define NGX_HTTP_FW_AUDIT_METRICS_TABLE
#include "ngx_http_fw_audit_metrics.h"


static ngx_int_t ngx_http_fw_audit_preaccess_handler(ngx_http_request_t *r);
static void ngx_http_fw_audit_value(ngx_http_request_t *r, ngx_array_t *vars,
    fw_audit_str_t *out);
static ngx_int_t ngx_http_fw_audit_denied_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_audit_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_audit_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_audit_write(ngx_http_request_t *r,
    ngx_http_fw_audit_main_conf_t *amcf, ngx_http_fw_audit_loc_conf_t *alcf,
    fw_audit_event_t *ev);
static ngx_int_t ngx_http_fw_audit_var_exists(ngx_conf_t *cf,
    ngx_str_t *name);
static char *ngx_http_fw_audit_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_fw_audit_wipe(void *data);
static char *ngx_http_fw_audit_field(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_fw_audit_secret_var(ngx_str_t *value);
static char *ngx_http_fw_audit_max_record(ngx_conf_t *cf, void *post,
    void *data);
static void *ngx_http_fw_audit_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_fw_audit_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_fw_audit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_fw_audit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_fw_audit_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_audit_init_process(ngx_cycle_t *cycle);
static void ngx_http_fw_audit_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_handler_pt  ngx_http_fw_audit_max_record_p =
    ngx_http_fw_audit_max_record;


/* the variables each field reads unless "fw_audit_field" says otherwise */
static char *ngx_http_fw_audit_default_vars[FW_AUDIT_F_MAX][3] = {
    { "$request_id", NULL },
    { "$remote_addr", NULL },
    { "$fw_jwt_sub", NULL },
    { "$fw_jwt_claim_role", NULL },
    { "$fw_jwt_claim_client_id", "$fw_jwt_claim_azp", NULL },
    { "$fw_jwt_claim_fhiruser", NULL },
    { "$fw_jwt_claim_purpose_of_use", NULL },
    { "$fw_fhir_patient", "$fw_jwt_claim_patient", NULL },
    { "$fw_fhir_interaction", NULL },
    { "$fw_fhir_type", NULL },
    { "$fw_fhir_id", NULL },
    { "$fw_fhir_vid", NULL },
    { "$fw_fhir_operation", NULL },
    { "$fw_fhir_compartment", NULL },
    { "$request_method", NULL },
    { "$request_uri", NULL },
    { "$args", NULL },
    { "$status", NULL },
    { "$bytes_sent", NULL },
    { "$request_time", NULL },
    { "$upstream_status", NULL },
    { "$upstream_response_time", NULL },
    { "$hostname", NULL },
    { "$fw_minimise_profile", NULL }
};


/* set by the module whose check refused the request (common/) */
static ngx_http_variable_t  ngx_http_fw_audit_vars[] = {

    { ngx_string("fw_denied_by"), NULL, ngx_http_fw_audit_denied_variable,
      0, 0, 0 },

    { ngx_string("fw_denied_reason"), NULL,
      ngx_http_fw_audit_denied_variable, 0, 0, 0 },

      ngx_http_null_variable
};


static ngx_command_t  ngx_http_fw_audit_commands[] = {

    { ngx_string("fw_audit_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_audit_log,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_audit_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_fw_audit_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_audit_field"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_fw_audit_field,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_audit_check"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_fw_audit_check,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_audit_fail_closed"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_audit_loc_conf_t, fail_closed),
      NULL },

    { ngx_string("fw_audit_query"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_audit_query,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_audit_redact"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_fw_audit_redact,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_audit_subrequests"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_audit_loc_conf_t, subrequests),
      NULL },

    { ngx_string("fw_audit_max_record"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_audit_loc_conf_t, max_record),
      &ngx_http_fw_audit_max_record_p },

    { ngx_string("fw_audit_error_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_audit_loc_conf_t, error_format),
      &ngx_http_fw_error_formats },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_audit_module_ctx = {
    ngx_http_fw_audit_add_variables,       /* preconfiguration */
    ngx_http_fw_audit_init,                /* postconfiguration */

    ngx_http_fw_audit_create_main_conf,    /* create main configuration */
    ngx_http_fw_audit_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_fw_audit_create_loc_conf,     /* create location configuration */
    ngx_http_fw_audit_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_fw_audit_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_audit_module_ctx,         /* module context */
    ngx_http_fw_audit_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_fw_audit_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_fw_audit_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ---- request time ------------------------------------------------------ */


static ngx_int_t
ngx_http_fw_audit_preaccess_handler(ngx_http_request_t *r)
{
    ngx_uint_t                      i, failed;
    ngx_http_fw_audit_ctx_t        *ctx;
    ngx_http_fw_audit_sink_t      **s;
    ngx_http_fw_audit_loc_conf_t   *alcf;
    ngx_http_fw_audit_main_conf_t  *amcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_audit_module);

    if (alcf->sinks == NULL || !alcf->fail_closed
        || (r != r->main && !alcf->subrequests))
    {
        return NGX_DECLINED;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_fw_audit_module);

    s = alcf->sinks->elts;
    failed = 0;

    for (i = 0; i < alcf->sinks->nelts; i++) {

        if (s[i]->chain && !s[i]->started) {
            /* the chain's start record is the first write: it tells
               whether the sink works before anything is served */
            ngx_http_fw_audit_sink_lifecycle(s[i], amcf, FW_AUDIT_KIND_START,
                                             r->connection->log);

            failed |= s[i]->failed;

        } else if (s[i]->failed) {
            /* tried before refusing: served again once it works */
            failed |= (ngx_http_fw_audit_sink_probe(s[i], alcf->max_record,
                                                    r->connection->log)
                       != NGX_OK);
        }
    }

    if (!failed) {
        return NGX_DECLINED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_audit_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->refused = 1;
    ngx_http_set_ctx(r->main, ctx, ngx_http_fw_audit_module);

    return ngx_http_fw_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  alcf->error_format, "transient",
                                  "the audit log is not writable");
}


static void
ngx_http_fw_audit_value(ngx_http_request_t *r, ngx_array_t *vars,
    fw_audit_str_t *out)
{
    ngx_uint_t                  i;
    ngx_http_variable_value_t  *vv;
    ngx_http_fw_audit_var_t   **v;

    out->data = NULL;
    out->len = 0;

    if (vars == NULL) {
        return;
    }

    v = vars->elts;

    for (i = 0; i < vars->nelts; i++) {

        if (v[i]->index == NGX_HTTP_FW_AUDIT_LITERAL) {
            out->data = v[i]->name.data;
            out->len = v[i]->name.len;
            return;
        }

        if (v[i]->index == NGX_ERROR) {
            continue;
        }

        vv = ngx_http_get_indexed_variable(r, v[i]->index);

        if (vv == NULL || vv->not_found || vv->len == 0) {
            continue;
        }

        out->data = vv->data;
        out->len = vv->len;
        return;
    }
}


static ngx_int_t
ngx_http_fw_audit_denied_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    /* set by ngx_http_fw_mark_denied(), else empty */
    v->not_found = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_audit_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_fw_audit_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* the record of a request to the location's sinks: NGX_ERROR when it is
   lost on one of them */

static ngx_int_t
ngx_http_fw_audit_write(ngx_http_request_t *r,
    ngx_http_fw_audit_main_conf_t *amcf, ngx_http_fw_audit_loc_conf_t *alcf,
    fw_audit_event_t *ev)
{
    int                         format;
    size_t                      len, reserve;
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_fw_audit_sink_t  **s;

    s = alcf->sinks->elts;
    rc = NGX_OK;

    /*
     * the body is built once for each format in use; a record is sealed
     * in place when it goes to one destination, else in a copy
     */

    reserve = fw_audit_seal_len(FW_AUDIT_FHIR, amcf->host.len + 64);
    format = -1;
    len = 0;

    for (i = 0; i < alcf->sinks->nelts; i++) {

        if ((int) s[i]->format != format) {
            format = (int) s[i]->format;
            len = fw_audit_build(amcf->scratch, alcf->max_record, reserve,
                                 format, ev);

            if (len == 0) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "fw_audit: the record does not fit in %uz "
                              "bytes", alcf->max_record);
                return NGX_ERROR;
            }
        }

        if (alcf->sinks->nelts == 1) {
            return ngx_http_fw_audit_sink_record(s[i], amcf->scratch, len,
                                                 alcf->max_record,
                                                 FW_AUDIT_KIND_REQUEST,
                                                 r->connection->log);
        }

        ngx_memcpy(amcf->scratch2, amcf->scratch, len);

        if (ngx_http_fw_audit_sink_record(s[i], amcf->scratch2, len,
                                          alcf->max_record,
                                          FW_AUDIT_KIND_REQUEST,
                                          r->connection->log)
            != NGX_OK)
        {
            rc = NGX_ERROR;
        }
    }

    return rc;
}


/*
 * the log phase: the record of a request the filters did not write before
 * its answer's last byte (ngx_http_fw_audit_filter.c): no answer (499), an
 * answer cut short, a subrequest
 */

static ngx_int_t
ngx_http_fw_audit_log_handler(ngx_http_request_t *r)
{
    ngx_http_fw_audit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_fw_audit_module);

    if (r == r->main && ctx && ctx->written) {
        return NGX_OK;
    }

    (void) ngx_http_fw_audit_request(r);

    return NGX_OK;
}


/*
 * the record of a request to its location's sinks: NGX_OK written (or
 * buffered), NGX_ERROR lost on a sink, NGX_DECLINED not audited here
 */

ngx_int_t
ngx_http_fw_audit_request(ngx_http_request_t *r)
{
    u_char                         *q;
    unsigned                        status;
    ngx_uint_t                      f;
    ngx_time_t                     *tp;
    fw_audit_event_t                ev;
    fw_audit_str_t                 *path;
    ngx_uint_t                      i, failed;
    ngx_http_fw_audit_ctx_t        *ctx;
    ngx_http_fw_audit_sink_t      **s;
    ngx_http_fw_audit_loc_conf_t   *alcf;
    ngx_http_fw_audit_main_conf_t  *amcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_audit_module);

    if (alcf->sinks == NULL || (r != r->main && !alcf->subrequests)) {
        return NGX_DECLINED;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_fw_audit_module);

    if (amcf->scratch == NULL) {
        amcf->scratch = ngx_alloc(amcf->record_max, ngx_cycle->log);
        amcf->scratch2 = ngx_alloc(amcf->record_max, ngx_cycle->log);

        if (amcf->scratch == NULL || amcf->scratch2 == NULL) {
            ngx_free(amcf->scratch);
            ngx_free(amcf->scratch2);
            amcf->scratch = NULL;
            amcf->scratch2 = NULL;
            return NGX_ERROR;
        }
    }

    s = alcf->sinks->elts;
    failed = 0;

    for (i = 0; i < alcf->sinks->nelts; i++) {
        failed |= s[i]->failed;
    }

    ngx_memzero(&ev, sizeof(fw_audit_event_t));

    for (f = 0; f < FW_AUDIT_F_MAX; f++) {
        ngx_http_fw_audit_value(r, alcf->fields[f], &ev.v[f]);
    }

    /* the path without the query; a subrequest's own URI by default */

    path = &ev.v[FW_AUDIT_F_PATH];

    if (r != r->main
        && alcf->fields[FW_AUDIT_F_PATH] == amcf->defaults[FW_AUDIT_F_PATH])
    {
        path->data = r->uri.data;
        path->len = r->uri.len;
    }

    q = path->len ? ngx_strlchr((u_char *) path->data,
                                (u_char *) path->data + path->len, '?')
                  : NULL;
    if (q) {
        path->len = q - path->data;
    }

    tp = ngx_timeofday();
    ev.time_ms = (int64_t) tp->sec * 1000 + tp->msec;

    /* no identifier leaves the request unless configured so */
    ngx_http_fw_audit_redact_event(r, amcf, alcf, &ev);

    status = r->err_status ? r->err_status : r->headers_out.status;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_fw_audit_module);

    if ((ctx && ctx->refused)
        || (status == NGX_HTTP_SERVICE_UNAVAILABLE && alcf->fail_closed
            && failed))
    {
        ngx_str_set(&ev.denied_by, FW_VOCAB_BY_AUDIT);
        ngx_str_set(&ev.reason, FW_VOCAB_AUDIT_SINK);
    }

    ngx_http_fw_audit_denial(r, amcf, status, &ev);

    return ngx_http_fw_audit_write(r, amcf, alcf, &ev);
}


/* ---- configuration ---------------------------------------------------- */


ngx_http_fw_audit_var_t *
ngx_http_fw_audit_add_var(ngx_conf_t *cf,
    ngx_http_fw_audit_main_conf_t *amcf, ngx_str_t *value)
{
    ngx_http_fw_audit_var_t   *v, **vp;

    v = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_audit_var_t));
    if (v == NULL) {
        return NULL;
    }

    if (value->len > 1 && value->data[0] == '$') {
        v->name.data = value->data + 1;
        v->name.len = value->len - 1;
        v->index = NGX_ERROR;

        vp = ngx_array_push(&amcf->vars);
        if (vp == NULL) {
            return NULL;
        }

        *vp = v;

    } else {
        v->name = *value;
        v->index = NGX_HTTP_FW_AUDIT_LITERAL;
    }

    return v;
}


/*
 * Whether a variable of that name exists (a module loaded or a "map" or
 * "set" that defines it, or a prefix such as "http_"); a field that names
 * a variable no module defines is left out of the records instead of
 * failing the configuration, so any subset of the modules works.
 */

static ngx_int_t
ngx_http_fw_audit_var_exists(ngx_conf_t *cf, ngx_str_t *name)
{
    u_char                     *low;
    ngx_uint_t                  i;
    ngx_hash_key_t             *key;
    ngx_http_variable_t        *pv;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    low = ngx_pnalloc(cf->temp_pool, name->len);
    if (low == NULL) {
        return 0;
    }

    ngx_strlow(low, name->data, name->len);

    if (cmcf->variables_keys) {
        key = cmcf->variables_keys->keys.elts;

        for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
            if (key[i].key.len == name->len
                && ngx_strncmp(key[i].key.data, low, name->len) == 0)
            {
                return 1;
            }
        }
    }

    pv = cmcf->prefix_variables.elts;

    for (i = 0; i < cmcf->prefix_variables.nelts; i++) {
        if (name->len >= pv[i].name.len
            && ngx_strncmp(low, pv[i].name.data, pv[i].name.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static char *
ngx_http_fw_audit_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_audit_main_conf_t *amcf = conf;

    size_t               len;
    ngx_int_t            n;
    ngx_str_t           *value, name, s;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (amcf->secret.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "epoch=", 6) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 6;
        s.len = value[2].len - 6;

        if (ngx_strcmp(s.data, "off") == 0) {
            amcf->epoch = 0;

        } else {
            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR || n < 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid epoch \"%V\" (1s at least)",
                                   &value[2]);
                return NGX_CONF_ERROR;
            }

            amcf->epoch = (ngx_msec_t) n;
        }
    }

    if (ngx_http_fw_read_conf_file(cf, &name, 4096, &amcf->secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (fw_audit_key_normalize(amcf->secret.data, amcf->secret.len, &len)
        != FW_AUDIT_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the key in \"%V\" is shorter than %d bytes",
                           &name, FW_AUDIT_KEY_MIN);
        return NGX_CONF_ERROR;
    }

    amcf->secret.len = len;

    /* the secret is wiped when the configuration goes */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_fw_audit_wipe;
    cln->data = &amcf->secret;

    if (ngx_file_info(name.data, &fi) != NGX_FILE_ERROR
        && (ngx_file_access(&fi) & 0077))
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "the audit key file \"%V\" is accessible to "
                           "others than its owner (mode 0%d%d%d)", &name,
                           (int) (ngx_file_access(&fi) >> 6 & 7),
                           (int) (ngx_file_access(&fi) >> 3 & 7),
                           (int) (ngx_file_access(&fi) & 7));
    }

    return NGX_CONF_OK;
}


static void
ngx_http_fw_audit_wipe(void *data)
{
    ngx_str_t  *s = data;

    if (s->data && s->len) {
        OPENSSL_cleanse(s->data, s->len);
    }
}


static char *
ngx_http_fw_audit_field(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_audit_loc_conf_t *alcf = conf;

    int                             f;
    ngx_str_t                      *value;
    ngx_uint_t                      i;
    ngx_array_t                    *a;
    ngx_http_fw_audit_var_t       **vp;
    ngx_http_fw_audit_main_conf_t  *amcf;

    value = cf->args->elts;

    f = fw_audit_field_by_name(value[1].data, value[1].len);

    if (f < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown audit field \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (alcf->fields[f]) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "audit field \"%V\" is duplicate", &value[1]);
        return NGX_CONF_ERROR;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_audit_module);

    a = ngx_array_create(cf->pool, cf->args->nelts,
                         sizeof(ngx_http_fw_audit_var_t *));
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    alcf->fields[f] = a;

    if (cf->args->nelts == 3 && ngx_strcmp(value[2].data, "off") == 0) {
        return NGX_CONF_OK;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_http_fw_audit_secret_var(&value[i])) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" may carry a secret or a body and "
                               "never goes into an audit record",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        vp = ngx_array_push(a);
        if (vp == NULL) {
            return NGX_CONF_ERROR;
        }

        *vp = ngx_http_fw_audit_add_var(cf, amcf, &value[i]);
        if (*vp == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* variables that carry credentials or bodies: refused in any field */

static ngx_int_t
ngx_http_fw_audit_secret_var(ngx_str_t *value)
{
    u_char             low[64];
    size_t             len;
    ngx_uint_t         i, k;
    static ngx_str_t   exact[] = {
        ngx_string("$http_authorization"),
        ngx_string("$http_proxy_authorization"),
        ngx_string("$http_cookie"),
        ngx_string("$request_body"),
        ngx_string("$request_body_file"),
        ngx_string("$fw_jwt_token"),
        ngx_string("$fw_jwt_payload"),
        ngx_null_string
    };
    static ngx_str_t   prefix[] = {
        ngx_string("$cookie_"),
        ngx_string("$sent_http_set_cookie"),
        ngx_string("$upstream_http_set_cookie"),
        ngx_string("$upstream_cookie_"),
        ngx_string("$fw_jwt_header_"),
        ngx_string("$ssl_client_raw_cert"),
        ngx_string("$ssl_client_cert"),
        ngx_null_string
    };
    static ngx_str_t   from[] = {
        ngx_string("$http_"),
        ngx_string("$arg_"),
        ngx_string("$sent_http_"),
        ngx_string("$upstream_http_"),
        ngx_null_string
    };
    static ngx_str_t   word[] = {
        ngx_string("token"),
        ngx_string("secret"),
        ngx_string("passw"),
        ngx_string("api_key"),
        ngx_string("apikey"),
        ngx_string("authoriz"),
        ngx_string("signature"),
        ngx_string("assertion"),
        ngx_string("session"),
        ngx_null_string
    };

    if (value->len == 0 || value->data[0] != '$') {
        return 0;
    }

    len = ngx_min(value->len, sizeof(low));
    ngx_strlow(low, value->data, len);

    for (i = 0; exact[i].len; i++) {
        if (len == exact[i].len
            && ngx_strncmp(low, exact[i].data, len) == 0)
        {
            return 1;
        }
    }

    for (i = 0; prefix[i].len; i++) {
        if (len >= prefix[i].len
            && ngx_strncmp(low, prefix[i].data, prefix[i].len) == 0)
        {
            return 1;
        }
    }

    /* a header or an argument named like a credential */

    for (i = 0; from[i].len; i++) {
        if (len < from[i].len
            || ngx_strncmp(low, from[i].data, from[i].len) != 0)
        {
            continue;
        }

        for (k = 0; word[k].len; k++) {
            if (ngx_strlcasestrn(low + from[i].len, low + len,
                                 word[k].data, word[k].len - 1)
                != NULL)
            {
                return 1;
            }
        }
    }

    return 0;
}


static char *
ngx_http_fw_audit_max_record(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = data;

    if (*sp < FW_AUDIT_RECORD_MIN || *sp > FW_AUDIT_RECORD_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_audit_max_record\" must be between %d and "
                           "%d", FW_AUDIT_RECORD_MIN, FW_AUDIT_RECORD_MAX);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_fw_audit_create_main_conf(ngx_conf_t *cf)
{
    ngx_str_t                       s;
    ngx_uint_t                      f, i;
    ngx_http_fw_audit_var_t       **vp;
    ngx_http_fw_audit_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_audit_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&amcf->sinks, cf->pool, 4,
                       sizeof(ngx_http_fw_audit_sink_t *))
        != NGX_OK
        || ngx_array_init(&amcf->vars, cf->pool, 32,
                          sizeof(ngx_http_fw_audit_var_t *))
           != NGX_OK)
    {
        return NULL;
    }

    for (f = 0; f < FW_AUDIT_F_MAX; f++) {
        amcf->defaults[f] = ngx_array_create(cf->pool, 2,
                                             sizeof(ngx_http_fw_audit_var_t *));
        if (amcf->defaults[f] == NULL) {
            return NULL;
        }

        for (i = 0; ngx_http_fw_audit_default_vars[f][i]; i++) {
            s.data = (u_char *) ngx_http_fw_audit_default_vars[f][i];
            s.len = ngx_strlen(s.data);

            vp = ngx_array_push(amcf->defaults[f]);
            if (vp == NULL) {
                return NULL;
            }

            *vp = ngx_http_fw_audit_add_var(cf, amcf, &s);
            if (*vp == NULL) {
                return NULL;
            }
        }
    }

    amcf->epoch = NGX_CONF_UNSET_MSEC;
    amcf->record_max = FW_AUDIT_RECORD_MIN;

    return amcf;
}


static char *
ngx_http_fw_audit_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_fw_audit_main_conf_t *amcf = conf;

    u_char      *p;
    ngx_uint_t   i;

    ngx_conf_init_msec_value(amcf->epoch, 600000);

    if (amcf->checks == NULL) {
        amcf->checks = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_fw_audit_check_t));
        if (amcf->checks == NULL) {
            return NGX_CONF_ERROR;
        }

        /* the table's modules: each says itself when it refused */

        for (i = 0; i < fw_vocab_nmodules; i++) {
            if (ngx_http_fw_audit_add_check(cf, amcf,
                                        fw_vocab_modules[i].module,
                                        fw_vocab_modules[i].variable, NULL,
                                        NGX_HTTP_FW_AUDIT_CHECK_RECORD)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }
        }
    }

    /* the host part of chain ids: letters, digits, "." and "-" */

    amcf->host.len = ngx_min(cf->cycle->hostname.len, 48);
    amcf->host.data = ngx_pnalloc(cf->pool, amcf->host.len + 1);
    if (amcf->host.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = amcf->host.data;

    for (i = 0; i < amcf->host.len; i++) {
        p[i] = cf->cycle->hostname.data[i];

        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '.' || p[i] == '-'))
        {
            p[i] = '_';
        }
    }

    p[i] = '\0';

    if (amcf->host.len == 0) {
        ngx_str_set(&amcf->host, "localhost");
    }

    /*
     * query hashes: keyed from the secret, so that they cannot be
     * reversed by trying likely values; without a key file, a random key
     * for this configuration
     */

    if (amcf->secret.len) {
        fw_audit_query_key(amcf->secret.data, amcf->secret.len,
                           amcf->query_key);

    } else if (RAND_bytes(amcf->query_key, FW_AUDIT_MAC_LEN) != 1) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_audit_redact_init_main(cf, amcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_fw_audit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_audit_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_audit_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    alcf->sinks = NGX_CONF_UNSET_PTR;
    alcf->fail_closed = NGX_CONF_UNSET;
    ngx_http_fw_audit_redact_init_loc(alcf);
    alcf->subrequests = NGX_CONF_UNSET;
    alcf->max_record = NGX_CONF_UNSET_SIZE;
    alcf->error_format = NGX_CONF_UNSET_UINT;

    return alcf;
}


static char *
ngx_http_fw_audit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_fw_audit_loc_conf_t *prev = parent;
    ngx_http_fw_audit_loc_conf_t *conf = child;

    ngx_uint_t                      f;
    ngx_http_fw_audit_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_audit_module);

    ngx_conf_merge_ptr_value(conf->sinks, prev->sinks, NULL);
    ngx_conf_merge_value(conf->fail_closed, prev->fail_closed, 0);
    ngx_http_fw_audit_redact_merge(prev, conf);
    ngx_conf_merge_value(conf->subrequests, prev->subrequests, 0);
    ngx_conf_merge_size_value(conf->max_record, prev->max_record, 8192);
    ngx_conf_merge_uint_value(conf->error_format, prev->error_format,
                              FW_FORMAT_PROBLEM);

    for (f = 0; f < FW_AUDIT_F_MAX; f++) {
        if (conf->fields[f] == NULL) {
            conf->fields[f] = prev->fields[f] ? prev->fields[f]
                                              : amcf->defaults[f];
        }
    }

    if (conf->max_record > amcf->record_max) {
        amcf->record_max = conf->max_record;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_fw_audit_init(ngx_conf_t *cf)
{
    ngx_uint_t                      i;
    ngx_http_handler_pt            *h;
    ngx_http_fw_audit_var_t       **v;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_fw_audit_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_audit_module);

    amcf->metrics = ngx_http_fw_audit_metrics_zone(cf);

    if (amcf->metrics == NGX_HTTP_FW_METRICS_ERROR) {
        return NGX_ERROR;
    }

    /* the variables that exist get an index; the others stay NGX_ERROR */

    v = amcf->vars.elts;

    for (i = 0; i < amcf->vars.nelts; i++) {
        if (!ngx_http_fw_audit_var_exists(cf, &v[i]->name)) {
            v[i]->index = NGX_ERROR;
            continue;
        }

        v[i]->index = ngx_http_get_variable_index(cf, &v[i]->name);
        if (v[i]->index == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    /* indexed, so that ngx_http_fw_mark_denied() can set them */

    amcf->denied_by = ngx_http_get_variable_index(cf,
                                              &ngx_http_fw_audit_vars[0].name);
    amcf->denied_reason = ngx_http_get_variable_index(cf,
                                              &ngx_http_fw_audit_vars[1].name);

    if (amcf->denied_by == NGX_ERROR || amcf->denied_reason == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (amcf->sinks.nelts == 0) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /*
     * last of our preaccess handlers: a lockout's or a rate limit's
     * refusal wins over the failing sink's 503 ("Phase order")
     */
    if (ngx_http_fw_add_phase_handler(cf, NGX_HTTP_PREACCESS_PHASE,
                                      ngx_http_fw_audit_preaccess_handler,
                                      NGX_HTTP_FW_RANK_AUDIT)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_fw_audit_log_handler;

    /* the record before the answer's last byte */
    return ngx_http_fw_audit_filter_init(cf);
}


static ngx_int_t
ngx_http_fw_audit_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_fw_audit_sink_t      **s;
    ngx_http_fw_audit_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_fw_audit_module);
    if (amcf == NULL || amcf->sinks.nelts == 0) {
        return NGX_OK;
    }

    s = amcf->sinks.elts;

    for (i = 0; i < amcf->sinks.nelts; i++) {
        if (ngx_http_fw_audit_sink_start(s[i], amcf, cycle->log) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /*
     * every chain has its K(0): this worker needs the secret no more (the
     * master keeps it for reloads)
     */

    if (amcf->secret.len) {
        OPENSSL_cleanse(amcf->secret.data, amcf->secret.len);
        amcf->secret.len = 0;
    }

    /* a chain's start record is written with its first record (or the
       fail-closed check): an idle worker writes nothing */

    return NGX_OK;
}


static void
ngx_http_fw_audit_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_fw_audit_sink_t      **s;
    ngx_http_fw_audit_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_fw_audit_module);
    if (amcf == NULL) {
        return;
    }

    s = amcf->sinks.elts;

    for (i = 0; i < amcf->sinks.nelts; i++) {
        ngx_http_fw_audit_sink_flush(s[i], cycle->log);

        if (s[i]->chain && s[i]->started) {
            ngx_http_fw_audit_sink_lifecycle(s[i], amcf, FW_AUDIT_KIND_END,
                                             cycle->log);
        }

        fw_audit_chain_destroy(s[i]->chain);
        s[i]->chain = NULL;

        if (s[i]->buf) {
            ngx_free(s[i]->buf);
            s[i]->buf = NULL;
        }
    }

    /* this worker's buffers and keys */

    if (amcf->scratch) {
        ngx_free(amcf->scratch);
        ngx_free(amcf->scratch2);
        amcf->scratch = NULL;
        amcf->scratch2 = NULL;
    }

    fw_audit_hmac_destroy(amcf->query_hmac);
    amcf->query_hmac = NULL;

    ngx_http_fw_audit_redact_exit(amcf);
}
