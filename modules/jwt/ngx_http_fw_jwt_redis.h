/*
 * fhirwall JWT: the checks shared by the replicas through Redis (common/'s
 * non-blocking client): one-time tokens (fw_jwt_jti_replay ... redis),
 * revocation sets (fw_jwt_revoke_redis) and DPoP proof replay
 * (fw_jwt_dpop_replay_redis), all in one EVAL once every other check of
 * the token passed.  The request waits for the answer on an event; a
 * Redis that cannot answer gets the location's fw_jwt_redis_failure.
 */

#ifndef _NGX_HTTP_FW_JWT_REDIS_H_INCLUDED_
#define _NGX_HTTP_FW_JWT_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_redis.h"


#pragma GCC visibility push(hidden)


#define NGX_HTTP_FW_JWT_REDIS_CLOSED  0
#define NGX_HTTP_FW_JWT_REDIS_OPEN    1


/* fw_jwt_redis (http level): one client a worker */
typedef struct {
    ngx_http_fw_redis_conf_t  *conf;         /* NULL: no fw_jwt_redis */
    ngx_http_fw_redis_t       *client;       /* this worker's */
    ngx_str_t                  prefix;
    ngx_uint_t                 failing;      /* an outage was logged */
} ngx_http_fw_jwt_redis_main_t;


/* fw_jwt_revoke_redis: the keys, after the prefix */
typedef struct {
    ngx_str_t                  jti;          /* a set of jti values */
    ngx_str_t                  sub;          /* a sorted set: sub, at */
} ngx_http_fw_jwt_revoke_redis_t;


typedef struct {
    ngx_http_request_t        *request;
    ngx_http_fw_redis_cmd_t   *cmd;          /* while it is asked */
    ngx_int_t                  verdict;      /* FW_JWT_* once answered */
    unsigned                   want:1;       /* the token waits for it */
    unsigned                   answered:1;
} ngx_http_fw_jwt_redis_ctx_t;


extern ngx_conf_enum_t  ngx_http_fw_jwt_redis_failures[];


char *ngx_http_fw_jwt_redis_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_jwt_revoke_redis_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/* the directives, for the JWT module's command array */
#define NGX_HTTP_FW_JWT_REDIS_COMMANDS(main, loc)                            \
                                                                              \
    { ngx_string("fw_jwt_redis"),                                             \
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,                                      \
      ngx_http_fw_jwt_redis_conf,                                             \
      NGX_HTTP_MAIN_CONF_OFFSET,                                              \
      offsetof(main, redis),                                                  \
      NULL },                                                                 \
                                                                              \
    { ngx_string("fw_jwt_redis_failure"),                                     \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,  \
      ngx_conf_set_enum_slot,                                                 \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(loc, redis_failure),                                           \
      &ngx_http_fw_jwt_redis_failures },                                      \
                                                                              \
    { ngx_string("fw_jwt_revoke_redis"),                                      \
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_ANY,    \
      ngx_http_fw_jwt_revoke_redis_conf,                                      \
      NGX_HTTP_LOC_CONF_OFFSET,                                               \
      offsetof(loc, revoke_redis),                                            \
      NULL }


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_JWT_REDIS_H_INCLUDED_ */
