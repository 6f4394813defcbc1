/*
 * cmocka tests of the redaction core: the key derivation (against HMACs
 * computed here with OpenSSL), hashes within and across epochs, values,
 * paths and queries in every mode, without a key, in small buffers.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fw_codec.h"
#include "fw_audit.h"
#include "fw_audit_redact.h"


static const char  *secret = "0123456789abcdef0123456789abcdef-test-key";


static void
redactor(fw_audit_redactor_t *rd, uint64_t epoch)
{
    u_char  base[FW_AUDIT_MAC_LEN], key[FW_AUDIT_MAC_LEN];

    fw_audit_redact_base((const u_char *) secret, strlen(secret), base);
    fw_audit_redact_epoch_key(base, epoch, key);

    rd->hmac = fw_audit_hmac_create(key, sizeof(key));
    rd->epoch = epoch;
    assert_non_null(rd->hmac);
}


/* the hash of "value" in "epoch", computed from the definition */

static void
expected(uint64_t epoch, const char *value, char *out)
{
    char           msg[128];
    u_char         base[32], key[32], mac[32], hex[65];
    unsigned int   n;

    n = 32;
    HMAC(EVP_sha256(), secret, (int) strlen(secret),
         (const u_char *) "fhirwall-audit-v1 redact", 24, base, &n);

    snprintf(msg, sizeof(msg), "fhirwall-audit-v1 redact epoch %llu",
             (unsigned long long) epoch);
    HMAC(EVP_sha256(), base, 32, (const u_char *) msg, strlen(msg), key, &n);

    HMAC(EVP_sha256(), key, 32, (const u_char *) value, strlen(value), mac,
         &n);

    fw_hex_encode(mac, 12, hex);
    hex[24] = '\0';

    snprintf(out, 128, "fwh-%llu-%s", (unsigned long long) epoch, hex);
}


static char *
run_value(fw_audit_redactor_t *rd, int mode, const char *v)
{
    static char  buf[512];
    size_t       n;

    n = fw_audit_redact_value(rd, mode, (const u_char *) v, strlen(v),
                              (u_char *) buf, sizeof(buf) - 1);
    buf[n] = '\0';
    return buf;
}


static char *
run_path(fw_audit_redactor_t *rd, int mode, const char *v, size_t keep,
    size_t size)
{
    static char  buf[1024];
    size_t       n;

    assert_true(size < sizeof(buf));
    n = fw_audit_redact_path(rd, mode, (const u_char *) v, strlen(v), keep,
                             (u_char *) buf, size);
    assert_true(n <= size);
    buf[n] = '\0';
    return buf;
}


static char *
run_query(fw_audit_redactor_t *rd, int mode, const char *v, size_t size)
{
    static char  buf[1024];
    size_t       n;

    assert_true(size < sizeof(buf));
    n = fw_audit_redact_query(rd, mode, (const u_char *) v, strlen(v),
                              (u_char *) buf, size);
    assert_true(n <= size);
    buf[n] = '\0';
    return buf;
}


static void
test_derivation(void **state)
{
    char                  want[128], got[128];
    size_t                n;
    fw_audit_redactor_t   rd;

    (void) state;

    redactor(&rd, 2941234);
    expected(2941234, "MRN-884512", want);

    n = fw_audit_redact_hash(&rd, (const u_char *) "MRN-884512", 10,
                             (u_char *) got);
    got[n] = '\0';
    assert_string_equal(got, want);
    assert_int_equal(n, strlen("fwh-2941234-") + 24);

    /* percent-decoded first */
    n = fw_audit_redact_hash(&rd, (const u_char *) "MRN%2D884512", 12,
                             (u_char *) got);
    got[n] = '\0';
    assert_string_equal(got, want);

    /* the MAC key of the chain is not the redaction key */
    {
        u_char  k0[32], base[32];

        fw_audit_chain_key0((const u_char *) secret, strlen(secret),
                            (const u_char *) "", 0, k0);
        fw_audit_redact_base((const u_char *) secret, strlen(secret), base);
        assert_memory_not_equal(k0, base, 32);
        fw_audit_query_key((const u_char *) secret, strlen(secret), k0);
        assert_memory_not_equal(k0, base, 32);
    }

    fw_audit_hmac_destroy(rd.hmac);
}


static void
test_epochs(void **state)
{
    char                  a[512], b[512], c[512];
    fw_audit_redactor_t   r1, r2;

    (void) state;

    assert_int_equal(fw_audit_redact_epoch(1764000000123LL, 600000),
                     2940000);
    assert_int_equal(fw_audit_redact_epoch(1764000000123LL, 0), 0);
    assert_int_equal(fw_audit_redact_epoch(-5, 600000), 0);

    redactor(&r1, 7);
    redactor(&r2, 8);

    strcpy(a, run_value(&r1, FW_AUDIT_R_HASH, "p1"));
    strcpy(b, run_value(&r1, FW_AUDIT_R_HASH, "p1"));
    strcpy(c, run_value(&r2, FW_AUDIT_R_HASH, "p1"));

    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_memory_equal(a, "fwh-7-", 6);
    assert_memory_equal(c, "fwh-8-", 6);
    assert_string_not_equal(a + 6, c + 6);

    /* another value, another hash */
    assert_string_not_equal(a, run_value(&r1, FW_AUDIT_R_HASH, "p2"));

    fw_audit_hmac_destroy(r1.hmac);
    fw_audit_hmac_destroy(r2.hmac);
}


static void
test_values(void **state)
{
    char                  want[128], ref[160];
    fw_audit_redactor_t   rd, none;

    (void) state;

    redactor(&rd, 3);
    none.hmac = NULL;
    none.epoch = 3;

    expected(3, "p1", want);

    assert_string_equal(run_value(&rd, FW_AUDIT_R_HASH, "p1"), want);
    assert_string_equal(run_value(&rd, FW_AUDIT_R_KEEP, "p1"), "p1");
    assert_string_equal(run_value(&rd, FW_AUDIT_R_DROP, "p1"), "");
    assert_string_equal(run_value(&rd, FW_AUDIT_R_UNSET, "p1"), "");

    /* a reference keeps its type, and links with its bare id */
    snprintf(ref, sizeof(ref), "Patient/%s", want);
    assert_string_equal(run_value(&rd, FW_AUDIT_R_HASH, "Patient/p1"), ref);

    /* not a type: all of it */
    expected(3, "urn:x/p1", want);
    assert_string_equal(run_value(&rd, FW_AUDIT_R_HASH, "urn:x/p1"), want);

    /* fhir_user's default: a patient's reference hashed, others kept */
    assert_string_equal(run_value(&rd, FW_AUDIT_R_PATIENTS, "Patient/p1"),
                        ref);
    assert_string_equal(run_value(&rd, FW_AUDIT_R_PATIENTS,
                                  "Practitioner/dr-grey"),
                        "Practitioner/dr-grey");
    expected(3, "https://h/fhir/RelatedPerson/9", want);
    assert_string_equal(run_value(&rd, FW_AUDIT_R_PATIENTS,
                                  "https://h/fhir/RelatedPerson/9"), want);
    assert_string_equal(run_value(&none, FW_AUDIT_R_PATIENTS, "Patient/p1"),
                        "");
    expected(3, "p1", want);

    /* no key: a hash is a drop */
    assert_string_equal(run_value(&none, FW_AUDIT_R_HASH, "p1"), "");
    assert_string_equal(run_value(&none, FW_AUDIT_R_KEEP, "p1"), "p1");

    /* too small a buffer: nothing rather than a part */
    assert_int_equal(fw_audit_redact_value(&rd, FW_AUDIT_R_HASH,
                                           (const u_char *) "p1", 2,
                                           (u_char *) want, 10), 0);

    assert_int_equal(fw_audit_redact_mode((const u_char *) "hash", 4),
                     FW_AUDIT_R_HASH);
    assert_int_equal(fw_audit_redact_mode((const u_char *) "digest", 6),
                     FW_AUDIT_R_UNSET);
    assert_int_equal(fw_audit_redact_mode((const u_char *) "kee", 3),
                     FW_AUDIT_R_UNSET);
    assert_string_equal(fw_audit_redact_mode_name(FW_AUDIT_R_PREFIX),
                        "prefix");

    fw_audit_hmac_destroy(rd.hmac);
}


static void
test_paths(void **state)
{
    char                  h1[128], h2[128], h3[128], want[2048];
    fw_audit_redactor_t   rd, none;

    (void) state;

    redactor(&rd, 5);
    none.hmac = NULL;
    none.epoch = 0;

    expected(5, "MRN123", h1);
    expected(5, "Smith", h2);
    expected(5, "fhir", h3);

    /* read, vread, compartment search, operation */
    snprintf(want, sizeof(want), "/fhir/Patient/%s", h1);
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123", 6, 512), want);

    snprintf(want, sizeof(want), "/fhir/Patient/%s/_history/2", h1);
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123/_history/2", 6, 512),
                        want);

    snprintf(want, sizeof(want), "/fhir/Patient/%s/Observation", h1);
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123/Observation", 6, 512),
                        want);

    snprintf(want, sizeof(want), "/fhir/Patient/%s/$everything", h1);
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123/$everything", 6, 512),
                        want);

    /* a name shaped like a type at an id's place is an id */
    snprintf(want, sizeof(want), "/fhir/Patient/%s", h2);
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/Smith", 6, 512), want);

    /* percent-encoded, the same id */
    snprintf(want, sizeof(want), "/fhir/Patient/%s", h1);
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN%31%323", 6, 512), want);

    /* without the location's prefix, "fhir" is a segment like any, and
       what follows it is taken for an id */
    snprintf(want, sizeof(want), "/%s/%s/%s", h3,
             run_value(&rd, FW_AUDIT_R_HASH, "Patient"), h1);
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123", 0, 512), want);

    /* keywords and types that are not ids */
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Observation/_search", 6, 512),
                        "/fhir/Observation/_search");
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH, "/fhir/metadata", 6,
                                 512), "/fhir/metadata");
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH, "/fhir//Patient/", 6,
                                 512), "/fhir//Patient/");

    /* a version that is not a number is hashed */
    expected(5, "v1x", h2);
    snprintf(want, sizeof(want), "/fhir/Patient/%s/_history/%s", h1, h2);
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123/_history/v1x", 6, 512),
                        want);

    /* prefix: up to the type */
    assert_string_equal(run_path(&rd, FW_AUDIT_R_PREFIX,
                                 "/fhir/Patient/MRN123/_history/2", 6, 512),
                        "/fhir/Patient");
    assert_string_equal(run_path(&rd, FW_AUDIT_R_PREFIX,
                                 "/fhir/MRN123/Patient", 6, 512), "/fhir/");
    assert_string_equal(run_path(&rd, FW_AUDIT_R_PREFIX, "/fhir/metadata",
                                 6, 512), "/fhir/metadata");

    /* keep, drop */
    assert_string_equal(run_path(&rd, FW_AUDIT_R_KEEP, "/fhir/Patient/MRN1",
                                 6, 512), "/fhir/Patient/MRN1");
    assert_string_equal(run_path(&rd, FW_AUDIT_R_DROP, "/fhir/Patient/MRN1",
                                 6, 512), "");

    /* no key: ids become "*" */
    assert_string_equal(run_path(&none, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123/_history/2", 6, 512),
                        "/fhir/Patient/*/_history/2");

    /* a keep longer than the path is ignored */
    assert_string_equal(run_path(&none, FW_AUDIT_R_HASH, "/a/MRN", 99, 512),
                        "/*/*");

    /* a small buffer: whole segments only */
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123", 6, 30),
                        "/fhir/Patient");
    assert_string_equal(run_path(&rd, FW_AUDIT_R_HASH,
                                 "/fhir/Patient/MRN123", 6, 4), "");

    fw_audit_hmac_destroy(rd.hmac);
}


static void
test_queries(void **state)
{
    char                  h1[128], h2[128], h3[128], want[2048];
    fw_audit_redactor_t   rd, none;

    (void) state;

    redactor(&rd, 9);
    none.hmac = NULL;
    none.epoch = 0;

    expected(9, "Smith", h1);
    expected(9, "Patient/MRN123", h2);
    expected(9, "MRN123", h3);

    snprintf(want, sizeof(want), "family=%s&subject=%s&_count=%s", h1, h2,
             run_value(&rd, FW_AUDIT_R_HASH, "10"));
    assert_string_equal(run_query(&rd, FW_AUDIT_R_HASH,
                                  "family=Smith&subject=Patient%2FMRN123"
                                  "&_count=10", 512), want);

    assert_string_equal(run_query(&rd, FW_AUDIT_R_NAMES,
                                  "family=Smith&subject:Patient.name=x"
                                  "&given=", 512),
                        "family=*&subject:Patient.name=*&given=");

    /* a parameter without "=", or not named like one, is a value */
    snprintf(want, sizeof(want), "%s&a=", h3);
    assert_string_equal(run_query(&rd, FW_AUDIT_R_HASH, "MRN123&&a=",
                                  512), want);
    assert_string_equal(run_query(&rd, FW_AUDIT_R_NAMES, "MRN123&9x=1&a=2",
                                  512), "*&*&a=*");

    /* no key: names */
    assert_string_equal(run_query(&none, FW_AUDIT_R_HASH, "family=Smith",
                                  512), "family=*");

    assert_string_equal(run_query(&rd, FW_AUDIT_R_KEEP, "family=Smith", 512),
                        "family=Smith");
    assert_string_equal(run_query(&rd, FW_AUDIT_R_DROP, "family=Smith", 512),
                        "");
    assert_string_equal(run_query(&rd, FW_AUDIT_R_PREFIX, "family=Smith",
                                  512), "");

    /* credentials: never, in any mode */
    assert_string_equal(run_query(&rd, FW_AUDIT_R_KEEP,
                                  "family=Smith&access_token=eyJ.x.y"
                                  "&Client_Secret=s3&sig=ab&&_count=2",
                                  512),
                        "family=Smith&access_token=*&Client_Secret=*"
                        "&sig=*&_count=2");
    snprintf(want, sizeof(want), "access_token=*&family=%s", h1);
    assert_string_equal(run_query(&rd, FW_AUDIT_R_HASH,
                                  "access_token=eyJ.x.y&family=Smith", 512),
                        want);
    assert_string_equal(run_query(&none, FW_AUDIT_R_KEEP, "token=abc",
                                  512), "token=*");

    /* keep cuts a long value, as the record does */
    assert_string_equal(run_query(&rd, FW_AUDIT_R_KEEP, "a=1&bb=22222", 8),
                        "a=1&bb=2");

    /* a small buffer: whole parameters only */
    assert_string_equal(run_query(&rd, FW_AUDIT_R_NAMES, "aa=1&bb=2", 8),
                        "aa=*");

    fw_audit_hmac_destroy(rd.hmac);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_derivation),
        cmocka_unit_test(test_epochs),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_queries),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
