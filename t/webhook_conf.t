# fhirwall webhook module: configurations that nginx -t must refuse.

use Test::Nginx::Socket 'no_plan';

# the real Test::Nginx has no TEST_NGINX_HTML_DIR (fhirwall's runner has)
$ENV{TEST_NGINX_HTML_DIR} ||= Test::Nginx::Util::html_dir();

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'EOF');
>>> stripe.key
whsec_fhirwall_test_secret_1
>>> notbase64.key
whsec_not*base64
>>> empty.key
EOF
    }
});

run_tests();

__DATA__

=== TEST 1: no secret
--- config
    location = /hook {
        fw_webhook stripe;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
"fw_webhook" needs at least one "fw_webhook_secret_file"



=== TEST 2: empty secret file
--- config
    location = /hook {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/empty.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log eval
[qr/file ".*empty\.key" is empty/,
 qr/"fw_webhook_secret_file": cannot use secret file ".*empty\.key"/]



=== TEST 3: missing secret file
--- config
    location = /hook {
        fw_webhook github;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/nonexistent.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log eval
qr/"fw_webhook_secret_file": cannot use secret file ".*nonexistent\.key"/



=== TEST 4: unknown scheme
--- config
    location = /hook {
        fw_webhook paypal;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
unknown scheme "paypal" in "fw_webhook"



=== TEST 5: Standard Webhooks secret that is not base64
--- config
    location = /hook {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/notbase64.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log eval
qr/"fw_webhook_secret_file": secret file ".*notbase64\.key" holds no usable secret/



=== TEST 6: signing with proxy_request_buffering off
--- config
    location = /send {
        fw_webhook_sign stripe $TEST_NGINX_HTML_DIR/stripe.key;
        proxy_request_buffering off;
        proxy_set_header Stripe-Signature $fw_webhook_sign_signature;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
"fw_webhook_sign" cannot be used with "proxy_request_buffering off" in location "/send"



=== TEST 7: signing secret (Standard Webhooks) that is not base64
--- config
    fw_webhook_sign standard $TEST_NGINX_HTML_DIR/notbase64.key;
    location = /send {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log eval
qr/"fw_webhook_sign": secret file ".*notbase64\.key" holds no usable secret/



=== TEST 8: signing inherited from the server, buffering off in a location
--- config
    fw_webhook_sign stripe $TEST_NGINX_HTML_DIR/stripe.key;
    location = /ok {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
    location = /unbuffered {
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
"fw_webhook_sign" cannot be used with "proxy_request_buffering off" in location "/unbuffered"



=== TEST 9: fastcgi_request_buffering off is refused too
--- config
    location = /send {
        fw_webhook_sign stripe $TEST_NGINX_HTML_DIR/stripe.key;
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:9;
    }
--- must_die
--- error_log
"fw_webhook_sign" cannot be used with "fastcgi_request_buffering off"



=== TEST 10: unknown signing scheme
--- config
    location = /send {
        fw_webhook_sign github $TEST_NGINX_HTML_DIR/stripe.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
unknown scheme "github" in "fw_webhook_sign"



=== TEST 11: generic scheme without a header
--- config
    location = /hook {
        fw_webhook generic;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
"fw_webhook generic" needs "fw_webhook_generic header=..."



=== TEST 12: bad generic parameter
--- config
    location = /hook {
        fw_webhook generic;
        fw_webhook_generic header=X-Sig digest=md5;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
invalid parameter "digest=md5" of "fw_webhook_generic"



=== TEST 13: fw_webhook_test_now is not a time
--- config
    location = /hook {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_test_now yesterday;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
invalid Unix time "yesterday" in "fw_webhook_test_now"



=== TEST 14: replay zone too small
--- http_config
    fw_webhook_replay_zone hooks:1k;
--- config
    location = /hook {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- must_die
--- error_log
invalid size in "fw_webhook_replay_zone"



=== TEST 15: a valid configuration starts (the tests above can fail)
--- http_config
    fw_webhook_replay_zone hooks:1m;
--- config
    location = /hook {
        fw_webhook stripe;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/stripe.key;
        fw_webhook_replay hooks;
        fw_webhook_sign stripe $TEST_NGINX_HTML_DIR/stripe.key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location = /backend {
        return 200 "up\n";
    }
--- request
GET /backend
--- response_body
up
