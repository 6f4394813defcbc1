/*
 * fw-audit-hash: the redaction hash ("fwh-<epoch>-<hex>") of identifiers,
 * as the audit module writes them, so that an investigator holding the
 * key can find the records of a patient.
 *
 *   fw-audit-hash -k KEYFILE [-e EPOCH[-EPOCH] | -t TIME] [-l LENGTH]
 *                 VALUE...
 *
 * -e: the epoch (or an inclusive range, at most 1000000 epochs); -t: the
 * epoch of a time (Unix seconds); neither: the epoch of now.  -l: the key
 * file's epoch length ("epoch=" of fw_audit_key_file: 600, 10m, 1h, off;
 * default 10m).  Prints one hash a line: for each value, each epoch.
 * A value "Type/id" is hashed as the module does ("Patient/fwh-...").
 *
 *   grep -F -f <(fw-audit-hash -k audit.key -e 2941000-2941200 MRN-884512)
 *
 * Exit status: 0, or 2 on a usage or I/O error.
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "fw_audit.h"
#include "fw_audit_redact.h"


#define FW_HASH_MAX_EPOCHS  1000000ULL


static int read_key(const char *name, u_char *buf, size_t size,
    size_t *len);
static int parse_length(const char *s, int64_t *ms);
static int parse_u64(const char *s, const char **end, uint64_t *out);
static void usage(void);


static int
read_key(const char *name, u_char *buf, size_t size, size_t *len)
{
    FILE  *f;
    int    c;

    f = fopen(name, "rb");
    if (f == NULL) {
        fprintf(stderr, "fw-audit-hash: %s: %s\n", name, strerror(errno));
        return -1;
    }

    *len = fread(buf, 1, size, f);
    c = fgetc(f);

    if (ferror(f) || c != EOF) {
        fprintf(stderr, "fw-audit-hash: %s: %s\n", name,
                c != EOF ? "longer than 4096 bytes" : "read error");
        fclose(f);
        return -1;
    }

    fclose(f);

    return 0;
}


static int
parse_u64(const char *s, const char **end, uint64_t *out)
{
    uint64_t  n;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    for (n = 0; *s >= '0' && *s <= '9'; s++) {
        if (n > (UINT64_MAX - 9) / 10) {
            return -1;
        }

        n = n * 10 + (uint64_t) (*s - '0');
    }

    *out = n;
    *end = s;

    return 0;
}


static int
parse_length(const char *s, int64_t *ms)
{
    uint64_t     n, unit;
    const char  *p;

    if (strcmp(s, "off") == 0) {
        *ms = 0;
        return 0;
    }

    if (parse_u64(s, &p, &n) != 0) {
        return -1;
    }

    switch (*p) {
    case '\0': case 's': unit = 1000; break;
    case 'm': unit = 60000; break;
    case 'h': unit = 3600000; break;
    case 'd': unit = 86400000; break;
    default: return -1;
    }

    if (*p && p[1] != '\0') {
        return -1;
    }

    if (n == 0 || n > (uint64_t) INT64_MAX / unit / 2) {
        return -1;
    }

    *ms = (int64_t) (n * unit);

    return 0;
}


static void
usage(void)
{
    fprintf(stderr, "usage: fw-audit-hash -k KEYFILE [-e EPOCH[-EPOCH] | "
            "-t UNIXTIME] [-l LENGTH] VALUE...\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int                   i, rc;
    u_char                secret[4096], base[FW_AUDIT_MAC_LEN];
    u_char                key[FW_AUDIT_MAC_LEN], out[512];
    size_t                len, secret_len, n;
    int64_t               length_ms;
    uint64_t              from, to, e, t;
    const char           *key_file, *p;
    fw_audit_redactor_t   rd;

    key_file = NULL;
    length_ms = 600000;
    from = to = 0;
    t = (uint64_t) time(NULL);
    rc = 0;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {

        if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) {
            key_file = argv[++i];

        } else if (strcmp(argv[i], "-l") == 0 && i + 1 < argc) {
            if (parse_length(argv[++i], &length_ms) != 0) {
                fprintf(stderr, "fw-audit-hash: invalid length \"%s\"\n",
                        argv[i]);
                return 2;
            }

        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            if (parse_u64(argv[++i], &p, &t) != 0 || *p
                || t > (uint64_t) INT64_MAX / 1000)
            {
                fprintf(stderr, "fw-audit-hash: invalid time \"%s\"\n",
                        argv[i]);
                return 2;
            }

        } else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
            i++;

            if (parse_u64(argv[i], &p, &from) != 0) {
                goto bad_epoch;
            }

            to = from;

            if (*p == '-' && parse_u64(p + 1, &p, &to) != 0) {
                goto bad_epoch;
            }

            if (*p || to < from || to - from >= FW_HASH_MAX_EPOCHS) {
                goto bad_epoch;
            }

            rc = 1;

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

    if (!rc) {
        from = to = fw_audit_redact_epoch((int64_t) t * 1000, length_ms);
    }

    if (read_key(key_file, secret, sizeof(secret), &len) != 0) {
        return 2;
    }

    if (fw_audit_key_normalize(secret, len, &secret_len) != FW_AUDIT_OK) {
        fprintf(stderr, "fw-audit-hash: %s: key shorter than %d bytes\n",
                key_file, FW_AUDIT_KEY_MIN);
        OPENSSL_cleanse(secret, sizeof(secret));
        return 2;
    }

    fw_audit_redact_base(secret, secret_len, base);
    OPENSSL_cleanse(secret, sizeof(secret));

    rd.hmac = NULL;

    for (; i < argc; i++) {
        for (e = from; ; e++) {
            fw_audit_redact_epoch_key(base, e, key);

            if (rd.hmac == NULL) {
                rd.hmac = fw_audit_hmac_create(key, sizeof(key));

            } else if (fw_audit_hmac_rekey(rd.hmac, key, sizeof(key))
                       != FW_AUDIT_OK)
            {
                fw_audit_hmac_destroy(rd.hmac);
                rd.hmac = NULL;
            }

            if (rd.hmac == NULL) {
                fprintf(stderr, "fw-audit-hash: out of memory\n");
                return 2;
            }

            rd.epoch = e;

            n = fw_audit_redact_value(&rd, FW_AUDIT_R_HASH,
                                      (const u_char *) argv[i],
                                      strlen(argv[i]), out, sizeof(out));
            if (n == 0) {
                fprintf(stderr, "fw-audit-hash: cannot hash \"%s\"\n",
                        argv[i]);
                rc = 2;
                break;
            }

            printf("%.*s\n", (int) n, out);

            if (e == to) {
                break;
            }
        }

        if (rc == 2) {
            break;
        }
    }

    OPENSSL_cleanse(base, sizeof(base));
    OPENSSL_cleanse(key, sizeof(key));
    fw_audit_hmac_destroy(rd.hmac);

    return rc == 2 ? 2 : 0;

bad_epoch:

    fprintf(stderr, "fw-audit-hash: invalid epoch \"%s\"\n", argv[i]);
    return 2;
}
