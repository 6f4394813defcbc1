/*
 * fhirwall JWT: DPoP proofs (RFC 9449) and certificate-bound tokens
 * (RFC 8705), plain C.
 */


#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <math.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_dpop.h"
#include "fw_jwt_scan.h"


#define FW_JWT_DPOP_KEYS     64     /* proof keys kept per process */
#define FW_JWT_JWK_VAL_MAX   1400   /* base64url of an 8192-bit modulus */


typedef struct {
    u_char           digest[32];
    int              used;
    fw_jwt_keyset_t  ks;
} fw_jwt_dpop_key_t;


/* the JWK members the thumbprint reads, and those it refuses */
enum {
    FW_JWT_JWK_KTY = 0,
    FW_JWT_JWK_CRV,
    FW_JWT_JWK_X,
    FW_JWT_JWK_Y,
    FW_JWT_JWK_E,
    FW_JWT_JWK_N,
    FW_JWT_JWK_PRIVATE,         /* d p q dp dq qi oth k */
    FW_JWT_JWK_NMEMBERS = FW_JWT_JWK_PRIVATE + 8
};


static int fw_jwt_b64url_chars(const fw_jwt_scan_val_t *v, size_t max);
static int fw_jwt_str_is(const fw_jwt_scan_val_t *v, const char *s);
static int fw_jwt_jwk_canonical(const fw_jwt_scan_val_t *m, char *buf,
    size_t size, size_t *len);
static void fw_jwt_jwk_members(json_t *jwk, fw_jwt_scan_val_t *m);
static fw_jwt_keyset_t *fw_jwt_dpop_key(const char *canon, size_t len,
    const u_char *digest);
static int fw_jwt_htu_normalize(const u_char *p, size_t len, u_char *out,
    size_t *out_len);
static int fw_jwt_dpop_claims(const fw_jwt_dpop_req_t *rq,
    const fw_jwt_scan_val_t *pl, fw_jwt_dpop_proof_t *out);


static fw_jwt_dpop_key_t  fw_jwt_dpop_keys[FW_JWT_DPOP_KEYS];


static const char  *fw_jwt_dpop_reasons[FW_JWT_DPOP_NREASONS] = {
    "valid",
    "no DPoP proof",
    "malformed DPoP proof",
    "DPoP proof too large",
    "DPoP proof typ is not dpop+jwt",
    "DPoP proof algorithm not allowed",
    "DPoP proof jwk invalid",
    "DPoP proof jwk holds a private key",
    "DPoP proof signature invalid",
    "DPoP proof jti invalid",
    "DPoP proof htm does not match",
    "DPoP proof htu does not match",
    "DPoP proof iat out of window",
    "DPoP proof ath does not match",
    "DPoP nonce required",
    "DPoP proof replayed",
    "DPoP proof check failed"
};


/* the members of FW_JWT_JWK_*; from "d": private or symmetric material */
static const char *const  fw_jwt_jwk_names[FW_JWT_JWK_NMEMBERS] = {
    "kty", "crv", "x", "y", "e", "n",
    "d", "p", "q", "dp", "dq", "qi", "oth", "k"
};


const char *
fw_jwt_dpop_reason(int reason)
{
    if (reason < 0 || reason >= FW_JWT_DPOP_NREASONS) {
        return fw_jwt_dpop_reasons[FW_JWT_DPOP_ERROR];
    }

    return fw_jwt_dpop_reasons[reason];
}


/* a non-empty string of base64url characters, at most "max" of them */

static int
fw_jwt_b64url_chars(const fw_jwt_scan_val_t *v, size_t max)
{
    size_t         i;
    const u_char  *s;

    if (v->type != FW_JWT_SV_STRING || v->len == 0 || v->len > max) {
        return 0;
    }

    s = v->str;

    for (i = 0; i < v->len; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static int
fw_jwt_str_is(const fw_jwt_scan_val_t *v, const char *s)
{
    return v->type == FW_JWT_SV_STRING && v->len == strlen(s)
           && memcmp(v->str, s, v->len) == 0;
}


/* the members of a JWK given as a jansson object (the thumbprint API) */

static void
fw_jwt_jwk_members(json_t *jwk, fw_jwt_scan_val_t *m)
{
    int      i;
    json_t  *v;

    for (i = 0; i < FW_JWT_JWK_NMEMBERS; i++) {
        memset(&m[i], 0, sizeof(fw_jwt_scan_val_t));
        v = json_object_get(jwk, fw_jwt_jwk_names[i]);

        if (v == NULL) {
            continue;
        }

        m[i].type = FW_JWT_SV_OBJECT;   /* present, not a string */

        if (json_is_string(v)) {
            m[i].type = FW_JWT_SV_STRING;
            m[i].str = (const u_char *) json_string_value(v);
            m[i].len = json_string_length(v);
        }
    }
}


/*
 * RFC 7638 section 3.2: the required members only, in lexicographic
 * order, no white space.  The values are checked to be base64url (or a
 * known curve name), so nothing needs escaping.
 */

static int
fw_jwt_jwk_canonical(const fw_jwt_scan_val_t *m, char *buf, size_t size,
    size_t *len)
{
    int                       n, i;
    const char               *c;
    const fw_jwt_scan_val_t  *x, *y;

    for (i = FW_JWT_JWK_PRIVATE; i < FW_JWT_JWK_NMEMBERS; i++) {
        if (m[i].type != FW_JWT_SV_ABSENT) {
            return FW_JWT_DPOP_PRIVATE;
        }
    }

    x = &m[FW_JWT_JWK_X];
    y = &m[FW_JWT_JWK_Y];

    if (fw_jwt_str_is(&m[FW_JWT_JWK_KTY], "EC")) {

        c = fw_jwt_str_is(&m[FW_JWT_JWK_CRV], "P-256") ? "P-256"
            : fw_jwt_str_is(&m[FW_JWT_JWK_CRV], "P-384") ? "P-384"
            : fw_jwt_str_is(&m[FW_JWT_JWK_CRV], "P-521") ? "P-521" : NULL;

        if (c == NULL || !fw_jwt_b64url_chars(x, 100)
            || !fw_jwt_b64url_chars(y, 100))
        {
            return FW_JWT_DPOP_JWK;
        }

        n = snprintf(buf, size,
                     "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%.*s\","
                     "\"y\":\"%.*s\"}",
                     c, (int) x->len, x->str, (int) y->len, y->str);

    } else if (fw_jwt_str_is(&m[FW_JWT_JWK_KTY], "RSA")) {
        x = &m[FW_JWT_JWK_E];
        y = &m[FW_JWT_JWK_N];

        if (!fw_jwt_b64url_chars(x, 16)
            || !fw_jwt_b64url_chars(y, FW_JWT_JWK_VAL_MAX))
        {
            return FW_JWT_DPOP_JWK;
        }

        n = snprintf(buf, size,
                     "{\"e\":\"%.*s\",\"kty\":\"RSA\",\"n\":\"%.*s\"}",
                     (int) x->len, x->str, (int) y->len, y->str);

    } else if (fw_jwt_str_is(&m[FW_JWT_JWK_KTY], "OKP")) {

        if (!fw_jwt_str_is(&m[FW_JWT_JWK_CRV], "Ed25519")
            || !fw_jwt_b64url_chars(x, 100))
        {
            return FW_JWT_DPOP_JWK;
        }

        n = snprintf(buf, size, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
                     "\"x\":\"%.*s\"}", (int) x->len, x->str);

    } else {
        /* "oct" (a shared secret is no proof of possession) or unknown */
        return FW_JWT_DPOP_JWK;
    }

    if (n < 0 || (size_t) n >= size) {
        return FW_JWT_DPOP_JWK;
    }

    *len = (size_t) n;

    return FW_JWT_DPOP_OK;
}


int
fw_jwt_jwk_thumbprint(json_t *jwk, u_char *jkt)
{
    int                rc;
    char               canon[FW_JWT_JWK_VAL_MAX + 128];
    u_char             digest[32];
    size_t             len;
    fw_jwt_scan_val_t  m[FW_JWT_JWK_NMEMBERS];

    if (!json_is_object(jwk)) {
        return FW_JWT_DPOP_JWK;
    }

    fw_jwt_jwk_members(jwk, m);

    rc = fw_jwt_jwk_canonical(m, canon, sizeof(canon), &len);

    if (rc != FW_JWT_DPOP_OK) {
        return rc;
    }

    if (fw_jwt_digest((u_char *) canon, len, digest) != FW_OK) {
        return FW_JWT_DPOP_ERROR;
    }

    jkt[fw_base64url_encode(digest, 32, jkt)] = '\0';

    return FW_JWT_DPOP_OK;
}


/*
 * The key of a proof, made from its canonical JWK (which the key set
 * parser validates: curve point, RSA size) and kept by thumbprint: a
 * client signs its proofs with one key.
 */

static fw_jwt_keyset_t *
fw_jwt_dpop_key(const char *canon, size_t len, const u_char *digest)
{
    char                err[FW_JWT_ERRLEN];
    size_t              added, skipped;
    fw_jwt_dpop_key_t  *k;

    k = &fw_jwt_dpop_keys[(digest[0] | (digest[1] << 8))
                          % FW_JWT_DPOP_KEYS];

    if (k->used && memcmp(k->digest, digest, 32) == 0) {
        return &k->ks;
    }

    if (k->used) {
        fw_jwt_keyset_free(&k->ks);
        k->used = 0;
    }

    fw_jwt_keyset_init(&k->ks);

    if (fw_jwt_keyset_add_jwks(&k->ks, (const u_char *) canon, len, &added,
                               &skipped, err)
        != FW_OK)
    {
        fw_jwt_keyset_free(&k->ks);
        return NULL;
    }

    memcpy(k->digest, digest, 32);
    k->used = 1;

    return &k->ks;
}


void
fw_jwt_dpop_cleanup(void)
{
    size_t  i;

    for (i = 0; i < FW_JWT_DPOP_KEYS; i++) {
        if (fw_jwt_dpop_keys[i].used) {
            fw_jwt_keyset_free(&fw_jwt_dpop_keys[i].ks);
            fw_jwt_dpop_keys[i].used = 0;
        }
    }
}


int
fw_jwt_dpop_verify(const fw_jwt_dpop_req_t *rq, const u_char *proof,
    size_t len, fw_jwt_dpop_proof_t *out)
{
    int                 rc;
    char                canon[FW_JWT_JWK_VAL_MAX + 128];
    u_char              digest[32], strs[FW_JWT_DPOP_MAX];
    size_t              clen;
    fw_jwt_token_t      t;
    fw_jwt_keyset_t     ks, *key;
    fw_jwt_scan_val_t   jwk[FW_JWT_JWK_NMEMBERS], *typ;

    memset(out, 0, sizeof(fw_jwt_dpop_proof_t));

    if (len == 0) {
        return FW_JWT_DPOP_MISSING;
    }

    if (len > FW_JWT_DPOP_MAX) {
        return FW_JWT_DPOP_TOO_LARGE;
    }

    rc = fw_jwt_decode(&t, proof, len, FW_JWT_DPOP_MAX);

    if (rc == FW_JWT_BAD_ALG) {
        /* "none", unknown names */
        return FW_JWT_DPOP_ALG;
    }

    if (rc != FW_JWT_VALID) {
        return rc == FW_JWT_ERROR ? FW_JWT_DPOP_ERROR : FW_JWT_DPOP_MALFORMED;
    }

    /*
     * typ: exactly "dpop+jwt" (RFC 9449 section 4.2); the header and the
     * payload as the scanner read them, no jansson document
     */

    typ = &t.doc->h[FW_JWT_SH_TYP];

    if (!fw_jwt_str_is(typ, "dpop+jwt")) {
        rc = FW_JWT_DPOP_TYP;
        goto done;
    }

    if (!(FW_JWT_ALG_BIT(t.alg) & rq->algs & FW_JWT_DPOP_ALGS)) {
        rc = FW_JWT_DPOP_ALG;
        goto done;
    }

    /* the jwk's text is shorter than the proof: strs holds its strings */

    if (t.doc->h[FW_JWT_SH_JWK].type != FW_JWT_SV_OBJECT
        || t.doc->h[FW_JWT_SH_JWK].raw_len >= sizeof(strs)
        || fw_jwt_scan_members(&t.doc->h[FW_JWT_SH_JWK], fw_jwt_jwk_names,
                               FW_JWT_JWK_NMEMBERS, jwk, strs)
           != FW_OK)
    {
        rc = FW_JWT_DPOP_JWK;
        goto done;
    }

    rc = fw_jwt_jwk_canonical(jwk, canon, sizeof(canon), &clen);
    if (rc != FW_JWT_DPOP_OK) {
        goto done;
    }

    if (fw_jwt_digest((u_char *) canon, clen, digest) != FW_OK) {
        rc = FW_JWT_DPOP_ERROR;
        goto done;
    }

    key = fw_jwt_dpop_key(canon, clen, digest);

    if (key == NULL) {
        rc = FW_JWT_DPOP_JWK;
        goto done;
    }

    ks = *key;
    ks.algs = rq->algs & FW_JWT_DPOP_ALGS;

    rc = fw_jwt_verify(&ks, &t, proof);

    if (rc == FW_JWT_UNKNOWN_KEY || rc == FW_JWT_BAD_ALG) {
        /* the algorithm does not fit the key type */
        rc = FW_JWT_DPOP_ALG;
        goto done;
    }

    if (rc != FW_JWT_VALID) {
        rc = FW_JWT_DPOP_SIGNATURE;
        goto done;
    }

    out->jkt[fw_base64url_encode(digest, 32, out->jkt)] = '\0';
    out->alg = t.alg;

    rc = fw_jwt_dpop_claims(rq, t.doc->p, out);

done:

    fw_jwt_token_free(&t);

    return rc;
}


static int
fw_jwt_dpop_claims(const fw_jwt_dpop_req_t *rq, const fw_jwt_scan_val_t *pl,
    fw_jwt_dpop_proof_t *out)
{
    u_char                    buf[FW_JWT_THUMB_LEN + 1 + FW_JWT_DPOP_JTI_MAX];
    u_char                    ath[FW_JWT_THUMB_LEN + 1], digest[32];
    size_t                    i, n;
    double                    iat;
    const fw_jwt_scan_val_t  *v;

    /* jti: a unique identifier, for replay detection */

    v = &pl[FW_JWT_SP_JTI];

    if (v->type != FW_JWT_SV_STRING || v->len == 0
        || v->len > FW_JWT_DPOP_JTI_MAX)
    {
        return FW_JWT_DPOP_JTI;
    }

    memcpy(buf, out->jkt, FW_JWT_THUMB_LEN);
    buf[FW_JWT_THUMB_LEN] = '.';
    memcpy(buf + FW_JWT_THUMB_LEN + 1, v->str, v->len);

    if (fw_jwt_digest(buf, FW_JWT_THUMB_LEN + 1 + v->len, out->replay)
        != FW_OK)
    {
        return FW_JWT_DPOP_ERROR;
    }

    /* htm: the method, case-sensitive */

    v = &pl[FW_JWT_SP_HTM];

    if (v->type != FW_JWT_SV_STRING || v->len != rq->htm.len
        || memcmp(v->str, rq->htm.data, rq->htm.len) != 0)
    {
        return FW_JWT_DPOP_HTM;
    }

    v = &pl[FW_JWT_SP_HTU];

    if (v->type != FW_JWT_SV_STRING
        || !fw_jwt_dpop_htu_match(v->str, v->len, rq->htu.data, rq->htu.len))
    {
        return FW_JWT_DPOP_HTU;
    }

    /* iat: a NumericDate within the window */

    v = &pl[FW_JWT_SP_IAT];

    if (v->type != FW_JWT_SV_INTEGER && v->type != FW_JWT_SV_REAL) {
        return FW_JWT_DPOP_IAT;
    }

    iat = v->number;

    if (!isfinite(iat) || iat < (double) (rq->now - rq->window)
        || iat > (double) (rq->now + rq->leeway))
    {
        return FW_JWT_DPOP_IAT;
    }

    out->iat = (time_t) iat;

    /* ath: base64url(SHA-256(access token)), when there is a token */

    v = &pl[FW_JWT_SP_ATH];

    if (rq->token.len) {
        if (v->type != FW_JWT_SV_STRING) {
            return FW_JWT_DPOP_ATH;
        }

        if (fw_jwt_digest(rq->token.data, rq->token.len, digest) != FW_OK) {
            return FW_JWT_DPOP_ERROR;
        }

        n = fw_base64url_encode(digest, 32, ath);

        if (!fw_ct_equal(ath, n, v->str, v->len)) {
            return FW_JWT_DPOP_ATH;
        }

    } else if (v->type != FW_JWT_SV_ABSENT && v->type != FW_JWT_SV_STRING) {
        return FW_JWT_DPOP_MALFORMED;
    }

    /* nonce: one the server issued, when it issues them */

    if (rq->nnonces) {
        v = &pl[FW_JWT_SP_NONCE];

        if (v->type != FW_JWT_SV_STRING) {
            return FW_JWT_DPOP_NONCE;
        }

        for (i = 0; i < rq->nnonces; i++) {
            if (fw_ct_equal(rq->nonces[i].data, rq->nonces[i].len, v->str,
                            v->len))
            {
                out->nonce = (int) i;
                return FW_JWT_DPOP_OK;
            }
        }

        return FW_JWT_DPOP_NONCE;
    }

    return FW_JWT_DPOP_OK;
}


/*
 * scheme "://" authority path: scheme and host lowercased, the default
 * port (80 for http, 443 for https) removed, an empty path made "/".  No
 * userinfo, query or fragment.
 */

static int
fw_jwt_htu_normalize(const u_char *p, size_t len, u_char *out,
    size_t *out_len)
{
    int            https;
    size_t         i, n, hlen;
    const u_char  *host, *port, *end, *path, *last;

    if (len == 0 || len > FW_JWT_HTU_MAX) {
        return FW_ERROR;
    }

    last = p + len;

    for (i = 0; i < len; i++) {
        if (p[i] == '?' || p[i] == '#' || p[i] <= 0x20 || p[i] >= 0x7f) {
            return FW_ERROR;
        }
    }

    if (len > 7 && strncasecmp((const char *) p, "http://", 7) == 0) {
        https = 0;
        p += 7;

    } else if (len > 8 && strncasecmp((const char *) p, "https://", 8) == 0) {
        https = 1;
        p += 8;

    } else {
        return FW_ERROR;
    }

    host = p;
    path = memchr(host, '/', last - host);

    if (path == NULL) {
        path = last;
    }

    if (memchr(host, '@', path - host) != NULL || path == host) {
        return FW_ERROR;
    }

    /* the port: after the last ':' that is not inside an IPv6 literal */

    port = NULL;

    for (end = path; end > host; end--) {
        if (end[-1] == ']') {
            break;
        }

        if (end[-1] == ':') {
            port = end;
            break;
        }
    }

    hlen = (port ? (size_t) (port - 1 - host) : (size_t) (path - host));

    if (hlen == 0) {
        return FW_ERROR;
    }

    n = 0;

    memcpy(out, https ? "https://" : "http://", https ? 8 : 7);
    n += https ? 8 : 7;

    for (i = 0; i < hlen; i++) {
        out[n++] = (host[i] >= 'A' && host[i] <= 'Z') ? host[i] | 0x20
                                                      : host[i];
    }

    if (port != NULL) {
        for (end = port; end < path; end++) {
            if (*end < '0' || *end > '9') {
                return FW_ERROR;
            }
        }

        /* leading zeros are kept out: "443" and "0443" differ here */

        if (!((https && path - port == 3 && memcmp(port, "443", 3) == 0)
              || (!https && path - port == 2 && memcmp(port, "80", 2) == 0)
              || path == port))
        {
            out[n++] = ':';
            memcpy(out + n, port, path - port);
            n += path - port;
        }
    }

    if (path == last) {
        out[n++] = '/';

    } else {
        memcpy(out + n, path, last - path);
        n += last - path;
    }

    *out_len = n;

    return FW_OK;
}


int
fw_jwt_dpop_htu_match(const u_char *htu, size_t len, const u_char *want,
    size_t wlen)
{
    u_char  a[FW_JWT_HTU_MAX + 16], b[FW_JWT_HTU_MAX + 16];
    size_t  alen, blen;

    if (fw_jwt_htu_normalize(htu, len, a, &alen) != FW_OK
        || fw_jwt_htu_normalize(want, wlen, b, &blen) != FW_OK)
    {
        return 0;
    }

    return alen == blen && memcmp(a, b, alen) == 0;
}


int
fw_jwt_cnf_get(json_t *payload, const char *name, fw_jwt_str_t *value)
{
    json_t  *cnf, *v;

    if (payload == NULL) {
        /* no document (memory): not "unbound", which would let it pass */
        return -1;
    }

    cnf = json_object_get(payload, "cnf");

    if (cnf == NULL) {
        return 0;
    }

    if (!json_is_object(cnf)) {
        return -1;
    }

    v = json_object_get(cnf, name);

    if (v == NULL) {
        return 0;
    }

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return -1;
    }

    value->data = (const u_char *) json_string_value(v);
    value->len = json_string_length(v);

    return 1;
}


int
fw_jwt_token_cnf(fw_jwt_token_t *t, const char *name, fw_jwt_str_t *value)
{
    json_t            *payload;
    u_char             strs[1024];
    fw_jwt_scan_val_t  cnf, v;

    if (t->payload != NULL || t->doc == NULL) {
        /* a document given to the token (introspection) */
        goto json;
    }

    cnf = t->doc->p[FW_JWT_SP_CNF];

    if (cnf.type == FW_JWT_SV_ABSENT) {
        return 0;
    }

    if (cnf.type != FW_JWT_SV_OBJECT) {
        return -1;
    }

    if (cnf.raw_len >= sizeof(strs)
        || fw_jwt_scan_members(&cnf, &name, 1, &v, strs) != FW_OK)
    {
        goto json;
    }

    if (v.type == FW_JWT_SV_ABSENT) {
        return 0;
    }

    if (v.type != FW_JWT_SV_STRING || v.len == 0) {
        return -1;
    }

    if (v.str != v.raw) {
        /* unescaped into strs, which does not outlive this call */
        goto json;
    }

    value->data = v.str;
    value->len = v.len;

    return 1;

json:

    payload = fw_jwt_token_payload(t);

    if (payload == NULL) {
        /* no memory for the document: not "unbound", nor "malformed" */
        return -2;
    }

    return fw_jwt_cnf_get(payload, name, value);
}


int
fw_jwt_x5t_match(const fw_jwt_str_t *x5t, const u_char *der, size_t len)
{
    u_char  digest[32], b64[FW_JWT_THUMB_LEN + 1];
    size_t  n;

    if (der == NULL || len == 0
        || fw_jwt_digest(der, len, digest) != FW_OK)
    {
        return 0;
    }

    n = fw_base64url_encode(digest, 32, b64);

    return fw_ct_equal(b64, n, x5t->data, x5t->len);
}


int
fw_jwt_dpop_nonce(const u_char *secret, size_t len, long slot, u_char *out)
{
    int           n;
    char          msg[64];
    u_char        mac[EVP_MAX_MD_SIZE];
    unsigned int  mlen;

    n = snprintf(msg, sizeof(msg), "fhirwall-dpop-nonce:%ld", slot);

    if (n <= 0
        || HMAC(fw_jwt_alg_md(FW_JWT_HS256), secret, (int) len,
                (u_char *) msg, (size_t) n, mac, &mlen) == NULL
        || mlen != 32)
    {
        return FW_ERROR;
    }

    out[fw_base64url_encode(mac, 32, out)] = '\0';

    return FW_OK;
}
