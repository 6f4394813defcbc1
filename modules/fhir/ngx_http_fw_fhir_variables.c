/*
 * fhirwall FHIR: the variables ($fw_fhir_interaction, $fw_fhir_patient,
 * ...).
 */


#include "ngx_http_fw_fhir.h"


static ngx_int_t ngx_http_fw_fhir_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#define NGX_HTTP_FW_FHIR_V_INTERACTION  0
#define NGX_HTTP_FW_FHIR_V_TYPE         1
#define NGX_HTTP_FW_FHIR_V_ID           2
#define NGX_HTTP_FW_FHIR_V_VID          3
#define NGX_HTTP_FW_FHIR_V_OPERATION    4
#define NGX_HTTP_FW_FHIR_V_COMPARTMENT  5
#define NGX_HTTP_FW_FHIR_V_PATIENT      6
#define NGX_HTTP_FW_FHIR_V_STATUS       7


static ngx_http_variable_t  ngx_http_fw_fhir_vars[] = {

    { ngx_string("fw_fhir_interaction"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_INTERACTION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_type"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_TYPE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_id"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_vid"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_VID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_operation"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_OPERATION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_compartment"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_COMPARTMENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_patient"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_PATIENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_fhir_status"), NULL, ngx_http_fw_fhir_variable,
      NGX_HTTP_FW_FHIR_V_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_fw_fhir_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    const char              *s;
    fw_fhir_str_t            str;
    ngx_http_fw_fhir_ctx_t  *ctx;

    ctx = ngx_http_fw_fhir_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    str.data = NULL;
    str.len = 0;

    switch (data) {

    case NGX_HTTP_FW_FHIR_V_INTERACTION:
        if (ctx->req.interaction != FW_FHIR_I_NONE) {
            s = fw_fhir_interaction_names[ctx->req.interaction];
            str.data = (const u_char *) s;
            str.len = ngx_strlen(s);
        }
        break;

    case NGX_HTTP_FW_FHIR_V_TYPE:
        if (ctx->req.type >= 0) {
            str.data = (const u_char *) fw_fhir_types[ctx->req.type].name;
            str.len = fw_fhir_types[ctx->req.type].len;
        }
        break;

    case NGX_HTTP_FW_FHIR_V_ID:
        if (ctx->req.compartment < 0) {
            str = ctx->req.id;
        }
        break;

    case NGX_HTTP_FW_FHIR_V_VID:
        str = ctx->req.vid;
        break;

    case NGX_HTTP_FW_FHIR_V_OPERATION:
        str = ctx->req.op;
        break;

    case NGX_HTTP_FW_FHIR_V_COMPARTMENT:
        str.data = ctx->compartment.data;
        str.len = ctx->compartment.len;
        break;

    case NGX_HTTP_FW_FHIR_V_PATIENT:
        str = ctx->req.patient;
        break;

    default: /* NGX_HTTP_FW_FHIR_V_STATUS */
        s = ctx->v.status ? ctx->v.reason
            : ctx->decided ? FW_VOCAB_FHIR_OK : FW_VOCAB_FHIR_PARSED;
        str.data = (const u_char *) s;
        str.len = ngx_strlen(s);
        break;
    }

    if (str.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) str.data;
    v->len = str.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* ------------------------------------------------------ preconfiguration */

ngx_int_t
ngx_http_fw_fhir_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_fw_fhir_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}
