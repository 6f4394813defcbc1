/*
 * fhirwall JWT: one-time tokens (fw_jwt_jti_replay) and the revocation
 * list (fw_jwt_revoke_file), nginx glue.  Checked after every other check
 * of the token passed, also for a token from the verified-token cache.
 */

#ifndef _NGX_HTTP_FW_JWT_REVOKE_H_INCLUDED_
#define _NGX_HTTP_FW_JWT_REVOKE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "fw_jwt.h"
#include "fw_jwt_revoke.h"


#pragma GCC visibility push(hidden)


typedef struct {
    ngx_shm_zone_t            *zone;
    ngx_flag_t                 required;
    ngx_flag_t                 redis;       /* across replicas */
    time_t                     ttl;         /* for a token without exp */
} ngx_http_fw_jwt_replay_t;


/* one a file; each worker keeps its own parsed copy up to date */
typedef struct {
    ngx_str_t                  path;        /* NUL-terminated */
    ngx_msec_t                 interval;
    size_t                     max_size;
    fw_jwt_revoke_t           *list;
    time_t                     mtime;
    off_t                      size;
    ngx_uint_t                 failed;      /* the last reload failed */
    ngx_event_t                timer;
} ngx_http_fw_jwt_revoke_t;


/* fw_jwt_jti_replay zone=NAME:SIZE [required] [ttl=T] [redis] | off */
char *ngx_http_fw_jwt_replay_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* fw_jwt_revoke_file PATH [interval=T] [max_size=N] | off */
char *ngx_http_fw_jwt_revoke_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * FW_JWT_VALID, FW_JWT_REVOKED, FW_JWT_REPLAYED or FW_JWT_ERROR; "seen"
 * (in the request's context) remembers the jti this request consumed, so
 * that checking again (rewrite ... last) does not refuse it.
 */
ngx_int_t ngx_http_fw_jwt_revoke_check(ngx_http_request_t *r,
    ngx_http_fw_jwt_replay_t *rp, ngx_http_fw_jwt_revoke_t *rv,
    fw_jwt_token_t *token, time_t leeway, ngx_str_t *seen);

ngx_int_t ngx_http_fw_jwt_revoke_init_process(ngx_cycle_t *cycle);

/*
 * The replay key of a token, SHA-256(iss NUL jti) in key (32 bytes), and
 * until when it is remembered: FW_JWT_VALID; NGX_DECLINED: no jti, and
 * none is required; FW_JWT_REPLAYED: no jti, one is; FW_JWT_ERROR.
 */
ngx_int_t ngx_http_fw_jwt_replay_key(ngx_http_request_t *r,
    ngx_http_fw_jwt_replay_t *rp, json_t *payload, time_t leeway,
    u_char *key, time_t *expires);

/* the replay check in this host's zone (also Redis's fallback) */
ngx_int_t ngx_http_fw_jwt_replay_local(ngx_http_request_t *r,
    ngx_http_fw_jwt_replay_t *rp, json_t *payload, time_t leeway,
    ngx_str_t *seen);

/* a claim that is a non-empty string, or NULL */
const u_char *ngx_http_fw_jwt_revoke_str(json_t *payload, const char *name,
    size_t *len);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_JWT_REVOKE_H_INCLUDED_ */
