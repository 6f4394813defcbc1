/*
 * fhirwall FHIR core: SMART on FHIR scopes (v1 and v2, granular) and the
 * patient compartment checks of patient/ scopes (plain C).
 */


#include <stdio.h>
#include <string.h>

#include "fw_fhir.h"


#define fw_fhir_eq(p, n, s)                                                 \
    ((n) == sizeof(s) - 1 && memcmp(p, s, sizeof(s) - 1) == 0)

/* what a patient/ scope may reach */
#define FW_FHIR_PC_OK            0
#define FW_FHIR_PC_OUTSIDE       1
#define FW_FHIR_PC_UNVERIFIABLE  2
#define FW_FHIR_PC_PARAM         3
#define FW_FHIR_PC_NO_PATIENT    4


static int fw_fhir_perms(const u_char *p, size_t len);
static int fw_fhir_context(const u_char *p, size_t len);
static int fw_fhir_granular_match(const fw_fhir_scope_t *s,
    const fw_fhir_param_t *params, size_t n);
static int fw_fhir_compartment_check(const fw_fhir_policy_t *pol,
    const fw_fhir_req_t *req, const fw_fhir_param_t *params, size_t n,
    const u_char *patient, size_t patient_len);
static int fw_fhir_forbidden_param(const fw_fhir_param_t *p);
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
    size_t             i, k, ns, seen;
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
        if (req->compartment == pt && fw_fhir_is_p(req->id)) {
            return FW_FHIR_PC_OK;
        }

        return FW_FHIR_PC_OUTSIDE;

    case FW_FHIR_I_SEARCH_TYPE:
        /*
         * every patient parameter (patient, subject, Patient?_id) must name
         * exactly this patient, and there must be one: that is what
         * fw_fhir_find_patient() leaves in req->patient, and nothing else;
         * a server told to ignore unknown parameters may ignore "patient"
         * (Medication?patient=p)
         */
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
    int              perms, any, patient_ok, granular_only, ctx, pc;
    u_char           c;
    size_t           i, start, slash, dot;
    const u_char    *p, *end, *tok_end, *sl, *dt, *q;
    fw_fhir_scope_t  s;

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

        start = p - scopes;
        i = tok_end - scopes;

        sl = memchr(p, '/', tok_end - p);
        if (sl == NULL) {
            continue;
        }

        dt = memchr(sl, '.', tok_end - sl);
        if (dt == NULL) {
            continue;
        }

        slash = sl - scopes;
        dot = dt - scopes;

        /* the context of the scopes held, for the needed-scope hint */

        c = (u_char) fw_fhir_context(scopes + start, slash - start);

        if (c == 0) {
            continue;
        }

        if (ctx == 0 || c == 'p') {
            ctx = c;
        }

        /* only the "*" type and the request's own type can grant */

        if (!((dot - slash == 2 && scopes[slash + 1] == '*')
              || (req->type >= 0
                  && dot - slash - 1 == fw_fhir_types[req->type].len
                  && memcmp(scopes + slash + 1, fw_fhir_types[req->type].name,
                            dot - slash - 1) == 0)))
        {
            continue;
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
            continue;
        }

        s.query.data = q ? q + 1 : NULL;
        s.query.len = q ? (size_t) (tok_end - q - 1) : 0;

        if ((s.perms & perms) != perms) {
            continue;
        }

        if (s.query.len) {
            if (perms != FW_FHIR_P_S
                || !fw_fhir_granular_match(&s, params, n))
            {
                granular_only = 1;
                continue;
            }
        }

        if (s.context != 'p') {
            /* user/ and system/ are not bound to a patient compartment */
            return FW_FHIR_OK;
        }

        patient_ok = 1;
    }

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
