/*
 * fhirwall: metrics (plain C).  Two parts, both rendered in the Prometheus
 * text format 0.0.4 by the metrics module's fw_metrics handler:
 *
 * - the outcome counters: per module of the status vocabulary (fw_vocab)
 *   x outcome class x reason (the status value), who denied a request and
 *   the HTTP status class; a flat array of slots, fw_metrics_*_slot() give
 *   the indices, fw_metrics_render_outcomes() renders them;
 *
 * - a module's own figures: a self-describing block (descriptors copied in,
 *   then the values) that the module keeps in its own shared memory zone
 *   "fhirwall_metrics_<module>" (common/ngx_http_fw_metrics.h); the
 *   metrics module finds the zones by name and fw_metrics_render() renders
 *   their blocks, so that no module links to another.
 *
 * Values are 64-bit integers updated with atomic operations; a descriptor's
 * "scale" divides them when rendered (a histogram sum kept in microseconds
 * is rendered in seconds with scale 1e6).
 */

#ifndef _FW_METRICS_H_INCLUDED_
#define _FW_METRICS_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fw_vocab.h"


#pragma GCC visibility push(hidden)


#define FW_METRIC_COUNTER     1
#define FW_METRIC_GAUGE       2
#define FW_METRIC_HISTOGRAM   3
/* a gauge that holds a unix time and is rendered as the seconds since then
   (NaN while it is 0) */
#define FW_METRIC_AGE         4

#define FW_METRICS_MAGIC      0x66776d31   /* "fwm1" */
#define FW_METRICS_NAME_MAX   64
#define FW_METRICS_HELP_MAX   160
#define FW_METRICS_LABEL_MAX  24
/* values of a metric's first label, of its second, series in all */
#define FW_METRICS_SERIES_MAX 24
#define FW_METRICS_SERIES2_MAX 4
#define FW_METRICS_NSERIES_MAX (FW_METRICS_SERIES_MAX * FW_METRICS_SERIES2_MAX)
#define FW_METRICS_BUCKETS_MAX 16
#define FW_METRICS_MAX        32


typedef struct {
    const char         *name;      /* "fhirwall_<module>_..." */
    const char         *help;      /* one line, no backslash */
    int                 type;      /* FW_METRIC_* */
    const char         *label;     /* NULL: one series without labels */
    const char *const  *lvalues;   /* the label's values: one series each */
    size_t              nlvalues;
    const double       *bounds;    /* a histogram's upper bounds, rising */
    size_t              nbounds;
    double              scale;     /* 0 or 1: rendered as stored */
} fw_metric_desc_t;


/*
 * A metric's second label (fw_metrics_block_size2()): its series are then
 * label x label2, the pair of values (i, j) is series i * nlvalues + j
 * (fw_metrics_series()).
 */
typedef struct {
    const char         *label;     /* NULL: none */
    const char *const  *lvalues;
    size_t              nlvalues;
} fw_metric_label_t;


/* a descriptor as kept in shared memory: no pointers */
typedef struct {
    char                name[FW_METRICS_NAME_MAX];
    char                help[FW_METRICS_HELP_MAX];
    char                label[FW_METRICS_LABEL_MAX];
    char                lvalues[FW_METRICS_SERIES_MAX][FW_METRICS_LABEL_MAX];
    char                label2[FW_METRICS_LABEL_MAX];
    char                lvalues2[FW_METRICS_SERIES2_MAX]
                                [FW_METRICS_LABEL_MAX];
    double              bounds[FW_METRICS_BUCKETS_MAX];
    double              scale;
    uint32_t            type;
    uint32_t            nseries;   /* 1 without a label */
    uint32_t            nseries2;  /* values of label2, 1 without it */
    uint32_t            nbounds;
    uint32_t            offset;    /* its first value in values[] */
} fw_metric_shm_t;


typedef struct {
    uint32_t            magic;
    uint32_t            size;      /* of the whole block */
    uint32_t            nmetrics;
    uint32_t            nvalues;
    char                module[FW_METRICS_LABEL_MAX];
    fw_metric_shm_t     metrics[FW_METRICS_MAX];
    uint64_t            values[1]; /* nvalues of them */
} fw_metrics_block_t;


/* the bytes a block of these descriptors takes; 0 if they are invalid
   (a bad name, label, too many series or buckets) */
size_t fw_metrics_block_size(const fw_metric_desc_t *d, size_t n);

/* the same with second labels: "l2" NULL, or one for each descriptor (its
   label NULL for a metric without a second label) */
size_t fw_metrics_block_size2(const fw_metric_desc_t *d,
    const fw_metric_label_t *l2, size_t n);

/*
 * Initialises a block of "size" bytes (fw_metrics_block_size()) at "mem":
 * descriptors copied, values zero.  Returns 0, or -1 for invalid
 * descriptors or a name not under "fhirwall_<module>_".
 */
int fw_metrics_block_init(void *mem, size_t size, const char *module,
    const fw_metric_desc_t *d, size_t n);
int fw_metrics_block_init2(void *mem, size_t size, const char *module,
    const fw_metric_desc_t *d, const fw_metric_label_t *l2, size_t n);

/* 1 if the "size" bytes at "mem" hold a block that fw_metrics_render()
   can read safely */
int fw_metrics_block_valid(const void *mem, size_t size);

/* 1 if both blocks have the same module and descriptors (a reload may keep
   the values) */
int fw_metrics_block_same(const fw_metrics_block_t *a,
    const fw_metrics_block_t *b);

/* updates of metric "m" (its index in the descriptors), series "s" (its
   label value's index, 0 without a label); out of range: ignored */
void fw_metrics_add(fw_metrics_block_t *b, size_t m, size_t s, uint64_t n);
void fw_metrics_set(fw_metrics_block_t *b, size_t m, size_t s, uint64_t v);
/* a histogram: "v" in the stored unit (the sum is kept in it too) */
void fw_metrics_observe(fw_metrics_block_t *b, size_t m, size_t s,
    double v);
uint64_t fw_metrics_get(const fw_metrics_block_t *b, size_t m, size_t s);

/* the series of the label values (i, j) of a metric with two labels (j 0
   with one); out of range: an index that every update ignores */
size_t fw_metrics_series(const fw_metrics_block_t *b, size_t m, size_t i,
    size_t j);

/*
 * Renders the block (HELP, TYPE, one line per series, a histogram's
 * buckets cumulative with _bucket, _sum, _count) into buf; writes at most
 * "size" bytes and returns the length of the whole text (so buf NULL gives
 * the size needed).  "now" is for FW_METRIC_AGE.
 */
size_t fw_metrics_render(u_char *buf, size_t size,
    const fw_metrics_block_t *b, time_t now);

/*
 * Renders "n" blocks like fw_metrics_render(), a metric that several of
 * them have (the same name, type and labels: "fhirwall_redis_..." of each
 * module that uses Redis) once, with one HELP and TYPE and the series of
 * every block together, in the order of the blocks.  One of the same name
 * that differs in type or labels from its first is left out.
 */
size_t fw_metrics_render_blocks(u_char *buf, size_t size,
    const fw_metrics_block_t *const *b, size_t n, time_t now);


/* ---------------------------------------------------------- outcomes */

/* the "by" values of fhirwall_denied_total after the vocabulary's modules */
#define FW_METRICS_BY_NGINX      0
#define FW_METRICS_BY_UPSTREAM   1
#define FW_METRICS_BY_AUDIT      2
#define FW_METRICS_BY_OTHER      3
#define FW_METRICS_BY_EXTRA      4

/* the number of outcome slots */
size_t fw_metrics_outcome_slots(void);

/* the slot of module fw_vocab_modules[mi]'s status value (an unknown
   value: the module's "other" slot) */
size_t fw_metrics_check_slot(size_t mi, const u_char *value, size_t len);

/* the slot of a refusal by that module (a fw_vocab module, "nginx",
   "upstream", "audit"; anything else is "other") */
size_t fw_metrics_denied_slot(const u_char *by, size_t len);

/* the slot of a response with that HTTP status (1xx ... 5xx, other) */
size_t fw_metrics_status_slot(unsigned status);

/*
 * Renders fhirwall_checks_total (for the modules whose bit (1 << mi) is in
 * "present"), fhirwall_denied_total and fhirwall_http_responses_total,
 * like fw_metrics_render().
 */
size_t fw_metrics_render_outcomes(u_char *buf, size_t size,
    const uint64_t *slots, unsigned present);


#pragma GCC visibility pop


#endif /* _FW_METRICS_H_INCLUDED_ */
