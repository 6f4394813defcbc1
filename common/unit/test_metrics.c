/*
 * Unit tests for common/fw_metrics.c: blocks (descriptors checked, values
 * updated), the Prometheus text of a block and of the outcome counters.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fw_metrics.h"


static void test_block(void **state);
static void test_invalid(void **state);
static void test_render(void **state);
static void test_render_truncated(void **state);
static void test_outcomes(void **state);
static void test_two_labels(void **state);
static void test_render_blocks(void **state);
static char *render(const fw_metrics_block_t *b, time_t now);


static const char *const  states[] = { "up", "down" };
static const double       bounds[] = { 0.001, 0.01, 0.1 };

static const fw_metric_desc_t  descs[] = {
    { "fhirwall_demo_fetches_total", "Fetches.", FW_METRIC_COUNTER,
      "result", states, 2, NULL, 0, 0 },
    { "fhirwall_demo_keys", "Keys in force.", FW_METRIC_GAUGE,
      NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_demo_last_fetch_age_seconds", "Since the last fetch.",
      FW_METRIC_AGE, NULL, NULL, 0, NULL, 0, 0 },
    { "fhirwall_demo_latency_seconds", "Latency.", FW_METRIC_HISTOGRAM,
      NULL, NULL, 0, bounds, 3, 1e6 }
};


static char *
render(const fw_metrics_block_t *b, time_t now)
{
    size_t   n, m;
    char    *s;

    n = fw_metrics_render(NULL, 0, b, now);
    s = malloc(n + 1);
    assert_non_null(s);
    m = fw_metrics_render((u_char *) s, n, b, now);
    assert_int_equal(m, n);
    s[n] = '\0';

    return s;
}


static void
test_block(void **state)
{
    size_t               size;
    fw_metrics_block_t  *b, *c;

    size = fw_metrics_block_size(descs, 4);
    /* 2 + 1 + 1 + (3 buckets, +Inf, sum) */
    assert_int_equal(size, offsetof(fw_metrics_block_t, values)
                           + 9 * sizeof(uint64_t));

    b = malloc(size);
    c = malloc(size);
    assert_int_equal(fw_metrics_block_init(b, size, "demo", descs, 4), 0);
    assert_int_equal(fw_metrics_block_init(c, size, "demo", descs, 4), 0);
    assert_true(fw_metrics_block_valid(b, size));
    assert_false(fw_metrics_block_valid(b, size - 1));
    assert_true(fw_metrics_block_same(b, c));

    fw_metrics_add(b, 0, 1, 1);
    fw_metrics_add(b, 0, 1, 2);
    fw_metrics_add(b, 0, 2, 5);     /* no such series: ignored */
    fw_metrics_add(b, 9, 0, 5);     /* no such metric: ignored */
    fw_metrics_add(b, 3, 0, 5);     /* a histogram is observed, not added */
    fw_metrics_set(b, 1, 0, 7);
    fw_metrics_set(b, 1, 0, 4);

    assert_int_equal(fw_metrics_get(b, 0, 0), 0);
    assert_int_equal(fw_metrics_get(b, 0, 1), 3);
    assert_int_equal(fw_metrics_get(b, 1, 0), 4);
    assert_int_equal(b->values[b->metrics[3].offset + 4], 0);

    /* the values do not make two blocks different */
    assert_true(fw_metrics_block_same(b, c));
    assert_int_equal(fw_metrics_block_init(c, size - 1, "demo", descs, 4),
                     -1);
    assert_int_equal(fw_metrics_block_init(c, size, "demo", descs, 3), 0);
    assert_false(fw_metrics_block_same(b, c));
    assert_int_equal(fw_metrics_block_init(c, size, "other", descs, 4), -1);

    b->magic = 0;
    assert_false(fw_metrics_block_valid(b, size));

    free(b);
    free(c);
}


static void
test_invalid(void **state)
{
    fw_metric_desc_t           d;
    static const char *const   bad[] = { "a\"b" };
    static const double        down[] = { 1, 0.5 };

    d = descs[0];
    assert_int_not_equal(fw_metrics_block_size(&d, 1), 0);

    d.name = "fhirwall demo";
    assert_int_equal(fw_metrics_block_size(&d, 1), 0);

    d = descs[0];
    d.lvalues = bad;
    d.nlvalues = 1;
    assert_int_equal(fw_metrics_block_size(&d, 1), 0);

    d = descs[0];
    d.label = "le";
    assert_int_equal(fw_metrics_block_size(&d, 1), 0);

    d = descs[0];
    d.help = "two\nlines";
    assert_int_equal(fw_metrics_block_size(&d, 1), 0);

    d = descs[3];
    d.bounds = down;
    d.nbounds = 2;
    assert_int_equal(fw_metrics_block_size(&d, 1), 0);

    d = descs[0];
    d.type = 0;
    assert_int_equal(fw_metrics_block_size(&d, 1), 0);

    assert_int_equal(fw_metrics_block_size(descs, 0), 0);
}


static void
test_render(void **state)
{
    char                *s;
    size_t               size;
    fw_metrics_block_t  *b;

    size = fw_metrics_block_size(descs, 4);
    b = malloc(size);
    assert_int_equal(fw_metrics_block_init(b, size, "demo", descs, 4), 0);

    s = render(b, 1000);
    assert_non_null(strstr(s, "fhirwall_demo_last_fetch_age_seconds NaN\n"));
    assert_non_null(strstr(s, "fhirwall_demo_latency_seconds_count 0\n"));
    free(s);

    fw_metrics_add(b, 0, 0, 2);
    fw_metrics_add(b, 0, 1, 1);
    fw_metrics_set(b, 1, 0, 3);
    fw_metrics_set(b, 2, 0, 990);
    fw_metrics_observe(b, 3, 0, 500);       /* 0.5 ms */
    fw_metrics_observe(b, 3, 0, 5000);      /* 5 ms */
    fw_metrics_observe(b, 3, 0, 2000000);   /* 2 s */
    fw_metrics_observe(b, 3, 0, -1);        /* ignored */

    s = render(b, 1000);

    assert_string_equal(s,
        "# HELP fhirwall_demo_fetches_total Fetches.\n"
        "# TYPE fhirwall_demo_fetches_total counter\n"
        "fhirwall_demo_fetches_total{result=\"up\"} 2\n"
        "fhirwall_demo_fetches_total{result=\"down\"} 1\n"
        "# HELP fhirwall_demo_keys Keys in force.\n"
        "# TYPE fhirwall_demo_keys gauge\n"
        "fhirwall_demo_keys 3\n"
        "# HELP fhirwall_demo_last_fetch_age_seconds Since the last fetch.\n"
        "# TYPE fhirwall_demo_last_fetch_age_seconds gauge\n"
        "fhirwall_demo_last_fetch_age_seconds 10\n"
        "# HELP fhirwall_demo_latency_seconds Latency.\n"
        "# TYPE fhirwall_demo_latency_seconds histogram\n"
        "fhirwall_demo_latency_seconds_bucket{le=\"0.001\"} 1\n"
        "fhirwall_demo_latency_seconds_bucket{le=\"0.01\"} 2\n"
        "fhirwall_demo_latency_seconds_bucket{le=\"0.1\"} 2\n"
        "fhirwall_demo_latency_seconds_bucket{le=\"+Inf\"} 3\n"
        "fhirwall_demo_latency_seconds_sum 2.0055\n"
        "fhirwall_demo_latency_seconds_count 3\n");

    free(s);
    free(b);
}


static void
test_render_truncated(void **state)
{
    size_t               size, n;
    u_char               buf[40];
    fw_metrics_block_t  *b;

    size = fw_metrics_block_size(descs, 4);
    b = malloc(size);
    assert_int_equal(fw_metrics_block_init(b, size, "demo", descs, 4), 0);

    memset(buf, 'x', sizeof(buf));
    n = fw_metrics_render(buf, 20, b, 0);

    assert_true(n > 20);
    assert_int_equal(buf[20], 'x');
    assert_memory_equal(buf, "# HELP fhirwall_demo", 20);

    free(b);
}


static void
test_outcomes(void **state)
{
    char      *s;
    size_t     n, i, jwt, other, by, code;
    uint64_t  *slots;

    n = fw_metrics_outcome_slots();
    slots = calloc(n, sizeof(uint64_t));
    assert_non_null(slots);

    for (i = 0; i < fw_vocab_nmodules; i++) {
        if (strcmp(fw_vocab_modules[i].module, "jwt") == 0) {
            break;
        }
    }

    assert_true(i < fw_vocab_nmodules);

    jwt = fw_metrics_check_slot(i, (const u_char *) "expired", 7);
    other = fw_metrics_check_slot(i, (const u_char *) "bogus", 5);
    assert_int_not_equal(jwt, other);
    assert_true(other < n);
    assert_int_equal(fw_metrics_check_slot(i, (const u_char *) "expire", 6),
                     other);

    by = fw_metrics_denied_slot((const u_char *) "jwt", 3);
    assert_true(by < n);
    assert_int_not_equal(by, other);
    assert_int_equal(fw_metrics_denied_slot((const u_char *) "x", 1),
                     fw_metrics_denied_slot((const u_char *) "y", 1));
    assert_int_not_equal(fw_metrics_denied_slot((const u_char *) "nginx", 5),
                         fw_metrics_denied_slot((const u_char *) "y", 1));

    code = fw_metrics_status_slot(401);
    assert_int_equal(fw_metrics_status_slot(499), code);
    assert_int_equal(fw_metrics_status_slot(0), n - 1);
    assert_int_equal(fw_metrics_status_slot(600), n - 1);
    assert_int_equal(fw_metrics_status_slot(503), n - 2);

    slots[jwt] = 2;
    slots[other] = 1;
    slots[by] = 3;
    slots[code] = 4;

    n = fw_metrics_render_outcomes(NULL, 0, slots, 1u << i);
    s = malloc(n + 1);
    assert_int_equal(fw_metrics_render_outcomes((u_char *) s, n, slots,
                                                1u << i), n);
    s[n] = '\0';

    assert_non_null(strstr(s, "# TYPE fhirwall_checks_total counter\n"));
    assert_non_null(strstr(s, "fhirwall_checks_total{module=\"jwt\","
                              "outcome=\"denied\",reason=\"expired\"} 2\n"));
    assert_non_null(strstr(s, "fhirwall_checks_total{module=\"jwt\","
                              "outcome=\"passed\",reason=\"valid\"} 0\n"));
    assert_non_null(strstr(s, "fhirwall_checks_total{module=\"jwt\","
                              "outcome=\"not_checked\",reason=\"off\"} 0\n"));
    assert_non_null(strstr(s, "fhirwall_checks_total{module=\"jwt\","
                              "outcome=\"unknown\",reason=\"other\"} 1\n"));
    assert_non_null(strstr(s, "fhirwall_denied_total{by=\"jwt\"} 3\n"));
    assert_non_null(strstr(s, "fhirwall_denied_total{by=\"nginx\"} 0\n"));
    assert_non_null(strstr(s, "fhirwall_http_responses_total{code=\"4xx\"} "
                              "4\n"));

    /* modules not loaded: no series of theirs */
    assert_null(strstr(s, "module=\"fhir\""));
    assert_null(strstr(s, "by=\"fhir\""));

    free(s);
    free(slots);
}


static const char *const  kinds[] = { "read", "search-type", "create" };
static const char *const  verdicts[] = { "allowed", "refused" };

static const fw_metric_desc_t  two[] = {
    { "fhirwall_demo_interactions_total", "Interactions.", FW_METRIC_COUNTER,
      "interaction", kinds, 3, NULL, 0, 0 }
};

static const fw_metric_label_t  two_l2[] = {
    { "outcome", verdicts, 2 }
};


static void
test_two_labels(void **state)
{
    char                *s;
    size_t               size;
    fw_metric_desc_t     d;
    fw_metric_label_t    e;
    fw_metrics_block_t  *b;

    size = fw_metrics_block_size2(two, two_l2, 1);
    assert_int_equal(size, offsetof(fw_metrics_block_t, values)
                           + 6 * sizeof(uint64_t));
    assert_int_equal(fw_metrics_block_size(two, 1),
                     offsetof(fw_metrics_block_t, values)
                     + 3 * sizeof(uint64_t));

    b = malloc(size);
    assert_int_equal(fw_metrics_block_init2(b, size, "demo", two, two_l2, 1),
                     0);
    assert_true(fw_metrics_block_valid(b, size));

    assert_int_equal(fw_metrics_series(b, 0, 0, 0), 0);
    assert_int_equal(fw_metrics_series(b, 0, 1, 1), 3);
    assert_int_equal(fw_metrics_series(b, 0, 2, 1), 5);

    fw_metrics_add(b, 0, fw_metrics_series(b, 0, 1, 1), 2);
    fw_metrics_add(b, 0, fw_metrics_series(b, 0, 2, 0), 1);
    /* out of range: ignored */
    fw_metrics_add(b, 0, fw_metrics_series(b, 0, 3, 0), 7);
    fw_metrics_add(b, 0, fw_metrics_series(b, 0, 0, 2), 7);
    fw_metrics_add(b, 0, fw_metrics_series(b, 1, 0, 0), 7);

    assert_int_equal(fw_metrics_get(b, 0, 3), 2);
    assert_int_equal(fw_metrics_get(b, 0, 4), 1);
    assert_int_equal(fw_metrics_get(b, 0, 0) + fw_metrics_get(b, 0, 1)
                     + fw_metrics_get(b, 0, 2) + fw_metrics_get(b, 0, 5), 0);

    s = render(b, 0);
    assert_string_equal(s,
        "# HELP fhirwall_demo_interactions_total Interactions.\n"
        "# TYPE fhirwall_demo_interactions_total counter\n"
        "fhirwall_demo_interactions_total{interaction=\"read\","
        "outcome=\"allowed\"} 0\n"
        "fhirwall_demo_interactions_total{interaction=\"read\","
        "outcome=\"refused\"} 0\n"
        "fhirwall_demo_interactions_total{interaction=\"search-type\","
        "outcome=\"allowed\"} 0\n"
        "fhirwall_demo_interactions_total{interaction=\"search-type\","
        "outcome=\"refused\"} 2\n"
        "fhirwall_demo_interactions_total{interaction=\"create\","
        "outcome=\"allowed\"} 1\n"
        "fhirwall_demo_interactions_total{interaction=\"create\","
        "outcome=\"refused\"} 0\n");
    free(s);

    /* a corrupted series count is not rendered */
    b->metrics[0].nseries2 = 4;
    assert_false(fw_metrics_block_valid(b, size));
    b->metrics[0].nseries2 = 2;
    assert_true(fw_metrics_block_valid(b, size));

    /* the second label: valid, not the first's, and only with a first */
    e = two_l2[0];
    e.label = "interaction";
    assert_int_equal(fw_metrics_block_size2(two, &e, 1), 0);

    e = two_l2[0];
    e.nlvalues = FW_METRICS_SERIES2_MAX + 1;
    assert_int_equal(fw_metrics_block_size2(two, &e, 1), 0);

    d = two[0];
    d.label = NULL;
    assert_int_equal(fw_metrics_block_size2(&d, two_l2, 1), 0);

    e = two_l2[0];
    e.label = "le";
    assert_int_equal(fw_metrics_block_size2(two, &e, 1), 0);

    free(b);
}


static const char *const  rl[] = { "ratelimit" };
static const char *const  wh[] = { "webhook" };

static const fw_metric_desc_t  redis_rl[] = {
    { "fhirwall_redis_reconnects_total", "Reconnects.", FW_METRIC_COUNTER,
      "module", rl, 1, NULL, 0, 0 },
    { "fhirwall_redis_attempts_total", "Attempts.", FW_METRIC_COUNTER,
      "module", rl, 1, NULL, 0, 0 }
};

static const fw_metric_desc_t  redis_wh[] = {
    { "fhirwall_redis_reconnects_total", "Reconnects.", FW_METRIC_COUNTER,
      "module", wh, 1, NULL, 0, 0 },
    { "fhirwall_redis_attempts_total", "Attempts.", FW_METRIC_GAUGE,
      "module", wh, 1, NULL, 0, 0 }
};


static void
test_render_blocks(void **state)
{
    char                      *s;
    size_t                     n, m, size;
    fw_metrics_block_t        *a, *w, *d;
    const fw_metrics_block_t  *all[3];

    size = fw_metrics_block_size(redis_rl, 2);
    a = malloc(size);
    w = malloc(size);
    assert_int_equal(fw_metrics_block_init(a, size, "redis", redis_rl, 2),
                     0);
    assert_int_equal(fw_metrics_block_init(w, size, "redis", redis_wh, 2),
                     0);

    size = fw_metrics_block_size(descs, 2);
    d = malloc(size);
    assert_int_equal(fw_metrics_block_init(d, size, "demo", descs, 2), 0);

    fw_metrics_add(a, 0, 0, 2);
    fw_metrics_add(a, 1, 0, 5);
    fw_metrics_add(w, 0, 0, 1);
    fw_metrics_set(w, 1, 0, 9);
    fw_metrics_set(d, 1, 0, 4);

    all[0] = a;
    all[1] = d;
    all[2] = w;

    n = fw_metrics_render_blocks(NULL, 0, all, 3, 0);
    s = malloc(n + 1);
    m = fw_metrics_render_blocks((u_char *) s, n, all, 3, 0);
    assert_int_equal(m, n);
    s[n] = '\0';

    /* one family each, every block's series together; the attempts of the
       webhook block are another type: left out */
    assert_string_equal(s,
        "# HELP fhirwall_redis_reconnects_total Reconnects.\n"
        "# TYPE fhirwall_redis_reconnects_total counter\n"
        "fhirwall_redis_reconnects_total{module=\"ratelimit\"} 2\n"
        "fhirwall_redis_reconnects_total{module=\"webhook\"} 1\n"
        "# HELP fhirwall_redis_attempts_total Attempts.\n"
        "# TYPE fhirwall_redis_attempts_total counter\n"
        "fhirwall_redis_attempts_total{module=\"ratelimit\"} 5\n"
        "# HELP fhirwall_demo_fetches_total Fetches.\n"
        "# TYPE fhirwall_demo_fetches_total counter\n"
        "fhirwall_demo_fetches_total{result=\"up\"} 0\n"
        "fhirwall_demo_fetches_total{result=\"down\"} 0\n"
        "# HELP fhirwall_demo_keys Keys in force.\n"
        "# TYPE fhirwall_demo_keys gauge\n"
        "fhirwall_demo_keys 4\n");

    free(s);
    free(a);
    free(w);
    free(d);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_render_truncated),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_two_labels),
        cmocka_unit_test(test_render_blocks),
    };

    return cmocka_run_group_tests_name("common/metrics", tests, NULL, NULL);
}
