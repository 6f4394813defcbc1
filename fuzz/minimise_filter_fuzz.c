/*
 * libFuzzer: the minimise streaming filter.  The first byte picks a
 * profile and a chunk size; the rest is the document.  Filtered whole
 * (one call, a large output buffer) and in chunks (tiny output buffers)
 * the output and the verdict must be the same; output never overruns its
 * buffer.  The output, verdict, error and byte counts must also be those
 * of the reference tokenizer (unit/ref_minimise_json.c, the tokenizer
 * before the fast one).  The input is also run through the query rewrite.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <assert.h>

#include "fw_minimise.h"
#include "unit/ref_minimise_json.c"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static fw_min_profile_t  profiles[3];
static int               ready;


static void
setup(void)
{
    char  err[128];

    fw_min_profile_init(&profiles[0]);
    fw_min_profile_init(&profiles[1]);
    fw_min_profile_init(&profiles[2]);

    fw_min_profile_safe_harbor(&profiles[1], err, sizeof(err));

    fw_min_profile_elements(&profiles[2],
                            (const u_char *) "Patient:gender,birthDate", 24,
                            err, sizeof(err));
    fw_min_profile_types(&profiles[2], (const u_char *) "Patient", 7, err,
                         sizeof(err));
    fw_min_profile_drop(&profiles[2], (const u_char *) "*.**.display", 12,
                        err, sizeof(err));
    fw_min_profile_summary(&profiles[2], (const u_char *) "data", 4, err,
                           sizeof(err));
    ready = 1;
}


/* returns the verdict; the output in *out (malloc), its length in *olen */
static const char  *last_err;
static size_t       last_in, last_out;


static int
run(int ref, const fw_min_profile_t *p, const u_char *in, size_t len,
    size_t chunk, size_t cap, u_char **out, size_t *olen)
{
    int               rc;
    size_t            off, n, used, size;
    u_char           *buf, *o, *res;
    const u_char     *ip, *end;
    fw_min_filter_t  *f;

    f = malloc(sizeof(fw_min_filter_t));
    buf = malloc(cap);
    size = len * 2 + 4096;
    res = malloc(size);
    used = 0;
    rc = FW_MIN_AGAIN;

    if (ref) {
        fw_min_ref_filter_init(f, p);
    } else {
        fw_min_filter_init(f, p);
    }

    for (off = 0; off < len && rc != FW_MIN_ERROR; off += n) {
        n = len - off < chunk ? len - off : chunk;
        ip = in + off;
        end = ip + n;

        while (ip < end) {
            o = buf;
            rc = ref ? fw_min_ref_filter(f, &ip, end, &o, buf + cap)
                     : fw_min_filter(f, &ip, end, &o, buf + cap);
            assert(o >= buf && o <= buf + cap);

            if (used + (size_t) (o - buf) > size) {
                size = 2 * (used + (size_t) (o - buf));
                res = realloc(res, size);
            }

            memcpy(res + used, buf, (size_t) (o - buf));
            used += (size_t) (o - buf);

            if (rc == FW_MIN_ERROR) {
                break;
            }
        }
    }

    if (rc != FW_MIN_ERROR) {
        rc = ref ? fw_min_ref_filter_finish(f) : fw_min_filter_finish(f);
    }

    last_err = f->err;
    last_in = f->in_total;
    last_out = f->out_total;

    assert(f->depth <= FW_MIN_DEPTH_MAX && f->nres <= FW_MIN_RES_MAX);

    free(buf);
    free(f);
    *out = res;
    *olen = used;

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                      rc1, rc2, rc3;
    size_t                   l1, l2, l3, qlen, chunk, in2, out2;
    u_char                  *o1, *o2, *o3, *copy, *q;
    const char              *diag, *err2;
    const fw_min_profile_t  *p;

    if (size < 1 || size > 65536) {
        return 0;
    }

    if (!ready) {
        setup();
    }

    p = &profiles[data[0] % 3];
    chunk = (data[0] >> 2) % 13 + 1;

    /* an exact-size heap copy, so that ASan sees any overread */
    copy = malloc(size - 1 + 1);
    memcpy(copy, data + 1, size - 1);

    rc1 = run(0, p, copy, size - 1, size, 1 << 20, &o1, &l1);
    rc2 = run(0, p, copy, size - 1, chunk, FW_MIN_OUT_RESERVE + chunk, &o2,
              &l2);
    err2 = last_err;
    in2 = last_in;
    out2 = last_out;

    assert(rc1 == rc2);

    /*
     * The reference tokenizer, fed the same way: the same in every
     * respect (on an error too: the bytes written and read before it)
     */
    rc3 = run(1, p, copy, size - 1, chunk, FW_MIN_OUT_RESERVE + chunk, &o3,
              &l3);
    assert(rc3 == rc2 && l3 == l2 && memcmp(o3, o2, l2) == 0);
    assert(last_in == in2 && last_out == out2);
    assert((last_err == NULL) == (err2 == NULL));
    assert(err2 == NULL || strcmp(last_err, err2) == 0);
    free(o3);

    if (rc1 == FW_MIN_DONE) {
        assert(l1 == l2 && memcmp(o1, o2, l1) == 0);

        /* filtering the output again changes nothing more (idempotent
         * but for a second SUBSETTED tag): it must still parse */
        free(o2);
        rc2 = run(0, p, o1, l1, 7, FW_MIN_OUT_RESERVE, &o2, &l2);
        assert(rc2 == FW_MIN_DONE);
    }

    free(o1);
    free(o2);

    q = malloc(size + FW_MIN_LIST_MAX + 64);
    diag = NULL;
    rc1 = fw_min_query(p, (const u_char *) "Patient", 7, copy, size - 1, q,
                       &qlen, &diag);
    assert(rc1 == 0 || rc1 == 400 || rc1 == 403);
    assert(rc1 != 0 || qlen <= size - 1 + FW_MIN_LIST_MAX + 64);
    assert(rc1 == 0 || diag != NULL);
    free(q);
    free(copy);

    return 0;
}
