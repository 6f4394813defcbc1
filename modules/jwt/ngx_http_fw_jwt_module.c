/*
 * fhirwall JWT: nginx glue.  Bearer tokens are checked by the plain-C core
 * (fw_jwt*.c); this file reads the configuration, finds the token, keeps
 * the result in the request ctx, answers 400/401/403 and exposes the
 * variables.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "fw_jwt.h"
#include "ngx_http_fw_jwt_dpop.h"
#include "ngx_http_fw_jwt_revoke.h"
#include "ngx_http_fw_jwt_introspect.h"


#define NGX_HTTP_FW_JWT_OFF           FW_JWT_NSTATUS
#define NGX_HTTP_FW_JWT_PHASE_ACCESS  0
#define NGX_HTTP_FW_JWT_PHASE_REWRITE 1
#define NGX_HTTP_FW_JWT_JWKS_MAX      (1024 * 1024)
#define NGX_HTTP_FW_JWT_KEY_MAX       (64 * 1024)
#define NGX_HTTP_FW_JWT_CACHE_TTL     300


typedef struct {
    ngx_uint_t                 cache_size;
    ngx_uint_t                 nremotes;
    ngx_shm_zone_t            *metrics;     /* fhirwall_metrics_jwt */
} ngx_http_fw_jwt_main_conf_t;


#include "ngx_http_fw_jwt_metrics.h"


/* a remote JWKS: in shared memory for all workers */
typedef struct {
    ngx_uint_t                 version;     /* 0: never fetched */
    time_t                     fetched;     /* last success */
    time_t                     attempted;   /* last fetch started */
    ngx_uint_t                 failures;    /* of this outage, 0: none */
    time_t                     failed;      /* its first failure */
    size_t                     len;
    u_char                    *data;        /* the JWKS text (slab) */
} ngx_http_fw_jwt_jwks_shm_t;


typedef struct {
    ngx_str_t                  uri;
    time_t                     refresh;
    time_t                     min_refresh;
    ngx_shm_zone_t            *zone;
    ngx_uint_t                 index;       /* of the worker state */
} ngx_http_fw_jwt_remote_t;


/* what a worker parsed from the shared copy */
typedef struct {
    ngx_uint_t                 version;
    fw_jwt_keyset_t            ks;
} ngx_http_fw_jwt_remote_state_t;


typedef struct {
    fw_jwt_require_t           rq;
    ngx_uint_t                 status;
} ngx_http_fw_jwt_require_t;


typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  path;
} ngx_http_fw_jwt_claim_header_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_str_t                  realm;
    ngx_http_complex_value_t  *token;
    size_t                     max_size;
    ngx_uint_t                 error_format;
    ngx_uint_t                 phase;

    fw_jwt_keyset_t           *keys;        /* keys of this level (owner) */
    ngx_int_t                  algs;        /* allowlist, -1 unset */
    fw_jwt_keyset_t           *ks;          /* keys + allowlist (merged) */
    ngx_http_fw_jwt_remote_t  *remote;

    time_t                     leeway;
    ngx_flag_t                 require_exp;
    time_t                     max_lifetime;
    ngx_uint_t                 typ;
    ngx_array_t               *issuers;     /* fw_jwt_str_t */
    ngx_array_t               *audiences;   /* fw_jwt_str_t */

    ngx_array_t               *requires;    /* ngx_http_fw_jwt_require_t */
    ngx_str_t                  roles_claim;
    ngx_array_t               *roles;       /* fw_jwt_role_t */
    ngx_array_t               *claim_headers;

    ngx_http_fw_jwt_dpop_conf_t  dpop;      /* DPoP, mTLS-bound tokens */
    ngx_http_fw_jwt_replay_t  *replay;
    ngx_http_fw_jwt_revoke_t  *revoke;
    ngx_http_fw_jwt_introspect_conf_t  introspect;  /* opaque tokens */
} ngx_http_fw_jwt_loc_conf_t;


typedef struct {
    void                      *conf;        /* what the result is for */
    ngx_int_t                  status;      /* FW_JWT_*, or _OFF */
    ngx_uint_t                 http_status; /* for a failed requirement */
    unsigned                   done:1;
    unsigned                   verified:1;  /* the signature checked out */
    unsigned                   ambiguous:1; /* several Authorization */
    unsigned                   want_fetch:1;
    unsigned                   fetch_background:1;
    unsigned                   fetching:1;
    unsigned                   fetch_done:1;
    unsigned                   fetched:1;
    unsigned                   jwks_fetch:1; /* this is the fetch itself */
    ngx_str_t                  raw;         /* the token */
    fw_jwt_token_t             token;
    ngx_http_fw_jwt_dpop_ctx_t  dpop;
    ngx_str_t                  jti_seen;    /* consumed by this request */
    ngx_http_fw_jwt_introspect_ctx_t  introspect;
} ngx_http_fw_jwt_ctx_t;


typedef struct {
    ngx_http_fw_jwt_ctx_t     *ctx;         /* NULL: in the background */
    ngx_http_fw_jwt_remote_t  *remote;
    ngx_uint_t                 completed;   /* counted (error_page: twice) */
} ngx_http_fw_jwt_fetch_t;


static ngx_http_fw_jwt_ctx_t *ngx_http_fw_jwt_run(ngx_http_request_t *r);
static void ngx_http_fw_jwt_evaluate(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_check_sig(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    fw_jwt_keyset_t *ks, const void *owner, unsigned long gen);
static ngx_http_fw_jwt_remote_state_t *ngx_http_fw_jwt_remote_keys(
    ngx_http_request_t *r, ngx_http_fw_jwt_remote_t *remote,
    ngx_uint_t *stale);
static ngx_uint_t ngx_http_fw_jwt_may_fetch(ngx_http_fw_jwt_remote_t *remote,
    ngx_uint_t force, time_t interval);
static ngx_int_t ngx_http_fw_jwt_fetch(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    ngx_uint_t background);
static ngx_int_t ngx_http_fw_jwt_introspect_run(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_fetch_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_fw_jwt_fetch_failed(ngx_http_request_t *r,
    ngx_http_fw_jwt_remote_t *remote, u_char *cause, u_char *last);
static ngx_int_t ngx_http_fw_jwt_jwks_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static char *ngx_http_fw_jwt_jwks_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_fw_jwt_find_token(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static void ngx_http_fw_jwt_cleanup(void *data);
static ngx_int_t ngx_http_fw_jwt_enforce(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_jwt_deny(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_claim_headers(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_jwt_rewrite_handler(ngx_http_request_t *r);

static ngx_int_t ngx_http_fw_jwt_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, json_t *j, char sep);
static ngx_int_t ngx_http_fw_jwt_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_header_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_payload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_sub_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_scope_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_claim_set_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_unverified_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_jwt_unverified_claim_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);

static char *ngx_http_fw_jwt_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_jwt_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_jwt_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_jwt_str_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_jwt_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_jwt_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_jwt_claim_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_jwt_claim_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_fw_jwt_keyset_cleanup(void *data);

static ngx_int_t ngx_http_fw_jwt_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_jwt_init(ngx_conf_t *cf);
static void *ngx_http_fw_jwt_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_fw_jwt_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_fw_jwt_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_fw_jwt_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_fw_jwt_init_process(ngx_cycle_t *cycle);
static void ngx_http_fw_jwt_exit_process(ngx_cycle_t *cycle);
static void ngx_http_fw_jwt_exit_master(ngx_cycle_t *cycle);


static fw_jwt_cache_t                  *ngx_http_fw_jwt_cache;
static ngx_http_fw_jwt_remote_state_t  *ngx_http_fw_jwt_remotes;
static ngx_uint_t                       ngx_http_fw_jwt_nremotes;


static ngx_conf_enum_t  ngx_http_fw_jwt_phases[] = {
    { ngx_string("access"), NGX_HTTP_FW_JWT_PHASE_ACCESS },
    { ngx_string("rewrite"), NGX_HTTP_FW_JWT_PHASE_REWRITE },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_fw_jwt_types[] = {
    { ngx_string("either"), FW_JWT_TYP_EITHER },
    { ngx_string("JWT"), FW_JWT_TYP_JWT },
    { ngx_string("at+jwt"), FW_JWT_TYP_AT_JWT },
    { ngx_string("off"), FW_JWT_TYP_OFF },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_fw_jwt_commands[] = {

    { ngx_string("fw_jwt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, enable),
      NULL },

    { ngx_string("fw_jwt_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, realm),
      NULL },

    { ngx_string("fw_jwt_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_jwt_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, max_size),
      NULL },

    { ngx_string("fw_jwt_error_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, error_format),
      &ngx_http_fw_error_formats },

    { ngx_string("fw_jwt_phase"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, phase),
      &ngx_http_fw_jwt_phases },

    { ngx_string("fw_jwt_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_fw_jwt_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      1,
      NULL },

    { ngx_string("fw_jwt_jwks_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_jwt_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      2,
      NULL },

    { ngx_string("fw_jwt_jwks_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_jwks_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, leeway),
      NULL },

    { ngx_string("fw_jwt_require_exp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, require_exp),
      NULL },

    { ngx_string("fw_jwt_max_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, max_lifetime),
      NULL },

    { ngx_string("fw_jwt_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, typ),
      &ngx_http_fw_jwt_types },

    { ngx_string("fw_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, issuers),
      NULL },

    { ngx_string("fw_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, audiences),
      NULL },

    { ngx_string("fw_jwt_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_fw_jwt_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_roles_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, roles_claim),
      NULL },

    { ngx_string("fw_jwt_role"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_claim_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_fw_jwt_claim_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_claim_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_fw_jwt_claim_set,
      0,
      0,
      NULL },

    NGX_HTTP_FW_JWT_DPOP_COMMANDS(ngx_http_fw_jwt_loc_conf_t, dpop),

    NGX_HTTP_FW_JWT_INTROSPECT_COMMANDS(ngx_http_fw_jwt_loc_conf_t,
                                        introspect),

    { ngx_string("fw_jwt_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_main_conf_t, cache_size),
      NULL },

    { ngx_string("fw_jwt_jti_replay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_replay_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, replay),
      NULL },

    { ngx_string("fw_jwt_revoke_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_revoke_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, revoke),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_jwt_module_ctx = {
    ngx_http_fw_jwt_add_variables,       /* preconfiguration */
    ngx_http_fw_jwt_init,                /* postconfiguration */

    ngx_http_fw_jwt_create_main_conf,    /* create main configuration */
    ngx_http_fw_jwt_init_main_conf,      /* init main configuration */

    NULL,                                /* create server configuration */
    NULL,                                /* merge server configuration */

    ngx_http_fw_jwt_create_loc_conf,     /* create location configuration */
    ngx_http_fw_jwt_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_fw_jwt_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_jwt_module_ctx,         /* module context */
    ngx_http_fw_jwt_commands,            /* module directives */
    NGX_HTTP_MODULE,                     /* module type */
    NULL,                                /* init master */
    NULL,                                /* init module */
    ngx_http_fw_jwt_init_process,        /* init process */
    NULL,                                /* init thread */
    NULL,                                /* exit thread */
    ngx_http_fw_jwt_exit_process,        /* exit process */
    ngx_http_fw_jwt_exit_master,         /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_fw_jwt_vars[] = {

    { ngx_string("fw_jwt_status"), NULL,
      ngx_http_fw_jwt_status_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_jwt_claim_"), NULL, ngx_http_fw_jwt_claim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("fw_jwt_header_"), NULL, ngx_http_fw_jwt_header_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("fw_jwt_payload"), NULL,
      ngx_http_fw_jwt_payload_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_jwt_sub"), NULL, ngx_http_fw_jwt_sub_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_jwt_scope"), NULL, ngx_http_fw_jwt_scope_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* for logs only: a verified signature, later checks may have failed */

    { ngx_string("fw_jwt_unverified_claim_"), NULL,
      ngx_http_fw_jwt_unverified_claim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("fw_jwt_unverified_payload"), NULL,
      ngx_http_fw_jwt_unverified_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_jwt_unverified_sub"), NULL,
      ngx_http_fw_jwt_unverified_variable, 1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};




/* verification: once per request and key set, for whoever asks first */

static ngx_http_fw_jwt_ctx_t *
ngx_http_fw_jwt_run(ngx_http_request_t *r)
{
    ngx_http_fw_jwt_ctx_t       *ctx;
    ngx_pool_cleanup_t          *cln;
    ngx_http_fw_jwt_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_jwt_module);

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_jwt_module);

    if (ctx != NULL
        && ((ctx->done && ctx->conf == jlcf) || ctx->jwks_fetch))
    {
        return ctx;
    }

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_jwt_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NULL;
        }

        cln->handler = ngx_http_fw_jwt_cleanup;
        cln->data = ctx;

        ngx_http_set_ctx(r, ctx, ngx_http_fw_jwt_module);

    } else {
        /* another location (rewrite ... last), or new remote keys */
        fw_jwt_token_free(&ctx->token);
        ctx->verified = 0;
        ctx->ambiguous = 0;
        ctx->want_fetch = 0;
        ctx->fetch_background = 0;
        ngx_http_fw_jwt_introspect_reset(&ctx->introspect);
    }

    ctx->conf = jlcf;
    ctx->done = 1;
    ctx->http_status = 0;

    ngx_http_fw_jwt_evaluate(r, jlcf, ctx);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: token checked: %s",
                   ctx->status == NGX_HTTP_FW_JWT_OFF
                   ? FW_VOCAB_JWT_OFF : fw_jwt_status_name(ctx->status));

    return ctx;
}


static void
ngx_http_fw_jwt_evaluate(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    int                              rc;
    json_t                          *claim;
    ngx_uint_t                       i, stale;
    fw_jwt_keyset_t                  ks;
    fw_jwt_claims_conf_t             cc;
    ngx_http_fw_jwt_require_t       *rq;
    ngx_http_fw_jwt_remote_state_t  *st;

    if (jlcf->ks == NULL && jlcf->remote == NULL
        && jlcf->introspect.uri.len == 0)
    {
        ctx->status = NGX_HTTP_FW_JWT_OFF;
        return;
    }

    if (ngx_http_fw_jwt_find_token(r, jlcf, ctx) != NGX_OK) {
        ctx->status = FW_JWT_ERROR;
        return;
    }

    if (ctx->status != FW_JWT_VALID) {
        return;
    }

    if (ctx->raw.len > jlcf->max_size) {
        ctx->status = FW_JWT_TOO_LARGE;
        return;
    }

    /* an opaque token: the introspection endpoint's answer */
    rc = ngx_http_fw_jwt_introspect_eval(r, &jlcf->introspect,
                                         &ctx->introspect, &ctx->raw,
                                         &ctx->token);
    if (rc != NGX_DECLINED) {
        if (rc != FW_JWT_VALID) {
            ctx->status = rc;
            return;
        }

        goto verified;
    }

    rc = FW_JWT_UNKNOWN_KEY;
    stale = 0;
    st = NULL;

    if (jlcf->remote) {
        st = ngx_http_fw_jwt_remote_keys(r, jlcf->remote, &stale);

        if (st != NULL && st->ks.nkeys) {
            ks = st->ks;
            ks.algs &= (jlcf->algs == NGX_CONF_UNSET) ? FW_JWT_ALGS_ALL
                                                      : (unsigned) jlcf->algs;

            rc = ngx_http_fw_jwt_check_sig(r, jlcf, ctx, &ks, jlcf,
                                           st->version);
        }
    }

    if (rc == FW_JWT_UNKNOWN_KEY && jlcf->ks) {
        rc = ngx_http_fw_jwt_check_sig(r, jlcf, ctx, jlcf->ks, jlcf->ks, 0);
    }

    if (jlcf->remote
        && ((rc == FW_JWT_UNKNOWN_KEY
             && ngx_http_fw_jwt_may_fetch(jlcf->remote,
                                          st == NULL || st->ks.nkeys == 0,
                                          jlcf->remote->min_refresh))
            || (stale
                && ngx_http_fw_jwt_may_fetch(jlcf->remote, 0,
                                  ngx_min(jlcf->remote->refresh,
                                          jlcf->remote->min_refresh)))))
    {
        /*
         * the phase handler fetches: and checks again when the keys
         * failed the token; when they verified it and only got old, the
         * refresh runs in the background and the request goes on
         */
        ctx->want_fetch = 1;
        ctx->fetch_background = (rc == FW_JWT_VALID);
    }

    if (rc != FW_JWT_VALID) {
        ctx->status = rc;
        return;
    }

verified:

    ctx->verified = 1;

    cc.now = ngx_time();
    cc.leeway = (long) jlcf->leeway;
    cc.require_exp = (int) jlcf->require_exp;
    cc.max_lifetime = (long) jlcf->max_lifetime;
    /* an introspected token has no JOSE header */
    cc.typ = ctx->introspect.used ? FW_JWT_TYP_OFF : (int) jlcf->typ;
    cc.issuers = jlcf->issuers ? jlcf->issuers->elts : NULL;
    cc.nissuers = jlcf->issuers ? jlcf->issuers->nelts : 0;
    cc.audiences = jlcf->audiences ? jlcf->audiences->elts : NULL;
    cc.naudiences = jlcf->audiences ? jlcf->audiences->nelts : 0;

    ctx->status = fw_jwt_check_claims(&cc, &ctx->token);

    if (ctx->status != FW_JWT_VALID) {
        return;
    }

    /* sender constraints: DPoP proof, cnf.jkt, cnf.x5t#S256 */
    ctx->status = ngx_http_fw_jwt_dpop_check(r, &jlcf->dpop, &ctx->dpop,
                                             &ctx->raw, ctx->token.payload,
                                             jlcf->leeway);

    if (ctx->status != FW_JWT_VALID) {
        return;
    }

    if (jlcf->requires) {
        rq = jlcf->requires->elts;

        for (i = 0; i < jlcf->requires->nelts; i++) {
            if (fw_jwt_check_require(&rq[i].rq, ctx->token.payload)
                != FW_OK)
            {
                ctx->status = FW_JWT_CLAIM_FAILED;
                ctx->http_status = rq[i].status;
                return;
            }
        }
    }

    if (jlcf->roles) {
        claim = fw_jwt_lookup(ctx->token.payload, jlcf->roles_claim.data,
                              jlcf->roles_claim.len);

        if (fw_jwt_check_roles(claim, jlcf->roles->elts, jlcf->roles->nelts,
                               (unsigned) r->method)
            != FW_OK)
        {
            ctx->status = FW_JWT_ROLE_FAILED;
            return;
        }
    }

    ctx->status = ngx_http_fw_jwt_revoke_check(r, jlcf->replay, jlcf->revoke,
                                               &ctx->token, jlcf->leeway,
                                               &ctx->jti_seen);
}


/* signature: from the verified-token cache, or decoded and verified */

static ngx_int_t
ngx_http_fw_jwt_check_sig(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    fw_jwt_keyset_t *ks, const void *owner, unsigned long gen)
{
    int         rc;
    u_char      digest[32];
    ngx_uint_t  cached;

    cached = 0;

    if (ngx_http_fw_jwt_cache
        && fw_jwt_digest(ctx->raw.data, ctx->raw.len, digest) == FW_OK)
    {
        if (fw_jwt_cache_get(ngx_http_fw_jwt_cache, digest, owner, gen,
                             ngx_time(), &ctx->token)
            == FW_OK)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fw_jwt: verified-token cache hit");
            ngx_http_fw_jwt_count(r, NGX_HTTP_FW_JWT_M_CACHE,
                                  NGX_HTTP_FW_JWT_M_HIT);
            return FW_JWT_VALID;
        }

        cached = 1;
        ngx_http_fw_jwt_count(r, NGX_HTTP_FW_JWT_M_CACHE,
                              NGX_HTTP_FW_JWT_M_MISS);
    }

    rc = fw_jwt_decode(&ctx->token, ctx->raw.data, ctx->raw.len,
                       jlcf->max_size);

    if (rc == FW_JWT_VALID) {
        rc = fw_jwt_verify(ks, &ctx->token, ctx->raw.data);
    }

    if (rc != FW_JWT_VALID) {
        fw_jwt_token_free(&ctx->token);
        return rc;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: signature verified (%s)",
                   fw_jwt_alg_name(ctx->token.alg));

    if (cached) {
        fw_jwt_cache_put(ngx_http_fw_jwt_cache, digest, owner, gen,
                         fw_jwt_cache_expiry(&ctx->token, ngx_time(),
                                             NGX_HTTP_FW_JWT_CACHE_TTL),
                         &ctx->token);
    }

    return FW_JWT_VALID;
}


/*
 * The keys of a remote JWKS as this worker knows them, parsed again from
 * shared memory when another worker (or this one) fetched a new copy.
 * "stale": the refresh interval has passed.
 */

static ngx_http_fw_jwt_remote_state_t *
ngx_http_fw_jwt_remote_keys(ngx_http_request_t *r,
    ngx_http_fw_jwt_remote_t *remote, ngx_uint_t *stale)
{
    char                             err[FW_JWT_ERRLEN];
    u_char                          *copy;
    size_t                           len, added, skipped;
    ngx_uint_t                       version;
    fw_jwt_keyset_t                  ks;
    ngx_slab_pool_t                 *shpool;
    ngx_http_fw_jwt_jwks_shm_t      *sh;
    ngx_http_fw_jwt_remote_state_t  *st;

    if (ngx_http_fw_jwt_remotes == NULL
        || remote->index >= ngx_http_fw_jwt_nremotes)
    {
        return NULL;
    }

    st = &ngx_http_fw_jwt_remotes[remote->index];
    shpool = (ngx_slab_pool_t *) remote->zone->shm.addr;
    sh = remote->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    version = sh->version;
    *stale = (version != 0 && ngx_time() - sh->fetched >= remote->refresh);

    if (version == st->version) {
        ngx_shmtx_unlock(&shpool->mutex);
        return st;
    }

    len = sh->len;
    copy = ngx_alloc(len, r->connection->log);

    if (copy == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return st;
    }

    ngx_memcpy(copy, sh->data, len);

    ngx_shmtx_unlock(&shpool->mutex);

    fw_jwt_keyset_init(&ks);

    if (fw_jwt_keyset_add_jwks(&ks, copy, len, &added, &skipped, err)
        != FW_OK)
    {
        /* checked before it was stored: out of memory */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_jwt: JWKS from \"%V\": %s", &remote->uri, err);
        fw_jwt_keyset_free(&ks);
        ngx_free(copy);
        return st;
    }

    ngx_free(copy);

    fw_jwt_keyset_free(&st->ks);
    st->ks = ks;
    st->ks.algs = FW_JWT_ALGS_ALL;
    st->version = version;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: JWKS version %ui, %uz keys", version, added);

    return st;
}


/*
 * Fetching is rate-limited across workers: with no keys at all every
 * request may fetch ("force"); otherwise one fetch per "interval".
 */

static ngx_uint_t
ngx_http_fw_jwt_may_fetch(ngx_http_fw_jwt_remote_t *remote, ngx_uint_t force,
    time_t interval)
{
    time_t                       now;
    ngx_uint_t                   ok;
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_jwks_shm_t  *sh;

    now = ngx_time();
    shpool = (ngx_slab_pool_t *) remote->zone->shm.addr;
    sh = remote->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    ok = force || sh->version == 0 || now - sh->attempted >= interval;

    if (ok) {
        sh->attempted = now;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return ok;
}


static ngx_int_t
ngx_http_fw_jwt_fetch(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    ngx_uint_t background)
{
    ngx_uint_t                   flags;
    ngx_http_fw_jwt_ctx_t       *sctx;
    ngx_http_request_t          *sr;
    ngx_http_fw_jwt_fetch_t     *fetch;
    ngx_http_post_subrequest_t  *ps;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    fetch = ngx_palloc(r->pool, sizeof(ngx_http_fw_jwt_fetch_t));
    if (fetch == NULL) {
        return NGX_ERROR;
    }

    fetch->ctx = background ? NULL : ctx;
    fetch->remote = jlcf->remote;
    fetch->completed = 0;

    ps->handler = ngx_http_fw_jwt_fetch_done;
    ps->data = fetch;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: fetching JWKS from \"%V\"%s", &jlcf->remote->uri,
                   background ? " in the background" : "");

    /*
     * a background subrequest does not hold the response back: nginx
     * keeps the connection (and the request's pool, where ctx lives)
     * until it ends, as for proxy_cache_background_update
     */

    flags = NGX_HTTP_SUBREQUEST_IN_MEMORY
            | (background ? NGX_HTTP_SUBREQUEST_BACKGROUND
                          : NGX_HTTP_SUBREQUEST_WAITED);

    if (ngx_http_subrequest(r, &jlcf->remote->uri, NULL, &sr, ps, flags)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the fetch itself is never checked (no recursion) */

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_jwt_ctx_t));
    if (sctx == NULL) {
        return NGX_ERROR;
    }

    sctx->jwks_fetch = 1;
    sctx->done = 1;
    sctx->status = NGX_HTTP_FW_JWT_OFF;
    sctx->conf = ngx_http_get_module_loc_conf(sr, ngx_http_fw_jwt_module);
    ngx_http_set_ctx(sr, sctx, ngx_http_fw_jwt_module);

    /* a GET without the client's body */

    sr->method = NGX_HTTP_GET;
    sr->method_name = ngx_http_core_get_method;
    sr->header_only = 0;

    sr->request_body = ngx_pcalloc(r->pool,
                                   sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    if (!background) {
        ctx->fetching = 1;
        ctx->fetch_done = 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_fetch_done(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_fw_jwt_fetch_t *fetch = data;

    char                         err[FW_JWT_ERRLEN];
    u_char                      *p, *copy, *last;
    u_char                       cause[FW_JWT_ERRLEN + 80];
    size_t                       i, len, added, skipped;
    time_t                       since;
    ngx_uint_t                   failures;
    ngx_buf_t                   *b;
    fw_jwt_keyset_t              ks;
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_jwks_shm_t  *sh;
    ngx_http_fw_jwt_remote_t    *remote;

    /*
     * a background fetch may end after the request moved on (ctx->conf
     * changed, or a new ctx): it wakes nothing, the remote is its own
     */

    if (fetch->ctx) {
        fetch->ctx->fetch_done = 1;
    }

    /*
     * an error_page for the fetch's status (502, 504) completes the
     * subrequest a second time, with the error page's answer: the
     * first completion is the fetch's outcome, counted once
     */

    if (rc == NGX_AGAIN || fetch->completed) {
        return rc;
    }

    fetch->completed = 1;

    remote = fetch->remote;
    last = cause + sizeof(cause);

    if (rc != NGX_OK || r->headers_out.status != NGX_HTTP_OK) {
        if (r->headers_out.status) {
            p = ngx_snprintf(cause, last - cause, "status %ui",
                             r->headers_out.status);

        } else {
            p = ngx_snprintf(cause, last - cause, "status %i", rc);
        }

        ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
        return rc;
    }

    b = NULL;

    if (r->upstream && r->upstream->buffer.pos < r->upstream->buffer.last) {
        b = &r->upstream->buffer;

    } else if (r->out && r->out->buf) {
        b = r->out->buf;
    }

    if (b == NULL || b->pos == b->last) {
        p = ngx_snprintf(cause, last - cause, "empty answer (is "
                         "\"subrequest_output_buffer_size\" large enough?)");
        ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
        return rc;
    }

    p = b->pos;
    len = b->last - b->pos;

    fw_jwt_keyset_init(&ks);

    if (fw_jwt_keyset_add_jwks(&ks, p, len, &added, &skipped, err)
        != FW_OK)
    {
        fw_jwt_keyset_free(&ks);
        p = ngx_snprintf(cause, last - cause, "refused: %s", err);
        ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
        return rc;
    }

    for (i = 0; i < ks.nkeys; i++) {
        if (ks.keys[i].kty == FW_JWT_KTY_OCT) {
            fw_jwt_keyset_free(&ks);
            p = ngx_snprintf(cause, last - cause, "refused: it publishes "
                             "a symmetric (\"oct\") key");
            ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
            return rc;
        }
    }

    fw_jwt_keyset_free(&ks);

    shpool = (ngx_slab_pool_t *) remote->zone->shm.addr;
    sh = remote->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    copy = ngx_slab_alloc_locked(shpool, len);

    if (copy == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        p = ngx_snprintf(cause, last - cause, "it does not fit its zone");
        ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
        return rc;
    }

    ngx_memcpy(copy, p, len);

    if (sh->data) {
        ngx_slab_free_locked(shpool, sh->data);
    }

    sh->data = copy;
    sh->len = len;
    sh->version++;
    sh->fetched = ngx_time();

    /* the outage, if any, is over: for every worker */
    failures = sh->failures;
    since = sh->failed;
    sh->failures = 0;

    ngx_shmtx_unlock(&shpool->mutex);

    if (failures) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "fw_jwt: JWKS from \"%V\": keys fetched again after "
                      "%ui failures in %T s", &remote->uri, failures,
                      ngx_time() - since);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "fw_jwt: JWKS from \"%V\" loaded, %uz keys",
                  &remote->uri, added);

    ngx_http_fw_jwt_count(r, NGX_HTTP_FW_JWT_M_FETCHES, NGX_HTTP_FW_JWT_M_OK);
    ngx_http_fw_jwt_gauge(r, NGX_HTTP_FW_JWT_M_KEYS, added);
    ngx_http_fw_jwt_gauge(r, NGX_HTTP_FW_JWT_M_AGE, ngx_time());

    return rc;
}


/*
 * A failed fetch: the first of an outage is an error (once for all
 * workers: the outage is counted in the remote's shared memory), the
 * later ones are info, until a fetch succeeds.  The keys are kept.
 */

static void
ngx_http_fw_jwt_fetch_failed(ngx_http_request_t *r,
    ngx_http_fw_jwt_remote_t *remote, u_char *cause, u_char *last)
{
    time_t                       now, since;
    ngx_uint_t                   failures;
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_jwks_shm_t  *sh;

    ngx_http_fw_jwt_count(r, NGX_HTTP_FW_JWT_M_FETCHES,
                          NGX_HTTP_FW_JWT_M_FAILED);

    now = ngx_time();
    shpool = (ngx_slab_pool_t *) remote->zone->shm.addr;
    sh = remote->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->failures == 0) {
        sh->failed = now;
    }

    failures = ++sh->failures;
    since = sh->failed;

    ngx_shmtx_unlock(&shpool->mutex);

    if (failures == 1) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_jwt: JWKS fetch from \"%V\" failed (%*s), "
                      "keeping the keys it had", &remote->uri,
                      (size_t) (last - cause), cause);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "fw_jwt: JWKS fetch from \"%V\" failed again (%*s), "
                  "%ui failures in %T s", &remote->uri,
                  (size_t) (last - cause), cause, failures, now - since);
}


/*
 * The token: from the configured variable, or the one and only
 * "Authorization: Bearer <token>" header (scheme case-insensitive).
 * Sets ctx->status to VALID when there is a token to check.
 */

static ngx_int_t
ngx_http_fw_jwt_find_token(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    u_char     *p, *last;
    size_t      dpop;
    ngx_int_t   rc;
    ngx_str_t   value;

    static ngx_str_t  name = ngx_string("Authorization");

    ctx->raw.len = 0;
    ctx->raw.data = NULL;

    ngx_http_fw_jwt_dpop_reset(&ctx->dpop, &ctx->status);

    if (jlcf->token) {
        if (ngx_http_complex_value(r, jlcf->token, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->raw = value;
        ctx->status = value.len ? FW_JWT_VALID : FW_JWT_MISSING;

        return NGX_OK;
    }

    rc = ngx_http_fw_get_header(r, &name, &value);

    if (rc == NGX_DECLINED) {
        ctx->status = FW_JWT_MISSING;
        return NGX_OK;
    }

    if (rc == NGX_BUSY) {
        ctx->ambiguous = 1;
        ctx->status = FW_JWT_MALFORMED;
        return NGX_OK;
    }

    p = value.data;
    last = p + value.len;

    /* "DPoP <token>" (RFC 9449 section 7.1), when DPoP is on */
    dpop = ngx_http_fw_jwt_dpop_scheme(&jlcf->dpop, &ctx->dpop, p, last);

    if (dpop == 0
        && (last - p < 6
            || ngx_strncasecmp(p, (u_char *) "Bearer", 6) != 0
            || (last - p > 6 && p[6] != ' ')))
    {
        /* another scheme: no bearer token */
        ctx->status = FW_JWT_MISSING;
        return NGX_OK;
    }

    p += dpop ? dpop : 6;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    ctx->raw.data = p;
    ctx->raw.len = last - p;

    /* an empty bearer, or anything after the token, is malformed */
    ctx->status = FW_JWT_VALID;

    if (p == last) {
        ctx->status = FW_JWT_MALFORMED;
    }

    for ( /* void */ ; p < last; p++) {
        if (*p == ' ' || *p == '\t' || *p == ',') {
            ctx->status = FW_JWT_MALFORMED;
            break;
        }
    }

    return NGX_OK;
}


static void
ngx_http_fw_jwt_cleanup(void *data)
{
    ngx_http_fw_jwt_ctx_t  *ctx = data;

    fw_jwt_token_free(&ctx->token);
    ctx->introspect.done = 0;
    ngx_http_fw_jwt_introspect_reset(&ctx->introspect);
}


/* phase handlers */

static ngx_int_t
ngx_http_fw_jwt_access_handler(ngx_http_request_t *r)
{
    ngx_http_fw_jwt_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_jwt_module);

    if (!jlcf->enable || jlcf->phase != NGX_HTTP_FW_JWT_PHASE_ACCESS) {
        return NGX_DECLINED;
    }

    return ngx_http_fw_jwt_enforce(r);
}


static ngx_int_t
ngx_http_fw_jwt_rewrite_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_fw_jwt_ctx_t       *ctx;
    ngx_http_fw_jwt_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_jwt_module);

    /*
     * nginx skips the access phase for subrequests (auth_request, SSI):
     * a protected location reached that way is checked here
     */

    if (!jlcf->enable
        || (jlcf->phase != NGX_HTTP_FW_JWT_PHASE_REWRITE && r == r->main))
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_jwt_module);

    if (ctx && ctx->jwks_fetch) {
        return NGX_DECLINED;
    }

    rc = ngx_http_fw_jwt_enforce(r);

    if (rc == NGX_AGAIN) {
        /* the JWKS subrequest resumes the phases */
        return NGX_DONE;
    }

    return rc == NGX_OK ? NGX_DECLINED : rc;
}


static ngx_int_t
ngx_http_fw_jwt_enforce(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_fw_jwt_ctx_t       *ctx;
    ngx_http_fw_jwt_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_jwt_module);

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->introspect.pending
        || ctx->introspect.done || ctx->introspect.want)
    {
        rc = ngx_http_fw_jwt_introspect_run(r, jlcf, ctx);
        if (rc != NGX_OK) {
            return rc;
        }

        ctx = ngx_http_get_module_ctx(r, ngx_http_fw_jwt_module);

    } else if (ctx->fetching) {
        if (!ctx->fetch_done) {
            return NGX_AGAIN;
        }

        /* check again with what the fetch brought (or the old keys) */
        ctx->fetching = 0;
        ctx->fetched = 1;
        ctx->done = 0;

        ctx = ngx_http_fw_jwt_run(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ctx->want_fetch && !ctx->fetched && jlcf->remote) {
        if (ngx_http_fw_jwt_fetch(r, jlcf, ctx, ctx->fetch_background)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (!ctx->fetch_background) {
            return NGX_AGAIN;
        }

        /* one fetch per request; this one goes on with its verdict */
        ctx->fetched = 1;
    }

    if (ctx->status == FW_JWT_VALID) {
        if (ngx_http_fw_jwt_claim_headers(r, jlcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;
    }

    ngx_http_fw_mark_denied(r, "jwt", fw_jwt_status_name(ctx->status));

    if (ctx->status == FW_JWT_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_fw_jwt_deny(r, jlcf, ctx);
}


/*
 * An opaque token: the introspection subrequest is started (NGX_AGAIN),
 * still runs (NGX_AGAIN), or answered and the token is checked again with
 * its answer (NGX_OK, the verdict in the ctx).
 */

static ngx_int_t
ngx_http_fw_jwt_introspect_run(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    ngx_http_request_t     *sr;
    ngx_http_fw_jwt_ctx_t  *sctx;

    if (ctx->introspect.pending) {
        return NGX_AGAIN;
    }

    if (ctx->introspect.done) {
        ctx->done = 0;

        if (ngx_http_fw_jwt_run(r) == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_http_fw_jwt_introspect_start(r, &jlcf->introspect,
                                         &ctx->introspect, &ctx->raw, &sr)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the subrequest itself is never checked */

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_jwt_ctx_t));
    if (sctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->jwks_fetch = 1;
    sctx->done = 1;
    sctx->status = NGX_HTTP_FW_JWT_OFF;
    sctx->conf = ngx_http_get_module_loc_conf(sr, ngx_http_fw_jwt_module);
    ngx_http_set_ctx(sr, sctx, ngx_http_fw_jwt_module);

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_fw_jwt_deny(ngx_http_request_t *r, ngx_http_fw_jwt_loc_conf_t *jlcf,
    ngx_http_fw_jwt_ctx_t *ctx)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  value;
    ngx_uint_t                 status;
    ngx_uint_t                 i;
    const char                *error, *desc, *code;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    error = "invalid_token";
    desc = "invalid token";
    status = NGX_HTTP_UNAUTHORIZED;

    switch (ctx->status) {

    case FW_JWT_MISSING:
        error = NULL;
        desc = "a bearer token is required";
        break;

    case FW_JWT_MALFORMED:
        if (ctx->ambiguous) {
            status = NGX_HTTP_BAD_REQUEST;
            error = "invalid_request";
            desc = "more than one Authorization header";

        } else {
            desc = "malformed token";
        }

        break;

    case FW_JWT_TOO_LARGE:
        desc = "token too large";
        break;

    case FW_JWT_EXPIRED:
        desc = "token expired";
        break;

    case FW_JWT_NOT_YET_VALID:
        desc = "token not yet valid";
        break;

    case FW_JWT_CLAIM_FAILED:
        if (ctx->http_status == NGX_HTTP_FORBIDDEN) {
            status = NGX_HTTP_FORBIDDEN;
            error = "insufficient_scope";
            desc = "insufficient privileges";
        }

        break;

    case FW_JWT_ROLE_FAILED:
        status = NGX_HTTP_FORBIDDEN;
        error = "insufficient_scope";
        desc = "insufficient privileges";
        break;

    case FW_JWT_INACTIVE:
        desc = "token inactive";
        break;

    case FW_JWT_INTROSPECTION_FAILED:
        desc = "the token cannot be checked now";

        if (jlcf->introspect.unavailable == NGX_HTTP_SERVICE_UNAVAILABLE) {
            status = NGX_HTTP_SERVICE_UNAVAILABLE;
            error = NULL;
        }

        break;
    }

    /* the DPoP challenge, when DPoP or a binding is concerned */
    switch (ngx_http_fw_jwt_dpop_challenge(r, &jlcf->dpop, &ctx->dpop,
                                           &jlcf->realm, ctx->status, error,
                                           &desc, &status))
    {
    case NGX_OK:
        goto challenged;
    case NGX_ERROR:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("Bearer realm=\"\"") - 1 + jlcf->realm.len;

    if (error) {
        len += sizeof(", error=\"\", error_description=\"\"") - 1
               + ngx_strlen(error) + ngx_strlen(desc);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = p;
    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &jlcf->realm);

    if (error) {
        p = ngx_sprintf(p, ", error=\"%s\", error_description=\"%s\"",
                        error, desc);
    }

    value.len = p - value.data;

    /* r->headers_out.www_authenticate: auth_request and "satisfy any" */
    if (ngx_http_fw_set_www_authenticate(r, &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

challenged:

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (jlcf->phase == NGX_HTTP_FW_JWT_PHASE_ACCESS
        && clcf->satisfy == NGX_HTTP_SATISFY_ANY)
    {
        /* another access module may still grant the request */
        return status;
    }

    if (clcf->error_pages && !r->error_page) {
        err_page = clcf->error_pages->elts;

        for (i = 0; i < clcf->error_pages->nelts; i++) {
            if ((ngx_uint_t) err_page[i].status == status) {
                /* the location's own error_page answers */
                return status;
            }
        }
    }

    code = (status == NGX_HTTP_FORBIDDEN) ? "forbidden"
           : (status == NGX_HTTP_BAD_REQUEST ? "invalid"
              : (status == NGX_HTTP_SERVICE_UNAVAILABLE ? "transient"
                                                         : "login"));

    return ngx_http_fw_send_error(r, status, jlcf->error_format, code, desc);
}


static ngx_int_t
ngx_http_fw_jwt_claim_headers(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    char                            *s;
    size_t                           len;
    json_t                          *v;
    ngx_str_t                        value;
    ngx_uint_t                       i;
    ngx_http_fw_jwt_claim_header_t  *ch;

    if (jlcf->claim_headers == NULL) {
        return NGX_OK;
    }

    ch = jlcf->claim_headers->elts;

    for (i = 0; i < jlcf->claim_headers->nelts; i++) {
        v = fw_jwt_lookup(ctx->token.payload, ch[i].path.data,
                          ch[i].path.len);

        s = v ? fw_jwt_value_text(v, &len, ',') : NULL;

        if (s == NULL) {
            /* a client-sent header of that name never passes */
            if (ngx_http_fw_set_request_header(r, &ch[i].name, NULL)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        value.len = len;
        value.data = ngx_pnalloc(r->pool, len);

        if (value.data == NULL) {
            ngx_free(s);
            return NGX_ERROR;
        }

        ngx_memcpy(value.data, s, len);
        ngx_free(s);

        /* no line breaks into a request header */
        for (len = 0; len < value.len; len++) {
            if (value.data[len] == CR || value.data[len] == LF
                || value.data[len] == '\0')
            {
                value.data[len] = ' ';
            }
        }

        if (ngx_http_fw_set_request_header(r, &ch[i].name, &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* variables */

static ngx_int_t
ngx_http_fw_jwt_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, json_t *j, char sep)
{
    char    *s;
    size_t   len;
    u_char  *p;

    if (j == NULL || (s = fw_jwt_value_text(j, &len, sep)) == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        ngx_free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(p, s, len);
    ngx_free(s);

    v->data = p;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char             *s;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    s = (ctx->status == NGX_HTTP_FW_JWT_OFF)
        ? FW_VOCAB_JWT_OFF : fw_jwt_status_name(ctx->status);

    v->data = (u_char *) s;
    v->len = ngx_strlen(s);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t              *name = (ngx_str_t *) data;
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = fw_jwt_lookup(ctx->token.payload,
                      name->data + sizeof("fw_jwt_claim_") - 1,
                      name->len - (sizeof("fw_jwt_claim_") - 1));

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


static ngx_int_t
ngx_http_fw_jwt_header_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t              *name = (ngx_str_t *) data;
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = fw_jwt_lookup(ctx->token.header,
                      name->data + sizeof("fw_jwt_header_") - 1,
                      name->len - (sizeof("fw_jwt_header_") - 1));

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


static ngx_int_t
ngx_http_fw_jwt_payload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_fw_jwt_json_value(r, v, ctx->token.payload, ',');
}


static ngx_int_t
ngx_http_fw_jwt_sub_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = json_object_get(ctx->token.payload, "sub");

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


static ngx_int_t
ngx_http_fw_jwt_scope_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* "scope" (RFC 8693, space-separated) or "scp" (an array) */
    j = json_object_get(ctx->token.payload, "scope");

    if (!json_is_string(j)) {
        j = json_object_get(ctx->token.payload, "scp");

        if (!json_is_array(j) && !json_is_string(j)) {
            j = NULL;
        }
    }

    return ngx_http_fw_jwt_json_value(r, v, j, ' ');
}


static ngx_int_t
ngx_http_fw_jwt_claim_set_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t              *path = (ngx_str_t *) data;
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->status != FW_JWT_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = fw_jwt_lookup(ctx->token.payload, path->data, path->len);

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


/*
 * $fw_jwt_unverified_*: the claims of a token whose signature verified
 * although a later check (exp, nbf, iss, aud, a requirement) failed, for
 * logs; never from a forged token.  No directive of ours reads them.
 */

static ngx_int_t
ngx_http_fw_jwt_unverified_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (!ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = data ? json_object_get(ctx->token.payload, "sub")
             : ctx->token.payload;

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


static ngx_int_t
ngx_http_fw_jwt_unverified_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t              *name = (ngx_str_t *) data;
    json_t                 *j;
    ngx_http_fw_jwt_ctx_t  *ctx;

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (!ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = fw_jwt_lookup(ctx->token.payload,
                      name->data + sizeof("fw_jwt_unverified_claim_") - 1,
                      name->len - (sizeof("fw_jwt_unverified_claim_") - 1));

    return ngx_http_fw_jwt_json_value(r, v, j, ',');
}


/* directives */

static char *
ngx_http_fw_jwt_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    int                  alg, enc, rc;
    char                 err[FW_JWT_ERRLEN];
    size_t               added, skipped;
    ngx_str_t           *value, path, data, kid;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    value = cf->args->elts;

    alg = -1;
    enc = FW_JWT_SECRET_RAW;
    ngx_str_null(&kid);

    for (i = 2; i < cf->args->nelts; i++) {

        if (cmd->offset != 2
            && ngx_strncmp(value[i].data, "kid=", 4) == 0)
        {
            kid.data = value[i].data + 4;
            kid.len = value[i].len - 4;
            continue;
        }

        if (cmd->offset != 2
            && ngx_strncmp(value[i].data, "alg=", 4) == 0)
        {
            alg = fw_jwt_alg_from_name(value[i].data + 4, value[i].len - 4);

            if (alg < 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": unsupported algorithm \"%V\"",
                                   &cmd->name, &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (cmd->offset == 1
            && ngx_strncmp(value[i].data, "encoding=", 9) == 0)
        {
            if (ngx_strcmp(value[i].data + 9, "raw") == 0) {
                enc = FW_JWT_SECRET_RAW;

            } else if (ngx_strcmp(value[i].data + 9, "base64") == 0) {
                enc = FW_JWT_SECRET_BASE64;

            } else if (ngx_strcmp(value[i].data + 9, "base64url") == 0) {
                enc = FW_JWT_SECRET_BASE64URL;

            } else {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (jlcf->keys == NULL) {
        jlcf->keys = ngx_pcalloc(cf->pool, sizeof(fw_jwt_keyset_t));
        if (jlcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_fw_jwt_keyset_cleanup;
        cln->data = jlcf->keys;
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": empty file name",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    path = value[1];

    if (ngx_http_fw_read_conf_file(cf, &path,
                                   cmd->offset == 2 ? NGX_HTTP_FW_JWT_JWKS_MAX
                                                    : NGX_HTTP_FW_JWT_KEY_MAX,
                                   &data)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": cannot use key file \"%V\"",
                           &cmd->name, &path);
        return NGX_CONF_ERROR;
    }

    err[0] = '\0';

    switch (cmd->offset) {
    case 0:
        rc = fw_jwt_keyset_add_pem(jlcf->keys, data.data, data.len,
                                   kid.data, kid.len, alg, err);
        break;

    case 1:
        rc = fw_jwt_keyset_add_secret(jlcf->keys, data.data, data.len, enc,
                                      kid.data, kid.len, alg, err);
        break;

    default:
        rc = fw_jwt_keyset_add_jwks(jlcf->keys, data.data, data.len,
                                    &added, &skipped, err);

        if (rc == FW_OK && skipped) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"%V\" \"%V\": %uz keys that are not "
                               "signature keys were ignored",
                               &cmd->name, &path, skipped);
        }
    }

    /* the secret stays in the key set only */
    ngx_explicit_memzero(data.data, data.len);

    if (rc != FW_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" \"%V\": %s",
                           &cmd->name, &path, err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": invalid parameter \"%V\"",
                       &cmd->name, &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_fw_jwt_jwks_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    u_char                       *p;
    ssize_t                       size;
    ngx_str_t                    *value, name, s;
    ngx_uint_t                    i;
    ngx_http_fw_jwt_remote_t     *remote;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    if (jlcf->remote != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" must be a local URI (a location "
                           "that proxies to the provider)", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    remote = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_remote_t));
    if (remote == NULL) {
        return NGX_CONF_ERROR;
    }

    remote->uri = value[1];
    remote->refresh = 600;
    remote->min_refresh = 30;
    size = 256 * 1024;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "refresh=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;
            remote->refresh = ngx_parse_time(&s, 1);

            if (remote->refresh == (time_t) NGX_ERROR
                || remote->refresh <= 0)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "min_refresh=", 12) == 0) {
            s.data = value[i].data + 12;
            s.len = value[i].len - 12;
            remote->min_refresh = ngx_parse_time(&s, 1);

            if (remote->min_refresh == (time_t) NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;
            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size < 8 * (ssize_t) ngx_pagesize) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    name.len = sizeof("fw_jwt_jwks:") - 1 + remote->uri.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(name.data, "fw_jwt_jwks:", sizeof("fw_jwt_jwks:") - 1);
    ngx_memcpy(p, remote->uri.data, remote->uri.len);

    remote->zone = ngx_shared_memory_add(cf, &name, size,
                                         &ngx_http_fw_jwt_module);
    if (remote->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    remote->zone->init = ngx_http_fw_jwt_jwks_init_zone;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_jwt_module);
    remote->index = jmcf->nremotes++;

    jlcf->remote = remote;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": invalid parameter \"%V\"",
                       &cmd->name, &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_fw_jwt_jwks_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_jwks_shm_t  *sh;

    if (data) {
        /* a reload keeps the keys already fetched */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_fw_jwt_jwks_shm_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


static void
ngx_http_fw_jwt_keyset_cleanup(void *data)
{
    fw_jwt_keyset_free(data);
}


static char *
ngx_http_fw_jwt_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    int          alg;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (jlcf->algs != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    jlcf->algs = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 4
            && ngx_strncasecmp(value[i].data, (u_char *) "none", 4) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is never allowed",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        alg = fw_jwt_alg_from_name(value[i].data, value[i].len);

        if (alg < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": unsupported algorithm \"%V\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        jlcf->algs |= FW_JWT_ALG_BIT(alg);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_jwt_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (jlcf->token != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    jlcf->token = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (jlcf->token == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = jlcf->token;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_jwt_str_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t      *value;
    ngx_uint_t      i;
    ngx_array_t   **a;
    fw_jwt_str_t   *s;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NULL) {
        *a = ngx_array_create(cf->pool, 2, sizeof(fw_jwt_str_t));
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

        s->data = value[i].data;
        s->len = value[i].len;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_jwt_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    u_char                     *end;
    ngx_str_t                  *value;
    ngx_uint_t                  i, n, last;
    fw_jwt_str_t               *s;
    ngx_http_fw_jwt_require_t  *rq;

    static struct {
        ngx_str_t  name;
        int        op;
        int        values;      /* 0: none, 1: one number, 2: one or more */
    } ops[] = {
        { ngx_string("eq"), FW_JWT_OP_EQ, 2 },
        { ngx_string("ne"), FW_JWT_OP_NE, 2 },
        { ngx_string("in"), FW_JWT_OP_IN, 2 },
        { ngx_string("any"), FW_JWT_OP_ANY, 2 },
        { ngx_string("all"), FW_JWT_OP_ALL, 2 },
        { ngx_string("gt"), FW_JWT_OP_GT, 1 },
        { ngx_string("ge"), FW_JWT_OP_GE, 1 },
        { ngx_string("lt"), FW_JWT_OP_LT, 1 },
        { ngx_string("le"), FW_JWT_OP_LE, 1 },
        { ngx_string("exists"), FW_JWT_OP_EXISTS, 0 },
        { ngx_string("absent"), FW_JWT_OP_ABSENT, 0 },
        { ngx_null_string, 0, 0 }
    };

    value = cf->args->elts;

    if (jlcf->requires == NULL) {
        jlcf->requires = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_http_fw_jwt_require_t));
        if (jlcf->requires == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rq = ngx_array_push(jlcf->requires);
    if (rq == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(rq, sizeof(ngx_http_fw_jwt_require_t));

    rq->status = NGX_HTTP_FORBIDDEN;
    rq->rq.path.data = value[1].data;
    rq->rq.path.len = value[1].len;

    last = cf->args->nelts;

    if (ngx_strncmp(value[last - 1].data, "error=", 6) == 0) {
        if (ngx_strcmp(value[last - 1].data, "error=401") == 0) {
            rq->status = NGX_HTTP_UNAUTHORIZED;

        } else if (ngx_strcmp(value[last - 1].data, "error=403") == 0) {
            rq->status = NGX_HTTP_FORBIDDEN;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" must be error=401 or "
                               "error=403", &cmd->name, &value[last - 1]);
            return NGX_CONF_ERROR;
        }

        last--;
    }

    for (i = 0; ops[i].name.len; i++) {
        if (ops[i].name.len == value[2].len
            && ngx_strncmp(ops[i].name.data, value[2].data, value[2].len)
               == 0)
        {
            break;
        }
    }

    if (ops[i].name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": unknown operator \"%V\"",
                           &cmd->name, &value[2]);
        return NGX_CONF_ERROR;
    }

    rq->rq.op = ops[i].op;
    n = last - 3;

    if ((ops[i].values == 0 && n != 0)
        || (ops[i].values == 1 && n != 1)
        || (ops[i].values == 2 && n == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": wrong number of values for \"%V\"",
                           &cmd->name, &value[2]);
        return NGX_CONF_ERROR;
    }

    if (ops[i].values == 1) {
        rq->rq.number = strtod((char *) value[3].data, (char **) &end);

        if (end != value[3].data + value[3].len || value[3].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is not a number",
                               &cmd->name, &value[3]);
            return NGX_CONF_ERROR;
        }
    }

    if (n) {
        s = ngx_palloc(cf->pool, n * sizeof(fw_jwt_str_t));
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < n; i++) {
            s[i].data = value[3 + i].data;
            s[i].len = value[3 + i].len;
        }

        rq->rq.values = s;
        rq->rq.nvalues = n;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_jwt_role(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t      *value;
    ngx_uint_t      i, m;
    fw_jwt_role_t  *role;

    static struct {
        ngx_str_t   name;
        ngx_uint_t  method;
    } methods[] = {
        { ngx_string("GET"), NGX_HTTP_GET },
        { ngx_string("HEAD"), NGX_HTTP_HEAD },
        { ngx_string("POST"), NGX_HTTP_POST },
        { ngx_string("PUT"), NGX_HTTP_PUT },
        { ngx_string("PATCH"), NGX_HTTP_PATCH },
        { ngx_string("DELETE"), NGX_HTTP_DELETE },
        { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS },
        { ngx_null_string, 0 }
    };

    value = cf->args->elts;

    if (jlcf->roles == NULL) {
        jlcf->roles = ngx_array_create(cf->pool, 4, sizeof(fw_jwt_role_t));
        if (jlcf->roles == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    role = ngx_array_push(jlcf->roles);
    if (role == NULL) {
        return NGX_CONF_ERROR;
    }

    role->name.data = value[1].data;
    role->name.len = value[1].len;
    role->methods = 0;

    for (i = 2; i < cf->args->nelts; i++) {
        for (m = 0; methods[m].name.len; m++) {
            if (methods[m].name.len == value[i].len
                && ngx_strncmp(methods[m].name.data, value[i].data,
                               value[i].len) == 0)
            {
                break;
            }
        }

        if (methods[m].name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": unknown method \"%V\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        role->methods |= (unsigned) methods[m].method;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_jwt_claim_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    ngx_str_t                       *value;
    ngx_uint_t                       i;
    ngx_http_fw_jwt_claim_header_t  *ch;

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (!((value[1].data[i] >= 'a' && value[1].data[i] <= 'z')
              || (value[1].data[i] >= 'A' && value[1].data[i] <= 'Z')
              || (value[1].data[i] >= '0' && value[1].data[i] <= '9')
              || value[1].data[i] == '-' || value[1].data[i] == '_'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid header name \"%V\"",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_fw_request_header_allowed(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": header \"%V\" is one nginx tracks itself "
                           "(or longer than 64 bytes) and cannot carry a claim",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (jlcf->claim_headers == NULL) {
        jlcf->claim_headers = ngx_array_create(cf->pool, 2,
                                   sizeof(ngx_http_fw_jwt_claim_header_t));
        if (jlcf->claim_headers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ch = ngx_array_push(jlcf->claim_headers);
    if (ch == NULL) {
        return NGX_CONF_ERROR;
    }

    ch->name = value[1];
    ch->path = value[2];

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_jwt_claim_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t            *value, *path;
    ngx_http_variable_t  *var;

    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid variable name \"%V\"",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    value[1].len--;
    value[1].data++;

    var = ngx_http_add_variable(cf, &value[1], NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_CONF_ERROR;
    }

    path = ngx_palloc(cf->pool, sizeof(ngx_str_t));
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    *path = value[2];

    var->get_handler = ngx_http_fw_jwt_claim_set_variable;
    var->data = (uintptr_t) path;

    return NGX_CONF_OK;
}


/* configuration */

static ngx_int_t
ngx_http_fw_jwt_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    if (fw_jwt_init() != FW_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "fw_jwt: OpenSSL has no SHA-2 digests");
        return NGX_ERROR;
    }

    for (v = ngx_http_fw_jwt_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    if (ngx_http_fw_jwt_dpop_add_variables(cf,
                                       offsetof(ngx_http_fw_jwt_ctx_t, dpop))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_init(ngx_conf_t *cf)
{
    ngx_array_t                  *handlers;
    ngx_http_handler_pt          *h;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_jwt_module);
    jmcf->metrics = ngx_http_fw_jwt_metrics_zone(cf);

    if (jmcf->metrics == NGX_HTTP_FW_METRICS_ERROR) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /*
     * First in the array, so run last of the access phase (nginx runs a
     * phase's handlers last registered first): after every other access
     * handler whatever the order of the load_module lines, so that a
     * request both the webhook module and this one refuse always gets
     * the same answer (the webhook module's)
     */

    handlers = &cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers;

    h = ngx_array_push(handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = handlers->elts;
    ngx_memmove(&h[1], &h[0], (handlers->nelts - 1) * sizeof(*h));
    h[0] = ngx_http_fw_jwt_access_handler;

    /* handlers run last-registered first: before "return" and "rewrite" */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_fw_jwt_rewrite_handler;

    return NGX_OK;
}


static void *
ngx_http_fw_jwt_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_main_conf_t));
    if (jmcf == NULL) {
        return NULL;
    }

    jmcf->cache_size = NGX_CONF_UNSET_UINT;

    return jmcf;
}


static char *
ngx_http_fw_jwt_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_fw_jwt_main_conf_t *jmcf = conf;

    ngx_conf_init_uint_value(jmcf->cache_size, 1024);

    return NGX_CONF_OK;
}


static void *
ngx_http_fw_jwt_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_jwt_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->realm = { 0, NULL };
     *     conf->keys = NULL;
     *     conf->ks = NULL;
     *     conf->issuers = NULL;
     *     conf->audiences = NULL;
     *     conf->requires = NULL;
     *     conf->roles_claim = { 0, NULL };
     *     conf->roles = NULL;
     *     conf->claim_headers = NULL;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->max_size = NGX_CONF_UNSET_SIZE;
    conf->error_format = NGX_CONF_UNSET_UINT;
    conf->phase = NGX_CONF_UNSET_UINT;
    conf->algs = NGX_CONF_UNSET;
    conf->leeway = NGX_CONF_UNSET;
    conf->require_exp = NGX_CONF_UNSET;
    conf->max_lifetime = NGX_CONF_UNSET;
    conf->typ = NGX_CONF_UNSET_UINT;
    conf->replay = NGX_CONF_UNSET_PTR;
    conf->revoke = NGX_CONF_UNSET_PTR;

    ngx_http_fw_jwt_dpop_create_conf(&conf->dpop);
    ngx_http_fw_jwt_introspect_create_conf(&conf->introspect);

    return conf;
}


static char *
ngx_http_fw_jwt_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_fw_jwt_loc_conf_t *prev = parent;
    ngx_http_fw_jwt_loc_conf_t *conf = child;

    char       err[FW_JWT_ERRLEN];
    size_t     i;
    unsigned   usable;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "api");
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size,
                              FW_JWT_DEFAULT_MAX);
    ngx_conf_merge_uint_value(conf->error_format, prev->error_format,
                              FW_FORMAT_PROBLEM);
    ngx_conf_merge_uint_value(conf->phase, prev->phase,
                              NGX_HTTP_FW_JWT_PHASE_ACCESS);
    ngx_conf_merge_value(conf->algs, prev->algs, NGX_CONF_UNSET);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_value(conf->require_exp, prev->require_exp, 1);
    ngx_conf_merge_sec_value(conf->max_lifetime, prev->max_lifetime, 0);
    ngx_conf_merge_uint_value(conf->typ, prev->typ, FW_JWT_TYP_EITHER);
    ngx_conf_merge_str_value(conf->roles_claim, prev->roles_claim, "roles");
    ngx_conf_merge_ptr_value(conf->replay, prev->replay, NULL);
    ngx_conf_merge_ptr_value(conf->revoke, prev->revoke, NULL);

    if (conf->issuers == NULL) {
        conf->issuers = prev->issuers;
    }

    if (conf->audiences == NULL) {
        conf->audiences = prev->audiences;
    }

    if (conf->requires == NULL) {
        conf->requires = prev->requires;
    }

    if (conf->roles == NULL) {
        conf->roles = prev->roles;
    }

    if (conf->claim_headers == NULL) {
        conf->claim_headers = prev->claim_headers;
    }

    if (ngx_http_fw_jwt_dpop_merge_conf(cf, &prev->dpop, &conf->dpop,
                                        conf->token != NULL)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_jwt_introspect_merge_conf(cf, &prev->introspect,
                                              &conf->introspect)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < conf->realm.len; i++) {
        if (conf->realm.data[i] < 0x20 || conf->realm.data[i] == '"'
            || conf->realm.data[i] == '\\' || conf->realm.data[i] == 0x7f)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_jwt_realm\" must not hold quotes, "
                               "backslashes or control characters");
            return NGX_CONF_ERROR;
        }
    }

    if (conf->max_size == 0 || conf->max_size > 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_max_size\" must be between 1 and 1m");
        return NGX_CONF_ERROR;
    }

    if (conf->remote == NULL) {
        conf->remote = prev->remote;
    }

    if (conf->keys == NULL) {
        conf->keys = prev->keys;
    }

    if (conf->keys == NULL) {
        if (conf->enable && conf->remote == NULL
            && conf->introspect.uri.len == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_jwt\" is on but no key is configured "
                               "(\"fw_jwt_key_file\", \"fw_jwt_secret_file\","
                               " \"fw_jwt_jwks_file\", \"fw_jwt_jwks_uri\""
                               " or \"fw_jwt_introspect\")");
            return NGX_CONF_ERROR;
        }

        if (conf->algs != NGX_CONF_UNSET && conf->algs != 0) {
            /* checked where keys are */
        }

        return NGX_CONF_OK;
    }

    if (conf->keys == prev->keys && conf->algs == prev->algs
        && prev->ks != NULL)
    {
        /* one verifier (and cache owner) for every level that inherits */
        conf->ks = prev->ks;
        return NGX_CONF_OK;
    }

    /* the keys with this level's allowlist */

    conf->ks = ngx_palloc(cf->pool, sizeof(fw_jwt_keyset_t));
    if (conf->ks == NULL) {
        return NGX_CONF_ERROR;
    }

    *conf->ks = *conf->keys;

    usable = 0;

    for (i = 0; i < conf->keys->nkeys; i++) {
        usable |= conf->keys->keys[i].algs;
    }

    conf->ks->algs = (conf->algs == NGX_CONF_UNSET) ? usable
                                                    : (unsigned) conf->algs;

    if (fw_jwt_keyset_check(conf->ks, err) != FW_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_algorithms\" and the keys of this "
                           "location (\"fw_jwt_secret_file\", "
                           "\"fw_jwt_key_file\", \"fw_jwt_jwks_file\"): %s",
                           err);
        return NGX_CONF_ERROR;
    }

    if (fw_jwt_keyset_warn(conf->ks, err)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"fw_jwt_algorithms\" and the HMAC secrets of "
                           "this location: %s", err);
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_fw_jwt_init_process(ngx_cycle_t *cycle)
{
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_fw_jwt_module);

    if (jmcf == NULL) {
        return NGX_OK;
    }

    if (ngx_http_fw_jwt_revoke_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (jmcf->nremotes) {
        ngx_http_fw_jwt_remotes = ngx_calloc(jmcf->nremotes
                                     * sizeof(ngx_http_fw_jwt_remote_state_t),
                                     cycle->log);
        if (ngx_http_fw_jwt_remotes == NULL) {
            return NGX_ERROR;
        }

        ngx_http_fw_jwt_nremotes = jmcf->nremotes;
    }

    if (jmcf->cache_size == 0) {
        return NGX_OK;
    }

    ngx_http_fw_jwt_cache = fw_jwt_cache_create(jmcf->cache_size);

    if (ngx_http_fw_jwt_cache == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "fw_jwt: no memory for the token cache");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_fw_jwt_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    fw_jwt_cache_destroy(ngx_http_fw_jwt_cache);
    ngx_http_fw_jwt_cache = NULL;

    for (i = 0; i < ngx_http_fw_jwt_nremotes; i++) {
        fw_jwt_keyset_free(&ngx_http_fw_jwt_remotes[i].ks);
    }

    ngx_free(ngx_http_fw_jwt_remotes);
    ngx_http_fw_jwt_remotes = NULL;
    ngx_http_fw_jwt_nremotes = 0;

    fw_jwt_cleanup();
}


/* the digests fw_jwt_init() fetched: freed before the module is unloaded */

static void
ngx_http_fw_jwt_exit_master(ngx_cycle_t *cycle)
{
    fw_jwt_cleanup();
}
