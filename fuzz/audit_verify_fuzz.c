/*
 * libFuzzer harness for the audit verifier: the line parser and the whole
 * verifier on arbitrary input (split into lines as the CLI does), with a
 * small epoch bound so that a forged epoch cannot make it slow.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fw_audit.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const u_char         *p, *nl, *last;
    const char           *err;
    uint64_t              records, chains, warnings, lineno;
    fw_audit_line_t       l;
    fw_audit_verifier_t  *v;

    /* the parser alone, on the whole input as one line */
    if (fw_audit_parse_line(data, size, &l, &err) == FW_AUDIT_OK) {
        if (l.msg_len > size || l.chain + l.chain_len > data + size
            || l.chain < data)
        {
            __builtin_trap();
        }
    }

    v = fw_audit_verifier_create((const u_char *) "fuzz-key-0123456789", 19,
                                 64, (size & 1), NULL, NULL);
    if (v == NULL) {
        return 0;
    }

    p = data;
    last = data + size;
    lineno = 0;

    while (p < last) {
        lineno++;
        nl = memchr(p, '\n', last - p);

        if (nl == NULL) {
            fw_audit_verifier_add(v, "fuzz", lineno, p, last - p);
            fw_audit_verifier_partial(v, "fuzz", lineno);
            break;
        }

        fw_audit_verifier_add(v, "fuzz", lineno, p, nl - p);
        p = nl + 1;
    }

    (void) fw_audit_verifier_finish(v, &records, &chains, &warnings);
    fw_audit_verifier_destroy(v);

    return 0;
}
