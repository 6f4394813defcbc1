/*
 * fhirwall: a module's metrics zone (nginx glue).  See ngx_http_fw_metrics.h.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_metrics.h"


typedef struct {
    const char              *module;
    const fw_metric_desc_t  *descs;
    const fw_metric_label_t *l2;
    ngx_uint_t               n;
    size_t                   size;
} ngx_http_fw_metrics_reg_t;


static ngx_int_t ngx_http_fw_metrics_init_zone(ngx_shm_zone_t *zone,
    void *data);


ngx_int_t
ngx_http_fw_metrics_loaded(ngx_conf_t *cf)
{
    ngx_uint_t  i;

    for (i = 0; cf->cycle->modules[i]; i++) {
        if (cf->cycle->modules[i]->name
            && ngx_strcmp(cf->cycle->modules[i]->name,
                          "ngx_http_fw_metrics_module") == 0)
        {
            return 1;
        }
    }

    return 0;
}


ngx_shm_zone_t *
ngx_http_fw_metrics_zone(ngx_conf_t *cf, const char *module,
    const fw_metric_desc_t *d, ngx_uint_t n, void *tag)
{
    return ngx_http_fw_metrics_zone2(cf, module, module, d, NULL, n, tag);
}


ngx_shm_zone_t *
ngx_http_fw_metrics_zone2(ngx_conf_t *cf, const char *zname,
    const char *module, const fw_metric_desc_t *d,
    const fw_metric_label_t *l2, ngx_uint_t n, void *tag)
{
    size_t                      size;
    ngx_str_t                   name;
    ngx_shm_zone_t             *zone;
    ngx_http_fw_metrics_reg_t  *reg;

    if (!ngx_http_fw_metrics_loaded(cf)) {
        return NULL;
    }

    size = fw_metrics_block_size2(d, l2, n);

    if (size == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "fhirwall: invalid metrics of the %s module", module);
        return NGX_HTTP_FW_METRICS_ERROR;
    }

    name.len = sizeof(NGX_HTTP_FW_METRICS_ZONE) - 1 + ngx_strlen(zname);
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_HTTP_FW_METRICS_ERROR;
    }

    ngx_sprintf(name.data, NGX_HTTP_FW_METRICS_ZONE "%s", zname);

    reg = ngx_palloc(cf->pool, sizeof(ngx_http_fw_metrics_reg_t));
    if (reg == NULL) {
        return NGX_HTTP_FW_METRICS_ERROR;
    }

    reg->module = module;
    reg->descs = d;
    reg->l2 = l2;
    reg->n = n;
    reg->size = size;

    /* room for the slab pool and two blocks (a changed layout on reload) */

    zone = ngx_shared_memory_add(cf, &name,
                                 8 * ngx_pagesize
                                 + 2 * ngx_align(size, ngx_pagesize), tag);
    if (zone == NULL) {
        return NGX_HTTP_FW_METRICS_ERROR;
    }

    if (zone->data) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "fhirwall: metrics zone \"%V\" added twice", &name);
        return NGX_HTTP_FW_METRICS_ERROR;
    }

    zone->init = ngx_http_fw_metrics_init_zone;
    zone->data = reg;

    return zone;
}


static ngx_int_t
ngx_http_fw_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_fw_metrics_reg_t *reg = zone->data;

    void                *fresh;
    ngx_slab_pool_t     *sp;
    fw_metrics_block_t  *b, *old;

    sp = (ngx_slab_pool_t *) zone->shm.addr;
    old = data;

    fresh = ngx_alloc(reg->size, zone->shm.log);
    if (fresh == NULL) {
        return NGX_ERROR;
    }

    if (fw_metrics_block_init2(fresh, reg->size, reg->module, reg->descs,
                               reg->l2, reg->n)
        != 0)
    {
        ngx_free(fresh);
        return NGX_ERROR;
    }

    /* a reload with the same metrics keeps the values */

    if (old && fw_metrics_block_same(old, fresh)) {
        ngx_free(fresh);
        zone->data = old;
        return NGX_OK;
    }

    b = ngx_slab_alloc(sp, reg->size);
    if (b == NULL) {
        ngx_free(fresh);
        return NGX_ERROR;
    }

    ngx_memcpy(b, fresh, reg->size);
    ngx_free(fresh);

    if (old) {
        ngx_slab_free(sp, old);
    }

    sp->data = b;
    zone->data = b;

    return NGX_OK;
}


fw_metrics_block_t *
ngx_http_fw_metrics_find(ngx_shm_zone_t *zone)
{
    u_char              *start, *end, *p;
    ngx_slab_pool_t     *sp;

    if (zone->shm.addr == NULL
        || zone->shm.name.len <= sizeof(NGX_HTTP_FW_METRICS_ZONE) - 1
        || ngx_strncmp(zone->shm.name.data, NGX_HTTP_FW_METRICS_ZONE,
                       sizeof(NGX_HTTP_FW_METRICS_ZONE) - 1)
           != 0)
    {
        return NULL;
    }

    sp = (ngx_slab_pool_t *) zone->shm.addr;
    start = zone->shm.addr;
    end = start + zone->shm.size;
    p = sp->data;

    if (p < start + sizeof(ngx_slab_pool_t) || p >= end
        || !fw_metrics_block_valid(p, end - p))
    {
        return NULL;
    }

    return (fw_metrics_block_t *) p;
}
