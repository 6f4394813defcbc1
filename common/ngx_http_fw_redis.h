/*
 * fhirwall: a non-blocking Redis client driven by nginx's event loop
 * (hiredis async API, one connection per worker and server).
 *
 * Generic: knows nothing of rate limiting.  A module
 *   - parses "address [db=N] [user=NAME] [password_file=PATH]
 *     [connect_timeout=T] [timeout=T] [backoff=T] [max_pending=N]" at
 *     configuration time (ngx_http_fw_redis_conf_create/_parse_arg/
 *     _conf_finish; host names are resolved there, never per request);
 *   - creates the per-worker client in init_process
 *     (ngx_http_fw_redis_create), which connects, sends AUTH and SELECT
 *     and checks the server with PING before it is "ready";
 *   - sends commands (ngx_http_fw_redis_send: argv, a per-command
 *     timeout, a handler called exactly once unless cancelled); commands
 *     are pipelined on the one connection;
 *   - destroys the client in exit_process.
 *
 * Failure model: a command that times out means the server is unhealthy
 * (replies come in order, so every later one would wait too): the
 * connection is closed, every pending command's handler is called with
 * NGX_HTTP_FW_REDIS_TIMEOUT (the late one) or _FAILED (the others), and
 * the client reconnects after an exponential backoff with jitter.  While
 * it is not ready, ngx_http_fw_redis_send() refuses at once (returns
 * NULL), so callers apply their failure policy without waiting.  State
 * changes (down, up again) are logged once, not per command.
 *
 * Metrics: with the metrics module loaded, each module's client counts
 * its reconnection attempts and the reconnections that succeeded in the
 * zone "fhirwall_metrics_redis_<module>" (ngx_http_fw_redis_conf_finish(),
 * <module> from the name of the module's directive, "fw_<module>_..."),
 * rendered as fhirwall_redis_reconnect_attempts_total{module="..."} and
 * fhirwall_redis_reconnects_total{module="..."} (docs/metrics.md).
 */

#ifndef _NGX_HTTP_FW_REDIS_H_INCLUDED_
#define _NGX_HTTP_FW_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#pragma GCC visibility push(hidden)


#define NGX_HTTP_FW_REDIS_OK       0   /* a reply (possibly an error reply) */
#define NGX_HTTP_FW_REDIS_TIMEOUT  1   /* this command timed out */
#define NGX_HTTP_FW_REDIS_FAILED   2   /* the connection failed or closed */


typedef struct ngx_http_fw_redis_s      ngx_http_fw_redis_t;
typedef struct ngx_http_fw_redis_cmd_s  ngx_http_fw_redis_cmd_t;

/* "reply" belongs to hiredis and is freed when the handler returns */
typedef void (*ngx_http_fw_redis_handler_pt)(void *data, ngx_int_t status,
    redisReply *reply);


typedef struct {
    ngx_str_t    name;             /* "127.0.0.1:6379", "unix:/path" */
    u_char      *host;             /* IP literal, NUL-terminated */
    int          port;
    u_char      *path;             /* unix socket, NUL-terminated */
    ngx_str_t    user;
    ngx_str_t    password;
    ngx_int_t    db;
    ngx_msec_t   connect_timeout;
    ngx_msec_t   timeout;          /* the default command timeout */
    ngx_msec_t   backoff;          /* the longest wait between attempts */
    ngx_int_t    max_pending;
    ngx_shm_zone_t  *metrics;      /* NULL without the metrics module */
} ngx_http_fw_redis_conf_t;


ngx_http_fw_redis_conf_t *ngx_http_fw_redis_conf_create(ngx_conf_t *cf);

/*
 * Parses one argument of the directive: the address (the first argument)
 * or a name=value option.  NGX_OK: taken; NGX_DECLINED: not ours (the
 * caller may know it); NGX_ERROR: invalid, already logged naming the
 * directive.
 */
ngx_int_t ngx_http_fw_redis_parse_arg(ngx_conf_t *cf,
    ngx_http_fw_redis_conf_t *rcf, ngx_str_t *arg);

/*
 * Applies the defaults and adds the metrics zone of the client, named
 * after the module of the directive being parsed ("fw_<module>_...":
 * "ratelimit", "webhook", "lockout", "jwt": the label of its series);
 * NGX_ERROR (logged) if no address was given.
 */
ngx_int_t ngx_http_fw_redis_conf_finish(ngx_conf_t *cf,
    ngx_http_fw_redis_conf_t *rcf);

ngx_http_fw_redis_t *ngx_http_fw_redis_create(ngx_cycle_t *cycle,
    ngx_http_fw_redis_conf_t *rcf);

void ngx_http_fw_redis_destroy(ngx_http_fw_redis_t *rds);

/*
 * Sends a command; timeout 0 means the configured one.  Returns NULL when
 * the client is not ready (or too many commands wait): the handler will
 * not be called.  Otherwise the handler is called exactly once, from the
 * event loop, never from within this call.
 */
ngx_http_fw_redis_cmd_t *ngx_http_fw_redis_send(ngx_http_fw_redis_t *rds,
    int argc, const char **argv, const size_t *argvlen, ngx_msec_t timeout,
    ngx_http_fw_redis_handler_pt handler, void *data);

/* the handler of a sent command will not be called (e.g. request gone) */
void ngx_http_fw_redis_cancel(ngx_http_fw_redis_cmd_t *cmd);

/* 1 when connected and authenticated */
ngx_int_t ngx_http_fw_redis_ready(ngx_http_fw_redis_t *rds);

/* why the client is not ready ("" when it is), for log lines */
const char *ngx_http_fw_redis_error(ngx_http_fw_redis_t *rds);

ngx_http_fw_redis_conf_t *ngx_http_fw_redis_conf(ngx_http_fw_redis_t *rds);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_REDIS_H_INCLUDED_ */
