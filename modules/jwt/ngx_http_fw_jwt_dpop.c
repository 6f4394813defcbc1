/*
 * fhirwall JWT: nginx glue for DPoP (RFC 9449) and certificate-bound
 * tokens (RFC 8705): the directives, the DPoP header, the expected htu,
 * the proof jti replay zone (shared by the workers), the challenges.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "ngx_http_fw_jwt_dpop.h"


#define NGX_HTTP_FW_JWT_DPOP_WINDOW    60
#define NGX_HTTP_FW_JWT_DPOP_ZONE      (1024 * 1024)
#define NGX_HTTP_FW_JWT_NONCE_LIFE     300
#define NGX_HTTP_FW_JWT_NONCE_MAX      4096


/* a proof seen: its (key, jti) digest, until when it could be replayed */
typedef struct {
    ngx_rbtree_node_t          node;        /* key: 4 bytes of the digest */
    ngx_queue_t                queue;
    time_t                     expires;
    uint64_t                   owner;       /* the request that used it */
    u_char                     digest[32];
} ngx_http_fw_jwt_dpop_seen_t;


typedef struct {
    ngx_rbtree_t               rbtree;
    ngx_rbtree_node_t          sentinel;
    ngx_queue_t                queue;       /* newest first */
} ngx_http_fw_jwt_dpop_shm_t;


static ngx_int_t ngx_http_fw_jwt_dpop_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_fw_jwt_dpop_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_fw_jwt_dpop_record(ngx_http_request_t *r,
    ngx_shm_zone_t *zone, const u_char *digest, time_t expires);
static ngx_int_t ngx_http_fw_jwt_dpop_header(ngx_http_request_t *r,
    ngx_str_t *value);
static ngx_int_t ngx_http_fw_jwt_dpop_htu(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_str_t *htu);
static ngx_int_t ngx_http_fw_jwt_dpop_proof(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_http_fw_jwt_dpop_ctx_t *dctx,
    ngx_str_t *token, time_t leeway);
static ngx_int_t ngx_http_fw_jwt_dpop_www_auth(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_str_t *realm, const char *berr,
    const char *derr, const char *desc);
static ngx_int_t ngx_http_fw_jwt_dpop_nonce_header(ngx_http_request_t *r,
    const u_char *nonce);
static ngx_int_t ngx_http_fw_jwt_cnf_error(ngx_http_request_t *r,
    int bound);
static ngx_int_t ngx_http_fw_jwt_cert_check(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, fw_jwt_token_t *jwt);
static ngx_int_t ngx_http_fw_jwt_dpop_jkt_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


ngx_conf_enum_t  ngx_http_fw_jwt_bind_modes[] = {
    { ngx_string("off"), NGX_HTTP_FW_JWT_BIND_OFF },
    { ngx_string("optional"), NGX_HTTP_FW_JWT_BIND_OPTIONAL },
    { ngx_string("required"), NGX_HTTP_FW_JWT_BIND_REQUIRED },
    { ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_fw_jwt_dpop_zone_name =
    ngx_string("fw_jwt_dpop");

static ngx_uint_t  ngx_http_fw_jwt_dpop_full_logged;


/* configuration */

void
ngx_http_fw_jwt_dpop_create_conf(ngx_http_fw_jwt_dpop_conf_t *dc)
{
    dc->mode = NGX_CONF_UNSET_UINT;
    dc->algs = NGX_CONF_UNSET;
    dc->window = NGX_CONF_UNSET;
    dc->origin = NGX_CONF_UNSET_PTR;
    dc->zone = NGX_CONF_UNSET_PTR;
    dc->nonce_lifetime = NGX_CONF_UNSET;
    dc->cert = NGX_CONF_UNSET_UINT;
    dc->set = 0;
    dc->redis = NGX_CONF_UNSET;
}


char *
ngx_http_fw_jwt_dpop_merge_conf(ngx_conf_t *cf,
    ngx_http_fw_jwt_dpop_conf_t *prev, ngx_http_fw_jwt_dpop_conf_t *conf,
    ngx_uint_t token_directive)
{
    ngx_conf_merge_uint_value(conf->mode, prev->mode,
                              NGX_HTTP_FW_JWT_BIND_OFF);
    ngx_conf_merge_value(conf->algs, prev->algs, FW_JWT_DPOP_ALGS);
    ngx_conf_merge_sec_value(conf->window, prev->window,
                             NGX_HTTP_FW_JWT_DPOP_WINDOW);
    ngx_conf_merge_ptr_value(conf->origin, prev->origin, NULL);
    ngx_conf_merge_ptr_value(conf->zone, prev->zone, NULL);
    ngx_conf_merge_sec_value(conf->nonce_lifetime, prev->nonce_lifetime,
                             NGX_HTTP_FW_JWT_NONCE_LIFE);
    ngx_conf_merge_uint_value(conf->cert, prev->cert,
                              NGX_HTTP_FW_JWT_BIND_OFF);
    ngx_conf_merge_value(conf->redis, prev->redis, 0);

    if (!conf->set) {
        conf->nonce_secret = prev->nonce_secret;
        conf->set = prev->set;
    }

    if (conf->window <= 0 || conf->window > 3600) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_dpop_window\" must be between 1s "
                           "and 1h");
        return NGX_CONF_ERROR;
    }

    if (conf->nonce_lifetime <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_dpop_nonce_secret_file\": the nonce "
                           "lifetime must be positive");
        return NGX_CONF_ERROR;
    }

    if (conf->mode == NGX_HTTP_FW_JWT_BIND_OFF) {
        return NGX_CONF_OK;
    }

    if (token_directive) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fw_jwt_dpop\" needs the token from the "
                           "Authorization header, not \"fw_jwt_token\"");
        return NGX_CONF_ERROR;
    }

    if (conf->zone == NULL) {
        /* one zone for every location that names none */
        conf->zone = ngx_shared_memory_add(cf,
                                           &ngx_http_fw_jwt_dpop_zone_name,
                                           NGX_HTTP_FW_JWT_DPOP_ZONE,
                                           &ngx_http_fw_jwt_module);
        if (conf->zone == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->zone->init = ngx_http_fw_jwt_dpop_init_zone;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_dpop_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fw_jwt_dpop_conf_t *dc = (void *) ((u_char *) conf
                                                 + cmd->offset);

    int          alg;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (dc->algs != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    dc->algs = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        alg = fw_jwt_alg_from_name(value[i].data, value[i].len);

        if (alg < 0 || !(FW_JWT_ALG_BIT(alg) & FW_JWT_DPOP_ALGS)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is not an asymmetric "
                               "signature algorithm (RFC 9449 section 4.2)",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        dc->algs |= FW_JWT_ALG_BIT(alg);
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_dpop_origin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_dpop_conf_t *dc = (void *) ((u_char *) conf
                                                 + cmd->offset);

    u_char                            *p;
    ngx_str_t                         *value, test;
    ngx_http_compile_complex_value_t   ccv;

    if (dc->origin != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_script_variables_count(&value[1]) == 0) {
        /* a fixed origin: a scheme, a host, maybe a port; no path */
        test.len = value[1].len + 1;
        test.data = ngx_pnalloc(cf->pool, test.len);
        if (test.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(test.data, value[1].data, value[1].len);
        *p = '/';

        if (ngx_strlchr(value[1].data + ngx_min(value[1].len, 8),
                        value[1].data + value[1].len, '/')
            != NULL
            || !fw_jwt_dpop_htu_match(test.data, test.len, test.data,
                                      test.len))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is not an origin "
                               "(https:/" "/host[:port])", &cmd->name,
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    dc->origin = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (dc->origin == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = dc->origin;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_fw_jwt_dpop_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_jwt_dpop_conf_t *dc = (void *) ((u_char *) conf
                                                 + cmd->offset);

    u_char     *p;
    ssize_t     size;
    ngx_str_t  *value, name, s;

    if (dc->zone != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        goto invalid;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR || size < 8 * (ssize_t) ngx_pagesize) {
        goto invalid;
    }

    dc->zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_fw_jwt_module);
    if (dc->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    dc->zone->init = ngx_http_fw_jwt_dpop_init_zone;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\": \"%V\" is not name:size (at least %uz)",
                       &cmd->name, &value[1], 8 * ngx_pagesize);
    return NGX_CONF_ERROR;
}


char *
ngx_http_fw_jwt_dpop_nonce_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_fw_jwt_dpop_conf_t *dc = (void *) ((u_char *) conf
                                                 + cmd->offset);

    ngx_str_t  *value, path, s;

    if (dc->set) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "lifetime=", 9) != 0) {
            goto invalid;
        }

        s.data = value[2].data + 9;
        s.len = value[2].len - 9;

        dc->nonce_lifetime = ngx_parse_time(&s, 1);

        if (dc->nonce_lifetime == (time_t) NGX_ERROR
            || dc->nonce_lifetime <= 0)
        {
            goto invalid;
        }
    }

    dc->set = 1;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        ngx_str_null(&dc->nonce_secret);
        return NGX_CONF_OK;
    }

    path = value[1];

    if (ngx_http_fw_read_conf_file(cf, &path, NGX_HTTP_FW_JWT_NONCE_MAX,
                                   &dc->nonce_secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    while (dc->nonce_secret.len
           && (dc->nonce_secret.data[dc->nonce_secret.len - 1] == '\n'
               || dc->nonce_secret.data[dc->nonce_secret.len - 1] == '\r'))
    {
        dc->nonce_secret.len--;
    }

    if (dc->nonce_secret.len < 32) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the secret in \"%V\" is shorter than "
                           "32 bytes", &cmd->name, &path);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": invalid parameter \"%V\"",
                       &cmd->name, &value[2]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_fw_jwt_dpop_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_fw_jwt_dpop_shm_t  *sh;

    if (data) {
        /* a reload keeps the proofs seen */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_fw_jwt_dpop_shm_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_fw_jwt_dpop_rbtree_insert);
    ngx_queue_init(&sh->queue);

    shpool->data = sh;
    shpool->log_nomem = 0;
    shm_zone->data = sh;

    return NGX_OK;
}


static void
ngx_http_fw_jwt_dpop_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t            **p;
    ngx_http_fw_jwt_dpop_seen_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (ngx_http_fw_jwt_dpop_seen_t *) node;
            t = (ngx_http_fw_jwt_dpop_seen_t *) temp;

            p = (ngx_memcmp(n->digest, t->digest, 32) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/*
 * NGX_OK: first use (recorded), NGX_DECLINED: a replay, NGX_BUSY: the
 * zone is full of proofs that are still in their window (fail closed).
 */

static ngx_int_t
ngx_http_fw_jwt_dpop_record(ngx_http_request_t *r, ngx_shm_zone_t *zone,
    const u_char *digest, time_t expires)
{
    time_t                        now;
    uint64_t                      owner;
    ngx_int_t                     rc;
    ngx_queue_t                  *q;
    ngx_rbtree_key_t              key;
    ngx_slab_pool_t              *shpool;
    ngx_rbtree_node_t            *node, *sentinel;
    ngx_http_fw_jwt_dpop_shm_t   *sh;
    ngx_http_fw_jwt_dpop_seen_t  *s;

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    now = ngx_time();

    /* the main request: its subrequests and internal redirects reuse it */
    owner = ((uint64_t) r->connection->number << 32)
            ^ (uint64_t) (uintptr_t) r->main
            ^ ((uint64_t) r->main->start_msec << 16)
            ^ (uint64_t) r->main->start_sec;

    key = ((ngx_rbtree_key_t) digest[0] << 24)
          | ((ngx_rbtree_key_t) digest[1] << 16)
          | ((ngx_rbtree_key_t) digest[2] << 8) | digest[3];

    ngx_shmtx_lock(&shpool->mutex);

    /* the oldest entries, past their window, go first */

    while (!ngx_queue_empty(&sh->queue)) {
        q = ngx_queue_last(&sh->queue);
        s = ngx_queue_data(q, ngx_http_fw_jwt_dpop_seen_t, queue);

        if (s->expires >= now) {
            break;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&sh->rbtree, &s->node);
        ngx_slab_free_locked(shpool, s);
    }

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        s = (ngx_http_fw_jwt_dpop_seen_t *) node;
        rc = ngx_memcmp(digest, s->digest, 32);

        if (rc == 0) {
            rc = (s->owner == owner) ? NGX_OK : NGX_DECLINED;
            ngx_shmtx_unlock(&shpool->mutex);
            return rc;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    s = ngx_slab_alloc_locked(shpool,
                              sizeof(ngx_http_fw_jwt_dpop_seen_t));

    if (s == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_BUSY;
    }

    s->node.key = key;
    s->expires = expires;
    s->owner = owner;
    ngx_memcpy(s->digest, digest, 32);

    ngx_rbtree_insert(&sh->rbtree, &s->node);
    ngx_queue_insert_head(&sh->queue, &s->queue);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


/* requests */

void
ngx_http_fw_jwt_dpop_reset(ngx_http_fw_jwt_dpop_ctx_t *dctx,
    ngx_int_t *status)
{
    dctx->status = status;
    dctx->reason = FW_JWT_DPOP_OK;
    dctx->scheme = 0;
    dctx->redis = 0;
    dctx->jkt[0] = '\0';
}


size_t
ngx_http_fw_jwt_dpop_scheme(ngx_http_fw_jwt_dpop_conf_t *dc,
    ngx_http_fw_jwt_dpop_ctx_t *dctx, u_char *p, u_char *last)
{
    if (dc->mode == NGX_HTTP_FW_JWT_BIND_OFF
        || last - p < 4
        || ngx_strncasecmp(p, (u_char *) "DPoP", 4) != 0
        || (last - p > 4 && p[4] != ' '))
    {
        return 0;
    }

    dctx->scheme = 1;

    return 4;
}


/* the one DPoP header: NGX_OK, NGX_DECLINED (none), NGX_BUSY (several) */

static ngx_int_t
ngx_http_fw_jwt_dpop_header(ngx_http_request_t *r, ngx_str_t *value)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == 4
            && ngx_strncasecmp(h[i].key.data, (u_char *) "DPoP", 4) == 0)
        {
            *value = h[i].value;
            n++;
        }
    }

    return n == 0 ? NGX_DECLINED : (n == 1 ? NGX_OK : NGX_BUSY);
}


/* the scheme and host (configured, or as the client addressed us), path */

static ngx_int_t
ngx_http_fw_jwt_dpop_htu(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_str_t *htu)
{
    u_char              *p, *q;
    ngx_str_t            origin, host, path;
    ngx_http_request_t  *m;

    m = r->main;

    if (dc->origin) {
        if (ngx_http_complex_value(r, dc->origin, &origin) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_str_null(&host);

    } else {
#if (NGX_HTTP_SSL)
        if (m->connection->ssl) {
            ngx_str_set(&origin, "https://");
        } else
#endif
        {
            ngx_str_set(&origin, "http://");
        }

        if (m->headers_in.host) {
            host = m->headers_in.host->value;

        } else {
            host = m->headers_in.server;
        }
    }

    path = m->unparsed_uri;

    q = ngx_strlchr(path.data, path.data + path.len, '?');

    if (q) {
        path.len = q - path.data;
    }

    htu->len = origin.len + host.len + path.len;
    htu->data = ngx_pnalloc(r->pool, htu->len);
    if (htu->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(htu->data, origin.data, origin.len);

    if (host.len) {
        /* none with fw_jwt_dpop_origin: no memcpy() from NULL */
        p = ngx_cpymem(p, host.data, host.len);
    }

    ngx_memcpy(p, path.data, path.len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_dpop_proof(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_http_fw_jwt_dpop_ctx_t *dctx,
    ngx_str_t *token, time_t leeway)
{
    int                   rc;
    long                  slot;
    u_char                nonces[2][FW_JWT_THUMB_LEN + 1];
    ngx_int_t             n;
    ngx_str_t             proof, htu;
    fw_jwt_str_t          accepted[2];
    fw_jwt_dpop_req_t     rq;
    fw_jwt_dpop_proof_t   out;

    n = ngx_http_fw_jwt_dpop_header(r, &proof);

    if (n != NGX_OK) {
        dctx->reason = (n == NGX_DECLINED) ? FW_JWT_DPOP_MISSING
                                           : FW_JWT_DPOP_MALFORMED;
        return FW_JWT_DPOP_INVALID;
    }

    if (ngx_http_fw_jwt_dpop_htu(r, dc, &htu) != NGX_OK) {
        return FW_JWT_ERROR;
    }

    ngx_memzero(&rq, sizeof(fw_jwt_dpop_req_t));

    rq.algs = (unsigned) dc->algs;
    rq.now = ngx_time();
    rq.window = (long) dc->window;
    rq.leeway = (long) leeway;
    rq.htm.data = r->main->method_name.data;
    rq.htm.len = r->main->method_name.len;
    rq.htu.data = htu.data;
    rq.htu.len = htu.len;
    rq.token.data = token->data;
    rq.token.len = token->len;

    if (dc->nonce_secret.len) {
        slot = (long) (rq.now / dc->nonce_lifetime);

        if (fw_jwt_dpop_nonce(dc->nonce_secret.data, dc->nonce_secret.len,
                              slot, nonces[0]) != FW_OK
            || fw_jwt_dpop_nonce(dc->nonce_secret.data,
                                 dc->nonce_secret.len, slot - 1, nonces[1])
               != FW_OK)
        {
            return FW_JWT_ERROR;
        }

        accepted[0].data = nonces[0];
        accepted[0].len = FW_JWT_THUMB_LEN;
        accepted[1].data = nonces[1];
        accepted[1].len = FW_JWT_THUMB_LEN;
        rq.nonces = accepted;
        rq.nnonces = 2;
    }

    rc = fw_jwt_dpop_verify(&rq, proof.data, proof.len, &out);

    if (rc != FW_JWT_DPOP_OK) {
        dctx->reason = rc;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_jwt: %s", fw_jwt_dpop_reason(rc));

        return rc == FW_JWT_DPOP_NONCE ? FW_JWT_DPOP_USE_NONCE
               : (rc == FW_JWT_DPOP_ERROR ? FW_JWT_ERROR
                                          : FW_JWT_DPOP_INVALID);
    }

    ngx_memcpy(dctx->jkt, out.jkt, sizeof(out.jkt));

    if (rq.nnonces && out.nonce != 0) {
        /* the previous nonce: the client gets the current one (8.2) */
        if (ngx_http_fw_jwt_dpop_nonce_header(r, nonces[0]) != NGX_OK) {
            return FW_JWT_ERROR;
        }
    }

    /* the jti, once within the window: across the workers or replicas */

    ngx_memcpy(dctx->replay, out.replay, sizeof(dctx->replay));
    dctx->expires = rq.now + dc->window + 2 * leeway + 1;

    if (dc->redis) {
        /* asked by ngx_http_fw_jwt_redis.c once every check passed */
        dctx->redis = 1;
        return FW_JWT_VALID;
    }

    return ngx_http_fw_jwt_dpop_replay_local(r, dc, dctx);
}


ngx_int_t
ngx_http_fw_jwt_dpop_replay_local(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_http_fw_jwt_dpop_ctx_t *dctx)
{
    ngx_int_t  n;

    n = ngx_http_fw_jwt_dpop_record(r, dc->zone, dctx->replay,
                                    dctx->expires);

    if (n == NGX_BUSY) {
        if (!ngx_http_fw_jwt_dpop_full_logged) {
            ngx_http_fw_jwt_dpop_full_logged = 1;
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "fw_jwt: the DPoP replay zone \"%V\" is full of "
                          "proofs still in their window; DPoP requests "
                          "are refused until it is not (logged once)",
                          &dc->zone->shm.name);
        }

        dctx->reason = FW_JWT_DPOP_ERROR;
        return FW_JWT_DPOP_UNAVAILABLE;
    }

    if (n == NGX_DECLINED) {
        return ngx_http_fw_jwt_dpop_replayed(r, dctx);
    }

    return FW_JWT_VALID;
}


ngx_int_t
ngx_http_fw_jwt_dpop_replayed(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_ctx_t *dctx)
{
    dctx->reason = FW_JWT_DPOP_REPLAY;
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "fw_jwt: %s", fw_jwt_dpop_reason(FW_JWT_DPOP_REPLAY));

    return FW_JWT_DPOP_INVALID;
}


/* fw_jwt_token_cnf()'s -1 (not a string, cnf not an object) or -2 (no
   memory for the document): both refuse, the second as an error */

static ngx_int_t
ngx_http_fw_jwt_cnf_error(ngx_http_request_t *r, int bound)
{
    if (bound == -2) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "fw_jwt: no memory for the token's claims");
        return FW_JWT_ERROR;
    }

    return FW_JWT_INVALID_CLAIM;
}


ngx_int_t
ngx_http_fw_jwt_dpop_check(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_http_fw_jwt_dpop_ctx_t *dctx,
    ngx_str_t *token, fw_jwt_token_t *jwt, time_t leeway)
{
    int           bound;
    ngx_int_t     rc;
    fw_jwt_str_t  jkt;

    bound = fw_jwt_token_cnf(jwt, "jkt", &jkt);

    if (bound < 0) {
        return ngx_http_fw_jwt_cnf_error(r, bound);
    }

    if (!dctx->scheme) {
        /* a DPoP-bound token as a bearer token: never (section 7.2) */
        if (bound || dc->mode == NGX_HTTP_FW_JWT_BIND_REQUIRED) {
            return FW_JWT_DPOP_REQUIRED;
        }

    } else {
        rc = ngx_http_fw_jwt_dpop_proof(r, dc, dctx, token, leeway);

        if (rc != FW_JWT_VALID) {
            return rc;
        }

        if (!bound
            || !fw_ct_equal(jkt.data, jkt.len, dctx->jkt, FW_JWT_THUMB_LEN))
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "fw_jwt: the token is not bound to the DPoP "
                          "proof's key");
            return FW_JWT_KEY_MISMATCH;
        }
    }

    return ngx_http_fw_jwt_cert_check(r, dc, jwt);
}


static ngx_int_t
ngx_http_fw_jwt_cert_check(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, fw_jwt_token_t *jwt)
{
    int            bound, ok, len;
    u_char        *der, *p;
    fw_jwt_str_t   x5t;
#if (NGX_HTTP_SSL)
    X509          *cert;
#endif

    bound = fw_jwt_token_cnf(jwt, "x5t#S256", &x5t);

    if (bound < 0) {
        return ngx_http_fw_jwt_cnf_error(r, bound);
    }

    if (!bound) {
        return dc->cert == NGX_HTTP_FW_JWT_BIND_REQUIRED
               ? FW_JWT_CERT_MISMATCH : FW_JWT_VALID;
    }

    ok = 0;

#if (NGX_HTTP_SSL)

    if (dc->cert != NGX_HTTP_FW_JWT_BIND_OFF && r->connection->ssl) {

        /* the certificate the client proved it holds in the handshake */
        cert = SSL_get_peer_certificate(r->connection->ssl->connection);

        if (cert) {
            len = i2d_X509(cert, NULL);
            der = (len > 0) ? ngx_pnalloc(r->pool, len) : NULL;

            if (der) {
                p = der;
                i2d_X509(cert, &p);
                ok = fw_jwt_x5t_match(&x5t, der, (size_t) len);
            }

            X509_free(cert);
        }
    }

#else
    (void) der;
    (void) p;
    (void) len;
#endif

    if (!ok) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_jwt: the token is bound to a client certificate "
                      "%s", dc->cert == NGX_HTTP_FW_JWT_BIND_OFF
                            ? "and fw_jwt_cert_bound is off"
                            : "that was not presented");
        return FW_JWT_CERT_MISMATCH;
    }

    return FW_JWT_VALID;
}


ngx_int_t
ngx_http_fw_jwt_dpop_challenge(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_http_fw_jwt_dpop_ctx_t *dctx,
    ngx_str_t *realm, ngx_int_t jwt_status, const char *error,
    const char **desc, ngx_uint_t *status)
{
    u_char       nonce[FW_JWT_THUMB_LEN + 1];
    const char  *derr, *berr;

    if (dc->mode == NGX_HTTP_FW_JWT_BIND_OFF
        && jwt_status != FW_JWT_DPOP_REQUIRED
        && jwt_status != FW_JWT_CERT_MISMATCH)
    {
        return NGX_DECLINED;
    }

    derr = NULL;
    berr = NULL;

    switch (jwt_status) {

    case FW_JWT_DPOP_UNAVAILABLE:
        /* not the client's fault: no challenge */
        *status = NGX_HTTP_SERVICE_UNAVAILABLE;
        *desc = "DPoP proofs cannot be checked now";
        return NGX_OK;

    case FW_JWT_DPOP_INVALID:
        derr = "invalid_dpop_proof";
        *desc = fw_jwt_dpop_reason(dctx->reason);
        break;

    case FW_JWT_DPOP_USE_NONCE:
        derr = "use_dpop_nonce";
        *desc = "a DPoP nonce is required";
        break;

    case FW_JWT_DPOP_REQUIRED:
        if (dc->mode == NGX_HTTP_FW_JWT_BIND_REQUIRED) {
            *desc = "a DPoP-bound token is required";

        } else {
            berr = "invalid_token";
            *desc = "the token is bound to a key: use the DPoP scheme";
        }

        break;

    case FW_JWT_KEY_MISMATCH:
        derr = "invalid_token";
        *desc = "the token is not bound to the DPoP proof's key";
        break;

    case FW_JWT_CERT_MISMATCH:
        *desc = "the token is not bound to the client certificate";
        /* fall through */

    default:
        if (dctx->scheme) {
            derr = error;

        } else {
            berr = error;
        }
    }

    *status = NGX_HTTP_UNAUTHORIZED;

    if (ngx_http_fw_jwt_dpop_www_auth(r, dc, realm, berr, derr, *desc)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (jwt_status == FW_JWT_DPOP_USE_NONCE && dc->nonce_secret.len) {
        if (fw_jwt_dpop_nonce(dc->nonce_secret.data, dc->nonce_secret.len,
                              (long) (ngx_time() / dc->nonce_lifetime),
                              nonce)
            != FW_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_fw_jwt_dpop_nonce_header(r, nonce) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the challenge: Bearer (unless DPoP is required), DPoP (unless off) */

static ngx_int_t
ngx_http_fw_jwt_dpop_www_auth(ngx_http_request_t *r,
    ngx_http_fw_jwt_dpop_conf_t *dc, ngx_str_t *realm, const char *berr,
    const char *derr, const char *desc)
{
    int         a;
    u_char     *p;
    size_t      len;
    ngx_str_t   value;

    len = 2 * (sizeof("Bearer realm=\"\", ") + realm->len)
          + sizeof(", error=\"\", error_description=\"\"") + 32
          + ngx_strlen(desc) + sizeof(", algs=\"\"")
          + FW_JWT_NALGS * 6;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;

    if (dc->mode != NGX_HTTP_FW_JWT_BIND_REQUIRED) {
        p = ngx_sprintf(p, "Bearer realm=\"%V\"", realm);

        if (berr) {
            p = ngx_sprintf(p, ", error=\"%s\", error_description=\"%s\"",
                            berr, desc);
        }
    }

    if (dc->mode != NGX_HTTP_FW_JWT_BIND_OFF) {
        if (p != value.data) {
            *p++ = ',';
            *p++ = ' ';
        }

        p = ngx_sprintf(p, "DPoP realm=\"%V\"", realm);

        if (derr) {
            p = ngx_sprintf(p, ", error=\"%s\", error_description=\"%s\"",
                            derr, desc);
        }

        p = ngx_cpymem(p, ", algs=\"", sizeof(", algs=\"") - 1);

        for (a = 0; a < FW_JWT_NALGS; a++) {
            if ((unsigned) dc->algs & FW_JWT_ALG_BIT(a)) {
                p = ngx_sprintf(p, "%s ", fw_jwt_alg_name(a));
            }
        }

        p[-1] = '"';
    }

    value.len = p - value.data;

    if (ngx_http_fw_set_www_authenticate(r, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_dpop_nonce_header(ngx_http_request_t *r, const u_char *nonce)
{
    ngx_str_t  name, value;

    value.len = FW_JWT_THUMB_LEN;
    value.data = ngx_pnalloc(r->pool, value.len);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value.data, nonce, value.len);
    ngx_str_set(&name, "DPoP-Nonce");

    return ngx_http_fw_set_header(r, &name, &value);
}


/* variables */

ngx_int_t
ngx_http_fw_jwt_dpop_add_variables(ngx_conf_t *cf, uintptr_t offset)
{
    ngx_str_t             name = ngx_string("fw_jwt_dpop_jkt");
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_fw_jwt_dpop_jkt_variable;
    var->data = offset;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_dpop_jkt_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                      *ctx;
    ngx_http_fw_jwt_dpop_ctx_t  *dctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_jwt_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    dctx = (ngx_http_fw_jwt_dpop_ctx_t *) (ctx + data);

    /* only for a token that passed every check */
    if (dctx->status == NULL || *dctx->status != FW_JWT_VALID
        || dctx->jkt[0] == '\0')
    {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = dctx->jkt;
    v->len = FW_JWT_THUMB_LEN;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
