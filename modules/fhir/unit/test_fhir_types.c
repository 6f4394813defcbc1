/*
 * The generated type table against the FHIR resource type lists in
 * shared/data/fhir (FW_FHIR_DATA, or ../shared/data/fhir and
 * ../../shared/data/fhir from the repository root), and its invariants.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fw_fhir.h"


static const char *
data_dir(void)
{
    static const char  *dirs[] = { "../shared/data/fhir",
                                   "../../shared/data/fhir", NULL };
    const char          *env;
    char                 path[512];
    FILE                *f;
    int                  i;

    env = getenv("FW_FHIR_DATA");
    if (env && *env) {
        return env;
    }

    for (i = 0; dirs[i]; i++) {
        snprintf(path, sizeof(path), "%s/r4-resource-types.txt", dirs[i]);
        f = fopen(path, "r");
        if (f) {
            fclose(f);
            return dirs[i];
        }
    }

    return NULL;
}


static void
check_version(const char *dir, const char *file, unsigned version,
    unsigned index)
{
    char      path[512], line[256];
    size_t    len;
    unsigned  n, i, in_table;
    FILE     *f;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "r");
    assert_non_null(f);

    n = 0;

    while (fgets(line, sizeof(line), f)) {
        len = strcspn(line, "\r\n \t");
        line[len] = '\0';

        if (line[0] == '#' || len == 0) {
            continue;
        }

        n++;

        /* every listed name is in the table for this version */
        if (fw_fhir_type_lookup(version, (u_char *) line, len) < 0) {
            fail_msg("%s: %s missing from the generated table", file, line);
        }
    }

    fclose(f);

    /* and the table has no name of this version that is not listed */
    in_table = 0;

    for (i = 0; i < fw_fhir_ntypes; i++) {
        if (fw_fhir_types[i].versions & version) {
            in_table++;
        }
    }

    assert_int_equal(in_table, n);
    assert_int_equal(fw_fhir_version_ntypes[index], n);
}


static void
test_against_data(void **state)
{
    const char  *dir;

    dir = data_dir();

    if (dir == NULL) {
        /* a checkout without shared/: the counts test below still runs */
        skip();
    }

    check_version(dir, "r4-resource-types.txt", FW_FHIR_R4, 0);
    check_version(dir, "r4b-resource-types.txt", FW_FHIR_R4B, 1);
    check_version(dir, "r5-resource-types.txt", FW_FHIR_R5, 2);
}


static void
test_counts_and_order(void **state)
{
    unsigned  i;

    /* the numbers the reference gives */
    assert_int_equal(fw_fhir_version_ntypes[0], 146);
    assert_int_equal(fw_fhir_version_ntypes[1], 141);
    assert_int_equal(fw_fhir_version_ntypes[2], 158);

    for (i = 1; i < fw_fhir_ntypes; i++) {
        assert_true(strcmp(fw_fhir_types[i - 1].name, fw_fhir_types[i].name)
                    < 0);
    }

    for (i = 0; i < fw_fhir_ntypes; i++) {
        assert_int_equal(strlen(fw_fhir_types[i].name), fw_fhir_types[i].len);
        assert_int_equal(fw_fhir_type_lookup(0,
                             (u_char *) fw_fhir_types[i].name,
                             fw_fhir_types[i].len), (int) i);
    }

    assert_true(fw_fhir_ntypes < FW_FHIR_TYPE_BITMAP * 8);
}


static void
test_lookup(void **state)
{
    assert_true(fw_fhir_type_lookup(FW_FHIR_R4, (u_char *) "Patient", 7) >= 0);
    assert_int_equal(fw_fhir_type_lookup(FW_FHIR_R4, (u_char *) "patient", 7),
                     FW_FHIR_NONE);
    assert_int_equal(fw_fhir_type_lookup(FW_FHIR_R4, (u_char *) "Patien", 6),
                     FW_FHIR_NONE);
    assert_int_equal(fw_fhir_type_lookup(FW_FHIR_R4,
                                         (u_char *) "Patients", 8),
                     FW_FHIR_NONE);
    assert_true(fw_fhir_type_lookup(FW_FHIR_R4,
                                    (u_char *) "MedicinalProduct", 16) >= 0);
    assert_int_equal(fw_fhir_type_lookup(FW_FHIR_R4B,
                                         (u_char *) "MedicinalProduct", 16),
                     FW_FHIR_NONE);
    assert_int_equal(fw_fhir_type_lookup(FW_FHIR_R4,
                                         (u_char *) "ActorDefinition", 15),
                     FW_FHIR_NONE);
    assert_true(fw_fhir_type_lookup(FW_FHIR_R5,
                                    (u_char *) "ActorDefinition", 15) >= 0);
    assert_int_equal(fw_fhir_type_lookup(FW_FHIR_R4, (u_char *) "", 0),
                     FW_FHIR_NONE);
}


/* the hashed lookup: every name at its index, near misses nowhere */

static void
test_lookup_all(void **state)
{
    int       v;
    char      name[80];
    size_t    len;
    unsigned  i, k;

    for (i = 0; i < fw_fhir_ntypes; i++) {
        len = fw_fhir_types[i].len;
        memcpy(name, fw_fhir_types[i].name, len);

        assert_int_equal(fw_fhir_type_lookup(0, (u_char *) name, len),
                         (int) i);

        for (k = 0; k < 3; k++) {
            v = (k == 0) ? FW_FHIR_R4 : (k == 1) ? FW_FHIR_R4B : FW_FHIR_R5;

            assert_int_equal(fw_fhir_type_lookup(v, (u_char *) name, len),
                             (fw_fhir_types[i].versions & v) ? (int) i
                                                             : FW_FHIR_NONE);
        }

        /* one letter changed (first, middle, last), one more, one less */
        for (k = 0; k < 3; k++) {
            memcpy(name, fw_fhir_types[i].name, len);
            name[k == 0 ? 0 : k == 1 ? len / 2 : len - 1] ^= 0x20;
            assert_int_equal(fw_fhir_type_lookup(0, (u_char *) name, len),
                             FW_FHIR_NONE);
        }

        memcpy(name, fw_fhir_types[i].name, len);
        name[len] = 's';
        assert_true(fw_fhir_type_lookup(0, (u_char *) name, len + 1)
                    != (int) i);
        assert_true(fw_fhir_type_lookup(0, (u_char *) name, len - 1)
                    != (int) i);
    }

    memset(name, 'A', sizeof(name));
    assert_int_equal(fw_fhir_type_lookup(0, (u_char *) name, 65),
                     FW_FHIR_NONE);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_against_data),
        cmocka_unit_test(test_counts_and_order),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_lookup_all),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
