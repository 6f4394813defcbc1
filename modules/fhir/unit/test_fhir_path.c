/* FHIR core: path decoding, path parser, classifier, query, policy */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fhir_unit.h"


static fw_fhir_policy_t  pol;


static int
setup(void **state)
{
    fhir_policy(&pol, FW_FHIR_R4);
    return 0;
}


static void
expect(const char *method, const char *url, int interaction,
    const char *type)
{
    fhir_t  f;

    if (fhir_run(&f, &pol, method, url, 0) != FW_FHIR_OK) {
        fail_msg("%s %s: %u %s", method, url, f.v.status, f.v.diag);
    }

    assert_string_equal(fw_fhir_interaction_names[f.req.interaction],
                        fw_fhir_interaction_names[interaction]);

    if (type) {
        assert_true(f.req.type >= 0);
        assert_string_equal(fw_fhir_types[f.req.type].name, type);

    } else {
        assert_true(f.req.type < 0);
    }
}


static void
expect_status(const char *method, const char *url, unsigned status)
{
    fhir_t  f;

    fhir_run(&f, &pol, method, url, 0);

    if (f.v.status != status) {
        fail_msg("%s %s: %u, expected %u (%s)", method, url, f.v.status,
                 status, f.v.diag);
    }
}


static void
test_interaction_table(void **state)
{
    fhir_t  f;

    expect("GET", "/metadata", FW_FHIR_I_CAPABILITIES, NULL);
    expect("POST", "", FW_FHIR_I_BATCH, NULL);
    expect("POST", "/", FW_FHIR_I_BATCH, NULL);
    expect("GET", "?_type=Patient", FW_FHIR_I_SEARCH_SYSTEM, NULL);
    expect("POST", "/_search", FW_FHIR_I_SEARCH_SYSTEM, NULL);
    expect("GET", "/_history", FW_FHIR_I_HISTORY_SYSTEM, NULL);
    expect("GET", "/$export", FW_FHIR_I_OPERATION_SYSTEM, NULL);
    expect("POST", "/$export", FW_FHIR_I_OPERATION_SYSTEM, NULL);
    expect("POST", "/Patient", FW_FHIR_I_CREATE, "Patient");
    expect("GET", "/Patient", FW_FHIR_I_SEARCH_TYPE, "Patient");
    expect("POST", "/Patient/_search", FW_FHIR_I_SEARCH_TYPE, "Patient");
    expect("PUT", "/Patient?identifier=1", FW_FHIR_I_CONDITIONAL_UPDATE,
           "Patient");
    expect("PATCH", "/Patient?identifier=1", FW_FHIR_I_CONDITIONAL_PATCH,
           "Patient");
    expect("DELETE", "/Patient?identifier=1", FW_FHIR_I_CONDITIONAL_DELETE,
           "Patient");
    expect("GET", "/Patient/_history", FW_FHIR_I_HISTORY_TYPE, "Patient");
    expect("GET", "/Patient/$match", FW_FHIR_I_OPERATION_TYPE, "Patient");
    expect("GET", "/Patient/1", FW_FHIR_I_READ, "Patient");
    expect("HEAD", "/Patient/1", FW_FHIR_I_READ, "Patient");
    expect("PUT", "/Patient/1", FW_FHIR_I_UPDATE, "Patient");
    expect("PATCH", "/Patient/1", FW_FHIR_I_PATCH, "Patient");
    expect("DELETE", "/Patient/1", FW_FHIR_I_DELETE, "Patient");
    expect("GET", "/Patient/1/_history", FW_FHIR_I_HISTORY_INSTANCE,
           "Patient");
    expect("GET", "/Patient/1/_history/2", FW_FHIR_I_VREAD, "Patient");
    expect("POST", "/Patient/1/$everything", FW_FHIR_I_OPERATION_INSTANCE,
           "Patient");
    expect("GET", "/Patient/1/*", FW_FHIR_I_SEARCH_COMPARTMENT, NULL);
    expect("GET", "/Patient/1/Observation", FW_FHIR_I_SEARCH_COMPARTMENT,
           "Observation");
    expect("POST", "/Patient/1/_search", FW_FHIR_I_SEARCH_COMPARTMENT, NULL);
    expect("POST", "/Patient/1/Observation/_search",
           FW_FHIR_I_SEARCH_COMPARTMENT, "Observation");

    fhir_run(&f, &pol, "POST", "/Patient", 1);
    assert_int_equal(f.req.interaction, FW_FHIR_I_CONDITIONAL_CREATE);

    fhir_run(&f, &pol, "GET", "/Patient/1/_history/v2", 0);
    assert_int_equal(f.req.vid.len, 2);
    assert_memory_equal(f.req.vid.data, "v2", 2);

    fhir_run(&f, &pol, "POST", "/Patient/1/$everything", 0);
    assert_int_equal(f.req.op.len, 10);
    assert_memory_equal(f.req.op.data, "everything", 10);
    assert_int_equal(f.req.patient.len, 1);

    fhir_run(&f, &pol, "GET", "/Patient/p1/Observation", 0);
    assert_string_equal(fw_fhir_types[f.req.compartment].name, "Patient");
    assert_memory_equal(f.req.id.data, "p1", 2);
}


static void
test_methods(void **state)
{
    expect_status("DELETE", "/metadata", 405);
    expect_status("PUT", "/Patient", 405);
    expect_status("PUT", "/Patient?_format=json", 405);
    expect_status("DELETE", "/Patient?_summary=true", 405);
    expect_status("POST", "/Patient/1", 405);
    expect_status("GET", "/Patient/_search", 405);
    expect_status("GET", "/_search", 405);
    expect_status("DELETE", "", 405);
    expect_status("OPTIONS", "/Patient", 405);
    expect_status("POST", "/Patient/1/_history", 405);
    expect_status("GET", "/Patient/1/_search", 405);
    expect_status("DELETE", "/Patient/1/$everything", 405);
}


static void
test_path_tricks(void **state)
{
    static const char  *bad[] = {
        "/Patient%2F1", "/Patient%2f1", "/Patient%252F1", "/Patient/1%00",
        "/Patient/%2e%2e/x", "/Patient/../Observation/1", "/./Patient",
        "/Patient/.", "/Patient/1;x", "/Patient/1%3B", "/Patient\\1",
        "/Patient%5C1", "/Patient/", "//Patient", "/Patient//1",
        "/Patient/1/", "/Patient/1/_history/", "/Patient/%24everything",
        "/Patient/1 ", "/Patient/caf\xc3\xa9", "/Patient/1%C3%A9",
        "/Patient/a_b", "/Patient/1/_history/2/3", "/Patient/1/Observation/2",
        "/Observation/1/Patient", "/_foo", "/Patient/$", "/Patient/$1x",
        "/Patient/1%", "/Patient/1%4", "/Patient/1%G1", "/metadata/x",
        "/Patient/1/$everything/x", "/Patient/1?x=%zz", "/Patient?x=%00",
        "/Patient?=1", "/Patient?a=b#c",
        "/Patient/"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaa",
        NULL
    };
    const char  **p;

    for (p = bad; *p; p++) {
        expect_status("GET", *p, 400);
    }

    expect_status("GET",
        "/Patient/"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaa",
        0);
    expect_status("GET", "/P%61tient/%41-.b", 0);
    expect_status("GET", "/patient/1", 404);
    expect_status("GET", "/PATIENT", 404);
    expect_status("GET", "/Patient/1/observation", 404);
    expect_status("GET", "/Nope", 404);
}


static void
test_versions(void **state)
{
    fw_fhir_policy_t  p4b, p5;
    fhir_t            f;

    fhir_policy(&p4b, FW_FHIR_R4B);
    fhir_policy(&p5, FW_FHIR_R5);

    assert_int_equal(fhir_run(&f, &pol, "GET", "/MedicinalProduct/1", 0),
                     FW_FHIR_OK);
    fhir_run(&f, &p4b, "GET", "/MedicinalProduct/1", 0);
    assert_int_equal(f.v.status, 404);
    assert_int_equal(fhir_run(&f, &p4b, "GET", "/SubscriptionTopic", 0),
                     FW_FHIR_OK);
    fhir_run(&f, &p5, "GET", "/DeviceUseStatement", 0);
    assert_int_equal(f.v.status, 404);
    assert_int_equal(fhir_run(&f, &p5, "GET", "/DeviceUsage", 0), FW_FHIR_OK);

    /* EpisodeOfCare is a compartment in R5 only */
    fhir_run(&f, &pol, "GET", "/EpisodeOfCare/1/Observation", 0);
    assert_int_equal(f.v.status, 400);
    assert_int_equal(fhir_run(&f, &p5, "GET", "/EpisodeOfCare/1/Observation",
                              0), FW_FHIR_OK);

    assert_int_equal(fw_fhir_version((u_char *) "r4b", 3), FW_FHIR_R4B);
    assert_int_equal(fw_fhir_version((u_char *) "R6", 2), 0);
    assert_int_equal(fw_fhir_version((u_char *) "R", 1), 0);
}


static int
target(const char *raw, const char *uri, const char *args)
{
    u_char             scratch[128];
    fw_fhir_str_t      path, query;
    fw_fhir_verdict_t  v;

    fw_fhir_verdict_init(&v);

    if (fw_fhir_check_target((u_char *) raw, strlen(raw), (u_char *) uri,
                             strlen(uri), (u_char *) args, strlen(args),
                             scratch, &path, &query, &v)
        != FW_FHIR_OK)
    {
        assert_int_equal(v.status, 400);
        return -1;
    }

    assert_int_equal(path.len, strlen(uri));
    assert_memory_equal(path.data, uri, path.len);
    assert_int_equal(query.len, strlen(args));

    return 0;
}


static void
test_target(void **state)
{
    assert_int_equal(target("/fhir/Patient/1", "/fhir/Patient/1", ""), 0);
    assert_int_equal(target("/fhir/Patient/%31?a=b", "/fhir/Patient/1",
                            "a=b"), 0);
    assert_int_equal(target("/fhir/Patient?", "/fhir/Patient", ""), 0);

    /* nginx ends its args at '#'; the raw line goes on */
    assert_int_equal(target("/fhir/O?patient=1#,2", "/fhir/O", "patient=1"),
                     -1);
    assert_int_equal(target("/fhir/O?patient=1#", "/fhir/O", "patient=1"),
                     -1);
    assert_int_equal(target("/fhir/P/1#/../2", "/fhir/P/1", ""), -1);

    /* nginx's rewrites of the path */
    assert_int_equal(target("/fhir//P/1", "/fhir/P/1", ""), -1);
    assert_int_equal(target("/fhir/./P/1", "/fhir/P/1", ""), -1);
    assert_int_equal(target("/fhir/P/2/../1", "/fhir/P/1", ""), -1);
    assert_int_equal(target("/fhir/P/2/%2E%2E/1", "/fhir/P/1", ""), -1);
    assert_int_equal(target("?a=b", "/", "a=b"), -1);

    /* args or a path changed after parsing (set $args, rewrite) */
    assert_int_equal(target("/fhir/O?patient=2", "/fhir/O", "patient=1"),
                     -1);
    assert_int_equal(target("/fhir/O", "/fhir/O", "patient=1"), -1);
    assert_int_equal(target("/fhir/O?patient=1", "/fhir/P", "patient=1"),
                     -1);

    /* escapes of reserved bytes never */
    assert_int_equal(target("/fhir/P/1%3Fa", "/fhir/P/1?a", ""), -1);
    assert_int_equal(target("/fhir/P/1%23a", "/fhir/P/1#a", ""), -1);
}


static void
test_query(void **state)
{
    fhir_t             f;
    u_char             buf[64];
    size_t             n;
    fw_fhir_param_t    params[4];
    fw_fhir_verdict_t  v;

    fhir_run(&f, &pol, "GET", "/Observation?a=1&&b=%32&c&d=x=y", 0);
    assert_int_equal(f.rc, FW_FHIR_OK);
    assert_int_equal(f.n, 4);
    assert_memory_equal(f.params[1].value.data, "2", 1);
    assert_int_equal(f.params[2].value.len, 0);
    assert_int_equal(f.params[3].value.len, 3);

    /* '+' is a space in form bodies only */
    n = 0;
    assert_int_equal(fw_fhir_parse_query((u_char *) "a=b+c", 5, 1, buf,
                                         params, 4, &n, &v), FW_FHIR_OK);
    assert_memory_equal(params[0].value.data, "b c", 3);
    n = 0;
    assert_int_equal(fw_fhir_parse_query((u_char *) "a=b+c", 5, 0, buf,
                                         params, 4, &n, &v), FW_FHIR_OK);
    assert_memory_equal(params[0].value.data, "b+c", 3);

    /* ';' splits pairs for some servers, '+' in a name is a space to some */
    n = 0;
    assert_int_equal(fw_fhir_parse_query((u_char *) "a=1;b=2", 7, 0, buf,
                                         params, 4, &n, &v), FW_FHIR_ERROR);
    n = 0;
    assert_int_equal(fw_fhir_parse_query((u_char *) "a+b=1", 5, 0, buf,
                                         params, 4, &n, &v), FW_FHIR_ERROR);
    n = 0;
    assert_int_equal(fw_fhir_parse_query((u_char *) "a%3Bb=1", 7, 0, buf,
                                         params, 4, &n, &v), FW_FHIR_OK);

    /* the limit */
    n = 0;
    assert_int_equal(fw_fhir_parse_query((u_char *) "a&b&c&d&e", 9, 0, buf,
                                         params, 4, &n, &v), FW_FHIR_ERROR);
    assert_int_equal(v.status, 400);
}


/* pairs without escapes point into the query; escaped ones are decoded */

static void
test_query_in_place(void **state)
{
    char               q[40];
    u_char             buf[64];
    size_t             n, i, len;
    const char        *s;
    fw_fhir_param_t    params[4];
    fw_fhir_verdict_t  v;

#define QP(str, form, scratch, max)                                          \
    (n = 0, fw_fhir_parse_query((u_char *) (str), strlen(str), form,         \
                                scratch, params, max, &n, &v))

    s = "patient=Patient/p1&b=%32&c&d=x=y";
    assert_int_equal(QP(s, 0, buf, 4), FW_FHIR_OK);
    assert_int_equal(n, 4);
    assert_ptr_equal(params[0].name.data, s);
    assert_int_equal(params[0].name.len, 7);
    assert_ptr_equal(params[0].value.data, s + 8);
    assert_int_equal(params[0].value.len, 10);
    assert_ptr_equal(params[1].name.data, buf);
    assert_memory_equal(params[1].value.data, "2", 1);
    assert_int_equal(params[2].name.len, 1);
    assert_int_equal(params[2].value.len, 0);
    assert_memory_equal(params[3].value.data, "x=y", 3);

    /* no escape: no scratch needed */
    assert_int_equal(QP("a=1&bb=22&&ccc", 0, NULL, 4), FW_FHIR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(params[2].name.len, 3);

    /* decoded '=' and '&' are data, the raw ones split */
    assert_int_equal(QP("a%3Db=c%26d=e", 0, buf, 4), FW_FHIR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(params[0].name.len, 3);
    assert_memory_equal(params[0].name.data, "a=b", 3);
    assert_int_equal(params[0].value.len, 5);
    assert_memory_equal(params[0].value.data, "c&d=e", 5);
    assert_int_equal(QP("a=", 0, NULL, 4), FW_FHIR_OK);
    assert_int_equal(params[0].value.len, 0);
    assert_int_equal(QP("a+b=c+d", 1, buf, 4), FW_FHIR_OK);
    assert_memory_equal(params[0].name.data, "a b", 3);
    assert_memory_equal(params[0].value.data, "c d", 3);

    assert_int_equal(QP("=x", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=1&=x", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=%4", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=%4&b", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=%zz", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=%00", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=b c", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=b#c", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=\x80", 0, buf, 4), FW_FHIR_ERROR);
    assert_int_equal(QP("a=\x7f", 0, buf, 4), FW_FHIR_ERROR);

    /* the limit is met before a later pair is looked at */
    assert_int_equal(QP("a&b&c&d&e f", 0, buf, 4), FW_FHIR_ERROR);
    assert_string_equal(v.code, "too-costly");

    /* a bad byte at every position of a plain run (four bytes a step) */
    for (len = 1; len < 14; len++) {
        for (i = 0; i < len; i++) {
            memset(q, 'x', len);
            q[len] = '\0';
            q[i] = ' ';
            assert_int_equal(QP(q, 0, NULL, 4), FW_FHIR_ERROR);
            q[i] = '=';
            assert_int_equal(QP(q, 0, NULL, 4),
                             i == 0 ? FW_FHIR_ERROR : FW_FHIR_OK);

            if (i) {
                assert_int_equal(params[0].name.len, i);
                assert_int_equal(params[0].value.len, len - i - 1);
            }
        }
    }

#undef QP
}


static void
test_plain_path(void **state)
{
    char    p[16];
    size_t  len, i;

#define PP(s)  fw_fhir_plain_path((u_char *) (s), strlen(s))

    assert_int_equal(PP("/fhir/Patient/1/$everything"), 1);
    assert_int_equal(PP("/fhir/Patient/*_-.~"), 1);
    assert_int_equal(PP(""), 1);
    assert_int_equal(PP("/fhir/Patient%2F1"), 0);
    assert_int_equal(PP("/fhir/Pat;ient"), 0);
    assert_int_equal(PP("/fhir/Pat\\ient"), 0);
    assert_int_equal(PP("/fhir/Pat\x80"), 0);

    for (len = 1; len < 14; len++) {
        for (i = 0; i < len; i++) {
            memset(p, 'a', len);
            p[len] = '\0';
            p[i] = '%';
            assert_int_equal(PP(p), 0);
        }
    }

#undef PP
}


static void
test_patient_var(void **state)
{
    fhir_t  f;

    fhir_run(&f, &pol, "GET", "/Observation?patient=Patient/p1", 0);
    assert_int_equal(f.req.patient.len, 2);
    fhir_run(&f, &pol, "GET", "/Observation?subject=Patient/p1&patient=p1",
             0);
    assert_int_equal(f.req.patient.len, 2);
    fhir_run(&f, &pol, "GET", "/Observation?subject=p1", 0);
    assert_int_equal(f.req.patient.len, 0);
    fhir_run(&f, &pol, "GET", "/Observation?patient=p1&patient=p2", 0);
    assert_int_equal(f.req.patient.len, 0);
    fhir_run(&f, &pol, "GET", "/Observation?patient=p1,p2", 0);
    assert_int_equal(f.req.patient.len, 0);
    fhir_run(&f, &pol, "GET", "/Patient?_id=p7", 0);
    assert_memory_equal(f.req.patient.data, "p7", 2);
    fhir_run(&f, &pol, "GET", "/Observation?_id=p7", 0);
    assert_int_equal(f.req.patient.len, 0);
    fhir_run(&f, &pol, "GET", "/Encounter/e1/Observation?patient=p1", 0);
    assert_int_equal(f.req.patient.len, 0);
}


static void
test_policy(void **state)
{
    fw_fhir_policy_t  p;
    fhir_t            f;
    u_char            allow[FW_FHIR_TYPE_BITMAP];
    int               t;
    fw_fhir_str_t     ops[1] = { { (u_char *) "everything", 10 } };
    fw_fhir_str_t     fmts[1] = { { (u_char *) "application/fhir+json", 21 } };

    fhir_policy(&p, FW_FHIR_R4);
    memset(allow, 0, sizeof(allow));
    t = fw_fhir_type_lookup(FW_FHIR_R4, (u_char *) "Patient", 7);
    allow[t >> 3] |= 1 << (t & 7);
    p.type_allow = allow;
    p.op_allow = ops;
    p.n_op_allow = 1;
    p.formats = fmts;
    p.n_formats = 1;
    p.interactions &= ~(1UL << FW_FHIR_I_DELETE);
    p.deny_status = 403;

    assert_int_equal(fhir_run(&f, &p, "GET", "/Patient/1", 0), FW_FHIR_OK);
    fhir_run(&f, &p, "GET", "/Observation/1", 0);
    assert_int_equal(f.v.status, 404);
    fhir_run(&f, &p, "GET", "/Patient/1/Observation", 0);
    assert_int_equal(f.v.status, 404);
    fhir_run(&f, &p, "DELETE", "/Patient/1", 0);
    assert_int_equal(f.v.status, 403);
    assert_int_equal(fhir_run(&f, &p, "GET", "/Patient/1/$everything", 0),
                     FW_FHIR_OK);
    fhir_run(&f, &p, "GET", "/Patient/1/$meta", 0);
    assert_int_equal(f.v.status, 403);
    assert_int_equal(fhir_run(&f, &p, "GET",
                              "/Patient/1?_format=application/fhir+json", 0),
                     FW_FHIR_OK);
    fhir_run(&f, &p, "GET", "/Patient/1?_format=json", 0);
    assert_int_equal(f.v.status, 400);

    assert_int_equal(fw_fhir_interaction_mask((u_char *) "search", 6),
                     1UL << FW_FHIR_I_SEARCH_SYSTEM
                     | 1UL << FW_FHIR_I_SEARCH_TYPE
                     | 1UL << FW_FHIR_I_SEARCH_COMPARTMENT);
    assert_int_equal(fw_fhir_interaction_mask((u_char *) "read", 4),
                     1UL << FW_FHIR_I_READ);
    assert_int_equal(fw_fhir_interaction_mask((u_char *) "sear", 4), 0);
    assert_int_equal(fw_fhir_interaction_mask((u_char *) "create", 6),
                     1UL << FW_FHIR_I_CREATE);
}


static void
test_ids(void **state)
{
    assert_true(fw_fhir_valid_id((u_char *) "a-B.9", 5));
    assert_false(fw_fhir_valid_id((u_char *) "", 0));
    assert_false(fw_fhir_valid_id((u_char *) "a_b", 3));
    assert_false(fw_fhir_valid_id((u_char *) "a/b", 3));
    assert_true(fw_fhir_valid_op((u_char *) "validate-code", 13));
    assert_false(fw_fhir_valid_op((u_char *) "1x", 2));
    assert_false(fw_fhir_valid_op((u_char *) "", 0));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_interaction_table),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_path_tricks),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_query_in_place),
        cmocka_unit_test(test_plain_path),
        cmocka_unit_test(test_patient_var),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_ids),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
