/*
 * Unit tests for common/fw_error.c.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include <jansson.h>

#include "fw_error.h"


static void test_escape(void **state);
static void test_outcome(void **state);
static void test_problem(void **state);
static void test_sizes(void **state);


static char *
body(int format, unsigned status, const char *code, const char *diag)
{
    char    *buf;
    size_t   need, n;

    need = fw_error_body(NULL, 0, format, status, code,
                         (const u_char *) diag, diag ? strlen(diag) : 0);
    buf = malloc(need + 1);
    assert_non_null(buf);

    n = fw_error_body((u_char *) buf, need, format, status, code,
                      (const u_char *) diag, diag ? strlen(diag) : 0);
    assert_int_equal(n, need);
    buf[n] = '\0';

    return buf;
}


static void
test_escape(void **state)
{
    size_t  n;
    u_char  out[64];

    (void) state;

    n = fw_json_escape(out, (const u_char *) "a\"b\\c\n<>&\x01\x7f", 11);
    assert_int_equal(n, fw_json_escape(NULL,
                     (const u_char *) "a\"b\\c\n<>&\x01\x7f", 11));
    assert_memory_equal(out, "a\\\"b\\\\c\\u000a\\u003c\\u003e\\u0026"
                        "\\u0001\\u007f", n);

    /* well-formed UTF-8 stays as it is: é, €, U+1F600 */
    n = fw_json_escape(out, (const u_char *) "\xc3\xa9\xe2\x82\xac"
                       "\xf0\x9f\x98\x80", 9);
    assert_int_equal(n, 9);
    assert_memory_equal(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);

    /* stray bytes, overlong forms, surrogates, truncated sequences and
       code points above U+10FFFF are escaped byte by byte */
    n = fw_json_escape(out, (const u_char *) "\xc0\xaf", 2);
    assert_memory_equal(out, "\\u00c0\\u00af", n);
    n = fw_json_escape(out, (const u_char *) "\xed\xa0\x80", 3);
    assert_memory_equal(out, "\\u00ed\\u00a0\\u0080", n);
    n = fw_json_escape(out, (const u_char *) "\xe2\x82", 2);
    assert_memory_equal(out, "\\u00e2\\u0082", n);
    n = fw_json_escape(out, (const u_char *) "\xf4\x90\x80\x80", 4);
    assert_int_equal(n, 24);
    n = fw_json_escape(out, (const u_char *) "\xe0\x80\x80", 3);
    assert_int_equal(n, 18);
}


static void
test_outcome(void **state)
{
    char          *s;
    json_t        *j, *issue;
    json_error_t   err;

    (void) state;

    s = body(FW_FORMAT_FHIR, 403, "forbidden",
             "scope \"patient/Observation.rs\" </script>");
    j = json_loads(s, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j,
                        "resourceType")), "OperationOutcome");
    issue = json_array_get(json_object_get(j, "issue"), 0);
    assert_non_null(issue);
    assert_string_equal(json_string_value(json_object_get(issue,
                        "severity")), "error");
    assert_string_equal(json_string_value(json_object_get(issue, "code")),
                        "forbidden");
    assert_string_equal(json_string_value(json_object_get(issue,
                        "diagnostics")),
                        "scope \"patient/Observation.rs\" </script>");
    assert_null(strstr(s, "</script>"));
    json_decref(j);
    free(s);

    s = body(FW_FORMAT_FHIR, 503, "transient", NULL);
    j = json_loads(s, 0, &err);
    assert_non_null(j);
    issue = json_array_get(json_object_get(j, "issue"), 0);
    assert_string_equal(json_string_value(json_object_get(issue,
                        "severity")), "fatal");
    json_decref(j);
    free(s);
}


static void
test_problem(void **state)
{
    char          *s;
    json_t        *j;
    json_error_t   err;

    (void) state;

    s = body(FW_FORMAT_PROBLEM, 429, "throttled", "slow down");
    j = json_loads(s, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "title")),
                        "Too Many Requests");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 429);
    assert_string_equal(json_string_value(json_object_get(j, "detail")),
                        "slow down");
    assert_string_equal(json_string_value(json_object_get(j, "code")),
                        "throttled");
    json_decref(j);
    free(s);

    s = body(FW_FORMAT_TEXT, 401, "login", "no token");
    assert_string_equal(s, "401 Unauthorized: no token\n");
    free(s);

    assert_string_equal(fw_format_content_type(FW_FORMAT_FHIR),
                        "application/fhir+json");
    assert_string_equal(fw_format_content_type(FW_FORMAT_PROBLEM),
                        "application/problem+json");
}


static void
test_sizes(void **state)
{
    char    diag[2000];
    size_t  need;
    u_char  small[16];

    (void) state;

    memset(diag, '"', sizeof(diag));

    /* the diagnostics text is cut at FW_ERROR_DIAG_MAX before escaping */
    need = fw_error_body(NULL, 0, FW_FORMAT_PROBLEM, 400, "invalid",
                         (const u_char *) diag, sizeof(diag));
    assert_true(need < 2 * FW_ERROR_DIAG_MAX + 200);

    /* a buffer too small is left alone */
    assert_int_equal(fw_error_body(small, sizeof(small), FW_FORMAT_PROBLEM,
                     400, "invalid", (const u_char *) "x", 1), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_outcome),
        cmocka_unit_test(test_problem),
        cmocka_unit_test(test_sizes),
    };

    return cmocka_run_group_tests_name("common/error", tests, NULL, NULL);
}
