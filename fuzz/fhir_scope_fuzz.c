/*
 * libFuzzer: the SMART scope parser and matcher with the patient
 * compartment checks.  Input: "scopes\npatient\nMETHOD-byte path?query".
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fhir.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static fw_fhir_scope_set_t  set;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc, rc2;
    size_t             n, i, plen, slen, patlen, rlen;
    u_char            *copy, *scratch, *req_s;
    const u_char      *nl1, *nl2, *q;
    fw_fhir_req_t      req;
    fw_fhir_scope_t    s;
    fw_fhir_policy_t   pol;
    fw_fhir_param_t    params[FW_FHIR_MAX_PARAMS];
    fw_fhir_verdict_t  v, v2;
    fw_fhir_opperm_t   ops[1] = { { { (const u_char *) "everything", 10 },
                                    FW_FHIR_P_R } };

    if (size > 16384) {
        return 0;
    }

    copy = malloc(size + 1);
    scratch = malloc(size + 1);
    if (copy == NULL || scratch == NULL) {
        free(copy);
        free(scratch);
        return 0;
    }

    memcpy(copy, data, size);

    memset(&pol, 0, sizeof(pol));
    pol.version = FW_FHIR_R4;
    pol.deny_status = 403;
    pol.op_default = -1;
    pol.op_perms = ops;
    pol.n_op_perms = 1;
    pol.max_entries = 10;

    for (i = 1; i < FW_FHIR_I_COUNT; i++) {
        pol.interactions |= 1UL << i;
    }

    nl1 = memchr(copy, '\n', size);
    slen = nl1 ? (size_t) (nl1 - copy) : size;

    /* the scope parser alone, on the whole first line */
    fw_fhir_parse_scope(FW_FHIR_R5, copy, slen, &s);

    if (nl1 == NULL) {
        goto done;
    }

    nl2 = memchr(nl1 + 1, '\n', size - slen - 1);
    if (nl2 == NULL) {
        goto done;
    }

    patlen = nl2 - nl1 - 1;
    req_s = (u_char *) nl2 + 1;
    rlen = size - (req_s - copy);

    if (rlen == 0) {
        goto done;
    }

    q = memchr(req_s + 1, '?', rlen - 1);
    plen = q ? (size_t) (q - req_s - 1) : rlen - 1;

    fw_fhir_verdict_init(&v);

    if (fw_fhir_analyze(&pol, req_s[0] % 7, req_s + 1, plen,
                        q ? q + 1 : req_s + rlen,
                        q ? rlen - 1 - plen - 1 : 0, 0, scratch, &req,
                        params, &n, &v)
        != FW_FHIR_OK)
    {
        goto done;
    }

    rc = fw_fhir_authorize(&pol, &req, params, n, copy, slen, nl1 + 1,
                           patlen, &v);

    if (rc == FW_FHIR_OK && v.status != 0) {
        abort();
    }

    /* 400: a control parameter in another case (_Include) */
    if (rc != FW_FHIR_OK && v.status != 400 && v.status != 401
        && v.status != 403)
    {
        abort();
    }

    /* nothing but a well-formed patient id can open the compartment */
    if (rc == FW_FHIR_OK && req.type == fw_fhir_patient_type()
        && req.id.len && slen == 15 && memcmp(copy, "patient/*.cruds", 15) == 0
        && (patlen != req.id.len || memcmp(nl1 + 1, req.id.data, patlen)))
    {
        abort();
    }

    /* the parsed set (the per-worker cache's) gives the same verdict */
    if (fw_fhir_scope_set_parse(&set, copy, slen) == FW_FHIR_OK) {
        fw_fhir_verdict_init(&v2);

        rc2 = fw_fhir_authorize_set(&pol, &req, params, n, &set, nl1 + 1,
                                    patlen, &v2);

        if (rc2 != rc || v2.status != v.status
            || strcmp(v2.reason, v.reason) != 0
            || strcmp(v2.diag, v.diag) != 0
            || strcmp(v2.needed, v.needed) != 0)
        {
            abort();
        }
    }

done:

    free(copy);
    free(scratch);

    return 0;
}
