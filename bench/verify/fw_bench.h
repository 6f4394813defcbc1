/*
 * fhirwall bench: what the bench/verify drivers share.  Not a test.
 */

#ifndef _FW_BENCH_H_INCLUDED_
#define _FW_BENCH_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


/* the whole file, NUL-terminated (malloc()ed), its length in *len; NULL
   when it cannot be read */
u_char *fw_bench_read(const char *path, size_t *len);


#endif /* _FW_BENCH_H_INCLUDED_ */
