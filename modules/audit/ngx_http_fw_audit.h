/*
 * fhirwall audit: the nginx glue's types and the functions its files share.
 */

#ifndef _NGX_HTTP_FW_AUDIT_H_INCLUDED_
#define _NGX_HTTP_FW_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ngx_http_fw_common.h"
#include "fw_audit.h"


#define NGX_HTTP_FW_AUDIT_LITERAL  -2

#define NGX_HTTP_FW_AUDIT_FSYNC_OFF     0
#define NGX_HTTP_FW_AUDIT_FSYNC_ALWAYS  ((ngx_msec_t) -1)


typedef struct {
    ngx_str_t                    name;      /* without "$", or a literal */
    ngx_int_t                    index;     /* NGX_ERROR: not defined */
} ngx_http_fw_audit_var_t;


/* how a check's value names a denial when no module said it denied */
#define NGX_HTTP_FW_AUDIT_CHECK_RECORD  0   /* never: the module says so */
#define NGX_HTTP_FW_AUDIT_CHECK_OK      1   /* any value not in "ok" */
#define NGX_HTTP_FW_AUDIT_CHECK_VOCAB   2   /* a value the table denies */


typedef struct {
    ngx_str_t                    module;
    ngx_http_fw_audit_var_t     *var;
    ngx_array_t                  ok;        /* ngx_str_t */
    const fw_vocab_module_t     *vocab;     /* NULL: not a fhirwall module */
    ngx_uint_t                   mode;
} ngx_http_fw_audit_check_t;


typedef struct {
    ngx_str_t                    name;
    ngx_open_file_t             *file;      /* NULL: stdout or stderr */
    ngx_fd_t                     std_fd;
    ngx_fd_t                     read_fd;   /* the file, to read back */
    ngx_uint_t                   format;
    ngx_uint_t                   mode;
    size_t                       buffer_size;
    ngx_msec_t                   flush;
    ngx_msec_t                   fsync;

    /* the state of this worker */
    fw_audit_chain_t            *chain;
    u_char                      *buf;
    size_t                       len;
    ngx_uint_t                   nrecs;
    ngx_event_t                  flush_event;
    ngx_fd_t                     seen_fd;
    ngx_msec_t                   last_sync;
    ngx_uint_t                   lost;
    ngx_msec_t                   tried;     /* failed: the last write */
    unsigned                     failed:1;
    unsigned                     started:1;
    unsigned                     frag:1;    /* ends inside a record */
} ngx_http_fw_audit_sink_t;


typedef struct {
    ngx_array_t                  sinks;     /* ngx_http_fw_audit_sink_t * */
    ngx_array_t                  vars;      /* ngx_http_fw_audit_var_t * */
    ngx_array_t                 *defaults[FW_AUDIT_F_MAX];
    ngx_array_t                 *checks;    /* ngx_http_fw_audit_check_t */
    ngx_int_t                    denied_by;     /* $fw_denied_by */
    ngx_int_t                    denied_reason; /* $fw_denied_reason */

    ngx_str_t                    secret;
    ngx_msec_t                   epoch;
    u_char                       query_key[FW_AUDIT_MAC_LEN];
    fw_audit_hmac_t             *query_hmac;   /* a worker's, lazily */

    /* redaction (ngx_http_fw_audit_redact.c) */
    ngx_str_t                    redact_hash_at;  /* an explicit hash */
    u_char                       redact_base[FW_AUDIT_MAC_LEN];
    fw_audit_hmac_t             *redact_hmac;    /* R(redact_epoch) */
    uint64_t                     redact_epoch;
    ngx_uint_t                   redact_keyed;

    size_t                       record_max;
    u_char                      *scratch;      /* the body */
    u_char                      *scratch2;     /* a copy to seal */
    ngx_str_t                    host;
    ngx_shm_zone_t              *metrics;      /* its own metrics */
} ngx_http_fw_audit_main_conf_t;


typedef struct {
    ngx_array_t                 *sinks;     /* sink *; NULL: off */
    ngx_array_t                 *fields[FW_AUDIT_F_MAX];
    ngx_flag_t                   fail_closed;
    ngx_uint_t                   redact[FW_AUDIT_F_MAX];  /* FW_AUDIT_R_* */
    ngx_flag_t                   subrequests;
    size_t                       max_record;
    ngx_uint_t                   error_format;
} ngx_http_fw_audit_loc_conf_t;


typedef struct {
    ngx_chain_t                 *held;      /* the answer's last byte */
    ngx_chain_t                 *free;      /* held-back buffers to reuse */
    ngx_chain_t                 *busy;
    unsigned                     refused:1;
    unsigned                     hold:1;    /* the body filter holds back */
    unsigned                     written:1; /* the record is written */
} ngx_http_fw_audit_ctx_t;


#pragma GCC visibility push(hidden)


extern ngx_module_t  ngx_http_fw_audit_module;


ngx_http_fw_audit_var_t *ngx_http_fw_audit_add_var(ngx_conf_t *cf,
    ngx_http_fw_audit_main_conf_t *amcf, ngx_str_t *value);

ngx_int_t ngx_http_fw_audit_sink_start(ngx_http_fw_audit_sink_t *s,
    ngx_http_fw_audit_main_conf_t *amcf, ngx_log_t *log);
void ngx_http_fw_audit_sink_lifecycle(ngx_http_fw_audit_sink_t *s,
    ngx_http_fw_audit_main_conf_t *amcf, int kind, ngx_log_t *log);
ngx_int_t ngx_http_fw_audit_sink_record(ngx_http_fw_audit_sink_t *s,
    u_char *buf, size_t len, size_t size, int kind, ngx_log_t *log);
ngx_int_t ngx_http_fw_audit_sink_probe(ngx_http_fw_audit_sink_t *s,
    size_t room, ngx_log_t *log);
void ngx_http_fw_audit_sink_flush(ngx_http_fw_audit_sink_t *s,
    ngx_log_t *log);
char *ngx_http_fw_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_fw_audit_request(ngx_http_request_t *r);
ngx_int_t ngx_http_fw_audit_filter_init(ngx_conf_t *cf);

void ngx_http_fw_audit_denial(ngx_http_request_t *r,
    ngx_http_fw_audit_main_conf_t *amcf, unsigned status,
    fw_audit_event_t *ev);
ngx_int_t ngx_http_fw_audit_add_check(ngx_conf_t *cf,
    ngx_http_fw_audit_main_conf_t *amcf, const char *module,
    const char *var, char **ok, ngx_uint_t mode);
char *ngx_http_fw_audit_check(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

char *ngx_http_fw_audit_redact(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_audit_query(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_fw_audit_redact_init_loc(ngx_http_fw_audit_loc_conf_t *alcf);
void ngx_http_fw_audit_redact_merge(ngx_http_fw_audit_loc_conf_t *prev,
    ngx_http_fw_audit_loc_conf_t *conf);
ngx_int_t ngx_http_fw_audit_redact_init_main(ngx_conf_t *cf,
    ngx_http_fw_audit_main_conf_t *amcf);
void ngx_http_fw_audit_redact_event(ngx_http_request_t *r,
    ngx_http_fw_audit_main_conf_t *amcf, ngx_http_fw_audit_loc_conf_t *alcf,
    fw_audit_event_t *ev);
void ngx_http_fw_audit_redact_exit(ngx_http_fw_audit_main_conf_t *amcf);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_AUDIT_H_INCLUDED_ */
