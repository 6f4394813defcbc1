/*
 * fhirwall bench: the JWT core's uncached verification path in a loop,
 * for instruction counts (callgrind, perf stat).  Not a test.
 *
 *   fw-jwt-verify ALG KEYFILE TOKENS [ROUNDS]
 *
 * ALG is a JWT algorithm name (HS* keys are base64url secret files),
 * TOKENS a file of tokens, one a line (fw-jwt-mint -N); every token is
 * decoded, verified and its claims checked ROUNDS times (default 1), as
 * the module does on a cache miss.  Prints the verdicts counted.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_bench.h"
#include "fw_codec.h"
#include "fw_jwt.h"


#define FW_BENCH_MAX_TOKENS  100000


int
main(int argc, char **argv)
{
    int                    alg, rc, rounds, r;
    char                   err[FW_JWT_ERRLEN];
    u_char                *key, *toks, *p, *e;
    size_t                 klen, tlen, ntok, i, counts[FW_JWT_NSTATUS];
    size_t                 starts[FW_BENCH_MAX_TOKENS];
    size_t                 lens[FW_BENCH_MAX_TOKENS];
    fw_jwt_token_t         t;
    fw_jwt_keyset_t        ks;
    fw_jwt_claims_conf_t   cc;

    if (argc < 4) {
        fprintf(stderr, "usage: fw-jwt-verify ALG KEYFILE TOKENS [ROUNDS]\n");
        return 2;
    }

    alg = fw_jwt_alg_from_name((const u_char *) argv[1], strlen(argv[1]));
    rounds = argc > 4 ? atoi(argv[4]) : 1;

    if (alg < 0 || rounds < 1 || fw_jwt_init() != FW_OK) {
        fprintf(stderr, "fw-jwt-verify: bad algorithm or rounds\n");
        return 2;
    }

    key = fw_bench_read(argv[2], &klen);
    toks = fw_bench_read(argv[3], &tlen);

    if (key == NULL || toks == NULL) {
        fprintf(stderr, "fw-jwt-verify: cannot read the files\n");
        return 2;
    }

    fw_jwt_keyset_init(&ks);
    ks.algs = FW_JWT_ALG_BIT(alg);

    if (alg <= FW_JWT_HS512) {
        rc = fw_jwt_keyset_add_secret(&ks, key, klen, FW_JWT_SECRET_BASE64URL,
                                      NULL, 0, -1, err);
    } else {
        rc = fw_jwt_keyset_add_pem(&ks, key, klen, NULL, 0, -1, err);
    }

    if (rc != FW_OK || fw_jwt_keyset_check(&ks, err) != FW_OK) {
        fprintf(stderr, "fw-jwt-verify: key: %s\n", err);
        return 2;
    }

    ntok = 0;

    for (p = toks; p < toks + tlen && ntok < FW_BENCH_MAX_TOKENS; p = e + 1) {
        e = (u_char *) memchr(p, '\n', (size_t) (toks + tlen - p));
        if (e == NULL) {
            e = toks + tlen;
        }

        if (e > p) {
            starts[ntok] = (size_t) (p - toks);
            lens[ntok++] = (size_t) (e - p);
        }
    }

    memset(&cc, 0, sizeof(cc));
    cc.now = time(NULL);
    cc.require_exp = 1;
    cc.typ = FW_JWT_TYP_EITHER;

    memset(counts, 0, sizeof(counts));

    for (r = 0; r < rounds; r++) {
        for (i = 0; i < ntok; i++) {
            rc = fw_jwt_decode(&t, toks + starts[i], lens[i],
                               FW_JWT_DEFAULT_MAX);

            if (rc == FW_JWT_VALID) {
                rc = fw_jwt_verify(&ks, &t, toks + starts[i]);
            }

            if (rc == FW_JWT_VALID) {
                rc = fw_jwt_check_claims(&cc, &t);
            }

            fw_jwt_token_free(&t);
            counts[rc]++;
        }
    }

    for (i = 0; i < FW_JWT_NSTATUS; i++) {
        if (counts[i]) {
            printf("%s %zu\n", fw_jwt_status_name((int) i), counts[i]);
        }
    }

    fw_jwt_keyset_free(&ks);
    free(key);
    free(toks);

    return 0;
}
