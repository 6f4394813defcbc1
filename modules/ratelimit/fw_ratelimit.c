/*
 * fhirwall rate limit: the plain-C core (decision arithmetic, the Redis
 * script and its reply, the RateLimit header fields).
 */


#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "fw_codec.h"
#include "fw_ratelimit.h"


static size_t fw_ratelimit_fmt(u_char *buf, size_t size,
    const fw_ratelimit_hdr_t *h, size_t n, int state);
static int fw_ratelimit_reply_int(const redisReply *r, uint64_t max,
    uint64_t *out);


/*
 * The integer test below is the one fw_ratelimit_fits() makes.  Hash
 * fields are window numbers (now_ms / window).  The first admitted request
 * of a window (HINCRBY returns its own cost) removes the fields older than
 * the previous window and makes the key expire at the end of the next
 * window, when this window's count stops weighing; later requests of the
 * window need neither (three calls per decision: TIME, HMGET, HINCRBY).
 */

const char  fw_ratelimit_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local out = {1}\n"
    "local idx = {}\n"
    "for i = 1, #KEYS do\n"
    "  local lim = tonumber(ARGV[3 * i - 2])\n"
    "  local win = tonumber(ARGV[3 * i - 1])\n"
    "  local cost = tonumber(ARGV[3 * i])\n"
    "  local x = math.floor(now / win)\n"
    "  local e = now - x * win\n"
    "  local v = redis.call('HMGET', KEYS[i], string.format('%d', x),\n"
    "                       string.format('%d', x - 1))\n"
    "  local c = tonumber(v[1]) or 0\n"
    "  local p = tonumber(v[2]) or 0\n"
    "  if (c + cost) * win + p * (win - e) > lim * win then\n"
    "    out[1] = 0\n"
    "  end\n"
    "  idx[i] = x\n"
    "  out[#out + 1] = c\n"
    "  out[#out + 1] = p\n"
    "  out[#out + 1] = e\n"
    "end\n"
    "if out[1] == 1 then\n"
    "  for i = 1, #KEYS do\n"
    "    local win = tonumber(ARGV[3 * i - 1])\n"
    "    local cost = tonumber(ARGV[3 * i])\n"
    "    local f = string.format('%d', idx[i])\n"
    "    if cost > 0 and redis.call('HINCRBY', KEYS[i], f, cost) == cost\n"
    "    then\n"
    "      local keep = string.format('%d', idx[i] - 1)\n"
    "      if redis.call('HLEN', KEYS[i]) > 2 then\n"
    "        for _, k in ipairs(redis.call('HKEYS', KEYS[i])) do\n"
    "          if k ~= f and k ~= keep then\n"
    "            redis.call('HDEL', KEYS[i], k)\n"
    "          end\n"
    "        end\n"
    "      end\n"
    "      redis.call('PEXPIRE', KEYS[i],\n"
    "                 2 * win - out[3 * i + 1] + 1000)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";


void
fw_ratelimit_script_sha1(char *out)
{
    unsigned char  md[SHA_DIGEST_LENGTH];

    SHA1((const unsigned char *) fw_ratelimit_script,
         sizeof(fw_ratelimit_script) - 1, md);

    out[fw_hex_encode(md, SHA_DIGEST_LENGTH, (u_char *) out)] = '\0';
}


int
fw_ratelimit_fits(const fw_ratelimit_window_t *w)
{
    uint64_t  used;

    if (w->cost > w->limit || w->elapsed >= w->window) {
        return 0;
    }

    used = (w->curr + w->cost) * w->window
           + w->prev * (w->window - w->elapsed);

    return used <= w->limit * w->window;
}


void
fw_ratelimit_eval(const fw_ratelimit_window_t *w, int admitted,
    fw_ratelimit_result_t *res)
{
    uint64_t               cap, used, a, e, win, el, cost, curr, prev;
    fw_ratelimit_window_t  c;

    memset(res, 0, sizeof(fw_ratelimit_result_t));

    /*
     * counters above the limit (a lowered limit, foreign data) count as
     * the limit; a window position out of range as its last millisecond
     */
    c = *w;
    c.curr = w->curr > w->limit ? w->limit : w->curr;
    c.prev = w->prev > w->limit ? w->limit : w->prev;
    c.elapsed = w->elapsed < w->window ? w->elapsed : w->window - 1;

    win = c.window;
    el = c.elapsed;
    curr = c.curr;
    prev = c.prev;
    cost = c.cost;
    cap = c.limit * win;

    res->fits = fw_ratelimit_fits(&c) ? 1 : 0;
    res->reset_ms = win - el;

    used = curr * win + prev * (win - el);

    if (admitted) {
        used += (cost > c.limit ? c.limit : cost) * win;
    }

    res->remaining = used >= cap ? 0 : (cap - used) / win;

    if (res->fits) {
        return;
    }

    if (cost > c.limit) {
        res->never = 1;
        res->retry_ms = win;
        return;
    }

    if (curr + cost <= c.limit) {

        if (prev == 0) {
            res->retry_ms = 1;   /* cannot happen: it would fit */
            return;
        }

        /* in this window, once the previous one weighs little enough */
        a = (c.limit - curr - cost) * win / prev;
        e = a >= win ? el : win - a;
        res->retry_ms = e > el ? e - el : 1;
        return;
    }

    /* in the next window, where "curr" becomes the previous one */
    a = (c.limit - cost) * win / curr;
    e = a >= win ? 0 : win - a;
    res->retry_ms = win - el + e;
}


void
fw_ratelimit_slot_roll(fw_ratelimit_slot_t *s, uint64_t now_ms,
    fw_ratelimit_window_t *w)
{
    int64_t  idx;

    idx = (int64_t) (now_ms / w->window);

    if (idx == s->index + 1) {
        s->prev = s->curr;
        s->curr = 0;

    } else if (idx != s->index) {
        /* older than the previous window, or the clock went back */
        s->prev = 0;
        s->curr = 0;
    }

    s->index = idx;

    w->curr = s->curr;
    w->prev = s->prev;
    w->elapsed = now_ms - (uint64_t) idx * w->window;
}


uint64_t
fw_ratelimit_ms_to_s(uint64_t ms, uint64_t min)
{
    uint64_t  s;

    s = (ms + 999) / 1000;

    return s < min ? min : s;
}


static int
fw_ratelimit_reply_int(const redisReply *r, uint64_t max, uint64_t *out)
{
    if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < 0
        || (uint64_t) r->integer > max)
    {
        return -1;
    }

    *out = (uint64_t) r->integer;

    return 0;
}


int
fw_ratelimit_parse_reply(const redisReply *reply, fw_ratelimit_window_t *w,
    size_t n, int *admitted, const char **err, size_t *err_len)
{
    size_t    i;
    uint64_t  v;

    *err = NULL;
    *err_len = 0;

    if (reply == NULL) {
        *err = "no reply";
        *err_len = sizeof("no reply") - 1;
        return FW_RATELIMIT_REPLY_BAD;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        *err = reply->str ? reply->str : "";
        *err_len = reply->str ? reply->len : 0;

        if (*err_len >= 8 && memcmp(*err, "NOSCRIPT", 8) == 0) {
            return FW_RATELIMIT_REPLY_NOSCRIPT;
        }

        return FW_RATELIMIT_REPLY_ERROR;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->element == NULL
        || reply->elements != 1 + 3 * n)
    {
        *err = "unexpected reply shape";
        *err_len = sizeof("unexpected reply shape") - 1;
        return FW_RATELIMIT_REPLY_BAD;
    }

    if (fw_ratelimit_reply_int(reply->element[0], 1, &v) != 0) {
        goto bad;
    }

    *admitted = (int) v;

    for (i = 0; i < n; i++) {
        if (fw_ratelimit_reply_int(reply->element[1 + 3 * i],
                                   FW_RATELIMIT_MAX_LIMIT * 2, &w[i].curr)
            != 0
            || fw_ratelimit_reply_int(reply->element[2 + 3 * i],
                                      FW_RATELIMIT_MAX_LIMIT * 2, &w[i].prev)
               != 0
            || fw_ratelimit_reply_int(reply->element[3 + 3 * i],
                                      w[i].window - 1, &w[i].elapsed)
               != 0)
        {
            goto bad;
        }
    }

    return FW_RATELIMIT_REPLY_OK;

bad:

    *err = "unexpected value in reply";
    *err_len = sizeof("unexpected value in reply") - 1;

    return FW_RATELIMIT_REPLY_BAD;
}


void
fw_ratelimit_hash_key(const u_char *key, size_t len, u_char *out)
{
    unsigned char  md[SHA_DIGEST_LENGTH];

    SHA1(key, len, md);

    out[0] = '#';
    fw_hex_encode(md, SHA_DIGEST_LENGTH, out + 1);
}


int
fw_ratelimit_valid_name(const u_char *name, size_t len)
{
    size_t  i;
    u_char  c;

    if (len == 0 || len > FW_RATELIMIT_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Structured Field list of strings with integer parameters; names are
 * tokens checked at configuration time, escaped anyway.
 */

static size_t
fw_ratelimit_fmt(u_char *buf, size_t size, const fw_ratelimit_hdr_t *h,
    size_t n, int state)
{
    int     k;
    char    num[64];
    size_t  i, j, len;

    len = 0;

#define FW_PUT(s, l)                                                         \
    do {                                                                     \
        if (buf) {                                                           \
            if (len + (l) > size) {                                          \
                return 0;                                                    \
            }                                                                \
            memcpy(buf + len, (s), (l));                                     \
        }                                                                    \
        len += (l);                                                          \
    } while (0)

    for (i = 0; i < n; i++) {
        if (i) {
            FW_PUT(", ", 2);
        }

        FW_PUT("\"", 1);

        for (j = 0; j < h[i].name_len; j++) {
            if (h[i].name[j] == '"' || h[i].name[j] == '\\') {
                FW_PUT("\\", 1);
            }

            FW_PUT(&h[i].name[j], 1);
        }

        if (state) {
            k = snprintf(num, sizeof(num), "\";r=%llu;t=%llu",
                         (unsigned long long) h[i].remaining,
                         (unsigned long long) h[i].reset_s);
        } else {
            k = snprintf(num, sizeof(num), "\";q=%llu;w=%llu",
                         (unsigned long long) h[i].limit,
                         (unsigned long long) h[i].window_s);
        }

        FW_PUT(num, (size_t) k);
    }

#undef FW_PUT

    return len;
}


size_t
fw_ratelimit_fmt_policy(u_char *buf, size_t size, const fw_ratelimit_hdr_t *h,
    size_t n)
{
    return fw_ratelimit_fmt(buf, size, h, n, 0);
}


size_t
fw_ratelimit_fmt_state(u_char *buf, size_t size, const fw_ratelimit_hdr_t *h,
    size_t n)
{
    return fw_ratelimit_fmt(buf, size, h, n, 1);
}
