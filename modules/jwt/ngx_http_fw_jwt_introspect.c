/*
 * fhirwall JWT: opaque tokens by introspection (RFC 7662), nginx glue.
 *
 * A token that is no JWS is POSTed to the introspection endpoint through a
 * subrequest to a location (which proxies to the authorization server):
 * form-encoded, with the client's credentials as its only Authorization
 * header and none of the client's headers.  The answer (active, or not)
 * is kept in a shared-memory zone under the SHA-256 of the token, never
 * the token: an active one until its "exp" or max_ttl, an inactive one for
 * negative_ttl.  An endpoint that fails (status, timeout, garbage) makes
 * the request fail with 503 (or 401), logged once per outage.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "ngx_http_fw_jwt_introspect.h"


#define NGX_HTTP_FW_JWT_INTROSPECT_TTL       300
#define NGX_HTTP_FW_JWT_INTROSPECT_NEG_TTL   10
#define NGX_HTTP_FW_JWT_INTROSPECT_EVICT     8
#define NGX_HTTP_FW_JWT_INTROSPECT_SECRET    4096
#define NGX_HTTP_FW_JWT_INTROSPECT_LOCAL     256   /* per worker, a power
                                                       of two */


typedef struct {
    ngx_rbtree_node_t          node;        /* key: the digest's start */
    ngx_queue_t                queue;       /* most recent first */
    u_char                     digest[32];
    time_t                     expires;
    ngx_int_t                  status;
    size_t                     len;
    u_char                     data[1];     /* an active answer, JSON */
} ngx_http_fw_jwt_introspect_node_t;


typedef struct {
    ngx_rbtree_t               rbtree;
    ngx_rbtree_node_t          sentinel;
    ngx_queue_t                queue;
    ngx_uint_t                 down;        /* an outage was logged */
} ngx_http_fw_jwt_introspect_sh_t;


typedef struct {
    ngx_http_fw_jwt_introspect_conf_t  *ic;
    ngx_http_fw_jwt_introspect_ctx_t   *ictx;
} ngx_http_fw_jwt_introspect_req_t;


/*
 * A worker's copy of recent answers (direct-mapped on the digest), so a
 * cache hit neither locks the zone nor parses JSON; an answer is the same
 * until it expires, so the copy never says other than the zone.
 */
typedef struct {
    ngx_shm_zone_t            *zone;
    u_char                     digest[32];
    time_t                     expires;
    ngx_int_t                  status;
    json_t                    *payload;     /* a reference */
} ngx_http_fw_jwt_introspect_local_t;


static ngx_int_t ngx_http_fw_jwt_introspect_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_http_fw_jwt_introspect_node_t *
    ngx_http_fw_jwt_introspect_lookup(ngx_http_fw_jwt_introspect_sh_t *sh,
    const u_char *digest, time_t now, ngx_slab_pool_t *shpool);
static void ngx_http_fw_jwt_introspect_put(ngx_http_request_t *r,
    ngx_http_fw_jwt_introspect_conf_t *ic, const u_char *digest,
    ngx_int_t status, json_t *payload);
static ngx_int_t ngx_http_fw_jwt_introspect_secret(ngx_conf_t *cf,
    ngx_str_t *file, u_char *secret, size_t *n);
static ngx_int_t ngx_http_fw_jwt_introspect_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_fw_jwt_introspect_health(ngx_http_request_t *r,
    ngx_http_fw_jwt_introspect_conf_t *ic, ngx_uint_t ok,
    const char *what);
static ngx_int_t ngx_http_fw_jwt_introspect_header(ngx_http_request_t *sr,
    const char *key, ngx_str_t *value);


static void ngx_http_fw_jwt_introspect_local_put(ngx_shm_zone_t *zone,
    const u_char *digest, time_t expires, ngx_int_t status,
    json_t *payload);
static void ngx_http_fw_jwt_introspect_local_free(void *data);


static ngx_http_fw_jwt_introspect_local_t
    *ngx_http_fw_jwt_introspect_local;
static ngx_str_t  ngx_http_fw_jwt_introspect_post = ngx_string("POST");
static ngx_str_t  ngx_http_fw_jwt_introspect_form =
    ngx_string("application/x-www-form-urlencoded");
static ngx_str_t  ngx_http_fw_jwt_introspect_json =
    ngx_string("application/json");


/* configuration */

void
ngx_http_fw_jwt_introspect_create_conf(ngx_http_fw_jwt_introspect_conf_t *ic)
{
    /* uri, auth: zeroed by the loc conf's ngx_pcalloc() */

    ic->zone = NGX_CONF_UNSET_PTR;
    ic->max_ttl = NGX_CONF_UNSET;
    ic->negative_ttl = NGX_CONF_UNSET;
    ic->unavailable = NGX_CONF_UNSET_UINT;
    ic->set = NGX_CONF_UNSET;
}


char *
ngx_http_fw_jwt_introspect_merge_conf(ngx_conf_t *cf,
    ngx_http_fw_jwt_introspect_conf_t *prev,
    ngx_http_fw_jwt_introspect_conf_t *conf)
{
    if (conf->uri.data == NULL) {
        conf->uri = prev->uri;
        conf->zone = prev->zone;
        conf->max_ttl = prev->max_ttl;
        conf->negative_ttl = prev->negative_ttl;
        conf->unavailable = prev->unavailable;
    }

    ngx_conf_merge_ptr_value(conf->zone, prev->zone, NULL);
    ngx_conf_merge_sec_value(conf->max_ttl, prev->max_ttl,
                             NGX_HTTP_FW_JWT_INTROSPECT_TTL);
    ngx_conf_merge_sec_value(conf->negative_ttl, prev->negative_ttl,
                             NGX_HTTP_FW_JWT_INTROSPECT_NEG_TTL);
    ngx_conf_merge_uint_value(conf->unavailable, prev->unavailable,
                              NGX_HTTP_SERVICE_UNAVAILABLE);

    if (conf->set == NGX_CONF_UNSET) {
        conf->auth = prev->auth;
        conf->set = prev->set;
    }

    if (conf->issuers == NULL) {
        conf->issuers = prev->issuers;
    }


    if (conf->set == NGX_CONF_UNSET) {
        conf->set = 0;
    }

    if (conf->uri.len && !conf->set) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_introspect\" needs the client's "
                           "credentials: \"fw_jwt_introspect_auth basic "
                           "<client_id> <secret_file>\", \"bearer "
                           "<secret_file>\" or \"none\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* fw_jwt_introspect /uri zone=name:size [max_ttl=] [negative_ttl=]
   [unavailable=503|401] */

char *
ngx_http_fw_jwt_introspect(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_introspect_conf_t *ic = (void *) ((u_char *) conf
                                                      + cmd->offset);

    u_char      *p;
    ssize_t      size;
    ngx_str_t   *value, s, name;
    ngx_int_t    n;
    ngx_uint_t   i;

    if (ic->uri.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_introspect\" takes a location's URI "
                           "(\"/...\") that proxies to the endpoint");
        return NGX_CONF_ERROR;
    }

    ic->uri = value[1];
    ic->zone = NULL;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL || p == name.data) {
                goto invalid;
            }

            name.len = p - name.data;
            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"fw_jwt_introspect\": zone \"%V\" "
                                   "is too small", &name);
                return NGX_CONF_ERROR;
            }

            ic->zone = ngx_shared_memory_add(cf, &name, size,
                                             &ngx_http_fw_jwt_module);
            if (ic->zone == NULL) {
                return NGX_CONF_ERROR;
            }

            ic->zone->init = ngx_http_fw_jwt_introspect_init_zone;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_ttl=", 8) == 0
            || ngx_strncmp(value[i].data, "negative_ttl=", 13) == 0)
        {
            p = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.data = p;
            s.len = value[i].data + value[i].len - p;

            n = ngx_parse_time(&s, 1);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            if (value[i].data[0] == 'm') {
                ic->max_ttl = (time_t) n;

            } else {
                ic->negative_ttl = (time_t) n;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "unavailable=503") == 0) {
            ic->unavailable = NGX_HTTP_SERVICE_UNAVAILABLE;
            continue;
        }

        if (ngx_strcmp(value[i].data, "unavailable=401") == 0) {
            ic->unavailable = NGX_HTTP_UNAUTHORIZED;
            continue;
        }

        goto invalid;
    }

    if (ic->zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_introspect\" needs \"zone=name:size\" "
                           "(the answers are cached in shared memory)");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"fw_jwt_introspect\" parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/* fw_jwt_introspect_auth basic <client_id> <file> | bearer <file> | none */

char *
ngx_http_fw_jwt_introspect_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fw_jwt_introspect_conf_t *ic = (void *) ((u_char *) conf
                                                      + cmd->offset);

    u_char      *p, *buf, secret[NGX_HTTP_FW_JWT_INTROSPECT_SECRET];
    size_t       n, len;
    ngx_str_t   *value, file, plain, enc;
    ngx_uint_t   basic;

    if (ic->set != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "none") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no more parameters after \"none\"";
        }

        ic->set = 1;
        ngx_str_null(&ic->auth);
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "basic") == 0 && cf->args->nelts == 4) {
        basic = 1;
        file = value[3];

    } else if (ngx_strcmp(value[1].data, "bearer") == 0
               && cf->args->nelts == 3)
    {
        basic = 0;
        file = value[2];

    } else {
        return "takes \"basic <client_id> <secret_file>\", "
               "\"bearer <secret_file>\" or \"none\"";
    }

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_fw_jwt_introspect_secret(cf, &file, secret, &n)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (!basic) {
        len = sizeof("Bearer ") - 1 + n;
        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        ic->auth.data = p;
        p = ngx_cpymem(p, "Bearer ", sizeof("Bearer ") - 1);
        ngx_memcpy(p, secret, n);
        ic->auth.len = len;

        ngx_memzero(secret, sizeof(secret));
        ic->set = 1;
        return NGX_CONF_OK;
    }

    /* RFC 6749 2.3.1: both form-encoded, then base64 */

    len = fw_jwt_form_encoded_len(value[2].data, value[2].len) + 1
          + fw_jwt_form_encoded_len(secret, n);

    buf = ngx_pnalloc(cf->pool, len);
    if (buf == NULL) {
        return NGX_CONF_ERROR;
    }

    p = fw_jwt_form_encode(buf, value[2].data, value[2].len);
    *p++ = ':';
    p = fw_jwt_form_encode(p, secret, n);

    plain.data = buf;
    plain.len = p - buf;

    enc.len = sizeof("Basic ") - 1 + ngx_base64_encoded_length(plain.len);
    enc.data = ngx_pnalloc(cf->pool, enc.len);
    if (enc.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(enc.data, "Basic ", sizeof("Basic ") - 1);
    file.data = p;
    ngx_encode_base64(&file, &plain);
    enc.len = sizeof("Basic ") - 1 + file.len;

    ngx_memzero(buf, plain.len);
    ngx_memzero(secret, sizeof(secret));

    ic->auth = enc;
    ic->set = 1;

    return NGX_CONF_OK;
}


/* the secret file: at most NGX_HTTP_FW_JWT_INTROSPECT_SECRET - 1 bytes */

static ngx_int_t
ngx_http_fw_jwt_introspect_secret(ngx_conf_t *cf, ngx_str_t *file,
    u_char *secret, size_t *n)
{
    ssize_t     got;
    ngx_fd_t    fd;
    ngx_uint_t  i;

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"fw_jwt_introspect_auth\": cannot open "
                           "\"%V\"", file);
        return NGX_ERROR;
    }

    got = ngx_read_fd(fd, secret, NGX_HTTP_FW_JWT_INTROSPECT_SECRET);
    ngx_close_file(fd);

    if (got < 0 || got == (ssize_t) NGX_HTTP_FW_JWT_INTROSPECT_SECRET) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_introspect_auth\": \"%V\" cannot be "
                           "read or is too large", file);
        return NGX_ERROR;
    }

    *n = (size_t) got;

    while (*n && (secret[*n - 1] == '\n' || secret[*n - 1] == '\r')) {
        (*n)--;
    }

    for (i = 0; i < *n; i++) {
        if (secret[i] <= 0x20 || secret[i] >= 0x7f) {
            ngx_memzero(secret, NGX_HTTP_FW_JWT_INTROSPECT_SECRET);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_jwt_introspect_auth\": the secret in "
                               "\"%V\" must be printable ASCII without "
                               "spaces", file);
            return NGX_ERROR;
        }
    }

    if (*n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_introspect_auth\": \"%V\" is empty",
                           file);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_introspect_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t                  *shpool;
    ngx_http_fw_jwt_introspect_sh_t  *sh;

    if (data) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_fw_jwt_introspect_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel, ngx_rbtree_insert_value);
    ngx_queue_init(&sh->queue);

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


/* the cache: the caller holds the zone's lock */

static ngx_http_fw_jwt_introspect_node_t *
ngx_http_fw_jwt_introspect_lookup(ngx_http_fw_jwt_introspect_sh_t *sh,
    const u_char *digest, time_t now, ngx_slab_pool_t *shpool)
{
    ngx_rbtree_key_t                    key;
    ngx_rbtree_node_t                  *node, *sentinel;
    ngx_http_fw_jwt_introspect_node_t  *e;

    ngx_memcpy(&key, digest, sizeof(key));

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        e = (ngx_http_fw_jwt_introspect_node_t *) node;

        if (ngx_memcmp(e->digest, digest, 32) != 0) {
            /* equal keys: nginx's insert puts them on the right */
            node = node->right;
            continue;
        }

        if (e->expires <= now) {
            ngx_queue_remove(&e->queue);
            ngx_rbtree_delete(&sh->rbtree, node);
            ngx_slab_free_locked(shpool, e);
            return NULL;
        }

        return e;
    }

    return NULL;
}


static void
ngx_http_fw_jwt_introspect_put(ngx_http_request_t *r,
    ngx_http_fw_jwt_introspect_conf_t *ic, const u_char *digest,
    ngx_int_t status, json_t *payload)
{
    char                               *text;
    size_t                              len;
    time_t                              now, expires;
    ngx_uint_t                          i;
    ngx_queue_t                        *q;
    ngx_slab_pool_t                    *shpool;
    ngx_http_fw_jwt_introspect_sh_t    *sh;
    ngx_http_fw_jwt_introspect_node_t  *e;

    now = ngx_time();
    text = NULL;
    len = 0;

    if (status == FW_JWT_VALID) {
        expires = fw_jwt_introspect_expiry(payload, now, (long) ic->max_ttl);

        text = json_dumps(payload, JSON_COMPACT);
        if (text == NULL) {
            return;
        }

        len = ngx_strlen(text);

    } else {
        expires = now + ic->negative_ttl;
    }

    if (expires <= now) {
        free(text);
        return;
    }

    shpool = (ngx_slab_pool_t *) ic->zone->shm.addr;
    sh = ic->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    e = ngx_http_fw_jwt_introspect_lookup(sh, digest, now, shpool);

    if (e != NULL) {
        ngx_queue_remove(&e->queue);
        ngx_rbtree_delete(&sh->rbtree, &e->node);
        ngx_slab_free_locked(shpool, e);
    }

    for (i = 0; i <= NGX_HTTP_FW_JWT_INTROSPECT_EVICT; i++) {
        e = ngx_slab_alloc_locked(shpool,
                             sizeof(ngx_http_fw_jwt_introspect_node_t) + len);
        if (e != NULL || ngx_queue_empty(&sh->queue)) {
            break;
        }

        /* the least recently stored makes room */
        q = ngx_queue_last(&sh->queue);
        ngx_queue_remove(q);
        e = ngx_queue_data(q, ngx_http_fw_jwt_introspect_node_t, queue);
        ngx_rbtree_delete(&sh->rbtree, &e->node);
        ngx_slab_free_locked(shpool, e);
        e = NULL;
    }

    if (e == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        free(text);
        return;
    }

    ngx_memcpy(&e->node.key, digest, sizeof(ngx_rbtree_key_t));
    ngx_memcpy(e->digest, digest, 32);
    e->expires = expires;
    e->status = status;
    e->len = len;

    if (len) {
        ngx_memcpy(e->data, text, len);
    }

    ngx_rbtree_insert(&sh->rbtree, &e->node);
    ngx_queue_insert_head(&sh->queue, &e->queue);

    ngx_shmtx_unlock(&shpool->mutex);

    free(text);

    ngx_http_fw_jwt_introspect_local_put(ic->zone, digest, expires, status,
                                         payload);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: introspection answer cached for %T s",
                   expires - now);
}


/* the hooks */

void
ngx_http_fw_jwt_introspect_reset(ngx_http_fw_jwt_introspect_ctx_t *ictx)
{
    /* an answer that came is kept for the check it wakes */

    if (ictx->payload && !ictx->done) {
        json_decref(ictx->payload);
        ictx->payload = NULL;
    }

    ictx->want = 0;
    ictx->used = 0;
}


ngx_int_t
ngx_http_fw_jwt_introspect_eval(ngx_http_request_t *r,
    ngx_http_fw_jwt_introspect_conf_t *ic,
    ngx_http_fw_jwt_introspect_ctx_t *ictx, ngx_str_t *raw,
    fw_jwt_token_t *token)
{
    json_t                             *j;
    time_t                              expires;
    ngx_int_t                           status;
    json_error_t                        e;
    ngx_http_fw_jwt_introspect_local_t *local;
    ngx_slab_pool_t                    *shpool;
    ngx_http_fw_jwt_introspect_sh_t    *sh;
    ngx_http_fw_jwt_introspect_node_t  *node;

    if (ic->uri.len == 0) {
        return NGX_DECLINED;
    }

    /* a JWS of a listed issuer is introspected, not verified here */

    if (fw_jwt_is_jws(raw->data, raw->len)
        && (ic->issuers == NULL
            || !fw_jwt_introspect_issuer(raw->data, raw->len,
                                         ic->issuers->elts,
                                         ic->issuers->nelts, raw->len)))
    {
        return NGX_DECLINED;
    }

    ictx->used = 1;

    if (ictx->done) {
        /* the subrequest's answer */
        ictx->done = 0;
        token->payload = ictx->payload;
        ictx->payload = NULL;
        return ictx->status;
    }

    if (fw_jwt_digest(raw->data, raw->len, ictx->digest) != FW_OK) {
        return FW_JWT_ERROR;
    }

    local = ngx_http_fw_jwt_introspect_local;

    if (local) {
        local += ictx->digest[0] & (NGX_HTTP_FW_JWT_INTROSPECT_LOCAL - 1);

        if (local->zone == ic->zone && local->expires > ngx_time()
            && ngx_memcmp(local->digest, ictx->digest, 32) == 0)
        {
            if (local->status == FW_JWT_VALID) {
                token->payload = json_incref(local->payload);
            }

            return local->status;
        }
    }

    shpool = (ngx_slab_pool_t *) ic->zone->shm.addr;
    sh = ic->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    node = ngx_http_fw_jwt_introspect_lookup(sh, ictx->digest, ngx_time(),
                                             shpool);

    if (node != NULL) {
        status = node->status;
        expires = node->expires;
        j = NULL;

        if (status == FW_JWT_VALID) {
            j = json_loadb((const char *) node->data, node->len, 0, &e);
        }

        ngx_shmtx_unlock(&shpool->mutex);

        if (status != FW_JWT_VALID || j != NULL) {
            ngx_http_fw_jwt_introspect_local_put(ic->zone, ictx->digest,
                                                 expires, status, j);
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "fw_jwt: introspection cache hit: %s",
                       fw_jwt_status_name(status));

        if (status == FW_JWT_VALID) {
            if (j == NULL) {
                return FW_JWT_ERROR;
            }

            token->payload = j;
        }

        return status;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (ictx->asked) {
        /* one subrequest per request */
        return FW_JWT_INTROSPECTION_FAILED;
    }

    ictx->want = 1;

    return FW_JWT_INTROSPECTION_FAILED;
}


static ngx_int_t
ngx_http_fw_jwt_introspect_header(ngx_http_request_t *sr, const char *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->lowcase_key = ngx_pnalloc(sr->pool, h->key.len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(h->lowcase_key, h->key.data, h->key.len);
    h->value = *value;

    return NGX_OK;
}


ngx_int_t
ngx_http_fw_jwt_introspect_start(ngx_http_request_t *r,
    ngx_http_fw_jwt_introspect_conf_t *ic,
    ngx_http_fw_jwt_introspect_ctx_t *ictx, ngx_str_t *raw,
    ngx_http_request_t **psr)
{
    ngx_buf_t                         *b;
    ngx_chain_t                       *cl;
    ngx_http_request_t                *sr;
    ngx_http_post_subrequest_t        *ps;
    ngx_http_fw_jwt_introspect_req_t  *req;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    req = ngx_palloc(r->pool, sizeof(ngx_http_fw_jwt_introspect_req_t));
    b = ngx_create_temp_buf(r->pool, fw_jwt_introspect_body_len(raw->len));
    cl = ngx_alloc_chain_link(r->pool);

    if (ps == NULL || req == NULL || b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    b->last = b->pos + fw_jwt_introspect_body(b->pos, raw->data, raw->len);
    b->last_buf = 1;
    cl->buf = b;
    cl->next = NULL;

    req->ic = ic;
    req->ictx = ictx;

    ps->handler = ngx_http_fw_jwt_introspect_done;
    ps->data = req;

    if (ngx_http_subrequest(r, &ic->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a POST of the form, with none of the client's headers */

    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_http_fw_jwt_introspect_post;
    sr->header_only = 0;

    sr->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    sr->request_body->bufs = cl;
    sr->headers_in.content_length_n = b->last - b->pos;
    sr->headers_in.chunked = 0;
    sr->headers_in.content_length = NULL;
    sr->headers_in.transfer_encoding = NULL;
    sr->headers_in.authorization = NULL;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_fw_jwt_introspect_header(sr, "Content-Type",
                                       &ngx_http_fw_jwt_introspect_form)
        != NGX_OK
        || ngx_http_fw_jwt_introspect_header(sr, "Accept",
                                       &ngx_http_fw_jwt_introspect_json)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ic->auth.len
        && ngx_http_fw_jwt_introspect_header(sr, "Authorization", &ic->auth)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ictx->want = 0;
    ictx->pending = 1;
    ictx->done = 0;
    ictx->asked = 1;

    *psr = sr;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: introspecting the token at \"%V\"", &ic->uri);

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_introspect_done(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_fw_jwt_introspect_req_t *req = data;

    json_t                            *payload;
    ngx_int_t                          status;
    ngx_buf_t                         *b;
    ngx_http_fw_jwt_introspect_ctx_t  *ictx;

    ictx = req->ictx;
    ictx->pending = 0;
    ictx->done = 1;
    ictx->status = FW_JWT_INTROSPECTION_FAILED;

    if (ictx->payload) {
        json_decref(ictx->payload);
        ictx->payload = NULL;
    }

    if (rc != NGX_OK || r->headers_out.status != NGX_HTTP_OK) {
        ngx_http_fw_jwt_introspect_health(r, req->ic, 0, "an error status");
        return rc;
    }

    b = NULL;

    if (r->upstream && r->upstream->buffer.pos < r->upstream->buffer.last) {
        b = &r->upstream->buffer;

    } else if (r->out && r->out->buf) {
        b = r->out->buf;
    }

    if (b == NULL || b->pos == b->last) {
        ngx_http_fw_jwt_introspect_health(r, req->ic, 0, "an empty answer");
        return rc;
    }

    status = fw_jwt_introspect_parse(b->pos, b->last - b->pos, &payload);

    if (status == FW_JWT_INTROSPECTION_FAILED) {
        ngx_http_fw_jwt_introspect_health(r, req->ic, 0,
                                          "an answer that is no RFC 7662 "
                                          "JSON");
        return rc;
    }

    ngx_http_fw_jwt_introspect_health(r, req->ic, 1, NULL);

    ngx_http_fw_jwt_introspect_put(r, req->ic, ictx->digest, status,
                                   payload);

    ictx->status = status;
    ictx->payload = payload;

    return rc;
}


/* one line when the endpoint starts failing, one when it answers again */

static void
ngx_http_fw_jwt_introspect_health(ngx_http_request_t *r,
    ngx_http_fw_jwt_introspect_conf_t *ic, ngx_uint_t ok, const char *what)
{
    ngx_uint_t                        was;
    ngx_slab_pool_t                  *shpool;
    ngx_http_fw_jwt_introspect_sh_t  *sh;

    shpool = (ngx_slab_pool_t *) ic->zone->shm.addr;
    sh = ic->zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    was = sh->down;
    sh->down = !ok;
    ngx_shmtx_unlock(&shpool->mutex);

    if (!ok && !was) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_jwt: token introspection at \"%V\" failed "
                      "(%s, status %ui): tokens it has not answered for "
                      "are refused with %ui until it recovers",
                      &ic->uri, what, r->headers_out.status,
                      ic->unavailable);

    } else if (ok && was) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "fw_jwt: token introspection at \"%V\" answers again",
                      &ic->uri);
    }
}


static void
ngx_http_fw_jwt_introspect_local_put(ngx_shm_zone_t *zone,
    const u_char *digest, time_t expires, ngx_int_t status, json_t *payload)
{
    ngx_pool_cleanup_t                  *cln;
    ngx_http_fw_jwt_introspect_local_t  *local;

    if (ngx_http_fw_jwt_introspect_local == NULL) {
        local = ngx_calloc(NGX_HTTP_FW_JWT_INTROSPECT_LOCAL
                           * sizeof(ngx_http_fw_jwt_introspect_local_t),
                           ngx_cycle->log);
        if (local == NULL) {
            return;
        }

        cln = ngx_pool_cleanup_add(ngx_cycle->pool, 0);
        if (cln == NULL) {
            ngx_free(local);
            return;
        }

        cln->handler = ngx_http_fw_jwt_introspect_local_free;
        cln->data = NULL;

        ngx_http_fw_jwt_introspect_local = local;
    }

    local = ngx_http_fw_jwt_introspect_local
            + (digest[0] & (NGX_HTTP_FW_JWT_INTROSPECT_LOCAL - 1));

    if (local->payload) {
        json_decref(local->payload);
    }

    local->zone = zone;
    ngx_memcpy(local->digest, digest, 32);
    local->expires = expires;
    local->status = status;
    local->payload = (status == FW_JWT_VALID) ? json_incref(payload) : NULL;
}


static void
ngx_http_fw_jwt_introspect_local_free(void *data)
{
    ngx_uint_t                           i;
    ngx_http_fw_jwt_introspect_local_t  *local;

    local = ngx_http_fw_jwt_introspect_local;

    if (local == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_FW_JWT_INTROSPECT_LOCAL; i++) {
        if (local[i].payload) {
            json_decref(local[i].payload);
        }
    }

    ngx_free(local);
    ngx_http_fw_jwt_introspect_local = NULL;
}
