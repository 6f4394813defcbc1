/*
 * fhirwall rate limit: sliding-window limits shared by every nginx replica
 * through Redis (one atomic script per decision), with a shared-memory
 * fallback, RateLimit headers and a defined failure policy.
 */


#include "ngx_http_fw_ratelimit.h"
#include "ngx_http_fw_ratelimit_metrics.h"


static ngx_int_t ngx_http_fw_ratelimit_handler(ngx_http_request_t *r);
static ngx_http_fw_ratelimit_ctx_t *ngx_http_fw_ratelimit_get_ctx(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_ratelimit_start(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx);
static ngx_int_t ngx_http_fw_ratelimit_add_key(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx, ngx_http_fw_ratelimit_policy_t *pol);
static ngx_int_t ngx_http_fw_ratelimit_build_argv(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx);
static void ngx_http_fw_ratelimit_reply(void *data, ngx_int_t status,
    redisReply *reply);
static void ngx_http_fw_ratelimit_resume(ngx_http_fw_ratelimit_ctx_t *ctx);
static void ngx_http_fw_ratelimit_wait(ngx_http_request_t *r);
static void ngx_http_fw_ratelimit_failed(ngx_http_fw_ratelimit_ctx_t *ctx,
    const char *reason, size_t len);
static void ngx_http_fw_ratelimit_redis_ok(ngx_http_request_t *r);
static void ngx_http_fw_ratelimit_local(ngx_http_fw_ratelimit_ctx_t *ctx);
static void ngx_http_fw_ratelimit_conclude(ngx_http_fw_ratelimit_ctx_t *ctx);
static ngx_int_t ngx_http_fw_ratelimit_apply(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx);
static ngx_int_t ngx_http_fw_ratelimit_headers(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx);
static void ngx_http_fw_ratelimit_cleanup(void *data);
static ngx_int_t ngx_http_fw_ratelimit_header_filter(ngx_http_request_t *r);
static ngx_http_fw_ratelimit_node_t *ngx_http_fw_ratelimit_lookup(
    ngx_http_fw_shm_cache_t *cache, uint32_t policy, ngx_str_t *key,
    uint64_t window, uint64_t now, ngx_http_fw_shm_cache_entry_t **ep);
static ngx_int_t ngx_http_fw_ratelimit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_fw_ratelimit_add_variables(ngx_conf_t *cf);
static char *ngx_http_fw_ratelimit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_fw_ratelimit_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_ratelimit_init_process(ngx_cycle_t *cycle);
static void ngx_http_fw_ratelimit_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_fw_ratelimit_failures[] = {
    { ngx_string("open"), NGX_HTTP_FW_RL_FAIL_OPEN },
    { ngx_string("closed"), NGX_HTTP_FW_RL_FAIL_CLOSED },
    { ngx_string("local"), NGX_HTTP_FW_RL_FAIL_LOCAL },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_fw_ratelimit_commands[] = {

    { ngx_string("fw_ratelimit_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_fw_ratelimit_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_ratelimit_policy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_fw_ratelimit_policy,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_ratelimit_local_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_fw_ratelimit_main_conf_t, zone_size),
      NULL },

    { ngx_string("fw_ratelimit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_ratelimit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_ratelimit_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_ratelimit_loc_conf_t, dry_run),
      NULL },

    { ngx_string("fw_ratelimit_failure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_ratelimit_loc_conf_t, failure),
      &ngx_http_fw_ratelimit_failures },

    { ngx_string("fw_ratelimit_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_ratelimit_loc_conf_t, headers),
      NULL },

    { ngx_string("fw_ratelimit_legacy_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_ratelimit_loc_conf_t, legacy_headers),
      NULL },

    { ngx_string("fw_ratelimit_error_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_ratelimit_loc_conf_t, error_format),
      &ngx_http_fw_error_formats },

    { ngx_string("fw_ratelimit_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_ratelimit_status_code,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_ratelimit_loc_conf_t, status),
      NULL },

    { ngx_string("fw_ratelimit_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_ratelimit_loc_conf_t, timeout),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_ratelimit_module_ctx = {
    ngx_http_fw_ratelimit_add_variables,   /* preconfiguration */
    ngx_http_fw_ratelimit_init,            /* postconfiguration */

    ngx_http_fw_ratelimit_create_main_conf, /* create main configuration */
    ngx_http_fw_ratelimit_init_main_conf,  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_fw_ratelimit_create_loc_conf, /* create location configuration */
    ngx_http_fw_ratelimit_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_fw_ratelimit_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_ratelimit_module_ctx,     /* module context */
    ngx_http_fw_ratelimit_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_fw_ratelimit_init_process,    /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_fw_ratelimit_exit_process,    /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


#define NGX_HTTP_FW_RL_VAR_STATUS     0
#define NGX_HTTP_FW_RL_VAR_REMAINING  1
#define NGX_HTTP_FW_RL_VAR_RESET      2
#define NGX_HTTP_FW_RL_VAR_ENGINE     3
#define NGX_HTTP_FW_RL_VAR_POLICY     4

static ngx_http_variable_t  ngx_http_fw_ratelimit_vars[] = {

    { ngx_string("fw_ratelimit_status"), NULL,
      ngx_http_fw_ratelimit_variable, NGX_HTTP_FW_RL_VAR_STATUS,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_ratelimit_remaining"), NULL,
      ngx_http_fw_ratelimit_variable, NGX_HTTP_FW_RL_VAR_REMAINING,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_ratelimit_reset"), NULL,
      ngx_http_fw_ratelimit_variable, NGX_HTTP_FW_RL_VAR_RESET,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_ratelimit_engine"), NULL,
      ngx_http_fw_ratelimit_variable, NGX_HTTP_FW_RL_VAR_ENGINE,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("fw_ratelimit_policy"), NULL,
      ngx_http_fw_ratelimit_variable, NGX_HTTP_FW_RL_VAR_POLICY,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* indexed by NGX_HTTP_FW_RL_*: common/fw_vocab.h's values */
static ngx_str_t  ngx_http_fw_ratelimit_status_names[] = {
    ngx_null_string,
    ngx_string(FW_VOCAB_RATELIMIT_PASSED),
    ngx_string(FW_VOCAB_RATELIMIT_LIMITED),
    ngx_string(FW_VOCAB_RATELIMIT_DRY_RUN),
    ngx_string(FW_VOCAB_RATELIMIT_ERROR),
    ngx_string(FW_VOCAB_RATELIMIT_UNAVAILABLE)
};


static ngx_str_t  ngx_http_fw_rl_h_policy = ngx_string("RateLimit-Policy");
static ngx_str_t  ngx_http_fw_rl_h_state = ngx_string("RateLimit");
static ngx_str_t  ngx_http_fw_rl_h_retry = ngx_string("Retry-After");
static ngx_str_t  ngx_http_fw_rl_h_limit = ngx_string("X-RateLimit-Limit");
static ngx_str_t  ngx_http_fw_rl_h_remaining =
    ngx_string("X-RateLimit-Remaining");
static ngx_str_t  ngx_http_fw_rl_h_reset = ngx_string("X-RateLimit-Reset");


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/* ------------------------------------------------------------ handler */

static ngx_int_t
ngx_http_fw_ratelimit_handler(ngx_http_request_t *r)
{
    ngx_http_fw_ratelimit_ctx_t       *ctx;
    ngx_http_fw_ratelimit_loc_conf_t  *lcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_fw_ratelimit_get_ctx(r);

    if (ctx) {
        switch (ctx->state) {

        case NGX_HTTP_FW_RL_WAITING:
            return NGX_AGAIN;

        case NGX_HTTP_FW_RL_DECIDED:
            ctx->state = NGX_HTTP_FW_RL_FINISHED;
            return ngx_http_fw_ratelimit_apply(r, ctx);

        default:
            /* decided once per request, not again after a redirect */
            return NGX_DECLINED;
        }
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_ratelimit_module);

    if (lcf->policies == NULL || lcf->policies->nelts == 0) {
        return NGX_DECLINED;
    }

    return ngx_http_fw_ratelimit_start(r, NULL);
}


/* the context survives internal redirects: it hangs on the pool */

static ngx_http_fw_ratelimit_ctx_t *
ngx_http_fw_ratelimit_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_fw_ratelimit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_fw_ratelimit_module);

    if (ctx || !(r->internal || r->main->internal)) {
        return ctx;
    }

    for (cln = r->main->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_fw_ratelimit_cleanup) {
            ctx = cln->data;
            if (ctx->r == r->main) {
                ngx_http_set_ctx(r->main, ctx, ngx_http_fw_ratelimit_module);
                return ctx;
            }
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_fw_ratelimit_start(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx)
{
    const char                         *err;
    ngx_uint_t                          n;
    ngx_uint_t                          i;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_fw_ratelimit_policy_t    **pp;
    ngx_http_fw_ratelimit_loc_conf_t   *lcf;
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_ratelimit_module);
    rmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_ratelimit_module);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_ratelimit_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;
    ctx->lcf = lcf;
    ctx->state = NGX_HTTP_FW_RL_FINISHED;

    cln->handler = ngx_http_fw_ratelimit_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_fw_ratelimit_module);

    n = lcf->policies->nelts;
    pp = lcf->policies->elts;

    ctx->pol = ngx_palloc(r->pool, n * sizeof(void *));
    ctx->keys = ngx_palloc(r->pool, n * sizeof(ngx_str_t));
    ctx->w = ngx_pcalloc(r->pool, n * sizeof(fw_ratelimit_window_t));
    ctx->res = ngx_pcalloc(r->pool, n * sizeof(fw_ratelimit_result_t));

    if (ctx->pol == NULL || ctx->keys == NULL || ctx->w == NULL
        || ctx->res == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_fw_ratelimit_add_key(r, ctx, pp[i]) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->n == 0) {
        return NGX_DECLINED;
    }

    if (rmcf->redis == NULL) {
        ngx_http_fw_ratelimit_local(ctx);
        ctx->state = NGX_HTTP_FW_RL_FINISHED;
        return ngx_http_fw_ratelimit_apply(r, ctx);
    }

    if (ngx_http_fw_ratelimit_build_argv(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->sent = ngx_http_fw_rl_now();
    ctx->cmd = ngx_http_fw_redis_send(rmcf->client, ctx->argc, ctx->argv,
                                      ctx->argvlen, lcf->timeout,
                                      ngx_http_fw_ratelimit_reply, ctx);

    if (ctx->cmd == NULL) {
        err = ngx_http_fw_redis_error(rmcf->client);
        ngx_http_fw_ratelimit_failed(ctx, err, ngx_strlen(err));
        ctx->state = NGX_HTTP_FW_RL_FINISHED;
        return ngx_http_fw_ratelimit_apply(r, ctx);
    }

    ctx->state = NGX_HTTP_FW_RL_WAITING;

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_fw_ratelimit_wait;

    return NGX_AGAIN;
}


/*
 * EVALSHA sha numkeys key... (limit window cost)...; the keys are
 * "<prefix>{<policy>:<key>}", hash-tagged so that a key never spans two
 * Redis Cluster slots.
 */

/* the key (and cost) of a policy for this request; none when it is empty */

static ngx_int_t
ngx_http_fw_ratelimit_add_key(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx, ngx_http_fw_ratelimit_policy_t *pol)
{
    u_char     *p;
    ngx_int_t   c;
    ngx_str_t   key, cost;

    if (ngx_http_complex_value(r, &pol->key, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    if (key.len == 0) {
        /* like limit_req: an empty key is not accounted */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "fw ratelimit: \"%V\": empty key, skipped",
                       &pol->name);
        return NGX_OK;
    }

    if (key.len > FW_RATELIMIT_KEY_MAX) {
        p = ngx_pnalloc(r->pool, FW_RATELIMIT_KEY_HASHED);
        if (p == NULL) {
            return NGX_ERROR;
        }

        fw_ratelimit_hash_key(key.data, key.len, p);
        key.data = p;
        key.len = FW_RATELIMIT_KEY_HASHED;
    }

    ctx->w[ctx->n].limit = pol->limit;
    ctx->w[ctx->n].window = pol->window;
    ctx->w[ctx->n].cost = pol->cost;

    if (pol->cost_cv) {
        if (ngx_http_complex_value(r, pol->cost_cv, &cost) != NGX_OK) {
            return NGX_ERROR;
        }

        c = ngx_atoi(cost.data, cost.len);

        if (c == NGX_ERROR || (uint64_t) c > FW_RATELIMIT_MAX_LIMIT) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "fw_ratelimit_policy \"%V\": invalid cost "
                          "\"%V\", counted as 1", &pol->name, &cost);
            c = 1;
        }

        ctx->w[ctx->n].cost = (uint64_t) c;
    }

    ctx->pol[ctx->n] = pol;
    ctx->keys[ctx->n] = key;
    ctx->n++;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_ratelimit_build_argv(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx)
{
    u_char                             *p, *last;
    size_t                              len;
    ngx_uint_t                          i, a;
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_ratelimit_module);

    ctx->argc = (int) (3 + 4 * ctx->n);
    ctx->argv = ngx_palloc(r->pool, ctx->argc * sizeof(char *));
    ctx->argvlen = ngx_palloc(r->pool, ctx->argc * sizeof(size_t));

    len = NGX_INT_T_LEN;

    for (i = 0; i < ctx->n; i++) {
        len += rmcf->prefix.len + ctx->pol[i]->name.len + ctx->keys[i].len + 3
               + 3 * NGX_INT64_LEN;
    }

    p = ngx_pnalloc(r->pool, len);

    if (ctx->argv == NULL || ctx->argvlen == NULL || p == NULL) {
        return NGX_ERROR;
    }

    ctx->argv[0] = "EVALSHA";
    ctx->argvlen[0] = 7;
    ctx->argv[1] = rmcf->sha1;
    ctx->argvlen[1] = 40;

    ctx->argv[2] = (char *) p;
    last = ngx_sprintf(p, "%ui", ctx->n);
    ctx->argvlen[2] = last - p;
    p = last;

    a = 3;

    for (i = 0; i < ctx->n; i++) {
        ctx->argv[a] = (char *) p;
        p = ngx_cpymem(p, rmcf->prefix.data, rmcf->prefix.len);
        *p++ = '{';
        p = ngx_cpymem(p, ctx->pol[i]->name.data, ctx->pol[i]->name.len);
        *p++ = ':';
        p = ngx_cpymem(p, ctx->keys[i].data, ctx->keys[i].len);
        *p++ = '}';
        ctx->argvlen[a] = p - (u_char *) ctx->argv[a];
        a++;
    }

    for (i = 0; i < ctx->n; i++) {
        ctx->argv[a] = (char *) p;
        last = ngx_sprintf(p, "%uL", ctx->w[i].limit);
        ctx->argvlen[a++] = last - p;
        p = last;

        ctx->argv[a] = (char *) p;
        last = ngx_sprintf(p, "%uL", ctx->w[i].window);
        ctx->argvlen[a++] = last - p;
        p = last;

        ctx->argv[a] = (char *) p;
        last = ngx_sprintf(p, "%uL", ctx->w[i].cost);
        ctx->argvlen[a++] = last - p;
        p = last;
    }

    return NGX_OK;
}


static void
ngx_http_fw_ratelimit_reply(void *data, ngx_int_t status, redisReply *reply)
{
    int                                 rc;
    size_t                              len;
    const char                         *err;
    ngx_http_request_t                 *r;
    ngx_http_fw_ratelimit_ctx_t        *ctx;
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    ctx = data;
    r = ctx->r;
    ctx->cmd = NULL;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_ratelimit_module);

    ngx_http_fw_rl_observe(r, ctx->sent);

    if (status == NGX_HTTP_FW_REDIS_TIMEOUT) {
        ngx_http_fw_ratelimit_failed(ctx, "timed out",
                                     sizeof("timed out") - 1);
        goto done;
    }

    if (status != NGX_HTTP_FW_REDIS_OK) {
        /* the connection failed: say why (e.g. AUTH failed) */
        err = ngx_http_fw_redis_error(rmcf->client);

        if (err[0] == '\0') {
            err = "connection lost";
        }

        ngx_http_fw_ratelimit_failed(ctx, err, ngx_strlen(err));
        goto done;
    }

    rc = fw_ratelimit_parse_reply(reply, ctx->w, ctx->n, &ctx->admitted,
                                  &err, &len);

    switch (rc) {

    case FW_RATELIMIT_REPLY_OK:
        ngx_http_fw_ratelimit_redis_ok(r);
        ctx->engine = NGX_HTTP_FW_RL_ENGINE_REDIS;
        ngx_http_fw_ratelimit_conclude(ctx);
        break;

    case FW_RATELIMIT_REPLY_NOSCRIPT:

        if (!ctx->noscript) {
            /* the script cache was flushed or the server restarted */
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fw ratelimit: NOSCRIPT, sending EVAL");

            ctx->noscript = 1;
            ctx->argv[0] = "EVAL";
            ctx->argvlen[0] = 4;
            ctx->argv[1] = fw_ratelimit_script;
            ctx->argvlen[1] = ngx_strlen(fw_ratelimit_script);

            ctx->sent = ngx_http_fw_rl_now();
            ctx->cmd = ngx_http_fw_redis_send(rmcf->client, ctx->argc,
                                              ctx->argv, ctx->argvlen,
                                              ctx->lcf->timeout,
                                              ngx_http_fw_ratelimit_reply,
                                              ctx);
            if (ctx->cmd) {
                return;
            }

            err = ngx_http_fw_redis_error(rmcf->client);
            ngx_http_fw_ratelimit_failed(ctx, err, ngx_strlen(err));
            break;
        }

        /* fall through */

    default:
        ngx_http_fw_ratelimit_failed(ctx, err, len);
        break;
    }

done:

    ngx_http_fw_ratelimit_resume(ctx);
}


static void
ngx_http_fw_ratelimit_resume(ngx_http_fw_ratelimit_ctx_t *ctx)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->r;
    c = r->connection;

    ctx->state = NGX_HTTP_FW_RL_DECIDED;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_fw_ratelimit_wait(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw ratelimit: waiting for redis");
}


/* Redis could not decide: the location's failure policy applies */

static void
ngx_http_fw_ratelimit_failed(ngx_http_fw_ratelimit_ctx_t *ctx,
    const char *reason, size_t len)
{
    ngx_http_request_t                 *r;
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    r = ctx->r;
    rmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_ratelimit_module);

    if (!rmcf->failing) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "fw_ratelimit: redis cannot decide (%*s); the "
                      "locations' failure policies apply until it can",
                      len, reason);
        rmcf->failing = 1;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "fw ratelimit: redis failed (%*s)", len, reason);
    }

    ngx_http_fw_rl_gauge(r, NGX_HTTP_FW_RL_M_FAILING, 1);
    ngx_http_fw_rl_count(r, NGX_HTTP_FW_RL_M_FAILURE, ctx->lcf->failure);

    switch (ctx->lcf->failure) {

    case NGX_HTTP_FW_RL_FAIL_LOCAL:
        ngx_http_fw_ratelimit_local(ctx);
        return;

    case NGX_HTTP_FW_RL_FAIL_CLOSED:
        ctx->status = NGX_HTTP_FW_RL_UNAVAILABLE;
        ctx->engine = 0;
        return;

    default: /* open */
        ctx->status = NGX_HTTP_FW_RL_ERROR;
        ctx->engine = 0;
        return;
    }
}


static void
ngx_http_fw_ratelimit_redis_ok(ngx_http_request_t *r)
{
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_ratelimit_module);

    if (rmcf->failing) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "fw_ratelimit: redis decides again");
        rmcf->failing = 0;
        ngx_http_fw_rl_gauge(r, NGX_HTTP_FW_RL_M_FAILING, 0);
        ngx_http_fw_rl_count(r, NGX_HTTP_FW_RL_M_RECOVERED, 0);
    }
}


/* the shared-memory limiter: same policies, same arithmetic, this node */

static void
ngx_http_fw_ratelimit_local(ngx_http_fw_ratelimit_ctx_t *ctx)
{
    uint64_t                            now;
    ngx_uint_t                          i;
    ngx_time_t                         *tp;
    ngx_http_request_t                 *r;
    ngx_http_fw_shm_cache_t            *cache;
    ngx_http_fw_ratelimit_node_t       *nodes[32];
    ngx_http_fw_shm_cache_entry_t      *e;
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    r = ctx->r;
    rmcf = ngx_http_get_module_main_conf(r, ngx_http_fw_ratelimit_module);
    cache = rmcf->shm_zone->data;

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    ngx_http_fw_shm_cache_lock(cache);

    /* up to two stale entries: their counters can no longer weigh */
    ngx_http_fw_shm_cache_expire(cache, (int64_t) now, 2);

    ctx->admitted = 1;

    for (i = 0; i < ctx->n && i < 32; i++) {
        nodes[i] = ngx_http_fw_ratelimit_lookup(cache, ctx->pol[i]->index,
                                                &ctx->keys[i],
                                                ctx->w[i].window, now, &e);
        if (nodes[i] == NULL) {
            ngx_http_fw_shm_cache_unlock(cache);

            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "fw_ratelimit_local_zone is full");

            ctx->status = NGX_HTTP_FW_RL_ERROR;
            ctx->engine = NGX_HTTP_FW_RL_ENGINE_LOCAL;
            return;
        }

        if (nodes[i]->window != ctx->w[i].window) {
            /* the policy changed with a reload: start over */
            ngx_memzero(&nodes[i]->slot, sizeof(fw_ratelimit_slot_t));
            nodes[i]->window = ctx->w[i].window;
        }

        fw_ratelimit_slot_roll(&nodes[i]->slot, now, &ctx->w[i]);

        /* the counters weigh until the end of the next window */
        e->expires = (nodes[i]->slot.index + 2)
                     * (int64_t) nodes[i]->window;

        if (!fw_ratelimit_fits(&ctx->w[i])) {
            ctx->admitted = 0;
        }
    }

    if (ctx->admitted) {
        for (i = 0; i < ctx->n && i < 32; i++) {
            nodes[i]->slot.curr += ctx->w[i].cost;
        }
    }

    ngx_http_fw_shm_cache_unlock(cache);

    ctx->engine = NGX_HTTP_FW_RL_ENGINE_LOCAL;

    ngx_http_fw_ratelimit_conclude(ctx);
}


/* from the windows (as they were before this request) to the decision */

static void
ngx_http_fw_ratelimit_conclude(ngx_http_fw_ratelimit_ctx_t *ctx)
{
    uint64_t                 t;
    ngx_uint_t               i, best;
    fw_ratelimit_result_t   *res;

    res = ctx->res;
    best = 0;
    ctx->retry = 0;

    for (i = 0; i < ctx->n; i++) {
        fw_ratelimit_eval(&ctx->w[i], ctx->admitted, &res[i]);

        if (!ctx->admitted && !res[i].fits) {
            t = fw_ratelimit_ms_to_s(res[i].retry_ms, 1);

            if (t > ctx->retry) {
                ctx->retry = t;
            }

            if (ctx->limited_by.len == 0) {
                ctx->limited_by = ctx->pol[i]->name;
            }
        }

        if (res[i].remaining < res[best].remaining
            || (res[i].remaining == res[best].remaining
                && res[i].reset_ms > res[best].reset_ms))
        {
            best = i;
        }
    }

    ctx->remaining = res[best].remaining;
    ctx->reset = fw_ratelimit_ms_to_s(res[best].reset_ms, 1);

    if (ctx->admitted) {
        ctx->status = NGX_HTTP_FW_RL_PASSED;
        return;
    }

    ctx->remaining = 0;
    ctx->reset = ctx->retry;
    ctx->status = ctx->lcf->dry_run ? NGX_HTTP_FW_RL_DRY_RUN
                                    : NGX_HTTP_FW_RL_LIMITED;
}


static ngx_int_t
ngx_http_fw_ratelimit_apply(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx)
{
    u_char                            *p;
    ngx_str_t                          v;
    ngx_http_fw_ratelimit_loc_conf_t  *lcf;

    lcf = ctx->lcf;

    switch (ctx->status) {

    case NGX_HTTP_FW_RL_LIMITED:

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_ratelimit: limited by \"%V\"%s",
                      &ctx->limited_by,
                      ctx->engine == NGX_HTTP_FW_RL_ENGINE_LOCAL
                      ? " (local fallback)" : "");

        if (ngx_http_fw_ratelimit_headers(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        v.data = p;
        v.len = ngx_sprintf(p, "%uL", ctx->retry) - p;

        if (ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_retry, &v)
            != NGX_OK
            || ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_policy,
                                      &ctx->hdr_policy) != NGX_OK
            || ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_state,
                                      &ctx->hdr_state) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ctx->legacy
            && (ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_limit,
                                       &ctx->hdr_limit) != NGX_OK
                || ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_remaining,
                                          &ctx->hdr_remaining) != NGX_OK
                || ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_reset,
                                          &ctx->hdr_reset) != NGX_OK))
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* the header filter must not add them twice */
        ctx->add_headers = 0;

        ngx_http_fw_mark_denied(r, "ratelimit", FW_VOCAB_RATELIMIT_LIMITED);

        return ngx_http_fw_send_error(r, lcf->status, lcf->error_format,
                                      "throttled", "rate limit exceeded");

    case NGX_HTTP_FW_RL_ERROR:
        return NGX_DECLINED;

    case NGX_HTTP_FW_RL_UNAVAILABLE:

        ngx_http_fw_mark_denied(r, "ratelimit",
                                FW_VOCAB_RATELIMIT_UNAVAILABLE);

        ngx_str_set(&v, "1");

        if (ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_retry, &v)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_fw_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      lcf->error_format, "transient",
                                      "rate limit service unavailable");

    case NGX_HTTP_FW_RL_DRY_RUN:

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "fw_ratelimit: would be limited by \"%V\" (dry run)",
                      &ctx->limited_by);

        /* fall through */

    case NGX_HTTP_FW_RL_PASSED:

        if (lcf->headers) {
            if (ngx_http_fw_ratelimit_headers(r, ctx) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ctx->add_headers = 1;
        }

        return NGX_DECLINED;

    default:
        return NGX_DECLINED;
    }
}


/* builds the header values (pool memory) from the decision */

static ngx_int_t
ngx_http_fw_ratelimit_headers(ngx_http_request_t *r,
    ngx_http_fw_ratelimit_ctx_t *ctx)
{
    u_char              *p;
    size_t               len;
    ngx_uint_t           i, best;
    fw_ratelimit_hdr_t  *h;

    h = ngx_palloc(r->pool, ctx->n * sizeof(fw_ratelimit_hdr_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    best = 0;

    for (i = 0; i < ctx->n; i++) {
        h[i].name = ctx->pol[i]->name.data;
        h[i].name_len = ctx->pol[i]->name.len;
        h[i].limit = ctx->pol[i]->limit;
        h[i].window_s = fw_ratelimit_ms_to_s(ctx->pol[i]->window, 1);
        h[i].remaining = ctx->res[i].remaining;
        h[i].reset_s = fw_ratelimit_ms_to_s(ctx->res[i].reset_ms, 1);

        if (!ctx->admitted && !ctx->res[i].fits) {
            /* this one refused: it resets when the request would fit */
            h[i].remaining = 0;
            h[i].reset_s = fw_ratelimit_ms_to_s(ctx->res[i].retry_ms, 1);
        }

        if (h[i].remaining < h[best].remaining
            || (h[i].remaining == h[best].remaining
                && h[i].reset_s > h[best].reset_s))
        {
            best = i;
        }
    }

    len = fw_ratelimit_fmt_policy(NULL, 0, h, ctx->n);
    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->hdr_policy.data = p;
    ctx->hdr_policy.len = fw_ratelimit_fmt_policy(p, len, h, ctx->n);

    len = fw_ratelimit_fmt_state(NULL, 0, h, ctx->n);
    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->hdr_state.data = p;
    ctx->hdr_state.len = fw_ratelimit_fmt_state(p, len, h, ctx->n);

    ctx->legacy = ctx->lcf->legacy_headers ? 1 : 0;

    if (!ctx->legacy) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, 3 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->hdr_limit.data = p;
    p = ngx_sprintf(p, "%uL", h[best].limit);
    ctx->hdr_limit.len = p - ctx->hdr_limit.data;

    ctx->hdr_remaining.data = p;
    p = ngx_sprintf(p, "%uL", h[best].remaining);
    ctx->hdr_remaining.len = p - ctx->hdr_remaining.data;

    ctx->hdr_reset.data = p;
    p = ngx_sprintf(p, "%uL", h[best].reset_s);
    ctx->hdr_reset.len = p - ctx->hdr_reset.data;

    return NGX_OK;
}


static void
ngx_http_fw_ratelimit_cleanup(void *data)
{
    ngx_http_fw_ratelimit_ctx_t  *ctx = data;

    if (ctx->cmd) {
        /* the request ends before Redis answered: drop the answer */
        ngx_http_fw_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }
}


static ngx_int_t
ngx_http_fw_ratelimit_header_filter(ngx_http_request_t *r)
{
    ngx_http_fw_ratelimit_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_fw_ratelimit_get_ctx(r);

    if (ctx == NULL || !ctx->add_headers) {
        return ngx_http_next_header_filter(r);
    }

    ctx->add_headers = 0;

    if (ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_policy,
                               &ctx->hdr_policy) != NGX_OK
        || ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_state,
                                  &ctx->hdr_state) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->legacy
        && (ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_limit,
                                   &ctx->hdr_limit) != NGX_OK
            || ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_remaining,
                                      &ctx->hdr_remaining) != NGX_OK
            || ngx_http_fw_set_header(r, &ngx_http_fw_rl_h_reset,
                                      &ctx->hdr_reset) != NGX_OK))
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_http_fw_ratelimit_node_t *
ngx_http_fw_ratelimit_lookup(ngx_http_fw_shm_cache_t *cache,
    uint32_t policy, ngx_str_t *key, uint64_t window, uint64_t now,
    ngx_http_fw_shm_cache_entry_t **ep)
{
    ngx_uint_t                      forgot;
    ngx_http_fw_ratelimit_node_t   *rn;
    ngx_http_fw_shm_cache_entry_t  *e;

    e = ngx_http_fw_shm_cache_get(cache, policy, key->data, key->len);

    if (e == NULL) {
        forgot = 0;

        e = ngx_http_fw_shm_cache_add(cache, policy, key->data, key->len,
                                      (int64_t) now, &forgot);
        if (e == NULL) {
            return NULL;
        }

        rn = ngx_http_fw_shm_cache_value(e);
        rn->window = window;
    }

    *ep = e;

    return ngx_http_fw_shm_cache_value(e);
}


/* ---------------------------------------------------------- variables */

static ngx_int_t
ngx_http_fw_ratelimit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       *p;
    ngx_http_fw_ratelimit_ctx_t  *ctx;

    ctx = ngx_http_fw_ratelimit_get_ctx(r->main);

    if (ctx == NULL || ctx->status == NGX_HTTP_FW_RL_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    switch (data) {

    case NGX_HTTP_FW_RL_VAR_STATUS:
        v->len = ngx_http_fw_ratelimit_status_names[ctx->status].len;
        v->data = ngx_http_fw_ratelimit_status_names[ctx->status].data;
        return NGX_OK;

    case NGX_HTTP_FW_RL_VAR_ENGINE:
        if (ctx->engine == NGX_HTTP_FW_RL_ENGINE_REDIS) {
            v->len = sizeof("redis") - 1;
            v->data = (u_char *) "redis";

        } else if (ctx->engine == NGX_HTTP_FW_RL_ENGINE_LOCAL) {
            v->len = sizeof("local") - 1;
            v->data = (u_char *) "local";

        } else {
            v->not_found = 1;
        }

        return NGX_OK;

    case NGX_HTTP_FW_RL_VAR_POLICY:
        if (ctx->limited_by.len == 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        v->len = ctx->limited_by.len;
        v->data = ctx->limited_by.data;
        return NGX_OK;
    }

    if (ctx->status >= NGX_HTTP_FW_RL_ERROR) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    v->len = ngx_sprintf(p, "%uL", data == NGX_HTTP_FW_RL_VAR_REMAINING
                                   ? ctx->remaining : ctx->reset) - p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_ratelimit_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_fw_ratelimit_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static char *
ngx_http_fw_ratelimit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_ratelimit_loc_conf_t *lcf = conf;

    ngx_str_t   *value, *name;
    ngx_uint_t   i;

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        if (lcf->names) {
            return "is duplicate";
        }

        lcf->names = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
        if (lcf->names == NULL) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (lcf->names == NULL) {
        lcf->names = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (lcf->names == NULL) {
            return NGX_CONF_ERROR;
        }

    } else if (lcf->names->nelts == 0) {
        return "is duplicate (\"off\" given before)";
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (!fw_ratelimit_valid_name(value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_ratelimit\" directive: invalid policy "
                               "name \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        name = ngx_array_push(lcf->names);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_fw_ratelimit_init(ngx_conf_t *cf)
{
    ngx_str_t                           name;
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_fw_ratelimit_module);

    if (rmcf->policies.nelts == 0) {
        return NGX_OK;
    }

    rmcf->metrics = ngx_http_fw_ratelimit_metrics_zone(cf);

    if (rmcf->metrics == NGX_HTTP_FW_METRICS_ERROR) {
        return NGX_ERROR;
    }

    /* the local limiter: always there (Redis-less or failure "local") */

    ngx_str_set(&name, "fw_ratelimit_local");

    rmcf->shm_zone = ngx_shared_memory_add(cf, &name, rmcf->zone_size,
                                           &ngx_http_fw_ratelimit_module);
    if (rmcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_fw_shm_cache_create(cf, rmcf->shm_zone,
                                     sizeof(ngx_http_fw_ratelimit_node_t),
                                     "fw_ratelimit_local_zone")
        == NULL)
    {
        return NGX_ERROR;
    }

    /* after the lockout's check, before the audit's: "Phase order" */
    if (ngx_http_fw_add_phase_handler(cf, NGX_HTTP_PREACCESS_PHASE,
                                      ngx_http_fw_ratelimit_handler,
                                      NGX_HTTP_FW_RANK_RATELIMIT)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_fw_ratelimit_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_ratelimit_init_process(ngx_cycle_t *cycle)
{
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    rmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_fw_ratelimit_module);

    if (rmcf == NULL || rmcf->redis == NULL || rmcf->policies.nelts == 0) {
        return NGX_OK;
    }

    rmcf->client = ngx_http_fw_redis_create(cycle, rmcf->redis);

    return rmcf->client ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_fw_ratelimit_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_fw_ratelimit_main_conf_t  *rmcf;

    rmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_fw_ratelimit_module);

    if (rmcf && rmcf->client) {
        ngx_http_fw_redis_destroy(rmcf->client);
        rmcf->client = NULL;
    }
}
