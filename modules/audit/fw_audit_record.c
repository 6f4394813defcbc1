/*
 * fhirwall audit: record bodies, JSON Lines and FHIR R4 AuditEvent (IHE
 * BALP).  Plain C.
 */


#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fw_codec.h"
#include "fw_error.h"
#include "fw_audit.h"


typedef struct {
    u_char  *p;
    u_char  *end;
    int      full;
    size_t   cap;          /* the longest raw value written */
    int      cut;          /* a value was cut */
} fw_audit_w_t;


static void fw_audit_lit(fw_audit_w_t *w, const char *s);
static void fw_audit_mem(fw_audit_w_t *w, const u_char *s, size_t len);
static void fw_audit_esc(fw_audit_w_t *w, const u_char *s, size_t len);
static void fw_audit_kv(fw_audit_w_t *w, const char *key,
    const fw_audit_str_t *v);
static void fw_audit_num(fw_audit_w_t *w, uint64_t n);
static int fw_audit_is_number(const fw_audit_str_t *v);
static void fw_audit_b64(fw_audit_w_t *w, const u_char *s, size_t len);
static void fw_audit_build_jsonl(fw_audit_w_t *w, const fw_audit_event_t *ev,
    const u_char *qhash);
static void fw_audit_build_fhir(fw_audit_w_t *w, const fw_audit_event_t *ev,
    const u_char *qhash);
static void fw_audit_fhir_outcome(fw_audit_w_t *w,
    const fw_audit_event_t *ev, unsigned status);
static void fw_audit_fhir_agents(fw_audit_w_t *w, const fw_audit_event_t *ev,
    char action);
static void fw_audit_fhir_patient(fw_audit_w_t *w,
    const fw_audit_event_t *ev);
static void fw_audit_fhir_entities(fw_audit_w_t *w,
    const fw_audit_event_t *ev, const u_char *qhash);
static void fw_audit_fhir_coding(fw_audit_w_t *w, const char *system,
    const char *code, const char *display);
static unsigned fw_audit_status(const fw_audit_event_t *ev);


const char *const  fw_audit_field_names[FW_AUDIT_F_MAX] = {
    "request_id",
    "client",
    "user",
    "role",
    "client_id",
    "fhir_user",
    "purpose",
    "patient",
    "interaction",
    "type",
    "id",
    "vid",
    "operation",
    "compartment",
    "method",
    "path",
    "query",
    "status",
    "bytes_sent",
    "request_time",
    "upstream_status",
    "upstream_time",
    "gateway",
    "minimise_profile"
};


/* the longest value of each field in the first attempt */
static const size_t  fw_audit_caps[FW_AUDIT_F_MAX] = {
    128, 64, 256, 256, 256, 256, 128, 256,
    64, 64, 256, 64, 128, 128, 32,
    FW_AUDIT_VALUE_MAX, FW_AUDIT_VALUE_MAX,
    16, 24, 32, 128, 128, 128, 64
};


int
fw_audit_field_by_name(const u_char *name, size_t len)
{
    int  i;

    for (i = 0; i < FW_AUDIT_F_MAX; i++) {
        if (strlen(fw_audit_field_names[i]) == len
            && memcmp(fw_audit_field_names[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


unsigned
fw_audit_outcome(unsigned status)
{
    if (status >= 500 || status == 0) {
        return 8;
    }

    if (status >= 400) {
        return 4;
    }

    return 0;
}


char
fw_audit_action(const u_char *s, size_t len)
{
#define fw_is(lit)  (len == sizeof(lit) - 1 && memcmp(s, lit, len) == 0)

    if (fw_is("read") || fw_is("vread")) {
        return 'R';
    }

    if (fw_is("create")) {
        return 'C';
    }

    if (fw_is("update") || fw_is("patch")) {
        return 'U';
    }

    if (fw_is("delete")) {
        return 'D';
    }

#undef fw_is

    return 'E';
}


size_t
fw_audit_format_time(int64_t time_ms, u_char *out)
{
    time_t         sec;
    unsigned       ms;
    struct tm      tm;
    char           tmp[80];

    /* the seconds part is formatted once a second */
    static time_t  cached_sec = (time_t) -1;
    static u_char  cached[20];

    sec = (time_t) (time_ms / 1000);
    ms = (unsigned) (time_ms % 1000);

    if (sec != cached_sec) {
        gmtime_r(&sec, &tm);

        /* the year is clamped to four digits: the length is fixed */
        if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
            tm.tm_year = 9999 - 1900;
        }

        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);

        memcpy(cached, tmp, 20);
        cached_sec = sec;
    }

    memcpy(out, cached, 20);
    out[20] = (u_char) ('0' + ms / 100);
    out[21] = (u_char) ('0' + ms / 10 % 10);
    out[22] = (u_char) ('0' + ms % 10);
    out[23] = 'Z';

    return 24;
}


static void
fw_audit_mem(fw_audit_w_t *w, const u_char *s, size_t len)
{
    if (w->full || (size_t) (w->end - w->p) < len) {
        w->full = 1;
        return;
    }

    memcpy(w->p, s, len);
    w->p += len;
}


static void
fw_audit_lit(fw_audit_w_t *w, const char *s)
{
    fw_audit_mem(w, (const u_char *) s, strlen(s));
}


static void
fw_audit_esc(fw_audit_w_t *w, const u_char *s, size_t len)
{
    size_t  n;

    if (len > w->cap) {
        len = w->cap;
        w->cut = 1;
    }

    if (w->full) {
        return;
    }

    if ((size_t) (w->end - w->p) / 6 >= len) {
        /* room for the worst case: one pass */
        w->p += fw_json_escape(w->p, s, len);
        return;
    }

    n = fw_json_escape(NULL, s, len);

    if ((size_t) (w->end - w->p) < n) {
        w->full = 1;
        return;
    }

    w->p += fw_json_escape(w->p, s, len);
}


static void
fw_audit_kv(fw_audit_w_t *w, const char *key, const fw_audit_str_t *v)
{
    fw_audit_lit(w, ",\"");
    fw_audit_lit(w, key);
    fw_audit_lit(w, "\":\"");
    fw_audit_esc(w, v->data, v->len);
    fw_audit_lit(w, "\"");
}


static void
fw_audit_num(fw_audit_w_t *w, uint64_t n)
{
    u_char   tmp[24], *p;

    p = tmp + sizeof(tmp);

    do {
        *--p = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    fw_audit_mem(w, p, tmp + sizeof(tmp) - p);
}


static int
fw_audit_is_number(const fw_audit_str_t *v)
{
    size_t  i;

    if (v->len == 0 || v->len > 18 || (v->data[0] == '0' && v->len > 1)) {
        return 0;
    }

    for (i = 0; i < v->len; i++) {
        if (v->data[i] < '0' || v->data[i] > '9') {
            return 0;
        }
    }

    return 1;
}


static void
fw_audit_b64(fw_audit_w_t *w, const u_char *s, size_t len)
{
    if (len > w->cap) {
        len = w->cap;
        w->cut = 1;
    }

    if (w->full || (size_t) (w->end - w->p) < fw_base64_encoded_len(len)) {
        w->full = 1;
        return;
    }

    w->p += fw_base64_encode(s, len, w->p);
}


static unsigned
fw_audit_status(const fw_audit_event_t *ev)
{
    const fw_audit_str_t  *v;
    unsigned               status;
    size_t                 i;

    v = &ev->v[FW_AUDIT_F_STATUS];

    if (!fw_audit_is_number(v) || v->len > 3) {
        return 0;
    }

    status = 0;

    for (i = 0; i < v->len; i++) {
        status = status * 10 + (v->data[i] - '0');
    }

    return status;
}


size_t
fw_audit_build(u_char *buf, size_t size, size_t reserve, int format,
    const fw_audit_event_t *ev)
{
    size_t        cap;
    u_char        qhash[FW_AUDIT_QUERY_HASH_LEN];
    const u_char *qh;
    fw_audit_w_t  w;

    if (size <= reserve) {
        return 0;
    }

    qh = NULL;

    if (ev->query_mode == FW_AUDIT_QUERY_HASH
        && ev->v[FW_AUDIT_F_QUERY].len)
    {
        if (ev->query_hmac == NULL) {
            return 0;
        }

        fw_audit_query_hash(ev->query_hmac, ev->v[FW_AUDIT_F_QUERY].data,
                            ev->v[FW_AUDIT_F_QUERY].len, qhash);
        qh = qhash;
    }

    /*
     * the first attempt takes every value up to its own cap; if the record
     * does not fit, every value is cut to a shorter common cap until it
     * does (the record says "truncated")
     */

    for (cap = (size_t) -1; /* void */ ; cap /= 2) {
        w.p = buf;
        w.end = buf + size - reserve;
        w.full = 0;
        w.cut = 0;
        w.cap = cap;

        if (format == FW_AUDIT_FHIR) {
            fw_audit_build_fhir(&w, ev, qh);

        } else {
            fw_audit_build_jsonl(&w, ev, qh);
        }

        if (!w.full) {
            return w.p - buf;
        }

        if (cap == 0) {
            /* not even the structure fits */
            return 0;
        }

        if (cap == (size_t) -1) {
            cap = FW_AUDIT_VALUE_MAX * 2;
        }
    }
}


static size_t
fw_audit_capped(fw_audit_w_t *w, int field)
{
    return w->cap < fw_audit_caps[field] ? w->cap : fw_audit_caps[field];
}


#define fw_audit_field(w, ev, f, key)                                        \
    if ((ev)->v[f].len) {                                                    \
        size_t  save_cap = (w)->cap;                                         \
        (w)->cap = fw_audit_capped(w, f);                                    \
        fw_audit_kv(w, key, &(ev)->v[f]);                                    \
        (w)->cap = save_cap;                                                 \
    }


static void
fw_audit_build_jsonl(fw_audit_w_t *w, const fw_audit_event_t *ev,
    const u_char *qhash)
{
    int        f;
    u_char     t[24];
    size_t     save;
    unsigned   i, status;
    uint64_t   n;
    const fw_audit_str_t  *v;

    status = fw_audit_status(ev);

    fw_audit_lit(w, "{\"v\":1,\"kind\":\"request\",\"time\":\"");
    fw_audit_mem(w, t, fw_audit_format_time(ev->time_ms, t));
    fw_audit_lit(w, "\"");

    fw_audit_field(w, ev, FW_AUDIT_F_GATEWAY, "gateway");

    for (f = FW_AUDIT_F_REQUEST_ID; f <= FW_AUDIT_F_PATH; f++) {
        fw_audit_field(w, ev, f, fw_audit_field_names[f]);
    }

    if (ev->v[FW_AUDIT_F_QUERY].len) {
        if (ev->query_mode == FW_AUDIT_QUERY_RAW) {
            fw_audit_field(w, ev, FW_AUDIT_F_QUERY, "query");

        } else if (qhash) {
            fw_audit_lit(w, ",\"query_hash\":\"");
            fw_audit_mem(w, qhash, FW_AUDIT_QUERY_HASH_LEN);
            fw_audit_lit(w, "\"");
        }
    }

    fw_audit_lit(w, ",\"status\":");
    fw_audit_num(w, status);
    fw_audit_lit(w, ",\"outcome\":");
    fw_audit_num(w, fw_audit_outcome(status));

    save = w->cap;
    w->cap = w->cap < 64 ? w->cap : 64;

    if (ev->denied_by.len) {
        fw_audit_kv(w, "denied_by", &ev->denied_by);
        fw_audit_kv(w, "reason", &ev->reason);
    }

    if (ev->nchecks) {
        fw_audit_lit(w, ",\"checks\":{");

        for (i = 0; i < ev->nchecks && i < FW_AUDIT_CHECKS_MAX; i++) {
            fw_audit_lit(w, i ? ",\"" : "\"");
            fw_audit_esc(w, ev->check_name[i].data, ev->check_name[i].len);
            fw_audit_lit(w, "\":\"");
            fw_audit_esc(w, ev->check_value[i].data,
                         ev->check_value[i].len);
            fw_audit_lit(w, "\"");
        }

        fw_audit_lit(w, "}");
    }

    w->cap = save;

    fw_audit_field(w, ev, FW_AUDIT_F_MINIMISE_PROFILE, "minimise_profile");

    v = &ev->v[FW_AUDIT_F_BYTES_SENT];

    if (fw_audit_is_number(v)) {
        n = 0;

        for (i = 0; i < v->len; i++) {
            n = n * 10 + (v->data[i] - '0');
        }

        fw_audit_lit(w, ",\"bytes_sent\":");
        fw_audit_num(w, n);
    }

    for (f = FW_AUDIT_F_REQUEST_TIME; f <= FW_AUDIT_F_UPSTREAM_TIME; f++) {
        fw_audit_field(w, ev, f, fw_audit_field_names[f]);
    }

    if (w->cut) {
        fw_audit_lit(w, ",\"truncated\":true");
    }
}


static void
fw_audit_fhir_coding(fw_audit_w_t *w, const char *system, const char *code,
    const char *display)
{
    fw_audit_lit(w, "{\"system\":\"");
    fw_audit_lit(w, system);
    fw_audit_lit(w, "\",\"code\":\"");
    fw_audit_lit(w, code);

    if (display) {
        fw_audit_lit(w, "\",\"display\":\"");
        fw_audit_lit(w, display);
    }

    fw_audit_lit(w, "\"}");
}


#define FW_HL7        "http://terminology.hl7.org/CodeSystem/"
#define FW_DCM        "http://dicom.nema.org/resources/ontology/DCM"
#define FW_AET        FW_HL7 "audit-event-type"
#define FW_ENT        FW_HL7 "audit-entity-type"
#define FW_ROLE       FW_HL7 "object-role"
#define FW_PART       FW_HL7 "v3-ParticipationType"
#define FW_RCLASS     FW_HL7 "v3-RoleClass"
#define FW_SRCTYPE    FW_HL7 "security-source-type"
#define FW_BALP       "https://profiles.ihe.net/ITI/BALP/" \
                      "StructureDefinition/IHE.BasicAudit."
#define FW_BALPENT    "https://profiles.ihe.net/ITI/BALP/CodeSystem/" \
                      "BasicAuditEntityType"


/* value of a field, escaped and capped, inside an already opened string */
#define fw_audit_sval(w, ev, f)                                              \
    do {                                                                     \
        size_t  save_cap = (w)->cap;                                         \
        (w)->cap = fw_audit_capped(w, f);                                    \
        fw_audit_esc(w, (ev)->v[f].data, (ev)->v[f].len);                    \
        (w)->cap = save_cap;                                                 \
    } while (0)


static void
fw_audit_build_fhir(fw_audit_w_t *w, const fw_audit_event_t *ev,
    const u_char *qhash)
{
    char                   action, act[2];
    u_char                 t[24];
    unsigned               status, outcome;
    const char            *profile;
    const fw_audit_str_t  *in;

    status = fw_audit_status(ev);
    outcome = fw_audit_outcome(status);
    in = &ev->v[FW_AUDIT_F_INTERACTION];
    action = fw_audit_action(in->data, in->len);

    switch (action) {
    case 'C': profile = "Create"; break;
    case 'R': profile = "Read"; break;
    case 'U': profile = "Update"; break;
    case 'D': profile = "Delete"; break;
    default: profile = "Query"; break;
    }

    fw_audit_lit(w, "{\"resourceType\":\"AuditEvent\"");

    if (ev->v[FW_AUDIT_F_PATIENT].len
        && (action == 'R' || action == 'E'))
    {
        fw_audit_lit(w, ",\"meta\":{\"profile\":[\"" FW_BALP "Patient");

    } else {
        fw_audit_lit(w, ",\"meta\":{\"profile\":[\"" FW_BALP);
    }

    fw_audit_lit(w, profile);
    fw_audit_lit(w, "\"]}");

    /* type rest, subtype the interaction */

    fw_audit_lit(w, ",\"type\":");
    fw_audit_fhir_coding(w, FW_AET, "rest", "Restful Operation");

    if (in->len) {
        fw_audit_lit(w, ",\"subtype\":[{\"system\":"
                     "\"http://hl7.org/fhir/restful-interaction\","
                     "\"code\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_INTERACTION);
        fw_audit_lit(w, "\"}]");
    }

    act[0] = action;
    act[1] = '\0';
    fw_audit_lit(w, ",\"action\":\"");
    fw_audit_lit(w, act);
    fw_audit_lit(w, "\",\"recorded\":\"");
    fw_audit_mem(w, t, fw_audit_format_time(ev->time_ms, t));
    fw_audit_lit(w, "\",\"outcome\":\"");
    fw_audit_num(w, outcome);
    fw_audit_fhir_outcome(w, ev, status);
    fw_audit_fhir_agents(w, ev, action);

    /* source: the gateway */

    fw_audit_lit(w, ",\"source\":{\"observer\":{\"display\":\"");
    fw_audit_sval(w, ev, FW_AUDIT_F_GATEWAY);
    fw_audit_lit(w, "\"},\"type\":[");
    fw_audit_fhir_coding(w, FW_SRCTYPE, "4", "Application Server");
    fw_audit_lit(w, "]}");

    fw_audit_fhir_entities(w, ev, qhash);

    if (w->cut) {
        fw_audit_lit(w, ",\"extension\":[{\"url\":\"urn:fhirwall:audit-"
                     "truncated\",\"valueBoolean\":true}]");
    }
}


/* AuditEvent.outcomeDesc: the status, who denied and why, the checks,
   the request line */

static void
fw_audit_fhir_outcome(fw_audit_w_t *w, const fw_audit_event_t *ev,
    unsigned status)
{
    size_t                 save;
    unsigned               i;
    const fw_audit_str_t  *v;

    fw_audit_lit(w, "\",\"outcomeDesc\":\"HTTP ");
    fw_audit_num(w, status);

    save = w->cap;
    w->cap = w->cap < 64 ? w->cap : 64;

    if (ev->denied_by.len) {
        fw_audit_lit(w, "; denied by ");
        fw_audit_esc(w, ev->denied_by.data, ev->denied_by.len);
        fw_audit_lit(w, ": ");
        fw_audit_esc(w, ev->reason.data, ev->reason.len);
    }

    for (i = 0; i < ev->nchecks && i < FW_AUDIT_CHECKS_MAX; i++) {
        fw_audit_lit(w, i ? ", " : "; checks ");
        fw_audit_esc(w, ev->check_name[i].data, ev->check_name[i].len);
        fw_audit_lit(w, "=");
        fw_audit_esc(w, ev->check_value[i].data, ev->check_value[i].len);
    }

    w->cap = save;

    v = &ev->v[FW_AUDIT_F_METHOD];

    if (v->len) {
        fw_audit_lit(w, "; ");
        fw_audit_sval(w, ev, FW_AUDIT_F_METHOD);
        fw_audit_lit(w, " ");
        fw_audit_sval(w, ev, FW_AUDIT_F_PATH);
    }

    fw_audit_lit(w, "\"");
}


/* AuditEvent.agent: the user, the client, the server */

static void
fw_audit_fhir_agents(fw_audit_w_t *w, const fw_audit_event_t *ev,
    char action)
{
    fw_audit_lit(w, ",\"agent\":[{\"type\":{\"coding\":[");

    if (action == 'C' || action == 'U' || action == 'D') {
        fw_audit_fhir_coding(w, FW_RCLASS, "AGNT", "agent");

    } else {
        fw_audit_fhir_coding(w, FW_PART, "IRCP", "information recipient");
    }

    fw_audit_lit(w, "]}");

    if (ev->v[FW_AUDIT_F_ROLE].len) {
        fw_audit_lit(w, ",\"role\":[{\"text\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_ROLE);
        fw_audit_lit(w, "\"}]");
    }

    fw_audit_lit(w, ",\"who\":{");

    if (ev->v[FW_AUDIT_F_FHIR_USER].len) {
        fw_audit_lit(w, "\"reference\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_FHIR_USER);
        fw_audit_lit(w, "\",");
    }

    fw_audit_lit(w, "\"identifier\":{\"value\":\"");

    if (ev->v[FW_AUDIT_F_USER].len) {
        fw_audit_sval(w, ev, FW_AUDIT_F_USER);

    } else {
        fw_audit_lit(w, "anonymous");
    }

    fw_audit_lit(w, "\"}},\"requestor\":true");

    if (ev->v[FW_AUDIT_F_PURPOSE].len) {
        fw_audit_lit(w, ",\"purposeOfUse\":[{\"coding\":[{\"system\":"
                     "\"http://terminology.hl7.org/CodeSystem/v3-ActReason\","
                     "\"code\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_PURPOSE);
        fw_audit_lit(w, "\"}]}]");
    }

    fw_audit_lit(w, "},{\"type\":{\"coding\":[");
    fw_audit_fhir_coding(w, FW_DCM, "110153", "Source Role ID");
    fw_audit_lit(w, "]}");

    if (ev->v[FW_AUDIT_F_CLIENT_ID].len) {
        fw_audit_lit(w, ",\"who\":{\"identifier\":{\"value\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_CLIENT_ID);
        fw_audit_lit(w, "\"}}");
    }

    fw_audit_lit(w, ",\"requestor\":false");

    if (ev->v[FW_AUDIT_F_CLIENT].len) {
        fw_audit_lit(w, ",\"network\":{\"address\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_CLIENT);
        fw_audit_lit(w, "\",\"type\":\"2\"}");
    }

    fw_audit_lit(w, "},{\"type\":{\"coding\":[");
    fw_audit_fhir_coding(w, FW_DCM, "110152", "Destination Role ID");
    fw_audit_lit(w, "]},\"who\":{\"display\":\"");
    fw_audit_sval(w, ev, FW_AUDIT_F_GATEWAY);
    fw_audit_lit(w, "\"},\"requestor\":false}]");
}


/* AuditEvent.entity: the transaction, the data, the patient, the query */

/* the patient entity (IHE BALP): a Patient reference */

static void
fw_audit_fhir_patient(fw_audit_w_t *w, const fw_audit_event_t *ev)
{
    const fw_audit_str_t  *v;

    fw_audit_lit(w, ",{\"what\":{\"reference\":\"");

    v = &ev->v[FW_AUDIT_F_PATIENT];

    if (v->len < 8 || memcmp(v->data, "Patient/", 8) != 0) {
        fw_audit_lit(w, "Patient/");
    }

    fw_audit_sval(w, ev, FW_AUDIT_F_PATIENT);
    fw_audit_lit(w, "\"},\"type\":");
    fw_audit_fhir_coding(w, FW_ENT, "1", "Person");
    fw_audit_lit(w, ",\"role\":");
    fw_audit_fhir_coding(w, FW_ROLE, "1", "Patient");
    fw_audit_lit(w, "}");
}


static void
fw_audit_fhir_entities(fw_audit_w_t *w, const fw_audit_event_t *ev,
    const u_char *qhash)
{
    size_t  save;

    fw_audit_lit(w, ",\"entity\":[{\"what\":{\"identifier\":{\"value\":\"");
    fw_audit_sval(w, ev, FW_AUDIT_F_REQUEST_ID);
    fw_audit_lit(w, "\"}},\"type\":");
    fw_audit_fhir_coding(w, FW_BALPENT, "XrequestId", "X-Request-Id");

    /* the minimisation profile applied to the answer */

    if (ev->v[FW_AUDIT_F_MINIMISE_PROFILE].len) {
        fw_audit_lit(w, ",\"detail\":[{\"type\":\"minimise_profile\","
                     "\"valueString\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_MINIMISE_PROFILE);
        fw_audit_lit(w, "\"}]");
    }

    fw_audit_lit(w, "}");

    if (ev->v[FW_AUDIT_F_TYPE].len) {
        fw_audit_lit(w, ",{\"what\":{\"reference\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_TYPE);

        if (ev->v[FW_AUDIT_F_ID].len) {
            fw_audit_lit(w, "/");
            fw_audit_sval(w, ev, FW_AUDIT_F_ID);

            if (ev->v[FW_AUDIT_F_VID].len) {
                fw_audit_lit(w, "/_history/");
                fw_audit_sval(w, ev, FW_AUDIT_F_VID);
            }
        }

        fw_audit_lit(w, "\"},\"type\":");
        fw_audit_fhir_coding(w, FW_ENT, "2", "System Object");
        fw_audit_lit(w, ",\"role\":");
        fw_audit_fhir_coding(w, FW_ROLE, "4", "Domain Resource");

        if (ev->v[FW_AUDIT_F_OPERATION].len
            || ev->v[FW_AUDIT_F_COMPARTMENT].len)
        {
            fw_audit_lit(w, ",\"detail\":[");

            if (ev->v[FW_AUDIT_F_OPERATION].len) {
                fw_audit_lit(w, "{\"type\":\"operation\",\"valueString\":\"");
                fw_audit_sval(w, ev, FW_AUDIT_F_OPERATION);
                fw_audit_lit(w, "\"}");

                if (ev->v[FW_AUDIT_F_COMPARTMENT].len) {
                    fw_audit_lit(w, ",");
                }
            }

            if (ev->v[FW_AUDIT_F_COMPARTMENT].len) {
                fw_audit_lit(w, "{\"type\":\"compartment\","
                             "\"valueString\":\"");
                fw_audit_sval(w, ev, FW_AUDIT_F_COMPARTMENT);
                fw_audit_lit(w, "\"}");
            }

            fw_audit_lit(w, "]");
        }

        fw_audit_lit(w, "}");

    } else if (ev->v[FW_AUDIT_F_OPERATION].len) {
        fw_audit_lit(w, ",{\"what\":{\"identifier\":{\"value\":\"");
        fw_audit_sval(w, ev, FW_AUDIT_F_OPERATION);
        fw_audit_lit(w, "\"}},\"type\":");
        fw_audit_fhir_coding(w, FW_ENT, "2", "System Object");
        fw_audit_lit(w, ",\"role\":");
        fw_audit_fhir_coding(w, FW_ROLE, "3", "Report");
        fw_audit_lit(w, "}");
    }

    if (ev->v[FW_AUDIT_F_PATIENT].len) {
        fw_audit_fhir_patient(w, ev);
    }

    if (ev->v[FW_AUDIT_F_QUERY].len && ev->query_mode != FW_AUDIT_QUERY_OMIT
        && (ev->query_mode == FW_AUDIT_QUERY_RAW || qhash))
    {
        fw_audit_lit(w, ",{\"type\":");
        fw_audit_fhir_coding(w, FW_ENT, "2", "System Object");
        fw_audit_lit(w, ",\"role\":");
        fw_audit_fhir_coding(w, FW_ROLE, "24", "Query");

        if (ev->query_mode == FW_AUDIT_QUERY_RAW) {
            save = w->cap;
            w->cap = fw_audit_capped(w, FW_AUDIT_F_QUERY);
            fw_audit_lit(w, ",\"query\":\"");
            fw_audit_b64(w, ev->v[FW_AUDIT_F_QUERY].data,
                         ev->v[FW_AUDIT_F_QUERY].len);
            w->cap = save;

        } else {
            fw_audit_lit(w, ",\"description\":\"");
            fw_audit_mem(w, qhash, FW_AUDIT_QUERY_HASH_LEN);
        }

        fw_audit_lit(w, "\"}");
    }

    fw_audit_lit(w, "]");
}



size_t
fw_audit_build_lifecycle(u_char *buf, size_t size, int format, int kind,
    int64_t time_ms, const u_char *gw, size_t gw_len, const u_char *chain,
    size_t chain_len)
{
    u_char        t[24];
    fw_audit_w_t  w;

    w.p = buf;
    w.end = buf + size;
    w.full = 0;
    w.cut = 0;
    w.cap = 256;

    if (format == FW_AUDIT_FHIR) {
        fw_audit_lit(&w, "{\"resourceType\":\"AuditEvent\",\"type\":");
        fw_audit_fhir_coding(&w, FW_DCM, "110100", "Application Activity");
        fw_audit_lit(&w, ",\"subtype\":[");

        if (kind == FW_AUDIT_KIND_START) {
            fw_audit_fhir_coding(&w, FW_DCM, "110120", "Application Start");

        } else {
            fw_audit_fhir_coding(&w, FW_DCM, "110121", "Application Stop");
        }

        fw_audit_lit(&w, "],\"action\":\"E\",\"recorded\":\"");
        fw_audit_mem(&w, t, fw_audit_format_time(time_ms, t));
        fw_audit_lit(&w, "\",\"outcome\":\"0\",\"agent\":[{\"type\":"
                     "{\"coding\":[");
        fw_audit_fhir_coding(&w, FW_DCM, "110150", "Application");
        fw_audit_lit(&w, "]},\"who\":{\"display\":\"");
        fw_audit_esc(&w, gw, gw_len);
        fw_audit_lit(&w, "\"},\"requestor\":false}],\"source\":"
                     "{\"observer\":{\"display\":\"");
        fw_audit_esc(&w, gw, gw_len);
        fw_audit_lit(&w, "\"},\"type\":[");
        fw_audit_fhir_coding(&w, FW_SRCTYPE, "4", "Application Server");
        fw_audit_lit(&w, "]},\"entity\":[{\"what\":{\"identifier\":"
                     "{\"value\":\"");
        fw_audit_esc(&w, chain, chain_len);
        fw_audit_lit(&w, "\"}},\"type\":");
        fw_audit_fhir_coding(&w, FW_ENT, "2", "System Object");
        fw_audit_lit(&w, "}]");

    } else {
        fw_audit_lit(&w, "{\"v\":1,\"kind\":\"");
        fw_audit_lit(&w, kind == FW_AUDIT_KIND_START ? "start" : "end");
        fw_audit_lit(&w, "\",\"time\":\"");
        fw_audit_mem(&w, t, fw_audit_format_time(time_ms, t));
        fw_audit_lit(&w, "\",\"gateway\":\"");
        fw_audit_esc(&w, gw, gw_len);
        fw_audit_lit(&w, "\",\"chain_id\":\"");
        fw_audit_esc(&w, chain, chain_len);
        fw_audit_lit(&w, "\"");
    }

    return w.full ? 0 : (size_t) (w.p - buf);
}


size_t
fw_audit_close(u_char *buf, size_t len, size_t size)
{
    if (size - len < 2) {
        return 0;
    }

    buf[len] = '}';
    buf[len + 1] = '\n';

    return len + 2;
}
