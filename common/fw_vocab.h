/*
 * fhirwall: the status vocabulary (plain C), one table for every module.
 *
 * For each module, the values its $fw_<module>_status variable takes and
 * what each one means: the check passed, the module denies the request
 * with this reason, or the module did not check.  An empty (not found)
 * variable means "not checked" too.  The modules emit only the constants
 * below; the audit module reads only the table (fw_vocab_module(),
 * fw_vocab_class()); docs/<module>.md lists the same values (checked by
 * common/unit/test_vocab.c).
 *
 * "denied_by" in an audit record names the module whose check refused the
 * request (the module says so itself when it refuses: see
 * ngx_http_fw_mark_denied()), "reason" is that module's status value; a
 * refusal that no module made is FW_VOCAB_BY_NGINX or FW_VOCAB_BY_UPSTREAM
 * with the HTTP status as the reason.
 */

#ifndef _FW_VOCAB_H_INCLUDED_
#define _FW_VOCAB_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


#pragma GCC visibility push(hidden)


#define FW_VOCAB_PASSED       1
#define FW_VOCAB_DENIED       2
#define FW_VOCAB_NOT_CHECKED  3


/* "denied_by" for refusals that are not a fhirwall module's check */
#define FW_VOCAB_BY_NGINX     "nginx"
#define FW_VOCAB_BY_UPSTREAM  "upstream"
#define FW_VOCAB_BY_AUDIT     "audit"
#define FW_VOCAB_AUDIT_SINK   "sink failing"


/* $fw_jwt_status (the core's fw_jwt_status_name() gives the denials) */
#define FW_VOCAB_JWT_VALID              "valid"
#define FW_VOCAB_JWT_OFF                "off"
#define FW_VOCAB_JWT_MISSING            "missing"
#define FW_VOCAB_JWT_MALFORMED          "malformed"
#define FW_VOCAB_JWT_TOO_LARGE          "too_large"
#define FW_VOCAB_JWT_UNSUPPORTED_ALG    "unsupported_alg"
#define FW_VOCAB_JWT_UNKNOWN_KEY        "unknown_key"
#define FW_VOCAB_JWT_BAD_SIGNATURE      "bad_signature"
#define FW_VOCAB_JWT_EXPIRED            "expired"
#define FW_VOCAB_JWT_NOT_YET_VALID      "not_yet_valid"
#define FW_VOCAB_JWT_BAD_ISSUER         "bad_issuer"
#define FW_VOCAB_JWT_BAD_AUDIENCE       "bad_audience"
#define FW_VOCAB_JWT_BAD_TYPE           "bad_type"
#define FW_VOCAB_JWT_INVALID_CLAIM      "invalid_claim"
#define FW_VOCAB_JWT_LIFETIME_EXCEEDED  "lifetime_exceeded"
#define FW_VOCAB_JWT_CLAIM_FAILED       "claim_failed"
#define FW_VOCAB_JWT_ROLE_FAILED        "role_failed"
#define FW_VOCAB_JWT_REPLAYED           "replayed"
#define FW_VOCAB_JWT_REVOKED            "revoked"
#define FW_VOCAB_JWT_DPOP_INVALID       "invalid_dpop_proof"
#define FW_VOCAB_JWT_DPOP_USE_NONCE     "use_dpop_nonce"
#define FW_VOCAB_JWT_DPOP_REQUIRED      "dpop_required"
#define FW_VOCAB_JWT_KEY_MISMATCH       "key_mismatch"
#define FW_VOCAB_JWT_CERT_MISMATCH      "cert_mismatch"
#define FW_VOCAB_JWT_DPOP_UNAVAILABLE   "dpop_unavailable"
#define FW_VOCAB_JWT_INACTIVE           "inactive"
#define FW_VOCAB_JWT_INTROSPECTION_FAILED  "introspection_unavailable"
#define FW_VOCAB_JWT_UNAVAILABLE        "unavailable"
#define FW_VOCAB_JWT_ERROR              "error"

/* $fw_fhir_status (the core's verdicts give the denials) */
#define FW_VOCAB_FHIR_OK                "ok"
#define FW_VOCAB_FHIR_PARSED            "parsed"
#define FW_VOCAB_FHIR_INVALID           "invalid"
#define FW_VOCAB_FHIR_UNKNOWN_TYPE      "unknown-type"
#define FW_VOCAB_FHIR_TYPE_DENIED       "type-denied"
#define FW_VOCAB_FHIR_NOT_ALLOWED       "not-allowed"
#define FW_VOCAB_FHIR_METHOD_OVERRIDE   "method-override"
#define FW_VOCAB_FHIR_FORMAT            "format"
#define FW_VOCAB_FHIR_NO_SCOPE          "no-scope"
#define FW_VOCAB_FHIR_INSUFFICIENT      "insufficient-scope"
#define FW_VOCAB_FHIR_COMPARTMENT       "patient-compartment"
#define FW_VOCAB_FHIR_BODY_TOO_LARGE    "body-too-large"
#define FW_VOCAB_FHIR_BUNDLE_INVALID    "bundle-invalid"
#define FW_VOCAB_FHIR_MEDIA_TYPE        "unsupported-media-type"
#define FW_VOCAB_FHIR_SUBREQUEST_BODY   "subrequest-body"
#define FW_VOCAB_FHIR_ERROR             "error"

/* $fw_webhook_status */
#define FW_VOCAB_WEBHOOK_VALID          "valid"
#define FW_VOCAB_WEBHOOK_MISSING        "missing"
#define FW_VOCAB_WEBHOOK_MALFORMED      "malformed"
#define FW_VOCAB_WEBHOOK_INVALID        "invalid"
#define FW_VOCAB_WEBHOOK_EXPIRED        "expired"
#define FW_VOCAB_WEBHOOK_TOO_LARGE      "too_large"
#define FW_VOCAB_WEBHOOK_REPLAY         "replay"
#define FW_VOCAB_WEBHOOK_ERROR          "error"
#define FW_VOCAB_WEBHOOK_UNAVAILABLE    "unavailable"

/* $fw_ratelimit_status */
#define FW_VOCAB_RATELIMIT_PASSED       "passed"
#define FW_VOCAB_RATELIMIT_DRY_RUN      "dry-run"
#define FW_VOCAB_RATELIMIT_ERROR        "error"
#define FW_VOCAB_RATELIMIT_LIMITED      "limited"
#define FW_VOCAB_RATELIMIT_UNAVAILABLE  "unavailable"

/* $fw_lockout_status */
#define FW_VOCAB_LOCKOUT_PASSED         "passed"
#define FW_VOCAB_LOCKOUT_ALLOWED        "allowed"
#define FW_VOCAB_LOCKOUT_ERROR          "error"
#define FW_VOCAB_LOCKOUT_LOCKED         "locked"
#define FW_VOCAB_LOCKOUT_UNAVAILABLE    "unavailable"

/* $fw_minimise_status (the request side, then the response filter's) */
#define FW_VOCAB_MINIMISE_FILTERED      "filtered"
#define FW_VOCAB_MINIMISE_PASSTHROUGH   "passthrough"
#define FW_VOCAB_MINIMISE_NONE          "none"
#define FW_VOCAB_MINIMISE_FORBIDDEN     "forbidden"
#define FW_VOCAB_MINIMISE_NOT_ACCEPTABLE  "not_acceptable"
#define FW_VOCAB_MINIMISE_BAD_UPSTREAM  "bad_upstream"


typedef struct {
    const char         *value;
    int                 class;      /* FW_VOCAB_PASSED, ... */
    const char         *meaning;    /* one line, for docs and tools */
} fw_vocab_value_t;


typedef struct {
    const char         *module;     /* "jwt": denied_by, fw_audit_check */
    const char         *variable;   /* "$fw_jwt_status" */
    const fw_vocab_value_t *values;
    size_t              nvalues;
    int                 response;   /* also refuses an upstream's answer */
} fw_vocab_module_t;


/* every module that checks requests, in the order nginx runs their checks
   (the audit module's default fw_audit_check list): preaccess (ratelimit,
   lockout), access (jwt, webhook), precontent (fhir, minimise), then the
   response filter (minimise) */
extern const fw_vocab_module_t  fw_vocab_modules[];
extern const size_t             fw_vocab_nmodules;


/* the module of that name, or NULL */
const fw_vocab_module_t *fw_vocab_module(const u_char *name, size_t len);

/*
 * The class of a status value of a module: FW_VOCAB_PASSED, _DENIED or
 * _NOT_CHECKED (also for an empty value); 0 for a value the module never
 * emits.
 */
int fw_vocab_class(const fw_vocab_module_t *m, const u_char *value,
    size_t len);

/* "passed", "denied", "not checked" */
const char *fw_vocab_class_name(int class);


#pragma GCC visibility pop


#endif /* _FW_VOCAB_H_INCLUDED_ */
