/*
 * fhirwall webhook: signature header parsers, signed-content prefixes,
 * timestamp windows and HMAC (plain C, no nginx headers).
 */


#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "fw_codec.h"
#include "fw_webhook.h"


static int fw_webhook_add_sig(fw_webhook_sigs_t *out, const u_char *p,
    size_t len, int encoding);


static int
fw_webhook_add_sig(fw_webhook_sigs_t *out, const u_char *p, size_t len,
    int encoding)
{
    size_t  n;
    u_char  buf[FW_WEBHOOK_MAC_MAX + 8];

    if (out->nsigs == FW_WEBHOOK_MAX_SIGS || len == 0) {
        return FW_WEBHOOK_MALFORMED;
    }

    if (encoding == FW_WEBHOOK_HEX) {
        if (len > 2 * FW_WEBHOOK_MAC_MAX
            || fw_hex_decode(p, len, buf, &n) != FW_OK)
        {
            return FW_WEBHOOK_MALFORMED;
        }

    } else {
        if (len > fw_base64_encoded_len(FW_WEBHOOK_MAC_MAX)
            || fw_base64_decode(p, len, buf, &n) != FW_OK)
        {
            return FW_WEBHOOK_MALFORMED;
        }
    }

    if (n > FW_WEBHOOK_MAC_MAX) {
        return FW_WEBHOOK_MALFORMED;
    }

    memcpy(out->sig[out->nsigs], buf, n);
    out->len[out->nsigs] = n;
    out->nsigs++;

    return FW_WEBHOOK_OK;
}


int
fw_webhook_parse_stripe(const u_char *p, size_t len, fw_webhook_sigs_t *out)
{
    int            rc;
    size_t         klen, vlen;
    const u_char  *end, *item, *comma, *eq;

    memset(out, 0, sizeof(fw_webhook_sigs_t));

    if (len == 0) {
        return FW_WEBHOOK_MALFORMED;
    }

    end = p + len;
    item = p;

    for ( ;; ) {
        comma = memchr(item, ',', end - item);
        if (comma == NULL) {
            comma = end;
        }

        eq = memchr(item, '=', comma - item);
        if (eq == NULL) {
            return FW_WEBHOOK_MALFORMED;
        }

        klen = eq - item;
        vlen = comma - (eq + 1);

        if (klen == 1 && item[0] == 't') {
            if (out->ts != NULL || vlen == 0) {
                return FW_WEBHOOK_MALFORMED;
            }

            out->ts = eq + 1;
            out->ts_len = vlen;

        } else if (klen == 2 && item[0] == 'v' && item[1] == '1') {
            rc = fw_webhook_add_sig(out, eq + 1, vlen, FW_WEBHOOK_HEX);
            if (rc != FW_WEBHOOK_OK) {
                return rc;
            }
        }

        /* other keys (v0, future schemes) are ignored */

        if (comma == end) {
            break;
        }

        item = comma + 1;
    }

    if (out->ts == NULL) {
        return FW_WEBHOOK_MALFORMED;
    }

    if (out->nsigs == 0) {
        return FW_WEBHOOK_MISSING;
    }

    return FW_WEBHOOK_OK;
}


int
fw_webhook_parse_standard(const u_char *p, size_t len,
    fw_webhook_sigs_t *out)
{
    int            rc;
    const u_char  *end, *item, *sp, *comma;

    memset(out, 0, sizeof(fw_webhook_sigs_t));

    end = p + len;
    item = p;

    while (item < end) {
        sp = memchr(item, ' ', end - item);
        if (sp == NULL) {
            sp = end;
        }

        if (sp == item) {
            /* several spaces */
            item++;
            continue;
        }

        comma = memchr(item, ',', sp - item);
        if (comma == NULL) {
            return FW_WEBHOOK_MALFORMED;
        }

        if (comma - item == 2 && item[0] == 'v' && item[1] == '1') {
            rc = fw_webhook_add_sig(out, comma + 1, sp - (comma + 1),
                                    FW_WEBHOOK_BASE64);
            if (rc != FW_WEBHOOK_OK) {
                return rc;
            }
        }

        item = sp;
    }

    if (out->nsigs == 0) {
        return FW_WEBHOOK_MISSING;
    }

    return FW_WEBHOOK_OK;
}


int
fw_webhook_parse_single(const u_char *p, size_t len, const u_char *prefix,
    size_t prefix_len, int encoding, fw_webhook_sigs_t *out)
{
    memset(out, 0, sizeof(fw_webhook_sigs_t));

    if (len < prefix_len || memcmp(p, prefix, prefix_len) != 0) {
        return FW_WEBHOOK_MALFORMED;
    }

    return fw_webhook_add_sig(out, p + prefix_len, len - prefix_len,
                              encoding);
}


int
fw_webhook_parse_ts(const u_char *p, size_t len, unsigned long long *ts)
{
    if (len == 0 || len > 10
        || fw_parse_uint(p, len, FW_WEBHOOK_TS_MAX, ts) != FW_OK)
    {
        return FW_WEBHOOK_MALFORMED;
    }

    return FW_WEBHOOK_OK;
}


int
fw_webhook_check_id(const u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > FW_WEBHOOK_ID_MAX) {
        return FW_WEBHOOK_MALFORMED;
    }

    for (i = 0; i < len; i++) {
        if (p[i] <= 0x20 || p[i] >= 0x7f) {
            return FW_WEBHOOK_MALFORMED;
        }
    }

    return FW_WEBHOOK_OK;
}


int
fw_webhook_check_window(unsigned long long ts, unsigned long long now,
    unsigned long long tolerance)
{
    unsigned long long  d;

    d = (ts > now) ? ts - now : now - ts;

    return (d <= tolerance) ? FW_WEBHOOK_OK : FW_WEBHOOK_EXPIRED;
}


static const fw_webhook_scheme_t  fw_webhook_schemes[] = {
    { FW_WEBHOOK_STRIPE, "Stripe-Signature", NULL, NULL,
      FW_WEBHOOK_FMT_STRIPE, NULL, 0 },
    { FW_WEBHOOK_STANDARD, "webhook-signature", "webhook-timestamp",
      "webhook-id", FW_WEBHOOK_FMT_STANDARD, NULL, 0 },
    { FW_WEBHOOK_GITHUB, "X-Hub-Signature-256", NULL, NULL,
      FW_WEBHOOK_FMT_SINGLE, "sha256=", FW_WEBHOOK_HEX },
    { FW_WEBHOOK_SLACK, "X-Slack-Signature", "X-Slack-Request-Timestamp",
      NULL, FW_WEBHOOK_FMT_SINGLE, "v0=", FW_WEBHOOK_HEX }
};


const fw_webhook_scheme_t *
fw_webhook_scheme(int scheme)
{
    size_t  i;

    for (i = 0; i < sizeof(fw_webhook_schemes)
                    / sizeof(fw_webhook_schemes[0]); i++)
    {
        if (fw_webhook_schemes[i].scheme == scheme) {
            return &fw_webhook_schemes[i];
        }
    }

    return NULL;
}


size_t
fw_webhook_signed_prefix(int scheme, const u_char *id, size_t id_len,
    const u_char *ts, size_t ts_len, u_char *out)
{
    size_t  n;

    switch (scheme) {

    case FW_WEBHOOK_STRIPE:
        n = ts_len + 1;
        if (out) {
            memcpy(out, ts, ts_len);
            out[ts_len] = '.';
        }
        return n;

    case FW_WEBHOOK_STANDARD:
        n = id_len + 1 + ts_len + 1;
        if (out) {
            memcpy(out, id, id_len);
            out[id_len] = '.';
            memcpy(out + id_len + 1, ts, ts_len);
            out[id_len + 1 + ts_len] = '.';
        }
        return n;

    case FW_WEBHOOK_SLACK:
        n = 3 + ts_len + 1;
        if (out) {
            memcpy(out, "v0:", 3);
            memcpy(out + 3, ts, ts_len);
            out[3 + ts_len] = ':';
        }
        return n;

    default:
        return 0;
    }
}


int
fw_webhook_secret_key(int scheme, const u_char *in, size_t len, u_char *out,
    size_t *out_len)
{
    while (len && (in[len - 1] == '\n' || in[len - 1] == '\r')) {
        len--;
    }

    if (scheme == FW_WEBHOOK_STANDARD) {
        if (len > 6 && memcmp(in, "whsec_", 6) == 0) {
            in += 6;
            len -= 6;
        }

        if (len == 0 || fw_base64_decode(in, len, out, out_len) != FW_OK
            || *out_len == 0)
        {
            return FW_WEBHOOK_MALFORMED;
        }

        return FW_WEBHOOK_OK;
    }

    if (len == 0) {
        return FW_WEBHOOK_MALFORMED;
    }

    memcpy(out, in, len);
    *out_len = len;

    return FW_WEBHOOK_OK;
}


int
fw_webhook_new_id(u_char *out)
{
    u_char  rnd[16];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return FW_WEBHOOK_FAILED;
    }

    memcpy(out, "msg_", 4);
    fw_base64url_encode(rnd, sizeof(rnd), out + 4);

    return FW_WEBHOOK_OK;
}


size_t
fw_webhook_mac_size(int digest)
{
    return (digest == FW_WEBHOOK_SHA512) ? 64 : 32;
}


/* the algorithm, fetched once per process (a fetch walks the store) */
static EVP_MAC  *fw_webhook_hmac;


void
fw_webhook_mac_cleanup(void)
{
    /* keyed contexts hold their own references */
    EVP_MAC_free(fw_webhook_hmac);
    fw_webhook_hmac = NULL;
}


int
fw_webhook_mac_init(fw_webhook_mac_t *m, int digest, const u_char *key,
    size_t key_len)
{
    EVP_MAC_CTX     *ctx;
    OSSL_PARAM       params[2];
    static u_char    empty;
    EVP_MAC         *mac;

    m->ctx = NULL;
    m->digest = digest;

    /*
     * keyed contexts are made at configuration time and duplicated; the
     * algorithm is fetched once per process (a fetch walks the provider
     * store), kept for the process' life
     */

    if (fw_webhook_hmac == NULL) {
        fw_webhook_hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
        if (fw_webhook_hmac == NULL) {
            return FW_WEBHOOK_FAILED;
        }
    }

    mac = fw_webhook_hmac;

    ctx = EVP_MAC_CTX_new(mac);

    if (ctx == NULL) {
        return FW_WEBHOOK_FAILED;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                    (char *) ((digest == FW_WEBHOOK_SHA512) ? "SHA512"
                                                            : "SHA256"), 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, key_len ? key : &empty, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return FW_WEBHOOK_FAILED;
    }

    m->ctx = ctx;

    return FW_WEBHOOK_OK;
}


int
fw_webhook_mac_dup(fw_webhook_mac_t *dst, const fw_webhook_mac_t *src)
{
    dst->digest = src->digest;
    dst->ctx = EVP_MAC_CTX_dup(src->ctx);

    return dst->ctx ? FW_WEBHOOK_OK : FW_WEBHOOK_FAILED;
}


int
fw_webhook_mac_reset(fw_webhook_mac_t *m)
{
    /*
     * back to the keyed state, whatever was hashed (HMAC keeps the keyed
     * inner and outer states: nothing is re-keyed)
     */

    return EVP_MAC_init(m->ctx, NULL, 0, NULL) == 1 ? FW_WEBHOOK_OK
                                                   : FW_WEBHOOK_FAILED;
}


int
fw_webhook_mac_update(fw_webhook_mac_t *m, const u_char *p, size_t len)
{
    if (len == 0) {
        return FW_WEBHOOK_OK;
    }

    return EVP_MAC_update(m->ctx, p, len) == 1 ? FW_WEBHOOK_OK
                                               : FW_WEBHOOK_FAILED;
}


int
fw_webhook_mac_final(fw_webhook_mac_t *m, u_char *out, size_t *out_len)
{
    if (EVP_MAC_final(m->ctx, out, out_len, FW_WEBHOOK_MAC_MAX) != 1) {
        return FW_WEBHOOK_FAILED;
    }

    return FW_WEBHOOK_OK;
}


void
fw_webhook_mac_free(fw_webhook_mac_t *m)
{
    if (m->ctx) {
        EVP_MAC_CTX_free(m->ctx);
        m->ctx = NULL;
    }
}


int
fw_webhook_match(const fw_webhook_sigs_t *sigs, const u_char *mac,
    size_t mac_len, size_t *which)
{
    int     found;
    size_t  i, at;

    found = 0;
    at = 0;

    /* every candidate is compared, so the time does not tell which */

    for (i = 0; i < sigs->nsigs; i++) {
        if (fw_ct_equal(sigs->sig[i], sigs->len[i], mac, mac_len)
            && !found)
        {
            found = 1;
            at = i;
        }
    }

    if (!found) {
        return FW_WEBHOOK_INVALID;
    }

    if (which) {
        *which = at;
    }

    return FW_WEBHOOK_OK;
}
