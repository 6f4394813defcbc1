/*
 * fhirwall JWT: JWK and JWKS (RFC 7517) into the key set: RSA, EC and
 * OKP public keys and oct secrets, each parsed once into an EVP_PKEY (or
 * a secret) and pinned to its "alg" (plain C).
 */


#include <string.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_keys.h"


static int fw_jwt_jwk(fw_jwt_keyset_t *ks, json_t *jwk, char *err);
static int fw_jwt_jwk_usable(json_t *jwk, char *err);
static int fw_jwt_jwk_alg(json_t *jwk, int *alg, char *err);
static u_char *fw_jwt_jwk_b64(json_t *jwk, const char *name, size_t *len);
static EVP_PKEY *fw_jwt_jwk_rsa(json_t *jwk, char *err);
static EVP_PKEY *fw_jwt_jwk_ec(json_t *jwk, char *err);
static EVP_PKEY *fw_jwt_jwk_okp(json_t *jwk, char *err);


int
fw_jwt_keyset_add_jwks(fw_jwt_keyset_t *ks, const u_char *json, size_t len,
    size_t *added, size_t *skipped, char *err)
{
    size_t        i, n0;
    json_t       *root, *keys, *jwk;
    json_error_t  e;
    int           rc;

    *added = 0;
    *skipped = 0;

    root = json_loadb((const char *) json, len, JSON_REJECT_DUPLICATES, &e);

    if (root == NULL) {
        fw_jwt_err(err, "invalid JSON at line %d: %s", e.line, e.text);
        return FW_ERROR;
    }

    keys = json_object_get(root, "keys");

    if (!json_is_array(keys)) {
        /* a single JWK is accepted too */
        if (json_is_object(root) && json_object_get(root, "kty") != NULL) {
            keys = NULL;

        } else {
            fw_jwt_err(err, "no \"keys\" array");
            json_decref(root);
            return FW_ERROR;
        }
    }

    n0 = ks->nkeys;

    if (keys == NULL) {
        rc = fw_jwt_jwk(ks, root, err);

        if (rc == FW_ERROR) {
            json_decref(root);
            return FW_ERROR;
        }

        *skipped += (rc != FW_OK);

    } else {
        json_array_foreach(keys, i, jwk) {
            rc = fw_jwt_jwk(ks, jwk, err);

            if (rc == FW_ERROR) {
                json_decref(root);
                return FW_ERROR;
            }

            *skipped += (rc != FW_OK);
        }
    }

    json_decref(root);

    *added = ks->nkeys - n0;
    fw_jwt_keyset_index(ks);

    if (*added == 0) {
        fw_jwt_err(err, "no usable signature key");
        return FW_ERROR;
    }

    return FW_OK;
}


/* FW_OK: a signature key, 1: skipped ("use", "key_ops"), FW_ERROR */

static int
fw_jwt_jwk_usable(json_t *jwk, char *err)
{
    int      usable;
    size_t   i;
    json_t  *v, *op;

    v = json_object_get(jwk, "use");

    if (v != NULL && (!json_is_string(v)
                      || strcmp(json_string_value(v), "sig") != 0))
    {
        return 1;
    }

    v = json_object_get(jwk, "key_ops");

    if (v != NULL) {
        if (!json_is_array(v)) {
            fw_jwt_err(err, "a JWK with invalid \"key_ops\"");
            return FW_ERROR;
        }

        usable = 0;

        json_array_foreach(v, i, op) {
            if (json_is_string(op)
                && strcmp(json_string_value(op), "verify") == 0)
            {
                usable = 1;
            }
        }

        if (!usable) {
            return 1;
        }
    }

    return FW_OK;
}


/* "alg" into *alg (-1: none); 1: an encryption key (skipped), FW_ERROR */

static int
fw_jwt_jwk_alg(json_t *jwk, int *alg, char *err)
{
    json_t  *v;

    v = json_object_get(jwk, "alg");
    *alg = -1;

    if (v != NULL) {
        if (!json_is_string(v)) {
            fw_jwt_err(err, "a JWK with an \"alg\" that is not a string");
            return FW_ERROR;
        }

        *alg = fw_jwt_alg_from_name((const u_char *) json_string_value(v),
                                    json_string_length(v));
        if (*alg < 0) {
            if (strncmp(json_string_value(v), "RSA", 3) == 0
                || strncmp(json_string_value(v), "ECDH", 4) == 0
                || strncmp(json_string_value(v), "A", 1) == 0)
            {
                /* an encryption key */
                return 1;
            }

            fw_jwt_err(err, "a JWK with unsupported \"alg\": \"%s\"",
                       json_string_value(v));
            return FW_ERROR;
        }
    }

    return FW_OK;
}


/* FW_OK: added, FW_ERROR: invalid, 1: skipped (not a signature key) */

static int
fw_jwt_jwk(fw_jwt_keyset_t *ks, json_t *jwk, char *err)
{
    int            alg, rc;
    size_t         klen;
    u_char        *secret;
    json_t        *kty, *v;
    EVP_PKEY      *pkey;
    const char    *t, *kid;
    fw_jwt_key_t  *k;

    if (!json_is_object(jwk)) {
        fw_jwt_err(err, "a JWK that is not an object");
        return FW_ERROR;
    }

    kty = json_object_get(jwk, "kty");

    if (!json_is_string(kty)) {
        fw_jwt_err(err, "a JWK without \"kty\"");
        return FW_ERROR;
    }

    rc = fw_jwt_jwk_usable(jwk, err);

    if (rc != FW_OK) {
        return rc;
    }

    v = json_object_get(jwk, "kid");
    kid = NULL;

    if (v != NULL) {
        if (!json_is_string(v)) {
            fw_jwt_err(err, "a JWK with a \"kid\" that is not a string");
            return FW_ERROR;
        }

        kid = json_string_value(v);
    }

    rc = fw_jwt_jwk_alg(jwk, &alg, err);

    if (rc != FW_OK) {
        return rc;
    }

    t = json_string_value(kty);

    if (strcmp(t, "oct") == 0) {
        secret = fw_jwt_jwk_b64(jwk, "k", &klen);

        if (secret == NULL) {
            fw_jwt_err(err, "an \"oct\" JWK without a valid \"k\"");
            return FW_ERROR;
        }

        rc = fw_jwt_keyset_add_secret(ks, secret, klen,
                                      FW_JWT_SECRET_BINARY,
                                      (const u_char *) kid,
                                      kid ? strlen(kid) : 0, alg, err);
        OPENSSL_cleanse(secret, klen);
        free(secret);

        return rc == FW_OK ? FW_OK : FW_ERROR;
    }

    if (strcmp(t, "RSA") == 0) {
        pkey = fw_jwt_jwk_rsa(jwk, err);

    } else if (strcmp(t, "EC") == 0) {
        pkey = fw_jwt_jwk_ec(jwk, err);

    } else if (strcmp(t, "OKP") == 0) {
        v = json_object_get(jwk, "crv");

        if (json_is_string(v) && strcmp(json_string_value(v), "Ed448") == 0)
        {
            return 1;
        }

        pkey = fw_jwt_jwk_okp(jwk, err);

    } else {
        fw_jwt_err(err, "a JWK with unsupported \"kty\": \"%s\"", t);
        return FW_ERROR;
    }

    if (pkey == NULL) {
        ERR_clear_error();
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
        || fw_jwt_key_set_kid(k, (const u_char *) kid,
                              kid ? strlen(kid) : 0) != FW_OK
        || fw_jwt_key_prepare(k, err) != FW_OK)
    {
        fw_jwt_key_free(k);
        return FW_ERROR;
    }

    ks->nkeys++;

    return FW_OK;
}


static u_char *
fw_jwt_jwk_b64(json_t *jwk, const char *name, size_t *len)
{
    u_char  *p;
    json_t  *v;
    size_t   n;

    v = json_object_get(jwk, name);

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return NULL;
    }

    n = json_string_length(v);

    p = malloc(fw_base64_decoded_len(n) + 1);
    if (p == NULL) {
        return NULL;
    }

    if (fw_base64url_decode((const u_char *) json_string_value(v), n, p, len)
        != FW_OK || *len == 0)
    {
        free(p);
        return NULL;
    }

    return p;
}


static EVP_PKEY *
fw_jwt_jwk_rsa(json_t *jwk, char *err)
{
    u_char          *n, *e;
    size_t           nlen, elen;
    BIGNUM          *bn, *be;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    pkey = NULL;
    bn = NULL;
    be = NULL;
    bld = NULL;
    params = NULL;
    ctx = NULL;

    n = fw_jwt_jwk_b64(jwk, "n", &nlen);
    e = fw_jwt_jwk_b64(jwk, "e", &elen);

    if (n == NULL || e == NULL) {
        fw_jwt_err(err, "an RSA JWK without valid \"n\" and \"e\"");
        goto done;
    }

    bn = BN_bin2bn(n, (int) nlen, NULL);
    be = BN_bin2bn(e, (int) elen, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (bn == NULL || be == NULL || bld == NULL
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        fw_jwt_err(err, "an invalid RSA JWK");
        pkey = NULL;
    }

done:

    free(n);
    free(e);
    BN_free(bn);
    BN_free(be);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);

    return pkey;
}


static EVP_PKEY *
fw_jwt_jwk_ec(json_t *jwk, char *err)
{
    u_char          *x, *y, pub[1 + 2 * 66];
    size_t           xlen, ylen, clen;
    json_t          *crv;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    const char      *c, *group;
    EVP_PKEY_CTX    *ctx, *cctx;
    OSSL_PARAM_BLD  *bld;

    pkey = NULL;
    bld = NULL;
    params = NULL;
    ctx = NULL;

    crv = json_object_get(jwk, "crv");
    c = json_is_string(crv) ? json_string_value(crv) : "";

    if (strcmp(c, "P-256") == 0) {
        group = "prime256v1";
        clen = 32;

    } else if (strcmp(c, "P-384") == 0) {
        group = "secp384r1";
        clen = 48;

    } else if (strcmp(c, "P-521") == 0) {
        group = "secp521r1";
        clen = 66;

    } else {
        fw_jwt_err(err, "an EC JWK with unsupported \"crv\": \"%s\"", c);
        return NULL;
    }

    x = fw_jwt_jwk_b64(jwk, "x", &xlen);
    y = fw_jwt_jwk_b64(jwk, "y", &ylen);

    if (x == NULL || y == NULL || xlen != clen || ylen != clen) {
        fw_jwt_err(err, "an EC JWK without valid \"x\" and \"y\"");
        goto done;
    }

    pub[0] = 0x04;
    memcpy(pub + 1, x, clen);
    memcpy(pub + 1 + clen, y, clen);

    bld = OSSL_PARAM_BLD_new();

    if (bld == NULL
        || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, 0) != 1
        || OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            pub, 1 + 2 * clen) != 1
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        fw_jwt_err(err, "an invalid EC JWK");
        pkey = NULL;
        goto done;
    }

    /* the point must be on the curve */
    cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

    if (cctx == NULL || EVP_PKEY_public_check(cctx) != 1) {
        fw_jwt_err(err, "an EC JWK whose point is not on the curve");
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(cctx);

done:

    free(x);
    free(y);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);

    return pkey;
}


static EVP_PKEY *
fw_jwt_jwk_okp(json_t *jwk, char *err)
{
    u_char    *x;
    size_t     xlen;
    json_t    *crv;
    EVP_PKEY  *pkey;

    crv = json_object_get(jwk, "crv");

    if (!json_is_string(crv) || strcmp(json_string_value(crv), "Ed25519"))
    {
        fw_jwt_err(err, "an OKP JWK with unsupported \"crv\"");
        return NULL;
    }

    x = fw_jwt_jwk_b64(jwk, "x", &xlen);

    if (x == NULL || xlen != 32) {
        free(x);
        fw_jwt_err(err, "an Ed25519 JWK without a valid \"x\"");
        return NULL;
    }

    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
    free(x);

    if (pkey == NULL) {
        fw_jwt_err(err, "an invalid Ed25519 JWK");
    }

    return pkey;
}
