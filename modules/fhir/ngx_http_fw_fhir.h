/*
 * fhirwall FHIR: the nginx glue's types and the functions its files share.
 */

#ifndef _NGX_HTTP_FW_FHIR_H_INCLUDED_
#define _NGX_HTTP_FW_FHIR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "fw_fhir.h"


#define NGX_HTTP_FW_FHIR_OVERRIDE_REJECT  0
#define NGX_HTTP_FW_FHIR_OVERRIDE_STRIP   1

#define NGX_HTTP_FW_FHIR_SCOPES_MAX  65536

/* what fw_fhir_auth_status said about the credentials */
#define NGX_HTTP_FW_FHIR_AUTH_NONE     0   /* not asked (no gate) */
#define NGX_HTTP_FW_FHIR_AUTH_MISSING  1   /* no token */
#define NGX_HTTP_FW_FHIR_AUTH_INVALID  2   /* a token that failed */
#define NGX_HTTP_FW_FHIR_AUTH_VALID    3


/* a directive's value: a complex value, or one variable read directly */
typedef struct {
    ngx_http_complex_value_t    cv;
    ngx_int_t                   index;         /* one variable, or -1 */
} ngx_http_fw_fhir_value_t;


typedef struct {
    ngx_uint_t                  version;       /* FW_FHIR_R*, 0: off */
    ngx_str_t                   base;          /* data NULL: unset */
    ngx_http_fw_fhir_value_t   *scopes;        /* NULL: off */
    ngx_http_fw_fhir_value_t   *patient;
    ngx_http_fw_fhir_value_t   *auth;          /* fw_fhir_auth_status */
    ngx_http_fw_fhir_value_t   *gate;          /* in force; NULL: none */
    ngx_array_t                *allow_types;   /* ngx_str_t */
    ngx_array_t                *deny_types;
    ngx_array_t                *allow_interactions;
    ngx_array_t                *deny_interactions;
    ngx_array_t                *allow_ops;     /* fw_fhir_str_t */
    ngx_array_t                *deny_ops;
    ngx_array_t                *op_perms;      /* fw_fhir_opperm_t */
    ngx_array_t                *formats;       /* fw_fhir_str_t */
    ngx_uint_t                  deny_status;
    ngx_uint_t                  override;
    ngx_uint_t                  unverifiable;
    ngx_flag_t                  strict;
    size_t                      body_max;
    ngx_uint_t                  max_entries;

    fw_fhir_policy_t            policy;
    u_char                      type_allow[FW_FHIR_TYPE_BITMAP];
    u_char                      type_deny[FW_FHIR_TYPE_BITMAP];
} ngx_http_fw_fhir_loc_conf_t;


typedef struct {
    ngx_flag_t                  used;          /* a fw_fhir directive */
    ngx_shm_zone_t             *metrics;       /* NULL: no metrics module */
} ngx_http_fw_fhir_main_conf_t;


typedef struct {
    ngx_http_fw_fhir_loc_conf_t  *conf;
    fw_fhir_req_t                 req;
    fw_fhir_verdict_t             v;
    fw_fhir_param_t              *params;
    size_t                        nparams;
    size_t                        max_params;
    ngx_str_t                     compartment;
    unsigned                      parsed:1;
    unsigned                      decided:1;
    unsigned                      body_done:1;
    unsigned                      override:1;
    unsigned                      if_none_exist:1;
    unsigned                      lenient:1;
    unsigned                      auth:2;
} ngx_http_fw_fhir_ctx_t;


#pragma GCC visibility push(hidden)


extern ngx_module_t  ngx_http_fw_fhir_module;


ngx_http_fw_fhir_ctx_t *ngx_http_fw_fhir_get_ctx(
    ngx_http_request_t *r);
void ngx_http_fw_fhir_parse(ngx_http_request_t *r,
    ngx_http_fw_fhir_ctx_t *ctx);
ngx_int_t ngx_http_fw_fhir_strip_overrides(ngx_http_request_t *r);
ngx_int_t ngx_http_fw_fhir_force_strict(ngx_http_request_t *r);
ngx_int_t ngx_http_fw_fhir_media_type(ngx_http_request_t *r,
    const char *t1, const char *t2);
ngx_int_t ngx_http_fw_fhir_add_variables(ngx_conf_t *cf);
void *ngx_http_fw_fhir_create_loc_conf(ngx_conf_t *cf);
char *ngx_http_fw_fhir_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
char *ngx_http_fw_fhir(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_fhir_base(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_fhir_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_fhir_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_fhir_ops(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_fhir_op_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_fhir_formats(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_fw_fhir_deny_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#pragma GCC visibility pop


#endif /* _NGX_HTTP_FW_FHIR_H_INCLUDED_ */
