/*
 * fhirwall JWT: a zero-allocation JSON scanner for the token's header and
 * payload (plain C, no nginx headers, no jansson).
 *
 * fw_jwt_scan() accepts exactly what the jansson path accepts
 * (fw_jwt_json_segment(): json_loadb() with JSON_REJECT_DUPLICATES, then
 * a top-level object, then FW_JWT_MAX_DEPTH): RFC 8259 with strict UTF-8,
 * no "\u0000", no lone surrogates, integers within 64 bits, no real that
 * overflows a double, no duplicate key at any level, no value deeper than
 * FW_JWT_MAX_DEPTH (the top object is depth 1), white space before and
 * after, nothing else.  It reports the top-level members it is asked for;
 * modules/jwt/unit/test_jwt_scan.c and fuzz/jwt_scan_fuzz.c compare it
 * with jansson.
 */

#ifndef _FW_JWT_SCAN_H_INCLUDED_
#define _FW_JWT_SCAN_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>

#include <jansson.h>


#pragma GCC visibility push(hidden)


/* value types, as jansson would type them */
enum {
    FW_JWT_SV_ABSENT = 0,
    FW_JWT_SV_STRING,
    FW_JWT_SV_INTEGER,
    FW_JWT_SV_REAL,
    FW_JWT_SV_TRUE,
    FW_JWT_SV_FALSE,
    FW_JWT_SV_NULL,
    FW_JWT_SV_OBJECT,
    FW_JWT_SV_ARRAY
};


typedef struct {
    int             type;
    const u_char   *raw;        /* the value's text (a string: inside "") */
    size_t          raw_len;
    const u_char   *str;        /* STRING: unescaped (in the text or the
                                   scratch buffer) */
    size_t          len;
    double          number;     /* INTEGER, REAL: json_number_value() */
    json_t         *json;       /* read from a jansson document: it */
} fw_jwt_scan_val_t;


/* the header members the core reads */
enum {
    FW_JWT_SH_ALG = 0,
    FW_JWT_SH_KID,
    FW_JWT_SH_TYP,
    FW_JWT_SH_CRIT,
    FW_JWT_SH_ENC,
    FW_JWT_SH_ZIP,
    FW_JWT_SH_B64,
    FW_JWT_SH_JWK,
    FW_JWT_SH_N
};


/* the payload members */
enum {
    FW_JWT_SP_EXP = 0,
    FW_JWT_SP_NBF,
    FW_JWT_SP_IAT,
    FW_JWT_SP_ISS,
    FW_JWT_SP_AUD,
    FW_JWT_SP_SUB,
    FW_JWT_SP_JTI,
    FW_JWT_SP_SCOPE,
    FW_JWT_SP_SCP,
    FW_JWT_SP_CNF,
    FW_JWT_SP_HTM,              /* DPoP proofs (RFC 9449) */
    FW_JWT_SP_HTU,
    FW_JWT_SP_ATH,
    FW_JWT_SP_NONCE,
    FW_JWT_SP_N
};


/*
 * A decoded token's segments, what the scanner found in them and their
 * jansson documents once asked for (fw_jwt_token_header(),
 * fw_jwt_token_payload()); one allocation, shared by fw_jwt_token_ref().
 */
struct fw_jwt_doc_s {
    unsigned            refs;
    const u_char       *htext;      /* the decoded header JSON */
    size_t              hlen;
    const u_char       *ptext;      /* the decoded payload JSON */
    size_t              plen;
    json_t             *header;     /* parsed when first asked for */
    json_t             *payload;
    fw_jwt_scan_val_t   h[FW_JWT_SH_N];
    fw_jwt_scan_val_t   p[FW_JWT_SP_N];
};


extern const char *const  fw_jwt_scan_header_names[FW_JWT_SH_N];
extern const char *const  fw_jwt_scan_payload_names[FW_JWT_SP_N];


/*
 * The bytes (aligned as a pointer) fw_jwt_scan() needs for the keys of
 * the open objects of a text of "len" bytes.
 */
size_t fw_jwt_scan_keys_size(size_t len);

/*
 * FW_OK when "json" is what fw_jwt_json_segment() accepts; "vals[i]" is
 * then the top-level member called names[i] (FW_JWT_SV_ABSENT if none).
 * "strs" (len + 1 bytes) receives the unescaped strings, which the
 * strings of "vals" may point to; "keys" is scratch.
 */
int fw_jwt_scan(const u_char *json, size_t len, const char *const *names,
    size_t nnames, fw_jwt_scan_val_t *vals, u_char *strs, void *keys,
    size_t keys_size);

/*
 * The next element of an array "arr" that fw_jwt_scan() reported: *pos
 * starts at 0; 1 and "elem" (a string not unescaped: raw only), 0 at the
 * end.
 */
int fw_jwt_scan_next(const fw_jwt_scan_val_t *arr, size_t *pos,
    fw_jwt_scan_val_t *elem);

/*
 * The members called names[i] of an object "obj" that fw_jwt_scan()
 * reported (a member of the top level: the header's "jwk", the payload's
 * "cnf"); "strs" holds obj->raw_len + 1 bytes for unescaped strings.
 */
int fw_jwt_scan_members(const fw_jwt_scan_val_t *obj,
    const char *const *names, size_t nnames, fw_jwt_scan_val_t *vals,
    u_char *strs);

/* 1 when the JSON string text "raw" (without quotes) unescapes to s */
int fw_jwt_scan_str_eq(const u_char *raw, size_t raw_len, const u_char *s,
    size_t len);

/*
 * The old path, kept as the reference: json_loadb() with
 * JSON_REJECT_DUPLICATES of decoded JSON text, a top-level object and the
 * depth limit; NULL when refused.
 */
json_t *fw_jwt_json_segment(const u_char *json, size_t len);


#pragma GCC visibility pop


#endif /* _FW_JWT_SCAN_H_INCLUDED_ */
