/*
 * fhirwall: error bodies in the format a location speaks (plain C).
 *
 *   FW_FORMAT_PROBLEM  application/problem+json (RFC 9457)
 *   FW_FORMAT_FHIR     a FHIR OperationOutcome (application/fhir+json)
 *   FW_FORMAT_TEXT     text/plain, one line
 */

#ifndef _FW_ERROR_H_INCLUDED_
#define _FW_ERROR_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


#pragma GCC visibility push(hidden)


#define FW_FORMAT_PROBLEM  0
#define FW_FORMAT_FHIR     1
#define FW_FORMAT_TEXT     2


/* the longest diagnostics text an error body carries; longer is cut */
#define FW_ERROR_DIAG_MAX  512


/*
 * JSON string escaping (without the quotes).  With dst NULL returns the
 * length the escaped text needs; otherwise writes it and returns the
 * length written.  Well-formed UTF-8 is kept as it is; control characters,
 * DEL, '"', '\\', '<', '>', '&' and every byte that is not part of a
 * well-formed UTF-8 sequence are escaped (\u00XX for a stray byte, so the
 * output is always valid JSON and safe to embed in HTML).
 */
size_t fw_json_escape(u_char *dst, const u_char *src, size_t len);

/* the reason phrase of an HTTP status ("Unauthorized"), or "Error" */
const char *fw_status_reason(unsigned status);

/* the media type of a format */
const char *fw_format_content_type(int format);

/*
 * Builds an error body.  "code" is a FHIR IssueType code (security, login,
 * forbidden, throttled, invalid, not-found, not-supported, too-long,
 * duplicate, transient, exception, ...); "diag" a short human text, which
 * is escaped (it may contain request data).  With buf NULL returns the
 * size needed; otherwise writes at most "size" bytes and returns the
 * length written (0 if "size" was too small).
 */
size_t fw_error_body(u_char *buf, size_t size, int format, unsigned status,
    const char *code, const u_char *diag, size_t diag_len);


#pragma GCC visibility pop


#endif /* _FW_ERROR_H_INCLUDED_ */
