/*
 * libFuzzer: fw_fhir_check_target(), the check that the request target the
 * FHIR module decides on is the one an upstream gets.  The input is a raw
 * request target; what nginx would parse from it (the path and the query)
 * is modelled here (first byte even), or taken from the input itself
 * (odd: "raw\0uri\0args", a parser that could do anything).  Whenever the
 * target is accepted:
 *  - the raw target has no '#' and its query is, byte for byte, the query
 *    decided on, and its path read the strict way (RFC 3986: up to '?',
 *    %-decoded) is the path decided on;
 *  - the query is read the same by fw_fhir_parse_query() and by a server
 *    that also splits pairs at ';' and reads '+' in a name as a space.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fhir.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(u_char c);
static size_t strict_path(const u_char *raw, size_t len, u_char *out,
    int *ok);
static size_t model_uri(const u_char *raw, size_t len, u_char *out);
static size_t other_reading(const u_char *q, size_t len);


static int
hexval(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/* the path as RFC 3986 reads it: up to '?' or '#', %-decoded */

static size_t
strict_path(const u_char *raw, size_t len, u_char *out, int *ok)
{
    size_t  i, n;

    n = 0;
    *ok = 1;

    for (i = 0; i < len && raw[i] != '?' && raw[i] != '#'; i++) {
        if (raw[i] == '%') {
            if (i + 2 >= len || hexval(raw[i + 1]) < 0
                || hexval(raw[i + 2]) < 0)
            {
                *ok = 0;
                return n;
            }

            out[n++] = (u_char) (hexval(raw[i + 1]) << 4 | hexval(raw[i + 2]));
            i += 2;
            continue;
        }

        out[n++] = raw[i];
    }

    return n;
}


/*
 * A model of how nginx makes r->uri of a complex target: the path ends at
 * '?' or '#', escapes are decoded, "//" merged, "." and ".." segments
 * resolved (loosely: what matters is that it can differ from the raw path)
 */

static size_t
model_uri(const u_char *raw, size_t len, u_char *out)
{
    int     ok;
    size_t  n, i, k;
    u_char  tmp[16384];

    n = strict_path(raw, len, tmp, &ok);
    k = 0;

    for (i = 0; i < n; i++) {
        if (tmp[i] == '/' && k && out[k - 1] == '/') {
            continue;
        }

        if (tmp[i] == '.' && k && out[k - 1] == '/'
            && (i + 1 == n || tmp[i + 1] == '/'))
        {
            continue;
        }

        out[k++] = tmp[i];
    }

    return k;
}


/* the pair count of a server that splits at '&' and ';' */

static size_t
other_reading(const u_char *q, size_t len)
{
    size_t  i, n, start;

    n = 0;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || q[i] == '&' || q[i] == ';') {
            if (i > start) {
                n++;
            }

            start = i + 1;
        }
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                ok;
    size_t             len, ulen, alen, slen, n, i, k;
    u_char            *raw, *uri, *scratch, *strict;
    const u_char      *args, *q, *z1, *z2;
    fw_fhir_str_t      path, query;
    fw_fhir_param_t    params[FW_FHIR_MAX_PARAMS];
    fw_fhir_verdict_t  v;

    if (size == 0 || size > 8192) {
        return 0;
    }

    len = size - 1;

    /* exact-size heap copies, so that ASan sees any overread */
    raw = malloc(len + 1);
    uri = malloc(len + 1);
    scratch = malloc(len + 1);
    strict = malloc(len + 1);

    if (raw == NULL || uri == NULL || scratch == NULL || strict == NULL) {
        goto done;
    }

    memcpy(raw, data + 1, len);

    if ((data[0] & 1) == 0) {
        ulen = model_uri(raw, len, uri);

        q = memchr(raw, '?', len);
        args = q ? q + 1 : raw + len;
        alen = q ? (size_t) (raw + len - args) : 0;

        /* nginx ends the args at a '#' */
        z1 = memchr(args, '#', alen);
        if (z1) {
            alen = z1 - args;
        }

    } else {
        z1 = memchr(raw, '\0', len);
        if (z1 == NULL) {
            goto done;
        }

        z2 = memchr(z1 + 1, '\0', raw + len - z1 - 1);
        if (z2 == NULL) {
            goto done;
        }

        ulen = z2 - z1 - 1;
        memcpy(uri, z1 + 1, ulen);
        args = z2 + 1;
        alen = raw + len - args;
        len = z1 - raw;
    }

    fw_fhir_verdict_init(&v);

    if (fw_fhir_check_target(raw, len, uri, ulen, args, alen, scratch, &path,
                             &query, &v)
        != FW_FHIR_OK)
    {
        if (v.status != 400) {
            abort();
        }

        goto done;
    }

    /* what was decided on is what an upstream given the raw target reads */

    if (memchr(raw, '#', len) != NULL) {
        abort();
    }

    slen = strict_path(raw, len, strict, &ok);

    if (!ok || slen != path.len || slen != ulen
        || (slen && (memcmp(strict, path.data, slen) != 0
                     || memcmp(uri, path.data, slen) != 0)))
    {
        abort();
    }

    q = memchr(raw, '?', len);

    if (q == NULL ? query.len != 0 || alen != 0
                  : (query.len != (size_t) (raw + len - q - 1)
                     || query.len != alen
                     || (alen && (memcmp(query.data, q + 1, alen) != 0
                                  || memcmp(args, q + 1, alen) != 0))))
    {
        abort();
    }

    /* the parameters: the same pairs and names for either reading */

    n = 0;

    if (fw_fhir_parse_query(query.data, query.len, 0, scratch, params,
                            FW_FHIR_MAX_PARAMS, &n, &v)
        == FW_FHIR_OK)
    {
        if (n != other_reading(query.data, query.len)) {
            abort();
        }

        for (i = 0; i < n; i++) {
            for (k = 0; k < params[i].name.len; k++) {
                if (params[i].name.data[k] == '+'
                    && params[i].name.data >= query.data
                    && params[i].name.data < query.data + query.len)
                {
                    /* a raw '+' in a name: servers differ on it */
                    abort();
                }
            }
        }
    }

done:

    free(raw);
    free(uri);
    free(scratch);
    free(strict);

    return 0;
}
