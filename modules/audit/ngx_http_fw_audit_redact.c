/*
 * fhirwall audit: redaction of identifiers in the records (nginx glue).
 *
 * "fw_audit_redact FIELD keep|hash|drop|prefix|names", the defaults (the
 * patient, the id, the compartment and the ids of the path hashed, query
 * values hashed, their names kept), the key of each epoch, and the
 * rewriting of an event's values before its record is built.  The
 * redaction itself is fw_audit_redact.c.
 */


#include "ngx_http_fw_audit.h"
#include "fw_audit_redact.h"


static void ngx_http_fw_audit_redact_key(ngx_http_fw_audit_main_conf_t *amcf,
    uint64_t epoch, ngx_log_t *log);
static size_t ngx_http_fw_audit_redact_keep(ngx_http_request_t *r,
    fw_audit_str_t *path);


/* the fields hashed unless configured otherwise */
static const ngx_uint_t  ngx_http_fw_audit_redact_hashed[] = {
    FW_AUDIT_F_PATIENT, FW_AUDIT_F_ID, FW_AUDIT_F_COMPARTMENT,
    FW_AUDIT_F_PATH, FW_AUDIT_F_QUERY
};


char *
ngx_http_fw_audit_redact(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_audit_loc_conf_t *alcf = conf;

    int                             f, mode;
    ngx_str_t                      *value, *where;
    ngx_http_fw_audit_main_conf_t  *amcf;

    value = cf->args->elts;

    f = fw_audit_field_by_name(value[1].data, value[1].len);

    if (f < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown audit field \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (f == FW_AUDIT_F_STATUS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the audit field \"status\" cannot be redacted "
                           "(the outcome is made of it)");
        return NGX_CONF_ERROR;
    }

    mode = fw_audit_redact_mode(value[2].data, value[2].len);

    if (mode == FW_AUDIT_R_UNSET
        || (mode == FW_AUDIT_R_PREFIX && f != FW_AUDIT_F_PATH)
        || (mode == FW_AUDIT_R_NAMES && f != FW_AUDIT_F_QUERY))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid mode \"%V\" for the audit field \"%V\" "
                           "(keep, hash, drop%s)", &value[2], &value[1],
                           f == FW_AUDIT_F_PATH ? ", prefix"
                           : f == FW_AUDIT_F_QUERY ? ", names" : "");
        return NGX_CONF_ERROR;
    }

    if (alcf->redact[f] != NGX_CONF_UNSET_UINT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the redaction of \"%V\" is duplicate%s",
                           &value[1], f == FW_AUDIT_F_QUERY
                           ? " (or given by \"fw_audit_query\" too)" : "");
        return NGX_CONF_ERROR;
    }

    alcf->redact[f] = (ngx_uint_t) mode;

    if (mode != FW_AUDIT_R_HASH) {
        return NGX_CONF_OK;
    }

    /* a hash needs the key file: checked once the http block is read */

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_audit_module);

    if (amcf->redact_hash_at.len == 0) {
        where = &amcf->redact_hash_at;
        where->data = ngx_pnalloc(cf->pool, cf->conf_file->file.name.len
                                            + value[1].len + 64);
        if (where->data == NULL) {
            return NGX_CONF_ERROR;
        }

        where->len = ngx_sprintf(where->data, "%V hash\" in %V:%ui",
                                 &value[1], &cf->conf_file->file.name,
                                 cf->conf_file->line)
                     - where->data;
    }

    return NGX_CONF_OK;
}


/* fw_audit_query omit|hash|raw: the query's redaction, as before */

char *
ngx_http_fw_audit_query(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_audit_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    value = cf->args->elts;

    if (alcf->redact[FW_AUDIT_F_QUERY] != NGX_CONF_UNSET_UINT) {
        return "is duplicate (or given by \"fw_audit_redact query\" too)";
    }

    if (ngx_strcmp(value[1].data, "omit") == 0) {
        alcf->redact[FW_AUDIT_F_QUERY] = FW_AUDIT_R_DROP;

    } else if (ngx_strcmp(value[1].data, "hash") == 0) {
        alcf->redact[FW_AUDIT_F_QUERY] = FW_AUDIT_R_DIGEST;

    } else if (ngx_strcmp(value[1].data, "raw") == 0) {
        alcf->redact[FW_AUDIT_F_QUERY] = FW_AUDIT_R_KEEP;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" (omit, hash, raw)",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


void
ngx_http_fw_audit_redact_init_loc(ngx_http_fw_audit_loc_conf_t *alcf)
{
    ngx_uint_t  f;

    for (f = 0; f < FW_AUDIT_F_MAX; f++) {
        alcf->redact[f] = NGX_CONF_UNSET_UINT;
    }
}


void
ngx_http_fw_audit_redact_merge(ngx_http_fw_audit_loc_conf_t *prev,
    ngx_http_fw_audit_loc_conf_t *conf)
{
    ngx_uint_t  f, i, def;

    for (f = 0; f < FW_AUDIT_F_MAX; f++) {
        def = (f == FW_AUDIT_F_FHIR_USER) ? FW_AUDIT_R_PATIENTS
                                          : FW_AUDIT_R_KEEP;

        for (i = 0; i < sizeof(ngx_http_fw_audit_redact_hashed)
                        / sizeof(ngx_http_fw_audit_redact_hashed[0]); i++)
        {
            if (ngx_http_fw_audit_redact_hashed[i] == f) {
                def = FW_AUDIT_R_HASH;
            }
        }

        ngx_conf_merge_uint_value(conf->redact[f], prev->redact[f], def);
    }
}


/*
 * Once the http block is read: a hash asked for explicitly needs the key
 * file (without it, the defaults' hashes are drops); the base key R.
 */

ngx_int_t
ngx_http_fw_audit_redact_init_main(ngx_conf_t *cf,
    ngx_http_fw_audit_main_conf_t *amcf)
{
    if (amcf->secret.len == 0) {
        if (amcf->redact_hash_at.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"fw_audit_redact %V needs "
                               "\"fw_audit_key_file\" (the hash is keyed "
                               "from it)", &amcf->redact_hash_at);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    fw_audit_redact_base(amcf->secret.data, amcf->secret.len,
                         amcf->redact_base);
    amcf->redact_keyed = 1;

    return NGX_OK;
}


static void
ngx_http_fw_audit_redact_key(ngx_http_fw_audit_main_conf_t *amcf,
    uint64_t epoch, ngx_log_t *log)
{
    u_char  key[FW_AUDIT_MAC_LEN];

    fw_audit_redact_epoch_key(amcf->redact_base, epoch, key);

    if (amcf->redact_hmac == NULL) {
        amcf->redact_hmac = fw_audit_hmac_create(key, FW_AUDIT_MAC_LEN);

    } else if (fw_audit_hmac_rekey(amcf->redact_hmac, key, FW_AUDIT_MAC_LEN)
               != FW_AUDIT_OK)
    {
        fw_audit_hmac_destroy(amcf->redact_hmac);
        amcf->redact_hmac = NULL;
    }

    OPENSSL_cleanse(key, sizeof(key));

    if (amcf->redact_hmac == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "fw_audit: cannot key the redaction hashes");
        return;
    }

    amcf->redact_epoch = epoch;
}


/* the length of the path's start that is the location's own name */

static size_t
ngx_http_fw_audit_redact_keep(ngx_http_request_t *r, fw_audit_str_t *path)
{
    size_t                     n;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    n = clcf->name.len;

    if (n == 0 || clcf->named
#if (NGX_PCRE)
        || clcf->regex
#endif
        || path->len < n || ngx_memcmp(path->data, clcf->name.data, n) != 0)
    {
        return 0;
    }

    if (clcf->name.data[n - 1] == '/' || path->len == n
        || path->data[n] == '/')
    {
        return n;
    }

    /* "location /fhir" and "/fhirMRN": up to the last "/" */

    while (n && clcf->name.data[n - 1] != '/') {
        n--;
    }

    return n;
}


/*
 * Rewrites the event's values as the location's redaction says, in
 * memory of the request's pool; a value that cannot be redacted is left
 * out, never written as it is.
 */

void
ngx_http_fw_audit_redact_event(ngx_http_request_t *r,
    ngx_http_fw_audit_main_conf_t *amcf, ngx_http_fw_audit_loc_conf_t *alcf,
    fw_audit_event_t *ev)
{
    int                   mode;
    u_char               *out;
    size_t                size, n;
    uint64_t              epoch;
    ngx_uint_t            f;
    fw_audit_str_t       *v;
    fw_audit_redactor_t   rd;

    rd.hmac = NULL;
    rd.epoch = 0;

    if (amcf->redact_keyed) {
        epoch = fw_audit_redact_epoch(ev->time_ms, (int64_t) amcf->epoch);

        if (amcf->redact_hmac == NULL || epoch != amcf->redact_epoch) {
            ngx_http_fw_audit_redact_key(amcf, epoch, r->connection->log);
        }

        if (amcf->redact_hmac && epoch == amcf->redact_epoch) {
            rd.hmac = amcf->redact_hmac;
            rd.epoch = epoch;
        }
    }

    /* the query: the digest of fw_audit_query hash, as before */

    ev->query_mode = FW_AUDIT_QUERY_RAW;

    if (alcf->redact[FW_AUDIT_F_QUERY] == FW_AUDIT_R_DIGEST) {
        ev->query_mode = FW_AUDIT_QUERY_HASH;

        if (amcf->query_hmac == NULL) {
            amcf->query_hmac = fw_audit_hmac_create(amcf->query_key,
                                                    FW_AUDIT_MAC_LEN);
        }

        ev->query_hmac = amcf->query_hmac;
    }

    for (f = 0; f < FW_AUDIT_F_MAX; f++) {

        v = &ev->v[f];
        mode = (int) alcf->redact[f];

        /* a kept query still loses its credentials' values */

        if (v->len == 0 || mode == FW_AUDIT_R_DIGEST
            || (mode == FW_AUDIT_R_KEEP && f != FW_AUDIT_F_QUERY))
        {
            continue;
        }

        if (mode == FW_AUDIT_R_DROP) {
            v->len = 0;
            continue;
        }

        if (f == FW_AUDIT_F_PATH || f == FW_AUDIT_F_QUERY) {
            size = FW_AUDIT_VALUE_MAX;

        } else {
            size = ngx_min(v->len, FW_AUDIT_VALUE_MAX) + FW_AUDIT_R_HASH_MAX;
        }

        out = ngx_pnalloc(r->pool, size);

        if (out == NULL) {
            v->len = 0;
            continue;
        }

        if (f == FW_AUDIT_F_PATH) {
            n = fw_audit_redact_path(&rd, mode, v->data, v->len,
                                     ngx_http_fw_audit_redact_keep(r, v),
                                     out, size);

        } else if (f == FW_AUDIT_F_QUERY) {
            n = fw_audit_redact_query(&rd, mode, v->data, v->len, out,
                                      size);

        } else {
            n = fw_audit_redact_value(&rd, mode, v->data,
                                      ngx_min(v->len, FW_AUDIT_VALUE_MAX),
                                      out, size);
        }

        v->data = out;
        v->len = n;
    }
}


void
ngx_http_fw_audit_redact_exit(ngx_http_fw_audit_main_conf_t *amcf)
{
    fw_audit_hmac_destroy(amcf->redact_hmac);
    amcf->redact_hmac = NULL;
    OPENSSL_cleanse(amcf->redact_base, sizeof(amcf->redact_base));
}
