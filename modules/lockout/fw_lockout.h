/*
 * fhirwall lockout core (plain C, no nginx headers): failed-auth counting
 * in a sliding window and lockouts that double on each repeat.
 *
 * Times are milliseconds.  A key's state is a fixed-size record (it lives
 * in shared memory); the caller serializes access.
 */

#ifndef _FW_LOCKOUT_H_INCLUDED_
#define _FW_LOCKOUT_H_INCLUDED_


#include <stdint.h>


#pragma GCC visibility push(hidden)


#define FW_LOCKOUT_MAX_FAILURES  32


typedef struct {
    uint32_t    failures;       /* N failures ... */
    uint64_t    window;         /* ... within this many ms lock out */
    uint64_t    lockout;        /* the first lockout */
    uint64_t    max;            /* the longest; also the quiet time that
                                   forgets the repeats */
} fw_lockout_conf_t;


typedef struct {
    uint64_t    locked_until;
    uint64_t    level_until;    /* the repeat count is kept until then */
    uint32_t    level;          /* lockouts in a row */
    uint32_t    n;              /* failures in the ring */
    uint32_t    head;           /* the next slot */
    uint32_t    pad;
    uint64_t    t[FW_LOCKOUT_MAX_FAILURES];
} fw_lockout_state_t;


/* 0, or the error text: a configuration the core cannot apply */
const char *fw_lockout_conf_check(const fw_lockout_conf_t *c);

/* the lockout of the level-th repeat (1: the first): doubled, capped */
uint64_t fw_lockout_duration(const fw_lockout_conf_t *c, uint32_t level);

/* ms the key stays locked out (0: not locked) */
uint64_t fw_lockout_remaining(const fw_lockout_state_t *s, uint64_t now);

/*
 * Records a failure at "now"; returns the lockout it starts (ms), or 0.
 * A failure while locked out is not counted.
 */
uint64_t fw_lockout_fail(fw_lockout_state_t *s, const fw_lockout_conf_t *c,
    uint64_t now);

/* when the state holds nothing more (it may be forgotten) */
uint64_t fw_lockout_expires(const fw_lockout_state_t *s,
    const fw_lockout_conf_t *c);


#pragma GCC visibility pop


#endif /* _FW_LOCKOUT_H_INCLUDED_ */
