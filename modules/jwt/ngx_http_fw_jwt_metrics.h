/*
 * fhirwall JWT: the module's own metrics (docs/metrics.md), in its zone
 * "fhirwall_metrics_jwt" (common/ngx_http_fw_metrics.h).  Included after
 * ngx_http_fw_jwt.h (its main configuration's type).
 */

#ifndef _NGX_HTTP_FW_JWT_METRICS_H_INCLUDED_
#define _NGX_HTTP_FW_JWT_METRICS_H_INCLUDED_


#include "ngx_http_fw_metrics.h"


#define NGX_HTTP_FW_JWT_M_CACHE     0   /* series: hit, miss */
#define NGX_HTTP_FW_JWT_M_FETCHES   1   /* series: ok, failed */
#define NGX_HTTP_FW_JWT_M_KEYS      2
#define NGX_HTTP_FW_JWT_M_AGE       3

#define NGX_HTTP_FW_JWT_M_HIT       0
#define NGX_HTTP_FW_JWT_M_MISS      1
#define NGX_HTTP_FW_JWT_M_OK        0
#define NGX_HTTP_FW_JWT_M_FAILED    1


#ifdef NGX_HTTP_FW_JWT_METRICS_TABLE

/* the descriptors: only the file that creates the zone needs them */

static const char *const  ngx_http_fw_jwt_m_cache[] = { "hit", "miss" };
static const char *const  ngx_http_fw_jwt_m_fetch[] = { "ok", "failed" };

static const fw_metric_desc_t  ngx_http_fw_jwt_metrics[] = {
    { "fhirwall_jwt_cache_lookups_total",
      "Lookups in the verified-token cache of the workers.",
      FW_METRIC_COUNTER, "result", ngx_http_fw_jwt_m_cache, 2, NULL, 0, 0 },
    { "fhirwall_jwt_jwks_fetches_total",
      "Remote JWKS fetches that ended: loaded, or failed (HTTP error, "
      "refused, too large).",
      FW_METRIC_COUNTER, "result", ngx_http_fw_jwt_m_fetch, 2, NULL, 0, 0 },
    { "fhirwall_jwt_jwks_keys",
      "Keys in the remote JWKS loaded last (any fw_jwt_jwks_uri).",
      FW_METRIC_GAUGE, NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_jwt_jwks_last_success_age_seconds",
      "Seconds since a remote JWKS was last loaded (NaN: never).",
      FW_METRIC_AGE, NULL, NULL, 0, NULL, 0, 0 }
};

#endif


#define ngx_http_fw_jwt_metrics_block(r)                                    \
    ngx_http_fw_metrics_block(((ngx_http_fw_jwt_main_conf_t *)              \
        ngx_http_get_module_main_conf(r, ngx_http_fw_jwt_module))->metrics)

/* counts one in metric m, series s */
#define ngx_http_fw_jwt_count(r, m, s)                                      \
    fw_metrics_add(ngx_http_fw_jwt_metrics_block(r), m, s, 1)

/* sets metric m (no label) to v */
#define ngx_http_fw_jwt_gauge(r, m, v)                                      \
    fw_metrics_set(ngx_http_fw_jwt_metrics_block(r), m, 0, (uint64_t) (v))

/* the zone, at postconfiguration */
#define ngx_http_fw_jwt_metrics_zone(cf)                                    \
    ngx_http_fw_metrics_zone(cf, "jwt", ngx_http_fw_jwt_metrics,            \
        sizeof(ngx_http_fw_jwt_metrics) / sizeof(fw_metric_desc_t),         \
        &ngx_http_fw_jwt_module)


#endif /* _NGX_HTTP_FW_JWT_METRICS_H_INCLUDED_ */
