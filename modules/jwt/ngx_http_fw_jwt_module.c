/*
 * fhirwall JWT: nginx glue.  Bearer tokens are checked by the plain-C core
 * (fw_jwt*.c); this file has the directives table and the phase
 * handlers: it finds the token, keeps the result in the request ctx and
 * answers 400/401/403.  The directives' handlers are in _conf.c, remote
 * key sets in _jwks.c, the variables in _variables.c.
 */


#include "ngx_http_fw_jwt.h"
#define NGX_HTTP_FW_JWT_METRICS_TABLE
#include "ngx_http_fw_jwt_metrics.h"


static void ngx_http_fw_jwt_evaluate(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_check_claims(
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static int ngx_http_fw_jwt_verify_keys(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_check_sig(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    fw_jwt_keyset_t *ks, const void *owner, unsigned long gen);
static ngx_int_t ngx_http_fw_jwt_introspect_run(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_find_token(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static void ngx_http_fw_jwt_cleanup(void *data);
static ngx_int_t ngx_http_fw_jwt_enforce(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_jwt_deny(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static void ngx_http_fw_jwt_deny_reason(ngx_http_fw_jwt_loc_conf_t *jlcf,
    ngx_http_fw_jwt_ctx_t *ctx, const char **error, const char **desc,
    ngx_uint_t *status);
static ngx_int_t ngx_http_fw_jwt_check_payload(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_claim_headers(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_fw_jwt_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_jwt_rewrite_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_fw_jwt_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_fw_jwt_init_process(ngx_cycle_t *cycle);
static void ngx_http_fw_jwt_exit_process(ngx_cycle_t *cycle);
static void ngx_http_fw_jwt_exit_master(ngx_cycle_t *cycle);


static fw_jwt_cache_t                  *ngx_http_fw_jwt_cache;
ngx_http_fw_jwt_remote_state_t         *ngx_http_fw_jwt_remotes;
ngx_uint_t                              ngx_http_fw_jwt_nremotes;


static ngx_conf_enum_t  ngx_http_fw_jwt_phases[] = {
    { ngx_string("access"), NGX_HTTP_FW_JWT_PHASE_ACCESS },
    { ngx_string("rewrite"), NGX_HTTP_FW_JWT_PHASE_REWRITE },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_fw_jwt_types[] = {
    { ngx_string("either"), FW_JWT_TYP_EITHER },
    { ngx_string("JWT"), FW_JWT_TYP_JWT },
    { ngx_string("at+jwt"), FW_JWT_TYP_AT_JWT },
    { ngx_string("off"), FW_JWT_TYP_OFF },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_fw_jwt_commands[] = {

    { ngx_string("fw_jwt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, enable),
      NULL },

    { ngx_string("fw_jwt_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, realm),
      NULL },

    { ngx_string("fw_jwt_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_jwt_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, max_size),
      NULL },

    { ngx_string("fw_jwt_error_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, error_format),
      &ngx_http_fw_error_formats },

    { ngx_string("fw_jwt_phase"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, phase),
      &ngx_http_fw_jwt_phases },

    { ngx_string("fw_jwt_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_fw_jwt_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      1,
      NULL },

    { ngx_string("fw_jwt_jwks_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_fw_jwt_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      2,
      NULL },

    { ngx_string("fw_jwt_jwks_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_jwks_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, leeway),
      NULL },

    { ngx_string("fw_jwt_require_exp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, require_exp),
      NULL },

    { ngx_string("fw_jwt_max_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, max_lifetime),
      NULL },

    { ngx_string("fw_jwt_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, typ),
      &ngx_http_fw_jwt_types },

    { ngx_string("fw_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, issuers),
      NULL },

    { ngx_string("fw_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, audiences),
      NULL },

    { ngx_string("fw_jwt_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_fw_jwt_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_roles_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, roles_claim),
      NULL },

    { ngx_string("fw_jwt_role"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_claim_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_fw_jwt_claim_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("fw_jwt_claim_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_fw_jwt_claim_set,
      0,
      0,
      NULL },

    NGX_HTTP_FW_JWT_DPOP_COMMANDS(ngx_http_fw_jwt_loc_conf_t, dpop),

    NGX_HTTP_FW_JWT_INTROSPECT_COMMANDS(ngx_http_fw_jwt_loc_conf_t,
                                        introspect),

    NGX_HTTP_FW_JWT_REDIS_COMMANDS(ngx_http_fw_jwt_main_conf_t,
                                   ngx_http_fw_jwt_loc_conf_t),

    { ngx_string("fw_jwt_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_main_conf_t, cache_size),
      NULL },

    { ngx_string("fw_jwt_jti_replay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_replay_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, replay),
      NULL },

    { ngx_string("fw_jwt_revoke_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_fw_jwt_revoke_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_fw_jwt_loc_conf_t, revoke),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_fw_jwt_module_ctx = {
    ngx_http_fw_jwt_add_variables,       /* preconfiguration */
    ngx_http_fw_jwt_init,                /* postconfiguration */

    ngx_http_fw_jwt_create_main_conf,    /* create main configuration */
    ngx_http_fw_jwt_init_main_conf,      /* init main configuration */

    NULL,                                /* create server configuration */
    NULL,                                /* merge server configuration */

    ngx_http_fw_jwt_create_loc_conf,     /* create location configuration */
    ngx_http_fw_jwt_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_fw_jwt_module = {
    NGX_MODULE_V1,
    &ngx_http_fw_jwt_module_ctx,         /* module context */
    ngx_http_fw_jwt_commands,            /* module directives */
    NGX_HTTP_MODULE,                     /* module type */
    NULL,                                /* init master */
    NULL,                                /* init module */
    ngx_http_fw_jwt_init_process,        /* init process */
    NULL,                                /* init thread */
    NULL,                                /* exit thread */
    ngx_http_fw_jwt_exit_process,        /* exit process */
    ngx_http_fw_jwt_exit_master,         /* exit master */
    NGX_MODULE_V1_PADDING
};


/* verification: once per request and key set, for whoever asks first */

ngx_http_fw_jwt_ctx_t *
ngx_http_fw_jwt_run(ngx_http_request_t *r)
{
    ngx_http_fw_jwt_ctx_t       *ctx;
    ngx_pool_cleanup_t          *cln;
    ngx_http_fw_jwt_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_jwt_module);

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_jwt_module);

    if (ctx != NULL
        && ((ctx->done && ctx->conf == jlcf) || ctx->jwks_fetch))
    {
        return ctx;
    }

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_jwt_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NULL;
        }

        cln->handler = ngx_http_fw_jwt_cleanup;
        cln->data = ctx;

        ngx_http_set_ctx(r, ctx, ngx_http_fw_jwt_module);

    } else {
        /* another location (rewrite ... last), or new remote keys */
        fw_jwt_token_free(&ctx->token);
        ctx->verified = 0;
        ctx->ambiguous = 0;
        ctx->want_fetch = 0;
        ctx->fetch_background = 0;
        ngx_http_fw_jwt_introspect_reset(&ctx->introspect);
    }

    ctx->conf = jlcf;
    ctx->done = 1;
    ctx->http_status = 0;
    ngx_http_fw_jwt_redis_reset(&ctx->redis);

    ngx_http_fw_jwt_evaluate(r, jlcf, ctx);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: token checked: %s",
                   ctx->status == NGX_HTTP_FW_JWT_OFF
                   ? FW_VOCAB_JWT_OFF : fw_jwt_status_name(ctx->status));

    return ctx;
}


static void
ngx_http_fw_jwt_evaluate(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    int  rc;

    if (jlcf->ks == NULL && jlcf->remote == NULL
        && jlcf->introspect.uri.len == 0)
    {
        ctx->status = NGX_HTTP_FW_JWT_OFF;
        return;
    }

    if (ngx_http_fw_jwt_find_token(r, jlcf, ctx) != NGX_OK) {
        ctx->status = FW_JWT_ERROR;
        return;
    }

    if (ctx->status != FW_JWT_VALID) {
        return;
    }

    if (ctx->raw.len > jlcf->max_size) {
        ctx->status = FW_JWT_TOO_LARGE;
        return;
    }

    /* an opaque token: the introspection endpoint's answer */
    rc = ngx_http_fw_jwt_introspect_eval(r, &jlcf->introspect,
                                         &ctx->introspect, &ctx->raw,
                                         &ctx->token);
    if (rc != NGX_DECLINED) {
        if (rc != FW_JWT_VALID) {
            ctx->status = rc;
            return;
        }

        goto verified;
    }

    rc = ngx_http_fw_jwt_verify_keys(r, jlcf, ctx);

    if (rc != FW_JWT_VALID) {
        ctx->status = rc;
        return;
    }

verified:

    ctx->verified = 1;

    ctx->status = ngx_http_fw_jwt_check_claims(jlcf, ctx);

    if (ctx->status != FW_JWT_VALID) {
        return;
    }

    /* sender constraints: DPoP proof, cnf.jkt, cnf.x5t#S256 (the scan) */
    ctx->status = ngx_http_fw_jwt_dpop_check(r, &jlcf->dpop, &ctx->dpop,
                                             &ctx->raw, &ctx->token,
                                             jlcf->leeway);

    if (ctx->status != FW_JWT_VALID) {
        return;
    }

    ctx->status = ngx_http_fw_jwt_check_payload(r, jlcf, ctx);

    if (ctx->status != FW_JWT_VALID) {
        return;
    }

    ctx->status = ngx_http_fw_jwt_revoke_check(r, jlcf->replay, jlcf->revoke,
                                               &ctx->token, jlcf->leeway,
                                               &ctx->jti_seen);

    if (ctx->status == FW_JWT_VALID
        && ngx_http_fw_jwt_redis_wanted(jlcf, ctx))
    {
        /* not valid before Redis says so, also for a variable read now */
        ctx->redis.want = 1;
        ctx->status = FW_JWT_UNAVAILABLE;
    }
}


/*
 * the payload's document only for what reads it here (requirements,
 * roles, claim headers; revocation and replay ask for it themselves,
 * variables when they are read): NULL is out of memory, not "no claims":
 * refuse, never pass on it.  A FW_JWT_* status.
 */

static ngx_int_t
ngx_http_fw_jwt_check_payload(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    json_t                     *claim, *payload;
    ngx_uint_t                  i;
    ngx_http_fw_jwt_require_t  *rq;

    payload = NULL;

    if (jlcf->requires || jlcf->roles || jlcf->claim_headers) {
        payload = fw_jwt_token_payload(&ctx->token);

        if (payload == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "fw_jwt: no memory for the token's claims");
            return FW_JWT_ERROR;
        }
    }

    if (jlcf->requires) {
        rq = jlcf->requires->elts;

        for (i = 0; i < jlcf->requires->nelts; i++) {
            if (fw_jwt_check_require(&rq[i].rq, payload) != FW_OK)
            {
                ctx->http_status = rq[i].status;
                return FW_JWT_CLAIM_FAILED;
            }
        }
    }

    if (jlcf->roles) {
        claim = fw_jwt_lookup(payload, jlcf->roles_claim.data,
                              jlcf->roles_claim.len);

        if (fw_jwt_check_roles(claim, jlcf->roles->elts, jlcf->roles->nelts,
                               (unsigned) r->method)
            != FW_OK)
        {
            return FW_JWT_ROLE_FAILED;
        }
    }

    return FW_JWT_VALID;
}


/* exp, nbf, iat, iss, aud, typ, the lifetime: a FW_JWT_* status */

static ngx_int_t
ngx_http_fw_jwt_check_claims(ngx_http_fw_jwt_loc_conf_t *jlcf,
    ngx_http_fw_jwt_ctx_t *ctx)
{
    fw_jwt_claims_conf_t  cc;

    cc.now = ngx_time();
    cc.leeway = (long) jlcf->leeway;
    cc.require_exp = (int) jlcf->require_exp;
    cc.max_lifetime = (long) jlcf->max_lifetime;
    /* an introspected token has no JOSE header */
    cc.typ = ctx->introspect.used ? FW_JWT_TYP_OFF : (int) jlcf->typ;
    cc.issuers = jlcf->issuers ? jlcf->issuers->elts : NULL;
    cc.nissuers = jlcf->issuers ? jlcf->issuers->nelts : 0;
    cc.audiences = jlcf->audiences ? jlcf->audiences->elts : NULL;
    cc.naudiences = jlcf->audiences ? jlcf->audiences->nelts : 0;

    return fw_jwt_check_claims(&cc, &ctx->token);
}


/* the signature: remote keys first, then fw_jwt_key_file's; asks a fetch */

static int
ngx_http_fw_jwt_verify_keys(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    int                              rc;
    ngx_uint_t                       stale;
    fw_jwt_keyset_t                  ks;
    ngx_http_fw_jwt_remote_state_t  *st;

    rc = FW_JWT_UNKNOWN_KEY;
    stale = 0;
    st = NULL;

    if (jlcf->remote) {
        st = ngx_http_fw_jwt_remote_keys(r, jlcf->remote, &stale);

        if (st != NULL && st->ks.nkeys) {
            ks = st->ks;
            ks.algs &= (jlcf->algs == NGX_CONF_UNSET) ? FW_JWT_ALGS_ALL
                                                      : (unsigned) jlcf->algs;

            rc = ngx_http_fw_jwt_check_sig(r, jlcf, ctx, &ks, jlcf,
                                           st->version);
        }
    }

    if (rc == FW_JWT_UNKNOWN_KEY && jlcf->ks) {
        rc = ngx_http_fw_jwt_check_sig(r, jlcf, ctx, jlcf->ks, jlcf->ks, 0);
    }

    if (jlcf->remote
        && ((rc == FW_JWT_UNKNOWN_KEY
             && ngx_http_fw_jwt_may_fetch(jlcf->remote,
                                          st == NULL || st->ks.nkeys == 0,
                                          jlcf->remote->min_refresh))
            || (stale
                && ngx_http_fw_jwt_may_fetch(jlcf->remote, 0,
                                  ngx_min(jlcf->remote->refresh,
                                          jlcf->remote->min_refresh)))))
    {
        /*
         * the phase handler fetches: and checks again when the keys
         * failed the token; when they verified it and only got old, the
         * refresh runs in the background and the request goes on
         */
        ctx->want_fetch = 1;
        ctx->fetch_background = (rc == FW_JWT_VALID);
    }

    return rc;
}


/* signature: from the verified-token cache, or decoded and verified */

static ngx_int_t
ngx_http_fw_jwt_check_sig(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx,
    fw_jwt_keyset_t *ks, const void *owner, unsigned long gen)
{
    int         rc;
    u_char      digest[32];
    ngx_uint_t  cached;

    cached = 0;

    if (ngx_http_fw_jwt_cache
        && fw_jwt_digest(ctx->raw.data, ctx->raw.len, digest) == FW_OK)
    {
        if (fw_jwt_cache_get(ngx_http_fw_jwt_cache, digest, owner, gen,
                             ngx_time(), &ctx->token)
            == FW_OK)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "fw_jwt: verified-token cache hit");
            ngx_http_fw_jwt_count(r, NGX_HTTP_FW_JWT_M_CACHE,
                                  NGX_HTTP_FW_JWT_M_HIT);
            return FW_JWT_VALID;
        }

        cached = 1;
        ngx_http_fw_jwt_count(r, NGX_HTTP_FW_JWT_M_CACHE,
                              NGX_HTTP_FW_JWT_M_MISS);
    }

    rc = fw_jwt_decode(&ctx->token, ctx->raw.data, ctx->raw.len,
                       jlcf->max_size);

    if (rc == FW_JWT_VALID) {
        rc = fw_jwt_verify(ks, &ctx->token, ctx->raw.data);
    }

    if (rc != FW_JWT_VALID) {
        fw_jwt_token_free(&ctx->token);
        return rc;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "fw_jwt: signature verified (%s)",
                   fw_jwt_alg_name(ctx->token.alg));

    if (cached) {
        fw_jwt_cache_put(ngx_http_fw_jwt_cache, digest, owner, gen,
                         fw_jwt_cache_expiry(&ctx->token, ngx_time(),
                                             NGX_HTTP_FW_JWT_CACHE_TTL),
                         &ctx->token);
    }

    return FW_JWT_VALID;
}


/*
 * The token: from the configured variable, or the one and only
 * "Authorization: Bearer <token>" header (scheme case-insensitive).
 * Sets ctx->status to VALID when there is a token to check.
 */

static ngx_int_t
ngx_http_fw_jwt_find_token(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    u_char     *p, *last;
    size_t      dpop;
    ngx_int_t   rc;
    ngx_str_t   value;

    static ngx_str_t  name = ngx_string("Authorization");

    ctx->raw.len = 0;
    ctx->raw.data = NULL;

    ngx_http_fw_jwt_dpop_reset(&ctx->dpop, &ctx->status);

    if (jlcf->token) {
        if (ngx_http_complex_value(r, jlcf->token, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->raw = value;
        ctx->status = value.len ? FW_JWT_VALID : FW_JWT_MISSING;

        return NGX_OK;
    }

    rc = ngx_http_fw_get_header(r, &name, &value);

    if (rc == NGX_DECLINED) {
        ctx->status = FW_JWT_MISSING;
        return NGX_OK;
    }

    if (rc == NGX_BUSY) {
        ctx->ambiguous = 1;
        ctx->status = FW_JWT_MALFORMED;
        return NGX_OK;
    }

    p = value.data;
    last = p + value.len;

    /* "DPoP <token>" (RFC 9449 section 7.1), when DPoP is on */
    dpop = ngx_http_fw_jwt_dpop_scheme(&jlcf->dpop, &ctx->dpop, p, last);

    if (dpop == 0
        && (last - p < 6
            || ngx_strncasecmp(p, (u_char *) "Bearer", 6) != 0
            || (last - p > 6 && p[6] != ' ')))
    {
        /* another scheme: no bearer token */
        ctx->status = FW_JWT_MISSING;
        return NGX_OK;
    }

    p += dpop ? dpop : 6;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    ctx->raw.data = p;
    ctx->raw.len = last - p;

    /* an empty bearer, or anything after the token, is malformed */
    ctx->status = FW_JWT_VALID;

    if (p == last) {
        ctx->status = FW_JWT_MALFORMED;
    }

    for ( /* void */ ; p < last; p++) {
        if (*p == ' ' || *p == '\t' || *p == ',') {
            ctx->status = FW_JWT_MALFORMED;
            break;
        }
    }

    return NGX_OK;
}


static void
ngx_http_fw_jwt_cleanup(void *data)
{
    ngx_http_fw_jwt_ctx_t  *ctx = data;

    fw_jwt_token_free(&ctx->token);
    ctx->introspect.done = 0;
    ngx_http_fw_jwt_introspect_reset(&ctx->introspect);
    ngx_http_fw_jwt_redis_reset(&ctx->redis);
}


/* phase handlers */

static ngx_int_t
ngx_http_fw_jwt_access_handler(ngx_http_request_t *r)
{
    ngx_http_fw_jwt_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_jwt_module);

    if (!jlcf->enable || jlcf->phase != NGX_HTTP_FW_JWT_PHASE_ACCESS) {
        return NGX_DECLINED;
    }

    return ngx_http_fw_jwt_enforce(r);
}


static ngx_int_t
ngx_http_fw_jwt_rewrite_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_fw_jwt_ctx_t       *ctx;
    ngx_http_fw_jwt_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_jwt_module);

    /*
     * nginx skips the access phase for subrequests (auth_request, SSI):
     * a protected location reached that way is checked here
     */

    if (!jlcf->enable
        || (jlcf->phase != NGX_HTTP_FW_JWT_PHASE_REWRITE && r == r->main))
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_fw_jwt_module);

    if (ctx && ctx->jwks_fetch) {
        return NGX_DECLINED;
    }

    rc = ngx_http_fw_jwt_enforce(r);

    if (rc == NGX_AGAIN) {
        /* the JWKS subrequest resumes the phases */
        return NGX_DONE;
    }

    return rc == NGX_OK ? NGX_DECLINED : rc;
}


static ngx_int_t
ngx_http_fw_jwt_enforce(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_fw_jwt_ctx_t       *ctx;
    ngx_http_fw_jwt_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_fw_jwt_module);

    ctx = ngx_http_fw_jwt_run(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->introspect.pending
        || ctx->introspect.done || ctx->introspect.want)
    {
        rc = ngx_http_fw_jwt_introspect_run(r, jlcf, ctx);
        if (rc != NGX_OK) {
            return rc;
        }

        ctx = ngx_http_get_module_ctx(r, ngx_http_fw_jwt_module);

    } else if (ctx->fetching) {
        if (!ctx->fetch_done) {
            return NGX_AGAIN;
        }

        /* check again with what the fetch brought (or the old keys) */
        ctx->fetching = 0;
        ctx->fetched = 1;
        ctx->done = 0;

        ctx = ngx_http_fw_jwt_run(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ctx->want_fetch && !ctx->fetched && jlcf->remote) {
        if (ngx_http_fw_jwt_fetch(r, jlcf, ctx, ctx->fetch_background)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (!ctx->fetch_background) {
            return NGX_AGAIN;
        }

        /* one fetch per request; this one goes on with its verdict */
        ctx->fetched = 1;
    }

    if (ctx->redis.want) {
        /* replay and revocation across the replicas */
        rc = ngx_http_fw_jwt_redis_check(r, jlcf, ctx);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->status == FW_JWT_VALID) {
        if (ngx_http_fw_jwt_claim_headers(r, jlcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;
    }

    ngx_http_fw_mark_denied(r, "jwt", fw_jwt_status_name(ctx->status));

    if (ctx->status == FW_JWT_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_fw_jwt_deny(r, jlcf, ctx);
}


/*
 * An opaque token: the introspection subrequest is started (NGX_AGAIN),
 * still runs (NGX_AGAIN), or answered and the token is checked again with
 * its answer (NGX_OK, the verdict in the ctx).
 */

static ngx_int_t
ngx_http_fw_jwt_introspect_run(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    ngx_http_request_t     *sr;
    ngx_http_fw_jwt_ctx_t  *sctx;

    if (ctx->introspect.pending) {
        return NGX_AGAIN;
    }

    if (ctx->introspect.done) {
        ctx->done = 0;

        if (ngx_http_fw_jwt_run(r) == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_http_fw_jwt_introspect_start(r, &jlcf->introspect,
                                         &ctx->introspect, &ctx->raw, &sr)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the subrequest itself is never checked */

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_fw_jwt_ctx_t));
    if (sctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->jwks_fetch = 1;
    sctx->done = 1;
    sctx->status = NGX_HTTP_FW_JWT_OFF;
    sctx->conf = ngx_http_get_module_loc_conf(sr, ngx_http_fw_jwt_module);
    ngx_http_set_ctx(sr, sctx, ngx_http_fw_jwt_module);

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_fw_jwt_deny(ngx_http_request_t *r, ngx_http_fw_jwt_loc_conf_t *jlcf,
    ngx_http_fw_jwt_ctx_t *ctx)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  value;
    ngx_uint_t                 status;
    ngx_uint_t                 i;
    const char                *error, *desc, *code;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_http_fw_jwt_deny_reason(jlcf, ctx, &error, &desc, &status);

    if (ctx->status == FW_JWT_UNAVAILABLE) {
        /* the token is not at fault: no challenge */
        goto challenged;
    }

    /* the DPoP challenge, when DPoP or a binding is concerned */
    switch (ngx_http_fw_jwt_dpop_challenge(r, &jlcf->dpop, &ctx->dpop,
                                           &jlcf->realm, ctx->status, error,
                                           &desc, &status))
    {
    case NGX_OK:
        goto challenged;
    case NGX_ERROR:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("Bearer realm=\"\"") - 1 + jlcf->realm.len;

    if (error) {
        len += sizeof(", error=\"\", error_description=\"\"") - 1
               + ngx_strlen(error) + ngx_strlen(desc);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = p;
    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &jlcf->realm);

    if (error) {
        p = ngx_sprintf(p, ", error=\"%s\", error_description=\"%s\"",
                        error, desc);
    }

    value.len = p - value.data;

    /* r->headers_out.www_authenticate: auth_request and "satisfy any" */
    if (ngx_http_fw_set_www_authenticate(r, &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

challenged:

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (jlcf->phase == NGX_HTTP_FW_JWT_PHASE_ACCESS
        && clcf->satisfy == NGX_HTTP_SATISFY_ANY)
    {
        /* another access module may still grant the request */
        return status;
    }

    if (clcf->error_pages && !r->error_page) {
        err_page = clcf->error_pages->elts;

        for (i = 0; i < clcf->error_pages->nelts; i++) {
            if ((ngx_uint_t) err_page[i].status == status) {
                /* the location's own error_page answers */
                return status;
            }
        }
    }

    code = (status == NGX_HTTP_FORBIDDEN) ? "forbidden"
           : (status == NGX_HTTP_BAD_REQUEST ? "invalid"
              : (status == NGX_HTTP_SERVICE_UNAVAILABLE ? "transient"
                                                         : "login"));

    return ngx_http_fw_send_error(r, status, jlcf->error_format, code, desc);
}


/* the status and the RFC 6750 error of a refusal */

static void
ngx_http_fw_jwt_deny_reason(ngx_http_fw_jwt_loc_conf_t *jlcf,
    ngx_http_fw_jwt_ctx_t *ctx, const char **error, const char **desc,
    ngx_uint_t *status)
{
    *error = "invalid_token";
    *desc = "invalid token";
    *status = NGX_HTTP_UNAUTHORIZED;

    switch (ctx->status) {

    case FW_JWT_MISSING:
        *error = NULL;
        *desc = "a bearer token is required";
        break;

    case FW_JWT_MALFORMED:
        if (ctx->ambiguous) {
            *status = NGX_HTTP_BAD_REQUEST;
            *error = "invalid_request";
            *desc = "more than one Authorization header";

        } else {
            *desc = "malformed token";
        }

        break;

    case FW_JWT_TOO_LARGE:
        *desc = "token too large";
        break;

    case FW_JWT_EXPIRED:
        *desc = "token expired";
        break;

    case FW_JWT_NOT_YET_VALID:
        *desc = "token not yet valid";
        break;

    case FW_JWT_CLAIM_FAILED:
        if (ctx->http_status == NGX_HTTP_FORBIDDEN) {
            *status = NGX_HTTP_FORBIDDEN;
            *error = "insufficient_scope";
            *desc = "insufficient privileges";
        }

        break;

    case FW_JWT_ROLE_FAILED:
        *status = NGX_HTTP_FORBIDDEN;
        *error = "insufficient_scope";
        *desc = "insufficient privileges";
        break;

    case FW_JWT_INACTIVE:
        *desc = "token inactive";
        break;

    case FW_JWT_UNAVAILABLE:
        *status = NGX_HTTP_SERVICE_UNAVAILABLE;
        *error = NULL;
        *desc = "the token cannot be checked now";
        break;

    case FW_JWT_INTROSPECTION_FAILED:
        *desc = "the token cannot be checked now";

        if (jlcf->introspect.unavailable == NGX_HTTP_SERVICE_UNAVAILABLE) {
            *status = NGX_HTTP_SERVICE_UNAVAILABLE;
            *error = NULL;
        }

        break;
    }
}


static ngx_int_t
ngx_http_fw_jwt_claim_headers(ngx_http_request_t *r,
    ngx_http_fw_jwt_loc_conf_t *jlcf, ngx_http_fw_jwt_ctx_t *ctx)
{
    char                            *s;
    size_t                           len;
    json_t                          *v;
    ngx_str_t                        value;
    ngx_uint_t                       i;
    ngx_http_fw_jwt_claim_header_t  *ch;

    if (jlcf->claim_headers == NULL) {
        return NGX_OK;
    }

    ch = jlcf->claim_headers->elts;

    for (i = 0; i < jlcf->claim_headers->nelts; i++) {
        v = fw_jwt_lookup(fw_jwt_token_payload(&ctx->token),
                          ch[i].path.data, ch[i].path.len);

        s = v ? fw_jwt_value_text(v, &len, ',') : NULL;

        if (s == NULL) {
            /* a client-sent header of that name never passes */
            if (ngx_http_fw_set_request_header(r, &ch[i].name, NULL)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        value.len = len;
        value.data = ngx_pnalloc(r->pool, len);

        if (value.data == NULL) {
            ngx_free(s);
            return NGX_ERROR;
        }

        ngx_memcpy(value.data, s, len);
        ngx_free(s);

        /* no line breaks into a request header */
        for (len = 0; len < value.len; len++) {
            if (value.data[len] == CR || value.data[len] == LF
                || value.data[len] == '\0')
            {
                value.data[len] = ' ';
            }
        }

        if (ngx_http_fw_set_request_header(r, &ch[i].name, &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_init(ngx_conf_t *cf)
{
    ngx_array_t                  *handlers;
    ngx_http_handler_pt          *h;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_jwt_module);
    jmcf->metrics = ngx_http_fw_jwt_metrics_zone(cf);

    if (jmcf->metrics == NGX_HTTP_FW_METRICS_ERROR) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /*
     * First in the array, so run last of the access phase (nginx runs a
     * phase's handlers last registered first): after every other access
     * handler whatever the order of the load_module lines, so that a
     * request both the webhook module and this one refuse always gets
     * the same answer (the webhook module's)
     */

    handlers = &cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers;

    h = ngx_array_push(handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = handlers->elts;
    ngx_memmove(&h[1], &h[0], (handlers->nelts - 1) * sizeof(*h));
    h[0] = ngx_http_fw_jwt_access_handler;

    /* handlers run last-registered first: before "return" and "rewrite" */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_fw_jwt_rewrite_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_jwt_init_process(ngx_cycle_t *cycle)
{
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_fw_jwt_module);

    if (jmcf == NULL) {
        return NGX_OK;
    }

    if (ngx_http_fw_jwt_revoke_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_fw_jwt_redis_init_process(cycle, &jmcf->redis) != NGX_OK) {
        return NGX_ERROR;
    }

    if (jmcf->nremotes) {
        ngx_http_fw_jwt_remotes = ngx_calloc(jmcf->nremotes
                                     * sizeof(ngx_http_fw_jwt_remote_state_t),
                                     cycle->log);
        if (ngx_http_fw_jwt_remotes == NULL) {
            return NGX_ERROR;
        }

        ngx_http_fw_jwt_nremotes = jmcf->nremotes;
    }

    if (jmcf->cache_size == 0) {
        return NGX_OK;
    }

    ngx_http_fw_jwt_cache = fw_jwt_cache_create(jmcf->cache_size);

    if (ngx_http_fw_jwt_cache == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "fw_jwt: no memory for the token cache");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_fw_jwt_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_http_fw_jwt_main_conf_t  *jmcf;

    jmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_fw_jwt_module);

    if (jmcf) {
        ngx_http_fw_jwt_redis_exit_process(&jmcf->redis);
    }

    fw_jwt_cache_destroy(ngx_http_fw_jwt_cache);
    ngx_http_fw_jwt_cache = NULL;

    for (i = 0; i < ngx_http_fw_jwt_nremotes; i++) {
        fw_jwt_keyset_free(&ngx_http_fw_jwt_remotes[i].ks);
    }

    ngx_free(ngx_http_fw_jwt_remotes);
    ngx_http_fw_jwt_remotes = NULL;
    ngx_http_fw_jwt_nremotes = 0;

    fw_jwt_dpop_cleanup();
    fw_jwt_cleanup();
}


/*
 * the digests fw_jwt_init() fetched and the DPoP proof keys (a single
 * process has no exit_process): freed before the module is unloaded
 */

static void
ngx_http_fw_jwt_exit_master(ngx_cycle_t *cycle)
{
    fw_jwt_dpop_cleanup();
    fw_jwt_cleanup();
}
