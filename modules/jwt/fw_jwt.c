/*
 * fhirwall JWT: decoding and signature verification (plain C).
 */


#include <string.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_scan.h"


static int fw_jwt_dots(const u_char *tok, size_t len, size_t *dots);
static int fw_jwt_check_header(fw_jwt_token_t *t);
static int fw_jwt_verify_key(const fw_jwt_key_t *key, fw_jwt_token_t *t,
    const u_char *tok);
static int fw_jwt_verify_hmac(const fw_jwt_key_t *key, int alg,
    const u_char *data, size_t len, const u_char *sig, size_t sig_len);
static size_t fw_jwt_der_int(u_char *d, const u_char *p, size_t n);
static int fw_jwt_verify_pkey(const fw_jwt_key_t *key, int alg,
    const u_char *data, size_t len, const u_char *sig, size_t sig_len);


static const char  *fw_jwt_alg_names[FW_JWT_NALGS] = {
    "HS256", "HS384", "HS512",
    "RS256", "RS384", "RS512",
    "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512",
    "EdDSA"
};


static const char  *fw_jwt_status_names[FW_JWT_NSTATUS] = {
    "valid", "missing", "malformed", "too_large", "unsupported_alg",
    "unknown_key", "bad_signature", "expired", "not_yet_valid",
    "bad_issuer", "bad_audience", "bad_type", "invalid_claim",
    "lifetime_exceeded", "claim_failed", "role_failed", "replayed",
    "revoked", "error",
    "invalid_dpop_proof", "use_dpop_nonce", "dpop_required",
    "key_mismatch", "cert_mismatch", "dpop_unavailable", "inactive",
    "introspection_unavailable", "unavailable"
};


static const EVP_MD  *fw_jwt_sha[3];
static EVP_MAC       *fw_jwt_hmac_alg;
static EVP_MD_CTX    *fw_jwt_md_ctx;


/*
 * Everything OpenSSL 3 would otherwise look up per call (a fetch takes a
 * lock and searches the provider store): the digests, HMAC and one digest
 * context that every hash of the process reuses (the workers are single
 * threaded).
 */

int
fw_jwt_init(void)
{
    static const char  *names[3] = { "SHA256", "SHA384", "SHA512" };
    int                 i;

    for (i = 0; i < 3; i++) {
        if (fw_jwt_sha[i] == NULL) {
            fw_jwt_sha[i] = EVP_MD_fetch(NULL, names[i], NULL);
            if (fw_jwt_sha[i] == NULL) {
                return FW_ERROR;
            }
        }
    }

    if (fw_jwt_hmac_alg == NULL) {
        fw_jwt_hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (fw_jwt_hmac_alg == NULL) {
            return FW_ERROR;
        }
    }

    if (fw_jwt_md_ctx == NULL) {
        fw_jwt_md_ctx = EVP_MD_CTX_new();
        if (fw_jwt_md_ctx == NULL) {
            return FW_ERROR;
        }
    }

    return FW_OK;
}


EVP_MAC *
fw_jwt_hmac(void)
{
    return fw_jwt_hmac_alg;
}


int
fw_jwt_hash(const EVP_MD *md, const u_char *data, size_t len, u_char *out,
    unsigned int *out_len)
{
    /* the context keeps the digest's provider context between calls */

    if (fw_jwt_md_ctx == NULL) {
        return EVP_Digest(data, len, out, out_len, md, NULL) == 1
               ? FW_OK : FW_ERROR;
    }

    if (EVP_DigestInit_ex2(fw_jwt_md_ctx, md, NULL) != 1
        || EVP_DigestUpdate(fw_jwt_md_ctx, data, len) != 1
        || EVP_DigestFinal_ex(fw_jwt_md_ctx, out, out_len) != 1)
    {
        return FW_ERROR;
    }

    return FW_OK;
}


void
fw_jwt_cleanup(void)
{
    int  i;

    for (i = 0; i < 3; i++) {
        EVP_MD_free((EVP_MD *) fw_jwt_sha[i]);
        fw_jwt_sha[i] = NULL;
    }

    EVP_MAC_free(fw_jwt_hmac_alg);
    fw_jwt_hmac_alg = NULL;

    EVP_MD_CTX_free(fw_jwt_md_ctx);
    fw_jwt_md_ctx = NULL;
}


const EVP_MD *
fw_jwt_alg_md(int alg)
{
    int  i;

    switch (alg) {
    case FW_JWT_HS256: case FW_JWT_RS256: case FW_JWT_PS256:
    case FW_JWT_ES256:
        i = 0;
        break;
    case FW_JWT_HS384: case FW_JWT_RS384: case FW_JWT_PS384:
    case FW_JWT_ES384:
        i = 1;
        break;
    case FW_JWT_HS512: case FW_JWT_RS512: case FW_JWT_PS512:
    case FW_JWT_ES512:
        i = 2;
        break;
    default:
        return NULL;
    }

    if (fw_jwt_sha[i] != NULL) {
        return fw_jwt_sha[i];
    }

    return i == 0 ? EVP_sha256() : (i == 1 ? EVP_sha384() : EVP_sha512());
}


int
fw_jwt_alg_from_name(const u_char *name, size_t len)
{
    int  i;

    for (i = 0; i < FW_JWT_NALGS; i++) {
        if (strlen(fw_jwt_alg_names[i]) == len
            && memcmp(fw_jwt_alg_names[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
fw_jwt_alg_name(int alg)
{
    if (alg < 0 || alg >= FW_JWT_NALGS) {
        return "unknown";
    }

    return fw_jwt_alg_names[alg];
}


const char *
fw_jwt_status_name(int status)
{
    if (status < 0 || status >= FW_JWT_NSTATUS) {
        return "error";
    }

    return fw_jwt_status_names[status];
}


int
fw_jwt_hmac_alg_min_len(int alg)
{
    switch (alg) {
    case FW_JWT_HS256:
        return 32;
    case FW_JWT_HS384:
        return 48;
    case FW_JWT_HS512:
        return 64;
    }

    return 0;
}


/* the two dots of "header.payload.signature": FW_OK, or FW_ERROR */

static int
fw_jwt_dots(const u_char *tok, size_t len, size_t *dots)
{
    size_t  i, nd;

    nd = 0;

    for (i = 0; i < len; i++) {
        if (tok[i] == '.') {
            if (nd == 2) {
                return FW_ERROR;
            }

            dots[nd++] = i;
        }
    }

    if (nd != 2) {
        return FW_ERROR;
    }

    return FW_OK;
}


/*
 * One allocation: the doc, the decoded header, payload and signature, the
 * scanner's unescaped strings and its key stack (shared by both scans)
 */

int
fw_jwt_decode(fw_jwt_token_t *t, const u_char *tok, size_t len, size_t max)
{
    void          *kstack[1024];
    size_t         dots[2], hlen, plen, slen, hn, pn, sn, scratch, size, n;
    u_char        *d, *hs, *ps, *ks;
    fw_jwt_doc_t  *doc;

    memset(t, 0, sizeof(fw_jwt_token_t));
    t->alg = -1;

    if (len == 0) {
        return FW_JWT_MALFORMED;
    }

    if (len > max) {
        return FW_JWT_TOO_LARGE;
    }

    if (fw_jwt_dots(tok, len, dots) != FW_OK) {
        return FW_JWT_MALFORMED;
    }

    hlen = dots[0];
    plen = dots[1] - dots[0] - 1;
    slen = len - dots[1] - 1;

    if (hlen == 0 || plen == 0 || slen == 0) {
        return FW_JWT_MALFORMED;
    }

    t->signed_len = dots[1];

    hn = fw_base64_decoded_len(hlen);
    pn = fw_base64_decoded_len(plen);
    sn = fw_base64_decoded_len(slen);

    /*
     * the key stack is used by one scan at a time (the larger one's) and
     * only here: on the stack when it fits (segments up to about 2 KB),
     * so that a cached token does not keep it
     */
    scratch = fw_jwt_scan_keys_size(hn > pn ? hn : pn);

    size = sizeof(fw_jwt_doc_t) + hn + pn + sn + (hn + 1) + (pn + 1);

    if (scratch > sizeof(kstack)) {
        size += 2 * sizeof(void *) + scratch;
    }

    doc = malloc(size);
    if (doc == NULL) {
        return FW_JWT_ERROR;
    }

    doc->refs = 1;
    doc->header = NULL;
    doc->payload = NULL;
    t->doc = doc;

    d = (u_char *) (doc + 1);
    t->sig = d + hn + pn;
    hs = t->sig + sn;
    ps = hs + hn + 1;
    ks = (u_char *) kstack;

    if (scratch > sizeof(kstack)) {
        ks = ps + pn + 1;
        ks += (sizeof(void *) - (uintptr_t) ks % sizeof(void *))
              % sizeof(void *);
    }

    /* each scan's unescaped strings stay (hs, ps), its keys do not (ks) */

    if (fw_base64url_decode(tok, hlen, d, &n) != FW_OK) {
        goto malformed;
    }

    doc->htext = d;
    doc->hlen = n;

    if (fw_jwt_scan(d, n, fw_jwt_scan_header_names, FW_JWT_SH_N, doc->h,
                    hs, ks, scratch)
        != FW_OK)
    {
        goto malformed;
    }

    d += n;

    if (fw_base64url_decode(tok + dots[0] + 1, plen, d, &n) != FW_OK) {
        goto malformed;
    }

    doc->ptext = d;
    doc->plen = n;

    if (fw_jwt_scan(d, n, fw_jwt_scan_payload_names, FW_JWT_SP_N, doc->p,
                    ps, ks, scratch)
        != FW_OK)
    {
        goto malformed;
    }

    if (fw_base64url_decode(tok + dots[1] + 1, slen, t->sig, &t->sig_len)
        != FW_OK || t->sig_len == 0)
    {
        goto malformed;
    }

    return fw_jwt_check_header(t);

malformed:

    fw_jwt_token_free(t);
    return FW_JWT_MALFORMED;
}


static int
fw_jwt_check_header(fw_jwt_token_t *t)
{
    int                 rc;
    fw_jwt_scan_val_t  *h;

    h = t->doc->h;

    if (h[FW_JWT_SH_ALG].type != FW_JWT_SV_STRING) {
        rc = FW_JWT_MALFORMED;
        goto failed;
    }

    t->alg = fw_jwt_alg_from_name(h[FW_JWT_SH_ALG].str,
                                  h[FW_JWT_SH_ALG].len);

    if (t->alg < 0) {
        /* "none", "None", "hs256", ES256K, ...: case-sensitive, no none */
        rc = FW_JWT_BAD_ALG;
        goto failed;
    }

    /*
     * No header parameter that changes the processing is understood: any
     * "crit" is refused, so is JWE ("enc") and an unencoded payload
     * ("b64").  "jku", "x5u", "jwk", "x5c" are ignored, never followed.
     */

    if (h[FW_JWT_SH_CRIT].type != FW_JWT_SV_ABSENT
        || h[FW_JWT_SH_ENC].type != FW_JWT_SV_ABSENT
        || h[FW_JWT_SH_ZIP].type != FW_JWT_SV_ABSENT
        || h[FW_JWT_SH_B64].type != FW_JWT_SV_ABSENT)
    {
        rc = FW_JWT_MALFORMED;
        goto failed;
    }

    if (h[FW_JWT_SH_KID].type != FW_JWT_SV_ABSENT) {
        if (h[FW_JWT_SH_KID].type != FW_JWT_SV_STRING) {
            rc = FW_JWT_MALFORMED;
            goto failed;
        }

        t->kid = (const char *) h[FW_JWT_SH_KID].str;
        t->kid_len = h[FW_JWT_SH_KID].len;
    }

    if (h[FW_JWT_SH_TYP].type != FW_JWT_SV_ABSENT
        && h[FW_JWT_SH_TYP].type != FW_JWT_SV_STRING)
    {
        rc = FW_JWT_MALFORMED;
        goto failed;
    }

    return FW_JWT_VALID;

failed:

    fw_jwt_token_free(t);
    return rc;
}


/* the documents, parsed once per decoded token (the text was accepted) */

json_t *
fw_jwt_token_header(fw_jwt_token_t *t)
{
    if (t->header != NULL || t->doc == NULL) {
        return t->header;
    }

    if (t->doc->header == NULL) {
        t->doc->header = fw_jwt_json_segment(t->doc->htext, t->doc->hlen);
    }

    return t->doc->header;
}


json_t *
fw_jwt_token_payload(fw_jwt_token_t *t)
{
    if (t->payload != NULL || t->doc == NULL) {
        return t->payload;
    }

    if (t->doc->payload == NULL) {
        t->doc->payload = fw_jwt_json_segment(t->doc->ptext, t->doc->plen);
    }

    return t->doc->payload;
}


void
fw_jwt_token_free(fw_jwt_token_t *t)
{
    if (t->header) {
        json_decref(t->header);
    }

    if (t->payload) {
        json_decref(t->payload);
    }

    if (t->doc && --t->doc->refs == 0) {
        if (t->doc->header) {
            json_decref(t->doc->header);
        }

        if (t->doc->payload) {
            json_decref(t->doc->payload);
        }

        free(t->doc);
    }

    t->header = NULL;
    t->payload = NULL;
    t->doc = NULL;
    t->sig = NULL;
    t->kid = NULL;
}


void
fw_jwt_token_ref(fw_jwt_token_t *dst, const fw_jwt_token_t *src)
{
    *dst = *src;
    dst->sig = NULL;
    dst->sig_len = 0;

    json_incref(dst->header);
    json_incref(dst->payload);

    if (dst->doc) {
        dst->doc->refs++;
    }
}


int
fw_jwt_verify(const fw_jwt_keyset_t *ks, fw_jwt_token_t *t,
    const u_char *tok)
{
    int                  matched;
    size_t               i, h;
    uint32_t             s;
    unsigned             bit;
    const fw_jwt_key_t  *k;

    bit = FW_JWT_ALG_BIT(t->alg);

    if (t->alg < 0 || !(ks->algs & bit)) {
        return FW_JWT_BAD_ALG;
    }

    matched = 0;

    if (t->kid != NULL && ks->kid_slots != NULL
        && ks->kid_nkeys == ks->nkeys)
    {
        /* the keys of this kid (the hash), then those without a kid */

        h = fw_jwt_kid_hash((const u_char *) t->kid, t->kid_len)
            & ks->kid_mask;

        while ((s = ks->kid_slots[h]) != 0) {
            k = &ks->keys[s - 1];
            h = (h + 1) & ks->kid_mask;

            if (k->kid_len != t->kid_len
                || memcmp(k->kid, t->kid, t->kid_len) != 0
                || !(k->algs & bit))
            {
                continue;
            }

            matched = 1;

            if (fw_jwt_verify_key(k, t, tok) == FW_OK) {
                return FW_JWT_VALID;
            }
        }

        for (i = 0; ks->nanon && i < ks->nkeys; i++) {
            k = &ks->keys[i];

            if (k->kid != NULL || !(k->algs & bit)) {
                continue;
            }

            matched = 1;

            if (fw_jwt_verify_key(k, t, tok) == FW_OK) {
                return FW_JWT_VALID;
            }
        }

        return matched ? FW_JWT_BAD_SIGNATURE : FW_JWT_UNKNOWN_KEY;
    }

    for (i = 0; i < ks->nkeys; i++) {
        k = &ks->keys[i];

        if (k->kid != NULL && t->kid != NULL
            && (k->kid_len != t->kid_len
                || memcmp(k->kid, t->kid, t->kid_len) != 0))
        {
            continue;
        }

        /* a token without kid is tried with every key of its algorithm */

        if (!(k->algs & bit)) {
            continue;
        }

        matched = 1;

        if (fw_jwt_verify_key(k, t, tok) == FW_OK) {
            return FW_JWT_VALID;
        }
    }

    return matched ? FW_JWT_BAD_SIGNATURE : FW_JWT_UNKNOWN_KEY;
}


static int
fw_jwt_verify_key(const fw_jwt_key_t *key, fw_jwt_token_t *t,
    const u_char *tok)
{
    if (key->kty == FW_JWT_KTY_OCT) {
        return fw_jwt_verify_hmac(key, t->alg, tok, t->signed_len, t->sig,
                                  t->sig_len);
    }

    return fw_jwt_verify_pkey(key, t->alg, tok, t->signed_len, t->sig,
                              t->sig_len);
}


static int
fw_jwt_verify_hmac(const fw_jwt_key_t *key, int alg, const u_char *data,
    size_t len, const u_char *sig, size_t sig_len)
{
    u_char        mac[EVP_MAX_MD_SIZE];
    size_t        n;
    unsigned int  mac_len;
    EVP_MAC_CTX  *ctx;

    ctx = key->mac[alg - FW_JWT_HS256];

    if (ctx != NULL) {

        /* keyed at load time: a NULL key restarts with the same key */

        if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1
            || EVP_MAC_update(ctx, data, len) != 1
            || EVP_MAC_final(ctx, mac, &n, sizeof(mac)) != 1)
        {
            ERR_clear_error();
            return FW_ERROR;
        }

        mac_len = (unsigned int) n;

    } else if (HMAC(fw_jwt_alg_md(alg), key->secret, (int) key->secret_len,
                    data, len, mac, &mac_len)
               == NULL)
    {
        return FW_ERROR;
    }

    return fw_ct_equal(mac, mac_len, sig, sig_len) ? FW_OK : FW_ERROR;
}


/*
 * JWS carries R || S (RFC 7518 3.4), OpenSSL wants the DER of
 * ECDSA-Sig-Value, SEQUENCE { INTEGER r, INTEGER s }: written here, as
 * i2d_ECDSA_SIG() would (minimal, non-negative), without BIGNUMs.
 */

static size_t
fw_jwt_der_int(u_char *d, const u_char *p, size_t n)
{
    size_t  z, len;

    for (z = 0; z + 1 < n && p[z] == 0; z++) {
        /* void */
    }

    p += z;
    n -= z;
    len = n + (p[0] & 0x80 ? 1 : 0);

    d[0] = 0x02;
    d[1] = (u_char) len;
    d += 2;

    if (p[0] & 0x80) {
        *d++ = 0;
    }

    memcpy(d, p, n);

    return 2 + len;
}


size_t
fw_jwt_ecdsa_der(u_char *der, const u_char *sig, size_t n)
{
    u_char  body[2 * (2 + 1 + 66)];
    size_t  blen, h;

    blen = fw_jwt_der_int(body, sig, n);
    blen += fw_jwt_der_int(body + blen, sig + n, n);

    der[0] = 0x30;

    if (blen < 0x80) {
        der[1] = (u_char) blen;
        h = 2;

    } else {
        der[1] = 0x81;
        der[2] = (u_char) blen;
        h = 3;
    }

    memcpy(der + h, body, blen);

    return h + blen;
}


static int
fw_jwt_verify_pkey(const fw_jwt_key_t *key, int alg, const u_char *data,
    size_t len, const u_char *sig, size_t sig_len)
{
    int             rc;
    size_t          n;
    u_char          der[FW_JWT_ECDSA_DER_MAX], digest[EVP_MAX_MD_SIZE];
    unsigned int    dlen;
    EVP_MD_CTX     *mctx;

    if (alg >= FW_JWT_ES256 && alg <= FW_JWT_ES512) {

        n = (alg == FW_JWT_ES256) ? 32 : (alg == FW_JWT_ES384 ? 48 : 66);

        if (sig_len != n * 2) {
            return FW_ERROR;
        }

        sig_len = fw_jwt_ecdsa_der(der, sig, n);
        sig = der;

    } else if (alg == FW_JWT_EDDSA) {

        if (sig_len != 64) {
            return FW_ERROR;
        }

    } else if (sig_len != (size_t) EVP_PKEY_get_size(key->pkey)) {
        return FW_ERROR;
    }

    rc = FW_ERROR;

    if (alg != FW_JWT_EDDSA) {

        /* the context was made with padding and digest at load time */

        if (key->vctx[alg] != NULL
            && fw_jwt_hash(fw_jwt_alg_md(alg), data, len, digest, &dlen)
               == FW_OK
            && EVP_PKEY_verify(key->vctx[alg], sig, sig_len, digest, dlen)
               == 1)
        {
            rc = FW_OK;
        }

        goto done;
    }

    /*
     * EdDSA signs the message itself: no digest first, and a one-shot
     * EVP_DigestVerify() per context, so a copy of the context that was
     * initialised at load time
     */

    if (key->ed == NULL) {
        goto done;
    }

    mctx = EVP_MD_CTX_new();

    if (mctx != NULL && EVP_MD_CTX_copy_ex(mctx, key->ed) == 1
        && EVP_DigestVerify(mctx, sig, sig_len, data, len) == 1)
    {
        rc = FW_OK;
    }

    EVP_MD_CTX_free(mctx);

done:

    if (rc != FW_OK) {
        ERR_clear_error();
    }

    return rc;
}


int
fw_jwt_digest(const u_char *tok, size_t len, u_char *digest)
{
    unsigned int  n;

    if (fw_jwt_hash(fw_jwt_alg_md(FW_JWT_HS256), tok, len, digest, &n)
        != FW_OK || n != 32)
    {
        return FW_ERROR;
    }

    return FW_OK;
}
