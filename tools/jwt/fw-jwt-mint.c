/*
 * fw-jwt-mint: mints signed JWTs for tests and the demo.
 *
 *   fw-jwt-mint -a ALG -k KEYFILE [options]
 *
 *   -a ALG      alg header value (HS256 ... EdDSA; anything with -O)
 *   -s ALG      algorithm actually used to sign (default: -a; "none": no
 *               signature)
 *   -k FILE     private key PEM, or HMAC secret file
 *   -E ENC      secret file encoding: raw (default; one line end
 *               removed), binary (as is), base64, base64url
 *   -K KID      kid header
 *   -T TYP      typ header
 *   -c N=V      string claim (repeatable)
 *   -n N=V      integer claim (repeatable)
 *   -J JSON     claims as a JSON object, merged
 *   -e SECS     exp = now + SECS (default 3600; negative: expired)
 *   -b SECS     nbf = now + SECS
 *   -x          no exp, no iat
 *   -H JSON     header, verbatim (implies -O)
 *   -P JSON     payload, verbatim (implies -O)
 *   -N COUNT    COUNT tokens, one a line, each with its own "jti"
 *   -O          sign with OpenSSL instead of libjwt (always for PS*,
 *               EdDSA, and for anything libjwt refuses to produce)
 *
 * Sender-constrained tokens:
 *   -B KEYFILE  bind the token to that key: cnf.jkt = its RFC 7638
 *               thumbprint (private or public PEM)
 *   -X CERTFILE bind the token to that certificate: cnf["x5t#S256"]
 *   -Z KEYFILE  print the RFC 7638 thumbprint of the key and exit
 *
 * DPoP proofs (RFC 9449), signed with -k (-a its algorithm):
 *   -D METHOD   mint a proof for METHOD (htm) ...
 *   -U URL      ... and URL (htu)
 *   -A TOKEN    ath: the SHA-256 of this access token
 *   -W NONCE    nonce
 *   -I JTI      jti (default: random; with -N, each proof its own)
 *   -i SECS     iat = now + SECS (default 0)
 *   -w KEYFILE  the jwk header from this key instead of -k's
 *   -d          put the private members in the jwk (a hostile proof)
 *
 * HS*, RS* and ES* tokens are minted with libjwt unless -O, -H or -P is
 * given.  Tokens go to stdout.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jwt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/core_names.h>

#include "fw_codec.h"


#define MAX_CLAIMS  64


static int read_file(const char *path, u_char **data, size_t *len);
static int load_secret(const char *path, const char *enc, u_char **key,
    size_t *len);
static char *b64url(const u_char *p, size_t len);
static int sign_openssl(const char *alg, const u_char *key, size_t key_len,
    const char *input, u_char *sig, size_t *sig_len);
static jwt_alg_t libjwt_alg(const char *alg);
static void usage(void);
static json_t *jwk_of(const char *keyfile, int with_private);
static char *thumbprint(json_t *jwk);
static char *cert_thumbprint(const char *certfile);
static char *dpop_payload(const char *htm, const char *htu, const char *tok,
    const char *nonce, const char *jti, long iat_in, const char *json);


static int
read_file(const char *path, u_char **data, size_t *len)
{
    FILE    *f;
    u_char  *p;
    size_t   n, size;

    f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }

    size = 4096;
    n = 0;
    p = malloc(size + 1);

    while (p != NULL) {
        n += fread(p + n, 1, size - n, f);

        if (n < size) {
            break;
        }

        size *= 2;
        p = realloc(p, size + 1);
    }

    fclose(f);

    if (p == NULL) {
        return -1;
    }

    p[n] = '\0';
    *data = p;
    *len = n;

    return 0;
}


static int
load_secret(const char *path, const char *enc, u_char **key, size_t *len)
{
    u_char  *raw, *out;
    size_t   n;

    if (read_file(path, &raw, &n) != 0) {
        return -1;
    }

    if (enc != NULL && strcmp(enc, "binary") == 0) {
        *key = raw;
        *len = n;
        return 0;
    }

    if (n && raw[n - 1] == '\n') {
        n--;

        if (n && raw[n - 1] == '\r') {
            n--;
        }
    }

    if (enc == NULL || strcmp(enc, "raw") == 0) {
        *key = raw;
        *len = n;
        return 0;
    }

    out = malloc(n + 3);

    if (out == NULL
        || (strcmp(enc, "base64") == 0
            ? fw_base64_decode(raw, n, out, len)
            : fw_base64url_decode(raw, n, out, len)) != FW_OK)
    {
        fprintf(stderr, "fw-jwt-mint: invalid %s secret\n", enc);
        return -1;
    }

    free(raw);
    *key = out;

    return 0;
}


static char *
b64url(const u_char *p, size_t len)
{
    char  *s;

    s = malloc(fw_base64url_encoded_len(len) + 1);
    if (s == NULL) {
        return NULL;
    }

    s[fw_base64url_encode(p, len, (u_char *) s)] = '\0';

    return s;
}


static const EVP_MD *
md_of(const char *alg)
{
    const char  *bits;

    if (strcmp(alg, "EdDSA") == 0) {
        return NULL;
    }

    bits = alg + 2;

    if (strcmp(bits, "256") == 0) {
        return EVP_sha256();
    }

    if (strcmp(bits, "384") == 0) {
        return EVP_sha384();
    }

    return EVP_sha512();
}


static int
sign_openssl(const char *alg, const u_char *key, size_t key_len,
    const char *input, u_char *sig, size_t *sig_len)
{
    int            n;
    BIO           *bio;
    size_t         len;
    u_char         der[256];
    EVP_PKEY      *pkey;
    ECDSA_SIG     *es;
    EVP_MD_CTX    *mctx;
    EVP_PKEY_CTX  *pctx;
    const BIGNUM  *r, *s;
    unsigned int   mlen;
    const u_char  *p;

    static EVP_PKEY      *cached;
    static const u_char  *cached_key;

    if (alg[0] == 'H') {
        if (HMAC(md_of(alg), key, (int) key_len, (const u_char *) input,
                 strlen(input), sig, &mlen) == NULL)
        {
            return -1;
        }

        *sig_len = mlen;
        return 0;
    }

    /* parsed once for -N: the same key signs every token */
    if (key != cached_key) {
        EVP_PKEY_free(cached);
        bio = BIO_new_mem_buf(key, (int) key_len);
        cached = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        cached_key = key;
    }

    pkey = cached;

    if (pkey == NULL) {
        fprintf(stderr, "fw-jwt-mint: no PEM private key\n");
        return -1;
    }

    mctx = EVP_MD_CTX_new();

    if (EVP_DigestSignInit(mctx, &pctx, md_of(alg), NULL, pkey) != 1) {
        goto failed;
    }

    if (alg[0] == 'P') {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }

    len = 1024;

    if (EVP_DigestSign(mctx, alg[0] == 'E' && alg[1] == 'S' ? der : sig,
                       &len, (const u_char *) input, strlen(input)) != 1)
    {
        goto failed;
    }

    if (alg[0] == 'E' && alg[1] == 'S') {
        n = strcmp(alg, "ES256") == 0 ? 32 : (strcmp(alg, "ES384") == 0
                                               ? 48 : 66);
        p = der;
        es = d2i_ECDSA_SIG(NULL, &p, (long) len);
        if (es == NULL) {
            goto failed;
        }

        ECDSA_SIG_get0(es, &r, &s);
        BN_bn2binpad(r, sig, n);
        BN_bn2binpad(s, sig + n, n);
        ECDSA_SIG_free(es);
        len = (size_t) n * 2;
    }

    *sig_len = len;

    EVP_MD_CTX_free(mctx);

    return 0;

failed:

    ERR_print_errors_fp(stderr);
    EVP_MD_CTX_free(mctx);

    return -1;
}


static char *
bn_b64(EVP_PKEY *pkey, const char *name, int pad)
{
    int      n;
    char    *s;
    u_char   buf[1024];
    BIGNUM  *bn;

    bn = NULL;

    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
        return NULL;
    }

    n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    BN_free(bn);

    s = (n > 0) ? b64url(buf, (size_t) n) : NULL;

    return s;
}


/* the JWK of a PEM key: public members, and private ones on request */

static json_t *
jwk_of(const char *keyfile, int with_private)
{
    int        pad;
    char      *v, group[32];
    u_char    *pem, raw[64];
    size_t     len, glen;
    BIO       *bio;
    json_t    *j;
    EVP_PKEY  *pkey;

    if (read_file(keyfile, &pem, &len) != 0) {
        return NULL;
    }

    bio = BIO_new_mem_buf(pem, (int) len);
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

    if (pkey == NULL) {
        BIO_free(bio);
        bio = BIO_new_mem_buf(pem, (int) len);
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        with_private = 0;
    }

    BIO_free(bio);
    free(pem);

    if (pkey == NULL) {
        fprintf(stderr, "fw-jwt-mint: %s: no PEM key\n", keyfile);
        return NULL;
    }

    j = json_object();

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_EC:
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof(group), &glen);
        pad = strcmp(group, "prime256v1") == 0 ? 32
              : (strcmp(group, "secp384r1") == 0 ? 48 : 66);
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string(pad == 32 ? "P-256"
                                      : (pad == 48 ? "P-384" : "P-521")));
        json_object_set_new(j, "x", json_string(v = bn_b64(pkey,
                                      OSSL_PKEY_PARAM_EC_PUB_X, pad)));
        free(v);
        json_object_set_new(j, "y", json_string(v = bn_b64(pkey,
                                      OSSL_PKEY_PARAM_EC_PUB_Y, pad)));
        free(v);

        if (with_private) {
            json_object_set_new(j, "d", json_string(v = bn_b64(pkey,
                                          OSSL_PKEY_PARAM_PRIV_KEY, pad)));
            free(v);
        }

        break;

    case EVP_PKEY_RSA:
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", json_string(v = bn_b64(pkey,
                                      OSSL_PKEY_PARAM_RSA_N, 0)));
        free(v);
        json_object_set_new(j, "e", json_string(v = bn_b64(pkey,
                                      OSSL_PKEY_PARAM_RSA_E, 0)));
        free(v);

        if (with_private) {
            json_object_set_new(j, "d", json_string(v = bn_b64(pkey,
                                          OSSL_PKEY_PARAM_RSA_D, 0)));
            free(v);
        }

        break;

    case EVP_PKEY_ED25519:
        len = sizeof(raw);
        EVP_PKEY_get_raw_public_key(pkey, raw, &len);
        json_object_set_new(j, "kty", json_string("OKP"));
        json_object_set_new(j, "crv", json_string("Ed25519"));
        json_object_set_new(j, "x", json_string(v = b64url(raw, len)));
        free(v);

        if (with_private) {
            len = sizeof(raw);
            EVP_PKEY_get_raw_private_key(pkey, raw, &len);
            json_object_set_new(j, "d", json_string(v = b64url(raw, len)));
            free(v);
        }

        break;

    default:
        fprintf(stderr, "fw-jwt-mint: %s: unsupported key type\n", keyfile);
        json_decref(j);
        j = NULL;
    }

    EVP_PKEY_free(pkey);

    return j;
}


/* RFC 7638: the required members, sorted, compact, SHA-256, base64url */

static char *
thumbprint(json_t *jwk)
{
    char          *s;
    u_char         md[32];
    json_t        *t;
    const char    *kty;
    unsigned int   n;
    static const char  *ec[] = { "crv", "kty", "x", "y", NULL };
    static const char  *rsa[] = { "e", "kty", "n", NULL };
    static const char  *okp[] = { "crv", "kty", "x", NULL };
    const char         **m;

    kty = json_string_value(json_object_get(jwk, "kty"));
    m = strcmp(kty, "EC") == 0 ? ec : (strcmp(kty, "RSA") == 0 ? rsa : okp);

    t = json_object();

    for ( /* void */ ; *m; m++) {
        json_object_set(t, *m, json_object_get(jwk, *m));
    }

    s = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(t);

    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    free(s);

    return b64url(md, 32);
}


static char *
cert_thumbprint(const char *certfile)
{
    int           len;
    u_char       *pem, *der, *p, md[32];
    size_t        n;
    BIO          *bio;
    X509         *x;
    unsigned int  mlen;

    if (read_file(certfile, &pem, &n) != 0) {
        return NULL;
    }

    bio = BIO_new_mem_buf(pem, (int) n);
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);

    if (x == NULL) {
        fprintf(stderr, "fw-jwt-mint: %s: no PEM certificate\n", certfile);
        return NULL;
    }

    len = i2d_X509(x, NULL);
    der = malloc(len);
    p = der;
    i2d_X509(x, &p);
    X509_free(x);

    EVP_Digest(der, (size_t) len, md, &mlen, EVP_sha256(), NULL);
    free(der);

    return b64url(md, 32);
}


/* the claims of a DPoP proof; jti NULL: a random one */

static char *
dpop_payload(const char *htm, const char *htu, const char *tok,
    const char *nonce, const char *jti, long iat_in, const char *json)
{
    char          *s, *r;
    u_char         md[32], rnd[16];
    json_t        *pl, *extra;
    unsigned int   mdlen;

    pl = json_object();
    r = NULL;

    if (jti == NULL) {
        RAND_bytes(rnd, sizeof(rnd));
        jti = r = b64url(rnd, sizeof(rnd));
    }

    json_object_set_new(pl, "jti", json_string(jti));
    json_object_set_new(pl, "htm", json_string(htm));
    json_object_set_new(pl, "htu", json_string(htu));
    json_object_set_new(pl, "iat", json_integer((long) time(NULL) + iat_in));

    if (tok) {
        EVP_Digest(tok, strlen(tok), md, &mdlen, EVP_sha256(), NULL);
        s = b64url(md, 32);
        json_object_set_new(pl, "ath", json_string(s));
        free(s);
    }

    if (nonce) {
        json_object_set_new(pl, "nonce", json_string(nonce));
    }

    if (json) {
        extra = json_loads(json, 0, NULL);

        if (!json_is_object(extra)) {
            fprintf(stderr, "fw-jwt-mint: invalid -J JSON\n");
            exit(1);
        }

        json_object_update(pl, extra);
        json_decref(extra);
    }

    s = json_dumps(pl, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(pl);
    free(r);

    return s;
}


static jwt_alg_t
libjwt_alg(const char *alg)
{
    static const struct {
        const char  *name;
        jwt_alg_t    alg;
    } algs[] = {
        { "HS256", JWT_ALG_HS256 }, { "HS384", JWT_ALG_HS384 },
        { "HS512", JWT_ALG_HS512 }, { "RS256", JWT_ALG_RS256 },
        { "RS384", JWT_ALG_RS384 }, { "RS512", JWT_ALG_RS512 },
        { "ES256", JWT_ALG_ES256 }, { "ES384", JWT_ALG_ES384 },
        { "ES512", JWT_ALG_ES512 }, { NULL, JWT_ALG_INVAL }
    };

    int  i;

    for (i = 0; algs[i].name; i++) {
        if (strcmp(algs[i].name, alg) == 0) {
            return algs[i].alg;
        }
    }

    return JWT_ALG_INVAL;
}


static void
usage(void)
{
    fprintf(stderr,
        "usage: fw-jwt-mint -a ALG -k KEYFILE [-s SIGNALG] [-E ENC] "
        "[-K KID] [-T TYP]\n"
        "       [-c NAME=STR]... [-n NAME=INT]... [-J JSON] [-e SECS] "
        "[-b SECS] [-x]\n"
        "       [-H HEADERJSON] [-P PAYLOADJSON] [-O] [-B KEYFILE] "
        "[-X CERTFILE]\n"
        "       fw-jwt-mint -a ALG -k KEYFILE -D METHOD -U URL [-A TOKEN] "
        "[-W NONCE]\n"
        "       [-I JTI] [-i SECS] [-w KEYFILE] [-d] [-T TYP]\n"
        "       fw-jwt-mint -Z KEYFILE\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int          opt, use_openssl, no_exp, i, nclaims, nints;
    long         exp_in, nbf_in, has_nbf;
    char        *alg, *sign_alg, *keyfile, *enc, *kid, *typ, *json;
    char        *raw_header, *raw_payload, *claims[MAX_CLAIMS];
    char        *ints[MAX_CLAIMS], *eq, *h64, *p64, *s64, *input, *out;
    char        *hs, *ps, *cvals[MAX_CLAIMS], *ivals[MAX_CLAIMS];
    long         n, count;
    u_char      *key, sig[1024];
    size_t       key_len, sig_len;
    time_t       now;
    jwt_t       *jwt;
    json_t      *hdr, *pl, *extra;
    jwt_alg_t    ja;
    char        *bind_key, *bind_cert, *htm, *htu, *ath_of, *nonce, *jti;
    char        *jwk_key, *th;
    long         iat_in;
    int          jwk_private, dpop;
    json_t      *cnf, *jwk;

    alg = NULL;
    sign_alg = NULL;
    keyfile = NULL;
    enc = NULL;
    kid = NULL;
    typ = NULL;
    json = NULL;
    raw_header = NULL;
    raw_payload = NULL;
    use_openssl = 0;
    no_exp = 0;
    exp_in = 3600;
    nbf_in = 0;
    has_nbf = 0;
    nclaims = 0;
    nints = 0;
    count = 1;
    bind_key = NULL;
    bind_cert = NULL;
    htm = NULL;
    htu = NULL;
    ath_of = NULL;
    nonce = NULL;
    jti = NULL;
    jwk_key = NULL;
    iat_in = 0;
    jwk_private = 0;
    dpop = 0;

    while ((opt = getopt(argc, argv,
                         "a:s:k:E:K:T:c:n:J:e:b:xH:P:ON:B:X:Z:D:U:A:W:I:"
                         "i:w:d"))
           != -1)
    {
        switch (opt) {
        case 'a': alg = optarg; break;
        case 's': sign_alg = optarg; break;
        case 'k': keyfile = optarg; break;
        case 'E': enc = optarg; break;
        case 'K': kid = optarg; break;
        case 'T': typ = optarg; break;
        case 'J': json = optarg; break;
        case 'e': exp_in = strtol(optarg, NULL, 10); break;
        case 'b': nbf_in = strtol(optarg, NULL, 10); has_nbf = 1; break;
        case 'x': no_exp = 1; break;
        case 'H': raw_header = optarg; use_openssl = 1; break;
        case 'P': raw_payload = optarg; use_openssl = 1; break;
        case 'O': use_openssl = 1; break;
        case 'c':
            if (nclaims == MAX_CLAIMS || strchr(optarg, '=') == NULL) {
                usage();
            }
            claims[nclaims] = optarg;
            eq = strchr(optarg, '=');
            *eq = '\0';
            cvals[nclaims++] = eq + 1;
            break;
        case 'n':
            if (nints == MAX_CLAIMS || strchr(optarg, '=') == NULL) {
                usage();
            }
            ints[nints] = optarg;
            eq = strchr(optarg, '=');
            *eq = '\0';
            ivals[nints++] = eq + 1;
            break;
        case 'N': count = strtol(optarg, NULL, 10); break;
        case 'B': bind_key = optarg; break;
        case 'X': bind_cert = optarg; break;
        case 'D': htm = optarg; break;
        case 'U': htu = optarg; break;
        case 'A': ath_of = optarg; break;
        case 'W': nonce = optarg; break;
        case 'I': jti = optarg; break;
        case 'i': iat_in = strtol(optarg, NULL, 10); break;
        case 'w': jwk_key = optarg; break;
        case 'd': jwk_private = 1; break;
        case 'Z':
            jwk = jwk_of(optarg, 0);
            if (jwk == NULL) {
                return 1;
            }
            th = thumbprint(jwk);
            printf("%s\n", th);
            free(th);
            json_decref(jwk);
            return 0;
        default:
            usage();
        }
    }

    if (alg == NULL && raw_header == NULL) {
        usage();
    }

    if (sign_alg == NULL) {
        sign_alg = alg;
    }

    if (bind_key || bind_cert) {
        /* a bound token: cnf, merged with -J */
        cnf = json_object();

        if (bind_key) {
            jwk = jwk_of(bind_key, 0);
            if (jwk == NULL) {
                return 1;
            }

            json_object_set_new(cnf, "jkt", json_string(th = thumbprint(jwk)));
            free(th);
            json_decref(jwk);
        }

        if (bind_cert) {
            th = cert_thumbprint(bind_cert);
            if (th == NULL) {
                return 1;
            }

            json_object_set_new(cnf, "x5t#S256", json_string(th));
            free(th);
        }

        pl = json ? json_loads(json, 0, NULL) : json_object();

        if (!json_is_object(pl)) {
            fprintf(stderr, "fw-jwt-mint: invalid -J JSON\n");
            return 1;
        }

        json_object_set_new(pl, "cnf", cnf);
        json = json_dumps(pl, JSON_COMPACT);
        json_decref(pl);
    }

    if (htm || htu) {
        /* a DPoP proof: header with the jwk, the proof claims */
        if (htm == NULL || htu == NULL || alg == NULL) {
            usage();
        }

        jwk = jwk_of(jwk_key ? jwk_key : keyfile, jwk_private);
        if (jwk == NULL) {
            return 1;
        }

        if (raw_header == NULL) {
            hdr = json_object();
            json_object_set_new(hdr, "typ",
                                json_string(typ ? typ : "dpop+jwt"));
            json_object_set_new(hdr, "alg", json_string(alg));
            json_object_set_new(hdr, "jwk", jwk);
            raw_header = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(hdr);

        } else {
            json_decref(jwk);
        }

        dpop = 1;
        use_openssl = 1;
    }

    if (sign_alg == NULL) {
        usage();
    }

    key = NULL;
    key_len = 0;

    if (strcmp(sign_alg, "none") != 0) {
        if (keyfile == NULL) {
            usage();
        }

        if (sign_alg[0] == 'H') {
            if (load_secret(keyfile, enc, &key, &key_len) != 0) {
                return 1;
            }

        } else if (read_file(keyfile, &key, &key_len) != 0) {
            return 1;
        }
    }

    now = time(NULL);

    if (sign_alg[0] == 'P' || strcmp(sign_alg, "EdDSA") == 0
        || strcmp(sign_alg, "none") == 0 || alg == NULL
        || strcmp(alg, sign_alg) != 0 || libjwt_alg(sign_alg) == JWT_ALG_INVAL
        || count > 1)
    {
        use_openssl = 1;
    }

    if (!use_openssl) {

        /* libjwt: what it is safe for */

        ja = libjwt_alg(sign_alg);

        if (jwt_new(&jwt) != 0) {
            return 1;
        }

        if (kid) {
            jwt_add_header(jwt, "kid", kid);
        }

        if (typ) {
            jwt_add_header(jwt, "typ", typ);
        }

        if (!no_exp) {
            jwt_add_grant_int(jwt, "iat", (long) now);
            jwt_add_grant_int(jwt, "exp", (long) now + exp_in);
        }

        if (has_nbf) {
            jwt_add_grant_int(jwt, "nbf", (long) now + nbf_in);
        }

        for (i = 0; i < nclaims; i++) {
            jwt_add_grant(jwt, claims[i], cvals[i]);
        }

        for (i = 0; i < nints; i++) {
            jwt_add_grant_int(jwt, ints[i], strtol(ivals[i], NULL, 10));
        }

        if (json && jwt_add_grants_json(jwt, json) != 0) {
            fprintf(stderr, "fw-jwt-mint: invalid -J JSON\n");
            return 1;
        }

        if (jwt_set_alg(jwt, ja, key, (int) key_len) != 0) {
            fprintf(stderr, "fw-jwt-mint: libjwt refused the key\n");
            return 1;
        }

        out = jwt_encode_str(jwt);
        if (out == NULL) {
            fprintf(stderr, "fw-jwt-mint: libjwt failed to sign\n");
            return 1;
        }

        printf("%s\n", out);
        free(out);
        jwt_free(jwt);

        return 0;
    }

    /* OpenSSL: PS*, EdDSA, and verbatim (hostile) headers and payloads */

    for (n = 0; n < count; n++) {

        if (raw_header) {
            hs = strdup(raw_header);

        } else {
            hdr = json_object();
            json_object_set_new(hdr, "alg", json_string(alg));
            json_object_set_new(hdr, "typ", json_string(typ ? typ : "JWT"));

            if (kid) {
                json_object_set_new(hdr, "kid", json_string(kid));
            }

            hs = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(hdr);
        }

        if (dpop && raw_payload == NULL) {
            /* each proof of -N with its own jti */
            ps = dpop_payload(htm, htu, ath_of, nonce, count > 1 ? NULL : jti,
                              iat_in, json);

        } else if (raw_payload) {
            ps = strdup(raw_payload);

        } else {
            pl = json_object();

            if (!no_exp) {
                json_object_set_new(pl, "iat", json_integer(now));
                json_object_set_new(pl, "exp", json_integer(now + exp_in));
            }

            if (has_nbf) {
                json_object_set_new(pl, "nbf", json_integer(now + nbf_in));
            }

            for (i = 0; i < nclaims; i++) {
                json_object_set_new(pl, claims[i], json_string(cvals[i]));
            }

            for (i = 0; i < nints; i++) {
                json_object_set_new(pl, ints[i],
                                    json_integer(strtoll(ivals[i], NULL, 10)));
            }

            if (count > 1) {
                json_object_set_new(pl, "jti", json_integer(n));
            }

            if (json) {
                extra = json_loads(json, 0, NULL);

                if (!json_is_object(extra)) {
                    fprintf(stderr, "fw-jwt-mint: invalid -J JSON\n");
                    return 1;
                }

                json_object_update(pl, extra);
                json_decref(extra);
            }

            ps = json_dumps(pl, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(pl);
        }

        h64 = b64url((u_char *) hs, strlen(hs));
        p64 = b64url((u_char *) ps, strlen(ps));

        input = malloc(strlen(h64) + strlen(p64) + 2);
        sprintf(input, "%s.%s", h64, p64);

        sig_len = 0;

        if (strcmp(sign_alg, "none") != 0
            && sign_openssl(sign_alg, key, key_len, input, sig, &sig_len) != 0)
        {
            fprintf(stderr, "fw-jwt-mint: signing failed\n");
            return 1;
        }

        s64 = b64url(sig, sig_len);

        printf("%s.%s\n", input, s64);

        free(hs);
        free(ps);
        free(h64);
        free(p64);
        free(s64);
        free(input);

    }

    free(key);

    return 0;
}
