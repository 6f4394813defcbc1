/*
 * fhirwall: the status vocabulary table (plain C).  See fw_vocab.h.
 */


#include <string.h>
#include <strings.h>

#include "fw_vocab.h"


#define P  FW_VOCAB_PASSED
#define D  FW_VOCAB_DENIED
#define N  FW_VOCAB_NOT_CHECKED

#define FW_VOCAB_N(a)  (sizeof(a) / sizeof((a)[0]))


static const fw_vocab_value_t  fw_vocab_ratelimit[] = {
    { FW_VOCAB_RATELIMIT_PASSED, P, "within every policy" },
    { FW_VOCAB_RATELIMIT_DRY_RUN, P,
      "would have been limited (fw_ratelimit_dry_run)" },
    { FW_VOCAB_RATELIMIT_ERROR, N,
      "Redis (or the local zone) could not decide; served by the failure "
      "policy (open, local)" },
    { FW_VOCAB_RATELIMIT_LIMITED, D, "over a policy's limit (429)" },
    { FW_VOCAB_RATELIMIT_UNAVAILABLE, D,
      "Redis could not decide, failure=closed (503)" }
};


static const fw_vocab_value_t  fw_vocab_lockout[] = {
    { FW_VOCAB_LOCKOUT_PASSED, P, "not locked out" },
    { FW_VOCAB_LOCKOUT_ALLOWED, P,
      "the address is in fw_lockout_allow, never locked" },
    { FW_VOCAB_LOCKOUT_ERROR, N,
      "Redis could not decide, failure=open let it through" },
    { FW_VOCAB_LOCKOUT_LOCKED, D,
      "the address or subject is locked out (429 or 403)" },
    { FW_VOCAB_LOCKOUT_UNAVAILABLE, D,
      "Redis could not decide, failure=closed (503)" }
};


static const fw_vocab_value_t  fw_vocab_jwt[] = {
    { FW_VOCAB_JWT_VALID, P, "a token passed every check" },
    { FW_VOCAB_JWT_OFF, N, "no key configured here" },
    { FW_VOCAB_JWT_MISSING, D, "no bearer token (401)" },
    { FW_VOCAB_JWT_MALFORMED, D, "not a compact JWS, or a second "
      "Authorization header (401, 400)" },
    { FW_VOCAB_JWT_TOO_LARGE, D, "token over fw_jwt_max_size (401)" },
    { FW_VOCAB_JWT_UNSUPPORTED_ALG, D, "alg not allowed here (401)" },
    { FW_VOCAB_JWT_UNKNOWN_KEY, D, "no key for the kid (401)" },
    { FW_VOCAB_JWT_BAD_SIGNATURE, D, "the signature does not verify (401)" },
    { FW_VOCAB_JWT_EXPIRED, D, "exp is past (401)" },
    { FW_VOCAB_JWT_NOT_YET_VALID, D, "nbf or iat in the future (401)" },
    { FW_VOCAB_JWT_BAD_ISSUER, D, "iss not accepted (401)" },
    { FW_VOCAB_JWT_BAD_AUDIENCE, D, "aud not accepted (401)" },
    { FW_VOCAB_JWT_BAD_TYPE, D, "typ not accepted (401)" },
    { FW_VOCAB_JWT_INVALID_CLAIM, D,
      "a date claim that is not a number, no exp (401)" },
    { FW_VOCAB_JWT_LIFETIME_EXCEEDED, D,
      "exp - iat over fw_jwt_max_lifetime (401)" },
    { FW_VOCAB_JWT_CLAIM_FAILED, D, "fw_jwt_require_claim (401 or 403)" },
    { FW_VOCAB_JWT_ROLE_FAILED, D, "fw_jwt_require_role (403)" },
    { FW_VOCAB_JWT_REPLAYED, D,
      "jti seen before, or no jti, under fw_jwt_jti_replay (401)" },
    { FW_VOCAB_JWT_REVOKED, D, "jti or sub in fw_jwt_revoke_file (401)" },
    { FW_VOCAB_JWT_ERROR, D, "keys unavailable, out of memory (401, 500)" },
    { FW_VOCAB_JWT_DPOP_INVALID, D, "a DPoP proof failed a check (401)" },
    { FW_VOCAB_JWT_DPOP_USE_NONCE, D,
      "the DPoP proof lacks the server's nonce (401)" },
    { FW_VOCAB_JWT_DPOP_REQUIRED, D,
      "a bearer token where DPoP is due, or a DPoP-bound one (401)" },
    { FW_VOCAB_JWT_KEY_MISMATCH, D, "cnf.jkt is not the proof's key (401)" },
    { FW_VOCAB_JWT_CERT_MISMATCH, D,
      "cnf x5t#S256 is not the client certificate (401)" },
    { FW_VOCAB_JWT_DPOP_UNAVAILABLE, D,
      "the DPoP replay zone is full (503)" },
    { FW_VOCAB_JWT_INACTIVE, D,
      "introspection answered \"active\": false (401)" },
    { FW_VOCAB_JWT_INTROSPECTION_FAILED, D,
      "the introspection endpoint failed (503 or 401)" },
    { FW_VOCAB_JWT_UNAVAILABLE, D,
      "Redis could not check the token, fw_jwt_redis_failure closed (503)" }
};


static const fw_vocab_value_t  fw_vocab_webhook[] = {
    { FW_VOCAB_WEBHOOK_VALID, P, "a signature matches, not a replay" },
    { FW_VOCAB_WEBHOOK_MISSING, D, "no signature header (401)" },
    { FW_VOCAB_WEBHOOK_MALFORMED, D, "a malformed or duplicated header, "
      "no timestamp or id (400)" },
    { FW_VOCAB_WEBHOOK_INVALID, D, "no signature matches (401)" },
    { FW_VOCAB_WEBHOOK_EXPIRED, D, "timestamp outside the tolerance (401)" },
    { FW_VOCAB_WEBHOOK_TOO_LARGE, D, "body over fw_webhook_max_body (413)" },
    { FW_VOCAB_WEBHOOK_REPLAY, D, "a message verified before (409)" },
    { FW_VOCAB_WEBHOOK_ERROR, D, "reading the body failed (500)" },
    { FW_VOCAB_WEBHOOK_UNAVAILABLE, D,
      "Redis could not check a replay, failure=closed (503)" }
};


static const fw_vocab_value_t  fw_vocab_fhir[] = {
    { FW_VOCAB_FHIR_OK, P, "every FHIR check passed" },
    { FW_VOCAB_FHIR_PARSED, N, "the request was parsed, not decided yet" },
    { FW_VOCAB_FHIR_INVALID, D, "a malformed path, query or id (400)" },
    { FW_VOCAB_FHIR_UNKNOWN_TYPE, D,
      "not a resource type, outside the base (404)" },
    { FW_VOCAB_FHIR_TYPE_DENIED, D, "a type not served here (404)" },
    { FW_VOCAB_FHIR_NOT_ALLOWED, D, "an interaction or operation refused, "
      "a method/path mismatch (405 or 403)" },
    { FW_VOCAB_FHIR_METHOD_OVERRIDE, D, "X-HTTP-Method-Override (400)" },
    { FW_VOCAB_FHIR_FORMAT, D, "_format not allowed (400)" },
    { FW_VOCAB_FHIR_NO_SCOPE, D, "no scopes (401)" },
    { FW_VOCAB_FHIR_INSUFFICIENT, D, "no scope allows it (403)" },
    { FW_VOCAB_FHIR_COMPARTMENT, D,
      "outside the token's patient compartment (403)" },
    { FW_VOCAB_FHIR_BODY_TOO_LARGE, D,
      "body over fw_fhir_body_max_size (413)" },
    { FW_VOCAB_FHIR_BUNDLE_INVALID, D,
      "a Bundle malformed or with too many entries (400, 413)" },
    { FW_VOCAB_FHIR_MEDIA_TYPE, D, "the body's media type (415)" },
    { FW_VOCAB_FHIR_SUBREQUEST_BODY, D,
      "batch, transaction or POST _search in a subrequest (403)" },
    { FW_VOCAB_FHIR_ERROR, D, "out of memory (500)" }
};


static const fw_vocab_value_t  fw_vocab_minimise[] = {
    { FW_VOCAB_MINIMISE_FILTERED, P, "the FHIR JSON answer was minimised" },
    { FW_VOCAB_MINIMISE_PASSTHROUGH, P,
      "a fw_minimise_passthrough type, not filtered" },
    { FW_VOCAB_MINIMISE_NONE, N, "the profile none" },
    { FW_VOCAB_MINIMISE_FORBIDDEN, D, "the profile deny, an _include of a "
      "type it may not see, a POST _search (403); a query not "
      "percent-encoded right (400)" },
    { FW_VOCAB_MINIMISE_NOT_ACCEPTABLE, D,
      "the answer is not FHIR JSON (406)" },
    { FW_VOCAB_MINIMISE_BAD_UPSTREAM, D, "the answer is compressed or not "
      "valid FHIR JSON (502, or an aborted response)" }
};


const fw_vocab_module_t  fw_vocab_modules[] = {
    { "ratelimit", "$fw_ratelimit_status", fw_vocab_ratelimit,
      FW_VOCAB_N(fw_vocab_ratelimit), 0 },
    { "lockout", "$fw_lockout_status", fw_vocab_lockout,
      FW_VOCAB_N(fw_vocab_lockout), 0 },
    { "jwt", "$fw_jwt_status", fw_vocab_jwt, FW_VOCAB_N(fw_vocab_jwt), 0 },
    { "webhook", "$fw_webhook_status", fw_vocab_webhook,
      FW_VOCAB_N(fw_vocab_webhook), 0 },
    { "fhir", "$fw_fhir_status", fw_vocab_fhir, FW_VOCAB_N(fw_vocab_fhir),
      0 },
    { "minimise", "$fw_minimise_status", fw_vocab_minimise,
      FW_VOCAB_N(fw_vocab_minimise), 1 }
};


const size_t  fw_vocab_nmodules = FW_VOCAB_N(fw_vocab_modules);


const fw_vocab_module_t *
fw_vocab_module(const u_char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < fw_vocab_nmodules; i++) {
        if (strlen(fw_vocab_modules[i].module) == len
            && memcmp(fw_vocab_modules[i].module, name, len) == 0)
        {
            return &fw_vocab_modules[i];
        }
    }

    return NULL;
}


int
fw_vocab_class(const fw_vocab_module_t *m, const u_char *value, size_t len)
{
    size_t  i;

    if (len == 0) {
        return FW_VOCAB_NOT_CHECKED;
    }

    for (i = 0; i < m->nvalues; i++) {
        if (strlen(m->values[i].value) == len
            && strncasecmp(m->values[i].value, (const char *) value, len)
               == 0)
        {
            return m->values[i].class;
        }
    }

    return 0;
}


const char *
fw_vocab_class_name(int class)
{
    switch (class) {
    case FW_VOCAB_PASSED:
        return "passed";
    case FW_VOCAB_DENIED:
        return "denied";
    case FW_VOCAB_NOT_CHECKED:
        return "not checked";
    default:
        return "unknown";
    }
}
