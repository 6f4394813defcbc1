/*
 * fhirwall JWT: sender-constrained tokens (plain C, no nginx headers).
 *
 * DPoP proofs (RFC 9449 section 4.3): the proof is a JWS whose header
 * carries the public key ("jwk") it is signed with; it is checked for
 * typ "dpop+jwt", an asymmetric algorithm of the allow-list, a public-only
 * key, the signature, htm, htu, iat, ath and nonce.  The key's RFC 7638
 * thumbprint is what an access token's "cnf.jkt" binds to.
 *
 * Certificate-bound tokens (RFC 8705 section 3): "cnf.x5t#S256" is the
 * base64url SHA-256 of the client certificate's DER.
 */

#ifndef _FW_JWT_DPOP_H_INCLUDED_
#define _FW_JWT_DPOP_H_INCLUDED_


#include "fw_jwt.h"


#pragma GCC visibility push(hidden)


#define FW_JWT_DPOP_MAX        8192     /* the proof, in characters */
#define FW_JWT_DPOP_JTI_MAX    256
#define FW_JWT_THUMB_LEN       43       /* base64url of a SHA-256 */
#define FW_JWT_HTU_MAX         4096

/* asymmetric algorithms only: a proof is never HMAC */
#define FW_JWT_DPOP_ALGS       (FW_JWT_ALGS_ALL & ~FW_JWT_ALGS_HMAC)


/* why a proof failed; fw_jwt_dpop_reason() gives a description */
enum {
    FW_JWT_DPOP_OK = 0,
    FW_JWT_DPOP_MISSING,
    FW_JWT_DPOP_MALFORMED,
    FW_JWT_DPOP_TOO_LARGE,
    FW_JWT_DPOP_TYP,
    FW_JWT_DPOP_ALG,
    FW_JWT_DPOP_JWK,
    FW_JWT_DPOP_PRIVATE,
    FW_JWT_DPOP_SIGNATURE,
    FW_JWT_DPOP_JTI,
    FW_JWT_DPOP_HTM,
    FW_JWT_DPOP_HTU,
    FW_JWT_DPOP_IAT,
    FW_JWT_DPOP_ATH,
    FW_JWT_DPOP_NONCE,          /* answered with use_dpop_nonce */
    FW_JWT_DPOP_REPLAY,
    FW_JWT_DPOP_ERROR,
    FW_JWT_DPOP_NREASONS
};


/* what the request says and what the configuration allows */
typedef struct {
    unsigned        algs;       /* allow-list, masked with _DPOP_ALGS */
    time_t          now;
    long            window;     /* how old iat may be, seconds */
    long            leeway;     /* how far in the future iat may be */
    fw_jwt_str_t    htm;        /* the request method */
    fw_jwt_str_t    htu;        /* scheme, host[:port], path */
    fw_jwt_str_t    token;      /* the access token (ath); len 0: none */
    fw_jwt_str_t   *nonces;     /* accepted nonces; 0 of them: no nonce */
    size_t          nnonces;
} fw_jwt_dpop_req_t;


/* a verified proof */
typedef struct {
    u_char          jkt[FW_JWT_THUMB_LEN + 1];   /* base64url, NUL */
    u_char          replay[32];  /* SHA-256 of jkt "." jti */
    time_t          iat;
    int             alg;
    int             nonce;       /* the index of the nonce it carried */
} fw_jwt_dpop_proof_t;


int fw_jwt_dpop_verify(const fw_jwt_dpop_req_t *rq, const u_char *proof,
    size_t len, fw_jwt_dpop_proof_t *out);
const char *fw_jwt_dpop_reason(int reason);

/* RFC 7638 thumbprint of a public JWK (EC, RSA, OKP): FW_OK or the
   reason (_JWK, _PRIVATE) */
int fw_jwt_jwk_thumbprint(json_t *jwk, u_char *jkt);

/* 1 when htu names the same resource as "want" (scheme and host case-
   insensitive, default port optional, empty path "/"); a query or a
   fragment in htu never matches */
int fw_jwt_dpop_htu_match(const u_char *htu, size_t len, const u_char *want,
    size_t wlen);

/* the token's confirmation member "name" of cnf (jkt or x5t#S256):
   0 absent, 1 present (value set), -1 not a string or cnf not an object,
   or no payload (NULL: its document could not be made) */
int fw_jwt_cnf_get(json_t *payload, const char *name, fw_jwt_str_t *value);
/* the same of a token: from the claims scan when it can (no jansson
   document is made for a token without cnf), else fw_jwt_cnf_get();
   -2 when the document it needed could not be made (out of memory) */
int fw_jwt_token_cnf(fw_jwt_token_t *t, const char *name,
    fw_jwt_str_t *value);

/* 1 when "x5t" (base64url) is the SHA-256 of the DER certificate */
int fw_jwt_x5t_match(const fw_jwt_str_t *x5t, const u_char *der,
    size_t len);

/* a server nonce: base64url HMAC-SHA256 of the time slot under the
   secret, FW_JWT_THUMB_LEN characters and a NUL in "out" */
int fw_jwt_dpop_nonce(const u_char *secret, size_t len, long slot,
    u_char *out);

/* frees the per-process proof key cache */
void fw_jwt_dpop_cleanup(void);


#pragma GCC visibility pop


#endif /* _FW_JWT_DPOP_H_INCLUDED_ */
