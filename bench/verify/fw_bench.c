/*
 * fhirwall bench: what the bench/verify drivers share (fw-jwt-verify.c,
 * fw-jwt-dpop.c).  Not a test.
 */


#include <stdio.h>
#include <stdlib.h>

#include "fw_bench.h"


u_char *
fw_bench_read(const char *path, size_t *len)
{
    FILE    *f;
    long     n;
    u_char  *p;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    p = malloc((size_t) n + 1);

    if (p == NULL || fread(p, 1, (size_t) n, f) != (size_t) n) {
        free(p);
        fclose(f);
        return NULL;
    }

    fclose(f);
    p[n] = '\0';
    *len = (size_t) n;

    return p;
}
