/*
 * fhirwall metrics module: counts every main request's outcomes in a
 * shared memory zone (the status variables of the modules present, who
 * denied it, the HTTP status class) and answers "fw_metrics;" locations
 * with those counters and every module's own metrics zone
 * ("fhirwall_metrics_<module>", common/ngx_http_fw_metrics.h) in the
 * Prometheus text format 0.0.4.  It links to no other module: it reads
 * their variables and finds their zones by name.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_fw_common.h"
#include "ngx_http_fw_metrics.h"


#define NGX_HTTP_FW_METRICS_OUTCOMES  "fhirwall_metrics"
#define NGX_HTTP_FW_METRICS_SLACK     4096


typedef struct {
    ngx_int_t                  *index;      /* per fw_vocab module */
    ngx_int_t                  *ctx_index;  /* of that module */
    ngx_int_t                   denied_by;  /* $fw_metrics_denied_by */
    unsigned                    present;    /* bit (1 << module) */
    ngx_shm_zone_t             *zone;       /* the outcome slots */
} ngx_http_fw_metrics_main_conf_t;


typedef struct {
    ngx_flag_t                  handler;    /* fw_metrics; */
    ngx_flag_t                  count;      /* fw_metrics_count */
} ngx_http_fw_metrics_loc_conf_t;


static ngx_int_t ngx_http_fw_metrics_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_metrics_init(ngx_conf_t *cf);
static void *ngx_http_fw_metrics_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_fw_metrics_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_fw_metrics_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_fw_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_fw_metrics_var_exists(ngx_conf_t *cf,
    const char *name);
static ngx_int_t ngx_http_fw_metrics_ctx_index(ngx_conf_t *cf,
    const char *module);
static ngx_int_t ngx_http_fw_metrics_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_fw_metrics_none(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_metrics_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_metrics_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_metrics_blocks(ngx_http_request_t *r,
    ngx_array_t *blocks);
static size_t ngx_http_fw_metrics_render(ngx_http_fw_metrics_main_conf_t
    *mmcf, ngx_array_t *blocks, u_char *buf, size_t size);


static ngx_command_t  ngx_http_fw_metrics_commands[] = {

    { ngx_string("fw_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_fw_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_metrics_count"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_metrics_loc_conf_t, count),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_metrics_module_ctx = {
    ngx_http_fw_metrics_add_variables,     /* preconfiguration */
    ngx_http_fw_metrics_init,              /* postconfiguration */

    ngx_http_fw_metrics_create_main_conf,  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_fw_metrics_create_loc_conf,   /* create location configuration */
    ngx_http_fw_metrics_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_fw_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_metrics_module_ctx,       /* module context */
    ngx_http_fw_metrics_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* set by ngx_http_fw_mark_denied() (common/), else not found */
static ngx_str_t  ngx_http_fw_metrics_denied_by =
    ngx_string("fw_metrics_denied_by");


static ngx_int_t
ngx_http_fw_metrics_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_fw_metrics_denied_by, 0);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_fw_metrics_none;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_metrics_none(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    v->not_found = 1;

    return NGX_OK;
}


static void *
ngx_http_fw_metrics_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_fw_metrics_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_metrics_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    return mmcf;
}


static void *
ngx_http_fw_metrics_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_fw_metrics_loc_conf_t  *mlcf;

    mlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_metrics_loc_conf_t));
    if (mlcf == NULL) {
        return NULL;
    }

    mlcf->handler = NGX_CONF_UNSET;
    mlcf->count = NGX_CONF_UNSET;

    return mlcf;
}


static char *
ngx_http_fw_metrics_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_fw_metrics_loc_conf_t *prev = parent;
    ngx_http_fw_metrics_loc_conf_t *conf = child;

    /* a nested location does not inherit the handler */
    ngx_conf_init_value(conf->handler, 0);
    ngx_conf_merge_value(conf->count, prev->count, 1);

    return NGX_CONF_OK;
}


static char *
ngx_http_fw_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_metrics_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->handler != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    mlcf->handler = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_fw_metrics_handler;

    return NGX_CONF_OK;
}


/*
 * A module that is not loaded has no status variable: asking for its
 * index would fail the configuration ("unknown variable"), so only the
 * variables that exist are read.
 */

static ngx_int_t
ngx_http_fw_metrics_var_exists(ngx_conf_t *cf, const char *name)
{
    size_t                      len;
    ngx_uint_t                  i;
    ngx_hash_key_t             *key;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    len = ngx_strlen(name);

    if (cmcf->variables_keys == NULL) {
        return 0;
    }

    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (key[i].key.len == len
            && ngx_strncmp(key[i].key.data, name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The ctx index of module "ngx_http_fw_<module>_module", found by name in
 * this configuration's modules (nothing is linked), or NGX_ERROR.
 */

static ngx_int_t
ngx_http_fw_metrics_ctx_index(ngx_conf_t *cf, const char *module)
{
    u_char      name[64];
    ngx_uint_t  i;

    if (ngx_strlen(module) > 40) {
        return NGX_ERROR;
    }

    *ngx_sprintf(name, "ngx_http_fw_%s_module", module) = '\0';

    for (i = 0; cf->cycle->modules[i]; i++) {
        if (cf->cycle->modules[i]->name
            && cf->cycle->modules[i]->type == NGX_HTTP_MODULE
            && ngx_strcmp(cf->cycle->modules[i]->name, name) == 0)
        {
            return cf->cycle->modules[i]->ctx_index;
        }
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_fw_metrics_init(ngx_conf_t *cf)
{
    size_t                            size;
    ngx_str_t                         name;
    ngx_uint_t                        i;
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_fw_metrics_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_metrics_module);

    mmcf->index = ngx_palloc(cf->pool, fw_vocab_nmodules * sizeof(ngx_int_t));
    mmcf->ctx_index = ngx_palloc(cf->pool,
                                 fw_vocab_nmodules * sizeof(ngx_int_t));
    if (mmcf->index == NULL || mmcf->ctx_index == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < fw_vocab_nmodules; i++) {
        mmcf->index[i] = NGX_ERROR;

        /* "$fw_jwt_status" */
        name.data = (u_char *) fw_vocab_modules[i].variable + 1;
        name.len = ngx_strlen(name.data);

        mmcf->ctx_index[i] = ngx_http_fw_metrics_ctx_index(cf,
                                                   fw_vocab_modules[i].module);

        if (mmcf->ctx_index[i] == NGX_ERROR
            || !ngx_http_fw_metrics_var_exists(cf, (const char *) name.data))
        {
            continue;
        }

        mmcf->index[i] = ngx_http_get_variable_index(cf, &name);
        if (mmcf->index[i] == NGX_ERROR) {
            return NGX_ERROR;
        }

        mmcf->present |= 1u << i;
    }

    mmcf->denied_by = ngx_http_get_variable_index(cf,
                                              &ngx_http_fw_metrics_denied_by);
    if (mmcf->denied_by == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* the same name, size and tag on reload: nginx keeps the zone */

    ngx_str_set(&name, NGX_HTTP_FW_METRICS_OUTCOMES);
    size = fw_metrics_outcome_slots() * sizeof(uint64_t);

    mmcf->zone = ngx_shared_memory_add(cf, &name,
                                       8 * ngx_pagesize
                                       + ngx_align(size, ngx_pagesize),
                                       &ngx_http_fw_metrics_module);
    if (mmcf->zone == NULL) {
        return NGX_ERROR;
    }

    mmcf->zone->init = ngx_http_fw_metrics_init_zone;
    mmcf->zone->data = NULL;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_fw_metrics_log_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    size_t            size;
    uint64_t         *slots;
    ngx_slab_pool_t  *sp;

    if (data) {
        /* a reload: the same slots (same size, same vocabulary) */
        zone->data = data;
        return NGX_OK;
    }

    sp = (ngx_slab_pool_t *) zone->shm.addr;
    size = fw_metrics_outcome_slots() * sizeof(uint64_t);

    slots = ngx_slab_calloc(sp, size);
    if (slots == NULL) {
        return NGX_ERROR;
    }

    sp->data = slots;
    zone->data = slots;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_metrics_log_handler(ngx_http_request_t *r)
{
    size_t                            slot;
    uint64_t                         *slots;
    ngx_uint_t                        i, status;
    ngx_http_variable_value_t        *vv;
    ngx_http_fw_metrics_loc_conf_t   *mlcf;
    ngx_http_fw_metrics_main_conf_t  *mmcf;

    if (r != r->main) {
        return NGX_OK;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_metrics_module);

    if (mlcf->handler || !mlcf->count) {
        /* the scrapes themselves are not counted */
        return NGX_OK;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_metrics_module);
    slots = mmcf->zone->data;

    if (slots == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < fw_vocab_nmodules; i++) {

        if (mmcf->index[i] == NGX_ERROR) {
            continue;
        }

        /*
         * A module that left no context did not check this request: its
         * variable is not read (some evaluate on first use).  After an
         * internal redirect the contexts are gone and the modules find
         * their verdict again themselves.
         */

        if (r->ctx[mmcf->ctx_index[i]] == NULL && !r->internal) {
            continue;
        }

        vv = ngx_http_get_indexed_variable(r, mmcf->index[i]);

        if (vv == NULL || vv->not_found || vv->len == 0) {
            continue;
        }

        slot = fw_metrics_check_slot(i, vv->data, vv->len);
        __atomic_fetch_add(&slots[slot], 1, __ATOMIC_RELAXED);
    }

    status = r->err_status ? r->err_status : r->headers_out.status;

    slot = fw_metrics_status_slot((unsigned) status);
    __atomic_fetch_add(&slots[slot], 1, __ATOMIC_RELAXED);

    if (status < 400) {
        return NGX_OK;
    }

    /* the module whose check refused it said so, else nginx or upstream */

    vv = ngx_http_get_indexed_variable(r, mmcf->denied_by);

    if (vv && !vv->not_found && vv->len) {
        slot = fw_metrics_denied_slot(vv->data, vv->len);

    } else if (r->upstream) {
        slot = fw_metrics_denied_slot((u_char *) FW_VOCAB_BY_UPSTREAM,
                                      sizeof(FW_VOCAB_BY_UPSTREAM) - 1);
    } else {
        slot = fw_metrics_denied_slot((u_char *) FW_VOCAB_BY_NGINX,
                                      sizeof(FW_VOCAB_BY_NGINX) - 1);
    }

    __atomic_fetch_add(&slots[slot], 1, __ATOMIC_RELAXED);

    return NGX_OK;
}


/* every module's own zone: found by name, never linked */

static ngx_int_t
ngx_http_fw_metrics_blocks(ngx_http_request_t *r, ngx_array_t *blocks)
{
    ngx_uint_t            i;
    ngx_list_part_t      *part;
    ngx_shm_zone_t       *zone;
    fw_metrics_block_t   *b, **p;

    if (ngx_array_init(blocks, r->pool, 8, sizeof(fw_metrics_block_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        b = ngx_http_fw_metrics_find(&zone[i]);

        if (b == NULL) {
            continue;
        }

        p = ngx_array_push(blocks);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *p = b;
    }

    return NGX_OK;
}


static size_t
ngx_http_fw_metrics_render(ngx_http_fw_metrics_main_conf_t *mmcf,
    ngx_array_t *blocks, u_char *buf, size_t size)
{
    size_t  len;

    len = 0;

    if (mmcf->zone->data) {
        len = fw_metrics_render_outcomes(buf, size, mmcf->zone->data,
                                         mmcf->present);
    }

    /* a family that several zones have (fhirwall_redis_...) is one */

    len += fw_metrics_render_blocks(buf ? buf + ngx_min(len, size) : NULL,
                                    (size > len) ? size - len : 0,
                                    blocks->elts, blocks->nelts,
                                    ngx_time());

    return len;
}


static ngx_int_t
ngx_http_fw_metrics_handler(ngx_http_request_t *r)
{
    size_t                            len, size;
    ngx_int_t                         rc;
    ngx_buf_t                        *b;
    ngx_array_t                       blocks;
    ngx_chain_t                       out;
    ngx_http_fw_metrics_main_conf_t  *mmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_metrics_module);

    if (ngx_http_fw_metrics_blocks(r, &blocks) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the counters move between the two passes: room for some growth */

    size = ngx_http_fw_metrics_render(mmcf, &blocks, NULL, 0)
           + NGX_HTTP_FW_METRICS_SLACK;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_http_fw_metrics_render(mmcf, &blocks, b->pos, size);

    if (len > size) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "fhirwall: metrics grew while rendered");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = b->pos + len;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
