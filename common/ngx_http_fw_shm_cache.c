/*
 * fhirwall: a shared-memory cache with expiry.  See ngx_http_fw_shm_cache.h.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_fw_shm_cache.h"


static ngx_int_t ngx_http_fw_shm_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_fw_shm_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_fw_shm_cache_cmp(uint32_t space, u_char *key,
    size_t len, ngx_http_fw_shm_cache_entry_t *e);
static uint32_t ngx_http_fw_shm_cache_hash(uint32_t space, u_char *key,
    size_t len);
static ngx_uint_t ngx_http_fw_shm_cache_evict(ngx_http_fw_shm_cache_t *c,
    int64_t now, ngx_uint_t n);


ngx_http_fw_shm_cache_t *
ngx_http_fw_shm_cache_create(ngx_conf_t *cf, ngx_shm_zone_t *shm_zone,
    size_t value_size, const char *directive)
{
    ngx_http_fw_shm_cache_t  *c;

    c = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_shm_cache_t));
    if (c == NULL) {
        return NULL;
    }

    c->value_size = value_size;
    c->directive = directive;

    shm_zone->init = ngx_http_fw_shm_cache_init_zone;
    shm_zone->data = c;

    return c;
}


static ngx_int_t
ngx_http_fw_shm_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_fw_shm_cache_t  *oc = data;

    size_t                    len;
    ngx_http_fw_shm_cache_t  *c;

    c = shm_zone->data;

    if (oc) {
        c->sh = oc->sh;
        c->shpool = oc->shpool;
        return NGX_OK;
    }

    c->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        c->sh = c->shpool->data;
        return NGX_OK;
    }

    c->sh = ngx_slab_alloc(c->shpool, sizeof(ngx_http_fw_shm_cache_sh_t));
    if (c->sh == NULL) {
        return NGX_ERROR;
    }

    c->shpool->data = c->sh;
    c->sh->serial = 0;

    ngx_rbtree_init(&c->sh->rbtree, &c->sh->sentinel,
                    ngx_http_fw_shm_cache_insert_value);

    ngx_queue_init(&c->sh->queue);

    len = sizeof(" in \"\" \"\"") + ngx_strlen(c->directive)
          + shm_zone->shm.name.len;

    c->shpool->log_ctx = ngx_slab_alloc(c->shpool, len);
    if (c->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(c->shpool->log_ctx, " in %s \"%V\"%Z", c->directive,
                &shm_zone->shm.name);

    c->shpool->log_nomem = 0;

    return NGX_OK;
}


void
ngx_http_fw_shm_cache_lock(ngx_http_fw_shm_cache_t *c)
{
    ngx_shmtx_lock(&c->shpool->mutex);

    /* what the previous holder held is free again */
    c->sh->serial++;
}


void
ngx_http_fw_shm_cache_unlock(ngx_http_fw_shm_cache_t *c)
{
    ngx_shmtx_unlock(&c->shpool->mutex);
}


void
ngx_http_fw_shm_cache_expire(ngx_http_fw_shm_cache_t *c, int64_t now,
    ngx_uint_t n)
{
    ngx_uint_t                      i;
    ngx_queue_t                    *q;
    ngx_http_fw_shm_cache_entry_t  *e;

    for (i = 0; i < n; i++) {

        if (ngx_queue_empty(&c->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&c->sh->queue);
        e = ngx_queue_data(q, ngx_http_fw_shm_cache_entry_t, queue);

        if (e->expires > now || e->serial == c->sh->serial) {
            return;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&c->sh->rbtree, &e->node);
        ngx_slab_free_locked(c->shpool, e);
    }
}


/* up to n of the least recently used entries not held; 1 if one of them
   had not expired */

static ngx_uint_t
ngx_http_fw_shm_cache_evict(ngx_http_fw_shm_cache_t *c, int64_t now,
    ngx_uint_t n)
{
    ngx_uint_t                      i, live;
    ngx_queue_t                    *q;
    ngx_http_fw_shm_cache_entry_t  *e;

    live = 0;

    for (i = 0; i < n; i++) {

        if (ngx_queue_empty(&c->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&c->sh->queue);
        e = ngx_queue_data(q, ngx_http_fw_shm_cache_entry_t, queue);

        if (e->serial == c->sh->serial) {
            break;
        }

        live |= e->expires > now;

        ngx_queue_remove(q);
        ngx_rbtree_delete(&c->sh->rbtree, &e->node);
        ngx_slab_free_locked(c->shpool, e);
    }

    return live;
}


ngx_http_fw_shm_cache_entry_t *
ngx_http_fw_shm_cache_get(ngx_http_fw_shm_cache_t *c, uint32_t space,
    u_char *key, size_t len)
{
    uint32_t                        hash;
    ngx_int_t                       rc;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_http_fw_shm_cache_entry_t  *e;

    hash = ngx_http_fw_shm_cache_hash(space, key, len);

    node = c->sh->rbtree.root;
    sentinel = c->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        e = (ngx_http_fw_shm_cache_entry_t *) node;

        rc = ngx_http_fw_shm_cache_cmp(space, key, len, e);

        if (rc == 0) {
            e->serial = c->sh->serial;
            ngx_queue_remove(&e->queue);
            ngx_queue_insert_head(&c->sh->queue, &e->queue);
            return e;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_http_fw_shm_cache_entry_t *
ngx_http_fw_shm_cache_add(ngx_http_fw_shm_cache_t *c, uint32_t space,
    u_char *key, size_t len, int64_t now, ngx_uint_t *forgot)
{
    size_t                          size;
    ngx_http_fw_shm_cache_entry_t  *e;

    if (len > 65535) {
        return NULL;
    }

    size = offsetof(ngx_http_fw_shm_cache_entry_t, key) + len
           + sizeof(uint64_t) + c->value_size;

    e = ngx_slab_alloc_locked(c->shpool, size);

    if (e == NULL) {
        *forgot |= ngx_http_fw_shm_cache_evict(c, now, 16);

        e = ngx_slab_alloc_locked(c->shpool, size);
        if (e == NULL) {
            return NULL;
        }
    }

    e->node.key = ngx_http_fw_shm_cache_hash(space, key, len);
    e->expires = 0;
    e->serial = c->sh->serial;
    e->space = space;
    e->len = (u_short) len;
    ngx_memcpy(e->key, key, len);
    ngx_memzero(ngx_http_fw_shm_cache_value(e), c->value_size);

    ngx_rbtree_insert(&c->sh->rbtree, &e->node);
    ngx_queue_insert_head(&c->sh->queue, &e->queue);

    return e;
}


static uint32_t
ngx_http_fw_shm_cache_hash(uint32_t space, u_char *key, size_t len)
{
    uint32_t  hash;

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, (u_char *) &space, sizeof(uint32_t));
    ngx_crc32_update(&hash, key, len);
    ngx_crc32_final(hash);

    return hash;
}


static ngx_int_t
ngx_http_fw_shm_cache_cmp(uint32_t space, u_char *key, size_t len,
    ngx_http_fw_shm_cache_entry_t *e)
{
    if (space != e->space) {
        return space < e->space ? -1 : 1;
    }

    return ngx_memn2cmp(key, e->key, len, e->len);
}


static void
ngx_http_fw_shm_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t              **p;
    ngx_http_fw_shm_cache_entry_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (ngx_http_fw_shm_cache_entry_t *) node;
            t = (ngx_http_fw_shm_cache_entry_t *) temp;

            p = (ngx_http_fw_shm_cache_cmp(n->space, n->key, n->len, t) < 0)
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
