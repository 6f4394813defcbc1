/*
 * fhirwall minimise core: the streaming JSON filter (plain C).
 *
 * A resumable tokenizer: every member's key is read whole (keys are
 * short: FW_MIN_KEY_MAX), then the profile decides what happens to its
 * value: written as it streams, skipped (still validated), cut to a year,
 * or kept only for some of its members (a "lazy" container whose key and
 * bracket are written with its first kept member).  Nothing else is
 * buffered, so a 50 MiB Bundle goes through in sizeof(fw_min_filter_t).
 *
 * Speed (docs/minimise.md, Performance): strings are scanned 16 bytes at
 * a time and their runs copied or skipped whole; a member's key, ':',
 * decision and value start, and a value's end, ',' and the next key, go
 * by in one turn of the state loop.  Its output, verdicts, errors and
 * byte counts are those of the byte-at-a-time tokenizer it replaced
 * (unit/ref_minimise_json.c, checked by unit/test_minimise_diff.c and
 * fuzz/minimise_filter_fuzz.c).
 *
 * Fail closed: every FHIR resource object (the root, contained[],
 * Bundle.entry.resource, Bundle.entry.response.outcome, Bundle.issues,
 * Parameters.parameter(.part)*.resource) must name its resourceType in
 * its first member, a "resourceType" anywhere else is an error, keys must
 * be plain element names (no escapes), and any JSON syntax error stops
 * the filter with f->err set.
 */

#include <string.h>

#include "fw_minimise.h"
#include "fw_minimise_rules.h"
#include "fw_minimise_tok.h"


/* where fw_min_string() and fw_min_after() go on to */
#define NEXT_NONE    0
#define NEXT_COLON   1
#define NEXT_KEY     3
#define NEXT_VALUE   4

/* the states where whitespace may come (and is dropped) */
static const u_char  fw_min_ws_state[] = {
    [S_VALUE] = 1, [S_OBJ_FIRST] = 1, [S_OBJ_KEY] = 1, [S_COLON] = 1,
    [S_AFTER] = 1, [S_END] = 1, [S_ARR_FIRST] = 1, [S_STRING] = 0,
    [S_NUMBER] = 0, [S_LITERAL] = 0, [S_ERROR] = 0, [S_SKIP] = 0
};

#define fw_min_str_start(f, what)                                            \
    do {                                                                     \
        (f)->state = S_STRING;                                               \
        (f)->str = (what);                                                   \
        (f)->sub = 0;                                                        \
        (f)->slen = 0;                                                       \
        (f)->sbad = 0;                                                       \
    } while (0)

/* f->str */
#define STR_KEY      0
#define STR_EMIT     1
#define STR_SKIP     2
#define STR_RTYPE    3
#define STR_YEAR     4

/* f->vact */
#define VA_EMIT      0
#define VA_SKIP      1
#define VA_RTYPE     2
#define VA_YEAR      3
#define VA_LAZY      4       /* keep-only container */
#define VA_RES       5       /* must be a resource object */

/* frame roles */
#define R_NONE       0
#define R_RES        1
#define R_META       2
#define R_TAG        3
#define R_RESARR     4
#define R_KEEP       5
#define R_MUST       6

#define PATH_OVER    0xffff

static const char  fw_min_tag[] =
    "{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ObservationValue\""
    ",\"code\":\"SUBSETTED\"}";

/* [A-Za-z0-9_] */
static const u_char  fw_min_name_char[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['_'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1
};



static inline void fw_min_write(fw_min_filter_t *f, const void *s,
    size_t n);
static void fw_min_open(fw_min_filter_t *f, size_t idx);
static inline void fw_min_write_key(fw_min_filter_t *f);
static inline int fw_min_key_bad(const u_char *k, size_t kl);
static inline void fw_min_write_elem(fw_min_filter_t *f);
static int fw_min_push(fw_min_filter_t *f, int kind, int lazy, int role);
static int fw_min_close(fw_min_filter_t *f, int kind);
static inline void fw_min_close_fast(fw_min_filter_t *f, int kind);
static int fw_min_key_check(fw_min_filter_t *f, fw_min_frame_t *fr,
    const u_char *k, size_t kl);
static inline size_t fw_min_key_path(fw_min_res_t *res, size_t base,
    const u_char *nm, size_t nl);
static inline int fw_min_keep_has(fw_min_filter_t *f,
    const fw_min_rule_t *keep, const u_char *nm, size_t nl);
static int fw_min_decide(fw_min_filter_t *f);
static void fw_min_elem_action(fw_min_filter_t *f);
static int fw_min_value(fw_min_filter_t *f, u_char c);
static int fw_min_scalar(fw_min_filter_t *f, int act, u_char c);
static int fw_min_string_end(fw_min_filter_t *f);
static int fw_min_start_res(fw_min_filter_t *f);
static inline int fw_min_str_collect(fw_min_filter_t *f, const u_char *p,
    size_t n, const u_char *end);
static int fw_min_str_escape(fw_min_filter_t *f, u_char c);
static inline int fw_min_string(fw_min_filter_t *f, const u_char **in,
    const u_char *end, u_char *oend);
static inline int fw_min_after(fw_min_filter_t *f, u_char c,
    const u_char *p, const u_char *end, u_char *oend);
static inline void fw_min_literal(fw_min_filter_t *f, u_char c);
static inline size_t fw_min_number(fw_min_filter_t *f, u_char c);
static inline int fw_min_value_next(fw_min_filter_t *f, const u_char *p,
    const u_char *end, u_char *oend);
static inline int fw_min_obj_key(fw_min_filter_t *f, u_char c);
static inline int fw_min_arr_first(fw_min_filter_t *f, u_char c);
static void fw_min_run(fw_min_filter_t *f, const u_char **in,
    const u_char *end, u_char *oend);


void
fw_min_filter_init(fw_min_filter_t *f, const fw_min_profile_t *p)
{
    memset(f, 0, sizeof(fw_min_filter_t));
    f->prof = p;
    f->state = S_VALUE;
    f->vact = VA_RES;
    f->vrole = R_MUST;
}


int
fw_min_fail(fw_min_filter_t *f, const char *err)
{
    if (f->err == NULL) {
        f->err = err;
    }

    f->state = S_ERROR;

    return FW_MIN_ERROR;
}


static inline void
fw_min_write(fw_min_filter_t *f, const void *s, size_t n)
{
    if (n == 1) {
        *f->o++ = *(const u_char *) s;
        return;
    }

    memcpy(f->o, s, n);
    f->o += n;
}


/* writes the key and bracket of a lazy frame and of its lazy parents */
static void
fw_min_open(fw_min_filter_t *f, size_t idx)
{
    fw_min_frame_t  *fr, *parent;

    fr = &f->frames[idx];

    if (fr->opened) {
        return;
    }

    /* a lazy frame is never the root */
    parent = &f->frames[idx - 1];
    fw_min_open(f, idx - 1);

    if (parent->members) {
        fw_min_write(f, ",", 1);
    }

    if (parent->kind == '{') {
        fw_min_write(f, "\"", 1);
        fw_min_write(f, f->keys + fr->keyoff, fr->keylen);
        fw_min_write(f, "\":", 2);
    }

    fw_min_write(f, &fr->kind, 1);
    parent->members = 1;
    fr->opened = 1;
}


static inline void
fw_min_write_key(fw_min_filter_t *f)
{

    u_char          *o;
    fw_min_frame_t  *fr;

    fr = &f->frames[f->depth - 1];

    if (!fr->opened) {
        fw_min_open(f, f->depth - 1);
    }

    o = f->o;

    if (fr->members) {
        *o++ = ',';
    }

    *o++ = '"';

    if (f->key_len <= 16) {
        /* a fixed-size copy: the output reserve has room for it */
        memcpy(o, f->key, 16);

    } else {
        memcpy(o, f->key, f->key_len);
    }

    o += f->key_len;
    *o++ = '"';
    *o++ = ':';
    f->o = o;
    fr->members = 1;
}


static inline void
fw_min_write_elem(fw_min_filter_t *f)
{
    fw_min_frame_t  *fr;

    if (f->depth == 0) {
        return;
    }

    fr = &f->frames[f->depth - 1];

    if (fr->kind == '{') {
        fw_min_write_key(f);
        return;
    }

    fw_min_open(f, f->depth - 1);

    if (fr->members) {
        fw_min_write(f, ",", 1);
    }

    fr->members = 1;
}


static int
fw_min_push(fw_min_filter_t *f, int kind, int lazy, int role)
{
    fw_min_frame_t  *fr, *parent;

    if (f->depth == FW_MIN_DEPTH_MAX) {
        return fw_min_fail(f, "JSON nested too deep");
    }

    parent = f->depth ? &f->frames[f->depth - 1] : NULL;
    fr = &f->frames[f->depth++];

    memset(fr, 0, sizeof(fw_min_frame_t));
    fr->kind = (uint8_t) kind;
    fr->role = (uint8_t) role;
    fr->first = 1;
    fr->res = parent ? parent->res : 0;
    fr->pathlen = parent ? f->vpath : 0;

    if (lazy) {
        fr->keep = f->vrule;

        if (parent->kind == '{') {
            /* keep-only frames nest at most a few levels: see decide() */
            if (f->keys_len + f->key_len > sizeof(f->keys)) {
                return fw_min_fail(f, "JSON nested too deep");
            }

            fr->keyoff = f->keys_len;
            fr->keylen = (uint8_t) f->key_len;
            memcpy(f->keys + f->keys_len, f->key, f->key_len);
            f->keys_len += (uint16_t) f->key_len;
        }

        return 0;
    }

    fw_min_write(f, &fr->kind, 1);
    fr->opened = 1;

    if (role == R_META) {
        f->res[fr->res].tagged = 1;

    } else if (role == R_TAG) {
        parent->tag = 1;
    }

    return 0;
}


static int
fw_min_close(fw_min_filter_t *f, int kind)
{
    fw_min_frame_t  *fr;
    fw_min_res_t    *res;

    fr = &f->frames[f->depth - 1];

    if (fr->kind != kind) {
        return fw_min_fail(f, "mismatched bracket");
    }

    res = &f->res[fr->res];

    switch (fr->role) {

    case R_MUST:
        return fw_min_fail(f, "a resource without a resourceType");

    case R_RES:
        if (res->subset && !res->tagged) {
            fw_min_write(f, ",\"meta\":{\"tag\":[", 16);
            fw_min_write(f, fw_min_tag, sizeof(fw_min_tag) - 1);
            fw_min_write(f, "]}", 2);
        }

        f->nres--;
        break;

    case R_META:
        if (res->subset && !fr->tag) {
            if (fr->members) {
                fw_min_write(f, ",", 1);
            }

            fw_min_write(f, "\"tag\":[", 7);
            fw_min_write(f, fw_min_tag, sizeof(fw_min_tag) - 1);
            fw_min_write(f, "]", 1);
        }

        break;

    case R_TAG:
        if (res->subset) {
            if (fr->members) {
                fw_min_write(f, ",", 1);
            }

            fw_min_write(f, fw_min_tag, sizeof(fw_min_tag) - 1);
        }

        break;
    }

    if (fr->opened) {
        fw_min_write(f, kind == '{' ? "}" : "]", 1);
    }

    if (fr->keylen) {
        f->keys_len = fr->keyoff;
    }

    f->depth--;
    f->state = f->depth ? S_AFTER : S_END;

    return 0;
}


/* a bracket that closes a plain frame (opened, no role, no lazy key) */
static inline void
fw_min_close_fast(fw_min_filter_t *f, int kind)
{
    fw_min_frame_t  *fr;

    fr = &f->frames[f->depth - 1];

    if (fr->kind != kind || fr->role != R_NONE || !fr->opened || fr->keylen
        || f->depth == 1)
    {
        fw_min_close(f, kind);
        return;
    }

    *f->o++ = (u_char) (kind + 2);   /* '{' + 2 is '}', '[' + 2 is ']' */
    f->depth--;
    f->state = S_AFTER;
}


/* 1 if the key (in f->key) has a byte that is not [A-Za-z0-9_] */
static inline int
fw_min_key_bad(const u_char *k, size_t kl)
{
    size_t    i;
#if defined(FW_MIN_SSE2)
    unsigned  m;
    __m128i   v, lo;

    if (kl <= 16) {
        /* f->key has FW_MIN_KEY_MAX + 1 bytes: 16 can be read */
        v = _mm_loadu_si128((const __m128i *) k);
        lo = _mm_or_si128(v, _mm_set1_epi8(0x20));
        m = (unsigned) _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
                _mm_and_si128(_mm_cmpgt_epi8(lo, _mm_set1_epi8(0x60)),
                              _mm_cmplt_epi8(lo, _mm_set1_epi8(0x7b))),
                _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x2f)),
                              _mm_cmplt_epi8(v, _mm_set1_epi8(0x3a)))),
                _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));

        return (~m & ((1u << kl) - 1)) != 0;
    }
#endif

    for (i = 0; i < kl; i++) {
        if (!fw_min_name_char[k[i]]) {
            return 1;
        }
    }

    return 0;
}


/*
 * A key's checks before the profile's: 0, 1 if it is a resource's
 * resourceType (f->vact is set), -1 if it is malformed or out of place.
 */
static int
fw_min_key_check(fw_min_filter_t *f, fw_min_frame_t *fr, const u_char *k,
    size_t kl)
{
    if (kl == 0) {
        return fw_min_fail(f, "an empty key");
    }

    if (fw_min_key_bad(k, kl)) {
        return fw_min_fail(f, "a key that is not an element name");
    }

    if (kl == 12 && memcmp(k, "resourceType", 12) == 0) {
        if (fr->first && fr->role == R_MUST) {
            fr->first = 0;
            f->vact = VA_RTYPE;
            return 1;
        }

        return fw_min_fail(f, "resourceType out of place");
    }

    if (fr->role == R_MUST) {
        return fw_min_fail(f, "a resource whose first member is not "
                              "resourceType");
    }

    fr->first = 0;

    return 0;
}


/* the path of a member (name nm) inside its resource: its length */
static inline size_t
fw_min_key_path(fw_min_res_t *res, size_t base, const u_char *nm, size_t nl)
{
    if (base == PATH_OVER || base + 1 + nl > FW_MIN_RPATH_MAX) {
        return PATH_OVER;
    }

    if (base) {
        res->path[base] = '.';
    }

    if (nl <= 16 && base + 1 + 16 <= sizeof(res->path)) {
        /* fixed-size: past the path is free, f->key has 16 bytes */
        memcpy(res->path + (base ? base + 1 : 0), nm, 16);

    } else {
        memcpy(res->path + (base ? base + 1 : 0), nm, nl);
    }

    return base ? base + 1 + nl : nl;
}


/* 1 if the name is in the keep-only rule's list */
static inline int
fw_min_keep_has(fw_min_filter_t *f, const fw_min_rule_t *keep,
    const u_char *nm, size_t nl)
{
    if (keep != f->lens_rule) {
        /* the keep-only rule last seen: most often the same */
        f->lens_rule = keep;
        f->lens_keep = fw_min_lens((const u_char *) keep->keep,
                                   keep->keep_len);
    }

    return fw_min_lens_has(f->lens_keep, nl)
           && fw_min_has((const u_char *) keep->keep, keep->keep_len, nm, nl);
}


/* the key of the top object is in f->key: what happens to its value */
static int
fw_min_decide(fw_min_filter_t *f)
{
    size_t                   kl, nl, base, cand, h;
    const u_char            *k, *nm;
    fw_min_frame_t          *fr;
    fw_min_res_t            *res;
    const fw_min_rule_t     *year, *keep;
    const fw_min_profile_t  *prof;

    fr = &f->frames[f->depth - 1];
    k = f->key;
    kl = f->key_len;

    switch (fw_min_key_check(f, fr, k, kl)) {
    case 0:
        break;
    case 1:
        return 0;
    default:
        return FW_MIN_ERROR;
    }

    prof = f->prof;
    res = &f->res[fr->res];

    nm = k;
    nl = kl;

    if (nm[0] == '_') {
        nm++;
        nl--;
    }

    base = fr->pathlen;
    cand = fw_min_key_path(res, base, nm, nl);
    f->vpath = (uint16_t) cand;
    f->vrole = R_NONE;
    f->vact = VA_EMIT;

    if (fr->role == R_RES) {
        if ((nl == 2 && memcmp(nm, "id", 2) == 0)
            || (nl == 4 && memcmp(nm, "meta", 4) == 0))
        {
            if (kl == 4) {
                f->vrole = R_META;
            }

            return 0;
        }

        if (!res->visible
            || (res->elements
                && (!fw_min_lens_has(res->elements_lens, nl)
                    || !fw_min_has(res->elements->list,
                                   res->elements->list_len, nm, nl))))
        {
            f->vact = VA_SKIP;
            return 0;
        }

        if (kl == 9 && memcmp(k, "contained", 9) == 0) {
            f->vrole = R_RESARR;
        }

    } else if (fr->role == R_KEEP) {
        if (!fw_min_keep_has(f, fr->keep, nm, nl) || nm != k) {
            f->vact = VA_SKIP;
        }

        return 0;

    } else if (fr->role == R_META && kl == 3 && memcmp(k, "tag", 3) == 0) {
        f->vrole = R_TAG;
    }

    year = NULL;
    keep = NULL;

    h = nl ? fw_min_leaf_hash(nm, nl) : 0;

    if (fw_min_bloom_has(res->bloom, h)
        && fw_min_rules_match(prof, res, h, nm, nl,
                              cand == PATH_OVER ? 0 : cand, &year, &keep))
    {
        f->vact = VA_SKIP;
        return 0;
    }

    if (prof->display && nl == 7 && memcmp(nm, "display", 7) == 0
        && !fw_min_display_kept(res, base == PATH_OVER ? 0 : base))
    {
        f->vact = VA_SKIP;
        return 0;
    }

    if (year) {
        /* _birthDate holds extensions of the date: dropped */
        f->vact = (nm == k) ? VA_YEAR : VA_SKIP;
        return 0;
    }

    if (keep) {
        f->vact = (nm == k) ? VA_LAZY : VA_SKIP;
        f->vrule = keep;
        return 0;
    }

    if (res->kind != K_OTHER && cand != PATH_OVER && nm == k
        && fw_min_res_position(res, cand))
    {
        f->vact = VA_RES;
        f->vrole = R_MUST;
    }

    return 0;
}


/* the action for the next element of the top array */
static void
fw_min_elem_action(fw_min_filter_t *f)
{
    fw_min_frame_t  *fr;

    fr = &f->frames[f->depth - 1];
    f->vpath = fr->pathlen;
    f->vrole = R_NONE;

    if (fr->role == R_RESARR) {
        f->vact = VA_RES;
        f->vrole = R_MUST;

    } else if (fr->role == R_KEEP) {
        f->vact = VA_LAZY;
        f->vrule = fr->keep;

    } else {
        f->vact = VA_EMIT;
    }
}


/* the first byte of a value */
static int
fw_min_value(fw_min_filter_t *f, u_char c)
{
    int  act, container;

    act = f->vact;

    /* the SUBSETTED tag goes into meta.tag: both must have their type */

    if (act != VA_SKIP && f->vrole == R_META && c != '{') {
        return fw_min_fail(f, "a meta that is not an object");
    }

    if (act != VA_SKIP && f->vrole == R_TAG && c != '[') {
        return fw_min_fail(f, "a meta.tag that is not an array");
    }

    if (c == '"' && (act == VA_EMIT || act == VA_SKIP)) {
        /* the most frequent value: a string written or skipped */
        f->state = S_STRING;
        f->sub = 0;
        f->slen = 0;
        f->sbad = 0;

        if (act == VA_SKIP) {
            f->key_silent = 1;
            f->str = STR_SKIP;
            return 0;
        }

        fw_min_write_elem(f);
        f->key_silent = 0;
        f->str = STR_EMIT;
        *f->o++ = '"';
        return 0;
    }

    container = (c == '{' || c == '[');

    if (act == VA_LAZY) {
        /* a keep-only container, or an object in its array */
        if (c == '{'
            || (c == '[' && f->frames[f->depth - 1].kind == '{'))
        {
            f->state = (c == '{') ? S_OBJ_FIRST : S_ARR_FIRST;
            return fw_min_push(f, c, 1, R_KEEP);
        }

        act = VA_SKIP;
    }

    if (act == VA_RES && c != '{') {
        return fw_min_fail(f, "a resource that is not an object");
    }

    if (act == VA_RTYPE && c != '"') {
        return fw_min_fail(f, "a resourceType that is not a string");
    }

    if (act == VA_YEAR && c != '"') {
        act = VA_SKIP;
    }

    if (act == VA_EMIT || act == VA_RES) {
        fw_min_write_elem(f);
    }

    if (container && act == VA_SKIP) {
        /* validated by fw_min_skip(), in one pass */
        f->state = S_SKIP;
        f->sk = SK_FIRST;
        f->sk_depth = 0;
        return fw_min_skip_open(f, c);
    }

    if (container) {
        f->state = (c == '{') ? S_OBJ_FIRST : S_ARR_FIRST;
        return fw_min_push(f, c, 0, f->vrole);
    }

    return fw_min_scalar(f, act, c);
}


/* the first byte of a string, number or literal value (act: VA_*) */
static int
fw_min_scalar(fw_min_filter_t *f, int act, u_char c)
{
    f->key_silent = (act == VA_SKIP);

    if (c == '"') {
        fw_min_str_start(f, act == VA_RTYPE ? STR_RTYPE
                            : act == VA_YEAR ? STR_YEAR
                            : act == VA_SKIP ? STR_SKIP : STR_EMIT);

        if (f->str == STR_EMIT) {
            fw_min_write(f, "\"", 1);
        }

        return 0;
    }

    if (c == '-' || (c >= '0' && c <= '9')) {
        f->state = S_NUMBER;
        f->sub = (c == '-') ? N_MINUS : (c == '0') ? N_ZERO : N_INT;

        if (act != VA_SKIP) {
            fw_min_write(f, &c, 1);
        }

        return 0;
    }

    f->litstr = (c == 't') ? "true" : (c == 'f') ? "false"
                : (c == 'n') ? "null" : NULL;

    if (f->litstr == NULL) {
        return fw_min_fail(f, "not a JSON value");
    }

    f->state = S_LITERAL;
    f->lit = 1;
    f->litlen = (uint8_t) strlen(f->litstr);

    return 0;
}


static int
fw_min_start_res(fw_min_filter_t *f)
{
    size_t                   i;
    fw_min_frame_t          *fr;
    fw_min_res_t            *res;
    const fw_min_profile_t  *prof;

    if (f->slen == 0 || f->slen > FW_MIN_NAME_MAX || f->sbad
        || !(f->sbuf[0] >= 'A' && f->sbuf[0] <= 'Z'))
    {
        return fw_min_fail(f, "a resourceType that is not a type name");
    }

    for (i = 1; i < f->slen; i++) {
        if (!((f->sbuf[i] | 0x20) >= 'a' && (f->sbuf[i] | 0x20) <= 'z')) {
            return fw_min_fail(f, "a resourceType that is not a type name");
        }
    }

    if (f->nres == FW_MIN_RES_MAX) {
        return fw_min_fail(f, "resources nested too deep");
    }

    prof = f->prof;
    fr = &f->frames[f->depth - 1];
    res = &f->res[f->nres];

    res->tagged = 0;

    /*
     * A slot that held a resource of the same type (the entries of a
     * Bundle) still has its rules: they depend on the type only.
     */
    if (res->type_len != f->slen
        || memcmp(res->type, f->sbuf, f->slen) != 0)
    {
        fw_min_res_rules(prof, res, f->sbuf, f->slen);
    }

    fr->role = R_RES;
    fr->res = (uint8_t) f->nres;
    fr->pathlen = 0;
    f->nres++;

    fw_min_write(f, "\"resourceType\":\"", 16);
    fw_min_write(f, res->type, res->type_len);
    fw_min_write(f, "\"", 1);
    fr->members = 1;

    return 0;
}


/* the closing quote of a string */
static int
fw_min_string_end(fw_min_filter_t *f)
{
    size_t  i;

    f->state = S_AFTER;

    switch (f->str) {

    case STR_KEY:
        f->key_len = f->slen;
        f->state = S_COLON;
        return 0;

    case STR_EMIT:
        fw_min_write(f, "\"", 1);
        return 0;

    case STR_RTYPE:
        return fw_min_start_res(f);

    case STR_YEAR:
        if (f->sbad || f->slen < 4) {
            return 0;
        }

        for (i = 0; i < 4; i++) {
            if (f->sbuf[i] < '0' || f->sbuf[i] > '9') {
                return 0;
            }
        }

        fw_min_write_key(f);
        fw_min_write(f, "\"", 1);
        fw_min_write(f, f->sbuf, 4);
        fw_min_write(f, "\"", 1);
        return 0;
    }

    return 0;
}


/* a key's, resourceType's or date's run of plain bytes, kept in f */
static inline int
fw_min_str_collect(fw_min_filter_t *f, const u_char *p, size_t n,
    const u_char *end)
{
    size_t  m;

    if (f->slen + n > FW_MIN_KEY_MAX) {
        if (f->str == STR_KEY) {
            return fw_min_fail(f, "a key too long");
        }

        f->sbad |= (f->str == STR_RTYPE);
    }

    if (f->str == STR_KEY) {
        if (n <= 16 && end - p >= 16 && f->slen + 16 <= sizeof(f->key)) {
            memcpy(f->key + f->slen, p, 16);

        } else {
            memcpy(f->key + f->slen, p, n);
        }

    } else if (f->slen < FW_MIN_KEY_MAX) {
        m = FW_MIN_KEY_MAX - f->slen;
        memcpy(f->sbuf + f->slen, p, n < m ? n : m);
    }

    f->slen += n;

    return 0;
}


/* the byte after a backslash (f->sub 1) or of a \uXXXX (f->sub 2) */
static int
fw_min_str_escape(fw_min_filter_t *f, u_char c)
{
    if (f->sub == 1) {
        if (c == 'u') {
            f->sub = 2;
            f->lit = 0;
            return 0;
        }

        if (c == '\0' || strchr("\"\\/bfnrt", c) == NULL) {
            return fw_min_fail(f, "a bad escape in a string");
        }

        if (f->str == STR_EMIT) {
            fw_min_write(f, "\\", 1);
            fw_min_write(f, &c, 1);
        }

        f->sub = 0;
        return 0;
    }

    if (!fw_min_hex[c]) {
        return fw_min_fail(f, "a bad \\u escape in a string");
    }

    f->uhex[f->lit++] = c;

    if (f->lit == 4) {
        if (f->str == STR_EMIT) {
            fw_min_write(f, "\\u", 2);
            fw_min_write(f, f->uhex, 4);
        }

        f->sub = 0;
    }

    return 0;
}


/*
 * In a string: a run of plain bytes written, skipped or collected, then
 * its end (a key's ':' or a value's ',' follow at once: NEXT_COLON, or
 * what fw_min_after() says, with *in past them) or an escape.
 */
static inline int
fw_min_string(fw_min_filter_t *f, const u_char **in, const u_char *end,
    u_char *oend)
{
    u_char         c;
    size_t         n, room;
    const u_char  *p, *q;

    p = *in;

    if (f->sub) {
        *in = p + 1;
        fw_min_str_escape(f, *p);
        return NEXT_NONE;
    }

    room = (size_t) (oend - f->o);

    if (room < FW_MIN_OUT_RESERVE) {
        return NEXT_NONE;
    }

    q = fw_min_str_scan(p, end);
    n = (size_t) (q - p);

    if (f->str == STR_EMIT) {
        if (n > room - 64) {
            n = room - 64;
            q = p + n;
        }

        if (n <= 16 && end - p >= 16) {
            /* a fixed-size copy: the output reserve has room for it */
            memcpy(f->o, p, 16);

        } else {
            memcpy(f->o, p, n);
        }

        f->o += n;

    } else if (f->str != STR_SKIP && fw_min_str_collect(f, p, n, end) != 0) {
        return NEXT_NONE;
    }

    *in = q;

    if (q == end || n == room - 64) {
        return NEXT_NONE;
    }

    c = *q++;
    *in = q;

    if (c == '"') {
        if (f->str == STR_KEY) {
            /* the key, then most often its ':' */
            f->key_len = f->slen;
            f->state = S_COLON;

            if (q < end && *q == ':') {
                *in = q + 1;
                return NEXT_COLON;
            }

            return NEXT_NONE;
        }

        if (fw_min_string_end(f) == 0 && f->state == S_AFTER && q < end
            && *q == ',')
        {
            /* the ',' after it: the next key or element */
            *in = q + 1;
            return fw_min_after(f, ',', q + 1, end, oend);
        }

        return NEXT_NONE;
    }

    if (c < 0x20) {
        return fw_min_fail(f, "a control character in a string"), NEXT_NONE;
    }

    /* a backslash */
    if (f->str == STR_KEY || f->str == STR_RTYPE) {
        return fw_min_fail(f, "an escape in a key or resourceType"),
               NEXT_NONE;
    }

    f->sbad = 1;
    f->sub = 1;

    return NEXT_NONE;
}


/*
 * A ',' or a closing bracket after a value (p: the byte after it): the
 * next key's quote (NEXT_KEY) or the next element's first byte
 * (NEXT_VALUE) when they follow at once.
 */
static inline int
fw_min_after(fw_min_filter_t *f, u_char c, const u_char *p,
    const u_char *end, u_char *oend)
{
    if (c == ',') {
        if (f->frames[f->depth - 1].kind == '{') {
            f->state = S_OBJ_KEY;
            return (p < end && *p == '"') ? NEXT_KEY : NEXT_NONE;
        }

        fw_min_elem_action(f);
        f->state = S_VALUE;

        return fw_min_value_next(f, p, end, oend) ? NEXT_VALUE : NEXT_NONE;
    }

    if (c == '}' || c == ']') {
        fw_min_close_fast(f, c == '}' ? '{' : '[');
        return NEXT_NONE;
    }

    return fw_min_fail(f, "',' or a closing bracket was expected"),
           NEXT_NONE;
}


/* a byte of true, false or null */
static inline void
fw_min_literal(fw_min_filter_t *f, u_char c)
{
    if (c != (u_char) f->litstr[f->lit]) {
        fw_min_fail(f, "a bad literal");
        return;
    }

    if (++f->lit == f->litlen) {
        if (!f->key_silent) {
            fw_min_write(f, f->litstr, f->litlen);
        }

        f->state = S_AFTER;
    }
}


/*
 * A byte of a number or a literal: 1 if it is part of it (a number's
 * bytes are written as they come, a literal's when it is whole), else 0.
 */
static inline size_t
fw_min_number(fw_min_filter_t *f, u_char c)
{
    int  rc;

    if (f->state == S_LITERAL) {
        fw_min_literal(f, c);
        return 1;
    }

    rc = fw_min_num(f, c);

    if (rc > 0) {
        if (!f->key_silent) {
            fw_min_write(f, &c, 1);
        }

        return 1;
    }

    if (rc == 0) {
        /* the byte after the number is read again */
        f->state = S_AFTER;
    }

    return 0;
}


/* 1 if a value's first byte is at p and may be read at once */
static inline int
fw_min_value_next(fw_min_filter_t *f, const u_char *p, const u_char *end,
    u_char *oend)
{
    return p < end && !ws(*p)
           && (size_t) (oend - f->o) >= FW_MIN_OUT_RESERVE;
}


/* '}' or a key's quote in an object (its first member or after ',') */
static inline int
fw_min_obj_key(fw_min_filter_t *f, u_char c)
{
    if (c == '}' && f->state == S_OBJ_FIRST) {
        fw_min_close(f, '{');
        return 0;
    }

    if (c != '"') {
        return fw_min_fail(f, "a key was expected"), 0;
    }

    return 1;
}


/* the byte after '[': 1 if it closes the array, else a value follows */
static inline int
fw_min_arr_first(fw_min_filter_t *f, u_char c)
{
    if (c == ']') {
        fw_min_close(f, '[');
        return 1;
    }

    fw_min_elem_action(f);
    f->state = S_VALUE;

    return 0;
}


int
fw_min_filter(fw_min_filter_t *f, const u_char **in, const u_char *end,
    u_char **out, u_char *oend)
{
    const u_char  *p;

    p = *in;
    f->o = *out;

    fw_min_run(f, &p, end, oend);

    f->in_total += (size_t) (p - *in);
    f->out_total += (size_t) (f->o - *out);
    *in = p;
    *out = f->o;

    if (f->state == S_ERROR) {
        return FW_MIN_ERROR;
    }

    return (f->state == S_END) ? FW_MIN_DONE : FW_MIN_AGAIN;
}


/*
 * The state loop of fw_min_filter(): one turn per token at most.  A state
 * that ends with the next token's first byte in hand goes straight to its
 * code (the gotos), as long as it wrote nothing (every step that writes
 * is preceded by the output room check at the top).  Whitespace between
 * tokens is dropped here.
 */
static void
fw_min_run(fw_min_filter_t *f, const u_char **in, const u_char *end,
    u_char *oend)
{
    int            next;
    u_char         c;
    const u_char  *p;

    p = *in;

    while (p < end && f->state != S_ERROR) {
        if ((size_t) (oend - f->o) < FW_MIN_OUT_RESERVE) {
            break;
        }

        c = *p;

        if (fw_min_class[c] == C_WS && fw_min_ws_state[f->state]) {
            p++;
            continue;
        }

        switch (f->state) {

        case S_END:
            fw_min_fail(f, "data after the resource");
            break;

        case S_ARR_FIRST:
            if (fw_min_arr_first(f, c)) {
                p++;
                break;
            }

            /* fall through */

        case S_VALUE:
        value:
            p++;

            if (fw_min_value(f, c) == 0 && f->state == S_STRING && p < end) {
                goto string;
            }

            break;

        case S_OBJ_FIRST:
        case S_OBJ_KEY:
            p++;

            if (!fw_min_obj_key(f, c)) {
                break;
            }

        key:
            fw_min_str_start(f, STR_KEY);

            if (p < end) {
                goto string;
            }

            break;

        case S_COLON:
            p++;

            if (c != ':') {
                fw_min_fail(f, "':' was expected");
                break;
            }

        colon:
            f->state = S_VALUE;

            if (fw_min_decide(f) != 0 || !fw_min_value_next(f, p, end, oend))
            {
                break;
            }

            c = *p;
            goto value;

        case S_AFTER:
            p++;
            next = fw_min_after(f, c, p, end, oend);
            goto next;

        case S_STRING:
        string:
            next = fw_min_string(f, &p, end, oend);

        next:
            if (next == NEXT_COLON) {
                goto colon;
            }

            if (next == NEXT_KEY) {
                p++;
                goto key;
            }

            if (next == NEXT_VALUE) {
                c = *p;
                goto value;
            }

            break;

        case S_SKIP:
            p = fw_min_skip(f, p, end);
            break;

        default: /* S_NUMBER, S_LITERAL */
            p += fw_min_number(f, c);
        }
    }

    *in = p;
}


int
fw_min_filter_finish(fw_min_filter_t *f)
{
    if (f->state == S_END) {
        return FW_MIN_DONE;
    }

    if (f->state != S_ERROR) {
        fw_min_fail(f, "the JSON document is truncated");
    }

    return FW_MIN_ERROR;
}
