/*
 * fhirwall: a shared-memory cache with expiry (nginx glue), for every
 * worker: a red-black tree of entries (key: a 32-bit "space" and bytes,
 * e.g. a policy and a client key, or a message digest), kept in
 * least-recently-used order, each with an expiry time in the caller's
 * unit (seconds, milliseconds).  The webhook replay zone and the rate
 * limit's local fallback use it.  Built into a module whose config says
 * fw_module_uses="shm_cache".
 *
 *     ngx_http_fw_shm_cache_lock(c);
 *     ngx_http_fw_shm_cache_expire(c, now, 16);
 *     e = ngx_http_fw_shm_cache_get(c, space, key, len);
 *     if (e == NULL) {
 *         e = ngx_http_fw_shm_cache_add(c, space, key, len, now, &forgot);
 *     }
 *     ... e->expires, ngx_http_fw_shm_cache_value(e) ...
 *     ngx_http_fw_shm_cache_unlock(c);
 *
 * Entries got or added since the lock are "held": never removed before
 * the unlock, so the caller may keep several of them at once.
 */

#ifndef _NGX_HTTP_FW_SHM_CACHE_H_INCLUDED_
#define _NGX_HTTP_FW_SHM_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#pragma GCC visibility push(hidden)


typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  queue;     /* most recently used first */
    ngx_uint_t                   serial;    /* locks taken */
} ngx_http_fw_shm_cache_sh_t;


typedef struct {
    ngx_http_fw_shm_cache_sh_t  *sh;
    ngx_slab_pool_t             *shpool;
    size_t                       value_size;    /* of every entry */
    const char                  *directive;     /* for the slab's logs */
} ngx_http_fw_shm_cache_t;


typedef struct {
    ngx_rbtree_node_t            node;      /* key: crc32 of space, key */
    ngx_queue_t                  queue;
    int64_t                      expires;   /* <= now: may be removed */
    ngx_uint_t                   serial;    /* the lock that last held it */
    uint32_t                     space;
    u_short                      len;
    u_char                       key[1];    /* then the value, aligned */
} ngx_http_fw_shm_cache_entry_t;


#define ngx_http_fw_shm_cache_value(e)                                       \
    ((void *) ngx_align_ptr((e)->key + (e)->len, sizeof(uint64_t)))


/*
 * A cache in shm_zone (from ngx_shared_memory_add(): sets its init and
 * data), entries with a value of value_size bytes (zeroed when added);
 * "directive" names the zone in the slab allocator's messages.  NULL when
 * out of memory.
 */
ngx_http_fw_shm_cache_t *ngx_http_fw_shm_cache_create(ngx_conf_t *cf,
    ngx_shm_zone_t *shm_zone, size_t value_size, const char *directive);

void ngx_http_fw_shm_cache_lock(ngx_http_fw_shm_cache_t *c);
void ngx_http_fw_shm_cache_unlock(ngx_http_fw_shm_cache_t *c);

/* removes up to n of the least recently used entries that expired */
void ngx_http_fw_shm_cache_expire(ngx_http_fw_shm_cache_t *c, int64_t now,
    ngx_uint_t n);

/* the entry of that key (held, now the most recently used), or NULL */
ngx_http_fw_shm_cache_entry_t *ngx_http_fw_shm_cache_get(
    ngx_http_fw_shm_cache_t *c, uint32_t space, u_char *key, size_t len);

/*
 * A new entry (held, expires 0, value zeroed); when the zone is full the
 * least recently used entries that are not held are removed first, and
 * *forgot is set if one of them had not expired by "now".  NULL when the
 * zone is full of held entries or the key is longer than 65535 bytes.
 */
ngx_http_fw_shm_cache_entry_t *ngx_http_fw_shm_cache_add(
    ngx_http_fw_shm_cache_t *c, uint32_t space, u_char *key, size_t len,
    int64_t now, ngx_uint_t *forgot);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_SHM_CACHE_H_INCLUDED_ */
