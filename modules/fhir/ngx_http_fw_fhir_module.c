/*
 * fhirwall FHIR module: FHIR REST path validation, interactions, SMART on
 * FHIR scopes and patient compartments.  Thin nginx glue over fw_fhir*.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "fw_fhir.h"


#define NGX_HTTP_FW_FHIR_OVERRIDE_REJECT  0
#define NGX_HTTP_FW_FHIR_OVERRIDE_STRIP   1

#define NGX_HTTP_FW_FHIR_SCOPES_MAX  65536

/* what fw_fhir_auth_status said about the credentials */
#define NGX_HTTP_FW_FHIR_AUTH_NONE     0   /* not asked (no gate) */
#define NGX_HTTP_FW_FHIR_AUTH_MISSING  1   /* no token */
#define NGX_HTTP_FW_FHIR_AUTH_INVALID  2   /* a token that failed */
#define NGX_HTTP_FW_FHIR_AUTH_VALID    3


/* a directive's value: a complex value, or one variable read directly */
typedef struct {
    ngx_http_complex_value_t    cv;
    ngx_int_t                   index;         /* one variable, or -1 */
} ngx_http_fw_fhir_value_t;


typedef struct {
    ngx_uint_t                  version;       /* FW_FHIR_R*, 0: off */
    ngx_str_t                   base;          /* data NULL: unset */
    ngx_http_fw_fhir_value_t   *scopes;        /* NULL: off */
    ngx_http_fw_fhir_value_t   *patient;
    ngx_http_fw_fhir_value_t   *auth;          /* fw_fhir_auth_status */
    ngx_http_fw_fhir_value_t   *gate;          /* in force; NULL: none */
    ngx_array_t                *allow_types;   /* ngx_str_t */
    ngx_array_t                *deny_types;
    ngx_array_t                *allow_interactions;
    ngx_array_t                *deny_interactions;
    ngx_array_t                *allow_ops;     /* fw_fhir_str_t */
    ngx_array_t                *deny_ops;
    ngx_array_t                *op_perms;      /* fw_fhir_opperm_t */
    ngx_array_t                *formats;       /* fw_fhir_str_t */
    ngx_uint_t                  deny_status;
    ngx_uint_t                  override;
    ngx_uint_t                  unverifiable;
    ngx_flag_t                  strict;
    size_t                      body_max;
    ngx_uint_t                  max_entries;

    fw_fhir_policy_t            policy;
    u_char                      type_allow[FW_FHIR_TYPE_BITMAP];
    u_char                      type_deny[FW_FHIR_TYPE_BITMAP];
} ngx_http_fw_fhir_loc_conf_t;


typedef struct {
    ngx_http_fw_fhir_loc_conf_t  *conf;
    fw_fhir_req_t                 req;
    fw_fhir_verdict_t             v;
    fw_fhir_param_t              *params;
    size_t                        nparams;
    size_t                        max_params;
    ngx_str_t                     compartment;
    unsigned                      parsed:1;
    unsigned                      decided:1;
    unsigned                      body_done:1;
    unsigned                      override:1;
    unsigned                      if_none_exist:1;
    unsigned                      lenient:1;
    unsigned                      auth:2;
} ngx_http_fw_fhir_ctx_t;


static ngx_int_t ngx_http_fw_fhir_handler(ngx_http_request_t *r);
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
static char *ngx_http_fw_fhir_auth_default(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf);
static ngx_int_t ngx_http_fw_fhir_get_value(ngx_http_request_t *r,
    ngx_http_fw_fhir_value_t *fv, ngx_str_t *value);
static ngx_http_fw_fhir_ctx_t *ngx_http_fw_fhir_get_ctx(
    ngx_http_request_t *r);
static void ngx_http_fw_fhir_parse(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx);
static void ngx_http_fw_fhir_scan_headers(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx);
static ngx_int_t ngx_http_fw_fhir_strip_overrides(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_fhir_strip_sr_overrides(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_fhir_force_strict(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_fhir_media_type(ngx_http_request_t *r,
    const char *t1, const char *t2);
static int ngx_http_fw_fhir_method(ngx_http_request_t *r);

static ngx_int_t ngx_http_fw_fhir_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

static ngx_int_t ngx_http_fw_fhir_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_fhir_init(ngx_conf_t *cf);
static void ngx_http_fw_fhir_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_fw_fhir_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_fw_fhir_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_fw_fhir_build_policy(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf);
static char *ngx_http_fw_fhir_types_map(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf, ngx_array_t *names, u_char *map,
    const char *directive);
static char *ngx_http_fw_fhir(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_fhir_base(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_fhir_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_fhir_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_fhir_ops(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_fhir_op_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_fhir_formats(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_fhir_deny_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


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

    NULL,                                  /* create main configuration */
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


#define NGX_HTTP_FW_FHIR_V_INTERACTION  0
#define NGX_HTTP_FW_FHIR_V_TYPE         1
#define NGX_HTTP_FW_FHIR_V_ID           2
#define NGX_HTTP_FW_FHIR_V_VID          3
#define NGX_HTTP_FW_FHIR_V_OPERATION    4
#define NGX_HTTP_FW_FHIR_V_COMPARTMENT  5
#define NGX_HTTP_FW_FHIR_V_PATIENT      6
#define NGX_HTTP_FW_FHIR_V_STATUS       7


static ngx_http_variable_t  ngx_http_fw_fhir_vars[] = {

    { ngx_string("fw_fhir_interaction"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_INTERACTION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_type"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_TYPE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_id"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_vid"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_VID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_operation"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_OPERATION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_compartment"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_COMPARTMENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_patient"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_PATIENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_status"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


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




/*
 * This worker's parsed scope strings: a token's scopes are parsed once,
 * not on each of its requests (NGX_HTTP_FW_FHIR_SCOPE_SLOTS sets, about
 * 7 KB each, allocated on first use; without them every request parses).
 */

#define NGX_HTTP_FW_FHIR_SCOPE_SLOTS  16

static fw_fhir_scope_cache_t  ngx_http_fw_fhir_scope_cache;
static ngx_uint_t             ngx_http_fw_fhir_scope_cache_state;


static const char  *ngx_http_fw_fhir_default_formats[] = {
    "json", "xml", "application/json", "application/xml", "text/xml",
    "application/fhir+json", "application/fhir+xml", NULL
};


/* ------------------------------------------------------------ requests */

static ngx_int_t
ngx_http_fw_fhir_handler(ngx_http_request_t *r)
{
    ngx_str_t                     scopes, patient;
    ngx_int_t                     rc;
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

            if (flcf->scopes && ctx->req.interaction == FW_FHIR_I_BATCH
                && ngx_http_fw_fhir_authorize(r, ctx, &scopes, &patient)
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
                goto checked;
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

    return NGX_DECLINED;
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

    ctx->decided = 1;

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


static ngx_http_fw_fhir_ctx_t *
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


static void
ngx_http_fw_fhir_parse(ngx_http_request_t *r, ngx_http_fw_fhir_ctx_t *ctx)
{
    size_t                        raw_len, dlen, n;
    u_char                       *raw, *d, *q, *p, *scratch;
    fw_fhir_str_t                 path, query;
    fw_fhir_param_t               params[FW_FHIR_MAX_PARAMS];
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

static ngx_int_t
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

static ngx_int_t
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


static ngx_int_t
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


static ngx_int_t
ngx_http_fw_fhir_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    const char              *s;
    fw_fhir_str_t            str;
    ngx_http_fw_fhir_ctx_t  *ctx;

    ctx = ngx_http_fw_fhir_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    str.data = NULL;
    str.len = 0;

    switch (data) {

    case NGX_HTTP_FW_FHIR_V_INTERACTION:
        if (ctx->req.interaction != FW_FHIR_I_NONE) {
            s = fw_fhir_interaction_names[ctx->req.interaction];
            str.data = (const u_char *) s;
            str.len = ngx_strlen(s);
        }
        break;

    case NGX_HTTP_FW_FHIR_V_TYPE:
        if (ctx->req.type >= 0) {
            str.data = (const u_char *) fw_fhir_types[ctx->req.type].name;
            str.len = fw_fhir_types[ctx->req.type].len;
        }
        break;

    case NGX_HTTP_FW_FHIR_V_ID:
        if (ctx->req.compartment < 0) {
            str = ctx->req.id;
        }
        break;

    case NGX_HTTP_FW_FHIR_V_VID:
        str = ctx->req.vid;
        break;

    case NGX_HTTP_FW_FHIR_V_OPERATION:
        str = ctx->req.op;
        break;

    case NGX_HTTP_FW_FHIR_V_COMPARTMENT:
        str.data = ctx->compartment.data;
        str.len = ctx->compartment.len;
        break;

    case NGX_HTTP_FW_FHIR_V_PATIENT:
        str = ctx->req.patient;
        break;

    default: /* NGX_HTTP_FW_FHIR_V_STATUS */
        s = ctx->v.status ? ctx->v.reason
            : ctx->decided ? FW_VOCAB_FHIR_OK : FW_VOCAB_FHIR_PARSED;
        str.data = (const u_char *) s;
        str.len = ngx_strlen(s);
        break;
    }

    if (str.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) str.data;
    v->len = str.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* -------------------------------------------------------- configuration */

static ngx_int_t
ngx_http_fw_fhir_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_fw_fhir_vars; v->name.len; v++) {
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
ngx_http_fw_fhir_init(ngx_conf_t *cf)
{
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


static void *
ngx_http_fw_fhir_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_fhir_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_fhir_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->base = { 0, NULL };
     *     conf->policy = { 0 };
     */

    conf->version = NGX_CONF_UNSET_UINT;
    conf->scopes = NGX_CONF_UNSET_PTR;
    conf->patient = NGX_CONF_UNSET_PTR;
    conf->auth = NGX_CONF_UNSET_PTR;
    conf->allow_types = NGX_CONF_UNSET_PTR;
    conf->deny_types = NGX_CONF_UNSET_PTR;
    conf->allow_interactions = NGX_CONF_UNSET_PTR;
    conf->deny_interactions = NGX_CONF_UNSET_PTR;
    conf->allow_ops = NGX_CONF_UNSET_PTR;
    conf->deny_ops = NGX_CONF_UNSET_PTR;
    conf->op_perms = NGX_CONF_UNSET_PTR;
    conf->formats = NGX_CONF_UNSET_PTR;
    conf->deny_status = NGX_CONF_UNSET_UINT;
    conf->override = NGX_CONF_UNSET_UINT;
    conf->unverifiable = NGX_CONF_UNSET_UINT;
    conf->strict = NGX_CONF_UNSET;
    conf->body_max = NGX_CONF_UNSET_SIZE;
    conf->max_entries = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_fw_fhir_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_fw_fhir_loc_conf_t *prev = parent;
    ngx_http_fw_fhir_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_uint_value(conf->version, prev->version, 0);

    if (conf->base.data == NULL) {
        conf->base = prev->base;
    }

    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NGX_CONF_UNSET_PTR);
    ngx_conf_merge_ptr_value(conf->patient, prev->patient, NULL);
    ngx_conf_merge_ptr_value(conf->auth, prev->auth, NGX_CONF_UNSET_PTR);
    ngx_conf_merge_ptr_value(conf->allow_types, prev->allow_types, NULL);
    ngx_conf_merge_ptr_value(conf->deny_types, prev->deny_types, NULL);
    ngx_conf_merge_ptr_value(conf->allow_interactions,
                             prev->allow_interactions, NULL);
    ngx_conf_merge_ptr_value(conf->deny_interactions,
                             prev->deny_interactions, NULL);
    ngx_conf_merge_ptr_value(conf->allow_ops, prev->allow_ops, NULL);
    ngx_conf_merge_ptr_value(conf->deny_ops, prev->deny_ops, NULL);
    ngx_conf_merge_ptr_value(conf->op_perms, prev->op_perms, NULL);
    ngx_conf_merge_ptr_value(conf->formats, prev->formats, NULL);
    ngx_conf_merge_uint_value(conf->deny_status, prev->deny_status, 405);
    ngx_conf_merge_uint_value(conf->override, prev->override,
                              NGX_HTTP_FW_FHIR_OVERRIDE_REJECT);
    ngx_conf_merge_uint_value(conf->unverifiable, prev->unverifiable, 0);
    ngx_conf_merge_value(conf->strict, prev->strict, 0);
    ngx_conf_merge_size_value(conf->body_max, prev->body_max, 1024 * 1024);
    ngx_conf_merge_uint_value(conf->max_entries, prev->max_entries, 1000);

    if (conf->version == 0) {
        return NGX_CONF_OK;
    }

    /* fail closed: anything that could let requests through unchecked */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->scopes == NGX_CONF_UNSET_PTR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir\" needs \"fw_fhir_scopes\": a variable "
                           "with the granted scopes, or \"off\" for path "
                           "validation only");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_fhir_auth_default(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (clcf->satisfy == NGX_HTTP_SATISFY_ANY) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir\" cannot be used with \"satisfy any\": "
                           "another access module could skip its checks");
        return NGX_CONF_ERROR;
    }

    if (conf->base.data == NULL) {

        if (clcf->named
#if (NGX_PCRE)
            || clcf->regex
#endif
           )
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_fhir\" in a regex or named location "
                               "needs \"fw_fhir_base\"");
            return NGX_CONF_ERROR;
        }

        conf->base = clcf->name;

        while (conf->base.len && conf->base.data[conf->base.len - 1] == '/') {
            conf->base.len--;
        }

        if (conf->base.len == 0) {
            conf->base.data = (u_char *) "";
        }
    }

    return ngx_http_fw_fhir_build_policy(cf, conf);
}


static char *
ngx_http_fw_fhir_build_policy(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf)
{
    ngx_str_t         *name;
    ngx_uint_t         i;
    unsigned long      mask, m;
    fw_fhir_str_t     *f;
    fw_fhir_policy_t  *pol;

    pol = &conf->policy;

    pol->version = (unsigned) conf->version;
    pol->deny_status = (unsigned) conf->deny_status;
    pol->unverifiable = (unsigned) conf->unverifiable;
    pol->max_entries = conf->max_entries;

    if (conf->allow_types) {
        if (ngx_http_fw_fhir_types_map(cf, conf, conf->allow_types,
                                       conf->type_allow,
                                       "fw_fhir_allow_types")
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        pol->type_allow = conf->type_allow;
    }

    if (conf->deny_types) {
        if (ngx_http_fw_fhir_types_map(cf, conf, conf->deny_types,
                                       conf->type_deny, "fw_fhir_deny_types")
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        pol->type_deny = conf->type_deny;
    }

    /* interactions: every one unless an allowlist says otherwise */

    mask = 0;

    for (i = 1; i < FW_FHIR_I_COUNT; i++) {
        mask |= 1UL << i;
    }

    if (conf->allow_interactions) {
        mask = 0;
        name = conf->allow_interactions->elts;

        for (i = 0; i < conf->allow_interactions->nelts; i++) {
            m = fw_fhir_interaction_mask(name[i].data, name[i].len);

            if (m == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_fhir_allow_interactions\": unknown "
                                   "interaction \"%V\"", &name[i]);
                return NGX_CONF_ERROR;
            }

            mask |= m;
        }
    }

    if (conf->deny_interactions) {
        name = conf->deny_interactions->elts;

        for (i = 0; i < conf->deny_interactions->nelts; i++) {
            m = fw_fhir_interaction_mask(name[i].data, name[i].len);

            if (m == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_fhir_deny_interactions\": unknown "
                                   "interaction \"%V\"", &name[i]);
                return NGX_CONF_ERROR;
            }

            mask &= ~m;
        }
    }

    pol->interactions = mask;

    if (conf->allow_ops) {
        pol->op_allow = conf->allow_ops->elts;
        pol->n_op_allow = conf->allow_ops->nelts;
    }

    if (conf->deny_ops) {
        pol->op_deny = conf->deny_ops->elts;
        pol->n_op_deny = conf->deny_ops->nelts;
    }

    /* operations: denied unless "fw_fhir_operation_scope" says otherwise */

    pol->op_default = -1;

    if (conf->op_perms) {
        fw_fhir_opperm_t  *op = conf->op_perms->elts;

        pol->op_perms = op;
        pol->n_op_perms = conf->op_perms->nelts;

        for (i = 0; i < conf->op_perms->nelts; i++) {
            if (op[i].name.len == 1 && op[i].name.data[0] == '*') {
                pol->op_default = op[i].perms;
            }
        }
    }

    if (conf->formats == NULL) {
        conf->formats = ngx_array_create(cf->pool, 8, sizeof(fw_fhir_str_t));
        if (conf->formats == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; ngx_http_fw_fhir_default_formats[i]; i++) {
            f = ngx_array_push(conf->formats);
            if (f == NULL) {
                return NGX_CONF_ERROR;
            }

            f->data = (const u_char *) ngx_http_fw_fhir_default_formats[i];
            f->len = ngx_strlen(ngx_http_fw_fhir_default_formats[i]);
        }
    }

    pol->formats = conf->formats->elts;
    pol->n_formats = conf->formats->nelts;

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_fhir_types_map(ngx_conf_t *cf, ngx_http_fw_fhir_loc_conf_t *conf,
    ngx_array_t *names, u_char *map, const char *directive)
{
    int         t;
    ngx_str_t  *name;
    ngx_uint_t  i;

    ngx_memzero(map, FW_FHIR_TYPE_BITMAP);

    name = names->elts;

    for (i = 0; i < names->nelts; i++) {
        t = fw_fhir_type_lookup((unsigned) conf->version, name[i].data,
                                name[i].len);

        if (t < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\": \"%V\" is not a resource type of "
                               "FHIR %s", directive, &name[i],
                               conf->version == FW_FHIR_R4 ? "R4"
                               : conf->version == FW_FHIR_R4B ? "R4B"
                               : "R5");
            return NGX_CONF_ERROR;
        }

        map[t >> 3] |= (u_char) (1 << (t & 7));
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_fhir(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    ngx_str_t  *value;

    if (flcf->version != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        flcf->version = 0;
        return NGX_CONF_OK;
    }

    flcf->version = fw_fhir_version(value[1].data, value[1].len);

    if (flcf->version == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir\": unknown FHIR version \"%V\" "
                           "(R4, R4B, R5 or off)", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_fhir_base(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    size_t      dlen;
    u_char     *d;
    ngx_str_t  *value, base;

    if (flcf->base.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    base = value[1];

    while (base.len && base.data[base.len - 1] == '/') {
        base.len--;
    }

    d = ngx_pnalloc(cf->pool, base.len + 1);
    if (d == NULL) {
        return NGX_CONF_ERROR;
    }

    /* a plain path: no escapes, no dot or empty segments */

    if ((base.len && base.data[0] != '/')
        || ngx_strlchr(base.data, base.data + base.len, '%')
        || ngx_strlchr(base.data, base.data + base.len, '$')
        || fw_fhir_decode_path(base.data, base.len, d, &dlen) != FW_FHIR_OK)
    {
        goto invalid;
    }

    for (dlen = 0; dlen < base.len; dlen++) {
        if (base.data[dlen] == '/'
            && (dlen + 1 == base.len || base.data[dlen + 1] == '/'
                || (base.data[dlen + 1] == '.'
                    && (dlen + 2 == base.len || base.data[dlen + 2] == '/'
                        || base.data[dlen + 2] == '.'))))
        {
            goto invalid;
        }
    }

    flcf->base = base;

    if (base.len == 0) {
        flcf->base.data = (u_char *) "";
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"fw_fhir_base\": \"%V\" is not a plain path",
                       &value[1]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_fw_fhir_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char                             *d, *e;
    ngx_str_t                          *value, name;
    ngx_http_fw_fhir_value_t          **fv;
    ngx_http_compile_complex_value_t    ccv;

    fv = (ngx_http_fw_fhir_value_t **) (p + cmd->offset);

    if (*fv != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        *fv = NULL;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a variable (or \"off\"), not "
                           "\"%V\"", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    *fv = ngx_palloc(cf->pool, sizeof(ngx_http_fw_fhir_value_t));
    if (*fv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &(*fv)->cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* "$name" or "${name}" alone: the variable's index */

    (*fv)->index = -1;

    d = value[1].data + 1;
    e = value[1].data + value[1].len;

    if (d < e && *d == '{') {
        if (e[-1] != '}') {
            return NGX_CONF_OK;
        }

        d++;
        e--;
    }

    name.data = d;

    while (d < e && ((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z')
                     || (*d >= '0' && *d <= '9') || *d == '_'))
    {
        d++;
    }

    name.len = d - name.data;

    if (d == e && name.len) {
        (*fv)->index = ngx_http_get_variable_index(cf, &name);

        if ((*fv)->index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * The authentication verdict in force: fw_fhir_auth_status, or, when the
 * scopes or the patient come from the JWT module ($fw_jwt_*),
 * $fw_jwt_status.  The variable is only named here: without the JWT
 * module "$fw_jwt_scope" is an unknown variable and nginx -t fails.
 */

static char *
ngx_http_fw_fhir_auth_default(ngx_conf_t *cf,
    ngx_http_fw_fhir_loc_conf_t *conf)
{
    u_char                    *d, *e;
    ngx_uint_t                 i, jwt;
    ngx_http_fw_fhir_value_t  *fv[3];

    static ngx_str_t  status = ngx_string("fw_jwt_status");
    static char      *names[] = { "fw_fhir_scopes", "fw_fhir_patient",
                                  "fw_fhir_auth_status" };

    fv[0] = conf->scopes;
    fv[1] = conf->patient;
    fv[2] = conf->auth;
    jwt = 0;

    for (i = 0; i < 3; i++) {
        if (fv[i] == NULL || fv[i] == NGX_CONF_UNSET_PTR) {
            continue;
        }

        d = fv[i]->cv.value.data;
        e = d + fv[i]->cv.value.len;

        if (ngx_strlcasestrn(d, e, (u_char *) "fw_jwt_unverified_",
                             sizeof("fw_jwt_unverified_") - 2)
            != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" must not use \"%V\": the "
                               "$fw_jwt_unverified_* variables are for logs "
                               "(claims of a token that failed a check)",
                               names[i], &fv[i]->cv.value);
            return NGX_CONF_ERROR;
        }

        if (i < 2
            && (ngx_strlcasestrn(d, e, (u_char *) "$fw_jwt_",
                                 sizeof("$fw_jwt_") - 2)
                != NULL
                || ngx_strlcasestrn(d, e, (u_char *) "${fw_jwt_",
                                    sizeof("${fw_jwt_") - 2)
                   != NULL))
        {
            jwt = 1;
        }
    }

    if (conf->auth != NGX_CONF_UNSET_PTR) {
        conf->gate = conf->auth;
        return NGX_CONF_OK;
    }

    conf->gate = NULL;

    if (!jwt || conf->scopes == NULL) {
        return NGX_CONF_OK;
    }

    conf->gate = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_fhir_value_t));
    if (conf->gate == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->gate->cv.value = status;
    conf->gate->index = ngx_http_get_variable_index(cf, &status);

    if (conf->gate->index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* every argument, and the arguments of every repetition of a directive */

static char *
ngx_http_fw_fhir_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_fhir_ops(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t       *value;
    ngx_uint_t       i;
    ngx_array_t    **a;
    fw_fhir_str_t   *op;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts, sizeof(fw_fhir_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        op = ngx_array_push(*a);
        if (op == NULL) {
            return NGX_CONF_ERROR;
        }

        op->data = value[i].data;
        op->len = value[i].len;

        if (op->len && op->data[0] == '$') {
            op->data++;
            op->len--;
        }

        if (!fw_fhir_valid_op(op->data, op->len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is not an operation name",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_fhir_op_scope(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    int                c;
    ngx_str_t         *value;
    ngx_uint_t         i;
    fw_fhir_opperm_t  *op;

    value = cf->args->elts;

    if (flcf->op_perms == NGX_CONF_UNSET_PTR) {
        flcf->op_perms = ngx_array_create(cf->pool, 4,
                                          sizeof(fw_fhir_opperm_t));
        if (flcf->op_perms == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    op = ngx_array_push(flcf->op_perms);
    if (op == NULL) {
        return NGX_CONF_ERROR;
    }

    op->name.data = value[1].data;
    op->name.len = value[1].len;

    if (op->name.len > 1 && op->name.data[0] == '$') {
        op->name.data++;
        op->name.len--;
    }

    if (!(op->name.len == 1 && op->name.data[0] == '*')
        && !fw_fhir_valid_op(op->name.data, op->name.len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir_operation_scope\": \"%V\" is not an "
                           "operation name or \"*\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[2].data, "deny") == 0) {
        op->perms = -1;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[2].data, "public") == 0) {
        op->perms = 0;
        return NGX_CONF_OK;
    }

    op->perms = 0;

    for (i = 0; i < value[2].len; i++) {
        switch (value[2].data[i]) {
        case 'c': c = FW_FHIR_P_C; break;
        case 'r': c = FW_FHIR_P_R; break;
        case 'u': c = FW_FHIR_P_U; break;
        case 'd': c = FW_FHIR_P_D; break;
        case 's': c = FW_FHIR_P_S; break;
        default: c = 0; break;
        }

        if (c == 0 || (op->perms & c)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_fhir_operation_scope\": \"%V\" is not "
                               "deny, public or SMART permissions (cruds)",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        op->perms |= c;
    }

    if (op->perms == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir_operation_scope\": empty permissions");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_fhir_formats(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    ngx_str_t      *value;
    ngx_uint_t      i;
    fw_fhir_str_t  *f;

    if (flcf->formats != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    flcf->formats = ngx_array_create(cf->pool, cf->args->nelts,
                                     sizeof(fw_fhir_str_t));
    if (flcf->formats == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        f = ngx_array_push(flcf->formats);
        if (f == NULL) {
            return NGX_CONF_ERROR;
        }

        f->data = value[i].data;
        f->len = value[i].len;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_fhir_deny_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_fhir_loc_conf_t *flcf = conf;

    ngx_str_t  *value;

    if (flcf->deny_status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "403") == 0) {
        flcf->deny_status = 403;

    } else if (ngx_strcmp(value[1].data, "405") == 0) {
        flcf->deny_status = 405;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_fhir_deny_status\" must be 403 or 405, not "
                           "\"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
