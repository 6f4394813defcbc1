/*
 * fhirwall JWT: the zero-allocation JSON scanner of the header and the
 * payload (plain C).  See fw_jwt_scan.h for what it accepts: the same as
 * jansson 2.x's json_loadb(JSON_REJECT_DUPLICATES) followed by the core's
 * object and depth checks.
 */


#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <math.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_scan.h"


/* objects with more keys than this are sorted to find a duplicate */
#define FW_JWT_SCAN_PAIRWISE  8


typedef struct {
    const u_char   *p;
    size_t          len;
} fw_jwt_scan_key_t;


typedef struct {
    const u_char       *p;
    const u_char       *end;
    u_char             *str;        /* where the next unescaped string goes */
    u_char             *str_end;
    fw_jwt_scan_key_t  *keys;       /* NULL: no duplicate check */
    size_t              nkeys;
    size_t              maxkeys;
    const char *const  *names;
    size_t              nnames;
    fw_jwt_scan_val_t  *vals;
} fw_jwt_scan_state_t;


static void fw_jwt_scan_ws(fw_jwt_scan_state_t *st);
static int fw_jwt_scan_hex4(const u_char *p, unsigned *v);
static int fw_jwt_scan_utf8(fw_jwt_scan_state_t *st);
static int fw_jwt_scan_string(fw_jwt_scan_state_t *st, const u_char **raw,
    size_t *raw_len, int *escaped);
static size_t fw_jwt_scan_unescape(const u_char *raw, size_t len,
    u_char *out);
static size_t fw_jwt_scan_utf8_put(u_char *out, unsigned cp);
static int fw_jwt_scan_integer(const u_char *start, const u_char *end,
    int neg, fw_jwt_scan_val_t *v);
static int fw_jwt_scan_number(fw_jwt_scan_state_t *st,
    fw_jwt_scan_val_t *v);
static int fw_jwt_scan_value(fw_jwt_scan_state_t *st, int depth,
    fw_jwt_scan_val_t *v);
static int fw_jwt_scan_object(fw_jwt_scan_state_t *st, int depth);
static int fw_jwt_scan_array(fw_jwt_scan_state_t *st, int depth);
static int fw_jwt_scan_sep(fw_jwt_scan_state_t *st, u_char close);
static int fw_jwt_scan_key_cmp(const fw_jwt_scan_key_t *a,
    const fw_jwt_scan_key_t *b);
static void fw_jwt_scan_sift(fw_jwt_scan_key_t *k, size_t i, size_t n);
static int fw_jwt_scan_dups(fw_jwt_scan_key_t *k, size_t n);
static int fw_jwt_check_depth(json_t *v, int depth);


const char *const  fw_jwt_scan_header_names[FW_JWT_SH_N] = {
    "alg", "kid", "typ", "crit", "enc", "zip", "b64", "jwk"
};

const char *const  fw_jwt_scan_payload_names[FW_JWT_SP_N] = {
    "exp", "nbf", "iat", "iss", "aud", "sub", "jti", "scope", "scp", "cnf",
    "htm", "htu", "ath", "nonce"
};


size_t
fw_jwt_scan_keys_size(size_t len)
{
    /* an object member takes at least 4 bytes ("":0) */

    return (len / 4 + 2) * sizeof(fw_jwt_scan_key_t);
}


static void
fw_jwt_scan_ws(fw_jwt_scan_state_t *st)
{
    while (st->p < st->end
           && (*st->p == ' ' || *st->p == '\t' || *st->p == '\n'
               || *st->p == '\r'))
    {
        st->p++;
    }
}


static int
fw_jwt_scan_hex4(const u_char *p, unsigned *v)
{
    int       i;
    u_char    c;
    unsigned  n;

    n = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            n = n * 16 + (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            n = n * 16 + (c - 'a' + 10);

        } else if (c >= 'A' && c <= 'F') {
            n = n * 16 + (c - 'A' + 10);

        } else {
            return FW_ERROR;
        }
    }

    *v = n;

    return FW_OK;
}


/* one UTF-8 sequence at st->p (its first byte >= 0x80): strict */

static int
fw_jwt_scan_utf8(fw_jwt_scan_state_t *st)
{
    size_t        n, i;
    u_char        c;
    unsigned      cp;
    const u_char  *p;

    p = st->p;
    c = p[0];

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;

    } else {
        return FW_ERROR;
    }

    if ((size_t) (st->end - p) < n) {
        return FW_ERROR;
    }

    for (i = 1; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return FW_ERROR;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
    }

    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)
        || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
    {
        return FW_ERROR;
    }

    st->p += n;

    return FW_OK;
}


/* a string at st->p (a '"'): "raw" is its text between the quotes */

static int
fw_jwt_scan_string(fw_jwt_scan_state_t *st, const u_char **raw,
    size_t *raw_len, int *escaped)
{
    u_char        c;
    unsigned      v, v2;
    const u_char  *start;

    st->p++;
    start = st->p;
    *escaped = 0;

    for ( ;; ) {
        if (st->p >= st->end) {
            return FW_ERROR;
        }

        c = *st->p;

        if (c == '"') {
            break;
        }

        if (c < 0x20) {
            return FW_ERROR;
        }

        if (c >= 0x80) {
            if (fw_jwt_scan_utf8(st) != FW_OK) {
                return FW_ERROR;
            }

            continue;
        }

        if (c != '\\') {
            st->p++;
            continue;
        }

        *escaped = 1;

        if (st->end - st->p < 2) {
            return FW_ERROR;
        }

        switch (st->p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            st->p += 2;
            continue;

        case 'u':
            break;

        default:
            return FW_ERROR;
        }

        if (st->end - st->p < 6 || fw_jwt_scan_hex4(st->p + 2, &v) != FW_OK) {
            return FW_ERROR;
        }

        st->p += 6;

        if (v == 0 || (v >= 0xdc00 && v <= 0xdfff)) {
            /* "\u0000" (jansson: only with JSON_ALLOW_NUL), a lone low */
            return FW_ERROR;
        }

        if (v >= 0xd800 && v <= 0xdbff) {
            if (st->end - st->p < 6 || st->p[0] != '\\' || st->p[1] != 'u'
                || fw_jwt_scan_hex4(st->p + 2, &v2) != FW_OK
                || v2 < 0xdc00 || v2 > 0xdfff)
            {
                return FW_ERROR;
            }

            st->p += 6;
        }
    }

    *raw = start;
    *raw_len = st->p - start;
    st->p++;

    return FW_OK;
}


static size_t
fw_jwt_scan_utf8_put(u_char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (u_char) cp;
        return 1;
    }

    if (cp < 0x800) {
        out[0] = (u_char) (0xc0 | (cp >> 6));
        out[1] = (u_char) (0x80 | (cp & 0x3f));
        return 2;
    }

    if (cp < 0x10000) {
        out[0] = (u_char) (0xe0 | (cp >> 12));
        out[1] = (u_char) (0x80 | ((cp >> 6) & 0x3f));
        out[2] = (u_char) (0x80 | (cp & 0x3f));
        return 3;
    }

    out[0] = (u_char) (0xf0 | (cp >> 18));
    out[1] = (u_char) (0x80 | ((cp >> 12) & 0x3f));
    out[2] = (u_char) (0x80 | ((cp >> 6) & 0x3f));
    out[3] = (u_char) (0x80 | (cp & 0x3f));
    return 4;
}


/* the text of a string fw_jwt_scan_string() accepted, unescaped */

static size_t
fw_jwt_scan_unescape(const u_char *raw, size_t len, u_char *out)
{
    size_t    i, n;
    unsigned  v, v2;

    n = 0;

    for (i = 0; i < len; /* void */) {
        if (raw[i] != '\\') {
            out[n++] = raw[i++];
            continue;
        }

        switch (raw[i + 1]) {
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u':
            (void) fw_jwt_scan_hex4(raw + i + 2, &v);
            i += 6;

            if (v >= 0xd800 && v <= 0xdbff) {
                (void) fw_jwt_scan_hex4(raw + i + 2, &v2);
                i += 6;
                v = 0x10000 + ((v - 0xd800) << 10) + (v2 - 0xdc00);
            }

            n += fw_jwt_scan_utf8_put(out + n, v);
            continue;
        default:
            /* '"', '\\', '/' */
            out[n++] = raw[i + 1];
        }

        i += 2;
    }

    return n;
}


int
fw_jwt_scan_str_eq(const u_char *raw, size_t raw_len, const u_char *s,
    size_t len)
{
    u_char    buf[4];
    size_t    i, n, k;
    unsigned  v, v2;

    if (memchr(raw, '\\', raw_len) == NULL) {
        return raw_len == len && memcmp(raw, s, len) == 0;
    }

    /* one escape at a time, compared as it is unescaped */

    n = 0;

    for (i = 0; i < raw_len; /* void */) {
        if (raw[i] != '\\') {
            if (n == len || s[n] != raw[i]) {
                return 0;
            }

            n++;
            i++;
            continue;
        }

        if (raw[i + 1] == 'u') {
            (void) fw_jwt_scan_hex4(raw + i + 2, &v);
            i += 6;

            if (v >= 0xd800 && v <= 0xdbff) {
                (void) fw_jwt_scan_hex4(raw + i + 2, &v2);
                i += 6;
                v = 0x10000 + ((v - 0xd800) << 10) + (v2 - 0xdc00);
            }

            k = fw_jwt_scan_utf8_put(buf, v);

        } else {
            k = fw_jwt_scan_unescape(raw + i, 2, buf);
            i += 2;
        }

        if (len - n < k || memcmp(s + n, buf, k) != 0) {
            return 0;
        }

        n += k;
    }

    return n == len;
}


/* the digits from "start" to "end" (after a "-" if neg) as a json_int_t */

static int
fw_jwt_scan_integer(const u_char *start, const u_char *end, int neg,
    fw_jwt_scan_val_t *v)
{
    unsigned long long  u, lim;

    /* strtoll()'s range, without a copy */
    lim = neg ? (unsigned long long) 1 << 63
              : ((unsigned long long) 1 << 63) - 1;
    u = 0;

    for (start += neg; start < end; start++) {
        if (u > (lim - (*start - '0')) / 10) {
            return FW_ERROR;
        }

        u = u * 10 + (*start - '0');
    }

    if (v) {
        v->type = FW_JWT_SV_INTEGER;

        /* "-0" is the integer 0, not -0.0 */
        v->number = neg ? (double) (-(long long) (u - 1) - 1)
                        : (double) (long long) u;

        if (u == 0) {
            v->number = 0.0;
        }
    }

    return FW_OK;
}


/*
 * A number as jansson's lexer reads it: -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?; without fraction or exponent an integer that must
 * fit a json_int_t (long long), else a real that must not overflow.
 */

static int
fw_jwt_scan_number(fw_jwt_scan_state_t *st, fw_jwt_scan_val_t *v)
{
    int                  neg, real;
    char                *end;
    double               d;
    size_t               n;
    u_char              *buf;
    const u_char        *start;

    start = st->p;
    neg = 0;
    real = 0;

    if (*st->p == '-') {
        neg = 1;
        st->p++;
    }

    if (st->p >= st->end) {
        return FW_ERROR;
    }

    if (*st->p == '0') {
        st->p++;

        if (st->p < st->end && *st->p >= '0' && *st->p <= '9') {
            return FW_ERROR;
        }

    } else if (*st->p >= '1' && *st->p <= '9') {
        while (st->p < st->end && *st->p >= '0' && *st->p <= '9') {
            st->p++;
        }

    } else {
        return FW_ERROR;
    }

    if (st->p < st->end && *st->p == '.') {
        st->p++;
        real = 1;

        if (st->p >= st->end || *st->p < '0' || *st->p > '9') {
            return FW_ERROR;
        }

        while (st->p < st->end && *st->p >= '0' && *st->p <= '9') {
            st->p++;
        }
    }

    if (st->p < st->end && (*st->p == 'e' || *st->p == 'E')) {
        st->p++;
        real = 1;

        if (st->p < st->end && (*st->p == '+' || *st->p == '-')) {
            st->p++;
        }

        if (st->p >= st->end || *st->p < '0' || *st->p > '9') {
            return FW_ERROR;
        }

        while (st->p < st->end && *st->p >= '0' && *st->p <= '9') {
            st->p++;
        }
    }

    n = st->p - start;

    if (!real) {
        return fw_jwt_scan_integer(start, st->p, neg, v);
    }

    if (st->str == NULL) {
        /* fw_jwt_scan_next(): the text was accepted, its value not asked */
        if (v) {
            v->type = FW_JWT_SV_REAL;
            v->number = 0.0;
        }

        return FW_OK;
    }

    /* strtod() of a NUL-terminated copy, in the scratch room */

    buf = st->str;

    if ((size_t) (st->str_end - buf) < n + 1) {
        return FW_ERROR;
    }

    memcpy(buf, start, n);
    buf[n] = '\0';

    errno = 0;
    d = strtod((char *) buf, &end);

    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) {
        return FW_ERROR;
    }

    if (v) {
        v->type = FW_JWT_SV_REAL;
        v->number = d;
    }

    return FW_OK;
}


static int
fw_jwt_scan_value(fw_jwt_scan_state_t *st, int depth, fw_jwt_scan_val_t *v)
{
    int            escaped;
    size_t         len;
    const u_char  *raw, *start;

    /* fw_jwt_check_depth(): any value below FW_JWT_MAX_DEPTH */

    if (depth > FW_JWT_MAX_DEPTH || st->p >= st->end) {
        return FW_ERROR;
    }

    start = st->p;

    switch (*st->p) {

    case '{':
        if (fw_jwt_scan_object(st, depth) != FW_OK) {
            return FW_ERROR;
        }

        if (v) {
            v->type = FW_JWT_SV_OBJECT;
        }

        break;

    case '[':
        if (fw_jwt_scan_array(st, depth) != FW_OK) {
            return FW_ERROR;
        }

        if (v) {
            v->type = FW_JWT_SV_ARRAY;
        }

        break;

    case '"':
        if (fw_jwt_scan_string(st, &raw, &len, &escaped) != FW_OK) {
            return FW_ERROR;
        }

        if (v) {
            v->type = FW_JWT_SV_STRING;
            v->raw = raw;
            v->raw_len = len;
            v->str = raw;
            v->len = len;

            if (escaped && st->str != NULL) {
                v->str = st->str;
                v->len = fw_jwt_scan_unescape(raw, len, st->str);
                st->str += v->len;

            } else if (escaped) {
                v->str = NULL;
                v->len = 0;
            }
        }

        return FW_OK;

    case 't':
    case 'f':
    case 'n':
        len = (*st->p == 'f') ? 5 : 4;

        if ((size_t) (st->end - st->p) < len
            || memcmp(st->p, *st->p == 't' ? "true"
                             : (*st->p == 'f' ? "false" : "null"), len)
               != 0)
        {
            return FW_ERROR;
        }

        st->p += len;

        if (v) {
            v->type = (*start == 't') ? FW_JWT_SV_TRUE
                      : (*start == 'f' ? FW_JWT_SV_FALSE : FW_JWT_SV_NULL);
        }

        break;

    default:
        if (fw_jwt_scan_number(st, v) != FW_OK) {
            return FW_ERROR;
        }
    }

    if (v) {
        v->raw = start;
        v->raw_len = st->p - start;
    }

    return FW_OK;
}


static int
fw_jwt_scan_object(fw_jwt_scan_state_t *st, int depth)
{
    int                 escaped, rc;
    size_t              base, i, len, klen;
    const u_char       *raw, *key;
    fw_jwt_scan_val_t  *v;

    st->p++;
    base = st->nkeys;

    fw_jwt_scan_ws(st);

    if (st->p < st->end && *st->p == '}') {
        st->p++;
        return FW_OK;
    }

    for ( ;; ) {
        if (st->p >= st->end || *st->p != '"'
            || fw_jwt_scan_string(st, &raw, &len, &escaped) != FW_OK)
        {
            return FW_ERROR;
        }

        key = raw;
        klen = len;

        if (escaped && st->str != NULL) {
            key = st->str;
            klen = fw_jwt_scan_unescape(raw, len, st->str);
            st->str += klen;

        } else if (escaped) {
            /* fw_jwt_scan_next(): keys are not read */
            key = NULL;
        }

        if (st->keys != NULL) {
            if (st->nkeys == st->maxkeys) {
                return FW_ERROR;
            }

            st->keys[st->nkeys].p = key;
            st->keys[st->nkeys].len = klen;
            st->nkeys++;
        }

        fw_jwt_scan_ws(st);

        if (st->p >= st->end || *st->p != ':') {
            return FW_ERROR;
        }

        st->p++;
        fw_jwt_scan_ws(st);

        v = NULL;

        if (depth == 1 && st->names != NULL && key != NULL && klen > 0) {
            for (i = 0; i < st->nnames; i++) {
                /* the first byte first: most keys are not asked for */
                if (st->names[i][0] == key[0]
                    && strlen(st->names[i]) == klen
                    && memcmp(st->names[i], key, klen) == 0)
                {
                    v = &st->vals[i];
                    break;
                }
            }
        }

        if (fw_jwt_scan_value(st, depth + 1, v) != FW_OK) {
            return FW_ERROR;
        }

        rc = fw_jwt_scan_sep(st, '}');

        if (rc == FW_ERROR) {
            return FW_ERROR;
        }

        if (rc == 0) {
            break;
        }
    }

    if (st->keys == NULL) {
        return FW_OK;
    }

    /* JSON_REJECT_DUPLICATES, at every level */

    if (fw_jwt_scan_dups(st->keys + base, st->nkeys - base) != FW_OK) {
        return FW_ERROR;
    }

    st->nkeys = base;

    return FW_OK;
}


static int
fw_jwt_scan_array(fw_jwt_scan_state_t *st, int depth)
{
    int  rc;

    st->p++;

    fw_jwt_scan_ws(st);

    if (st->p < st->end && *st->p == ']') {
        st->p++;
        return FW_OK;
    }

    for ( ;; ) {
        if (fw_jwt_scan_value(st, depth + 1, NULL) != FW_OK) {
            return FW_ERROR;
        }

        rc = fw_jwt_scan_sep(st, ']');

        if (rc != 1) {
            return rc == 0 ? FW_OK : FW_ERROR;
        }
    }
}


/*
 * After a member or an element: 1 after a ',' (another one follows), 0
 * after the closing byte, FW_ERROR for anything else
 */

static int
fw_jwt_scan_sep(fw_jwt_scan_state_t *st, u_char close)
{
    fw_jwt_scan_ws(st);

    if (st->p >= st->end) {
        return FW_ERROR;
    }

    if (*st->p == ',') {
        st->p++;
        fw_jwt_scan_ws(st);
        return 1;
    }

    if (*st->p != close) {
        return FW_ERROR;
    }

    st->p++;

    return 0;
}


static int
fw_jwt_scan_key_cmp(const fw_jwt_scan_key_t *a, const fw_jwt_scan_key_t *b)
{
    int  rc;

    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }

    rc = memcmp(a->p, b->p, a->len);

    return rc;
}


static void
fw_jwt_scan_sift(fw_jwt_scan_key_t *k, size_t i, size_t n)
{
    size_t             c;
    fw_jwt_scan_key_t  t;

    for ( ;; ) {
        c = 2 * i + 1;

        if (c >= n) {
            return;
        }

        if (c + 1 < n && fw_jwt_scan_key_cmp(&k[c], &k[c + 1]) < 0) {
            c++;
        }

        if (fw_jwt_scan_key_cmp(&k[i], &k[c]) >= 0) {
            return;
        }

        t = k[i];
        k[i] = k[c];
        k[c] = t;
        i = c;
    }
}


/* a key twice: pairwise for a few, else a heap sort (no allocation) */

static int
fw_jwt_scan_dups(fw_jwt_scan_key_t *k, size_t n)
{
    size_t             i, j;
    fw_jwt_scan_key_t  t;

    if (n <= FW_JWT_SCAN_PAIRWISE) {
        for (i = 1; i < n; i++) {
            for (j = 0; j < i; j++) {
                if (fw_jwt_scan_key_cmp(&k[i], &k[j]) == 0) {
                    return FW_ERROR;
                }
            }
        }

        return FW_OK;
    }

    for (i = n / 2; i-- > 0; /* void */) {
        fw_jwt_scan_sift(k, i, n);
    }

    for (i = n; i-- > 1; /* void */) {
        t = k[0];
        k[0] = k[i];
        k[i] = t;
        fw_jwt_scan_sift(k, 0, i);
    }

    for (i = 1; i < n; i++) {
        if (fw_jwt_scan_key_cmp(&k[i - 1], &k[i]) == 0) {
            return FW_ERROR;
        }
    }

    return FW_OK;
}


int
fw_jwt_scan(const u_char *json, size_t len, const char *const *names,
    size_t nnames, fw_jwt_scan_val_t *vals, u_char *strs, void *keys,
    size_t keys_size)
{
    size_t               i;
    fw_jwt_scan_state_t  st;

    /*
     * unescaped strings are never longer than their text (the one more
     * byte: the NUL of a number's copy for strtod())
     */

    if (keys_size < fw_jwt_scan_keys_size(len)) {
        return FW_ERROR;
    }

    for (i = 0; i < nnames; i++) {
        memset(&vals[i], 0, sizeof(fw_jwt_scan_val_t));
    }

    st.p = json;
    st.end = json + len;
    st.str = strs;
    st.str_end = strs + len + 1;
    st.keys = keys;
    st.nkeys = 0;
    st.maxkeys = len / 4 + 2;
    st.names = names;
    st.nnames = nnames;
    st.vals = vals;

    /* RFC 8259: white space, an object (the core's rule), white space */

    fw_jwt_scan_ws(&st);

    if (st.p >= st.end || *st.p != '{') {
        return FW_ERROR;
    }

    if (fw_jwt_scan_value(&st, 1, NULL) != FW_OK) {
        return FW_ERROR;
    }

    fw_jwt_scan_ws(&st);

    return st.p == st.end ? FW_OK : FW_ERROR;
}


int
fw_jwt_scan_next(const fw_jwt_scan_val_t *arr, size_t *pos,
    fw_jwt_scan_val_t *elem)
{
    fw_jwt_scan_state_t  st;

    if (arr->type != FW_JWT_SV_ARRAY || arr->raw_len < 2) {
        return 0;
    }

    memset(&st, 0, sizeof(fw_jwt_scan_state_t));

    /* the text was accepted: no duplicate check, no unescaping */

    st.p = arr->raw + (*pos == 0 ? 1 : *pos);
    st.end = arr->raw + arr->raw_len - 1;

    fw_jwt_scan_ws(&st);

    if (st.p < st.end && *st.p == ',') {
        st.p++;
        fw_jwt_scan_ws(&st);
    }

    if (st.p >= st.end) {
        return 0;
    }

    memset(elem, 0, sizeof(fw_jwt_scan_val_t));

    /* depth 2: an element of a top-level member */

    if (fw_jwt_scan_value(&st, 2, elem) != FW_OK) {
        return 0;
    }

    *pos = st.p - arr->raw;

    return 1;
}


int
fw_jwt_scan_members(const fw_jwt_scan_val_t *obj, const char *const *names,
    size_t nnames, fw_jwt_scan_val_t *vals, u_char *strs)
{
    size_t               i;
    fw_jwt_scan_state_t  st;

    for (i = 0; i < nnames; i++) {
        memset(&vals[i], 0, sizeof(fw_jwt_scan_val_t));
    }

    if (obj->type != FW_JWT_SV_OBJECT) {
        return FW_ERROR;
    }

    /* the text was accepted: no duplicate check; depth 1 is this object */

    memset(&st, 0, sizeof(fw_jwt_scan_state_t));
    st.p = obj->raw;
    st.end = obj->raw + obj->raw_len;
    st.str = strs;
    st.str_end = strs + obj->raw_len + 1;
    st.names = names;
    st.nnames = nnames;
    st.vals = vals;

    return fw_jwt_scan_value(&st, 1, NULL);
}


/* the reference: what the jansson path accepts */

static int
fw_jwt_check_depth(json_t *v, int depth)
{
    size_t       i;
    json_t      *e;
    const char  *k;

    if (depth > FW_JWT_MAX_DEPTH) {
        return FW_ERROR;
    }

    if (json_is_object(v)) {
        json_object_foreach(v, k, e) {
            if (fw_jwt_check_depth(e, depth + 1) != FW_OK) {
                return FW_ERROR;
            }
        }

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (fw_jwt_check_depth(e, depth + 1) != FW_OK) {
                return FW_ERROR;
            }
        }
    }

    return FW_OK;
}


json_t *
fw_jwt_json_segment(const u_char *d, size_t n)
{
    size_t        i;
    json_t       *j;
    json_error_t  e;

    if (n == 0 || memchr(d, '\0', n) != NULL) {
        return NULL;
    }

    /*
     * JSON text (RFC 8259) may start with white space (space, tab, LF, CR),
     * then an object; no BOM, nothing else
     */
    for (i = 0; i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n'
                          || d[i] == '\r'); i++)
    {
        /* void */
    }

    if (i == n || d[i] != '{') {
        return NULL;
    }

    j = json_loadb((const char *) d, n, JSON_REJECT_DUPLICATES, &e);

    if (j != NULL
        && (!json_is_object(j) || fw_jwt_check_depth(j, 1) != FW_OK))
    {
        json_decref(j);
        j = NULL;
    }

    return j;
}
