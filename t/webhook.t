# fhirwall webhook module: inbound verification.
#
# Every location answers through an upstream (the /backend location of the
# same server), so the access phase really runs.  The clock is pinned with
# fw_webhook_test_now, a configuration-time directive for tests.

use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(hmac_sha256_hex hmac_sha256 hmac_sha512);
use MIME::Base64 qw(encode_base64);

# the real Test::Nginx has no TEST_NGINX_HTML_DIR (fhirwall's runner has)
$ENV{TEST_NGINX_HTML_DIR} ||= Test::Nginx::Util::html_dir();

no_shuffle();
log_level('info');

our $STRIPE_SECRET = 'whsec_fhirwall_test_secret_1';
our $STRIPE_SECRET2 = 'whsec_fhirwall_test_secret_2';
our $BODY4K = join('', map { sprintf("%05d,", $_) } 1 .. 682) . 'end!';

sub stripe_sig {
    my ($secret, $ts, $body) = @_;
    return hmac_sha256_hex("$ts.$body", $secret);
}

sub std_sig {
    my ($b64secret, $id, $ts, $body) = @_;
    my $key = MIME::Base64::decode_base64($b64secret);
    my $s = encode_base64(hmac_sha256("$id.$ts.$body", $key), '');
    return "v1,$s";
}

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'EOF');
>>> std.key
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
>>> github.key
It's a Secret to Everybody
>>> slack.key
8f742231b10e8888abcd99yyyzzz85a5
>>> primitive.key
test_secret
>>> stripe.key
whsec_fhirwall_test_secret_1
>>> stripe2.key
whsec_fhirwall_test_secret_2
>>> stripe3.key
whsec_fhirwall_test_secret_3
EOF
    }

    if (defined $block->config) {
        $block->set_value("config", $block->config . <<'EOF');
    location = /backend {
        fw_webhook off;
        return 200 "ok\n";
    }
EOF
    }
});

run_tests();

__DATA__

=== TEST 1: Standard Webhooks published vector
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- response_headers
X-Webhook: valid
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: Standard Webhooks vector, tampered body
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232315}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code: 401
--- response_headers
X-Webhook: invalid
WWW-Authenticate: Signature
Content-Type: application/problem+json
--- response_body_like: "status":\s*401
--- error_log
fw_webhook: signature does not match (20 body bytes, 1 secrets)



=== TEST 3: Standard Webhooks vector, tampered webhook-id
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJeK
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code: 401
--- response_headers
X-Webhook: invalid



=== TEST 4: Standard Webhooks: other versions skipped, any v1 may match
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1a,AAAA v2,Zm9v  v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 5: Standard Webhooks: entry without a comma is malformed
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code: 400
--- response_headers
X-Webhook: malformed



=== TEST 6: Standard Webhooks: truncated base64 signature is malformed
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE
--- error_code: 400
--- response_headers
X-Webhook: malformed



=== TEST 7: Standard Webhooks: missing webhook-timestamp is malformed
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code: 400
--- response_headers
X-Webhook: malformed
--- error_log
fw_webhook: no "webhook-timestamp" header



=== TEST 8: Standard Webhooks: non-numeric timestamp is malformed
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330.0
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code: 400
--- response_headers
X-Webhook: malformed
--- error_log
fw_webhook: malformed timestamp



=== TEST 9: Standard Webhooks: duplicated webhook-signature header
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code: 400
--- response_headers
X-Webhook: malformed
--- error_log
fw_webhook: duplicate "webhook-signature" header



=== TEST 10: Standard Webhooks: tolerance edge, exactly 300 s old
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265630;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 11: Standard Webhooks: tolerance edge, 301 s old
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265631;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code: 401
--- response_headers
X-Webhook: expired
--- error_log
fw_webhook: timestamp 1614265330 outside the tolerance of 300 s



=== TEST 12: Standard Webhooks: tolerance edge, exactly 300 s in the future
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265030;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- response_headers
X-Webhook: valid



=== TEST 13: Standard Webhooks: tolerance edge, 301 s in the future
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265029;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code: 401
--- response_headers
X-Webhook: expired



=== TEST 14: configurable tolerance: 10 s, edge at 10 and 11
--- config
    location = /at {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_tolerance 10s;
        fw_webhook_test_now 1614265340;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location = /past {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_tolerance 10s;
        fw_webhook_test_now 1614265341;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /at\n{\"test\": 2432232314}", "POST /past\n{\"test\": 2432232314}"]
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code eval
[200, 401]
--- response_headers eval
["X-Webhook: valid", "X-Webhook: expired"]
--- response_body_like eval
['^ok\n$', '"status":\s*401']



=== TEST 15: GitHub published vector
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World!
--- more_headers
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 16: GitHub vector, tampered body
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World?
--- more_headers
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- error_code: 401
--- response_headers
X-Webhook: invalid



=== TEST 17: GitHub: truncated signature (odd hex) is malformed
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World!
--- more_headers
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1
--- error_code: 400
--- response_headers
X-Webhook: malformed



=== TEST 18: GitHub: truncated by one byte (even hex) does not match
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World!
--- more_headers
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e
--- error_code: 401
--- response_headers
X-Webhook: invalid



=== TEST 19: GitHub: wrong algorithm prefix is malformed
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World!
--- more_headers
X-Hub-Signature-256: sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- error_code: 400
--- response_headers
X-Webhook: malformed



=== TEST 20: no signature header: 401, FHIR OperationOutcome format
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        fw_webhook_error_format fhir;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World!
--- error_code: 401
--- response_headers
X-Webhook: missing
WWW-Authenticate: Signature
Content-Type: application/fhir+json
--- response_body_like: "resourceType":\s*"OperationOutcome"
--- error_log
fw_webhook: no "X-Hub-Signature-256" header



=== TEST 21: Slack published vector
--- config
    location = /slack {
        fw_webhook slack;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/slack.key;
        fw_webhook_test_now 1531420618;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /slack
token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c
--- more_headers
X-Slack-Request-Timestamp: 1531420618
X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 22: Slack vector, tampered timestamp (inside the window)
--- config
    location = /slack {
        fw_webhook slack;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/slack.key;
        fw_webhook_test_now 1531420618;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /slack
token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c
--- more_headers
X-Slack-Request-Timestamp: 1531420619
X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503
--- error_code: 401
--- response_headers
X-Webhook: invalid



=== TEST 23: Slack: missing timestamp header
--- config
    location = /slack {
        fw_webhook slack;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/slack.key;
        fw_webhook_test_now 1531420618;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /slack
token=xyzz0WbapA4vBCDEFasx0q6G
--- more_headers
X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503
--- error_code: 400
--- response_headers
X-Webhook: malformed



=== TEST 24: generic scheme, Stripe's HMAC-SHA256 primitive vector
--- config
    location = /generic {
        fw_webhook generic;
        fw_webhook_generic header=X-Signature encoding=hex digest=sha256;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/primitive.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /generic
{"obj1":"hello","obj2":"world"}
--- more_headers
X-Signature: bebb1a643997f419b315ddba19e6f5411e1ce7f810ba6d3617ce72823092f363
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 25: generic scheme, primitive vector over an empty body
--- config
    location = /generic {
        fw_webhook generic;
        fw_webhook_generic header=X-Signature;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/primitive.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /generic
--- more_headers
X-Signature: f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 26: generic scheme, SHA-512, base64, prefix, content from variables
--- config
    location = /generic {
        fw_webhook generic;
        fw_webhook_generic header=X-Sig prefix=hmac= digest=sha512
                           encoding=base64 timestamp=X-Ts;
        fw_webhook_signed_prefix "$request_method $uri $http_x_ts|";
        fw_webhook_signed_suffix "|end";
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/primitive.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /generic
payload=1
--- more_headers eval
"X-Ts: 1700000100\nX-Sig: hmac="
. MIME::Base64::encode_base64(Digest::SHA::hmac_sha512(
    "POST /generic 1700000100|payload=1|end", "test_secret"), '')
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 27: generic scheme, SHA-512 signature with a SHA-256 key configured
--- config
    location = /generic {
        fw_webhook generic;
        fw_webhook_generic header=X-Sig prefix=hmac= encoding=base64;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/primitive.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /generic
payload=1
--- more_headers eval
"X-Sig: hmac="
. MIME::Base64::encode_base64(Digest::SHA::hmac_sha512("payload=1",
                                                       "test_secret"), '')
--- error_code: 401
--- response_headers
X-Webhook: invalid



=== TEST 28: Stripe: valid signature among several v1 entries, v0 ignored
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /stripe
{"id":"evt_1","type":"invoice.paid"}
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET2, 1700000000,
                   '{"id":"evt_1","type":"invoice.paid"}')
. ",v0=00ff,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000,
                   '{"id":"evt_1","type":"invoice.paid"}')
. ",x=unknown"
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 29: Stripe: pair without "=" is malformed
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /stripe
{"id":"evt_1"}
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000, '{"id":"evt_1"}')
. ",junk"
--- error_code: 400
--- response_headers
X-Webhook: malformed



=== TEST 30: Stripe: no v1 entry is a missing signature
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /stripe
{"id":"evt_1"}
--- more_headers
Stripe-Signature: t=1700000000,v0=abcd
--- error_code: 401
--- response_headers
X-Webhook: missing



=== TEST 31: Stripe: the timestamp is signed (t changed, v1 kept)
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /stripe
{"id":"evt_1"}
--- more_headers eval
"Stripe-Signature: t=1700000001,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000, '{"id":"evt_1"}')
--- error_code: 401
--- response_headers
X-Webhook: invalid



=== TEST 32: Stripe: non-numeric t is malformed
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /stripe
{"id":"evt_1"}
--- more_headers eval
"Stripe-Signature: t=-1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, '-1700000000', '{"id":"evt_1"}')
--- error_code: 400
--- response_headers
X-Webhook: malformed



=== TEST 33: rotation: several secret files, the second one matches
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe2.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /stripe
{"id":"evt_2"}
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET2, 1700000000, '{"id":"evt_2"}')
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 34: rotation: a secret that is not configured is refused
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe2.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /stripe
{"id":"evt_2"}
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig('whsec_fhirwall_test_secret_3', 1700000000,
                   '{"id":"evt_2"}')
--- error_code: 401
--- response_headers
X-Webhook: invalid
--- error_log
fw_webhook: signature does not match (14 body bytes, 2 secrets)



=== TEST 35: secrets inherited from the server level
--- config
    fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe2.key;
    fw_webhook_test_now 1700000000;
    location = /stripe {
        fw_webhook stripe;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /stripe
{"id":"evt_3"}
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET2, 1700000000, '{"id":"evt_3"}')
--- response_headers
X-Webhook: valid



=== TEST 36: body sent in several delayed writes
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
[["POST /stripe\n{\"id\":\"evt_",
  {value => "4\",\"data\":", delay_before => 1},
  {value => "\"delayed\"}", delay_before => 1}]]
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000,
                   '{"id":"evt_4","data":"delayed"}')
--- response_headers
X-Webhook: valid
--- response_body
ok
--- timeout: 10



=== TEST 37: body sent in several delayed writes, last write tampered
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
[["POST /stripe\n{\"id\":\"evt_",
  {value => "4\",\"data\":", delay_before => 1},
  {value => "\"DELAYED\"}", delay_before => 1}]]
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000,
                   '{"id":"evt_4","data":"delayed"}')
--- error_code: 401
--- response_headers
X-Webhook: invalid
--- error_log
fw_webhook: signature does not match (31 body bytes, 1 secrets)
--- timeout: 10



=== TEST 38: chunked body split over several writes
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- raw_request eval
["POST /gh HTTP/1.1\r
Host: localhost\r
Connection: close\r
Transfer-Encoding: chunked\r
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\r
\r
5\r
Hello\r
", "8\r
, World!\r
", "0\r
\r
"]
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 39: chunked body, tampered
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- raw_request eval
"POST /gh HTTP/1.1\r
Host: localhost\r
Connection: close\r
Transfer-Encoding: chunked\r
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\r
\r
5\r
Hello\r
8\r
, World?\r
0\r
\r
"
--- error_code: 401
--- response_headers
X-Webhook: invalid



=== TEST 40: 4 KiB body in a temporary file (small client_body_buffer_size)
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        client_body_buffer_size 1k;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
[["POST /stripe\n" . substr($main::BODY4K, 0, 1000),
  {value => substr($main::BODY4K, 1000), delay_before => 1}]]
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000, $main::BODY4K)
--- response_headers
X-Webhook: valid
--- response_body
ok
--- error_log
a client request body is buffered to a temporary file
--- timeout: 10



=== TEST 41: body in a temporary file only, tampered
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        client_body_in_file_only clean;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
"POST /stripe\n" . $main::BODY4K . "x"
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000, $main::BODY4K)
--- error_code: 401
--- response_headers
X-Webhook: invalid
--- error_log
fw_webhook: signature does not match (4097 body bytes, 1 secrets)



=== TEST 42: body in a temporary file only, valid
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        client_body_in_file_only clean;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
"POST /stripe\n" . $main::BODY4K
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000, $main::BODY4K)
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 43: oversize body with a Content-Length: 413 before reading
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        fw_webhook_max_body 12;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World!
--- more_headers
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- error_code: 413
--- response_headers
X-Webhook: too_large
Content-Type: application/problem+json
--- response_body_like: "status":\s*413
--- error_log
fw_webhook: body of 13 bytes is larger than fw_webhook_max_body 12



=== TEST 44: body at the maximum is accepted
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        fw_webhook_max_body 13;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World!
--- more_headers
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 45: oversize chunked body: 413 as the bytes arrive
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        fw_webhook_max_body 12;
        fw_webhook_error_format text;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- raw_request eval
"POST /gh HTTP/1.1\r
Host: localhost\r
Connection: close\r
Transfer-Encoding: chunked\r
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\r
\r
5\r
Hello\r
8\r
, World!\r
0\r
\r
"
--- error_code: 413
--- response_headers
X-Webhook: too_large
Content-Type: text/plain
--- error_log
fw_webhook: body larger than fw_webhook_max_body 12



=== TEST 46: oversize chunked body, the excess arriving later: same answer
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        fw_webhook_max_body 12;
        fw_webhook_error_format fhir;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
[["POST /gh\n5\r\nHello\r\n", {value => "8\r\n, World!\r\n0\r\n\r\n",
                                 delay_before => 1}]]
--- more_headers
Transfer-Encoding: chunked
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- error_code: 413
--- response_headers
X-Webhook: too_large
Content-Type: application/fhir+json
--- response_body_like: "code":\s*"too-long"
--- error_log
fw_webhook: body larger than fw_webhook_max_body 12
--- no_error_log
[alert]
--- timeout: 10



=== TEST 47: oversize body later, error_page 413 of the location applies
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        fw_webhook_max_body 12;
        error_page 413 /too-large.txt;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location = /too-large.txt {
        fw_webhook off;
        root $TEST_NGINX_HTML_DIR;
    }
--- user_files
>>> github.key
It's a Secret to Everybody
>>> too-large.txt
custom page
--- request eval
[["POST /gh\n5\r\nHello\r\n", {value => "8\r\n, World!\r\n0\r\n\r\n",
                                 delay_before => 1}]]
--- more_headers
Transfer-Encoding: chunked
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- error_code: 413
--- response_body
custom page
--- timeout: 10



=== TEST 48: replay: the same message twice is refused the second time
--- http_config
    fw_webhook_replay_zone webhooks:1m;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay webhooks;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /std\n{\"test\": 2432232314}", "POST /std\n{\"test\": 2432232314}"]
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code eval
[200, 409]
--- response_headers eval
["X-Webhook: valid", "X-Webhook: replay"]
--- response_body_like eval
['^ok\n$', '"status":\s*409']



=== TEST 49: replay: an invalid message is not remembered
--- http_config
    fw_webhook_replay_zone webhooks:1m;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay webhooks;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /std\n{\"test\": 2432232315}", "POST /std\n{\"test\": 2432232314}"]
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code eval
[401, 200]
--- response_headers eval
["X-Webhook: invalid", "X-Webhook: valid"]
--- response_body_like eval
['"status":\s*401', '^ok\n$']
--- no_error_log
replayed message refused



=== TEST 50: replay (Stripe): same t and v1 in another location sharing the zone
--- http_config
    fw_webhook_replay_zone webhooks:1m;
--- config
    fw_webhook_replay webhooks;
    fw_webhook_test_now 1700000000;
    location = /a {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location = /b {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /a\n{\"id\":\"evt_9\"}", "POST /b\n{\"id\":\"evt_9\"}"]
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000, '{"id":"evt_9"}')
--- error_code eval
[200, 409]
--- response_headers eval
["X-Webhook: valid", "X-Webhook: replay"]
--- response_body_like eval
['^ok\n$', '"status":\s*409']



=== TEST 51: no fw_webhook: the status variable is empty, nothing checked
--- config
    location = /plain {
        add_header X-Webhook "[$fw_webhook_status]" always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /plain
hello
--- response_headers
X-Webhook: []
--- response_body
ok



=== TEST 52: fw_webhook off in a nested location
--- config
    fw_webhook github;
    fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
    location /hooks/ {
        add_header X-Webhook "[$fw_webhook_status]" always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        location /hooks/open {
            fw_webhook off;
            add_header X-Webhook "[$fw_webhook_status]" always;
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        }
    }
--- pipelined_requests eval
["POST /hooks/open\nhello", "POST /hooks/closed\nhello"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-Webhook: []", "X-Webhook: [missing]"]
--- response_body_like eval
['^ok\n$', '"status":\s*401']



=== TEST 53: satisfy any does not bypass verification
--- config
    location = /gh {
        satisfy any;
        allow all;
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /gh
Hello, World?
--- more_headers
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- error_code: 401



=== TEST 54: a client stalling in the body is closed by client_body_timeout
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        client_body_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- raw_request eval
"POST /gh HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Length: 13\r
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\r
\r
Hello"
--- error_code:
--- response_body:
--- no_error_log
[alert]
--- timeout: 3



=== TEST 55: GET without a body is verified over the empty body
--- config
    location = /generic {
        fw_webhook generic;
        fw_webhook_generic header=X-Signature;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/primitive.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
GET /generic
--- more_headers
X-Signature: f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 56: the verdict is logged once, the body handler does not verify twice
--- config
    location = /stripe {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
[["POST /stripe\n{\"id\":\"evt_",
  {value => "5\"}", delay_before => 1}]]
--- more_headers eval
"Stripe-Signature: t=1700000000,v1="
. main::stripe_sig($main::STRIPE_SECRET, 1700000000, '{"id":"evt_6"}')
--- error_code: 401
--- grep_error_log eval
qr/fw_webhook: signature does not match/
--- grep_error_log_out
fw_webhook: signature does not match
--- timeout: 10



=== TEST 57: an internal redirect keeps the verdict: verified once, no replay
--- http_config
    fw_webhook_replay_zone webhooks:1m;
--- config
    fw_webhook standard;
    fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
    fw_webhook_test_now 1614265330;
    fw_webhook_replay webhooks;
    location = /std {
        error_page 502 = @fallback;
        proxy_pass http://127.0.0.1:1/;
    }
    location @fallback {
        add_header X-Webhook $fw_webhook_status always;
        rewrite ^ /backend break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- response_headers
X-Webhook: valid
--- response_body
ok
--- no_error_log
replayed message refused



=== TEST 58: an internal redirect to a location with other secrets verifies again
--- config
    location = /gh {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/github.key;
        error_page 502 = @other;
        proxy_pass http://127.0.0.1:1/;
    }
    location @other {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/primitive.key;
        add_header X-Webhook $fw_webhook_status always;
        rewrite ^ /backend break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request
POST /gh
Hello, World!
--- more_headers
X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
--- error_code: 401
--- response_headers
X-Webhook: invalid
--- error_log
fw_webhook: signature does not match (13 body bytes, 1 secrets)



=== TEST 59: redirect between locations that load the same inherited secret
--- http_config
    fw_webhook_replay_zone webhooks:1m;
--- config
    fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
    fw_webhook_test_now 1614265330;
    fw_webhook_replay webhooks;
    location = /std {
        fw_webhook standard;
        error_page 502 = @fallback;
        proxy_pass http://127.0.0.1:1/;
    }
    location @fallback {
        fw_webhook standard;
        add_header X-Webhook $fw_webhook_status always;
        rewrite ^ /backend break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request
POST /std
{"test": 2432232314}
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- response_headers
X-Webhook: valid
--- response_body
ok
--- no_error_log
replayed message refused
