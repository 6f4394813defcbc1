/*
 * fhirwall JWT: token decoding, signature verification, claims and roles
 * (plain C over OpenSSL 3 and jansson, no nginx headers).
 *
 * Order of the checks (all of them on verified data): size, structure
 * (three strict base64url segments, JSON objects without duplicate keys,
 * bounded depth), header (alg from the allowlist, case-sensitive, never
 * "none"; crit; no JWE), key (kid, algorithm pinned to the key),
 * signature, then claims.
 */

#ifndef _FW_JWT_H_INCLUDED_
#define _FW_JWT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>


#pragma GCC visibility push(hidden)


/* algorithms */
enum {
    FW_JWT_HS256 = 0,
    FW_JWT_HS384,
    FW_JWT_HS512,
    FW_JWT_RS256,
    FW_JWT_RS384,
    FW_JWT_RS512,
    FW_JWT_PS256,
    FW_JWT_PS384,
    FW_JWT_PS512,
    FW_JWT_ES256,
    FW_JWT_ES384,
    FW_JWT_ES512,
    FW_JWT_EDDSA,
    FW_JWT_NALGS
};

#define FW_JWT_ALG_BIT(a)   (1u << (a))
#define FW_JWT_ALGS_HMAC    0x0007u
#define FW_JWT_ALGS_RSA     0x01f8u
#define FW_JWT_ALGS_ALL     0x1fffu


/* key types */
#define FW_JWT_KTY_OCT      0
#define FW_JWT_KTY_RSA      1
#define FW_JWT_KTY_EC       2
#define FW_JWT_KTY_OKP      3


/* the outcome of a check; fw_jwt_status_name() gives its variable text */
enum {
    FW_JWT_VALID = 0,
    FW_JWT_MISSING,
    FW_JWT_MALFORMED,
    FW_JWT_TOO_LARGE,
    FW_JWT_BAD_ALG,
    FW_JWT_UNKNOWN_KEY,
    FW_JWT_BAD_SIGNATURE,
    FW_JWT_EXPIRED,
    FW_JWT_NOT_YET_VALID,
    FW_JWT_BAD_ISSUER,
    FW_JWT_BAD_AUDIENCE,
    FW_JWT_BAD_TYPE,
    FW_JWT_INVALID_CLAIM,
    FW_JWT_LIFETIME,
    FW_JWT_CLAIM_FAILED,
    FW_JWT_ROLE_FAILED,
    FW_JWT_REPLAYED,
    FW_JWT_REVOKED,
    FW_JWT_ERROR,
    FW_JWT_DPOP_INVALID,      /* a DPoP proof failed (fw_jwt_dpop.h) */
    FW_JWT_DPOP_USE_NONCE,    /* the proof lacks the server's nonce */
    FW_JWT_DPOP_REQUIRED,     /* Bearer where DPoP is due */
    FW_JWT_KEY_MISMATCH,      /* cnf.jkt is not the proof's key */
    FW_JWT_CERT_MISMATCH,     /* cnf.x5t#S256 is not the client cert */
    FW_JWT_DPOP_UNAVAILABLE,  /* the replay zone is full */
    FW_JWT_INACTIVE,          /* introspection: "active" is false */
    FW_JWT_INTROSPECTION_FAILED,  /* the endpoint down, slow or garbled */
    FW_JWT_UNAVAILABLE,       /* Redis cannot check, failure closed */
    FW_JWT_NSTATUS
};


/* secret file encodings */
#define FW_JWT_SECRET_RAW        0
#define FW_JWT_SECRET_BASE64     1
#define FW_JWT_SECRET_BASE64URL  2
#define FW_JWT_SECRET_BINARY     3   /* as is, no line end removed */


/* typ policies */
#define FW_JWT_TYP_EITHER   0   /* absent, "JWT" or "at+jwt" */
#define FW_JWT_TYP_JWT      1   /* absent or "JWT" */
#define FW_JWT_TYP_AT_JWT   2   /* "at+jwt" (RFC 9068), required */
#define FW_JWT_TYP_OFF      3   /* not checked */


/* requirement operators */
enum {
    FW_JWT_OP_EQ = 0,     /* the claim (string/number/bool) equals a value */
    FW_JWT_OP_NE,         /* it equals none of the values */
    FW_JWT_OP_IN,         /* the claim is one of the values */
    FW_JWT_OP_ANY,        /* array or space-separated: holds one value */
    FW_JWT_OP_ALL,        /* array or space-separated: holds every value */
    FW_JWT_OP_GT,
    FW_JWT_OP_GE,
    FW_JWT_OP_LT,
    FW_JWT_OP_LE,
    FW_JWT_OP_EXISTS,
    FW_JWT_OP_ABSENT
};


#define FW_JWT_MAX_DEPTH       16
#define FW_JWT_DEFAULT_MAX     16384
#define FW_JWT_MIN_RSA_BITS    2048
#define FW_JWT_ERRLEN          256


typedef struct {
    const u_char   *data;
    size_t          len;
} fw_jwt_str_t;


typedef struct {
    int             kty;
    unsigned        algs;        /* what this key may verify */
    u_char         *kid;         /* NULL: no kid, matches any token kid */
    size_t          kid_len;
    EVP_PKEY       *pkey;        /* RSA, EC, OKP */
    EVP_PKEY_CTX   *vctx[FW_JWT_NALGS];  /* verify contexts, made once */
    EVP_MD_CTX     *ed;          /* EdDSA: DigestVerifyInit done once */
    EVP_MAC_CTX    *mac[3];      /* HS256..HS512: HMAC keyed once */
    u_char         *secret;      /* oct */
    size_t          secret_len;
    u_char         *src;         /* a PEM key's text, white space removed */
    size_t          src_len;
} fw_jwt_key_t;


typedef struct {
    fw_jwt_key_t   *keys;
    size_t          nkeys;
    size_t          nalloc;
    unsigned        algs;        /* the allowlist */
    uint32_t       *kid_slots;   /* kid hash: open addressing, index + 1 */
    size_t          kid_mask;
    size_t          kid_nkeys;   /* the keys it was made for (else unused) */
    size_t          nanon;       /* keys without a kid */
} fw_jwt_keyset_t;


typedef struct fw_jwt_doc_s  fw_jwt_doc_t;


/*
 * A decoded (and, after fw_jwt_verify(), verified) token.  "header" and
 * "payload" are documents given to the token (tests, introspection); a
 * decoded token has its segments in "doc", parsed by jansson only when
 * fw_jwt_token_header() or fw_jwt_token_payload() asks.
 */
typedef struct {
    json_t         *header;
    json_t         *payload;
    fw_jwt_doc_t   *doc;
    int             alg;
    const char     *kid;         /* in header */
    size_t          kid_len;
    size_t          signed_len;  /* header "." payload */
    u_char         *sig;         /* decoded signature (in doc) */
    size_t          sig_len;
} fw_jwt_token_t;


typedef struct {
    time_t          now;
    long            leeway;
    int             require_exp;
    long            max_lifetime;  /* 0: no limit */
    int             typ;
    fw_jwt_str_t   *issuers;
    size_t          nissuers;
    fw_jwt_str_t   *audiences;
    size_t          naudiences;
} fw_jwt_claims_conf_t;


typedef struct {
    fw_jwt_str_t    path;
    int             op;
    fw_jwt_str_t   *values;
    size_t          nvalues;
    double          number;      /* for gt, ge, lt, le */
} fw_jwt_require_t;


typedef struct {
    fw_jwt_str_t    name;
    unsigned        methods;     /* opaque bits the caller chooses; 0: all */
} fw_jwt_role_t;


typedef struct fw_jwt_cache_s  fw_jwt_cache_t;


/* once per process, before anything else (idempotent) */
int fw_jwt_init(void);
/* at process exit: frees what fw_jwt_init() fetched (idempotent) */
void fw_jwt_cleanup(void);

int fw_jwt_alg_from_name(const u_char *name, size_t len);
const char *fw_jwt_alg_name(int alg);
const char *fw_jwt_status_name(int status);
int fw_jwt_hmac_alg_min_len(int alg);
const EVP_MD *fw_jwt_alg_md(int alg);
/* the HMAC implementation, fetched once (NULL before fw_jwt_init()) */
EVP_MAC *fw_jwt_hmac(void);
/* a digest with a context kept by the process (no allocation) */
int fw_jwt_hash(const EVP_MD *md, const u_char *data, size_t len,
    u_char *out, unsigned int *out_len);

/* key sets */
void fw_jwt_keyset_init(fw_jwt_keyset_t *ks);
void fw_jwt_keyset_free(fw_jwt_keyset_t *ks);
int fw_jwt_keyset_add_pem(fw_jwt_keyset_t *ks, const u_char *pem,
    size_t len, const u_char *kid, size_t kid_len, int alg, char *err);
int fw_jwt_keyset_add_secret(fw_jwt_keyset_t *ks, const u_char *data,
    size_t len, int encoding, const u_char *kid, size_t kid_len, int alg,
    char *err);
int fw_jwt_keyset_add_jwks(fw_jwt_keyset_t *ks, const u_char *json,
    size_t len, size_t *added, size_t *skipped, char *err);
/*
 * The allowlist must be set: refuses HMAC for a set of asymmetric keys, an
 * HMAC secret that fits none of the allowed HMAC algorithms (RFC 7518
 * 3.2) and one that is a public key of the set, in any encoding.
 */
int fw_jwt_keyset_check(fw_jwt_keyset_t *ks, char *err);
/* 1 and a text in "warn" when an allowed HMAC algorithm fits no secret */
int fw_jwt_keyset_warn(const fw_jwt_keyset_t *ks, char *warn);
/* the kid hash (fw_jwt_keys.c) */
uint32_t fw_jwt_kid_hash(const u_char *kid, size_t len);
/* FW_ERROR when a secret is (or holds) a key: PEM, JWK, DER, base64 DER */
int fw_jwt_secret_shape(const u_char *s, size_t n, char *err);

/* tokens */
int fw_jwt_decode(fw_jwt_token_t *t, const u_char *tok, size_t len,
    size_t max);
int fw_jwt_verify(const fw_jwt_keyset_t *ks, fw_jwt_token_t *t,
    const u_char *tok);
void fw_jwt_token_free(fw_jwt_token_t *t);
/*
 * The token's header and payload objects.  Code outside fw_jwt.c and
 * fw_jwt_claims.c reads them only through these two (the core may parse
 * them lazily); NULL when the token has none.
 */
json_t *fw_jwt_token_header(fw_jwt_token_t *t);
json_t *fw_jwt_token_payload(fw_jwt_token_t *t);
/* the DER of an ECDSA R || S signature of 2 * n bytes (n <= 66) */
#define FW_JWT_ECDSA_DER_MAX  (3 + 2 * (2 + 1 + 66))
size_t fw_jwt_ecdsa_der(u_char *der, const u_char *sig, size_t n);
/* a copy that shares (references) the JSON, without the signature */
void fw_jwt_token_ref(fw_jwt_token_t *dst, const fw_jwt_token_t *src);

int fw_jwt_check_claims(const fw_jwt_claims_conf_t *cc,
    const fw_jwt_token_t *t);
/* the expiry to cache a verified token for (exp, or now + ttl) */
time_t fw_jwt_cache_expiry(const fw_jwt_token_t *t, time_t now, long ttl);

/* claims */
json_t *fw_jwt_lookup(json_t *obj, const u_char *path, size_t len);
/*
 * The same for a name nginx lowercased (a variable's, $fw_jwt_claim_*):
 * an exact match first, else the one key that matches it ignoring case
 * ("fhiruser" finds "fhirUser"); two such keys and none exact: NULL.
 */
json_t *fw_jwt_lookup_name(json_t *obj, const u_char *path, size_t len);
int fw_jwt_check_require(const fw_jwt_require_t *rq, json_t *payload);
int fw_jwt_check_roles(json_t *claim, const fw_jwt_role_t *roles,
    size_t nroles, unsigned method);
/* text of a claim: strings as they are, arrays comma-joined, objects as
   JSON; malloc'd, NULL on error or for null/absent */
char *fw_jwt_value_text(json_t *v, size_t *len, char sep);

/* verified-token cache (per process), keyed by SHA-256 of the token */
fw_jwt_cache_t *fw_jwt_cache_create(size_t entries);
void fw_jwt_cache_destroy(fw_jwt_cache_t *c);
int fw_jwt_digest(const u_char *tok, size_t len, u_char *digest);
/* "owner" and "gen": the key set (and its version) a token verified with */
int fw_jwt_cache_get(fw_jwt_cache_t *c, const u_char *digest,
    const void *owner, unsigned long gen, time_t now, fw_jwt_token_t *out);
void fw_jwt_cache_put(fw_jwt_cache_t *c, const u_char *digest,
    const void *owner, unsigned long gen, time_t expires,
    const fw_jwt_token_t *t);


#pragma GCC visibility pop


#endif /* _FW_JWT_H_INCLUDED_ */
