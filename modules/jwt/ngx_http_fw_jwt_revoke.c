/*
 * fhirwall JWT: one-time tokens and the revocation list (nginx glue; the
 * list itself is the plain-C core fw_jwt_revoke.c).
 *
 * Replay: the first request with a token records SHA-256(iss NUL jti) in
 * a shared-memory zone (common/ngx_http_fw_shm_cache) until the token
 * expires (exp + leeway); a second one within that time is refused.
 *
 * Revocation: the file is read when the configuration is (nginx -t,
 * start, HUP), then each worker stats it every "interval" from a timer
 * and reads it again (at most max_size bytes, a local file) when its
 * mtime or size changed: never from a request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#define NGX_HTTP_FW_JWT_SHA256  32

#include "ngx_http_fw_shm_cache.h"
#include "ngx_http_fw_jwt_revoke.h"


#define NGX_HTTP_FW_JWT_REVOKE_MAX  (1024 * 1024)


static char *ngx_http_fw_jwt_revoke_register(ngx_conf_t *cf,
    ngx_http_fw_jwt_revoke_t *rv, ngx_http_fw_jwt_revoke_t **field);
static ngx_int_t ngx_http_fw_jwt_revoke_load(ngx_log_t *log,
    ngx_http_fw_jwt_revoke_t *rv, ngx_uint_t force, char *err);
static void ngx_http_fw_jwt_revoke_timer(ngx_event_t *ev);
static void ngx_http_fw_jwt_revoke_cycle_cleanup(void *data);


/* the revocation files of the configuration being read, or running */
static ngx_array_t  *ngx_http_fw_jwt_revokes;
static ngx_cycle_t  *ngx_http_fw_jwt_revokes_cycle;


extern ngx_module_t  ngx_http_fw_jwt_module;


char *
ngx_http_fw_jwt_replay_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char                     *c;
    ssize_t                     size;
    ngx_str_t                  *value, name, s;
    ngx_uint_t                  i;
    ngx_shm_zone_t             *shm_zone;
    ngx_http_fw_jwt_replay_t  **field, *rp;

    field = (ngx_http_fw_jwt_replay_t **) (p + cmd->offset);

    if (*field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        *field = NULL;
        return NGX_CONF_OK;
    }

    rp = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_replay_t));
    if (rp == NULL) {
        return NGX_CONF_ERROR;
    }

    rp->ttl = 3600;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            c = (u_char *) ngx_strchr(name.data, ':');

            if (c == NULL || c == name.data) {
                goto invalid;
            }

            name.len = c - name.data;
            s.data = c + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid size in \"fw_jwt_jti_replay\" "
                                   "\"%V\" (at least %uz)", &value[i],
                                   8 * ngx_pagesize);
                return NGX_CONF_ERROR;
            }

            shm_zone = ngx_shared_memory_add(cf, &name, size,
                                             &ngx_http_fw_jwt_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            /* a zone may be named by several locations, one size */
            if (shm_zone->data == NULL
                && ngx_http_fw_shm_cache_create(cf, shm_zone, 0,
                                                "fw_jwt_jti_replay")
                   == NULL)
            {
                return NGX_CONF_ERROR;
            }

            rp->zone = shm_zone;
            continue;
        }

        if (ngx_strcmp(value[i].data, "required") == 0) {
            rp->required = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "redis") == 0) {
            /* fw_jwt_redis is checked with the location (merge) */
            rp->redis = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            rp->ttl = ngx_parse_time(&s, 1);

            if (rp->ttl == (time_t) NGX_ERROR || rp->ttl <= 0) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (rp->zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_jti_replay\" needs zone=NAME:SIZE");
        return NGX_CONF_ERROR;
    }

    *field = rp;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"fw_jwt_jti_replay\" "
                       "(zone=NAME:SIZE, required, ttl=TIME, redis or off)",
                       &value[i]);
    return NGX_CONF_ERROR;
}


char *
ngx_http_fw_jwt_revoke_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ssize_t                     size;
    ngx_str_t                  *value, s, path;
    ngx_int_t                   n;
    ngx_uint_t                  i;
    ngx_http_fw_jwt_revoke_t  **field, *rv;

    field = (ngx_http_fw_jwt_revoke_t **) (p + cmd->offset);

    if (*field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        *field = NULL;
        return NGX_CONF_OK;
    }

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rv = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_jwt_revoke_t));
    if (rv == NULL) {
        return NGX_CONF_ERROR;
    }

    rv->path = path;
    rv->interval = 5000;
    rv->max_size = NGX_HTTP_FW_JWT_REVOKE_MAX;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "interval=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR || n < 100) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_jwt_revoke_file\" interval must "
                                   "be at least 100ms");
                return NGX_CONF_ERROR;
            }

            rv->interval = (ngx_msec_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size < 1
                || size > 64 * NGX_HTTP_FW_JWT_REVOKE_MAX)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_jwt_revoke_file\" max_size must "
                                   "be between 1 and 64m");
                return NGX_CONF_ERROR;
            }

            rv->max_size = (size_t) size;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in "
                           "\"fw_jwt_revoke_file\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return ngx_http_fw_jwt_revoke_register(cf, rv, field);
}


/* one list a file in this configuration, read now (fail closed) */

static char *
ngx_http_fw_jwt_revoke_register(ngx_conf_t *cf, ngx_http_fw_jwt_revoke_t *rv,
    ngx_http_fw_jwt_revoke_t **field)
{
    char                        err[256];
    ngx_uint_t                  i;
    ngx_pool_cleanup_t         *cln;
    ngx_http_fw_jwt_revoke_t  **rvp;

    if (ngx_http_fw_jwt_revokes == NULL
        || ngx_http_fw_jwt_revokes_cycle != cf->cycle)
    {
        ngx_http_fw_jwt_revokes = ngx_array_create(cf->cycle->pool, 4,
                                          sizeof(ngx_http_fw_jwt_revoke_t *));
        if (ngx_http_fw_jwt_revokes == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->cycle->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_fw_jwt_revoke_cycle_cleanup;
        cln->data = ngx_http_fw_jwt_revokes;

        ngx_http_fw_jwt_revokes_cycle = cf->cycle;
    }

    rvp = ngx_http_fw_jwt_revokes->elts;

    for (i = 0; i < ngx_http_fw_jwt_revokes->nelts; i++) {
        if (rvp[i]->path.len == rv->path.len
            && ngx_strcmp(rvp[i]->path.data, rv->path.data) == 0)
        {
            if (rvp[i]->interval != rv->interval
                || rvp[i]->max_size != rv->max_size)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_jwt_revoke_file\" \"%V\" is given "
                                   "with other parameters elsewhere",
                                   &rv->path);
                return NGX_CONF_ERROR;
            }

            *field = rvp[i];
            return NGX_CONF_OK;
        }
    }

    /* fail closed: a list that cannot be read stops the configuration */

    if (ngx_http_fw_jwt_revoke_load(cf->log, rv, 1, err) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_revoke_file\" \"%V\": %s",
                           &rv->path, err);
        fw_jwt_revoke_free(rv->list);
        return NGX_CONF_ERROR;
    }

    rvp = ngx_array_push(ngx_http_fw_jwt_revokes);
    if (rvp == NULL) {
        fw_jwt_revoke_free(rv->list);
        return NGX_CONF_ERROR;
    }

    *rvp = rv;
    *field = rv;

    return NGX_CONF_OK;
}


/* the lists are freed with the configuration that read them */

static void
ngx_http_fw_jwt_revoke_cycle_cleanup(void *data)
{
    ngx_array_t  *revokes = data;

    ngx_uint_t                  i;
    ngx_http_fw_jwt_revoke_t  **rvp;

    rvp = revokes->elts;

    for (i = 0; i < revokes->nelts; i++) {
        fw_jwt_revoke_free(rvp[i]->list);
        rvp[i]->list = NULL;
    }

    if (ngx_http_fw_jwt_revokes == revokes) {
        ngx_http_fw_jwt_revokes = NULL;
        ngx_http_fw_jwt_revokes_cycle = NULL;
    }
}


/*
 * Reads the file again when forced or when its mtime or size changed;
 * the old list stays when the new one cannot be read.
 */

static ngx_int_t
ngx_http_fw_jwt_revoke_load(ngx_log_t *log, ngx_http_fw_jwt_revoke_t *rv,
    ngx_uint_t force, char *err)
{
    u_char           *buf;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;
    fw_jwt_revoke_t  *list;

    fd = ngx_open_file(rv->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_snprintf((u_char *) err, 255, "cannot open (%s)%Z",
                     strerror(ngx_errno));
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_snprintf((u_char *) err, 255, "cannot stat (%s)%Z",
                     strerror(ngx_errno));
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    if (!force && ngx_file_mtime(&fi) == rv->mtime
        && ngx_file_size(&fi) == rv->size)
    {
        ngx_close_file(fd);
        return NGX_DECLINED;
    }

    if (ngx_file_size(&fi) > (off_t) rv->max_size) {
        ngx_snprintf((u_char *) err, 255, "larger than max_size=%uz%Z",
                     rv->max_size);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    buf = ngx_alloc(rv->max_size + 1, log);
    if (buf == NULL) {
        ngx_close_file(fd);
        ngx_snprintf((u_char *) err, 255, "out of memory%Z");
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, rv->max_size + 1);

    ngx_close_file(fd);

    if (n < 0 || (size_t) n > rv->max_size) {
        ngx_free(buf);
        ngx_snprintf((u_char *) err, 255, "%s%Z",
                     n < 0 ? "cannot read" : "larger than max_size");
        return NGX_ERROR;
    }

    list = fw_jwt_revoke_parse(buf, (size_t) n, err);

    ngx_free(buf);

    if (list == NULL) {
        return NGX_ERROR;
    }

    fw_jwt_revoke_free(rv->list);
    rv->list = list;
    rv->mtime = ngx_file_mtime(&fi);
    rv->size = ngx_file_size(&fi);

    return NGX_OK;
}


static void
ngx_http_fw_jwt_revoke_timer(ngx_event_t *ev)
{
    ngx_http_fw_jwt_revoke_t *rv = ev->data;

    char       err[256];
    ngx_int_t  rc;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    rc = ngx_http_fw_jwt_revoke_load(ev->log, rv, 0, err);

    if (rc == NGX_OK) {
        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                      "fw_jwt: revocation list \"%V\" reloaded: %uz "
                      "entries", &rv->path, fw_jwt_revoke_count(rv->list));
        rv->failed = 0;

    } else if (rc == NGX_ERROR && !rv->failed) {
        /* once until it works again; the old list stays */
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "fw_jwt: revocation list \"%V\": %s; the previous "
                      "list stays in force", &rv->path, err);
        rv->failed = 1;
    }

    ngx_add_timer(ev, rv->interval);
}


ngx_int_t
ngx_http_fw_jwt_revoke_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_http_fw_jwt_revoke_t  **rvp;

    if (ngx_http_fw_jwt_revokes == NULL
        || ngx_http_fw_jwt_revokes_cycle != cycle)
    {
        return NGX_OK;
    }

    rvp = ngx_http_fw_jwt_revokes->elts;

    for (i = 0; i < ngx_http_fw_jwt_revokes->nelts; i++) {
        rvp[i]->timer.handler = ngx_http_fw_jwt_revoke_timer;
        rvp[i]->timer.data = rvp[i];
        rvp[i]->timer.log = cycle->log;
        rvp[i]->timer.cancelable = 1;

        ngx_add_timer(&rvp[i]->timer, rvp[i]->interval);
    }

    return NGX_OK;
}


/* a claim that is a non-empty string, or NULL */

const u_char *
ngx_http_fw_jwt_revoke_str(json_t *payload, const char *name, size_t *len)
{
    json_t  *v;

    v = json_object_get(payload, name);

    if (!json_is_string(v) || json_string_length(v) == 0) {
        *len = 0;
        return NULL;
    }

    *len = json_string_length(v);

    return (const u_char *) json_string_value(v);
}


ngx_int_t
ngx_http_fw_jwt_revoke_check(ngx_http_request_t *r,
    ngx_http_fw_jwt_replay_t *rp, ngx_http_fw_jwt_revoke_t *rv,
    fw_jwt_token_t *token, time_t leeway, ngx_str_t *seen)
{
    int            has_iat;
    long           iat_value;
    u_char         key[NGX_HTTP_FW_JWT_SHA256];
    time_t         expires;
    json_t        *iat, *payload;
    size_t         jti_len, sub_len;
    const u_char  *jti, *sub;

    if ((rv == NULL || rv->list == NULL) && rp == NULL) {
        return FW_JWT_VALID;
    }

    /* NULL is out of memory, not "no jti, no sub": fail closed */
    payload = fw_jwt_token_payload(token);

    if (payload == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_jwt: no memory for the token's claims");
        return FW_JWT_ERROR;
    }

    if (rv != NULL && rv->list != NULL) {
        jti = ngx_http_fw_jwt_revoke_str(payload, "jti", &jti_len);
        sub = ngx_http_fw_jwt_revoke_str(payload, "sub", &sub_len);
        iat = json_object_get(payload, "iat");
        has_iat = 0;
        iat_value = 0;

        if (json_is_number(iat)) {
            has_iat = 1;
            iat_value = (long) json_number_value(iat);
        }

        if (fw_jwt_revoke_check(rv->list, jti, jti_len, sub, sub_len,
                                has_iat, iat_value))
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "fw_jwt: revoked token refused");
            return FW_JWT_REVOKED;
        }
    }

    if (rp == NULL) {
        return FW_JWT_VALID;
    }

    if (rp->redis) {
        /* Redis is asked once every check passed: only a missing jti */
        return ngx_http_fw_jwt_replay_key(r, rp, payload, leeway, key,
                                          &expires)
               == FW_JWT_REPLAYED ? FW_JWT_REPLAYED : FW_JWT_VALID;
    }

    return ngx_http_fw_jwt_replay_local(r, rp, payload, leeway, seen);
}


ngx_int_t
ngx_http_fw_jwt_replay_key(ngx_http_request_t *r,
    ngx_http_fw_jwt_replay_t *rp, json_t *payload, time_t leeway,
    u_char *key, time_t *expires)
{
    u_char        *buf, *p;
    size_t         jti_len, iss_len;
    time_t         now;
    json_t        *exp;
    const u_char  *jti, *iss;

    jti = ngx_http_fw_jwt_revoke_str(payload, "jti", &jti_len);

    if (jti == NULL) {
        if (!rp->required) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_jwt: token without jti refused "
                      "(fw_jwt_jti_replay required)");
        return FW_JWT_REPLAYED;
    }

    iss = ngx_http_fw_jwt_revoke_str(payload, "iss", &iss_len);

    buf = ngx_pnalloc(r->pool, iss_len + 1 + jti_len);
    if (buf == NULL) {
        return FW_JWT_ERROR;
    }

    /* a jti is unique for its issuer */
    p = buf;

    if (iss != NULL) {
        p = ngx_cpymem(p, iss, iss_len);
    }

    *p++ = '\0';
    p = ngx_cpymem(p, jti, jti_len);

    if (EVP_Digest(buf, p - buf, key, NULL, EVP_sha256(), NULL) != 1) {
        return FW_JWT_ERROR;
    }

    now = ngx_time();
    exp = json_object_get(payload, "exp");

    *expires = now + rp->ttl;

    if (json_is_number(exp)) {
        *expires = (time_t) json_number_value(exp) + leeway;
    }

    if (*expires <= now) {
        *expires = now + 1;
    }

    return FW_JWT_VALID;
}


ngx_int_t
ngx_http_fw_jwt_replay_local(ngx_http_request_t *r,
    ngx_http_fw_jwt_replay_t *rp, json_t *payload, time_t leeway,
    ngx_str_t *seen)
{
    u_char                         *key;
    time_t                          now, expires;
    ngx_int_t                       rc;
    ngx_uint_t                      forgot;
    ngx_http_fw_shm_cache_t        *cache;
    ngx_http_fw_shm_cache_entry_t  *e;

    key = ngx_pnalloc(r->pool, NGX_HTTP_FW_JWT_SHA256);
    if (key == NULL) {
        return FW_JWT_ERROR;
    }

    rc = ngx_http_fw_jwt_replay_key(r, rp, payload, leeway, key, &expires);

    if (rc != FW_JWT_VALID) {
        return rc == NGX_DECLINED ? FW_JWT_VALID : rc;
    }

    if (seen->len == NGX_HTTP_FW_JWT_SHA256
        && ngx_memcmp(seen->data, key, NGX_HTTP_FW_JWT_SHA256) == 0)
    {
        /* this request consumed it already (checked again) */
        return FW_JWT_VALID;
    }

    now = ngx_time();
    cache = rp->zone->data;
    forgot = 0;

    ngx_http_fw_shm_cache_lock(cache);

    ngx_http_fw_shm_cache_expire(cache, now, 16);

    e = ngx_http_fw_shm_cache_get(cache, 0, key, NGX_HTTP_FW_JWT_SHA256);

    if (e && e->expires > now) {
        ngx_http_fw_shm_cache_unlock(cache);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_jwt: replayed token refused (jti seen before)");
        return FW_JWT_REPLAYED;
    }

    if (e == NULL) {
        e = ngx_http_fw_shm_cache_add(cache, 0, key, NGX_HTTP_FW_JWT_SHA256,
                                      now, &forgot);
    }

    if (e) {
        e->expires = expires;
    }

    ngx_http_fw_shm_cache_unlock(cache);

    if (forgot) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_jwt: jti replay zone \"%V\" is full, forgetting "
                      "tokens that have not expired", &rp->zone->shm.name);
    }

    if (e == NULL) {
        /* fail closed: a token that cannot be recorded is not accepted */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "fw_jwt: could not allocate a node in jti replay "
                      "zone \"%V\"", &rp->zone->shm.name);
        return FW_JWT_ERROR;
    }

    seen->data = key;
    seen->len = NGX_HTTP_FW_JWT_SHA256;

    return FW_JWT_VALID;
}
