/*
 * fhirwall: byte codecs shared by the modules (plain C, no nginx headers).
 */


#include <string.h>
#include <openssl/crypto.h>

#include "fw_codec.h"


static int fw_base64_decode_internal(const u_char *in, size_t len,
    u_char *out, size_t *out_len, const signed char *table);
static size_t fw_base64_encode_internal(const u_char *in, size_t len,
    u_char *out, const char *alphabet, int pad);
static int fw_hex_value(u_char c);


static const char  fw_b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char  fw_b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


#define X  -1

static const signed char  fw_b64_std_table[256] = {
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X
};

static const signed char  fw_b64_url_table[256] = {
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X
};

#undef X


/*
 * Four characters a step: the table gives -1 for a character outside the
 * alphabet, so the OR of the four values is negative when any is; then
 * the 24 bits are written as three bytes.  A length of 1 mod 4 is never
 * an encoding; the last 2 or 3 characters carry 1 or 2 bytes and unused
 * low bits that must be zero (one accepted encoding per byte string).
 * The acceptance is the byte-at-a-time decoder's, which
 * common/unit/test_codec.c keeps and compares it with.
 */

static int
fw_base64_decode_internal(const u_char *in, size_t len, u_char *out,
    size_t *out_len, const signed char *table)
{
    int            a, b, c, e;
    size_t         rem;
    u_char        *d;
    const u_char  *last;
    unsigned int   n;

    rem = len % 4;

    if (rem == 1) {
        return FW_ERROR;
    }

    d = out;
    last = in + (len - rem);

    while (in < last) {
        a = table[in[0]];
        b = table[in[1]];
        c = table[in[2]];
        e = table[in[3]];

        if ((a | b | c | e) < 0) {
            return FW_ERROR;
        }

        n = ((unsigned int) a << 18) | ((unsigned int) b << 12)
            | ((unsigned int) c << 6) | (unsigned int) e;

        d[0] = (u_char) (n >> 16);
        d[1] = (u_char) (n >> 8);
        d[2] = (u_char) n;

        d += 3;
        in += 4;
    }

    if (rem == 2) {
        a = table[in[0]];
        b = table[in[1]];

        if ((a | b) < 0 || (b & 0x0f)) {
            return FW_ERROR;
        }

        *d++ = (u_char) ((a << 2) | (b >> 4));

    } else if (rem == 3) {
        a = table[in[0]];
        b = table[in[1]];
        c = table[in[2]];

        if ((a | b | c) < 0 || (c & 0x03)) {
            return FW_ERROR;
        }

        *d++ = (u_char) ((a << 2) | (b >> 4));
        *d++ = (u_char) ((b << 4) | (c >> 2));
    }

    *out_len = (size_t) (d - out);

    return FW_OK;
}


int
fw_base64url_decode(const u_char *in, size_t len, u_char *out,
    size_t *out_len)
{
    return fw_base64_decode_internal(in, len, out, out_len,
                                     fw_b64_url_table);
}


int
fw_base64_decode(const u_char *in, size_t len, u_char *out, size_t *out_len)
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

    return fw_base64_decode_internal(in, len - pad, out, out_len,
                                     fw_b64_std_table);
}


static size_t
fw_base64_encode_internal(const u_char *in, size_t len, u_char *out,
    const char *alphabet, int pad)
{
    u_char  *d;

    d = out;

    while (len > 2) {
        *d++ = alphabet[(in[0] >> 2) & 0x3f];
        *d++ = alphabet[((in[0] & 3) << 4) | (in[1] >> 4)];
        *d++ = alphabet[((in[1] & 0x0f) << 2) | (in[2] >> 6)];
        *d++ = alphabet[in[2] & 0x3f];

        in += 3;
        len -= 3;
    }

    if (len) {
        *d++ = alphabet[(in[0] >> 2) & 0x3f];

        if (len == 1) {
            *d++ = alphabet[(in[0] & 3) << 4];

            if (pad) {
                *d++ = '=';
            }

        } else {
            *d++ = alphabet[((in[0] & 3) << 4) | (in[1] >> 4)];
            *d++ = alphabet[(in[1] & 0x0f) << 2];
        }

        if (pad) {
            *d++ = '=';
        }
    }

    return (size_t) (d - out);
}


size_t
fw_base64url_encode(const u_char *in, size_t len, u_char *out)
{
    return fw_base64_encode_internal(in, len, out, fw_b64_url, 0);
}


size_t
fw_base64_encode(const u_char *in, size_t len, u_char *out)
{
    return fw_base64_encode_internal(in, len, out, fw_b64_std, 1);
}


static int
fw_hex_value(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


int
fw_hex_decode(const u_char *in, size_t len, u_char *out, size_t *out_len)
{
    int     hi, lo;
    size_t  i;

    if (len % 2) {
        return FW_ERROR;
    }

    for (i = 0; i < len; i += 2) {
        hi = fw_hex_value(in[i]);
        lo = fw_hex_value(in[i + 1]);

        if (hi < 0 || lo < 0) {
            return FW_ERROR;
        }

        out[i / 2] = (u_char) ((hi << 4) | lo);
    }

    *out_len = len / 2;

    return FW_OK;
}


size_t
fw_hex_encode(const u_char *in, size_t len, u_char *out)
{
    size_t             i;
    static const char  hex[] = "0123456789abcdef";

    for (i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0x0f];
    }

    return 2 * len;
}


int
fw_ct_equal(const u_char *a, size_t a_len, const u_char *b, size_t b_len)
{
    if (a_len != b_len) {
        return 0;
    }

    return CRYPTO_memcmp(a, b, a_len) == 0;
}


int
fw_parse_uint(const u_char *p, size_t len, unsigned long long max,
    unsigned long long *value)
{
    size_t              i;
    unsigned long long  v;

    if (len == 0 || len > 20) {
        return FW_ERROR;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return FW_ERROR;
        }

        if (v > (max - (p[i] - '0')) / 10) {
            return FW_ERROR;
        }

        v = v * 10 + (p[i] - '0');
    }

    *value = v;

    return FW_OK;
}
