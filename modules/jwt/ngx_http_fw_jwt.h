/*
 * fhirwall JWT: the nginx glue's types and the functions its files share.
 */

#ifndef _NGX_HTTP_FW_JWT_H_INCLUDED_
#define _NGX_HTTP_FW_JWT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "fw_jwt.h"
#include "ngx_http_fw_jwt_dpop.h"
#include "ngx_http_fw_jwt_revoke.h"
#include "ngx_http_fw_jwt_introspect.h"
#include "ngx_http_fw_jwt_redis.h"


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
    ngx_http_fw_jwt_redis_main_t  redis;    /* fw_jwt_redis */
} ngx_http_fw_jwt_main_conf_t;


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
    ngx_http_fw_jwt_revoke_redis_t    *revoke_redis;
    ngx_uint_t                 redis_failure;
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
    ngx_http_fw_jwt_redis_ctx_t  redis;
} ngx_http_fw_jwt_ctx_t;


typedef struct {
    ngx_http_fw_jwt_ctx_t     *ctx;         /* NULL: in the background */
    ngx_http_fw_jwt_remote_t  *remote;
    ngx_uint_t                 completed;   /* counted (error_page: twice) */
} ngx_http_fw_jwt_fetch_t;


#pragma GCC visibility push(hidden)


extern ngx_module_t  ngx_http_fw_jwt_module;

/* the remote key sets this worker parsed, one per fw_jwt_jwks_uri */
extern ngx_http_fw_jwt_remote_state_t  *ngx_http_fw_jwt_remotes;
extern ngx_uint_t                       ngx_http_fw_jwt_nremotes;


ngx_http_fw_jwt_ctx_t *ngx_http_fw_jwt_run(ngx_http_request_t *r);
ngx_http_fw_jwt_remote_state_t *ngx_http_fw_jwt_remote_keys(
    ngx_http_request_t *r, ngx_http_fw_jwt_remote_t *remote,
    ngx_uint_t *stale);
ngx_uint_t ngx_http_fw_jwt_may_fetch(ngx_http_fw_jwt_remote_t *remote,
    ngx_uint_t force, time_t interval);
ngx_int_t ngx_http_fw_jwt_fetch(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    ngx_uint_t background);
char *ngx_http_fw_jwt_jwks_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_fw_jwt_claim_set_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
char *ngx_http_fw_jwt_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_str_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_claim_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_claim_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_fw_jwt_add_variables(ngx_conf_t *cf);
void *ngx_http_fw_jwt_create_main_conf(ngx_conf_t *cf);
char *ngx_http_fw_jwt_init_main_conf(ngx_conf_t *cf, void *conf);
void *ngx_http_fw_jwt_create_loc_conf(ngx_conf_t *cf);
char *ngx_http_fw_jwt_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

/* ngx_http_fw_jwt_redis.c */
char *ngx_http_fw_jwt_redis_merge(ngx_conf_t *cf,
    ngx_http_fw_jwt_loc_conf_t *prev, ngx_http_fw_jwt_loc_conf_t *conf);
/* after every local check passed: whether Redis has more to check */
ngx_uint_t ngx_http_fw_jwt_redis_wanted(ngx_http_fw_jwt_loc_conf_t *jlcf,
    ngx_http_fw_jwt_ctx_t *ctx);
/* NGX_AGAIN while Redis is asked, NGX_OK: ctx->status is the verdict */
ngx_int_t ngx_http_fw_jwt_redis_check(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
void ngx_http_fw_jwt_redis_reset(ngx_http_fw_jwt_redis_ctx_t *rctx);
ngx_int_t ngx_http_fw_jwt_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_fw_jwt_redis_main_t *rm);
void ngx_http_fw_jwt_redis_exit_process(ngx_http_fw_jwt_redis_main_t *rm);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_JWT_H_INCLUDED_ */
