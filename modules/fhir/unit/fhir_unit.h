/* helpers shared by the FHIR core unit tests (header only) */

#ifndef _FHIR_UNIT_H_INCLUDED_
#define _FHIR_UNIT_H_INCLUDED_


#include <stdlib.h>
#include <string.h>

#include "fw_fhir.h"


typedef struct {
    fw_fhir_req_t      req;
    fw_fhir_verdict_t  v;
    fw_fhir_param_t    params[FW_FHIR_MAX_PARAMS];
    size_t             n;
    u_char             scratch[4096];
    int                rc;
} fhir_t;


static void
fhir_policy(fw_fhir_policy_t *pol, unsigned version)
{
    int  i;

    memset(pol, 0, sizeof(fw_fhir_policy_t));
    pol->version = version;
    pol->deny_status = 405;
    pol->op_default = -1;
    pol->max_entries = 100;

    for (i = 1; i < FW_FHIR_I_COUNT; i++) {
        pol->interactions |= 1UL << i;
    }
}


/* "GET Patient/1?x=y": method, path after the base, query */

static int
fhir_run(fhir_t *f, const fw_fhir_policy_t *pol, const char *method,
    const char *url, int if_none_exist)
{
    int          m;
    const char  *q;
    char         path[2048];
    size_t       plen;

    m = strcmp(method, "GET") == 0 ? FW_FHIR_M_GET
        : strcmp(method, "HEAD") == 0 ? FW_FHIR_M_HEAD
        : strcmp(method, "POST") == 0 ? FW_FHIR_M_POST
        : strcmp(method, "PUT") == 0 ? FW_FHIR_M_PUT
        : strcmp(method, "PATCH") == 0 ? FW_FHIR_M_PATCH
        : strcmp(method, "DELETE") == 0 ? FW_FHIR_M_DELETE
        : FW_FHIR_M_OTHER;

    q = strchr(url, '?');
    plen = q ? (size_t) (q - url) : strlen(url);
    memcpy(path, url, plen);

    fw_fhir_verdict_init(&f->v);
    f->rc = fw_fhir_analyze(pol, m, (u_char *) path, plen,
                            (u_char *) (q ? q + 1 : ""),
                            q ? strlen(q + 1) : 0, if_none_exist,
                            f->scratch, &f->req, f->params, &f->n, &f->v);

    return f->rc;
}


#endif /* _FHIR_UNIT_H_INCLUDED_ */
