/*
 * libFuzzer harness: the rate-limit core on arbitrary script replies.
 *
 * Input: byte 0 = number of policies (1-8); then, per policy, limit,
 * window and cost (4 bytes each, big-endian, reduced into range); then the
 * reply: a type byte (0 integer, 1 error, 2 array, 3 string, 4 nil) and 8
 * bytes of integer per element, at most 1 + 3 * policies + 2 elements.
 * Whatever the reply, parsing must not crash, and an accepted reply must
 * give coherent decisions and well-formed header fields.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_ratelimit.h"


static uint64_t
be(const uint8_t *p, size_t n)
{
    uint64_t  v;
    size_t    i;

    v = 0;
    for (i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }

    return v;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    admitted, rc;
    char                   errstr[] = "NOSCRIPT x";
    size_t                 n, i, k, len, elen;
    u_char                 buf[2048];
    const char            *err;
    redisReply             top, el[32], *elp[32];
    fw_ratelimit_hdr_t     h[8];
    fw_ratelimit_window_t  w[8];
    fw_ratelimit_result_t  r;

    if (size < 1) {
        return 0;
    }

    n = (size_t) (data[0] % 8) + 1;
    data++;
    size--;

    if (size < 12 * n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].limit = be(data, 4) % FW_RATELIMIT_MAX_LIMIT + 1;
        w[i].window = (be(data + 4, 4) % 86400 + 1) * 1000;
        w[i].cost = be(data + 8, 4) % (w[i].limit + 2);
        data += 12;
        size -= 12;
    }

    memset(&top, 0, sizeof(top));
    top.type = REDIS_REPLY_ARRAY;
    top.element = elp;

    for (k = 0; size >= 9 && k < 1 + 3 * n + 2 && k < 32; k++) {
        memset(&el[k], 0, sizeof(redisReply));
        elp[k] = &el[k];

        switch (data[0] % 5) {
        case 0:
            el[k].type = REDIS_REPLY_INTEGER;
            el[k].integer = (long long) be(data + 1, 8);
            break;
        case 1:
            el[k].type = REDIS_REPLY_ERROR;
            el[k].str = errstr;
            el[k].len = sizeof(errstr) - 1;
            break;
        case 2:
            el[k].type = REDIS_REPLY_ARRAY;
            break;
        case 3:
            el[k].type = REDIS_REPLY_STRING;
            el[k].str = errstr;
            el[k].len = 3;
            break;
        default:
            elp[k] = NULL;
        }

        data += 9;
        size -= 9;
    }

    top.elements = k;

    rc = fw_ratelimit_parse_reply(&top, w, n, &admitted, &err, &elen);

    if (k == 1 && elp[0] != NULL) {
        /* the reply itself may be a single error */
        (void) fw_ratelimit_parse_reply(elp[0], w, n, &admitted, &err,
                                        &elen);
    }

    if (rc != FW_RATELIMIT_REPLY_OK) {
        return 0;
    }

    if (admitted != 0 && admitted != 1) {
        abort();
    }

    for (i = 0; i < n; i++) {
        if (w[i].elapsed >= w[i].window) {
            abort();
        }

        fw_ratelimit_eval(&w[i], admitted, &r);

        if (!r.fits && r.retry_ms == 0) {
            abort();
        }

        if (r.remaining > w[i].limit || r.reset_ms > w[i].window) {
            abort();
        }

        h[i].name = (const u_char *) "p";
        h[i].name_len = 1;
        h[i].limit = w[i].limit;
        h[i].window_s = w[i].window / 1000;
        h[i].remaining = r.remaining;
        h[i].reset_s = fw_ratelimit_ms_to_s(r.reset_ms, 1);
    }

    len = fw_ratelimit_fmt_state(NULL, 0, h, n);

    if (len > sizeof(buf)
        || fw_ratelimit_fmt_state(buf, sizeof(buf), h, n) != len
        || fw_ratelimit_fmt_policy(buf, sizeof(buf), h, n)
           != fw_ratelimit_fmt_policy(NULL, 0, h, n))
    {
        abort();
    }

    return 0;
}
