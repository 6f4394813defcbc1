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


/* the status an authorization gives: 0 allowed */

static unsigned
authz(const char *method, const char *url, const char *scopes,
    const char *patient)
{
    fhir_t  f;

    if (fhir_run(&f, &pol, method, url, 0) != FW_FHIR_OK) {
        fail_msg("%s %s does not parse: %s", method, url, f.v.diag);
    }

    fw_fhir_authorize(&pol, &f.req, f.params, f.n, (u_char *) scopes,
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
    fw_fhir_authorize(&pol, &f.req, f.params, f.n,
                      (u_char *) "patient/Observation.r", 21,
                      (u_char *) "", 0, &f.v);
    assert_int_equal(f.v.status, 403);
    assert_string_equal(f.v.needed, "patient/Observation.d");
    assert_string_equal(f.v.reason, "insufficient-scope");

    fhir_run(&f, &pol, "GET", "/_history", 0);
    fw_fhir_authorize(&pol, &f.req, f.params, f.n,
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

    fhir_run(&f, &pol, "GET", "/Medication?patient=123", 0);
    f.req.lenient = 1;
    fw_fhir_authorize(&pol, &f.req, f.params, f.n,
                      (u_char *) "patient/*.rs", 12, (u_char *) "123", 3,
                      &f.v);
    assert_int_equal(f.v.status, 403);

    fhir_run(&f, &pol, "GET", "/Medication?patient=123", 0);
    fw_fhir_authorize(&pol, &f.req, f.params, f.n,
                      (u_char *) "patient/*.rs", 12, (u_char *) "123", 3,
                      &f.v);
    assert_int_equal(f.v.status, 0);
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
        cmocka_unit_test(test_bundle),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
