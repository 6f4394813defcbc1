/*
 * Unit tests of the rate-limit core: the sliding-window arithmetic (the
 * boundaries), the Redis reply parser and the RateLimit header fields.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fw_ratelimit.h"


static fw_ratelimit_window_t
win(uint64_t limit, uint64_t window, uint64_t cost, uint64_t curr,
    uint64_t prev, uint64_t elapsed)
{
    fw_ratelimit_window_t  w;

    w.limit = limit;
    w.window = window;
    w.cost = cost;
    w.curr = curr;
    w.prev = prev;
    w.elapsed = elapsed;

    return w;
}


/* exactly N: the Nth fits, the (N+1)th does not */
static void
test_exact_limit(void **state)
{
    fw_ratelimit_window_t  w;
    fw_ratelimit_result_t  r;

    (void) state;

    w = win(3, 60000, 1, 2, 0, 1000);
    assert_true(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 1, &r);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_ms, 0);
    assert_int_equal(r.reset_ms, 59000);

    w = win(3, 60000, 1, 3, 0, 1000);
    assert_false(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 0, &r);
    assert_false(r.fits);
    assert_int_equal(r.remaining, 0);
    /* the next window: prev' = 3, needs 1*60000 + 3*(60000-e) <= 180000 */
    assert_int_equal(r.retry_ms, 59000 + 20000);
}


/* the previous window weighs (window - elapsed) / window */
static void
test_sliding_boundary(void **state)
{
    fw_ratelimit_window_t  w;
    fw_ratelimit_result_t  r;

    (void) state;

    /* 5 per 20 s, the previous window full: one fits from e = 4000 */
    w = win(5, 20000, 1, 0, 5, 4000);
    assert_true(fw_ratelimit_fits(&w));

    w = win(5, 20000, 1, 0, 5, 3999);
    assert_false(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 0, &r);
    assert_int_equal(r.retry_ms, 1);

    w = win(5, 20000, 1, 0, 5, 0);
    fw_ratelimit_eval(&w, 0, &r);
    assert_int_equal(r.retry_ms, 4000);
    assert_int_equal(r.remaining, 0);

    /* the second one from e = 8000 */
    w = win(5, 20000, 1, 1, 5, 7999);
    assert_false(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 0, &r);
    assert_int_equal(r.retry_ms, 1);

    w = win(5, 20000, 1, 1, 5, 8000);
    assert_true(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 1, &r);
    assert_int_equal(r.remaining, 0);

    /* half-way, half the previous window counts: 10 - 5 - 1 = 4 left */
    w = win(10, 60000, 1, 0, 10, 30000);
    assert_true(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 1, &r);
    assert_int_equal(r.remaining, 4);
}


static void
test_cost(void **state)
{
    fw_ratelimit_window_t  w;
    fw_ratelimit_result_t  r;

    (void) state;

    w = win(10, 60000, 4, 4, 0, 10);
    assert_true(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 1, &r);
    assert_int_equal(r.remaining, 2);

    w = win(10, 60000, 3, 8, 0, 10);
    assert_false(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 0, &r);
    assert_int_equal(r.remaining, 2);      /* nothing counted */
    assert_false(r.never);

    /* more than the limit: never fits, retry is a whole window */
    w = win(10, 60000, 11, 0, 0, 10);
    assert_false(fw_ratelimit_fits(&w));
    fw_ratelimit_eval(&w, 0, &r);
    assert_true(r.never);
    assert_int_equal(r.retry_ms, 60000);

    /* cost 0 always fits, even at the limit */
    w = win(10, 60000, 0, 10, 0, 10);
    assert_true(fw_ratelimit_fits(&w));

    /* a refused policy in an admitted decision cannot happen; an admitted
     * one in a refused decision reports what is left without the cost */
    w = win(10, 60000, 2, 3, 0, 10);
    fw_ratelimit_eval(&w, 0, &r);
    assert_true(r.fits);
    assert_int_equal(r.remaining, 7);
}


static void
test_elapsed_out_of_range(void **state)
{
    fw_ratelimit_window_t  w;

    (void) state;

    w = win(10, 1000, 1, 0, 0, 1000);
    assert_false(fw_ratelimit_fits(&w));
}


static void
test_slot_roll(void **state)
{
    fw_ratelimit_slot_t    s;
    fw_ratelimit_window_t  w;

    (void) state;

    w = win(10, 1000, 1, 0, 0, 0);

    s.index = 5;
    s.curr = 3;
    s.prev = 2;

    fw_ratelimit_slot_roll(&s, 5500, &w);
    assert_int_equal(s.index, 5);
    assert_int_equal(w.curr, 3);
    assert_int_equal(w.prev, 2);
    assert_int_equal(w.elapsed, 500);

    fw_ratelimit_slot_roll(&s, 6250, &w);
    assert_int_equal(s.index, 6);
    assert_int_equal(w.curr, 0);
    assert_int_equal(w.prev, 3);
    assert_int_equal(w.elapsed, 250);

    s.curr = 4;
    fw_ratelimit_slot_roll(&s, 8000, &w);
    assert_int_equal(s.index, 8);
    assert_int_equal(w.curr, 0);
    assert_int_equal(w.prev, 0);
    assert_int_equal(w.elapsed, 0);

    /* the clock went back: start over rather than trust old counts */
    s.curr = 4;
    fw_ratelimit_slot_roll(&s, 3000, &w);
    assert_int_equal(s.index, 3);
    assert_int_equal(w.curr, 0);
}


static void
test_ms_to_s(void **state)
{
    (void) state;

    assert_int_equal(fw_ratelimit_ms_to_s(0, 1), 1);
    assert_int_equal(fw_ratelimit_ms_to_s(0, 0), 0);
    assert_int_equal(fw_ratelimit_ms_to_s(1, 0), 1);
    assert_int_equal(fw_ratelimit_ms_to_s(1000, 0), 1);
    assert_int_equal(fw_ratelimit_ms_to_s(1001, 0), 2);
}


/* ------------------------------------------------------------- replies */

static redisReply *
rep_int(long long v)
{
    redisReply  *r;

    r = calloc(1, sizeof(redisReply));
    r->type = REDIS_REPLY_INTEGER;
    r->integer = v;

    return r;
}


static redisReply *
rarray(size_t n, ...)
{
    size_t       i;
    va_list      ap;
    redisReply  *r;

    r = calloc(1, sizeof(redisReply));
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = calloc(n ? n : 1, sizeof(redisReply *));

    va_start(ap, n);
    for (i = 0; i < n; i++) {
        r->element[i] = va_arg(ap, redisReply *);
    }
    va_end(ap);

    return r;
}


static redisReply *
rstr(int type, const char *s)
{
    redisReply  *r;

    r = calloc(1, sizeof(redisReply));
    r->type = type;
    r->str = (char *) s;
    r->len = strlen(s);

    return r;
}


static void
rfree(redisReply *r)
{
    size_t  i;

    if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->elements; i++) {
            rfree(r->element[i]);
        }
        free(r->element);
    }

    free(r);
}


static void
test_reply_ok(void **state)
{
    int                    admitted, rc;
    size_t                 len;
    const char            *err;
    redisReply            *r;
    fw_ratelimit_window_t  w[2];

    (void) state;

    w[0] = win(3, 60000, 1, 0, 0, 0);
    w[1] = win(5, 1000, 2, 0, 0, 0);

    r = rarray(7, rep_int(1), rep_int(2), rep_int(1), rep_int(59999),
               rep_int(4), rep_int(0), rep_int(999));

    rc = fw_ratelimit_parse_reply(r, w, 2, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_OK);
    assert_int_equal(admitted, 1);
    assert_int_equal(w[0].curr, 2);
    assert_int_equal(w[0].prev, 1);
    assert_int_equal(w[0].elapsed, 59999);
    assert_int_equal(w[1].curr, 4);
    assert_int_equal(w[1].elapsed, 999);

    rfree(r);
}


static void
test_reply_errors(void **state)
{
    int                    admitted, rc;
    size_t                 len;
    const char            *err;
    redisReply            *r;
    fw_ratelimit_window_t  w[1];

    (void) state;

    w[0] = win(3, 60000, 1, 0, 0, 0);

    r = rstr(REDIS_REPLY_ERROR,
             "NOSCRIPT No matching script. Please use EVAL.");
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_NOSCRIPT);
    rfree(r);

    r = rstr(REDIS_REPLY_ERROR, "NOAUTH Authentication required.");
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_ERROR);
    assert_int_equal(len, strlen("NOAUTH Authentication required."));
    assert_memory_equal(err, "NOAUTH", 6);
    rfree(r);

    rc = fw_ratelimit_parse_reply(NULL, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_BAD);

    /* a status reply, not an array */
    r = rstr(REDIS_REPLY_STATUS, "OK");
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_BAD);
    rfree(r);

    /* too short for one policy */
    r = rarray(3, rep_int(1), rep_int(0), rep_int(0));
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_BAD);
    rfree(r);

    /* admitted must be 0 or 1 */
    r = rarray(4, rep_int(2), rep_int(0), rep_int(0), rep_int(0));
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_BAD);
    rfree(r);

    /* negative counter */
    r = rarray(4, rep_int(1), rep_int(-1), rep_int(0), rep_int(0));
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_BAD);
    rfree(r);

    /* elapsed beyond the window */
    r = rarray(4, rep_int(1), rep_int(0), rep_int(0), rep_int(60000));
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_BAD);
    rfree(r);

    /* a string where an integer belongs */
    r = rarray(4, rep_int(1), rstr(REDIS_REPLY_STRING, "3"), rep_int(0),
               rep_int(0));
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_BAD);
    rfree(r);

    /* a nil element */
    r = rarray(4, rep_int(1), NULL, rep_int(0), rep_int(0));
    r->elements = 4;
    rc = fw_ratelimit_parse_reply(r, w, 1, &admitted, &err, &len);
    assert_int_equal(rc, FW_RATELIMIT_REPLY_BAD);
    r->element[1] = rep_int(0);
    rfree(r);
}


/* ------------------------------------------------------------- headers */

static void
test_headers(void **state)
{
    u_char              buf[256];
    size_t              n;
    fw_ratelimit_hdr_t  h[2];

    (void) state;

    h[0].name = (const u_char *) "per_ip";
    h[0].name_len = 6;
    h[0].limit = 50;
    h[0].window_s = 60;
    h[0].remaining = 12;
    h[0].reset_s = 30;

    h[1].name = (const u_char *) "per.client";
    h[1].name_len = 10;
    h[1].limit = 1000;
    h[1].window_s = 3600;
    h[1].remaining = 0;
    h[1].reset_s = 1;

    n = fw_ratelimit_fmt_policy(NULL, 0, h, 2);
    assert_int_equal(n, strlen("\"per_ip\";q=50;w=60, "
                               "\"per.client\";q=1000;w=3600"));
    assert_int_equal(fw_ratelimit_fmt_policy(buf, sizeof(buf), h, 2), n);
    assert_memory_equal(buf, "\"per_ip\";q=50;w=60, "
                             "\"per.client\";q=1000;w=3600", n);

    n = fw_ratelimit_fmt_state(buf, sizeof(buf), h, 2);
    assert_int_equal(n, strlen("\"per_ip\";r=12;t=30, "
                               "\"per.client\";r=0;t=1"));
    assert_memory_equal(buf, "\"per_ip\";r=12;t=30, "
                             "\"per.client\";r=0;t=1", n);

    n = fw_ratelimit_fmt_state(buf, sizeof(buf), h, 1);
    assert_memory_equal(buf, "\"per_ip\";r=12;t=30", n);

    /* too small: nothing */
    assert_int_equal(fw_ratelimit_fmt_policy(buf, 10, h, 2), 0);
    assert_int_equal(fw_ratelimit_fmt_state(buf, 0, h, 1), 0);

    /* exactly the size needed */
    n = fw_ratelimit_fmt_state(NULL, 0, h, 1);
    assert_int_equal(fw_ratelimit_fmt_state(buf, n, h, 1), n);

    /* escaping of sf-string specials (names are tokens, still) */
    h[0].name = (const u_char *) "a\"b\\c";
    h[0].name_len = 5;
    n = fw_ratelimit_fmt_policy(buf, sizeof(buf), h, 1);
    assert_memory_equal(buf, "\"a\\\"b\\\\c\";q=50;w=60", n);
}


static void
test_names_and_keys(void **state)
{
    u_char  out[FW_RATELIMIT_KEY_HASHED];
    char    sha[41];

    (void) state;

    assert_true(fw_ratelimit_valid_name((const u_char *) "per_ip-1.x", 10));
    assert_false(fw_ratelimit_valid_name((const u_char *) "", 0));
    assert_false(fw_ratelimit_valid_name((const u_char *) "a{b", 3));
    assert_false(fw_ratelimit_valid_name((const u_char *) "a b", 3));
    assert_false(fw_ratelimit_valid_name((const u_char *) "a\"", 2));
    assert_false(fw_ratelimit_valid_name((const u_char *)
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        65));

    fw_ratelimit_hash_key((const u_char *) "abc", 3, out);
    assert_memory_equal(out, "#a9993e364706816aba3e25717850c26c9cd0d89d",
                        FW_RATELIMIT_KEY_HASHED);

    fw_ratelimit_script_sha1(sha);
    assert_int_equal(strlen(sha), 40);
    assert_true(strspn(sha, "0123456789abcdef") == 40);

    /* the script makes the same test as fw_ratelimit_fits() */
    assert_non_null(strstr(fw_ratelimit_script,
                           "(c + cost) * win + p * (win - e) > lim * win"));
    assert_non_null(strstr(fw_ratelimit_script, "redis.call('TIME')"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_exact_limit),
        cmocka_unit_test(test_sliding_boundary),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_elapsed_out_of_range),
        cmocka_unit_test(test_slot_roll),
        cmocka_unit_test(test_ms_to_s),
        cmocka_unit_test(test_reply_ok),
        cmocka_unit_test(test_reply_errors),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_names_and_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
