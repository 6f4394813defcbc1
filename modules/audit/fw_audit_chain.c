/*
 * fhirwall audit: keys, MACs and the writer's HMAC chain.  Plain C.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The chain's HMAC runs on SHA256_CTX states copied by assignment: no
 * allocation, lock or provider call per record (EVP_MD_CTX_copy_ex() costs
 * two of each in OpenSSL 3).  These functions are deprecated, not gone.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "fw_codec.h"
#include "fw_audit.h"


#define FW_AUDIT_CHAIN_LABEL   "fhirwall-audit-v1 chain "
#define FW_AUDIT_EVOLVE_LABEL  "fhirwall-audit-v1 evolve"
#define FW_AUDIT_QUERY_LABEL   "fhirwall-audit-v1 query"

#define FW_AUDIT_JSONL_SEAL    ",\"chain\":\""
#define FW_AUDIT_JSONL_MAC     ",\"mac\":\""
#define FW_AUDIT_JSONL_END     "\"}"
#define FW_AUDIT_FHIR_SEAL     ",\"extension\":[{\"url\":\"urn:fhirwall:" \
                               "audit-chain\",\"valueString\":\""
#define FW_AUDIT_FHIR_MAC      "},{\"url\":\"urn:fhirwall:audit-mac\"," \
                               "\"valueString\":\""
#define FW_AUDIT_FHIR_END      "\"}]}"


struct fw_audit_chain_s {
    u_char       id[FW_AUDIT_CHAIN_ID_MAX];
    size_t       id_len;
    uint64_t     seq;
    uint64_t     epoch;
    uint64_t     lost;
    int64_t      start_ms;
    int64_t      epoch_ms;
    u_char       key[FW_AUDIT_MAC_LEN];
    u_char       prev[FW_AUDIT_MAC_LEN];
    u_char       pending[FW_AUDIT_MAC_LEN];
    int          sealed;

    /* HMAC under the current key */
    fw_audit_hmac_t  *hmac;
};


struct fw_audit_hmac_s {
    SHA256_CTX  ictx;
    SHA256_CTX  octx;
};


fw_audit_hmac_t *
fw_audit_hmac_create(const u_char *key, size_t key_len)
{
    fw_audit_hmac_t  *h;

    h = calloc(1, sizeof(fw_audit_hmac_t));
    if (h == NULL) {
        return NULL;
    }

    if (fw_audit_hmac_rekey(h, key, key_len) != FW_AUDIT_OK) {
        fw_audit_hmac_destroy(h);
        return NULL;
    }

    return h;
}


void
fw_audit_hmac_destroy(fw_audit_hmac_t *h)
{
    if (h == NULL) {
        return;
    }

    OPENSSL_cleanse(h, sizeof(fw_audit_hmac_t));
    free(h);
}


int
fw_audit_hmac_rekey(fw_audit_hmac_t *h, const u_char *key, size_t key_len)
{
    int     i, rc;
    u_char  pad[64], k[FW_AUDIT_MAC_LEN];

    rc = FW_AUDIT_OK;

    if (key_len > 64) {
        SHA256(key, key_len, k);
        key = k;
        key_len = FW_AUDIT_MAC_LEN;
    }

    for (i = 0; i < 64; i++) {
        pad[i] = ((size_t) i < key_len ? key[i] : 0) ^ 0x36;
    }

    if (SHA256_Init(&h->ictx) != 1 || SHA256_Update(&h->ictx, pad, 64) != 1)
    {
        rc = FW_AUDIT_ERROR;
    }

    for (i = 0; i < 64; i++) {
        pad[i] = ((size_t) i < key_len ? key[i] : 0) ^ 0x5c;
    }

    if (SHA256_Init(&h->octx) != 1 || SHA256_Update(&h->octx, pad, 64) != 1)
    {
        rc = FW_AUDIT_ERROR;
    }

    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(k, sizeof(k));

    return rc;
}


int
fw_audit_hmac_run(fw_audit_hmac_t *h, const u_char *msg, size_t len,
    u_char *mac)
{
    int         rc;
    u_char      inner[FW_AUDIT_MAC_LEN];
    SHA256_CTX  tmp;

    tmp = h->ictx;
    rc = SHA256_Update(&tmp, msg, len) == 1 && SHA256_Final(inner, &tmp) == 1;

    tmp = h->octx;
    rc = rc && SHA256_Update(&tmp, inner, sizeof(inner)) == 1
         && SHA256_Final(mac, &tmp) == 1;

    OPENSSL_cleanse(&tmp, sizeof(tmp));
    OPENSSL_cleanse(inner, sizeof(inner));

    return rc ? FW_AUDIT_OK : FW_AUDIT_ERROR;
}


int
fw_audit_key_normalize(const u_char *data, size_t len, size_t *out_len)
{
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'
                   || data[len - 1] == ' ' || data[len - 1] == '\t'))
    {
        len--;
    }

    if (len < FW_AUDIT_KEY_MIN) {
        return FW_AUDIT_ERROR;
    }

    *out_len = len;

    return FW_AUDIT_OK;
}


void
fw_audit_hmac(const u_char *key, size_t key_len, const u_char *msg,
    size_t msg_len, u_char *mac)
{
    unsigned int  n;

    n = FW_AUDIT_MAC_LEN;

    if (HMAC(EVP_sha256(), key, (int) key_len, msg, msg_len, mac, &n)
        == NULL)
    {
        /* never with SHA-256; a MAC of zeros never verifies */
        memset(mac, 0, FW_AUDIT_MAC_LEN);
    }
}


void
fw_audit_chain_key0(const u_char *secret, size_t secret_len,
    const u_char *id, size_t id_len, u_char *key)
{
    u_char  msg[sizeof(FW_AUDIT_CHAIN_LABEL) - 1 + FW_AUDIT_CHAIN_ID_MAX];

    if (id_len > FW_AUDIT_CHAIN_ID_MAX) {
        id_len = FW_AUDIT_CHAIN_ID_MAX;
    }

    memcpy(msg, FW_AUDIT_CHAIN_LABEL, sizeof(FW_AUDIT_CHAIN_LABEL) - 1);
    memcpy(msg + sizeof(FW_AUDIT_CHAIN_LABEL) - 1, id, id_len);

    fw_audit_hmac(secret, secret_len, msg,
                  sizeof(FW_AUDIT_CHAIN_LABEL) - 1 + id_len, key);
}


void
fw_audit_key_evolve(u_char *key)
{
    u_char  next[FW_AUDIT_MAC_LEN];

    fw_audit_hmac(key, FW_AUDIT_MAC_LEN,
                  (const u_char *) FW_AUDIT_EVOLVE_LABEL,
                  sizeof(FW_AUDIT_EVOLVE_LABEL) - 1, next);

    memcpy(key, next, FW_AUDIT_MAC_LEN);
    OPENSSL_cleanse(next, sizeof(next));
}


void
fw_audit_query_key(const u_char *secret, size_t secret_len, u_char *key)
{
    fw_audit_hmac(secret, secret_len, (const u_char *) FW_AUDIT_QUERY_LABEL,
                  sizeof(FW_AUDIT_QUERY_LABEL) - 1, key);
}


void
fw_audit_query_hash(fw_audit_hmac_t *h, const u_char *q, size_t len,
    u_char *out)
{
    u_char  mac[FW_AUDIT_MAC_LEN];

    if (fw_audit_hmac_run(h, q, len, mac) != FW_AUDIT_OK) {
        memset(mac, 0, sizeof(mac));
    }

    memcpy(out, "hmac-sha256:", 12);
    fw_hex_encode(mac, FW_AUDIT_MAC_LEN, out + 12);
}


size_t
fw_audit_seal_len(int format, size_t chain_id_len)
{
    /* "fwa1 start " id, three 20-digit numbers, spaces, prev in hex */
    size_t  seal;

    seal = 5 + 6 + chain_id_len + 1 + 3 * 21 + 2 * FW_AUDIT_MAC_LEN;

    if (format == FW_AUDIT_FHIR) {
        return sizeof(FW_AUDIT_FHIR_SEAL) - 1 + seal
               + sizeof(FW_AUDIT_FHIR_MAC) - 1 + 2 * FW_AUDIT_MAC_LEN
               + sizeof(FW_AUDIT_FHIR_END) - 1 + 1;
    }

    return sizeof(FW_AUDIT_JSONL_SEAL) - 1 + seal
           + sizeof(FW_AUDIT_JSONL_MAC) - 1 + 2 * FW_AUDIT_MAC_LEN
           + sizeof(FW_AUDIT_JSONL_END) - 1 + 1;
}


fw_audit_chain_t *
fw_audit_chain_create(const u_char *secret, size_t secret_len,
    const u_char *id, size_t id_len, int64_t start_ms, int64_t epoch_ms)
{
    fw_audit_chain_t  *c;

    if (id_len == 0 || id_len > FW_AUDIT_CHAIN_ID_MAX) {
        return NULL;
    }

    c = calloc(1, sizeof(fw_audit_chain_t));
    if (c == NULL) {
        return NULL;
    }

    memcpy(c->id, id, id_len);
    c->id_len = id_len;
    c->start_ms = start_ms;
    c->epoch_ms = epoch_ms;

    fw_audit_chain_key0(secret, secret_len, id, id_len, c->key);

    c->hmac = fw_audit_hmac_create(c->key, FW_AUDIT_MAC_LEN);
    if (c->hmac == NULL) {
        fw_audit_chain_destroy(c);
        return NULL;
    }

    return c;
}


void
fw_audit_chain_destroy(fw_audit_chain_t *c)
{
    if (c == NULL) {
        return;
    }

    fw_audit_hmac_destroy(c->hmac);
    OPENSSL_cleanse(c, sizeof(fw_audit_chain_t));
    free(c);
}


const u_char *
fw_audit_chain_id(fw_audit_chain_t *c, size_t *len)
{
    *len = c->id_len;
    return c->id;
}


uint64_t
fw_audit_chain_seq(fw_audit_chain_t *c)
{
    return c->seq;
}


uint64_t
fw_audit_chain_epoch(fw_audit_chain_t *c)
{
    return c->epoch;
}


size_t
fw_audit_chain_seal(fw_audit_chain_t *c, u_char *buf, size_t len,
    size_t size, int format, int kind, int64_t now_ms)
{
    int          n;
    char         seal[64];
    u_char      *p;
    uint64_t     epoch;
    const char  *kinds;

    if (size < len || size - len < fw_audit_seal_len(format, c->id_len)) {
        return 0;
    }

    /* the epoch of "now": evolve the key, wiping the old one */

    if (c->epoch_ms > 0 && now_ms > c->start_ms) {
        epoch = (uint64_t) ((now_ms - c->start_ms) / c->epoch_ms);

        if (epoch > c->epoch) {
            while (c->epoch < epoch) {
                fw_audit_key_evolve(c->key);
                c->epoch++;
            }

            if (fw_audit_hmac_rekey(c->hmac, c->key, FW_AUDIT_MAC_LEN)
                != FW_AUDIT_OK)
            {
                return 0;
            }
        }
    }

    p = buf + len;

    if (format == FW_AUDIT_FHIR) {
        memcpy(p, FW_AUDIT_FHIR_SEAL, sizeof(FW_AUDIT_FHIR_SEAL) - 1);
        p += sizeof(FW_AUDIT_FHIR_SEAL) - 1;

    } else {
        memcpy(p, FW_AUDIT_JSONL_SEAL, sizeof(FW_AUDIT_JSONL_SEAL) - 1);
        p += sizeof(FW_AUDIT_JSONL_SEAL) - 1;
    }

    kinds = kind == FW_AUDIT_KIND_START ? "start"
            : kind == FW_AUDIT_KIND_END ? "end" : "req";

    n = snprintf(seal, sizeof(seal), "fwa1 %s ", kinds);
    memcpy(p, seal, n);
    p += n;

    memcpy(p, c->id, c->id_len);
    p += c->id_len;

    n = snprintf(seal, sizeof(seal), " %llu %llu %llu ",
                 (unsigned long long) c->epoch,
                 (unsigned long long) c->seq,
                 (unsigned long long) c->lost);
    memcpy(p, seal, n);
    p += n;

    p += fw_hex_encode(c->prev, FW_AUDIT_MAC_LEN, p);
    *p++ = '"';

    if (fw_audit_hmac_run(c->hmac, buf, p - buf, c->pending)
        != FW_AUDIT_OK)
    {
        return 0;
    }

    if (format == FW_AUDIT_FHIR) {
        memcpy(p, FW_AUDIT_FHIR_MAC, sizeof(FW_AUDIT_FHIR_MAC) - 1);
        p += sizeof(FW_AUDIT_FHIR_MAC) - 1;
        p += fw_hex_encode(c->pending, FW_AUDIT_MAC_LEN, p);
        memcpy(p, FW_AUDIT_FHIR_END, sizeof(FW_AUDIT_FHIR_END) - 1);
        p += sizeof(FW_AUDIT_FHIR_END) - 1;

    } else {
        memcpy(p, FW_AUDIT_JSONL_MAC, sizeof(FW_AUDIT_JSONL_MAC) - 1);
        p += sizeof(FW_AUDIT_JSONL_MAC) - 1;
        p += fw_hex_encode(c->pending, FW_AUDIT_MAC_LEN, p);
        memcpy(p, FW_AUDIT_JSONL_END, sizeof(FW_AUDIT_JSONL_END) - 1);
        p += sizeof(FW_AUDIT_JSONL_END) - 1;
    }

    *p++ = '\n';
    c->sealed = 1;

    return p - buf;
}


void
fw_audit_chain_commit(fw_audit_chain_t *c)
{
    if (!c->sealed) {
        return;
    }

    memcpy(c->prev, c->pending, FW_AUDIT_MAC_LEN);
    c->seq++;
    c->lost = 0;
    c->sealed = 0;
}


void
fw_audit_chain_lost(fw_audit_chain_t *c, uint64_t n)
{
    c->lost += n;
    c->sealed = 0;
}


/* ---- the verifier's parser --------------------------------------------- */


static int fw_audit_parse_seal(const u_char *s, size_t len,
    fw_audit_line_t *out, const char **err);
static int fw_audit_parse_num(const u_char **p, const u_char *end,
    uint64_t *v);


int
fw_audit_parse_line(const u_char *line, size_t len, fw_audit_line_t *out,
    const char **err)
{
    size_t         tail, mac_pre, seal_pre, end_len, n;
    const u_char  *s, *e, *mac;
    const char    *mac_marker, *seal_marker, *end;

    memset(out, 0, sizeof(fw_audit_line_t));

    if (len == 0 || line[0] != '{') {
        *err = "not a JSON object";
        return FW_AUDIT_ERROR;
    }

    if (len > 2 * FW_AUDIT_RECORD_MAX) {
        *err = "line too long";
        return FW_AUDIT_ERROR;
    }

    if (len >= sizeof(FW_AUDIT_FHIR_END) - 1
        && memcmp(line + len - (sizeof(FW_AUDIT_FHIR_END) - 1),
                  FW_AUDIT_FHIR_END, sizeof(FW_AUDIT_FHIR_END) - 1) == 0)
    {
        out->format = FW_AUDIT_FHIR;
        mac_marker = FW_AUDIT_FHIR_MAC;
        seal_marker = FW_AUDIT_FHIR_SEAL;
        end = FW_AUDIT_FHIR_END;

    } else {
        out->format = FW_AUDIT_JSONL;
        mac_marker = FW_AUDIT_JSONL_MAC;
        seal_marker = FW_AUDIT_JSONL_SEAL;
        end = FW_AUDIT_JSONL_END;
    }

    end_len = strlen(end);
    mac_pre = strlen(mac_marker);
    seal_pre = strlen(seal_marker);
    tail = mac_pre + 2 * FW_AUDIT_MAC_LEN + end_len;

    if (len < tail + 1
        || memcmp(line + len - end_len, end, end_len) != 0
        || memcmp(line + len - tail, mac_marker, mac_pre) != 0)
    {
        *err = "no MAC at the end (truncated or unsealed record)";
        return FW_AUDIT_ERROR;
    }

    mac = line + len - tail + mac_pre;

    if (fw_hex_decode(mac, 2 * FW_AUDIT_MAC_LEN, out->mac, &n) != FW_OK
        || n != FW_AUDIT_MAC_LEN)
    {
        *err = "bad MAC";
        return FW_AUDIT_ERROR;
    }

    out->msg_len = len - tail;

    /* the seal: the last string before the MAC */

    e = line + out->msg_len;

    if (e[-1] != '"') {
        *err = "no chain seal";
        return FW_AUDIT_ERROR;
    }

    e--;
    s = e;

    while (s > line && s[-1] != '"') {
        s--;
    }

    if ((size_t) (s - line) < seal_pre + 1
        || memcmp(s - seal_pre, seal_marker, seal_pre) != 0)
    {
        *err = "no chain seal";
        return FW_AUDIT_ERROR;
    }

    return fw_audit_parse_seal(s, e - s, out, err);
}


static int
fw_audit_parse_num(const u_char **p, const u_char *end, uint64_t *v)
{
    const u_char        *s;
    unsigned long long   n;

    s = *p;

    while (*p < end && **p != ' ') {
        (*p)++;
    }

    if (fw_parse_uint(s, *p - s, (unsigned long long) INT64_MAX, &n)
        != FW_OK)
    {
        return FW_AUDIT_ERROR;
    }

    *v = n;

    if (*p < end) {
        (*p)++;
    }

    return FW_AUDIT_OK;
}


static int
fw_audit_parse_seal(const u_char *s, size_t len, fw_audit_line_t *out,
    const char **err)
{
    size_t         n;
    const u_char  *p, *end, *id;

    p = s;
    end = s + len;

    *err = "bad chain seal";

    if (len < 5 || memcmp(p, "fwa1 ", 5) != 0) {
        return FW_AUDIT_ERROR;
    }

    p += 5;

    if ((size_t) (end - p) >= 4 && memcmp(p, "req ", 4) == 0) {
        out->kind = FW_AUDIT_KIND_REQUEST;
        p += 4;

    } else if ((size_t) (end - p) >= 6 && memcmp(p, "start ", 6) == 0) {
        out->kind = FW_AUDIT_KIND_START;
        p += 6;

    } else if ((size_t) (end - p) >= 4 && memcmp(p, "end ", 4) == 0) {
        out->kind = FW_AUDIT_KIND_END;
        p += 4;

    } else {
        return FW_AUDIT_ERROR;
    }

    id = p;

    while (p < end && *p != ' ') {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'
              || *p == '_' || *p == ':'))
        {
            return FW_AUDIT_ERROR;
        }

        p++;
    }

    if (p == id || p - id > FW_AUDIT_CHAIN_ID_MAX || p == end) {
        return FW_AUDIT_ERROR;
    }

    out->chain = id;
    out->chain_len = p - id;
    p++;

    if (fw_audit_parse_num(&p, end, &out->epoch) != FW_AUDIT_OK
        || fw_audit_parse_num(&p, end, &out->seq) != FW_AUDIT_OK
        || fw_audit_parse_num(&p, end, &out->lost) != FW_AUDIT_OK)
    {
        return FW_AUDIT_ERROR;
    }

    if (end - p != 2 * FW_AUDIT_MAC_LEN
        || fw_hex_decode(p, 2 * FW_AUDIT_MAC_LEN, out->prev, &n) != FW_OK
        || n != FW_AUDIT_MAC_LEN)
    {
        return FW_AUDIT_ERROR;
    }

    *err = NULL;

    return FW_AUDIT_OK;
}
