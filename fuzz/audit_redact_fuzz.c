/*
 * libFuzzer harness for the audit redaction: a path, a query and a value
 * in every mode, with and without a key, in buffers of any size.  Traps
 * when an output is longer than its buffer, differs between two runs, or
 * holds anything but what the mode may keep: a query's kept names and
 * "=", hashes and "*"; a path's location prefix, resource types,
 * keywords, version numbers, hashes and "*".
 *
 * Input: byte 0 the modes and the key, byte 1 the buffer size, byte 2
 * the location prefix's length, then the data.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fw_audit.h"
#include "fw_audit_redact.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fw_fuzz_is_hash(const u_char *s, size_t len);
static int fw_fuzz_kept_char(u_char c);
static void fw_fuzz_check_query(const u_char *s, size_t len);
static void fw_fuzz_check_path(const u_char *s, size_t len);


static int
fw_fuzz_is_hash(const u_char *s, size_t len)
{
    size_t  i;

    if (len < 4 + 1 + 1 + FW_AUDIT_R_HEX || memcmp(s, "fwh-", 4) != 0) {
        return 0;
    }

    for (i = 4; i < len - FW_AUDIT_R_HEX - 1; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    if (s[i] != '-') {
        return 0;
    }

    for (i++; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


/* what a type, a keyword, a version or a parameter name is made of */

static int
fw_fuzz_kept_char(u_char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '$'
           || c == '.' || c == ':';
}


static void
fw_fuzz_check_query(const u_char *s, size_t len)
{
    size_t         i;
    const u_char  *p, *end, *par, *eq;

    p = s;
    end = s + len;

    while (p <= end) {
        par = p;

        while (p < end && *p != '&') {
            p++;
        }

        eq = memchr(par, '=', p - par);

        if (eq) {
            for (i = 0; i < (size_t) (eq - par); i++) {
                if (!fw_fuzz_kept_char(par[i]) || par[i] == '$') {
                    __builtin_trap();
                }
            }

            par = eq + 1;
        }

        if (p - par > 0 && !(p - par == 1 && *par == '*')
            && !fw_fuzz_is_hash(par, p - par))
        {
            __builtin_trap();
        }

        p++;
    }
}


static void
fw_fuzz_check_path(const u_char *s, size_t len)
{
    size_t         i;
    const u_char  *p, *end, *seg;

    p = s;
    end = s + len;

    while (p < end) {
        if (*p == '/') {
            p++;
            continue;
        }

        seg = p;

        while (p < end && *p != '/') {
            p++;
        }

        if ((p - seg == 1 && *seg == '*') || fw_fuzz_is_hash(seg, p - seg)) {
            continue;
        }

        for (i = 0; i < (size_t) (p - seg); i++) {
            if (!fw_fuzz_kept_char(seg[i]) || seg[i] == '.'
                || seg[i] == ':')
            {
                __builtin_trap();
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   mode;
    u_char                out[2][4096], key[FW_AUDIT_MAC_LEN];
    size_t                n[2], len, bufsize, keep, i;
    const u_char         *in;
    fw_audit_redactor_t   rd;
    static const int      path_modes[] = {
        FW_AUDIT_R_KEEP, FW_AUDIT_R_HASH, FW_AUDIT_R_DROP, FW_AUDIT_R_PREFIX
    };
    static const int      query_modes[] = {
        FW_AUDIT_R_KEEP, FW_AUDIT_R_HASH, FW_AUDIT_R_DROP, FW_AUDIT_R_NAMES
    };

    if (size < 3) {
        return 0;
    }

    memset(key, 0x5a, sizeof(key));

    rd.epoch = data[0] >> 4;
    rd.hmac = (data[0] & 0x08) ? NULL
                               : fw_audit_hmac_create(key, sizeof(key));

    bufsize = (size_t) data[1] * 16 + 1;
    keep = data[2];
    in = data + 3;
    len = size - 3;

    /* the path */

    mode = path_modes[data[0] & 3];

    for (i = 0; i < 2; i++) {
        n[i] = fw_audit_redact_path(&rd, mode, in, len, keep, out[i],
                                    bufsize);
        if (n[i] > bufsize) {
            __builtin_trap();
        }
    }

    if (n[0] != n[1] || memcmp(out[0], out[1], n[0]) != 0) {
        __builtin_trap();
    }

    if (mode == FW_AUDIT_R_HASH || mode == FW_AUDIT_R_PREFIX) {
        keep = keep <= len ? keep : 0;

        /* nothing, when not even the prefix fits */
        if (n[0] != 0 || keep == 0) {
            if (n[0] < keep || memcmp(out[0], in, keep) != 0) {
                __builtin_trap();
            }

            fw_fuzz_check_path(out[0] + keep, n[0] - keep);
        }
    }

    /* the query */

    mode = query_modes[(data[0] >> 2) & 3];

    for (i = 0; i < 2; i++) {
        n[i] = fw_audit_redact_query(&rd, mode, in, len, out[i], bufsize);
        if (n[i] > bufsize) {
            __builtin_trap();
        }
    }

    if (n[0] != n[1] || memcmp(out[0], out[1], n[0]) != 0) {
        __builtin_trap();
    }

    if (mode == FW_AUDIT_R_HASH || mode == FW_AUDIT_R_NAMES) {
        fw_fuzz_check_query(out[0], n[0]);
    }

    /* a value */

    n[0] = fw_audit_redact_value(&rd, FW_AUDIT_R_HASH, in, len, out[0],
                                 bufsize);
    if (n[0] > bufsize || (rd.hmac == NULL && n[0] != 0)) {
        __builtin_trap();
    }

    if (n[0] && memchr(out[0], '/', n[0]) == NULL
        && !fw_fuzz_is_hash(out[0], n[0]))
    {
        __builtin_trap();
    }

    fw_audit_hmac_destroy(rd.hmac);

    return 0;
}
