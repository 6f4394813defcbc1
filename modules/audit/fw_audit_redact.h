/*
 * fhirwall audit: redaction of identifiers in audit records (plain C, no
 * nginx headers).
 *
 * A field is kept, dropped or hashed; a hash is
 *
 *   fwh-<epoch>-<24 hex digits>
 *
 * the first 96 bits of HMAC-SHA256(R(epoch), value), value percent-decoded,
 * so equal identifiers give equal hashes within an epoch (records stay
 * linkable) and cannot be found by trying likely values without the key:
 *
 *   R      = HMAC-SHA256(secret, "fhirwall-audit-v1 redact")
 *   R(e)   = HMAC-SHA256(R, "fhirwall-audit-v1 redact epoch " || e)
 *
 * where e is the Unix time divided by the key file's epoch length (0 with
 * "epoch=off"), the same in every worker and on every host sharing the
 * key.  A value "Type/id" (a reference) keeps its type: "Patient/fwh-...".
 * The path and the query have modes of their own (see fw_audit_redact_path
 * and fw_audit_redact_query).  Without a key ("hmac" NULL) a hash is a
 * drop: the value is left out, an id in a path is written "*".
 */

#ifndef _FW_AUDIT_REDACT_H_INCLUDED_
#define _FW_AUDIT_REDACT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "fw_audit.h"


#pragma GCC visibility push(hidden)


#define FW_AUDIT_R_UNSET    0
#define FW_AUDIT_R_KEEP     1
#define FW_AUDIT_R_HASH     2
#define FW_AUDIT_R_DROP     3
#define FW_AUDIT_R_PREFIX   4     /* path: up to its resource type */
#define FW_AUDIT_R_NAMES    5     /* query: the parameter names only */
#define FW_AUDIT_R_DIGEST   6     /* query: one HMAC of the whole query
                                     (fw_audit_query hash) */
#define FW_AUDIT_R_PATIENTS 7     /* hash a reference to a Patient or a
                                     RelatedPerson, keep any other (the
                                     default of fhir_user) */

/* "fwh-" 20 digits "-" 24 hex */
#define FW_AUDIT_R_HASH_MAX   (4 + 20 + 1 + 24)
#define FW_AUDIT_R_HEX        24


typedef struct {
    fw_audit_hmac_t  *hmac;       /* under R(epoch); NULL: no key */
    uint64_t          epoch;
} fw_audit_redactor_t;


/* R from the secret */
void fw_audit_redact_base(const u_char *secret, size_t secret_len,
    u_char *base);

/* R(e) from R */
void fw_audit_redact_epoch_key(const u_char *base, uint64_t epoch,
    u_char *key);

/* the epoch of a time: time_ms / epoch_ms, 0 if epoch_ms is 0 */
uint64_t fw_audit_redact_epoch(int64_t time_ms, int64_t epoch_ms);

/* the mode of a name ("keep", ...) or FW_AUDIT_R_UNSET */
int fw_audit_redact_mode(const u_char *name, size_t len);
const char *fw_audit_redact_mode_name(int mode);

/* "fwh-<epoch>-<hex>" of the (percent-decoded) value into out (holds
   FW_AUDIT_R_HASH_MAX bytes); returns its length, 0 without a key */
size_t fw_audit_redact_hash(const fw_audit_redactor_t *rd, const u_char *v,
    size_t len, u_char *out);

/*
 * A field's value under "mode" (keep, hash, drop) into out[0..size);
 * returns the length written, 0: the field is left out.  A value longer
 * than "size" is cut (keep) or hashed whole.
 */
size_t fw_audit_redact_value(const fw_audit_redactor_t *rd, int mode,
    const u_char *v, size_t len, u_char *out, size_t size);

/*
 * The path (without its query): keep, drop, hash (every segment that is
 * not a resource type at a type position, "_history", "_search", an
 * operation "$name", "metadata" or a version number after "_history" is
 * hashed), prefix (up to and including the first resource type, the rest
 * cut).  The first "keep" bytes (the location's own prefix, configuration
 * rather than request data) are kept as they are.  Stops at a segment
 * that does not fit (never writes part of a segment).
 */
size_t fw_audit_redact_path(const fw_audit_redactor_t *rd, int mode,
    const u_char *v, size_t len, size_t keep, u_char *out, size_t size);

/*
 * The query: keep, drop, hash (each value hashed, "name=fwh-..."), names
 * ("name=*").  A name is kept when it looks like a parameter name
 * (letters, digits, "_", "-", ".", ":"; a letter or "_" first); a
 * parameter without "=", or whose name is not one, is written as a value.
 * The value of a credential ("access_token", "client_secret", ...) is "*"
 * in every mode, "keep" too.
 */
size_t fw_audit_redact_query(const fw_audit_redactor_t *rd, int mode,
    const u_char *v, size_t len, u_char *out, size_t size);


#pragma GCC visibility pop


#endif /* _FW_AUDIT_REDACT_H_INCLUDED_ */
