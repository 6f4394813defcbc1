/*
 * fw-audit-verify: checks the HMAC chains of fhirwall audit logs.
 *
 *   fw-audit-verify -k KEYFILE [--allow-open] [--allow-partial]
 *                   [--skip-other] [--max-epoch N] [-q] FILE...
 *
 * FILEs are read in the order given (rotated files oldest first; "-" is
 * standard input).  Every problem is printed as "FILE:LINE: error: ..."
 * naming the record.  Exit status: 0 all chains intact, 1 a problem was
 * found, 2 usage or I/O error.
 *
 * --allow-open: a chain without its end record (still being written) is a
 * warning; --allow-partial: a chain without its first records (they are in
 * older files not given) is a warning.
 *
 * --skip-other skips lines that do not start with "{" (a stream that
 * mixes the records with other output, e.g. stderr); a record made
 * unrecognisable that way still leaves a gap in its chain.
 */


#define _GNU_SOURCE 1

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fw_audit.h"


static void report(void *data, int level, const char *file, uint64_t line,
    const char *msg);
static int read_file(const char *name, u_char **data, size_t *len);
static void usage(void);


static int  quiet;


static void
report(void *data, int level, const char *file, uint64_t line,
    const char *msg)
{
    if (quiet && level == FW_AUDIT_V_WARNING) {
        return;
    }

    if (file) {
        printf("%s:%llu: %s: %s\n", file, (unsigned long long) line,
               level == FW_AUDIT_V_ERROR ? "error" : "warning", msg);

    } else {
        printf("%s: %s\n", level == FW_AUDIT_V_ERROR ? "error" : "warning",
               msg);
    }
}


static int
read_file(const char *name, u_char **data, size_t *len)
{
    FILE    *f;
    u_char  *buf, *nb;
    size_t   size, n;

    f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    if (f == NULL) {
        fprintf(stderr, "fw-audit-verify: %s: %s\n", name, strerror(errno));
        return -1;
    }

    size = 65536;
    *len = 0;
    buf = malloc(size);

    while (buf) {
        n = fread(buf + *len, 1, size - *len, f);
        *len += n;

        if (n == 0) {
            break;
        }

        if (*len == size) {
            size *= 2;
            nb = realloc(buf, size);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }

    if (buf == NULL || ferror(f)) {
        fprintf(stderr, "fw-audit-verify: %s: read error\n", name);
        free(buf);
        if (f != stdin) {
            fclose(f);
        }
        return -1;
    }

    if (f != stdin) {
        fclose(f);
    }

    *data = buf;

    return 0;
}


static void
usage(void)
{
    fprintf(stderr, "usage: fw-audit-verify -k KEYFILE [--allow-open] "
            "[--allow-partial] [--skip-other] [--max-epoch N] [-q] "
            "FILE...\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int                   i, allow_open, allow_partial, skip_other;
    char                 *end;
    FILE                 *f;
    char                 *line;
    u_char               *key;
    size_t                key_len, len, cap;
    ssize_t               n;
    uint64_t              max_epoch, lineno, errors, records, chains, warns,
                          skipped;
    const char           *key_file;
    fw_audit_verifier_t  *v;

    key_file = NULL;
    skip_other = 0;
    allow_partial = 0;
    skipped = 0;
    line = NULL;
    cap = 0;
    allow_open = 0;
    max_epoch = 10000000;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) {
            key_file = argv[++i];

        } else if (strcmp(argv[i], "--allow-open") == 0) {
            allow_open = 1;

        } else if (strcmp(argv[i], "--allow-partial") == 0) {
            allow_partial = 1;

        } else if (strcmp(argv[i], "--skip-other") == 0) {
            skip_other = 1;

        } else if (strcmp(argv[i], "--max-epoch") == 0 && i + 1 < argc) {
            max_epoch = strtoull(argv[++i], &end, 10);
            if (*end != '\0') {
                usage();
            }

        } else if (strcmp(argv[i], "-q") == 0) {
            quiet = 1;

        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;

        } else {
            usage();
        }
    }

    if (key_file == NULL || i == argc) {
        usage();
    }

    if (read_file(key_file, &key, &len) != 0) {
        return 2;
    }

    if (fw_audit_key_normalize(key, len, &key_len) != FW_AUDIT_OK) {
        fprintf(stderr, "fw-audit-verify: %s: key shorter than %d bytes\n",
                key_file, FW_AUDIT_KEY_MIN);
        return 2;
    }

    v = fw_audit_verifier_create(key, key_len, max_epoch, allow_open,
                                 report, NULL);
    OPENSSL_cleanse(key, len);
    free(key);

    if (v == NULL) {
        fprintf(stderr, "fw-audit-verify: out of memory\n");
        return 2;
    }

    if (allow_partial) {
        fw_audit_verifier_allow_partial(v);
    }

    for ( /* void */ ; i < argc; i++) {
        f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "fw-audit-verify: %s: %s\n", argv[i],
                    strerror(errno));
            return 2;
        }

        lineno = 0;

        while ((n = getline(&line, &cap, f)) > 0) {
            lineno++;

            if (skip_other && line[0] != '{') {
                skipped++;
                continue;
            }

            if (line[n - 1] != '\n') {
                fw_audit_verifier_add(v, argv[i], lineno, (u_char *) line,
                                      n);
                fw_audit_verifier_partial(v, argv[i], lineno);
                break;
            }

            if (n > 1) {
                fw_audit_verifier_add(v, argv[i], lineno, (u_char *) line,
                                      n - 1);
            }
        }

        if (ferror(f)) {
            fprintf(stderr, "fw-audit-verify: %s: read error\n", argv[i]);
            return 2;
        }

        if (f != stdin) {
            fclose(f);
        }
    }

    free(line);

    errors = fw_audit_verifier_finish(v, &records, &chains, &warns);
    fw_audit_verifier_destroy(v);

    if (skipped) {
        printf("fw-audit-verify: %llu other lines skipped\n",
               (unsigned long long) skipped);
    }

    printf("fw-audit-verify: %llu records, %llu chains, %llu errors, "
           "%llu warnings: %s\n", (unsigned long long) records,
           (unsigned long long) chains, (unsigned long long) errors,
           (unsigned long long) warns, errors ? "FAILED" : "OK");

    return errors ? 1 : 0;
}
