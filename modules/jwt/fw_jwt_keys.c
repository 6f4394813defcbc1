/*
 * fhirwall JWT: keys from PEM, HMAC secrets and JWKS, each parsed once
 * into an EVP_PKEY (or a secret) and pinned to the algorithms its type
 * allows (plain C).
 */


#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <stdarg.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_keys.h"


static int fw_jwt_has(const u_char *p, size_t len, const char *s);
static int fw_jwt_key_prepare_hmac(fw_jwt_key_t *k, char *err);
static u_char *fw_jwt_strip(const u_char *p, size_t len, size_t *out);
static int fw_jwt_der_key(const u_char *p, size_t n);
static int fw_jwt_der_sequence(const u_char *p, size_t n);
static int fw_jwt_b64_der_key(const u_char *p, size_t n);
static int fw_jwt_secret_is_pubkey(const fw_jwt_key_t *o,
    const fw_jwt_key_t *k);
static int fw_jwt_same(const u_char *a, size_t a_len, const u_char *b,
    size_t b_len);


void
fw_jwt_err(char *err, const char *fmt, ...)
{
    va_list  ap;

    if (err == NULL) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(err, FW_JWT_ERRLEN, fmt, ap);
    va_end(ap);
}


static int
fw_jwt_has(const u_char *p, size_t len, const char *s)
{
    size_t  i, n;

    n = strlen(s);

    for (i = 0; i + n <= len; i++) {
        if (memcmp(p + i, s, n) == 0) {
            return 1;
        }
    }

    return 0;
}


void
fw_jwt_keyset_init(fw_jwt_keyset_t *ks)
{
    memset(ks, 0, sizeof(fw_jwt_keyset_t));
}


void
fw_jwt_keyset_free(fw_jwt_keyset_t *ks)
{
    size_t  i;

    for (i = 0; i < ks->nkeys; i++) {
        fw_jwt_key_free(&ks->keys[i]);
    }

    free(ks->keys);
    free(ks->kid_slots);
    memset(ks, 0, sizeof(fw_jwt_keyset_t));
}


/* FNV-1a: the kids are the key set's own, not the client's */

uint32_t
fw_jwt_kid_hash(const u_char *kid, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h = (h ^ kid[i]) * 16777619u;
    }

    return h;
}


/*
 * The kid lookup of fw_jwt_verify(): a table of the keys with a kid (a
 * kid may name several keys), made again after each addition; without it
 * (no memory) the key set is scanned, as it is for a token without kid
 */

void
fw_jwt_keyset_index(fw_jwt_keyset_t *ks)
{
    size_t     i, n, nkid, h;
    uint32_t  *slots;

    free(ks->kid_slots);
    ks->kid_slots = NULL;
    ks->kid_mask = 0;
    ks->kid_nkeys = 0;
    ks->nanon = 0;

    nkid = 0;

    for (i = 0; i < ks->nkeys; i++) {
        if (ks->keys[i].kid != NULL) {
            nkid++;

        } else {
            ks->nanon++;
        }
    }

    for (n = 8; n < 2 * nkid; n <<= 1) {
        /* void */
    }

    slots = calloc(n, sizeof(uint32_t));
    if (slots == NULL || ks->nkeys >= UINT32_MAX) {
        free(slots);
        return;
    }

    for (i = 0; i < ks->nkeys; i++) {
        if (ks->keys[i].kid == NULL) {
            continue;
        }

        h = fw_jwt_kid_hash(ks->keys[i].kid, ks->keys[i].kid_len) & (n - 1);

        while (slots[h] != 0) {
            h = (h + 1) & (n - 1);
        }

        slots[h] = (uint32_t) i + 1;
    }

    ks->kid_slots = slots;
    ks->kid_mask = n - 1;
    ks->kid_nkeys = ks->nkeys;
}


void
fw_jwt_key_free(fw_jwt_key_t *k)
{
    int  a;

    for (a = 0; a < FW_JWT_NALGS; a++) {
        EVP_PKEY_CTX_free(k->vctx[a]);
        k->vctx[a] = NULL;
    }

    for (a = 0; a < 3; a++) {
        EVP_MAC_CTX_free(k->mac[a]);
        k->mac[a] = NULL;
    }

    EVP_MD_CTX_free(k->ed);
    k->ed = NULL;

    EVP_PKEY_free(k->pkey);
    free(k->kid);
    free(k->src);

    if (k->secret) {
        OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
    }

    k->pkey = NULL;
    k->kid = NULL;
    k->secret = NULL;
    k->src = NULL;
}


/*
 * One verify context per algorithm the key may verify, with its padding
 * and digest set, made once at load time: a request only hashes and
 * calls EVP_PKEY_verify() (EdDSA: copies an initialised DigestVerify
 * context and calls EVP_DigestVerify()).
 */

int
fw_jwt_key_prepare(fw_jwt_key_t *k, char *err)
{
    int            a;
    const EVP_MD  *md;
    EVP_PKEY_CTX  *ctx;

    if (k->algs & FW_JWT_ALG_BIT(FW_JWT_EDDSA)) {
        k->ed = EVP_MD_CTX_new();

        if (k->ed == NULL
            || EVP_DigestVerifyInit(k->ed, NULL, NULL, NULL, k->pkey) != 1)
        {
            ERR_clear_error();
            fw_jwt_err(err, "cannot prepare the key for EdDSA");
            return FW_ERROR;
        }
    }

    for (a = FW_JWT_RS256; a <= FW_JWT_ES512; a++) {

        if (!(k->algs & FW_JWT_ALG_BIT(a))) {
            continue;
        }

        md = fw_jwt_alg_md(a);

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);

        if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1) {
            goto failed;
        }

        if (a <= FW_JWT_RS512) {
            if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1
                || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
            {
                goto failed;
            }

        } else if (a <= FW_JWT_PS512) {
            if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1
                || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1
                || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1
                || EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx,
                                                    RSA_PSS_SALTLEN_DIGEST)
                   != 1)
            {
                goto failed;
            }

        } else if (EVP_PKEY_CTX_set_signature_md(ctx, md) != 1) {
            goto failed;
        }

        k->vctx[a] = ctx;
        continue;

    failed:

        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        fw_jwt_err(err, "cannot prepare the key for %s",
                   fw_jwt_alg_name(a));
        return FW_ERROR;
    }

    return FW_OK;
}


/* an HMAC context per algorithm the secret may verify, keyed once */

static int
fw_jwt_key_prepare_hmac(fw_jwt_key_t *k, char *err)
{
    int          a;
    OSSL_PARAM   params[2];
    const char  *name;

    if (fw_jwt_init() != FW_OK || fw_jwt_hmac() == NULL) {
        ERR_clear_error();
        fw_jwt_err(err, "cannot fetch HMAC");
        return FW_ERROR;
    }

    for (a = FW_JWT_HS256; a <= FW_JWT_HS512; a++) {

        if (!(k->algs & FW_JWT_ALG_BIT(a))) {
            continue;
        }

        name = EVP_MD_get0_name(fw_jwt_alg_md(a));

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *) name, 0);
        params[1] = OSSL_PARAM_construct_end();

        k->mac[a - FW_JWT_HS256] = EVP_MAC_CTX_new(fw_jwt_hmac());

        if (k->mac[a - FW_JWT_HS256] == NULL
            || EVP_MAC_init(k->mac[a - FW_JWT_HS256], k->secret,
                            k->secret_len, params)
               != 1)
        {
            ERR_clear_error();
            fw_jwt_err(err, "cannot prepare the secret for %s",
                       fw_jwt_alg_name(a));
            return FW_ERROR;
        }
    }

    return FW_OK;
}


fw_jwt_key_t *
fw_jwt_keyset_push(fw_jwt_keyset_t *ks)
{
    size_t         n;
    fw_jwt_key_t  *k;

    if (ks->nkeys == ks->nalloc) {
        n = ks->nalloc ? ks->nalloc * 2 : 4;

        k = realloc(ks->keys, n * sizeof(fw_jwt_key_t));
        if (k == NULL) {
            return NULL;
        }

        ks->keys = k;
        ks->nalloc = n;
    }

    k = &ks->keys[ks->nkeys];
    memset(k, 0, sizeof(fw_jwt_key_t));

    return k;
}


int
fw_jwt_key_set_kid(fw_jwt_key_t *k, const u_char *kid, size_t kid_len)
{
    if (kid == NULL) {
        return FW_OK;
    }

    k->kid = malloc(kid_len + 1);
    if (k->kid == NULL) {
        return FW_ERROR;
    }

    memcpy(k->kid, kid, kid_len);
    k->kid[kid_len] = '\0';
    k->kid_len = kid_len;

    return FW_OK;
}


int
fw_jwt_key_from_pkey(fw_jwt_key_t *k, EVP_PKEY *pkey, char *err)
{
    char    group[64];
    size_t  glen;

    k->pkey = pkey;

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        k->kty = FW_JWT_KTY_RSA;
        k->algs = FW_JWT_ALGS_RSA;
        break;

    case EVP_PKEY_RSA_PSS:
        k->kty = FW_JWT_KTY_RSA;
        k->algs = FW_JWT_ALG_BIT(FW_JWT_PS256) | FW_JWT_ALG_BIT(FW_JWT_PS384)
                  | FW_JWT_ALG_BIT(FW_JWT_PS512);
        break;

    case EVP_PKEY_EC:
        k->kty = FW_JWT_KTY_EC;

        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), &glen)
            != 1)
        {
            fw_jwt_err(err, "EC key without a named curve");
            return FW_ERROR;
        }

        if (strcmp(group, "prime256v1") == 0) {
            k->algs = FW_JWT_ALG_BIT(FW_JWT_ES256);

        } else if (strcmp(group, "secp384r1") == 0) {
            k->algs = FW_JWT_ALG_BIT(FW_JWT_ES384);

        } else if (strcmp(group, "secp521r1") == 0) {
            k->algs = FW_JWT_ALG_BIT(FW_JWT_ES512);

        } else {
            fw_jwt_err(err, "unsupported EC curve \"%s\"", group);
            return FW_ERROR;
        }

        break;

    case EVP_PKEY_ED25519:
        k->kty = FW_JWT_KTY_OKP;
        k->algs = FW_JWT_ALG_BIT(FW_JWT_EDDSA);
        break;

    default:
        fw_jwt_err(err, "unsupported key type");
        return FW_ERROR;
    }

    if (k->kty == FW_JWT_KTY_RSA
        && EVP_PKEY_get_bits(pkey) < FW_JWT_MIN_RSA_BITS)
    {
        fw_jwt_err(err, "RSA key of %d bits, at least %d are required",
                   EVP_PKEY_get_bits(pkey), FW_JWT_MIN_RSA_BITS);
        return FW_ERROR;
    }

    return FW_OK;
}


int
fw_jwt_key_pin(fw_jwt_key_t *k, int alg, char *err)
{
    if (alg < 0) {
        return FW_OK;
    }

    if (!(k->algs & FW_JWT_ALG_BIT(alg))) {
        fw_jwt_err(err, "algorithm %s does not fit the key type",
                   fw_jwt_alg_name(alg));
        return FW_ERROR;
    }

    k->algs = FW_JWT_ALG_BIT(alg);

    return FW_OK;
}


int
fw_jwt_keyset_add_pem(fw_jwt_keyset_t *ks, const u_char *pem, size_t len,
    const u_char *kid, size_t kid_len, int alg, char *err)
{
    BIO           *bio;
    X509          *x509;
    EVP_PKEY      *pkey;
    fw_jwt_key_t  *k;

    if (len == 0) {
        fw_jwt_err(err, "empty key");
        return FW_ERROR;
    }

    if (fw_jwt_has(pem, len, "PRIVATE KEY-----")) {
        fw_jwt_err(err, "a private key; give the public key or certificate");
        return FW_ERROR;
    }

    bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        fw_jwt_err(err, "out of memory");
        return FW_ERROR;
    }

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

    if (pkey == NULL) {
        ERR_clear_error();
        (void) BIO_reset(bio);

        x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);

        if (x509 != NULL) {
            pkey = X509_get_pubkey(x509);
            X509_free(x509);
        }
    }

    BIO_free(bio);

    if (pkey == NULL) {
        ERR_clear_error();
        fw_jwt_err(err, "no PEM public key or certificate");
        return FW_ERROR;
    }

    k = fw_jwt_keyset_push(ks);
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        fw_jwt_err(err, "out of memory");
        return FW_ERROR;
    }

    if (fw_jwt_key_from_pkey(k, pkey, err) != FW_OK
        || fw_jwt_key_pin(k, alg, err) != FW_OK
        || fw_jwt_key_set_kid(k, kid, kid_len) != FW_OK
        || fw_jwt_key_prepare(k, err) != FW_OK)
    {
        fw_jwt_key_free(k);
        return FW_ERROR;
    }

    /* compared with the HMAC secrets of the set (fw_jwt_keyset_check) */
    k->src = fw_jwt_strip(pem, len, &k->src_len);

    if (k->src == NULL) {
        fw_jwt_key_free(k);
        fw_jwt_err(err, "out of memory");
        return FW_ERROR;
    }

    ks->nkeys++;
    fw_jwt_keyset_index(ks);

    return FW_OK;
}


int
fw_jwt_keyset_add_secret(fw_jwt_keyset_t *ks, const u_char *data,
    size_t len, int encoding, const u_char *kid, size_t kid_len, int alg,
    char *err)
{
    int            a;
    u_char        *s;
    size_t         n;
    fw_jwt_key_t  *k;

    /* one trailing line end, as editors and "echo" leave it */
    if (encoding != FW_JWT_SECRET_BINARY && len && data[len - 1] == '\n')
    {
        len--;

        if (len && data[len - 1] == '\r') {
            len--;
        }
    }

    if (len == 0) {
        fw_jwt_err(err, "empty secret");
        return FW_ERROR;
    }

    s = malloc(len + 3);
    if (s == NULL) {
        fw_jwt_err(err, "out of memory");
        return FW_ERROR;
    }

    switch (encoding) {
    case FW_JWT_SECRET_BASE64:
        if (fw_base64_decode(data, len, s, &n) != FW_OK) {
            fw_jwt_err(err, "invalid base64 secret");
            goto failed;
        }
        break;

    case FW_JWT_SECRET_BASE64URL:
        if (fw_base64url_decode(data, len, s, &n) != FW_OK) {
            fw_jwt_err(err, "invalid base64url secret");
            goto failed;
        }
        break;

    default:
        memcpy(s, data, len);
        n = len;
    }

    if (n < 32) {
        fw_jwt_err(err, "HMAC secret of %zu bytes, at least 32 are required",
                   n);
        goto failed;
    }

    if (fw_jwt_secret_shape(s, n, err) != FW_OK) {
        goto failed;
    }

    k = fw_jwt_keyset_push(ks);
    if (k == NULL) {
        fw_jwt_err(err, "out of memory");
        goto failed;
    }

    k->kty = FW_JWT_KTY_OCT;
    k->secret = s;
    k->secret_len = n;

    /* RFC 7518 3.2: a key at least as long as the hash output */
    for (a = FW_JWT_HS256; a <= FW_JWT_HS512; a++) {
        if (n >= (size_t) fw_jwt_hmac_alg_min_len(a)) {
            k->algs |= FW_JWT_ALG_BIT(a);
        }
    }

    if (fw_jwt_key_pin(k, alg, err) != FW_OK
        || fw_jwt_key_set_kid(k, kid, kid_len) != FW_OK)
    {
        if (alg >= 0 && alg <= FW_JWT_HS512) {
            fw_jwt_err(err, "HMAC secret of %zu bytes is too short for %s",
                       n, fw_jwt_alg_name(alg));
        }

        goto failed;
    }

    if (fw_jwt_key_prepare_hmac(k, err) != FW_OK) {
        fw_jwt_key_free(k);
        return FW_ERROR;
    }

    ks->nkeys++;
    fw_jwt_keyset_index(ks);

    return FW_OK;

failed:

    OPENSSL_cleanse(s, len);
    free(s);

    return FW_ERROR;
}


int
fw_jwt_keyset_check(fw_jwt_keyset_t *ks, char *err)
{
    size_t         i, j;
    unsigned       usable;
    fw_jwt_key_t  *o;

    if (ks->nkeys == 0) {
        fw_jwt_err(err, "no key");
        return FW_ERROR;
    }

    usable = 0;

    for (i = 0; i < ks->nkeys; i++) {
        usable |= ks->keys[i].algs;
    }

    if ((ks->algs & FW_JWT_ALGS_HMAC) && !(usable & FW_JWT_ALGS_HMAC)) {
        fw_jwt_err(err, "an HMAC algorithm is allowed but every key is an "
                   "RSA, EC or OKP public key (algorithm confusion)");
        return FW_ERROR;
    }

    for (i = 0; i < ks->nkeys; i++) {
        o = &ks->keys[i];

        if (o->kty != FW_JWT_KTY_OCT) {
            continue;
        }

        if ((ks->algs & FW_JWT_ALGS_HMAC) && !(o->algs & ks->algs)) {
            fw_jwt_err(err, "an HMAC secret of %zu bytes fits none of the "
                       "allowed HMAC algorithms (RFC 7518 3.2: a secret at "
                       "least as long as the hash, 32 bytes for HS256, 48 "
                       "for HS384, 64 for HS512)", o->secret_len);
            return FW_ERROR;
        }

        /* HS256 keyed with a public key: anyone could sign (confusion) */

        for (j = 0; j < ks->nkeys; j++) {
            if (ks->keys[j].kty != FW_JWT_KTY_OCT
                && fw_jwt_secret_is_pubkey(o, &ks->keys[j]))
            {
                fw_jwt_err(err, "an HMAC secret is the same as a public key "
                           "of this key set: anyone who has the public key "
                           "could sign tokens");
                return FW_ERROR;
            }
        }
    }

    if ((ks->algs & usable) == 0) {
        fw_jwt_err(err, "no allowed algorithm fits any key");
        return FW_ERROR;
    }

    return FW_OK;
}


int
fw_jwt_keyset_warn(const fw_jwt_keyset_t *ks, char *warn)
{
    int       a;
    size_t    i;
    unsigned  fit;

    fit = 0;

    for (i = 0; i < ks->nkeys; i++) {
        if (ks->keys[i].kty == FW_JWT_KTY_OCT) {
            fit |= ks->keys[i].algs;
        }
    }

    if (fit == 0) {
        return 0;
    }

    for (a = FW_JWT_HS256; a <= FW_JWT_HS512; a++) {
        if ((ks->algs & FW_JWT_ALG_BIT(a)) && !(fit & FW_JWT_ALG_BIT(a))) {
            fw_jwt_err(warn, "%s is allowed but no HMAC secret has the %d "
                       "bytes it needs (RFC 7518 3.2): %s tokens are "
                       "refused", fw_jwt_alg_name(a),
                       fw_jwt_hmac_alg_min_len(a), fw_jwt_alg_name(a));
            return 1;
        }
    }

    return 0;
}


/*
 * An HMAC secret must be random bytes only the issuer knows.  One that is
 * a key (or holds one) is most likely a public key put in the wrong
 * directive, and then anyone who has it can MAC tokens: a PEM block, a
 * JWK or JWKS, a DER-encoded key or certificate, or the base64 of one.
 */

int
fw_jwt_secret_shape(const u_char *s, size_t n, char *err)
{
    size_t        i;
    json_t       *root;
    json_error_t  e;

    if (fw_jwt_has(s, n, "-----BEGIN")) {
        fw_jwt_err(err, "the HMAC secret holds a PEM block (a key or a "
                   "certificate): a secret must be random bytes, never a "
                   "public key");
        return FW_ERROR;
    }

    for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'
                          || s[i] == '\n');
         i++)
    {
        /* void */
    }

    if (i < n && s[i] == '{') {
        root = json_loadb((const char *) s + i, n - i, 0, &e);

        if (json_is_object(root)
            && (json_object_get(root, "kty") != NULL
                || json_object_get(root, "keys") != NULL))
        {
            json_decref(root);
            fw_jwt_err(err, "the HMAC secret is a JWK or JWKS document: "
                       "give a JWKS with \"fw_jwt_jwks_file\"");
            return FW_ERROR;
        }

        json_decref(root);
    }

    if (fw_jwt_der_key(s, n)) {
        fw_jwt_err(err, "the HMAC secret is a DER-encoded key or "
                   "certificate: a secret must be random bytes, never a "
                   "public key");
        return FW_ERROR;
    }

    if (fw_jwt_b64_der_key(s, n)) {
        fw_jwt_err(err, "the HMAC secret is the base64 text of a DER-encoded "
                   "key or certificate: a secret must be random bytes, "
                   "never a public key");
        return FW_ERROR;
    }

    return FW_OK;
}


/* a copy without white space (malloc) */

static u_char *
fw_jwt_strip(const u_char *p, size_t len, size_t *out)
{
    u_char  *d;
    size_t   i, n;

    d = malloc(len + 1);
    if (d == NULL) {
        return NULL;
    }

    for (i = 0, n = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
            d[n++] = p[i];
        }
    }

    *out = n;

    return d;
}


static int
fw_jwt_der_key(const u_char *p, size_t n)
{
    int             found;
    X509           *x509;
    EVP_PKEY       *pkey;
    const u_char   *q;

    if (n > 0x7fffffff) {
        return 0;
    }

    found = 0;

    q = p;
    pkey = d2i_PUBKEY(NULL, &q, (long) n);

    if (pkey == NULL) {
        q = p;
        pkey = d2i_AutoPrivateKey(NULL, &q, (long) n);
    }

    if (pkey == NULL) {
        q = p;
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long) n);
    }

    if (pkey != NULL) {
        EVP_PKEY_free(pkey);
        found = 1;

    } else {
        q = p;
        x509 = d2i_X509(NULL, &q, (long) n);

        if (x509 != NULL) {
            X509_free(x509);
            found = 1;
        }
    }

    ERR_clear_error();

    return found || fw_jwt_der_sequence(p, n);
}


/*
 * The shape of every DER key and certificate: one SEQUENCE whose length
 * covers the rest exactly and that starts with a SEQUENCE, an INTEGER, an
 * OID or a BIT STRING (a random secret has it with odds of about 1 in 4
 * million), also for key types OpenSSL does not parse.
 */

static int
fw_jwt_der_sequence(const u_char *p, size_t n)
{
    size_t  hdr, len;

    if (n < 3 || p[0] != 0x30) {
        return 0;
    }

    if (p[1] < 0x80) {
        hdr = 2;
        len = p[1];

    } else if (p[1] == 0x81 && n > 3) {
        hdr = 3;
        len = p[2];

    } else if (p[1] == 0x82 && n > 4) {
        hdr = 4;
        len = ((size_t) p[2] << 8) | p[3];

    } else {
        return 0;
    }

    if (hdr + len != n || len == 0) {
        return 0;
    }

    return p[hdr] == 0x30 || p[hdr] == 0x02 || p[hdr] == 0x06
           || p[hdr] == 0x03;
}


/* text that is base64 (or base64url) of a DER key, as a PEM's body */

static int
fw_jwt_b64_der_key(const u_char *p, size_t n)
{
    int      found;
    u_char  *t, *d;
    size_t   tn, dn;

    t = fw_jwt_strip(p, n, &tn);
    if (t == NULL) {
        return 0;
    }

    found = 0;
    d = malloc(fw_base64_decoded_len(tn) + 1);

    if (d != NULL) {
        if ((fw_base64_decode(t, tn, d, &dn) == FW_OK
             || fw_base64url_decode(t, tn, d, &dn) == FW_OK)
            && fw_jwt_der_key(d, dn))
        {
            found = 1;
        }

        OPENSSL_cleanse(d, fw_base64_decoded_len(tn) + 1);
        free(d);
    }

    OPENSSL_cleanse(t, n);
    free(t);

    return found;
}


static int
fw_jwt_same(const u_char *a, size_t a_len, const u_char *b, size_t b_len)
{
    return a_len && b_len && fw_ct_equal(a, a_len, b, b_len);
}


/*
 * The secret is one of the public key's encodings: the key file's text
 * (with or without line ends), DER, its base64 or base64url, or the raw
 * public value (the Ed25519 key, the EC point, the RSA modulus).
 */

static int
fw_jwt_secret_is_pubkey(const fw_jwt_key_t *o, const fw_jwt_key_t *k)
{
    int      same;
    u_char  *der, *q, *txt, *raw, *ns;
    size_t   dlen, tlen, rlen, nslen;
    BIGNUM  *bn;

    if (k->pkey == NULL) {
        return 0;
    }

    same = 0;
    der = NULL;
    txt = NULL;
    raw = NULL;
    bn = NULL;

    ns = fw_jwt_strip(o->secret, o->secret_len, &nslen);
    if (ns == NULL) {
        return 0;
    }

    if (k->src
        && (fw_jwt_same(ns, nslen, k->src, k->src_len)
            || fw_jwt_same(o->secret, o->secret_len, k->src, k->src_len)))
    {
        same = 1;
        goto done;
    }

    dlen = (size_t) i2d_PUBKEY(k->pkey, NULL);

    if ((int) dlen > 0 && (der = malloc(dlen)) != NULL) {
        q = der;

        if (i2d_PUBKEY(k->pkey, &q) == (int) dlen) {
            txt = malloc(dlen * 2 + 4);

            if (fw_jwt_same(o->secret, o->secret_len, der, dlen)) {
                same = 1;
                goto done;
            }

            if (txt) {
                tlen = fw_base64_encode(der, dlen, txt);

                if (fw_jwt_same(ns, nslen, txt, tlen)) {
                    same = 1;
                    goto done;
                }

                tlen = fw_base64url_encode(der, dlen, txt);

                if (fw_jwt_same(ns, nslen, txt, tlen)) {
                    same = 1;
                    goto done;
                }
            }
        }
    }

    rlen = 0;

    if (k->kty == FW_JWT_KTY_OKP) {
        if (EVP_PKEY_get_raw_public_key(k->pkey, NULL, &rlen) == 1
            && (raw = malloc(rlen + 1)) != NULL
            && EVP_PKEY_get_raw_public_key(k->pkey, raw, &rlen) != 1)
        {
            rlen = 0;
        }

    } else if (k->kty == FW_JWT_KTY_EC) {
        if (EVP_PKEY_get_octet_string_param(k->pkey,
                                            OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                            NULL, 0, &rlen) == 1
            && (raw = malloc(rlen + 1)) != NULL
            && EVP_PKEY_get_octet_string_param(k->pkey,
                                   OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                   raw, rlen, &rlen) != 1)
        {
            rlen = 0;
        }

    } else if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &bn)
               == 1)
    {
        rlen = (size_t) BN_num_bytes(bn);
        raw = malloc(rlen + 1);

        if (raw == NULL || BN_bn2bin(bn, raw) != (int) rlen) {
            rlen = 0;
        }
    }

    if (raw && fw_jwt_same(o->secret, o->secret_len, raw, rlen)) {
        same = 1;
    }

done:

    ERR_clear_error();
    BN_free(bn);
    free(raw);
    free(txt);
    free(der);
    OPENSSL_cleanse(ns, nslen);
    free(ns);

    return same;
}
