/*
 * fhirwall webhook: the nginx glue's types and the functions its files share.
 */

#ifndef _NGX_HTTP_FW_WEBHOOK_H_INCLUDED_
#define _NGX_HTTP_FW_WEBHOOK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_fw_common.h"
#include "fw_webhook.h"
#include "ngx_http_fw_redis.h"
#include "ngx_http_fw_shm_cache.h"


#define NGX_HTTP_FW_WEBHOOK_SECRET_MAX  4096
#define NGX_HTTP_FW_WEBHOOK_FILE_CHUNK  16384
#define NGX_HTTP_FW_WEBHOOK_SPARE       32      /* reused MACs per secret */


/* verdicts, the values of $fw_webhook_status */
#define NGX_HTTP_FW_WH_NONE        0
#define NGX_HTTP_FW_WH_VALID       1
#define NGX_HTTP_FW_WH_MISSING     2
#define NGX_HTTP_FW_WH_MALFORMED   3
#define NGX_HTTP_FW_WH_INVALID     4
#define NGX_HTTP_FW_WH_EXPIRED     5
#define NGX_HTTP_FW_WH_TOO_LARGE   6
#define NGX_HTTP_FW_WH_REPLAY      7
#define NGX_HTTP_FW_WH_ERROR       8
#define NGX_HTTP_FW_WH_UNAVAILABLE 9
#define NGX_HTTP_FW_WH_PENDING     10   /* Redis asked; never shown */


/* fw_webhook_replay_redis failure= */
#define NGX_HTTP_FW_WH_FAIL_CLOSED 0
#define NGX_HTTP_FW_WH_FAIL_LOCAL  1


typedef struct {
    ngx_str_t                   file;
    fw_webhook_mac_t            mac;        /* keyed, duplicated per use */

    /* this worker's contexts of finished requests, reset and reused */
    fw_webhook_mac_t           *spare;
    ngx_uint_t                  nspare;
} ngx_http_fw_webhook_secret_t;


typedef struct {
    fw_webhook_mac_t           *macs;
    ngx_http_fw_webhook_secret_t *secrets;
    ngx_uint_t                  n;
} ngx_http_fw_webhook_macs_t;


typedef struct {
    ngx_http_fw_redis_conf_t   *redis;
    ngx_str_t                   prefix;
    ngx_uint_t                  failure;
    ngx_http_fw_redis_t        *client;     /* this worker's */
    ngx_uint_t                  failing;    /* logged state */
} ngx_http_fw_webhook_main_conf_t;


typedef struct {
    ngx_uint_t                  scheme;
    ngx_array_t                *secret_files;   /* ngx_str_t */
    ngx_array_t                *secrets;        /* secret_t */
    ngx_uint_t                  secrets_scheme;
    ngx_uint_t                  secrets_digest;
    time_t                      tolerance;
    off_t                       max_body;
    ngx_uint_t                  error_format;
    ngx_shm_zone_t             *replay;
    ngx_flag_t                  replay_redis;   /* "fw_webhook_replay redis" */
    time_t                      test_now;

    /* the generic scheme */
    ngx_str_t                   header;
    ngx_str_t                   sig_prefix;
    ngx_str_t                   ts_header;
    ngx_str_t                   id_header;
    ngx_uint_t                  digest;
    ngx_uint_t                  encoding;
    ngx_http_complex_value_t   *signed_prefix;
    ngx_http_complex_value_t   *signed_suffix;

    /* where this location's scheme has its signature (merged) */
    ngx_str_t                   h_sig;
    ngx_str_t                   h_ts;
    ngx_str_t                   h_id;
    ngx_str_t                   h_prefix;
    ngx_uint_t                  h_format;
    ngx_uint_t                  h_encoding;

    /* outbound signing */
    ngx_uint_t                  sign_scheme;
    ngx_http_fw_webhook_secret_t *sign_secret;
} ngx_http_fw_webhook_loc_conf_t;


typedef struct {
    ngx_uint_t                  verdict;
    ngx_http_fw_webhook_loc_conf_t *policy;     /* the configuration used */
    unsigned                    hashing:1;
    unsigned                    body_done:1;
    unsigned                    waiting:1;
    unsigned                    answered:1;
    unsigned                    replacing:1;
    ngx_buf_t                  *errbuf;         /* a 413 body to send */

    off_t                       received;
    off_t                       max_body;

    ngx_uint_t                  nmacs;
    fw_webhook_mac_t           *macs;
    ngx_str_t                   suffix;

    fw_webhook_sigs_t           sigs;
    unsigned long long          ts;
    unsigned                    has_ts:1;
    ngx_str_t                   id;

    /* replay protection through Redis */
    ngx_http_request_t         *request;
    ngx_http_fw_redis_cmd_t    *cmd;
    u_char                      key[32];
    time_t                      expires;

    /* outbound signing, computed once */
    unsigned                    signed_done:1;
    ngx_str_t                   sign_id;
    ngx_str_t                   sign_ts;
    ngx_str_t                   sign_sig;
} ngx_http_fw_webhook_ctx_t;


#pragma GCC visibility push(hidden)


extern ngx_module_t  ngx_http_fw_webhook_module;


ngx_http_fw_webhook_ctx_t *ngx_http_fw_webhook_get_ctx(
    ngx_http_request_t *r, ngx_uint_t create);
ngx_int_t ngx_http_fw_webhook_hash_bufs(ngx_http_request_t *r,
    fw_webhook_mac_t *macs, ngx_uint_t n, ngx_chain_t *in, off_t max,
    off_t *total);
time_t ngx_http_fw_webhook_now(ngx_http_fw_webhook_loc_conf_t *lcf);

ngx_int_t ngx_http_fw_webhook_replay_key(
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx,
    size_t which);
ngx_uint_t ngx_http_fw_webhook_replay_redis(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx);
ngx_uint_t ngx_http_fw_webhook_replay_check(ngx_http_request_t *r,
    ngx_http_fw_webhook_loc_conf_t *lcf, ngx_http_fw_webhook_ctx_t *ctx);
char *ngx_http_fw_webhook_replay_zone(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_fw_webhook_replay_redis_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_fw_webhook_replay(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_fw_webhook_sign_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
char *ngx_http_fw_webhook_sign_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

ngx_int_t ngx_http_fw_webhook_load_secret(ngx_conf_t *cf,
    const char *directive, ngx_str_t *file, ngx_uint_t scheme,
    ngx_uint_t digest, ngx_http_fw_webhook_secret_t *secret);
char *ngx_http_fw_webhook_generic(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void *ngx_http_fw_webhook_create_main_conf(ngx_conf_t *cf);
char *ngx_http_fw_webhook_init_main_conf(ngx_conf_t *cf, void *conf);
void *ngx_http_fw_webhook_create_loc_conf(ngx_conf_t *cf);
char *ngx_http_fw_webhook_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_WEBHOOK_H_INCLUDED_ */
