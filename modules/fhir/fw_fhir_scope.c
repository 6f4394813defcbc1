/*
 * fhirwall FHIR core: SMART on FHIR scopes (v1 and v2, granular) and the
 * patient compartment checks of patient/ scopes (plain C).
 */


#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fw_fhir.h"


#define fw_fhir_eq(p, n, s)                                                 \
    ((n) == sizeof(s) - 1 && memcmp(p, s, sizeof(s) - 1) == 0)

/* what a patient/ scope may reach */
#define FW_FHIR_PC_OK            0
#define FW_FHIR_PC_OUTSIDE       1
#define FW_FHIR_PC_UNVERIFIABLE  2
#define FW_FHIR_PC_PARAM         3
#define FW_FHIR_PC_NO_PATIENT    4
#define FW_FHIR_PC_NEVER         5


static int fw_fhir_perms(const u_char *p, size_t len);
static int fw_fhir_context(const u_char *p, size_t len);
static int fw_fhir_granular_match(const fw_fhir_scope_t *s,
    const fw_fhir_param_t *params, size_t n);
static int fw_fhir_granular_params(const fw_fhir_param_t *sp, size_t ns,
    const fw_fhir_param_t *params, size_t n);
static int fw_fhir_decide(const fw_fhir_policy_t *pol,
    const fw_fhir_req_t *req, const fw_fhir_param_t *params, size_t n,
    int perms, int patient_ok, int granular_only, int ctx,
    const u_char *patient, size_t patient_len, fw_fhir_verdict_t *v);
static int fw_fhir_compartment_check(const fw_fhir_policy_t *pol,
    const fw_fhir_req_t *req, const fw_fhir_param_t *params, size_t n,
    const u_char *patient, size_t patient_len);
static int fw_fhir_forbidden_param(const fw_fhir_param_t *p);
static int fw_fhir_in_compartment(const fw_fhir_req_t *req);
static int fw_fhir_ambiguous_param(const fw_fhir_param_t *p);
static int fw_fhir_scope_grants(const fw_fhir_req_t *req,
    const fw_fhir_param_t *params, size_t n, int perms, const u_char *scopes,
    const u_char *p, const u_char *tok_end, int *ctx, int *granular_only);
static int fw_fhir_scope_set_query(fw_fhir_scope_set_t *set,
    fw_fhir_scope_ent_t *e, const u_char *q, const u_char *tok_end,
    u_char **pd);
static int fw_fhir_check_ambiguous(const fw_fhir_param_t *params, size_t n,
    fw_fhir_verdict_t *v);
static void fw_fhir_needed(fw_fhir_verdict_t *v, int context, int type,
    int perms);


static int
fw_fhir_perms(const u_char *p, size_t len)
{
    int         perms, bit;
    size_t      i;
    const char *order, *c;

    if (fw_fhir_eq(p, len, "read")) {
        return FW_FHIR_P_R | FW_FHIR_P_S;
    }

    if (fw_fhir_eq(p, len, "write")) {
        return FW_FHIR_P_C | FW_FHIR_P_U | FW_FHIR_P_D;
    }

    if (fw_fhir_eq(p, len, "*")) {
        return FW_FHIR_P_ALL;
    }

    /* v2: a non-empty subset of "cruds", in that order */

    if (len == 0 || len > 5) {
        return -1;
    }

    order = "cruds";
    c = order;
    perms = 0;

    for (i = 0; i < len; i++) {
        while (*c && *c != (char) p[i]) {
            c++;
        }

        if (*c == '\0') {
            return -1;
        }

        bit = (int) (c - order);
        perms |= (bit == 0) ? FW_FHIR_P_C : (bit == 1) ? FW_FHIR_P_R
                 : (bit == 2) ? FW_FHIR_P_U : (bit == 3) ? FW_FHIR_P_D
                 : FW_FHIR_P_S;
        c++;
    }

    return perms;
}


/* "patient", "user", "system" to 'p', 'u', 's'; 0 otherwise */

static int
fw_fhir_context(const u_char *p, size_t len)
{
    if (fw_fhir_eq(p, len, "patient")) {
        return 'p';
    }

    if (fw_fhir_eq(p, len, "user")) {
        return 'u';
    }

    if (fw_fhir_eq(p, len, "system")) {
        return 's';
    }

    return 0;
}


int
fw_fhir_parse_scope(unsigned version, const u_char *p, size_t len,
    fw_fhir_scope_t *s)
{
    size_t         i;
    const u_char  *slash, *dot, *q, *end;

    end = p + len;

    slash = memchr(p, '/', len);
    if (slash == NULL) {
        return FW_FHIR_ERROR;
    }

    s->context = fw_fhir_context(p, slash - p);

    if (s->context == 0) {
        return FW_FHIR_ERROR;
    }

    slash++;

    q = memchr(slash, '?', end - slash);
    if (q == NULL) {
        q = end;
    }

    dot = NULL;

    for (i = 0; slash + i < q; i++) {
        if (slash[i] == '.') {
            dot = slash + i;
            break;
        }
    }

    if (dot == NULL || dot == slash) {
        return FW_FHIR_ERROR;
    }

    if (fw_fhir_eq(slash, (size_t) (dot - slash), "*")) {
        s->type = FW_FHIR_ANY;

    } else {
        s->type = fw_fhir_type_lookup(version, slash, dot - slash);

        if (s->type == FW_FHIR_NONE) {
            return FW_FHIR_ERROR;
        }
    }

    s->perms = fw_fhir_perms(dot + 1, q - dot - 1);

    if (s->perms <= 0) {
        return FW_FHIR_ERROR;
    }

    if (q < end) {
        s->query.data = q + 1;
        s->query.len = end - q - 1;

        if (s->query.len == 0) {
            return FW_FHIR_ERROR;
        }

    } else {
        s->query.data = NULL;
        s->query.len = 0;
    }

    return FW_FHIR_OK;
}


int
fw_fhir_required_perms(const fw_fhir_policy_t *pol, const fw_fhir_req_t *req)
{
    size_t  i;

    switch (req->interaction) {

    case FW_FHIR_I_CAPABILITIES:
        return 0;

    case FW_FHIR_I_READ:
    case FW_FHIR_I_VREAD:
    case FW_FHIR_I_HISTORY_INSTANCE:
        return FW_FHIR_P_R;

    case FW_FHIR_I_SEARCH_SYSTEM:
    case FW_FHIR_I_SEARCH_TYPE:
    case FW_FHIR_I_SEARCH_COMPARTMENT:
    case FW_FHIR_I_HISTORY_SYSTEM:
    case FW_FHIR_I_HISTORY_TYPE:
        return FW_FHIR_P_S;

    case FW_FHIR_I_CREATE:
    case FW_FHIR_I_CONDITIONAL_CREATE:
        return FW_FHIR_P_C;

    case FW_FHIR_I_UPDATE:
    case FW_FHIR_I_PATCH:
    case FW_FHIR_I_CONDITIONAL_PATCH:
        return FW_FHIR_P_U;

    case FW_FHIR_I_CONDITIONAL_UPDATE:
        /* creates the resource when nothing matches */
        return FW_FHIR_P_C | FW_FHIR_P_U;

    case FW_FHIR_I_DELETE:
    case FW_FHIR_I_CONDITIONAL_DELETE:
        return FW_FHIR_P_D;

    case FW_FHIR_I_OPERATION_SYSTEM:
    case FW_FHIR_I_OPERATION_TYPE:
    case FW_FHIR_I_OPERATION_INSTANCE:
        for (i = 0; i < pol->n_op_perms; i++) {
            if (pol->op_perms[i].name.len == req->op.len
                && memcmp(pol->op_perms[i].name.data, req->op.data,
                          req->op.len) == 0)
            {
                return pol->op_perms[i].perms;
            }
        }

        return pol->op_default;

    default:
        /* batch and transaction: every entry decides */
        return -1;
    }
}


/*
 * A granular scope (patient/Observation.rs?category=laboratory) grants a
 * search only, and only one that carries each of its parameters with
 * exactly that value (every occurrence of it).
 */

static int
fw_fhir_granular_match(const fw_fhir_scope_t *s,
    const fw_fhir_param_t *params, size_t n)
{
    size_t             ns;
    u_char             buf[512];
    fw_fhir_param_t    sp[16];
    fw_fhir_verdict_t  v;

    if (s->query.len > sizeof(buf)) {
        return 0;
    }

    ns = 0;

    if (fw_fhir_parse_query(s->query.data, s->query.len, 0, buf, sp, 16, &ns,
                            &v)
        != FW_FHIR_OK || ns == 0)
    {
        return 0;
    }

    return fw_fhir_granular_params(sp, ns, params, n);
}


/* every parameter of the scope is there, always with the scope's value */

static int
fw_fhir_granular_params(const fw_fhir_param_t *sp, size_t ns,
    const fw_fhir_param_t *params, size_t n)
{
    size_t  i, k, seen;

    for (k = 0; k < ns; k++) {
        seen = 0;

        for (i = 0; i < n; i++) {
            if (params[i].name.len != sp[k].name.len
                || memcmp(params[i].name.data, sp[k].name.data,
                          sp[k].name.len) != 0)
            {
                continue;
            }

            if (params[i].value.len != sp[k].value.len
                || memcmp(params[i].value.data, sp[k].value.data,
                          sp[k].value.len) != 0)
            {
                return 0;
            }

            seen++;
        }

        if (seen == 0) {
            return 0;
        }
    }

    return 1;
}


/* chaining, reverse chaining, includes, filters: refused for patient/ */

static int
fw_fhir_forbidden_param(const fw_fhir_param_t *p)
{
    size_t         len, blen;
    const u_char  *name, *colon;

    name = p->name.data;
    len = p->name.len;

    if (memchr(name, '.', len) != NULL) {
        return 1;
    }

    if (name[0] != '_') {
        return 0;
    }

    colon = memchr(name, ':', len);
    blen = colon ? (size_t) (colon - name) : len;

    return fw_fhir_eq(name, blen, "_has")
           || fw_fhir_eq(name, blen, "_include")
           || fw_fhir_eq(name, blen, "_revinclude")
           || fw_fhir_eq(name, blen, "_filter")
           || fw_fhir_eq(name, blen, "_query")
           || fw_fhir_eq(name, blen, "_type")
           || fw_fhir_eq(name, blen, "_list")
           || fw_fhir_eq(name, blen, "_contained")
           || fw_fhir_eq(name, blen, "_containedType");
}


/* whether the patient compartment of the request's version holds its type */

static int
fw_fhir_in_compartment(const fw_fhir_req_t *req)
{
    const fw_fhir_cpt_t  *row;

    row = fw_fhir_compartment_row(req->version, req->type);

    return row != NULL && row->compartment[0] != '\0';
}


/*
 * A control parameter in another case (_Include, _revInclude, _HAS): a
 * case-insensitive server honours what a check of the exact name misses.
 */

static int
fw_fhir_ambiguous_param(const fw_fhir_param_t *p)
{
    size_t         i, blen;
    const u_char  *name, *colon;
    static const char  *names[] = {
        "_id", "_lastUpdated", "_tag", "_profile", "_security", "_text",
        "_content", "_list", "_has", "_type", "_query", "_filter",
        "_source", "_language", "_in", "_sort", "_count", "_include",
        "_revinclude", "_summary", "_total", "_elements", "_contained",
        "_containedType", "_format", "_pretty", "_since", "_at", "_graph",
        "_maxresults", "_score", "_outputFormat", "_typeFilter", NULL
    };

    name = p->name.data;

    if (p->name.len < 2 || name[0] != '_') {
        return 0;
    }

    colon = memchr(name, ':', p->name.len);
    blen = colon ? (size_t) (colon - name) : p->name.len;

    for (i = 0; names[i]; i++) {
        if (strlen(names[i]) == blen
            && strncasecmp(names[i], (const char *) name, blen) == 0)
        {
            return memcmp(names[i], name, blen) != 0;
        }
    }

    return 0;
}


static int
fw_fhir_check_ambiguous(const fw_fhir_param_t *params, size_t n,
    fw_fhir_verdict_t *v)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (fw_fhir_ambiguous_param(&params[i])) {
            return fw_fhir_deny(v, 400, "invalid", "invalid",
                                "ambiguous parameter: a search control "
                                "parameter in another case");
        }
    }

    return FW_FHIR_OK;
}


static int
fw_fhir_compartment_check(const fw_fhir_policy_t *pol,
    const fw_fhir_req_t *req, const fw_fhir_param_t *params, size_t n,
    const u_char *patient, size_t patient_len)
{
    int     pt;
    size_t  i;

    if (!fw_fhir_valid_id(patient, patient_len)) {
        return FW_FHIR_PC_NO_PATIENT;
    }

    for (i = 0; i < n; i++) {
        if (fw_fhir_forbidden_param(&params[i])) {
            return FW_FHIR_PC_PARAM;
        }
    }

    pt = fw_fhir_patient_type();

#define fw_fhir_is_p(s)                                                      \
    ((s).len == patient_len && memcmp((s).data, patient, patient_len) == 0)

    switch (req->interaction) {

    case FW_FHIR_I_READ:
    case FW_FHIR_I_VREAD:
    case FW_FHIR_I_UPDATE:
    case FW_FHIR_I_PATCH:
    case FW_FHIR_I_DELETE:
    case FW_FHIR_I_HISTORY_INSTANCE:
    case FW_FHIR_I_OPERATION_INSTANCE:
        if (req->type == pt) {
            return fw_fhir_is_p(req->id) ? FW_FHIR_PC_OK : FW_FHIR_PC_OUTSIDE;
        }

        /* Observation/123: whose is it?  Not knowable from the request */
        return FW_FHIR_PC_UNVERIFIABLE;

    case FW_FHIR_I_SEARCH_COMPARTMENT:
        /*
         * Patient/p/Type: a type the compartment can hold, and every
         * parameter that ties it to a patient names p too (req->patient
         * is empty otherwise)
         */
        if (req->compartment != pt || !fw_fhir_is_p(req->id)) {
            return FW_FHIR_PC_OUTSIDE;
        }

        if (req->type >= 0 && req->type != pt && !fw_fhir_in_compartment(req))
        {
            return FW_FHIR_PC_NEVER;
        }

        return fw_fhir_is_p(req->patient) ? FW_FHIR_PC_OK
                                          : FW_FHIR_PC_OUTSIDE;

    case FW_FHIR_I_SEARCH_TYPE:
        /*
         * a type the patient compartment can hold, searched by parameters
         * that tie it to the patient (fw_fhir_param_patient()): every one
         * names exactly this patient, and there is one; that is what
         * fw_fhir_find_patient() leaves in req->patient, and nothing else
         * (Medication?patient=p: Medication has no such parameter, a
         * server ignores it)
         */
        if (req->type != pt && !fw_fhir_in_compartment(req)) {
            return FW_FHIR_PC_NEVER;
        }

        if (req->lenient) {
            return FW_FHIR_PC_PARAM;
        }

        return (req->patient.len && fw_fhir_is_p(req->patient))
               ? FW_FHIR_PC_OK : FW_FHIR_PC_OUTSIDE;

    case FW_FHIR_I_CREATE:
    case FW_FHIR_I_CONDITIONAL_CREATE:
    case FW_FHIR_I_CONDITIONAL_UPDATE:
    case FW_FHIR_I_CONDITIONAL_PATCH:
    case FW_FHIR_I_CONDITIONAL_DELETE:
    case FW_FHIR_I_OPERATION_TYPE:
        return FW_FHIR_PC_UNVERIFIABLE;

    default:
        /* system search and history, type history, system operations */
        return FW_FHIR_PC_OUTSIDE;
    }

#undef fw_fhir_is_p
}


static void
fw_fhir_needed(fw_fhir_verdict_t *v, int context, int type, int perms)
{
    size_t       i;
    char         p[6];
    const char  *ctx;

    i = 0;

    if (perms & FW_FHIR_P_C) { p[i++] = 'c'; }
    if (perms & FW_FHIR_P_R) { p[i++] = 'r'; }
    if (perms & FW_FHIR_P_U) { p[i++] = 'u'; }
    if (perms & FW_FHIR_P_D) { p[i++] = 'd'; }
    if (perms & FW_FHIR_P_S) { p[i++] = 's'; }

    p[i] = '\0';

    ctx = (context == 'p') ? "patient" : (context == 's') ? "system" : "user";

    snprintf(v->needed, sizeof(v->needed), "%s/%s.%s", ctx,
             type >= 0 ? fw_fhir_types[type].name : "*", p);
}


int
fw_fhir_authorize(const fw_fhir_policy_t *pol, const fw_fhir_req_t *req,
    const fw_fhir_param_t *params, size_t n, const u_char *scopes,
    size_t scopes_len, const u_char *patient, size_t patient_len,
    fw_fhir_verdict_t *v)
{
    int            perms, any, patient_ok, granular_only, ctx, g;
    size_t         i;
    const u_char  *p, *end, *tok_end;

    if (fw_fhir_check_ambiguous(params, n, v) != FW_FHIR_OK) {
        return FW_FHIR_ERROR;
    }

    perms = fw_fhir_required_perms(pol, req);

    if (perms == 0) {
        /* the CapabilityStatement is public */
        return FW_FHIR_OK;
    }

    any = 0;
    patient_ok = 0;
    granular_only = 0;
    ctx = 0;

    for (i = 0; i < scopes_len; i++) {
        if (scopes[i] != ' ' && scopes[i] != '\t') {
            any = 1;
            break;
        }
    }

    if (!any) {
        return fw_fhir_deny(v, 401, "login", "no-scope",
                            "no access token scopes");
    }

    if (perms < 0) {
        if (req->interaction == FW_FHIR_I_BATCH
            || req->interaction == FW_FHIR_I_TRANSACTION)
        {
            /* the entries are checked one by one */
            return FW_FHIR_OK;
        }

        return fw_fhir_deny(v, 403, "forbidden", "not-allowed",
                            "operation is not permitted by the "
                            "operation policy");
    }

    end = scopes + scopes_len;

    for (p = scopes; p < end; p = tok_end + 1) {

        /* space-separated (RFC 6749); memchr() keeps long lists cheap */

        tok_end = memchr(p, ' ', end - p);
        if (tok_end == NULL) {
            tok_end = end;
        }

        if (tok_end == p) {
            continue;
        }

        g = fw_fhir_scope_grants(req, params, n, perms, scopes, p, tok_end,
                                 &ctx, &granular_only);

        if (g == 0) {
            continue;
        }

        if (g == 2) {
            /* user/ and system/ are not bound to a patient compartment */
            return FW_FHIR_OK;
        }

        patient_ok = 1;
    }

    return fw_fhir_decide(pol, req, params, n, perms, patient_ok,
                          granular_only, ctx, patient, patient_len, v);
}


/*
 * One scope token [p, tok_end) of "scopes" for a request needing "perms":
 * 0 it grants nothing, 1 it grants within the patient compartment, 2 it
 * grants (user/, system/); notes the context held in *ctx and a granular
 * scope whose query did not match in *granular_only
 */

static int
fw_fhir_scope_grants(const fw_fhir_req_t *req, const fw_fhir_param_t *params,
    size_t n, int perms, const u_char *scopes, const u_char *p,
    const u_char *tok_end, int *ctx, int *granular_only)
{
    u_char           c;
    size_t           start, slash, dot;
    const u_char    *sl, *dt, *q;
    fw_fhir_scope_t  s;

    start = p - scopes;

    sl = memchr(p, '/', tok_end - p);
    if (sl == NULL) {
        return 0;
    }

    dt = memchr(sl, '.', tok_end - sl);
    if (dt == NULL) {
        return 0;
    }

    slash = sl - scopes;
    dot = dt - scopes;

    /* the context of the scopes held, for the needed-scope hint */

    c = (u_char) fw_fhir_context(scopes + start, slash - start);

    if (c == 0) {
        return 0;
    }

    if (*ctx == 0 || c == 'p') {
        *ctx = c;
    }

    /* only the "*" type and the request's own type can grant */

    if (!((dot - slash == 2 && scopes[slash + 1] == '*')
          || (req->type >= 0
              && dot - slash - 1 == fw_fhir_types[req->type].len
              && memcmp(scopes + slash + 1, fw_fhir_types[req->type].name,
                        dot - slash - 1) == 0)))
    {
        return 0;
    }

    /*
     * the rest of fw_fhir_parse_scope(), with the type already known:
     * permissions, then the granular query
     */

    s.context = c;
    s.type = (dot - slash == 2) && scopes[slash + 1] == '*'
             ? FW_FHIR_ANY : req->type;

    q = memchr(dt, '?', tok_end - dt);

    s.perms = fw_fhir_perms(dt + 1, (q ? q : tok_end) - dt - 1);

    if (s.perms <= 0 || (q && q + 1 == tok_end)) {
        return 0;
    }

    s.query.data = q ? q + 1 : NULL;
    s.query.len = q ? (size_t) (tok_end - q - 1) : 0;

    if ((s.perms & perms) != perms) {
        return 0;
    }

    if (s.query.len) {
        if (perms != FW_FHIR_P_S
            || !fw_fhir_granular_match(&s, params, n))
        {
            *granular_only = 1;
            return 0;
        }
    }

    return (s.context != 'p') ? 2 : 1;
}


/* the end of a decision: the patient compartment, or what was missing */

static int
fw_fhir_decide(const fw_fhir_policy_t *pol, const fw_fhir_req_t *req,
    const fw_fhir_param_t *params, size_t n, int perms, int patient_ok,
    int granular_only, int ctx, const u_char *patient, size_t patient_len,
    fw_fhir_verdict_t *v)
{
    int  pc;

    if (patient_ok) {
        pc = fw_fhir_compartment_check(pol, req, params, n, patient,
                                       patient_len);

        if (pc == FW_FHIR_PC_OK
            || (pc == FW_FHIR_PC_UNVERIFIABLE && pol->unverifiable))
        {
            return FW_FHIR_OK;
        }

        fw_fhir_needed(v, 'u', req->type, perms);

        switch (pc) {
        case FW_FHIR_PC_NO_PATIENT:
            return fw_fhir_deny(v, 403, "forbidden", "patient-compartment",
                                "patient scope without a patient in "
                                "context");
        case FW_FHIR_PC_PARAM:
            return fw_fhir_deny(v, 403, "forbidden", "patient-compartment",
                                "chained, _has, _include and similar "
                                "parameters and lenient handling are "
                                "refused for patient scopes");
        case FW_FHIR_PC_NEVER:
            return fw_fhir_deny(v, 403, "forbidden", "patient-compartment",
                                "%s is never in the patient compartment "
                                "(FHIR %s)", fw_fhir_types[req->type].name,
                                req->version == FW_FHIR_R5 ? "R5"
                                : req->version == FW_FHIR_R4B ? "R4B"
                                : "R4");
        case FW_FHIR_PC_UNVERIFIABLE:
            return fw_fhir_deny(v, 403, "forbidden", "patient-compartment",
                                "%s cannot be attributed to the patient in "
                                "context",
                                fw_fhir_interaction_names[req->interaction]);
        default:
            return fw_fhir_deny(v, 403, "forbidden", "patient-compartment",
                                "request is outside the patient "
                                "compartment");
        }
    }

    fw_fhir_needed(v, ctx, req->type, perms);

    return fw_fhir_deny(v, 403, "forbidden", "insufficient-scope",
                        "insufficient scope: %s needs %s%s",
                        fw_fhir_interaction_names[req->interaction],
                        v->needed,
                        granular_only ? " (a granular scope does not "
                                        "match the search)" : "");
}


/* ------------------------------------------------ parsed scope strings */

uint32_t
fw_fhir_scope_hash(const u_char *p, size_t len)
{
    uint64_t  h, w;

    /* eight bytes a step: cheap next to parsing; collisions are misses */

    h = 0x9e3779b97f4a7c15ULL ^ len;

    while (len >= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        p += 8;
        len -= 8;
    }

    w = 0;

    if (len) {
        memcpy(&w, p, len);
    }

    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;

    return (uint32_t) (h ^ (h >> 32));
}


/*
 * The token rules of fw_fhir_authorize(), applied once: a token is a
 * resource scope if it has a '/', then a '.', a known context, the "*" or
 * a known type, valid permissions and, after '?', a non-empty query.
 */

int
fw_fhir_scope_set_parse(fw_fhir_scope_set_t *set, const u_char *scopes,
    size_t len)
{
    int                   c, type, perms;
    size_t                i;
    u_char               *d;
    const u_char         *p, *end, *tok_end, *sl, *dt, *q;
    fw_fhir_scope_ent_t  *e;

    set->used = 0;
    set->any = 0;
    set->hint = 0;
    set->len = 0;
    set->nscopes = 0;
    set->nparams = 0;

    if (len > FW_FHIR_SC_STR_MAX) {
        return FW_FHIR_ERROR;
    }

    if (len) {
        memcpy(set->str, scopes, len);
    }

    set->len = len;

    for (i = 0; i < len; i++) {
        if (set->str[i] != ' ' && set->str[i] != '\t') {
            set->any = 1;
            break;
        }
    }

    d = set->buf;
    end = set->str + len;

    for (p = set->str; p < end; p = tok_end + 1) {

        tok_end = memchr(p, ' ', end - p);
        if (tok_end == NULL) {
            tok_end = end;
        }

        if (tok_end == p) {
            continue;
        }

        sl = memchr(p, '/', tok_end - p);
        if (sl == NULL) {
            continue;
        }

        dt = memchr(sl, '.', tok_end - sl);
        if (dt == NULL) {
            continue;
        }

        c = fw_fhir_context(p, sl - p);

        if (c == 0) {
            continue;
        }

        if (set->hint == 0 || c == 'p') {
            set->hint = c;
        }

        if (dt - sl == 2 && sl[1] == '*') {
            type = FW_FHIR_ANY;

        } else {
            /* any version: the request's type is one of its version */
            type = fw_fhir_type_lookup(0, sl + 1, dt - sl - 1);

            if (type == FW_FHIR_NONE) {
                continue;
            }
        }

        q = memchr(dt, '?', tok_end - dt);

        perms = fw_fhir_perms(dt + 1, (q ? q : tok_end) - dt - 1);

        if (perms <= 0 || (q && q + 1 == tok_end)) {
            continue;
        }

        if (set->nscopes == FW_FHIR_SC_SCOPES_MAX) {
            return FW_FHIR_ERROR;
        }

        e = &set->scopes[set->nscopes++];
        e->context = c;
        e->type = type;
        e->perms = perms;
        e->first = (short) set->nparams;
        e->nparams = 0;

        if (q == NULL) {
            continue;
        }

        if (fw_fhir_scope_set_query(set, e, q, tok_end, &d) != FW_FHIR_OK) {
            return FW_FHIR_ERROR;
        }
    }

    return FW_FHIR_OK;
}


/*
 * The granular query [q + 1, tok_end) of scope "e", decoded into *pd
 * (which moves past it) and its parameters added to the set; a query
 * that cannot match (fw_fhir_granular_match()'s limits) makes "e" never
 * match.  FW_FHIR_ERROR when the set is full.
 */

static int
fw_fhir_scope_set_query(fw_fhir_scope_set_t *set, fw_fhir_scope_ent_t *e,
    const u_char *q, const u_char *tok_end, u_char **pd)
{
    size_t              ns, qlen;
    u_char             *d;
    fw_fhir_param_t     sp[16];
    fw_fhir_verdict_t   v;

    d = *pd;

    /* the limits of fw_fhir_granular_match() */

    qlen = tok_end - q - 1;
    ns = 0;

    if (qlen > 512
        || fw_fhir_parse_query(q + 1, qlen, 0, d, sp, 16, &ns, &v)
           != FW_FHIR_OK
        || ns == 0)
    {
        e->nparams = FW_FHIR_SC_NEVER;
        return FW_FHIR_OK;
    }

    /* decoded bytes stay within the query's length */
    d += qlen;
    *pd = d;

    if (set->nparams + ns > FW_FHIR_SC_PARAMS_MAX) {
        return FW_FHIR_ERROR;
    }

    memcpy(&set->params[set->nparams], sp, ns * sizeof(fw_fhir_param_t));
    set->nparams += ns;
    e->nparams = (short) ns;

    return FW_FHIR_OK;
}


void
fw_fhir_scope_cache_init(fw_fhir_scope_cache_t *c,
    fw_fhir_scope_set_t *slots, size_t nslots)
{
    size_t  i;

    c->slots = slots;
    c->nslots = nslots;
    c->last = NULL;
    c->hits = 0;
    c->misses = 0;
    c->evictions = 0;
    c->uncached = 0;

    for (i = 0; i < nslots; i++) {
        slots[i].used = 0;
        slots[i].len = 0;
        slots[i].hash = 0;
    }
}


const fw_fhir_scope_set_t *
fw_fhir_scope_cache_get(fw_fhir_scope_cache_t *c, const u_char *scopes,
    size_t len)
{
    const fw_fhir_scope_set_t  *set;

    if (len > FW_FHIR_SC_STR_MAX) {
        c->uncached++;
        return NULL;
    }

    /* the set returned last, compared in full: no hash to compute */

    set = c->last;

    if (set && set->used && set->len == len
        && (len == 0 || memcmp(set->str, scopes, len) == 0))
    {
        c->hits++;
        return set;
    }

    return fw_fhir_scope_cache_get_hashed(c, fw_fhir_scope_hash(scopes, len),
                                          scopes, len);
}


const fw_fhir_scope_set_t *
fw_fhir_scope_cache_get_hashed(fw_fhir_scope_cache_t *c, uint32_t hash,
    const u_char *scopes, size_t len)
{
    fw_fhir_scope_set_t  *set;

    if (c->slots == NULL || c->nslots == 0) {
        c->uncached++;
        return NULL;
    }

    set = &c->slots[hash % c->nslots];

    /* the hash only picks the slot and screens: the bytes decide */

    if (set->used && set->hash == hash && set->len == len
        && (len == 0 || memcmp(set->str, scopes, len) == 0))
    {
        c->hits++;
        c->last = set;
        return set;
    }

    c->misses++;

    if (len > FW_FHIR_SC_STR_MAX) {
        c->uncached++;
        return NULL;
    }

    if (set->used) {
        c->evictions++;
    }

    if (fw_fhir_scope_set_parse(set, scopes, len) != FW_FHIR_OK) {
        set->used = 0;
        c->uncached++;
        return NULL;
    }

    set->hash = hash;
    set->used = 1;
    c->last = set;

    return set;
}


int
fw_fhir_authorize_set(const fw_fhir_policy_t *pol, const fw_fhir_req_t *req,
    const fw_fhir_param_t *params, size_t n, const fw_fhir_scope_set_t *set,
    const u_char *patient, size_t patient_len, fw_fhir_verdict_t *v)
{
    int                         perms, patient_ok, granular_only;
    size_t                      i;
    const fw_fhir_scope_ent_t  *e;

    if (fw_fhir_check_ambiguous(params, n, v) != FW_FHIR_OK) {
        return FW_FHIR_ERROR;
    }

    perms = fw_fhir_required_perms(pol, req);

    if (perms == 0) {
        /* the CapabilityStatement is public */
        return FW_FHIR_OK;
    }

    if (!set->any) {
        return fw_fhir_deny(v, 401, "login", "no-scope",
                            "no access token scopes");
    }

    if (perms < 0) {
        if (req->interaction == FW_FHIR_I_BATCH
            || req->interaction == FW_FHIR_I_TRANSACTION)
        {
            /* the entries are checked one by one */
            return FW_FHIR_OK;
        }

        return fw_fhir_deny(v, 403, "forbidden", "not-allowed",
                            "operation is not permitted by the "
                            "operation policy");
    }

    patient_ok = 0;
    granular_only = 0;

    for (i = 0; i < set->nscopes; i++) {
        e = &set->scopes[i];

        /* only the "*" type and the request's own type can grant */

        if (e->type != FW_FHIR_ANY
            && (req->type < 0 || e->type != req->type))
        {
            continue;
        }

        if ((e->perms & perms) != perms) {
            continue;
        }

        if (e->nparams) {
            if (perms != FW_FHIR_P_S
                || e->nparams == FW_FHIR_SC_NEVER
                || !fw_fhir_granular_params(&set->params[e->first],
                                            e->nparams, params, n))
            {
                granular_only = 1;
                continue;
            }
        }

        if (e->context != 'p') {
            /* user/ and system/ are not bound to a patient compartment */
            return FW_FHIR_OK;
        }

        patient_ok = 1;
    }

    return fw_fhir_decide(pol, req, params, n, perms, patient_ok,
                          granular_only, set->hint, patient, patient_len, v);
}
