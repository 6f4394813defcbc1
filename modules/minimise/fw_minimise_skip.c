/*
 * fhirwall minimise core: the skipper (plain C).  An object or array the
 * profile drops (or does not keep) is validated in one pass, as the
 * tokenizer (fw_minimise_json.c) would validate it, with the same errors
 * at the same bytes, but without frames, decisions or output: strings and
 * keys by the 16-byte scan, the rest one token a turn through a byte
 * class table, the nesting as one bit per level (f->sk_obj).
 */

#include <string.h>

#include "fw_minimise.h"
#include "fw_minimise_tok.h"


static inline int fw_min_skip_close(fw_min_filter_t *f, u_char c);
static int fw_min_skip_slow(fw_min_filter_t *f, const u_char **in,
    const u_char *end);
static inline int fw_min_skip_value(fw_min_filter_t *f, u_char c);
static inline int fw_min_skip_string(fw_min_filter_t *f, const u_char **in,
    const u_char *end);
static inline int fw_min_skip_key(fw_min_filter_t *f, const u_char **in,
    const u_char *end);
static inline int fw_min_skip_token(fw_min_filter_t *f, int sk, u_char c);


/* a skipped container's bracket opens: 0, or -1 if nested too deep */
int
fw_min_skip_open(fw_min_filter_t *f, u_char c)
{
    size_t  l;

    if (f->depth + f->sk_depth >= FW_MIN_DEPTH_MAX) {
        return fw_min_fail(f, "JSON nested too deep");
    }

    l = f->sk_depth++;

    if (c == '{') {
        f->sk_obj[l >> 6] |= 1ULL << (l & 63);

    } else {
        f->sk_obj[l >> 6] &= ~(1ULL << (l & 63));
    }

    return 0;
}


/* 1 if the innermost skipped container is an object */
#define fw_min_skip_obj(f)                                                   \
    (((f)->sk_obj[((f)->sk_depth - 1) >> 6] >> (((f)->sk_depth - 1) & 63))  \
     & 1)


/* a closing bracket in a skipped container: 1 when the skip is over */
static inline int
fw_min_skip_close(fw_min_filter_t *f, u_char c)
{
    if ((int) fw_min_skip_obj(f) != (c == '}')) {
        return fw_min_fail(f, "mismatched bracket");
    }

    if (--f->sk_depth == 0) {
        f->state = S_AFTER;
        return 1;
    }

    return 0;
}


/*
 * The byte-at-a-time parts of a skipped container (an escape, a number,
 * a literal; in f->sk): SK_STRING or SK_AFTER when they end, else SK_NONE
 * (the input ended, or an error).
 */
static int
fw_min_skip_slow(fw_min_filter_t *f, const u_char **in, const u_char *end)
{
    int            rc;
    u_char         c;
    const u_char  *p;

    for (p = *in; p < end; p++) {
        c = *p;

        switch (f->sk) {

        case SK_ESCAPE:
            if (c == 'u') {
                f->sk = SK_UHEX;
                f->lit = 0;
                break;
            }

            *in = p + 1;

            if (c == '\0' || strchr("\"\\/bfnrt", c) == NULL) {
                return fw_min_fail(f, "a bad escape in a string"), SK_NONE;
            }

            return SK_STRING;

        case SK_UHEX:
            if (!fw_min_hex[c]) {
                *in = p + 1;
                return fw_min_fail(f, "a bad \\u escape in a string"), SK_NONE;
            }

            if (++f->lit == 4) {
                *in = p + 1;
                return SK_STRING;
            }

            break;

        case SK_NUMBER:
            rc = fw_min_num(f, c);

            if (rc <= 0) {
                /* the byte after the number is read again */
                *in = p;
                return rc ? SK_NONE : SK_AFTER;
            }

            break;

        default: /* SK_LITERAL */
            if (c != (u_char) f->litstr[f->lit]) {
                *in = p + 1;
                return fw_min_fail(f, "a bad literal"), SK_NONE;
            }

            if (++f->lit == f->litlen) {
                *in = p + 1;
                return SK_AFTER;
            }
        }
    }

    *in = p;

    return SK_NONE;
}


#define fw_min_skip_ws(p, end)                                               \
    while (p < end && fw_min_class[*p] == C_WS) {                            \
        p++;                                                                 \
    }


/* the first byte of a value in a skipped container: the next f->sk */
static inline int
fw_min_skip_value(fw_min_filter_t *f, u_char c)
{
    switch (fw_min_class[c]) {

    case C_QUOTE:
        return SK_STRING;

    case C_OBJ:
    case C_ARR:
        return fw_min_skip_open(f, c) ? SK_NONE : SK_FIRST;

    case C_NUM:
        f->sub = (c == '-') ? N_MINUS : (c == '0') ? N_ZERO : N_INT;
        return SK_NUMBER;

    case C_LIT:
        f->litstr = (c == 't') ? "true" : (c == 'f') ? "false" : "null";
        f->lit = 1;
        f->litlen = (uint8_t) strlen(f->litstr);
        return SK_LITERAL;
    }

    return fw_min_fail(f, "not a JSON value"), SK_NONE;
}


/* a skipped string's bytes: SK_AFTER, SK_ESCAPE or SK_NONE (its end) */
static inline int
fw_min_skip_string(fw_min_filter_t *f, const u_char **in, const u_char *end)
{
    u_char         c;
    const u_char  *p;

    p = fw_min_str_scan(*in, end);
    *in = p;

    if (p == end) {
        return SK_NONE;
    }

    c = *p++;
    *in = p;

    if (c == '"') {
        return SK_AFTER;
    }

    if (c < 0x20) {
        return fw_min_fail(f, "a control character in a string"), SK_NONE;
    }

    f->sk = SK_ESCAPE;

    return SK_ESCAPE;
}


/* a key in a skipped container (f->slen bytes so far): SK_COLON or none */
static inline int
fw_min_skip_key(fw_min_filter_t *f, const u_char **in, const u_char *end)
{
    size_t         n;
    u_char         c;
    const u_char  *p, *q;

    p = *in;
    q = fw_min_str_scan(p, end);
    n = (size_t) (q - p);

    if (f->slen + n > FW_MIN_KEY_MAX) {
        return fw_min_fail(f, "a key too long"), SK_NONE;
    }

    f->slen += n;
    *in = q;

    if (q == end) {
        return SK_NONE;
    }

    c = *q++;
    *in = q;

    if (c != '"') {
        fw_min_fail(f, c < 0x20 ? "a control character in a string"
                                : "an escape in a key or resourceType");
        return SK_NONE;
    }

    return SK_COLON;
}


/* a structural byte (not whitespace) of a skipped container: next f->sk */
static inline int
fw_min_skip_token(fw_min_filter_t *f, int sk, u_char c)
{
    switch (sk) {

    case SK_FIRST:
        /* after '{' or '[' */
        if (c == (fw_min_skip_obj(f) ? '}' : ']')) {
            return fw_min_skip_close(f, c) ? SK_NONE : SK_AFTER;
        }

        if (!fw_min_skip_obj(f)) {
            return fw_min_skip_value(f, c);
        }

        /* fall through */

    case SK_OBJ_KEY:
        if (c != '"') {
            return fw_min_fail(f, "a key was expected"), SK_NONE;
        }

        f->slen = 0;
        return SK_KEY;

    case SK_COLON:
        if (c != ':') {
            return fw_min_fail(f, "':' was expected"), SK_NONE;
        }

        return SK_VALUE;

    case SK_AFTER:
        if (c == ',') {
            return fw_min_skip_obj(f) ? SK_OBJ_KEY : SK_VALUE;
        }

        if (c == '}' || c == ']') {
            return fw_min_skip_close(f, c) ? SK_NONE : SK_AFTER;
        }

        return fw_min_fail(f, "',' or a closing bracket was expected"),
               SK_NONE;

    default: /* SK_VALUE */
        return fw_min_skip_value(f, c);
    }
}


/*
 * A skipped container, validated in one pass as the tokenizer would (the
 * same errors at the same bytes) without frames, decisions or output:
 * strings and keys by fw_min_str_scan(), the rest one token a turn;
 * f->sk says where it is when the input ends.
 */
const u_char *
fw_min_skip(fw_min_filter_t *f, const u_char *p, const u_char *end)
{
    int  sk;

    sk = f->sk;

    while (sk != SK_NONE) {
        f->sk = (uint8_t) sk;

        switch (sk) {

        case SK_STRING:
            sk = fw_min_skip_string(f, &p, end);
            break;

        case SK_KEY:
            sk = fw_min_skip_key(f, &p, end);
            break;

        case SK_ESCAPE:
        case SK_UHEX:
        case SK_NUMBER:
        case SK_LITERAL:
            sk = fw_min_skip_slow(f, &p, end);
            break;

        default:
            fw_min_skip_ws(p, end);

            if (p == end) {
                sk = SK_NONE;
                break;
            }

            sk = fw_min_skip_token(f, sk, *p++);
        }
    }

    return p;
}
