/*
 * minimise core: the fast tokenizer against the reference one (the
 * tokenizer before it, unit/ref_minimise_json.c): the same output bytes,
 * verdict, error message and byte counts for a corpus of documents, their
 * truncations and single-byte mutations, in every chunking.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fw_minimise.h"
#include "ref_minimise_json.c"


typedef struct {
    int            rc;
    const char    *err;
    size_t         in_total;
    size_t         out_total;
    size_t         len;
    u_char        *out;
} result_t;


static fw_min_profile_t  profs[4];
static size_t            checked;

static const char  *docs[] = {
    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":"
    "\"1\"},\"text\":{\"status\":\"generated\",\"div\":\"<div>x</div>\"},"
    "\"identifier\":[{\"system\":\"s\",\"value\":\"MRN\"}],\"active\":true,"
    "\"name\":[{\"family\":\"F\\u00e9\\n\",\"given\":[\"G\",\"M\"]}],"
    "\"gender\":\"female\",\"birthDate\":\"1980-01-15\",\"_birthDate\":"
    "{\"extension\":[]},\"deceasedBoolean\":false,\"multipleBirthInteger\":"
    "-12,\"address\":[{\"line\":[\"1 Main\"],\"city\":\"T\",\"state\":"
    "\"MA\",\"country\":\"US\"},{\"city\":\"X\"}],\"photo\":[{\"data\":"
    "\"AAAA\"}],\"generalPractitioner\":[{\"reference\":\"Practitioner/1\","
    "\"display\":\"Dr \\\"A\\\"\"}],\"maritalStatus\":{\"coding\":[{"
    "\"code\":\"M\",\"display\":\"Married\"}],\"text\":\"m\"}}",

    " {\n  \"resourceType\" : \"Observation\" ,\n  \"id\":\"o\",\n"
    "  \"valueQuantity\": {\"value\": 1.5e-3, \"unit\": \"mg\"},\n"
    "  \"component\": [ {\"valueInteger\": 0}, {\"valueDecimal\": -0.25E+2},"
    " {\"valueBoolean\": true}, {\"valueString\": null} ],\n"
    "  \"note\": [{\"text\": \"t\\/\\\\\\b\\f\\r\\t\"}],\n"
    "  \"subject\": {\"reference\": \"Patient/p\", \"display\": \"N\"},\n"
    "  \"code\": {\"coding\": [{\"display\": \"c\"}]}, \"extension\": "
    "[{\"url\": \"u\", \"valueString\": \"\\ud83d\\ude00\"}]\n} \r\n\t",

    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{"
    "\"url\":\"u\"}],\"entry\":[{\"fullUrl\":\"f\",\"resource\":{"
    "\"resourceType\":\"Patient\",\"id\":\"a\",\"contained\":[{"
    "\"resourceType\":\"Practitioner\",\"name\":[{\"text\":\"x\"}],"
    "\"birthDate\":\"19x0\"}],\"birthDate\":\"1970\"},\"request\":{"
    "\"url\":\"x\"},\"response\":{\"outcome\":{\"resourceType\":"
    "\"OperationOutcome\",\"issue\":[]}}},{\"resource\":{\"resourceType\":"
    "\"Encounter\",\"meta\":{\"tag\":[{\"code\":\"x\"}]},\"class\":{"
    "\"display\":\"d\"}}},{\"resource\":{\"resourceType\":\"Device\","
    "\"serialNumber\":\"1\",\"meta\":{}}}],\"total\":3}",

    "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"r\","
    "\"resource\":{\"resourceType\":\"Patient\",\"gender\":\"male\"}},"
    "{\"part\":[{\"part\":[{\"resource\":{\"resourceType\":\"Coverage\","
    "\"subscriberId\":\"s\",\"beneficiary\":{\"identifier\":{}}}}]}]}],"
    "\"x\":[[],{},[[1,2],[true,false,null]],\"\",0,-0,1E5]}",

    /* malformed */
    "{\"id\":\"x\",\"resourceType\":\"Patient\"}",
    "{\"resourceType\":\"Patient\",\"n\\u0061me\":1}",
    "{\"resourceType\":\"Patient\",\"a b\":1}",
    "{\"resourceType\":\"Patient\",\"\":1}",
    "{\"resourceType\":\"pat\"}",
    "{\"resourceType\":\"Pat\\u0069ent\"}",
    "{\"resourceType\":7}",
    "[{\"resourceType\":\"Patient\"}]",
    "{\"resourceType\":\"Patient\",\"x\":01}",
    "{\"resourceType\":\"Patient\",\"x\":1.}",
    "{\"resourceType\":\"Patient\",\"x\":-}",
    "{\"resourceType\":\"Patient\",\"x\":1e}",
    "{\"resourceType\":\"Patient\",\"x\":tru}",
    "{\"resourceType\":\"Patient\",\"x\":\"a\\x\"}",
    "{\"resourceType\":\"Patient\",\"x\":\"\\u12g4\"}",
    "{\"resourceType\":\"Patient\",\"x\":\"a\tb\"}",
    "{\"resourceType\":\"Patient\",\"x\":[1,]}",
    "{\"resourceType\":\"Patient\",\"x\":{\"a\":1,}}",
    "{\"resourceType\":\"Patient\",\"x\":[1}",
    "{\"resourceType\":\"Patient\",\"x\" 1}",
    "{\"resourceType\":\"Patient\"} x",
    "{\"resourceType\":\"Patient\",\"entry\":[{\"resource\":[]}]}",
    "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"id\":1}}]}",
};


static void
run(int ref, const fw_min_profile_t *p, const u_char *in, size_t len,
    size_t chunk, size_t cap, result_t *r)
{
    int               rc;
    size_t            off, n, size;
    u_char           *buf, *o;
    const u_char     *ip, *end;
    fw_min_filter_t  *f;

    f = malloc(sizeof(fw_min_filter_t));
    buf = malloc(cap);
    size = len * 2 + 4096;
    r->out = malloc(size);
    r->len = 0;
    rc = FW_MIN_AGAIN;

    if (ref) {
        fw_min_ref_filter_init(f, p);
    } else {
        fw_min_filter_init(f, p);
    }

    for (off = 0; off < len && rc != FW_MIN_ERROR; off += n) {
        n = (chunk && len - off > chunk) ? chunk : len - off;
        ip = in + off;
        end = ip + n;

        while (ip < end && rc != FW_MIN_ERROR) {
            o = buf;
            rc = ref ? fw_min_ref_filter(f, &ip, end, &o, buf + cap)
                     : fw_min_filter(f, &ip, end, &o, buf + cap);
            assert_true(o >= buf && o <= buf + cap);
            assert_true(r->len + (size_t) (o - buf) <= size);
            memcpy(r->out + r->len, buf, (size_t) (o - buf));
            r->len += (size_t) (o - buf);
        }
    }

    if (rc != FW_MIN_ERROR) {
        rc = ref ? fw_min_ref_filter_finish(f) : fw_min_filter_finish(f);
    }

    r->rc = rc;
    r->err = f->err;
    r->in_total = f->in_total;
    r->out_total = f->out_total;
    free(buf);
    free(f);
}


/* all profiles, chunk sizes 0 (whole), 1, 2, ...; quick: fewer of both */
static void
compare(const u_char *in, size_t len, int quick)
{
    size_t            i, c;
    result_t          a, b;
    static const size_t  chunks[] = { 0, 3, 1, 2, 7, 16, 61, 1000 };

    for (i = quick ? 1 : 0;
         i < (quick ? 3 : sizeof(profs) / sizeof(profs[0]));
         i++)
    {
        for (c = 0; c < (quick ? 2 : sizeof(chunks) / sizeof(chunks[0]));
             c++)
        {
            run(1, &profs[i], in, len, chunks[c],
                chunks[c] ? FW_MIN_OUT_RESERVE + chunks[c] : 1 << 20, &a);
            run(0, &profs[i], in, len, chunks[c],
                chunks[c] ? FW_MIN_OUT_RESERVE + chunks[c] : 1 << 20, &b);

            if (a.rc != b.rc || a.len != b.len
                || memcmp(a.out, b.out, a.len) != 0
                || a.in_total != b.in_total || a.out_total != b.out_total
                || (a.err == NULL) != (b.err == NULL)
                || (a.err && strcmp(a.err, b.err) != 0))
            {
                print_error("differs: profile %zu chunk %zu: %.*s\n"
                            "ref %d %s in %zu: %.*s\nnew %d %s in %zu: "
                            "%.*s\n", i, chunks[c], (int) len, in,
                            a.rc, a.err ? a.err : "", a.in_total,
                            (int) a.len, a.out, b.rc, b.err ? b.err : "",
                            b.in_total, (int) b.len, b.out);
                fail();
            }

            free(a.out);
            free(b.out);
            checked++;
        }
    }
}


static int
setup(void **state)
{
    char  err[128];

    fw_min_profile_init(&profs[0]);
    fw_min_profile_init(&profs[1]);
    fw_min_profile_init(&profs[2]);
    fw_min_profile_init(&profs[3]);

    if (fw_min_profile_safe_harbor(&profs[1], err, sizeof(err)) != 0
        || fw_min_profile_elements(&profs[2], (const u_char *)
                                   "Patient:gender,birthDate,address", 32,
                                   err, sizeof(err)) != 0
        || fw_min_profile_types(&profs[2], (const u_char *) "Patient", 7,
                                err, sizeof(err)) != 0
        || fw_min_profile_drop(&profs[2], (const u_char *) "*.**.display",
                               12, err, sizeof(err)) != 0
        || fw_min_profile_drop(&profs[3], (const u_char *) "Patient.name",
                               12, err, sizeof(err)) != 0
        || fw_min_profile_elements(&profs[3], (const u_char *)
                                   "Observation:valueQuantity,component",
                                   35, err, sizeof(err)) != 0
        || fw_min_profile_safe_harbor(&profs[3], err, sizeof(err)) != 0)
    {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }

    return 0;
}


/* every document whole, in chunks and cut short */
static void
test_corpus(void **state)
{
    size_t  i, len, cut;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        len = strlen(docs[i]);
        compare((const u_char *) docs[i], len, 0);

        for (cut = 0; cut < len; cut += 3) {
            compare((const u_char *) docs[i], cut, 1);
        }
    }
}


/* every byte of the valid documents replaced by bytes of each class */
static void
test_mutations(void **state)
{
    size_t          i, j, k, len;
    u_char         *m;
    static const u_char  subst[] = {
        '"', '\\', ',', '}', ']', ' ', '0', 'e', 'u', 0x01
    };

    for (i = 0; i < 4; i++) {
        len = strlen(docs[i]);
        m = malloc(len);
        if (m == NULL) {
            fail_msg("out of memory");
            return;
        }

        for (j = 0; j < len; j++) {
            for (k = 0; k < sizeof(subst); k++) {
                memcpy(m, docs[i], len);

                if (m[j] == subst[k]) {
                    continue;
                }

                m[j] = subst[k];
                compare(m, len, 1);
            }
        }

        free(m);
    }
}


/*
 * Dropped containers (fw_min_skip()): nesting up to and past the depth
 * limit, keys up to and past FW_MIN_KEY_MAX, and what a skipped value
 * may hold, each whole, cut short and in chunks.
 */
static void
test_skipped(void **state)
{
    size_t   i, d, len, cut;
    u_char  *b;
    static const char  *vals[] = {
        "{}", "[]", "[{},[],{\"a\":[1,-2.5e+3,true,false,null,\"\"]}]",
        "{\"\":0,\"a b\":\"\\u00e9\\n\\\"\",\"x\":{\"y\":[[{\"z\":-0}]]}}",
        "{\"resourceType\":\"Patient\"}", "[1,2,]", "{\"a\":1,}",
        "{\"a\" 1}", "{\"a\":1 \"b\":2}", "[1}", "{\"a\":]", "[01]",
        "[1.]", "[-]", "[1e]", "[tru]", "[nul]", "[\"\\x\"]",
        "[\"\\u12g4\"]", "[\"a\tb\"]", "{\"k\\u0061\":1}", "{\"k\x01\":1}",
        "[ 1 , { \"a\" : [ ] } ,\n\"s\" ]", "[1 2]", "{1:2}", "[x]",
    };

    b = malloc(4096);
    if (b == NULL) {
        fail_msg("out of memory");
        return;
    }

    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        len = (size_t) sprintf((char *) b, "{\"resourceType\":\"Patient\","
                               "\"telecom\":%s,\"gender\":\"x\"}", vals[i]);
        compare(b, len, 0);

        for (cut = 0; cut < len; cut++) {
            compare(b, cut, 1);
        }
    }

    /* 100 levels in all: the root, telecom, then 97 .. 99 more */
    for (d = 96; d <= 100; d++) {
        len = (size_t) sprintf((char *) b, "{\"resourceType\":\"Patient\","
                               "\"telecom\":[");

        for (i = 0; i < d; i++) {
            b[len++] = (i & 1) ? '[' : '{';

            if (!(i & 1)) {
                len += (size_t) sprintf((char *) b + len, "\"k\":");
            }
        }

        if (!((d - 1) & 1)) {
            /* the innermost is an object: its "k" gets a value */
            b[len++] = '0';
        }

        for (i = d; i-- > 0; /* void */) {
            b[len++] = (i & 1) ? ']' : '}';
        }

        len += (size_t) sprintf((char *) b + len, "]}");
        compare(b, len, 0);
    }

    /* keys of 127 .. 130 bytes in a dropped object, in any chunking */
    for (d = 127; d <= 130; d++) {
        len = (size_t) sprintf((char *) b, "{\"resourceType\":\"Patient\","
                               "\"name\":[{\"");
        memset(b + len, 'k', d);
        len += d;
        len += (size_t) sprintf((char *) b + len, "\":1}]}");
        compare(b, len, 0);
    }

    free(b);
}


/* the bench's Bundle (bench/minimise/driver.c), a long one */
static void
test_bundle(void **state)
{
    size_t   i, len;
    u_char  *b;

    b = malloc(200 * 1000);
    len = 0;
    len += (size_t) sprintf((char *) b, "{\"resourceType\":\"Bundle\","
                            "\"entry\":[");

    for (i = 0; i < 100; i++) {
        len += (size_t) sprintf((char *) b + len, "%s{\"resource\":%s}",
                                i ? "," : "", docs[i % 2]);
    }

    len += (size_t) sprintf((char *) b + len, "]}");
    compare(b, len, 0);
    free(b);
    print_message("differential: %zu runs compared\n", checked);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_skipped),
        cmocka_unit_test(test_bundle),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
