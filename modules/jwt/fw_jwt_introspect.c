/*
 * fhirwall JWT: opaque tokens by introspection (RFC 7662), plain C.
 */


#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "fw_codec.h"
#include "fw_jwt_introspect.h"


#define FW_JWT_INTROSPECT_DEPTH  FW_JWT_MAX_DEPTH


static int fw_jwt_b64url_char(u_char c);
static int fw_jwt_form_plain(u_char c);
static int fw_jwt_introspect_depth(json_t *v, int depth);
static int fw_jwt_introspect_types(json_t *root);


static int
fw_jwt_b64url_char(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}


int
fw_jwt_is_jws(const u_char *tok, size_t len)
{
    size_t  i, dots, seg;

    dots = 0;
    seg = 0;

    for (i = 0; i < len; i++) {
        if (tok[i] == '.') {
            if (seg == 0 && dots < 2) {
                return 0;
            }

            dots++;
            seg = 0;
            continue;
        }

        if (!fw_jwt_b64url_char(tok[i])) {
            return 0;
        }

        seg++;
    }

    /* the signature may be empty only for "none", which is no JWS here */
    return dots == 2 && seg > 0;
}


int
fw_jwt_introspect_issuer(const u_char *tok, size_t len,
    const fw_jwt_str_t *issuers, size_t n, size_t max)
{
    int            found;
    size_t         i, plen, outlen;
    u_char        *out;
    json_t        *root, *iss;
    const u_char  *p, *q;
    json_error_t   e;

    if (n == 0 || !fw_jwt_is_jws(tok, len)) {
        return 0;
    }

    p = memchr(tok, '.', len);
    p++;
    q = memchr(p, '.', len - (p - tok));
    plen = q - p;

    if (fw_base64_decoded_len(plen) > max) {
        return 0;
    }

    out = malloc(fw_base64_decoded_len(plen) + 1);
    if (out == NULL) {
        return 0;
    }

    if (fw_base64url_decode(p, plen, out, &outlen) != FW_OK) {
        free(out);
        return 0;
    }

    root = json_loadb((const char *) out, outlen, JSON_REJECT_DUPLICATES, &e);
    free(out);

    if (root == NULL) {
        return 0;
    }

    iss = json_object_get(root, "iss");
    found = 0;

    if (json_is_object(root) && json_is_string(iss)) {
        for (i = 0; i < n; i++) {
            if (issuers[i].len == json_string_length(iss)
                && memcmp(issuers[i].data, json_string_value(iss),
                          issuers[i].len) == 0)
            {
                found = 1;
                break;
            }
        }
    }

    json_decref(root);

    return found;
}


static int
fw_jwt_form_plain(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
           || c == '~';
}


size_t
fw_jwt_form_encoded_len(const u_char *s, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        n += fw_jwt_form_plain(s[i]) ? 1 : 3;
    }

    return n;
}


u_char *
fw_jwt_form_encode(u_char *out, const u_char *s, size_t len)
{
    size_t               i;
    static const u_char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        if (fw_jwt_form_plain(s[i])) {
            *out++ = s[i];

        } else {
            *out++ = '%';
            *out++ = hex[s[i] >> 4];
            *out++ = hex[s[i] & 0x0f];
        }
    }

    return out;
}


#define FW_JWT_BODY_HEAD  "token="
#define FW_JWT_BODY_TAIL  "&token_type_hint=access_token"


size_t
fw_jwt_introspect_body_len(size_t toklen)
{
    return sizeof(FW_JWT_BODY_HEAD) - 1 + 3 * toklen
           + sizeof(FW_JWT_BODY_TAIL) - 1;
}


size_t
fw_jwt_introspect_body(u_char *out, const u_char *tok, size_t len)
{
    u_char  *p;

    p = out;
    memcpy(p, FW_JWT_BODY_HEAD, sizeof(FW_JWT_BODY_HEAD) - 1);
    p += sizeof(FW_JWT_BODY_HEAD) - 1;
    p = fw_jwt_form_encode(p, tok, len);
    memcpy(p, FW_JWT_BODY_TAIL, sizeof(FW_JWT_BODY_TAIL) - 1);
    p += sizeof(FW_JWT_BODY_TAIL) - 1;

    return (size_t) (p - out);
}


static int
fw_jwt_introspect_depth(json_t *v, int depth)
{
    size_t       i;
    json_t      *e;
    const char  *k;

    if (depth > FW_JWT_INTROSPECT_DEPTH) {
        return FW_ERROR;
    }

    if (json_is_object(v)) {
        json_object_foreach(v, k, e) {
            if (fw_jwt_introspect_depth(e, depth + 1) != FW_OK) {
                return FW_ERROR;
            }
        }

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (fw_jwt_introspect_depth(e, depth + 1) != FW_OK) {
                return FW_ERROR;
            }
        }
    }

    return FW_OK;
}


/* RFC 7662 2.2: the members the checks read, when present */

static int
fw_jwt_introspect_types(json_t *root)
{
    size_t       i;
    json_t      *v, *e;
    const char  *strings[] = { "scope", "sub", "iss", "client_id",
                               "token_type", "username", "jti", NULL };
    const char  *numbers[] = { "exp", "iat", "nbf", NULL };

    for (i = 0; strings[i]; i++) {
        v = json_object_get(root, strings[i]);
        if (v != NULL && !json_is_string(v)) {
            return FW_ERROR;
        }
    }

    for (i = 0; numbers[i]; i++) {
        v = json_object_get(root, numbers[i]);
        if (v != NULL && (!json_is_number(v)
                          || !isfinite(json_number_value(v))))
        {
            return FW_ERROR;
        }
    }

    v = json_object_get(root, "aud");

    if (v != NULL && !json_is_string(v)) {
        if (!json_is_array(v)) {
            return FW_ERROR;
        }

        json_array_foreach(v, i, e) {
            if (!json_is_string(e)) {
                return FW_ERROR;
            }
        }
    }

    v = json_object_get(root, "cnf");

    if (v != NULL && !json_is_object(v)) {
        return FW_ERROR;
    }

    return FW_OK;
}


int
fw_jwt_introspect_parse(const u_char *body, size_t len, json_t **payload)
{
    json_t        *root, *active;
    json_error_t   e;

    *payload = NULL;

    if (body == NULL || len == 0 || len > FW_JWT_INTROSPECT_MAX) {
        return FW_JWT_INTROSPECTION_FAILED;
    }

    root = json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES, &e);

    if (root == NULL) {
        return FW_JWT_INTROSPECTION_FAILED;
    }

    if (!json_is_object(root)
        || fw_jwt_introspect_depth(root, 0) != FW_OK)
    {
        json_decref(root);
        return FW_JWT_INTROSPECTION_FAILED;
    }

    active = json_object_get(root, "active");

    if (!json_is_boolean(active)) {
        json_decref(root);
        return FW_JWT_INTROSPECTION_FAILED;
    }

    if (!json_is_true(active)) {
        json_decref(root);
        return FW_JWT_INACTIVE;
    }

    if (fw_jwt_introspect_types(root) != FW_OK) {
        json_decref(root);
        return FW_JWT_INTROSPECTION_FAILED;
    }

    *payload = root;

    return FW_JWT_VALID;
}


time_t
fw_jwt_introspect_expiry(json_t *payload, time_t now, long max_ttl)
{
    json_t  *v;
    double   exp, until;

    until = (double) now + (double) max_ttl;

    v = json_object_get(payload, "exp");

    if (json_is_number(v)) {
        exp = json_number_value(v);

        if (!(exp > (double) now)) {
            return now;
        }

        if (exp < until) {
            until = exp;
        }
    }

    return (time_t) until;
}
