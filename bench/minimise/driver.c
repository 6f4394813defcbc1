/*
 * The minimise filter's cost per input byte, for callgrind (the machine
 * is shared, wrk figures are noisy; instruction counts are not):
 *
 *   bench/minimise/run [entries [chunk [elements=Type:a,b,...]]]
 *
 * builds the Bundle of bench/cases/minimise-base.case with that many
 * entries (default 100), filters it with the safe-harbor profile (or an
 * elements= one; in
 * chunks of that size, default the whole body at once, into 16 KB
 * output buffers as the module does) and prints the bytes in, out and a
 * hash of the output.  Not part of the test command.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_minimise.h"


static size_t bundle(u_char *buf, size_t n);


static size_t
bundle(u_char *buf, size_t n)
{
    size_t  i, len;

    len = (size_t) sprintf((char *) buf,
        "{\"resourceType\":\"Bundle\",\"id\":\"s1\",\"type\":\"searchset\","
        "\"total\":%zu,\"link\":[{\"relation\":\"self\",\"url\":"
        "\"http://fhir.example.org/Patient?_count=%zu\"}],\"entry\":[",
        n, n);

    for (i = 1; i <= n; i++) {
        len += (size_t) sprintf((char *) buf + len,
            "%s{\"fullUrl\":\"http://fhir.example.org/Patient/p%zu\","
            "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p%zu\","
            "\"meta\":{\"versionId\":\"1\",\"lastUpdated\":"
            "\"2026-11-01T10:00:00Z\"},\"text\":{\"status\":\"generated\","
            "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">"
            "Patient %zu</div>\"},\"identifier\":[{\"use\":\"usual\","
            "\"system\":\"urn:oid:1.2.36.146.595.217.0.1\",\"value\":"
            "\"MRN-%zu\"}],\"active\":true,\"name\":[{\"use\":\"official\","
            "\"family\":\"Family%zu\",\"given\":[\"Given%zu\",\"Middle\"]}],"
            "\"telecom\":[{\"system\":\"phone\",\"value\":\"555-01%zu\","
            "\"use\":\"home\"}],\"gender\":\"female\",\"birthDate\":"
            "\"1980-01-15\",\"address\":[{\"use\":\"home\",\"line\":"
            "[\"%zu Main St\"],\"city\":\"Town\",\"state\":\"MA\","
            "\"postalCode\":\"02%zu\",\"country\":\"US\"}],"
            "\"maritalStatus\":{\"coding\":[{\"system\":"
            "\"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus\","
            "\"code\":\"M\",\"display\":\"Married\"}]},"
            "\"generalPractitioner\":[{\"reference\":\"Practitioner/1\","
            "\"display\":\"Dr Adam Careful\"}]},\"search\":{\"mode\":"
            "\"match\"}}",
            i > 1 ? "," : "", i, i, i, i, i, i, i, i, i);
    }

    len += (size_t) sprintf((char *) buf + len, "]}\n");

    return len;
}


int
main(int argc, char **argv)
{
    int               rc;
    char              err[128];
    size_t            n, chunk, out_total;
    uint64_t          h;
    u_char           *in, *obuf, *o, *q;
    const u_char     *p, *end, *cend;
    fw_min_filter_t  *f;
    fw_min_profile_t *prof;

    n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
    chunk = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;

    in = malloc(1100 * n + 1024);
    obuf = malloc(16384);
    f = malloc(sizeof(fw_min_filter_t));
    prof = malloc(sizeof(fw_min_profile_t));

    if (in == NULL || obuf == NULL || f == NULL || prof == NULL) {
        return 1;
    }

    fw_min_profile_init(prof);

    if (argc > 3 && strncmp(argv[3], "elements=", 9) == 0) {
        /* an elements= profile (e.g. the billing one of docs/minimise.md) */
        if (fw_min_profile_elements(prof, (u_char *) argv[3] + 9,
                                    strlen(argv[3] + 9), err, sizeof(err))
            != 0)
        {
            fprintf(stderr, "%s\n", err);
            return 1;
        }

    } else if (fw_min_profile_safe_harbor(prof, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    end = in + bundle(in, n);
    fw_min_filter_init(f, prof);

    p = in;
    out_total = 0;
    h = 14695981039346656037ULL;
    rc = FW_MIN_AGAIN;

    while (p < end && rc == FW_MIN_AGAIN) {
        cend = (chunk && (size_t) (end - p) > chunk) ? p + chunk : end;

        while (p < cend && rc == FW_MIN_AGAIN) {
            o = obuf;
            rc = fw_min_filter(f, &p, cend, &o, obuf + 16384);

            for (q = obuf; q < o; q++) {
                h = (h ^ *q) * 1099511628211ULL;
            }

            out_total += (size_t) (o - obuf);
        }
    }

    if (rc == FW_MIN_AGAIN) {
        rc = fw_min_filter_finish(f);
    }

    printf("entries %zu: %zu bytes in, %zu out, hash %016llx, %s\n", n,
           (size_t) (end - in), out_total, (unsigned long long) h,
           rc == FW_MIN_DONE ? "done" : f->err ? f->err : "?");

    return rc == FW_MIN_DONE ? 0 : 1;
}
