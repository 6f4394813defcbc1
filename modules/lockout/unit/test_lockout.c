/*
 * fhirwall lockout core: unit tests (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fw_lockout.h"


static void test_conf(void **state);
static void test_duration(void **state);
static void test_window(void **state);
static void test_repeat(void **state);


static const fw_lockout_conf_t  conf = { 3, 10000, 1000, 8000 };


static void
test_conf(void **state)
{
    fw_lockout_conf_t  c;

    assert_null(fw_lockout_conf_check(&conf));

    c = conf;
    c.failures = 0;
    assert_non_null(fw_lockout_conf_check(&c));
    c.failures = 33;
    assert_non_null(fw_lockout_conf_check(&c));

    c = conf;
    c.max = 999;
    assert_non_null(fw_lockout_conf_check(&c));

    c = conf;
    c.window = 0;
    assert_non_null(fw_lockout_conf_check(&c));
}


static void
test_duration(void **state)
{
    assert_int_equal(fw_lockout_duration(&conf, 1), 1000);
    assert_int_equal(fw_lockout_duration(&conf, 2), 2000);
    assert_int_equal(fw_lockout_duration(&conf, 3), 4000);
    assert_int_equal(fw_lockout_duration(&conf, 4), 8000);
    assert_int_equal(fw_lockout_duration(&conf, 5), 8000);
    assert_int_equal(fw_lockout_duration(&conf, UINT32_MAX), 8000);
}


static void
test_window(void **state)
{
    fw_lockout_state_t  s;

    memset(&s, 0, sizeof(s));

    /* failures further apart than the window never lock */
    assert_int_equal(fw_lockout_fail(&s, &conf, 100000), 0);
    assert_int_equal(fw_lockout_fail(&s, &conf, 105000), 0);
    assert_int_equal(fw_lockout_fail(&s, &conf, 115000), 0);
    assert_int_equal(fw_lockout_fail(&s, &conf, 124000), 0);
    assert_int_equal(fw_lockout_remaining(&s, 124000), 0);

    /* the third within 10 s does: 115000, 124000, 124500 */
    assert_int_equal(fw_lockout_fail(&s, &conf, 124500), 1000);
    assert_int_equal(fw_lockout_remaining(&s, 124500), 1000);
    assert_int_equal(fw_lockout_remaining(&s, 125000), 500);
    assert_int_equal(fw_lockout_remaining(&s, 125500), 0);

    /* failures while locked out do not count */
    memset(&s, 0, sizeof(s));
    fw_lockout_fail(&s, &conf, 1000);
    fw_lockout_fail(&s, &conf, 1001);
    assert_int_equal(fw_lockout_fail(&s, &conf, 1002), 1000);
    assert_int_equal(fw_lockout_fail(&s, &conf, 1500), 0);
    assert_int_equal(fw_lockout_fail(&s, &conf, 1600), 0);
    assert_int_equal(s.n, 0);
    assert_true(fw_lockout_expires(&s, &conf) >= 2002 + 8000);
}


static void
test_repeat(void **state)
{
    uint64_t            now;
    fw_lockout_state_t  s;

    memset(&s, 0, sizeof(s));
    now = 1000000;

    /* each repeat doubles, up to max */
    assert_int_equal((fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now)), 1000);
    now += 1000;
    assert_int_equal((fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now)), 2000);
    now += 2000;
    assert_int_equal((fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now)), 4000);
    now += 4000;
    assert_int_equal((fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now)), 8000);
    now += 8000;
    assert_int_equal((fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now)), 8000);

    /* a quiet time of max forgets the repeats */
    now += 8000 + 8000;
    assert_int_equal((fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now),
                      fw_lockout_fail(&s, &conf, now)), 1000);
    assert_int_equal(fw_lockout_expires(&s, &conf), now + 1000 + 8000);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_repeat),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
