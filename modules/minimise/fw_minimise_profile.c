/*
 * fhirwall minimise core: profiles, the built-in safe-harbor profile and
 * the request-side query rewrite (plain C).
 */

#include <string.h>
#include <stdio.h>

#include "fw_minimise.h"


static int fw_min_err(char *err, size_t errlen, const char *fmt,
    const u_char *s, size_t len);
static int fw_min_name_ok(const u_char *s, size_t len, int type);
static int fw_min_add_rule(fw_min_profile_t *p, const char *type,
    const char *path, int action, int anywhere, const char *keep,
    char *err, size_t errlen);
static int fw_min_list_has(const u_char *list, size_t llen,
    const u_char *name, size_t len);
static size_t fw_min_unescape(u_char *dst, const u_char *src, size_t len,
    int *bad);
static int fw_min_include_type(const u_char *v, size_t len, int rev,
    const u_char **type, size_t *tlen);
static int fw_min_query_include(const fw_min_profile_t *p, int rev,
    const u_char *a, size_t eq, size_t n, const char **diag);
static size_t fw_min_query_elements(const fw_min_elements_t *el,
    const u_char *a, size_t eq, size_t n, u_char *cap, size_t cl);


/* the Safe Harbor rules: docs/minimise.md lists them and why */

typedef struct {
    const char  *type;
    const char  *path;
    int          action;
    int          anywhere;
    const char  *keep;
} fw_min_builtin_t;


static const fw_min_builtin_t  fw_min_safe_harbor[] = {
    /* every resource type, at any depth */
    { "", "identifier", FW_MIN_DROP, 1, NULL },
    { "", "preAdmissionIdentifier", FW_MIN_DROP, 1, NULL },
    { "", "telecom", FW_MIN_DROP, 1, NULL },
    { "", "photo", FW_MIN_DROP, 1, NULL },
    { "", "extension", FW_MIN_DROP, 1, NULL },
    { "", "modifierExtension", FW_MIN_DROP, 1, NULL },
    { "", "note", FW_MIN_DROP, 1, NULL },
    { "", "attachment", FW_MIN_DROP, 1, NULL },
    { "", "valueAttachment", FW_MIN_DROP, 1, NULL },
    { "", "address", FW_MIN_KEEP_ONLY, 1, ",state,country," },
    /* the narrative of every resource */
    { "", "text", FW_MIN_DROP, 0, NULL },
    /* people's names, wherever they are in these resources */
    { "Patient", "name", FW_MIN_DROP, 1, NULL },
    { "Practitioner", "name", FW_MIN_DROP, 1, NULL },
    { "RelatedPerson", "name", FW_MIN_DROP, 1, NULL },
    { "Person", "name", FW_MIN_DROP, 1, NULL },
    { "Patient", "contact", FW_MIN_DROP, 0, NULL },
    { "Patient", "link", FW_MIN_DROP, 0, NULL },
    /* dates: the year only */
    { "Patient", "birthDate", FW_MIN_YEAR, 0, NULL },
    { "Patient", "deceasedDateTime", FW_MIN_YEAR, 0, NULL },
    { "Practitioner", "birthDate", FW_MIN_YEAR, 0, NULL },
    { "RelatedPerson", "birthDate", FW_MIN_YEAR, 0, NULL },
    { "Person", "birthDate", FW_MIN_YEAR, 0, NULL },
    /* device identifiers and serial numbers, plan numbers, URLs */
    { "Device", "udiCarrier", FW_MIN_DROP, 0, NULL },
    { "Device", "distinctIdentifier", FW_MIN_DROP, 0, NULL },
    { "Device", "serialNumber", FW_MIN_DROP, 0, NULL },
    { "Device", "lotNumber", FW_MIN_DROP, 0, NULL },
    { "Device", "url", FW_MIN_DROP, 0, NULL },
    { "Coverage", "subscriberId", FW_MIN_DROP, 0, NULL },
    { "Endpoint", "address", FW_MIN_DROP, 0, NULL },
    /* documents, images and free-text payloads */
    { "DiagnosticReport", "presentedForm", FW_MIN_DROP, 0, NULL },
    { "Media", "content", FW_MIN_DROP, 0, NULL },
    { "Binary", "data", FW_MIN_DROP, 0, NULL },
    { "Communication", "payload", FW_MIN_DROP, 0, NULL },
    /* search links echo the query (it may carry names, identifiers) */
    { "Bundle", "link", FW_MIN_DROP, 0, NULL },
    { "Bundle", "entry.link", FW_MIN_DROP, 0, NULL },
    { "Bundle", "entry.request", FW_MIN_DROP, 0, NULL },
    { NULL, NULL, 0, 0, NULL }
};


void
fw_min_profile_init(fw_min_profile_t *p)
{
    memset(p, 0, sizeof(fw_min_profile_t));
    p->request_elements = 1;
}


static int
fw_min_err(char *err, size_t errlen, const char *fmt, const u_char *s,
    size_t len)
{
    if (err && errlen) {
        snprintf(err, errlen, fmt, (int) (len > 80 ? 80 : len),
                 s ? (const char *) s : "");
    }

    return -1;
}


/* type: [A-Z][A-Za-z]*; element: [A-Za-z][A-Za-z0-9]* */
static int
fw_min_name_ok(const u_char *s, size_t len, int type)
{
    size_t  i;

    if (len == 0 || len > FW_MIN_NAME_MAX) {
        return 0;
    }

    if (type ? !(s[0] >= 'A' && s[0] <= 'Z')
             : !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
    {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')
            || (!type && s[i] >= '0' && s[i] <= '9'))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


static int
fw_min_add_rule(fw_min_profile_t *p, const char *type, const char *path,
    int action, int anywhere, const char *keep, char *err, size_t errlen)
{
    size_t          tl, pl;
    fw_min_rule_t  *r;

    tl = strlen(type);
    pl = strlen(path);

    if (p->nrules == FW_MIN_RULES_MAX) {
        return fw_min_err(err, errlen, "too many rules at \"%.*s\"",
                          (const u_char *) path, pl);
    }

    if (tl > FW_MIN_NAME_MAX || pl > FW_MIN_PATH_MAX) {
        return fw_min_err(err, errlen, "path too long: \"%.*s\"",
                          (const u_char *) path, pl);
    }

    r = &p->rules[p->nrules++];
    memcpy(r->type, type, tl);
    r->type[tl] = '\0';
    memcpy(r->path, path, pl);
    r->path[pl] = '\0';
    r->type_len = (uint16_t) tl;
    r->path_len = (uint16_t) pl;
    r->action = (uint8_t) action;
    r->anywhere = (uint8_t) anywhere;
    r->keep = keep;
    r->keep_len = keep ? strlen(keep) : 0;

    for (r->leaf = (uint16_t) pl; r->leaf > 0; r->leaf--) {
        if (r->path[r->leaf - 1] == '.') {
            break;
        }
    }

    return 0;
}


int
fw_min_profile_safe_harbor(fw_min_profile_t *p, char *err, size_t errlen)
{
    const fw_min_builtin_t  *b;

    for (b = fw_min_safe_harbor; b->path; b++) {
        if (fw_min_add_rule(p, b->type, b->path, b->action, b->anywhere,
                            b->keep, err, errlen) != 0)
        {
            return -1;
        }
    }

    p->display = 1;

    return 0;
}


/*
 * "Type.a.b", "*.a.b" (every type), "Type.**.a", "*.**.a" (the name a at
 * any depth).  id, meta and resourceType may not be dropped.
 */
int
fw_min_profile_drop(fw_min_profile_t *p, const u_char *path, size_t len,
    char *err, size_t errlen)
{
    int           anywhere;
    size_t        tl, i, start;
    const u_char  *dot;
    char          type[FW_MIN_NAME_MAX + 1], rest[FW_MIN_PATH_MAX + 1];

    dot = memchr(path, '.', len);
    if (dot == NULL) {
        return fw_min_err(err, errlen, "\"%.*s\": not Type.element",
                          path, len);
    }

    tl = (size_t) (dot - path);

    if (tl == 1 && path[0] == '*') {
        type[0] = '\0';

    } else if (fw_min_name_ok(path, tl, 1)) {
        memcpy(type, path, tl);
        type[tl] = '\0';

    } else {
        return fw_min_err(err, errlen, "\"%.*s\": bad resource type",
                          path, len);
    }

    start = tl + 1;
    anywhere = 0;

    if (len - start > 3 && memcmp(path + start, "**.", 3) == 0) {
        anywhere = 1;
        start += 3;
    }

    if (len - start > FW_MIN_PATH_MAX || len == start) {
        return fw_min_err(err, errlen, "\"%.*s\": bad path", path, len);
    }

    /* dotted element names, no '_' (a rule on x also covers _x) */
    i = start;
    while (i < len) {
        size_t  s = i;

        while (i < len && path[i] != '.') {
            i++;
        }

        if (!fw_min_name_ok(path + s, i - s, 0)
            || (anywhere && i < len))
        {
            return fw_min_err(err, errlen, "\"%.*s\": bad element path",
                              path, len);
        }

        if (s == start
            && ((i - s == 2 && memcmp(path + s, "id", 2) == 0)
                || (i - s == 4 && memcmp(path + s, "meta", 4) == 0)
                || (i - s == 12
                    && memcmp(path + s, "resourceType", 12) == 0)))
        {
            return fw_min_err(err, errlen,
                              "\"%.*s\": id, meta and resourceType stay",
                              path, len);
        }

        i++;
    }

    memcpy(rest, path + start, len - start);
    rest[len - start] = '\0';

    return fw_min_add_rule(p, type, rest, FW_MIN_DROP, anywhere, NULL, err,
                           errlen);
}


/* "Type:a,b,c" */
int
fw_min_profile_elements(fw_min_profile_t *p, const u_char *spec,
    size_t len, char *err, size_t errlen)
{
    size_t              tl, i, s;
    const u_char       *colon;
    fw_min_elements_t  *e;

    colon = memchr(spec, ':', len);
    if (colon == NULL) {
        return fw_min_err(err, errlen, "\"%.*s\": not Type:a,b", spec, len);
    }

    tl = (size_t) (colon - spec);

    if (!fw_min_name_ok(spec, tl, 1)) {
        return fw_min_err(err, errlen, "\"%.*s\": bad resource type",
                          spec, len);
    }

    if (fw_min_elements_for(p, spec, tl)) {
        return fw_min_err(err, errlen, "\"%.*s\": type listed twice",
                          spec, len);
    }

    if (p->nelements == FW_MIN_TYPES_MAX || len - tl - 1 > FW_MIN_LIST_MAX)
    {
        return fw_min_err(err, errlen, "\"%.*s\": too long", spec, len);
    }

    e = &p->elements[p->nelements];
    memcpy(e->type, spec, tl);
    e->type[tl] = '\0';
    e->type_len = (uint16_t) tl;
    e->list[0] = ',';
    e->list_len = 1;

    for (i = tl + 1; i <= len; i = s + 1) {
        s = i;

        while (s < len && spec[s] != ',') {
            s++;
        }

        if (!fw_min_name_ok(spec + i, s - i, 0)) {
            return fw_min_err(err, errlen, "\"%.*s\": bad element name",
                              spec, len);
        }

        memcpy(e->list + e->list_len, spec + i, s - i);
        e->list_len += (uint16_t) (s - i);
        e->list[e->list_len++] = ',';
    }

    p->nelements++;

    return 0;
}


/* "Patient,Observation" */
int
fw_min_profile_types(fw_min_profile_t *p, const u_char *list, size_t len,
    char *err, size_t errlen)
{
    size_t  i, s;

    if (p->types_len == 0) {
        p->types[p->types_len++] = ',';
    }

    for (i = 0; i <= len; i = s + 1) {
        s = i;

        while (s < len && list[s] != ',') {
            s++;
        }

        if (!fw_min_name_ok(list + i, s - i, 1)) {
            return fw_min_err(err, errlen, "\"%.*s\": bad resource type",
                              list, len);
        }

        if (p->types_len + (s - i) + 1 > sizeof(p->types)) {
            return fw_min_err(err, errlen, "\"%.*s\": too many types",
                              list, len);
        }

        memcpy(p->types + p->types_len, list + i, s - i);
        p->types_len += s - i;
        p->types[p->types_len++] = ',';
    }

    return 0;
}


int
fw_min_profile_summary(fw_min_profile_t *p, const u_char *v, size_t len,
    char *err, size_t errlen)
{
    static const char  *ok[] = { "true", "text", "data", "count", NULL };
    const char        **s;

    for (s = ok; *s; s++) {
        if (strlen(*s) == len && memcmp(*s, v, len) == 0) {
            memcpy(p->summary, v, len);
            p->summary[len] = '\0';
            return 0;
        }
    }

    return fw_min_err(err, errlen,
                      "summary \"%.*s\": not true, text, data or count",
                      v, len);
}


static int
fw_min_list_has(const u_char *list, size_t llen, const u_char *name,
    size_t len)
{
    const u_char  *p, *end;

    /* list is ",a,b,": look for ",name," */
    end = list + llen;

    for (p = list; p + len + 2 <= end; p++) {
        p = memchr(p, ',', (size_t) (end - p));
        if (p == NULL || p + len + 2 > end) {
            return 0;
        }

        if (p[len + 1] == ',' && memcmp(p + 1, name, len) == 0) {
            return 1;
        }
    }

    return 0;
}


int
fw_min_type_visible(const fw_min_profile_t *p, const u_char *type,
    size_t len)
{
    if (p->types_len == 0) {
        return 1;
    }

    /* the containers always show: their entries are filtered each */
    if ((len == 6 && memcmp(type, "Bundle", 6) == 0)
        || (len == 16 && memcmp(type, "OperationOutcome", 16) == 0)
        || (len == 10 && memcmp(type, "Parameters", 10) == 0))
    {
        return 1;
    }

    return fw_min_list_has(p->types, p->types_len, type, len);
}


const fw_min_elements_t *
fw_min_elements_for(const fw_min_profile_t *p, const u_char *type,
    size_t len)
{
    size_t  i;

    for (i = 0; i < p->nelements; i++) {
        if (p->elements[i].type_len == len
            && memcmp(p->elements[i].type, type, len) == 0)
        {
            return &p->elements[i];
        }
    }

    return NULL;
}


/* percent-decoding ('+' is a space); *bad on a broken escape */
static size_t
fw_min_unescape(u_char *dst, const u_char *src, size_t len, int *bad)
{
    size_t  i, n;
    int     h, l;

    for (i = 0, n = 0; i < len; i++) {
        if (src[i] == '%') {
            if (i + 2 >= len) {
                *bad = 1;
                return n;
            }

            h = src[i + 1];
            l = src[i + 2];
            h = (h >= '0' && h <= '9') ? h - '0'
                : ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
                  ? (h | 0x20) - 'a' + 10 : -1;
            l = (l >= '0' && l <= '9') ? l - '0'
                : ((l | 0x20) >= 'a' && (l | 0x20) <= 'f')
                  ? (l | 0x20) - 'a' + 10 : -1;

            if (h < 0 || l < 0) {
                *bad = 1;
                return n;
            }

            dst[n++] = (u_char) (h * 16 + l);
            i += 2;

        } else {
            dst[n++] = (src[i] == '+') ? ' ' : src[i];
        }
    }

    return n;
}


/*
 * The type an _include (Source:param[:Target]) or a _revinclude
 * (Source:param) brings in; 0 if it cannot be told ("*", no target).
 */
static int
fw_min_include_type(const u_char *v, size_t len, int rev,
    const u_char **type, size_t *tlen)
{
    const u_char  *c1, *c2;

    c1 = memchr(v, ':', len);

    if (rev) {
        if (c1 == NULL) {
            return 0;
        }

        *type = v;
        *tlen = (size_t) (c1 - v);
        return *tlen > 0;
    }

    if (c1 == NULL) {
        return 0;
    }

    c2 = memchr(c1 + 1, ':', (size_t) (v + len - c1 - 1));
    if (c2 == NULL) {
        return 0;
    }

    *type = c2 + 1;
    *tlen = (size_t) (v + len - c2 - 1);

    return *tlen > 0;
}


/* an _include or _revinclude (rev) parameter, a[0, n), '=' at eq */
static int
fw_min_query_include(const fw_min_profile_t *p, int rev, const u_char *a,
    size_t eq, size_t n, const char **diag)
{
    int            bad;
    size_t         vl, itl;
    const u_char  *it;
    u_char         val[FW_MIN_LIST_MAX + 1];

    bad = 0;
    vl = 0;

    if (eq < n) {
        if (n - eq - 1 > FW_MIN_LIST_MAX) {
            *diag = "_include value too long";
            return 403;
        }

        vl = fw_min_unescape(val, a + eq + 1, n - eq - 1, &bad);
    }

    if (bad) {
        *diag = "an _include value is not percent-encoded right";
        return 400;
    }

    if (p->types_len) {
        if (!fw_min_include_type(val, vl, rev, &it, &itl)
            || !fw_min_type_visible(p, it, itl))
        {
            *diag = rev ? "_revinclude of a resource type this "
                          "role may not see"
                        : "_include of a resource type this role "
                          "may not see";
            return 403;
        }
    }

    return 0;
}


/*
 * An _elements parameter, a[0, n), '=' at eq: the client's names that the
 * profile allows, once each, added to cap (",a,b,", cl bytes so far);
 * returns the new length (",id," if none is left).
 */
static size_t
fw_min_query_elements(const fw_min_elements_t *el, const u_char *a,
    size_t eq, size_t n, u_char *cap, size_t cl)
{
    int     bad;
    size_t  vl, k, ks;
    u_char  val[FW_MIN_LIST_MAX + 1];

    bad = 0;
    vl = 0;

    if (eq < n && n - eq - 1 <= FW_MIN_LIST_MAX) {
        vl = fw_min_unescape(val, a + eq + 1, n - eq - 1, &bad);
    }

    for (k = 0; k < vl && !bad; k = ks + 1) {
        ks = k;

        while (ks < vl && val[ks] != ',') {
            ks++;
        }

        if (ks > k && fw_min_name_ok(val + k, ks - k, 0)
            && fw_min_list_has(el->list, el->list_len, val + k, ks - k)
            && !(cl && fw_min_list_has(cap, cl, val + k, ks - k)))
        {
            if (cl == 0) {
                cap[cl++] = ',';
            }

            memcpy(cap + cl, val + k, ks - k);
            cl += ks - k;
            cap[cl++] = ',';
        }
    }

    if (cl == 0) {
        /* asked only for what it may not see: id alone */
        memcpy(cap, ",id,", 4);
        cl = 4;
    }

    return cl;
}


int
fw_min_query(const fw_min_profile_t *p, const u_char *type, size_t tlen,
    const u_char *args, size_t alen, u_char *out, size_t *olen,
    const char **diag)
{
    int                       bad, rc, keep, summary_count;
    size_t                    i, s, eq, nl, n, cl;
    const u_char             *a;
    u_char                   *o;
    const fw_min_elements_t  *el;
    u_char                    name[64], cap[FW_MIN_LIST_MAX + 8];

    el = (type && p->request_elements && p->summary[0] == '\0')
         ? fw_min_elements_for(p, type, tlen) : NULL;
    o = out;
    cl = 0;
    summary_count = 0;

    for (i = 0; i < alen; i = s + 1) {
        s = i;

        while (s < alen && args[s] != '&') {
            s++;
        }

        if (s == i) {
            continue;
        }

        a = args + i;
        n = s - i;

        for (eq = 0; eq < n && a[eq] != '='; eq++) { /* void */ }

        bad = 0;
        nl = (eq <= sizeof(name)) ? fw_min_unescape(name, a, eq, &bad) : 0;

        if (bad) {
            *diag = "a query parameter name is not percent-encoded right";
            return 400;
        }

        keep = 1;

        if (eq > sizeof(name)) {
            /* too long to be a parameter of ours: kept as it is */

        } else if ((nl >= 8 && memcmp(name, "_include", 8) == 0
                    && (nl == 8 || name[8] == ':'))
                   || (nl >= 11 && memcmp(name, "_revinclude", 11) == 0
                       && (nl == 11 || name[11] == ':')))
        {
            rc = fw_min_query_include(p, name[1] == 'r', a, eq, n, diag);

            if (rc != 0) {
                return rc;
            }

        } else if (nl == 8 && memcmp(name, "_summary", 8) == 0
                   && p->summary[0])
        {
            if (n - eq - 1 == 5 && memcmp(a + eq + 1, "count", 5) == 0) {
                summary_count = 1;

            } else {
                keep = 0;
            }

        } else if (nl == 9 && memcmp(name, "_elements", 9) == 0 && el) {
            keep = 0;
            cl = fw_min_query_elements(el, a, eq, n, cap, cl);
        }

        if (keep) {
            if (o != out) {
                *o++ = '&';
            }

            memcpy(o, a, n);
            o += n;
        }
    }

    if (el) {
        if (o != out) {
            *o++ = '&';
        }

        memcpy(o, "_elements=", 10);
        o += 10;

        if (cl) {
            /* cap is ",a,b," */
            memcpy(o, cap + 1, cl - 2);
            o += cl - 2;

        } else {
            memcpy(o, el->list + 1, (size_t) el->list_len - 2);
            o += el->list_len - 2;
        }
    }

    if (p->summary[0] && !summary_count) {
        if (o != out) {
            *o++ = '&';
        }

        n = strlen(p->summary);
        memcpy(o, "_summary=", 9);
        memcpy(o + 9, p->summary, n);
        o += 9 + n;
    }

    *olen = (size_t) (o - out);

    return 0;
}
