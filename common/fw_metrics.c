/*
 * fhirwall: metrics blocks and their Prometheus text (plain C).  See
 * fw_metrics.h.
 */


#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fw_metrics.h"


typedef struct {
    u_char             *buf;
    size_t              size;
    size_t              len;
} fw_metrics_out_t;


static int fw_metrics_name_ok(const char *s, size_t max);
static int fw_metrics_lvalue_ok(const char *s);
static const fw_metric_label_t *fw_metrics_l2(const fw_metric_label_t *l2,
    size_t i);
static size_t fw_metrics_desc_values(const fw_metric_desc_t *d,
    const fw_metric_label_t *l2);
static void fw_metrics_put(fw_metrics_out_t *o, const char *s, size_t len);
static void fw_metrics_puts(fw_metrics_out_t *o, const char *s);
static void fw_metrics_putf(fw_metrics_out_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fw_metrics_head(fw_metrics_out_t *o, const char *name,
    const char *help, const char *type);
static void fw_metrics_value(fw_metrics_out_t *o, uint64_t v, double scale);
static int fw_metrics_label_ok(const char *label, const char *const *v,
    size_t n, size_t max);
static void fw_metrics_labels(fw_metrics_out_t *o, const fw_metric_shm_t *d,
    size_t s, const char *le);
static void fw_metrics_series_text(fw_metrics_out_t *o,
    const fw_metrics_block_t *b, const fw_metric_shm_t *d, time_t now);
static int fw_metrics_same_family(const fw_metric_shm_t *a,
    const fw_metric_shm_t *b);
static const fw_metric_shm_t *fw_metrics_family(const fw_metrics_block_t *b,
    const char *name);


static const char *const  fw_metrics_by[] = {
    FW_VOCAB_BY_NGINX, FW_VOCAB_BY_UPSTREAM, FW_VOCAB_BY_AUDIT, "other"
};

static const char *const  fw_metrics_codes[] = {
    "1xx", "2xx", "3xx", "4xx", "5xx", "other"
};

#define FW_METRICS_NCODES  6


static int
fw_metrics_name_ok(const char *s, size_t max)
{
    size_t  i;

    if (s == NULL || s[0] == '\0' || strlen(s) >= max
        || (s[0] >= '0' && s[0] <= '9'))
    {
        return 0;
    }

    for (i = 0; s[i]; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static int
fw_metrics_lvalue_ok(const char *s)
{
    size_t  i;

    /* never escaped when rendered: letters, digits, "_", "-", ".", " " */

    if (s == NULL || s[0] == '\0' || strlen(s) >= FW_METRICS_LABEL_MAX) {
        return 0;
    }

    for (i = 0; s[i]; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'
              || s[i] == '.' || s[i] == ' '))
        {
            return 0;
        }
    }

    return 1;
}


static const fw_metric_label_t *
fw_metrics_l2(const fw_metric_label_t *l2, size_t i)
{
    return (l2 && l2[i].label) ? &l2[i] : NULL;
}


static size_t
fw_metrics_desc_values(const fw_metric_desc_t *d,
    const fw_metric_label_t *l2)
{
    size_t  series, per;

    series = d->label ? d->nlvalues : 1;
    series *= (d->label && l2) ? l2->nlvalues : 1;
    per = (d->type == FW_METRIC_HISTOGRAM) ? d->nbounds + 2 : 1;

    return series * per;
}


static int
fw_metrics_label_ok(const char *label, const char *const *v, size_t n,
    size_t max)
{
    size_t  j;

    if (!fw_metrics_name_ok(label, FW_METRICS_LABEL_MAX)
        || strcmp(label, "le") == 0 || n == 0 || n > max || v == NULL)
    {
        return 0;
    }

    for (j = 0; j < n; j++) {
        if (!fw_metrics_lvalue_ok(v[j])) {
            return 0;
        }
    }

    return 1;
}


size_t
fw_metrics_block_size(const fw_metric_desc_t *d, size_t n)
{
    return fw_metrics_block_size2(d, NULL, n);
}


size_t
fw_metrics_block_size2(const fw_metric_desc_t *d,
    const fw_metric_label_t *l2, size_t n)
{
    size_t                    i, j, values;
    const fw_metric_label_t  *e;

    if (n == 0 || n > FW_METRICS_MAX) {
        return 0;
    }

    values = 0;

    for (i = 0; i < n; i++) {

        if (!fw_metrics_name_ok(d[i].name, FW_METRICS_NAME_MAX)
            || d[i].help == NULL || strlen(d[i].help) >= FW_METRICS_HELP_MAX
            || strchr(d[i].help, '\\') || strchr(d[i].help, '\n')
            || d[i].type < FW_METRIC_COUNTER || d[i].type > FW_METRIC_AGE)
        {
            return 0;
        }

        if (d[i].label
            && !fw_metrics_label_ok(d[i].label, d[i].lvalues, d[i].nlvalues,
                                    FW_METRICS_SERIES_MAX))
        {
            return 0;
        }

        e = fw_metrics_l2(l2, i);

        if (e
            && (d[i].label == NULL || strcmp(d[i].label, e->label) == 0
                || !fw_metrics_label_ok(e->label, e->lvalues, e->nlvalues,
                                        FW_METRICS_SERIES2_MAX)))
        {
            return 0;
        }

        if (d[i].type == FW_METRIC_HISTOGRAM) {
            if (d[i].nbounds == 0 || d[i].nbounds > FW_METRICS_BUCKETS_MAX) {
                return 0;
            }

            for (j = 0; j < d[i].nbounds; j++) {
                if (!isfinite(d[i].bounds[j])
                    || (j > 0 && d[i].bounds[j] <= d[i].bounds[j - 1]))
                {
                    return 0;
                }
            }
        }

        values += fw_metrics_desc_values(&d[i], e);
    }

    return offsetof(fw_metrics_block_t, values) + values * sizeof(uint64_t);
}


int
fw_metrics_block_init(void *mem, size_t size, const char *module,
    const fw_metric_desc_t *d, size_t n)
{
    return fw_metrics_block_init2(mem, size, module, d, NULL, n);
}


int
fw_metrics_block_init2(void *mem, size_t size, const char *module,
    const fw_metric_desc_t *d, const fw_metric_label_t *l2, size_t n)
{
    size_t                    i, j, need, offset, mlen;
    fw_metric_shm_t          *s;
    fw_metrics_block_t       *b;
    const fw_metric_label_t  *e;

    need = fw_metrics_block_size2(d, l2, n);

    if (need == 0 || size < need
        || !fw_metrics_name_ok(module, FW_METRICS_LABEL_MAX))
    {
        return -1;
    }

    mlen = strlen(module);

    for (i = 0; i < n; i++) {
        if (strncmp(d[i].name, "fhirwall_", 9) != 0
            || strncmp(d[i].name + 9, module, mlen) != 0
            || d[i].name[9 + mlen] != '_')
        {
            return -1;
        }
    }

    b = mem;
    memset(b, 0, need);

    b->size = (uint32_t) need;
    b->nmetrics = (uint32_t) n;
    memcpy(b->module, module, mlen);

    offset = 0;

    for (i = 0; i < n; i++) {
        s = &b->metrics[i];

        memcpy(s->name, d[i].name, strlen(d[i].name));
        memcpy(s->help, d[i].help, strlen(d[i].help));
        s->type = (uint32_t) d[i].type;
        s->scale = (d[i].scale > 0) ? d[i].scale : 1;
        s->nseries = 1;
        s->nseries2 = 1;

        if (d[i].label) {
            memcpy(s->label, d[i].label, strlen(d[i].label));
            s->nseries = (uint32_t) d[i].nlvalues;

            for (j = 0; j < d[i].nlvalues; j++) {
                memcpy(s->lvalues[j], d[i].lvalues[j],
                       strlen(d[i].lvalues[j]));
            }
        }

        e = fw_metrics_l2(l2, i);

        if (d[i].label && e) {
            memcpy(s->label2, e->label, strlen(e->label));
            s->nseries2 = (uint32_t) e->nlvalues;
            s->nseries *= s->nseries2;

            for (j = 0; j < e->nlvalues; j++) {
                memcpy(s->lvalues2[j], e->lvalues[j], strlen(e->lvalues[j]));
            }
        }

        if (d[i].type == FW_METRIC_HISTOGRAM) {
            s->nbounds = (uint32_t) d[i].nbounds;
            memcpy(s->bounds, d[i].bounds, d[i].nbounds * sizeof(double));
        }

        s->offset = (uint32_t) offset;
        offset += fw_metrics_desc_values(&d[i], e);
    }

    b->nvalues = (uint32_t) offset;
    b->magic = FW_METRICS_MAGIC;

    return 0;
}


int
fw_metrics_block_valid(const void *mem, size_t size)
{
    size_t                     i, j, per, end;
    const fw_metric_shm_t     *s;
    const fw_metrics_block_t  *b;

    b = mem;

    if (b == NULL || size < offsetof(fw_metrics_block_t, values)
        || b->magic != FW_METRICS_MAGIC || b->size > size
        || b->nmetrics == 0 || b->nmetrics > FW_METRICS_MAX
        || b->size != offsetof(fw_metrics_block_t, values)
                      + (size_t) b->nvalues * sizeof(uint64_t)
        || memchr(b->module, '\0', FW_METRICS_LABEL_MAX) == NULL)
    {
        return 0;
    }

    for (i = 0; i < b->nmetrics; i++) {
        s = &b->metrics[i];

        if (memchr(s->name, '\0', FW_METRICS_NAME_MAX) == NULL
            || memchr(s->help, '\0', FW_METRICS_HELP_MAX) == NULL
            || memchr(s->label, '\0', FW_METRICS_LABEL_MAX) == NULL
            || memchr(s->label2, '\0', FW_METRICS_LABEL_MAX) == NULL
            || s->nseries2 == 0 || s->nseries2 > FW_METRICS_SERIES2_MAX
            || s->nseries == 0 || s->nseries % s->nseries2
            || s->nseries / s->nseries2 > FW_METRICS_SERIES_MAX
            || (s->label[0] == '\0' && s->nseries != 1)
            || (s->label2[0] == '\0' && s->nseries2 != 1)
            || s->nbounds > FW_METRICS_BUCKETS_MAX
            || s->type < FW_METRIC_COUNTER || s->type > FW_METRIC_AGE)
        {
            return 0;
        }

        for (j = 0; j < FW_METRICS_SERIES_MAX; j++) {
            if (memchr(s->lvalues[j], '\0', FW_METRICS_LABEL_MAX) == NULL) {
                return 0;
            }
        }

        for (j = 0; j < FW_METRICS_SERIES2_MAX; j++) {
            if (memchr(s->lvalues2[j], '\0', FW_METRICS_LABEL_MAX) == NULL) {
                return 0;
            }
        }

        per = (s->type == FW_METRIC_HISTOGRAM) ? s->nbounds + 2 : 1;
        end = (size_t) s->offset + s->nseries * per;

        if (end > b->nvalues) {
            return 0;
        }
    }

    return 1;
}


int
fw_metrics_block_same(const fw_metrics_block_t *a,
    const fw_metrics_block_t *b)
{
    return a->magic == b->magic && a->size == b->size
           && a->nmetrics == b->nmetrics && a->nvalues == b->nvalues
           && memcmp(a->module, b->module, sizeof(a->module)) == 0
           && memcmp(a->metrics, b->metrics,
                     b->nmetrics * sizeof(fw_metric_shm_t)) == 0;
}


void
fw_metrics_add(fw_metrics_block_t *b, size_t m, size_t s, uint64_t n)
{
    if (b == NULL || m >= b->nmetrics || s >= b->metrics[m].nseries
        || b->metrics[m].type == FW_METRIC_HISTOGRAM)
    {
        return;
    }

    __atomic_fetch_add(&b->values[b->metrics[m].offset + s], n,
                       __ATOMIC_RELAXED);
}


void
fw_metrics_set(fw_metrics_block_t *b, size_t m, size_t s, uint64_t v)
{
    if (b == NULL || m >= b->nmetrics || s >= b->metrics[m].nseries
        || b->metrics[m].type == FW_METRIC_HISTOGRAM)
    {
        return;
    }

    __atomic_store_n(&b->values[b->metrics[m].offset + s], v,
                     __ATOMIC_RELAXED);
}


void
fw_metrics_observe(fw_metrics_block_t *b, size_t m, size_t s, double v)
{
    size_t            i, per;
    uint64_t         *p;
    fw_metric_shm_t  *d;

    if (b == NULL || m >= b->nmetrics) {
        return;
    }

    d = &b->metrics[m];

    if (d->type != FW_METRIC_HISTOGRAM || s >= d->nseries || !(v >= 0)) {
        return;
    }

    per = d->nbounds + 2;
    p = &b->values[d->offset + s * per];

    /* buckets kept apart ("+Inf" last), made cumulative when rendered */

    for (i = 0; i < d->nbounds; i++) {
        if (v <= d->bounds[i] * d->scale) {
            break;
        }
    }

    __atomic_fetch_add(&p[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&p[d->nbounds + 1], (uint64_t) (v + 0.5),
                       __ATOMIC_RELAXED);
}


uint64_t
fw_metrics_get(const fw_metrics_block_t *b, size_t m, size_t s)
{
    if (b == NULL || m >= b->nmetrics || s >= b->metrics[m].nseries
        || b->metrics[m].type == FW_METRIC_HISTOGRAM)
    {
        return 0;
    }

    return __atomic_load_n(&b->values[b->metrics[m].offset + s],
                           __ATOMIC_RELAXED);
}


size_t
fw_metrics_series(const fw_metrics_block_t *b, size_t m, size_t i, size_t j)
{
    const fw_metric_shm_t  *d;

    if (b == NULL || m >= b->nmetrics) {
        return (size_t) -1;
    }

    d = &b->metrics[m];

    if (j >= d->nseries2 || i >= d->nseries / d->nseries2) {
        return (size_t) -1;
    }

    return i * d->nseries2 + j;
}


static void
fw_metrics_put(fw_metrics_out_t *o, const char *s, size_t len)
{
    if (o->buf && o->len < o->size) {
        memcpy(o->buf + o->len, s,
               (o->size - o->len < len) ? o->size - o->len : len);
    }

    o->len += len;
}


static void
fw_metrics_puts(fw_metrics_out_t *o, const char *s)
{
    fw_metrics_put(o, s, strlen(s));
}


static void
fw_metrics_putf(fw_metrics_out_t *o, const char *fmt, ...)
{
    int      n;
    char     tmp[256];
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);

    if (n > 0) {
        fw_metrics_put(o, tmp, ((size_t) n < sizeof(tmp)) ? (size_t) n
                                                          : sizeof(tmp) - 1);
    }
}


static void
fw_metrics_head(fw_metrics_out_t *o, const char *name, const char *help,
    const char *type)
{
    fw_metrics_putf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                    type);
}


static void
fw_metrics_value(fw_metrics_out_t *o, uint64_t v, double scale)
{
    if (scale == 1) {
        fw_metrics_putf(o, " %llu\n", (unsigned long long) v);

    } else {
        fw_metrics_putf(o, " %.9g\n", (double) v / scale);
    }
}


/* the labels of series "s" ("{...}", nothing without any), "le" last */

static void
fw_metrics_labels(fw_metrics_out_t *o, const fw_metric_shm_t *d, size_t s,
    const char *le)
{
    const char  *sep;

    if (d->label[0] == '\0' && le == NULL) {
        return;
    }

    sep = "{";

    if (d->label[0]) {
        fw_metrics_putf(o, "{%s=\"%s\"", d->label,
                        d->lvalues[s / d->nseries2]);
        sep = ",";
    }

    if (d->label2[0]) {
        fw_metrics_putf(o, ",%s=\"%s\"", d->label2,
                        d->lvalues2[s % d->nseries2]);
    }

    if (le) {
        fw_metrics_putf(o, "%sle=\"%s\"", sep, le);
    }

    fw_metrics_puts(o, "}");
}


/* the lines of every series of metric "d" of block "b", no HELP or TYPE */

static void
fw_metrics_series_text(fw_metrics_out_t *o, const fw_metrics_block_t *b,
    const fw_metric_shm_t *d, time_t now)
{
    char             le[32];
    size_t           s, k, per;
    uint64_t         v, cum, t;
    const uint64_t  *p;

    per = (d->type == FW_METRIC_HISTOGRAM) ? d->nbounds + 2 : 1;

    for (s = 0; s < d->nseries; s++) {
        p = &b->values[d->offset + s * per];

        if (d->type != FW_METRIC_HISTOGRAM) {
            fw_metrics_puts(o, d->name);
            fw_metrics_labels(o, d, s, NULL);

            v = __atomic_load_n(p, __ATOMIC_RELAXED);

            if (d->type == FW_METRIC_AGE) {
                if (v == 0) {
                    fw_metrics_puts(o, " NaN\n");
                } else {
                    fw_metrics_putf(o, " %lld\n",
                                    (long long) now - (long long) v);
                }
                continue;
            }

            fw_metrics_value(o, v, d->scale);
            continue;
        }

        cum = 0;

        for (k = 0; k <= d->nbounds; k++) {
            cum += __atomic_load_n(&p[k], __ATOMIC_RELAXED);

            if (k < d->nbounds) {
                snprintf(le, sizeof(le), "%g", d->bounds[k]);
            } else {
                memcpy(le, "+Inf", sizeof("+Inf"));
            }

            fw_metrics_putf(o, "%s_bucket", d->name);
            fw_metrics_labels(o, d, s, le);
            fw_metrics_value(o, cum, 1);
        }

        t = __atomic_load_n(&p[d->nbounds + 1], __ATOMIC_RELAXED);

        fw_metrics_putf(o, "%s_sum", d->name);
        fw_metrics_labels(o, d, s, NULL);
        fw_metrics_value(o, t, d->scale);

        fw_metrics_putf(o, "%s_count", d->name);
        fw_metrics_labels(o, d, s, NULL);
        fw_metrics_value(o, cum, 1);
    }
}


static int
fw_metrics_same_family(const fw_metric_shm_t *a, const fw_metric_shm_t *b)
{
    return a->type == b->type && strcmp(a->label, b->label) == 0
           && strcmp(a->label2, b->label2) == 0
           && (a->type != FW_METRIC_HISTOGRAM
               || (a->nbounds == b->nbounds
                   && memcmp(a->bounds, b->bounds,
                             a->nbounds * sizeof(double)) == 0));
}


/* the first metric of that name in the block, NULL if none */

static const fw_metric_shm_t *
fw_metrics_family(const fw_metrics_block_t *b, const char *name)
{
    size_t  i;

    for (i = 0; i < b->nmetrics; i++) {
        if (strcmp(b->metrics[i].name, name) == 0) {
            return &b->metrics[i];
        }
    }

    return NULL;
}


size_t
fw_metrics_render(u_char *buf, size_t size, const fw_metrics_block_t *b,
    time_t now)
{
    return fw_metrics_render_blocks(buf, size, &b, 1, now);
}


size_t
fw_metrics_render_blocks(u_char *buf, size_t size,
    const fw_metrics_block_t *const *b, size_t n, time_t now)
{
    size_t                  i, j, k;
    fw_metrics_out_t        o;
    const fw_metric_shm_t  *d, *e;
    static const char      *types[] = {
        "", "counter", "gauge", "histogram", "gauge"
    };

    o.buf = buf;
    o.size = size;
    o.len = 0;

    for (i = 0; i < n; i++) {
        for (j = 0; j < b[i]->nmetrics; j++) {
            d = &b[i]->metrics[j];

            /* a family is rendered where it first appears */

            if (fw_metrics_family(b[i], d->name) != d) {
                continue;
            }

            for (k = 0; k < i; k++) {
                if (fw_metrics_family(b[k], d->name)) {
                    break;
                }
            }

            if (k < i) {
                continue;
            }

            fw_metrics_head(&o, d->name, d->help, types[d->type]);
            fw_metrics_series_text(&o, b[i], d, now);

            for (k = i + 1; k < n; k++) {
                e = fw_metrics_family(b[k], d->name);

                if (e && fw_metrics_same_family(d, e)) {
                    fw_metrics_series_text(&o, b[k], e, now);
                }
            }
        }
    }

    return o.len;
}


/* ---------------------------------------------------------- outcomes */

/*
 * Layout: for each vocabulary module its values then "other"; then
 * fhirwall_denied_total's "by" values (the vocabulary's modules, then
 * fw_metrics_by[]); then the HTTP status classes.
 */

static size_t
fw_metrics_checks_end(void)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < fw_vocab_nmodules; i++) {
        n += fw_vocab_modules[i].nvalues + 1;
    }

    return n;
}


size_t
fw_metrics_outcome_slots(void)
{
    return fw_metrics_checks_end() + fw_vocab_nmodules + FW_METRICS_BY_EXTRA
           + FW_METRICS_NCODES;
}


size_t
fw_metrics_check_slot(size_t mi, const u_char *value, size_t len)
{
    size_t                    i, base;
    const fw_vocab_module_t  *m;

    base = 0;

    for (i = 0; i < mi && i < fw_vocab_nmodules; i++) {
        base += fw_vocab_modules[i].nvalues + 1;
    }

    m = &fw_vocab_modules[mi];

    for (i = 0; i < m->nvalues; i++) {
        if (strlen(m->values[i].value) == len
            && memcmp(m->values[i].value, value, len) == 0)
        {
            return base + i;
        }
    }

    return base + m->nvalues;
}


size_t
fw_metrics_denied_slot(const u_char *by, size_t len)
{
    size_t  i, base;

    base = fw_metrics_checks_end();

    for (i = 0; i < fw_vocab_nmodules; i++) {
        if (strlen(fw_vocab_modules[i].module) == len
            && memcmp(fw_vocab_modules[i].module, by, len) == 0)
        {
            return base + i;
        }
    }

    for (i = 0; i < FW_METRICS_BY_OTHER; i++) {
        if (strlen(fw_metrics_by[i]) == len
            && memcmp(fw_metrics_by[i], by, len) == 0)
        {
            return base + fw_vocab_nmodules + i;
        }
    }

    return base + fw_vocab_nmodules + FW_METRICS_BY_OTHER;
}


size_t
fw_metrics_status_slot(unsigned status)
{
    size_t  base;

    base = fw_metrics_checks_end() + fw_vocab_nmodules + FW_METRICS_BY_EXTRA;

    if (status >= 100 && status < 600) {
        return base + status / 100 - 1;
    }

    return base + FW_METRICS_NCODES - 1;
}


size_t
fw_metrics_render_outcomes(u_char *buf, size_t size, const uint64_t *slots,
    unsigned present)
{
    size_t                    i, j, k;
    uint64_t                  v;
    fw_metrics_out_t          o;
    const fw_vocab_module_t  *m;

    o.buf = buf;
    o.size = size;
    o.len = 0;

    fw_metrics_head(&o, "fhirwall_checks_total",
                    "Requests a fhirwall module checked, by outcome and "
                    "reason (its status value).", "counter");

    k = 0;

    for (i = 0; i < fw_vocab_nmodules; i++) {
        m = &fw_vocab_modules[i];

        if (!(present & (1u << i))) {
            k += m->nvalues + 1;
            continue;
        }

        for (j = 0; j <= m->nvalues; j++, k++) {
            v = __atomic_load_n(&slots[k], __ATOMIC_RELAXED);

            if (j < m->nvalues) {
                fw_metrics_putf(&o, "fhirwall_checks_total{module=\"%s\","
                                "outcome=\"%s\",reason=\"%s\"} %llu\n",
                                m->module,
                                m->values[j].class == FW_VOCAB_PASSED
                                ? "passed"
                                : m->values[j].class == FW_VOCAB_DENIED
                                  ? "denied" : "not_checked",
                                m->values[j].value, (unsigned long long) v);
            } else {
                fw_metrics_putf(&o, "fhirwall_checks_total{module=\"%s\","
                                "outcome=\"unknown\",reason=\"other\"} "
                                "%llu\n", m->module, (unsigned long long) v);
            }
        }
    }

    fw_metrics_head(&o, "fhirwall_denied_total",
                    "Refused requests (status 400 or more) by who refused "
                    "them: a fhirwall module, nginx or the upstream.",
                    "counter");

    for (i = 0; i < fw_vocab_nmodules + FW_METRICS_BY_EXTRA; i++, k++) {
        v = __atomic_load_n(&slots[k], __ATOMIC_RELAXED);

        if (i < fw_vocab_nmodules) {
            if (!(present & (1u << i))) {
                continue;
            }

            fw_metrics_putf(&o, "fhirwall_denied_total{by=\"%s\"} %llu\n",
                            fw_vocab_modules[i].module,
                            (unsigned long long) v);
        } else {
            fw_metrics_putf(&o, "fhirwall_denied_total{by=\"%s\"} %llu\n",
                            fw_metrics_by[i - fw_vocab_nmodules],
                            (unsigned long long) v);
        }
    }

    fw_metrics_head(&o, "fhirwall_http_responses_total",
                    "Responses to main requests by HTTP status class "
                    "(the metrics location itself not counted).", "counter");

    for (i = 0; i < FW_METRICS_NCODES; i++, k++) {
        v = __atomic_load_n(&slots[k], __ATOMIC_RELAXED);

        fw_metrics_putf(&o, "fhirwall_http_responses_total{code=\"%s\"} "
                        "%llu\n", fw_metrics_codes[i],
                        (unsigned long long) v);
    }

    return o.len;
}
