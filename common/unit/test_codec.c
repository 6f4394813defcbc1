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
static void test_base64_differential(void **state);
static int ref_b64_value(u_char c, int url);
static int ref_b64_decode(const u_char *in, size_t len, u_char *out,
    size_t *out_len, int url);
static int ref_b64_std_decode(const u_char *in, size_t len, u_char *out,
    size_t *out_len);
static void diff_one(const u_char *in, size_t len);
static uint32_t diff_rand(void);
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


/*
 * The byte-at-a-time decoder fw_codec.c had before the four-character
 * one (an alphabet search instead of its table): the reference that the
 * new one must agree with on every input, verdict and bytes.
 */

static int
ref_b64_value(u_char c, int url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == (url ? '-' : '+')) {
        return 62;
    }

    if (c == (url ? '_' : '/')) {
        return 63;
    }

    return -1;
}


static int
ref_b64_decode(const u_char *in, size_t len, u_char *out, size_t *out_len,
    int url)
{
    int            v;
    size_t         i, rem;
    u_char        *d;
    unsigned long  acc;

    rem = len % 4;

    if (rem == 1) {
        return FW_ERROR;
    }

    d = out;
    acc = 0;

    for (i = 0; i < len; i++) {
        v = ref_b64_value(in[i], url);

        if (v < 0) {
            return FW_ERROR;
        }

        acc = (acc << 6) | (unsigned long) v;

        if ((i & 3) == 3) {
            *d++ = (u_char) (acc >> 16);
            *d++ = (u_char) (acc >> 8);
            *d++ = (u_char) acc;
            acc = 0;
        }
    }

    if (rem == 2) {
        if (acc & 0x0f) {
            return FW_ERROR;
        }

        *d++ = (u_char) (acc >> 4);

    } else if (rem == 3) {
        if (acc & 0x03) {
            return FW_ERROR;
        }

        *d++ = (u_char) (acc >> 10);
        *d++ = (u_char) (acc >> 2);
    }

    *out_len = (size_t) (d - out);

    return FW_OK;
}


static int
ref_b64_std_decode(const u_char *in, size_t len, u_char *out,
    size_t *out_len)
{
    size_t  pad;

    if (len % 4) {
        return FW_ERROR;
    }

    pad = 0;

    if (len && in[len - 1] == '=') {
        pad++;

        if (in[len - 2] == '=') {
            pad++;
        }
    }

    return ref_b64_decode(in, len - pad, out, out_len, 0);
}


static uint32_t  diff_state = 2463534242u;
static size_t    diff_ok, diff_total;


static uint32_t
diff_rand(void)
{
    diff_state ^= diff_state << 13;
    diff_state ^= diff_state >> 17;
    diff_state ^= diff_state << 5;

    return diff_state;
}


/* both decoders, both alphabets: the same verdict, the same bytes */

static void
diff_one(const u_char *in, size_t len)
{
    int     rc, want;
    size_t  n, m;
    u_char  got[512], ref[512];

    assert_true(len <= 640);

    n = m = 12345;
    rc = fw_base64url_decode(in, len, got, &n);
    want = ref_b64_decode(in, len, ref, &m, 1);
    assert_int_equal(rc, want);

    if (rc == FW_OK) {
        assert_int_equal(n, m);
        assert_memory_equal(got, ref, n);
        diff_ok++;
    }

    n = m = 12345;
    rc = fw_base64_decode(in, len, got, &n);
    want = ref_b64_std_decode(in, len, ref, &m);
    assert_int_equal(rc, want);

    if (rc == FW_OK) {
        assert_int_equal(n, m);
        assert_memory_equal(got, ref, n);
        diff_ok++;
    }

    diff_total += 2;
}


static void
test_base64_differential(void **state)
{
    size_t          i, j, k, len, n;
    u_char          raw[470], enc[648], mut[648];
    static const u_char  specials[] = "=+/-_. \n\t\r\0\x80\xff@[`{:";

    (void) state;

    /* every string of up to 3 characters over all 256 bytes */
    for (i = 0; i < 256; i++) {
        mut[0] = (u_char) i;
        diff_one(mut, 1);

        for (j = 0; j < 256; j++) {
            mut[1] = (u_char) j;
            diff_one(mut, 2);

            for (k = 0; k < 256; k += 3) {
                mut[2] = (u_char) k;
                diff_one(mut, 3);
            }
        }
    }

    /* encodings of random bytes (both alphabets, padded and not), then
       each with mutations: a character replaced by any byte, a special
       one, cut short, grown, a padding moved */
    for (i = 0; i < 4000; i++) {
        len = diff_rand() % (i < 2000 ? 40 : sizeof(raw));

        for (j = 0; j < len; j++) {
            raw[j] = (u_char) diff_rand();
        }

        n = (i & 1) ? fw_base64url_encode(raw, len, enc)
                    : fw_base64_encode(raw, len, enc);

        diff_one(enc, n);

        for (k = 0; k < 12; k++) {
            memcpy(mut, enc, n);

            switch (diff_rand() % 6) {
            case 0:
                if (n) {
                    mut[diff_rand() % n] = (u_char) diff_rand();
                }
                diff_one(mut, n);
                break;
            case 1:
                if (n) {
                    mut[diff_rand() % n] =
                        specials[diff_rand() % (sizeof(specials) - 1)];
                }
                diff_one(mut, n);
                break;
            case 2:
                diff_one(mut, n ? diff_rand() % n : 0);
                break;
            case 3:
                mut[n] = specials[diff_rand() % (sizeof(specials) - 1)];
                diff_one(mut, n + 1);
                break;
            case 4:
                /* the last character: every value (trailing bits) */
                if (n) {
                    for (j = 0; j < 256; j++) {
                        mut[n - 1] = (u_char) j;
                        diff_one(mut, n);
                    }
                }
                break;
            default:
                if (n >= 2) {
                    mut[n - 2] = '=';
                }
                diff_one(mut, n);
                break;
            }
        }
    }

    /* both verdicts were exercised */
    assert_true(diff_ok > 10000);
    assert_true(diff_total - diff_ok > 10000);
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
        cmocka_unit_test(test_base64_differential),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_parse_uint),
    };

    return cmocka_run_group_tests_name("common/codec", tests, NULL, NULL);
}
