/*
 * fhirwall lockout: refuses a client address or a token subject for a
 * while after repeated failed authentication (401/403 answers), the
 * lockout doubling on each repeat.  Failures are counted in the log phase
 * (never delaying an answer); the check runs in the preaccess phase,
 * before any token is verified.  State is in Redis (shared by the
 * replicas; one atomic script per failure, one PTTL script per check) or
 * in shared memory (this node: no Redis, or the failure policy "local").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "ngx_http_fw_redis.h"
#include "ngx_http_fw_shm_cache.h"
#include "fw_lockout.h"


#define NGX_HTTP_FW_LO_NONE         0
#define NGX_HTTP_FW_LO_PASSED       1
#define NGX_HTTP_FW_LO_LOCKED       2
#define NGX_HTTP_FW_LO_ALLOWED      3
#define NGX_HTTP_FW_LO_ERROR        4   /* failure=open let it through */
#define NGX_HTTP_FW_LO_UNAVAILABLE  5   /* failure=closed refused it */

#define NGX_HTTP_FW_LO_FAIL_OPEN    0
#define NGX_HTTP_FW_LO_FAIL_CLOSED  1
#define NGX_HTTP_FW_LO_FAIL_LOCAL   2

#define NGX_HTTP_FW_LO_WAITING      1
#define NGX_HTTP_FW_LO_DECIDED      2
#define NGX_HTTP_FW_LO_FINISHED     3

#define NGX_HTTP_FW_LO_SPACE_ADDR   0
#define NGX_HTTP_FW_LO_SPACE_SUB    1

#define NGX_HTTP_FW_LO_KEY_MAX      512


typedef struct {
    ngx_http_fw_redis_conf_t      *redis;
    ngx_str_t                      prefix;
    size_t                         zone_size;
    ngx_shm_zone_t                *shm_zone;
    ngx_http_fw_redis_t           *client;      /* this worker's */
    ngx_uint_t                     failing;     /* logged state */
    ngx_uint_t                     used;        /* a location has it on */
} ngx_http_fw_lockout_main_conf_t;


typedef struct {
    fw_lockout_conf_t             *lc;          /* NULL: off */
    ngx_http_complex_value_t      *subject;
    ngx_array_t                   *allow;       /* ngx_cidr_t */
    ngx_array_t                   *count;       /* ngx_uint_t statuses */
    ngx_uint_t                     failure;
    ngx_uint_t                     status;
    ngx_uint_t                     error_format;
    ngx_msec_t                     timeout;
} ngx_http_fw_lockout_loc_conf_t;


typedef struct {
    ngx_http_request_t            *r;
    ngx_http_fw_lockout_loc_conf_t  *lcf;
    ngx_http_fw_redis_cmd_t       *cmd;
    ngx_uint_t                     state;
    ngx_uint_t                     status;      /* NGX_HTTP_FW_LO_* */
    uint64_t                       remaining;   /* ms */
    ngx_str_t                      addr;
    ngx_str_t                      sub;
} ngx_http_fw_lockout_ctx_t;


static ngx_int_t ngx_http_fw_lockout_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_lockout_keys(ngx_http_request_t *r,
    ngx_http_fw_lockout_loc_conf_t *lcf, ngx_str_t *addr, ngx_str_t *sub);
static ngx_uint_t ngx_http_fw_lockout_allowed(ngx_http_request_t *r,
    ngx_http_fw_lockout_loc_conf_t *lcf);
static void ngx_http_fw_lockout_check_reply(void *data, ngx_int_t status,
    redisReply *reply);
static void ngx_http_fw_lockout_wait(ngx_http_request_t *r);
static void ngx_http_fw_lockout_failed(ngx_http_fw_lockout_ctx_t *ctx,
    const char *reason);
static void ngx_http_fw_lockout_redis_state(ngx_log_t *log,
    ngx_http_fw_lockout_main_conf_t *lmcf, ngx_uint_t ok,
    const char *reason);
static uint64_t ngx_http_fw_lockout_local_check(ngx_http_request_t *r,
    ngx_str_t *addr, ngx_str_t *sub);
static void ngx_http_fw_lockout_local_fail(ngx_http_request_t *r,
    ngx_http_fw_lockout_loc_conf_t *lcf, ngx_uint_t space, ngx_str_t *key);
static ngx_int_t ngx_http_fw_lockout_apply(ngx_http_request_t *r,
    ngx_http_fw_lockout_ctx_t *ctx);
static void ngx_http_fw_lockout_cleanup(void *data);
static ngx_int_t ngx_http_fw_lockout_log_handler(ngx_http_request_t *r);
static void ngx_http_fw_lockout_fail_reply(void *data, ngx_int_t status,
    redisReply *reply);
static ngx_int_t ngx_http_fw_lockout_redis_fail(ngx_http_request_t *r,
    ngx_http_fw_lockout_loc_conf_t *lcf, const char *tag, ngx_str_t *key);
static size_t ngx_http_fw_lockout_redis_key(u_char *buf, ngx_str_t *prefix,
    const char *tag, ngx_str_t *key, const char *suffix);

static ngx_int_t ngx_http_fw_lockout_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_lockout_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void *ngx_http_fw_lockout_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_fw_lockout_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_fw_lockout_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_fw_lockout_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_fw_lockout_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_lockout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_lockout_allow(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_lockout_count(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_fw_lockout_status_code(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_fw_lockout_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_lockout_init_process(ngx_cycle_t *cycle);
static void ngx_http_fw_lockout_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_fw_lockout_failures[] = {
    { ngx_string("open"), NGX_HTTP_FW_LO_FAIL_OPEN },
    { ngx_string("closed"), NGX_HTTP_FW_LO_FAIL_CLOSED },
    { ngx_string("local"), NGX_HTTP_FW_LO_FAIL_LOCAL },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_fw_lockout_commands[] = {

    { ngx_string("fw_lockout_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_fw_lockout_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_lockout_zone_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_fw_lockout_main_conf_t, zone_size),
      NULL },

    { ngx_string("fw_lockout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_lockout,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_lockout_subject"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_lockout_loc_conf_t, subject),
      NULL },

    { ngx_string("fw_lockout_allow"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_lockout_allow,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_lockout_count"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_lockout_count,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_lockout_failure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_lockout_loc_conf_t, failure),
      &ngx_http_fw_lockout_failures },

    { ngx_string("fw_lockout_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_lockout_status_code,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_lockout_loc_conf_t, status),
      NULL },

    { ngx_string("fw_lockout_error_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_lockout_loc_conf_t, error_format),
      &ngx_http_fw_error_formats },

    { ngx_string("fw_lockout_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_lockout_loc_conf_t, timeout),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_lockout_module_ctx = {
    ngx_http_fw_lockout_add_variables,     /* preconfiguration */
    ngx_http_fw_lockout_init,              /* postconfiguration */

    ngx_http_fw_lockout_create_main_conf,  /* create main configuration */
    ngx_http_fw_lockout_init_main_conf,    /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_fw_lockout_create_loc_conf,   /* create location configuration */
    ngx_http_fw_lockout_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_fw_lockout_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_lockout_module_ctx,       /* module context */
    ngx_http_fw_lockout_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_fw_lockout_init_process,      /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_fw_lockout_exit_process,      /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_fw_lockout_vars[] = {

    { ngx_string("fw_lockout_status"), NULL,
      ngx_http_fw_lockout_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* indexed by NGX_HTTP_FW_LO_* */
static ngx_str_t  ngx_http_fw_lockout_status_names[] = {
    ngx_null_string,
    ngx_string(FW_VOCAB_LOCKOUT_PASSED),
    ngx_string(FW_VOCAB_LOCKOUT_LOCKED),
    ngx_string(FW_VOCAB_LOCKOUT_ALLOWED),
    ngx_string(FW_VOCAB_LOCKOUT_ERROR),
    ngx_string(FW_VOCAB_LOCKOUT_UNAVAILABLE)
};


static ngx_str_t  ngx_http_fw_lockout_retry_after = ngx_string("Retry-After");


/* PTTL of every lock key: the longest, in ms (0: none) */
static const char  ngx_http_fw_lockout_check_script[] =
    "local m = 0 "
    "for _, k in ipairs(KEYS) do "
    "local t = redis.call('PTTL', k) "
    "if t > m then m = t end "
    "end "
    "return m";


/*
 * KEYS: failures (sorted set), lock, level; ARGV: this node's time (ms,
 * unused: Redis' clock decides, so that the replicas' clocks do not
 * matter), window ms, failures, lockout ms, max ms, a unique member.
 * Returns the lockout it starts (ms), or 0.
 */
static const char  ngx_http_fw_lockout_fail_script[] =
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end "
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "local max = tonumber(ARGV[5]) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2])) "
    "redis.call('ZADD', KEYS[1], now, ARGV[6]) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
    "if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then return 0 end "
    "local lvl = redis.call('INCR', KEYS[3]) "
    "local d = tonumber(ARGV[4]) "
    "for i = 2, lvl do if d >= max then break end d = d * 2 end "
    "if d > max then d = max end "
    "redis.call('SET', KEYS[2], '1', 'PX', d) "
    "redis.call('PEXPIRE', KEYS[3], d + max) "
    "redis.call('DEL', KEYS[1]) "
    "return d";


/* the check: preaccess, before any token is verified */

static ngx_int_t
ngx_http_fw_lockout_handler(ngx_http_request_t *r)
{
    int                               argc;
    u_char                           *k;
    size_t                            argvlen[5];
    const char                       *argv[5], *err;
    ngx_pool_cleanup_t               *cln;
    ngx_http_fw_lockout_ctx_t        *ctx;
    ngx_http_fw_lockout_loc_conf_t   *lcf;
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_lockout_module);

    if (ctx) {
        switch (ctx->state) {

        case NGX_HTTP_FW_LO_WAITING:
            return NGX_AGAIN;

        case NGX_HTTP_FW_LO_DECIDED:
            ctx->state = NGX_HTTP_FW_LO_FINISHED;
            return ngx_http_fw_lockout_apply(r, ctx);

        default:
            return NGX_DECLINED;
        }
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_lockout_module);

    if (lcf->lc == NULL) {
        return NGX_DECLINED;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_lockout_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_lockout_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;
    ctx->lcf = lcf;
    ctx->state = NGX_HTTP_FW_LO_FINISHED;

    ngx_http_set_ctx(r, ctx, ngx_http_fw_lockout_module);

    if (ngx_http_fw_lockout_allowed(r, lcf)) {
        ctx->status = NGX_HTTP_FW_LO_ALLOWED;
        return NGX_DECLINED;
    }

    if (ngx_http_fw_lockout_keys(r, lcf, &ctx->addr, &ctx->sub) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (lmcf->client == NULL) {
        ctx->remaining = ngx_http_fw_lockout_local_check(r, &ctx->addr,
                                                         &ctx->sub);
        ctx->status = ctx->remaining ? NGX_HTTP_FW_LO_LOCKED
                                     : NGX_HTTP_FW_LO_PASSED;
        return ngx_http_fw_lockout_apply(r, ctx);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_fw_lockout_cleanup;
    cln->data = ctx;

    /* EVAL script numkeys key... */
    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_fw_lockout_check_script;
    argvlen[1] = sizeof(ngx_http_fw_lockout_check_script) - 1;
    argv[2] = ctx->sub.len ? "2" : "1";
    argvlen[2] = 1;
    argc = ctx->sub.len ? 5 : 4;

    k = ngx_pnalloc(r->pool, 2 * (NGX_HTTP_FW_LO_KEY_MAX + 1));
    if (k == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[3] = (const char *) k;
    argvlen[3] = ngx_http_fw_lockout_redis_key(k, &lmcf->prefix, "a",
                                               &ctx->addr, "l");
    k += NGX_HTTP_FW_LO_KEY_MAX + 1;

    argv[4] = (const char *) k;
    argvlen[4] = ctx->sub.len
                 ? ngx_http_fw_lockout_redis_key(k, &lmcf->prefix, "s",
                                                 &ctx->sub, "l")
                 : 0;

    ctx->cmd = ngx_http_fw_redis_send(lmcf->client, argc, argv, argvlen,
                                      lcf->timeout,
                                      ngx_http_fw_lockout_check_reply, ctx);

    if (ctx->cmd == NULL) {
        err = ngx_http_fw_redis_error(lmcf->client);
        ngx_http_fw_lockout_failed(ctx, err[0] ? err : "not ready");
        return ngx_http_fw_lockout_apply(r, ctx);
    }

    ctx->state = NGX_HTTP_FW_LO_WAITING;

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_fw_lockout_wait;

    return NGX_AGAIN;
}


/* "<prefix>{<tag>:<key>}:<suffix>", the key cut to fit */

static size_t
ngx_http_fw_lockout_redis_key(u_char *buf, ngx_str_t *prefix,
    const char *tag, ngx_str_t *key, const char *suffix)
{
    u_char  *p;
    size_t   len;

    len = ngx_min(key->len, NGX_HTTP_FW_LO_KEY_MAX - prefix->len - 16);

    p = ngx_sprintf(buf, "%V{%s:%*s}:%s", prefix, tag, len, key->data,
                    suffix);

    return p - buf;
}


static ngx_int_t
ngx_http_fw_lockout_keys(ngx_http_request_t *r,
    ngx_http_fw_lockout_loc_conf_t *lcf, ngx_str_t *addr, ngx_str_t *sub)
{
    *addr = r->connection->addr_text;
    ngx_str_null(sub);

    if (lcf->subject == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, lcf->subject, sub) != NGX_OK) {
        return NGX_ERROR;
    }

    if (sub->len > NGX_HTTP_FW_LO_KEY_MAX - 64) {
        sub->len = NGX_HTTP_FW_LO_KEY_MAX - 64;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_fw_lockout_allowed(ngx_http_request_t *r,
    ngx_http_fw_lockout_loc_conf_t *lcf)
{
    if (lcf->allow == NULL) {
        return 0;
    }

    return ngx_cidr_match(r->connection->sockaddr, lcf->allow) == NGX_OK;
}


static void
ngx_http_fw_lockout_check_reply(void *data, ngx_int_t status,
    redisReply *reply)
{
    ngx_http_fw_lockout_ctx_t        *ctx = data;

    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    r = ctx->r;
    c = r->connection;
    ctx->cmd = NULL;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_lockout_module);

    if (status == NGX_HTTP_FW_REDIS_TIMEOUT) {
        ngx_http_fw_lockout_failed(ctx, "timed out");

    } else if (status != NGX_HTTP_FW_REDIS_OK) {
        ngx_http_fw_lockout_failed(ctx, "connection lost");

    } else if (reply->type != REDIS_REPLY_INTEGER) {
        ngx_http_fw_lockout_failed(ctx, reply->type == REDIS_REPLY_ERROR
                                        ? reply->str : "unexpected reply");

    } else {
        ngx_http_fw_lockout_redis_state(c->log, lmcf, 1, NULL);
        ctx->remaining = reply->integer > 0 ? (uint64_t) reply->integer : 0;
        ctx->status = ctx->remaining ? NGX_HTTP_FW_LO_LOCKED
                                     : NGX_HTTP_FW_LO_PASSED;
    }

    ctx->state = NGX_HTTP_FW_LO_DECIDED;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_fw_lockout_wait(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw lockout: waiting for redis");
}


/* Redis could not decide: the location's failure policy applies */

static void
ngx_http_fw_lockout_failed(ngx_http_fw_lockout_ctx_t *ctx,
    const char *reason)
{
    ngx_http_request_t               *r;
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    r = ctx->r;
    lmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_lockout_module);

    ngx_http_fw_lockout_redis_state(r->connection->log, lmcf, 0, reason);

    switch (ctx->lcf->failure) {

    case NGX_HTTP_FW_LO_FAIL_LOCAL:
        ctx->remaining = ngx_http_fw_lockout_local_check(r, &ctx->addr,
                                                         &ctx->sub);
        ctx->status = ctx->remaining ? NGX_HTTP_FW_LO_LOCKED
                                     : NGX_HTTP_FW_LO_PASSED;
        return;

    case NGX_HTTP_FW_LO_FAIL_CLOSED:
        ctx->status = NGX_HTTP_FW_LO_UNAVAILABLE;
        return;

    default: /* open */
        ctx->status = NGX_HTTP_FW_LO_ERROR;
        return;
    }
}


/* "redis down" and "redis up again" are logged once each */

static void
ngx_http_fw_lockout_redis_state(ngx_log_t *log,
    ngx_http_fw_lockout_main_conf_t *lmcf, ngx_uint_t ok, const char *reason)
{
    if (ok) {
        if (lmcf->failing) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "fw_lockout: redis decides again");
            lmcf->failing = 0;
        }

        return;
    }

    if (!lmcf->failing) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "fw_lockout: redis cannot decide (%s); the "
                      "locations' failure policies apply until it can",
                      reason);
        lmcf->failing = 1;
    }
}


static ngx_int_t
ngx_http_fw_lockout_apply(ngx_http_request_t *r,
    ngx_http_fw_lockout_ctx_t *ctx)
{
    u_char     *p;
    ngx_str_t   v;

    switch (ctx->status) {

    case NGX_HTTP_FW_LO_LOCKED:
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        v.data = p;
        v.len = ngx_sprintf(p, "%uL", (ctx->remaining + 999) / 1000) - p;

        if (ngx_http_fw_set_header(r, &ngx_http_fw_lockout_retry_after, &v)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_fw_mark_denied(r, "lockout", FW_VOCAB_LOCKOUT_LOCKED);

        return ngx_http_fw_send_error(r, ctx->lcf->status,
                                      ctx->lcf->error_format,
                                      ctx->lcf->status == NGX_HTTP_FORBIDDEN
                                      ? "forbidden" : "throttled",
                                      "too many failed authentications");

    case NGX_HTTP_FW_LO_UNAVAILABLE:
        ngx_http_fw_mark_denied(r, "lockout",
                                FW_VOCAB_LOCKOUT_UNAVAILABLE);

        return ngx_http_fw_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      ctx->lcf->error_format, "transient",
                                      "lockout state unavailable");

    default:
        return NGX_DECLINED;
    }
}


static void
ngx_http_fw_lockout_cleanup(void *data)
{
    ngx_http_fw_lockout_ctx_t  *ctx = data;

    if (ctx->cmd) {
        ngx_http_fw_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }
}


/* shared memory: this node's state */

static uint64_t
ngx_http_fw_lockout_local_check(ngx_http_request_t *r, ngx_str_t *addr,
    ngx_str_t *sub)
{
    uint64_t                          now, rem, m;
    ngx_uint_t                        i;
    ngx_str_t                        *key;
    fw_lockout_state_t               *s;
    ngx_http_fw_shm_cache_t          *cache;
    ngx_http_fw_shm_cache_entry_t    *e;
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_lockout_module);
    cache = lmcf->shm_zone->data;
    now = (uint64_t) ngx_current_msec;
    m = 0;

    ngx_http_fw_shm_cache_lock(cache);

    for (i = 0; i < 2; i++) {
        key = (i == 0) ? addr : sub;

        if (key->len == 0) {
            continue;
        }

        e = ngx_http_fw_shm_cache_get(cache, (uint32_t) i, key->data,
                                      key->len);

        if (e == NULL) {
            continue;
        }

        s = ngx_http_fw_shm_cache_value(e);
        rem = fw_lockout_remaining(s, now);

        if (rem > m) {
            m = rem;
        }
    }

    ngx_http_fw_shm_cache_unlock(cache);

    return m;
}


static void
ngx_http_fw_lockout_local_fail(ngx_http_request_t *r,
    ngx_http_fw_lockout_loc_conf_t *lcf, ngx_uint_t space, ngx_str_t *key)
{
    uint64_t                          now, d;
    ngx_uint_t                        forgot;
    fw_lockout_state_t               *s;
    ngx_http_fw_shm_cache_t          *cache;
    ngx_http_fw_shm_cache_entry_t    *e;
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_lockout_module);
    cache = lmcf->shm_zone->data;
    now = (uint64_t) ngx_current_msec;
    forgot = 0;
    d = 0;

    ngx_http_fw_shm_cache_lock(cache);

    ngx_http_fw_shm_cache_expire(cache, (int64_t) now, 16);

    e = ngx_http_fw_shm_cache_get(cache, (uint32_t) space, key->data,
                                  key->len);
    if (e == NULL) {
        e = ngx_http_fw_shm_cache_add(cache, (uint32_t) space, key->data,
                                      key->len, (int64_t) now, &forgot);
    }

    if (e) {
        s = ngx_http_fw_shm_cache_value(e);
        d = fw_lockout_fail(s, lcf->lc, now);
        e->expires = (int64_t) fw_lockout_expires(s, lcf->lc);
    }

    ngx_http_fw_shm_cache_unlock(cache);

    if (forgot) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_lockout: the local zone is full, forgetting "
                      "failures that still count");
    }

    if (d) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_lockout: %s locked out for %uLms",
                      space == NGX_HTTP_FW_LO_SPACE_ADDR
                      ? "a client address" : "a subject", d);
    }
}


/* counting: the log phase, never delaying the answer */

static ngx_int_t
ngx_http_fw_lockout_log_handler(ngx_http_request_t *r)
{
    ngx_uint_t                        i, *st, counted;
    ngx_str_t                         addr, sub;
    ngx_http_fw_lockout_ctx_t        *ctx;
    ngx_http_fw_lockout_loc_conf_t   *lcf;
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    if (r != r->main) {
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_lockout_module);

    if (lcf->lc == NULL) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_lockout_module);

    if (ctx && ctx->status == NGX_HTTP_FW_LO_LOCKED) {
        /* a refusal of ours is not a failed authentication */
        return NGX_OK;
    }

    counted = 0;
    st = lcf->count->elts;

    for (i = 0; i < lcf->count->nelts; i++) {
        if (r->headers_out.status == st[i]) {
            counted = 1;
            break;
        }
    }

    if (!counted || ngx_http_fw_lockout_allowed(r, lcf)) {
        return NGX_OK;
    }

    if (ngx_http_fw_lockout_keys(r, lcf, &addr, &sub) != NGX_OK) {
        return NGX_OK;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_lockout_module);

    if (lmcf->client && ngx_http_fw_redis_ready(lmcf->client)) {
        if (ngx_http_fw_lockout_redis_fail(r, lcf, "a", &addr) == NGX_OK
            && (sub.len == 0
                || ngx_http_fw_lockout_redis_fail(r, lcf, "s", &sub)
                   == NGX_OK))
        {
            return NGX_OK;
        }
    }

    if (lmcf->client) {
        ngx_http_fw_lockout_redis_state(r->connection->log, lmcf, 0,
                                        ngx_http_fw_redis_error(lmcf->client));

        if (lcf->failure != NGX_HTTP_FW_LO_FAIL_LOCAL) {
            /* open or closed: the failure is not counted */
            return NGX_OK;
        }
    }

    ngx_http_fw_lockout_local_fail(r, lcf, NGX_HTTP_FW_LO_SPACE_ADDR, &addr);

    if (sub.len) {
        ngx_http_fw_lockout_local_fail(r, lcf, NGX_HTTP_FW_LO_SPACE_SUB,
                                       &sub);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_lockout_redis_fail(ngx_http_request_t *r,
    ngx_http_fw_lockout_loc_conf_t *lcf, const char *tag, ngx_str_t *key)
{
    u_char                           *k, *n;
    size_t                            argvlen[12];
    const char                       *argv[12];
    ngx_uint_t                        i;
    ngx_http_fw_redis_cmd_t          *cmd;
    ngx_http_fw_lockout_main_conf_t  *lmcf;
    static const char                *suffix[3] = { "f", "l", "n" };

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_lockout_module);

    k = ngx_pnalloc(r->pool, 3 * (NGX_HTTP_FW_LO_KEY_MAX + 1)
                             + 6 * (NGX_INT64_LEN + 1));
    if (k == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_fw_lockout_fail_script;
    argvlen[1] = sizeof(ngx_http_fw_lockout_fail_script) - 1;
    argv[2] = "3";
    argvlen[2] = 1;

    for (i = 0; i < 3; i++) {
        argv[3 + i] = (const char *) k;
        argvlen[3 + i] = ngx_http_fw_lockout_redis_key(k, &lmcf->prefix, tag,
                                                       key, suffix[i]);
        k += NGX_HTTP_FW_LO_KEY_MAX + 1;
    }

    n = k;

    /* now, window, failures, lockout, max, a unique member */
    k = ngx_sprintf(n, "%uL", (uint64_t) ngx_time() * 1000
                              + (uint64_t) ngx_timeofday()->msec);
    argv[6] = (const char *) n;
    argvlen[6] = k - n;

    n = k;
    k = ngx_sprintf(n, "%uL", lcf->lc->window);
    argv[7] = (const char *) n;
    argvlen[7] = k - n;

    n = k;
    k = ngx_sprintf(n, "%uD", lcf->lc->failures);
    argv[8] = (const char *) n;
    argvlen[8] = k - n;

    n = k;
    k = ngx_sprintf(n, "%uL", lcf->lc->lockout);
    argv[9] = (const char *) n;
    argvlen[9] = k - n;

    n = k;
    k = ngx_sprintf(n, "%uL", lcf->lc->max);
    argv[10] = (const char *) n;
    argvlen[10] = k - n;

    n = k;
    k = ngx_sprintf(n, "%uL.%08xD", (uint64_t) ngx_current_msec,
                    (uint32_t) ngx_random());
    argv[11] = (const char *) n;
    argvlen[11] = k - n;

    cmd = ngx_http_fw_redis_send(lmcf->client, 12, argv, argvlen,
                                 lcf->timeout, ngx_http_fw_lockout_fail_reply,
                                 lmcf);

    return cmd ? NGX_OK : NGX_ERROR;
}


/* the request may be gone: only the client's state is touched */

static void
ngx_http_fw_lockout_fail_reply(void *data, ngx_int_t status,
    redisReply *reply)
{
    ngx_http_fw_lockout_main_conf_t  *lmcf = data;

    if (status == NGX_HTTP_FW_REDIS_OK && reply->type == REDIS_REPLY_INTEGER)
    {
        ngx_http_fw_lockout_redis_state(ngx_cycle->log, lmcf, 1, NULL);

        if (reply->integer > 0) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "fw_lockout: locked out for %Lms (redis)",
                          (int64_t) reply->integer);
        }

        return;
    }

    ngx_http_fw_lockout_redis_state(ngx_cycle->log, lmcf, 0,
                                    status == NGX_HTTP_FW_REDIS_TIMEOUT
                                    ? "timed out"
                                    : (status == NGX_HTTP_FW_REDIS_OK
                                       && reply->type == REDIS_REPLY_ERROR)
                                      ? reply->str : "connection lost");
}


static ngx_int_t
ngx_http_fw_lockout_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_fw_lockout_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_fw_lockout_module);

    if (ctx == NULL || ctx->status == NGX_HTTP_FW_LO_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ngx_http_fw_lockout_status_names[ctx->status].data;
    v->len = ngx_http_fw_lockout_status_names[ctx->status].len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_lockout_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_fw_lockout_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_fw_lockout_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_lockout_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    lmcf->zone_size = NGX_CONF_UNSET_SIZE;

    return lmcf;
}


static char *
ngx_http_fw_lockout_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_fw_lockout_main_conf_t  *lmcf = conf;

    if (lmcf->prefix.data == NULL) {
        ngx_str_set(&lmcf->prefix, "fw:lo:");
    }

    ngx_conf_init_size_value(lmcf->zone_size, 1024 * 1024);

    if (lmcf->zone_size < 8 * ngx_pagesize) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_lockout_zone_size\" must be at least %uz",
                           8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_fw_lockout_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_lockout_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_lockout_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->lc = NGX_CONF_UNSET_PTR;
    conf->subject = NGX_CONF_UNSET_PTR;
    conf->allow = NGX_CONF_UNSET_PTR;
    conf->count = NGX_CONF_UNSET_PTR;
    conf->failure = NGX_CONF_UNSET_UINT;
    conf->status = NGX_CONF_UNSET_UINT;
    conf->error_format = NGX_CONF_UNSET_UINT;
    conf->timeout = NGX_CONF_UNSET_MSEC;

    return conf;
}


static char *
ngx_http_fw_lockout_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_fw_lockout_loc_conf_t *prev = parent;
    ngx_http_fw_lockout_loc_conf_t *conf = child;

    ngx_uint_t                        *st;
    ngx_http_fw_lockout_main_conf_t   *lmcf;

    ngx_conf_merge_ptr_value(conf->lc, prev->lc, NULL);
    ngx_conf_merge_ptr_value(conf->subject, prev->subject, NULL);
    ngx_conf_merge_ptr_value(conf->allow, prev->allow, NULL);
    ngx_conf_merge_ptr_value(conf->count, prev->count, NULL);
    ngx_conf_merge_uint_value(conf->failure, prev->failure,
                              NGX_HTTP_FW_LO_FAIL_LOCAL);
    ngx_conf_merge_uint_value(conf->status, prev->status,
                              NGX_HTTP_TOO_MANY_REQUESTS);
    ngx_conf_merge_uint_value(conf->error_format, prev->error_format,
                              FW_FORMAT_PROBLEM);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 0);

    if (conf->count == NULL) {
        conf->count = ngx_array_create(cf->pool, 2, sizeof(ngx_uint_t));
        if (conf->count == NULL) {
            return NGX_CONF_ERROR;
        }

        st = ngx_array_push_n(conf->count, 2);
        if (st == NULL) {
            return NGX_CONF_ERROR;
        }

        st[0] = NGX_HTTP_UNAUTHORIZED;
        st[1] = NGX_HTTP_FORBIDDEN;
    }

    if (conf->lc) {
        lmcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_fw_lockout_module);
        lmcf->used = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_lockout_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_lockout_main_conf_t *lmcf = conf;

    ngx_int_t   rc;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (lmcf->redis) {
        return "is duplicate";
    }

    lmcf->redis = ngx_http_fw_redis_conf_create(cf);
    if (lmcf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len > 7 && ngx_strncmp(value[i].data, "prefix=", 7) == 0)
        {
            lmcf->prefix.data = value[i].data + 7;
            lmcf->prefix.len = value[i].len - 7;

            if (lmcf->prefix.len > 64
                || ngx_strlchr(lmcf->prefix.data,
                               lmcf->prefix.data + lmcf->prefix.len, '{')
                || ngx_strlchr(lmcf->prefix.data,
                               lmcf->prefix.data + lmcf->prefix.len, '}'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_lockout_redis\" directive: the "
                                   "prefix must be at most 64 bytes, "
                                   "without braces");
                return NGX_CONF_ERROR;
            }

            continue;
        }

        rc = ngx_http_fw_redis_parse_arg(cf, lmcf->redis, &value[i]);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_lockout_redis\" directive: unknown "
                               "parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_fw_redis_conf_finish(cf, lmcf->redis) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* fw_lockout failures=N window=T lockout=T max=T | off */

static char *
ngx_http_fw_lockout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_lockout_loc_conf_t *lcf = conf;

    ngx_int_t           n;
    ngx_str_t          *value, s;
    ngx_uint_t          i;
    const char         *err;
    fw_lockout_conf_t  *lc;

    if (lcf->lc != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        lcf->lc = NULL;
        return NGX_CONF_OK;
    }

    lc = ngx_pcalloc(cf->pool, sizeof(fw_lockout_conf_t));
    if (lc == NULL) {
        return NGX_CONF_ERROR;
    }

    lc->failures = 5;
    lc->window = 60000;
    lc->lockout = 60000;
    lc->max = 3600000;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "failures=", 9) == 0) {
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            lc->failures = (uint32_t) ngx_min(n, 1000);
            continue;
        }

        if (ngx_strncmp(value[i].data, "window=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;
            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            lc->window = (uint64_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "lockout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;
            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            lc->lockout = (uint64_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;
            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            lc->max = (uint64_t) n;
            continue;
        }

        goto invalid;
    }

    err = fw_lockout_conf_check(lc);

    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"fw_lockout\": %s", err);
        return NGX_CONF_ERROR;
    }

    lcf->lc = lc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"fw_lockout\" "
                       "(failures=N window=T lockout=T max=T or off)",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_fw_lockout_allow(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_lockout_loc_conf_t *lcf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value;
    ngx_uint_t   i;
    ngx_cidr_t  *cidr;

    if (lcf->allow == NGX_CONF_UNSET_PTR) {
        lcf->allow = ngx_array_create(cf->pool, 4, sizeof(ngx_cidr_t));
        if (lcf->allow == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        cidr = ngx_array_push(lcf->allow);
        if (cidr == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_ptocidr(&value[i], cidr);

        if (rc == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address \"%V\" in "
                               "\"fw_lockout_allow\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DONE) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "low address bits of %V are meaningless",
                               &value[i]);
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_lockout_count(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_lockout_loc_conf_t *lcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i, *st;

    if (lcf->count != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    lcf->count = ngx_array_create(cf->pool, 4, sizeof(ngx_uint_t));
    if (lcf->count == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        n = ngx_atoi(value[i].data, value[i].len);

        if (n < 400 || n > 599 || n == NGX_HTTP_TOO_MANY_REQUESTS) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_lockout_count\": \"%V\" is not a 4xx "
                               "or 5xx status other than 429", &value[i]);
            return NGX_CONF_ERROR;
        }

        st = ngx_array_push(lcf->count);
        if (st == NULL) {
            return NGX_CONF_ERROR;
        }

        *st = (ngx_uint_t) n;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_lockout_status_code(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fw_lockout_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "429") == 0) {
        lcf->status = NGX_HTTP_TOO_MANY_REQUESTS;

    } else if (ngx_strcmp(value[1].data, "403") == 0) {
        lcf->status = NGX_HTTP_FORBIDDEN;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_lockout_status\" must be 429 or 403");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_fw_lockout_init(ngx_conf_t *cf)
{
    ngx_str_t                         name;
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_lockout_module);

    if (!lmcf->used) {
        return NGX_OK;
    }

    ngx_str_set(&name, "fw_lockout_local");

    lmcf->shm_zone = ngx_shared_memory_add(cf, &name, lmcf->zone_size,
                                           &ngx_http_fw_lockout_module);
    if (lmcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_fw_shm_cache_create(cf, lmcf->shm_zone,
                                     sizeof(fw_lockout_state_t),
                                     "fw_lockout_zone_size")
        == NULL)
    {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /* first of our preaccess handlers: docs/DEVELOPING.md, "Phase order" */
    if (ngx_http_fw_add_phase_handler(cf, NGX_HTTP_PREACCESS_PHASE,
                                      ngx_http_fw_lockout_handler,
                                      NGX_HTTP_FW_RANK_LOCKOUT)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_fw_lockout_log_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_lockout_init_process(ngx_cycle_t *cycle)
{
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_fw_lockout_module);

    if (lmcf == NULL || lmcf->redis == NULL || !lmcf->used) {
        return NGX_OK;
    }

    lmcf->client = ngx_http_fw_redis_create(cycle, lmcf->redis);

    return lmcf->client ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_fw_lockout_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_fw_lockout_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_fw_lockout_module);

    if (lmcf && lmcf->client) {
        ngx_http_fw_redis_destroy(lmcf->client);
        lmcf->client = NULL;
    }
}
