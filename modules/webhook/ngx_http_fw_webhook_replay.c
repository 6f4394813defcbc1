/*
 * fhirwall webhook: replay protection, in the shared-memory zone (common/'s
 * cache) or in Redis (common/'s client), and its directives.
 */


#include "ngx_http_fw_webhook.h"


static void ngx_http_fw_webhook_replay_reply(void *data, ngx_int_t status,
    redisReply *reply);
static void ngx_http_fw_webhook_replay_wait(ngx_http_request_t *r);
static ngx_uint_t ngx_http_fw_webhook_replay_failed(ngx_http_request_t *r,
    ngx_http_fw_webhook_ctx_t *ctx, const char *reason, size_t len);


/* replay protection */


/*
 * The key: the message id where the scheme has one (Standard Webhooks,
 * generic with "id="), else the timestamp and the matching signature;
 * hashed with the scheme into 32 bytes (SHA-256), never kept raw.  Also
 * when it expires: a message is remembered while it could still be
 * accepted, a timestamp being valid until ts + tolerance.
 */

ngx_int_t
ngx_http_fw_webhook_replay_key(ngx_http_fw_webhook_loc_conf_t *lcf,
    ngx_http_fw_webhook_ctx_t *ctx, size_t which)
{
    u_char         tag;
    time_t         now;
    EVP_MD_CTX    *md;
    unsigned int   klen;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    tag = (u_char) lcf->scheme;

    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(md, &tag, 1) != 1)
    {
        goto failed;
    }

    if (ctx->id.len) {
        if (EVP_DigestUpdate(md, ctx->id.data, ctx->id.len) != 1) {
            goto failed;
        }

    } else {
        if (EVP_DigestUpdate(md, &ctx->ts, sizeof(ctx->ts)) != 1
            || EVP_DigestUpdate(md, ctx->sigs.sig[which],
                                ctx->sigs.len[which]) != 1)
        {
            goto failed;
        }
    }

    if (EVP_DigestFinal_ex(md, ctx->key, &klen) != 1) {
        goto failed;
    }

    EVP_MD_CTX_free(md);

    now = ngx_http_fw_webhook_now(lcf);

    ctx->expires = (ctx->has_ts ? (time_t) ctx->ts : now) + lcf->tolerance
                   + 1;

    if (ctx->expires <= now) {
        ctx->expires = now + 1;
    }

    return NGX_OK;

failed:

    EVP_MD_CTX_free(md);

    return NGX_ERROR;
}


/*
 * Across replicas: "SET <prefix><hex key> 1 NX PX <ms>", the key living
 * as long as the message could be accepted; a nil reply is a replay.
 * Returns the verdict, NGX_HTTP_FW_WH_PENDING while Redis is asked.
 */

ngx_uint_t
ngx_http_fw_webhook_replay_redis(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx)
{
    u_char                           *p, *ms;
    size_t                            argvlen[6];
    time_t                            now;
    const char                       *argv[6], *err;
    ngx_http_fw_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_webhook_module);

    p = ngx_pnalloc(r->pool, wmcf->prefix.len + 2 * 32 + NGX_TIME_T_LEN
                             + 3);
    if (p == NULL) {
        return NGX_HTTP_FW_WH_ERROR;
    }

    argv[1] = (char *) p;
    p = ngx_cpymem(p, wmcf->prefix.data, wmcf->prefix.len);
    p = ngx_hex_dump(p, ctx->key, 32);
    argvlen[1] = p - (u_char *) argv[1];

    now = ngx_http_fw_webhook_now(lcf);

    ms = p;
    p = ngx_sprintf(p, "%T000", ctx->expires - now);

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = "NX";
    argvlen[3] = 2;
    argv[4] = "PX";
    argvlen[4] = 2;
    argv[5] = (char *) ms;
    argvlen[5] = p - ms;

    ctx->cmd = ngx_http_fw_redis_send(wmcf->client, 6, argv, argvlen, 0,
                                      ngx_http_fw_webhook_replay_reply, ctx);

    if (ctx->cmd == NULL) {
        err = ngx_http_fw_redis_error(wmcf->client);

        if (err[0] == '\0') {
            err = "too many commands waiting";
        }

        return ngx_http_fw_webhook_replay_failed(r, ctx, err,
                                                 ngx_strlen(err));
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_fw_webhook_replay_wait;

    return NGX_HTTP_FW_WH_PENDING;
}


static void
ngx_http_fw_webhook_replay_reply(void *data, ngx_int_t status,
    redisReply *reply)
{
    const char                       *err;
    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_fw_webhook_ctx_t        *ctx;
    ngx_http_fw_webhook_main_conf_t  *wmcf;

    ctx = data;
    r = ctx->request;
    c = r->connection;
    ctx->cmd = NULL;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_webhook_module);

    if (status == NGX_HTTP_FW_REDIS_TIMEOUT) {
        ctx->verdict = ngx_http_fw_webhook_replay_failed(r, ctx, "timed out",
                                                 sizeof("timed out") - 1);

    } else if (status != NGX_HTTP_FW_REDIS_OK) {
        err = ngx_http_fw_redis_error(wmcf->client);

        if (err[0] == '\0') {
            err = "connection lost";
        }

        ctx->verdict = ngx_http_fw_webhook_replay_failed(r, ctx, err,
                                                         ngx_strlen(err));

    } else if (reply->type == REDIS_REPLY_NIL
               || (reply->type == REDIS_REPLY_STATUS && reply->len == 2
                   && ngx_strncmp(reply->str, "OK", 2) == 0))
    {
        if (wmcf->failing) {
            ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                          "fw_webhook: redis checks replays again");
            wmcf->failing = 0;
        }

        if (reply->type == REDIS_REPLY_NIL) {
            ngx_log_error(NGX_LOG_WARN, c->log, 0,
                          "fw_webhook: replayed message refused");
            ctx->verdict = NGX_HTTP_FW_WH_REPLAY;

        } else {
            ctx->verdict = NGX_HTTP_FW_WH_VALID;
        }

    } else if (reply->type == REDIS_REPLY_ERROR) {
        ctx->verdict = ngx_http_fw_webhook_replay_failed(r, ctx, reply->str,
                                                         reply->len);

    } else {
        ctx->verdict = ngx_http_fw_webhook_replay_failed(r, ctx,
                                                 "unexpected reply",
                                                 sizeof("unexpected reply")
                                                 - 1);
    }

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_fw_webhook_replay_wait(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw webhook: waiting for redis");
}


/* Redis cannot answer: the failure policy, logged once per state change */

static ngx_uint_t
ngx_http_fw_webhook_replay_failed(ngx_http_request_t *r,
    ngx_http_fw_webhook_ctx_t *ctx, const char *reason, size_t len)
{
    ngx_http_fw_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_webhook_module);

    if (!wmcf->failing) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_webhook: redis cannot check replays (%*s); %s "
                      "until it can", len, reason,
                      (wmcf->failure == NGX_HTTP_FW_WH_FAIL_LOCAL)
                      ? "the local replay zones are used"
                      : "verified webhooks are refused (503)");
        wmcf->failing = 1;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "fw webhook: redis failed (%*s)", len, reason);
    }

    if (wmcf->failure == NGX_HTTP_FW_WH_FAIL_LOCAL) {
        return ngx_http_fw_webhook_replay_check(r, ctx->policy, ctx);
    }

    return NGX_HTTP_FW_WH_UNAVAILABLE;
}


/* this node: the shared-memory zone; returns the verdict */

ngx_uint_t
ngx_http_fw_webhook_replay_check(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx)
{
    time_t                          now;
    ngx_uint_t                      forgot;
    ngx_http_fw_shm_cache_t        *cache;
    ngx_http_fw_shm_cache_entry_t  *e;

    now = ngx_http_fw_webhook_now(lcf);
    cache = lcf->replay->data;
    forgot = 0;

    ngx_http_fw_shm_cache_lock(cache);

    ngx_http_fw_shm_cache_expire(cache, now, 16);

    e = ngx_http_fw_shm_cache_get(cache, 0, ctx->key, 32);

    if (e && e->expires > now) {
        ngx_http_fw_shm_cache_unlock(cache);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_webhook: replayed message refused");
        return NGX_HTTP_FW_WH_REPLAY;
    }

    if (e == NULL) {
        e = ngx_http_fw_shm_cache_add(cache, 0, ctx->key, 32, now, &forgot);
    }

    if (e) {
        e->expires = ctx->expires;
    }

    ngx_http_fw_shm_cache_unlock(cache);

    if (forgot) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_webhook: replay zone is full, forgetting "
                      "messages still in the tolerance window");
    }

    if (e == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "fw_webhook: could not allocate a node in "
                      "replay zone \"%V\"", &lcf->replay->shm.name);
        return NGX_HTTP_FW_WH_ERROR;
    }

    return NGX_HTTP_FW_WH_VALID;
}


char *
ngx_http_fw_webhook_replay_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    u_char                      *p;
    ssize_t                      size;
    ngx_str_t                   *value, name, s;
    ngx_shm_zone_t              *shm_zone;

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\" in "
                           "\"fw_webhook_replay_zone\" (name:size)",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid size in \"fw_webhook_replay_zone\" "
                           "\"%V\" (at least %uz)", &value[1],
                           8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_fw_webhook_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_shm_cache_create(cf, shm_zone, 0,
                                     "fw_webhook_replay_zone")
        == NULL)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_webhook_replay_redis_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fw_webhook_main_conf_t *wmcf = conf;

    ngx_int_t   rc;
    ngx_str_t  *value, s;
    ngx_uint_t  i;

    if (wmcf->redis) {
        return "is duplicate";
    }

    wmcf->redis = ngx_http_fw_redis_conf_create(cf);
    if (wmcf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (i > 1 && value[i].len >= 7
            && ngx_strncmp(value[i].data, "prefix=", 7) == 0)
        {
            wmcf->prefix.data = value[i].data + 7;
            wmcf->prefix.len = value[i].len - 7;
            continue;
        }

        if (i > 1 && value[i].len > 8
            && ngx_strncmp(value[i].data, "failure=", 8) == 0)
        {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            if (s.len == 6 && ngx_strncmp(s.data, "closed", 6) == 0) {
                wmcf->failure = NGX_HTTP_FW_WH_FAIL_CLOSED;

            } else if (s.len == 5 && ngx_strncmp(s.data, "local", 5) == 0) {
                wmcf->failure = NGX_HTTP_FW_WH_FAIL_LOCAL;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_webhook_replay_redis\" directive: "
                                   "invalid failure policy \"%V\" (closed "
                                   "or local)", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        rc = ngx_http_fw_redis_parse_arg(cf, wmcf->redis, &value[i]);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_webhook_replay_redis\" directive: "
                               "unknown parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_fw_redis_conf_finish(cf, wmcf->redis) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_webhook_replay(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_webhook_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->replay != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        lcf->replay = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "redis") == 0) {
        /* through fw_webhook_replay_redis, no local zone */
        lcf->replay = NULL;
        lcf->replay_redis = 1;
        return NGX_CONF_OK;
    }

    lcf->replay = ngx_shared_memory_add(cf, &value[1], 0,
                                        &ngx_http_fw_webhook_module);
    if (lcf->replay == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
