/*
 * fhirwall audit: record builder, HMAC chain and verifier (plain C, no
 * nginx headers).
 *
 * A record is one line: a JSON object (JSON Lines schema "v":1, or a FHIR
 * R4 AuditEvent shaped by IHE BALP) that ends with its chain seal:
 *
 *   jsonl:  {...,"chain":"<seal>","mac":"<64 hex>"}
 *   fhir:   {...,"extension":[{"url":"urn:fhirwall:audit-chain",
 *           "valueString":"<seal>"},{"url":"urn:fhirwall:audit-mac",
 *           "valueString":"<64 hex>"}]}
 *
 * where <seal> is "fwa1 <kind> <chain id> <epoch> <seq> <lost> <prev mac>"
 * and the MAC is HMAC-SHA256 under the epoch's key of every byte of the
 * line before the MAC's suffix (",\"mac\":\"" for jsonl, "},{\"url\":
 * \"urn:fhirwall:audit-mac\"..." for fhir), so the seal itself is covered.
 *
 * Keys: K(0) = HMAC(secret, "fhirwall-audit-v1 chain " || chain id),
 * K(e+1) = HMAC(K(e), "fhirwall-audit-v1 evolve"); a writer keeps only the
 * key of its current epoch and wipes the older ones.
 */

#ifndef _FW_AUDIT_H_INCLUDED_
#define _FW_AUDIT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


#pragma GCC visibility push(hidden)


#define FW_AUDIT_OK            0
#define FW_AUDIT_ERROR        -1

#define FW_AUDIT_JSONL         0
#define FW_AUDIT_FHIR          1

#define FW_AUDIT_KIND_REQUEST  0
#define FW_AUDIT_KIND_START    1
#define FW_AUDIT_KIND_END      2

#define FW_AUDIT_QUERY_OMIT    0
#define FW_AUDIT_QUERY_HASH    1
#define FW_AUDIT_QUERY_RAW     2

#define FW_AUDIT_MAC_LEN       32
#define FW_AUDIT_KEY_MIN       16
#define FW_AUDIT_CHAIN_ID_MAX  128
#define FW_AUDIT_CHECKS_MAX    8

/* the smallest and the largest record size a configuration may ask for */
#define FW_AUDIT_RECORD_MIN    4096
#define FW_AUDIT_RECORD_MAX    65536

/* the longest value of one field before any truncation */
#define FW_AUDIT_VALUE_MAX     2048


typedef enum {
    FW_AUDIT_F_REQUEST_ID = 0,
    FW_AUDIT_F_CLIENT,
    FW_AUDIT_F_USER,
    FW_AUDIT_F_ROLE,
    FW_AUDIT_F_CLIENT_ID,
    FW_AUDIT_F_FHIR_USER,
    FW_AUDIT_F_PURPOSE,
    FW_AUDIT_F_PATIENT,
    FW_AUDIT_F_INTERACTION,
    FW_AUDIT_F_TYPE,
    FW_AUDIT_F_ID,
    FW_AUDIT_F_VID,
    FW_AUDIT_F_OPERATION,
    FW_AUDIT_F_COMPARTMENT,
    FW_AUDIT_F_METHOD,
    FW_AUDIT_F_PATH,
    FW_AUDIT_F_QUERY,
    FW_AUDIT_F_STATUS,
    FW_AUDIT_F_BYTES_SENT,
    FW_AUDIT_F_REQUEST_TIME,
    FW_AUDIT_F_UPSTREAM_STATUS,
    FW_AUDIT_F_UPSTREAM_TIME,
    FW_AUDIT_F_GATEWAY,
    FW_AUDIT_F_MINIMISE_PROFILE,
    FW_AUDIT_F_MAX
} fw_audit_field_e;


typedef struct {
    const u_char  *data;
    size_t         len;
} fw_audit_str_t;


typedef struct {
    /* raw values; len 0 means absent */
    fw_audit_str_t  v[FW_AUDIT_F_MAX];

    /* the denial checks: module name and its status variable's value */
    fw_audit_str_t  check_name[FW_AUDIT_CHECKS_MAX];
    fw_audit_str_t  check_value[FW_AUDIT_CHECKS_MAX];
    unsigned        nchecks;

    fw_audit_str_t  denied_by;
    fw_audit_str_t  reason;

    int64_t         time_ms;       /* milliseconds since the Unix epoch */
    int             query_mode;    /* FW_AUDIT_QUERY_* */
    struct fw_audit_hmac_s  *query_hmac;  /* keyed for query hashes */
} fw_audit_event_t;


/* names of the fields in the JSON Lines schema ("request_id", ...) */
extern const char *const  fw_audit_field_names[FW_AUDIT_F_MAX];

/* the field of that name, or -1 */
int fw_audit_field_by_name(const u_char *name, size_t len);

/* 0 success (< 400), 4 minor failure (4xx), 8 serious failure (>= 500) */
unsigned fw_audit_outcome(unsigned status);

/* BALP action of an interaction: C R U D or E */
char fw_audit_action(const u_char *interaction, size_t len);

/* "2026-11-24T02:12:51.123Z"; out holds 24 bytes, returns 24 */
size_t fw_audit_format_time(int64_t time_ms, u_char *out);

/*
 * Builds the body of a request record: every byte of the line up to the
 * chain seal (the caller then calls fw_audit_chain_seal() or
 * fw_audit_close()).  "reserve" bytes of "size" are kept free for the
 * seal.  Values are cut to make the record fit; the record says
 * "truncated" then.  Returns the length, or 0 if it cannot fit at all.
 */
size_t fw_audit_build(u_char *buf, size_t size, size_t reserve, int format,
    const fw_audit_event_t *ev);

/* the body of a chain start or end record */
size_t fw_audit_build_lifecycle(u_char *buf, size_t size, int format,
    int kind, int64_t time_ms, const u_char *gateway, size_t gateway_len,
    const u_char *chain_id, size_t chain_id_len);

/* closes a record written without a chain: "}\n"; returns the new length */
size_t fw_audit_close(u_char *buf, size_t len, size_t size);

/* the number of bytes fw_audit_chain_seal() appends at most */
size_t fw_audit_seal_len(int format, size_t chain_id_len);


/* ---- keys and MACs ---------------------------------------------------- */

/* a secret file's contents minus trailing white space; FW_AUDIT_ERROR if
   shorter than FW_AUDIT_KEY_MIN */
int fw_audit_key_normalize(const u_char *data, size_t len, size_t *out_len);

void fw_audit_hmac(const u_char *key, size_t key_len, const u_char *msg,
    size_t msg_len, u_char *mac);

/* K(0) of a chain */
void fw_audit_chain_key0(const u_char *secret, size_t secret_len,
    const u_char *chain_id, size_t chain_id_len, u_char *key);

/* K(e+1) from K(e), in place; the old key is wiped */
void fw_audit_key_evolve(u_char *key);

/* the key of the query hashes */
void fw_audit_query_key(const u_char *secret, size_t secret_len,
    u_char *key);

/*
 * A prepared HMAC-SHA256: the inner and outer hash states after the
 * padded key, copied for every message (no per-message key schedule or
 * algorithm fetch).
 */
typedef struct fw_audit_hmac_s  fw_audit_hmac_t;

fw_audit_hmac_t *fw_audit_hmac_create(const u_char *key, size_t key_len);
int fw_audit_hmac_rekey(fw_audit_hmac_t *h, const u_char *key,
    size_t key_len);
int fw_audit_hmac_run(fw_audit_hmac_t *h, const u_char *msg, size_t len,
    u_char *mac);
void fw_audit_hmac_destroy(fw_audit_hmac_t *h);

/* "hmac-sha256:" and 64 hex digits of HMAC(key, query): 76 bytes */
#define FW_AUDIT_QUERY_HASH_LEN  76
void fw_audit_query_hash(fw_audit_hmac_t *h, const u_char *q, size_t len,
    u_char *out);


/* ---- the writer's chain ----------------------------------------------- */

typedef struct fw_audit_chain_s  fw_audit_chain_t;

/*
 * A chain keyed from the secret; "epoch_ms" is the length of an epoch
 * (0: one epoch for ever).  The secret is not kept.
 */
fw_audit_chain_t *fw_audit_chain_create(const u_char *secret,
    size_t secret_len, const u_char *chain_id, size_t chain_id_len,
    int64_t start_ms, int64_t epoch_ms);
void fw_audit_chain_destroy(fw_audit_chain_t *c);

const u_char *fw_audit_chain_id(fw_audit_chain_t *c, size_t *len);
uint64_t fw_audit_chain_seq(fw_audit_chain_t *c);
uint64_t fw_audit_chain_epoch(fw_audit_chain_t *c);

/*
 * Appends the seal, the MAC and "\n" to the body in buf[0..len) (the
 * caller reserved fw_audit_seal_len() bytes) and returns the length of the
 * line.  Moves to the epoch of "now_ms" first (evolving and wiping keys).
 * The chain advances only with fw_audit_chain_commit(): call it once the
 * line is written (or buffered); without it the next record takes the
 * same sequence number.
 */
size_t fw_audit_chain_seal(fw_audit_chain_t *c, u_char *buf, size_t len,
    size_t size, int format, int kind, int64_t now_ms);
void fw_audit_chain_commit(fw_audit_chain_t *c);

/* counts records that were sealed and then lost (not written, or lost in
   a buffer); the next sealed record says how many */
void fw_audit_chain_lost(fw_audit_chain_t *c, uint64_t n);


/* ---- the verifier ----------------------------------------------------- */

typedef struct {
    int             format;
    int             kind;
    const u_char   *chain;
    size_t          chain_len;
    uint64_t        epoch;
    uint64_t        seq;
    uint64_t        lost;
    u_char          prev[FW_AUDIT_MAC_LEN];
    u_char          mac[FW_AUDIT_MAC_LEN];
    size_t          msg_len;       /* the bytes the MAC covers */
} fw_audit_line_t;

/*
 * Parses one line (without its "\n").  On error returns FW_AUDIT_ERROR
 * and a static reason in *err.
 */
int fw_audit_parse_line(const u_char *line, size_t len, fw_audit_line_t *out,
    const char **err);


#define FW_AUDIT_V_ERROR    0
#define FW_AUDIT_V_WARNING  1

typedef void (*fw_audit_report_pt)(void *data, int level, const char *file,
    uint64_t line, const char *msg);

typedef struct fw_audit_verifier_s  fw_audit_verifier_t;

/*
 * "max_epoch" bounds the key evolution a record may ask for (a forged
 * record with epoch 2^60 must not keep the verifier busy); "allow_open"
 * makes a chain without its end record a warning instead of an error
 * (a log that is still being written).
 */
fw_audit_verifier_t *fw_audit_verifier_create(const u_char *secret,
    size_t secret_len, uint64_t max_epoch, int allow_open,
    fw_audit_report_pt report, void *data);
void fw_audit_verifier_destroy(fw_audit_verifier_t *v);

/* a chain whose first records are not among the files given (only the
   newest rotated file is checked) is a warning instead of an error */
void fw_audit_verifier_allow_partial(fw_audit_verifier_t *v);

/* one line of a file; "file" must outlive the verifier */
void fw_audit_verifier_add(fw_audit_verifier_t *v, const char *file,
    uint64_t lineno, const u_char *line, size_t len);

/* a file that does not end with "\n" (a truncated last line) */
void fw_audit_verifier_partial(fw_audit_verifier_t *v, const char *file,
    uint64_t lineno);

/* checks every chain; returns the number of errors in total */
uint64_t fw_audit_verifier_finish(fw_audit_verifier_t *v,
    uint64_t *records, uint64_t *chains, uint64_t *warnings);


#pragma GCC visibility pop


#endif /* _FW_AUDIT_H_INCLUDED_ */
