/*
 * fhirwall FHIR: the module's own metrics (docs/metrics.md), in its zone
 * "fhirwall_metrics_fhir" (common/ngx_http_fw_metrics.h): the main
 * requests decided, by interaction (the core's own names, a fixed list)
 * and outcome.  Included by ngx_http_fw_fhir_module.c.
 */

#ifndef _NGX_HTTP_FW_FHIR_METRICS_H_INCLUDED_
#define _NGX_HTTP_FW_FHIR_METRICS_H_INCLUDED_


#include "ngx_http_fw_metrics.h"


#define NGX_HTTP_FW_FHIR_M_INTERACTIONS  0

#define NGX_HTTP_FW_FHIR_M_ALLOWED  0
#define NGX_HTTP_FW_FHIR_M_REFUSED  1


static const char *const  ngx_http_fw_fhir_m_outcomes[] = {
    "allowed", "refused"
};

/* every interaction but FW_FHIR_I_NONE ("none"): series i is i + 1 */
static const fw_metric_desc_t  ngx_http_fw_fhir_metrics[] = {
    { "fhirwall_fhir_interactions_total",
      "Main requests the FHIR module decided, by interaction and outcome "
      "(refused before the interaction was known: not counted here).",
      FW_METRIC_COUNTER, "interaction",
      (const char *const *) &fw_fhir_interaction_names[1],
      FW_FHIR_I_COUNT - 1, NULL, 0, 0 }
};

static const fw_metric_label_t  ngx_http_fw_fhir_metrics_l2[] = {
    { "outcome", ngx_http_fw_fhir_m_outcomes, 2 }
};


#define ngx_http_fw_fhir_metrics_zone(cf)                                   \
    ngx_http_fw_metrics_zone2(cf, "fhir", "fhir", ngx_http_fw_fhir_metrics, \
        ngx_http_fw_fhir_metrics_l2,                                        \
        sizeof(ngx_http_fw_fhir_metrics) / sizeof(fw_metric_desc_t),        \
        &ngx_http_fw_fhir_module)


#endif /* _NGX_HTTP_FW_FHIR_METRICS_H_INCLUDED_ */
