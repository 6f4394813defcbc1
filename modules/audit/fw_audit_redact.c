/*
 * fhirwall audit: redaction of identifiers (keep, hash, drop).  Plain C.
 */


#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fw_codec.h"
#include "fw_audit.h"
#include "fw_audit_redact.h"


#define FW_AUDIT_REDACT_LABEL  "fhirwall-audit-v1 redact"
#define FW_AUDIT_EPOCH_LABEL   "fhirwall-audit-v1 redact epoch "

/* the longest value that is percent-decoded before it is hashed; a
   longer one is hashed as it is */
#define FW_AUDIT_R_DECODE_MAX  FW_AUDIT_VALUE_MAX


typedef struct {
    u_char  *p;
    u_char  *end;
    int      full;
} fw_audit_rw_t;


static int fw_audit_redact_is_type(const u_char *s, size_t len);
static int fw_audit_redact_is_keyword(const u_char *s, size_t len);
static int fw_audit_redact_is_name(const u_char *s, size_t len);
static int fw_audit_redact_is_digits(const u_char *s, size_t len);
static int fw_audit_redact_is_secret(const u_char *s, size_t len);
static int fw_audit_redact_has(const u_char *s, size_t len,
    const char *what);
static size_t fw_audit_redact_decode(const u_char *s, size_t len,
    u_char *out);
static void fw_audit_rw_mem(fw_audit_rw_t *w, const u_char *s, size_t len);
static void fw_audit_rw_hash(fw_audit_rw_t *w, const fw_audit_redactor_t *rd,
    const u_char *s, size_t len, const char *nokey);


/* query parameters that carry credentials: their values never go into a
   record, whatever the mode ("*") */
static const char *const  fw_audit_redact_secrets[] = {
    "access_token", "id_token", "refresh_token", "token", "client_secret",
    "client_assertion", "assertion", "subject_token", "actor_token",
    "password", "api_key", "apikey", "sig", "signature", NULL
};


static const char *const  fw_audit_redact_modes[] = {
    NULL, "keep", "hash", "drop", "prefix", "names", "digest", "patients"
};


void
fw_audit_redact_base(const u_char *secret, size_t secret_len, u_char *base)
{
    fw_audit_hmac(secret, secret_len, (const u_char *) FW_AUDIT_REDACT_LABEL,
                  sizeof(FW_AUDIT_REDACT_LABEL) - 1, base);
}


void
fw_audit_redact_epoch_key(const u_char *base, uint64_t epoch, u_char *key)
{
    int     n;
    u_char  msg[sizeof(FW_AUDIT_EPOCH_LABEL) - 1 + 24];

    memcpy(msg, FW_AUDIT_EPOCH_LABEL, sizeof(FW_AUDIT_EPOCH_LABEL) - 1);
    n = snprintf((char *) msg + sizeof(FW_AUDIT_EPOCH_LABEL) - 1, 24, "%llu",
                 (unsigned long long) epoch);

    fw_audit_hmac(base, FW_AUDIT_MAC_LEN, msg,
                  sizeof(FW_AUDIT_EPOCH_LABEL) - 1 + (size_t) n, key);
}


uint64_t
fw_audit_redact_epoch(int64_t time_ms, int64_t epoch_ms)
{
    if (epoch_ms <= 0 || time_ms <= 0) {
        return 0;
    }

    return (uint64_t) (time_ms / epoch_ms);
}


int
fw_audit_redact_mode(const u_char *name, size_t len)
{
    int  i;

    for (i = FW_AUDIT_R_KEEP; i <= FW_AUDIT_R_NAMES; i++) {
        if (strlen(fw_audit_redact_modes[i]) == len
            && memcmp(fw_audit_redact_modes[i], name, len) == 0)
        {
            return i;
        }
    }

    return FW_AUDIT_R_UNSET;
}


const char *
fw_audit_redact_mode_name(int mode)
{
    if (mode < FW_AUDIT_R_KEEP || mode > FW_AUDIT_R_PATIENTS) {
        return "unset";
    }

    return fw_audit_redact_modes[mode];
}


/* ---- classes of segments --------------------------------------------- */


/* a resource type's shape: an upper case letter, then letters, one of
   them lower case */

static int
fw_audit_redact_is_type(const u_char *s, size_t len)
{
    int     lower;
    size_t  i;

    if (len < 2 || len > 64 || s[0] < 'A' || s[0] > 'Z') {
        return 0;
    }

    lower = 0;

    for (i = 1; i < len; i++) {
        if (s[i] >= 'a' && s[i] <= 'z') {
            lower = 1;

        } else if (s[i] < 'A' || s[i] > 'Z') {
            return 0;
        }
    }

    /* every type has a lower case letter: "MRN" is not one */
    return lower;
}


/* "_history", "_search", an operation "$name", "metadata" */

static int
fw_audit_redact_is_keyword(const u_char *s, size_t len)
{
    size_t  i;

    if (len == 8 && memcmp(s, "metadata", 8) == 0) {
        return 1;
    }

    if (len < 2 || len > 64) {
        return 0;
    }

    if (s[0] == '_') {
        for (i = 1; i < len; i++) {
            if (s[i] < 'a' || s[i] > 'z') {
                return 0;
            }
        }

        return 1;
    }

    if (s[0] != '$'
        || !((s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z')))
    {
        return 0;
    }

    for (i = 2; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


static int
fw_audit_redact_is_name(const u_char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > 128
        || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')
             || s[0] == '_'))
    {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'
              || s[i] == '.' || s[i] == ':'))
        {
            return 0;
        }
    }

    return 1;
}


static int
fw_audit_redact_is_digits(const u_char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > 20) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


static int
fw_audit_redact_has(const u_char *s, size_t len, const char *what)
{
    size_t  i, n;

    n = strlen(what);

    for (i = 0; i + n <= len; i++) {
        if (memcmp(s + i, what, n) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
fw_audit_redact_is_secret(const u_char *s, size_t len)
{
    size_t              i, n;
    const char *const  *p;

    for (p = fw_audit_redact_secrets; *p; p++) {
        n = strlen(*p);

        if (n != len) {
            continue;
        }

        for (i = 0; i < n; i++) {
            if ((s[i] | 0x20) != (*p)[i] && s[i] != (u_char) (*p)[i]) {
                break;
            }
        }

        if (i == n) {
            return 1;
        }
    }

    return 0;
}


static int
fw_audit_redact_hex(u_char c)
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


/* %XX decoded, a malformed escape kept as it is; out holds len bytes */

static size_t
fw_audit_redact_decode(const u_char *s, size_t len, u_char *out)
{
    int      h, l;
    size_t   i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len) {
            h = fw_audit_redact_hex(s[i + 1]);
            l = fw_audit_redact_hex(s[i + 2]);

            if (h >= 0 && l >= 0) {
                out[n++] = (u_char) (h << 4 | l);
                i += 2;
                continue;
            }
        }

        out[n++] = s[i];
    }

    return n;
}


/* ---- hashes ------------------------------------------------------------ */


size_t
fw_audit_redact_hash(const fw_audit_redactor_t *rd, const u_char *v,
    size_t len, u_char *out)
{
    int        rc;
    size_t     n, dlen;
    u_char     mac[FW_AUDIT_MAC_LEN], dec[FW_AUDIT_R_DECODE_MAX];
    u_char     digits[20], *p;
    uint64_t   e;

    if (rd == NULL || rd->hmac == NULL) {
        return 0;
    }

    dlen = 0;

    if (len <= sizeof(dec) && memchr(v, '%', len) != NULL) {
        dlen = fw_audit_redact_decode(v, len, dec);
        rc = fw_audit_hmac_run(rd->hmac, dec, dlen, mac);
        OPENSSL_cleanse(dec, dlen);

    } else {
        rc = fw_audit_hmac_run(rd->hmac, v, len, mac);
    }

    if (rc != FW_AUDIT_OK) {
        OPENSSL_cleanse(mac, sizeof(mac));
        return 0;
    }

    /* "fwh-" epoch "-" hex */

    p = digits + sizeof(digits);
    e = rd->epoch;

    do {
        *--p = (u_char) ('0' + e % 10);
        e /= 10;
    } while (e);

    n = digits + sizeof(digits) - p;

    memcpy(out, "fwh-", 4);
    memcpy(out + 4, p, n);
    out[4 + n] = '-';
    fw_hex_encode(mac, FW_AUDIT_R_HEX / 2, out + 5 + n);

    OPENSSL_cleanse(mac, sizeof(mac));

    return 5 + n + FW_AUDIT_R_HEX;
}


static void
fw_audit_rw_mem(fw_audit_rw_t *w, const u_char *s, size_t len)
{
    if (w->full || (size_t) (w->end - w->p) < len) {
        w->full = 1;
        return;
    }

    memcpy(w->p, s, len);
    w->p += len;
}


/* the hash of a value, or "nokey" without a key */

static void
fw_audit_rw_hash(fw_audit_rw_t *w, const fw_audit_redactor_t *rd,
    const u_char *s, size_t len, const char *nokey)
{
    size_t  n;
    u_char  h[FW_AUDIT_R_HASH_MAX];

    n = fw_audit_redact_hash(rd, s, len, h);

    if (n) {
        fw_audit_rw_mem(w, h, n);

    } else {
        fw_audit_rw_mem(w, (const u_char *) nokey, strlen(nokey));
    }
}


size_t
fw_audit_redact_value(const fw_audit_redactor_t *rd, int mode,
    const u_char *v, size_t len, u_char *out, size_t size)
{
    const u_char   *slash;
    fw_audit_rw_t   w;

    if (len == 0) {
        return 0;
    }

    if (mode == FW_AUDIT_R_PATIENTS) {
        /* "Patient/123", "https://h/fhir/RelatedPerson/9": a patient */
        mode = (fw_audit_redact_has(v, len, "Patient/")
                || fw_audit_redact_has(v, len, "RelatedPerson/"))
               ? FW_AUDIT_R_HASH : FW_AUDIT_R_KEEP;
    }

    switch (mode) {

    case FW_AUDIT_R_KEEP:
        len = len < size ? len : size;
        memcpy(out, v, len);
        return len;

    case FW_AUDIT_R_HASH:
        break;

    default:
        /* drop, and anything else: never the value */
        return 0;
    }

    if (rd == NULL || rd->hmac == NULL) {
        return 0;
    }

    w.p = out;
    w.end = out + size;
    w.full = 0;

    /* a reference keeps its type: "Patient/fwh-..." */

    slash = memchr(v, '/', len);

    if (slash && slash + 1 < v + len
        && fw_audit_redact_is_type(v, slash - v))
    {
        fw_audit_rw_mem(&w, v, slash + 1 - v);
        len -= slash + 1 - v;
        v = slash + 1;
    }

    fw_audit_rw_hash(&w, rd, v, len, "");

    return w.full ? 0 : (size_t) (w.p - out);
}


/* ---- the path ---------------------------------------------------------- */


#define FW_AUDIT_P_TYPE  0     /* a resource type may come here */
#define FW_AUDIT_P_ID    1     /* an id comes here */
#define FW_AUDIT_P_VID   2     /* after "_history" */


size_t
fw_audit_redact_path(const fw_audit_redactor_t *rd, int mode,
    const u_char *v, size_t len, size_t keep, u_char *out, size_t size)
{
    int             state;
    u_char         *mark;
    const u_char   *p, *end, *seg;
    fw_audit_rw_t   w;

    if (len == 0 || mode == FW_AUDIT_R_DROP || mode == FW_AUDIT_R_UNSET
        || mode == FW_AUDIT_R_NAMES || mode == FW_AUDIT_R_DIGEST)
    {
        return 0;
    }

    if (mode == FW_AUDIT_R_KEEP) {
        len = len < size ? len : size;
        memcpy(out, v, len);
        return len;
    }

    w.p = out;
    w.end = out + size;
    w.full = 0;

    /* the location's prefix, up to its last "/" that the path has */

    if (keep > len) {
        keep = 0;
    }

    fw_audit_rw_mem(&w, v, keep);

    if (w.full) {
        return 0;
    }

    p = v + keep;
    end = v + len;
    state = FW_AUDIT_P_TYPE;

    while (p < end) {

        mark = w.p;

        if (*p == '/') {
            fw_audit_rw_mem(&w, p, 1);
            p++;
        }

        seg = p;

        while (p < end && *p != '/') {
            p++;
        }

        if (p == seg) {
            /* an empty segment */
            continue;
        }

        if (fw_audit_redact_is_keyword(seg, p - seg)) {
            fw_audit_rw_mem(&w, seg, p - seg);
            state = (p - seg == 8 && memcmp(seg, "_history", 8) == 0)
                    ? FW_AUDIT_P_VID : FW_AUDIT_P_TYPE;

        } else if (state == FW_AUDIT_P_TYPE
                   && fw_audit_redact_is_type(seg, p - seg))
        {
            fw_audit_rw_mem(&w, seg, p - seg);

            if (mode == FW_AUDIT_R_PREFIX) {
                break;
            }

            state = FW_AUDIT_P_ID;

        } else if (state == FW_AUDIT_P_VID
                   && fw_audit_redact_is_digits(seg, p - seg))
        {
            fw_audit_rw_mem(&w, seg, p - seg);
            state = FW_AUDIT_P_TYPE;

        } else if (mode == FW_AUDIT_R_PREFIX) {
            /* no resource type: nothing of the request's own segments */
            w.p = mark;
            break;

        } else {
            /* an id; what follows an id is a type (a compartment), what
               follows anything else at a type's place is taken for an id */
            fw_audit_rw_hash(&w, rd, seg, p - seg, "*");
            state = (state == FW_AUDIT_P_TYPE) ? FW_AUDIT_P_ID
                                               : FW_AUDIT_P_TYPE;
        }

        if (w.full) {
            /* never a part of a segment */
            w.p = mark;
            break;
        }
    }

    return (size_t) (w.p - out);
}


/* ---- the query --------------------------------------------------------- */


size_t
fw_audit_redact_query(const fw_audit_redactor_t *rd, int mode,
    const u_char *v, size_t len, u_char *out, size_t size)
{
    int             secret;
    size_t          n;
    u_char         *mark;
    const u_char   *p, *end, *par, *eq;
    fw_audit_rw_t   w;

    if (len == 0) {
        return 0;
    }

    if (mode != FW_AUDIT_R_KEEP && mode != FW_AUDIT_R_HASH
        && mode != FW_AUDIT_R_NAMES)
    {
        return 0;
    }

    if (mode == FW_AUDIT_R_HASH && (rd == NULL || rd->hmac == NULL)) {
        mode = FW_AUDIT_R_NAMES;
    }

    w.p = out;
    w.end = out + size;
    w.full = 0;

    p = v;
    end = v + len;

    while (p < end) {

        mark = w.p;
        par = p;

        while (p < end && *p != '&') {
            p++;
        }

        if (p == par) {
            p++;
            continue;
        }

        if (w.p != out) {
            fw_audit_rw_mem(&w, (const u_char *) "&", 1);
        }

        eq = memchr(par, '=', p - par);
        secret = eq && fw_audit_redact_is_secret(par, eq - par);

        if (mode == FW_AUDIT_R_KEEP && !secret) {
            /* a kept value may be cut, as any kept value */
            n = w.full ? 0 : (size_t) (w.end - w.p);

            if (n < (size_t) (p - par)) {
                fw_audit_rw_mem(&w, par, n);
                break;
            }

            fw_audit_rw_mem(&w, par, p - par);

        } else {
            if (eq && fw_audit_redact_is_name(par, eq - par)) {
                fw_audit_rw_mem(&w, par, eq + 1 - par);
                par = eq + 1;
            }

            if (par == p) {
                /* "name=": no value */

            } else if (mode == FW_AUDIT_R_HASH && !secret) {
                fw_audit_rw_hash(&w, rd, par, p - par, "*");

            } else {
                fw_audit_rw_mem(&w, (const u_char *) "*", 1);
            }
        }

        if (w.full) {
            w.p = mark;
            break;
        }

        if (p < end) {
            p++;
        }
    }

    return (size_t) (w.p - out);
}
