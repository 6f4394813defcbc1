/*
 * fhirwall JWT core: the revocation list (plain C, no nginx headers).
 *
 * A text file, one entry a line; blank lines and lines starting with '#'
 * are ignored:
 *
 *     jti VALUE            the token whose jti is VALUE
 *     sub VALUE            every token of that subject
 *     sub VALUE AT         the subject's tokens issued at or before AT
 *                          (Unix seconds): iat <= AT, or no iat
 *
 * VALUE: 1 to 1024 bytes, no space, tab or control character.
 */

#ifndef _FW_JWT_REVOKE_H_INCLUDED_
#define _FW_JWT_REVOKE_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>


#pragma GCC visibility push(hidden)


#define FW_JWT_REVOKE_VALUE_MAX  1024


typedef struct fw_jwt_revoke_s  fw_jwt_revoke_t;


/*
 * Parses a list (a copy is kept); NULL with a message in err (at least
 * 256 bytes: "line N: ...") when it is invalid or memory ran out.
 */
fw_jwt_revoke_t *fw_jwt_revoke_parse(const u_char *text, size_t len,
    char *err);

void fw_jwt_revoke_free(fw_jwt_revoke_t *rv);

size_t fw_jwt_revoke_count(const fw_jwt_revoke_t *rv);

/*
 * 1 when the token is revoked: its jti is listed, or its sub is listed
 * with no time, or with a time AT and the token has no iat or iat <= AT.
 * jti or sub may be NULL (the claim is absent).
 */
int fw_jwt_revoke_check(const fw_jwt_revoke_t *rv, const u_char *jti,
    size_t jti_len, const u_char *sub, size_t sub_len, int has_iat,
    long iat);


#pragma GCC visibility pop


#endif /* _FW_JWT_REVOKE_H_INCLUDED_ */
