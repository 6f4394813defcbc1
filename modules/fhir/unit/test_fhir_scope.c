/* FHIR core: SMART scopes, patient compartments, Bundles */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "fhir_unit.h"


static fw_fhir_policy_t  pol;
static fw_fhir_opperm_t  ops[2] = {
    { { (u_char *) "everything", 10 }, FW_FHIR_P_R },
    { { (u_char *) "versions", 8 }, 0 },
};


static int
setup(void **state)
{
    fhir_policy(&pol, FW_FHIR_R4);
    pol.op_perms = ops;
    pol.n_op_perms = 2;
    return 0;
}


static fw_fhir_scope_set_t  set1, slots[4];


/*
 * fw_fhir_authorize() and, when the scopes fit a parsed set,
 * fw_fhir_authorize_set(): both must give the very same verdict
 */

static int
authorize_both(const fw_fhir_policy_t *p, const fw_fhir_req_t *req,
    const fw_fhir_param_t *params, size_t n, const u_char *scopes,
    size_t scopes_len, const u_char *patient, size_t patient_len,
    fw_fhir_verdict_t *v)
{
    int                rc, rc2;
    fw_fhir_verdict_t  v2;

    v2 = *v;

    rc = fw_fhir_authorize(p, req, params, n, scopes, scopes_len, patient,
                           patient_len, v);

    if (fw_fhir_scope_set_parse(&set1, scopes, scopes_len) != FW_FHIR_OK) {
        return rc;
    }

    rc2 = fw_fhir_authorize_set(p, req, params, n, &set1, patient,
                                patient_len, &v2);

    assert_int_equal(rc, rc2);
    assert_int_equal(v->status, v2.status);
    assert_string_equal(v->code, v2.code);
    assert_string_equal(v->reason, v2.reason);
    assert_string_equal(v->diag, v2.diag);
    assert_string_equal(v->needed, v2.needed);

    return rc;
}


/* the status an authorization gives: 0 allowed */

static unsigned
authz(const char *method, const char *url, const char *scopes,
    const char *patient)
{
    fhir_t  f;

    if (fhir_run(&f, &pol, method, url, 0) != FW_FHIR_OK) {
        fail_msg("%s %s does not parse: %s", method, url, f.v.diag);
    }

    authorize_both(&pol, &f.req, f.params, f.n, (u_char *) scopes,
                   strlen(scopes), (u_char *) patient, strlen(patient),
                   &f.v);

    return f.v.status;
}


static void
test_parse_scope(void **state)
{
    fw_fhir_scope_t  s;

#define P(str)  fw_fhir_parse_scope(FW_FHIR_R4, (u_char *) str,              \
                                    sizeof(str) - 1, &s)

    assert_int_equal(P("patient/Observation.rs"), FW_FHIR_OK);
    assert_int_equal(s.context, 'p');
    assert_int_equal(s.perms, FW_FHIR_P_R | FW_FHIR_P_S);
    assert_int_equal(P("user/*.read"), FW_FHIR_OK);
    assert_int_equal(s.type, FW_FHIR_ANY);
    assert_int_equal(s.perms, FW_FHIR_P_R | FW_FHIR_P_S);
    assert_int_equal(P("system/Patient.write"), FW_FHIR_OK);
    assert_int_equal(s.perms, FW_FHIR_P_C | FW_FHIR_P_U | FW_FHIR_P_D);
    assert_int_equal(P("system/Patient.*"), FW_FHIR_OK);
    assert_int_equal(s.perms, FW_FHIR_P_ALL);
    assert_int_equal(P("user/Patient.cruds"), FW_FHIR_OK);
    assert_int_equal(s.perms, FW_FHIR_P_ALL);
    assert_int_equal(P("user/Patient.cd"), FW_FHIR_OK);
    assert_int_equal(s.perms, FW_FHIR_P_C | FW_FHIR_P_D);
    assert_int_equal(P("patient/Observation.rs?category=laboratory"),
                     FW_FHIR_OK);
    assert_int_equal(s.query.len, 19);

    assert_int_equal(P("user/Patient.sr"), FW_FHIR_ERROR);
    assert_int_equal(P("user/Patient.rr"), FW_FHIR_ERROR);
    assert_int_equal(P("user/Patient.crudsx"), FW_FHIR_ERROR);
    assert_int_equal(P("user/Patient."), FW_FHIR_ERROR);
    assert_int_equal(P("user/Patient"), FW_FHIR_ERROR);
    assert_int_equal(P("user/.r"), FW_FHIR_ERROR);
    assert_int_equal(P("user/patient.r"), FW_FHIR_ERROR);
    assert_int_equal(P("user/ActorDefinition.r"), FW_FHIR_ERROR);
    assert_int_equal(P("admin/Patient.r"), FW_FHIR_ERROR);
    assert_int_equal(P("launch/patient"), FW_FHIR_ERROR);
    assert_int_equal(P("openid"), FW_FHIR_ERROR);
    assert_int_equal(P("user/Patient.r?"), FW_FHIR_ERROR);
    assert_int_equal(P("user/Patient.READ"), FW_FHIR_ERROR);

#undef P
}


static void
test_permissions(void **state)
{
    assert_int_equal(authz("GET", "/Patient/1", "", ""), 401);
    assert_int_equal(authz("GET", "/Patient/1", "  \t ", ""), 401);
    assert_int_equal(authz("GET", "/metadata", "", ""), 0);
    assert_int_equal(authz("GET", "/Patient/1/$versions", "", ""), 0);
    assert_int_equal(authz("GET", "/Patient/1", "openid", ""), 403);
    assert_int_equal(authz("GET", "/Patient/1", "user/Patient.r", ""), 0);
    assert_int_equal(authz("GET", "/Patient/1", "user/Patient.s", ""), 403);
    assert_int_equal(authz("GET", "/Patient", "user/Patient.s", ""), 0);
    assert_int_equal(authz("GET", "/Patient", "user/Patient.r", ""), 403);
    assert_int_equal(authz("POST", "/Patient", "user/Patient.c", ""), 0);
    assert_int_equal(authz("PUT", "/Patient/1", "user/Patient.u", ""), 0);
    assert_int_equal(authz("PATCH", "/Patient/1", "user/Patient.u", ""), 0);
    assert_int_equal(authz("DELETE", "/Patient/1", "user/Patient.u", ""),
                     403);
    assert_int_equal(authz("PUT", "/Patient?identifier=1", "user/Patient.u",
                           ""), 403);
    assert_int_equal(authz("PUT", "/Patient?identifier=1",
                           "user/Patient.cu", ""), 0);
    assert_int_equal(authz("GET", "/_history", "user/Patient.s", ""), 403);
    assert_int_equal(authz("GET", "/_history", "system/*.s", ""), 0);
    assert_int_equal(authz("GET", "/Patient/1/*", "user/Observation.s", ""),
                     403);
    assert_int_equal(authz("GET", "/Patient/1/Observation",
                           "user/Observation.s", ""), 0);
    assert_int_equal(authz("GET", "/Patient/1/$everything",
                           "user/Patient.r", ""), 0);
    assert_int_equal(authz("GET", "/Patient/$match", "user/*.cruds", ""),
                     403);
    assert_int_equal(authz("GET", "/Patient/1",
                           "user/Observation.r  user/Patient.r", ""), 0);
}


static void
test_needed(void **state)
{
    fhir_t  f;

    fhir_run(&f, &pol, "DELETE", "/Observation/1", 0);
    authorize_both(&pol, &f.req, f.params, f.n,
                   (u_char *) "patient/Observation.r", 21,
                   (u_char *) "", 0, &f.v);
    assert_int_equal(f.v.status, 403);
    assert_string_equal(f.v.needed, "patient/Observation.d");
    assert_string_equal(f.v.reason, "insufficient-scope");

    fhir_run(&f, &pol, "GET", "/_history", 0);
    authorize_both(&pol, &f.req, f.params, f.n,
                   (u_char *) "system/Patient.s", 16,
                   (u_char *) "", 0, &f.v);
    assert_string_equal(f.v.needed, "system/*.s");
}


static void
test_compartment(void **state)
{
    const char  *s = "patient/*.cruds";

    assert_int_equal(authz("GET", "/Patient/123", s, "123"), 0);
    assert_int_equal(authz("GET", "/Patient/123", s, ""), 403);
    assert_int_equal(authz("GET", "/Patient/123", s, "12/3"), 403);
    assert_int_equal(authz("GET", "/Patient/12", s, "123"), 403);
    assert_int_equal(authz("GET", "/Patient/1234", s, "123"), 403);
    assert_int_equal(authz("PUT", "/Patient/123", s, "123"), 0);
    assert_int_equal(authz("GET", "/Patient/123/_history/2", s, "123"), 0);
    assert_int_equal(authz("GET", "/Patient/123/Observation", s, "123"), 0);
    assert_int_equal(authz("GET", "/Patient/123/*", s, "123"), 0);
    assert_int_equal(authz("GET", "/Patient/124/*", s, "123"), 403);
    assert_int_equal(authz("GET", "/Encounter/123/Observation", s, "123"),
                     403);
    assert_int_equal(authz("GET", "/Observation?patient=123", s, "123"), 0);
    assert_int_equal(authz("GET", "/Observation?patient=Patient/123", s,
                           "123"), 0);
    assert_int_equal(authz("GET", "/Observation?patient:Patient=123", s,
                           "123"), 0);
    assert_int_equal(authz("GET", "/Observation?subject=Patient/123", s,
                           "123"), 0);
    assert_int_equal(authz("GET", "/Observation?subject:Patient=123", s,
                           "123"), 0);
    assert_int_equal(authz("GET", "/Patient?_id=123", s, "123"), 0);

    assert_int_equal(authz("GET", "/Observation?patient=12", s, "123"), 403);
    assert_int_equal(authz("GET", "/Observation?patient=1234", s, "123"),
                     403);
    assert_int_equal(authz("GET", "/Observation?patient=123,4", s, "123"),
                     403);
    assert_int_equal(authz("GET", "/Observation?patient=123&patient=4", s,
                           "123"), 403);
    assert_int_equal(authz("GET", "/Observation?subject=123", s, "123"),
                     403);
    assert_int_equal(authz("GET", "/Observation?subject=Group/x", s, "123"),
                     403);
    assert_int_equal(authz("GET",
                           "/Observation?patient=123&subject=Group/x", s,
                           "123"), 403);
    assert_int_equal(authz("GET", "/Observation?patient:identifier=123", s,
                           "123"), 403);
    assert_int_equal(authz("GET", "/Observation?patient.name=x", s, "123"),
                     403);
    assert_int_equal(authz("GET", "/Observation?patient=123&_include=x", s,
                           "123"), 403);
    assert_int_equal(authz("GET",
                           "/Observation?patient=123&_revinclude:iterate=x",
                           s, "123"), 403);
    assert_int_equal(authz("GET", "/Patient?_id=123&_has:Obs:p:c=x", s,
                           "123"), 403);
    assert_int_equal(authz("GET", "/Observation?code=x", s, "123"), 403);
    assert_int_equal(authz("GET", "/Patient?name=x", s, "123"), 403);
    assert_int_equal(authz("GET", "/Observation/o1", s, "123"), 403);
    assert_int_equal(authz("POST", "/Observation", s, "123"), 403);
    assert_int_equal(authz("GET", "/_history", s, "123"), 403);
    assert_int_equal(authz("GET", "?_type=Patient", s, "123"), 403);
    assert_int_equal(authz("GET", "/Observation/_history", s, "123"), 403);

    /* user/ next to patient/ lifts the compartment */
    assert_int_equal(authz("GET", "/Observation/o1",
                           "patient/*.rs user/Observation.r", "123"), 0);

    pol.unverifiable = 1;
    assert_int_equal(authz("GET", "/Observation/o1", s, "123"), 0);
    assert_int_equal(authz("GET", "/Patient/9", s, "123"), 403);
    pol.unverifiable = 0;
}


static void
test_granular(void **state)
{
    const char  *g = "patient/Observation.rs?category=laboratory";

    assert_int_equal(authz("GET", "/Observation?patient=1&category=laboratory",
                           g, "1"), 0);
    assert_int_equal(authz("GET", "/Observation?patient=1&category=lab", g,
                           "1"), 403);
    assert_int_equal(authz("GET", "/Observation?patient=1", g, "1"), 403);
    assert_int_equal(authz("GET", "/Observation?patient=1&category=laboratory"
                           "&category=x", g, "1"), 403);
    assert_int_equal(authz("GET", "/Observation?patient=1"
                           "&category=laboratory,x", g, "1"), 403);
    assert_int_equal(authz("GET", "/Observation?patient=1"
                           "&category=%6Caboratory", g, "1"), 0);
    assert_int_equal(authz("GET", "/Observation/o1",
                           "user/Observation.rs?category=laboratory", ""),
                     403);
    assert_int_equal(authz("GET", "/Observation?code=1&status=final",
                           "user/Observation.s?code=1&status=final", ""), 0);
    assert_int_equal(authz("GET", "/Observation?code=1",
                           "user/Observation.s?code=1&status=final", ""),
                     403);
}


static void
test_lenient(void **state)
{
    fhir_t  f;

    fhir_run(&f, &pol, "GET", "/Observation?patient=123", 0);
    f.req.lenient = 1;
    authorize_both(&pol, &f.req, f.params, f.n,
                   (u_char *) "patient/*.rs", 12, (u_char *) "123", 3,
                   &f.v);
    assert_int_equal(f.v.status, 403);

    fhir_run(&f, &pol, "GET", "/Observation?patient=123", 0);
    authorize_both(&pol, &f.req, f.params, f.n,
                   (u_char *) "patient/*.rs", 12, (u_char *) "123", 3,
                   &f.v);
    assert_int_equal(f.v.status, 0);
}


/* the patient compartment tables decide which parameter restricts */

static int
pc(unsigned version, const char *path, const char *scopes)
{
    fhir_t            f;
    fw_fhir_policy_t  p;

    p = pol;
    p.version = version;

    fhir_run(&f, &p, "GET", path, 0);

    if (f.rc != FW_FHIR_OK) {
        return (int) f.v.status;
    }

    authorize_both(&p, &f.req, f.params, f.n, (u_char *) scopes,
                   strlen(scopes), (u_char *) "123", 3, &f.v);

    return (int) f.v.status;
}


static void
test_compartment_tables(void **state)
{
    const char  *ps = "patient/*.rs";

    /* a type never in the compartment: no parameter restricts it */
    assert_int_equal(pc(FW_FHIR_R4, "/Medication?patient=123", ps), 403);
    assert_int_equal(pc(FW_FHIR_R4, "/Medication?patient=123",
                        "patient/*.rs user/Medication.s"), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Practitioner?patient=123", ps), 403);
    assert_int_equal(pc(FW_FHIR_R4, "/Device?patient=123", ps), 403);

    /* Patient has no "patient" or "subject" parameter; Group no patient */
    assert_int_equal(pc(FW_FHIR_R4, "/Patient?patient=123", ps), 403);
    assert_int_equal(pc(FW_FHIR_R4, "/Patient?subject=Patient/123", ps),
                     403);
    assert_int_equal(pc(FW_FHIR_R4, "/Patient?_id=123", ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Patient?link=Patient/123", ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Group?patient=123", ps), 403);
    assert_int_equal(pc(FW_FHIR_R4, "/Group?member=Patient/123", ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Group?member=123", ps), 403);

    /* tied by the compartment definition or by the name "patient" */
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?patient=123", ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?subject=Patient/123", ps),
                     0);
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?subject:Patient=123", ps),
                     0);
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?performer=Patient/123",
                        ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?subject=123", ps), 403);
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?patient:not=456", ps),
                     403);
    assert_int_equal(pc(FW_FHIR_R4,
                        "/Observation?patient=123&patient:missing=true",
                        ps), 403);
    /* a Patient reference not in the definition restricts nothing */
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?focus=Patient/123", ps),
                     403);
    assert_int_equal(pc(FW_FHIR_R4, "/Basic?subject=Patient/123", ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Condition?subject=Patient/123", ps),
                     0);
    assert_int_equal(pc(FW_FHIR_R4, "/Condition?asserter=Patient/123", ps),
                     0);
    /* no "patient" parameter: "subject" is not tied by it */
    assert_int_equal(pc(FW_FHIR_R4, "/Group?subject=Patient/123", ps), 403);
    assert_int_equal(pc(FW_FHIR_R4, "/Basic?patient=123", ps), 0);
    /* a conflict */
    assert_int_equal(pc(FW_FHIR_R4,
                        "/Observation?patient=123&subject=Patient/456", ps),
                     403);

    /* per version: R4B's Task is never in it, R4's and R5's is */
    assert_int_equal(pc(FW_FHIR_R4, "/Task?patient=123", ps), 0);
    assert_int_equal(pc(FW_FHIR_R4B, "/Task?patient=123", ps), 403);
    assert_int_equal(pc(FW_FHIR_R5, "/Task?patient=123", ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Encounter?subject=Patient/123", ps), 0);
    assert_int_equal(pc(FW_FHIR_R5, "/Encounter?subject=Patient/123", ps),
                     0);
    assert_int_equal(pc(FW_FHIR_R5, "/Encounter?participant=Patient/123",
                        ps), 403);

    /* compartment searches: a conflicting patient, a type outside */
    assert_int_equal(pc(FW_FHIR_R4, "/Patient/123/Observation", ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Patient/123/Observation?patient=123",
                        ps), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Patient/123/Observation?patient=456",
                        ps), 403);
    assert_int_equal(pc(FW_FHIR_R4,
                        "/Patient/123/Observation?subject=Patient/456", ps),
                     403);
    assert_int_equal(pc(FW_FHIR_R4, "/Patient/123/Observation?subject=456",
                        ps), 403);
    assert_int_equal(pc(FW_FHIR_R4, "/Patient/123/Medication", ps), 403);
    assert_int_equal(pc(FW_FHIR_R4, "/Patient/123/*", ps), 0);

    /* control parameters in another case: 400 wherever scopes are checked */
    assert_int_equal(pc(FW_FHIR_R4,
                        "/Observation?patient=123&_Include=Observation:x",
                        ps), 400);
    assert_int_equal(pc(FW_FHIR_R4,
                        "/Observation?patient=123&_revInclude=x:y",
                        "user/*.rs"), 400);
    assert_int_equal(pc(FW_FHIR_R4,
                        "/Observation?patient=123&_HAS:Group:member:_id=1",
                        "system/*.rs"), 400);
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?_lastupdated=gt2020",
                        "user/*.rs"), 400);
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?_lastUpdated=gt2020",
                        "user/*.rs"), 0);
    assert_int_equal(pc(FW_FHIR_R4, "/Observation?_include=x:y",
                        "user/*.rs"), 0);
}


static unsigned
bundle(const char *body, const char *scopes, const char *patient,
    int *interaction)
{
    fw_fhir_verdict_t  v;

    fw_fhir_verdict_init(&v);
    *interaction = FW_FHIR_I_BATCH;

    fw_fhir_check_bundle(&pol, (u_char *) body, strlen(body), scopes != NULL,
                         (u_char *) (scopes ? scopes : ""),
                         scopes ? strlen(scopes) : 0, (u_char *) patient,
                         strlen(patient), interaction, &v);

    return v.status;
}


#define B(type, entries)                                                     \
    "{\"resourceType\":\"Bundle\",\"type\":\"" type "\",\"entry\":["         \
    entries "]}"
#define E(m, u)                                                              \
    "{\"request\":{\"method\":\"" m "\",\"url\":\"" u "\"}}"


static void
test_bundle(void **state)
{
    int  i;

    assert_int_equal(bundle(B("batch", E("GET", "Patient/1")), NULL, "", &i),
                     0);
    assert_int_equal(i, FW_FHIR_I_BATCH);
    assert_int_equal(bundle(B("transaction", E("GET", "Patient/1")), NULL, "",
                              &i), 0);
    assert_int_equal(i, FW_FHIR_I_TRANSACTION);
    assert_int_equal(bundle(B("batch", ""), NULL, "", &i), 0);

    assert_int_equal(bundle(B("batch", E("GET", "Patient/1") ","
                              E("GET", "Patient/1;x")), NULL, "", &i), 400);
    assert_int_equal(bundle(B("batch", E("GET", "patient/1")), NULL, "", &i),
                     404);
    assert_int_equal(bundle(B("batch", E("POST", "")), NULL, "", &i), 400);
    assert_int_equal(bundle(B("batch", E("POST", "/")), NULL, "", &i), 400);
    assert_int_equal(bundle(B("batch", E("GET", "http://x/Patient/1")), NULL,
                              "", &i), 400);
    assert_int_equal(bundle(B("batch", E("GET", "Patient/%2F1")), NULL, "",
                              &i), 400);
    assert_int_equal(bundle(B("searchset", ""), NULL, "", &i), 400);
    assert_int_equal(bundle("{\"resourceType\":\"Bundle\"}", NULL, "", &i),
                     400);
    assert_int_equal(bundle("[]", NULL, "", &i), 400);
    assert_int_equal(bundle("{\"resourceType\":\"Bundle\",\"type\":\"batch\","
                            "\"entry\":[1]}", NULL, "", &i), 400);
    assert_int_equal(bundle("{\"resourceType\":\"Bundle\",\"type\":\"batch\","
                            "\"entry\":[{\"request\":{\"method\":1,"
                            "\"url\":\"Patient\"}}]}", NULL, "", &i), 400);

    assert_int_equal(bundle(B("batch", E("GET", "Patient/1") ","
                              E("DELETE", "Patient/1")),
                            "user/Patient.rs", "", &i), 403);
    assert_int_equal(bundle(B("batch", E("GET", "Patient/1") ","
                              E("DELETE", "Patient/1")),
                            "user/Patient.rds", "", &i), 0);
    assert_int_equal(bundle(B("batch", E("GET", "Observation?patient=7")),
                            "patient/*.rs", "7", &i), 0);
    assert_int_equal(bundle(B("batch", E("GET", "Observation?patient=77")),
                            "patient/*.rs", "7", &i), 403);

    pol.max_entries = 1;
    assert_int_equal(bundle(B("batch", E("GET", "Patient/1") ","
                              E("GET", "Patient/2")), NULL, "", &i), 413);
    pol.max_entries = 100;

    pol.interactions &= ~(1UL << FW_FHIR_I_TRANSACTION);
    assert_int_equal(bundle(B("transaction", ""), NULL, "", &i), 405);
    pol.interactions |= 1UL << FW_FHIR_I_TRANSACTION;
}


/* every scope string against every request: both paths agree */

static void
test_set_equivalence(void **state)
{
    size_t       i, j, k;
    fhir_t       f;
    const char  *scopes[] = {
        "",
        " \t ",
        "openid fhirUser launch/patient offline_access",
        "openid fhirUser launch/patient offline_access patient/Patient.rs "
        "patient/Condition.rs patient/Observation.rs?category=laboratory",
        "user/*.read system/Patient.write",
        "patient/*.cruds",
        "patient/Observation.rs?category=laboratory&status=final",
        "patient/Observation.rs?category=%6Caboratory",
        "patient/Observation.rs?category=a%2",
        "patient/Observation.rs?=x user/Patient.r",
        "patient/Observation.rs?&",
        "patient/Observation.r? user/Observation.s",
        "user/Observation.rs?code=a.b patient/Observation.READ",
        "admin/Patient.r launch/patient patient/Obs/x.rs",
        "user/ActorDefinition.r user/Patient.cd  user/Patient.u",
        "system/Observation.s?patient=Patient/pat-123 patient/Patient.rs",
        "patient/Patient.r user/Patient.s",
        "user/patient.r patient/.r patient/Patient. /Patient.r",
        "patient/*.rs?category=laboratory user/Condition.rs",
        "  patient/Patient.read   user/Encounter.*  ",
    };
    const char  *reqs[] = {
        "GET /metadata",
        "GET /Patient/pat-123",
        "GET /Patient/other",
        "GET /Observation/1",
        "GET /Observation?patient=Patient/pat-123&category=laboratory",
        "GET /Observation?patient=pat-123&category=laboratory&status=final",
        "GET /Observation?patient=pat-12&category=laboratory",
        "GET /Observation?subject=Patient/pat-123&category=vital-signs",
        "GET /Observation?patient=pat-123&_include=Observation:subject",
        "GET /Observation?code=a.b",
        "GET /Patient/pat-123/Observation?category=laboratory",
        "GET /Patient?_id=pat-123",
        "GET /_history",
        "GET /Patient/pat-123/$everything",
        "GET /Patient/1/$versions",
        "GET /Patient/$match",
        "POST /Patient",
        "PUT /Patient/pat-123",
        "PUT /Patient?identifier=1",
        "DELETE /Observation/1",
        "POST /",
    };
    const char  *patients[] = { "", "pat-123", "bad/id" };
    char         method[8];
    const char  *sp, *url;

    for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        sp = strchr(reqs[i], ' ');
        memcpy(method, reqs[i], sp - reqs[i]);
        method[sp - reqs[i]] = '\0';
        url = sp + 1;

        for (j = 0; j < sizeof(scopes) / sizeof(scopes[0]); j++) {
            for (k = 0; k < 3; k++) {
                if (fhir_run(&f, &pol, method, url, 0) != FW_FHIR_OK) {
                    fail_msg("%s does not parse", reqs[i]);
                }

                authorize_both(&pol, &f.req, f.params, f.n,
                               (u_char *) scopes[j], strlen(scopes[j]),
                               (u_char *) patients[k], strlen(patients[k]),
                               &f.v);
            }
        }
    }
}


static void
test_scope_set(void **state)
{
    const char  *s;

#define SET(str)  fw_fhir_scope_set_parse(&set1, (u_char *) (str),          \
                                          strlen(str))

    s = "openid launch/patient user/Patient.rs patient/Observation.rs"
        "?category=laboratory&code=%6C1 user/Bogus.r patient/*.s?";
    assert_int_equal(SET(s), FW_FHIR_OK);
    assert_true(set1.any);
    assert_int_equal(set1.hint, 'p');
    assert_int_equal(set1.nscopes, 2);
    assert_int_equal(set1.scopes[0].context, 'u');
    assert_int_equal(set1.scopes[0].nparams, 0);
    assert_int_equal(set1.scopes[1].context, 'p');
    assert_int_equal(set1.scopes[1].perms, FW_FHIR_P_R | FW_FHIR_P_S);
    assert_int_equal(set1.scopes[1].nparams, 2);
    assert_int_equal(set1.nparams, 2);
    assert_int_equal(set1.params[1].value.len, 2);
    assert_memory_equal(set1.params[1].value.data, "l1", 2);

    /* the parameters point into the set's own copy */
    assert_true(set1.params[0].name.data >= set1.str
                && set1.params[0].name.data < set1.str + set1.len);
    assert_true(set1.params[1].value.data >= set1.buf
                && set1.params[1].value.data < set1.buf + sizeof(set1.buf));

    assert_int_equal(SET("user/Observation.s?a=%zz"), FW_FHIR_OK);
    assert_int_equal(set1.scopes[0].nparams, FW_FHIR_SC_NEVER);

    assert_int_equal(SET(" \t "), FW_FHIR_OK);
    assert_false(set1.any);
    assert_int_equal(set1.hint, 0);
    assert_int_equal(SET("system/Patient.r user/Patient.r"), FW_FHIR_OK);
    assert_int_equal(set1.hint, 's');

#undef SET
}


static void
test_scope_cache(void **state)
{
    size_t                      i;
    char                        big[FW_FHIR_SC_STR_MAX + 2];
    const char                 *a, *b;
    fw_fhir_scope_cache_t       c;
    const fw_fhir_scope_set_t  *s1, *s2;

#define GET(str)  fw_fhir_scope_cache_get(&c, (u_char *) (str), strlen(str))
#define GETH(h, str)                                                        \
    fw_fhir_scope_cache_get_hashed(&c, h, (u_char *) (str), strlen(str))

    a = "patient/Patient.rs patient/Observation.rs?category=laboratory";
    b = "patient/Patient.rs patient/Observation.rs?category=vital-signs";

    /* miss, then hit */
    fw_fhir_scope_cache_init(&c, slots, 4);
    s1 = GET(a);
    assert_non_null(s1);
    assert_int_equal(c.misses, 1);
    assert_int_equal(c.hits, 0);
    s2 = GET(a);
    assert_ptr_equal(s1, s2);
    assert_int_equal(c.hits, 1);
    assert_int_equal(c.evictions, 0);
    assert_int_equal(s1->nscopes, 2);

    /* the same hash, other bytes: a miss that replaces the slot */
    fw_fhir_scope_cache_init(&c, slots, 4);
    s1 = GETH(7, a);
    assert_non_null(s1);
    assert_int_equal(s1->params[0].value.len, 10);
    s2 = GETH(7, b);
    assert_non_null(s2);
    assert_int_equal(c.hits, 0);
    assert_int_equal(c.misses, 2);
    assert_int_equal(c.evictions, 1);
    assert_int_equal(s2->params[0].value.len, 11);
    assert_memory_equal(s2->params[0].value.data, "vital-signs", 11);
    s1 = GETH(7, a);
    assert_int_equal(c.hits, 0);
    assert_int_equal(s1->params[0].value.len, 10);

    /* same hash and length, one byte apart */
    s1 = GETH(9, "user/Patient.r");
    s2 = GETH(9, "user/Patient.s");
    assert_int_equal(c.hits, 0);
    assert_int_equal(s2->scopes[0].perms, FW_FHIR_P_S);

    /* another slot keeps its set */
    fw_fhir_scope_cache_init(&c, slots, 4);
    GETH(1, a);
    GETH(2, b);
    assert_int_equal(c.evictions, 0);
    s1 = GETH(1, a);
    s2 = GETH(2, b);
    assert_int_equal(c.hits, 2);
    assert_ptr_not_equal(s1, s2);

    /* eviction: a one-slot cache holds the last string only */
    fw_fhir_scope_cache_init(&c, slots, 1);
    GET(a);
    GET(b);
    assert_int_equal(c.evictions, 1);
    GET(b);
    assert_int_equal(c.hits, 1);
    s1 = GET(a);
    assert_int_equal(c.evictions, 2);
    assert_int_equal(c.hits, 1);
    assert_memory_equal(s1->str, a, strlen(a));

    /* the last set is tried first, and only for the very same bytes */
    fw_fhir_scope_cache_init(&c, slots, 4);
    s1 = GET(a);
    assert_ptr_equal(c.last, s1);
    assert_ptr_equal(GET(a), s1);
    assert_int_equal(c.hits, 1);

    /* a string in another slot */
    for (i = 0; i < sizeof(big) - 1; i++) {
        big[i] = 'a' + i % 26;
        big[i + 1] = '\0';

        if (fw_fhir_scope_hash((u_char *) big, i + 1) % 4
            != fw_fhir_scope_hash((u_char *) a, strlen(a)) % 4)
        {
            break;
        }
    }

    s2 = GET(big);
    assert_ptr_not_equal(s1, s2);
    assert_ptr_equal(c.last, s2);
    assert_ptr_equal(GET(a), s1);
    assert_int_equal(c.hits, 2);
    assert_ptr_equal(c.last, s1);

    /* ... and its slot taken by another string is no hit for the old one */
    fw_fhir_scope_cache_init(&c, slots, 1);
    GET(a);
    GETH(5, b);
    s1 = GET(a);
    assert_int_equal(c.hits, 0);
    assert_int_equal(c.misses, 3);
    assert_int_equal(s1->len, strlen(a));
    assert_memory_equal(s1->str, a, strlen(a));
    assert_int_equal(s1->params[0].value.len, 10);

    /* too long, too many scopes: not cached, and the slot is not kept */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fw_fhir_scope_cache_init(&c, slots, 1);
    assert_null(GET(big));
    assert_int_equal(c.uncached, 1);

    for (i = 0; i + 15 < sizeof(big) && i / 15 <= FW_FHIR_SC_SCOPES_MAX;
         i += 15)
    {
        memcpy(big + i, "user/Patient.r ", 15);
    }

    big[i] = '\0';
    GET(a);
    assert_null(GET(big));
    assert_int_equal(c.uncached, 2);
    assert_false(slots[0].used);
    GET(a);
    assert_int_equal(c.hits, 0);

    /* no slots: every string is parsed by the caller */
    fw_fhir_scope_cache_init(&c, NULL, 0);
    assert_null(GET(a));

    /* the empty string is a set too: no scope at all */
    fw_fhir_scope_cache_init(&c, slots, 4);
    s1 = GET("");
    assert_non_null(s1);
    assert_false(s1->any);
    assert_ptr_equal(GET(""), s1);

    /* the hash sees every byte */
    assert_int_not_equal(fw_fhir_scope_hash((u_char *) a, strlen(a)),
                         fw_fhir_scope_hash((u_char *) b, strlen(b)));
    assert_int_not_equal(fw_fhir_scope_hash((u_char *) "ab", 2),
                         fw_fhir_scope_hash((u_char *) "ba", 2));

#undef GET
#undef GETH
}



int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_scope),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_needed),
        cmocka_unit_test(test_compartment),
        cmocka_unit_test(test_granular),
        cmocka_unit_test(test_lenient),
        cmocka_unit_test(test_compartment_tables),
        cmocka_unit_test(test_bundle),
        cmocka_unit_test(test_set_equivalence),
        cmocka_unit_test(test_scope_set),
        cmocka_unit_test(test_scope_cache),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
