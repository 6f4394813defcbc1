/*
 * fhirwall minimise module, internal: the configuration (directives,
 * profiles, merge: ngx_http_fw_minimise_conf.c) and what the request and
 * filter glue (ngx_http_fw_minimise_module.c) reads of it.
 */

#ifndef _NGX_HTTP_FW_MINIMISE_H_INCLUDED_
#define _NGX_HTTP_FW_MINIMISE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "fw_minimise.h"


#define NGX_HTTP_FW_MIN_PROFILE   0
#define NGX_HTTP_FW_MIN_NONE      1
#define NGX_HTTP_FW_MIN_DENY      2


typedef struct {
    ngx_str_t                   name;
    fw_min_profile_t           *prof;
} ngx_http_fw_min_profile_t;


typedef struct {
    ngx_array_t                 profiles;      /* ngx_http_fw_min_profile_t */
} ngx_http_fw_min_main_conf_t;


typedef struct {
    ngx_http_complex_value_t    value;
    ngx_str_t                   match;
    ngx_str_t                   name;
    ngx_uint_t                  kind;
    ngx_http_fw_min_profile_t  *profile;
} ngx_http_fw_min_rule_t;


typedef struct {
    ngx_array_t                *rules;         /* ngx_http_fw_min_rule_t */
    ngx_str_t                   dflt;          /* data NULL: unset */
    ngx_uint_t                  dflt_kind;
    ngx_http_fw_min_profile_t  *dflt_profile;
    ngx_array_t                *passthrough;   /* ngx_str_t */
    size_t                      hold;
    ngx_bufs_t                  bufs;
} ngx_http_fw_min_loc_conf_t;


extern ngx_module_t  ngx_http_fw_minimise_module;


/* the glue's own functions: not exported from the .so */
#pragma GCC visibility push(hidden)

void *ngx_http_fw_min_create_main_conf(ngx_conf_t *cf);
char *ngx_http_fw_min_init_main_conf(ngx_conf_t *cf, void *conf);
void *ngx_http_fw_min_create_loc_conf(ngx_conf_t *cf);
char *ngx_http_fw_min_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
char *ngx_http_fw_min_profile(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_min_map(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_fw_min_default(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_MINIMISE_H_INCLUDED_ */
