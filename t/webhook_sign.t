# fhirwall webhook module: outbound signing variables, checked by signing
# in one location and verifying in another one of the same server.

use Test::Nginx::Socket 'no_plan';

# the real Test::Nginx has no TEST_NGINX_HTML_DIR (fhirwall's runner has)
$ENV{TEST_NGINX_HTML_DIR} ||= Test::Nginx::Util::html_dir();

our $BODY4K = join('', map { sprintf("%05d,", $_) } 1 .. 682) . 'end!';

no_shuffle();
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'EOF');
>>> std.key
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
>>> std2.key
whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24=
>>> stripe.key
whsec_fhirwall_test_secret_1
>>> stripe2.key
whsec_fhirwall_test_secret_2
EOF
    }

    if (defined $block->config) {
        $block->set_value("config", $block->config . <<'EOF');
    location = /backend {
        return 200 "ok\n";
    }
EOF
    }
});

run_tests();

__DATA__

=== TEST 1: Stripe: sign, then verify in another location
--- config
    location = /send {
        fw_webhook_sign stripe $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        proxy_set_header Stripe-Signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
        add_header X-Sent $fw_webhook_sign_signature;
    }
    location = /verify {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now 1700000000;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /send
{"id":"evt_out_1","type":"patient.updated"}
--- response_headers
X-Webhook: valid
--- response_headers_like
X-Sent: ^t=1700000000,v1=[0-9a-f]{64}$
--- response_body
ok



=== TEST 2: Standard Webhooks: sign, then verify in another location
--- config
    location = /send {
        fw_webhook_sign standard $TEST_NGINX_HTML_DIR/std.key;
        proxy_set_header webhook-id $fw_webhook_sign_id;
        proxy_set_header webhook-timestamp $fw_webhook_sign_timestamp;
        proxy_set_header webhook-signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
        add_header X-Sent-Id $fw_webhook_sign_id;
        add_header X-Sent-Sig $fw_webhook_sign_signature;
    }
    location = /verify {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /send
{"resourceType":"Patient","id":"p1"}
--- response_headers
X-Webhook: valid
--- response_headers_like
X-Sent-Id: ^msg_[A-Za-z0-9_-]{22}$
X-Sent-Sig: ^v1,[A-Za-z0-9+/]{43}=$
--- response_body
ok



=== TEST 3: a signature made with another secret is refused
--- config
    location = /send {
        fw_webhook_sign standard $TEST_NGINX_HTML_DIR/std2.key;
        proxy_set_header webhook-id $fw_webhook_sign_id;
        proxy_set_header webhook-timestamp $fw_webhook_sign_timestamp;
        proxy_set_header webhook-signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
    }
    location = /verify {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /send
{"resourceType":"Patient","id":"p1"}
--- error_code: 401
--- response_headers
X-Webhook: invalid



=== TEST 4: rotation at the receiver: old and new secret both accepted
--- config
    location = /send-old {
        fw_webhook_sign standard $TEST_NGINX_HTML_DIR/std.key;
        proxy_set_header webhook-id $fw_webhook_sign_id;
        proxy_set_header webhook-timestamp $fw_webhook_sign_timestamp;
        proxy_set_header webhook-signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
    }
    location = /send-new {
        fw_webhook_sign standard $TEST_NGINX_HTML_DIR/std2.key;
        proxy_set_header webhook-id $fw_webhook_sign_id;
        proxy_set_header webhook-timestamp $fw_webhook_sign_timestamp;
        proxy_set_header webhook-signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
    }
    location = /verify {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std2.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /send-old\n{\"a\":1}", "POST /send-new\n{\"a\":2}"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Webhook: valid", "X-Webhook: valid"]



=== TEST 5: the signer's body in a temporary file, sent in delayed writes
--- config
    location = /send {
        fw_webhook_sign stripe $TEST_NGINX_HTML_DIR/stripe.key;
        client_body_buffer_size 1k;
        proxy_set_header Stripe-Signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
    }
    location = /verify {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
[["POST /send\n" . substr($main::BODY4K, 0, 1500),
  {value => substr($main::BODY4K, 1500), delay_before => 1}]]
--- response_headers
X-Webhook: valid
--- response_body
ok
--- error_log
a client request body is buffered to a temporary file
--- timeout: 10



=== TEST 6: the signer's body in a file only (client_body_in_file_only)
--- config
    location = /send {
        fw_webhook_sign standard $TEST_NGINX_HTML_DIR/std.key;
        client_body_in_file_only clean;
        proxy_set_header webhook-id $fw_webhook_sign_id;
        proxy_set_header webhook-timestamp $fw_webhook_sign_timestamp;
        proxy_set_header webhook-signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
    }
    location = /verify {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request eval
"POST /send\n" . $main::BODY4K
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 7: chunked client body, signed over the bytes sent upstream
--- config
    location = /send {
        fw_webhook_sign stripe $TEST_NGINX_HTML_DIR/stripe.key;
        proxy_set_header Stripe-Signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
    }
    location = /verify {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- raw_request eval
["POST /send HTTP/1.1\r
Host: localhost\r
Connection: close\r
Transfer-Encoding: chunked\r
\r
6\r
{\"a\":1\r
", "1\r
}\r
0\r
\r
"]
--- response_headers
X-Webhook: valid
--- response_body
ok



=== TEST 8: sign, verify, then the same delivery again is a replay
--- http_config
    fw_webhook_replay_zone hooks:1m;
--- config
    location = /send {
        fw_webhook_sign standard $TEST_NGINX_HTML_DIR/std.key;
        proxy_set_header webhook-id $fw_webhook_sign_id;
        proxy_set_header webhook-timestamp $fw_webhook_sign_timestamp;
        proxy_set_header webhook-signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify;
    }
    location = /verify {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_replay hooks;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/verify2;
    }
    location = /verify2 {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_replay hooks;
        proxy_set_header webhook-id $http_webhook_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /send
{"a":1}
--- error_code: 409
--- response_headers
X-Webhook: valid
--- error_log
fw_webhook: replayed message refused



=== TEST 9: signing variables are empty where fw_webhook_sign is not set
--- config
    location = /plain {
        add_header X-Sig "[$fw_webhook_sign_signature]";
        add_header X-Id "[$fw_webhook_sign_id]";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /plain
x
--- response_headers
X-Sig: []
X-Id: []



=== TEST 10: a variable read before the body is refused (empty, logged)
--- config
    location = /early {
        fw_webhook_sign stripe $TEST_NGINX_HTML_DIR/stripe.key;
        set $early $fw_webhook_sign_signature;
        add_header X-Early "[$early]";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /early
x
--- response_headers
X-Early: []
--- error_log
fw_webhook_sign: the request body is not read yet
