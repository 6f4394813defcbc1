/*
 * fhirwall JWT: libFuzzer harness for the DPoP proof verifier, the htu
 * comparison, the JWK thumbprint and the certificate binding.
 *
 * The first byte chooses: 0-3, a proof (verified for a fixed request, with
 * and without an access token and a nonce); 4, two htu values split at the
 * first NUL; 5, a JWK (thumbprint); else a token payload whose cnf is read
 * and compared with the rest of the input as a certificate.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_dpop.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define FUZZ_HTU  "https://api.example.org/fhir/Patient"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               jkt[FW_JWT_THUMB_LEN + 1];
    json_t              *j;
    const u_char        *p, *nul;
    size_t               n;
    json_error_t         e;
    fw_jwt_str_t         nonce, v;
    fw_jwt_dpop_req_t    rq;
    fw_jwt_dpop_proof_t  out;
    static int           inited;

    if (!inited) {
        if (fw_jwt_init() != FW_OK) {
            abort();
        }

        inited = 1;
    }

    if (size == 0) {
        return 0;
    }

    p = data + 1;
    n = size - 1;

    switch (data[0] & 7) {

    case 0: case 1: case 2: case 3:
        memset(&rq, 0, sizeof(rq));
        rq.algs = FW_JWT_ALGS_ALL;
        rq.now = 1700000000;
        rq.window = 60;
        rq.leeway = 5;
        rq.htm.data = (const u_char *) "GET";
        rq.htm.len = 3;
        rq.htu.data = (const u_char *) FUZZ_HTU;
        rq.htu.len = sizeof(FUZZ_HTU) - 1;

        if (data[0] & 1) {
            rq.token.data = (const u_char *) "a.b.c";
            rq.token.len = 5;
        }

        if (data[0] & 2) {
            nonce.data = (const u_char *) "n";
            nonce.len = 1;
            rq.nonces = &nonce;
            rq.nnonces = 1;
        }

        (void) fw_jwt_dpop_verify(&rq, p, n, &out);
        break;

    case 4:
        nul = memchr(p, '\0', n);

        if (nul != NULL) {
            (void) fw_jwt_dpop_htu_match(p, nul - p, nul + 1,
                                         n - (nul - p) - 1);
        }

        break;

    case 5:
        j = json_loadb((const char *) p, n, JSON_REJECT_DUPLICATES, &e);
        (void) fw_jwt_jwk_thumbprint(j, jkt);
        json_decref(j);
        break;

    default:
        nul = memchr(p, '\0', n);

        if (nul == NULL) {
            break;
        }

        j = json_loadb((const char *) p, nul - p, JSON_REJECT_DUPLICATES, &e);

        if (j != NULL && fw_jwt_cnf_get(j, "x5t#S256", &v) == 1) {
            (void) fw_jwt_x5t_match(&v, nul + 1, n - (nul - p) - 1);
        }

        (void) fw_jwt_cnf_get(j, "jkt", &v);
        json_decref(j);
        break;
    }

    return 0;
}
