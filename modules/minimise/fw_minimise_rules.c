/*
 * fhirwall minimise core: the rules of a profile as the filter meets
 * them (plain C): which rules a resource's type gets (kept in its slot),
 * which of them match a member's path, the elements lists, the
 * positions that hold resources and the display rule's Coding parents.
 * The tokenizer (fw_minimise_json.c) calls these at key time.
 */

#include <string.h>

#include "fw_minimise.h"
#include "fw_minimise_rules.h"


/* the rules, elements list and kind of a resource of this type */
void
fw_min_res_rules(const fw_min_profile_t *prof, fw_min_res_t *res,
    const u_char *type, size_t len)
{
    size_t               i, h;
    uint8_t              tail[64];
    const fw_min_rule_t  *r;

    memcpy(res->type, type, len);
    res->type_len = (uint16_t) len;
    res->visible = (uint8_t) fw_min_type_visible(prof, res->type, len);
    res->elements = fw_min_elements_for(prof, res->type, len);
    res->elements_lens = res->elements
                         ? fw_min_lens(res->elements->list,
                                       res->elements->list_len)
                         : 0;
    res->nrules = 0;
    memset(res->bloom, 0, sizeof(res->bloom));
    memset(res->head, 0xff, sizeof(res->head));

    for (i = 0; i < prof->nrules; i++) {
        r = &prof->rules[i];

        if (r->type_len == 0
            || (r->type_len == len && memcmp(r->type, res->type, len) == 0))
        {
            h = fw_min_leaf_hash(r->path + r->leaf,
                                 (size_t) (r->path_len - r->leaf));
            res->bloom[h >> 6] |= 1ULL << (h & 63);

            /* chained in the profile's order */
            if (res->head[h & 63] == 0xff) {
                res->head[h & 63] = (uint8_t) res->nrules;

            } else {
                res->next[tail[h & 63]] = (uint8_t) res->nrules;
            }

            tail[h & 63] = (uint8_t) res->nrules;
            res->next[res->nrules] = 0xff;
            res->rules[res->nrules++] = (uint8_t) i;
        }
    }

    res->subset = (res->elements || !res->visible || res->nrules
                   || prof->display);

    res->kind = (len == 6 && memcmp(res->type, "Bundle", 6) == 0)
                ? K_BUNDLE
                : (len == 10 && memcmp(res->type, "Parameters", 10) == 0)
                  ? K_PARAMETERS : K_OTHER;
}


int
fw_min_rules_match(const fw_min_profile_t *prof, fw_min_res_t *res,
    size_t h, const u_char *nm, size_t nl, size_t cand,
    const fw_min_rule_t **year, const fw_min_rule_t **keep)
{
    size_t               i;
    const fw_min_rule_t  *r;

    for (i = res->head[h & 63]; i != 0xff; i = res->next[i]) {
        r = &prof->rules[res->rules[i]];

        /* its last name must be this one */
        if ((size_t) (r->path_len - r->leaf) != nl
            || r->path[r->leaf] != nm[0])
        {
            continue;
        }

        if (r->anywhere) {
            if (r->path_len != nl || memcmp(r->path, nm, nl) != 0) {
                continue;
            }

        } else if (cand == 0 || r->path_len != cand
                   || memcmp(r->path, res->path, cand) != 0)
        {
            continue;
        }

        if (r->action == FW_MIN_DROP) {
            return 1;
        }

        if (r->action == FW_MIN_YEAR) {
            *year = r;

        } else {
            *keep = r;
        }
    }

    return 0;
}


uint64_t
fw_min_lens(const u_char *list, size_t llen)
{
    size_t    i, n;
    uint64_t  lens;

    lens = 0;
    n = 0;

    for (i = 0; i < llen; i++) {
        if (list[i] == ',') {
            if (i) {
                lens |= 1ULL << (n & 63);
            }

            n = 0;

        } else {
            n++;
        }
    }

    if (n) {
        lens |= 1ULL << (n & 63);
    }

    return lens;
}


int
fw_min_has(const u_char *list, size_t llen, const u_char *name, size_t len)
{
    const u_char  *p, *end;

    end = list + llen;
    p = list;

    while (p + len + 2 <= end) {
        if (p[0] == ',' && p[len + 1] == ',' && memcmp(p + 1, name, len) == 0)
        {
            return 1;
        }

        p = memchr(p + 1, ',', (size_t) (end - p - 1));
        if (p == NULL) {
            return 0;
        }
    }

    return 0;
}


/*
 * Coding-typed parents: their "display" is a code's label, kept: coding,
 * tag, security, class, valueCoding, code, modality, eventCoding, concept,
 * contains, type
 */
int
fw_min_coding_parent(const u_char *p, size_t len)
{
    switch (len) {
    case 3:
        return memcmp(p, "tag", 3) == 0;
    case 4:
        return memcmp(p, "code", 4) == 0 || memcmp(p, "type", 4) == 0;
    case 5:
        return memcmp(p, "class", 5) == 0;
    case 6:
        return memcmp(p, "coding", 6) == 0;
    case 7:
        return memcmp(p, "concept", 7) == 0;
    case 8:
        return memcmp(p, "security", 8) == 0
               || memcmp(p, "modality", 8) == 0
               || memcmp(p, "contains", 8) == 0;
    case 11:
        return memcmp(p, "valueCoding", 11) == 0
               || memcmp(p, "eventCoding", 11) == 0;
    }

    return 0;
}


/* 1 if the path (of length len) in this resource holds a resource */
int
fw_min_res_position(fw_min_res_t *res, size_t len)
{
    const u_char  *p;

    p = res->path;

    if (res->kind == K_OTHER) {
        return 0;
    }

    if (res->kind == K_BUNDLE) {
        return (len == 14 && memcmp(p, "entry.resource", 14) == 0)
               || (len == 22 && memcmp(p, "entry.response.outcome", 22) == 0)
               || (len == 6 && memcmp(p, "issues", 6) == 0);
    }

    if (res->kind == K_PARAMETERS) {
        /* parameter(.part)*.resource */
        if (len < 18 || memcmp(p, "parameter", 9) != 0
            || memcmp(p + len - 9, ".resource", 9) != 0)
        {
            return 0;
        }

        p += 9;
        len -= 18;

        while (len >= 5 && memcmp(p, ".part", 5) == 0) {
            p += 5;
            len -= 5;
        }

        return len == 0;
    }

    return 0;
}


int
fw_min_display_kept(fw_min_res_t *res, size_t base)
{
    size_t         pl;
    const u_char  *parent;

    if (base == 0) {
        return 0;
    }

    /* the parent element's name: the last segment of its path */
    parent = res->path + base;
    pl = 0;

    while (parent > res->path && parent[-1] != '.') {
        parent--;
        pl++;
    }

    return fw_min_coding_parent(parent, pl);
}
