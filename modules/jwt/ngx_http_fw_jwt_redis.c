/*
 * fhirwall JWT: the checks the replicas share through Redis.
 *
 * Once every local check of a token passed, one EVALSHA (EVAL when the
 * server does not know the script: NOSCRIPT) asks what applies
 * to the location, in this order:
 *   - revocation (fw_jwt_revoke_redis): the jti in a set, the sub in a
 *     sorted set whose score is the revocation time (a token with iat <=
 *     that time, or no iat, is refused; +inf: every token of the subject);
 *   - the DPoP proof's jti (fw_jwt_dpop_replay_redis): SET NX PX for the
 *     proof's window;
 *   - the token's jti (fw_jwt_jti_replay ... redis): SET NX PX for the
 *     token's remaining lifetime.
 * A key already there is no replay when it holds this request's own id
 * (the request is checked again: rewrite ... last, error_page).
 *
 * The request waits on an event; the client's own timeout applies.  A
 * Redis that cannot answer (down, timing out, an error reply) gets the
 * location's fw_jwt_redis_failure: closed answers 503 ("unavailable"),
 * open uses the local zones and goes on.  An outage is logged once per
 * worker, and its end.
 */


#include "ngx_http_fw_jwt.h"

#include <openssl/evp.h>
#include <openssl/rand.h>


#define NGX_HTTP_FW_JWT_REDIS_ARGC  13


static void ngx_http_fw_jwt_redis_reply(void *data, ngx_int_t status,
    redisReply *reply);
static void ngx_http_fw_jwt_redis_wait(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_jwt_redis_failed(ngx_http_request_t *r,
    ngx_http_fw_jwt_ctx_t *ctx, const char *reason, size_t len);
static ngx_int_t ngx_http_fw_jwt_redis_argv(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    const char **argv, size_t *argvlen);
static ngx_int_t ngx_http_fw_jwt_redis_argv_revoke(ngx_http_request_t *r,
    ngx_http_fw_jwt_revoke_redis_t *rr, json_t *payload, const char **argv,
    size_t *argvlen);
static u_char *ngx_http_fw_jwt_redis_key(ngx_http_request_t *r,
    ngx_str_t *prefix, const char *name, const u_char *digest);
static u_char *ngx_http_fw_jwt_redis_owner(ngx_http_request_t *r);


ngx_conf_enum_t  ngx_http_fw_jwt_redis_failures[] = {
    { ngx_string("closed"), NGX_HTTP_FW_JWT_REDIS_CLOSED },
    { ngx_string("open"), NGX_HTTP_FW_JWT_REDIS_OPEN },
    { ngx_null_string, 0 }
};


/*
 * KEYS: revoked jti set, revoked sub sorted set, token jti key, proof jti
 * key ("" where not checked); ARGV: jti, sub, iat ("" if none), owner,
 * the token's PX, the proof's PX.  0: passed, 1: revoked, 2: the token
 * replayed, 3: the proof replayed.
 */

static const char  ngx_http_fw_jwt_redis_script[] =
    "local o = ARGV[4]\n"
    "if KEYS[1] ~= '' and ARGV[1] ~= '' and "
    "redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end\n"
    "if KEYS[2] ~= '' and ARGV[2] ~= '' then\n"
    "  local t = redis.call('ZSCORE', KEYS[2], ARGV[2])\n"
    "  if t then\n"
    "    local at = tonumber(t) or math.huge\n"
    "    if ARGV[3] == '' or tonumber(ARGV[3]) <= at then return 1 end\n"
    "  end\n"
    "end\n"
    "if KEYS[4] ~= '' and not redis.call('SET', KEYS[4], o, 'NX', 'PX', "
    "ARGV[6]) and redis.call('GET', KEYS[4]) ~= o then return 3 end\n"
    "if KEYS[3] ~= '' and not redis.call('SET', KEYS[3], o, 'NX', 'PX', "
    "ARGV[5]) and redis.call('GET', KEYS[3]) ~= o then return 2 end\n"
    "return 0\n";


/* a random part of the request ids, per worker (two replicas differ) */
static u_char  ngx_http_fw_jwt_redis_seed[8];

/* the script's SHA-1, hex, for EVALSHA */
static u_char  ngx_http_fw_jwt_redis_sha[2 * 20 + 1];


/* configuration */

char *
ngx_http_fw_jwt_redis_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_int_t                      rc;
    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_http_fw_jwt_redis_main_t  *rm;

    rm = (ngx_http_fw_jwt_redis_main_t *) (p + cmd->offset);

    if (rm->conf) {
        return "is duplicate";
    }

    rm->conf = ngx_http_fw_redis_conf_create(cf);
    if (rm->conf == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&rm->prefix, "fw:jwt:");

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (i > 1 && ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rm->prefix.data = value[i].data + 7;
            rm->prefix.len = value[i].len - 7;
            continue;
        }

        rc = ngx_http_fw_redis_parse_arg(cf, rm->conf, &value[i]);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_jwt_redis\" directive: unknown "
                               "parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_fw_redis_conf_finish(cf, rm->conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* fw_jwt_revoke_redis [jti=KEY] [sub=KEY] | off */

char *
ngx_http_fw_jwt_revoke_redis_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_str_t                        *value;
    ngx_uint_t                        i;
    ngx_http_fw_jwt_revoke_redis_t  **field, *rr;

    field = (ngx_http_fw_jwt_revoke_redis_t **) (p + cmd->offset);

    if (*field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        *field = NULL;
        return NGX_CONF_OK;
    }

    rr = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_revoke_redis_t));
    if (rr == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&rr->jti, "revoked:jti");
    ngx_str_set(&rr->sub, "revoked:sub");

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len > 4 && ngx_strncmp(value[i].data, "jti=", 4) == 0) {
            rr->jti.data = value[i].data + 4;
            rr->jti.len = value[i].len - 4;
            continue;
        }

        if (value[i].len > 4 && ngx_strncmp(value[i].data, "sub=", 4) == 0) {
            rr->sub.data = value[i].data + 4;
            rr->sub.len = value[i].len - 4;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in "
                           "\"fw_jwt_revoke_redis\" (jti=KEY, sub=KEY or "
                           "off)", &value[i]);
        return NGX_CONF_ERROR;
    }

    *field = rr;

    return NGX_CONF_OK;
}


/* fail closed: a check that needs Redis and has none stops nginx -t */

char *
ngx_http_fw_jwt_redis_merge(ngx_conf_t *cf, ngx_http_fw_jwt_loc_conf_t *prev,
    ngx_http_fw_jwt_loc_conf_t *conf)
{
    const char                   *name;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    ngx_conf_merge_ptr_value(conf->revoke_redis, prev->revoke_redis, NULL);
    ngx_conf_merge_uint_value(conf->redis_failure, prev->redis_failure,
                              NGX_HTTP_FW_JWT_REDIS_CLOSED);

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_jwt_module);

    if (jmcf->redis.conf) {
        return NGX_CONF_OK;
    }

    name = NULL;

    if (conf->revoke_redis) {
        name = "fw_jwt_revoke_redis";

    } else if (conf->replay && conf->replay->redis) {
        name = "fw_jwt_jti_replay\" with \"redis";

    } else if (conf->dpop.redis) {
        name = "fw_jwt_dpop_replay_redis";
    }

    if (name) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" needs \"fw_jwt_redis\" at the http "
                           "level", name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* workers */

ngx_int_t
ngx_http_fw_jwt_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_fw_jwt_redis_main_t *rm)
{
    u_char  sha[20];

    if (rm->conf == NULL) {
        return NGX_OK;
    }

    if (RAND_bytes(ngx_http_fw_jwt_redis_seed,
                   sizeof(ngx_http_fw_jwt_redis_seed))
        != 1)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "fw_jwt: RAND_bytes() failed");
        return NGX_ERROR;
    }

    if (EVP_Digest(ngx_http_fw_jwt_redis_script,
                   sizeof(ngx_http_fw_jwt_redis_script) - 1, sha, NULL,
                   EVP_sha1(), NULL)
        != 1)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "fw_jwt: the script's SHA-1 failed");
        return NGX_ERROR;
    }

    *ngx_hex_dump(ngx_http_fw_jwt_redis_sha, sha, 20) = '\0';

    rm->failing = 0;
    rm->client = ngx_http_fw_redis_create(cycle, rm->conf);

    return rm->client ? NGX_OK : NGX_ERROR;
}


void
ngx_http_fw_jwt_redis_exit_process(ngx_http_fw_jwt_redis_main_t *rm)
{
    if (rm->client) {
        ngx_http_fw_redis_destroy(rm->client);
        rm->client = NULL;
    }
}


/* requests */

ngx_uint_t
ngx_http_fw_jwt_redis_wanted(ngx_http_fw_jwt_loc_conf_t *jlcf,
    ngx_http_fw_jwt_ctx_t *ctx)
{
    return jlcf->revoke_redis != NULL
           || (jlcf->replay != NULL && jlcf->replay->redis)
           || ctx->dpop.redis;
}


void
ngx_http_fw_jwt_redis_reset(ngx_http_fw_jwt_redis_ctx_t *rctx)
{
    if (rctx->cmd) {
        /* the request ends, or is checked again: drop the answer */
        ngx_http_fw_redis_cancel(rctx->cmd);
        rctx->cmd = NULL;
    }

    rctx->want = 0;
    rctx->answered = 0;
    rctx->noscript = 0;
}


ngx_int_t
ngx_http_fw_jwt_redis_check(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    size_t                       *argvlen;
    const char                  **argv, *err;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    if (ctx->redis.cmd) {
        return NGX_AGAIN;
    }

    if (ctx->redis.answered) {
        ctx->redis.want = 0;
        ctx->status = ctx->redis.verdict;
        return NGX_OK;
    }

    jmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_jwt_module);

    argv = ngx_palloc(r->pool, NGX_HTTP_FW_JWT_REDIS_ARGC * sizeof(char *));
    argvlen = ngx_palloc(r->pool, NGX_HTTP_FW_JWT_REDIS_ARGC * sizeof(size_t));

    if (argv == NULL || argvlen == NULL
        || ngx_http_fw_jwt_redis_argv(r, jlcf, ctx, argv, argvlen) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->redis.argv = argv;
    ctx->redis.argvlen = argvlen;

    ctx->redis.request = r;
    ctx->redis.cmd = ngx_http_fw_redis_send(jmcf->redis.client,
                                            NGX_HTTP_FW_JWT_REDIS_ARGC,
                                            argv, argvlen, 0,
                                            ngx_http_fw_jwt_redis_reply,
                                            ctx);

    if (ctx->redis.cmd == NULL) {
        err = ngx_http_fw_redis_error(jmcf->redis.client);

        if (err[0] == '\0') {
            err = "too many commands waiting";
        }

        ctx->redis.want = 0;
        ctx->status = ngx_http_fw_jwt_redis_failed(r, ctx, err,
                                                   ngx_strlen(err));
        return NGX_OK;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_fw_jwt_redis_wait;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_fw_jwt_redis_argv(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    const char **argv, size_t *argvlen)
{
    u_char                       *p, key[32];
    time_t                        expires, now;
    json_t                       *payload;
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_jwt_module);
    payload = fw_jwt_token_payload(&ctx->token);

    if (payload == NULL) {
        /* out of memory, not "no claims" */
        return NGX_ERROR;
    }

    now = ngx_time();

    for (i = 0; i < NGX_HTTP_FW_JWT_REDIS_ARGC; i++) {
        argv[i] = "";
        argvlen[i] = 0;
    }

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (const char *) ngx_http_fw_jwt_redis_sha;
    argvlen[1] = 2 * 20;
    argv[2] = "4";
    argvlen[2] = 1;

    if (jlcf->revoke_redis
        && ngx_http_fw_jwt_redis_argv_revoke(r, jlcf->revoke_redis, payload,
                                             argv, argvlen)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (jlcf->replay && jlcf->replay->redis) {
        rc = ngx_http_fw_jwt_replay_key(r, jlcf->replay, payload,
                                        jlcf->leeway, key, &expires);

        if (rc == FW_JWT_ERROR) {
            return NGX_ERROR;
        }

        if (rc == FW_JWT_VALID) {
            p = ngx_http_fw_jwt_redis_key(r, &jmcf->redis.prefix, "jti:",
                                          key);
            if (p == NULL) {
                return NGX_ERROR;
            }

            argv[5] = (char *) p;
            argvlen[5] = ngx_strlen(p);

            p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 4);
            if (p == NULL) {
                return NGX_ERROR;
            }

            argv[11] = (char *) p;
            p = ngx_sprintf(p, "%T000", expires - now);
            argvlen[11] = p - (u_char *) argv[11];
        }
    }

    if (ctx->dpop.redis) {
        p = ngx_http_fw_jwt_redis_key(r, &jmcf->redis.prefix, "dpop:",
                                      ctx->dpop.replay);
        if (p == NULL) {
            return NGX_ERROR;
        }

        argv[6] = (char *) p;
        argvlen[6] = ngx_strlen(p);

        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 4);
        if (p == NULL) {
            return NGX_ERROR;
        }

        expires = ngx_max(ctx->dpop.expires - now, 1);

        argv[12] = (char *) p;
        p = ngx_sprintf(p, "%T000", expires);
        argvlen[12] = p - (u_char *) argv[12];
    }

    p = ngx_http_fw_jwt_redis_owner(r);
    if (p == NULL) {
        return NGX_ERROR;
    }

    argv[10] = (char *) p;
    argvlen[10] = ngx_strlen(p);

    return NGX_OK;
}


/* KEYS[1], KEYS[2], ARGV[1..3]: the revocation sets, jti, sub, iat */

static ngx_int_t
ngx_http_fw_jwt_redis_argv_revoke(ngx_http_request_t *r,
    ngx_http_fw_jwt_revoke_redis_t *rr, json_t *payload, const char **argv,
    size_t *argvlen)
{
    u_char                       *p;
    size_t                        len;
    json_t                       *iat;
    const u_char                 *s;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_jwt_module);

    len = jmcf->redis.prefix.len + rr->jti.len
          + jmcf->redis.prefix.len + rr->sub.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    argv[3] = (char *) p;
    p = ngx_cpymem(p, jmcf->redis.prefix.data, jmcf->redis.prefix.len);
    p = ngx_cpymem(p, rr->jti.data, rr->jti.len);
    argvlen[3] = p - (u_char *) argv[3];

    argv[4] = (char *) p;
    p = ngx_cpymem(p, jmcf->redis.prefix.data, jmcf->redis.prefix.len);
    p = ngx_cpymem(p, rr->sub.data, rr->sub.len);
    argvlen[4] = p - (u_char *) argv[4];

    s = ngx_http_fw_jwt_revoke_str(payload, "jti", &len);
    argv[7] = s ? (const char *) s : "";
    argvlen[7] = len;

    s = ngx_http_fw_jwt_revoke_str(payload, "sub", &len);
    argv[8] = s ? (const char *) s : "";
    argvlen[8] = len;

    iat = json_object_get(payload, "iat");

    if (json_is_number(iat)) {
        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        argv[9] = (char *) p;
        p = ngx_sprintf(p, "%T", (time_t) json_number_value(iat));
        argvlen[9] = p - (u_char *) argv[9];
    }

    return NGX_OK;
}


/* prefix name hex(digest), NUL-terminated */

static u_char *
ngx_http_fw_jwt_redis_key(ngx_http_request_t *r, ngx_str_t *prefix,
    const char *name, const u_char *digest)
{
    u_char  *key, *p;
    size_t   len;

    len = ngx_strlen(name);

    key = ngx_pnalloc(r->pool, prefix->len + len + 2 * 32 + 1);
    if (key == NULL) {
        return NULL;
    }

    p = ngx_cpymem(key, prefix->data, prefix->len);
    p = ngx_cpymem(p, name, len);
    p = ngx_hex_dump(p, (u_char *) digest, 32);
    *p = '\0';

    return key;
}


/*
 * The main request's id: the same for its internal redirects and checks
 * again, another for any other request of any replica (the worker's
 * random seed, its pid, the connection, the request and its start)
 */

static u_char *
ngx_http_fw_jwt_redis_owner(ngx_http_request_t *r)
{
    u_char              *id, *p;
    ngx_http_request_t  *m;

    m = r->main;

    id = ngx_pnalloc(r->pool, 2 * sizeof(ngx_http_fw_jwt_redis_seed)
                              + 5 * (NGX_INT64_LEN + 1) + 1);
    if (id == NULL) {
        return NULL;
    }

    p = ngx_hex_dump(id, ngx_http_fw_jwt_redis_seed,
                     sizeof(ngx_http_fw_jwt_redis_seed));
    p = ngx_sprintf(p, ":%P:%uA:%p:%T.%M%Z", ngx_pid,
                    m->connection->number, m, m->start_sec,
                    m->start_msec);

    return id;
}


static void
ngx_http_fw_jwt_redis_reply(void *data, ngx_int_t status, redisReply *reply)
{
    ngx_http_fw_jwt_ctx_t  *ctx = data;

    const char                   *err;
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    r = ctx->redis.request;
    c = r->connection;
    ctx->redis.cmd = NULL;
    ctx->redis.answered = 1;

    jmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_jwt_module);

    if (status == NGX_HTTP_FW_REDIS_OK && reply->type == REDIS_REPLY_ERROR
        && reply->len >= 8 && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0
        && !ctx->redis.noscript)
    {
        /* a server that restarted or flushed its scripts: EVAL, once */
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "fw_jwt: redis NOSCRIPT, sending EVAL");

        ctx->redis.noscript = 1;
        ctx->redis.argv[0] = "EVAL";
        ctx->redis.argvlen[0] = 4;
        ctx->redis.argv[1] = ngx_http_fw_jwt_redis_script;
        ctx->redis.argvlen[1] = sizeof(ngx_http_fw_jwt_redis_script) - 1;

        ctx->redis.cmd = ngx_http_fw_redis_send(jmcf->redis.client,
                                                NGX_HTTP_FW_JWT_REDIS_ARGC,
                                                ctx->redis.argv,
                                                ctx->redis.argvlen, 0,
                                                ngx_http_fw_jwt_redis_reply,
                                                ctx);
        if (ctx->redis.cmd) {
            ctx->redis.answered = 0;
            return;
        }

        status = NGX_HTTP_FW_REDIS_FAILED;
    }

    if (status == NGX_HTTP_FW_REDIS_TIMEOUT) {
        ctx->redis.verdict = ngx_http_fw_jwt_redis_failed(r, ctx,
                                 "timed out", sizeof("timed out") - 1);

    } else if (status != NGX_HTTP_FW_REDIS_OK) {
        err = ngx_http_fw_redis_error(jmcf->redis.client);

        if (err[0] == '\0') {
            err = "connection lost";
        }

        ctx->redis.verdict = ngx_http_fw_jwt_redis_failed(r, ctx, err,
                                                          ngx_strlen(err));

    } else if (reply->type == REDIS_REPLY_INTEGER
               && reply->integer >= 0 && reply->integer <= 3)
    {
        if (jmcf->redis.failing) {
            ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                          "fw_jwt: redis checks tokens again");
            jmcf->redis.failing = 0;
        }

        switch (reply->integer) {

        case 1:
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "fw_jwt: revoked token refused (redis)");
            ctx->redis.verdict = FW_JWT_REVOKED;
            break;

        case 2:
            ngx_log_error(NGX_LOG_WARN, c->log, 0,
                          "fw_jwt: replayed token refused (jti seen "
                          "before, redis)");
            ctx->redis.verdict = FW_JWT_REPLAYED;
            break;

        case 3:
            ctx->redis.verdict = ngx_http_fw_jwt_dpop_replayed(r,
                                                               &ctx->dpop);
            break;

        default:
            ctx->redis.verdict = FW_JWT_VALID;
        }

    } else if (reply->type == REDIS_REPLY_ERROR) {
        ctx->redis.verdict = ngx_http_fw_jwt_redis_failed(r, ctx, reply->str,
                                                          reply->len);

    } else {
        ctx->redis.verdict = ngx_http_fw_jwt_redis_failed(r, ctx,
                                 "unexpected reply",
                                 sizeof("unexpected reply") - 1);
    }

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_fw_jwt_redis_wait(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: waiting for redis");
}


/* Redis cannot answer: the location's policy, logged once an outage */

static ngx_int_t
ngx_http_fw_jwt_redis_failed(ngx_http_request_t *r,
    ngx_http_fw_jwt_ctx_t *ctx, const char *reason, size_t len)
{
    json_t                       *payload;
    ngx_int_t                     rc;
    ngx_http_fw_jwt_loc_conf_t   *jlcf;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_jwt_module);
    jlcf = ctx->conf;

    if (!jmcf->redis.failing) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_jwt: redis cannot check tokens (%*s); until it "
                      "can, fw_jwt_redis_failure applies (closed: 503, "
                      "open: the local zones)", len, reason);
        jmcf->redis.failing = 1;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "fw_jwt: redis failed (%*s)", len, reason);
    }

    if (jlcf->redis_failure != NGX_HTTP_FW_JWT_REDIS_OPEN) {
        return FW_JWT_UNAVAILABLE;
    }

    /* open: what this host knows (the revocation file was checked) */

    if (ctx->dpop.redis) {
        rc = ngx_http_fw_jwt_dpop_replay_local(r, &jlcf->dpop, &ctx->dpop);

        if (rc != FW_JWT_VALID) {
            return rc;
        }
    }

    if (jlcf->replay && jlcf->replay->redis) {
        payload = fw_jwt_token_payload(&ctx->token);

        if (payload == NULL) {
            return FW_JWT_ERROR;
        }

        return ngx_http_fw_jwt_replay_local(r, jlcf->replay, payload,
                                            jlcf->leeway, &ctx->jti_seen);
    }

    return FW_JWT_VALID;
}
