/*
 * fhirwall bench: RSA-PSS verifications per second, for the PS256
 * ceiling of bench/run (CASE_SPEED=rsa2048-pss).  OpenSSL 3.0's `openssl
 * speed rsa2048` times PKCS #1 v1.5 only; PS256 verifies RSASSA-PSS
 * (SHA-256, MGF1-SHA-256, a salt as long as the digest, RFC 7518 3.5),
 * which costs more.  This signs one SHA-256 digest with the private key
 * and times EVP_PKEY_verify() with RSA_PKCS1_PSS_PADDING on that key,
 * as the JWT core calls it (one context initialised once: the core keeps
 * one per key and algorithm, fw_jwt_keys.c), over CPU user time
 * as `openssl speed` divides by, and prints its -mr line:
 *
 *   +F2:0:<bits>:<signs/s>:<verifications/s>
 *
 *   fw-pss-speed KEY.pem [SECONDS]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>


static double fw_user_time(void);
static int fw_pss_init(EVP_PKEY_CTX *ctx, int verify);
static double fw_pss_rate(EVP_PKEY_CTX *ctx, int verify, double secs,
    const unsigned char *sig, size_t siglen, const unsigned char *md);


static double
fw_user_time(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);

    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
}


static int
fw_pss_init(EVP_PKEY_CTX *ctx, int verify)
{
    if ((verify ? EVP_PKEY_verify_init(ctx) : EVP_PKEY_sign_init(ctx)) <= 0
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0
        || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0
        || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0
        || EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST)
           <= 0)
    {
        return -1;
    }

    return 0;
}


/* operations per CPU second, in batches of 64 until secs have passed */

static double
fw_pss_rate(EVP_PKEY_CTX *ctx, int verify, double secs,
    const unsigned char *sig, size_t siglen, const unsigned char *md)
{
    int            i;
    long           n;
    size_t         len;
    double         t0, t;
    unsigned char  out[1024];

    if (fw_pss_init(ctx, verify) != 0) {
        return -1;
    }

    n = 0;
    t0 = fw_user_time();

    do {
        for (i = 0; i < 64; i++) {
            if (verify) {
                if (EVP_PKEY_verify(ctx, sig, siglen, md, 32) != 1) {
                    return -1;
                }

            } else {
                len = sizeof(out);

                if (EVP_PKEY_sign(ctx, out, &len, md, 32) <= 0) {
                    return -1;
                }
            }
        }

        n += 64;
        t = fw_user_time() - t0;

    } while (t < secs);

    return n / t;
}


int
main(int argc, char **argv)
{
    FILE           *f;
    size_t          siglen;
    double          secs, signs, verifies;
    EVP_PKEY       *key;
    EVP_PKEY_CTX   *ctx;
    unsigned char   md[32], sig[1024];

    if (argc < 2) {
        fprintf(stderr, "usage: fw-pss-speed KEY.pem [SECONDS]\n");
        return 2;
    }

    secs = argc > 2 ? atof(argv[2]) : 2.0;

    f = fopen(argv[1], "r");
    key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

    if (f) {
        fclose(f);
    }

    ctx = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;

    if (ctx == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        fprintf(stderr, "fw-pss-speed: %s: not an RSA private key\n",
                argv[1]);
        return 1;
    }

    memset(md, 0x5a, sizeof(md));
    siglen = sizeof(sig);

    if (fw_pss_init(ctx, 0) != 0
        || EVP_PKEY_sign(ctx, sig, &siglen, md, sizeof(md)) <= 0)
    {
        fprintf(stderr, "fw-pss-speed: signing failed\n");
        return 1;
    }

    signs = fw_pss_rate(ctx, 0, secs / 4, sig, siglen, md);
    verifies = fw_pss_rate(ctx, 1, secs, sig, siglen, md);

    if (signs < 0 || verifies < 0) {
        fprintf(stderr, "fw-pss-speed: a PSS operation failed\n");
        return 1;
    }

    printf("+F2:0:%d:%f:%f\n", EVP_PKEY_get_bits(key), signs, verifies);

    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);

    return 0;
}
