/*
 * fhirwall JWT core: the revocation list (see fw_jwt_revoke.h).  Entries
 * are sorted once; a check is two binary searches.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>

#include "fw_jwt_revoke.h"


#define FW_REVOKE_JTI  0
#define FW_REVOKE_SUB  1
#define FW_REVOKE_ALL  LONG_MAX     /* sub with no time: every token */


typedef struct {
    int             type;
    long            at;
    size_t          len;
    const u_char   *value;          /* in rv->text */
} fw_jwt_revoked_t;


struct fw_jwt_revoke_s {
    size_t             n;
    fw_jwt_revoked_t  *e;
    u_char            *text;
};


static int fw_jwt_revoke_cmp(const void *a, const void *b);
static const fw_jwt_revoked_t *fw_jwt_revoke_find(const fw_jwt_revoke_t *rv,
    int type, const u_char *value, size_t len);
static size_t fw_jwt_revoke_token(const u_char *p, const u_char *end);
static int fw_jwt_revoke_line(fw_jwt_revoked_t *e, const u_char *p,
    const u_char *q, size_t line, char *err);


static int
fw_jwt_revoke_cmp(const void *a, const void *b)
{
    const fw_jwt_revoked_t  *x = a, *y = b;

    if (x->type != y->type) {
        return x->type < y->type ? -1 : 1;
    }

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }

    return memcmp(x->value, y->value, x->len);
}


/* the length of the token at p: up to a space, a tab or the line's end */

static size_t
fw_jwt_revoke_token(const u_char *p, const u_char *end)
{
    const u_char  *s;

    for (s = p; s < end && *s != ' ' && *s != '\t'; s++) {
        /* void */
    }

    return (size_t) (s - p);
}


/* one trimmed, non-empty line into "e": 0, or -1 with "err" */

static int
fw_jwt_revoke_line(fw_jwt_revoked_t *e, const u_char *p, const u_char *q,
    size_t line, char *err)
{
    int     type;
    long    at;
    size_t  tl, i;

    tl = fw_jwt_revoke_token(p, q);

    if (tl == 3 && memcmp(p, "jti", 3) == 0) {
        type = FW_REVOKE_JTI;

    } else if (tl == 3 && memcmp(p, "sub", 3) == 0) {
        type = FW_REVOKE_SUB;

    } else {
        snprintf(err, 256, "line %zu: expected \"jti\" or \"sub\"", line);
        return -1;
    }

    p += tl;

    while (p < q && (*p == ' ' || *p == '\t')) {
        p++;
    }

    tl = fw_jwt_revoke_token(p, q);

    if (tl == 0 || tl > FW_JWT_REVOKE_VALUE_MAX) {
        snprintf(err, 256, "line %zu: a value of 1 to %d bytes is "
                 "required", line, FW_JWT_REVOKE_VALUE_MAX);
        return -1;
    }

    for (i = 0; i < tl; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            snprintf(err, 256, "line %zu: control character in the "
                     "value", line);
            return -1;
        }
    }

    e->type = type;
    e->value = p;
    e->len = tl;
    e->at = FW_REVOKE_ALL;

    p += tl;

    while (p < q && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p < q) {
        if (type != FW_REVOKE_SUB) {
            snprintf(err, 256, "line %zu: \"jti\" takes one value",
                     line);
            return -1;
        }

        at = 0;

        for ( /* void */ ; p < q; p++) {
            if (*p < '0' || *p > '9' || at > (LONG_MAX - 9) / 10) {
                snprintf(err, 256, "line %zu: the revocation time must "
                         "be Unix seconds", line);
                return -1;
            }

            at = at * 10 + (*p - '0');
        }

        e->at = at;
    }

    return 0;
}


fw_jwt_revoke_t *
fw_jwt_revoke_parse(const u_char *text, size_t len, char *err)
{
    size_t             n, max, line, i, j;
    u_char            *p, *end, *eol, *q;
    fw_jwt_revoke_t   *rv;

    rv = calloc(1, sizeof(fw_jwt_revoke_t));
    if (rv == NULL) {
        goto nomem;
    }

    rv->text = malloc(len ? len : 1);
    if (rv->text == NULL) {
        goto nomem;
    }

    if (len) {
        memcpy(rv->text, text, len);
    }

    max = 1;

    for (i = 0; i < len; i++) {
        max += (text[i] == '\n');
    }

    rv->e = calloc(max, sizeof(fw_jwt_revoked_t));
    if (rv->e == NULL) {
        goto nomem;
    }

    n = 0;
    line = 0;
    p = rv->text;
    end = rv->text + len;

    while (p < end) {
        line++;

        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL) {
            eol = end;
        }

        q = eol;

        if (q > p && q[-1] == '\r') {
            q--;
        }

        while (p < q && (*p == ' ' || *p == '\t')) {
            p++;
        }

        while (q > p && (q[-1] == ' ' || q[-1] == '\t')) {
            q--;
        }

        if (p == q || *p == '#') {
            p = eol + 1;
            continue;
        }

        if (fw_jwt_revoke_line(&rv->e[n], p, q, line, err) != 0) {
            goto failed;
        }

        n++;
        p = eol + 1;
    }

    qsort(rv->e, n, sizeof(fw_jwt_revoked_t), fw_jwt_revoke_cmp);

    /* one entry a value: the latest revocation time wins */

    for (i = 0, j = 0; i < n; i++) {
        if (j > 0 && fw_jwt_revoke_cmp(&rv->e[j - 1], &rv->e[i]) == 0) {
            if (rv->e[i].at > rv->e[j - 1].at) {
                rv->e[j - 1].at = rv->e[i].at;
            }

            continue;
        }

        rv->e[j++] = rv->e[i];
    }

    rv->n = j;

    return rv;

nomem:

    snprintf(err, 256, "out of memory");

failed:

    fw_jwt_revoke_free(rv);

    return NULL;
}


void
fw_jwt_revoke_free(fw_jwt_revoke_t *rv)
{
    if (rv == NULL) {
        return;
    }

    free(rv->e);
    free(rv->text);
    free(rv);
}


size_t
fw_jwt_revoke_count(const fw_jwt_revoke_t *rv)
{
    return rv ? rv->n : 0;
}


static const fw_jwt_revoked_t *
fw_jwt_revoke_find(const fw_jwt_revoke_t *rv, int type, const u_char *value,
    size_t len)
{
    fw_jwt_revoked_t  key;

    if (value == NULL || rv->n == 0) {
        return NULL;
    }

    key.type = type;
    key.len = len;
    key.value = value;
    key.at = 0;

    return bsearch(&key, rv->e, rv->n, sizeof(fw_jwt_revoked_t),
                   fw_jwt_revoke_cmp);
}


int
fw_jwt_revoke_check(const fw_jwt_revoke_t *rv, const u_char *jti,
    size_t jti_len, const u_char *sub, size_t sub_len, int has_iat,
    long iat)
{
    const fw_jwt_revoked_t  *e;

    if (rv == NULL) {
        return 0;
    }

    if (fw_jwt_revoke_find(rv, FW_REVOKE_JTI, jti, jti_len) != NULL) {
        return 1;
    }

    e = fw_jwt_revoke_find(rv, FW_REVOKE_SUB, sub, sub_len);

    if (e == NULL) {
        return 0;
    }

    return e->at == FW_REVOKE_ALL || !has_iat || iat <= e->at;
}
