/*
 * fhirwall FHIR core: batch and transaction Bundles, every entry checked
 * with the rules of a request of its own (plain C, jansson).
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fw_fhir.h"


#define FW_FHIR_URL_MAX  8192


static int fw_fhir_method(const char *m);
static int fw_fhir_check_entry(const fw_fhir_policy_t *pol, json_t *entry,
    int authz, const u_char *scopes, size_t scopes_len,
    const u_char *patient, size_t patient_len, fw_fhir_verdict_t *v);


static int
fw_fhir_method(const char *m)
{
    if (strcmp(m, "GET") == 0) {
        return FW_FHIR_M_GET;
    }

    if (strcmp(m, "HEAD") == 0) {
        return FW_FHIR_M_HEAD;
    }

    if (strcmp(m, "POST") == 0) {
        return FW_FHIR_M_POST;
    }

    if (strcmp(m, "PUT") == 0) {
        return FW_FHIR_M_PUT;
    }

    if (strcmp(m, "PATCH") == 0) {
        return FW_FHIR_M_PATCH;
    }

    if (strcmp(m, "DELETE") == 0) {
        return FW_FHIR_M_DELETE;
    }

    return FW_FHIR_M_OTHER;
}


static int
fw_fhir_check_entry(const fw_fhir_policy_t *pol, json_t *entry, int authz,
    const u_char *scopes, size_t scopes_len, const u_char *patient,
    size_t patient_len, fw_fhir_verdict_t *v)
{
    int               rc, method;
    size_t            len, plen, n;
    u_char           *scratch, *path;
    json_t           *request, *jm, *ju, *jn;
    const char       *url, *q;
    fw_fhir_req_t     req;
    fw_fhir_param_t  *params;

    request = json_is_object(entry) ? json_object_get(entry, "request")
                                     : NULL;

    if (!json_is_object(request)) {
        return fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                            "entry without a request");
    }

    jm = json_object_get(request, "method");
    ju = json_object_get(request, "url");
    jn = json_object_get(request, "ifNoneExist");

    if (!json_is_string(jm) || !json_is_string(ju)
        || (jn != NULL && !json_is_string(jn)))
    {
        return fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                            "entry request without a method or url");
    }

    method = fw_fhir_method(json_string_value(jm));

    if (method == FW_FHIR_M_OTHER) {
        return fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                            "entry request method is not a FHIR method");
    }

    url = json_string_value(ju);
    len = json_string_length(ju);

    if (len == 0 || len > FW_FHIR_URL_MAX || strlen(url) != len) {
        return fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                            "entry request url is empty, too long or "
                            "holds NUL");
    }

    /* relative to the base: "Patient/1", "/Patient/1" or "Patient?x=y";
       an absolute URL could name another server or bypass the base */

    if (url[0] == '/') {
        url++;
        len--;
    }

    q = memchr(url, '?', len);
    plen = q ? (size_t) (q - url) : len;

    scratch = malloc(len + 2);
    path = malloc(plen + 2);
    params = malloc(FW_FHIR_MAX_PARAMS * sizeof(fw_fhir_param_t));

    if (scratch == NULL || path == NULL || params == NULL) {
        free(scratch);
        free(path);
        free(params);
        return fw_fhir_deny(v, 500, "exception", "error", "out of memory");
    }

    path[0] = '/';
    memcpy(path + 1, url, plen);

    rc = fw_fhir_analyze(pol, method, path, plen + 1,
                         (const u_char *) (q ? q + 1 : url + len),
                         q ? len - plen - 1 : 0, jn != NULL, scratch, &req,
                         params, &n, v);

    if (rc == FW_FHIR_OK && req.interaction == FW_FHIR_I_BATCH) {
        rc = fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                          "nested batch or transaction");
    }

    if (rc == FW_FHIR_OK && req.search_post) {
        rc = fw_fhir_deny(v, 400, "not-supported", "bundle-invalid",
                          "_search by POST inside a Bundle");
    }

    if (rc == FW_FHIR_OK && authz) {
        rc = fw_fhir_authorize(pol, &req, params, n, scopes, scopes_len,
                               patient, patient_len, v);
    }

    free(scratch);
    free(path);
    free(params);

    return rc;
}


int
fw_fhir_check_bundle(const fw_fhir_policy_t *pol, const u_char *body,
    size_t len, int authz, const u_char *scopes, size_t scopes_len,
    const u_char *patient, size_t patient_len, int *interaction,
    fw_fhir_verdict_t *v)
{
    int           rc;
    char          diag[sizeof(v->diag)];
    size_t        i, n;
    json_t       *root, *rt, *type, *entries;
    const char   *t, *code;
    json_error_t  err;

    root = json_loadb((const char *) body, len,
                      JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        return fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                            "request body is not valid JSON");
    }

    rc = FW_FHIR_ERROR;

    rt = json_object_get(root, "resourceType");
    type = json_object_get(root, "type");

    if (!json_is_string(rt) || strcmp(json_string_value(rt), "Bundle") != 0
        || !json_is_string(type))
    {
        fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                     "POST to the base needs a batch or transaction "
                     "Bundle");
        goto done;
    }

    t = json_string_value(type);

    if (strcmp(t, "batch") == 0) {
        *interaction = FW_FHIR_I_BATCH;

    } else if (strcmp(t, "transaction") == 0) {
        *interaction = FW_FHIR_I_TRANSACTION;

    } else {
        fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                     "Bundle type must be batch or transaction");
        goto done;
    }

    if (!(pol->interactions & (1UL << *interaction))) {
        code = (pol->deny_status == 403) ? "forbidden" : "not-supported";
        fw_fhir_deny(v, pol->deny_status, code, "not-allowed",
                     "interaction %s is not allowed here",
                     fw_fhir_interaction_names[*interaction]);
        goto done;
    }

    entries = json_object_get(root, "entry");

    if (entries != NULL && !json_is_array(entries)) {
        fw_fhir_deny(v, 400, "invalid", "bundle-invalid",
                     "Bundle entry is not an array");
        goto done;
    }

    n = entries ? json_array_size(entries) : 0;

    if (n > pol->max_entries) {
        fw_fhir_deny(v, 413, "too-costly", "bundle-invalid",
                     "Bundle has more than %u entries",
                     (unsigned) pol->max_entries);
        goto done;
    }

    for (i = 0; i < n; i++) {
        if (fw_fhir_check_entry(pol, json_array_get(entries, i), authz,
                                scopes, scopes_len, patient, patient_len, v)
            != FW_FHIR_OK)
        {
            /* one denied entry denies the Bundle */
            memcpy(diag, v->diag, sizeof(diag));
            fw_fhir_deny(v, v->status, v->code, v->reason,
                         "Bundle entry %u: %.*s", (unsigned) i,
                         (int) (sizeof(diag) - 32), diag);
            v->entry = (int) i;
            goto done;
        }
    }

    rc = FW_FHIR_OK;

done:

    json_decref(root);

    return rc;
}
