/*
 * fhirwall JWT: libFuzzer harness for the claims scanner, differential:
 * the input is decoded header or payload JSON; fw_jwt_scan() must accept
 * exactly what the jansson path (fw_jwt_json_segment()) accepts, report
 * the same values, and fw_jwt_check_claims() must decide the same on the
 * scan as on the jansson documents.  Aborts on any difference.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_scan.h"


#define NEXTRA  9
#define NNAMES  (FW_JWT_SH_N + FW_JWT_SP_N + NEXTRA)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fuzz_init(void);
static void fuzz_same(const fw_jwt_scan_val_t *v, json_t *j);
static void fuzz_members(const fw_jwt_scan_val_t *v, json_t *j);
static void fuzz_claims(const u_char *json, size_t n);
static void fuzz_fail(const char *what);


static const char  *names[NNAMES];
static const char *const  extra[NEXTRA] = {
    "kty", "crv", "x", "y", "e", "n", "jkt", "x5t#S256", "a"
};


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "jwt_scan_fuzz: %s\n", what);
    abort();
}


static void
fuzz_init(void)
{
    size_t  i;

    if (fw_jwt_init() != FW_OK) {
        abort();
    }

    for (i = 0; i < FW_JWT_SH_N; i++) {
        names[i] = fw_jwt_scan_header_names[i];
    }

    for (i = 0; i < FW_JWT_SP_N; i++) {
        names[FW_JWT_SH_N + i] = fw_jwt_scan_payload_names[i];
    }

    for (i = 0; i < NEXTRA; i++) {
        names[FW_JWT_SH_N + FW_JWT_SP_N + i] = extra[i];
    }
}


/* fw_jwt_scan_members() of an object member (jwk, cnf) */

static void
fuzz_members(const fw_jwt_scan_val_t *v, json_t *j)
{
    size_t             i;
    u_char            *strs;
    fw_jwt_scan_val_t  m[NNAMES];

    strs = malloc(v->raw_len + 1);
    if (strs == NULL) {
        abort();
    }

    if (fw_jwt_scan_members(v, names, NNAMES, m, strs) != FW_OK) {
        fuzz_fail("an accepted member object refused");
    }

    for (i = 0; i < NNAMES; i++) {
        fuzz_same(&m[i], json_object_get(j, names[i]));
    }

    free(strs);
}


static void
fuzz_same(const fw_jwt_scan_val_t *v, json_t *j)
{
    size_t             i, pos;
    double             d;
    json_t            *e;
    fw_jwt_scan_val_t  ev;

    if (j == NULL) {
        if (v->type != FW_JWT_SV_ABSENT) {
            fuzz_fail("a member only the scanner found");
        }

        return;
    }

    switch (json_typeof(j)) {

    case JSON_STRING:
        if (v->type != FW_JWT_SV_STRING || v->len != json_string_length(j)
            || memcmp(v->str, json_string_value(j), v->len) != 0
            || !fw_jwt_scan_str_eq(v->raw, v->raw_len,
                                   (u_char *) json_string_value(j),
                                   json_string_length(j)))
        {
            fuzz_fail("strings differ");
        }

        break;

    case JSON_INTEGER:
    case JSON_REAL:
        d = json_number_value(j);

        if (v->type != (json_is_integer(j) ? FW_JWT_SV_INTEGER
                                           : FW_JWT_SV_REAL)
            || memcmp(&v->number, &d, sizeof(double)) != 0)
        {
            fuzz_fail("numbers differ");
        }

        break;

    case JSON_ARRAY:
        if (v->type != FW_JWT_SV_ARRAY) {
            fuzz_fail("types differ (array)");
        }

        pos = 0;

        json_array_foreach(j, i, e) {
            if (!fw_jwt_scan_next(v, &pos, &ev)) {
                fuzz_fail("array shorter");
            }

            if (json_is_string(e)
                != (ev.type == FW_JWT_SV_STRING)
                || (json_is_string(e)
                    && !fw_jwt_scan_str_eq(ev.raw, ev.raw_len,
                                           (u_char *) json_string_value(e),
                                           json_string_length(e))))
            {
                fuzz_fail("array elements differ");
            }
        }

        if (fw_jwt_scan_next(v, &pos, &ev)) {
            fuzz_fail("array longer");
        }

        break;

    case JSON_OBJECT:
        if (v->type != FW_JWT_SV_OBJECT) {
            fuzz_fail("types differ (object)");
        }

        fuzz_members(v, j);
        break;

    default:
        if (v->type != (json_is_object(j) ? FW_JWT_SV_OBJECT
                        : json_is_true(j) ? FW_JWT_SV_TRUE
                        : json_is_false(j) ? FW_JWT_SV_FALSE
                        : FW_JWT_SV_NULL))
        {
            fuzz_fail("types differ");
        }
    }
}


/* the text as a token's payload: the claims on the scan and on jansson */

static void
fuzz_claims(const u_char *json, size_t n)
{
    u_char                *tok, *p;
    size_t                 k;
    fw_jwt_str_t           vals[2];
    fw_jwt_token_t         t, g;
    fw_jwt_claims_conf_t   cc;
    static const char      hdr[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9";

    tok = malloc(sizeof(hdr) + fw_base64url_encoded_len(n) + 8);
    if (tok == NULL) {
        abort();
    }

    p = tok;
    memcpy(p, hdr, sizeof(hdr) - 1);
    p += sizeof(hdr) - 1;
    *p++ = '.';
    p += fw_base64url_encode(json, n, p);
    memcpy(p, ".c2ln", 5);
    p += 5;

    if (fw_jwt_decode(&t, tok, p - tok, (size_t) -1) != FW_JWT_VALID
        || fw_jwt_decode(&g, tok, p - tok, (size_t) -1) != FW_JWT_VALID)
    {
        fuzz_fail("an accepted payload refused in a token");
    }

    g.header = json_incref(fw_jwt_token_header(&g));
    g.payload = json_incref(fw_jwt_token_payload(&g));

    if (g.header == NULL || g.payload == NULL) {
        fuzz_fail("an accepted text jansson cannot parse");
    }

    vals[0].data = (u_char *) "https://idp";
    vals[0].len = 11;
    vals[1].data = (u_char *) "api";
    vals[1].len = 3;

    for (k = 0; k < 16; k++) {
        memset(&cc, 0, sizeof(cc));
        cc.now = (k & 8) ? 1700000000 : 0;
        cc.leeway = (k & 1) ? 60 : 0;
        cc.require_exp = (k & 2) ? 1 : 0;
        cc.max_lifetime = (k & 4) ? 3600 : 0;
        cc.typ = (int) (k % 4);
        cc.issuers = vals;
        cc.nissuers = k & 1;
        cc.audiences = vals + 1;
        cc.naudiences = (k >> 1) & 1;

        if (fw_jwt_check_claims(&cc, &t) != fw_jwt_check_claims(&cc, &g)) {
            fuzz_fail("claims verdicts differ");
        }
    }

    if (fw_jwt_cache_expiry(&t, 1000, 300)
        != fw_jwt_cache_expiry(&g, 1000, 300))
    {
        fuzz_fail("cache expiries differ");
    }

    fw_jwt_token_free(&t);
    fw_jwt_token_free(&g);
    free(tok);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    void               *keys;
    size_t              i;
    json_t             *j;
    u_char             *strs;
    static int          init;
    fw_jwt_scan_val_t   vals[NNAMES];

    if (!init) {
        fuzz_init();
        init = 1;
    }

    if (size > 65536) {
        return 0;
    }

    strs = malloc(size + 1);
    keys = malloc(fw_jwt_scan_keys_size(size));
    if (strs == NULL || keys == NULL) {
        abort();
    }

    j = fw_jwt_json_segment(data, size);
    rc = fw_jwt_scan(data, size, names, NNAMES, vals, strs, keys,
                     fw_jwt_scan_keys_size(size));

    if ((j != NULL) != (rc == FW_OK)) {
        fuzz_fail(j ? "jansson accepts, the scanner refuses"
                    : "the scanner accepts, jansson refuses");
    }

    if (j != NULL) {
        for (i = 0; i < NNAMES; i++) {
            fuzz_same(&vals[i], json_object_get(j, names[i]));
        }

        json_decref(j);
        fuzz_claims(data, size);
    }

    free(keys);
    free(strs);

    return 0;
}
