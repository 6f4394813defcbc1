/*
 * fhirwall JWT: opaque tokens by introspection (RFC 7662), nginx glue.
 * ngx_http_fw_jwt_module.c calls these hooks: eval while it checks a
 * token, start from its phase handler, done to know the answer came.
 */

#ifndef _NGX_HTTP_FW_JWT_INTROSPECT_H_INCLUDED_
#define _NGX_HTTP_FW_JWT_INTROSPECT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "fw_jwt.h"
#include "fw_jwt_introspect.h"


extern ngx_module_t  ngx_http_fw_jwt_module;


#pragma GCC visibility push(hidden)


typedef struct {
    ngx_str_t                  uri;          /* "": off */
    ngx_shm_zone_t            *zone;         /* the answers */
    time_t                     max_ttl;
    time_t                     negative_ttl;
    ngx_uint_t                 unavailable;  /* 503 or 401 */
    ngx_str_t                  auth;         /* the Authorization value */
    ngx_flag_t                 set;          /* fw_jwt_introspect_auth */
    ngx_array_t               *issuers;      /* JWTs introspected too */
} ngx_http_fw_jwt_introspect_conf_t;


typedef struct {
    ngx_int_t                  status;       /* the answer's FW_JWT_* */
    json_t                    *payload;      /* an active answer's */
    u_char                     digest[32];
    unsigned                   want:1;       /* a subrequest is due */
    unsigned                   pending:1;    /* it runs */
    unsigned                   done:1;       /* it answered */
    unsigned                   asked:1;      /* once per request */
    unsigned                   used:1;       /* the token was opaque */
} ngx_http_fw_jwt_introspect_ctx_t;


char *ngx_http_fw_jwt_introspect(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_introspect_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#define NGX_HTTP_FW_JWT_INTROSPECT_COMMANDS(type, field)                     \
                                                                              \
    { ngx_string("fw_jwt_introspect"),                                        \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,  \
      ngx_http_fw_jwt_introspect,                                             \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field),                                                  \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_introspect_auth"),                                   \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23, \
      ngx_http_fw_jwt_introspect_auth,                                        \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field),                                                  \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_introspect_issuers"),                                \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,  \
      ngx_http_fw_jwt_str_list,                                               \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(type, field)                                                   \
      + offsetof(ngx_http_fw_jwt_introspect_conf_t, issuers),                 \
      NULL }


void ngx_http_fw_jwt_introspect_create_conf(
    ngx_http_fw_jwt_introspect_conf_t *ic);
char *ngx_http_fw_jwt_introspect_merge_conf(ngx_conf_t *cf,
    ngx_http_fw_jwt_introspect_conf_t *prev,
    ngx_http_fw_jwt_introspect_conf_t *conf);

/*
 * NGX_DECLINED: not for introspection (off, or a JWS whose unverified iss
 * is not in fw_jwt_introspect_issuers); else FW_JWT_*
 */
ngx_int_t ngx_http_fw_jwt_introspect_eval(ngx_http_request_t *r,
    ngx_http_fw_jwt_introspect_conf_t *ic,
    ngx_http_fw_jwt_introspect_ctx_t *ictx, ngx_str_t *raw,
    fw_jwt_token_t *token);
/* the subrequest; "sr" for the caller to mark it as not to be checked */
ngx_int_t ngx_http_fw_jwt_introspect_start(ngx_http_request_t *r,
    ngx_http_fw_jwt_introspect_conf_t *ic,
    ngx_http_fw_jwt_introspect_ctx_t *ictx, ngx_str_t *raw,
    ngx_http_request_t **sr);
void ngx_http_fw_jwt_introspect_reset(ngx_http_fw_jwt_introspect_ctx_t *ictx);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_JWT_INTROSPECT_H_INCLUDED_ */
