/*
 * fhirwall audit: the verifier.  Plain C.
 *
 * Lines are added in the order of the files given and of their lines; each
 * is parsed and its MAC checked at once under the key of the epoch it
 * names (and only that key: a record is bound to its epoch).  finish()
 * then checks each chain: sequence numbers without a gap, duplicate or
 * inversion, the links (each "prev" is the MAC of the record before),
 * epochs that never go back, a start record and an end record.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fw_codec.h"
#include "fw_audit.h"


/* a key is kept every FW_AUDIT_CHECKPOINT epochs */
#define FW_AUDIT_CHECKPOINT  1024


typedef struct {
    uint64_t      seq;
    uint64_t      epoch;
    uint64_t      lost;
    uint64_t      line;
    const char   *file;
    int           kind;
    int           mac_ok;
    u_char        prev[FW_AUDIT_MAC_LEN];
    u_char        mac[FW_AUDIT_MAC_LEN];
} fw_audit_vrec_t;


typedef struct {
    u_char            id[FW_AUDIT_CHAIN_ID_MAX];
    size_t            id_len;

    fw_audit_vrec_t  *recs;
    size_t            nrecs;
    size_t            nalloc;

    /* keys of epochs 0, C, 2C, ...  and the key of "cur_epoch" */
    u_char           *checkpoints;
    uint64_t          ncheckpoints;
    u_char            cur[FW_AUDIT_MAC_LEN];
    uint64_t          cur_epoch;
} fw_audit_vchain_t;


struct fw_audit_verifier_s {
    u_char              *secret;
    size_t               secret_len;
    uint64_t             max_epoch;
    int                  allow_open;
    int                  allow_partial;
    fw_audit_report_pt   report;
    void                *data;

    fw_audit_vchain_t   *chains;
    size_t               nchains;
    size_t               nalloc;
    size_t               last;

    /* chain ids to chains: open addressing, index + 1 (0 is empty) */
    size_t              *hash;
    size_t               hsize;

    uint64_t             records;
    uint64_t             errors;
    uint64_t             warnings;

    /* a line that is the start of a record, not sealed: a warning once a
       line follows it in its file (a writer's failed write), else an
       error (the file's last record cut) */
    const char          *frag_file;
    uint64_t             frag_line;
    size_t               frag_len;
};


static void fw_audit_vreport(fw_audit_verifier_t *v, int level,
    const char *file, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static size_t fw_audit_vhash(const u_char *id, size_t len);
static int fw_audit_vrehash(fw_audit_verifier_t *v, size_t size);
static fw_audit_vchain_t *fw_audit_vchain(fw_audit_verifier_t *v,
    const u_char *id, size_t len);
static int fw_audit_vkey(fw_audit_verifier_t *v, fw_audit_vchain_t *c,
    uint64_t epoch, u_char *key);
static void fw_audit_vcheck(fw_audit_verifier_t *v, fw_audit_vchain_t *c);
static size_t fw_audit_vfragment(fw_audit_verifier_t *v, const u_char *line,
    size_t len);
static void fw_audit_vcut(fw_audit_verifier_t *v, const char *file,
    uint64_t lineno, size_t len);
static void fw_audit_vfrag_end(fw_audit_verifier_t *v, const char *file);
static void fw_audit_vcheck_start(fw_audit_verifier_t *v,
    fw_audit_vchain_t *c, fw_audit_vrec_t *r);
static void fw_audit_vcheck_order(fw_audit_verifier_t *v,
    fw_audit_vchain_t *c);
static int fw_audit_vrec_cmp(const void *a, const void *b);


fw_audit_verifier_t *
fw_audit_verifier_create(const u_char *secret, size_t secret_len,
    uint64_t max_epoch, int allow_open, fw_audit_report_pt report,
    void *data)
{
    fw_audit_verifier_t  *v;

    v = calloc(1, sizeof(fw_audit_verifier_t));
    if (v == NULL) {
        return NULL;
    }

    v->secret = malloc(secret_len ? secret_len : 1);
    if (v->secret == NULL) {
        free(v);
        return NULL;
    }

    memcpy(v->secret, secret, secret_len);
    v->secret_len = secret_len;
    v->max_epoch = max_epoch;
    v->allow_open = allow_open;
    v->report = report;
    v->data = data;

    return v;
}


void
fw_audit_verifier_allow_partial(fw_audit_verifier_t *v)
{
    v->allow_partial = 1;
}


void
fw_audit_verifier_destroy(fw_audit_verifier_t *v)
{
    size_t  i;

    if (v == NULL) {
        return;
    }

    for (i = 0; i < v->nchains; i++) {
        free(v->chains[i].recs);

        if (v->chains[i].checkpoints) {
            OPENSSL_cleanse(v->chains[i].checkpoints,
                            v->chains[i].ncheckpoints * FW_AUDIT_MAC_LEN);
            free(v->chains[i].checkpoints);
        }

        OPENSSL_cleanse(v->chains[i].cur, FW_AUDIT_MAC_LEN);
    }

    free(v->chains);
    free(v->hash);
    OPENSSL_cleanse(v->secret, v->secret_len);
    free(v->secret);
    free(v);
}


static void
fw_audit_vreport(fw_audit_verifier_t *v, int level, const char *file,
    uint64_t line, const char *fmt, ...)
{
    char     msg[512];
    va_list  args;

    if (level == FW_AUDIT_V_ERROR) {
        v->errors++;

    } else {
        v->warnings++;
    }

    if (v->report == NULL) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    v->report(v->data, level, file, line, msg);
}


static size_t
fw_audit_vhash(const u_char *id, size_t len)
{
    size_t  h, i;

    /* FNV-1a */
    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h = (h ^ id[i]) * 16777619u;
    }

    return h;
}


static int
fw_audit_vrehash(fw_audit_verifier_t *v, size_t size)
{
    size_t   i, k, *h;

    h = calloc(size, sizeof(size_t));
    if (h == NULL) {
        return FW_AUDIT_ERROR;
    }

    for (i = 0; i < v->nchains; i++) {
        k = fw_audit_vhash(v->chains[i].id, v->chains[i].id_len)
            & (size - 1);

        while (h[k]) {
            k = (k + 1) & (size - 1);
        }

        h[k] = i + 1;
    }

    free(v->hash);
    v->hash = h;
    v->hsize = size;

    return FW_AUDIT_OK;
}


static fw_audit_vchain_t *
fw_audit_vchain(fw_audit_verifier_t *v, const u_char *id, size_t len)
{
    size_t              k;
    fw_audit_vchain_t  *c;

    if (v->last < v->nchains && v->chains[v->last].id_len == len
        && memcmp(v->chains[v->last].id, id, len) == 0)
    {
        return &v->chains[v->last];
    }

    if (v->hsize) {
        k = fw_audit_vhash(id, len) & (v->hsize - 1);

        while (v->hash[k]) {
            c = &v->chains[v->hash[k] - 1];

            if (c->id_len == len && memcmp(c->id, id, len) == 0) {
                v->last = v->hash[k] - 1;
                return c;
            }

            k = (k + 1) & (v->hsize - 1);
        }
    }

    if (v->nchains == v->nalloc) {
        c = realloc(v->chains, (v->nalloc * 2 + 4)
                               * sizeof(fw_audit_vchain_t));
        if (c == NULL) {
            return NULL;
        }

        v->chains = c;
        v->nalloc = v->nalloc * 2 + 4;
    }

    c = &v->chains[v->nchains];
    memset(c, 0, sizeof(fw_audit_vchain_t));
    memcpy(c->id, id, len);
    c->id_len = len;

    c->checkpoints = malloc(FW_AUDIT_MAC_LEN);
    if (c->checkpoints == NULL) {
        return NULL;
    }

    fw_audit_chain_key0(v->secret, v->secret_len, id, len, c->checkpoints);
    c->ncheckpoints = 1;
    memcpy(c->cur, c->checkpoints, FW_AUDIT_MAC_LEN);
    c->cur_epoch = 0;

    v->last = v->nchains++;

    /* at most half full */
    if (v->nchains * 2 > v->hsize
        && fw_audit_vrehash(v, v->hsize ? v->hsize * 2 : 64) != FW_AUDIT_OK)
    {
        v->nchains--;
        free(c->checkpoints);
        return NULL;
    }

    if (v->hsize && v->hash) {
        k = fw_audit_vhash(id, len) & (v->hsize - 1);

        while (v->hash[k] && v->hash[k] != v->nchains) {
            k = (k + 1) & (v->hsize - 1);
        }

        v->hash[k] = v->nchains;
    }

    return c;
}


/* the key of an epoch: from the current one forward, or from the nearest
   checkpoint at or before it */

static int
fw_audit_vkey(fw_audit_verifier_t *v, fw_audit_vchain_t *c, uint64_t epoch,
    u_char *key)
{
    u_char    *cp;
    uint64_t   k, e;

    if (epoch > v->max_epoch) {
        return FW_AUDIT_ERROR;
    }

    if (epoch < c->cur_epoch) {
        k = epoch / FW_AUDIT_CHECKPOINT;

        if (k >= c->ncheckpoints) {
            k = c->ncheckpoints - 1;
        }

        memcpy(c->cur, c->checkpoints + k * FW_AUDIT_MAC_LEN,
               FW_AUDIT_MAC_LEN);
        c->cur_epoch = k * FW_AUDIT_CHECKPOINT;
    }

    while (c->cur_epoch < epoch) {
        fw_audit_key_evolve(c->cur);
        e = ++c->cur_epoch;

        if (e % FW_AUDIT_CHECKPOINT == 0
            && e / FW_AUDIT_CHECKPOINT == c->ncheckpoints)
        {
            cp = realloc(c->checkpoints,
                         (c->ncheckpoints + 1) * FW_AUDIT_MAC_LEN);
            if (cp == NULL) {
                return FW_AUDIT_ERROR;
            }

            c->checkpoints = cp;
            memcpy(cp + c->ncheckpoints * FW_AUDIT_MAC_LEN, c->cur,
                   FW_AUDIT_MAC_LEN);
            c->ncheckpoints++;
        }
    }

    memcpy(key, c->cur, FW_AUDIT_MAC_LEN);

    return FW_AUDIT_OK;
}


void
fw_audit_verifier_add(fw_audit_verifier_t *v, const char *file,
    uint64_t lineno, const u_char *line, size_t len)
{
    int                 mac_ok, key_ok;
    size_t              cut;
    u_char              key[FW_AUDIT_MAC_LEN], mac[FW_AUDIT_MAC_LEN];
    const char         *err;
    fw_audit_line_t     l;
    fw_audit_vrec_t    *r;
    fw_audit_vchain_t  *c;

    if (len && line[len - 1] == '\r') {
        len--;
    }

    fw_audit_vfrag_end(v, file);

    if (fw_audit_parse_line(line, len, &l, &err) != FW_AUDIT_OK) {
        cut = fw_audit_vfragment(v, line, len);

        if (cut) {
            fw_audit_vcut(v, file, lineno, cut);
            fw_audit_verifier_add(v, file, lineno, line + cut, len - cut);
            return;
        }

        if (len > 1 && line[0] == '{' && line[1] == '"'
            && memcmp(err, "no MAC", 6) == 0)
        {
            /*
             * the start of a record, a line of its own: what a failed
             * write left when it could not be taken back (the writer's
             * next record follows it).  Nothing is hidden by it: a
             * record that was written and then cut is missing from its
             * chain, an error there; the file's last line is an error
             */
            v->frag_file = file;
            v->frag_line = lineno;
            v->frag_len = len;
            return;
        }

        fw_audit_vreport(v, FW_AUDIT_V_ERROR, file, lineno,
                         "not a sealed audit record: %s", err);
        return;
    }

    c = fw_audit_vchain(v, l.chain, l.chain_len);
    if (c == NULL) {
        fw_audit_vreport(v, FW_AUDIT_V_ERROR, file, lineno,
                         "out of memory");
        return;
    }

    key_ok = (fw_audit_vkey(v, c, l.epoch, key) == FW_AUDIT_OK);
    mac_ok = 0;

    if (key_ok) {
        fw_audit_hmac(key, FW_AUDIT_MAC_LEN, line, l.msg_len, mac);
        OPENSSL_cleanse(key, sizeof(key));

        mac_ok = fw_ct_equal(mac, FW_AUDIT_MAC_LEN, l.mac, FW_AUDIT_MAC_LEN);

        if (!mac_ok) {
            cut = fw_audit_vfragment(v, line, len);

            if (cut) {
                fw_audit_vcut(v, file, lineno, cut);
                fw_audit_verifier_add(v, file, lineno, line + cut,
                                      len - cut);
                return;
            }
        }
    }

    v->records++;

    if (c->nrecs == c->nalloc) {
        r = realloc(c->recs, (c->nalloc * 2 + 64) * sizeof(fw_audit_vrec_t));
        if (r == NULL) {
            fw_audit_vreport(v, FW_AUDIT_V_ERROR, file, lineno,
                             "out of memory");
            return;
        }

        c->recs = r;
        c->nalloc = c->nalloc * 2 + 64;
    }

    r = &c->recs[c->nrecs++];
    r->seq = l.seq;
    r->epoch = l.epoch;
    r->lost = l.lost;
    r->line = lineno;
    r->file = file;
    r->kind = l.kind;
    r->mac_ok = mac_ok;
    memcpy(r->prev, l.prev, FW_AUDIT_MAC_LEN);
    memcpy(r->mac, l.mac, FW_AUDIT_MAC_LEN);

    if (!key_ok) {
        fw_audit_vreport(v, FW_AUDIT_V_ERROR, file, lineno,
                         "chain %.*s seq %llu: epoch %llu is implausible "
                         "(over %llu): record forged or modified",
                         (int) l.chain_len, l.chain,
                         (unsigned long long) l.seq,
                         (unsigned long long) l.epoch,
                         (unsigned long long) v->max_epoch);
        return;
    }

    if (!mac_ok) {
        fw_audit_vreport(v, FW_AUDIT_V_ERROR, file, lineno,
                         "chain %.*s seq %llu: record modified "
                         "(MAC mismatch under the key of epoch %llu)",
                         (int) l.chain_len, l.chain,
                         (unsigned long long) l.seq,
                         (unsigned long long) l.epoch);
    }
}


/*
 * A line that is no sealed record, or whose MAC does not verify, may be
 * what a short write left (a disk full mid-record: the start of a record,
 * no newline) followed by the next record, written whole.  Returns where
 * the first whole record that verifies begins, 0 if none does.
 */

static size_t
fw_audit_vfragment(fw_audit_verifier_t *v, const u_char *line, size_t len)
{
    size_t              p;
    u_char              key[FW_AUDIT_MAC_LEN], mac[FW_AUDIT_MAC_LEN];
    const char         *err;
    fw_audit_line_t     l;
    fw_audit_vchain_t  *c;

    for (p = 1; p + 1 < len; p++) {

        if (line[p] != '{' || line[p + 1] != '"') {
            continue;
        }

        if (fw_audit_parse_line(line + p, len - p, &l, &err) != FW_AUDIT_OK)
        {
            continue;
        }

        c = fw_audit_vchain(v, l.chain, l.chain_len);

        if (c == NULL || fw_audit_vkey(v, c, l.epoch, key) != FW_AUDIT_OK) {
            continue;
        }

        fw_audit_hmac(key, FW_AUDIT_MAC_LEN, line + p, l.msg_len, mac);
        OPENSSL_cleanse(key, sizeof(key));

        if (fw_ct_equal(mac, FW_AUDIT_MAC_LEN, l.mac, FW_AUDIT_MAC_LEN)) {
            return p;
        }
    }

    return 0;
}


static void
fw_audit_vcut(fw_audit_verifier_t *v, const char *file, uint64_t lineno,
    size_t len)
{
    /* the record cut short is lost: the next record of its chain says
       so (its "lost" count), or the gap is an error there */

    fw_audit_vreport(v, FW_AUDIT_V_WARNING, file, lineno,
                     "a record cut short (%zu bytes, a failed write), then "
                     "a whole record on the same line", len);
}


/* a fragment line before this one: "file" goes on after it, or not */

static void
fw_audit_vfrag_end(fw_audit_verifier_t *v, const char *file)
{
    if (v->frag_file == NULL) {
        return;
    }

    if (v->frag_file == file) {
        fw_audit_vreport(v, FW_AUDIT_V_WARNING, v->frag_file, v->frag_line,
                         "a record cut short (%zu bytes, a failed write), "
                         "not sealed, then more records", v->frag_len);
    } else {
        fw_audit_vreport(v, FW_AUDIT_V_ERROR, v->frag_file, v->frag_line,
                         "not a sealed audit record: the file's last "
                         "record, cut short");
    }

    v->frag_file = NULL;
}


void
fw_audit_verifier_partial(fw_audit_verifier_t *v, const char *file,
    uint64_t lineno)
{
    if (v->frag_file == file && v->frag_line == lineno) {
        v->frag_file = NULL;
    }

    fw_audit_vreport(v, FW_AUDIT_V_ERROR, file, lineno,
                     "the file ends inside this line: truncated");
}


static int
fw_audit_vrec_cmp(const void *a, const void *b)
{
    const fw_audit_vrec_t  *x = *(const fw_audit_vrec_t * const *) a;
    const fw_audit_vrec_t  *y = *(const fw_audit_vrec_t * const *) b;

    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }

    /* the same sequence number: keep the file order */
    return x < y ? -1 : (x > y);
}


/* the file order: every record after the one before it */

static void
fw_audit_vcheck_order(fw_audit_verifier_t *v, fw_audit_vchain_t *c)
{
    int                id_len;
    size_t             i;
    const char        *id;
    fw_audit_vrec_t   *r, *max;

    id = (const char *) c->id;
    id_len = (int) c->id_len;

    max = NULL;

    for (i = 0; i < c->nrecs; i++) {
        r = &c->recs[i];

        if (max && r->seq <= max->seq && r->mac_ok && max->mac_ok) {
            if (r->seq < max->seq) {
                fw_audit_vreport(v, FW_AUDIT_V_ERROR, r->file, r->line,
                                 "chain %.*s seq %llu: out of order "
                                 "(reordered): it comes after seq %llu "
                                 "(%s:%llu)", id_len, id,
                                 (unsigned long long) r->seq,
                                 (unsigned long long) max->seq, max->file,
                                 (unsigned long long) max->line);
            }

            continue;
        }

        if (max == NULL || r->seq > max->seq) {
            max = r;
        }
    }
}


/* the chain's first record (in seq order) is its start */

static void
fw_audit_vcheck_start(fw_audit_verifier_t *v, fw_audit_vchain_t *c,
    fw_audit_vrec_t *r)
{
    if (r->seq != 0 || r->kind != FW_AUDIT_KIND_START) {
        fw_audit_vreport(v, v->allow_partial ? FW_AUDIT_V_WARNING
                                             : FW_AUDIT_V_ERROR,
                         r->file, r->line,
                         "chain %.*s: its start is missing: the first "
                         "record has seq %llu (%s)", (int) c->id_len,
                         (const char *) c->id,
                         (unsigned long long) r->seq,
                         v->allow_partial ? "in an older file?"
                                          : "records deleted");
    }
}


static void
fw_audit_vcheck(fw_audit_verifier_t *v, fw_audit_vchain_t *c)
{
    int                id_len;
    size_t             i;
    uint64_t           gap;
    const char        *id;
    fw_audit_vrec_t   *r, *p, **sorted;

    id = (const char *) c->id;
    id_len = (int) c->id_len;

    fw_audit_vcheck_order(v, c);

    sorted = malloc(c->nrecs * sizeof(fw_audit_vrec_t *));
    if (sorted == NULL) {
        fw_audit_vreport(v, FW_AUDIT_V_ERROR, NULL, 0, "out of memory");
        return;
    }

    for (i = 0; i < c->nrecs; i++) {
        sorted[i] = &c->recs[i];
    }

    qsort(sorted, c->nrecs, sizeof(fw_audit_vrec_t *), fw_audit_vrec_cmp);

    fw_audit_vcheck_start(v, c, sorted[0]);

    for (i = 1; i < c->nrecs; i++) {
        p = sorted[i - 1];
        r = sorted[i];

        if (r->seq == p->seq) {
            fw_audit_vreport(v, FW_AUDIT_V_ERROR, r->file, r->line,
                             "chain %.*s seq %llu: duplicate of %s:%llu "
                             "(replayed or copied)", id_len, id,
                             (unsigned long long) r->seq, p->file,
                             (unsigned long long) p->line);
            continue;
        }

        if (r->seq != p->seq + 1) {
            gap = r->seq - p->seq - 1;

            if (r->mac_ok && r->lost >= gap) {
                fw_audit_vreport(v, FW_AUDIT_V_WARNING, r->file, r->line,
                                 "chain %.*s: seq %llu..%llu lost by the "
                                 "writer (sink failure, the record after "
                                 "says so)", id_len, id,
                                 (unsigned long long) p->seq + 1,
                                 (unsigned long long) r->seq - 1);
            } else {
                fw_audit_vreport(v, FW_AUDIT_V_ERROR, r->file, r->line,
                                 "chain %.*s: seq %llu..%llu missing "
                                 "between %s:%llu and this record "
                                 "(deleted)", id_len, id,
                                 (unsigned long long) p->seq + 1,
                                 (unsigned long long) r->seq - 1,
                                 p->file, (unsigned long long) p->line);
            }

        } else if (r->mac_ok && p->mac_ok
                   && !fw_ct_equal(r->prev, FW_AUDIT_MAC_LEN, p->mac,
                                   FW_AUDIT_MAC_LEN))
        {
            fw_audit_vreport(v, FW_AUDIT_V_ERROR, r->file, r->line,
                             "chain %.*s seq %llu: does not follow seq "
                             "%llu (%s:%llu): chain link broken", id_len,
                             id, (unsigned long long) r->seq,
                             (unsigned long long) p->seq, p->file,
                             (unsigned long long) p->line);
        }

        if (r->mac_ok && p->mac_ok && r->epoch < p->epoch) {
            fw_audit_vreport(v, FW_AUDIT_V_ERROR, r->file, r->line,
                             "chain %.*s seq %llu: epoch %llu goes back "
                             "from %llu", id_len, id,
                             (unsigned long long) r->seq,
                             (unsigned long long) r->epoch,
                             (unsigned long long) p->epoch);
        }

        if (p->kind == FW_AUDIT_KIND_END) {
            fw_audit_vreport(v, FW_AUDIT_V_ERROR, r->file, r->line,
                             "chain %.*s seq %llu: record after the "
                             "chain's end (%s:%llu)", id_len, id,
                             (unsigned long long) r->seq, p->file,
                             (unsigned long long) p->line);
        }

        if (r->kind == FW_AUDIT_KIND_START) {
            fw_audit_vreport(v, FW_AUDIT_V_ERROR, r->file, r->line,
                             "chain %.*s seq %llu: a second start",
                             id_len, id, (unsigned long long) r->seq);
        }
    }

    r = sorted[c->nrecs - 1];

    if (r->kind != FW_AUDIT_KIND_END) {
        fw_audit_vreport(v, v->allow_open ? FW_AUDIT_V_WARNING
                                          : FW_AUDIT_V_ERROR,
                         r->file, r->line,
                         "chain %.*s: no end record after seq %llu: "
                         "truncated after this record%s", id_len, id,
                         (unsigned long long) r->seq,
                         v->allow_open ? ", or still being written" : "");
    }

    free(sorted);
}


uint64_t
fw_audit_verifier_finish(fw_audit_verifier_t *v, uint64_t *records,
    uint64_t *chains, uint64_t *warnings)
{
    size_t  i;

    fw_audit_vfrag_end(v, NULL);

    for (i = 0; i < v->nchains; i++) {
        if (v->chains[i].nrecs) {
            fw_audit_vcheck(v, &v->chains[i]);
        }
    }

    *records = v->records;
    *chains = v->nchains;
    *warnings = v->warnings;

    return v->errors;
}
