/*
 * fhirwall: a non-blocking Redis client driven by nginx's event loop.
 * See ngx_http_fw_redis.h for the contract.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/socket.h>

#include "ngx_http_fw_common.h"
#include "ngx_http_fw_metrics.h"
#include "ngx_http_fw_redis.h"


#define NGX_HTTP_FW_REDIS_DOWN        0
#define NGX_HTTP_FW_REDIS_CONNECTING  1
#define NGX_HTTP_FW_REDIS_READY       2

#define NGX_HTTP_FW_REDIS_BACKOFF_MIN  100

/* the client's metrics (ngx_http_fw_redis_metrics_zone()) */
#define NGX_HTTP_FW_REDIS_M_ATTEMPTS   0
#define NGX_HTTP_FW_REDIS_M_RECONNECTS 1
#define NGX_HTTP_FW_REDIS_PASSWORD_MAX 4096


struct ngx_http_fw_redis_s {
    ngx_http_fw_redis_conf_t      *conf;
    ngx_log_t                     *log;
    redisAsyncContext             *ac;
    ngx_connection_t              *conn;

    ngx_event_t                    reconnect;
    ngx_event_t                    connect_timer;

    ngx_queue_t                    free;
    ngx_int_t                      pending;
    ngx_msec_t                     backoff;

    ngx_uint_t                     state;
    ngx_uint_t                     logged;      /* last state logged */

    u_char                         reason[160]; /* the last failure */

    ngx_uint_t                     unsent;      /* queued, not written */

    unsigned                       initial:1;   /* first attempt */
    unsigned                       retrying:1;  /* a reconnection attempt */
    unsigned                       want_write:1;
    unsigned                       in_write:1;
    unsigned                       exiting:1;
};


struct ngx_http_fw_redis_cmd_s {
    ngx_queue_t                    queue;
    ngx_http_fw_redis_t           *rds;
    ngx_event_t                    timer;
    ngx_msec_t                     timeout;
    ngx_http_fw_redis_handler_pt   handler;
    void                          *data;
    unsigned                       timedout:1;
};


/* commands queued before they are written without waiting (see flush) */
#define NGX_HTTP_FW_REDIS_BATCH  8


static void ngx_http_fw_redis_connect(ngx_http_fw_redis_t *rds);
static void ngx_http_fw_redis_lost(ngx_http_fw_redis_t *rds,
    const char *reason);
static void ngx_http_fw_redis_fail(ngx_http_fw_redis_t *rds,
    const char *reason);
static void ngx_http_fw_redis_up(ngx_http_fw_redis_t *rds);
static ngx_http_fw_redis_cmd_t *ngx_http_fw_redis_cmd_alloc(
    ngx_http_fw_redis_t *rds);
static void ngx_http_fw_redis_cmd_free(ngx_http_fw_redis_cmd_t *cmd);
static ngx_int_t ngx_http_fw_redis_internal(ngx_http_fw_redis_t *rds,
    int argc, const char **argv, const size_t *argvlen,
    ngx_http_fw_redis_handler_pt handler);
static void ngx_http_fw_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_fw_redis_auth_done(void *data, ngx_int_t status,
    redisReply *reply);
static void ngx_http_fw_redis_select_done(void *data, ngx_int_t status,
    redisReply *reply);
static void ngx_http_fw_redis_ping_done(void *data, ngx_int_t status,
    redisReply *reply);
static void ngx_http_fw_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_fw_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_fw_redis_add_read(void *privdata);
static void ngx_http_fw_redis_del_read(void *privdata);
static void ngx_http_fw_redis_add_write(void *privdata);
static void ngx_http_fw_redis_del_write(void *privdata);
static void ngx_http_fw_redis_cleanup(void *privdata);
static void ngx_http_fw_redis_read_handler(ngx_event_t *ev);
static void ngx_http_fw_redis_write_handler(ngx_event_t *ev);
static void ngx_http_fw_redis_flush(ngx_http_fw_redis_t *rds);
static void ngx_http_fw_redis_cmd_timeout(ngx_event_t *ev);
static void ngx_http_fw_redis_connect_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_fw_redis_handshake(ngx_http_fw_redis_t *rds);
static ngx_int_t ngx_http_fw_redis_password(ngx_conf_t *cf,
    ngx_http_fw_redis_conf_t *rcf, ngx_str_t *arg, ngx_str_t *name);
static ngx_int_t ngx_http_fw_redis_address(ngx_conf_t *cf,
    ngx_http_fw_redis_conf_t *rcf, ngx_str_t *arg, ngx_str_t *name);
static void ngx_http_fw_redis_reconnect(ngx_event_t *ev);
static ngx_int_t ngx_http_fw_redis_metrics_zone(ngx_conf_t *cf,
    ngx_http_fw_redis_conf_t *rcf);
static void ngx_http_fw_redis_count(ngx_http_fw_redis_t *rds, ngx_uint_t m);
static ngx_int_t ngx_http_fw_redis_parse_time(ngx_conf_t *cf,
    ngx_str_t *v, size_t skip, ngx_msec_t *out);


/* ------------------------------------------------------- configuration */

ngx_http_fw_redis_conf_t *
ngx_http_fw_redis_conf_create(ngx_conf_t *cf)
{
    ngx_http_fw_redis_conf_t  *rcf;

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_redis_conf_t));
    if (rcf == NULL) {
        return NULL;
    }

    rcf->db = NGX_CONF_UNSET;
    rcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    rcf->timeout = NGX_CONF_UNSET_MSEC;
    rcf->backoff = NGX_CONF_UNSET_MSEC;
    rcf->max_pending = NGX_CONF_UNSET;

    return rcf;
}


static ngx_int_t
ngx_http_fw_redis_parse_time(ngx_conf_t *cf, ngx_str_t *v, size_t skip,
    ngx_msec_t *out)
{
    ngx_int_t  t;
    ngx_str_t  s;

    s.data = v->data + skip;
    s.len = v->len - skip;

    t = ngx_parse_time(&s, 0);

    if (t == NGX_ERROR || t == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: invalid time in \"%V\"",
                           &((ngx_str_t *) cf->args->elts)[0], v);
        return NGX_ERROR;
    }

    *out = (ngx_msec_t) t;

    return NGX_OK;
}


/* password_file=: the password, without a trailing line end */

static ngx_int_t
ngx_http_fw_redis_password(ngx_conf_t *cf, ngx_http_fw_redis_conf_t *rcf,
    ngx_str_t *arg, ngx_str_t *name)
{
    size_t     len;
    ngx_str_t  file, pw;

    file.data = ngx_pstrdup(cf->pool, arg);
    if (file.data == NULL) {
        return NGX_ERROR;
    }

    file.data += 14;
    file.len = arg->len - 14;

    if (ngx_http_fw_read_conf_file(cf, &file,
                                   NGX_HTTP_FW_REDIS_PASSWORD_MAX, &pw)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a trailing newline (as editors write it) is not the password's */
    len = pw.len;
    while (len && (pw.data[len - 1] == '\n' || pw.data[len - 1] == '\r'))
    {
        len--;
    }

    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: the password file \"%V\" "
                           "holds no password", name, &file);
        return NGX_ERROR;
    }

    rcf->password.data = pw.data;
    rcf->password.len = len;
    return NGX_OK;
}


/* the address: unix:/path, or host[:port] resolved now */

static ngx_int_t
ngx_http_fw_redis_address(ngx_conf_t *cf, ngx_http_fw_redis_conf_t *rcf,
    ngx_str_t *arg, ngx_str_t *name)
{
    size_t     len;
    ngx_url_t  u;

    if (arg->len > 5 && ngx_strncmp(arg->data, "unix:", 5) == 0) {
        if (arg->len == 5) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" directive: invalid parameter \"%V\"",
                               name, arg);
            return NGX_ERROR;
        }

        rcf->path = ngx_pnalloc(cf->pool, arg->len - 5 + 1);
        if (rcf->path == NULL) {
            return NGX_ERROR;
        }

        ngx_cpystrn(rcf->path, arg->data + 5, arg->len - 5 + 1);
        rcf->name = *arg;
        return NGX_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *arg;
    u.default_port = 6379;
    u.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: %s in redis address \"%V\"",
                           name, u.err ? u.err : "error", arg);
        return NGX_ERROR;
    }

    if (u.naddrs == 0 || u.addrs == NULL
        || (u.addrs[0].sockaddr->sa_family != AF_INET
#if (NGX_HAVE_INET6)
            && u.addrs[0].sockaddr->sa_family != AF_INET6
#endif
           ))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: redis address \"%V\" does not "
                           "resolve to an IP address", name, arg);
        return NGX_ERROR;
    }

    rcf->host = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (rcf->host == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, rcf->host,
                        NGX_SOCKADDR_STRLEN, 0);
    rcf->host[len] = '\0';

    /* ngx_sock_ntop() writes IPv6 without brackets when port is 0 */
    rcf->port = (int) ngx_inet_get_port(u.addrs[0].sockaddr);
    rcf->name = *arg;

    return NGX_OK;
}


ngx_int_t
ngx_http_fw_redis_parse_arg(ngx_conf_t *cf, ngx_http_fw_redis_conf_t *rcf,
    ngx_str_t *arg)
{
    ngx_str_t  *name;

    name = &((ngx_str_t *) cf->args->elts)[0];

    if (arg->len > 3 && ngx_strncmp(arg->data, "db=", 3) == 0) {
        rcf->db = ngx_atoi(arg->data + 3, arg->len - 3);
        if (rcf->db == NGX_ERROR) {
            goto invalid;
        }

        return NGX_OK;
    }

    if (arg->len > 5 && ngx_strncmp(arg->data, "user=", 5) == 0) {
        rcf->user.data = arg->data + 5;
        rcf->user.len = arg->len - 5;
        return NGX_OK;
    }

    if (arg->len > 14 && ngx_strncmp(arg->data, "password_file=", 14) == 0) {
        return ngx_http_fw_redis_password(cf, rcf, arg, name);
    }

    if (arg->len > 16
        && ngx_strncmp(arg->data, "connect_timeout=", 16) == 0)
    {
        return ngx_http_fw_redis_parse_time(cf, arg, 16,
                                            &rcf->connect_timeout);
    }

    if (arg->len > 8 && ngx_strncmp(arg->data, "timeout=", 8) == 0) {
        return ngx_http_fw_redis_parse_time(cf, arg, 8, &rcf->timeout);
    }

    if (arg->len > 8 && ngx_strncmp(arg->data, "backoff=", 8) == 0) {
        return ngx_http_fw_redis_parse_time(cf, arg, 8, &rcf->backoff);
    }

    if (arg->len > 12 && ngx_strncmp(arg->data, "max_pending=", 12) == 0) {
        rcf->max_pending = ngx_atoi(arg->data + 12, arg->len - 12);
        if (rcf->max_pending == NGX_ERROR || rcf->max_pending == 0) {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strlchr(arg->data, arg->data + arg->len, '=') != NULL
        || rcf->name.len)
    {
        return NGX_DECLINED;
    }

    return ngx_http_fw_redis_address(cf, rcf, arg, name);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" directive: invalid parameter \"%V\"",
                       name, arg);
    return NGX_ERROR;
}


ngx_int_t
ngx_http_fw_redis_conf_finish(ngx_conf_t *cf, ngx_http_fw_redis_conf_t *rcf)
{
    if (rcf->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: no redis address",
                           &((ngx_str_t *) cf->args->elts)[0]);
        return NGX_ERROR;
    }

    if (rcf->user.len && rcf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: \"user=\" needs "
                           "\"password_file=\"",
                           &((ngx_str_t *) cf->args->elts)[0]);
        return NGX_ERROR;
    }

    ngx_conf_init_value(rcf->db, 0);
    ngx_conf_init_msec_value(rcf->connect_timeout, 1000);
    ngx_conf_init_msec_value(rcf->timeout, 100);
    ngx_conf_init_msec_value(rcf->backoff, 5000);
    ngx_conf_init_value(rcf->max_pending, 4096);

    if (rcf->backoff < NGX_HTTP_FW_REDIS_BACKOFF_MIN) {
        rcf->backoff = NGX_HTTP_FW_REDIS_BACKOFF_MIN;
    }

    return ngx_http_fw_redis_metrics_zone(cf, rcf);
}


/*
 * The zone "fhirwall_metrics_redis_<module>": one block per module (each
 * .so has its own copy of this file, so the tag differs), its series
 * labelled with the module, the word after "fw_" in the directive's name
 * (a fixed string of ours, never a value from a request); the metrics
 * module renders the families of every such zone together.
 */

static ngx_uint_t  ngx_http_fw_redis_metrics_tag;

static ngx_int_t
ngx_http_fw_redis_metrics_zone(ngx_conf_t *cf, ngx_http_fw_redis_conf_t *rcf)
{
    u_char             *zname, *module;
    size_t              len, n;
    ngx_str_t          *name;
    const char        **lv;
    fw_metric_desc_t   *d;

    name = &((ngx_str_t *) cf->args->elts)[0];

    /* "fw_ratelimit_redis": "ratelimit" */

    n = 0;

    if (name->len > 3 && ngx_strncmp(name->data, "fw_", 3) == 0) {
        while (3 + n < name->len && n < 16
               && name->data[3 + n] >= 'a' && name->data[3 + n] <= 'z')
        {
            n++;
        }
    }

    len = sizeof("redis_") - 1 + (n ? n : sizeof("other") - 1);

    zname = ngx_pnalloc(cf->pool, len + 1);
    module = ngx_pnalloc(cf->pool, 17);
    d = ngx_pcalloc(cf->pool, 2 * sizeof(fw_metric_desc_t));
    lv = ngx_palloc(cf->pool, sizeof(const char *));

    if (zname == NULL || module == NULL || d == NULL || lv == NULL) {
        return NGX_ERROR;
    }

    if (n) {
        ngx_cpystrn(module, name->data + 3, n + 1);
    } else {
        ngx_cpystrn(module, (u_char *) "other", sizeof("other"));
    }

    ngx_sprintf(zname, "redis_%s%Z", module);
    lv[0] = (const char *) module;

    d[0].name = "fhirwall_redis_reconnect_attempts_total";
    d[0].help = "Connection attempts of a worker's Redis client after its "
                "connection was lost or its first attempt failed.";
    d[1].name = "fhirwall_redis_reconnects_total";
    d[1].help = "Reconnection attempts that succeeded: the client was "
                "ready again (connected, authenticated, PING answered).";

    d[0].type = FW_METRIC_COUNTER;
    d[0].label = "module";
    d[0].lvalues = lv;
    d[0].nlvalues = 1;
    d[1].type = FW_METRIC_COUNTER;
    d[1].label = "module";
    d[1].lvalues = lv;
    d[1].nlvalues = 1;

    rcf->metrics = ngx_http_fw_metrics_zone2(cf, (const char *) zname,
                                             "redis", d, NULL, 2,
                                             &ngx_http_fw_redis_metrics_tag);

    if (rcf->metrics == NGX_HTTP_FW_METRICS_ERROR) {
        rcf->metrics = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_fw_redis_count(ngx_http_fw_redis_t *rds, ngx_uint_t m)
{
    fw_metrics_add(ngx_http_fw_metrics_block(rds->conf->metrics), m, 0, 1);
}


/* ------------------------------------------------------------- lifetime */

ngx_http_fw_redis_t *
ngx_http_fw_redis_create(ngx_cycle_t *cycle, ngx_http_fw_redis_conf_t *rcf)
{
    ngx_http_fw_redis_t  *rds;

    rds = ngx_pcalloc(cycle->pool, sizeof(ngx_http_fw_redis_t));
    if (rds == NULL) {
        return NULL;
    }

    rds->conf = rcf;
    rds->log = cycle->log;
    rds->state = NGX_HTTP_FW_REDIS_DOWN;
    rds->logged = NGX_HTTP_FW_REDIS_CONNECTING;   /* nothing logged yet */
    rds->initial = 1;
    rds->backoff = NGX_HTTP_FW_REDIS_BACKOFF_MIN;

    ngx_queue_init(&rds->free);

    rds->reconnect.handler = ngx_http_fw_redis_reconnect;
    rds->reconnect.data = rds;
    rds->reconnect.log = rds->log;
    rds->reconnect.cancelable = 1;

    rds->connect_timer.handler = ngx_http_fw_redis_connect_timeout;
    rds->connect_timer.data = rds;
    rds->connect_timer.log = rds->log;
    rds->connect_timer.cancelable = 1;

    ngx_http_fw_redis_connect(rds);

    return rds;
}


void
ngx_http_fw_redis_destroy(ngx_http_fw_redis_t *rds)
{
    ngx_queue_t              *q;
    redisAsyncContext        *ac;
    ngx_http_fw_redis_cmd_t  *cmd;

    if (rds == NULL) {
        return;
    }

    rds->exiting = 1;
    rds->state = NGX_HTTP_FW_REDIS_DOWN;

    if (rds->reconnect.timer_set) {
        ngx_del_timer(&rds->reconnect);
    }

    if (rds->connect_timer.timer_set) {
        ngx_del_timer(&rds->connect_timer);
    }

    ac = rds->ac;

    if (ac) {
        rds->ac = NULL;
        redisAsyncFree(ac);
    }

    while (!ngx_queue_empty(&rds->free)) {
        q = ngx_queue_head(&rds->free);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_fw_redis_cmd_t, queue);
        ngx_free(cmd);
    }
}


ngx_int_t
ngx_http_fw_redis_ready(ngx_http_fw_redis_t *rds)
{
    return rds && rds->ac && rds->state == NGX_HTTP_FW_REDIS_READY;
}


const char *
ngx_http_fw_redis_error(ngx_http_fw_redis_t *rds)
{
    if (rds == NULL) {
        return "no client";
    }

    if (rds->state == NGX_HTTP_FW_REDIS_READY) {
        return "";
    }

    if (rds->state == NGX_HTTP_FW_REDIS_CONNECTING) {
        return rds->reason[0] ? "reconnecting" : "connecting";
    }

    return (const char *) rds->reason;
}


ngx_http_fw_redis_conf_t *
ngx_http_fw_redis_conf(ngx_http_fw_redis_t *rds)
{
    return rds->conf;
}


/* AUTH, SELECT and PING, in this order; NGX_ERROR: the client failed */

static ngx_int_t
ngx_http_fw_redis_handshake(ngx_http_fw_redis_t *rds)
{
    int                        argc;
    size_t                     argvlen[3];
    u_char                     db[NGX_INT_T_LEN];
    const char                *argv[3];
    ngx_http_fw_redis_conf_t  *rcf;

    rcf = rds->conf;

    if (rcf->password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        argvlen[argc++] = 4;

        if (rcf->user.len) {
            argv[argc] = (const char *) rcf->user.data;
            argvlen[argc++] = rcf->user.len;
        }

        argv[argc] = (const char *) rcf->password.data;
        argvlen[argc++] = rcf->password.len;

        if (ngx_http_fw_redis_internal(rds, argc, argv, argvlen,
                                       ngx_http_fw_redis_auth_done)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (rcf->db) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%i", rcf->db) - db;

        if (ngx_http_fw_redis_internal(rds, 2, argv, argvlen,
                                       ngx_http_fw_redis_select_done)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    argv[0] = "PING";
    argvlen[0] = 4;

    if (ngx_http_fw_redis_internal(rds, 1, argv, argvlen,
                                   ngx_http_fw_redis_ping_done)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_fw_redis_connect(ngx_http_fw_redis_t *rds)
{
    redisAsyncContext         *ac;
    ngx_connection_t          *c;
    ngx_http_fw_redis_conf_t  *rcf;

    rcf = rds->conf;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, rds->log, 0,
                   "fw redis %V: connecting", &rcf->name);

    if (rcf->path) {
        ac = redisAsyncConnectUnix((const char *) rcf->path);

    } else {
        /* an IP literal: no name lookup happens here */
        ac = redisAsyncConnect((const char *) rcf->host, rcf->port);
    }

    if (ac == NULL) {
        ngx_http_fw_redis_lost(rds, "out of memory");
        return;
    }

    if (ac->err) {
        ngx_http_fw_redis_lost(rds, ac->errstr);
        redisAsyncFree(ac);
        return;
    }

    c = ngx_get_connection(ac->c.fd, rds->log);
    if (c == NULL) {
        ngx_http_fw_redis_lost(rds, "no free nginx connection");
        redisAsyncFree(ac);
        return;
    }

    c->data = rds;
    c->read->handler = ngx_http_fw_redis_read_handler;
    c->write->handler = ngx_http_fw_redis_write_handler;
    c->read->log = rds->log;
    c->write->log = rds->log;

    rds->ac = ac;
    rds->conn = c;
    rds->state = NGX_HTTP_FW_REDIS_CONNECTING;

    /* the connection is freed before hiredis' last callbacks: use this */
    ac->data = rds;
    rds->unsent = 0;
    rds->want_write = 0;
    rds->in_write = 0;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_fw_redis_add_read;
    ac->ev.delRead = ngx_http_fw_redis_del_read;
    ac->ev.addWrite = ngx_http_fw_redis_add_write;
    ac->ev.delWrite = ngx_http_fw_redis_del_write;
    ac->ev.cleanup = ngx_http_fw_redis_cleanup;

    if (ngx_event_flags & NGX_USE_CLEAR_EVENT) {
        /* edge-triggered: both directions once, for the connection's life */
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_CLEAR_EVENT)
            != NGX_OK
            || ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_CLEAR_EVENT)
               != NGX_OK)
        {
            ngx_http_fw_redis_fail(rds, "cannot add events");
            return;
        }
    }

    /* the connection is established when the socket becomes writable */
    redisAsyncSetConnectCallback(ac, ngx_http_fw_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_fw_redis_on_disconnect);

    ngx_http_fw_redis_add_write(c);

    /* the handshake, queued until the socket connects */

    if (ngx_http_fw_redis_handshake(rds) != NGX_OK) {
        return;
    }

    ngx_add_timer(&rds->connect_timer, rcf->connect_timeout);
}


/* the connection is down: log once per change, arm the reconnection */

static void
ngx_http_fw_redis_lost(ngx_http_fw_redis_t *rds, const char *reason)
{
    ngx_msec_t  delay;

    if (rds->connect_timer.timer_set) {
        ngx_del_timer(&rds->connect_timer);
    }

    if (rds->state == NGX_HTTP_FW_REDIS_DOWN && rds->reconnect.timer_set) {
        return;
    }

    rds->state = NGX_HTTP_FW_REDIS_DOWN;

    ngx_cpystrn(rds->reason, (u_char *) (reason ? reason : "unknown error"),
                sizeof(rds->reason));

    if (rds->exiting) {
        return;
    }

    if (rds->logged != NGX_HTTP_FW_REDIS_DOWN) {
        ngx_log_error(NGX_LOG_ERR, rds->log, 0,
                      "fhirwall redis %V is unavailable: %s; "
                      "retrying in the background",
                      &rds->conf->name, reason ? reason : "unknown error");
        rds->logged = NGX_HTTP_FW_REDIS_DOWN;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rds->log, 0,
                       "fw redis %V: still unavailable: %s",
                       &rds->conf->name, reason ? reason : "unknown error");
    }

    rds->initial = 0;

    /* "full jitter" over the upper half: [backoff/2, backoff] */
    delay = rds->backoff / 2 + (ngx_msec_t) ngx_random() % (rds->backoff / 2
                                                             + 1);

    rds->backoff *= 2;
    if (rds->backoff > rds->conf->backoff) {
        rds->backoff = rds->conf->backoff;
    }

    if (!rds->reconnect.timer_set) {
        ngx_add_timer(&rds->reconnect, delay);
    }
}


/* drops the connection (from anywhere, even a hiredis callback) */

static void
ngx_http_fw_redis_fail(ngx_http_fw_redis_t *rds, const char *reason)
{
    redisAsyncContext  *ac;

    ac = rds->ac;

    ngx_http_fw_redis_lost(rds, reason);

    if (ac == NULL) {
        return;
    }

    rds->ac = NULL;

    /*
     * outside a callback this runs every pending command's callback with
     * no reply and closes the socket now; inside one hiredis does it when
     * the callback returns
     */
    redisAsyncFree(ac);
}


static void
ngx_http_fw_redis_up(ngx_http_fw_redis_t *rds)
{
    if (rds->connect_timer.timer_set) {
        ngx_del_timer(&rds->connect_timer);
    }

    rds->state = NGX_HTTP_FW_REDIS_READY;
    rds->backoff = NGX_HTTP_FW_REDIS_BACKOFF_MIN;
    rds->initial = 0;

    if (rds->retrying) {
        rds->retrying = 0;
        ngx_http_fw_redis_count(rds, NGX_HTTP_FW_REDIS_M_RECONNECTS);
    }

    if (rds->logged == NGX_HTTP_FW_REDIS_DOWN) {
        ngx_log_error(NGX_LOG_NOTICE, rds->log, 0,
                      "fhirwall redis %V is available again",
                      &rds->conf->name);

    } else if (rds->logged != NGX_HTTP_FW_REDIS_READY) {
        ngx_log_error(NGX_LOG_INFO, rds->log, 0,
                      "fhirwall redis %V: connected", &rds->conf->name);
    }

    rds->logged = NGX_HTTP_FW_REDIS_READY;
}


/* ------------------------------------------------------------- commands */

static ngx_http_fw_redis_cmd_t *
ngx_http_fw_redis_cmd_alloc(ngx_http_fw_redis_t *rds)
{
    ngx_queue_t              *q;
    ngx_http_fw_redis_cmd_t  *cmd;

    if (!ngx_queue_empty(&rds->free)) {
        q = ngx_queue_head(&rds->free);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_fw_redis_cmd_t, queue);

    } else {
        cmd = ngx_alloc(sizeof(ngx_http_fw_redis_cmd_t), rds->log);
        if (cmd == NULL) {
            return NULL;
        }
    }

    ngx_memzero(cmd, sizeof(ngx_http_fw_redis_cmd_t));

    cmd->rds = rds;
    cmd->timer.handler = ngx_http_fw_redis_cmd_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = rds->log;

    /*
     * not cancelable: a worker shutting down gracefully waits (at most
     * the command timeout) for the requests that wait for Redis
     */

    return cmd;
}


static void
ngx_http_fw_redis_cmd_free(ngx_http_fw_redis_cmd_t *cmd)
{
    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    cmd->handler = NULL;
    cmd->data = NULL;

    ngx_queue_insert_head(&cmd->rds->free, &cmd->queue);
}


static ngx_int_t
ngx_http_fw_redis_internal(ngx_http_fw_redis_t *rds, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_fw_redis_handler_pt handler)
{
    ngx_http_fw_redis_cmd_t  *cmd;

    cmd = ngx_http_fw_redis_cmd_alloc(rds);
    if (cmd == NULL) {
        ngx_http_fw_redis_fail(rds, "out of memory");
        return NGX_ERROR;
    }

    cmd->handler = handler;
    cmd->data = rds;

    if (redisAsyncCommandArgv(rds->ac, ngx_http_fw_redis_reply, cmd, argc,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_fw_redis_cmd_free(cmd);
        ngx_http_fw_redis_fail(rds, "cannot queue the handshake");
        return NGX_ERROR;
    }

    rds->pending++;

    return NGX_OK;
}


ngx_http_fw_redis_cmd_t *
ngx_http_fw_redis_send(ngx_http_fw_redis_t *rds, int argc, const char **argv,
    const size_t *argvlen, ngx_msec_t timeout,
    ngx_http_fw_redis_handler_pt handler, void *data)
{
    ngx_http_fw_redis_cmd_t  *cmd;

    if (rds == NULL || rds->ac == NULL) {
        return NULL;
    }

    /*
     * Ready only; while the very first connection of the worker is being
     * set up, commands wait behind the handshake (a request that came
     * with the worker's start), bounded by their timeout.
     */
    if (rds->state != NGX_HTTP_FW_REDIS_READY
        && !(rds->state == NGX_HTTP_FW_REDIS_CONNECTING && rds->initial))
    {
        return NULL;
    }

    if (rds->pending >= rds->conf->max_pending) {
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, rds->log, 0,
                       "fw redis %V: too many pending commands",
                       &rds->conf->name);
        return NULL;
    }

    cmd = ngx_http_fw_redis_cmd_alloc(rds);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->handler = handler;
    cmd->data = data;

    if (redisAsyncCommandArgv(rds->ac, ngx_http_fw_redis_reply, cmd, argc,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_fw_redis_cmd_free(cmd);
        return NULL;
    }

    rds->pending++;

    cmd->timeout = timeout ? timeout : rds->conf->timeout;
    ngx_add_timer(&cmd->timer, cmd->timeout);

    if (++rds->unsent >= NGX_HTTP_FW_REDIS_BATCH) {
        ngx_http_fw_redis_flush(rds);
    }

    return cmd;
}


void
ngx_http_fw_redis_cancel(ngx_http_fw_redis_cmd_t *cmd)
{
    /* the command stays in the pipeline; its reply will be dropped */
    cmd->handler = NULL;
    cmd->data = NULL;
}


static void
ngx_http_fw_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    void                          *data;
    ngx_int_t                      status;
    redisReply                    *reply;
    ngx_http_fw_redis_t           *rds;
    ngx_http_fw_redis_cmd_t       *cmd;
    ngx_http_fw_redis_handler_pt   handler;

    cmd = privdata;
    rds = cmd->rds;
    reply = r;

    rds->pending--;

    handler = cmd->handler;
    data = cmd->data;

    if (reply) {
        status = NGX_HTTP_FW_REDIS_OK;

    } else {
        status = cmd->timedout ? NGX_HTTP_FW_REDIS_TIMEOUT
                               : NGX_HTTP_FW_REDIS_FAILED;

        /* the connection is going away: refuse new commands at once */
        if (rds->ac == ac && rds->state != NGX_HTTP_FW_REDIS_DOWN) {
            ngx_http_fw_redis_lost(rds, ac->errstr ? ac->errstr
                                                    : "connection lost");
        }
    }

    ngx_http_fw_redis_cmd_free(cmd);

    if (handler) {
        handler(data, status, reply);
    }
}


static void
ngx_http_fw_redis_auth_done(void *data, ngx_int_t status, redisReply *reply)
{
    u_char                msg[256];
    ngx_http_fw_redis_t  *rds;

    rds = data;

    if (status != NGX_HTTP_FW_REDIS_OK) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_snprintf(msg, sizeof(msg) - 1, "AUTH failed (%*s)%Z",
                     ngx_min(reply->len, 200), reply->str);
        ngx_http_fw_redis_fail(rds, (const char *) msg);
    }
}


static void
ngx_http_fw_redis_select_done(void *data, ngx_int_t status,
    redisReply *reply)
{
    u_char                msg[256];
    ngx_http_fw_redis_t  *rds;

    rds = data;

    if (status != NGX_HTTP_FW_REDIS_OK || rds->ac == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_snprintf(msg, sizeof(msg) - 1, "SELECT %i failed (%*s)%Z",
                     rds->conf->db, ngx_min(reply->len, 200), reply->str);
        ngx_http_fw_redis_fail(rds, (const char *) msg);
    }
}


static void
ngx_http_fw_redis_ping_done(void *data, ngx_int_t status, redisReply *reply)
{
    u_char                msg[256];
    ngx_http_fw_redis_t  *rds;

    rds = data;

    if (status != NGX_HTTP_FW_REDIS_OK || rds->ac == NULL
        || rds->state != NGX_HTTP_FW_REDIS_CONNECTING)
    {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_snprintf(msg, sizeof(msg) - 1, "PING failed (%*s)%Z",
                     ngx_min(reply->len, 200), reply->str);
        ngx_http_fw_redis_fail(rds, (const char *) msg);
        return;
    }

    ngx_http_fw_redis_up(rds);
}


static void
ngx_http_fw_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_fw_redis_t  *rds;

    rds = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context when this returns */
        if (rds->ac == ac) {
            ngx_http_fw_redis_lost(rds, ac->errstr ? ac->errstr
                                                    : "connect failed");
        }

        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, rds->log, 0,
                   "fw redis %V: socket connected", &rds->conf->name);
}


static void
ngx_http_fw_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_fw_redis_t  *rds;

    rds = ac->data;

    if (rds == NULL || rds->exiting) {
        return;
    }

    ngx_http_fw_redis_lost(rds, ac->errstr && ac->errstr[0]
                                ? ac->errstr : "connection closed");
}


/* ---------------------------------------------------------- event glue */

static void
ngx_http_fw_redis_add_read(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (ngx_event_flags & NGX_USE_CLEAR_EVENT) {
        return;
    }

    if (!c->read->active) {
        (void) ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_fw_redis_del_read(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (ngx_event_flags & NGX_USE_CLEAR_EVENT) {
        return;
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_fw_redis_add_write(void *privdata)
{
    ngx_connection_t     *c;
    ngx_http_fw_redis_t  *rds;

    c = privdata;
    rds = c->data;

    rds->want_write = 1;

    if (ngx_event_flags & NGX_USE_CLEAR_EVENT) {
        /*
         * the edge may have passed: write in this loop iteration (once,
         * however many commands are queued meanwhile: pipelining)
         */
        if (c->write->ready && !rds->in_write && !c->write->posted) {
            ngx_post_event(c->write, &ngx_posted_events);
        }

        return;
    }

    if (!c->write->active) {
        (void) ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_fw_redis_del_write(void *privdata)
{
    ngx_connection_t     *c;
    ngx_http_fw_redis_t  *rds;

    c = privdata;
    rds = c->data;

    rds->want_write = 0;

    if (ngx_event_flags & NGX_USE_CLEAR_EVENT) {
        return;
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis frees its context: the socket is closed right after this */

static void
ngx_http_fw_redis_cleanup(void *privdata)
{
    ngx_connection_t     *c;
    ngx_http_fw_redis_t  *rds;

    c = privdata;
    rds = c->data;

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (rds->conn == c) {
        rds->conn = NULL;
        rds->ac = NULL;
    }

    ngx_free_connection(c);

    /* an event of this socket still in the kernel's batch is now stale */
    c->fd = (ngx_socket_t) -1;
}


static void
ngx_http_fw_redis_read_handler(ngx_event_t *ev)
{
    u_char                b;
    ssize_t               n;
    ngx_err_t             err;
    ngx_socket_t          fd;
    ngx_connection_t     *c;
    redisAsyncContext    *ac;
    ngx_http_fw_redis_t  *rds;

    c = ev->data;
    rds = c->data;
    ac = rds->ac;

    if (ac == NULL || rds->conn != c) {
        return;
    }

    fd = c->fd;

    for ( ;; ) {
        redisAsyncHandleRead(ac);

        if (rds->ac != ac || rds->conn != c) {
            return;     /* closed (and freed) while handling */
        }

        if (!(ngx_event_flags & NGX_USE_CLEAR_EVENT)) {
            return;
        }

        /*
         * Edge-triggered: hiredis reads at most 16 KiB per call; drain
         * until the socket is empty, or no further edge would come.
         */
        n = recv(fd, &b, 1, MSG_PEEK|MSG_DONTWAIT);

        if (n == -1) {
            err = ngx_socket_errno;

            if (err == NGX_EAGAIN || err == NGX_EINTR) {
                return;
            }
        }

        /* data, EOF or an error: hiredis reads and handles it */
    }
}


static void
ngx_http_fw_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t     *c;
    redisAsyncContext    *ac;
    ngx_http_fw_redis_t  *rds;

    c = ev->data;
    rds = c->data;
    ac = rds->ac;

    if (ac == NULL || rds->conn != c || !rds->want_write) {
        return;
    }

    rds->in_write = 1;
    rds->want_write = 0;

    redisAsyncHandleWrite(ac);

    if (rds->ac != ac || rds->conn != c) {
        return;
    }

    rds->in_write = 0;

    if (!rds->want_write) {
        rds->unsent = 0;
    }

    if ((ngx_event_flags & NGX_USE_CLEAR_EVENT) && rds->want_write) {
        /* the socket buffer is full (or still connecting): wait an edge */
        c->write->ready = 0;
    }
}


/*
 * Sends what hiredis has queued once NGX_HTTP_FW_REDIS_BATCH commands are
 * waiting, rather than only at the end of the event loop iteration: Redis
 * starts on the first decisions while the worker still reads the next
 * requests, and one write carries several commands.  bench/lua/compare-
 * ratelimit (50 connections, one worker), decisions per second: 52,000
 * writing at the end of the iteration only, 64,000 writing every command
 * at once, 70,000 to 76,000 every 4 or 8 commands.  The rest still goes
 * at the end of the iteration (the posted write event).  Errors are left
 * to the write handler: redisBufferWrite() only records them, so no
 * hiredis callback runs under the caller (a request that is sending, or a
 * reply callback).
 */

static void
ngx_http_fw_redis_flush(ngx_http_fw_redis_t *rds)
{
    int                done;
    ngx_connection_t  *c;

    c = rds->conn;

    if (c == NULL
        || rds->ac == NULL
        || rds->state != NGX_HTTP_FW_REDIS_READY
        || rds->in_write
        || !rds->want_write
        || !c->write->ready
        || !(ngx_event_flags & NGX_USE_CLEAR_EVENT))
    {
        return;
    }

    done = 0;

    if (redisBufferWrite(&rds->ac->c, &done) != REDIS_OK || !done) {
        return;     /* the write handler goes on, or reports the error */
    }

    rds->unsent = 0;
    rds->want_write = 0;

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }
}


/* --------------------------------------------------------------- timers */

static void
ngx_http_fw_redis_cmd_timeout(ngx_event_t *ev)
{
    u_char                    msg[64];
    ngx_http_fw_redis_t      *rds;
    ngx_http_fw_redis_cmd_t  *cmd;

    cmd = ev->data;
    rds = cmd->rds;

    cmd->timedout = 1;

    ngx_snprintf(msg, sizeof(msg) - 1, "command timed out after %M ms%Z",
                 cmd->timeout);

    /* calls every pending handler, this one with _TIMEOUT */
    ngx_http_fw_redis_fail(rds, (const char *) msg);
}


static void
ngx_http_fw_redis_connect_timeout(ngx_event_t *ev)
{
    u_char                msg[64];
    ngx_http_fw_redis_t  *rds;

    rds = ev->data;

    ngx_snprintf(msg, sizeof(msg) - 1, "no answer within %M ms of "
                 "connecting%Z", rds->conf->connect_timeout);

    ngx_http_fw_redis_fail(rds, (const char *) msg);
}


static void
ngx_http_fw_redis_reconnect(ngx_event_t *ev)
{
    ngx_http_fw_redis_t  *rds;

    rds = ev->data;

    if (rds->exiting || rds->ac) {
        return;
    }

    rds->retrying = 1;
    ngx_http_fw_redis_count(rds, NGX_HTTP_FW_REDIS_M_ATTEMPTS);

    ngx_http_fw_redis_connect(rds);
}
