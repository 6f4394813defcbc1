/*
 * fhirwall minimise core, internal: the tokenizer's states, byte classes
 * and scanners, shared by the tokenizer (fw_minimise_json.c) and the
 * skipper (fw_minimise_skip.c).
 */

#ifndef _FW_MINIMISE_TOK_H_INCLUDED_
#define _FW_MINIMISE_TOK_H_INCLUDED_


#include <string.h>

/* SSE2 (x86-64 always has it), unless a plain C build is asked for */
#if defined(__SSE2__) && !defined(FW_MIN_NO_SIMD)
#define FW_MIN_SSE2  1
#include <emmintrin.h>
#endif

#include "fw_minimise.h"


#pragma GCC visibility push(hidden)


/* f->state */
#define S_VALUE      0
#define S_OBJ_FIRST  1
#define S_OBJ_KEY    2
#define S_COLON      3
#define S_AFTER      4
#define S_STRING     5
#define S_NUMBER     6
#define S_LITERAL    7
#define S_END        8
#define S_ERROR      9
#define S_ARR_FIRST  10
#define S_SKIP       11      /* a skipped container: fw_min_skip() */

/* f->sk, in a skipped container */
#define SK_VALUE     0
#define SK_FIRST     1       /* after '{' or '[' */
#define SK_OBJ_KEY   3
#define SK_COLON     4
#define SK_AFTER     5
#define SK_STRING    6
#define SK_KEY       7
#define SK_ESCAPE    8
#define SK_UHEX      9
#define SK_NUMBER    10
#define SK_LITERAL   11
#define SK_NONE      0xff    /* fw_min_skip*(): the input ended, an error */

/* number sub-states */
#define N_MINUS      0
#define N_ZERO       1
#define N_INT        2
#define N_DOT        3
#define N_FRAC       4
#define N_E          5
#define N_ESIGN      6
#define N_EXP        7

#define ws(c)  ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

/* eight bytes at a time: any '"', '\\' or control character? */
#define FW_MIN_ONES     0x0101010101010101ULL
#define FW_MIN_HIGHS    0x8080808080808080ULL
#define fw_min_zero(x)  (((x) - FW_MIN_ONES) & ~(x) & FW_MIN_HIGHS)
#define fw_min_stop8(x)                                                      \
    (fw_min_zero((x) ^ (FW_MIN_ONES * '"'))                                  \
     | fw_min_zero((x) ^ (FW_MIN_ONES * '\\'))                               \
     | (((x) - FW_MIN_ONES * 0x20) & ~(x) & FW_MIN_HIGHS))

/* the bytes that end a run of plain string bytes */
static const u_char  fw_min_str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1
};

/* byte classes of the skipper */
#define C_OTHER      0
#define C_WS         1
#define C_QUOTE      2
#define C_OBJ        3
#define C_ARR        4
#define C_CLOSE_OBJ  5
#define C_CLOSE_ARR  6
#define C_COMMA      7
#define C_COLON      8
#define C_NUM        9
#define C_LIT        10

static const u_char  fw_min_class[256] = {
    [' '] = C_WS, ['\t'] = C_WS, ['\n'] = C_WS, ['\r'] = C_WS,
    ['"'] = C_QUOTE, ['{'] = C_OBJ, ['['] = C_ARR, ['}'] = C_CLOSE_OBJ,
    [']'] = C_CLOSE_ARR, [','] = C_COMMA, [':'] = C_COLON,
    ['-'] = C_NUM, ['0'] = C_NUM, ['1'] = C_NUM, ['2'] = C_NUM,
    ['3'] = C_NUM, ['4'] = C_NUM, ['5'] = C_NUM, ['6'] = C_NUM,
    ['7'] = C_NUM, ['8'] = C_NUM, ['9'] = C_NUM,
    ['t'] = C_LIT, ['f'] = C_LIT, ['n'] = C_LIT
};

/* [0-9A-Fa-f] */
static const u_char  fw_min_hex[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1
};


/* stops the filter: f->err says why; returns FW_MIN_ERROR */
int fw_min_fail(fw_min_filter_t *f, const char *err);

/* a dropped container's first bracket (c): 0, or -1 if nested too deep */
int fw_min_skip_open(fw_min_filter_t *f, u_char c);

/*
 * The skipper, from f->sk, on [p, end): returns where it stopped (the
 * state is S_AFTER once the container has closed).
 */
const u_char *fw_min_skip(fw_min_filter_t *f, const u_char *p,
    const u_char *end);


/* the first '"', '\\' or control character in [p, end), or end */
static inline const u_char *
fw_min_str_scan(const u_char *p, const u_char *end)
{
#if defined(FW_MIN_SSE2)
    unsigned  m;
    __m128i   v, quote, bslash, ctl;

    quote = _mm_set1_epi8('"');
    bslash = _mm_set1_epi8('\\');
    ctl = _mm_set1_epi8(0x1f);

    while (end - p >= 16) {
        v = _mm_loadu_si128((const __m128i *) p);
        m = (unsigned) _mm_movemask_epi8(
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                          _mm_cmpeq_epi8(v, bslash)),
                             _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl)));

        if (m) {
            return p + __builtin_ctz(m);
        }

        p += 16;
    }
#else
    uint64_t  v;

    while (end - p >= 8) {
        memcpy(&v, p, 8);

        if (fw_min_stop8(v)) {
            break;
        }

        p += 8;
    }
#endif

    while (p < end && !fw_min_str_stop[*p]) {
        p++;
    }

    return p;
}


/*
 * One byte of a number (its state in f->sub): 1 if it is part of it, 0
 * if the number ended before it (the byte is read again), -1 if it is
 * malformed.
 */
static inline int
fw_min_num(fw_min_filter_t *f, u_char c)
{
    switch (f->sub) {
    case N_MINUS:
        if (c == '0') {
            f->sub = N_ZERO;
        } else if (c >= '1' && c <= '9') {
            f->sub = N_INT;
        } else {
            return fw_min_fail(f, "a bad number");
        }
        return 1;
    case N_ZERO:
    case N_INT:
        if (c >= '0' && c <= '9' && f->sub == N_INT) {
            return 1;
        }
        if (c == '.') {
            f->sub = N_DOT;
        } else if (c == 'e' || c == 'E') {
            f->sub = N_E;
        } else {
            return 0;
        }
        return 1;
    case N_DOT:
        if (c >= '0' && c <= '9') {
            f->sub = N_FRAC;
            return 1;
        }
        return fw_min_fail(f, "a bad number");
    case N_FRAC:
        if (c >= '0' && c <= '9') {
            return 1;
        }
        if (c == 'e' || c == 'E') {
            f->sub = N_E;
            return 1;
        }
        return 0;
    case N_E:
        if (c == '+' || c == '-') {
            f->sub = N_ESIGN;
            return 1;
        }
        /* fall through */
    case N_ESIGN:
        if (c >= '0' && c <= '9') {
            f->sub = N_EXP;
            return 1;
        }
        return fw_min_fail(f, "a bad number");
    default: /* N_EXP */
        return (c >= '0' && c <= '9') ? 1 : 0;
    }
}


#pragma GCC visibility pop


#endif /* _FW_MINIMISE_TOK_H_INCLUDED_ */
