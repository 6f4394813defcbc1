/*
 * fhirwall FHIR core: the raw request target (plain C): the characters
 * allowed in a path and their %-escapes, and the check that the target
 * nginx decided on is the one an upstream gets (fw_fhir_check_target()).
 */


#include <string.h>

#include "fw_fhir.h"


static int fw_fhir_unreserved(u_char c);


int
fw_fhir_hex(u_char c)
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


/* 1: unreserved (RFC 3986), 2: also allowed raw in a path ('/', '$', '*') */

static const u_char  fw_fhir_pclass[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 1, 1, 2,   /* $ * - . / */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,   /* _ */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0,   /* ~ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

/* 1: never raw in a path (fw_fhir_pclass 0, '%' too) */

static const u_char  fw_fhir_pbad[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};


static int
fw_fhir_unreserved(u_char c)
{
    return fw_fhir_pclass[c] == 1;
}


int
fw_fhir_plain_path(const u_char *raw, size_t len)
{
    size_t  i;

    /* '%' is class 0; four bytes a step */

    for (i = 0; i + 4 <= len; i += 4) {
        if (fw_fhir_pbad[raw[i]] | fw_fhir_pbad[raw[i + 1]]
            | fw_fhir_pbad[raw[i + 2]] | fw_fhir_pbad[raw[i + 3]])
        {
            return 0;
        }
    }

    for ( /* void */ ; i < len; i++) {
        if (fw_fhir_pbad[raw[i]]) {
            return 0;
        }
    }

    return 1;
}


int
fw_fhir_decode_path(const u_char *raw, size_t len, u_char *out,
    size_t *out_len)
{
    int     hi, lo;
    size_t  i, n;
    u_char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = raw[i];

        if (c == '%') {
            if (len - i < 3) {
                return FW_FHIR_ERROR;
            }

            hi = fw_fhir_hex(raw[i + 1]);
            lo = fw_fhir_hex(raw[i + 2]);

            if (hi < 0 || lo < 0) {
                return FW_FHIR_ERROR;
            }

            c = (u_char) (hi << 4 | lo);

            /* %2F, %25, %3B, %5C, %00, %80 ...: never */
            if (!fw_fhir_unreserved(c)) {
                return FW_FHIR_ERROR;
            }

            out[n++] = c;
            i += 2;
            continue;
        }

        if (fw_fhir_pclass[c] == 0) {
            return FW_FHIR_ERROR;
        }

        out[n++] = c;
    }

    *out_len = n;

    return FW_FHIR_OK;
}


int
fw_fhir_check_target(const u_char *raw, size_t len, const u_char *uri,
    size_t uri_len, const u_char *args, size_t args_len, u_char *scratch,
    fw_fhir_str_t *path, fw_fhir_str_t *query, fw_fhir_verdict_t *v)
{
    size_t         plen, dlen;
    const u_char  *q, *d;

    /*
     * nginx ends the path, and the query, at a raw '#' (a fragment is
     * never sent), but an upstream given the raw target gets what
     * follows it
     */
    if (memchr(raw, '#', len) != NULL) {
        return fw_fhir_deny(v, 400, "invalid", "invalid",
                            "malformed request target: a raw '#'");
    }

    q = memchr(raw, '?', len);
    plen = q ? (size_t) (q - raw) : len;

    if (fw_fhir_plain_path(raw, plen)) {
        d = raw;
        dlen = plen;

    } else {
        if (scratch == NULL
            || fw_fhir_decode_path(raw, plen, scratch, &dlen) != FW_FHIR_OK)
        {
            return fw_fhir_deny(v, 400, "invalid", "invalid",
                                "malformed path: only unreserved characters "
                                "and their escapes are allowed");
        }

        d = scratch;
    }

    /* "//", "/./", "/../", an absolute URI without a path: rewritten */
    if (dlen != uri_len || (dlen && memcmp(d, uri, dlen) != 0)) {
        return fw_fhir_deny(v, 400, "invalid", "invalid",
                            "the path differs from its normalised form");
    }

    /* the query decided on is the raw one, byte for byte */
    if (q ? (args_len != len - plen - 1
             || (args_len && memcmp(args, q + 1, args_len) != 0))
          : args_len != 0)
    {
        return fw_fhir_deny(v, 400, "invalid", "invalid",
                            "the query differs from the request line's");
    }

    path->data = d;
    path->len = dlen;
    query->data = q ? q + 1 : raw + len;
    query->len = q ? len - plen - 1 : 0;

    return FW_FHIR_OK;
}
