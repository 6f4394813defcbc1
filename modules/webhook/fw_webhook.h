/*
 * fhirwall webhook: signature header parsers, signed-content prefixes,
 * timestamp windows and HMAC (plain C, no nginx headers).
 */

#ifndef _FW_WEBHOOK_H_INCLUDED_
#define _FW_WEBHOOK_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


#pragma GCC visibility push(hidden)


/* schemes */
#define FW_WEBHOOK_STRIPE      1
#define FW_WEBHOOK_STANDARD    2
#define FW_WEBHOOK_GITHUB      3
#define FW_WEBHOOK_SLACK       4
#define FW_WEBHOOK_GENERIC     5

/* digests */
#define FW_WEBHOOK_SHA256      1
#define FW_WEBHOOK_SHA512      2

/* signature encodings */
#define FW_WEBHOOK_HEX         1
#define FW_WEBHOOK_BASE64      2

/* results of the parsers and checks */
#define FW_WEBHOOK_OK          0
#define FW_WEBHOOK_MALFORMED  -2     /* 400 */
#define FW_WEBHOOK_MISSING    -3     /* 401: no usable signature */
#define FW_WEBHOOK_EXPIRED    -4     /* 401: timestamp outside the window */
#define FW_WEBHOOK_INVALID    -5     /* 401: no signature matches */
#define FW_WEBHOOK_FAILED     -6     /* 500: crypto library failure */

/* at most this many candidate signatures in one header (rotation) */
#define FW_WEBHOOK_MAX_SIGS    8

/* the longest MAC (SHA-512) */
#define FW_WEBHOOK_MAC_MAX     64

/* the largest timestamp accepted: 10 digits, year 2286 */
#define FW_WEBHOOK_TS_MAX      9999999999ULL

/* the longest "webhook-id" accepted */
#define FW_WEBHOOK_ID_MAX      256


/* how a scheme's signature header is written */
#define FW_WEBHOOK_FMT_STRIPE   1     /* t=...,v1=...,v1=... */
#define FW_WEBHOOK_FMT_STANDARD 2     /* v1,<base64> v1,<base64> */
#define FW_WEBHOOK_FMT_SINGLE   3     /* <prefix><hex or base64> */


/* the facts of a scheme: where its signature, timestamp and id are */
typedef struct {
    int                 scheme;         /* FW_WEBHOOK_STRIPE, ... */
    const char         *sig_header;
    const char         *ts_header;      /* NULL: none, or in the signature */
    const char         *id_header;      /* NULL: none */
    int                 format;         /* FW_WEBHOOK_FMT_* */
    const char         *prefix;         /* FMT_SINGLE: "sha256=", "v0=" */
    int                 encoding;       /* FMT_SINGLE: FW_WEBHOOK_HEX */
} fw_webhook_scheme_t;


/* the table entry of a named scheme (not FW_WEBHOOK_GENERIC), or NULL */
const fw_webhook_scheme_t *fw_webhook_scheme(int scheme);


typedef struct {
    size_t              nsigs;
    size_t              len[FW_WEBHOOK_MAX_SIGS];
    u_char              sig[FW_WEBHOOK_MAX_SIGS][FW_WEBHOOK_MAC_MAX];

    /* Stripe only: the "t" value, as sent (it is signed as is) */
    const u_char       *ts;
    size_t              ts_len;
} fw_webhook_sigs_t;


typedef struct {
    void               *ctx;         /* EVP_MAC_CTX */
    int                 digest;
} fw_webhook_mac_t;


/*
 * Stripe-Signature: "t=<unix>,v1=<hex>[,v1=<hex>...]", other keys (v0)
 * ignored.  A pair without "=", an empty or repeated "t", a "v1" that is
 * not hex, or more than FW_WEBHOOK_MAX_SIGS "v1" entries: MALFORMED.  No
 * "v1": MISSING.  "t" must be digits (checked with fw_webhook_parse_ts).
 */
int fw_webhook_parse_stripe(const u_char *p, size_t len,
    fw_webhook_sigs_t *out);

/*
 * webhook-signature: space-separated "<version>,<base64>" entries; entries
 * whose version is not "v1" are skipped.  An entry without ",", invalid
 * base64, or too many entries: MALFORMED.  No "v1" entry: MISSING.
 */
int fw_webhook_parse_standard(const u_char *p, size_t len,
    fw_webhook_sigs_t *out);

/*
 * One signature after a fixed prefix ("sha256=" for GitHub, "v0=" for
 * Slack, configurable for the generic scheme), hex or base64.  A wrong
 * prefix or encoding: MALFORMED.
 */
int fw_webhook_parse_single(const u_char *p, size_t len,
    const u_char *prefix, size_t prefix_len, int encoding,
    fw_webhook_sigs_t *out);

/* a Unix timestamp: 1 to 10 digits, nothing else; else MALFORMED */
int fw_webhook_parse_ts(const u_char *p, size_t len,
    unsigned long long *ts);

/* a webhook-id: 1 to FW_WEBHOOK_ID_MAX visible ASCII characters */
int fw_webhook_check_id(const u_char *p, size_t len);

/*
 * OK if |now - ts| <= tolerance (both directions, the edges included),
 * else EXPIRED.
 */
int fw_webhook_check_window(unsigned long long ts, unsigned long long now,
    unsigned long long tolerance);

/*
 * The bytes signed before the body:
 *   Stripe    "<ts>."
 *   Standard  "<id>.<ts>."
 *   Slack     "v0:<ts>:"
 *   GitHub    ""
 * With out NULL returns the length needed; else writes it (no NUL).
 */
size_t fw_webhook_signed_prefix(int scheme, const u_char *id, size_t id_len,
    const u_char *ts, size_t ts_len, u_char *out);

/*
 * The key bytes of a secret as read from its file: trailing CR and LF
 * removed; for Standard Webhooks an optional "whsec_" prefix is removed
 * and the rest base64-decoded.  "out" must hold "len" bytes.  MALFORMED
 * if nothing is left or the base64 is invalid.
 */
int fw_webhook_secret_key(int scheme, const u_char *in, size_t len,
    u_char *out, size_t *out_len);

/* the length of an id made by fw_webhook_new_id ("msg_" + 22 chars) */
#define FW_WEBHOOK_NEW_ID_LEN  26

/* a fresh random message id, "msg_" and 16 random bytes in base64url */
int fw_webhook_new_id(u_char *out);

/* the MAC length of a digest (32 or 64) */
size_t fw_webhook_mac_size(int digest);

/* HMAC, incremental; every function returns FW_WEBHOOK_OK or FAILED */
int fw_webhook_mac_init(fw_webhook_mac_t *m, int digest, const u_char *key,
    size_t key_len);
int fw_webhook_mac_dup(fw_webhook_mac_t *dst, const fw_webhook_mac_t *src);
/* a used context back to its keyed state (for reuse) */
int fw_webhook_mac_reset(fw_webhook_mac_t *m);
int fw_webhook_mac_update(fw_webhook_mac_t *m, const u_char *p, size_t len);
int fw_webhook_mac_final(fw_webhook_mac_t *m, u_char *out, size_t *out_len);
void fw_webhook_mac_free(fw_webhook_mac_t *m);
/* at process exit: drops the HMAC algorithm fetched once (idempotent) */
void fw_webhook_mac_cleanup(void);

/*
 * OK if any candidate equals the MAC (constant time per candidate, with a
 * length check), else INVALID.  "which" (may be NULL) gets its index.
 */
int fw_webhook_match(const fw_webhook_sigs_t *sigs, const u_char *mac,
    size_t mac_len, size_t *which);


#pragma GCC visibility pop


#endif /* _FW_WEBHOOK_H_INCLUDED_ */
