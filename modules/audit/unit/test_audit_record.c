/*
 * cmocka tests of the record builder: both formats, escaping, the size
 * bound, query modes, outcome and action.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "fw_codec.h"
#include "fw_audit.h"


#define S(ev, f, s)                                                          \
    do {                                                                     \
        (ev)->v[f].data = (const u_char *) (s);                              \
        (ev)->v[f].len = strlen(s);                                          \
    } while (0)


static u_char            qkey[FW_AUDIT_MAC_LEN];
static fw_audit_hmac_t  *qh;


static void
full_event(fw_audit_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    S(ev, FW_AUDIT_F_REQUEST_ID, "0123456789abcdef0123456789abcdef");
    S(ev, FW_AUDIT_F_CLIENT, "192.0.2.7");
    S(ev, FW_AUDIT_F_USER, "alice");
    S(ev, FW_AUDIT_F_ROLE, "clinician");
    S(ev, FW_AUDIT_F_CLIENT_ID, "app-1");
    S(ev, FW_AUDIT_F_FHIR_USER, "Practitioner/pr1");
    S(ev, FW_AUDIT_F_PURPOSE, "TREAT");
    S(ev, FW_AUDIT_F_PATIENT, "p1");
    S(ev, FW_AUDIT_F_INTERACTION, "vread");
    S(ev, FW_AUDIT_F_TYPE, "Patient");
    S(ev, FW_AUDIT_F_ID, "p1");
    S(ev, FW_AUDIT_F_VID, "2");
    S(ev, FW_AUDIT_F_OPERATION, "$everything");
    S(ev, FW_AUDIT_F_COMPARTMENT, "Patient/p1");
    S(ev, FW_AUDIT_F_METHOD, "GET");
    S(ev, FW_AUDIT_F_PATH, "/fhir/Patient/p1/_history/2");
    S(ev, FW_AUDIT_F_QUERY, "a=1&b=2");
    S(ev, FW_AUDIT_F_STATUS, "200");
    S(ev, FW_AUDIT_F_BYTES_SENT, "1234");
    S(ev, FW_AUDIT_F_REQUEST_TIME, "0.002");
    S(ev, FW_AUDIT_F_UPSTREAM_STATUS, "200");
    S(ev, FW_AUDIT_F_UPSTREAM_TIME, "0.001");
    S(ev, FW_AUDIT_F_GATEWAY, "gw1");
    S(ev, FW_AUDIT_F_MINIMISE_PROFILE, "research");
    ev->time_ms = 1764000000123LL;
    ev->query_mode = FW_AUDIT_QUERY_RAW;
    ev->query_hmac = qh;
}


static json_t *
build_json(fw_audit_event_t *ev, int format, size_t size)
{
    u_char        buf[FW_AUDIT_RECORD_MAX];
    size_t        len;
    json_t       *j;
    json_error_t  err;

    len = fw_audit_build(buf, size, 2, format, ev);
    assert_true(len > 0);
    assert_true(len <= size - 2);
    len = fw_audit_close(buf, len, size);
    assert_true(len > 0);
    assert_int_equal(buf[len - 1], '\n');

    j = json_loadb((const char *) buf, len - 1, 0, &err);
    if (j == NULL) {
        fprintf(stderr, "json: %s: %.*s\n", err.text, (int) len,
                (char *) buf);
    }
    assert_non_null(j);

    return j;
}


static const char *
str(json_t *j, const char *key)
{
    json_t  *v = json_object_get(j, key);

    return v && json_is_string(v) ? json_string_value(v) : NULL;
}


static void
test_jsonl_every_field(void **state)
{
    json_t            *j;
    fw_audit_event_t   ev;
    int                f;

    full_event(&ev);
    ev.denied_by.data = (const u_char *) "jwt";
    ev.denied_by.len = 3;
    ev.reason.data = (const u_char *) "expired";
    ev.reason.len = 7;
    ev.check_name[0] = ev.denied_by;
    ev.check_value[0] = ev.reason;
    ev.nchecks = 1;
    S(&ev, FW_AUDIT_F_STATUS, "401");

    j = build_json(&ev, FW_AUDIT_JSONL, 8192);

    assert_int_equal(json_integer_value(json_object_get(j, "v")), 1);
    assert_string_equal(str(j, "kind"), "request");
    assert_string_equal(str(j, "time"), "2025-11-24T16:00:00.123Z");

    for (f = 0; f < FW_AUDIT_F_MAX; f++) {
        if (f == FW_AUDIT_F_STATUS || f == FW_AUDIT_F_BYTES_SENT
            || f == FW_AUDIT_F_PATH)
        {
            continue;
        }

        assert_non_null(str(j, fw_audit_field_names[f]));
        assert_memory_equal(str(j, fw_audit_field_names[f]), ev.v[f].data,
                            ev.v[f].len);
    }

    assert_string_equal(str(j, "path"), "/fhir/Patient/p1/_history/2");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 401);
    assert_int_equal(json_integer_value(json_object_get(j, "outcome")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "bytes_sent")),
                     1234);
    assert_string_equal(str(j, "denied_by"), "jwt");
    assert_string_equal(str(j, "reason"), "expired");
    assert_string_equal(str(json_object_get(j, "checks"), "jwt"),
                        "expired");
    assert_null(json_object_get(j, "truncated"));

    json_decref(j);
}


static void
test_jsonl_absent_fields(void **state)
{
    json_t            *j;
    fw_audit_event_t   ev;

    memset(&ev, 0, sizeof(ev));
    S(&ev, FW_AUDIT_F_STATUS, "200");
    ev.time_ms = 0;

    j = build_json(&ev, FW_AUDIT_JSONL, 8192);

    assert_null(json_object_get(j, "user"));
    assert_null(json_object_get(j, "query"));
    assert_null(json_object_get(j, "query_hash"));
    assert_null(json_object_get(j, "denied_by"));
    assert_null(json_object_get(j, "checks"));
    assert_string_equal(str(j, "time"), "1970-01-01T00:00:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(j, "outcome")), 0);

    json_decref(j);
}


static void
test_query_modes(void **state)
{
    json_t            *j;
    const char        *h1, *h2;
    char               keep[80];
    fw_audit_event_t   ev;

    full_event(&ev);
    ev.query_mode = FW_AUDIT_QUERY_OMIT;
    ev.v[FW_AUDIT_F_QUERY].len = 0;   /* what the glue does */
    j = build_json(&ev, FW_AUDIT_JSONL, 8192);
    assert_null(json_object_get(j, "query"));
    assert_null(json_object_get(j, "query_hash"));
    json_decref(j);

    full_event(&ev);
    ev.query_mode = FW_AUDIT_QUERY_HASH;
    j = build_json(&ev, FW_AUDIT_JSONL, 8192);
    assert_null(json_object_get(j, "query"));
    h1 = str(j, "query_hash");
    assert_non_null(h1);
    assert_int_equal(strlen(h1), FW_AUDIT_QUERY_HASH_LEN);
    assert_memory_equal(h1, "hmac-sha256:", 12);
    snprintf(keep, sizeof(keep), "%s", h1);
    json_decref(j);

    /* another key, another hash */
    qkey[0] ^= 1;
    assert_int_equal(fw_audit_hmac_rekey(qh, qkey, sizeof(qkey)),
                     FW_AUDIT_OK);
    j = build_json(&ev, FW_AUDIT_JSONL, 8192);
    h2 = str(j, "query_hash");
    assert_string_not_equal(keep, h2);
    qkey[0] ^= 1;
    assert_int_equal(fw_audit_hmac_rekey(qh, qkey, sizeof(qkey)),
                     FW_AUDIT_OK);
    json_decref(j);
}


static void
test_escaping(void **state)
{
    u_char             buf[8192];
    size_t             len, i;
    json_t            *j;
    fw_audit_event_t   ev;
    static const char  nasty[] = "a\"b\\c\n\r\t<x>&\x01\x7f\xc3\xa9";

    full_event(&ev);
    ev.v[FW_AUDIT_F_USER].data = (const u_char *) nasty;
    ev.v[FW_AUDIT_F_USER].len = sizeof(nasty) - 1;

    len = fw_audit_build(buf, sizeof(buf), 2, FW_AUDIT_JSONL, &ev);
    assert_true(len > 0);

    /* one line, no raw control characters or markup; the only bytes
       >= 0x80 are the well-formed "\xc3\xa9", kept as UTF-8 */
    for (i = 0; i < len; i++) {
        assert_true(buf[i] >= 0x20 && buf[i] != 0x7f);
        assert_true(buf[i] != '<' && buf[i] != '>');

        if (buf[i] >= 0x80) {
            assert_true(i + 1 < len);
            assert_int_equal(buf[i], 0xc3);
            assert_int_equal(buf[i + 1], 0xa9);
            i++;
        }
    }

    j = build_json(&ev, FW_AUDIT_JSONL, 8192);
    assert_memory_equal(str(j, "user"),
                        "a\"b\\c\n\r\t<x>&\x01\x7f\xc3\xa9", 15);
    json_decref(j);

    /* a stray byte (not UTF-8) is escaped and the line stays valid JSON */
    ev.v[FW_AUDIT_F_USER].data = (const u_char *) "x\xffy";
    ev.v[FW_AUDIT_F_USER].len = 3;
    j = build_json(&ev, FW_AUDIT_JSONL, 8192);
    assert_string_equal(str(j, "user"), "x\xc3\xbfy");
    json_decref(j);
}


static void
test_size_bound(void **state)
{
    int                f, format;
    size_t             len;
    u_char             buf[FW_AUDIT_RECORD_MAX];
    json_t            *j;
    static u_char      big[FW_AUDIT_VALUE_MAX * 4];
    fw_audit_event_t   ev;

    /* every value as long as can be and escaping to 6 bytes a byte */
    memset(big, 0x01, sizeof(big));

    for (format = FW_AUDIT_JSONL; format <= FW_AUDIT_FHIR; format++) {
        full_event(&ev);

        for (f = 0; f < FW_AUDIT_F_MAX; f++) {
            if (f != FW_AUDIT_F_STATUS) {
                ev.v[f].data = big;
                ev.v[f].len = sizeof(big);
            }
        }

        for (f = 0; f < FW_AUDIT_CHECKS_MAX; f++) {
            ev.check_name[f].data = big;
            ev.check_name[f].len = sizeof(big);
            ev.check_value[f] = ev.check_name[f];
        }

        ev.nchecks = FW_AUDIT_CHECKS_MAX;
        ev.denied_by = ev.check_name[0];
        ev.reason = ev.check_name[0];

        len = fw_audit_build(buf, FW_AUDIT_RECORD_MIN,
                             fw_audit_seal_len(format, 100), format, &ev);
        assert_true(len > 0);
        assert_true(len + fw_audit_seal_len(format, 100)
                    <= FW_AUDIT_RECORD_MIN);

        j = build_json(&ev, format, FW_AUDIT_RECORD_MIN);

        if (format == FW_AUDIT_JSONL) {
            assert_true(json_is_true(json_object_get(j, "truncated")));
        } else {
            assert_string_equal(str(json_array_get(
                                json_object_get(j, "extension"), 0), "url"),
                                "urn:fhirwall:audit-truncated");
        }

        json_decref(j);
    }

    /* a buffer smaller than the reserve */
    assert_int_equal(fw_audit_build(buf, 100, 200, FW_AUDIT_JSONL, &ev), 0);
}


static void
test_fhir_balp(void **state)
{
    json_t            *j, *a, *e, *c;
    fw_audit_event_t   ev;

    full_event(&ev);
    S(&ev, FW_AUDIT_F_INTERACTION, "read");
    S(&ev, FW_AUDIT_F_VID, "");
    ev.v[FW_AUDIT_F_VID].len = 0;

    j = build_json(&ev, FW_AUDIT_FHIR, 8192);

    assert_string_equal(str(j, "resourceType"), "AuditEvent");
    assert_string_equal(json_string_value(json_array_get(json_object_get(
                        json_object_get(j, "meta"), "profile"), 0)),
                        "https://profiles.ihe.net/ITI/BALP/"
                        "StructureDefinition/IHE.BasicAudit.PatientRead");
    assert_string_equal(str(json_object_get(j, "type"), "code"), "rest");
    assert_string_equal(str(json_array_get(json_object_get(j, "subtype"), 0),
                            "code"), "read");
    assert_string_equal(str(j, "action"), "R");
    assert_string_equal(str(j, "recorded"), "2025-11-24T16:00:00.123Z");
    assert_string_equal(str(j, "outcome"), "0");

    a = json_object_get(j, "agent");
    assert_int_equal(json_array_size(a), 3);
    c = json_array_get(json_object_get(json_object_get(json_array_get(a, 0),
                       "type"), "coding"), 0);
    assert_string_equal(str(c, "code"), "IRCP");
    assert_true(json_is_true(json_object_get(json_array_get(a, 0),
                                             "requestor")));
    assert_string_equal(str(json_object_get(json_object_get(
                        json_array_get(a, 0), "who"), "identifier"),
                        "value"), "alice");
    c = json_array_get(json_object_get(json_object_get(json_array_get(a, 1),
                       "type"), "coding"), 0);
    assert_string_equal(str(c, "code"), "110153");
    c = json_array_get(json_object_get(json_object_get(json_array_get(a, 2),
                       "type"), "coding"), 0);
    assert_string_equal(str(c, "code"), "110152");

    e = json_object_get(j, "entity");
    assert_int_equal(json_array_size(e), 4);
    assert_string_equal(str(json_object_get(json_array_get(e, 1), "what"),
                            "reference"), "Patient/p1");
    assert_string_equal(str(json_object_get(json_array_get(e, 2), "what"),
                            "reference"), "Patient/p1");
    assert_string_equal(str(json_array_get(e, 3), "query"), "YT0xJmI9Mg==");

    /* the minimisation profile: a detail of the transaction entity */
    c = json_array_get(json_object_get(json_array_get(e, 0), "detail"), 0);
    assert_string_equal(str(c, "type"), "minimise_profile");
    assert_string_equal(str(c, "valueString"), "research");

    json_decref(j);

    /* no profile, no detail */
    full_event(&ev);
    ev.v[FW_AUDIT_F_MINIMISE_PROFILE].len = 0;
    j = build_json(&ev, FW_AUDIT_FHIR, 8192);
    e = json_object_get(j, "entity");
    assert_null(json_object_get(json_array_get(e, 0), "detail"));
    json_decref(j);

    /* create: AGNT, action C; 5xx: outcome 8 */
    full_event(&ev);
    S(&ev, FW_AUDIT_F_INTERACTION, "create");
    S(&ev, FW_AUDIT_F_STATUS, "503");
    j = build_json(&ev, FW_AUDIT_FHIR, 8192);
    assert_string_equal(str(j, "action"), "C");
    assert_string_equal(str(j, "outcome"), "8");
    a = json_object_get(j, "agent");
    c = json_array_get(json_object_get(json_object_get(json_array_get(a, 0),
                       "type"), "coding"), 0);
    assert_string_equal(str(c, "code"), "AGNT");
    json_decref(j);
}


static void
test_action_outcome(void **state)
{
    assert_int_equal(fw_audit_action((u_char *) "read", 4), 'R');
    assert_int_equal(fw_audit_action((u_char *) "vread", 5), 'R');
    assert_int_equal(fw_audit_action((u_char *) "create", 6), 'C');
    assert_int_equal(fw_audit_action((u_char *) "update", 6), 'U');
    assert_int_equal(fw_audit_action((u_char *) "patch", 5), 'U');
    assert_int_equal(fw_audit_action((u_char *) "delete", 6), 'D');
    assert_int_equal(fw_audit_action((u_char *) "search-type", 11), 'E');
    assert_int_equal(fw_audit_action((u_char *) "operation", 9), 'E');
    assert_int_equal(fw_audit_action((u_char *) "", 0), 'E');

    assert_int_equal(fw_audit_outcome(200), 0);
    assert_int_equal(fw_audit_outcome(304), 0);
    assert_int_equal(fw_audit_outcome(401), 4);
    assert_int_equal(fw_audit_outcome(499), 4);
    assert_int_equal(fw_audit_outcome(500), 8);
    assert_int_equal(fw_audit_outcome(0), 8);

    assert_int_equal(fw_audit_field_by_name((u_char *) "patient", 7),
                     FW_AUDIT_F_PATIENT);
    assert_int_equal(fw_audit_field_by_name((u_char *) "body", 4), -1);
}


static void
test_lifecycle(void **state)
{
    u_char   buf[2048];
    size_t   len;
    json_t  *j;

    len = fw_audit_build_lifecycle(buf, sizeof(buf), FW_AUDIT_JSONL,
                                   FW_AUDIT_KIND_START, 0,
                                   (u_char *) "gw", 2, (u_char *) "c-1", 3);
    assert_true(len > 0);
    len = fw_audit_close(buf, len, sizeof(buf));
    j = json_loadb((char *) buf, len - 1, 0, NULL);
    assert_non_null(j);
    assert_string_equal(str(j, "kind"), "start");
    assert_string_equal(str(j, "chain_id"), "c-1");
    json_decref(j);

    len = fw_audit_build_lifecycle(buf, sizeof(buf), FW_AUDIT_FHIR,
                                   FW_AUDIT_KIND_END, 0,
                                   (u_char *) "gw", 2, (u_char *) "c-1", 3);
    assert_true(len > 0);
    len = fw_audit_close(buf, len, sizeof(buf));
    j = json_loadb((char *) buf, len - 1, 0, NULL);
    assert_non_null(j);
    assert_string_equal(str(json_array_get(json_object_get(j, "subtype"), 0),
                            "code"), "110121");
    json_decref(j);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_jsonl_every_field),
        cmocka_unit_test(test_jsonl_absent_fields),
        cmocka_unit_test(test_query_modes),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_size_bound),
        cmocka_unit_test(test_fhir_balp),
        cmocka_unit_test(test_action_outcome),
        cmocka_unit_test(test_lifecycle),
    };

    memset(qkey, 0x42, sizeof(qkey));
    qh = fw_audit_hmac_create(qkey, sizeof(qkey));

    return cmocka_run_group_tests(tests, NULL, NULL);
}
