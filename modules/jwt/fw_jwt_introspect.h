/*
 * fhirwall JWT: opaque tokens by introspection (RFC 7662), the plain-C
 * part: which tokens go to the endpoint, the request body, the answer's
 * parser and how long an answer may be cached (no nginx headers).
 */

#ifndef _FW_JWT_INTROSPECT_H_INCLUDED_
#define _FW_JWT_INTROSPECT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "fw_jwt.h"


#pragma GCC visibility push(hidden)


#define FW_JWT_INTROSPECT_MAX  (64 * 1024)   /* the largest answer read */


/* 1: three non-empty base64url segments (a JWS), 0: opaque */
int fw_jwt_is_jws(const u_char *tok, size_t len);

/*
 * 1 when tok is a JWS whose payload (not verified: a routing decision
 * only, the token is then introspected, never trusted for it) is a JSON
 * object with an "iss" string equal to one of the n issuers; 0 when not
 * (not a JWS, not base64url JSON, no such iss).  At most max bytes of
 * payload are decoded.
 */
int fw_jwt_introspect_issuer(const u_char *tok, size_t len,
    const fw_jwt_str_t *issuers, size_t n, size_t max);

/* application/x-www-form-urlencoded: the room it needs, then the text */
size_t fw_jwt_form_encoded_len(const u_char *s, size_t len);
u_char *fw_jwt_form_encode(u_char *out, const u_char *s, size_t len);

/* "token=<token>&token_type_hint=access_token" */
size_t fw_jwt_introspect_body_len(size_t toklen);
size_t fw_jwt_introspect_body(u_char *out, const u_char *tok, size_t len);

/*
 * The endpoint's answer: FW_JWT_VALID with *payload (the caller's) for an
 * active token, FW_JWT_INACTIVE, or FW_JWT_INTROSPECTION_FAILED for
 * anything that is not a well-formed answer (not JSON, duplicate keys,
 * too deep, "active" not a boolean, a known member of the wrong type).
 */
int fw_jwt_introspect_parse(const u_char *body, size_t len,
    json_t **payload);

/* until when an active answer may be used: exp or now + max_ttl, first */
time_t fw_jwt_introspect_expiry(json_t *payload, time_t now, long max_ttl);


#pragma GCC visibility pop


#endif /* _FW_JWT_INTROSPECT_H_INCLUDED_ */
