/*
 * fhirwall bench: the DPoP proof check (fw_jwt_dpop_verify()) in a loop,
 * for instruction counts (callgrind).  Not a test.
 *
 *   fw-jwt-dpop NOW HTU TOKEN PROOFS
 *
 * PROOFS: a file of proofs, one a line (fw-jwt-mint -D GET -U HTU -A
 * TOKEN, one per jti), all with iat near NOW.  Prints the verdicts
 * counted ("ok N" when every proof passed).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_bench.h"
#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_dpop.h"


int
main(int argc, char **argv)
{
    int                  rc;
    u_char              *proofs, *p, *e;
    size_t               len, ok, bad;
    fw_jwt_dpop_req_t    rq;
    fw_jwt_dpop_proof_t  out;

    if (argc != 5) {
        fprintf(stderr, "usage: fw-jwt-dpop NOW HTU TOKEN PROOFS\n");
        return 2;
    }

    if (fw_jwt_init() != FW_OK) {
        return 1;
    }

    proofs = fw_bench_read(argv[4], &len);
    if (proofs == NULL) {
        fprintf(stderr, "fw-jwt-dpop: cannot read %s\n", argv[4]);
        return 1;
    }

    memset(&rq, 0, sizeof(rq));
    rq.algs = FW_JWT_ALGS_ALL;
    rq.now = (time_t) atol(argv[1]);
    rq.window = 300;
    rq.leeway = 60;
    rq.htm.data = (u_char *) "GET";
    rq.htm.len = 3;
    rq.htu.data = (u_char *) argv[2];
    rq.htu.len = strlen(argv[2]);
    rq.token.data = (u_char *) argv[3];
    rq.token.len = strlen(argv[3]);

    ok = 0;
    bad = 0;

    for (p = proofs; p < proofs + len; p = e + 1) {
        e = memchr(p, '\n', proofs + len - p);
        if (e == NULL) {
            e = proofs + len;
        }

        if (e == p) {
            continue;
        }

        rc = fw_jwt_dpop_verify(&rq, p, e - p, &out);

        if (rc == FW_JWT_DPOP_OK) {
            ok++;

        } else {
            bad++;
            fprintf(stderr, "fw-jwt-dpop: %s\n", fw_jwt_dpop_reason(rc));
        }
    }

    printf("ok %zu\nbad %zu\n", ok, bad);

    fw_jwt_dpop_cleanup();
    free(proofs);

    return bad != 0;
}
