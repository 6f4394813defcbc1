/*
 * fhirwall JWT: the claims scanner against jansson (cmocka).  Run from the
 * repository root: reads modules/jwt/unit/scan-tokens.txt (every token
 * the t/ suite sends, modules/jwt/unit/gen-scan-tokens) and the JWT
 * fuzz corpora (fuzz/corpus/jwt_*), adds generated edge cases and byte
 * mutations of all of them, and asserts that fw_jwt_scan() accepts what
 * fw_jwt_json_segment() (the jansson path) accepts, with the same values;
 * that fw_jwt_decode() gives the verdict the jansson path gave; and that
 * fw_jwt_check_claims() decides the same on the scan as on the documents.
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_scan.h"


#define NEXTRA  9
#define NNAMES  (FW_JWT_SH_N + FW_JWT_SP_N + NEXTRA)


static const char *names[NNAMES];
static const char *const  extra[NEXTRA] = {
    "kty", "crv", "x", "y", "e", "n", "jkt", "x5t#S256", "a"
};
static size_t      ncompared, naccepted;


static void init_names(void);
static void same_value(const fw_jwt_scan_val_t *v, json_t *j);
static void same_members(const fw_jwt_scan_val_t *v, json_t *j);
static int diff_json(const u_char *d, size_t n);
static int old_decode(const u_char *tok, size_t len);
static void diff_token(const u_char *tok, size_t len);
static void diff_claims(const u_char *tok, size_t len);
static void diff_all(const u_char *d, size_t n);
static void diff_mutations(const u_char *d, size_t n, unsigned seed);
static void diff_segment(const char *b64, size_t len);
static void test_edge_cases(void **state);
static void test_depth(void **state);
static void test_duplicates(void **state);
static void test_suite_tokens(void **state);
static void test_fuzz_corpus(void **state);
static void test_str_eq(void **state);


static void
init_names(void)
{
    size_t  i;

    for (i = 0; i < FW_JWT_SH_N; i++) {
        names[i] = fw_jwt_scan_header_names[i];
    }

    for (i = 0; i < FW_JWT_SP_N; i++) {
        names[FW_JWT_SH_N + i] = fw_jwt_scan_payload_names[i];
    }

    /* members of jwk and cnf, and short names the edge cases use */
    for (i = 0; i < NEXTRA; i++) {
        names[FW_JWT_SH_N + FW_JWT_SP_N + i] = extra[i];
    }
}


/* fw_jwt_scan_members() of an object member (jwk, cnf) */

static void
same_members(const fw_jwt_scan_val_t *v, json_t *j)
{
    size_t             i;
    u_char            *strs;
    fw_jwt_scan_val_t  m[NNAMES];

    strs = malloc(v->raw_len + 1);
    assert_non_null(strs);
    assert_int_equal(fw_jwt_scan_members(v, names, NNAMES, m, strs), FW_OK);

    for (i = 0; i < NNAMES; i++) {
        same_value(&m[i], json_object_get(j, names[i]));
    }

    free(strs);
}


static void
same_value(const fw_jwt_scan_val_t *v, json_t *j)
{
    size_t             i, pos;
    double             d;
    json_t            *e;
    fw_jwt_scan_val_t  ev;

    if (j == NULL) {
        assert_int_equal(v->type, FW_JWT_SV_ABSENT);
        return;
    }

    switch (json_typeof(j)) {

    case JSON_STRING:
        assert_int_equal(v->type, FW_JWT_SV_STRING);
        assert_int_equal(v->len, json_string_length(j));
        assert_memory_equal(v->str, json_string_value(j), v->len);
        assert_true(fw_jwt_scan_str_eq(v->raw, v->raw_len,
                                       (u_char *) json_string_value(j),
                                       json_string_length(j)));
        break;

    case JSON_INTEGER:
    case JSON_REAL:
        assert_int_equal(v->type, json_is_integer(j) ? FW_JWT_SV_INTEGER
                                                     : FW_JWT_SV_REAL);
        d = json_number_value(j);
        /* bit for bit: -0.0 is not 0 */
        assert_memory_equal(&v->number, &d, sizeof(double));
        break;

    case JSON_TRUE:
        assert_int_equal(v->type, FW_JWT_SV_TRUE);
        break;

    case JSON_FALSE:
        assert_int_equal(v->type, FW_JWT_SV_FALSE);
        break;

    case JSON_NULL:
        assert_int_equal(v->type, FW_JWT_SV_NULL);
        break;

    case JSON_OBJECT:
        assert_int_equal(v->type, FW_JWT_SV_OBJECT);
        same_members(v, j);
        break;

    case JSON_ARRAY:
        assert_int_equal(v->type, FW_JWT_SV_ARRAY);

        /* the elements, as fw_jwt_check_claims() walks aud */
        pos = 0;

        json_array_foreach(j, i, e) {
            assert_true(fw_jwt_scan_next(v, &pos, &ev));

            if (json_is_string(e)) {
                assert_int_equal(ev.type, FW_JWT_SV_STRING);
                assert_true(fw_jwt_scan_str_eq(ev.raw, ev.raw_len,
                                               (u_char *) json_string_value(e),
                                               json_string_length(e)));
            } else {
                assert_int_not_equal(ev.type, FW_JWT_SV_STRING);
            }
        }

        assert_false(fw_jwt_scan_next(v, &pos, &ev));
        break;
    }
}


/* the two paths over decoded JSON text: 1 when accepted */

static int
diff_json(const u_char *d, size_t n)
{
    int                rc;
    void              *keys;
    size_t             i;
    json_t            *j;
    u_char            *strs, *copy;
    fw_jwt_scan_val_t  vals[NNAMES];

    /* copies of exactly n bytes: ASan sees any read past the end */
    copy = malloc(n ? n : 1);
    strs = malloc(n + 1);
    keys = malloc(fw_jwt_scan_keys_size(n));
    assert_non_null(copy);
    assert_non_null(strs);
    assert_non_null(keys);
    memcpy(copy, d, n);

    j = fw_jwt_json_segment(copy, n);
    rc = fw_jwt_scan(copy, n, names, NNAMES, vals, strs, keys,
                     fw_jwt_scan_keys_size(n));

    if ((j != NULL) != (rc == FW_OK)) {
        print_error("verdicts differ (jansson %s, scanner %s) on %zu bytes: "
                    "%.*s\n", j ? "accepts" : "refuses",
                    rc == FW_OK ? "accepts" : "refuses", n,
                    (int) (n > 300 ? 300 : n), (const char *) d);
        fail();
    }

    ncompared++;

    if (j != NULL) {
        naccepted++;

        for (i = 0; i < NNAMES; i++) {
            same_value(&vals[i], json_object_get(j, names[i]));
        }

        json_decref(j);
    }

    free(keys);
    free(strs);
    free(copy);

    return rc == FW_OK;
}


/* fw_jwt_decode() as it was: jansson, then the header checks */

static int
old_decode(const u_char *tok, size_t len)
{
    int            rc, alg;
    u_char        *buf;
    size_t         i, dots[2], nd, n;
    json_t        *h, *p, *v;

    if (len == 0) {
        return FW_JWT_MALFORMED;
    }

    if (len > FW_JWT_DEFAULT_MAX) {
        return FW_JWT_TOO_LARGE;
    }

    nd = 0;

    for (i = 0; i < len; i++) {
        if (tok[i] == '.') {
            if (nd == 2) {
                return FW_JWT_MALFORMED;
            }

            dots[nd++] = i;
        }
    }

    if (nd != 2 || dots[0] == 0 || dots[1] == dots[0] + 1
        || dots[1] + 1 == len)
    {
        return FW_JWT_MALFORMED;
    }

    buf = malloc(fw_base64_decoded_len(len));
    assert_non_null(buf);

    h = NULL;
    p = NULL;
    rc = FW_JWT_MALFORMED;

    if (fw_base64url_decode(tok, dots[0], buf, &n) != FW_OK
        || (h = fw_jwt_json_segment(buf, n)) == NULL)
    {
        goto done;
    }

    if (fw_base64url_decode(tok + dots[0] + 1, dots[1] - dots[0] - 1, buf,
                            &n)
        != FW_OK || (p = fw_jwt_json_segment(buf, n)) == NULL)
    {
        goto done;
    }

    if (fw_base64url_decode(tok + dots[1] + 1, len - dots[1] - 1, buf, &n)
        != FW_OK || n == 0)
    {
        goto done;
    }

    v = json_object_get(h, "alg");

    if (!json_is_string(v)) {
        goto done;
    }

    alg = fw_jwt_alg_from_name((u_char *) json_string_value(v),
                               json_string_length(v));

    if (alg < 0) {
        rc = FW_JWT_BAD_ALG;
        goto done;
    }

    if (json_object_get(h, "crit") || json_object_get(h, "enc")
        || json_object_get(h, "zip") || json_object_get(h, "b64"))
    {
        goto done;
    }

    v = json_object_get(h, "kid");

    if (v != NULL && !json_is_string(v)) {
        goto done;
    }

    v = json_object_get(h, "typ");

    if (v != NULL && !json_is_string(v)) {
        goto done;
    }

    rc = FW_JWT_VALID;

done:

    json_decref(h);
    json_decref(p);
    free(buf);

    return rc;
}


static void
diff_token(const u_char *tok, size_t len)
{
    int             rc, old;
    fw_jwt_token_t  t;

    old = old_decode(tok, len);
    rc = fw_jwt_decode(&t, tok, len, FW_JWT_DEFAULT_MAX);

    if (rc != old) {
        print_error("decode: %s, was %s: %.*s\n", fw_jwt_status_name(rc),
                    fw_jwt_status_name(old), (int) (len > 300 ? 300 : len),
                    (const char *) tok);
        fail();
    }

    if (rc == FW_JWT_VALID) {
        fw_jwt_token_free(&t);
        diff_claims(tok, len);
    }
}


/* fw_jwt_check_claims() on the scan and on the same documents given */

static void
diff_claims(const u_char *tok, size_t len)
{
    size_t                i, k;
    time_t                e1, e2;
    fw_jwt_str_t          vals[3];
    fw_jwt_token_t        t, g;
    fw_jwt_claims_conf_t  cc;
    static const time_t   nows[] = { 0, 1000, 1700000000, 4000000000LL };

    assert_int_equal(fw_jwt_decode(&t, tok, len, FW_JWT_DEFAULT_MAX),
                     FW_JWT_VALID);
    assert_int_equal(fw_jwt_decode(&g, tok, len, FW_JWT_DEFAULT_MAX),
                     FW_JWT_VALID);

    /* "g" reads the jansson documents, as a token given them does */
    g.header = json_incref(fw_jwt_token_header(&g));
    g.payload = json_incref(fw_jwt_token_payload(&g));
    assert_non_null(g.header);
    assert_non_null(g.payload);

    vals[0].data = (u_char *) "https://idp";
    vals[0].len = 11;
    vals[1].data = (u_char *) "api";
    vals[1].len = 3;
    vals[2].data = (u_char *) "fhir";
    vals[2].len = 4;

    for (i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
        for (k = 0; k < 8; k++) {
            memset(&cc, 0, sizeof(cc));
            cc.now = nows[i];
            cc.leeway = (k & 1) ? 60 : 0;
            cc.require_exp = (k & 2) ? 1 : 0;
            cc.max_lifetime = (k & 4) ? 3600 : 0;
            cc.typ = (int) ((i + k) % 4);
            cc.issuers = vals;
            cc.nissuers = (k & 1) ? 1 : 0;
            cc.audiences = vals + (k & 1);
            cc.naudiences = (k & 2) ? 2 : 0;

            assert_int_equal(fw_jwt_check_claims(&cc, &t),
                             fw_jwt_check_claims(&cc, &g));
        }

        e1 = fw_jwt_cache_expiry(&t, nows[i], 300);
        e2 = fw_jwt_cache_expiry(&g, nows[i], 300);
        assert_int_equal(e1, e2);
    }

    fw_jwt_token_free(&t);
    fw_jwt_token_free(&g);
}


/* a decoded segment through both paths, and as a token's payload */

static void
diff_all(const u_char *d, size_t n)
{
    char    *tok, *p;
    size_t   hl;
    static const char  hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

    (void) diff_json(d, n);

    if (n > 12000) {
        return;
    }

    tok = malloc(2 * fw_base64url_encoded_len(n) + 64);
    assert_non_null(tok);

    /* as the payload */
    hl = fw_base64url_encode((u_char *) hdr, sizeof(hdr) - 1, (u_char *) tok);
    p = tok + hl;
    *p++ = '.';
    p += fw_base64url_encode(d, n, (u_char *) p);
    memcpy(p, ".c2ln", 5);
    p += 5;

    diff_token((u_char *) tok, p - tok);

    /* as the header, with a payload the claims accept */
    p = tok + fw_base64url_encode(d, n, (u_char *) tok);
    memcpy(p, ".e30.c2ln", 9);
    p += 9;

    diff_token((u_char *) tok, p - tok);

    free(tok);
}


static void
diff_mutations(const u_char *d, size_t n, unsigned seed)
{
    u_char    *m;
    size_t     i, k, at;
    unsigned   r;
    static const u_char  bytes[] = {
        '"', '\\', '{', '}', '[', ']', ',', ':', '0', '1', '-', '+', 'e',
        '.', 'u', 'n', 't', ' ', '\t', 0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc0,
        0xc3, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff
    };

    if (n == 0) {
        return;
    }

    m = malloc(n + 1);
    assert_non_null(m);
    r = seed * 2654435761u + 1;

    for (k = 0; k < 24; k++) {
        memcpy(m, d, n);

        for (i = 0; i <= k % 3; i++) {
            r = r * 1103515245u + 12345u;
            at = (r >> 8) % n;
            r = r * 1103515245u + 12345u;
            m[at] = bytes[(r >> 8) % sizeof(bytes)];
        }

        (void) diff_json(m, n);

        /* cut short, or one byte more */
        (void) diff_json(m, (r >> 4) % n);
        m[n] = bytes[(r >> 12) % sizeof(bytes)];
        (void) diff_json(m, n + 1);
    }

    free(m);
}


static void
diff_segment(const char *b64, size_t len)
{
    u_char  *d;
    size_t   n;

    d = malloc(fw_base64_decoded_len(len) + 1);
    assert_non_null(d);

    if (fw_base64url_decode((u_char *) b64, len, d, &n) == FW_OK) {
        diff_all(d, n);
        diff_mutations(d, n, (unsigned) len);
    }

    free(d);
}


static const char  *edge[] = {
    "{}", " {} ", "\t\r\n{}\n", "{} x", "{}{}", "[]", "\"s\"", "1", "",
    " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\" 1}",
    "{\"a\":1 \"b\":2}", "{'a':1}", "{a:1}", "\xef\xbb\xbf{}",
    "{\"alg\":\"HS256\"}", "{\"alg\":\"HS\\u0032\\u00356\"}",
    "{\"a\":\"\\u0000\"}", "{\"\\u0000\":1}", "{\"a\":\"x\\u0000y\"}",
    "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\\ud83d\"}",
    "{\"a\":\"\\ude00\"}", "{\"a\":\"\\ud83d\\u0041\"}",
    "{\"a\":\"\\ud83dx\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}",
    "{\"a\":\"\\x41\"}", "{\"a\":\"\\'\"}", "{\"a\":\"\\/\\b\\f\\n\\r\\t\"}",
    "{\"a\":\"\\\"\\\\\"}", "{\"a\":\"\t\"}", "{\"a\":\"\x1f\"}",
    "{\"a\":\"\x7f\"}", "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc3\"}",
    "{\"a\":\"\xc0\x80\"}", "{\"a\":\"\xc1\xbf\"}", "{\"a\":\"\xe0\x80\xaf\"}",
    "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
    "{\"a\":\"\xf0\x9f\x98\x80\"}", "{\"a\":\"\xf5\x80\x80\x80\"}",
    "{\"a\":\"\x80\"}", "{\"a\":\"\xff\"}", "{\"\xc3\xa9\":1}",
    "{\"a\":1}\xc3\xa9", "{\"a\":0}", "{\"a\":-0}", "{\"a\":-0.0}",
    "{\"a\":0.0}", "{\"a\":01}", "{\"a\":-01}", "{\"a\":00}", "{\"a\":1.}",
    "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":1E5}",
    "{\"a\":1e-5}", "{\"a\":1e400}", "{\"a\":-1e400}", "{\"a\":1e-400}",
    "{\"a\":1.7976931348623157e308}", "{\"a\":1.7976931348623159e308}",
    "{\"a\":9223372036854775807}", "{\"a\":9223372036854775808}",
    "{\"a\":-9223372036854775808}", "{\"a\":-9223372036854775809}",
    "{\"a\":99999999999999999999}", "{\"a\":123456789012345678}",
    "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}", "{\"a\":nan}",
    "{\"a\":0x10}", "{\"a\":1.5.3}", "{\"a\":--1}", "{\"a\":-}",
    "{\"a\":true}", "{\"a\":false}", "{\"a\":null}", "{\"a\":tru}",
    "{\"a\":truex}", "{\"a\":True}", "{\"a\":nul}", "{\"a\":nulll}",
    "{\"a\":[]}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1 2]}",
    "{\"a\":{}}", "{\"a\":[\"x\",1,{\"b\":[null]}]}",
    "{\"exp\":1700000000,\"nbf\":1,\"iat\":1.5,\"iss\":\"https://idp\","
    "\"aud\":[\"x\",2,\"api\"],\"sub\":\"\\u00e9\",\"jti\":\"j\","
    "\"scope\":\"a b\",\"scp\":[\"a\"],\"cnf\":{\"jkt\":\"k\"}}",
    "{\"exp\":\"1700000000\"}", "{\"exp\":-1}", "{\"exp\":1e13}",
    "{\"exp\":1.0000001e13}", "{\"exp\":null}", "{\"exp\":[1]}",
    "{\"aud\":\"api\"}", "{\"aud\":\"\\u0061pi\"}",
    "{\"aud\":[\"\\u0061pi\"]}",
    "{\"aud\":[[\"api\"],\"fhir\"]}", "{\"aud\":[1.5e3,\"fhir\"]}",
    "{\"aud\":[]}", "{\"aud\":{}}", "{\"iss\":\"https:\\/\\/idp\"}",
    "{\"iss\":\"https://idp\\u0000\"}", "{\"typ\":\"at+jwt\"}",
    "{\"typ\":\"application/AT+JWT\"}", "{\"typ\":1}", "{\"kid\":null}",
    "{\"crit\":null}", "{\"enc\":false}", "{\"zip\":[]}", "{\"b64\":{}}",
    "{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}",
    "{\"a\":1,\"b\":{\"a\":2}}",
    "{\"a\":{\"b\":1,\"b\":1}}", "{\"a\":[{\"b\":1,\"b\":1}]}",
    "{\"\":1,\"\":2}", "{\"\":1}", "{\"a\" : 1 , \"b\" :\n2 }",
    "{\"a\":1}\x00", "{\"a\":\"\x00\"}", "{\"a\":1}   \n",
    "\n\n{\"a\":1}", "\x0b{}", "\x0c{}", "{\"a\":\"\xe2\x80\xa8\"}",
};


static void
test_edge_cases(void **state)
{
    size_t  i;

    init_names();

    for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        diff_all((u_char *) edge[i], strlen(edge[i]));
        diff_mutations((u_char *) edge[i], strlen(edge[i]), (unsigned) i);
    }

    /* those with a NUL: strlen() stops at it */
    diff_all((u_char *) "{\"a\":1}\0", 8);
    diff_all((u_char *) "{\"a\":\"\0\"}", 9);
    diff_all((u_char *) "{\0}", 3);

    /* a few verdicts stated, not only compared */
    assert_true(diff_json((u_char *) "{\"a\":-0}", 8));
    assert_false(diff_json((u_char *) "{\"a\":1e400}", 11));
    assert_false(diff_json((u_char *) "{\"a\":\"\\u0000\"}", 14));
    assert_false(diff_json((u_char *) "\xef\xbb\xbf{}", 5));
    assert_false(diff_json((u_char *) "{\"a\":1,\"\\u0061\":2}", 18));
    assert_false(diff_json((u_char *) "{\"a\":NaN}", 9));
    assert_false(diff_json((u_char *) "{} x", 4));
}


static void
test_depth(void **state)
{
    char    buf[256];
    size_t  d, n, i;
    int     arr;

    init_names();

    /* the top object is depth 1: a value at 16 passes, at 17 it does not */

    for (arr = 0; arr < 3; arr++) {
        for (d = 1; d <= 20; d++) {
            n = 0;
            buf[n++] = '{';

            for (i = 1; i < d; i++) {
                if (arr == 1 || (arr == 2 && i % 2)) {
                    memcpy(buf + n, "\"a\":[", 5);
                    n += 5;
                    /* arrays after: elements */
                    continue;
                }

                memcpy(buf + n, "\"a\":{", 5);
                n += 5;
            }

            /* d containers open; a scalar inside: depth d + 1 */
            memcpy(buf + n, "\"z\":1", 5);
            n += 5;

            for (i = d - 1; i >= 1; i--) {
                buf[n++] = (arr == 1 || (arr == 2 && i % 2)) ? ']' : '}';
            }

            buf[n++] = '}';

            (void) diff_json((u_char *) buf, n);
        }
    }

    /* objects only: a scalar at depth 16 passes, 17 fails */
    n = 0;

    for (i = 0; i < 15; i++) {
        memcpy(buf + n, "{\"a\":", 5);
        n += 5;
    }

    memcpy(buf + n, "1", 1);
    n += 1;

    for (i = 0; i < 15; i++) {
        buf[n++] = '}';
    }

    assert_true(diff_json((u_char *) buf, n));

    memmove(buf + 5, buf, n);
    memcpy(buf, "{\"a\":", 5);
    buf[n + 5] = '}';
    assert_false(diff_json((u_char *) buf, n + 6));

    /* an empty object at 16 passes, at 17 fails; so does [] */
    n = 0;

    for (i = 0; i < 15; i++) {
        memcpy(buf + n, "{\"a\":", 5);
        n += 5;
    }

    memcpy(buf + n, "[]", 2);
    n += 2;

    for (i = 0; i < 15; i++) {
        buf[n++] = '}';
    }

    assert_true(diff_json((u_char *) buf, n));

    memmove(buf + 5, buf, n);
    memcpy(buf, "{\"a\":", 5);
    buf[n + 5] = '}';
    assert_false(diff_json((u_char *) buf, n + 6));

    /* far deeper than jansson's own limit is refused too, no recursion */
    {
        char  *deep;

        deep = malloc(20001);
        assert_non_null(deep);
        deep[0] = '{';
        memcpy(deep + 1, "\"a\":", 4);

        for (i = 5; i < 20000; i++) {
            deep[i] = '[';
        }

        assert_false(diff_json((u_char *) deep, 20000));
        free(deep);
    }
}


static void
test_duplicates(void **state)
{
    char    buf[16384];
    size_t  n, k, i, dup;

    init_names();

    /* objects of 1..40 keys, a duplicate at every place, at 3 depths */

    for (k = 1; k <= 40; k++) {
        for (dup = 0; dup <= k; dup++) {
            for (i = 0; i < 3; i++) {
                n = (size_t) snprintf(buf, sizeof(buf), "%s",
                                      i == 0 ? "" : (i == 1 ? "{\"x\":"
                                                     : "{\"x\":[1,{\"y\":"));
                buf[n++] = '{';

                for (size_t j = 0; j < k; j++) {
                    n += (size_t) snprintf(buf + n, sizeof(buf) - n,
                                           "%s\"k%zu\":%zu",
                                           j ? "," : "",
                                           k % 7 ? j * 7 % k : j, j);
                }

                if (dup < k) {
                    /* the same key again, escaped half of the time */
                    n += (size_t) snprintf(buf + n, sizeof(buf) - n,
                                           dup % 2 ? ",\"\\u006b%zu\":0"
                                                   : ",\"k%zu\":0",
                                           k % 7 ? dup * 7 % k : dup);
                } else {
                    n += (size_t) snprintf(buf + n, sizeof(buf) - n,
                                           ",\"k%zu \":0", (size_t) 0);
                }

                buf[n++] = '}';
                n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s",
                                       i == 0 ? "" : (i == 1 ? "}" : "}]}"));

                assert_int_equal(diff_json((u_char *) buf, n), dup == k);
            }
        }
    }

    /* many keys: a thousand, the last a duplicate of the first */
    n = 0;
    buf[n++] = '{';

    for (i = 0; i < 1000; i++) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s\"%zu\":1",
                               i ? "," : "", i);
    }

    buf[n++] = '}';
    assert_true(diff_json((u_char *) buf, n));

    /* in a token: a key stack too large for fw_jwt_decode()'s stack */
    assert_true(fw_jwt_scan_keys_size(n) > 8192);
    diff_all((u_char *) buf, n);

    n--;
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, ",\"0\":2}");
    assert_false(diff_json((u_char *) buf, n));
    diff_all((u_char *) buf, n);
}


static void
test_suite_tokens(void **state)
{
    char    line[20000];
    FILE   *f;
    size_t  n, count;

    init_names();

    f = fopen("modules/jwt/unit/scan-tokens.txt", "r");
    assert_non_null(f);

    count = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        n = strlen(line);

        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            n--;
        }

        if (n == 0 || line[0] == '#') {
            continue;
        }

        diff_segment(line, n);
        count++;
    }

    fclose(f);

    /* the file holds the t/ suite's tokens: hundreds of segments */
    assert_true(count >= 100);
}


static void
test_fuzz_corpus(void **state)
{
    u_char         *p, *d;
    size_t          n, dn, i, start, seg, count, k;
    FILE           *f;
    char            path[1024];
    DIR            *dir;
    struct dirent  *e;
    static const char  *dirs[] = {
        "fuzz/corpus/jwt_token", "fuzz/corpus/jwt_dpop",
        "fuzz/corpus/jwt_introspect", "fuzz/corpus/jwt_scan"
    };

    init_names();
    count = 0;

    for (k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
        dir = opendir(dirs[k]);
        if (dir == NULL) {
            continue;
        }

        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }

            snprintf(path, sizeof(path), "%s/%s", dirs[k], e->d_name);
            f = fopen(path, "rb");
            if (f == NULL) {
                continue;
            }

            p = malloc(65536);
            assert_non_null(p);
            n = fread(p, 1, 65536, f);
            fclose(f);

            /* the bytes as JSON, then each segment as base64url */
            diff_json(p, n);
            diff_token(p, n);

            for (i = 0, start = 0, seg = 0; i <= n && seg < 2; i++) {
                if (i < n && p[i] != '.') {
                    continue;
                }

                d = malloc(fw_base64_decoded_len(i - start) + 1);
                assert_non_null(d);

                if (fw_base64url_decode(p + start, i - start, d, &dn)
                    == FW_OK)
                {
                    diff_all(d, dn);
                    diff_mutations(d, dn, (unsigned) count);
                }

                free(d);
                start = i + 1;
                seg++;
            }

            free(p);
            count++;
        }

        closedir(dir);
    }

    assert_true(count >= 100);
}


static void
test_str_eq(void **state)
{
    assert_true(fw_jwt_scan_str_eq((u_char *) "abc", 3, (u_char *) "abc",
                                   3));
    assert_false(fw_jwt_scan_str_eq((u_char *) "abc", 3, (u_char *) "abd",
                                    3));
    assert_true(fw_jwt_scan_str_eq((u_char *) "a\\u0062c", 8,
                                   (u_char *) "abc", 3));
    assert_false(fw_jwt_scan_str_eq((u_char *) "a\\u0062c", 8,
                                    (u_char *) "ab", 2));
    assert_false(fw_jwt_scan_str_eq((u_char *) "a\\u0062", 7,
                                    (u_char *) "abc", 3));
    assert_true(fw_jwt_scan_str_eq((u_char *) "\\ud83d\\ude00", 12,
                                   (u_char *) "\xf0\x9f\x98\x80", 4));
    assert_true(fw_jwt_scan_str_eq((u_char *) "\\/\\n", 4,
                                   (u_char *) "/\n", 2));
}


int
main(void)
{
    int  rc;
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_str_eq),
        cmocka_unit_test(test_suite_tokens),
        cmocka_unit_test(test_fuzz_corpus),
    };

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    printf("scan: %zu texts compared, %zu accepted by both\n", ncompared,
           naccepted);

    return rc;
}
