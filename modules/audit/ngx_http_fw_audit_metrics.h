/*
 * fhirwall audit: the module's own metrics (docs/metrics.md), in its zone
 * "fhirwall_metrics_audit" (common/ngx_http_fw_metrics.h).  Included by
 * ngx_http_fw_audit_module.c after its main configuration's type.
 */

#ifndef _NGX_HTTP_FW_AUDIT_METRICS_H_INCLUDED_
#define _NGX_HTTP_FW_AUDIT_METRICS_H_INCLUDED_


#include "ngx_http_fw_metrics.h"


#define NGX_HTTP_FW_AUDIT_M_RECORDS   0
#define NGX_HTTP_FW_AUDIT_M_BYTES     1
#define NGX_HTTP_FW_AUDIT_M_ERRORS    2
#define NGX_HTTP_FW_AUDIT_M_FAILING   3
#define NGX_HTTP_FW_AUDIT_M_LOST      4


#ifdef NGX_HTTP_FW_AUDIT_METRICS_TABLE

/* the descriptors: only the file that creates the zone needs them */

static const fw_metric_desc_t  ngx_http_fw_audit_metrics[] = {
    { "fhirwall_audit_records_total",
      "Audit records handed to a sink (written, or buffered to be).",
      FW_METRIC_COUNTER, NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_audit_written_bytes_total",
      "Bytes written to the audit sinks.",
      FW_METRIC_COUNTER, NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_audit_write_errors_total",
      "Failed or incomplete writes to an audit sink.",
      FW_METRIC_COUNTER, NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_audit_sink_failing",
      "1 while an audit sink cannot be written (the last write of a "
      "worker failed), else 0.",
      FW_METRIC_GAUGE, NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_audit_records_lost_total",
      "Audit records that never reached their sink (must stay 0).",
      FW_METRIC_COUNTER, NULL, NULL, 0, NULL, 0, 0 }
};


#define ngx_http_fw_audit_metrics_zone(cf)                                  \
    ngx_http_fw_metrics_zone(cf, "audit", ngx_http_fw_audit_metrics,        \
        sizeof(ngx_http_fw_audit_metrics) / sizeof(fw_metric_desc_t),       \
        &ngx_http_fw_audit_module)

#endif


#define ngx_http_fw_audit_metrics_block()                                   \
    ngx_http_fw_metrics_block(((ngx_http_fw_audit_main_conf_t *)            \
        ngx_http_cycle_get_module_main_conf(ngx_cycle,                      \
                                            ngx_http_fw_audit_module))      \
        ->metrics)

/* adds n to metric m */
#define ngx_http_fw_audit_count(m, n)                                       \
    fw_metrics_add(ngx_http_fw_audit_metrics_block(), m, 0, (uint64_t) (n))

#define ngx_http_fw_audit_gauge(m, v)                                       \
    fw_metrics_set(ngx_http_fw_audit_metrics_block(), m, 0, (uint64_t) (v))

#endif /* _NGX_HTTP_FW_AUDIT_METRICS_H_INCLUDED_ */
