/*
 * fhirwall FHIR module: FHIR REST path validation, interactions, SMART on
 * FHIR scopes and patient compartments.  Thin nginx glue over fw_fhir*.c.
 */


#include "ngx_http_fw_fhir.h"
#include "ngx_http_fw_fhir_metrics.h"


static ngx_int_t ngx_http_fw_fhir_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_fhir_start_body(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx, ngx_http_fw_fhir_loc_conf_t *flcf,
    ngx_str_t *scopes, ngx_str_t *patient, ngx_uint_t *nobody);
static ngx_int_t ngx_http_fw_fhir_precontent_handler(ngx_http_request_t *r);
static void ngx_http_fw_fhir_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_fhir_body(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx);
static ngx_int_t ngx_http_fw_fhir_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_fw_fhir_authorize(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx, ngx_str_t *scopes, ngx_str_t *patient);
static ngx_int_t ngx_http_fw_fhir_deny(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx);
static ngx_int_t ngx_http_fw_fhir_credentials(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx, ngx_str_t *scopes, ngx_str_t *patient);
static void ngx_http_fw_fhir_auth_verdict(ngx_http_fw_fhir_ctx_t *ctx);
static ngx_int_t ngx_http_fw_fhir_auth_header(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx);
static ngx_int_t ngx_http_fw_fhir_get_value(ngx_http_request_t *r,
    ngx_http_fw_fhir_value_t *fv, ngx_str_t *value);
static void ngx_http_fw_fhir_count(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx, ngx_uint_t outcome);
static void *ngx_http_fw_fhir_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_fhir_init(ngx_conf_t *cf);
static void ngx_http_fw_fhir_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_fw_fhir_overrides[] = {
    { ngx_string("reject"), NGX_HTTP_FW_FHIR_OVERRIDE_REJECT },
    { ngx_string("strip"), NGX_HTTP_FW_FHIR_OVERRIDE_STRIP },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_fw_fhir_unverifiable[] = {
    { ngx_string("deny"), 0 },
    { ngx_string("allow"), 1 },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_fw_fhir_commands[] = {

    { ngx_string("fw_fhir"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_fhir,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_fhir_base"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_fhir_base,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_fhir_scopes"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_fhir_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, scopes),
      NULL },

    { ngx_string("fw_fhir_patient"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_fhir_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, patient),
      NULL },

    { ngx_string("fw_fhir_auth_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_fhir_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, auth),
      NULL },

    { ngx_string("fw_fhir_allow_types"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_fhir_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, allow_types),
      NULL },

    { ngx_string("fw_fhir_deny_types"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_fhir_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, deny_types),
      NULL },

    { ngx_string("fw_fhir_allow_interactions"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_fhir_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, allow_interactions),
      NULL },

    { ngx_string("fw_fhir_deny_interactions"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_fhir_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, deny_interactions),
      NULL },

    { ngx_string("fw_fhir_allow_operations"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_fhir_ops,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, allow_ops),
      NULL },

    { ngx_string("fw_fhir_deny_operations"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_fhir_ops,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, deny_ops),
      NULL },

    { ngx_string("fw_fhir_operation_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_fw_fhir_op_scope,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_fhir_formats"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_fhir_formats,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_fhir_deny_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_fhir_deny_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_fhir_method_override"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, override),
      &ngx_http_fw_fhir_overrides },

    { ngx_string("fw_fhir_strict_handling"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, strict),
      NULL },

    { ngx_string("fw_fhir_patient_unverifiable"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, unverifiable),
      &ngx_http_fw_fhir_unverifiable },

    { ngx_string("fw_fhir_body_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, body_max),
      NULL },

    { ngx_string("fw_fhir_bundle_max_entries"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_fhir_loc_conf_t, max_entries),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_fhir_module_ctx = {
    ngx_http_fw_fhir_add_variables,        /* preconfiguration */
    ngx_http_fw_fhir_init,                 /* postconfiguration */

    ngx_http_fw_fhir_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_fw_fhir_create_loc_conf,      /* create location configuration */
    ngx_http_fw_fhir_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_fw_fhir_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_fhir_module_ctx,          /* module context */
    ngx_http_fw_fhir_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_fw_fhir_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};




/*
 * This worker's parsed scope strings: a token's scopes are parsed once,
 * not on each of its requests (NGX_HTTP_FW_FHIR_SCOPE_SLOTS sets, about
 * 7 KB each, allocated on first use; without them every request parses).
 */

#define NGX_HTTP_FW_FHIR_SCOPE_SLOTS  16

static fw_fhir_scope_cache_t  ngx_http_fw_fhir_scope_cache;
static ngx_uint_t             ngx_http_fw_fhir_scope_cache_state;


/* ------------------------------------------------------------ requests */

static ngx_int_t
ngx_http_fw_fhir_handler(ngx_http_request_t *r)
{
    ngx_str_t                     scopes, patient;
    ngx_int_t                     rc;
    ngx_uint_t                    nobody;
    ngx_http_fw_fhir_ctx_t       *ctx;
    ngx_http_fw_fhir_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_fhir_module);

    if (flcf->version == 0) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_fw_fhir_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->decided) {
        return ctx->v.status ? ngx_http_fw_fhir_deny(r, ctx) : NGX_DECLINED;
    }

    if (ctx->v.status) {
        return ngx_http_fw_fhir_deny(r, ctx);
    }

    if (ctx->override) {
        /* only "strip" gets here: "reject" made it a verdict */
        if (ngx_http_fw_fhir_strip_overrides(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->override = 0;
    }

    if (flcf->strict && r == r->main
        && ngx_http_fw_fhir_force_strict(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_fw_fhir_credentials(r, ctx, &scopes, &patient) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->req.interaction == FW_FHIR_I_BATCH || ctx->req.search_post) {

        if (r != r->main) {
            /*
             * the body is the main request's (or, auth_request, an empty
             * stand-in), read or not, and its Content-Length and
             * Content-Type are the main request's headers: what the
             * subrequest would carry cannot be checked, so it is refused
             */
            fw_fhir_deny(&ctx->v, 403, "forbidden", "subrequest-body",
                         "a batch, transaction or POST _search is not "
                         "checked in a subrequest: its body belongs to the "
                         "main request");
            return ngx_http_fw_fhir_deny(r, ctx);
        }

        if (!ctx->body_done) {
            nobody = 0;
            rc = ngx_http_fw_fhir_start_body(r, ctx, flcf, &scopes, &patient,
                                             &nobody);
            if (!nobody) {
                return rc;
            }

            goto checked;
        }

        rc = ngx_http_fw_fhir_body(r, ctx);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            return ngx_http_fw_fhir_deny(r, ctx);
        }
    }

checked:

    if (flcf->scopes
        && ctx->req.interaction != FW_FHIR_I_BATCH
        && ctx->req.interaction != FW_FHIR_I_TRANSACTION
        && ngx_http_fw_fhir_authorize(r, ctx, &scopes, &patient) != NGX_OK)
    {
        return ngx_http_fw_fhir_deny(r, ctx);
    }

    ctx->decided = 1;
    ngx_http_fw_fhir_count(r, ctx, NGX_HTTP_FW_FHIR_M_ALLOWED);

    return NGX_DECLINED;
}


/*
 * A main request's verdict, once (when it is made): by interaction, not
 * when it was refused before its interaction was known
 */

static void
ngx_http_fw_fhir_count(ngx_http_request_t *r, ngx_http_fw_fhir_ctx_t *ctx,
    ngx_uint_t outcome)
{
    fw_metrics_block_t            *b;
    ngx_http_fw_fhir_main_conf_t  *fmcf;

    if (r != r->main || ctx->req.interaction <= FW_FHIR_I_NONE
        || ctx->req.interaction >= FW_FHIR_I_COUNT)
    {
        return;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_fhir_module);
    b = ngx_http_fw_metrics_block(fmcf->metrics);

    fw_metrics_add(b, NGX_HTTP_FW_FHIR_M_INTERACTIONS,
                   fw_metrics_series(b, NGX_HTTP_FW_FHIR_M_INTERACTIONS,
                                     ctx->req.interaction - 1, outcome),
                   1);
}


/*
 * a batch, transaction or POST _search: the checks before its body, then
 * reading it; *nobody: there is none, the parameters are in the URL
 */

static ngx_int_t
ngx_http_fw_fhir_start_body(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx, ngx_http_fw_fhir_loc_conf_t *flcf,
    ngx_str_t *scopes, ngx_str_t *patient, ngx_uint_t *nobody)
{
    ngx_int_t  rc;

    if (flcf->scopes && ctx->req.interaction == FW_FHIR_I_BATCH
        && ngx_http_fw_fhir_authorize(r, ctx, scopes, patient)
           != NGX_OK)
    {
        /* no scopes at all: 401 before reading the body */
        return ngx_http_fw_fhir_deny(r, ctx);
    }

    if (r->headers_in.content_length_n > (off_t) flcf->body_max) {
        fw_fhir_deny(&ctx->v, 413, "too-long", "body-too-large",
                     "request body is larger than %zu bytes",
                     flcf->body_max);
        return ngx_http_fw_fhir_deny(r, ctx);
    }

    if (r->headers_in.content_length_n <= 0
        && r->headers_in.chunked == 0)
    {
        /* no body: a _search with its parameters in the URL */
        ctx->body_done = 1;
        *nobody = 1;
        return NGX_OK;
    }

    if ((ctx->req.search_post
         && ngx_http_fw_fhir_media_type(r,
                "application/x-www-form-urlencoded", NULL)
            != NGX_OK)
        || (!ctx->req.search_post
            && ngx_http_fw_fhir_media_type(r,
                   "application/fhir+json", "application/json")
               != NGX_OK))
    {
        fw_fhir_deny(&ctx->v, 415, "not-supported",
                     "unsupported-media-type",
                     "%s needs a %s body",
                     ctx->req.search_post ? "_search"
                                          : "batch or transaction",
                     ctx->req.search_post
                     ? "application/x-www-form-urlencoded"
                     : "application/fhir+json");
        return ngx_http_fw_fhir_deny(r, ctx);
    }

    rc = ngx_http_read_client_request_body(r,
                                     ngx_http_fw_fhir_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /* the body handler runs the phases again, now or later */
    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;
}


/*
 * Every request is checked in the precontent phase: the first phase after
 * the access phase, once the location is final (after the rewrite and
 * find-config phases), before try_files, mirror (precontent handlers of
 * modules listed before ours, so run after ours) and the content handler.
 *
 * After the access phase, so that the verdict never depends on the order
 * of load_module lines: nginx runs the handlers of one phase last
 * registered first, and the authentication modules (the JWT module, the
 * webhook module, auth_request, auth_basic) answer in the access phase;
 * here they have always decided, and their variables (the scopes, the
 * patient, the JWT status) are final.  Subrequests (SSI include,
 * auth_request, mirror, add_before_body, ...), for which nginx skips the
 * whole access phase, get the same decision here.  The rewrite phase
 * would be too early: rewrite directives and other modules' rewrite
 * handlers (the JWT module checks subrequests there) may run after ours.
 *
 * A subrequest's context is its own (it starts with none), so is its
 * verdict; an internal redirect clears it and is checked again here in its
 * new location.  A subrequest made with NGX_HTTP_SUBREQUEST_CLONE (the
 * cache's background update) starts at its parent's phase, the content
 * phase, in its parent's location: it is the parent request, already
 * checked.
 *
 * NGX_DECLINED passes on to try_files, mirror and the content handler;
 * never NGX_OK, which would skip the other precontent handlers.
 */

static ngx_int_t
ngx_http_fw_fhir_precontent_handler(ngx_http_request_t *r)
{
    return ngx_http_fw_fhir_handler(r);
}


static void
ngx_http_fw_fhir_body_handler(ngx_http_request_t *r)
{
    ngx_http_fw_fhir_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_fhir_module);

    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->body_done = 1;

#if (nginx_version >= 1021001)
    r->preserve_body = 1;
#endif

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/* NGX_OK, NGX_DECLINED (a verdict in ctx) or NGX_ERROR */

static ngx_int_t
ngx_http_fw_fhir_body(ngx_http_request_t *r, ngx_http_fw_fhir_ctx_t *ctx)
{
    int                           interaction;
    size_t                        n;
    u_char                       *scratch;
    ngx_str_t                     body, scopes, patient;
    fw_fhir_param_t              *params;
    ngx_http_fw_fhir_loc_conf_t  *flcf;

    flcf = ctx->conf;

    if (ngx_http_fw_fhir_read_body(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (body.len > flcf->body_max) {
        fw_fhir_deny(&ctx->v, 413, "too-long", "body-too-large",
                     "request body is larger than %zu bytes",
                     flcf->body_max);
        return NGX_DECLINED;
    }

    if (ctx->req.interaction == FW_FHIR_I_BATCH) {
        if (ngx_http_fw_fhir_credentials(r, ctx, &scopes, &patient)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        interaction = FW_FHIR_I_BATCH;

        if (fw_fhir_check_bundle(&flcf->policy, body.data, body.len,
                                 flcf->scopes != NULL, scopes.data,
                                 scopes.len, patient.data, patient.len,
                                 &interaction, &ctx->v)
            != FW_FHIR_OK)
        {
            if (ctx->v.status == 500) {
                return NGX_ERROR;
            }

            if (interaction != FW_FHIR_I_BATCH) {
                ctx->req.interaction = interaction;
            }

            return NGX_DECLINED;
        }

        ctx->req.interaction = interaction;

        return NGX_OK;
    }

    /* POST _search: the parameters are in the URL and in the body */

    params = ngx_palloc(r->pool,
                        FW_FHIR_MAX_PARAMS * sizeof(fw_fhir_param_t));
    scratch = ngx_pnalloc(r->pool, body.len + 1);

    if (params == NULL || scratch == NULL) {
        return NGX_ERROR;
    }

    n = ctx->nparams;
    ngx_memcpy(params, ctx->params, n * sizeof(fw_fhir_param_t));

    if (fw_fhir_parse_query(body.data, body.len, 1, scratch, params,
                            FW_FHIR_MAX_PARAMS, &n, &ctx->v)
        != FW_FHIR_OK
        || fw_fhir_check_policy(&flcf->policy, &ctx->req, params, n, &ctx->v)
           != FW_FHIR_OK)
    {
        return NGX_DECLINED;
    }

    ctx->params = params;
    ctx->nparams = n;
    ctx->max_params = FW_FHIR_MAX_PARAMS;

    fw_fhir_find_patient(&ctx->req, params, n);

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_fhir_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    size_t        len;
    ssize_t       n;
    u_char       *p;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos)
                                    : (size_t) (b->file_last - b->file_pos);
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (b->in_file && b->file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;
        }
    }

    body->len = p - body->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_fhir_authorize(ngx_http_request_t *r, ngx_http_fw_fhir_ctx_t *ctx,
    ngx_str_t *scopes, ngx_str_t *patient)
{
    int                         rc;
    fw_fhir_scope_set_t        *slots;
    const fw_fhir_scope_set_t  *set;

    if (ngx_http_fw_fhir_scope_cache_state == 0) {
        /* once per process: 1 with the cache, 2 without (no memory) */
        ngx_http_fw_fhir_scope_cache_state = 2;

        slots = ngx_alloc(NGX_HTTP_FW_FHIR_SCOPE_SLOTS
                          * sizeof(fw_fhir_scope_set_t), r->connection->log);

        if (slots) {
            fw_fhir_scope_cache_init(&ngx_http_fw_fhir_scope_cache, slots,
                                     NGX_HTTP_FW_FHIR_SCOPE_SLOTS);
            ngx_http_fw_fhir_scope_cache_state = 1;
        }
    }

    set = NULL;

    if (ngx_http_fw_fhir_scope_cache_state == 1 && scopes->len) {
        set = fw_fhir_scope_cache_get(&ngx_http_fw_fhir_scope_cache,
                                      scopes->data, scopes->len);
    }

    if (set) {
        rc = fw_fhir_authorize_set(&ctx->conf->policy, &ctx->req,
                                   ctx->params, ctx->nparams, set,
                                   patient->data, patient->len, &ctx->v);

    } else {
        rc = fw_fhir_authorize(&ctx->conf->policy, &ctx->req, ctx->params,
                               ctx->nparams, scopes->data, scopes->len,
                               patient->data, patient->len, &ctx->v);
    }

    if (rc != FW_FHIR_OK) {
        ngx_http_fw_fhir_auth_verdict(ctx);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the scope cache of this process, made by its first request */

static void
ngx_http_fw_fhir_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_fw_fhir_scope_cache_state == 1) {
        ngx_free(ngx_http_fw_fhir_scope_cache.slots);
        ngx_memzero(&ngx_http_fw_fhir_scope_cache,
                    sizeof(fw_fhir_scope_cache_t));
    }

    ngx_http_fw_fhir_scope_cache_state = 0;
}


static ngx_int_t
ngx_http_fw_fhir_deny(ngx_http_request_t *r, ngx_http_fw_fhir_ctx_t *ctx)
{
    u_char      *p;
    size_t       len;
    ngx_str_t    value, diag;
    ngx_uint_t   status;

    if (!ctx->decided) {
        ctx->decided = 1;
        ngx_http_fw_fhir_count(r, ctx, NGX_HTTP_FW_FHIR_M_REFUSED);
    }

    ngx_http_fw_mark_denied(r, "fhir", ctx->v.reason);

    if (ctx->v.status == 401
        || (ctx->v.status == 403 && ctx->v.needed[0] == '\0'
            && ctx->auth == NGX_HTTP_FW_FHIR_AUTH_VALID))
    {
        if (ngx_http_fw_fhir_auth_header(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ctx->v.status == 403 && ctx->v.needed[0]) {
        /* v.needed is made of a fixed type name and letters only */
        len = sizeof("Bearer error=\"insufficient_scope\", scope=\"\"") - 1
              + ngx_strlen(ctx->v.needed);

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        value.data = p;
        value.len = ngx_sprintf(p, "Bearer error=\"insufficient_scope\", "
                                "scope=\"%s\"", ctx->v.needed) - p;

        if (ngx_http_fw_set_www_authenticate(r, &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (r == r->main) {
        /* no PHI: the reason and the interaction, never ids or parameters */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fhirwall fhir: %ui %s (%s)",
                      (ngx_uint_t) ctx->v.status, ctx->v.reason,
                      fw_fhir_interaction_names[ctx->req.interaction]);

        return ngx_http_fw_send_error(r, ctx->v.status, FW_FORMAT_FHIR,
                                      ctx->v.code, ctx->v.diag);
    }

    /*
     * A subrequest answers itself, with the same OperationOutcome: SSI and
     * add_before_body include it in the parent's response.  Its status is
     * 401 or 403 (400, 404, 405, 413, 415 become 403): auth_request denies
     * the main request with a subrequest's 401 (and its WWW-Authenticate)
     * or 403, and answers 500 to any other error status.
     */

    status = ctx->v.status;

    if (status >= NGX_HTTP_BAD_REQUEST
        && status < NGX_HTTP_INTERNAL_SERVER_ERROR
        && status != NGX_HTTP_UNAUTHORIZED)
    {
        status = NGX_HTTP_FORBIDDEN;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "fhirwall fhir: %ui %s (%s) in a subrequest, answered %ui",
                  (ngx_uint_t) ctx->v.status, ctx->v.reason,
                  fw_fhir_interaction_names[ctx->req.interaction], status);

    diag.data = (u_char *) ctx->v.diag;
    diag.len = ngx_strlen(ctx->v.diag);

    return ngx_http_fw_send_error_body(r, status, FW_FORMAT_FHIR, ctx->v.code,
                                       &diag);
}


/*
 * The scopes and the patient in context, and what the authentication
 * (fw_fhir_auth_status, by default $fw_jwt_status when they come from the
 * JWT module) says of them: unless it says "valid" they count as none.
 * Read by name, so any module (or an auth_request variable) can give the
 * verdict and the FHIR module links to none of them.
 */

static ngx_int_t
ngx_http_fw_fhir_credentials(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx, ngx_str_t *scopes, ngx_str_t *patient)
{
    ngx_str_t                     status;
    ngx_http_fw_fhir_loc_conf_t  *flcf;

    flcf = ctx->conf;

    scopes->len = 0;
    scopes->data = NULL;
    patient->len = 0;
    patient->data = NULL;

    if (flcf->scopes == NULL) {
        return NGX_OK;
    }

    if (flcf->gate) {
        if (ngx_http_fw_fhir_get_value(r, flcf->gate, &status) != NGX_OK) {
            return NGX_ERROR;
        }

        if (status.len == 5 && ngx_strncmp(status.data, "valid", 5) == 0) {
            ctx->auth = NGX_HTTP_FW_FHIR_AUTH_VALID;

        } else if (status.len == 0
                   || (status.len == 7
                       && ngx_strncmp(status.data, "missing", 7) == 0)
                   || (status.len == 3
                       && ngx_strncmp(status.data, "off", 3) == 0))
        {
            ctx->auth = NGX_HTTP_FW_FHIR_AUTH_MISSING;
            return NGX_OK;

        } else {
            ctx->auth = NGX_HTTP_FW_FHIR_AUTH_INVALID;
            return NGX_OK;
        }
    }

    if (ngx_http_fw_fhir_get_value(r, flcf->scopes, scopes) != NGX_OK) {
        return NGX_ERROR;
    }

    if (scopes->len > NGX_HTTP_FW_FHIR_SCOPES_MAX) {
        scopes->len = 0;
    }

    if (flcf->patient
        && ngx_http_fw_fhir_get_value(r, flcf->patient, patient) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a valid token that grants no scope at all is authenticated: 403 */

static void
ngx_http_fw_fhir_auth_verdict(ngx_http_fw_fhir_ctx_t *ctx)
{
    if (ctx->auth == NGX_HTTP_FW_FHIR_AUTH_VALID && ctx->v.status == 401) {
        ctx->v.needed[0] = '\0';
        fw_fhir_deny(&ctx->v, 403, "forbidden", "insufficient-scope",
                     "the access token grants no scopes");
    }
}


/* RFC 6750 3.1: a token that failed is "invalid_token" */

static ngx_int_t
ngx_http_fw_fhir_auth_header(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx)
{
    ngx_str_t  value;

    if (ctx->v.status == 403) {
        ngx_str_set(&value, "Bearer error=\"insufficient_scope\"");

    } else if (ctx->auth == NGX_HTTP_FW_FHIR_AUTH_INVALID) {
        ngx_str_set(&value, "Bearer realm=\"fhir\", error=\"invalid_token\", "
                    "error_description=\"invalid token\"");

    } else {
        ngx_str_set(&value, "Bearer realm=\"fhir\"");
    }

    return ngx_http_fw_set_www_authenticate(r, &value);
}


/*
 * A value that is one variable is read directly: no script, no copy (the
 * same value ngx_http_complex_value() would give).
 */

static ngx_int_t
ngx_http_fw_fhir_get_value(ngx_http_request_t *r,
    ngx_http_fw_fhir_value_t *fv, ngx_str_t *value)
{
    ngx_http_variable_value_t  *vv;

    if (fv->index < 0) {
        return ngx_http_complex_value(r, &fv->cv, value);
    }

    vv = ngx_http_get_flushed_variable(r, fv->index);

    if (vv == NULL) {
        return NGX_ERROR;
    }

    if (vv->not_found) {
        value->len = 0;
        value->data = (u_char *) "";
        return NGX_OK;
    }

    value->len = vv->len;
    value->data = vv->data;

    return NGX_OK;
}


ngx_http_fw_fhir_ctx_t *
ngx_http_fw_fhir_get_ctx(ngx_http_request_t *r)
{
    ngx_http_fw_fhir_ctx_t       *ctx;
    ngx_http_fw_fhir_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_fhir_module);

    if (flcf->version == 0) {
        return NULL;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_fhir_module);

    /* one parse per request and location (variables evaluated before the
       location was chosen saw another configuration) */
    if (ctx && ctx->conf == flcf) {
        return ctx;
    }

    /* not ngx_pcalloc(): the verdict's text buffers need no zeroing */
    ctx = ngx_palloc(r->pool, sizeof(ngx_http_fw_fhir_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ngx_memzero(&ctx->req, sizeof(fw_fhir_req_t));
    ctx->req.type = FW_FHIR_NONE;
    ctx->req.compartment = FW_FHIR_NONE;
    ctx->req.target = FW_FHIR_NONE;
    ctx->conf = flcf;
    ctx->params = NULL;
    ctx->nparams = 0;
    ctx->max_params = 0;
    ngx_str_null(&ctx->compartment);
    ctx->parsed = 0;
    ctx->decided = 0;
    ctx->body_done = 0;
    ctx->override = 0;
    ctx->if_none_exist = 0;
    ctx->lenient = 0;
    ctx->auth = NGX_HTTP_FW_FHIR_AUTH_NONE;
    fw_fhir_verdict_init(&ctx->v);

    ngx_http_set_ctx(r, ctx, ngx_http_fw_fhir_module);

    ngx_http_fw_fhir_parse(r, ctx);

    return ctx;
}


static void *
ngx_http_fw_fhir_create_main_conf(ngx_conf_t *cf)
{
    /* ngx_pcalloc: used 0, metrics NULL */
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_fhir_main_conf_t));
}


static ngx_int_t
ngx_http_fw_fhir_init(ngx_conf_t *cf)
{
    ngx_http_fw_fhir_main_conf_t  *fmcf;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_fhir_module);

    if (fmcf->used) {
        fmcf->metrics = ngx_http_fw_fhir_metrics_zone(cf);

        if (fmcf->metrics == NGX_HTTP_FW_METRICS_ERROR) {
            return NGX_ERROR;
        }
    }

    /*
     * see ngx_http_fw_fhir_precontent_handler(); before the minimise
     * module's handler ("Phase order" in docs/DEVELOPING.md)
     */
    if (ngx_http_fw_add_phase_handler(cf, NGX_HTTP_PRECONTENT_PHASE,
                                      ngx_http_fw_fhir_precontent_handler,
                                      NGX_HTTP_FW_RANK_FHIR)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
