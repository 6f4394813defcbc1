# fhirwall webhook module: replay protection is shared by all workers
# (a shared memory zone).  Each request below is a new connection, which
# any of the two workers may accept; $pid tells which one answered.

use Test::Nginx::Socket 'no_plan';

# the real Test::Nginx has no TEST_NGINX_HTML_DIR (fhirwall's runner has)
$ENV{TEST_NGINX_HTML_DIR} ||= Test::Nginx::Util::html_dir();

master_on();
workers(2);
no_shuffle();
log_level('info');

run_tests();

__DATA__

=== TEST 1: the same webhook-id over six connections: accepted once
--- http_config
    fw_webhook_replay_zone hooks:1m;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay hooks;
        add_header X-Webhook $fw_webhook_status always;
        add_header X-Pid $pid always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location = /backend {
        return 200 "ok\n";
    }
--- user_files
>>> std.key
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
--- request eval
["POST /std\n{\"test\": 2432232314}", "POST /std\n{\"test\": 2432232314}",
 "POST /std\n{\"test\": 2432232314}", "POST /std\n{\"test\": 2432232314}",
 "POST /std\n{\"test\": 2432232314}", "POST /std\n{\"test\": 2432232314}"]
--- more_headers
webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
--- error_code eval
[200, 409, 409, 409, 409, 409]
--- response_headers eval
["X-Webhook: valid", "X-Webhook: replay", "X-Webhook: replay",
 "X-Webhook: replay", "X-Webhook: replay", "X-Webhook: replay"]
