/*
 * fhirwall JWT: registered claims, claim requirements, roles, claim text
 * and the verified-token cache (plain C).
 */


#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <math.h>

#include "fw_codec.h"
#include "fw_jwt.h"
#include "fw_jwt_scan.h"


#define FW_JWT_CACHE_PROBE  8


typedef struct {
    u_char           digest[32];
    const void      *owner;
    unsigned long    gen;
    time_t           expires;
    fw_jwt_token_t   token;
    int              used;
} fw_jwt_cache_entry_t;


struct fw_jwt_cache_s {
    fw_jwt_cache_entry_t  *entries;
    size_t                 mask;
};


static int fw_jwt_numeric_date(const fw_jwt_token_t *t, int member,
    double *value);
static int fw_jwt_date_value(double *value);
static json_t *fw_jwt_lookup_nocase(json_t *obj, const u_char *path,
    size_t len);
static json_t *fw_jwt_get_nocase(json_t *obj, const u_char *key, size_t len);
static int fw_jwt_member(const fw_jwt_token_t *t, int header, int member,
    fw_jwt_scan_val_t *v);
static int fw_jwt_aud_in(const fw_jwt_claims_conf_t *cc,
    const fw_jwt_scan_val_t *aud);
static int fw_jwt_str_in(const char *s, size_t len, const fw_jwt_str_t *list,
    size_t n);
static int fw_jwt_typ_is(const char *s, size_t len, const char *want);
static int fw_jwt_scalar_eq(json_t *v, const fw_jwt_str_t *s);
static int fw_jwt_holds(json_t *v, const fw_jwt_str_t *s);
static int fw_jwt_words_hold(const char *p, size_t len, const u_char *w,
    size_t wlen);


/*
 * A member of the header or the payload as the scanner typed it: from
 * the scan of a decoded token, or from the document a token was given
 * (tests, introspection), which comes first
 */

static int
fw_jwt_member(const fw_jwt_token_t *t, int header, int member,
    fw_jwt_scan_val_t *v)
{
    json_t  *obj, *j;

    obj = header ? t->header : t->payload;

    if (obj == NULL && t->doc != NULL) {
        *v = header ? t->doc->h[member] : t->doc->p[member];
        return v->type;
    }

    memset(v, 0, sizeof(fw_jwt_scan_val_t));

    j = json_object_get(obj, header ? fw_jwt_scan_header_names[member]
                                    : fw_jwt_scan_payload_names[member]);
    v->json = j;

    if (j == NULL) {
        return FW_JWT_SV_ABSENT;
    }

    switch (json_typeof(j)) {
    case JSON_STRING:
        v->type = FW_JWT_SV_STRING;
        v->str = (const u_char *) json_string_value(j);
        v->len = json_string_length(j);
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        v->type = json_is_integer(j) ? FW_JWT_SV_INTEGER : FW_JWT_SV_REAL;
        v->number = json_number_value(j);
        break;
    case JSON_ARRAY:
        v->type = FW_JWT_SV_ARRAY;
        break;
    case JSON_OBJECT:
        v->type = FW_JWT_SV_OBJECT;
        break;
    case JSON_TRUE:
        v->type = FW_JWT_SV_TRUE;
        break;
    case JSON_FALSE:
        v->type = FW_JWT_SV_FALSE;
        break;
    case JSON_NULL:
        v->type = FW_JWT_SV_NULL;
        break;
    }

    return v->type;
}


static int
fw_jwt_date_value(double *value)
{
    if (!isfinite(*value) || *value < 0 || *value > 1e13) {
        return -1;
    }

    return 1;
}


static int
fw_jwt_numeric_date(const fw_jwt_token_t *t, int member, double *value)
{
    fw_jwt_scan_val_t  v;

    switch (fw_jwt_member(t, 0, member, &v)) {
    case FW_JWT_SV_ABSENT:
        return 0;
    case FW_JWT_SV_INTEGER:
    case FW_JWT_SV_REAL:
        *value = v.number;
        return fw_jwt_date_value(value);
    default:
        return -1;
    }
}


/* aud, an array of strings: one of them listed */

static int
fw_jwt_aud_in(const fw_jwt_claims_conf_t *cc, const fw_jwt_scan_val_t *aud)
{
    size_t             i, pos;
    json_t            *e;
    fw_jwt_scan_val_t  v;

    if (aud->json != NULL) {
        /* from a given document */
        json_array_foreach(aud->json, i, e) {
            if (json_is_string(e)
                && fw_jwt_str_in(json_string_value(e),
                                 json_string_length(e), cc->audiences,
                                 cc->naudiences))
            {
                return 1;
            }
        }

        return 0;
    }

    pos = 0;

    while (fw_jwt_scan_next(aud, &pos, &v)) {
        if (v.type != FW_JWT_SV_STRING) {
            continue;
        }

        for (i = 0; i < cc->naudiences; i++) {
            if (fw_jwt_scan_str_eq(v.raw, v.raw_len, cc->audiences[i].data,
                                   cc->audiences[i].len))
            {
                return 1;
            }
        }
    }

    return 0;
}


static int
fw_jwt_str_in(const char *s, size_t len, const fw_jwt_str_t *list, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (list[i].len == len && memcmp(list[i].data, s, len) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
fw_jwt_typ_is(const char *s, size_t len, const char *want)
{
    size_t  n;

    n = strlen(want);

    if (len == n + 12 && strncasecmp(s, "application/", 12) == 0) {
        s += 12;
        len -= 12;
    }

    return len == n && strncasecmp(s, want, n) == 0;
}


int
fw_jwt_check_claims(const fw_jwt_claims_conf_t *cc, const fw_jwt_token_t *t)
{
    int                rc, found, jwt, at;
    double             exp, nbf, iat, now, start;
    fw_jwt_scan_val_t  v;

    /* typ */

    if (cc->typ != FW_JWT_TYP_OFF) {
        jwt = 0;
        at = 0;

        if (fw_jwt_member(t, 1, FW_JWT_SH_TYP, &v) == FW_JWT_SV_STRING) {
            jwt = fw_jwt_typ_is((const char *) v.str, v.len, "jwt");
            at = fw_jwt_typ_is((const char *) v.str, v.len, "at+jwt");
        }

        switch (cc->typ) {
        case FW_JWT_TYP_JWT:
            if (v.type != FW_JWT_SV_ABSENT && !jwt) {
                return FW_JWT_BAD_TYPE;
            }
            break;

        case FW_JWT_TYP_AT_JWT:
            if (!at) {
                return FW_JWT_BAD_TYPE;
            }
            break;

        default:
            if (v.type != FW_JWT_SV_ABSENT && !jwt && !at) {
                return FW_JWT_BAD_TYPE;
            }
        }
    }

    /* times */

    now = (double) cc->now;

    rc = fw_jwt_numeric_date(t, FW_JWT_SP_EXP, &exp);

    if (rc < 0 || (rc == 0 && cc->require_exp)) {
        return FW_JWT_INVALID_CLAIM;
    }

    if (rc == 1 && now >= exp + (double) cc->leeway) {
        return FW_JWT_EXPIRED;
    }

    found = rc;

    rc = fw_jwt_numeric_date(t, FW_JWT_SP_NBF, &nbf);

    if (rc < 0) {
        return FW_JWT_INVALID_CLAIM;
    }

    if (rc == 1 && now + (double) cc->leeway < nbf) {
        return FW_JWT_NOT_YET_VALID;
    }

    start = (rc == 1) ? nbf : now;

    rc = fw_jwt_numeric_date(t, FW_JWT_SP_IAT, &iat);

    if (rc < 0) {
        return FW_JWT_INVALID_CLAIM;
    }

    if (rc == 1) {
        if (now + (double) cc->leeway < iat) {
            return FW_JWT_NOT_YET_VALID;
        }

        start = iat;
    }

    if (cc->max_lifetime > 0) {
        if (!found || exp - start > (double) cc->max_lifetime) {
            return FW_JWT_LIFETIME;
        }
    }

    /* iss */

    if (cc->nissuers) {
        if (fw_jwt_member(t, 0, FW_JWT_SP_ISS, &v) != FW_JWT_SV_STRING
            || !fw_jwt_str_in((const char *) v.str, v.len, cc->issuers,
                              cc->nissuers))
        {
            return FW_JWT_BAD_ISSUER;
        }
    }

    /* aud: a string or an array of strings, one of them listed */

    if (cc->naudiences) {
        found = 0;

        switch (fw_jwt_member(t, 0, FW_JWT_SP_AUD, &v)) {
        case FW_JWT_SV_STRING:
            found = fw_jwt_str_in((const char *) v.str, v.len,
                                  cc->audiences, cc->naudiences);
            break;
        case FW_JWT_SV_ARRAY:
            found = fw_jwt_aud_in(cc, &v);
            break;
        }

        if (!found) {
            return FW_JWT_BAD_AUDIENCE;
        }
    }

    return FW_JWT_VALID;
}


time_t
fw_jwt_cache_expiry(const fw_jwt_token_t *t, time_t now, long ttl)
{
    double  exp;

    if (fw_jwt_numeric_date(t, FW_JWT_SP_EXP, &exp) == 1
        && exp < (double) now + (double) ttl)
    {
        return (time_t) exp;
    }

    return now + ttl;
}


json_t *
fw_jwt_lookup_name(json_t *obj, const u_char *path, size_t len)
{
    json_t  *v;

    v = fw_jwt_lookup(obj, path, len);

    return v != NULL ? v : fw_jwt_lookup_nocase(obj, path, len);
}


/* fw_jwt_lookup()'s walk, each step by fw_jwt_get_nocase() */

static json_t *
fw_jwt_lookup_nocase(json_t *obj, const u_char *path, size_t len)
{
    size_t   i;
    json_t  *v, *r;

    if (!json_is_object(obj) || len == 0) {
        return NULL;
    }

    v = fw_jwt_get_nocase(obj, path, len);
    if (v != NULL) {
        return v;
    }

    for (i = len; i-- > 1; /* void */) {
        if (path[i] != '.' || i + 1 >= len) {
            continue;
        }

        v = fw_jwt_get_nocase(obj, path, i);

        if (json_is_object(v)) {
            r = fw_jwt_lookup_nocase(v, path + i + 1, len - i - 1);
            if (r != NULL) {
                return r;
            }
        }
    }

    return NULL;
}


/* the one member whose key is "key" ignoring case; NULL for none or two */

static json_t *
fw_jwt_get_nocase(json_t *obj, const u_char *key, size_t len)
{
    size_t       klen;
    json_t      *v, *found;
    const char  *k;

    found = NULL;

    json_object_keylen_foreach(obj, k, klen, v) {
        if (klen != len || strncasecmp(k, (const char *) key, len) != 0) {
            continue;
        }

        if (found != NULL) {
            return NULL;
        }

        found = v;
    }

    return found;
}


/*
 * "a.b.c": the whole name first (claims such as
 * "https://example.com/roles" hold dots), then the longest prefix that is
 * an object, then shorter ones.
 */

json_t *
fw_jwt_lookup(json_t *obj, const u_char *path, size_t len)
{
    char    key[256];
    size_t  i;
    json_t  *v, *r;

    if (!json_is_object(obj) || len == 0) {
        return NULL;
    }

    if (len < sizeof(key)) {
        memcpy(key, path, len);
        key[len] = '\0';

        if (memchr(path, '\0', len) == NULL) {
            v = json_object_get(obj, key);
            if (v != NULL) {
                return v;
            }
        }
    }

    for (i = len; i-- > 1; /* void */) {
        if (path[i] != '.' || i >= sizeof(key) || i + 1 >= len) {
            continue;
        }

        memcpy(key, path, i);
        key[i] = '\0';

        v = json_object_get(obj, key);

        if (json_is_object(v)) {
            r = fw_jwt_lookup(v, path + i + 1, len - i - 1);
            if (r != NULL) {
                return r;
            }
        }
    }

    return NULL;
}


static int
fw_jwt_scalar_eq(json_t *v, const fw_jwt_str_t *s)
{
    char    buf[64];
    int     n;
    double  d;
    char   *end;

    switch (json_typeof(v)) {

    case JSON_STRING:
        return json_string_length(v) == s->len
               && memcmp(json_string_value(v), s->data, s->len) == 0;

    case JSON_INTEGER:
        n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));
        return (size_t) n == s->len && memcmp(buf, s->data, s->len) == 0;

    case JSON_REAL:
        if (s->len == 0 || s->len >= sizeof(buf)) {
            return 0;
        }

        memcpy(buf, s->data, s->len);
        buf[s->len] = '\0';
        d = strtod(buf, &end);

        return *end == '\0' && d == json_real_value(v);

    case JSON_TRUE:
        return s->len == 4 && memcmp(s->data, "true", 4) == 0;

    case JSON_FALSE:
        return s->len == 5 && memcmp(s->data, "false", 5) == 0;

    default:
        return 0;
    }
}


static int
fw_jwt_words_hold(const char *p, size_t len, const u_char *w, size_t wlen)
{
    size_t  i, start;

    start = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || p[i] == ' ') {
            if (i - start == wlen && memcmp(p + start, w, wlen) == 0) {
                return 1;
            }

            start = i + 1;
        }
    }

    return 0;
}


/* an array holding the value, or a space-separated string holding it */

static int
fw_jwt_holds(json_t *v, const fw_jwt_str_t *s)
{
    size_t   i;
    json_t  *e;

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (fw_jwt_scalar_eq(e, s)) {
                return 1;
            }
        }

        return 0;
    }

    if (json_is_string(v)) {
        return fw_jwt_words_hold(json_string_value(v), json_string_length(v),
                                 s->data, s->len);
    }

    return fw_jwt_scalar_eq(v, s);
}


int
fw_jwt_check_require(const fw_jwt_require_t *rq, json_t *payload)
{
    size_t   i, n;
    json_t  *v;
    double   d;

    if (payload == NULL) {
        /*
         * a token always has its payload: NULL is a document that could
         * not be made (memory), never a claim found absent
         */
        return FW_ERROR;
    }

    v = fw_jwt_lookup(payload, rq->path.data, rq->path.len);

    if (rq->op == FW_JWT_OP_ABSENT) {
        return (v == NULL || json_is_null(v)) ? FW_OK : FW_ERROR;
    }

    if (v == NULL || json_is_null(v)) {
        return FW_ERROR;
    }

    switch (rq->op) {

    case FW_JWT_OP_EXISTS:
        return FW_OK;

    case FW_JWT_OP_EQ:
    case FW_JWT_OP_IN:
        for (i = 0; i < rq->nvalues; i++) {
            if (fw_jwt_scalar_eq(v, &rq->values[i])) {
                return FW_OK;
            }
        }

        return FW_ERROR;

    case FW_JWT_OP_NE:
        if (json_is_object(v) || json_is_array(v)) {
            return FW_ERROR;
        }

        for (i = 0; i < rq->nvalues; i++) {
            if (fw_jwt_scalar_eq(v, &rq->values[i])) {
                return FW_ERROR;
            }
        }

        return FW_OK;

    case FW_JWT_OP_ANY:
    case FW_JWT_OP_ALL:
        n = 0;

        for (i = 0; i < rq->nvalues; i++) {
            n += fw_jwt_holds(v, &rq->values[i]);
        }

        if (rq->op == FW_JWT_OP_ANY) {
            return n > 0 ? FW_OK : FW_ERROR;
        }

        return n == rq->nvalues ? FW_OK : FW_ERROR;

    default:
        if (!json_is_number(v)) {
            return FW_ERROR;
        }

        d = json_number_value(v);

        switch (rq->op) {
        case FW_JWT_OP_GT:
            return d > rq->number ? FW_OK : FW_ERROR;
        case FW_JWT_OP_GE:
            return d >= rq->number ? FW_OK : FW_ERROR;
        case FW_JWT_OP_LT:
            return d < rq->number ? FW_OK : FW_ERROR;
        case FW_JWT_OP_LE:
            return d <= rq->number ? FW_OK : FW_ERROR;
        }
    }

    return FW_ERROR;
}


int
fw_jwt_check_roles(json_t *claim, const fw_jwt_role_t *roles, size_t nroles,
    unsigned method)
{
    size_t  i;

    if (claim == NULL || !(json_is_array(claim) || json_is_string(claim))) {
        return FW_ERROR;
    }

    for (i = 0; i < nroles; i++) {
        if (roles[i].methods != 0 && !(roles[i].methods & method)) {
            continue;
        }

        if (fw_jwt_holds(claim, &roles[i].name)) {
            return FW_OK;
        }
    }

    return FW_ERROR;
}


char *
fw_jwt_value_text(json_t *v, size_t *len, char sep)
{
    char    *s, *e, *p;
    size_t   i, n, elen;
    json_t  *x;

    if (v == NULL) {
        return NULL;
    }

    switch (json_typeof(v)) {

    case JSON_STRING:
        n = json_string_length(v);
        s = malloc(n + 1);
        if (s == NULL) {
            return NULL;
        }

        memcpy(s, json_string_value(v), n);
        s[n] = '\0';
        *len = n;
        return s;

    case JSON_ARRAY:
        s = malloc(1);
        if (s == NULL) {
            return NULL;
        }

        n = 0;

        json_array_foreach(v, i, x) {
            if (json_is_string(x)) {
                e = fw_jwt_value_text(x, &elen, sep);

            } else {
                e = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY
                                  | JSON_PRESERVE_ORDER);
                elen = e ? strlen(e) : 0;
            }

            if (e == NULL) {
                free(s);
                return NULL;
            }

            p = realloc(s, n + elen + 2);
            if (p == NULL) {
                free(e);
                free(s);
                return NULL;
            }

            s = p;

            if (i > 0) {
                s[n++] = sep;
            }

            memcpy(s + n, e, elen);
            n += elen;
            free(e);
        }

        s[n] = '\0';
        *len = n;
        return s;

    case JSON_NULL:
        return NULL;

    default:
        s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY
                          | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        if (s == NULL) {
            return NULL;
        }

        *len = strlen(s);
        return s;
    }
}


fw_jwt_cache_t *
fw_jwt_cache_create(size_t entries)
{
    size_t           n;
    fw_jwt_cache_t  *c;

    n = FW_JWT_CACHE_PROBE;

    while (n < entries) {
        n <<= 1;
    }

    c = malloc(sizeof(fw_jwt_cache_t));
    if (c == NULL) {
        return NULL;
    }

    c->entries = calloc(n, sizeof(fw_jwt_cache_entry_t));
    if (c->entries == NULL) {
        free(c);
        return NULL;
    }

    c->mask = n - 1;

    return c;
}


void
fw_jwt_cache_destroy(fw_jwt_cache_t *c)
{
    size_t  i;

    if (c == NULL) {
        return;
    }

    for (i = 0; i <= c->mask; i++) {
        if (c->entries[i].used) {
            fw_jwt_token_free(&c->entries[i].token);
        }
    }

    free(c->entries);
    free(c);
}


int
fw_jwt_cache_get(fw_jwt_cache_t *c, const u_char *digest, const void *owner,
    unsigned long gen, time_t now, fw_jwt_token_t *out)
{
    size_t                 i, h;
    fw_jwt_cache_entry_t  *e;

    memcpy(&h, digest, sizeof(size_t));

    for (i = 0; i < FW_JWT_CACHE_PROBE; i++) {
        e = &c->entries[(h + i) & c->mask];

        if (e->used && e->owner == owner && e->gen == gen
            && memcmp(e->digest, digest, 32) == 0)
        {
            if (e->expires <= now) {
                fw_jwt_token_free(&e->token);
                e->used = 0;
                return FW_ERROR;
            }

            fw_jwt_token_ref(out, &e->token);
            return FW_OK;
        }
    }

    return FW_ERROR;
}


void
fw_jwt_cache_put(fw_jwt_cache_t *c, const u_char *digest, const void *owner,
    unsigned long gen, time_t expires, const fw_jwt_token_t *t)
{
    size_t                 i, h;
    fw_jwt_cache_entry_t  *e, *victim;

    memcpy(&h, digest, sizeof(size_t));
    victim = NULL;

    for (i = 0; i < FW_JWT_CACHE_PROBE; i++) {
        e = &c->entries[(h + i) & c->mask];

        if (!e->used) {
            victim = e;
            break;
        }

        if (e->owner == owner && e->gen == gen
            && memcmp(e->digest, digest, 32) == 0)
        {
            victim = e;
            break;
        }

        if (victim == NULL || e->expires < victim->expires) {
            victim = e;
        }
    }

    if (victim->used) {
        fw_jwt_token_free(&victim->token);
    }

    memcpy(victim->digest, digest, 32);
    victim->owner = owner;
    victim->gen = gen;
    victim->expires = expires;
    victim->used = 1;
    fw_jwt_token_ref(&victim->token, t);
}
