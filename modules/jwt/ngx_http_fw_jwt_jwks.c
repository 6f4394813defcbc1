/*
 * fhirwall JWT: remote key sets (fw_jwt_jwks_uri): the shared-memory copy,
 * the fetch by subrequest, its completion and the outage log.
 */


#include "ngx_http_fw_jwt.h"
#include "ngx_http_fw_jwt_metrics.h"


static ngx_int_t ngx_http_fw_jwt_fetch_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_fw_jwt_jwks_store(ngx_http_request_t *r,
    ngx_http_fw_jwt_remote_t *remote, u_char *p, size_t len, size_t added);
static void ngx_http_fw_jwt_fetch_failed(ngx_http_request_t *r,
    ngx_http_fw_jwt_remote_t *remote, u_char *cause, u_char *last);
static ngx_int_t ngx_http_fw_jwt_jwks_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


/*
 * The keys of a remote JWKS as this worker knows them, parsed again from
 * shared memory when another worker (or this one) fetched a new copy.
 * "stale": the refresh interval has passed.
 */

ngx_http_fw_jwt_remote_state_t *
ngx_http_fw_jwt_remote_keys(ngx_http_request_t *r,
    ngx_http_fw_jwt_remote_t *remote, ngx_uint_t *stale)
{
    char                             err[FW_JWT_ERRLEN];
    u_char                          *copy;
    size_t                           len, added, skipped;
    ngx_uint_t                       version;
    fw_jwt_keyset_t                  ks;
    ngx_slab_pool_t                 *shpool;
    ngx_http_fw_jwt_jwks_shm_t      *sh;
    ngx_http_fw_jwt_remote_state_t  *st;

    if (ngx_http_fw_jwt_remotes == NULL
        || remote->index >= ngx_http_fw_jwt_nremotes)
    {
        return NULL;
    }

    st = &ngx_http_fw_jwt_remotes[remote->index];
    shpool = (ngx_slab_pool_t *) remote->zone->shm.addr;
    sh = remote->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    version = sh->version;
    *stale = (version != 0 && ngx_time() - sh->fetched >= remote->refresh);

    if (version == st->version) {
        ngx_shmtx_unlock(&shpool->mutex);
        return st;
    }

    len = sh->len;
    copy = ngx_alloc(len, r->connection->log);

    if (copy == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return st;
    }

    ngx_memcpy(copy, sh->data, len);

    ngx_shmtx_unlock(&shpool->mutex);

    fw_jwt_keyset_init(&ks);

    if (fw_jwt_keyset_add_jwks(&ks, copy, len, &added, &skipped, err)
        != FW_OK)
    {
        /* checked before it was stored: out of memory */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_jwt: JWKS from \"%V\": %s", &remote->uri, err);
        fw_jwt_keyset_free(&ks);
        ngx_free(copy);
        return st;
    }

    ngx_free(copy);

    fw_jwt_keyset_free(&st->ks);
    st->ks = ks;
    st->ks.algs = FW_JWT_ALGS_ALL;
    st->version = version;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: JWKS version %ui, %uz keys", version, added);

    return st;
}


/*
 * Fetching is rate-limited across workers: with no keys at all every
 * request may fetch ("force"); otherwise one fetch per "interval".
 */

ngx_uint_t
ngx_http_fw_jwt_may_fetch(ngx_http_fw_jwt_remote_t *remote, ngx_uint_t force,
    time_t interval)
{
    time_t                       now;
    ngx_uint_t                   ok;
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_jwks_shm_t  *sh;

    now = ngx_time();
    shpool = (ngx_slab_pool_t *) remote->zone->shm.addr;
    sh = remote->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    ok = force || sh->version == 0 || now - sh->attempted >= interval;

    if (ok) {
        sh->attempted = now;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return ok;
}


ngx_int_t
ngx_http_fw_jwt_fetch(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    ngx_uint_t background)
{
    ngx_uint_t                   flags;
    ngx_http_fw_jwt_ctx_t       *sctx;
    ngx_http_request_t          *sr;
    ngx_http_fw_jwt_fetch_t     *fetch;
    ngx_http_post_subrequest_t  *ps;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    fetch = ngx_palloc(r->pool, sizeof(ngx_http_fw_jwt_fetch_t));
    if (fetch == NULL) {
        return NGX_ERROR;
    }

    fetch->ctx = background ? NULL : ctx;
    fetch->remote = jlcf->remote;
    fetch->completed = 0;

    ps->handler = ngx_http_fw_jwt_fetch_done;
    ps->data = fetch;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: fetching JWKS from \"%V\"%s", &jlcf->remote->uri,
                   background ? " in the background" : "");

    /*
     * a background subrequest does not hold the response back: nginx
     * keeps the connection (and the request's pool, where ctx lives)
     * until it ends, as for proxy_cache_background_update
     */

    flags = NGX_HTTP_SUBREQUEST_IN_MEMORY
            | (background ? NGX_HTTP_SUBREQUEST_BACKGROUND
                          : NGX_HTTP_SUBREQUEST_WAITED);

    if (ngx_http_subrequest(r, &jlcf->remote->uri, NULL, &sr, ps, flags)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the fetch itself is never checked (no recursion) */

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_jwt_ctx_t));
    if (sctx == NULL) {
        return NGX_ERROR;
    }

    sctx->jwks_fetch = 1;
    sctx->done = 1;
    sctx->status = NGX_HTTP_FW_JWT_OFF;
    sctx->conf = ngx_http_get_module_loc_conf(sr, ngx_http_fw_jwt_module);
    ngx_http_set_ctx(sr, sctx, ngx_http_fw_jwt_module);

    /* a GET without the client's body */

    sr->method = NGX_HTTP_GET;
    sr->method_name = ngx_http_core_get_method;
    sr->header_only = 0;

    sr->request_body = ngx_pcalloc(r->pool,
                                   sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    if (!background) {
        ctx->fetching = 1;
        ctx->fetch_done = 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_fetch_done(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_fw_jwt_fetch_t *fetch = data;

    char                       err[FW_JWT_ERRLEN];
    u_char                    *p, *last;
    u_char                     cause[FW_JWT_ERRLEN + 80];
    size_t                     i, len, added, skipped;
    ngx_buf_t                 *b;
    fw_jwt_keyset_t            ks;
    ngx_http_fw_jwt_remote_t  *remote;

    /*
     * a background fetch may end after the request moved on (ctx->conf
     * changed, or a new ctx): it wakes nothing, the remote is its own
     */

    if (fetch->ctx) {
        fetch->ctx->fetch_done = 1;
    }

    /*
     * an error_page for the fetch's status (502, 504) completes the
     * subrequest a second time, with the error page's answer: the
     * first completion is the fetch's outcome, counted once
     */

    if (rc == NGX_AGAIN || fetch->completed) {
        return rc;
    }

    fetch->completed = 1;

    remote = fetch->remote;
    last = cause + sizeof(cause);

    if (rc != NGX_OK || r->headers_out.status != NGX_HTTP_OK) {
        if (r->headers_out.status) {
            p = ngx_snprintf(cause, last - cause, "status %ui",
                             r->headers_out.status);

        } else {
            p = ngx_snprintf(cause, last - cause, "status %i", rc);
        }

        ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
        return rc;
    }

    b = NULL;

    if (r->upstream && r->upstream->buffer.pos < r->upstream->buffer.last) {
        b = &r->upstream->buffer;

    } else if (r->out && r->out->buf) {
        b = r->out->buf;
    }

    if (b == NULL || b->pos == b->last) {
        p = ngx_snprintf(cause, last - cause, "empty answer (is "
                         "\"subrequest_output_buffer_size\" large enough?)");
        ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
        return rc;
    }

    p = b->pos;
    len = b->last - b->pos;

    fw_jwt_keyset_init(&ks);

    if (fw_jwt_keyset_add_jwks(&ks, p, len, &added, &skipped, err)
        != FW_OK)
    {
        fw_jwt_keyset_free(&ks);
        p = ngx_snprintf(cause, last - cause, "refused: %s", err);
        ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
        return rc;
    }

    for (i = 0; i < ks.nkeys; i++) {
        if (ks.keys[i].kty == FW_JWT_KTY_OCT) {
            fw_jwt_keyset_free(&ks);
            p = ngx_snprintf(cause, last - cause, "refused: it publishes "
                             "a symmetric (\"oct\") key");
            ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
            return rc;
        }
    }

    fw_jwt_keyset_free(&ks);

    ngx_http_fw_jwt_jwks_store(r, remote, p, len, added);


    return rc;
}


/* a JWKS that passed: the zone's copy for every worker, the outage over */

static void
ngx_http_fw_jwt_jwks_store(ngx_http_request_t *r,
    ngx_http_fw_jwt_remote_t *remote, u_char *p, size_t len, size_t added)
{
    u_char                      *copy, *last;
    u_char                       cause[FW_JWT_ERRLEN + 80];
    time_t                       since;
    ngx_uint_t                   failures;
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_jwks_shm_t  *sh;

    last = cause + sizeof(cause);

    shpool = (ngx_slab_pool_t *) remote->zone->shm.addr;
    sh = remote->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    copy = ngx_slab_alloc_locked(shpool, len);

    if (copy == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        p = ngx_snprintf(cause, last - cause, "it does not fit its zone");
        ngx_http_fw_jwt_fetch_failed(r, remote, cause, p);
        return;
    }

    ngx_memcpy(copy, p, len);

    if (sh->data) {
        ngx_slab_free_locked(shpool, sh->data);
    }

    sh->data = copy;
    sh->len = len;
    sh->version++;
    sh->fetched = ngx_time();

    /* the outage, if any, is over: for every worker */
    failures = sh->failures;
    since = sh->failed;
    sh->failures = 0;

    ngx_shmtx_unlock(&shpool->mutex);

    if (failures) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "fw_jwt: JWKS from \"%V\": keys fetched again after "
                      "%ui failures in %T s", &remote->uri, failures,
                      ngx_time() - since);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "fw_jwt: JWKS from \"%V\" loaded, %uz keys",
                  &remote->uri, added);

    ngx_http_fw_jwt_count(r, NGX_HTTP_FW_JWT_M_FETCHES, NGX_HTTP_FW_JWT_M_OK);
    ngx_http_fw_jwt_gauge(r, NGX_HTTP_FW_JWT_M_KEYS, added);
    ngx_http_fw_jwt_gauge(r, NGX_HTTP_FW_JWT_M_AGE, ngx_time());
}


/*
 * A failed fetch: the first of an outage is an error (once for all
 * workers: the outage is counted in the remote's shared memory), the
 * later ones are info, until a fetch succeeds.  The keys are kept.
 */

static void
ngx_http_fw_jwt_fetch_failed(ngx_http_request_t *r,
    ngx_http_fw_jwt_remote_t *remote, u_char *cause, u_char *last)
{
    time_t                       now, since;
    ngx_uint_t                   failures;
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_jwks_shm_t  *sh;

    ngx_http_fw_jwt_count(r, NGX_HTTP_FW_JWT_M_FETCHES,
                          NGX_HTTP_FW_JWT_M_FAILED);

    now = ngx_time();
    shpool = (ngx_slab_pool_t *) remote->zone->shm.addr;
    sh = remote->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->failures == 0) {
        sh->failed = now;
    }

    failures = ++sh->failures;
    since = sh->failed;

    ngx_shmtx_unlock(&shpool->mutex);

    if (failures == 1) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_jwt: JWKS fetch from \"%V\" failed (%*s), "
                      "keeping the keys it had", &remote->uri,
                      (size_t) (last - cause), cause);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "fw_jwt: JWKS fetch from \"%V\" failed again (%*s), "
                  "%ui failures in %T s", &remote->uri,
                  (size_t) (last - cause), cause, failures, now - since);
}


char *
ngx_http_fw_jwt_jwks_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_loc_conf_t *jlcf = conf;

    u_char                       *p;
    ssize_t                       size;
    ngx_str_t                    *value, name, s;
    ngx_uint_t                    i;
    ngx_http_fw_jwt_remote_t     *remote;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    if (jlcf->remote != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" must be a local URI (a location "
                           "that proxies to the provider)", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    remote = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_remote_t));
    if (remote == NULL) {
        return NGX_CONF_ERROR;
    }

    remote->uri = value[1];
    remote->refresh = 600;
    remote->min_refresh = 30;
    size = 256 * 1024;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "refresh=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;
            remote->refresh = ngx_parse_time(&s, 1);

            if (remote->refresh == (time_t) NGX_ERROR
                || remote->refresh <= 0)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "min_refresh=", 12) == 0) {
            s.data = value[i].data + 12;
            s.len = value[i].len - 12;
            remote->min_refresh = ngx_parse_time(&s, 1);

            if (remote->min_refresh == (time_t) NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;
            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size < 8 * (ssize_t) ngx_pagesize) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    name.len = sizeof("fw_jwt_jwks:") - 1 + remote->uri.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(name.data, "fw_jwt_jwks:", sizeof("fw_jwt_jwks:") - 1);
    ngx_memcpy(p, remote->uri.data, remote->uri.len);

    remote->zone = ngx_shared_memory_add(cf, &name, size,
                                         &ngx_http_fw_jwt_module);
    if (remote->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    remote->zone->init = ngx_http_fw_jwt_jwks_init_zone;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_jwt_module);
    remote->index = jmcf->nremotes++;

    jlcf->remote = remote;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": invalid parameter \"%V\"",
                       &cmd->name, &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_fw_jwt_jwks_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_jwks_shm_t  *sh;

    if (data) {
        /* a reload keeps the keys already fetched */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_fw_jwt_jwks_shm_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}
