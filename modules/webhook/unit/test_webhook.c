/*
 * fhirwall webhook core: parsers, prefixes, windows, HMAC and every
 * published vector (../shared/data/webhooks/published-vectors.json,
 * embedded here so that the tests stand alone).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "fw_codec.h"
#include "fw_webhook.h"


#define S(s)  (const u_char *) (s), sizeof(s) - 1


/* computes the MAC of prefix + body (+ body split at "split") */
static void
mac_of(int digest, const u_char *key, size_t key_len, const u_char *prefix,
    size_t prefix_len, const u_char *body, size_t body_len, size_t split,
    u_char *out, size_t *out_len)
{
    fw_webhook_mac_t  tmpl, m;

    assert_int_equal(fw_webhook_mac_init(&tmpl, digest, key, key_len),
                     FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_mac_dup(&m, &tmpl), FW_WEBHOOK_OK);
    fw_webhook_mac_free(&tmpl);

    assert_int_equal(fw_webhook_mac_update(&m, prefix, prefix_len),
                     FW_WEBHOOK_OK);

    if (split > body_len) {
        split = body_len;
    }

    assert_int_equal(fw_webhook_mac_update(&m, body, split), FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_mac_update(&m, body + split,
                                           body_len - split),
                     FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_mac_final(&m, out, out_len), FW_WEBHOOK_OK);
    fw_webhook_mac_free(&m);
}


static void
test_vector_standard(void **state)
{
    size_t             key_len, plen, mlen, split;
    u_char             key[64], prefix[128], mac[FW_WEBHOOK_MAC_MAX];
    unsigned long long ts;
    fw_webhook_sigs_t  sigs;

    static const char  secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static const char  id[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    static const char  tss[] = "1614265330";
    static const char  sig[] =
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    static const char  body[] = "{\"test\": 2432232314}";

    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_STANDARD, S(secret),
                                           key, &key_len), FW_WEBHOOK_OK);
    assert_int_equal(key_len, 24);

    assert_int_equal(fw_webhook_parse_ts(S(tss), &ts), FW_WEBHOOK_OK);
    assert_true(ts == 1614265330ULL);
    assert_int_equal(fw_webhook_check_id(S(id)), FW_WEBHOOK_OK);

    assert_int_equal(fw_webhook_parse_standard(S(sig), &sigs),
                     FW_WEBHOOK_OK);
    assert_int_equal(sigs.nsigs, 1);
    assert_int_equal(sigs.len[0], 32);

    plen = fw_webhook_signed_prefix(FW_WEBHOOK_STANDARD, S(id), S(tss),
                                    NULL);
    assert_int_equal(plen, sizeof(id) - 1 + sizeof(tss) - 1 + 2);
    assert_int_equal(fw_webhook_signed_prefix(FW_WEBHOOK_STANDARD, S(id),
                                              S(tss), prefix), plen);
    assert_memory_equal(prefix,
                        "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.", plen);

    for (split = 0; split <= sizeof(body) - 1; split++) {
        mac_of(FW_WEBHOOK_SHA256, key, key_len, prefix, plen, S(body), split,
               mac, &mlen);
        assert_int_equal(fw_webhook_match(&sigs, mac, mlen, NULL),
                         FW_WEBHOOK_OK);
    }

    /* one byte of the body changed */
    mac_of(FW_WEBHOOK_SHA256, key, key_len, prefix, plen,
           S("{\"test\": 2432232315}"), 0, mac, &mlen);
    assert_int_equal(fw_webhook_match(&sigs, mac, mlen, NULL),
                     FW_WEBHOOK_INVALID);

    /* the timestamp at the edges of the window */
    assert_int_equal(fw_webhook_check_window(ts, ts + 300, 300),
                     FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_check_window(ts, ts + 301, 300),
                     FW_WEBHOOK_EXPIRED);
    assert_int_equal(fw_webhook_check_window(ts, ts - 300, 300),
                     FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_check_window(ts, ts - 301, 300),
                     FW_WEBHOOK_EXPIRED);
}


static void
test_vector_github(void **state)
{
    size_t             key_len, mlen;
    u_char             key[64], mac[FW_WEBHOOK_MAC_MAX];
    fw_webhook_sigs_t  sigs;

    static const char  secret[] = "It's a Secret to Everybody";
    static const char  hdr[] = "sha256=757107ea0eb2509fc211221cce984b8a37570"
                               "b6d7586c22c46f4379c8b043e17";

    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_GITHUB, S(secret), key,
                                           &key_len), FW_WEBHOOK_OK);
    assert_int_equal(key_len, sizeof(secret) - 1);

    assert_int_equal(fw_webhook_parse_single(S(hdr), S("sha256="),
                                             FW_WEBHOOK_HEX, &sigs),
                     FW_WEBHOOK_OK);

    assert_int_equal(fw_webhook_signed_prefix(FW_WEBHOOK_GITHUB, NULL, 0,
                                              NULL, 0, NULL), 0);

    mac_of(FW_WEBHOOK_SHA256, key, key_len, NULL, 0, S("Hello, World!"), 5,
           mac, &mlen);
    assert_int_equal(fw_webhook_match(&sigs, mac, mlen, NULL),
                     FW_WEBHOOK_OK);

    mac_of(FW_WEBHOOK_SHA256, key, key_len, NULL, 0, S("Hello, World?"), 5,
           mac, &mlen);
    assert_int_equal(fw_webhook_match(&sigs, mac, mlen, NULL),
                     FW_WEBHOOK_INVALID);
}


static void
test_vector_slack(void **state)
{
    size_t             key_len, plen, mlen;
    u_char             key[64], prefix[64], mac[FW_WEBHOOK_MAC_MAX];
    fw_webhook_sigs_t  sigs;

    static const char  secret[] = "8f742231b10e8888abcd99yyyzzz85a5";
    static const char  tss[] = "1531420618";
    static const char  hdr[] = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21"
                               "a10bd27519666489c69b503";
    static const char  body[] =
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain="
        "testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id="
        "U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
        "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J"
        "%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id="
        "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_SLACK, S(secret), key,
                                           &key_len), FW_WEBHOOK_OK);

    assert_int_equal(fw_webhook_parse_single(S(hdr), S("v0="),
                                             FW_WEBHOOK_HEX, &sigs),
                     FW_WEBHOOK_OK);

    plen = fw_webhook_signed_prefix(FW_WEBHOOK_SLACK, NULL, 0, S(tss),
                                    prefix);
    assert_int_equal(plen, 14);
    assert_memory_equal(prefix, "v0:1531420618:", 14);

    mac_of(FW_WEBHOOK_SHA256, key, key_len, prefix, plen, S(body), 100, mac,
           &mlen);
    assert_int_equal(fw_webhook_match(&sigs, mac, mlen, NULL),
                     FW_WEBHOOK_OK);

    /* the timestamp is signed */
    plen = fw_webhook_signed_prefix(FW_WEBHOOK_SLACK, NULL, 0,
                                    S("1531420619"), prefix);
    mac_of(FW_WEBHOOK_SHA256, key, key_len, prefix, plen, S(body), 100, mac,
           &mlen);
    assert_int_equal(fw_webhook_match(&sigs, mac, mlen, NULL),
                     FW_WEBHOOK_INVALID);
}


static void
test_vector_stripe_primitive(void **state)
{
    size_t             mlen;
    u_char             mac[FW_WEBHOOK_MAC_MAX], hex[2 * FW_WEBHOOK_MAC_MAX];

    static const char  body[] = "{\"obj1\":\"hello\",\"obj2\":\"world\"}";

    mac_of(FW_WEBHOOK_SHA256, S("test_secret"), NULL, 0, (u_char *) "", 0,
           0, mac, &mlen);
    assert_int_equal(mlen, 32);
    fw_hex_encode(mac, mlen, hex);
    assert_memory_equal(hex, "f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bf"
                             "caf9521f43fd8927fd", 64);

    mac_of(FW_WEBHOOK_SHA256, S("test_secret"), NULL, 0, S(body), 7, mac,
           &mlen);
    fw_hex_encode(mac, mlen, hex);
    assert_memory_equal(hex, "bebb1a643997f419b315ddba19e6f5411e1ce7f810ba6d"
                             "3617ce72823092f363", 64);
}


static void
test_stripe_header(void **state)
{
    size_t             mlen, which, key_len;
    u_char             mac[FW_WEBHOOK_MAC_MAX], hex[2 * FW_WEBHOOK_MAC_MAX];
    u_char             hdr[512], prefix[32], key[64];
    fw_webhook_sigs_t  sigs;

    static const char  secret[] = "whsec_test\n";
    static const char  body[] = "{\"id\":\"evt_1\"}";

    /* the secret is used as is, less its trailing newline */
    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_STRIPE, S(secret), key,
                                           &key_len), FW_WEBHOOK_OK);
    assert_int_equal(key_len, 10);

    assert_int_equal(fw_webhook_signed_prefix(FW_WEBHOOK_STRIPE, NULL, 0,
                                              S("1700000000"), prefix), 11);
    assert_memory_equal(prefix, "1700000000.", 11);

    mac_of(FW_WEBHOOK_SHA256, key, key_len, prefix, 11, S(body), 3, mac,
           &mlen);
    fw_hex_encode(mac, mlen, hex);

    snprintf((char *) hdr, sizeof(hdr),
             "t=1700000000,v0=abcd,v1=%064d,foo=bar,v1=%.64s", 0, hex);

    assert_int_equal(fw_webhook_parse_stripe(hdr, strlen((char *) hdr),
                                             &sigs), FW_WEBHOOK_OK);
    assert_int_equal(sigs.nsigs, 2);
    assert_int_equal(sigs.ts_len, 10);
    assert_memory_equal(sigs.ts, "1700000000", 10);
    assert_int_equal(fw_webhook_match(&sigs, mac, mlen, &which),
                     FW_WEBHOOK_OK);
    assert_int_equal(which, 1);

    /* a MAC that is a prefix of a candidate does not match */
    assert_int_equal(fw_webhook_match(&sigs, mac, mlen - 1, NULL),
                     FW_WEBHOOK_INVALID);
}


static void
test_stripe_malformed(void **state)
{
    fw_webhook_sigs_t  sigs;

    assert_int_equal(fw_webhook_parse_stripe(S(""), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("t=1,v1=ab,junk"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("v1=ab"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("t=1,t=2,v1=ab"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("t=,v1=ab"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("t=1,v1="), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("t=1,v1=abc"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("t=1,v1=zz"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("t=1,v1=ab,"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(S("t=1,v0=ab"), &sigs),
                     FW_WEBHOOK_MISSING);
    assert_int_equal(fw_webhook_parse_stripe(S("t=1, v1=ab"), &sigs),
                     FW_WEBHOOK_MISSING);
    assert_int_equal(fw_webhook_parse_stripe(
                         S("t=1,v1=ab,v1=ab,v1=ab,v1=ab,v1=ab,v1=ab,v1=ab,"
                           "v1=ab,v1=ab"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_stripe(
                         S("t=1,v1=ab,v1=ab,v1=ab,v1=ab,v1=ab,v1=ab,v1=ab,"
                           "v1=ab"), &sigs),
                     FW_WEBHOOK_OK);
    assert_int_equal(sigs.nsigs, 8);
}


static void
test_standard_parse(void **state)
{
    fw_webhook_sigs_t  sigs;

    assert_int_equal(fw_webhook_parse_standard(S(""), &sigs),
                     FW_WEBHOOK_MISSING);
    assert_int_equal(fw_webhook_parse_standard(S("v2,Zm9v"), &sigs),
                     FW_WEBHOOK_MISSING);
    assert_int_equal(fw_webhook_parse_standard(S("v1a,Zm9v v1,Zm9v"),
                                               &sigs), FW_WEBHOOK_OK);
    assert_int_equal(sigs.nsigs, 1);
    assert_int_equal(sigs.len[0], 3);
    assert_memory_equal(sigs.sig[0], "foo", 3);
    assert_int_equal(fw_webhook_parse_standard(S("  v1,Zm9v   v1,YmFy  "),
                                               &sigs), FW_WEBHOOK_OK);
    assert_int_equal(sigs.nsigs, 2);
    assert_int_equal(fw_webhook_parse_standard(S("v1Zm9v"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_standard(S("v1,Zm9"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_standard(S("v1,"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_standard(S("v1,Zm9v*"), &sigs),
                     FW_WEBHOOK_MALFORMED);
    /* another version's entry is not decoded */
    assert_int_equal(fw_webhook_parse_standard(S("v2,*** v1,Zm9v"), &sigs),
                     FW_WEBHOOK_OK);
}


static void
test_single_parse(void **state)
{
    fw_webhook_sigs_t  sigs;

    assert_int_equal(fw_webhook_parse_single(S("sha256=ab"), S("sha256="),
                                             FW_WEBHOOK_HEX, &sigs),
                     FW_WEBHOOK_OK);
    assert_int_equal(sigs.len[0], 1);
    assert_int_equal(fw_webhook_parse_single(S("sha1=ab"), S("sha256="),
                                             FW_WEBHOOK_HEX, &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_single(S("sha256"), S("sha256="),
                                             FW_WEBHOOK_HEX, &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_single(S("sha256="), S("sha256="),
                                             FW_WEBHOOK_HEX, &sigs),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_single(S("Zm9v"), S(""),
                                             FW_WEBHOOK_BASE64, &sigs),
                     FW_WEBHOOK_OK);
    /* longer than any MAC */
    assert_int_equal(fw_webhook_parse_single(
        S("00000000000000000000000000000000000000000000000000000000000000000"
          "000000000000000000000000000000000000000000000000000000000000000"
          "00"), S(""), FW_WEBHOOK_HEX, &sigs), FW_WEBHOOK_MALFORMED);
}


static void
test_timestamps_ids(void **state)
{
    unsigned long long  ts;

    assert_int_equal(fw_webhook_parse_ts(S("0"), &ts), FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_parse_ts(S("9999999999"), &ts),
                     FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_parse_ts(S("10000000000"), &ts),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_ts(S(""), &ts), FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_ts(S("-1"), &ts),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_ts(S("+1"), &ts),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_ts(S("1 "), &ts),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_ts(S("1.5"), &ts),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_parse_ts(S("1e9"), &ts),
                     FW_WEBHOOK_MALFORMED);

    assert_int_equal(fw_webhook_check_window(100, 100, 1), FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_check_window(0, 2, 1), FW_WEBHOOK_EXPIRED);

    assert_int_equal(fw_webhook_check_id(S("msg_1")), FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_check_id(S("")), FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_check_id(S("a b")), FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_check_id(S("a\x7f")), FW_WEBHOOK_MALFORMED);
}


static void
test_secrets(void **state)
{
    size_t  len;
    u_char  key[64];

    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_STANDARD,
                                           S("whsec_Zm9v\r\n"), key, &len),
                     FW_WEBHOOK_OK);
    assert_int_equal(len, 3);
    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_STANDARD, S("Zm9v"),
                                           key, &len), FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_STANDARD,
                                           S("whsec_"), key, &len),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_STANDARD,
                                           S("whsec_not*b64"), key, &len),
                     FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_STRIPE, S("\n\n"),
                                           key, &len), FW_WEBHOOK_MALFORMED);
    assert_int_equal(fw_webhook_secret_key(FW_WEBHOOK_GITHUB, S("a b\n"),
                                           key, &len), FW_WEBHOOK_OK);
    assert_int_equal(len, 3);
}


static void
test_sha512_and_ids(void **state)
{
    size_t  mlen;
    u_char  mac[FW_WEBHOOK_MAC_MAX], hex[2 * FW_WEBHOOK_MAC_MAX];
    u_char  id1[FW_WEBHOOK_NEW_ID_LEN], id2[FW_WEBHOOK_NEW_ID_LEN];

    /* RFC 4231 test case 2 */
    mac_of(FW_WEBHOOK_SHA512, S("Jefe"), NULL, 0,
           S("what do ya want for nothing?"), 10, mac, &mlen);
    assert_int_equal(mlen, 64);
    assert_int_equal(fw_webhook_mac_size(FW_WEBHOOK_SHA512), 64);
    fw_hex_encode(mac, mlen, hex);
    assert_memory_equal(hex,
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        128);

    assert_int_equal(fw_webhook_new_id(id1), FW_WEBHOOK_OK);
    assert_int_equal(fw_webhook_new_id(id2), FW_WEBHOOK_OK);
    assert_memory_equal(id1, "msg_", 4);
    assert_memory_not_equal(id1, id2, sizeof(id1));
    assert_int_equal(fw_webhook_check_id(id1, sizeof(id1)), FW_WEBHOOK_OK);
}


/* a reused context, reset after any use, gives the MAC of a fresh one */
static void
test_mac_reset(void **state)
{
    size_t            len1, len2;
    u_char            mac1[FW_WEBHOOK_MAC_MAX], mac2[FW_WEBHOOK_MAC_MAX];
    fw_webhook_mac_t  tmpl, m;
    int               digest;

    for (digest = FW_WEBHOOK_SHA256; digest <= FW_WEBHOOK_SHA512; digest++) {
        mac_of(digest, S("key"), S("1700000000."), S("body"), 2, mac1,
               &len1);

        assert_int_equal(fw_webhook_mac_init(&tmpl, digest, S("key")),
                         FW_WEBHOOK_OK);
        assert_int_equal(fw_webhook_mac_dup(&m, &tmpl), FW_WEBHOOK_OK);

        /* finalized, then reset */
        assert_int_equal(fw_webhook_mac_update(&m, S("other")),
                         FW_WEBHOOK_OK);
        assert_int_equal(fw_webhook_mac_final(&m, mac2, &len2),
                         FW_WEBHOOK_OK);
        assert_int_equal(fw_webhook_mac_reset(&m), FW_WEBHOOK_OK);

        /* left in the middle of a message, then reset */
        assert_int_equal(fw_webhook_mac_update(&m, S("half a message")),
                         FW_WEBHOOK_OK);
        assert_int_equal(fw_webhook_mac_reset(&m), FW_WEBHOOK_OK);

        assert_int_equal(fw_webhook_mac_update(&m, S("1700000000.body")),
                         FW_WEBHOOK_OK);
        assert_int_equal(fw_webhook_mac_final(&m, mac2, &len2),
                         FW_WEBHOOK_OK);

        assert_int_equal(len1, len2);
        assert_memory_equal(mac1, mac2, len1);

        fw_webhook_mac_free(&m);
        fw_webhook_mac_free(&tmpl);
    }
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_standard),
        cmocka_unit_test(test_vector_github),
        cmocka_unit_test(test_vector_slack),
        cmocka_unit_test(test_vector_stripe_primitive),
        cmocka_unit_test(test_stripe_header),
        cmocka_unit_test(test_stripe_malformed),
        cmocka_unit_test(test_standard_parse),
        cmocka_unit_test(test_single_parse),
        cmocka_unit_test(test_timestamps_ids),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_sha512_and_ids),
        cmocka_unit_test(test_mac_reset),
    };

    return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
