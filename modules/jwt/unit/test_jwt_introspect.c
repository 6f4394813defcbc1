/*
 * fhirwall JWT introspection core (RFC 7662): unit tests (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_introspect.h"


#define NOW  1700000000


static int parse(const char *s, json_t **j);
static size_t jws(char *out, const char *payload);
static void test_is_jws(void **state);
static void test_body(void **state);
static void test_active(void **state);
static void test_inactive(void **state);
static void test_garbage(void **state);
static void test_types(void **state);
static void test_depth(void **state);
static void test_expiry(void **state);
static void test_issuer(void **state);


/* header.payload.sig with the payload's JSON base64url-encoded */
static size_t
jws(char *out, const char *payload)
{
    size_t  n;

    n = (size_t) sprintf(out, "eyJhbGciOiJSUzI1NiJ9.");
    n += fw_base64url_encode((const u_char *) payload, strlen(payload),
                             (u_char *) out + n);
    n += (size_t) sprintf(out + n, ".c2ln");

    return n;
}


static void
test_issuer(void **state)
{
    char          buf[512];
    size_t        n;
    fw_jwt_str_t  iss[2];

    (void) state;

    iss[0].data = (const u_char *) "https://as.example";
    iss[0].len = strlen("https://as.example");
    iss[1].data = (const u_char *) "https://other.example";
    iss[1].len = strlen("https://other.example");

    n = jws(buf, "{\"iss\":\"https://other.example\",\"sub\":\"a\"}");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 1);
    /* none listed, or the list empty */
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 1,
                                              4096), 0);
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 0,
                                              4096), 0);
    /* over the limit: not decoded */
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              8), 0);

    /* exact: a prefix, a longer value, another case are other issuers */
    n = jws(buf, "{\"iss\":\"https://as.example/\"}");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 0);
    n = jws(buf, "{\"iss\":\"https://as.exampl\"}");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 0);
    n = jws(buf, "{\"iss\":\"HTTPS://as.example\"}");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 0);
    n = jws(buf, "{\"iss\":\"https://as.example\"}");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 1);

    /* iss not a string, absent, duplicated; not an object; not JSON */
    n = jws(buf, "{\"iss\":[\"https://as.example\"]}");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 0);
    n = jws(buf, "{\"sub\":\"https://as.example\"}");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 0);
    n = jws(buf, "{\"iss\":\"https://as.example\","
                 "\"iss\":\"https://as.example\"}");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 0);
    n = jws(buf, "[\"https://as.example\"]");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 0);
    n = jws(buf, "iss https://as.example");
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) buf, n, iss, 2,
                                              4096), 0);

    /* not a JWS; a payload that is not base64url */
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) "opaque", 6, iss, 2,
                                              4096), 0);
    assert_int_equal(fw_jwt_introspect_issuer((u_char *) "a.b_c.d", 7, iss,
                                              2, 4096), 0);
}


static int
parse(const char *s, json_t **j)
{
    return fw_jwt_introspect_parse((const u_char *) s, strlen(s), j);
}


static void
test_is_jws(void **state)
{
    (void) state;

    assert_int_equal(fw_jwt_is_jws((const u_char *) "a.b.c", 5), 1);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "eyJ-_.x_y.Z09", 13), 1);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "opaque", 6), 0);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "a.b", 3), 0);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "a.b.c.d", 7), 0);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "a.b.", 4), 0);
    assert_int_equal(fw_jwt_is_jws((const u_char *) ".b.c", 4), 0);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "a..c", 4), 0);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "a.b+.c", 6), 0);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "a.b.c=", 6), 0);
    assert_int_equal(fw_jwt_is_jws((const u_char *) "", 0), 0);
}


static void
test_body(void **state)
{
    u_char       buf[256];
    size_t       n;
    const char  *tok = "ab+/= ~.-_%&";
    const char  *want = "token=ab%2B%2F%3D%20~.-_%25%26"
                        "&token_type_hint=access_token";

    (void) state;

    n = fw_jwt_introspect_body(buf, (const u_char *) tok, strlen(tok));
    assert_true(n <= fw_jwt_introspect_body_len(strlen(tok)));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);

    assert_int_equal(fw_jwt_form_encoded_len((const u_char *) "a:b", 3), 5);
}


static void
test_active(void **state)
{
    json_t  *j;

    (void) state;

    assert_int_equal(parse("{\"active\":true,\"sub\":\"alice\","
                           "\"scope\":\"a b\",\"exp\":1700000100,"
                           "\"aud\":[\"x\",\"api\"],\"iss\":\"https://as\","
                           "\"client_id\":\"app\",\"cnf\":{\"jkt\":\"x\"}}",
                           &j),
                     FW_JWT_VALID);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "sub")),
                        "alice");
    json_decref(j);

    /* the minimal answer */
    assert_int_equal(parse("{\"active\":true}", &j), FW_JWT_VALID);
    json_decref(j);
}


static void
test_inactive(void **state)
{
    json_t  *j;

    (void) state;

    assert_int_equal(parse("{\"active\":false}", &j), FW_JWT_INACTIVE);
    assert_null(j);

    /* whatever else it says */
    assert_int_equal(parse("{\"active\":false,\"sub\":\"alice\","
                           "\"scope\":7}", &j), FW_JWT_INACTIVE);
    assert_null(j);
}


static void
test_garbage(void **state)
{
    json_t  *j;

    (void) state;

    assert_int_equal(parse("not json", &j), FW_JWT_INTROSPECTION_FAILED);
    assert_null(j);
    assert_int_equal(parse("", &j), FW_JWT_INTROSPECTION_FAILED);
    assert_int_equal(parse("[true]", &j), FW_JWT_INTROSPECTION_FAILED);
    assert_int_equal(parse("{}", &j), FW_JWT_INTROSPECTION_FAILED);
    assert_int_equal(parse("{\"active\":\"true\"}", &j),
                     FW_JWT_INTROSPECTION_FAILED);
    assert_int_equal(parse("{\"active\":1}", &j),
                     FW_JWT_INTROSPECTION_FAILED);
    assert_int_equal(parse("{\"active\":null}", &j),
                     FW_JWT_INTROSPECTION_FAILED);
    /* a duplicate "active": the second must not win */
    assert_int_equal(parse("{\"active\":false,\"active\":true}", &j),
                     FW_JWT_INTROSPECTION_FAILED);
    assert_null(j);
    assert_int_equal(parse("{\"active\":true} trailing", &j),
                     FW_JWT_INTROSPECTION_FAILED);
    assert_int_equal(fw_jwt_introspect_parse(NULL, 0, &j),
                     FW_JWT_INTROSPECTION_FAILED);
}


static void
test_types(void **state)
{
    json_t      *j;
    size_t       i;
    const char  *bad[] = {
        "{\"active\":true,\"scope\":[\"a\"]}",
        "{\"active\":true,\"sub\":1}",
        "{\"active\":true,\"iss\":{}}",
        "{\"active\":true,\"client_id\":false}",
        "{\"active\":true,\"exp\":\"1700000100\"}",
        "{\"active\":true,\"iat\":null}",
        "{\"active\":true,\"aud\":7}",
        "{\"active\":true,\"aud\":[\"a\",7]}",
        "{\"active\":true,\"cnf\":\"x\"}",
        NULL
    };

    (void) state;

    for (i = 0; bad[i]; i++) {
        assert_int_equal(parse(bad[i], &j), FW_JWT_INTROSPECTION_FAILED);
        assert_null(j);
    }
}


static void
test_depth(void **state)
{
    int      i;
    char     buf[512];
    size_t   n;
    json_t  *j;

    (void) state;

    n = (size_t) snprintf(buf, sizeof(buf), "{\"active\":true,\"x\":");

    for (i = 0; i < 40; i++) {
        buf[n++] = '[';
    }

    for (i = 0; i < 40; i++) {
        buf[n++] = ']';
    }

    buf[n++] = '}';
    buf[n] = '\0';

    assert_int_equal(parse(buf, &j), FW_JWT_INTROSPECTION_FAILED);
    assert_null(j);
}


static void
test_expiry(void **state)
{
    json_t  *j;

    (void) state;

    /* exp first */
    assert_int_equal(parse("{\"active\":true,\"exp\":1700000100}", &j),
                     FW_JWT_VALID);
    assert_int_equal(fw_jwt_introspect_expiry(j, NOW, 300), NOW + 100);
    /* max_ttl first */
    assert_int_equal(fw_jwt_introspect_expiry(j, NOW, 60), NOW + 60);
    json_decref(j);

    /* no exp: max_ttl */
    assert_int_equal(parse("{\"active\":true}", &j), FW_JWT_VALID);
    assert_int_equal(fw_jwt_introspect_expiry(j, NOW, 300), NOW + 300);
    json_decref(j);

    /* past: not to be cached */
    assert_int_equal(parse("{\"active\":true,\"exp\":1600000000}", &j),
                     FW_JWT_VALID);
    assert_int_equal(fw_jwt_introspect_expiry(j, NOW, 300), NOW);
    json_decref(j);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_is_jws),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_active),
        cmocka_unit_test(test_inactive),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_issuer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
