/*
 * fhirwall: nginx glue shared by the modules.
 */

#ifndef _NGX_HTTP_FW_COMMON_H_INCLUDED_
#define _NGX_HTTP_FW_COMMON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "fw_codec.h"
#include "fw_error.h"
#include "fw_vocab.h"


#pragma GCC visibility push(hidden)


/* the values of every "fw_*_error_format" directive */
extern ngx_conf_enum_t  ngx_http_fw_error_formats[];


/*
 * Answers the request with "status" and an error body in "format"
 * (FW_FORMAT_*), "code" a FHIR IssueType code and "diag" a short text.
 * Headers the caller wants (WWW-Authenticate, Retry-After, ...) must be in
 * r->headers_out already.  Discards an unread request body.
 *
 * Call it from a phase handler and return what it returns: NGX_DONE once
 * the answer is on its way (the request is finalized), or, in a
 * subrequest, the status itself so that the parent (auth_request) sees it.
 */
ngx_int_t ngx_http_fw_send_error(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t format, const char *code, const char *diag);

/* the same, with a diagnostics text that is not NUL-terminated */
ngx_int_t ngx_http_fw_send_error_str(ngx_http_request_t *r,
    ngx_uint_t status, ngx_uint_t format, const char *code, ngx_str_t *diag);

/*
 * The same, that answers a subrequest too instead of handing its status
 * to the parent: the status is in r->headers_out.status (what auth_request
 * reads) and the body is part of the parent's response (SSI include,
 * add_before_body).  Headers the parent copies (auth_request: the
 * WWW-Authenticate of a 401) must be set in r->headers_out by the caller.
 * Returns NGX_DONE (the request is finalized) or an error status.
 */
ngx_int_t ngx_http_fw_send_error_body(ngx_http_request_t *r,
    ngx_uint_t status, ngx_uint_t format, const char *code, ngx_str_t *diag);

/*
 * Adds (or replaces) a response header; value must outlive the request
 * (pool memory or static).
 */
/*
 * Sets WWW-Authenticate through r->headers_out.www_authenticate, the field
 * auth_request copies from a 401 subrequest to the main request (and that
 * "satisfy any" keeps): replaces the value when it is already set.
 */
ngx_int_t ngx_http_fw_set_www_authenticate(ngx_http_request_t *r,
    ngx_str_t *value);

ngx_int_t ngx_http_fw_set_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value);

/*
 * Replaces every request header of that name with one of this value (or
 * removes them all, with value NULL), so that an upstream never sees a
 * client-sent copy next to ours.  Names nginx tracks itself (Host,
 * Authorization, Cookie, ...: r->headers_in points at them) and names
 * longer than 64 bytes are refused with NGX_DECLINED / NGX_ERROR; check
 * names at configuration time with ngx_http_fw_request_header_allowed().
 */
ngx_int_t ngx_http_fw_set_request_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);

/* NGX_OK for a name ngx_http_fw_set_request_header() may set */
ngx_int_t ngx_http_fw_request_header_allowed(ngx_str_t *name);

/*
 * The one request header of that name (case-insensitive, deleted entries
 * skipped): NGX_OK with its value, NGX_DECLINED when there is none,
 * NGX_BUSY when there are several (value: the first).
 */
ngx_int_t ngx_http_fw_get_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value);

/*
 * Walks the request headers: with *part NULL the first entry, then the
 * next; the entry is (*h)[*i].  Returns 0 after the last one.
 *
 *     part = NULL;
 *     while (ngx_http_fw_next_header(r, &part, &h, &i)) { ... h[i] ... }
 */
ngx_uint_t ngx_http_fw_next_header(ngx_http_request_t *r,
    ngx_list_part_t **part, ngx_table_elt_t **h, ngx_uint_t *i);

/*
 * Says that the check of "module" refused the main request with "reason"
 * (both static: FW_VOCAB_* constants, or the core's status names), for
 * the audit record's denied_by and reason: the last refusal of a request
 * is kept.  Sets $fw_denied_by and $fw_denied_reason when they exist (the
 * audit module defines them) and $fw_metrics_denied_by (the metrics
 * module's); a subrequest's refusal is not the main request's.
 */
void ngx_http_fw_mark_denied(ngx_http_request_t *r, const char *module,
    const char *reason);

/*
 * Reads a whole small file at configuration time (never per request),
 * refusing an empty file and one larger than "max".  Logs with the
 * directive's name on failure.
 */
ngx_int_t ngx_http_fw_read_conf_file(ngx_conf_t *cf, ngx_str_t *name,
    size_t max, ngx_str_t *out);


/*
 * Where our handlers of a phase run relative to one another: lower ranks
 * first, whatever the order of the load_module lines (docs/DEVELOPING.md,
 * "Phase order").  Within a phase, a refusal of a lower rank wins.
 */
#define NGX_HTTP_FW_RANK_LOCKOUT     10     /* preaccess */
#define NGX_HTTP_FW_RANK_RATELIMIT   20     /* preaccess */
#define NGX_HTTP_FW_RANK_AUDIT       30     /* preaccess */
#define NGX_HTTP_FW_RANK_FHIR        10     /* precontent */
#define NGX_HTTP_FW_RANK_MINIMISE    20     /* precontent */

/*
 * Adds "handler" to the handlers of "phase" (postconfiguration only) so
 * that it runs after every fhirwall handler of a lower rank and before
 * every one of a higher rank already added, whichever module was loaded
 * first: the ranks are kept in a registry that every module's copy of
 * this code finds by name (no module links another).  Non-fhirwall
 * handlers keep their places (ours still run before the static modules'
 * handlers added earlier).
 */
ngx_int_t ngx_http_fw_add_phase_handler(ngx_conf_t *cf,
    ngx_http_phases phase, ngx_http_handler_pt handler, ngx_uint_t rank);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_COMMON_H_INCLUDED_ */
