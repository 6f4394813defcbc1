/*
 * Unit tests for common/fw_codec.c.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fw_codec.h"


static void test_base64url_roundtrip(void **state);
static void test_base64url_strict(void **state);
static void test_base64_std(void **state);
static void test_hex(void **state);
static void test_ct_equal(void **state);
static void test_parse_uint(void **state);


static int
b64url(const char *s, u_char *out, size_t *n)
{
    return fw_base64url_decode((const u_char *) s, strlen(s), out, n);
}


static int
b64(const char *s, u_char *out, size_t *n)
{
    return fw_base64_decode((const u_char *) s, strlen(s), out, n);
}


static void
test_base64url_roundtrip(void **state)
{
    size_t  i, len, n, m;
    u_char  in[64], enc[128], dec[128];

    (void) state;

    for (len = 0; len < sizeof(in); len++) {
        for (i = 0; i < len; i++) {
            in[i] = (u_char) (i * 37 + len * 11 + 0xf0);
        }

        n = fw_base64url_encode(in, len, enc);
        assert_int_equal(n, fw_base64url_encoded_len(len));
        assert_null(memchr(enc, '=', n));

        assert_int_equal(fw_base64url_decode(enc, n, dec, &m), FW_OK);
        assert_int_equal(m, len);
        assert_memory_equal(dec, in, len);
    }
}


static void
test_base64url_strict(void **state)
{
    size_t  n;
    u_char  out[64];

    (void) state;

    /* "hi" = aGk, "{}" = e30 */
    assert_int_equal(b64url("aGk", out, &n), FW_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);

    /* padding, standard alphabet, white space and junk are refused */
    assert_int_equal(b64url("aGk=", out, &n), FW_ERROR);
    assert_int_equal(b64url("a+k", out, &n), FW_ERROR);
    assert_int_equal(b64url("a/k", out, &n), FW_ERROR);
    assert_int_equal(b64url("aG k", out, &n), FW_ERROR);
    assert_int_equal(b64url("aGk.", out, &n), FW_ERROR);
    assert_int_equal(b64url("aGk\n", out, &n), FW_ERROR);

    /* a length of 1 mod 4 is never valid */
    assert_int_equal(b64url("a", out, &n), FW_ERROR);
    assert_int_equal(b64url("aGkaa", out, &n), FW_ERROR);

    /* non-zero unused bits: a second encoding of the same bytes */
    assert_int_equal(b64url("aGl", out, &n), FW_ERROR);
    assert_int_equal(b64url("aR", out, &n), FW_ERROR);
    assert_int_equal(b64url("aQ", out, &n), FW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'i');

    /* url-safe characters decode */
    assert_int_equal(b64url("-_-_", out, &n), FW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(out[2], 0xbf);

    assert_int_equal(b64url("", out, &n), FW_OK);
    assert_int_equal(n, 0);
}


static void
test_base64_std(void **state)
{
    size_t  n;
    u_char  out[64], enc[64];

    (void) state;

    assert_int_equal(b64("aGk=", out, &n), FW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(b64("aQ==", out, &n), FW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(b64("+/+/", out, &n), FW_OK);
    assert_int_equal(n, 3);

    /* padding is required, and only where it belongs */
    assert_int_equal(b64("aGk", out, &n), FW_ERROR);
    assert_int_equal(b64("aQ=", out, &n), FW_ERROR);
    assert_int_equal(b64("aQ===", out, &n), FW_ERROR);
    assert_int_equal(b64("a===", out, &n), FW_ERROR);
    assert_int_equal(b64("=aGk", out, &n), FW_ERROR);
    assert_int_equal(b64("aG=k", out, &n), FW_ERROR);
    assert_int_equal(b64("-_-_", out, &n), FW_ERROR);
    assert_int_equal(b64("aR==", out, &n), FW_ERROR);

    /* the Standard Webhooks test secret decodes to 24 bytes */
    assert_int_equal(b64("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", out, &n), FW_OK);
    assert_int_equal(n, 24);

    n = fw_base64_encode((const u_char *) "hi", 2, enc);
    assert_int_equal(n, 4);
    assert_memory_equal(enc, "aGk=", 4);
    n = fw_base64_encode((const u_char *) "i", 1, enc);
    assert_memory_equal(enc, "aQ==", 4);
}


static void
test_hex(void **state)
{
    size_t  n;
    u_char  out[16], enc[32];

    (void) state;

    assert_int_equal(fw_hex_decode((const u_char *) "00fFa9", 6, out, &n),
                     FW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(out[2], 0xa9);

    assert_int_equal(fw_hex_decode((const u_char *) "abc", 3, out, &n),
                     FW_ERROR);
    assert_int_equal(fw_hex_decode((const u_char *) "zz", 2, out, &n),
                     FW_ERROR);
    assert_int_equal(fw_hex_decode((const u_char *) "0g", 2, out, &n),
                     FW_ERROR);
    assert_int_equal(fw_hex_decode((const u_char *) "\xe6" "0", 2, out, &n),
                     FW_ERROR);

    n = fw_hex_encode((const u_char *) "\x01\xab\xff", 3, enc);
    assert_int_equal(n, 6);
    assert_memory_equal(enc, "01abff", 6);
}


static void
test_ct_equal(void **state)
{
    (void) state;

    assert_true(fw_ct_equal((const u_char *) "abc", 3,
                            (const u_char *) "abc", 3));
    assert_false(fw_ct_equal((const u_char *) "abc", 3,
                             (const u_char *) "abd", 3));
    assert_false(fw_ct_equal((const u_char *) "abc", 3,
                             (const u_char *) "abcd", 4));
    assert_false(fw_ct_equal((const u_char *) "", 0,
                             (const u_char *) "a", 1));
    assert_true(fw_ct_equal((const u_char *) "", 0,
                            (const u_char *) "", 0));
}


static void
test_parse_uint(void **state)
{
    unsigned long long  v;

    (void) state;

    assert_int_equal(fw_parse_uint((const u_char *) "1614265330", 10,
                                   UINT64_MAX, &v), FW_OK);
    assert_true(v == 1614265330ULL);

    assert_int_equal(fw_parse_uint((const u_char *) "0", 1, 10, &v), FW_OK);
    assert_true(v == 0);
    assert_int_equal(fw_parse_uint((const u_char *) "10", 2, 10, &v), FW_OK);
    assert_int_equal(fw_parse_uint((const u_char *) "11", 2, 10, &v),
                     FW_ERROR);
    assert_int_equal(fw_parse_uint((const u_char *) "", 0, 10, &v),
                     FW_ERROR);
    assert_int_equal(fw_parse_uint((const u_char *) "-1", 2, 10, &v),
                     FW_ERROR);
    assert_int_equal(fw_parse_uint((const u_char *) "+1", 2, 10, &v),
                     FW_ERROR);
    assert_int_equal(fw_parse_uint((const u_char *) " 1", 2, 10, &v),
                     FW_ERROR);
    assert_int_equal(fw_parse_uint((const u_char *) "1.5", 3, 10, &v),
                     FW_ERROR);
    assert_int_equal(fw_parse_uint((const u_char *) "18446744073709551615",
                                   20, UINT64_MAX, &v), FW_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(fw_parse_uint((const u_char *) "18446744073709551616",
                                   20, UINT64_MAX, &v), FW_ERROR);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_base64url_roundtrip),
        cmocka_unit_test(test_base64url_strict),
        cmocka_unit_test(test_base64_std),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_parse_uint),
    };

    return cmocka_run_group_tests_name("common/codec", tests, NULL, NULL);
}
