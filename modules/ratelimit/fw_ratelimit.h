/*
 * fhirwall rate limit: the plain-C core (no nginx headers).
 *
 * Sliding-window counter.  A policy allows "limit" units per "window"
 * milliseconds.  Time is cut into fixed windows of that length; each key
 * keeps the units admitted in the current window ("curr") and in the one
 * before ("prev").  At "elapsed" milliseconds into the current window the
 * estimated usage is
 *
 *     prev * (window - elapsed) / window + curr
 *
 * and a request of "cost" units is admitted if and only if
 *
 *     (curr + cost) * window + prev * (window - elapsed) <= limit * window
 *
 * (integers only: the same test runs in the Redis Lua script and in the
 * shared-memory fallback, so both agree to the unit).  Only admitted
 * requests are counted.
 */

#ifndef _FW_RATELIMIT_H_INCLUDED_
#define _FW_RATELIMIT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>


#pragma GCC visibility push(hidden)


/* limit * window_ms must stay exact in a Lua double (2^53) */
#define FW_RATELIMIT_MAX_PRODUCT   (1ULL << 52)
#define FW_RATELIMIT_MAX_LIMIT     1000000000ULL
#define FW_RATELIMIT_MAX_WINDOW    (86400ULL * 1000)

#define FW_RATELIMIT_NAME_MAX      64


typedef struct {
    uint64_t  limit;       /* units per window */
    uint64_t  window;      /* milliseconds */
    uint64_t  cost;        /* units this request takes */
    uint64_t  curr;        /* units admitted in the current window */
    uint64_t  prev;        /* units admitted in the previous window */
    uint64_t  elapsed;     /* milliseconds into the current window */
} fw_ratelimit_window_t;


typedef struct {
    unsigned  fits:1;      /* this policy alone admits the request */
    unsigned  never:1;     /* cost > limit: no wait helps */
    uint64_t  remaining;   /* units left (after this request if admitted) */
    uint64_t  reset_ms;    /* until the current window ends */
    uint64_t  retry_ms;    /* until the request would fit (0 if it fits) */
} fw_ratelimit_result_t;


/* the counters' state as the shared-memory limiter stores it */
typedef struct {
    int64_t   index;       /* now_ms / window of "curr" */
    uint64_t  curr;
    uint64_t  prev;
} fw_ratelimit_slot_t;


/* does the request fit in this policy? */
int fw_ratelimit_fits(const fw_ratelimit_window_t *w);

/*
 * Fills "res" for one policy; "admitted" tells whether the decision (over
 * every policy of the location) admitted the request, in which case its
 * cost was counted and "remaining" is what is left after it.
 */
void fw_ratelimit_eval(const fw_ratelimit_window_t *w, int admitted,
    fw_ratelimit_result_t *res);

/*
 * Brings a stored slot to the window of "now_ms" and fills w->curr,
 * w->prev and w->elapsed (w->window must be set).
 */
void fw_ratelimit_slot_roll(fw_ratelimit_slot_t *s, uint64_t now_ms,
    fw_ratelimit_window_t *w);

/* seconds, rounded up, at least "min" */
uint64_t fw_ratelimit_ms_to_s(uint64_t ms, uint64_t min);


/* ---------------------------------------------------------------- Redis */

/*
 * The decision script.  KEYS: one hash per policy and key.  ARGV: limit,
 * window (ms) and cost for each key, in order.  Returns an array of
 * integers: admitted (1 or 0), then curr, prev and elapsed (before this
 * request) for each key.  Admits only if every policy fits, and then adds
 * the cost to every key.
 */
extern const char  fw_ratelimit_script[];

/* the script's SHA1 in lower-case hex, NUL-terminated (41 bytes) */
void fw_ratelimit_script_sha1(char *out);

#define FW_RATELIMIT_REPLY_OK        0
#define FW_RATELIMIT_REPLY_NOSCRIPT  1   /* the script cache lost it */
#define FW_RATELIMIT_REPLY_ERROR     2   /* an error reply: see *err */
#define FW_RATELIMIT_REPLY_BAD       3   /* unexpected shape or values */

/*
 * Reads the script's reply for "n" policies whose limit, window and cost
 * are set in w[]; fills curr, prev and elapsed of each and *admitted.  On
 * FW_RATELIMIT_REPLY_ERROR *err and *err_len point to the error text (in
 * the reply), on _BAD to a static description.
 */
int fw_ratelimit_parse_reply(const redisReply *reply, fw_ratelimit_window_t *w,
    size_t n, int *admitted, const char **err, size_t *err_len);


/* -------------------------------------------------------------- headers */

typedef struct {
    const u_char  *name;
    size_t         name_len;
    uint64_t       limit;
    uint64_t       window_s;
    uint64_t       remaining;
    uint64_t       reset_s;
} fw_ratelimit_hdr_t;

/*
 * RateLimit-Policy: "name";q=LIMIT;w=WINDOW, ...
 * With buf NULL returns the length needed; otherwise writes at most size
 * bytes and returns the length written (0 if size was too small).
 */
size_t fw_ratelimit_fmt_policy(u_char *buf, size_t size,
    const fw_ratelimit_hdr_t *h, size_t n);

/* RateLimit: "name";r=REMAINING;t=RESET, ... (same contract) */
size_t fw_ratelimit_fmt_state(u_char *buf, size_t size,
    const fw_ratelimit_hdr_t *h, size_t n);

/*
 * Keys longer than this are replaced by "#" and their SHA1 in hex, so a
 * client cannot grow Redis or shared memory (nor dodge a limit) with a
 * long header value.
 */
#define FW_RATELIMIT_KEY_MAX       128
#define FW_RATELIMIT_KEY_HASHED    41

/* writes the 41-byte hashed form of a long key to out */
void fw_ratelimit_hash_key(const u_char *key, size_t len, u_char *out);

/* a policy name is a token: [A-Za-z0-9_.-], 1 to 64 bytes */
int fw_ratelimit_valid_name(const u_char *name, size_t len);


#pragma GCC visibility pop


#endif /* _FW_RATELIMIT_H_INCLUDED_ */
