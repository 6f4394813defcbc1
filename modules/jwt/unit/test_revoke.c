/*
 * fhirwall JWT core: unit tests of the revocation list (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fw_jwt_revoke.h"


static fw_jwt_revoke_t *parse(const char *text, char *err);
static int check(fw_jwt_revoke_t *rv, const char *jti, const char *sub,
    int has_iat, long iat);
static void test_parse(void **state);
static void test_invalid(void **state);
static void test_check(void **state);


static fw_jwt_revoke_t *
parse(const char *text, char *err)
{
    return fw_jwt_revoke_parse((const u_char *) text, strlen(text), err);
}


static int
check(fw_jwt_revoke_t *rv, const char *jti, const char *sub, int has_iat,
    long iat)
{
    return fw_jwt_revoke_check(rv, (const u_char *) jti,
                               jti ? strlen(jti) : 0, (const u_char *) sub,
                               sub ? strlen(sub) : 0, has_iat, iat);
}


static void
test_parse(void **state)
{
    char              err[256];
    fw_jwt_revoke_t  *rv;

    rv = parse("", err);
    assert_non_null(rv);
    assert_int_equal(fw_jwt_revoke_count(rv), 0);
    assert_int_equal(check(rv, "a", "b", 1, 1), 0);
    fw_jwt_revoke_free(rv);

    rv = parse("# comment\n\n  jti  abc  \r\nsub alice 1000\n"
               "sub alice 900\nsub bob\njti abc\n\tsub carol 5", err);
    assert_non_null(rv);
    /* duplicates merged */
    assert_int_equal(fw_jwt_revoke_count(rv), 4);
    fw_jwt_revoke_free(rv);
}


static void
test_invalid(void **state)
{
    char              err[256];
    fw_jwt_revoke_t  *rv;

    rv = parse("jti a\nkid b\n", err);
    assert_null(rv);
    assert_string_equal(err, "line 2: expected \"jti\" or \"sub\"");

    assert_null(parse("jti\n", err));
    assert_string_equal(err, "line 1: a value of 1 to 1024 bytes is "
                        "required");
    assert_null(parse("jti a 12\n", err));
    assert_null(parse("sub a 12x\n", err));
    assert_null(parse("sub a -1\n", err));
    assert_null(parse("sub a 99999999999999999999999\n", err));
    assert_null(parse("jti a\x01" "b\n", err));
    assert_null(parse("jtix a\n", err));
}


static void
test_check(void **state)
{
    char              err[256];
    fw_jwt_revoke_t  *rv;

    rv = parse("jti t-1\nsub alice 1000\nsub alice 900\nsub bob\n", err);
    assert_non_null(rv);

    assert_int_equal(check(rv, "t-1", "zed", 1, 5), 1);
    assert_int_equal(check(rv, "t-1x", "zed", 1, 5), 0);
    assert_int_equal(check(rv, "t-", NULL, 0, 0), 0);
    assert_int_equal(check(rv, NULL, NULL, 0, 0), 0);

    /* a jti value is not a subject and the other way round */
    assert_int_equal(check(rv, "alice", "t-1", 1, 5), 0);

    /* the later time of the two wins */
    assert_int_equal(check(rv, NULL, "alice", 1, 999), 1);
    assert_int_equal(check(rv, NULL, "alice", 1, 1000), 1);
    assert_int_equal(check(rv, NULL, "alice", 1, 1001), 0);
    assert_int_equal(check(rv, NULL, "alice", 0, 0), 1);
    assert_int_equal(check(rv, NULL, "alicex", 1, 1), 0);

    assert_int_equal(check(rv, NULL, "bob", 1, 2000000000L), 1);
    assert_int_equal(check(rv, "x", "bo", 1, 1), 0);

    fw_jwt_revoke_free(rv);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
