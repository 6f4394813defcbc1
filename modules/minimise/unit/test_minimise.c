/* minimise core: profiles, the streaming filter, the query rewrite */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fw_minimise.h"


#define TAG "{\"system\":\"http://terminology.hl7.org/CodeSystem/" \
            "v3-ObservationValue\",\"code\":\"SUBSETTED\"}"


static fw_min_profile_t  sh, el, none;


/*
 * Filters "in" fed in chunks of "chunk" bytes (0: whole) into output
 * buffers of "cap" bytes; returns the output (malloc) or NULL on error
 * (*err says why).
 */
static char *
run(const fw_min_profile_t *p, const char *in, size_t len, size_t chunk,
    size_t cap, const char **err)
{
    int               rc;
    char             *res;
    size_t            off, n, used, size;
    u_char           *buf, *o;
    const u_char     *ip, *end;
    fw_min_filter_t  *f;

    f = malloc(sizeof(fw_min_filter_t));
    fw_min_filter_init(f, p);
    size = 64;
    res = malloc(size);
    used = 0;
    buf = malloc(cap);
    rc = FW_MIN_AGAIN;
    *err = NULL;

    for (off = 0; off < len; off += n) {
        n = chunk ? chunk : len;
        if (n > len - off) {
            n = len - off;
        }

        ip = (const u_char *) in + off;
        end = ip + n;

        while (ip < end) {
            o = buf;
            rc = fw_min_filter(f, &ip, end, &o, buf + cap);

            if (rc == FW_MIN_ERROR) {
                *err = f->err;
                goto failed;
            }

            /* never more than the buffer */
            assert_true(o <= buf + cap);

            if (used + (size_t) (o - buf) + 1 > size) {
                size = 2 * (used + (size_t) (o - buf) + 1);
                res = realloc(res, size);
            }

            memcpy(res + used, buf, (size_t) (o - buf));
            used += (size_t) (o - buf);
        }
    }

    if (fw_min_filter_finish(f) != FW_MIN_DONE) {
        *err = f->err;
        goto failed;
    }

    res[used] = '\0';
    free(buf);
    free(f);
    return res;

failed:

    free(res);
    free(buf);
    free(f);
    return NULL;
}


/* the same output whole, in every split and with small buffers */
static void
expect(const fw_min_profile_t *p, const char *in, const char *want)
{
    char        *whole, *part;
    size_t       len, chunk;
    const char  *err;

    len = strlen(in);
    whole = run(p, in, len, 0, 1 << 16, &err);

    if (whole == NULL) {
        fail_msg("%s: error %s", in, err);
    }

    assert_string_equal(whole, want);

    for (chunk = 1; chunk <= 7; chunk++) {
        part = run(p, in, len, chunk, FW_MIN_OUT_RESERVE + 3, &err);
        assert_non_null(part);
        assert_string_equal(part, whole);
        free(part);
    }

    free(whole);
}


static void
expect_error(const fw_min_profile_t *p, const char *in)
{
    char        *out;
    size_t       chunk;
    const char  *err;

    for (chunk = 0; chunk <= 3; chunk++) {
        out = run(p, in, strlen(in), chunk, 1 << 16, &err);

        if (out != NULL) {
            fail_msg("%s: no error: %s", in, out);
        }

        assert_non_null(err);
    }
}


static int
setup(void **state)
{
    char  err[256];

    fw_min_profile_init(&sh);
    fw_min_profile_init(&el);
    fw_min_profile_init(&none);

    assert_int_equal(fw_min_profile_safe_harbor(&sh, err, sizeof(err)), 0);

    assert_int_equal(fw_min_profile_elements(&el,
        (const u_char *) "Patient:gender,birthDate", 24, err,
        sizeof(err)), 0);
    assert_int_equal(fw_min_profile_drop(&el, (const u_char *) "*.text", 6,
                                         err, sizeof(err)), 0);
    assert_int_equal(fw_min_profile_drop(&el,
        (const u_char *) "Observation.subject.display", 27, err,
        sizeof(err)), 0);
    assert_int_equal(fw_min_profile_types(&el,
        (const u_char *) "Patient,Observation", 19, err, sizeof(err)), 0);

    return 0;
}


static void
test_passthrough(void **state)
{
    /* no rule: compact, untouched, no tag */
    expect(&none, " { \"resourceType\" : \"Patient\", \"id\":\"1\", "
           "\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\n\"], "
           "\"b\": {} , \"c\": []}\n",
           "{\"resourceType\":\"Patient\",\"id\":\"1\",\"a\":[1,-2.5e+3,"
           "true,false,null,\"x\\u00e9\\n\"],\"b\":{},\"c\":[]}");
}


static void
test_elements(void **state)
{
    expect(&el, "{\"resourceType\":\"Patient\",\"id\":\"p1\","
           "\"name\":[{\"family\":\"Chalmers\"}],\"gender\":\"male\","
           "\"_gender\":{\"id\":\"g\"},"
           "\"birthDate\":\"1974-12-25\",\"text\":{\"div\":\"x\"}}",
           "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"male\","
           "\"_gender\":{\"id\":\"g\"},\"birthDate\":\"1974-12-25\","
           "\"meta\":{\"tag\":[" TAG "]}}");

    /* meta present, with and without tags */
    expect(&el, "{\"resourceType\":\"Patient\",\"meta\":{\"versionId\":\"1\"},"
           "\"name\":[]}",
           "{\"resourceType\":\"Patient\",\"meta\":{\"versionId\":\"1\","
           "\"tag\":[" TAG "]}}");
    expect(&el, "{\"resourceType\":\"Patient\",\"meta\":{\"tag\":[{\"code\":"
           "\"x\"}]}}",
           "{\"resourceType\":\"Patient\",\"meta\":{\"tag\":[{\"code\":"
           "\"x\"}," TAG "]}}");
    expect(&el, "{\"resourceType\":\"Patient\",\"meta\":{}}",
           "{\"resourceType\":\"Patient\",\"meta\":{\"tag\":[" TAG "]}}");

    /* a type it may not see: id and meta only */
    expect(&el, "{\"resourceType\":\"Encounter\",\"id\":\"e\",\"status\":"
           "\"finished\",\"subject\":{\"reference\":\"Patient/p1\"}}",
           "{\"resourceType\":\"Encounter\",\"id\":\"e\","
           "\"meta\":{\"tag\":[" TAG "]}}");

    /* a drop path */
    expect(&el, "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":"
           "\"Patient/p1\",\"display\":\"Peter\"},\"code\":{\"text\":\"w\"}}",
           "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":"
           "\"Patient/p1\"},\"code\":{\"text\":\"w\"},"
           "\"meta\":{\"tag\":[" TAG "]}}");
}


static void
test_safe_harbor(void **state)
{
    expect(&sh,
        "{\"resourceType\":\"Patient\",\"id\":\"p1\","
        "\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"MRN-4711\"}],"
        "\"name\":[{\"family\":\"Chalmers\",\"given\":[\"Peter\"]}],"
        "\"telecom\":[{\"system\":\"phone\",\"value\":\"555\"}],"
        "\"gender\":\"male\",\"birthDate\":\"1974-12-25\","
        "\"_birthDate\":{\"extension\":[]},"
        "\"address\":[{\"line\":[\"534 Erewhon St\"],\"city\":\"Pleasant\","
        "\"postalCode\":\"3999\",\"state\":\"Vic\",\"country\":\"AU\"},"
        "{\"line\":[\"x\"]}],"
        "\"extension\":[{\"url\":\"u\",\"valueString\":\"Maiden\"}],"
        "\"maritalStatus\":{\"coding\":[{\"code\":\"M\",\"display\":"
        "\"Married\"}]},"
        "\"generalPractitioner\":[{\"reference\":\"Practitioner/1\","
        "\"display\":\"Dr Adam\"}],"
        "\"contact\":[{\"name\":{\"family\":\"Du Marché\"}}]}",
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"male\","
        "\"birthDate\":\"1974\",\"address\":[{\"state\":\"Vic\","
        "\"country\":\"AU\"}],"
        "\"maritalStatus\":{\"coding\":[{\"code\":\"M\",\"display\":"
        "\"Married\"}]},"
        "\"generalPractitioner\":[{\"reference\":\"Practitioner/1\"}],"
        "\"meta\":{\"tag\":[" TAG "]}}");

    /* a birthDate that is no date is dropped */
    expect(&sh, "{\"resourceType\":\"Patient\",\"birthDate\":\"19\"}",
           "{\"resourceType\":\"Patient\",\"meta\":{\"tag\":[" TAG "]}}");
    expect(&sh, "{\"resourceType\":\"Patient\",\"birthDate\":1974}",
           "{\"resourceType\":\"Patient\",\"meta\":{\"tag\":[" TAG "]}}");

    /* a Bundle: each entry; the search links go */
    expect(&sh,
        "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{"
        "\"relation\":\"self\",\"url\":\"x?identifier=MRN-4711\"}],"
        "\"entry\":[{\"fullUrl\":\"http://x/Patient/p1\",\"resource\":{"
        "\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"value"
        "\":\"MRN-4711\"}]},\"search\":{\"mode\":\"match\"}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o\","
        "\"contained\":[{\"resourceType\":\"Patient\",\"name\":[{}]}],"
        "\"extension\":[{\"url\":\"a\",\"extension\":[{\"url\":\"b\","
        "\"valueIdentifier\":{\"value\":\"SSN-1\"}}]}]}}]}",
        "{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
        "\"entry\":[{\"fullUrl\":\"http://x/Patient/p1\",\"resource\":{"
        "\"resourceType\":\"Patient\",\"id\":\"p1\","
        "\"meta\":{\"tag\":[" TAG "]}},\"search\":{\"mode\":\"match\"}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o\","
        "\"contained\":[{\"resourceType\":\"Patient\","
        "\"meta\":{\"tag\":[" TAG "]}}],"
        "\"meta\":{\"tag\":[" TAG "]}}}],"
        "\"meta\":{\"tag\":[" TAG "]}}");

    /* an address with nothing left vanishes */
    expect(&sh, "{\"resourceType\":\"Location\",\"address\":{\"city\":\"x\"},"
           "\"status\":\"active\"}",
           "{\"resourceType\":\"Location\",\"status\":\"active\","
           "\"meta\":{\"tag\":[" TAG "]}}");
}


static void
test_malformed(void **state)
{
    expect_error(&none, "");
    expect_error(&none, "[]");
    expect_error(&none, "{}");
    expect_error(&none, "{\"id\":\"1\",\"resourceType\":\"Patient\"}");
    expect_error(&none, "{\"resourceType\":\"Patient\"");
    expect_error(&none, "{\"resourceType\":\"Patient\"}x");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":01}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":1.}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":-}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":tru}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":\"\\x\"}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":\"\\u12G4\"}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":\"a\nb\"}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"n\\u0061me\":1}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":[1,]}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":{\"b\":1]}");
    expect_error(&none, "{\"resourceType\":\"Patient\",\"a\":{"
                        "\"resourceType\":\"Patient\"}}");
    expect_error(&none, "{\"resourceType\":\"Bundle\",\"entry\":[{"
                        "\"resource\":{\"id\":\"x\"}}]}");
    expect_error(&none, "{\"resourceType\":\"Bundle\",\"entry\":[{"
                        "\"resource\":\"Patient\"}]}");
    expect_error(&none, "{\"resourceType\":\"patient\"}");
    expect_error(&none, "{\"resourceType\":1}");
    expect_error(&sh, "{\"resourceType\":\"Patient\",\"name\":[1,}");

    /* the SUBSETTED tag would land in an array or beside a second meta */
    expect_error(&sh, "{\"resourceType\":\"Patient\",\"meta\":[{"
                      "\"a\":1}]}");
    expect_error(&sh, "{\"resourceType\":\"Patient\",\"meta\":\"x\"}");
    expect_error(&sh, "{\"resourceType\":\"Patient\",\"meta\":{"
                      "\"tag\":{\"code\":\"x\"}}}");
}


static void
test_deep(void **state)
{
    char        *in, *out;
    size_t       i, n;
    const char  *err;

    n = FW_MIN_DEPTH_MAX + 5;
    in = malloc(40 + 2 * n);
    strcpy(in, "{\"resourceType\":\"Patient\",\"a\":");
    for (i = 0; i < n; i++) {
        strcat(in, "[");
    }
    for (i = 0; i < n; i++) {
        strcat(in, "]");
    }
    strcat(in, "}");

    out = run(&none, in, strlen(in), 0, 1 << 16, &err);
    assert_null(out);
    free(in);
}


static void
test_big_string(void **state)
{
    char        *in, *out, *want;
    size_t       n;
    const char  *err;

    /* a 1 MB string through 1 KiB buffers */
    n = 1 << 20;
    in = malloc(n + 64);
    want = malloc(n + 64);
    strcpy(in, "{\"resourceType\":\"Binary\",\"data\":\"");
    memset(in + strlen(in), 'A', n);
    strcpy(in + 33 + n, "\"}");
    strcpy(want, in);

    out = run(&none, in, strlen(in), 4096, FW_MIN_OUT_RESERVE + 1, &err);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);

    out = run(&sh, in, strlen(in), 4096, FW_MIN_OUT_RESERVE + 1, &err);
    assert_non_null(out);
    assert_string_equal(out, "{\"resourceType\":\"Binary\","
                             "\"meta\":{\"tag\":[" TAG "]}}");
    free(out);
    free(in);
    free(want);
}


static void
test_profiles(void **state)
{
    char              err[256];
    fw_min_profile_t  p;

    fw_min_profile_init(&p);

#define BAD_DROP(s)  assert_int_equal(fw_min_profile_drop(&p,               \
                         (const u_char *) s, strlen(s), err, sizeof(err)), -1)
    BAD_DROP("Patient");
    BAD_DROP("patient.name");
    BAD_DROP("Patient.id");
    BAD_DROP("*.meta");
    BAD_DROP("Patient._name");
    BAD_DROP("Patient.**.a.b");
    BAD_DROP("Patient.");
    assert_int_equal(fw_min_profile_drop(&p, (const u_char *) "*.**.note",
                                         9, err, sizeof(err)), 0);
    assert_int_equal(p.rules[0].anywhere, 1);
    assert_int_equal(fw_min_profile_elements(&p,
        (const u_char *) "Patient:", 8, err, sizeof(err)), -1);
    assert_int_equal(fw_min_profile_summary(&p,
        (const u_char *) "false", 5, err, sizeof(err)), -1);
    assert_int_equal(fw_min_profile_types(&p,
        (const u_char *) "Patient,", 8, err, sizeof(err)), -1);
}


static void
query(const fw_min_profile_t *p, const char *type, const char *args,
    int status, const char *want)
{
    int          rc;
    size_t       olen;
    u_char       out[4096];
    const char  *diag = NULL;

    rc = fw_min_query(p, (const u_char *) type, type ? strlen(type) : 0,
                      (const u_char *) args, strlen(args), out, &olen,
                      &diag);
    if (rc != status) {
        fail_msg("%s: %d, expected %d", args, rc, status);
    }

    if (rc == 0) {
        out[olen] = '\0';
        assert_string_equal((char *) out, want);

    } else {
        assert_non_null(diag);
    }
}


static void
test_query(void **state)
{
    char              err[256];
    fw_min_profile_t  s;

    query(&el, "Patient", "", 0, "_elements=gender,birthDate");
    query(&el, "Patient", "name=x&_elements=name,gender", 0,
          "name=x&_elements=gender");
    query(&el, "Patient", "_el%65ments=name", 0, "_elements=id");
    query(&el, "Observation", "code=1", 0, "code=1");
    query(&el, NULL, "_include=Observation:subject:Patient", 0,
          "_include=Observation:subject:Patient");
    query(&el, NULL, "_include=Observation:encounter:Encounter", 403, NULL);
    query(&el, NULL, "_include=Observation:subject", 403, NULL);
    query(&el, NULL, "_include:iterate=*", 403, NULL);
    query(&el, NULL, "_%69nclude=Observation:performer:Practitioner", 403,
          NULL);
    query(&el, NULL, "_revinclude=Provenance:target", 403, NULL);
    query(&el, NULL, "_revinclude=Observation:subject", 0,
          "_revinclude=Observation:subject");
    query(&el, NULL, "a=%zz", 0, "a=%zz");
    query(&el, NULL, "%zz=1", 400, NULL);

    fw_min_profile_init(&s);
    assert_int_equal(fw_min_profile_summary(&s, (const u_char *) "true", 4,
                                            err, sizeof(err)), 0);
    query(&s, "Patient", "_summary=false&x=1", 0, "x=1&_summary=true");
    query(&s, "Patient", "_summary=count", 0, "_summary=count");
    query(&sh, NULL, "_include=*", 0, "_include=*");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_passthrough),
        cmocka_unit_test(test_elements),
        cmocka_unit_test(test_safe_harbor),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_deep),
        cmocka_unit_test(test_big_string),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_query),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
