/*
 * libFuzzer: the FHIR path parser, query parser, classifier and policy
 * checks (first byte: method and version; the rest "path?query"), and, for
 * inputs that start with '{', the Bundle checker.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fhir.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                interaction;
    size_t             n, plen, i;
    u_char            *copy, *scratch;
    const u_char      *q;
    fw_fhir_req_t      req;
    fw_fhir_policy_t   pol;
    fw_fhir_param_t    params[FW_FHIR_MAX_PARAMS];
    fw_fhir_verdict_t  v;
    static const unsigned  versions[3] = { FW_FHIR_R4, FW_FHIR_R4B,
                                           FW_FHIR_R5 };

    if (size == 0 || size > 16384) {
        return 0;
    }

    memset(&pol, 0, sizeof(pol));
    pol.version = versions[(data[0] >> 4) % 3];
    pol.deny_status = 405;
    pol.op_default = -1;
    pol.max_entries = 50;

    for (i = 1; i < FW_FHIR_I_COUNT; i++) {
        pol.interactions |= 1UL << i;
    }

    /* an exact-size heap copy, so that ASan sees any overread */
    copy = malloc(size);
    scratch = malloc(size + 1);
    if (copy == NULL || scratch == NULL) {
        free(copy);
        free(scratch);
        return 0;
    }

    memcpy(copy, data, size);
    fw_fhir_verdict_init(&v);

    if (size > 1 && copy[1] == '{') {
        fw_fhir_check_bundle(&pol, copy + 1, size - 1, data[0] & 1,
                             (const u_char *) "patient/*.rs user/Patient.*",
                             27, (const u_char *) "123", 3, &interaction,
                             &v);
        goto done;
    }

    q = memchr(copy + 1, '?', size - 1);
    plen = q ? (size_t) (q - copy - 1) : size - 1;

    if (fw_fhir_analyze(&pol, data[0] % 7, copy + 1, plen,
                        q ? q + 1 : copy + size,
                        q ? size - 1 - plen - 1 : 0, data[0] & 8, scratch,
                        &req, params, &n, &v)
        == FW_FHIR_OK)
    {
        if (req.interaction <= FW_FHIR_I_NONE
            || req.interaction >= FW_FHIR_I_COUNT || n > FW_FHIR_MAX_PARAMS)
        {
            abort();
        }

        if (req.id.len && !fw_fhir_valid_id(req.id.data, req.id.len)) {
            abort();
        }

        if (req.patient.len
            && !fw_fhir_valid_id(req.patient.data, req.patient.len))
        {
            abort();
        }

        fw_fhir_authorize(&pol, &req, params, n,
                          (const u_char *) "patient/*.cruds", 15,
                          (const u_char *) "123", 3, &v);

    } else if (v.status < 400 || v.status > 415) {
        abort();
    }

done:

    free(copy);
    free(scratch);

    return 0;
}
