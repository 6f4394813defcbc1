/*
 * fhirwall JWT: the key set's internals shared by fw_jwt_keys.c (PEM,
 * secrets, the checks) and fw_jwt_jwk.c (JWK and JWKS), plain C; not an
 * interface for the glue.
 */

#ifndef FW_JWT_KEYS_H
#define FW_JWT_KEYS_H

#include "fw_jwt.h"


#pragma GCC visibility push(hidden)

/* "err" (FW_JWT_ERRLEN) gets the message, printf-style */
void fw_jwt_err(char *err, const char *fmt, ...);

/* a zeroed key appended to the set, NULL on out of memory */
fw_jwt_key_t *fw_jwt_keyset_push(fw_jwt_keyset_t *ks);
void fw_jwt_keyset_index(fw_jwt_keyset_t *ks);
int fw_jwt_key_set_kid(fw_jwt_key_t *k, const u_char *kid, size_t kid_len);
int fw_jwt_key_from_pkey(fw_jwt_key_t *k, EVP_PKEY *pkey, char *err);
int fw_jwt_key_pin(fw_jwt_key_t *k, int alg, char *err);
int fw_jwt_key_prepare(fw_jwt_key_t *k, char *err);
void fw_jwt_key_free(fw_jwt_key_t *k);

#pragma GCC visibility pop

#endif /* FW_JWT_KEYS_H */
