/*
 * fhirwall JWT DPoP and certificate binding core: unit tests (cmocka).
 * Run from the repository root (keys are read from t/keys/jwt/).
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
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_dpop.h"
#include "fw_jwt_scan.h"


#define NOW     1700000000
#define HTU     "https://api.example.org/fhir/Patient"
#define TOKEN   "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"


static u_char *read_all(const char *path, size_t *len);
static char *b64(const u_char *s, size_t len);
static EVP_PKEY *load_key(const char *path);
static char *jwk_of(EVP_PKEY *pkey);
static char *sign(const char *alg, const char *header, const char *payload,
    EVP_PKEY *pkey);
static char *proof(const char *alg, const char *keyfile, const char *typ,
    const char *jwk, const char *payload);
static char *payload(const char *htm, const char *htu, long iat,
    const char *ath, const char *nonce, const char *jti);
static char *ath_of(const char *tok);
static int verify(const char *p, fw_jwt_dpop_proof_t *out);
static void setup_rq(void);
static int teardown(void **state);
static void *cnf_malloc(size_t size);
static void test_token_cnf_no_memory(void **state);
static void test_status_names(void **state);
static void test_escaped(void **state);
static void test_token_cnf(void **state);


static fw_jwt_dpop_req_t  rq;


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
b64(const u_char *s, size_t len)
{
    char  *out;

    out = malloc(fw_base64url_encoded_len(len) + 1);
    out[fw_base64url_encode(s, len, (u_char *) out)] = '\0';

    return out;
}


static EVP_PKEY *
load_key(const char *path)
{
    BIO       *bio;
    u_char    *key;
    size_t     klen;
    EVP_PKEY  *pkey;

    key = read_all(path, &klen);
    bio = BIO_new_mem_buf(key, (int) klen);
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(key);
    assert_non_null(pkey);

    return pkey;
}


/* the public JWK of a private key, as a JSON object text */

static char *
jwk_of(EVP_PKEY *pkey)
{
    char      *out, *a, *b, group[32];
    u_char     buf[1024];
    size_t     n, glen;
    BIGNUM    *x, *y;
    int        clen;

    out = malloc(4096);
    x = NULL;
    y = NULL;

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_EC:
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof(group), &glen);
        clen = strcmp(group, "prime256v1") == 0 ? 32
               : (strcmp(group, "secp384r1") == 0 ? 48 : 66);
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x);
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
        BN_bn2binpad(x, buf, clen);
        a = b64(buf, clen);
        BN_bn2binpad(y, buf, clen);
        b = b64(buf, clen);
        snprintf(out, 4096, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\","
                 "\"y\":\"%s\"}", clen == 32 ? "P-256"
                 : (clen == 48 ? "P-384" : "P-521"), a, b);
        break;

    case EVP_PKEY_RSA:
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &x);
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &y);
        n = BN_bn2bin(x, buf);
        a = b64(buf, n);
        n = BN_bn2bin(y, buf);
        b = b64(buf, n);
        snprintf(out, 4096, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}",
                 a, b);
        break;

    default:
        n = sizeof(buf);
        EVP_PKEY_get_raw_public_key(pkey, buf, &n);
        a = b64(buf, n);
        b = NULL;
        snprintf(out, 4096, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                 "\"x\":\"%s\"}", a);
        break;
    }

    free(a);
    free(b);
    BN_free(x);
    BN_free(y);

    return out;
}


static char *
sign(const char *alg, const char *header, const char *payload,
    EVP_PKEY *pkey)
{
    int            n;
    u_char         sig[1024], der[256];
    char          *h, *p, *input, *s, *tok;
    size_t         slen;
    ECDSA_SIG     *es;
    EVP_MD_CTX    *mctx;
    EVP_PKEY_CTX  *pctx;
    const BIGNUM  *r, *ss;
    const EVP_MD  *md;
    const u_char  *dp;

    h = b64((const u_char *) header, strlen(header));
    p = b64((const u_char *) payload, strlen(payload));
    input = malloc(strlen(h) + strlen(p) + 2);
    sprintf(input, "%s.%s", h, p);

    md = strstr(alg, "384") ? EVP_sha384()
         : (strstr(alg, "512") ? EVP_sha512() : EVP_sha256());

    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
        md = NULL;
    }

    mctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(mctx, &pctx, md, NULL, pkey), 1);

    if (alg[0] == 'P') {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }

    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
        slen = sizeof(der);
        assert_int_equal(EVP_DigestSign(mctx, der, &slen, (u_char *) input,
                                        strlen(input)), 1);
        n = EVP_PKEY_get_bits(pkey) == 256 ? 32
            : (EVP_PKEY_get_bits(pkey) == 384 ? 48 : 66);
        dp = der;
        es = d2i_ECDSA_SIG(NULL, &dp, (long) slen);
        ECDSA_SIG_get0(es, &r, &ss);
        BN_bn2binpad(r, sig, n);
        BN_bn2binpad(ss, sig + n, n);
        ECDSA_SIG_free(es);
        slen = (size_t) n * 2;

    } else {
        slen = sizeof(sig);
        assert_int_equal(EVP_DigestSign(mctx, sig, &slen, (u_char *) input,
                                        strlen(input)), 1);
    }

    EVP_MD_CTX_free(mctx);

    s = b64(sig, slen);
    tok = malloc(strlen(input) + strlen(s) + 2);
    sprintf(tok, "%s.%s", input, s);

    free(h);
    free(p);
    free(s);
    free(input);

    return tok;
}


/* jwk NULL: the public JWK of the key; typ NULL: no typ */

static char *
proof(const char *alg, const char *keyfile, const char *typ,
    const char *jwk, const char *pl)
{
    char      *hdr, *j, *tok;
    EVP_PKEY  *pkey;

    pkey = load_key(keyfile);
    j = jwk ? strdup(jwk) : jwk_of(pkey);
    hdr = malloc(strlen(j) + 128);

    if (typ) {
        sprintf(hdr, "{\"typ\":\"%s\",\"alg\":\"%s\",\"jwk\":%s}", typ, alg,
                j);
    } else {
        sprintf(hdr, "{\"alg\":\"%s\",\"jwk\":%s}", alg, j);
    }

    tok = sign(alg, hdr, pl, pkey);

    EVP_PKEY_free(pkey);
    free(j);
    free(hdr);

    return tok;
}


static char *
payload(const char *htm, const char *htu, long iat, const char *ath,
    const char *nonce, const char *jti)
{
    char  *p;

    p = malloc(1024);
    snprintf(p, 1024, "{\"jti\":\"%s\",\"htm\":\"%s\",\"htu\":\"%s\","
             "\"iat\":%ld%s%s%s%s%s%s}", jti ? jti : "j-1", htm, htu, iat,
             ath ? ",\"ath\":\"" : "", ath ? ath : "", ath ? "\"" : "",
             nonce ? ",\"nonce\":\"" : "", nonce ? nonce : "",
             nonce ? "\"" : "");

    return p;
}


static char *
ath_of(const char *tok)
{
    u_char  d[32];

    assert_int_equal(fw_jwt_digest((const u_char *) tok, strlen(tok), d),
                     FW_OK);

    return b64(d, 32);
}


static int
verify(const char *p, fw_jwt_dpop_proof_t *out)
{
    return fw_jwt_dpop_verify(&rq, (const u_char *) p, strlen(p), out);
}


static void
setup_rq(void)
{
    memset(&rq, 0, sizeof(rq));
    rq.algs = FW_JWT_ALGS_ALL;
    rq.now = NOW;
    rq.window = 60;
    rq.leeway = 5;
    rq.htm.data = (const u_char *) "GET";
    rq.htm.len = 3;
    rq.htu.data = (const u_char *) HTU;
    rq.htu.len = sizeof(HTU) - 1;
    rq.token.data = (const u_char *) TOKEN;
    rq.token.len = sizeof(TOKEN) - 1;
}


static void
test_thumbprint(void **state)
{
    u_char       jkt[FW_JWT_THUMB_LEN + 1];
    json_t      *j;
    json_error_t e;

    /* RFC 7638 section 3.1 */
    j = json_loads("{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmb"
        "XEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjB"
        "ZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65"
        "YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9"
        "1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBni"
        "Iqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\","
        "\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}", 0, &e);
    assert_non_null(j);
    assert_int_equal(fw_jwt_jwk_thumbprint(j, jkt), FW_JWT_DPOP_OK);
    assert_string_equal((char *) jkt,
                        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");

    /* a private member, a symmetric key, junk values */
    json_object_set_new(j, "d", json_string("AQAB"));
    assert_int_equal(fw_jwt_jwk_thumbprint(j, jkt), FW_JWT_DPOP_PRIVATE);
    json_decref(j);

    j = json_loads("{\"kty\":\"oct\",\"k\":\"AQAB\"}", 0, &e);
    assert_int_equal(fw_jwt_jwk_thumbprint(j, jkt), FW_JWT_DPOP_PRIVATE);
    json_decref(j);

    j = json_loads("{\"kty\":\"oct\"}", 0, &e);
    assert_int_equal(fw_jwt_jwk_thumbprint(j, jkt), FW_JWT_DPOP_JWK);
    json_decref(j);

    j = json_loads("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"a\\\"b\","
                   "\"y\":\"AA\"}", 0, &e);
    assert_int_equal(fw_jwt_jwk_thumbprint(j, jkt), FW_JWT_DPOP_JWK);
    json_decref(j);

    j = json_loads("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"AA\","
                   "\"y\":\"AA\"}", 0, &e);
    assert_int_equal(fw_jwt_jwk_thumbprint(j, jkt), FW_JWT_DPOP_JWK);
    json_decref(j);

    assert_int_equal(fw_jwt_jwk_thumbprint(NULL, jkt), FW_JWT_DPOP_JWK);
}


static void
test_valid_every_key(void **state)
{
    static const struct {
        const char  *alg;
        const char  *key;
    } cases[] = {
        { "ES256", "t/keys/jwt/ec256.key" },
        { "ES384", "t/keys/jwt/ec384.key" },
        { "ES512", "t/keys/jwt/ec521.key" },
        { "RS256", "t/keys/jwt/rsa.key" },
        { "PS256", "t/keys/jwt/rsa.key" },
        { "EdDSA", "t/keys/jwt/ed25519.key" },
    };

    char                 *p, *pl, *ath, *jwk;
    u_char                jkt[FW_JWT_THUMB_LEN + 1];
    size_t                i;
    json_t               *j;
    EVP_PKEY             *pkey;
    json_error_t          e;
    fw_jwt_dpop_proof_t   out, out2;

    setup_rq();
    ath = ath_of(TOKEN);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pl = payload("GET", HTU, NOW - 10, ath, NULL, NULL);
        p = proof(cases[i].alg, cases[i].key, "dpop+jwt", NULL, pl);

        assert_int_equal(verify(p, &out), FW_JWT_DPOP_OK);
        assert_int_equal(out.iat, NOW - 10);

        /* the thumbprint is that of the key */
        pkey = load_key(cases[i].key);
        jwk = jwk_of(pkey);
        j = json_loads(jwk, 0, &e);
        assert_int_equal(fw_jwt_jwk_thumbprint(j, jkt), FW_JWT_DPOP_OK);
        assert_string_equal((char *) out.jkt, (char *) jkt);

        /* again: from the key cache, the same answer */
        assert_int_equal(verify(p, &out2), FW_JWT_DPOP_OK);
        assert_memory_equal(out.replay, out2.replay, 32);

        /* one character of the signature changed */
        p[strlen(p) - 3] = p[strlen(p) - 3] == 'A' ? 'B' : 'A';
        assert_int_equal(verify(p, &out), FW_JWT_DPOP_SIGNATURE);

        json_decref(j);
        EVP_PKEY_free(pkey);
        free(jwk);
        free(p);
        free(pl);
    }

    free(ath);
}


static void
test_refusals(void **state)
{
    char                 *p, *pl, *ath, *jwk, *priv;
    EVP_PKEY             *pkey;
    fw_jwt_dpop_proof_t   out, out2;

    setup_rq();
    ath = ath_of(TOKEN);

    pl = payload("GET", HTU, NOW, ath, NULL, NULL);

    /* typ */
    p = proof("ES256", "t/keys/jwt/ec256.key", NULL, NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_TYP);
    free(p);
    p = proof("ES256", "t/keys/jwt/ec256.key", "JWT", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_TYP);
    free(p);
    p = proof("ES256", "t/keys/jwt/ec256.key", "DPoP+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_TYP);
    free(p);

    /* alg: none, HMAC, outside the allow-list, not the key's */
    p = proof("none", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_ALG);
    free(p);
    p = proof("HS256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_ALG);
    free(p);
    p = proof("RS256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_ALG);
    free(p);
    rq.algs = FW_JWT_ALG_BIT(FW_JWT_PS256);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_ALG);
    rq.algs = FW_JWT_ALGS_ALL;
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_OK);
    free(p);

    /* jwk: private members, missing, another key's */
    pkey = load_key("t/keys/jwt/ec256.key");
    jwk = jwk_of(pkey);
    priv = malloc(strlen(jwk) + 32);
    sprintf(priv, "%.*s,\"d\":\"AAAA\"}", (int) strlen(jwk) - 1, jwk);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", priv, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_PRIVATE);
    free(p);
    free(priv);
    EVP_PKEY_free(pkey);
    free(jwk);

    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", "\"x\"", pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_JWK);
    free(p);

    pkey = load_key("t/keys/jwt/ec384.key");
    jwk = jwk_of(pkey);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", jwk, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_ALG);
    free(p);
    EVP_PKEY_free(pkey);
    free(jwk);

    pkey = load_key("t/keys/jwt/rsa1024.key");
    jwk = jwk_of(pkey);
    p = proof("RS256", "t/keys/jwt/rsa1024.key", "dpop+jwt", jwk, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_JWK);
    free(p);
    EVP_PKEY_free(pkey);
    free(jwk);

    free(pl);

    /* htm */
    pl = payload("POST", HTU, NOW, ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_HTM);
    free(p);
    free(pl);
    pl = payload("get", HTU, NOW, ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_HTM);
    free(p);
    free(pl);

    /* htu: query, fragment, another path or host */
    pl = payload("GET", HTU "?x=1", NOW, ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_HTU);
    free(p);
    free(pl);
    pl = payload("GET", "https://api.example.org/fhir/Observation", NOW,
                 ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_HTU);
    free(p);
    free(pl);
    pl = payload("GET", "HTTPS://API.example.org:443/fhir/Patient", NOW,
                 ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_OK);
    free(p);
    free(pl);

    /* iat: too old, in the future, not a number */
    pl = payload("GET", HTU, NOW - 61, ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_IAT);
    free(p);
    free(pl);
    pl = payload("GET", HTU, NOW + 6, ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_IAT);
    free(p);
    free(pl);
    pl = payload("GET", HTU, NOW + 5, ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_OK);
    free(p);
    free(pl);

    /* ath: absent, another token's */
    pl = payload("GET", HTU, NOW, NULL, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_ATH);
    rq.token.len = 0;
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_OK);
    rq.token.len = sizeof(TOKEN) - 1;
    free(p);
    free(pl);
    pl = payload("GET", HTU, NOW, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                 NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_ATH);
    free(p);
    free(pl);

    /* jti: the replay digest is per key and jti */
    pl = payload("GET", HTU, NOW, ath, NULL, "j-2");
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_OK);
    free(p);
    free(pl);
    pl = payload("GET", HTU, NOW, ath, NULL, "j-3");
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out2), FW_JWT_DPOP_OK);
    assert_memory_not_equal(out.replay, out2.replay, 32);
    free(p);
    free(pl);
    pl = payload("GET", HTU, NOW, ath, NULL, "");
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_JTI);
    free(p);
    free(pl);

    /* size, structure */
    assert_int_equal(fw_jwt_dpop_verify(&rq, (u_char *) "", 0, &out),
                     FW_JWT_DPOP_MISSING);
    assert_int_equal(verify("a.b.c", &out), FW_JWT_DPOP_MALFORMED);
    p = malloc(FW_JWT_DPOP_MAX + 2);
    memset(p, 'a', FW_JWT_DPOP_MAX + 1);
    p[FW_JWT_DPOP_MAX + 1] = '\0';
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_TOO_LARGE);
    free(p);

    free(ath);
}


static void
test_nonce(void **state)
{
    char                 *p, *pl, *ath;
    fw_jwt_str_t          nonces[2];
    fw_jwt_dpop_proof_t   out;

    setup_rq();
    ath = ath_of(TOKEN);

    nonces[0].data = (const u_char *) "n-current";
    nonces[0].len = 9;
    nonces[1].data = (const u_char *) "n-previous";
    nonces[1].len = 10;
    rq.nonces = nonces;
    rq.nnonces = 2;

    pl = payload("GET", HTU, NOW, ath, NULL, NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_NONCE);
    free(p);
    free(pl);

    pl = payload("GET", HTU, NOW, ath, "n-other", NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_NONCE);
    free(p);
    free(pl);

    pl = payload("GET", HTU, NOW, ath, "n-previous", NULL);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_OK);
    assert_int_equal(out.nonce, 1);
    free(p);
    free(pl);

    free(ath);

    /* server nonces: per slot and secret, stable */
    {
        u_char  a[FW_JWT_THUMB_LEN + 1], b[FW_JWT_THUMB_LEN + 1];

        assert_int_equal(fw_jwt_dpop_nonce((u_char *) "k1", 2, 7, a), FW_OK);
        assert_int_equal(strlen((char *) a), FW_JWT_THUMB_LEN);
        assert_int_equal(fw_jwt_dpop_nonce((u_char *) "k1", 2, 7, b), FW_OK);
        assert_string_equal((char *) a, (char *) b);
        assert_int_equal(fw_jwt_dpop_nonce((u_char *) "k1", 2, 8, b), FW_OK);
        assert_string_not_equal((char *) a, (char *) b);
        assert_int_equal(fw_jwt_dpop_nonce((u_char *) "k2", 2, 7, b), FW_OK);
        assert_string_not_equal((char *) a, (char *) b);
    }

    assert_string_equal(fw_jwt_dpop_reason(FW_JWT_DPOP_NONCE),
                        "DPoP nonce required");
    assert_string_equal(fw_jwt_dpop_reason(-1), "DPoP proof check failed");
}


static void
test_htu(void **state)
{
#define M(a, b)  fw_jwt_dpop_htu_match((u_char *) a, sizeof(a) - 1, \
                                       (u_char *) b, sizeof(b) - 1)

    assert_true(M("https://a.example/x", "https://a.example/x"));
    assert_true(M("https://A.Example:443/x", "https://a.example/x"));
    assert_true(M("http://a.example:80/x", "http://a.example/x"));
    assert_true(M("https://a.example", "https://a.example/"));
    assert_true(M("https://a.example:8443/x", "https://a.example:8443/x"));
    assert_true(M("https://[::1]:8443/x", "https://[::1]:8443/x"));
    assert_true(M("https://[::1]/x", "https://[::1]:443/x"));

    assert_false(M("https://a.example/x", "http://a.example/x"));
    assert_false(M("https://a.example:80/x", "https://a.example/x"));
    assert_false(M("https://a.example/X", "https://a.example/x"));
    assert_false(M("https://a.example/x?y", "https://a.example/x"));
    assert_false(M("https://a.example/x#y", "https://a.example/x"));
    assert_false(M("https://u@a.example/x", "https://a.example/x"));
    assert_false(M("https://a.example:x/x", "https://a.example/x"));
    assert_false(M("ftp://a.example/x", "ftp://a.example/x"));
    assert_false(M("https:///x", "https:///x"));
    assert_false(M("https://b.example/x", "https://a.example/x"));
    assert_false(M("", ""));

#undef M
}


static void
test_cnf(void **state)
{
    u_char        cert[] = "not really DER, any bytes will do";
    u_char        d[32];
    char         *x5t;
    json_t       *j;
    json_error_t  e;
    fw_jwt_str_t  v;

    j = json_loads("{\"cnf\":{\"jkt\":\"abc\"}}", 0, &e);
    assert_int_equal(fw_jwt_cnf_get(j, "jkt", &v), 1);
    assert_int_equal(v.len, 3);
    assert_int_equal(fw_jwt_cnf_get(j, "x5t#S256", &v), 0);
    json_decref(j);

    j = json_loads("{\"sub\":\"a\"}", 0, &e);
    assert_int_equal(fw_jwt_cnf_get(j, "jkt", &v), 0);
    json_decref(j);

    j = json_loads("{\"cnf\":\"jkt\"}", 0, &e);
    assert_int_equal(fw_jwt_cnf_get(j, "jkt", &v), -1);
    json_decref(j);

    j = json_loads("{\"cnf\":{\"jkt\":5}}", 0, &e);
    assert_int_equal(fw_jwt_cnf_get(j, "jkt", &v), -1);
    json_decref(j);

    /* no document at all: refused, never "not bound" */
    assert_int_equal(fw_jwt_cnf_get(NULL, "jkt", &v), -1);

    fw_jwt_digest(cert, sizeof(cert) - 1, d);
    x5t = b64(d, 32);
    v.data = (u_char *) x5t;
    v.len = strlen(x5t);
    assert_true(fw_jwt_x5t_match(&v, cert, sizeof(cert) - 1));
    assert_false(fw_jwt_x5t_match(&v, cert, sizeof(cert) - 2));
    assert_false(fw_jwt_x5t_match(&v, NULL, 0));
    v.len--;
    assert_false(fw_jwt_x5t_match(&v, cert, sizeof(cert) - 1));
    free(x5t);
}


/*
 * The proof is read by the claims scanner, not jansson: escaped member
 * names and values in the jwk and the payload mean what they say
 */

static void
test_escaped(void **state)
{
    char                 *p, *pl, *ath, *jwk, *esc, *q;
    u_char                jkt[FW_JWT_THUMB_LEN + 1];
    json_t               *j;
    EVP_PKEY             *pkey;
    fw_jwt_dpop_proof_t   out, plain;

    setup_rq();
    ath = ath_of(TOKEN);
    pkey = load_key("t/keys/jwt/ec256.key");
    jwk = jwk_of(pkey);

    pl = payload("GET", HTU, NOW, ath, NULL, "j-esc");
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", NULL, pl);
    assert_int_equal(verify(p, &plain), FW_JWT_DPOP_OK);
    free(p);
    free(pl);

    /* "kty" as "k\u0074y", "EC" as "\u0045C", white space inside */
    esc = malloc(strlen(jwk) + 64);
    q = strstr(jwk, "\"kty\":\"EC\"");
    assert_non_null(q);
    sprintf(esc, "{ \"k\\u0074y\" : \"\\u0045C\" %s", q + 10);

    pl = malloc(1024);
    snprintf(pl, 1024, "{\"jti\":\"j\\u002desc\",\"htm\":\"G\\u0045T\","
             "\"htu\":\"https:\\/\\/api.example.org\\/fhir\\/Patient\","
             "\"iat\":%d.0,\"ath\":\"%s\"}", NOW, ath);

    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop\\u002bjwt", esc, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_OK);

    /* the same key, the same jti: the same thumbprint and replay key */
    assert_string_equal((char *) out.jkt, (char *) plain.jkt);
    assert_memory_equal(out.replay, plain.replay, 32);
    assert_int_equal(out.iat, NOW);

    j = json_loads(esc, 0, NULL);
    assert_non_null(j);
    assert_int_equal(fw_jwt_jwk_thumbprint(j, jkt), FW_JWT_DPOP_OK);
    assert_string_equal((char *) jkt, (char *) plain.jkt);
    json_decref(j);
    free(p);

    /* an escaped private member is still one */
    sprintf(esc, "%.*s,\"\\u0064\":\"AAAA\"}", (int) strlen(jwk) - 1, jwk);
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop+jwt", esc, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_PRIVATE);
    free(p);

    /* a typ that unescapes to something else */
    p = proof("ES256", "t/keys/jwt/ec256.key", "dpop\\u002Bjw", NULL, pl);
    assert_int_equal(verify(p, &out), FW_JWT_DPOP_TYP);
    free(p);

    free(pl);
    free(esc);
    free(jwk);
    free(ath);
    EVP_PKEY_free(pkey);
}


/* fw_jwt_token_cnf() on the scan gives what fw_jwt_cnf_get() gives */

static void
test_token_cnf(void **state)
{
    int             i, k, rc, want;
    char           *pl, *tok, *big;
    size_t          n;
    json_t         *j;
    EVP_PKEY       *pkey;
    fw_jwt_str_t    v, w;
    fw_jwt_token_t  t;
    static const char  *names[] = { "jkt", "x5t#S256" };
    static const char  *payloads[] = {
        "{\"sub\":\"a\"}",
        "{\"cnf\":{\"jkt\":\"abc\"}}",
        "{\"cnf\":{\"x5t#S256\":\"xyz\",\"jkt\":\"k\"}}",
        "{\"cnf\":{\"jkt\":\"a\\u0062c\"}}",
        "{\"cnf\":{\"j\\u006bt\":\"abc\"}}",
        "{\"cnf\":{\"jkt\":\"\"}}",
        "{\"cnf\":{\"jkt\":5}}",
        "{\"cnf\":{\"jkt\":null}}",
        "{\"cnf\":\"jkt\"}",
        "{\"cnf\":null}",
        "{\"cnf\":[\"jkt\"]}",
        "{\"cnf\":{}}",
        "{\"cnf\":{\"a\":{\"jkt\":\"deep\"}}}",
        NULL                /* big: a cnf of more than 1024 bytes */
    };

    big = malloc(4096);
    assert_non_null(big);
    n = (size_t) snprintf(big, 4096, "{\"cnf\":{\"pad\":\"");
    memset(big + n, 'p', 2000);
    n += 2000;
    snprintf(big + n, 4096 - n, "\",\"jkt\":\"long\"}}");

    pkey = load_key("t/keys/jwt/ec256.key");

    for (i = 0; i < (int) (sizeof(payloads) / sizeof(payloads[0])); i++) {
        pl = (char *) (payloads[i] ? payloads[i] : big);

        for (k = 0; k < 2; k++) {
            tok = sign("ES256", "{\"alg\":\"ES256\"}", pl, pkey);
            assert_int_equal(fw_jwt_decode(&t, (u_char *) tok, strlen(tok),
                                           FW_JWT_DEFAULT_MAX),
                             FW_JWT_VALID);

            rc = fw_jwt_token_cnf(&t, names[k], &v);

            /* no document is made for a token without cnf */
            if (strstr(pl, "cnf") == NULL) {
                assert_null(t.doc->payload);
            }

            j = json_loads(pl, 0, NULL);
            assert_non_null(j);
            want = fw_jwt_cnf_get(j, names[k], &w);
            assert_int_equal(rc, want);

            if (rc == 1) {
                assert_int_equal(v.len, w.len);
                assert_memory_equal(v.data, w.data, v.len);
            }

            json_decref(j);
            fw_jwt_token_free(&t);
            free(tok);
        }
    }

    EVP_PKEY_free(pkey);
    free(big);
}


/* the document fw_jwt_token_cnf() needs cannot be made (out of memory):
   -2, neither "unbound" (0) nor a value; where the scan answers (no cnf,
   or no x5t#S256 in it) no document is needed and the answer stays 0 */

static int  cnf_fail_alloc;


static void *
cnf_malloc(size_t size)
{
    return cnf_fail_alloc ? NULL : malloc(size);
}


static void
test_token_cnf_no_memory(void **state)
{
    int             i, k;
    char           *tok;
    EVP_PKEY       *pkey;
    fw_jwt_str_t    v;
    fw_jwt_token_t  t;
    static const char  *payloads[] = {
        "{\"cnf\":{\"jkt\":\"a\\u0062c\"}}",   /* escaped: jansson reads it */
        "{\"sub\":\"a\"}"
    };
    static const int    want[] = { -2, 0 };

    pkey = load_key("t/keys/jwt/ec256.key");

    for (i = 0; i < 2; i++) {
        tok = sign("ES256", "{\"alg\":\"ES256\"}", payloads[i], pkey);
        assert_int_equal(fw_jwt_decode(&t, (u_char *) tok, strlen(tok),
                                       FW_JWT_DEFAULT_MAX),
                         FW_JWT_VALID);

        json_set_alloc_funcs(cnf_malloc, free);
        cnf_fail_alloc = 1;

        for (k = 0; k < 2; k++) {
            assert_int_equal(fw_jwt_token_cnf(&t, k ? "x5t#S256" : "jkt",
                                              &v),
                             k ? 0 : want[i]);
        }

        cnf_fail_alloc = 0;
        json_set_alloc_funcs(malloc, free);

        if (i == 0) {
            /* memory again: the document is made, the value read */
            assert_int_equal(fw_jwt_token_cnf(&t, "jkt", &v), 1);
            assert_int_equal(v.len, 3);
            assert_memory_equal(v.data, "abc", 3);
        }

        fw_jwt_token_free(&t);
        free(tok);
    }

    EVP_PKEY_free(pkey);
}


static void
test_status_names(void **state)
{
    int  i;

    /* every status, the new ones too, has its variable text */
    for (i = 0; i < FW_JWT_NSTATUS; i++) {
        assert_non_null(fw_jwt_status_name(i));
        assert_true(strlen(fw_jwt_status_name(i)) > 0);
    }

    assert_string_equal(fw_jwt_status_name(FW_JWT_DPOP_INVALID),
                        "invalid_dpop_proof");
    assert_string_equal(fw_jwt_status_name(FW_JWT_DPOP_USE_NONCE),
                        "use_dpop_nonce");
    assert_string_equal(fw_jwt_status_name(FW_JWT_DPOP_UNAVAILABLE),
                        "dpop_unavailable");

    for (i = 0; i < FW_JWT_DPOP_NREASONS; i++) {
        assert_non_null(fw_jwt_dpop_reason(i));
    }
}


static int
teardown(void **state)
{
    fw_jwt_dpop_cleanup();
    return 0;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_thumbprint),
        cmocka_unit_test(test_valid_every_key),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_htu),
        cmocka_unit_test(test_cnf),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_escaped),
        cmocka_unit_test(test_token_cnf),
        cmocka_unit_test(test_token_cnf_no_memory),
    };

    assert_int_equal(fw_jwt_init(), FW_OK);

    return cmocka_run_group_tests(tests, NULL, teardown);
}
