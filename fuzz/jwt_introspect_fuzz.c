/*
 * fhirwall JWT: libFuzzer harness for the introspection core (RFC 7662):
 * the answer's parser and its cache expiry, the JWS test, the issuer read
 * from a JWS (fw_jwt_introspect_issuers) and the form encoding of the
 * token, on the same input.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_introspect.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc, jws;
    u_char        *body;
    size_t         n;
    json_t        *payload;
    time_t         until;
    fw_jwt_str_t   iss[2];

    rc = fw_jwt_introspect_parse(data, size, &payload);

    if (rc == FW_JWT_VALID) {
        if (payload == NULL) {
            abort();
        }

        until = fw_jwt_introspect_expiry(payload, 1700000000, 300);

        if (until < 1700000000 || until > 1700000300) {
            abort();
        }

        json_decref(payload);

    } else if (payload != NULL
               || (rc != FW_JWT_INACTIVE
                   && rc != FW_JWT_INTROSPECTION_FAILED))
    {
        abort();
    }

    jws = fw_jwt_is_jws(data, size);

    iss[0].data = (const u_char *) "https://as.example";
    iss[0].len = sizeof("https://as.example") - 1;
    iss[1].data = (const u_char *) "";
    iss[1].len = 0;

    rc = fw_jwt_introspect_issuer(data, size, iss, 2, size);

    if ((rc != 0 && rc != 1) || (rc && !jws)) {
        abort();
    }

    if (size > 4096) {
        return 0;
    }

    body = malloc(fw_jwt_introspect_body_len(size));
    if (body == NULL) {
        return 0;
    }

    n = fw_jwt_introspect_body(body, data, size);

    if (n > fw_jwt_introspect_body_len(size)
        || n != sizeof("token=&token_type_hint=access_token") - 1
                + fw_jwt_form_encoded_len(data, size))
    {
        abort();
    }

    free(body);

    return 0;
}
