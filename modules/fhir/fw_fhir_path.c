/*
 * fhirwall FHIR core: REST path parser, interaction classifier, query
 * parser and policy checks (plain C).
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fw_fhir.h"


#define FW_FHIR_MAX_SEGS  4

#define fw_fhir_eq(p, n, s)                                                 \
    ((n) == sizeof(s) - 1 && memcmp(p, s, sizeof(s) - 1) == 0)


static unsigned fw_fhir_type_key(const u_char *name, size_t len);
static void fw_fhir_type_build(void);
static int fw_fhir_in_list(const fw_fhir_str_t *list, size_t n,
    const u_char *p, size_t len);
static int fw_fhir_format_allowed(const fw_fhir_policy_t *pol,
    const fw_fhir_str_t *value);
static int fw_fhir_has_criteria(const fw_fhir_param_t *params, size_t n);
static int fw_fhir_parse_type(unsigned version, const u_char *p, size_t len,
    int *type, fw_fhir_verdict_t *v);
static int fw_fhir_split_path(const u_char *rest, size_t len,
    fw_fhir_str_t *seg, size_t *pnseg, fw_fhir_verdict_t *v);
static int fw_fhir_parse_instance_tail(unsigned version,
    const fw_fhir_str_t *seg, size_t nseg, fw_fhir_req_t *req,
    fw_fhir_verdict_t *v);
static int fw_fhir_nseg(size_t nseg, size_t want, fw_fhir_verdict_t *v);
static int fw_fhir_too_long(fw_fhir_verdict_t *v);
static int fw_fhir_bad_op(fw_fhir_verdict_t *v);
static int fw_fhir_classify_type(int method, const fw_fhir_param_t *params,
    size_t n, int if_none_exist, int *pi, fw_fhir_verdict_t *v);
static int fw_fhir_instance_interaction(int method);
static int fw_fhir_decode_pair(const u_char *q, size_t start, size_t eq,
    size_t end, int form, u_char **pd, fw_fhir_param_t *p);


const char  *fw_fhir_interaction_names[FW_FHIR_I_COUNT] = {
    "none",
    "capabilities",
    "batch",
    "transaction",
    "search-system",
    "history-system",
    "operation-system",
    "create",
    "conditional-create",
    "search-type",
    "conditional-update",
    "conditional-patch",
    "conditional-delete",
    "history-type",
    "operation-type",
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "operation-instance",
    "search-compartment"
};


void
fw_fhir_verdict_init(fw_fhir_verdict_t *v)
{
    v->status = 0;
    v->code = "informational";
    v->reason = "ok";
    v->entry = -1;
    v->diag[0] = '\0';
    v->needed[0] = '\0';
}


int
fw_fhir_deny(fw_fhir_verdict_t *v, unsigned status, const char *code,
    const char *reason, const char *fmt, ...)
{
    va_list  args;

    v->status = status;
    v->code = code;
    v->reason = reason;

    va_start(args, fmt);
    vsnprintf(v->diag, sizeof(v->diag), fmt, args);
    va_end(args);

    return FW_FHIR_ERROR;
}


unsigned
fw_fhir_version(const u_char *name, size_t len)
{
    u_char  buf[3];
    size_t  i;

    if (len < 2 || len > 3) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        buf[i] = (name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32 : name[i];
    }

    if (fw_fhir_eq(buf, len, "R4")) {
        return FW_FHIR_R4;
    }

    if (fw_fhir_eq(buf, len, "R4B")) {
        return FW_FHIR_R4B;
    }

    if (fw_fhir_eq(buf, len, "R5")) {
        return FW_FHIR_R5;
    }

    return 0;
}


/*
 * The type table is sorted; an open-addressing hash over it (length and
 * three characters), built on first use, finds a name with one or two
 * probes and a single memcmp() instead of a binary search.
 */

#define FW_FHIR_TYPE_HASH  512

static unsigned short  fw_fhir_type_hash[FW_FHIR_TYPE_HASH]; /* index + 1 */
static int             fw_fhir_type_hash_built;


static unsigned
fw_fhir_type_key(const u_char *name, size_t len)
{
    return ((unsigned) len * 97 + name[0] * 31 + name[len - 1] * 7
            + name[len >> 1] * 3) & (FW_FHIR_TYPE_HASH - 1);
}


static void
fw_fhir_type_build(void)
{
    unsigned  i, k;

    for (i = 0; i < fw_fhir_ntypes; i++) {
        k = fw_fhir_type_key((const u_char *) fw_fhir_types[i].name,
                             fw_fhir_types[i].len);

        while (fw_fhir_type_hash[k]) {
            k = (k + 1) & (FW_FHIR_TYPE_HASH - 1);
        }

        fw_fhir_type_hash[k] = (unsigned short) (i + 1);
    }

    fw_fhir_type_hash_built = 1;
}


int
fw_fhir_type_lookup(unsigned version, const u_char *name, size_t len)
{
    unsigned               k, i;
    const fw_fhir_type_t  *t;

    if (len == 0 || len > 64) {
        return FW_FHIR_NONE;
    }

    if (!fw_fhir_type_hash_built) {
        fw_fhir_type_build();
    }

    for (k = fw_fhir_type_key(name, len);
         (i = fw_fhir_type_hash[k]) != 0;
         k = (k + 1) & (FW_FHIR_TYPE_HASH - 1))
    {
        t = &fw_fhir_types[i - 1];

        if (t->len == len && t->name[0] == (char) name[0]
            && memcmp(t->name, name, len) == 0)
        {
            if (version && !(t->versions & version)) {
                return FW_FHIR_NONE;
            }

            return (int) (i - 1);
        }
    }

    return FW_FHIR_NONE;
}


int
fw_fhir_patient_type(void)
{
    static int  patient = FW_FHIR_NONE - 1;

    if (patient == FW_FHIR_NONE - 1) {
        patient = fw_fhir_type_lookup(0, (const u_char *) "Patient", 7);
    }

    return patient;
}


int
fw_fhir_is_compartment(unsigned version, int type)
{
    size_t             i, n;
    const char        *name;
    static const char  *names[] = {
        "Patient", "Encounter", "RelatedPerson", "Practitioner", "Device",
        "EpisodeOfCare"
    };

    if (type < 0 || (unsigned) type >= fw_fhir_ntypes) {
        return 0;
    }

    /* EpisodeOfCare became a compartment in R5 */
    n = (version == FW_FHIR_R5) ? 6 : 5;
    name = fw_fhir_types[type].name;

    for (i = 0; i < n; i++) {
        if (strcmp(name, names[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


const fw_fhir_cpt_t *
fw_fhir_compartment_row(unsigned version, int type)
{
    int          c;
    size_t       lo, hi, mid;
    const char  *name;

    if (type < 0 || (unsigned) type >= fw_fhir_ntypes) {
        return NULL;
    }

    name = fw_fhir_types[type].name;

    /* the rows are sorted by name (strcmp), then version */

    lo = 0;
    hi = fw_fhir_ncpts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(fw_fhir_cpts[mid].name, name);

        if (c < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    for ( /* void */ ; lo < fw_fhir_ncpts; lo++) {
        if (strcmp(fw_fhir_cpts[lo].name, name) != 0) {
            break;
        }

        if (fw_fhir_cpts[lo].version & version) {
            return &fw_fhir_cpts[lo];
        }
    }

    return NULL;
}


int
fw_fhir_in_list_csv(const char *list, const u_char *name, size_t len)
{
    const char  *p, *e;

    if (len == 0) {
        return 0;
    }

    for (p = list; *p; p = *e ? e + 1 : e) {
        e = strchr(p, ',');
        if (e == NULL) {
            e = p + strlen(p);
        }

        if ((size_t) (e - p) == len && memcmp(p, name, len) == 0) {
            return 1;
        }
    }

    return 0;
}


unsigned long
fw_fhir_interaction_mask(const u_char *name, size_t len)
{
    int            i;
    size_t         plen;
    unsigned long  mask;
    const char    *s;

    mask = 0;

    for (i = 1; i < FW_FHIR_I_COUNT; i++) {
        s = fw_fhir_interaction_names[i];
        plen = strlen(s);

        if (plen == len && memcmp(s, name, len) == 0) {
            return 1UL << i;
        }

        /* groups: "search" is every search-*, "conditional" every
           conditional-*, "operation", "history" likewise */
        if (plen > len && s[len] == '-' && memcmp(s, name, len) == 0
            && (fw_fhir_eq(name, len, "search")
                || fw_fhir_eq(name, len, "history")
                || fw_fhir_eq(name, len, "operation")
                || fw_fhir_eq(name, len, "conditional")))
        {
            mask |= 1UL << i;
        }
    }

    return mask;
}


/* [A-Za-z0-9\-\.] */

static const u_char  fw_fhir_idchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0,   /* - . */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0
    /* 0x80 and above: 0 */
};


int
fw_fhir_valid_id(const u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > FW_FHIR_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!fw_fhir_idchar[p[i]]) {
            return 0;
        }
    }

    return 1;
}


int
fw_fhir_valid_op(const u_char *p, size_t len)
{
    size_t  i;
    u_char  c;

    if (len == 0 || len > FW_FHIR_OP_MAX) {
        return 0;
    }

    if (!((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z'))) {
        return 0;
    }

    for (i = 1; i < len; i++) {
        c = p[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static int
fw_fhir_parse_type(unsigned version, const u_char *p, size_t len, int *type,
    fw_fhir_verdict_t *v)
{
    size_t  i;

    if (len > 64 || !(p[0] >= 'A' && p[0] <= 'Z')) {
        if (p[0] >= 'a' && p[0] <= 'z') {
            /* "patient": types are case-sensitive */
            return fw_fhir_deny(v, 404, "not-found", "unknown-type",
                                "unknown resource type");
        }

        return fw_fhir_deny(v, 400, "invalid", "invalid",
                            "malformed path segment");
    }

    *type = fw_fhir_type_lookup(version, p, len);

    if (*type != FW_FHIR_NONE) {
        /* a known name: letters only */
        return FW_FHIR_OK;
    }

    for (i = 1; i < len; i++) {
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z'))) {
            return fw_fhir_deny(v, 400, "invalid", "invalid",
                                "malformed path segment");
        }
    }

    return fw_fhir_deny(v, 404, "not-found", "unknown-type",
                        "unknown resource type for FHIR %s",
                        version == FW_FHIR_R4 ? "R4"
                        : version == FW_FHIR_R4B ? "R4B" : "R5");
}


int
fw_fhir_parse_path(unsigned version, const u_char *rest, size_t len,
    fw_fhir_req_t *req, fw_fhir_verdict_t *v)
{
    size_t         nseg;
    fw_fhir_str_t  seg[FW_FHIR_MAX_SEGS];

    memset(req, 0, sizeof(fw_fhir_req_t));
    req->type = FW_FHIR_NONE;
    req->compartment = FW_FHIR_NONE;
    req->target = FW_FHIR_NONE;
    req->version = version;

    if (len == 0 || (len == 1 && rest[0] == '/')) {
        req->shape = FW_FHIR_S_BASE;
        req->base = 1;
        return FW_FHIR_OK;
    }

    if (rest[0] != '/') {
        return fw_fhir_deny(v, 400, "invalid", "invalid", "malformed path");
    }

    nseg = 0;

    if (fw_fhir_split_path(rest, len, seg, &nseg, v) != FW_FHIR_OK) {
        return FW_FHIR_ERROR;
    }

    /* first segment: system level names or a type */

    if (fw_fhir_eq(seg[0].data, seg[0].len, "metadata")) {
        req->shape = FW_FHIR_S_METADATA;
        return fw_fhir_nseg(nseg, 1, v);
    }

    if (fw_fhir_eq(seg[0].data, seg[0].len, "_search")) {
        req->shape = FW_FHIR_S_SYSTEM_SEARCH;
        req->type = FW_FHIR_ANY;
        return fw_fhir_nseg(nseg, 1, v);
    }

    if (fw_fhir_eq(seg[0].data, seg[0].len, "_history")) {
        req->shape = FW_FHIR_S_SYSTEM_HISTORY;
        req->type = FW_FHIR_ANY;
        return fw_fhir_nseg(nseg, 1, v);
    }

    if (seg[0].data[0] == '$') {
        if (!fw_fhir_valid_op(seg[0].data + 1, seg[0].len - 1)) {
            return fw_fhir_bad_op(v);
        }

        req->shape = FW_FHIR_S_SYSTEM_OP;
        req->type = FW_FHIR_ANY;
        req->op.data = seg[0].data + 1;
        req->op.len = seg[0].len - 1;
        return fw_fhir_nseg(nseg, 1, v);
    }

    if (fw_fhir_parse_type(version, seg[0].data, seg[0].len, &req->type, v)
        != FW_FHIR_OK)
    {
        return FW_FHIR_ERROR;
    }

    if (nseg == 1) {
        req->shape = FW_FHIR_S_TYPE;
        return FW_FHIR_OK;
    }

    /* second segment: _search, _history, $op or an id */

    if (fw_fhir_eq(seg[1].data, seg[1].len, "_search")) {
        req->shape = FW_FHIR_S_TYPE_SEARCH;
        return fw_fhir_nseg(nseg, 2, v);
    }

    if (fw_fhir_eq(seg[1].data, seg[1].len, "_history")) {
        req->shape = FW_FHIR_S_TYPE_HISTORY;
        return fw_fhir_nseg(nseg, 2, v);
    }

    if (seg[1].data[0] == '$') {
        if (!fw_fhir_valid_op(seg[1].data + 1, seg[1].len - 1)) {
            return fw_fhir_bad_op(v);
        }

        req->shape = FW_FHIR_S_TYPE_OP;
        req->op.data = seg[1].data + 1;
        req->op.len = seg[1].len - 1;
        return fw_fhir_nseg(nseg, 2, v);
    }

    if (!fw_fhir_valid_id(seg[1].data, seg[1].len)) {
        return fw_fhir_deny(v, 400, "invalid", "invalid",
                            "malformed resource id");
    }

    req->id = seg[1];

    if (nseg == 2) {
        req->shape = FW_FHIR_S_INSTANCE;
        return FW_FHIR_OK;
    }

    /* third segment and after */

    return fw_fhir_parse_instance_tail(version, seg, nseg, req, v);
}


/* the path split at '/': every segment non-empty and no dot segment */

static int
fw_fhir_split_path(const u_char *rest, size_t len, fw_fhir_str_t *seg,
    size_t *pnseg, fw_fhir_verdict_t *v)
{
    size_t         i, nseg, start;
    const u_char  *sl;

    nseg = 0;
    start = 1;

    for (i = 1; i <= len; i++) {

        /* to the next '/' or the end */
        sl = memchr(rest + i, '/', len - i);
        i = sl ? (size_t) (sl - rest) : len;

        if (i == start) {
            return fw_fhir_deny(v, 400, "invalid", "invalid",
                                "empty path segment");
        }

        if (fw_fhir_eq(rest + start, i - start, ".")
            || fw_fhir_eq(rest + start, i - start, ".."))
        {
            return fw_fhir_deny(v, 400, "invalid", "invalid",
                                "dot segment in path");
        }

        if (nseg == FW_FHIR_MAX_SEGS) {
            return fw_fhir_deny(v, 400, "invalid", "invalid",
                                "too many path segments");
        }

        seg[nseg].data = rest + start;
        seg[nseg].len = i - start;
        nseg++;
        start = i + 1;
    }

    *pnseg = nseg;

    return FW_FHIR_OK;
}


/*
 * /T/id/...: the third segment (_history[/vid], $op, or a compartment
 * search) and the fourth; req has the type and the id
 */

static int
fw_fhir_parse_instance_tail(unsigned version, const fw_fhir_str_t *seg,
    size_t nseg, fw_fhir_req_t *req, fw_fhir_verdict_t *v)
{
    int  t;

    if (fw_fhir_eq(seg[2].data, seg[2].len, "_history")) {
        if (nseg == 3) {
            req->shape = FW_FHIR_S_INSTANCE_HISTORY;
            return FW_FHIR_OK;
        }

        if (!fw_fhir_valid_id(seg[3].data, seg[3].len)) {
            return fw_fhir_deny(v, 400, "invalid", "invalid",
                                "malformed version id");
        }

        req->shape = FW_FHIR_S_VREAD;
        req->vid = seg[3];
        return FW_FHIR_OK;
    }

    if (seg[2].data[0] == '$') {
        if (!fw_fhir_valid_op(seg[2].data + 1, seg[2].len - 1)) {
            return fw_fhir_bad_op(v);
        }

        if (nseg != 3) {
            return fw_fhir_too_long(v);
        }

        req->shape = FW_FHIR_S_INSTANCE_OP;
        req->op.data = seg[2].data + 1;
        req->op.len = seg[2].len - 1;
        return FW_FHIR_OK;
    }

    if (!fw_fhir_is_compartment(version, req->type)) {
        return fw_fhir_deny(v, 400, "invalid", "invalid",
                            "malformed path: not a compartment");
    }

    req->compartment = req->type;

    if (fw_fhir_eq(seg[2].data, seg[2].len, "_search")) {
        req->shape = FW_FHIR_S_COMPARTMENT_SEARCH;
        req->type = FW_FHIR_ANY;
        req->target = FW_FHIR_ANY;

        if (nseg != 3) {
            return fw_fhir_too_long(v);
        }

        return FW_FHIR_OK;
    }

    if (fw_fhir_eq(seg[2].data, seg[2].len, "*")) {
        req->shape = FW_FHIR_S_COMPARTMENT;
        req->type = FW_FHIR_ANY;
        req->target = FW_FHIR_ANY;

        if (nseg != 3) {
            return fw_fhir_too_long(v);
        }

        return FW_FHIR_OK;
    }

    if (fw_fhir_parse_type(version, seg[2].data, seg[2].len, &t, v)
        != FW_FHIR_OK)
    {
        return FW_FHIR_ERROR;
    }

    req->type = t;
    req->target = t;

    if (nseg == 3) {
        req->shape = FW_FHIR_S_COMPARTMENT;
        return FW_FHIR_OK;
    }

    if (fw_fhir_eq(seg[3].data, seg[3].len, "_search")) {
        req->shape = FW_FHIR_S_COMPARTMENT_SEARCH;
        return FW_FHIR_OK;
    }

    return fw_fhir_too_long(v);
}


/* FW_FHIR_OK if the path has "want" segments, else 400 */

static int
fw_fhir_nseg(size_t nseg, size_t want, fw_fhir_verdict_t *v)
{
    return (nseg == want) ? FW_FHIR_OK : fw_fhir_too_long(v);
}


static int
fw_fhir_too_long(fw_fhir_verdict_t *v)
{
    return fw_fhir_deny(v, 400, "invalid", "invalid",
                        "malformed path: unexpected segment");
}


static int
fw_fhir_bad_op(fw_fhir_verdict_t *v)
{
    return fw_fhir_deny(v, 400, "invalid", "invalid",
                        "malformed operation name");
}


/*
 * query bytes: 0 copied as is, 1 '=', 2 '%', 3 '+', 4 '&', 5 refused; ';'
 * is refused because some servers split pairs at it too
 */
#define FW_FHIR_Q_PLAIN  0
#define FW_FHIR_Q_EQ     1
#define FW_FHIR_Q_PCT    2
#define FW_FHIR_Q_PLUS   3
#define FW_FHIR_Q_AMP    4
#define FW_FHIR_Q_BAD    5

static const u_char  fw_fhir_qclass[256] = {
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 0, 0, 5, 0, 2, 4, 0, 0, 0, 0, 3, 0, 0, 0, 0,   /* ' ' '#' '%' '&' '+' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 0, 0,   /* ';' '=' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5,   /* DEL */
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5
};


/*
 * One pass over each pair: a pair without escapes (and, in a form, without
 * '+') is pointed to where it is; only a pair with escapes is decoded into
 * "scratch".  The name ends at the pair's first raw '='.
 */

int
fw_fhir_parse_query(const u_char *q, size_t len, int form, u_char *scratch,
    fw_fhir_param_t *params, size_t max, size_t *n, fw_fhir_verdict_t *v)
{
    size_t            i, start, eq, end;
    u_char           *d, cls;
    unsigned          esc;
    fw_fhir_param_t  *p;

    d = scratch;
    i = 0;

    while (i < len) {

        if (q[i] == '&') {
            i++;
            continue;
        }

        if (q[i] == '=') {
            /* "=x": a pair without a name */
            goto bad;
        }

        if (*n == max) {
            return fw_fhir_deny(v, 400, "too-costly", "invalid",
                                "too many query parameters (at most %u)",
                                (unsigned) max);
        }

        start = i;
        eq = len;
        esc = 0;

        for ( ;; ) {

            /* the common case: a run of plain bytes (class 0) */
            while (len - i >= 2
                   && (fw_fhir_qclass[q[i]] | fw_fhir_qclass[q[i + 1]]) == 0)
            {
                i += 2;
            }

            if (i < len && fw_fhir_qclass[q[i]] == FW_FHIR_Q_PLAIN) {
                i++;
            }

            if (i == len) {
                break;
            }

            cls = fw_fhir_qclass[q[i]];

            if (cls == FW_FHIR_Q_AMP) {
                break;
            }

            if (cls == FW_FHIR_Q_EQ) {
                if (eq == len) {
                    eq = i;
                }

            } else if (cls == FW_FHIR_Q_PCT) {
                esc = 1;

            } else if (cls == FW_FHIR_Q_PLUS) {
                /* a '+' in a name: a space to some servers, not to others */
                if (eq == len && !form) {
                    goto bad;
                }

                esc |= (unsigned) form;

            } else {
                goto bad;
            }

            i++;
        }

        end = i;
        p = &params[(*n)++];

        if (!esc) {
            p->name.data = q + start;

            if (eq == len) {
                p->name.len = end - start;
                p->value.data = q + end;
                p->value.len = 0;

            } else {
                p->name.len = eq - start;
                p->value.data = q + eq + 1;
                p->value.len = end - eq - 1;
            }

            continue;
        }

        /* decode the pair; the '=' at "eq" splits it */

        if (fw_fhir_decode_pair(q, start, eq, end, form, &d, p)
            != FW_FHIR_OK)
        {
            goto bad;
        }
    }

    return FW_FHIR_OK;

bad:

    return fw_fhir_deny(v, 400, "invalid", "invalid",
                        "malformed query string");
}


/*
 * Decodes the pair q[start .. end) split at "eq" (end: no '=') into *pd,
 * which moves past it; FW_FHIR_ERROR for a bad or a NUL escape
 */

static int
fw_fhir_decode_pair(const u_char *q, size_t start, size_t eq, size_t end,
    int form, u_char **pd, fw_fhir_param_t *p)
{
    int      hi, lo;
    size_t   k;
    u_char  *d, c;

    d = *pd;

    p->name.data = d;
    p->value.data = NULL;

    for (k = start; k < end; k++) {
        c = q[k];

        if (k == eq) {
            p->name.len = d - p->name.data;
            p->value.data = d;
            continue;
        }

        if (c == '%') {
            /* the pair ends at '&' or the end: neither is a digit */
            if (end - k < 3) {
                return FW_FHIR_ERROR;
            }

            hi = fw_fhir_hex(q[k + 1]);
            lo = fw_fhir_hex(q[k + 2]);

            if (hi < 0 || lo < 0) {
                return FW_FHIR_ERROR;
            }

            c = (u_char) (hi << 4 | lo);
            k += 2;

            if (c == '\0') {
                return FW_FHIR_ERROR;
            }

        } else if (c == '+' && form) {
            c = ' ';
        }

        *d++ = c;
    }

    if (p->value.data == NULL) {
        p->name.len = d - p->name.data;
        p->value.data = d;
    }

    p->value.len = d - p->value.data;

    *pd = d;

    return FW_FHIR_OK;
}


/* parameters that make PUT/PATCH/DELETE on a type a conditional one */

static int
fw_fhir_has_criteria(const fw_fhir_param_t *params, size_t n)
{
    size_t                  i;
    const fw_fhir_param_t  *p;

    for (i = 0; i < n; i++) {
        p = &params[i];

        if (fw_fhir_eq(p->name.data, p->name.len, "_format")
            || fw_fhir_eq(p->name.data, p->name.len, "_pretty")
            || fw_fhir_eq(p->name.data, p->name.len, "_summary")
            || fw_fhir_eq(p->name.data, p->name.len, "_elements"))
        {
            continue;
        }

        return 1;
    }

    return 0;
}


int
fw_fhir_classify(fw_fhir_req_t *req, int method,
    const fw_fhir_param_t *params, size_t n, int if_none_exist,
    fw_fhir_verdict_t *v)
{
    int  get, post, i;

    if (method == FW_FHIR_M_HEAD) {
        method = FW_FHIR_M_GET;
    }

    get = (method == FW_FHIR_M_GET);
    post = (method == FW_FHIR_M_POST);
    i = FW_FHIR_I_NONE;

    switch (req->shape) {

    case FW_FHIR_S_BASE:
        i = get ? FW_FHIR_I_SEARCH_SYSTEM : post ? FW_FHIR_I_BATCH : 0;
        break;

    case FW_FHIR_S_METADATA:
        i = get ? FW_FHIR_I_CAPABILITIES : 0;
        break;

    case FW_FHIR_S_SYSTEM_SEARCH:
        i = post ? FW_FHIR_I_SEARCH_SYSTEM : 0;
        req->search_post = post;
        break;

    case FW_FHIR_S_SYSTEM_HISTORY:
        i = get ? FW_FHIR_I_HISTORY_SYSTEM : 0;
        break;

    case FW_FHIR_S_SYSTEM_OP:
        i = (get || post) ? FW_FHIR_I_OPERATION_SYSTEM : 0;
        break;

    case FW_FHIR_S_TYPE:
        if (fw_fhir_classify_type(method, params, n, if_none_exist, &i, v)
            != FW_FHIR_OK)
        {
            return FW_FHIR_ERROR;
        }

        break;

    case FW_FHIR_S_TYPE_SEARCH:
        i = post ? FW_FHIR_I_SEARCH_TYPE : 0;
        req->search_post = post;
        break;

    case FW_FHIR_S_TYPE_HISTORY:
        i = get ? FW_FHIR_I_HISTORY_TYPE : 0;
        break;

    case FW_FHIR_S_TYPE_OP:
        i = (get || post) ? FW_FHIR_I_OPERATION_TYPE : 0;
        break;

    case FW_FHIR_S_INSTANCE:
        i = fw_fhir_instance_interaction(method);
        break;

    case FW_FHIR_S_INSTANCE_HISTORY:
        i = get ? FW_FHIR_I_HISTORY_INSTANCE : 0;
        break;

    case FW_FHIR_S_VREAD:
        i = get ? FW_FHIR_I_VREAD : 0;
        break;

    case FW_FHIR_S_INSTANCE_OP:
        i = (get || post) ? FW_FHIR_I_OPERATION_INSTANCE : 0;
        break;

    case FW_FHIR_S_COMPARTMENT:
        i = get ? FW_FHIR_I_SEARCH_COMPARTMENT : 0;
        break;

    case FW_FHIR_S_COMPARTMENT_SEARCH:
        i = post ? FW_FHIR_I_SEARCH_COMPARTMENT : 0;
        req->search_post = post;
        break;
    }

    if (i == FW_FHIR_I_NONE) {
        req->search_post = 0;
        return fw_fhir_deny(v, 405, "not-supported", "not-allowed",
                            "method not allowed for this path");
    }

    req->interaction = i;

    return FW_FHIR_OK;
}


/* /T: by the method, a conditional one only with search criteria */

static int
fw_fhir_classify_type(int method, const fw_fhir_param_t *params, size_t n,
    int if_none_exist, int *pi, fw_fhir_verdict_t *v)
{
    int  i;

    i = FW_FHIR_I_NONE;

    switch (method) {
    case FW_FHIR_M_GET:
        i = FW_FHIR_I_SEARCH_TYPE;
        break;
    case FW_FHIR_M_POST:
        i = if_none_exist ? FW_FHIR_I_CONDITIONAL_CREATE
                          : FW_FHIR_I_CREATE;
        break;
    case FW_FHIR_M_PUT:
        i = FW_FHIR_I_CONDITIONAL_UPDATE;
        break;
    case FW_FHIR_M_PATCH:
        i = FW_FHIR_I_CONDITIONAL_PATCH;
        break;
    case FW_FHIR_M_DELETE:
        i = FW_FHIR_I_CONDITIONAL_DELETE;
        break;
    }

    if (i >= FW_FHIR_I_CONDITIONAL_UPDATE
        && i <= FW_FHIR_I_CONDITIONAL_DELETE
        && !fw_fhir_has_criteria(params, n))
    {
        return fw_fhir_deny(v, 405, "not-supported", "not-allowed",
                            "a conditional %s needs search criteria",
                            method == FW_FHIR_M_PUT ? "update"
                            : method == FW_FHIR_M_PATCH ? "patch"
                            : "delete");
    }

    *pi = i;

    return FW_FHIR_OK;
}


/* /T/id: by the method */

static int
fw_fhir_instance_interaction(int method)
{
    switch (method) {
    case FW_FHIR_M_GET:
        return FW_FHIR_I_READ;
    case FW_FHIR_M_PUT:
        return FW_FHIR_I_UPDATE;
    case FW_FHIR_M_PATCH:
        return FW_FHIR_I_PATCH;
    case FW_FHIR_M_DELETE:
        return FW_FHIR_I_DELETE;
    }

    return FW_FHIR_I_NONE;
}


static int
fw_fhir_in_list(const fw_fhir_str_t *list, size_t n, const u_char *p,
    size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (list[i].len == len && memcmp(list[i].data, p, len) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
fw_fhir_format_allowed(const fw_fhir_policy_t *pol,
    const fw_fhir_str_t *value)
{
    size_t  i, j;

    for (i = 0; i < pol->n_formats; i++) {
        if (pol->formats[i].len != value->len) {
            continue;
        }

        /* "application/fhir+json" arrives as "fhir json" after form
           decoding */
        for (j = 0; j < value->len; j++) {
            if (pol->formats[i].data[j] != value->data[j]
                && !(pol->formats[i].data[j] == '+' && value->data[j] == ' '))
            {
                break;
            }
        }

        if (j == value->len) {
            return 1;
        }
    }

    return 0;
}


#define fw_fhir_bit(map, i)  ((map)[(i) >> 3] & (1 << ((i) & 7)))

int
fw_fhir_check_policy(const fw_fhir_policy_t *pol, const fw_fhir_req_t *req,
    const fw_fhir_param_t *params, size_t n, fw_fhir_verdict_t *v)
{
    int         k, types[2];
    size_t      i;
    unsigned    st;
    const char *code;

    types[0] = req->compartment;
    types[1] = req->type;

    for (k = 0; k < 2; k++) {
        if (types[k] < 0) {
            continue;
        }

        if ((pol->type_allow && !fw_fhir_bit(pol->type_allow, types[k]))
            || (pol->type_deny && fw_fhir_bit(pol->type_deny, types[k])))
        {
            return fw_fhir_deny(v, 404, "not-supported", "type-denied",
                                "resource type %s is not served here",
                                fw_fhir_types[types[k]].name);
        }
    }

    st = pol->deny_status;
    code = (st == 403) ? "forbidden" : "not-supported";

    if (req->interaction == FW_FHIR_I_BATCH) {
        /* batch or transaction: the body tells; one of them must be on */
        if (!(pol->interactions & (1UL << FW_FHIR_I_BATCH
                                   | 1UL << FW_FHIR_I_TRANSACTION)))
        {
            return fw_fhir_deny(v, st, code, "not-allowed",
                                "batch and transaction are not allowed "
                                "here");
        }

    } else if (!(pol->interactions & (1UL << req->interaction))) {
        return fw_fhir_deny(v, st, code, "not-allowed",
                            "interaction %s is not allowed here",
                            fw_fhir_interaction_names[req->interaction]);
    }

    if (req->op.len) {
        if ((pol->op_deny
             && fw_fhir_in_list(pol->op_deny, pol->n_op_deny,
                                req->op.data, req->op.len))
            || (pol->op_allow
                && !fw_fhir_in_list(pol->op_allow, pol->n_op_allow,
                                    req->op.data, req->op.len)))
        {
            return fw_fhir_deny(v, st, code, "not-allowed",
                                "operation is not allowed here");
        }
    }

    for (i = 0; i < n; i++) {
        if (fw_fhir_eq(params[i].name.data, params[i].name.len, "_format")
            && pol->formats && !fw_fhir_format_allowed(pol, &params[i].value))
        {
            return fw_fhir_deny(v, 400, "not-supported", "format",
                                "_format value is not allowed");
        }
    }

    return FW_FHIR_OK;
}


int
fw_fhir_param_patient(const fw_fhir_req_t *req, const fw_fhir_param_t *param,
    fw_fhir_str_t *id)
{
    int                   bare;
    size_t                nlen, blen;
    const u_char         *name, *colon;
    fw_fhir_str_t         val;
    const fw_fhir_cpt_t  *row;

    name = param->name.data;
    nlen = param->name.len;
    val = param->value;

    if (req->type < 0) {
        return 0;
    }

    if (req->type == fw_fhir_patient_type() && fw_fhir_eq(name, nlen, "_id"))
    {
        goto check;
    }

    colon = memchr(name, ':', nlen);
    blen = colon ? (size_t) (colon - name) : nlen;

    row = fw_fhir_compartment_row(req->version, req->type);

    /*
     * only a Patient reference of the type ties it to a patient, and only
     * one the compartment definition places it by, or "patient" itself, or
     * "subject" where the type has "patient" (FHIR defines that one as the
     * subject that is a Patient); a server may ignore any other parameter
     * as unknown
     */

    if (row == NULL || !fw_fhir_in_list_csv(row->references, name, blen)
        || !(fw_fhir_in_list_csv(row->compartment, name, blen)
             || fw_fhir_eq(name, blen, "patient")
             || (fw_fhir_eq(name, blen, "subject")
                 && fw_fhir_in_list_csv(row->references,
                                        (const u_char *) "patient", 7))))
    {
        return 0;
    }

    /* no modifier, or ":Patient"; ":not", ":missing" ... never */

    if (colon && !fw_fhir_eq(colon, nlen - blen, ":Patient")) {
        return -1;
    }

    /* a bare id names a Patient only where the target is Patient alone */
    bare = colon != NULL || fw_fhir_eq(name, blen, "patient");

    if (val.len > 8 && memcmp(val.data, "Patient/", 8) == 0) {
        val.data += 8;
        val.len -= 8;

    } else if (!bare) {
        return -1;
    }

check:

    /* whole values only: "12" is not "123", "1,2" is two patients */
    if (!fw_fhir_valid_id(val.data, val.len)) {
        return -1;
    }

    *id = val;

    return 1;
}


void
fw_fhir_find_patient(fw_fhir_req_t *req, const fw_fhir_param_t *params,
    size_t n)
{
    int            rc, pt;
    size_t         i;
    fw_fhir_str_t  id, found;

    req->patient.data = NULL;
    req->patient.len = 0;

    pt = fw_fhir_patient_type();

    found.data = NULL;
    found.len = 0;

    if (req->compartment >= 0) {
        if (req->compartment != pt) {
            return;
        }

        /* Patient/p/Observation?patient=q: no patient, a conflict */
        found = req->id;

    } else if (req->type == pt && pt >= 0 && req->id.len) {
        req->patient = req->id;
        return;
    }

    for (i = 0; i < n; i++) {
        rc = fw_fhir_param_patient(req, &params[i], &id);

        if (rc == 0) {
            continue;
        }

        if (rc < 0
            || (found.len
                && (found.len != id.len
                    || memcmp(found.data, id.data, id.len) != 0)))
        {
            return;
        }

        found = id;
    }

    req->patient = found;
}


int
fw_fhir_analyze(const fw_fhir_policy_t *pol, int method, const u_char *path,
    size_t path_len, const u_char *query, size_t query_len,
    int if_none_exist, u_char *scratch, fw_fhir_req_t *req,
    fw_fhir_param_t *params, size_t *n, fw_fhir_verdict_t *v)
{
    size_t  dlen;

    *n = 0;

    if (fw_fhir_decode_path(path, path_len, scratch, &dlen) != FW_FHIR_OK) {
        return fw_fhir_deny(v, 400, "invalid", "invalid",
                            "malformed path: only unreserved characters and "
                            "their escapes are allowed");
    }

    if (fw_fhir_parse_path(pol->version, scratch, dlen, req, v)
        != FW_FHIR_OK)
    {
        return FW_FHIR_ERROR;
    }

    if (fw_fhir_parse_query(query, query_len, 0, scratch + dlen, params,
                            FW_FHIR_MAX_PARAMS, n, v)
        != FW_FHIR_OK)
    {
        return FW_FHIR_ERROR;
    }

    if (fw_fhir_classify(req, method, params, *n, if_none_exist, v)
        != FW_FHIR_OK)
    {
        return FW_FHIR_ERROR;
    }

    if (fw_fhir_check_policy(pol, req, params, *n, v) != FW_FHIR_OK) {
        return FW_FHIR_ERROR;
    }

    fw_fhir_find_patient(req, params, *n);

    return FW_FHIR_OK;
}
