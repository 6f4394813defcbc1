/*
 * fhirwall: byte codecs shared by the modules (plain C, no nginx headers).
 */

#ifndef _FW_CODEC_H_INCLUDED_
#define _FW_CODEC_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


#pragma GCC visibility push(hidden)


#define FW_OK      0
#define FW_ERROR  -1


/* length of the decoded data for an input of "len" characters (upper bound) */
#define fw_base64_decoded_len(len)  (((len) + 3) / 4 * 3)
#define fw_base64_encoded_len(len)  (((len) + 2) / 3 * 4)
#define fw_base64url_encoded_len(len)  (((len) * 4 + 2) / 3)


/*
 * Strict base64url (RFC 4648 section 5, as JWS uses it): no padding, no
 * white space, only the url-safe alphabet, a length that is not 1 mod 4 and
 * unused trailing bits that are zero, so that every byte string has exactly
 * one accepted encoding.  "out" must hold fw_base64_decoded_len(len) bytes.
 */
int fw_base64url_decode(const u_char *in, size_t len, u_char *out,
    size_t *out_len);

/*
 * Strict standard base64 with the padding the encoding requires (a
 * missing or extra "=" is an error, as are unused bits that are not zero).
 */
int fw_base64_decode(const u_char *in, size_t len, u_char *out,
    size_t *out_len);

size_t fw_base64url_encode(const u_char *in, size_t len, u_char *out);
size_t fw_base64_encode(const u_char *in, size_t len, u_char *out);

/* hex, either case; an odd length or a non-hex character is an error */
int fw_hex_decode(const u_char *in, size_t len, u_char *out,
    size_t *out_len);
size_t fw_hex_encode(const u_char *in, size_t len, u_char *out);

/* constant-time comparison of two byte strings: 1 if equal, else 0 */
int fw_ct_equal(const u_char *a, size_t a_len, const u_char *b,
    size_t b_len);

/* unsigned decimal, no sign, no white space, no leading "+"; FW_ERROR on
   overflow of "max" */
int fw_parse_uint(const u_char *p, size_t len, unsigned long long max,
    unsigned long long *value);


#pragma GCC visibility pop


#endif /* _FW_CODEC_H_INCLUDED_ */
