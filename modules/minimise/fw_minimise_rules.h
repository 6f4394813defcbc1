/*
 * fhirwall minimise core, internal: between the tokenizer
 * (fw_minimise_json.c) and the rule matching (fw_minimise_rules.c).
 */

#ifndef _FW_MINIMISE_RULES_H_INCLUDED_
#define _FW_MINIMISE_RULES_H_INCLUDED_


#include "fw_minimise.h"


#pragma GCC visibility push(hidden)


/* a rule's last name, hashed to one of 256 bits: most keys match none */
#define fw_min_leaf_hash(s, n)  (((n) * 31 + (s)[0] * 7 + (s)[(n) - 1]) & 255)
#define fw_min_bloom_has(b, h)  ((b)[(h) >> 6] & (1ULL << ((h) & 63)))

/* fw_min_res_t.kind: where resources are nested */
#define K_OTHER      0
#define K_BUNDLE     1
#define K_PARAMETERS 2


/* fills the slot for a resource of this type: its rules, bloom, kind */
void fw_min_res_rules(const fw_min_profile_t *prof, fw_min_res_t *res,
    const u_char *type, size_t len);

/*
 * The rules of the resource whose last name is nm (its leaf hash h; the
 * member's path in res->path, cand bytes; 0: too long to match a path):
 * 1 if one drops it, else 0 with *year and *keep set to the last such
 * rule that matches.  Only the rules of h's chain are looked at.
 */
int fw_min_rules_match(const fw_min_profile_t *prof, fw_min_res_t *res,
    size_t h, const u_char *nm, size_t nl, size_t cand,
    const fw_min_rule_t **year, const fw_min_rule_t **keep);

/*
 * The lengths of a list's names (",a,b,"), one bit each (length & 63): a
 * name whose bit is clear is not in the list (fw_min_has() need not look).
 */
uint64_t fw_min_lens(const u_char *list, size_t llen);
#define fw_min_lens_has(lens, n)  (((lens) >> ((n) & 63)) & 1)

/* 1 if ",name," is in list (",a,b,") */
int fw_min_has(const u_char *list, size_t llen, const u_char *name,
    size_t len);

/* 1 if the path (of length len) in this resource holds a resource */
int fw_min_res_position(fw_min_res_t *res, size_t len);

/* 1 if a "display" under this parent element is a code's label */
int fw_min_coding_parent(const u_char *p, size_t len);

/*
 * safe-harbor's display rule: 1 if the "display" of the element whose
 * path in res->path is base bytes long is kept (0: the resource's top
 * level, or a path too long) because that element is a Coding.
 */
int fw_min_display_kept(fw_min_res_t *res, size_t base);


#pragma GCC visibility pop


#endif /* _FW_MINIMISE_RULES_H_INCLUDED_ */
