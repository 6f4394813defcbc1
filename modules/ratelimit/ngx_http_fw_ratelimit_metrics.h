/*
 * fhirwall rate limit: the module's own metrics (docs/metrics.md), in its
 * zone "fhirwall_metrics_ratelimit" (common/ngx_http_fw_metrics.h).
 * Included by ngx_http_fw_ratelimit_module.c after its main
 * configuration's type.
 */

#ifndef _NGX_HTTP_FW_RATELIMIT_METRICS_H_INCLUDED_
#define _NGX_HTTP_FW_RATELIMIT_METRICS_H_INCLUDED_


#include <sys/time.h>

#include "ngx_http_fw_metrics.h"


#define NGX_HTTP_FW_RL_M_FAILURE    0   /* series: the failure policies */
#define NGX_HTTP_FW_RL_M_FAILING    1
#define NGX_HTTP_FW_RL_M_RECOVERED  2
#define NGX_HTTP_FW_RL_M_LATENCY    3


/* in the order of NGX_HTTP_FW_RL_FAIL_OPEN, _CLOSED, _LOCAL */
static const char *const  ngx_http_fw_rl_m_policies[] = {
    "open", "closed", "local"
};

static const double  ngx_http_fw_rl_m_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1
};

static const fw_metric_desc_t  ngx_http_fw_ratelimit_metrics[] = {
    { "fhirwall_ratelimit_failure_policy_total",
      "Requests Redis could not decide, by the failure policy applied.",
      FW_METRIC_COUNTER, "policy", ngx_http_fw_rl_m_policies, 3,
      NULL, 0, 0 },
    { "fhirwall_ratelimit_redis_failing",
      "1 while Redis cannot decide (the last command of a worker failed), "
      "else 0.",
      FW_METRIC_GAUGE, NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_ratelimit_redis_recoveries_total",
      "Times Redis decided again after failing (a worker reconnected).",
      FW_METRIC_COUNTER, NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_ratelimit_redis_command_duration_seconds",
      "Time from sending a rate-limit command to Redis to its reply, "
      "timeout or failure.",
      FW_METRIC_HISTOGRAM, NULL, NULL, 0, ngx_http_fw_rl_m_bounds,
      sizeof(ngx_http_fw_rl_m_bounds) / sizeof(double), 1e6 }
};


#define ngx_http_fw_rl_metrics_block(r)                                     \
    ngx_http_fw_metrics_block(((ngx_http_fw_ratelimit_main_conf_t *)        \
        ngx_http_get_module_main_conf(r, ngx_http_fw_ratelimit_module))     \
        ->metrics)

#define ngx_http_fw_rl_count(r, m, s)                                       \
    fw_metrics_add(ngx_http_fw_rl_metrics_block(r), m, s, 1)

#define ngx_http_fw_rl_gauge(r, m, v)                                       \
    fw_metrics_set(ngx_http_fw_rl_metrics_block(r), m, 0, (uint64_t) (v))

/* a command's duration: sent_us from ngx_http_fw_rl_now() */
#define ngx_http_fw_rl_observe(r, sent_us)                                  \
    fw_metrics_observe(ngx_http_fw_rl_metrics_block(r),                     \
        NGX_HTTP_FW_RL_M_LATENCY, 0,                                        \
        (double) (ngx_http_fw_rl_now() - (sent_us)))

#define ngx_http_fw_ratelimit_metrics_zone(cf)                              \
    ngx_http_fw_metrics_zone(cf, "ratelimit",                               \
        ngx_http_fw_ratelimit_metrics,                                      \
        sizeof(ngx_http_fw_ratelimit_metrics) / sizeof(fw_metric_desc_t),   \
        &ngx_http_fw_ratelimit_module)


static ngx_inline uint64_t
ngx_http_fw_rl_now(void)
{
    struct timeval  tv;

    ngx_gettimeofday(&tv);

    return (uint64_t) tv.tv_sec * 1000000 + (uint64_t) tv.tv_usec;
}


#endif /* _NGX_HTTP_FW_RATELIMIT_METRICS_H_INCLUDED_ */
