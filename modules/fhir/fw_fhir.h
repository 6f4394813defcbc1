/*
 * fhirwall FHIR core (plain C, no nginx headers): REST path parser,
 * interaction classifier, query parser, policy checks, SMART on FHIR scope
 * matcher with patient compartment checks, batch/transaction Bundles.
 */

#ifndef _FW_FHIR_H_INCLUDED_
#define _FW_FHIR_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


#pragma GCC visibility push(hidden)


#define FW_FHIR_OK      0
#define FW_FHIR_ERROR  -1

/* FHIR versions (bits) */
#define FW_FHIR_R4   0x01
#define FW_FHIR_R4B  0x02
#define FW_FHIR_R5   0x04

#define FW_FHIR_ID_MAX       64
#define FW_FHIR_OP_MAX       64
#define FW_FHIR_MAX_PARAMS   100
#define FW_FHIR_TYPE_BITMAP  32      /* bytes: room for 256 type indexes */

/* a type index that stands for "every type" ('*', system level) */
#define FW_FHIR_ANY    -2
#define FW_FHIR_NONE   -1

/* SMART permissions */
#define FW_FHIR_P_C  0x01
#define FW_FHIR_P_R  0x02
#define FW_FHIR_P_U  0x04
#define FW_FHIR_P_D  0x08
#define FW_FHIR_P_S  0x10
#define FW_FHIR_P_ALL  0x1f

/* methods */
enum {
    FW_FHIR_M_GET = 0,
    FW_FHIR_M_HEAD,
    FW_FHIR_M_POST,
    FW_FHIR_M_PUT,
    FW_FHIR_M_PATCH,
    FW_FHIR_M_DELETE,
    FW_FHIR_M_OTHER
};

/* interactions; the names are fw_fhir_interaction_names[] */
enum {
    FW_FHIR_I_NONE = 0,
    FW_FHIR_I_CAPABILITIES,
    FW_FHIR_I_BATCH,
    FW_FHIR_I_TRANSACTION,
    FW_FHIR_I_SEARCH_SYSTEM,
    FW_FHIR_I_HISTORY_SYSTEM,
    FW_FHIR_I_OPERATION_SYSTEM,
    FW_FHIR_I_CREATE,
    FW_FHIR_I_CONDITIONAL_CREATE,
    FW_FHIR_I_SEARCH_TYPE,
    FW_FHIR_I_CONDITIONAL_UPDATE,
    FW_FHIR_I_CONDITIONAL_PATCH,
    FW_FHIR_I_CONDITIONAL_DELETE,
    FW_FHIR_I_HISTORY_TYPE,
    FW_FHIR_I_OPERATION_TYPE,
    FW_FHIR_I_READ,
    FW_FHIR_I_VREAD,
    FW_FHIR_I_UPDATE,
    FW_FHIR_I_PATCH,
    FW_FHIR_I_DELETE,
    FW_FHIR_I_HISTORY_INSTANCE,
    FW_FHIR_I_OPERATION_INSTANCE,
    FW_FHIR_I_SEARCH_COMPARTMENT,
    FW_FHIR_I_COUNT
};


/* path shapes */
enum {
    FW_FHIR_S_BASE = 0,
    FW_FHIR_S_METADATA,
    FW_FHIR_S_SYSTEM_SEARCH,
    FW_FHIR_S_SYSTEM_HISTORY,
    FW_FHIR_S_SYSTEM_OP,
    FW_FHIR_S_TYPE,
    FW_FHIR_S_TYPE_SEARCH,
    FW_FHIR_S_TYPE_HISTORY,
    FW_FHIR_S_TYPE_OP,
    FW_FHIR_S_INSTANCE,
    FW_FHIR_S_INSTANCE_HISTORY,
    FW_FHIR_S_VREAD,
    FW_FHIR_S_INSTANCE_OP,
    FW_FHIR_S_COMPARTMENT,
    FW_FHIR_S_COMPARTMENT_SEARCH
};


typedef struct {
    const char     *name;
    unsigned char   len;
    unsigned char   versions;
} fw_fhir_type_t;


typedef struct {
    const u_char   *data;
    size_t          len;
} fw_fhir_str_t;


typedef struct {
    fw_fhir_str_t   name;      /* decoded */
    fw_fhir_str_t   value;     /* decoded */
} fw_fhir_param_t;


/* what a request (or a Bundle entry) is */
typedef struct {
    int             interaction;
    int             type;          /* type index, FW_FHIR_NONE or _ANY */
    int             compartment;   /* compartment type index or NONE */
    int             target;        /* compartment search: type, ANY */
    fw_fhir_str_t   id;            /* also the compartment id */
    fw_fhir_str_t   vid;
    fw_fhir_str_t   op;            /* operation name without '$' */
    fw_fhir_str_t   patient;       /* the patient it is about, if known */
    int             shape;         /* FW_FHIR_S_*: the path's form */
    unsigned        version;       /* FW_FHIR_R*: the policy's */
    unsigned        search_post:1; /* POST .../_search: form body */
    unsigned        base:1;        /* path is the base itself */
    unsigned        lenient:1;     /* Prefer: handling=lenient */
} fw_fhir_req_t;


/* the answer: status 0 allows */
typedef struct {
    unsigned        status;
    const char     *code;          /* OperationOutcome issue code */
    const char     *reason;        /* $fw_fhir_status */
    int             entry;         /* Bundle entry index, or -1 */
    char            diag[200];     /* never holds request data */
    char            needed[160];   /* scope for WWW-Authenticate */
} fw_fhir_verdict_t;


typedef struct {
    fw_fhir_str_t   name;          /* without '$'; "*" is the default */
    int             perms;         /* FW_FHIR_P_*, or -1: denied */
} fw_fhir_opperm_t;


/* a location's policy, built at configuration time */
typedef struct {
    unsigned                version;        /* one FW_FHIR_R* bit */
    unsigned                deny_status;    /* 405 or 403 */
    unsigned                unverifiable;   /* allow patient-scoped access
                                               that cannot be attributed */
    unsigned long           interactions;   /* bit per FW_FHIR_I_*: allowed */
    const unsigned char    *type_allow;     /* bitmap, or NULL: all */
    const unsigned char    *type_deny;      /* bitmap, or NULL */
    const fw_fhir_str_t    *op_allow;       /* NULL: all */
    size_t                  n_op_allow;
    const fw_fhir_str_t    *op_deny;
    size_t                  n_op_deny;
    const fw_fhir_opperm_t *op_perms;
    size_t                  n_op_perms;
    int                     op_default;     /* perms or -1: denied */
    const fw_fhir_str_t    *formats;        /* _format allowlist */
    size_t                  n_formats;
    size_t                  max_entries;    /* Bundle entries */
} fw_fhir_policy_t;


/*
 * A type's patient compartment row in one version (generated from the
 * FHIR definitions, fw_fhir_compartment.c): comma-separated search
 * parameter names.
 */
typedef struct {
    const char     *name;
    unsigned char   version;       /* one FW_FHIR_R* bit */
    const char     *compartment;   /* place a resource in the patient's
                                      compartment; "": never in it */
    const char     *references;    /* every reference parameter whose
                                      target includes Patient */
} fw_fhir_cpt_t;


extern const fw_fhir_cpt_t   fw_fhir_cpts[];
extern const unsigned        fw_fhir_ncpts;
extern const fw_fhir_type_t  fw_fhir_types[];
extern const unsigned        fw_fhir_ntypes;
extern const unsigned        fw_fhir_version_ntypes[3];
extern const char           *fw_fhir_interaction_names[FW_FHIR_I_COUNT];


/* fills v; fmt and its arguments must never carry request data */
int fw_fhir_deny(fw_fhir_verdict_t *v, unsigned status, const char *code,
    const char *reason, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

void fw_fhir_verdict_init(fw_fhir_verdict_t *v);

/* "R4", "R4B", "R5" (any case) to FW_FHIR_R*, or 0 */
unsigned fw_fhir_version(const u_char *name, size_t len);

/* the index of a type known in "version" (0: any version), or NONE */
int fw_fhir_type_lookup(unsigned version, const u_char *name, size_t len);

/* the index of the Patient type */
int fw_fhir_patient_type(void);

/* compartment types of a version */
int fw_fhir_is_compartment(unsigned version, int type);

/* the patient compartment row of a type in a version, or NULL */
const fw_fhir_cpt_t *fw_fhir_compartment_row(unsigned version, int type);

/* 1 if name is one of a comma-separated list */
int fw_fhir_in_list_csv(const char *list, const u_char *name, size_t len);

/* an interaction name (or group: search, history, operation, conditional)
   to a bit mask of FW_FHIR_I_*; 0 if unknown */
unsigned long fw_fhir_interaction_mask(const u_char *name, size_t len);

/* [A-Za-z0-9\-\.]{1,64} */
int fw_fhir_valid_id(const u_char *p, size_t len);

/* an operation name (without '$'): [A-Za-z][A-Za-z0-9_-]{0,63} */
int fw_fhir_valid_op(const u_char *p, size_t len);

/* a hex digit's value (either case), -1 if it is none */
int fw_fhir_hex(u_char c);

/*
 * Validates a raw path (no query): only unreserved characters, '/', '$',
 * '*' and %-escapes of unreserved characters; writes the decoded path to
 * "out" (at least len bytes).  FW_FHIR_ERROR on anything else.
 */
int fw_fhir_decode_path(const u_char *raw, size_t len, u_char *out,
    size_t *out_len);

/*
 * 1 if a raw path has only characters allowed raw in a path and no
 * %-escape: then it is its own decoded form (fw_fhir_decode_path() would
 * copy it unchanged); 0 otherwise (decode it to know more).
 */
int fw_fhir_plain_path(const u_char *raw, size_t len);

/*
 * The target nginx decided on must be the one an upstream gets: "raw" is
 * the raw request target (path and query as on the request line, what
 * proxy_pass without a URI forwards), "uri" and "args" the path and query
 * nginx parsed from it.  FW_FHIR_OK when raw has no '#', its path is valid
 * (fw_fhir_decode_path()) and decodes to exactly "uri" and its query is
 * exactly "args"; "path" is then the decoded path (in raw, or in
 * "scratch", which holds len bytes, may be NULL for a plain path) and
 * "query" the raw query.  400 in v otherwise.
 */
int fw_fhir_check_target(const u_char *raw, size_t len, const u_char *uri,
    size_t uri_len, const u_char *args, size_t args_len, u_char *scratch,
    fw_fhir_str_t *path, fw_fhir_str_t *query, fw_fhir_verdict_t *v);

/*
 * Parses the decoded path after the base ("" or "/..."): segments, types,
 * ids.  Fills req (no interaction yet).  On failure fills v (400, 404).
 */
int fw_fhir_parse_path(unsigned version, const u_char *rest, size_t len,
    fw_fhir_req_t *req, fw_fhir_verdict_t *v);

/*
 * Splits and decodes a query string (raw, after '?') or, with form set, an
 * application/x-www-form-urlencoded body ('+' is a space) into params[],
 * appended after the *n already there.  Pairs without escapes (and, in a
 * form, without '+') point into q; escaped pairs are decoded into
 * "scratch", which holds len bytes (it may be NULL when q has no '%' and,
 * with form set, no '+').
 */
int fw_fhir_parse_query(const u_char *q, size_t len, int form,
    u_char *scratch, fw_fhir_param_t *params, size_t max, size_t *n,
    fw_fhir_verdict_t *v);

/*
 * Sets req->interaction from the method and the parsed path; 405 in v if
 * the method does not fit the path.
 */
int fw_fhir_classify(fw_fhir_req_t *req, int method,
    const fw_fhir_param_t *params, size_t n, int if_none_exist,
    fw_fhir_verdict_t *v);

/* type, interaction, operation allow/deny lists and _format */
int fw_fhir_check_policy(const fw_fhir_policy_t *pol,
    const fw_fhir_req_t *req, const fw_fhir_param_t *params, size_t n,
    fw_fhir_verdict_t *v);

/*
 * Whether a search parameter ties the search to a patient: one that is a
 * Patient reference on the searched type in the request's version and
 * that the compartment definition (or its name, "patient") ties to the
 * patient, or _id on Patient.  0 if it is none, 1 with the patient id in
 * *id, -1 if it is one but does not name exactly one patient (a bare id
 * on a parameter other than "patient" could name another type).
 */
int fw_fhir_param_patient(const fw_fhir_req_t *req,
    const fw_fhir_param_t *param, fw_fhir_str_t *id);

/* sets req->patient from the path and the search parameters */
void fw_fhir_find_patient(fw_fhir_req_t *req, const fw_fhir_param_t *params,
    size_t n);

/*
 * Decodes, parses, classifies and checks one request or Bundle entry:
 * "path" is the raw path after the base, "query" the raw query.
 * "scratch" must hold path_len + query_len bytes, params
 * FW_FHIR_MAX_PARAMS.
 */
int fw_fhir_analyze(const fw_fhir_policy_t *pol, int method,
    const u_char *path, size_t path_len, const u_char *query,
    size_t query_len, int if_none_exist, u_char *scratch,
    fw_fhir_req_t *req, fw_fhir_param_t *params, size_t *n,
    fw_fhir_verdict_t *v);

/*
 * SMART on FHIR: the permission an interaction needs (FW_FHIR_P_*), 0 for
 * a public one, -1 if denied by the operation policy.
 */
int fw_fhir_required_perms(const fw_fhir_policy_t *pol,
    const fw_fhir_req_t *req);

/*
 * Decides whether the granted scopes (space-separated) allow the request;
 * "patient" is the patient in context (may be empty).  401 when no scope
 * was granted at all, 403 with v->needed otherwise.
 */
int fw_fhir_authorize(const fw_fhir_policy_t *pol, const fw_fhir_req_t *req,
    const fw_fhir_param_t *params, size_t n, const u_char *scopes,
    size_t scopes_len, const u_char *patient, size_t patient_len,
    fw_fhir_verdict_t *v);

/*
 * One scope token: FW_FHIR_OK if it is a SMART resource scope, with its
 * context ('p', 'u', 's'), type (index or ANY), permissions and the
 * granular query (raw).
 */
typedef struct {
    int             context;
    int             type;
    int             perms;
    fw_fhir_str_t   query;
} fw_fhir_scope_t;

int fw_fhir_parse_scope(unsigned version, const u_char *p, size_t len,
    fw_fhir_scope_t *s);


/*
 * A parsed scope string: the resource scopes that can grant something, in
 * their order, with their granular parameters decoded.  A pure function of
 * the string, so that one parse serves every request that carries the
 * same string; each request's decision is still made afresh from it.
 */

#define FW_FHIR_SC_STR_MAX     2048   /* longer strings are not cached */
#define FW_FHIR_SC_SCOPES_MAX  32     /* resource scopes kept */
#define FW_FHIR_SC_PARAMS_MAX  64     /* granular parameters kept */

/* fw_fhir_scope_ent_t.nparams of a granular scope that never matches */
#define FW_FHIR_SC_NEVER       -1

typedef struct {
    int             context;       /* 'p', 'u', 's' */
    int             type;          /* type index or FW_FHIR_ANY */
    int             perms;
    short           first;         /* first of its params[] */
    short           nparams;       /* 0: not granular, or _NEVER */
} fw_fhir_scope_ent_t;

typedef struct {
    uint32_t             hash;
    unsigned             used:1;
    unsigned             any:1;        /* a byte other than ' ', '\t' */
    int                  hint;         /* context for the needed scope */
    size_t               len;
    size_t               nscopes;
    size_t               nparams;
    fw_fhir_scope_ent_t  scopes[FW_FHIR_SC_SCOPES_MAX];
    fw_fhir_param_t      params[FW_FHIR_SC_PARAMS_MAX];  /* into str, buf */
    u_char               str[FW_FHIR_SC_STR_MAX];
    u_char               buf[FW_FHIR_SC_STR_MAX];       /* decoded */
} fw_fhir_scope_set_t;

/*
 * A bounded cache of parsed scope strings (one per worker): nslots sets,
 * a string goes to slot hash % nslots and replaces what was there; a hit
 * needs the same hash, length and bytes (a hash collision is a miss).
 * The set returned last is tried first, by length and bytes alone.
 */
typedef struct {
    fw_fhir_scope_set_t  *slots;
    size_t                nslots;
    fw_fhir_scope_set_t  *last;        /* a slot, or NULL */
    unsigned long         hits;
    unsigned long         misses;
    unsigned long         evictions;   /* a used slot taken by another */
    unsigned long         uncached;    /* strings too big to keep */
} fw_fhir_scope_cache_t;

uint32_t fw_fhir_scope_hash(const u_char *p, size_t len);

/* parses a scope string into set; FW_FHIR_ERROR if it does not fit */
int fw_fhir_scope_set_parse(fw_fhir_scope_set_t *set, const u_char *scopes,
    size_t len);

void fw_fhir_scope_cache_init(fw_fhir_scope_cache_t *c,
    fw_fhir_scope_set_t *slots, size_t nslots);

/* the parsed set of a scope string, or NULL if it does not fit a set */
const fw_fhir_scope_set_t *fw_fhir_scope_cache_get(fw_fhir_scope_cache_t *c,
    const u_char *scopes, size_t len);

/* the same with the hash given (tests force collisions with it) */
const fw_fhir_scope_set_t *fw_fhir_scope_cache_get_hashed(
    fw_fhir_scope_cache_t *c, uint32_t hash, const u_char *scopes,
    size_t len);

/* fw_fhir_authorize() with the scopes already parsed: the same verdicts */
int fw_fhir_authorize_set(const fw_fhir_policy_t *pol,
    const fw_fhir_req_t *req, const fw_fhir_param_t *params, size_t n,
    const fw_fhir_scope_set_t *set, const u_char *patient,
    size_t patient_len, fw_fhir_verdict_t *v);

/*
 * A batch or transaction Bundle (JSON): every entry is analyzed with the
 * request rules and, with "authz" set, authorized with the scopes.  Sets
 * *interaction to BATCH or TRANSACTION.
 */
int fw_fhir_check_bundle(const fw_fhir_policy_t *pol, const u_char *body,
    size_t len, int authz, const u_char *scopes, size_t scopes_len,
    const u_char *patient, size_t patient_len, int *interaction,
    fw_fhir_verdict_t *v);


#pragma GCC visibility pop


#endif /* _FW_FHIR_H_INCLUDED_ */
