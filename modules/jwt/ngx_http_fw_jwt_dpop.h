/*
 * fhirwall JWT: nginx glue for sender-constrained tokens, DPoP (RFC 9449)
 * and certificate-bound tokens (RFC 8705).  The checks are in
 * fw_jwt_dpop.c; the JWT module calls in where it finds the token, after
 * the claims, and where it answers 401.
 */

#ifndef _NGX_HTTP_FW_JWT_DPOP_H_INCLUDED_
#define _NGX_HTTP_FW_JWT_DPOP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "fw_jwt.h"
#include "fw_jwt_dpop.h"


/* the JWT module (its visibility is nginx's, not hidden) */
extern ngx_module_t  ngx_http_fw_jwt_module;


#pragma GCC visibility push(hidden)


#define NGX_HTTP_FW_JWT_BIND_OFF       0
#define NGX_HTTP_FW_JWT_BIND_OPTIONAL  1
#define NGX_HTTP_FW_JWT_BIND_REQUIRED  2


typedef struct {
    ngx_uint_t                 mode;         /* fw_jwt_dpop */
    ngx_int_t                  algs;         /* -1: unset */
    time_t                     window;
    ngx_http_complex_value_t  *origin;       /* NULL: from the request */
    ngx_shm_zone_t            *zone;         /* proof jti replay */
    ngx_str_t                  nonce_secret; /* empty: no nonce */
    time_t                     nonce_lifetime;
    ngx_uint_t                 cert;         /* fw_jwt_cert_bound */
    ngx_flag_t                 set;          /* a secret file was read */
    ngx_flag_t                 redis;        /* fw_jwt_dpop_replay_redis */
} ngx_http_fw_jwt_dpop_conf_t;


typedef struct {
    ngx_int_t                 *status;       /* the token's (ctx) */
    ngx_int_t                  reason;       /* FW_JWT_DPOP_*, a failure */
    unsigned                   scheme:1;     /* "Authorization: DPoP" */
    unsigned                   redis:1;      /* the replay is Redis's */
    u_char                     jkt[FW_JWT_THUMB_LEN + 1];
    u_char                     replay[32];   /* the proof's (key, jti) */
    time_t                     expires;      /* until it could replay */
} ngx_http_fw_jwt_dpop_ctx_t;


extern ngx_conf_enum_t  ngx_http_fw_jwt_bind_modes[];


char *ngx_http_fw_jwt_dpop_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_dpop_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_dpop_origin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_dpop_nonce_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/* the directives, for the JWT module's command array */
#define NGX_HTTP_FW_JWT_DPOP_COMMANDS(type, field)                           \
                                                                              \
    { ngx_string("fw_jwt_dpop"),                                              \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,  \
      ngx_conf_set_enum_slot,                                                 \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field) + offsetof(ngx_http_fw_jwt_dpop_conf_t, mode),    \
      &ngx_http_fw_jwt_bind_modes },                                          \
                                                                              \
    { ngx_string("fw_jwt_dpop_algorithms"),                                   \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,  \
      ngx_http_fw_jwt_dpop_algorithms,                                        \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field),                                                  \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_dpop_window"),                                       \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,  \
      ngx_conf_set_sec_slot,                                                  \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field) + offsetof(ngx_http_fw_jwt_dpop_conf_t, window),  \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_dpop_origin"),                                       \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,  \
      ngx_http_fw_jwt_dpop_origin,                                            \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field),                                                  \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_dpop_replay_zone"),                                  \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,  \
      ngx_http_fw_jwt_dpop_zone,                                              \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field),                                                  \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_dpop_nonce_secret_file"),                            \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12, \
      ngx_http_fw_jwt_dpop_nonce_secret,                                      \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field),                                                  \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_dpop_replay_redis"),                                 \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,   \
      ngx_conf_set_flag_slot,                                                 \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field) + offsetof(ngx_http_fw_jwt_dpop_conf_t, redis),   \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_cert_bound"),                                        \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,  \
      ngx_conf_set_enum_slot,                                                 \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field) + offsetof(ngx_http_fw_jwt_dpop_conf_t, cert),    \
      &ngx_http_fw_jwt_bind_modes }


void ngx_http_fw_jwt_dpop_create_conf(ngx_http_fw_jwt_dpop_conf_t *dc);
char *ngx_http_fw_jwt_dpop_merge_conf(ngx_conf_t *cf,
    ngx_http_fw_jwt_dpop_conf_t *prev, ngx_http_fw_jwt_dpop_conf_t *conf,
    ngx_uint_t token_directive);
/* "offset": of the ngx_http_fw_jwt_dpop_ctx_t in the module's ctx */
ngx_int_t ngx_http_fw_jwt_dpop_add_variables(ngx_conf_t *cf,
    uintptr_t offset);

/* before the token is looked for */
void ngx_http_fw_jwt_dpop_reset(ngx_http_fw_jwt_dpop_ctx_t *dctx,
    ngx_int_t *status);
/* the length of "DPoP " at p (the scheme is accepted here), else 0 */
size_t ngx_http_fw_jwt_dpop_scheme(ngx_http_fw_jwt_dpop_conf_t *dc,
    ngx_http_fw_jwt_dpop_ctx_t *dctx, u_char *p, u_char *last);
/* after the claims: the bindings, cnf read from the token's scan (no
   document made for a token without cnf); a FW_JWT_* status */
ngx_int_t ngx_http_fw_jwt_dpop_check(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_http_fw_jwt_dpop_ctx_t *dctx,
    ngx_str_t *token, fw_jwt_token_t *jwt, time_t leeway);
/*
 * The proof's jti in this host's replay zone (fw_jwt_dpop_replay_redis:
 * when Redis cannot answer and the failure policy is open): a FW_JWT_*
 * status, as the check's
 */
ngx_int_t ngx_http_fw_jwt_dpop_replay_local(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_http_fw_jwt_dpop_ctx_t *dctx);
/* Redis found the proof's jti: logged, the reason set; the status */
ngx_int_t ngx_http_fw_jwt_dpop_replayed(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_ctx_t *dctx);
/*
 * The WWW-Authenticate challenge (and DPoP-Nonce) of a refusal, when DPoP
 * or a binding is concerned: NGX_OK (set; *status and *desc for the
 * body), NGX_DECLINED (the caller sends its Bearer challenge), NGX_ERROR.
 */
ngx_int_t ngx_http_fw_jwt_dpop_challenge(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_http_fw_jwt_dpop_ctx_t *dctx,
    ngx_str_t *realm, ngx_int_t jwt_status, const char *error,
    const char **desc, ngx_uint_t *status);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_JWT_DPOP_H_INCLUDED_ */
