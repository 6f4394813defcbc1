/*
 * libFuzzer harness for the webhook signature-header parsers: every
 * parser gets the same input; the results must keep their invariants.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_codec.h"
#include "fw_webhook.h"


static void
check(int rc, const fw_webhook_sigs_t *s, const uint8_t *data, size_t size)
{
    size_t  i;

    if (rc != FW_WEBHOOK_OK && rc != FW_WEBHOOK_MALFORMED
        && rc != FW_WEBHOOK_MISSING)
    {
        abort();
    }

    if (s->nsigs > FW_WEBHOOK_MAX_SIGS) {
        abort();
    }

    if (rc == FW_WEBHOOK_OK && s->nsigs == 0) {
        abort();
    }

    for (i = 0; i < s->nsigs; i++) {
        if (s->len[i] == 0 || s->len[i] > FW_WEBHOOK_MAC_MAX) {
            abort();
        }
    }

    if (s->ts && (s->ts < data || s->ts + s->ts_len > data + size)) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    u_char             *copy, out[128];
    size_t              n;
    unsigned long long  ts;
    fw_webhook_sigs_t   sigs;

    /* an exact-size copy, so that ASan sees any read past the end */

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);

    rc = fw_webhook_parse_stripe(copy, size, &sigs);
    check(rc, &sigs, copy, size);

    if (rc == FW_WEBHOOK_OK) {
        rc = fw_webhook_parse_ts(sigs.ts, sigs.ts_len, &ts);
        if (rc == FW_WEBHOOK_OK && ts > FW_WEBHOOK_TS_MAX) {
            abort();
        }

        n = fw_webhook_signed_prefix(FW_WEBHOOK_STRIPE, NULL, 0, sigs.ts,
                                     sigs.ts_len, NULL);
        if (n != sigs.ts_len + 1) {
            abort();
        }
    }

    rc = fw_webhook_parse_standard(copy, size, &sigs);
    check(rc, &sigs, copy, size);

    rc = fw_webhook_parse_single(copy, size, (u_char *) "sha256=", 7,
                                 FW_WEBHOOK_HEX, &sigs);
    check(rc, &sigs, copy, size);

    rc = fw_webhook_parse_single(copy, size, (u_char *) "v0=", 3,
                                 FW_WEBHOOK_HEX, &sigs);
    check(rc, &sigs, copy, size);

    rc = fw_webhook_parse_single(copy, size, (u_char *) "", 0,
                                 FW_WEBHOOK_BASE64, &sigs);
    check(rc, &sigs, copy, size);

    rc = fw_webhook_parse_ts(copy, size, &ts);
    if (rc == FW_WEBHOOK_OK && ts > FW_WEBHOOK_TS_MAX) {
        abort();
    }

    (void) fw_webhook_check_id(copy, size);

    if (size <= sizeof(out)) {
        (void) fw_webhook_secret_key(FW_WEBHOOK_STANDARD, copy, size, out,
                                     &n);
        if (fw_webhook_secret_key(FW_WEBHOOK_STRIPE, copy, size, out, &n)
            == FW_WEBHOOK_OK && n > size)
        {
            abort();
        }
    }

    free(copy);

    return 0;
}
