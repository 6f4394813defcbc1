/*
 * fhirwall: a module's own metrics, in its own shared memory zone
 * "fhirwall_metrics_<module>" that the metrics module finds by name and
 * renders (fw_metrics_render()): no module links to another.
 *
 *     static const fw_metric_desc_t  descs[] = { ... };
 *
 *     conf->metrics = ngx_http_fw_metrics_zone(cf, "jwt", descs,
 *                                              2, &ngx_http_fw_jwt_module);
 *     ...
 *     fw_metrics_add(ngx_http_fw_metrics_block(conf->metrics), 0, 0, 1);
 *
 * The zone exists only when the metrics module is loaded (otherwise the
 * block is NULL and every fw_metrics_*() call does nothing).  Its values
 * are kept across a reload when the descriptors are the same; a restart
 * starts from zero.
 */

#ifndef _NGX_HTTP_FW_METRICS_H_INCLUDED_
#define _NGX_HTTP_FW_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "fw_metrics.h"


#pragma GCC visibility push(hidden)


#define NGX_HTTP_FW_METRICS_ZONE   "fhirwall_metrics_"
#define NGX_HTTP_FW_METRICS_ERROR  ((ngx_shm_zone_t *) -1)


/*
 * Adds the zone of "module" with these descriptors (static); NULL when the
 * metrics module is not loaded, NGX_HTTP_FW_METRICS_ERROR on an error
 * (logged: invalid descriptors, out of memory).
 */
ngx_shm_zone_t *ngx_http_fw_metrics_zone(ngx_conf_t *cf, const char *module,
    const fw_metric_desc_t *d, ngx_uint_t n, void *tag);

/*
 * The same, the zone "fhirwall_metrics_<name>" of a block of "module"
 * (its metrics named "fhirwall_<module>_..."), with second labels
 * (fw_metrics_block_size2(), "l2" may be NULL); "d" and "l2" must last
 * as long as the configuration.
 */
ngx_shm_zone_t *ngx_http_fw_metrics_zone2(ngx_conf_t *cf, const char *name,
    const char *module, const fw_metric_desc_t *d,
    const fw_metric_label_t *l2, ngx_uint_t n, void *tag);

/* 1 if ngx_http_fw_metrics_module is loaded in this configuration */
ngx_int_t ngx_http_fw_metrics_loaded(ngx_conf_t *cf);

/* the block of a zone of ngx_http_fw_metrics_zone(), NULL before the zones
   are initialised or without the metrics module */
static ngx_inline fw_metrics_block_t *
ngx_http_fw_metrics_block(ngx_shm_zone_t *zone)
{
    return zone ? zone->data : NULL;
}

/* the block in a zone of that name prefix, for the exposition; NULL if it
   holds none */
fw_metrics_block_t *ngx_http_fw_metrics_find(ngx_shm_zone_t *zone);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_METRICS_H_INCLUDED_ */
