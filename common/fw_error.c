/*
 * fhirwall: error bodies in the format a location speaks (plain C).
 */


#include <stdio.h>
#include <string.h>

#include "fw_error.h"


static size_t fw_error_build(u_char *buf, int format, unsigned status,
    const char *code, const u_char *diag, size_t diag_len);
static u_char *fw_cpy(u_char *p, const char *s);
static size_t fw_utf8_len(const u_char *p, size_t len);


/* the length of a well-formed UTF-8 sequence at p (RFC 3629), else 0 */

static size_t
fw_utf8_len(const u_char *p, size_t len)
{
    size_t  n, i;
    u_char  lo, hi;

    lo = 0x80;
    hi = 0xbf;

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;

        if (p[0] == 0xe0) {
            lo = 0xa0;

        } else if (p[0] == 0xed) {
            hi = 0x9f;              /* no UTF-16 surrogates */
        }

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;

        if (p[0] == 0xf0) {
            lo = 0x90;

        } else if (p[0] == 0xf4) {
            hi = 0x8f;              /* nothing above U+10FFFF */
        }

    } else {
        return 0;
    }

    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


size_t
fw_json_escape(u_char *dst, const u_char *src, size_t len)
{
    u_char             c;
    size_t             i, n, u;
    static const char  hex[] = "0123456789abcdef";

    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c >= 0x80) {
            u = fw_utf8_len(src + i, len - i);

            if (u) {
                if (dst) {
                    memcpy(dst + n, src + i, u);
                }

                n += u;
                i += u - 1;
                continue;
            }
        }

        if (c == '"' || c == '\\') {
            if (dst) {
                dst[n] = '\\';
                dst[n + 1] = c;
            }

            n += 2;
            continue;
        }

        if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&') {
            if (dst) {
                memcpy(dst + n, "\\u00", 4);
                dst[n + 4] = hex[c >> 4];
                dst[n + 5] = hex[c & 0x0f];
            }

            n += 6;
            continue;
        }

        if (dst) {
            dst[n] = c;
        }

        n++;
    }

    return n;
}


const char *
fw_status_reason(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return "Error";
    }
}


const char *
fw_format_content_type(int format)
{
    switch (format) {
    case FW_FORMAT_FHIR:
        return "application/fhir+json";
    case FW_FORMAT_TEXT:
        return "text/plain";
    default:
        return "application/problem+json";
    }
}


static u_char *
fw_cpy(u_char *p, const char *s)
{
    size_t  n;

    n = strlen(s);
    memcpy(p, s, n);

    return p + n;
}


/* with buf NULL, returns the length; the builder runs the same code twice */

static size_t
fw_error_build(u_char *buf, int format, unsigned status, const char *code,
    const u_char *diag, size_t diag_len)
{
    char     num[8];
    size_t   n;
    u_char  *p;

#define FW_PUT(s)                                                          \
    if (buf) { p = fw_cpy(p, s); } else { n += strlen(s); }

#define FW_PUT_ESC(s, l)                                                   \
    if (buf) { p += fw_json_escape(p, s, l); }                             \
    else { n += fw_json_escape(NULL, s, l); }

    p = buf;
    n = 0;

    if (diag_len > FW_ERROR_DIAG_MAX) {
        diag_len = FW_ERROR_DIAG_MAX;
    }

    snprintf(num, sizeof(num), "%u", status % 1000);

    switch (format) {

    case FW_FORMAT_FHIR:
        FW_PUT("{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
               "\"severity\":\"");
        FW_PUT(status >= 500 ? "fatal" : "error");
        FW_PUT("\",\"code\":\"");
        FW_PUT_ESC((const u_char *) code, strlen(code));
        FW_PUT("\",\"diagnostics\":\"");
        FW_PUT_ESC(diag, diag_len);
        FW_PUT("\"}]}\n");
        break;

    case FW_FORMAT_TEXT:
        FW_PUT(num);
        FW_PUT(" ");
        FW_PUT(fw_status_reason(status));
        FW_PUT(": ");
        FW_PUT_ESC(diag, diag_len);
        FW_PUT("\n");
        break;

    default:
        FW_PUT("{\"type\":\"about:blank\",\"title\":\"");
        FW_PUT(fw_status_reason(status));
        FW_PUT("\",\"status\":");
        FW_PUT(num);
        FW_PUT(",\"code\":\"");
        FW_PUT_ESC((const u_char *) code, strlen(code));
        FW_PUT("\",\"detail\":\"");
        FW_PUT_ESC(diag, diag_len);
        FW_PUT("\"}\n");
        break;
    }

#undef FW_PUT
#undef FW_PUT_ESC

    return buf ? (size_t) (p - buf) : n;
}


size_t
fw_error_body(u_char *buf, size_t size, int format, unsigned status,
    const char *code, const u_char *diag, size_t diag_len)
{
    size_t  need;

    if (diag == NULL) {
        diag = (const u_char *) "";
        diag_len = 0;
    }

    need = fw_error_build(NULL, format, status, code, diag, diag_len);

    if (buf == NULL) {
        return need;
    }

    if (size < need) {
        return 0;
    }

    return fw_error_build(buf, format, status, code, diag, diag_len);
}
