/*
 * fhirwall JWT core: unit tests (cmocka).  Run from the repository root
 * (keys are read from t/keys/jwt/).
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>

#include "fw_codec.h"
#include "fw_jwt.h"


static u_char *read_all(const char *path, size_t *len);
static char *b64(const char *s, size_t len);
static char *sign(const char *alg_name, const char *header,
    const char *payload, const char *keyfile);
static int check(fw_jwt_keyset_t *ks, const char *tok);
static void load_pem(fw_jwt_keyset_t *ks, const char *path, int alg);
static int decode_json(const char *header, const char *payload);
static void test_secret_shapes(void **state);
static char *hs_token(const char *kid, const char *secret_text);
static int check_both(fw_jwt_keyset_t *ks, const char *tok);
static void test_kid_hash(void **state);
static void test_ecdsa_der(void **state);
static int claims(const fw_jwt_claims_conf_t *cc, const char *header,
    const char *payload);


static u_char  secret[64];


static u_char *
read_all(const char *path, size_t *len)
{
    FILE    *f;
    u_char  *p;
    long     n;

    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc(n + 1);
    assert_int_equal(fread(p, 1, n, f), n);
    fclose(f);
    p[n] = '\0';
    *len = (size_t) n;

    return p;
}


static char *
b64(const char *s, size_t len)
{
    char  *out;

    out = malloc(fw_base64url_encoded_len(len) + 1);
    out[fw_base64url_encode((const u_char *) s, len, (u_char *) out)] = '\0';

    return out;
}


/* header/payload verbatim; keyfile NULL: HMAC with "secret" */

static char *
sign(const char *alg, const char *header, const char *payload,
    const char *keyfile)
{
    int            n;
    BIO           *bio;
    u_char        *key, sig[1024], der[256];
    char          *h, *p, *input, *s, *tok;
    size_t         klen, slen;
    EVP_PKEY      *pkey;
    ECDSA_SIG     *es;
    EVP_MD_CTX    *mctx;
    EVP_PKEY_CTX  *pctx;
    unsigned int   mlen;
    const BIGNUM  *r, *ss;
    const EVP_MD  *md;
    const u_char  *dp;

    h = b64(header, strlen(header));
    p = b64(payload, strlen(payload));
    input = malloc(strlen(h) + strlen(p) + 2);
    sprintf(input, "%s.%s", h, p);

    md = strstr(alg, "256") ? EVP_sha256()
         : (strstr(alg, "384") ? EVP_sha384() : EVP_sha512());

    if (keyfile == NULL) {
        HMAC(md, secret, sizeof(secret), (u_char *) input, strlen(input),
             sig, &mlen);
        slen = mlen;

    } else {
        key = read_all(keyfile, &klen);
        bio = BIO_new_mem_buf(key, (int) klen);
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        free(key);
        assert_non_null(pkey);

        if (strcmp(alg, "EdDSA") == 0) {
            md = NULL;
        }

        mctx = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(mctx, &pctx, md, NULL, pkey), 1);

        if (alg[0] == 'P') {
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
        }

        slen = sizeof(der);

        if (alg[0] == 'E' && alg[1] == 'S') {
            assert_int_equal(EVP_DigestSign(mctx, der, &slen,
                                            (u_char *) input,
                                            strlen(input)), 1);
            n = strstr(alg, "256") ? 32 : (strstr(alg, "384") ? 48 : 66);
            dp = der;
            es = d2i_ECDSA_SIG(NULL, &dp, (long) slen);
            ECDSA_SIG_get0(es, &r, &ss);
            BN_bn2binpad(r, sig, n);
            BN_bn2binpad(ss, sig + n, n);
            ECDSA_SIG_free(es);
            slen = (size_t) n * 2;

        } else {
            slen = sizeof(sig);
            assert_int_equal(EVP_DigestSign(mctx, sig, &slen,
                                            (u_char *) input,
                                            strlen(input)), 1);
        }

        EVP_MD_CTX_free(mctx);
        EVP_PKEY_free(pkey);
    }

    s = b64((char *) sig, slen);
    tok = malloc(strlen(input) + strlen(s) + 2);
    sprintf(tok, "%s.%s", input, s);

    free(h);
    free(p);
    free(s);
    free(input);

    return tok;
}


static int
check(fw_jwt_keyset_t *ks, const char *tok)
{
    int             rc;
    fw_jwt_token_t  t;

    rc = fw_jwt_decode(&t, (const u_char *) tok, strlen(tok),
                       FW_JWT_DEFAULT_MAX);

    if (rc == FW_JWT_VALID) {
        rc = fw_jwt_verify(ks, &t, (const u_char *) tok);
        fw_jwt_token_free(&t);
    }

    return rc;
}


static void
load_pem(fw_jwt_keyset_t *ks, const char *path, int alg)
{
    char     err[FW_JWT_ERRLEN];
    u_char  *p;
    size_t   n;

    p = read_all(path, &n);
    assert_int_equal(fw_jwt_keyset_add_pem(ks, p, n, NULL, 0, alg, err),
                     FW_OK);
    free(p);
}


static void
test_alg_names(void **state)
{
    assert_int_equal(fw_jwt_alg_from_name((u_char *) "RS256", 5),
                     FW_JWT_RS256);
    assert_int_equal(fw_jwt_alg_from_name((u_char *) "EdDSA", 5),
                     FW_JWT_EDDSA);
    assert_int_equal(fw_jwt_alg_from_name((u_char *) "rs256", 5), -1);
    assert_int_equal(fw_jwt_alg_from_name((u_char *) "none", 4), -1);
    assert_int_equal(fw_jwt_alg_from_name((u_char *) "RS2566", 6), -1);
    assert_int_equal(fw_jwt_alg_from_name((u_char *) "RS25", 4), -1);
    assert_string_equal(fw_jwt_status_name(FW_JWT_EXPIRED), "expired");
    assert_string_equal(fw_jwt_status_name(-1), "error");
}


static void
test_every_algorithm(void **state)
{
    static const struct {
        const char  *alg;
        const char  *key;
        const char  *pub;
    } cases[] = {
        { "HS256", NULL, NULL }, { "HS384", NULL, NULL },
        { "HS512", NULL, NULL },
        { "RS256", "t/keys/jwt/rsa.key", "t/keys/jwt/rsa.pub" },
        { "RS384", "t/keys/jwt/rsa.key", "t/keys/jwt/rsa.pub" },
        { "RS512", "t/keys/jwt/rsa.key", "t/keys/jwt/rsa.pub" },
        { "PS256", "t/keys/jwt/rsa.key", "t/keys/jwt/rsa.pub" },
        { "PS384", "t/keys/jwt/rsa.key", "t/keys/jwt/rsa.pub" },
        { "PS512", "t/keys/jwt/rsa.key", "t/keys/jwt/rsa.pub" },
        { "ES256", "t/keys/jwt/ec256.key", "t/keys/jwt/ec256.pub" },
        { "ES384", "t/keys/jwt/ec384.key", "t/keys/jwt/ec384.pub" },
        { "ES512", "t/keys/jwt/ec521.key", "t/keys/jwt/ec521.pub" },
        { "EdDSA", "t/keys/jwt/ed25519.key", "t/keys/jwt/ed25519.pub" }
    };

    char             hdr[64], err[FW_JWT_ERRLEN], *tok;
    size_t           i, n;
    fw_jwt_keyset_t  ks;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fw_jwt_keyset_init(&ks);

        if (cases[i].pub) {
            load_pem(&ks, cases[i].pub, -1);

        } else {
            assert_int_equal(fw_jwt_keyset_add_secret(&ks, secret,
                                 sizeof(secret), FW_JWT_SECRET_BINARY, NULL,
                                 0, -1, err), FW_OK);
        }

        ks.algs = FW_JWT_ALGS_ALL;

        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", cases[i].alg);
        tok = sign(cases[i].alg, hdr, "{\"sub\":\"a\"}", cases[i].key);

        assert_int_equal(check(&ks, tok), FW_JWT_VALID);

        /* one bit of the signature: bad */
        n = strlen(tok);
        tok[n - 2] = (tok[n - 2] == 'A') ? 'B' : 'A';
        assert_int_equal(check(&ks, tok), FW_JWT_BAD_SIGNATURE);

        /* not in the allowlist */
        ks.algs = FW_JWT_ALGS_ALL
                  & ~FW_JWT_ALG_BIT(fw_jwt_alg_from_name(
                        (u_char *) cases[i].alg, strlen(cases[i].alg)));
        assert_int_equal(check(&ks, tok), FW_JWT_BAD_ALG);

        free(tok);
        fw_jwt_keyset_free(&ks);
    }
}


static void
test_confusion(void **state)
{
    u_char           *pem;
    char             *tok;
    size_t            n;
    fw_jwt_keyset_t   ks;
    char              hdr[] = "{\"alg\":\"HS256\"}";

    fw_jwt_keyset_init(&ks);
    load_pem(&ks, "t/keys/jwt/rsa.pub", -1);
    ks.algs = FW_JWT_ALGS_ALL;

    /* HS256 keyed with the public key PEM: no key may verify it */
    pem = read_all("t/keys/jwt/rsa.pub", &n);
    memcpy(secret, pem, sizeof(secret));
    tok = sign("HS256", hdr, "{}", NULL);
    assert_int_equal(check(&ks, tok), FW_JWT_UNKNOWN_KEY);

    free(tok);
    free(pem);
    fw_jwt_keyset_free(&ks);
}


static void
test_structure(void **state)
{
    static const char  *bad[] = {
        "", ".", "..", "a.b", "a.b.c.d", "a.b.c.d.e",
        "eyJhbGciOiJIUzI1NiJ9..c2ln",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        ".e30.c2ln",
        "eyJhbGciOiJIUzI1NiJ9=.e30.c2ln",
        "eyJhbGciOiJIUzI1NiJ9.e30.c2ln=",
        "eyJhbGciOiJIUzI1NiJ9.e30.c2l+",
        "eyJhbGciOiJIUzI1NiJ9.e30.c2l n",
        "eyJhbGciOiJIUzI1NiJ9.e30.c2lm",      /* decodes to "sif" fine */
        NULL
    };

    int             i, rc;
    fw_jwt_token_t  t;

    for (i = 0; bad[i]; i++) {
        rc = fw_jwt_decode(&t, (const u_char *) bad[i], strlen(bad[i]),
                           FW_JWT_DEFAULT_MAX);

        if (i == 13) {
            assert_int_equal(rc, FW_JWT_VALID);
            fw_jwt_token_free(&t);
            continue;
        }

        assert_int_not_equal(rc, FW_JWT_VALID);
    }

    assert_int_equal(fw_jwt_decode(&t, (const u_char *) "a.b.c", 5, 4),
                     FW_JWT_TOO_LARGE);
}


static int
decode_json(const char *header, const char *payload)
{
    int             rc;
    char           *h, *p, *tok;
    fw_jwt_token_t  t;

    h = b64(header, strlen(header));
    p = b64(payload, strlen(payload));
    tok = malloc(strlen(h) + strlen(p) + 8);
    if (tok == NULL) {
        abort();
    }

    sprintf(tok, "%s.%s.c2ln", h, p);

    rc = fw_jwt_decode(&t, (u_char *) tok, strlen(tok), FW_JWT_DEFAULT_MAX);

    if (rc == FW_JWT_VALID) {
        fw_jwt_token_free(&t);
    }

    free(h);
    free(p);
    free(tok);

    return rc;
}


static void
test_header_and_json(void **state)
{
    char  deep[200];
    int   i;

    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", "{}"), FW_JWT_VALID);
    assert_int_equal(decode_json("{\"alg\":\"none\"}", "{}"), FW_JWT_BAD_ALG);
    assert_int_equal(decode_json("{\"alg\":\"None\"}", "{}"), FW_JWT_BAD_ALG);
    assert_int_equal(decode_json("{\"alg\":\"rs256\"}", "{}"),
                     FW_JWT_BAD_ALG);
    assert_int_equal(decode_json("{}", "{}"), FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":256}", "{}"), FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\",\"crit\":[\"x\"]}",
                                 "{}"), FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\",\"enc\":\"A128GCM\"}",
                                 "{}"), FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\",\"b64\":false}", "{}"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\",\"kid\":1}", "{}"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\",\"typ\":[]}", "{}"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\",\"alg\":\"RS256\"}",
                                 "{}"), FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}",
                                 "{\"sub\":\"a\",\"sub\":\"b\"}"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", "[1]"),
                     FW_JWT_MALFORMED);
    /* RFC 8259 white space may lead (or end) a JSON text; nothing else */
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", " {}"),
                     FW_JWT_VALID);
    assert_int_equal(decode_json(" \t\r\n{\"alg\":\"RS256\"}",
                                 "\n{}\n"), FW_JWT_VALID);
    assert_int_equal(decode_json("\f{\"alg\":\"RS256\"}", "{}"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("\xef\xbb\xbf{\"alg\":\"RS256\"}", "{}"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", "\v{}"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", "  "),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", " [1]"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", "{} x"),
                     FW_JWT_MALFORMED);
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}",
                                 "{\"a\":\"\\u0000\"}"), FW_JWT_MALFORMED);

    /* depth: 15 nested arrays pass, 20 do not */
    strcpy(deep, "{\"a\":");
    for (i = 0; i < 14; i++) {
        strcat(deep, "[");
    }
    for (i = 0; i < 14; i++) {
        strcat(deep, "]");
    }
    strcat(deep, "}");
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", deep), FW_JWT_VALID);

    strcpy(deep, "{\"a\":");
    for (i = 0; i < 20; i++) {
        strcat(deep, "[");
    }
    for (i = 0; i < 20; i++) {
        strcat(deep, "]");
    }
    strcat(deep, "}");
    assert_int_equal(decode_json("{\"alg\":\"RS256\"}", deep),
                     FW_JWT_MALFORMED);
}


static void
test_kid_selection(void **state)
{
    char             err[FW_JWT_ERRLEN], *tok;
    u_char          *j;
    size_t           n, added, skipped;
    fw_jwt_keyset_t  ks;

    fw_jwt_keyset_init(&ks);
    j = read_all("t/keys/jwt/all.jwks", &n);
    assert_int_equal(fw_jwt_keyset_add_jwks(&ks, j, n, &added, &skipped,
                                            err), FW_OK);
    assert_int_equal(added, 6);
    assert_int_equal(skipped, 0);
    free(j);
    ks.algs = FW_JWT_ALGS_ALL;

    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", "{}",
               "t/keys/jwt/rsa.key");
    assert_int_equal(check(&ks, tok), FW_JWT_VALID);
    free(tok);

    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"nope\"}", "{}",
               "t/keys/jwt/rsa.key");
    assert_int_equal(check(&ks, tok), FW_JWT_UNKNOWN_KEY);
    free(tok);

    /* the EC key's kid with an RSA algorithm */
    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"ec-256\"}", "{}",
               "t/keys/jwt/rsa.key");
    assert_int_equal(check(&ks, tok), FW_JWT_UNKNOWN_KEY);
    free(tok);

    /* no kid: every key of the algorithm is tried */
    tok = sign("ES384", "{\"alg\":\"ES384\"}", "{}", "t/keys/jwt/ec384.key");
    assert_int_equal(check(&ks, tok), FW_JWT_VALID);
    free(tok);

    /* signed by another key under the right kid */
    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", "{}",
               "t/keys/jwt/rsa2.key");
    assert_int_equal(check(&ks, tok), FW_JWT_BAD_SIGNATURE);
    free(tok);

    fw_jwt_keyset_free(&ks);
}


/* an HS256 token with this kid (NULL: none), signed with this secret */

static char *
hs_token(const char *kid, const char *secret_text)
{
    char           hdr[128], *h, *p, *s, *tok;
    u_char         mac[32];
    unsigned int   mac_len;
    size_t         n;

    if (kid) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\"}",
                 kid);
    } else {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\"}");
    }

    h = b64(hdr, strlen(hdr));
    p = b64("{}", 2);
    n = strlen(h) + strlen(p) + 1;
    tok = malloc(n + 64);
    if (tok == NULL) {
        abort();
    }

    sprintf(tok, "%s.%s", h, p);

    assert_non_null(HMAC(EVP_sha256(), secret_text, (int) strlen(secret_text),
                         (u_char *) tok, n, mac, &mac_len));
    s = b64((char *) mac, mac_len);
    sprintf(tok + n, ".%s", s);

    free(h);
    free(p);
    free(s);

    return tok;
}


/* the verdict with the kid hash, asserted equal to the linear scan's */

static int
check_both(fw_jwt_keyset_t *ks, const char *tok)
{
    int              rc;
    fw_jwt_keyset_t  linear;

    rc = check(ks, tok);

    linear = *ks;
    linear.kid_slots = NULL;
    assert_int_equal(check(&linear, tok), rc);

    return rc;
}


static void
test_kid_hash(void **state)
{
    int              i;
    char             err[FW_JWT_ERRLEN], kid[16], sec[64], *tok;
    fw_jwt_keyset_t  ks;

    fw_jwt_keyset_init(&ks);

    /* 300 keys, each its kid */
    for (i = 0; i < 300; i++) {
        snprintf(kid, sizeof(kid), "k%d", i);
        snprintf(sec, sizeof(sec), "secret-%03d-0123456789abcdefghijkl", i);
        assert_int_equal(fw_jwt_keyset_add_secret(&ks, (u_char *) sec,
                                                  strlen(sec),
                                                  FW_JWT_SECRET_BINARY,
                                                  (u_char *) kid,
                                                  strlen(kid), FW_JWT_HS256,
                                                  err), FW_OK);
    }

    ks.algs = FW_JWT_ALGS_ALL;

    /* the table is made and covers every key */
    assert_non_null(ks.kid_slots);
    assert_int_equal(ks.kid_nkeys, 300);
    assert_int_equal(ks.nanon, 0);
    assert_true(ks.kid_mask + 1 >= 600);

    tok = hs_token("k137", "secret-137-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_VALID);
    free(tok);

    tok = hs_token("k0", "secret-000-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_VALID);
    free(tok);

    /* the right kid, another key's secret */
    tok = hs_token("k137", "secret-138-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_BAD_SIGNATURE);
    free(tok);

    /* no such kid; a prefix of one; one that differs in length only */
    tok = hs_token("k300", "secret-000-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_UNKNOWN_KEY);
    free(tok);

    tok = hs_token("k1", "secret-010-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_BAD_SIGNATURE);
    free(tok);

    tok = hs_token("", "secret-010-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_UNKNOWN_KEY);
    free(tok);

    /* no kid in the token: every key is tried */
    tok = hs_token(NULL, "secret-299-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_VALID);
    free(tok);

    /* duplicate kids: either key verifies */
    assert_int_equal(fw_jwt_keyset_add_secret(&ks,
                         (u_char *) "dup-a-0123456789abcdefghijklmnopq", 33,
                         FW_JWT_SECRET_BINARY, (u_char *) "k7", 2,
                         FW_JWT_HS256, err), FW_OK);

    tok = hs_token("k7", "dup-a-0123456789abcdefghijklmnopq");
    assert_int_equal(check_both(&ks, tok), FW_JWT_VALID);
    free(tok);

    tok = hs_token("k7", "secret-007-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_VALID);
    free(tok);

    tok = hs_token("k7", "secret-008-0123456789abcdefghijkl");
    assert_int_equal(check_both(&ks, tok), FW_JWT_BAD_SIGNATURE);
    free(tok);

    /* a key without kid matches any kid, listed or not */
    assert_int_equal(fw_jwt_keyset_add_secret(&ks,
                         (u_char *) "anon-0123456789abcdefghijklmnopqr", 33,
                         FW_JWT_SECRET_BINARY, NULL, 0, FW_JWT_HS256, err),
                     FW_OK);
    assert_int_equal(ks.nanon, 1);
    assert_int_equal(ks.kid_nkeys, 302);

    tok = hs_token("k5", "anon-0123456789abcdefghijklmnopqr");
    assert_int_equal(check_both(&ks, tok), FW_JWT_VALID);
    free(tok);

    tok = hs_token("unlisted", "anon-0123456789abcdefghijklmnopqr");
    assert_int_equal(check_both(&ks, tok), FW_JWT_VALID);
    free(tok);

    tok = hs_token("unlisted", "neither-0123456789abcdefghijklmno");
    assert_int_equal(check_both(&ks, tok), FW_JWT_BAD_SIGNATURE);
    free(tok);

    /* a stale table (keys added behind it) is not used: the scan is */
    ks.kid_nkeys--;
    tok = hs_token("k137", "secret-137-0123456789abcdefghijkl");
    assert_int_equal(check(&ks, tok), FW_JWT_VALID);
    free(tok);

    fw_jwt_keyset_free(&ks);

    /* a JWKS: the kids of all.jwks through the table */
    {
        u_char  *j;
        size_t   n, added, skipped;

        fw_jwt_keyset_init(&ks);
        j = read_all("t/keys/jwt/all.jwks", &n);
        assert_int_equal(fw_jwt_keyset_add_jwks(&ks, j, n, &added, &skipped,
                                                err), FW_OK);
        free(j);
        assert_non_null(ks.kid_slots);
        assert_int_equal(ks.kid_nkeys, ks.nkeys);
        fw_jwt_keyset_free(&ks);
    }
}


static void
test_key_errors(void **state)
{
    char             err[FW_JWT_ERRLEN];
    u_char          *p;
    size_t           n, a, s;
    fw_jwt_keyset_t  ks;

    fw_jwt_keyset_init(&ks);

    p = read_all("t/keys/jwt/rsa.key", &n);
    assert_int_equal(fw_jwt_keyset_add_pem(&ks, p, n, NULL, 0, -1, err),
                     FW_ERROR);
    assert_non_null(strstr(err, "private key"));
    free(p);

    p = read_all("t/keys/jwt/rsa1024.pub", &n);
    assert_int_equal(fw_jwt_keyset_add_pem(&ks, p, n, NULL, 0, -1, err),
                     FW_ERROR);
    free(p);

    p = read_all("t/keys/jwt/ec256.pub", &n);
    assert_int_equal(fw_jwt_keyset_add_pem(&ks, p, n, NULL, 0, FW_JWT_RS256,
                                           err), FW_ERROR);
    free(p);

    assert_int_equal(fw_jwt_keyset_add_secret(&ks, (u_char *) "short\n", 6,
                         FW_JWT_SECRET_RAW, NULL, 0, -1, err), FW_ERROR);
    assert_int_equal(fw_jwt_keyset_add_secret(&ks, (u_char *) "!!!!", 4,
                         FW_JWT_SECRET_BASE64URL, NULL, 0, -1, err),
                     FW_ERROR);
    assert_int_equal(fw_jwt_keyset_add_jwks(&ks, (u_char *) "{\"keys\":[]}",
                                            11, &a, &s, err), FW_ERROR);
    assert_int_equal(fw_jwt_keyset_add_jwks(&ks,
                         (u_char *) "{\"keys\":[{\"kty\":\"EC\",\"crv\":"
                         "\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}", 58,
                         &a, &s, err), FW_ERROR);
    assert_int_equal(ks.nkeys, 0);

    /* HMAC allowed for a set of public keys */
    load_pem(&ks, "t/keys/jwt/rsa.pub", -1);
    ks.algs = FW_JWT_ALG_BIT(FW_JWT_RS256) | FW_JWT_ALG_BIT(FW_JWT_HS256);
    assert_int_equal(fw_jwt_keyset_check(&ks, err), FW_ERROR);
    ks.algs = FW_JWT_ALG_BIT(FW_JWT_RS256);
    assert_int_equal(fw_jwt_keyset_check(&ks, err), FW_OK);
    ks.algs = FW_JWT_ALG_BIT(FW_JWT_ES256);
    assert_int_equal(fw_jwt_keyset_check(&ks, err), FW_ERROR);

    fw_jwt_keyset_free(&ks);
}


static int
claims(const fw_jwt_claims_conf_t *cc, const char *header,
    const char *payload)
{
    int             rc;
    fw_jwt_token_t  t;

    memset(&t, 0, sizeof(t));
    t.header = json_loads(header, 0, NULL);
    t.payload = json_loads(payload, 0, NULL);
    assert_non_null(t.header);
    assert_non_null(t.payload);

    rc = fw_jwt_check_claims(cc, &t);
    fw_jwt_token_free(&t);

    return rc;
}


static void
test_claims(void **state)
{
    fw_jwt_str_t          iss[] = { { (u_char *) "https://idp", 11 } };
    fw_jwt_str_t          aud[] = { { (u_char *) "api", 3 },
                                    { (u_char *) "fhir", 4 } };
    fw_jwt_claims_conf_t  cc;
    const char           *h = "{\"alg\":\"RS256\"}";

    memset(&cc, 0, sizeof(cc));
    cc.now = 1000000;
    cc.require_exp = 1;

    assert_int_equal(claims(&cc, h, "{\"exp\":1000001}"), FW_JWT_VALID);
    assert_int_equal(claims(&cc, h, "{\"exp\":1000000}"), FW_JWT_EXPIRED);
    assert_int_equal(claims(&cc, h, "{\"exp\":1000000.5}"), FW_JWT_VALID);
    assert_int_equal(claims(&cc, h, "{\"exp\":\"1000001\"}"),
                     FW_JWT_INVALID_CLAIM);
    assert_int_equal(claims(&cc, h, "{}"), FW_JWT_INVALID_CLAIM);
    assert_int_equal(claims(&cc, h, "{\"exp\":-5}"), FW_JWT_INVALID_CLAIM);
    assert_int_equal(claims(&cc, h, "{\"exp\":2000000,\"nbf\":1000001}"),
                     FW_JWT_NOT_YET_VALID);
    assert_int_equal(claims(&cc, h, "{\"exp\":2000000,\"iat\":1000100}"),
                     FW_JWT_NOT_YET_VALID);
    assert_int_equal(claims(&cc, h, "{\"exp\":2000000,\"nbf\":true}"),
                     FW_JWT_INVALID_CLAIM);

    cc.leeway = 60;
    assert_int_equal(claims(&cc, h, "{\"exp\":999950}"), FW_JWT_VALID);
    assert_int_equal(claims(&cc, h, "{\"exp\":999940}"), FW_JWT_EXPIRED);
    assert_int_equal(claims(&cc, h, "{\"exp\":2000000,\"nbf\":1000050}"),
                     FW_JWT_VALID);
    cc.leeway = 0;

    cc.require_exp = 0;
    assert_int_equal(claims(&cc, h, "{}"), FW_JWT_VALID);

    cc.max_lifetime = 3600;
    assert_int_equal(claims(&cc, h, "{}"), FW_JWT_LIFETIME);
    assert_int_equal(claims(&cc, h, "{\"iat\":999000,\"exp\":1002600}"),
                     FW_JWT_VALID);
    assert_int_equal(claims(&cc, h, "{\"iat\":999000,\"exp\":1002601}"),
                     FW_JWT_LIFETIME);
    assert_int_equal(claims(&cc, h, "{\"exp\":1003600}"), FW_JWT_VALID);
    assert_int_equal(claims(&cc, h, "{\"exp\":1003601}"), FW_JWT_LIFETIME);
    cc.max_lifetime = 0;

    cc.issuers = iss;
    cc.nissuers = 1;
    assert_int_equal(claims(&cc, h, "{\"iss\":\"https://idp\"}"),
                     FW_JWT_VALID);
    assert_int_equal(claims(&cc, h, "{\"iss\":\"https://idp/\"}"),
                     FW_JWT_BAD_ISSUER);
    assert_int_equal(claims(&cc, h, "{\"iss\":[\"https://idp\"]}"),
                     FW_JWT_BAD_ISSUER);
    assert_int_equal(claims(&cc, h, "{}"), FW_JWT_BAD_ISSUER);
    cc.nissuers = 0;

    cc.audiences = aud;
    cc.naudiences = 2;
    assert_int_equal(claims(&cc, h, "{\"aud\":\"fhir\"}"), FW_JWT_VALID);
    assert_int_equal(claims(&cc, h, "{\"aud\":[\"x\",\"api\"]}"),
                     FW_JWT_VALID);
    assert_int_equal(claims(&cc, h, "{\"aud\":[\"x\",\"apix\"]}"),
                     FW_JWT_BAD_AUDIENCE);
    assert_int_equal(claims(&cc, h, "{\"aud\":\"fhi\"}"),
                     FW_JWT_BAD_AUDIENCE);
    assert_int_equal(claims(&cc, h, "{}"), FW_JWT_BAD_AUDIENCE);
    cc.naudiences = 0;

    cc.typ = FW_JWT_TYP_EITHER;
    assert_int_equal(claims(&cc, "{\"typ\":\"JWT\"}", "{}"), FW_JWT_VALID);
    assert_int_equal(claims(&cc, "{\"typ\":\"jwt\"}", "{}"), FW_JWT_VALID);
    assert_int_equal(claims(&cc, "{\"typ\":\"application/at+jwt\"}", "{}"),
                     FW_JWT_VALID);
    assert_int_equal(claims(&cc, "{\"typ\":\"dpop+jwt\"}", "{}"),
                     FW_JWT_BAD_TYPE);
    cc.typ = FW_JWT_TYP_AT_JWT;
    assert_int_equal(claims(&cc, "{}", "{}"), FW_JWT_BAD_TYPE);
    assert_int_equal(claims(&cc, "{\"typ\":\"at+JWT\"}", "{}"),
                     FW_JWT_VALID);
    assert_int_equal(claims(&cc, "{\"typ\":\"JWT\"}", "{}"),
                     FW_JWT_BAD_TYPE);
    cc.typ = FW_JWT_TYP_JWT;
    assert_int_equal(claims(&cc, "{}", "{}"), FW_JWT_VALID);
    assert_int_equal(claims(&cc, "{\"typ\":\"at+jwt\"}", "{}"),
                     FW_JWT_BAD_TYPE);
    cc.typ = FW_JWT_TYP_OFF;
    assert_int_equal(claims(&cc, "{\"typ\":\"whatever\"}", "{}"),
                     FW_JWT_VALID);
}


static void
test_lookup_require_roles(void **state)
{
    json_t            *p, *v;
    char              *s;
    size_t             len;
    fw_jwt_str_t       vals[2];
    fw_jwt_role_t      roles[2];
    fw_jwt_require_t   rq;

    p = json_loads("{\"realm_access\":{\"roles\":[\"reader\",\"x\"]},"
                   "\"https://e.com/org\":\"acme\",\"a\":{\"b.c\":1},"
                   "\"scope\":\"openid patient/*.rs\",\"n\":7,"
                   "\"t\":true,\"o\":{\"k\":[1,\"s\"]}}", 0, NULL);
    assert_non_null(p);

    v = fw_jwt_lookup(p, (u_char *) "realm_access.roles", 18);
    assert_true(json_is_array(v));
    assert_non_null(fw_jwt_lookup(p, (u_char *) "https://e.com/org", 17));
    assert_non_null(fw_jwt_lookup(p, (u_char *) "a.b.c", 5));
    assert_null(fw_jwt_lookup(p, (u_char *) "realm_access.nope", 17));
    assert_null(fw_jwt_lookup(p, (u_char *) "realm_access.", 13));

    s = fw_jwt_value_text(v, &len, ',');
    assert_string_equal(s, "reader,x");
    free(s);
    s = fw_jwt_value_text(json_object_get(p, "o"), &len, ',');
    assert_string_equal(s, "{\"k\":[1,\"s\"]}");
    free(s);
    s = fw_jwt_value_text(json_object_get(p, "n"), &len, ',');
    assert_string_equal(s, "7");
    free(s);

    memset(&rq, 0, sizeof(rq));
    rq.values = vals;

    rq.path.data = (u_char *) "scope";
    rq.path.len = 5;
    rq.op = FW_JWT_OP_ANY;
    vals[0].data = (u_char *) "patient/*.rs";
    vals[0].len = 12;
    rq.nvalues = 1;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_OK);
    vals[0].len = 11;                   /* a prefix is no match */
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_ERROR);

    rq.path.data = (u_char *) "realm_access.roles";
    rq.path.len = 18;
    rq.op = FW_JWT_OP_ALL;
    vals[0].data = (u_char *) "reader";
    vals[0].len = 6;
    vals[1].data = (u_char *) "x";
    vals[1].len = 1;
    rq.nvalues = 2;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_OK);
    vals[1].data = (u_char *) "y";
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_ERROR);

    rq.path.data = (u_char *) "n";
    rq.path.len = 1;
    rq.op = FW_JWT_OP_EQ;
    vals[0].data = (u_char *) "7";
    vals[0].len = 1;
    rq.nvalues = 1;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_OK);
    rq.op = FW_JWT_OP_GT;
    rq.number = 6.5;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_OK);
    rq.op = FW_JWT_OP_LT;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_ERROR);
    rq.op = FW_JWT_OP_NE;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_ERROR);

    rq.path.data = (u_char *) "t";
    rq.op = FW_JWT_OP_EQ;
    vals[0].data = (u_char *) "true";
    vals[0].len = 4;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_OK);

    rq.path.data = (u_char *) "missing";
    rq.path.len = 7;
    rq.op = FW_JWT_OP_NE;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_ERROR);
    rq.op = FW_JWT_OP_EXISTS;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_ERROR);
    rq.op = FW_JWT_OP_ABSENT;
    assert_int_equal(fw_jwt_check_require(&rq, p), FW_OK);

    /* no document (it could not be made): no requirement holds, absent
       neither */
    assert_int_equal(fw_jwt_check_require(&rq, NULL), FW_ERROR);
    rq.op = FW_JWT_OP_EXISTS;
    assert_int_equal(fw_jwt_check_require(&rq, NULL), FW_ERROR);

    roles[0].name.data = (u_char *) "admin";
    roles[0].name.len = 5;
    roles[0].methods = 0;
    roles[1].name.data = (u_char *) "reader";
    roles[1].name.len = 6;
    roles[1].methods = 0x2 | 0x4;           /* the caller's GET | HEAD */

    assert_int_equal(fw_jwt_check_roles(v, roles, 2, 0x2), FW_OK);
    assert_int_equal(fw_jwt_check_roles(v, roles, 2, 0x8), FW_ERROR);
    assert_int_equal(fw_jwt_check_roles(NULL, roles, 2, 0x2), FW_ERROR);
    assert_int_equal(fw_jwt_check_roles(json_object_get(p, "scope"), roles,
                                        2, 0x2), FW_ERROR);

    json_decref(p);
}


static void
test_cache(void **state)
{
    u_char           d1[32], d2[32];
    int              owner1, owner2, i;
    fw_jwt_cache_t  *c;
    fw_jwt_token_t   t, out;

    c = fw_jwt_cache_create(16);
    assert_non_null(c);

    memset(&t, 0, sizeof(t));
    t.header = json_object();
    t.payload = json_pack("{s:i}", "exp", 2000);
    t.alg = FW_JWT_RS256;

    assert_int_equal(fw_jwt_digest((u_char *) "tok1", 4, d1), FW_OK);
    assert_int_equal(fw_jwt_digest((u_char *) "tok2", 4, d2), FW_OK);
    assert_int_equal(fw_jwt_cache_expiry(&t, 1000, 300), 1300);
    assert_int_equal(fw_jwt_cache_expiry(&t, 1900, 300), 2000);

    fw_jwt_cache_put(c, d1, &owner1, 0, 2000, &t);

    assert_int_equal(fw_jwt_cache_get(c, d1, &owner1, 0, 1000, &out), FW_OK);
    assert_int_equal(out.alg, FW_JWT_RS256);
    assert_ptr_equal(out.payload, t.payload);
    fw_jwt_token_free(&out);

    /* another key set, another token, expired */
    assert_int_equal(fw_jwt_cache_get(c, d1, &owner2, 0, 1000, &out),
                     FW_ERROR);
    assert_int_equal(fw_jwt_cache_get(c, d1, &owner1, 1, 1000, &out),
                     FW_ERROR);
    assert_int_equal(fw_jwt_cache_get(c, d2, &owner1, 0, 1000, &out),
                     FW_ERROR);
    assert_int_equal(fw_jwt_cache_get(c, d1, &owner1, 0, 2000, &out),
                     FW_ERROR);
    assert_int_equal(fw_jwt_cache_get(c, d1, &owner1, 0, 1000, &out),
                     FW_ERROR);

    /* bounded: many entries, no growth, no leak (valgrind/ASan) */
    for (i = 0; i < 1000; i++) {
        d1[0] = (u_char) i;
        d1[1] = (u_char) (i >> 8);
        fw_jwt_cache_put(c, d1, &owner1, 0, 5000 + i, &t);
    }

    fw_jwt_token_free(&t);
    fw_jwt_cache_destroy(c);
}


static void
test_secret_shapes(void **state)
{
    char             err[FW_JWT_ERRLEN];
    u_char          *pem, *der, *txt, *q, raw[64], rnd[64];
    size_t           n, dlen, tlen, rlen;
    fw_jwt_keyset_t  ks;

    static const char  jwk[] = " {\"kty\":\"oct\",\"k\":\"AAAA\"} ";
    static const char  jwks[] = "{\"keys\":[]}";
    static const char  other[] = "{\"a\":\"0123456789abcdef0123456789\"}";

    for (n = 0; n < sizeof(rnd); n++) {
        rnd[n] = (u_char) (n * 7 + 1);
    }

    /* random bytes and ordinary text pass */
    assert_int_equal(fw_jwt_secret_shape(rnd, sizeof(rnd), err),
                     FW_OK);
    assert_int_equal(fw_jwt_secret_shape((u_char *) other, strlen(other),
                                         err), FW_OK);

    pem = read_all("t/keys/jwt/rsa.pub", &n);
    assert_int_equal(fw_jwt_secret_shape(pem, n, err), FW_ERROR);
    assert_non_null(strstr(err, "PEM block"));

    assert_int_equal(fw_jwt_secret_shape((u_char *) jwk, strlen(jwk), err),
                     FW_ERROR);
    assert_non_null(strstr(err, "JWK"));
    assert_int_equal(fw_jwt_secret_shape((u_char *) jwks, strlen(jwks),
                                         err), FW_ERROR);

    /* DER, and its base64 with line ends (a PEM body) */
    fw_jwt_keyset_init(&ks);
    load_pem(&ks, "t/keys/jwt/rsa.pub", -1);
    dlen = (size_t) i2d_PUBKEY(ks.keys[0].pkey, NULL);
    der = malloc(dlen);
    q = der;
    assert_int_equal(i2d_PUBKEY(ks.keys[0].pkey, &q), (int) dlen);
    assert_int_equal(fw_jwt_secret_shape(der, dlen, err), FW_ERROR);
    assert_non_null(strstr(err, "DER"));

    txt = malloc(dlen * 2 + 4);
    tlen = fw_base64_encode(der, dlen, txt);
    memmove(txt + 41, txt + 40, tlen - 40);
    txt[40] = '\n';
    assert_int_equal(fw_jwt_secret_shape(txt, tlen + 1, err), FW_ERROR);
    assert_non_null(strstr(err, "base64"));

    /* a SEQUENCE that covers the rest exactly, of a key OpenSSL lacks */
    memcpy(raw, rnd, sizeof(raw));
    raw[0] = 0x30;
    raw[1] = 62;
    raw[2] = 0x06;
    assert_int_equal(fw_jwt_secret_shape(raw, sizeof(raw), err), FW_ERROR);
    raw[1] = 61;
    assert_int_equal(fw_jwt_secret_shape(raw, sizeof(raw), err), FW_OK);

    fw_jwt_keyset_free(&ks);
    free(txt);
    free(der);
    free(pem);

    /* the raw Ed25519 key as a secret beside its PEM key */
    fw_jwt_keyset_init(&ks);
    load_pem(&ks, "t/keys/jwt/ed25519.pub", -1);
    rlen = sizeof(raw);
    assert_int_equal(EVP_PKEY_get_raw_public_key(ks.keys[0].pkey, raw,
                                                 &rlen), 1);
    assert_int_equal(fw_jwt_keyset_add_secret(&ks, raw, rlen,
                         FW_JWT_SECRET_BINARY, NULL, 0, -1, err), FW_OK);
    ks.algs = FW_JWT_ALG_BIT(FW_JWT_HS256) | FW_JWT_ALG_BIT(FW_JWT_EDDSA);
    assert_int_equal(fw_jwt_keyset_check(&ks, err), FW_ERROR);
    assert_non_null(strstr(err, "same as a public key"));
    fw_jwt_keyset_free(&ks);

    /* RFC 7518 3.2: a 32-byte secret with HS384 and HS512 only */
    fw_jwt_keyset_init(&ks);
    assert_int_equal(fw_jwt_keyset_add_secret(&ks, rnd, 32,
                         FW_JWT_SECRET_BINARY, NULL, 0, -1, err), FW_OK);
    ks.algs = FW_JWT_ALG_BIT(FW_JWT_HS384) | FW_JWT_ALG_BIT(FW_JWT_HS512);
    assert_int_equal(fw_jwt_keyset_check(&ks, err), FW_ERROR);
    assert_non_null(strstr(err, "32 bytes fits none"));

    ks.algs = FW_JWT_ALG_BIT(FW_JWT_HS256) | FW_JWT_ALG_BIT(FW_JWT_HS384);
    assert_int_equal(fw_jwt_keyset_check(&ks, err), FW_OK);
    assert_int_equal(fw_jwt_keyset_warn(&ks, err), 1);
    assert_non_null(strstr(err, "HS384 is allowed"));

    ks.algs = FW_JWT_ALG_BIT(FW_JWT_HS256);
    assert_int_equal(fw_jwt_keyset_warn(&ks, err), 0);
    fw_jwt_keyset_free(&ks);
}



/*
 * The ECDSA signature DER written without BIGNUMs is byte for byte what
 * i2d_ECDSA_SIG() writes: zero, leading zero bytes, high bits, all ones,
 * random values, for the three curve sizes (P-521: a long-form length)
 */

static void
test_ecdsa_der(void **state)
{
    int         c, k, i, len;
    u_char      sig[132], want[FW_JWT_ECDSA_DER_MAX + 16], *w;
    u_char      got[FW_JWT_ECDSA_DER_MAX];
    size_t      n, glen;
    BIGNUM     *r, *s;
    ECDSA_SIG  *es;
    static const size_t  sizes[3] = { 32, 48, 66 };

    srand(22);

    for (c = 0; c < 3; c++) {
        n = sizes[c];

        for (k = 0; k < 2000; k++) {
            for (i = 0; i < (int) (2 * n); i++) {
                sig[i] = (u_char) rand();
            }

            switch (k % 8) {
            case 0: memset(sig, 0, n); break;                /* r = 0 */
            case 1: memset(sig, 0, n - 1); break;            /* r < 256 */
            case 2: sig[0] = 0; sig[n] = 0; break;
            case 3: sig[0] |= 0x80; sig[n] |= 0x80; break;
            case 4: memset(sig, 0xff, 2 * n); break;
            case 5: sig[0] = 0; sig[1] = 0; sig[2] |= 0x80; break;
            case 6: memset(sig + n, 0, n); sig[2 * n - 1] = 1; break;
            }

            r = BN_bin2bn(sig, (int) n, NULL);
            s = BN_bin2bn(sig + n, (int) n, NULL);
            es = ECDSA_SIG_new();
            assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
            len = i2d_ECDSA_SIG(es, NULL);
            assert_true(len > 0 && len <= FW_JWT_ECDSA_DER_MAX);
            w = want;
            assert_int_equal(i2d_ECDSA_SIG(es, &w), len);
            ECDSA_SIG_free(es);

            glen = fw_jwt_ecdsa_der(got, sig, n);
            assert_int_equal(glen, (size_t) len);
            assert_memory_equal(got, want, glen);
        }
    }
}

int
main(void)
{
    size_t  i;

    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_every_algorithm),
        cmocka_unit_test(test_confusion),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_header_and_json),
        cmocka_unit_test(test_kid_selection),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_lookup_require_roles),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_secret_shapes),
        cmocka_unit_test(test_kid_hash),
        cmocka_unit_test(test_ecdsa_der),
    };

    for (i = 0; i < sizeof(secret); i++) {
        secret[i] = (u_char) (i * 7 + 1);
    }

    assert_int_equal(fw_jwt_init(), FW_OK);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
