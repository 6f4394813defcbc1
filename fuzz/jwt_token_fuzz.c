/*
 * fhirwall JWT: libFuzzer harness for the token decoder and verifier, the
 * claim checks and the JWKS parser.
 *
 * The first byte chooses: even, a token (decoded, verified with in-process
 * keys and an HMAC secret the corpus knows, then every claim check); odd,
 * a JWKS document.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fw_codec.h"
#include "fw_jwt.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fuzz_init(void);
static void fuzz_token(const u_char *p, size_t n);
static void fuzz_jwks(const u_char *p, size_t n);


#define FUZZ_SECRET  "fhirwall-fuzz-secret-0123456789!"


static fw_jwt_keyset_t  ks;
static fw_jwt_cache_t  *cache;


static void
fuzz_add_pkey(EVP_PKEY *pkey)
{
    BIO     *bio;
    char    *pem, err[FW_JWT_ERRLEN];
    long     n;

    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    n = BIO_get_mem_data(bio, &pem);

    if (fw_jwt_keyset_add_pem(&ks, (u_char *) pem, (size_t) n, NULL, 0, -1,
                              err) != FW_OK)
    {
        abort();
    }

    BIO_free(bio);
    EVP_PKEY_free(pkey);
}


static void
fuzz_init(void)
{
    char  err[FW_JWT_ERRLEN];

    if (fw_jwt_init() != FW_OK) {
        abort();
    }

    fw_jwt_keyset_init(&ks);

    if (fw_jwt_keyset_add_secret(&ks, (u_char *) FUZZ_SECRET,
                                 sizeof(FUZZ_SECRET) - 1,
                                 FW_JWT_SECRET_BINARY, NULL, 0, -1, err)
        != FW_OK)
    {
        abort();
    }

    fuzz_add_pkey(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048));
    fuzz_add_pkey(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
    fuzz_add_pkey(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));

    ks.algs = FW_JWT_ALGS_ALL;

    cache = fw_jwt_cache_create(64);
}


static void
fuzz_token(const u_char *p, size_t n)
{
    int                   rc;
    char                 *s;
    u_char                digest[32];
    size_t                len;
    json_t               *v;
    fw_jwt_token_t        t, c;
    fw_jwt_role_t         role;
    fw_jwt_str_t          val, iss;
    fw_jwt_require_t      rq;
    fw_jwt_claims_conf_t  cc;

    rc = fw_jwt_decode(&t, p, n, FW_JWT_DEFAULT_MAX);
    if (rc != FW_JWT_VALID) {
        return;
    }

    rc = fw_jwt_verify(&ks, &t, p);

    /* claims run on verified tokens only in the module; here on all */

    memset(&cc, 0, sizeof(cc));
    cc.now = 1700000000;
    cc.leeway = 30;
    cc.require_exp = 1;
    cc.max_lifetime = 3600;
    iss.data = (u_char *) "https://idp";
    iss.len = 11;
    cc.issuers = &iss;
    cc.nissuers = 1;
    cc.audiences = &iss;
    cc.naudiences = 1;
    (void) fw_jwt_check_claims(&cc, &t);
    cc.nissuers = 0;
    cc.naudiences = 0;
    cc.typ = FW_JWT_TYP_AT_JWT;
    (void) fw_jwt_check_claims(&cc, &t);

    val.data = (u_char *) "admin";
    val.len = 5;
    memset(&rq, 0, sizeof(rq));
    rq.values = &val;
    rq.nvalues = 1;

    for (rq.op = FW_JWT_OP_EQ; rq.op <= FW_JWT_OP_ABSENT; rq.op++) {
        rq.path.data = (u_char *) "realm_access.roles";
        rq.path.len = 18;
        (void) fw_jwt_check_require(&rq, fw_jwt_token_payload(&t));
        rq.path.data = (u_char *) "a.b.c.d";
        rq.path.len = 7;
        (void) fw_jwt_check_require(&rq, fw_jwt_token_payload(&t));
    }

    role.name = val;
    role.methods = 2;
    v = fw_jwt_lookup(fw_jwt_token_payload(&t), (u_char *) "roles", 5);
    (void) fw_jwt_check_roles(v, &role, 1, 2);

    s = fw_jwt_value_text(fw_jwt_token_payload(&t), &len, ',');
    free(s);
    v = json_object_get(fw_jwt_token_payload(&t), "sub");
    s = v ? fw_jwt_value_text(v, &len, ',') : NULL;
    free(s);

    if (rc == FW_JWT_VALID && fw_jwt_digest(p, n, digest) == FW_OK) {
        fw_jwt_cache_put(cache, digest, &ks, 0, 1700000100, &t);

        if (fw_jwt_cache_get(cache, digest, &ks, 0, 1700000000, &c)
            != FW_OK)
        {
            abort();
        }

        fw_jwt_token_free(&c);
    }

    fw_jwt_token_free(&t);
}


static void
fuzz_jwks(const u_char *p, size_t n)
{
    char             err[FW_JWT_ERRLEN];
    size_t           added, skipped;
    fw_jwt_keyset_t  k;

    fw_jwt_keyset_init(&k);
    (void) fw_jwt_keyset_add_jwks(&k, p, n, &added, &skipped, err);
    k.algs = FW_JWT_ALGS_ALL;
    (void) fw_jwt_keyset_check(&k, err);
    fw_jwt_keyset_free(&k);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int  inited;

    if (!inited) {
        fuzz_init();
        inited = 1;
    }

    if (size == 0) {
        return 0;
    }

    if (data[0] & 1) {
        fuzz_jwks(data + 1, size - 1);

    } else {
        fuzz_token(data + 1, size - 1);
    }

    return 0;
}
