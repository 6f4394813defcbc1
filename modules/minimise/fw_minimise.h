/*
 * fhirwall minimise core (plain C, no nginx headers): minimisation
 * profiles, the request-side query rewrite and a streaming JSON filter
 * that trims FHIR resources as their bytes go by.
 *
 * The filter is fed arbitrary chunks; it keeps no copy of the document:
 * its whole state is one fw_min_filter_t (a fixed size, see
 * FW_MIN_DEPTH_MAX), and it decides at key time whether a member is
 * written or skipped.  Output is compact JSON (whitespace is dropped).
 */

#ifndef _FW_MINIMISE_H_INCLUDED_
#define _FW_MINIMISE_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


#pragma GCC visibility push(hidden)


#define FW_MIN_RULES_MAX     128
#define FW_MIN_TYPES_MAX     64     /* elements lists and visible types */
#define FW_MIN_NAME_MAX      64     /* a resource type or element name */
#define FW_MIN_PATH_MAX      128    /* a rule's dotted path */
#define FW_MIN_LIST_MAX      1024   /* an elements list, "a,b,c" */
#define FW_MIN_KEY_MAX       128    /* longer keys are refused */
#define FW_MIN_DEPTH_MAX     100    /* JSON nesting */
#define FW_MIN_RES_MAX       8      /* resources inside resources */
#define FW_MIN_RPATH_MAX     256    /* path inside one resource */

/* the output space one step of the filter may need */
#define FW_MIN_OUT_RESERVE   1024

/* fw_min_filter() results */
#define FW_MIN_AGAIN         0      /* input consumed, or output full */
#define FW_MIN_DONE          1      /* the document is complete */
#define FW_MIN_ERROR         (-1)   /* malformed: f->err says why */

/* rule actions */
#define FW_MIN_DROP          1      /* skip the member (and _member) */
#define FW_MIN_KEEP_ONLY     2      /* keep only some of its members */
#define FW_MIN_YEAR          3      /* a date: keep its year only */


typedef struct {
    u_char           type[FW_MIN_NAME_MAX + 1];  /* "" for every type */
    u_char           path[FW_MIN_PATH_MAX + 1];  /* anywhere: one name */
    uint16_t         type_len;
    uint16_t         path_len;
    uint8_t          action;
    uint8_t          anywhere;       /* the name at any depth */
    uint16_t         leaf;           /* where its last name starts */
    const char      *keep;           /* KEEP_ONLY: ",a,b," */
    size_t           keep_len;
} fw_min_rule_t;


typedef struct {
    u_char           type[FW_MIN_NAME_MAX + 1];
    uint16_t         type_len;
    uint16_t         list_len;
    u_char           list[FW_MIN_LIST_MAX + 2];  /* ",a,b," */
} fw_min_elements_t;


typedef struct {
    fw_min_rule_t      rules[FW_MIN_RULES_MAX];
    fw_min_elements_t  elements[FW_MIN_TYPES_MAX];
    size_t             nrules;
    size_t             nelements;
    u_char             types[FW_MIN_TYPES_MAX * (FW_MIN_NAME_MAX + 1) + 2];
    size_t             types_len;      /* 0: every type is visible */
    char               summary[8];     /* forced _summary, "" none */
    unsigned           display:1;      /* safe-harbor's display rule */
    unsigned           request_elements:1;
} fw_min_profile_t;


/* profiles (configuration time); 0 or -1 with a message in err */
void fw_min_profile_init(fw_min_profile_t *p);
int fw_min_profile_safe_harbor(fw_min_profile_t *p, char *err,
    size_t errlen);
int fw_min_profile_drop(fw_min_profile_t *p, const u_char *path,
    size_t len, char *err, size_t errlen);
int fw_min_profile_elements(fw_min_profile_t *p, const u_char *spec,
    size_t len, char *err, size_t errlen);
int fw_min_profile_types(fw_min_profile_t *p, const u_char *list,
    size_t len, char *err, size_t errlen);
int fw_min_profile_summary(fw_min_profile_t *p, const u_char *v,
    size_t len, char *err, size_t errlen);

/* 1 if resources of that type show more than id and meta */
int fw_min_type_visible(const fw_min_profile_t *p, const u_char *type,
    size_t len);
const fw_min_elements_t *fw_min_elements_for(const fw_min_profile_t *p,
    const u_char *type, size_t len);


/*
 * Request side: rewrites a query string (raw, without '?') for a profile.
 * "type" is the resource type of a read or type search (NULL otherwise):
 * its _elements is capped to the profile's list.  A forced _summary
 * replaces the client's (except _summary=count).  _include/_revinclude of
 * a type the profile may not see is refused: returns 403 with *diag set.
 * Returns 0 with the new query in out (*olen bytes; out must have
 * alen + FW_MIN_LIST_MAX + 64 bytes), or 400 for an undecodable name.
 */
int fw_min_query(const fw_min_profile_t *p, const u_char *type,
    size_t tlen, const u_char *args, size_t alen, u_char *out,
    size_t *olen, const char **diag);


typedef struct {
    uint8_t          kind;           /* '{' or '[' */
    uint8_t          silent;         /* the reference tokenizer's */
    uint8_t          opened;         /* its key and bracket were written */
    uint8_t          members;        /* the next member needs a comma */
    uint8_t          role;
    uint8_t          first;          /* no key seen yet */
    uint8_t          keylen;         /* lazy frames: the key, in keys */
    uint8_t          res;            /* its resource (index in res) */
    uint8_t          tag;            /* meta: a tag array was written */
    uint16_t         keyoff;
    uint16_t         pathlen;        /* its element's path in res */
    const fw_min_rule_t  *keep;      /* role KEEP: the rule */
} fw_min_frame_t;


typedef struct {
    u_char           type[FW_MIN_NAME_MAX + 1];
    uint16_t         type_len;
    uint8_t          visible;
    uint8_t          subset;         /* gets the SUBSETTED tag */
    uint8_t          tagged;         /* a meta was written */
    uint8_t          nrules;
    uint8_t          kind;           /* Bundle, Parameters: see json.c */
    uint64_t         bloom[4];       /* fw_min_leaf_hash() of its rules */
    uint8_t          rules[FW_MIN_RULES_MAX];
    /* its rules by leaf hash (& 63): first and next index in rules[] */
    uint8_t          head[64];
    uint8_t          next[FW_MIN_RULES_MAX];
    const fw_min_elements_t  *elements;
    uint64_t         elements_lens;  /* fw_min_lens() of its list */
    u_char           path[FW_MIN_RPATH_MAX + 1];
} fw_min_res_t;


typedef struct {
    const fw_min_profile_t  *prof;
    const char      *err;
    size_t           in_total;       /* bytes read */
    size_t           out_total;      /* bytes written */
    uint8_t          state;
    uint8_t          sub;            /* string escape, number, literal */
    uint8_t          vact;           /* what to do with the next value */
    uint8_t          vrole;          /* the role of that value's frame */
    uint8_t          str;            /* what the current string is */
    uint8_t          lit;            /* literal: index */
    uint8_t          litlen;
    uint8_t          key_silent;
    uint8_t          sbad;
    u_char           uhex[4];           /* the collected string is unusable */
    const char      *litstr;
    u_char          *o;              /* output, during fw_min_filter() */
    const fw_min_rule_t  *vrule;
    const fw_min_rule_t  *lens_rule; /* the keep-only rule of lens_keep */
    uint64_t         lens_keep;      /* fw_min_lens() of its keep list */
    size_t           depth;
    size_t           nres;
    uint16_t         vpath;          /* the path of the next value */
    uint16_t         keys_len;
    size_t           slen;           /* collected string length */
    u_char           sbuf[FW_MIN_KEY_MAX + 1];
    u_char           key[FW_MIN_KEY_MAX + 1];
    size_t           key_len;
    u_char           keys[4 * (FW_MIN_KEY_MAX + 1)];
    fw_min_frame_t   frames[FW_MIN_DEPTH_MAX];
    fw_min_res_t     res[FW_MIN_RES_MAX];
    /* a skipped container (S_SKIP): validated in one pass, no frames */
    uint8_t          sk;             /* its state */
    uint8_t          sk_depth;       /* its nesting, from 1 */
    uint64_t         sk_obj[2];      /* bit per level: an object */
} fw_min_filter_t;


void fw_min_filter_init(fw_min_filter_t *f, const fw_min_profile_t *p);

/*
 * Filters input [*in, end) into [*out, oend): advances both.  Stops when
 * the input is consumed or less than FW_MIN_OUT_RESERVE bytes of output
 * are left.  Returns FW_MIN_AGAIN, FW_MIN_DONE (the root value closed;
 * only whitespace may follow) or FW_MIN_ERROR.
 */
int fw_min_filter(fw_min_filter_t *f, const u_char **in, const u_char *end,
    u_char **out, u_char *oend);

/* at the end of the input: FW_MIN_DONE, or FW_MIN_ERROR (truncated) */
int fw_min_filter_finish(fw_min_filter_t *f);


#pragma GCC visibility pop


#endif /* _FW_MINIMISE_H_INCLUDED_ */
