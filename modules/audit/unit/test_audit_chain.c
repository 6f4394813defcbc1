/*
 * cmocka tests of the HMAC chain and the verifier: round trips in both
 * formats, epochs (each record bound to its epoch's key), every kind of
 * tampering named by file and line, lost records, the parser.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fw_codec.h"
#include "fw_audit.h"


#define SECRET      "0123456789abcdef0123456789abcdef"
#define SECRET_LEN  (sizeof(SECRET) - 1)
#define NLINES      64


typedef struct {
    char      *line[NLINES];
    size_t     len[NLINES];
    int        n;
} log_t;


typedef struct {
    char      out[8192];
    size_t    used;
} reports_t;


/* the last record add() sealed and did not write (commit 0) */
static char    lost_line[8192];
static size_t  lost_len;


static void
report(void *data, int level, const char *file, uint64_t line,
    const char *msg)
{
    reports_t  *r = data;

    r->used += snprintf(r->out + r->used, sizeof(r->out) - r->used,
                        "%s:%llu: %s: %s\n", file ? file : "-",
                        (unsigned long long) line,
                        level == FW_AUDIT_V_ERROR ? "error" : "warning",
                        msg);
    if (r->used >= sizeof(r->out)) {
        r->used = sizeof(r->out) - 1;
    }
}


static void
add(log_t *log, fw_audit_chain_t *c, int format, int kind, int64_t now,
    const char *user, int commit)
{
    u_char            buf[8192];
    size_t            len;
    fw_audit_event_t  ev;

    if (kind == FW_AUDIT_KIND_REQUEST) {
        memset(&ev, 0, sizeof(ev));
        ev.v[FW_AUDIT_F_USER].data = (const u_char *) user;
        ev.v[FW_AUDIT_F_USER].len = strlen(user);
        ev.v[FW_AUDIT_F_STATUS].data = (const u_char *) "200";
        ev.v[FW_AUDIT_F_STATUS].len = 3;
        ev.time_ms = now;
        len = fw_audit_build(buf, sizeof(buf),
                             fw_audit_seal_len(format, 64), format, &ev);
    } else {
        len = fw_audit_build_lifecycle(buf, sizeof(buf), format, kind, now,
                                       (u_char *) "gw", 2,
                                       (u_char *) "chain-1", 7);
    }

    assert_true(len > 0);
    len = fw_audit_chain_seal(c, buf, len, sizeof(buf), format, kind, now);
    assert_true(len > 0);
    assert_int_equal(buf[len - 1], '\n');
    assert_null(memchr(buf, '\n', len - 1));

    if (!commit) {
        memcpy(lost_line, buf, len - 1);
        lost_len = len - 1;
        fw_audit_chain_lost(c, 1);
        return;
    }

    fw_audit_chain_commit(c);

    assert_true(log->n < NLINES);
    log->line[log->n] = malloc(len);
    memcpy(log->line[log->n], buf, len - 1);
    log->len[log->n] = len - 1;
    log->n++;
}


static void
log_free(log_t *log)
{
    int  i;

    for (i = 0; i < log->n; i++) {
        free(log->line[i]);
    }

    log->n = 0;
}


/* a chain of start, n requests (at one epoch a record) and end */
static fw_audit_chain_t *
make_log(log_t *log, int format, int n, int end)
{
    int                i;
    char               user[32];
    fw_audit_chain_t  *c;

    memset(log, 0, sizeof(*log));

    c = fw_audit_chain_create((u_char *) SECRET, SECRET_LEN,
                              (u_char *) "gw-1-1000-abcd", 14, 1000, 1000);
    assert_non_null(c);

    add(log, c, format, FW_AUDIT_KIND_START, 1000, NULL, 1);

    for (i = 0; i < n; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        add(log, c, format, FW_AUDIT_KIND_REQUEST, 1000 + i * 1000, user, 1);
    }

    if (end) {
        add(log, c, format, FW_AUDIT_KIND_END, 1000 + n * 1000, NULL, 1);
    }

    return c;
}


static uint64_t
verify(log_t *log, int allow_open, reports_t *r, uint64_t *warnings)
{
    int                   i;
    uint64_t              records, chains, w, errors;
    fw_audit_verifier_t  *v;

    memset(r, 0, sizeof(*r));

    v = fw_audit_verifier_create((u_char *) SECRET, SECRET_LEN, 100000,
                                 allow_open, report, r);
    assert_non_null(v);

    for (i = 0; i < log->n; i++) {
        if (log->line[i]) {
            fw_audit_verifier_add(v, "x.log", i + 1, (u_char *) log->line[i],
                                  log->len[i]);
        }
    }

    errors = fw_audit_verifier_finish(v, &records, &chains, &w);
    fw_audit_verifier_destroy(v);

    if (warnings) {
        *warnings = w;
    }

    return errors;
}


static void
test_round_trip(void **state)
{
    int                format;
    log_t              log;
    uint64_t           w;
    reports_t          r;
    fw_audit_chain_t  *c;

    for (format = FW_AUDIT_JSONL; format <= FW_AUDIT_FHIR; format++) {
        c = make_log(&log, format, 10, 1);
        assert_int_equal(fw_audit_chain_seq(c), 12);
        assert_int_equal(fw_audit_chain_epoch(c), 10);
        fw_audit_chain_destroy(c);

        assert_int_equal(verify(&log, 0, &r, &w), 0);
        assert_int_equal(w, 0);
        log_free(&log);
    }
}


static void
test_edit(void **state)
{
    log_t              log;
    char              *p;
    reports_t          r;

    fw_audit_chain_destroy(make_log(&log, FW_AUDIT_JSONL, 5, 1));

    p = strstr(log.line[3], "user2");
    assert_non_null(p);
    p[4] = '9';

    assert_true(verify(&log, 0, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:4: error: chain gw-1-1000-abcd "
                                  "seq 3: record modified"));
    log_free(&log);
}


static void
test_delete_reorder_duplicate(void **state)
{
    char      *tmp;
    size_t     tl;
    log_t      log;
    reports_t  r;

    fw_audit_chain_destroy(make_log(&log, FW_AUDIT_FHIR, 6, 1));

    /* delete line 4 (seq 3) */
    free(log.line[3]);
    log.line[3] = NULL;
    assert_true(verify(&log, 0, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:5: error: chain gw-1-1000-abcd: "
                                  "seq 3..3 missing"));
    log_free(&log);

    /* swap lines 3 and 4 */
    fw_audit_chain_destroy(make_log(&log, FW_AUDIT_FHIR, 6, 1));
    tmp = log.line[2]; tl = log.len[2];
    log.line[2] = log.line[3]; log.len[2] = log.len[3];
    log.line[3] = tmp; log.len[3] = tl;
    assert_true(verify(&log, 0, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:4: error: chain gw-1-1000-abcd "
                                  "seq 2: out of order"));
    log_free(&log);

    /* line 2 again at the end */
    fw_audit_chain_destroy(make_log(&log, FW_AUDIT_FHIR, 6, 1));
    log.line[log.n] = malloc(log.len[1]);
    memcpy(log.line[log.n], log.line[1], log.len[1]);
    log.len[log.n] = log.len[1];
    log.n++;
    assert_true(verify(&log, 0, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "seq 1: duplicate of x.log:2"));
    log_free(&log);
}


static void
test_partial(void **state)
{
    int                   i;
    log_t                 log;
    reports_t             r;
    uint64_t              records, chains, w;
    fw_audit_verifier_t  *v;

    /* only the newest file: lines 4.. of a chain */
    fw_audit_chain_destroy(make_log(&log, FW_AUDIT_JSONL, 6, 1));
    memset(&r, 0, sizeof(r));
    v = fw_audit_verifier_create((u_char *) SECRET, SECRET_LEN, 100, 0,
                                 report, &r);
    fw_audit_verifier_allow_partial(v);

    for (i = 3; i < log.n; i++) {
        fw_audit_verifier_add(v, "new.log", i - 2, (u_char *) log.line[i],
                              log.len[i]);
    }

    assert_int_equal(fw_audit_verifier_finish(v, &records, &chains, &w), 0);
    assert_int_equal(w, 1);
    assert_non_null(strstr(r.out, "new.log:1: warning: chain "
                                  "gw-1-1000-abcd: its start is missing"));
    fw_audit_verifier_destroy(v);
    log_free(&log);
}


static void
test_truncate(void **state)
{
    log_t      log;
    reports_t  r;
    uint64_t   w;

    /* the end and the last request cut: an error without --allow-open */
    fw_audit_chain_destroy(make_log(&log, FW_AUDIT_JSONL, 5, 1));
    free(log.line[--log.n]);
    free(log.line[--log.n]);
    assert_true(verify(&log, 0, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:5: error: chain gw-1-1000-abcd: "
                                  "no end record after seq 4"));

    /* a warning with it */
    assert_int_equal(verify(&log, 1, &r, &w), 0);
    assert_int_equal(w, 1);

    /* a line cut short: as a failed write leaves one, a warning, but the
       record is missing from its chain, an error */
    log.len[2] -= 10;
    assert_true(verify(&log, 1, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:3: warning: a record cut short"));
    assert_non_null(strstr(r.out, "x.log:4: error: chain gw-1-1000-abcd: "
                                  "seq 2..2 missing"));

    /* the last line cut short (and a newline added): an error */
    log.len[log.n - 1] -= 10;
    assert_true(verify(&log, 1, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:5: error: not a sealed audit "
                                  "record"));

    /* a line that is no record at all */
    log.line[2][0] = 'X';
    assert_true(verify(&log, 1, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:3: error: not a sealed audit "
                                  "record"));
    log_free(&log);
}


/*
 * A disk full mid-record: write() wrote the start of a record only, then
 * the next record came whole on the same line (an older writer, or one
 * that could not take the fragment back).  Not a tamper alarm: the cut
 * record is a warning, the one after it verifies and counts it lost.
 */
static void
test_short_write(void **state)
{
    int                format, own_line;
    char              *frag;
    size_t             cut;
    log_t              log;
    reports_t          r;
    uint64_t           w;
    fw_audit_chain_t  *c;

    for (format = FW_AUDIT_JSONL; format <= FW_AUDIT_FHIR; format++) {
        for (own_line = 0; own_line <= 1; own_line++) {
            memset(&log, 0, sizeof(log));
            c = fw_audit_chain_create((u_char *) SECRET, SECRET_LEN,
                                      (u_char *) "c5", 2, 0, 0);
            add(&log, c, format, FW_AUDIT_KIND_START, 0, NULL, 1);
            add(&log, c, format, FW_AUDIT_KIND_REQUEST, 0, "a", 1);
            add(&log, c, format, FW_AUDIT_KIND_REQUEST, 0, "b", 0);
            add(&log, c, format, FW_AUDIT_KIND_REQUEST, 0, "c", 1);
            add(&log, c, format, FW_AUDIT_KIND_END, 0, NULL, 1);

            /* "c" took the seq of "b" and counts it lost */
            assert_non_null(strstr(log.line[2], "fwa1 req c5 0 2 1 "));

            /* 380 bytes of "b": before "c" on its line, or a line of its
               own (the writer ended it with a newline) */
            cut = lost_len < 380 ? lost_len / 2 : 380;

            if (own_line) {
                frag = malloc(cut);
                assert_non_null(frag);
                memcpy(frag, lost_line, cut);
                memmove(&log.line[3], &log.line[2], 3 * sizeof(char *));
                memmove(&log.len[3], &log.len[2], 3 * sizeof(size_t));
                log.line[2] = frag;
                log.len[2] = cut;
                log.n++;

            } else {
                frag = malloc(cut + log.len[2]);
                assert_non_null(frag);
                memcpy(frag, lost_line, cut);
                memcpy(frag + cut, log.line[2], log.len[2]);
                free(log.line[2]);
                log.line[2] = frag;
                log.len[2] += cut;
            }

            assert_int_equal(verify(&log, 0, &r, &w), 0);
            assert_int_equal(w, 1);
            assert_non_null(strstr(r.out, "x.log:3: warning: a record cut "
                                          "short"));
            assert_null(strstr(r.out, "modified"));

            /* the record after the fragment is still checked: edit it */
            log.line[own_line ? 3 : 2][cut + 20 - (own_line ? cut : 0)] ^= 1;
            assert_true(verify(&log, 0, &r, NULL) > 0);
            assert_non_null(strstr(r.out, ": error: "));

            log_free(&log);
            fw_audit_chain_destroy(c);
        }
    }
}


/*
 * CVE-2023-31439 (journald FSS): a record must verify only under the key
 * of its own epoch.  Re-MAC a record of epoch 2 claiming epoch 1 with the
 * epoch-1 key an attacker might still hold: the verifier derives the key
 * from the epoch the record names and the record is bound to it, so
 * moving a record to another epoch breaks its MAC, and a record of a
 * later epoch is never accepted under an earlier key.
 */
static void
test_epoch_binding(void **state)
{
    u_char             k[FW_AUDIT_MAC_LEN], k1[FW_AUDIT_MAC_LEN];
    u_char             mac[FW_AUDIT_MAC_LEN];
    char              *p;
    log_t              log;
    reports_t          r;
    fw_audit_line_t    l;
    const char        *err;

    fw_audit_chain_destroy(make_log(&log, FW_AUDIT_JSONL, 4, 1));

    /* the keys are one-way: K(1) from K(0), never the other way */
    fw_audit_chain_key0((u_char *) SECRET, SECRET_LEN,
                        (u_char *) "gw-1-1000-abcd", 14, k);
    memcpy(k1, k, sizeof(k));
    fw_audit_key_evolve(k1);
    assert_memory_not_equal(k, k1, sizeof(k));

    /* line 4: seq 3, epoch 2 */
    assert_int_equal(fw_audit_parse_line((u_char *) log.line[3], log.len[3],
                                         &l, &err), FW_AUDIT_OK);
    assert_int_equal(l.epoch, 2);
    assert_int_equal(l.seq, 3);

    /* the attacker holds K(1) and rewrites line 4 as an epoch-1 record */
    p = strstr(log.line[3], " 2 3 0 ");
    assert_non_null(p);
    p[1] = '1';
    assert_int_equal(fw_audit_parse_line((u_char *) log.line[3], log.len[3],
                                         &l, &err), FW_AUDIT_OK);
    fw_audit_hmac(k1, sizeof(k1), (u_char *) log.line[3], l.msg_len, mac);
    fw_hex_encode(mac, sizeof(mac),
                  (u_char *) log.line[3] + log.len[3] - 66);

    /* epochs of the chain go back: flagged; and the MAC was made under
       the key of epoch 1 which is what the record names: that is the one
       forgery an epoch-1 key permits, and the chain still exposes it */
    assert_true(verify(&log, 0, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:5: error: chain gw-1-1000-abcd "
                                  "seq 4: epoch 3 goes back")
                    || strstr(r.out, "epoch 1 goes back")
                    || strstr(r.out, "chain link broken"));
    log_free(&log);

    /* a record of epoch 3 MACed with K(1) (claiming epoch 3) fails */
    fw_audit_chain_destroy(make_log(&log, FW_AUDIT_JSONL, 4, 1));
    assert_int_equal(fw_audit_parse_line((u_char *) log.line[4], log.len[4],
                                         &l, &err), FW_AUDIT_OK);
    assert_int_equal(l.epoch, 3);
    fw_audit_hmac(k1, sizeof(k1), (u_char *) log.line[4], l.msg_len, mac);
    fw_hex_encode(mac, sizeof(mac),
                  (u_char *) log.line[4] + log.len[4] - 66);
    assert_true(verify(&log, 0, &r, NULL) > 0);
    assert_non_null(strstr(r.out, "x.log:5: error: chain gw-1-1000-abcd "
                                  "seq 4: record modified (MAC mismatch "
                                  "under the key of epoch 3)"));
    log_free(&log);
}


static void
test_lost(void **state)
{
    log_t              log;
    reports_t          r;
    uint64_t           w;
    fw_audit_chain_t  *c;

    memset(&log, 0, sizeof(log));
    c = fw_audit_chain_create((u_char *) SECRET, SECRET_LEN,
                              (u_char *) "c2", 2, 0, 0);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_START, 0, NULL, 1);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_REQUEST, 0, "a", 1);
    /* not written: the chain does not advance, the next record says so */
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_REQUEST, 0, "b", 0);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_REQUEST, 0, "c", 1);
    assert_non_null(strstr(log.line[2], "fwa1 req c2 0 2 1 "));
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_END, 0, NULL, 1);
    assert_int_equal(verify(&log, 0, &r, &w), 0);
    log_free(&log);

    fw_audit_chain_destroy(c);

    /* buffered records lost after sealing (the buffer's write failed):
       a gap that the next record explains is a warning, not an error */
    memset(&log, 0, sizeof(log));
    c = fw_audit_chain_create((u_char *) SECRET, SECRET_LEN,
                              (u_char *) "c4", 2, 0, 0);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_START, 0, NULL, 1);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_REQUEST, 0, "a", 1);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_REQUEST, 0, "b", 1);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_REQUEST, 0, "c", 1);
    free(log.line[--log.n]);
    free(log.line[--log.n]);
    fw_audit_chain_lost(c, 2);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_REQUEST, 0, "d", 1);
    add(&log, c, FW_AUDIT_JSONL, FW_AUDIT_KIND_END, 0, NULL, 1);
    assert_int_equal(verify(&log, 0, &r, &w), 0);
    assert_int_equal(w, 1);
    assert_non_null(strstr(r.out, "seq 2..3 lost by the writer"));

    log_free(&log);
    fw_audit_chain_destroy(c);
}


static void
test_many_chains(void **state)
{
    int                   i, j;
    char                  id[32];
    u_char                buf[4096];
    size_t                len;
    uint64_t              records, chains, w;
    reports_t             r;
    fw_audit_chain_t     *c[300];
    fw_audit_verifier_t  *v;

    memset(&r, 0, sizeof(r));
    v = fw_audit_verifier_create((u_char *) SECRET, SECRET_LEN, 10, 0,
                                 report, &r);

    for (i = 0; i < 300; i++) {
        snprintf(id, sizeof(id), "gw-%d-1-x", i);
        c[i] = fw_audit_chain_create((u_char *) SECRET, SECRET_LEN,
                                     (u_char *) id, strlen(id), 0, 0);
        assert_non_null(c[i]);
    }

    /* interleaved: start, request, end of every chain in turn */
    for (j = 0; j < 3; j++) {
        for (i = 0; i < 300; i++) {
            len = fw_audit_build_lifecycle(buf, sizeof(buf), FW_AUDIT_JSONL,
                                           j == 2 ? FW_AUDIT_KIND_END
                                                  : FW_AUDIT_KIND_START,
                                           0, (u_char *) "gw", 2,
                                           (u_char *) "x", 1);
            len = fw_audit_chain_seal(c[i], buf, len, sizeof(buf),
                                      FW_AUDIT_JSONL,
                                      j == 0 ? FW_AUDIT_KIND_START
                                      : j == 1 ? FW_AUDIT_KIND_REQUEST
                                      : FW_AUDIT_KIND_END, 0);
            assert_true(len > 0);
            fw_audit_chain_commit(c[i]);
            fw_audit_verifier_add(v, "m.log", j * 300 + i + 1, buf,
                                  len - 1);
        }
    }

    assert_int_equal(fw_audit_verifier_finish(v, &records, &chains, &w), 0);
    assert_int_equal(records, 900);
    assert_int_equal(chains, 300);
    fw_audit_verifier_destroy(v);

    for (i = 0; i < 300; i++) {
        fw_audit_chain_destroy(c[i]);
    }
}


static void
test_parse(void **state)
{
    fw_audit_line_t   l;
    const char       *err;
    static const char *bad[] = {
        "",
        "x",
        "{}",
        "{\"a\":1,\"mac\":\"00\"}",
        "{\"chain\":\"fwa1 req c 0 0 0 00\",\"mac\":\"" \
        "0000000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"chain\":\"fwa1 bad c 0 0 0 " \
        "0000000000000000000000000000000000000000000000000000000000000000" \
        "\",\"mac\":\"" \
        "0000000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"chain\":\"fwa1 req c\\\" 0 0 0 " \
        "0000000000000000000000000000000000000000000000000000000000000000" \
        "\",\"mac\":\"" \
        "0000000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"chain\":\"fwa1 req c 0 -1 0 " \
        "0000000000000000000000000000000000000000000000000000000000000000" \
        "\",\"mac\":\"" \
        "0000000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"chain\":\"fwa1 req c 0 0 0 " \
        "0000000000000000000000000000000000000000000000000000000000000000" \
        "\",\"mac\":\"" \
        "000000000000000000000000000000000000000000000000000000000000000g\"}",
        NULL
    };
    static const char  good[] =
        "{\"v\":1,\"chain\":\"fwa1 end c.1-x_y:z 7 18446744073 3 "
        "00000000000000000000000000000000000000000000000000000000000000ff"
        "\",\"mac\":\""
        "0000000000000000000000000000000000000000000000000000000000000001\"}";
    int  i;

    for (i = 0; bad[i]; i++) {
        assert_int_equal(fw_audit_parse_line((u_char *) bad[i],
                                             strlen(bad[i]), &l, &err),
                         FW_AUDIT_ERROR);
        assert_non_null(err);
    }

    assert_int_equal(fw_audit_parse_line((u_char *) good, strlen(good), &l,
                                         &err), FW_AUDIT_OK);
    assert_int_equal(l.kind, FW_AUDIT_KIND_END);
    assert_int_equal(l.format, FW_AUDIT_JSONL);
    assert_int_equal(l.chain_len, 9);
    assert_memory_equal(l.chain, "c.1-x_y:z", 9);
    assert_int_equal(l.epoch, 7);
    assert_int_equal(l.seq, 18446744073ULL);
    assert_int_equal(l.lost, 3);
    assert_int_equal(l.prev[31], 0xff);
    assert_int_equal(l.mac[31], 0x01);
    assert_int_equal(l.msg_len, strlen(good) - 74);
}


static void
test_key_normalize(void **state)
{
    size_t  len;

    assert_int_equal(fw_audit_key_normalize((u_char *) "tooshort\n", 9,
                                            &len), FW_AUDIT_ERROR);
    assert_int_equal(fw_audit_key_normalize((u_char *) SECRET "\r\n \t",
                                            SECRET_LEN + 4, &len),
                     FW_AUDIT_OK);
    assert_int_equal(len, SECRET_LEN);
}


static void
test_mac_matches_openssl(void **state)
{
    u_char             buf[4096], mac[FW_AUDIT_MAC_LEN], k[FW_AUDIT_MAC_LEN];
    unsigned int       n;
    size_t             len;
    fw_audit_line_t    l;
    const char        *err;
    fw_audit_chain_t  *c;

    /* the chain's precomputed HMAC equals a plain HMAC-SHA256 */
    c = fw_audit_chain_create((u_char *) SECRET, SECRET_LEN,
                              (u_char *) "c3", 2, 0, 0);
    len = fw_audit_build_lifecycle(buf, sizeof(buf), FW_AUDIT_JSONL,
                                   FW_AUDIT_KIND_START, 0,
                                   (u_char *) "gw", 2, (u_char *) "c3", 2);
    len = fw_audit_chain_seal(c, buf, len, sizeof(buf), FW_AUDIT_JSONL,
                              FW_AUDIT_KIND_START, 0);
    assert_int_equal(fw_audit_parse_line(buf, len - 1, &l, &err),
                     FW_AUDIT_OK);
    fw_audit_chain_key0((u_char *) SECRET, SECRET_LEN, (u_char *) "c3", 2, k);
    HMAC(EVP_sha256(), k, sizeof(k), buf, l.msg_len, mac, &n);
    assert_memory_equal(mac, l.mac, sizeof(mac));
    fw_audit_chain_destroy(c);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_edit),
        cmocka_unit_test(test_delete_reorder_duplicate),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_epoch_binding),
        cmocka_unit_test(test_lost),
        cmocka_unit_test(test_short_write),
        cmocka_unit_test(test_many_chains),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_key_normalize),
        cmocka_unit_test(test_mac_matches_openssl),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
