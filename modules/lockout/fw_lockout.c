/*
 * fhirwall lockout core: see fw_lockout.h.
 */


#include <stddef.h>

#include "fw_lockout.h"


const char *
fw_lockout_conf_check(const fw_lockout_conf_t *c)
{
    if (c->failures < 1 || c->failures > FW_LOCKOUT_MAX_FAILURES) {
        return "failures= must be between 1 and 32";
    }

    if (c->window == 0) {
        return "window= must be positive";
    }

    if (c->lockout == 0) {
        return "lockout= must be positive";
    }

    if (c->max < c->lockout) {
        return "max= must be at least lockout=";
    }

    return NULL;
}


uint64_t
fw_lockout_duration(const fw_lockout_conf_t *c, uint32_t level)
{
    uint32_t  i;
    uint64_t  d;

    d = c->lockout;

    for (i = 1; i < level && d < c->max; i++) {
        d *= 2;
    }

    return d < c->max ? d : c->max;
}


uint64_t
fw_lockout_remaining(const fw_lockout_state_t *s, uint64_t now)
{
    return s->locked_until > now ? s->locked_until - now : 0;
}


uint64_t
fw_lockout_fail(fw_lockout_state_t *s, const fw_lockout_conf_t *c,
    uint64_t now)
{
    uint32_t  i, in, cap;
    uint64_t  d;

    if (fw_lockout_remaining(s, now)) {
        return 0;
    }

    if (s->level_until <= now) {
        s->level = 0;
    }

    cap = c->failures;

    if (s->head >= cap || s->n > cap) {
        /* the configuration changed: start again */
        s->head = 0;
        s->n = 0;
    }

    s->t[s->head] = now;
    s->head = (s->head + 1) % cap;

    if (s->n < cap) {
        s->n++;
    }

    in = 0;

    for (i = 0; i < s->n; i++) {
        if (s->t[i] + c->window > now) {
            in++;
        }
    }

    if (in < c->failures) {
        return 0;
    }

    if (s->level < UINT32_MAX) {
        s->level++;
    }

    d = fw_lockout_duration(c, s->level);

    s->locked_until = now + d;
    s->level_until = s->locked_until + c->max;
    s->n = 0;
    s->head = 0;

    return d;
}


uint64_t
fw_lockout_expires(const fw_lockout_state_t *s, const fw_lockout_conf_t *c)
{
    uint32_t  i;
    uint64_t  e;

    e = s->locked_until;

    if (s->level && s->level_until > e) {
        e = s->level_until;
    }

    for (i = 0; i < s->n; i++) {
        if (s->t[i] + c->window > e) {
            e = s->t[i] + c->window;
        }
    }

    return e;
}
