/*
 * fhirwall rate limit: the nginx glue's types and the functions its files
 * share.
 */

#ifndef _NGX_HTTP_FW_RATELIMIT_H_INCLUDED_
#define _NGX_HTTP_FW_RATELIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "ngx_http_fw_redis.h"
#include "ngx_http_fw_shm_cache.h"
#include "fw_ratelimit.h"


#define NGX_HTTP_FW_RL_NONE       0
#define NGX_HTTP_FW_RL_PASSED     1
#define NGX_HTTP_FW_RL_LIMITED    2
#define NGX_HTTP_FW_RL_DRY_RUN    3
#define NGX_HTTP_FW_RL_ERROR      4     /* served by the failure policy */
#define NGX_HTTP_FW_RL_UNAVAILABLE  5   /* refused: failure=closed */

#define NGX_HTTP_FW_RL_FAIL_OPEN    0
#define NGX_HTTP_FW_RL_FAIL_CLOSED  1
#define NGX_HTTP_FW_RL_FAIL_LOCAL   2

#define NGX_HTTP_FW_RL_WAITING    1
#define NGX_HTTP_FW_RL_DECIDED    2
#define NGX_HTTP_FW_RL_FINISHED   3

#define NGX_HTTP_FW_RL_ENGINE_REDIS  1
#define NGX_HTTP_FW_RL_ENGINE_LOCAL  2


typedef struct {
    ngx_str_t                      name;
    uint64_t                       limit;
    uint64_t                       window;        /* ms */
    uint64_t                       cost;
    ngx_http_complex_value_t       key;
    ngx_http_complex_value_t      *cost_cv;
    ngx_uint_t                     index;
    u_char                        *conf_file;
    ngx_uint_t                     conf_line;
} ngx_http_fw_ratelimit_policy_t;


typedef struct {
    ngx_array_t                    policies;      /* policy_t */
    ngx_http_fw_redis_conf_t      *redis;
    ngx_str_t                      prefix;
    size_t                         zone_size;
    ngx_shm_zone_t                *shm_zone;
    char                           sha1[41];
    ngx_http_fw_redis_t           *client;        /* this worker's */
    ngx_uint_t                     failing;       /* logged state */
    ngx_shm_zone_t                *metrics;       /* its own metrics */
} ngx_http_fw_ratelimit_main_conf_t;


typedef struct {
    ngx_array_t                   *names;         /* ngx_str_t */
    ngx_array_t                   *policies;      /* policy_t * */
    ngx_flag_t                     dry_run;
    ngx_uint_t                     failure;
    ngx_flag_t                     headers;
    ngx_flag_t                     legacy_headers;
    ngx_uint_t                     error_format;
    ngx_uint_t                     status;
    ngx_msec_t                     timeout;
} ngx_http_fw_ratelimit_loc_conf_t;


typedef struct {
    ngx_http_request_t            *r;
    ngx_http_fw_ratelimit_loc_conf_t  *lcf;
    ngx_http_fw_redis_cmd_t       *cmd;
    uint64_t                       sent;          /* us, for metrics */

    ngx_uint_t                     state;
    ngx_uint_t                     status;
    ngx_uint_t                     engine;

    ngx_uint_t                     n;
    ngx_http_fw_ratelimit_policy_t  **pol;
    ngx_str_t                     *keys;          /* the keys' values */
    fw_ratelimit_window_t         *w;
    fw_ratelimit_result_t         *res;
    int                            admitted;

    int                            argc;
    const char                   **argv;
    size_t                        *argvlen;

    uint64_t                       remaining;
    uint64_t                       reset;         /* seconds */
    uint64_t                       retry;         /* seconds */
    ngx_str_t                      limited_by;

    ngx_str_t                      hdr_policy;
    ngx_str_t                      hdr_state;
    ngx_str_t                      hdr_limit;
    ngx_str_t                      hdr_remaining;
    ngx_str_t                      hdr_reset;

    unsigned                       noscript:1;
    unsigned                       add_headers:1;
    unsigned                       legacy:1;
} ngx_http_fw_ratelimit_ctx_t;


/* the shared-memory fallback: a cache entry's value (space: the policy,
   key: the client's key), expiring when its counters no longer weigh */

typedef struct {
    uint64_t                       window;
    fw_ratelimit_slot_t            slot;
} ngx_http_fw_ratelimit_node_t;


#pragma GCC visibility push(hidden)


extern ngx_module_t  ngx_http_fw_ratelimit_module;


void *ngx_http_fw_ratelimit_create_main_conf(ngx_conf_t *cf);
char *ngx_http_fw_ratelimit_init_main_conf(ngx_conf_t *cf,
    void *conf);
void *ngx_http_fw_ratelimit_create_loc_conf(ngx_conf_t *cf);
char *ngx_http_fw_ratelimit_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
char *ngx_http_fw_ratelimit_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_ratelimit_policy(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_fw_ratelimit_status_code(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_RATELIMIT_H_INCLUDED_ */
