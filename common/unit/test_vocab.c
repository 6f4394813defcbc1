/*
 * Unit tests for common/fw_vocab.c: the table is consistent, the JWT
 * core's status names are all in it, and the docs list exactly its values
 * (docs/<module>.md: "Status values"; docs/DEVELOPING.md: every module).
 *
 * "test_vocab --markdown MODULE" prints a module's table as the docs have
 * it, "test_vocab --markdown all" the one of docs/DEVELOPING.md.
 * The docs are read from $FW_ROOT (default: the current directory, the
 * checkout's root when make runs the tests).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fw_vocab.h"
#include "fw_jwt.h"


#define DOC_MAX  (1024 * 1024)


static void test_table(void **state);
static void test_lookup(void **state);
static void test_order(void **state);
static void test_jwt_core(void **state);
static void test_module_docs(void **state);
static void test_developing(void **state);

static char *read_doc(const char *name);
static size_t markdown(char *buf, size_t size, const fw_vocab_module_t *m,
    int all);
static void check_doc(const char *doc, const char *file, const char *want);


static void
test_table(void **state)
{
    size_t                    i, j, k;
    const fw_vocab_module_t  *m;
    int                       passed;

    assert_true(fw_vocab_nmodules == 6);

    for (i = 0; i < fw_vocab_nmodules; i++) {
        m = &fw_vocab_modules[i];
        passed = 0;

        assert_non_null(m->module);
        assert_true(strncmp(m->variable, "$fw_", 4) == 0);
        assert_true(strncmp(m->variable + 4, m->module, strlen(m->module))
                    == 0);
        assert_true(m->nvalues > 1);

        for (j = 0; j < m->nvalues; j++) {
            assert_true(m->values[j].class >= FW_VOCAB_PASSED
                        && m->values[j].class <= FW_VOCAB_NOT_CHECKED);
            assert_true(strlen(m->values[j].value) > 0);
            assert_true(strlen(m->values[j].meaning) > 0);
            assert_null(strchr(m->values[j].meaning, '|'));

            passed += m->values[j].class == FW_VOCAB_PASSED;

            /* a value says one thing in a module */
            for (k = j + 1; k < m->nvalues; k++) {
                assert_string_not_equal(m->values[j].value,
                                        m->values[k].value);
            }
        }

        assert_true(passed >= 1);
    }
}


static void
test_lookup(void **state)
{
    const fw_vocab_module_t  *m;

    m = fw_vocab_module((const u_char *) "jwt", 3);
    assert_non_null(m);
    assert_string_equal(m->variable, "$fw_jwt_status");
    assert_null(fw_vocab_module((const u_char *) "jw", 2));
    assert_null(fw_vocab_module((const u_char *) "audit", 5));

    /* the values that mattered for the attribution */
    assert_int_equal(fw_vocab_class(m, (const u_char *) "off", 3),
                     FW_VOCAB_NOT_CHECKED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "valid", 5),
                     FW_VOCAB_PASSED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "expired", 7),
                     FW_VOCAB_DENIED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "", 0),
                     FW_VOCAB_NOT_CHECKED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "verified", 8), 0);

    m = fw_vocab_module((const u_char *) "ratelimit", 9);
    assert_non_null(m);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "dry-run", 7),
                     FW_VOCAB_PASSED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "error", 5),
                     FW_VOCAB_NOT_CHECKED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "unavailable", 11),
                     FW_VOCAB_DENIED);

    m = fw_vocab_module((const u_char *) "fhir", 4);
    assert_non_null(m);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "parsed", 6),
                     FW_VOCAB_NOT_CHECKED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "allowed", 7), 0);

    m = fw_vocab_module((const u_char *) "lockout", 7);
    assert_non_null(m);
    assert_false(m->response);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "allowed", 7),
                     FW_VOCAB_PASSED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "error", 5),
                     FW_VOCAB_NOT_CHECKED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "locked", 6),
                     FW_VOCAB_DENIED);

    m = fw_vocab_module((const u_char *) "minimise", 8);
    assert_non_null(m);
    assert_true(m->response);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "filtered", 8),
                     FW_VOCAB_PASSED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "none", 4),
                     FW_VOCAB_NOT_CHECKED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "bad_upstream", 12),
                     FW_VOCAB_DENIED);
    assert_int_equal(fw_vocab_class(m, (const u_char *) "deny", 4), 0);

    assert_string_equal(fw_vocab_class_name(FW_VOCAB_DENIED), "denied");
}


/* the order nginx runs the checks in: preaccess, access, precontent, the
   response filter (the audit module's default fw_audit_check list) */

static void
test_order(void **state)
{
    size_t  i;

    static const char  *order[] = {
        "ratelimit", "lockout", "jwt", "webhook", "fhir", "minimise"
    };

    assert_int_equal(fw_vocab_nmodules, sizeof(order) / sizeof(order[0]));

    for (i = 0; i < fw_vocab_nmodules; i++) {
        assert_string_equal(fw_vocab_modules[i].module, order[i]);

        /* only the last ones refuse an upstream's answer */
        assert_true(!fw_vocab_modules[i].response
                    || i == fw_vocab_nmodules - 1
                    || fw_vocab_modules[i + 1].response);
    }
}


/* every status the JWT core names is in the table: valid passes, the rest
   are denials */

static void
test_jwt_core(void **state)
{
    int                       i;
    const char               *s;
    const fw_vocab_module_t  *m;

    m = fw_vocab_module((const u_char *) "jwt", 3);
    assert_non_null(m);

    for (i = 0; i < FW_JWT_NSTATUS; i++) {
        s = fw_jwt_status_name(i);
        assert_int_equal(fw_vocab_class(m, (const u_char *) s, strlen(s)),
                         i == FW_JWT_VALID ? FW_VOCAB_PASSED
                                           : FW_VOCAB_DENIED);
    }

    /* and every denial of the table is one of the core's */
    for (i = 0; i < (int) m->nvalues; i++) {
        int  j, found;

        if (m->values[i].class != FW_VOCAB_DENIED) {
            continue;
        }

        found = 0;

        for (j = 0; j < FW_JWT_NSTATUS; j++) {
            found |= strcmp(fw_jwt_status_name(j), m->values[i].value) == 0;
        }

        assert_true(found);
    }
}


static char *
read_doc(const char *name)
{
    char        path[1024], *buf;
    size_t      n;
    FILE       *f;
    const char *root;

    root = getenv("FW_ROOT");
    snprintf(path, sizeof(path), "%s/docs/%s", root ? root : ".", name);

    f = fopen(path, "r");
    if (f == NULL) {
        fail_msg("cannot open %s (run from the checkout or set FW_ROOT)",
                 path);
    }

    buf = malloc(DOC_MAX + 1);
    assert_non_null(buf);
    n = fread(buf, 1, DOC_MAX, f);
    fclose(f);
    buf[n] = '\0';

    return buf;
}


static size_t
markdown(char *buf, size_t size, const fw_vocab_module_t *m, int all)
{
    size_t  i, j, n, from, to;

    n = 0;
    from = all ? 0 : (size_t) (m - fw_vocab_modules);
    to = all ? fw_vocab_nmodules : from + 1;

    if (all) {
        n += snprintf(buf + n, size - n, "| variable | value | class | "
                      "meaning |\n|---|---|---|---|\n");
    } else {
        n += snprintf(buf + n, size - n, "| `%s` | class | meaning |\n"
                      "|---|---|---|\n", m->variable);
    }

    for (i = from; i < to; i++) {
        m = &fw_vocab_modules[i];

        for (j = 0; j < m->nvalues && n < size; j++) {
            if (all) {
                n += snprintf(buf + n, size - n, "| `%s` ", m->variable);
            }

            n += snprintf(buf + n, size - n, "| `%s` | %s | %s |\n",
                          m->values[j].value,
                          fw_vocab_class_name(m->values[j].class),
                          m->values[j].meaning);
        }
    }

    assert_true(n < size);

    return n;
}


/* the doc holds the table, line for line, where its header line is */

static void
check_doc(const char *doc, const char *file, const char *want)
{
    const char  *nl, *at;
    size_t       len;

    nl = strchr(want, '\n');
    assert_non_null(nl);

    at = doc;

    for ( ;; ) {
        at = strstr(at, want);
        if (at == NULL) {
            break;
        }

        if (at == doc || at[-1] == '\n') {
            break;
        }

        at++;
    }

    if (at == NULL) {
        fail_msg("docs/%s: no status table equal to common/fw_vocab.c's, "
                 "starting \"%.*s\" (print it with: test_vocab --markdown)",
                 file, (int) (nl - want), want);
    }

    /* the next line is not another row of it */
    len = strlen(want);
    assert_true(at[len] != '|');
}


static void
test_module_docs(void **state)
{
    char    file[64], *doc, *want;
    size_t  i;

    want = malloc(65536);
    assert_non_null(want);

    for (i = 0; i < fw_vocab_nmodules; i++) {
        snprintf(file, sizeof(file), "%s.md", fw_vocab_modules[i].module);
        doc = read_doc(file);
        markdown(want, 65536, &fw_vocab_modules[i], 0);
        check_doc(doc, file, want);
        free(doc);
    }

    free(want);
}


static void
test_developing(void **state)
{
    char  *doc, *want;

    want = malloc(65536);
    assert_non_null(want);

    doc = read_doc("DEVELOPING.md");
    markdown(want, 65536, fw_vocab_modules, 1);
    check_doc(doc, "DEVELOPING.md", want);

    free(doc);
    free(want);
}


int
main(int argc, char **argv)
{
    char                      *buf;
    const fw_vocab_module_t   *m;

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_jwt_core),
        cmocka_unit_test(test_module_docs),
        cmocka_unit_test(test_developing),
    };

    if (argc == 3 && strcmp(argv[1], "--markdown") == 0) {
        buf = malloc(65536);
        if (buf == NULL) {
            return 1;
        }

        if (strcmp(argv[2], "all") == 0) {
            markdown(buf, 65536, fw_vocab_modules, 1);

        } else {
            m = fw_vocab_module((const u_char *) argv[2], strlen(argv[2]));
            if (m == NULL) {
                fprintf(stderr, "no module \"%s\"\n", argv[2]);
                return 1;
            }

            markdown(buf, 65536, m, 0);
        }

        fputs(buf, stdout);
        free(buf);
        return 0;
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
