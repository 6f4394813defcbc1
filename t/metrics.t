# fhirwall metrics module: every request's outcome is counted (the
# modules' status values, who denied it, the HTTP status class) by exactly
# the right amount, with any subset of the modules loaded in either order,
# the counters survive a reload, and "fw_metrics;" renders them and the
# modules' own metrics zones in the Prometheus text format.
#
# A block named "... [m1 m2 ...]" loads only those modules, in that order;
# the others load every module of the build.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;
use FwRedis;

# a real Redis for the rate limit blocks (stopped at the end); the port
# above it has none
FwRedis::start(FwRedis::port());
$ENV{TEST_NGINX_REDIS_PORT} = FwRedis::port();
$ENV{TEST_NGINX_REDIS_DOWN_PORT} = FwRedis::port() + 1;

BEGIN {
    $ENV{TEST_NGINX_HTML_DIR} ||=
        ($ENV{TEST_NGINX_SERVER_ROOT} || 't/servroot') . '/html';
}

repeat_each(1);
no_shuffle();
master_on();
workers(1);
log_level('info');

our $HS = FwJwt::key_path("hs.secret");
our $GOOD = "Authorization: Bearer "
    . FwJwt::mint("-a", "HS256", "-k", $HS, "-E", "base64url",
                  "-c", "sub=alice");
our $RS = "Authorization: Bearer "
    . FwJwt::mint("-a", "RS256", "-k", FwJwt::key_path("rsa.key"),
                  "-K", "k-old", "-c", "sub=alice");
our $JWKS = do {
    local $/;
    open my $f, '<', FwJwt::key_path("rot-both.jwks") or die;
    <$f>;
};

# a request sent "secs" later: its last bytes wait (a first packet's
# delay_before is not applied, the request starts at once)
sub main::later {
    my ($secs, $req) = @_;
    return ["", { value => $req, delay_before => $secs }];
}

# the last scrape waits a little: a proxied request is logged (counted)
# when its upstream closes, which may be after the client has its answer
our $SCRAPE = main::later(0.5, "GET /metrics");

# the signature's first character changed: always a bad signature (the
# last one may hold only padding bits, a malformed token)
(our $BAD = $GOOD) =~ s/\.(.)([^.]*)$/"." . ($1 eq 'A' ? 'B' : 'A') . $2/e;

# a regex that the metrics text has each of these lines (in any order)
sub main::has {
    my $re = join '', map { ref $_ ? "(?=[\\s\\S]*^$_\$)"
                                   : "(?=[\\s\\S]*^\Q$_\E\$)" } @_;
    return qr/\A$re/m;
}

sub main::has_not {
    my $re = join '|', map { "^\Q$_\E" } @_;
    return qr/$re/m;
}

sub master_pid {
    my $f = "$ENV{TEST_NGINX_SERVROOT}/logs/nginx.pid";
    open my $fh, '<', $f or die "$f: $!";
    my $pid = <$fh>;
    close $fh;
    chomp $pid;
    return $pid;
}

# reloads; '' once the master says so, else a text the body cannot match
sub main::reload {
    kill 'HUP', master_pid() or die "HUP: $!";
    select undef, undef, undef, 1.5;
    my $f = "$ENV{TEST_NGINX_SERVROOT}/logs/error.log";
    open my $fh, '<', $f or die "$f: $!";
    my $log = do { local $/; <$fh> };
    return $log =~ /reconfiguring/ ? '' : 'NO RELOAD HAPPENED';
}

# the test Redis paused (SIGSTOP: connections are accepted, nothing is
# answered), resumed, stopped, started again; '' for a response_body_like
sub main::redis_pause { FwRedis::pause(FwRedis::port()); return '' }
sub main::redis_resume { FwRedis::resume(FwRedis::port()); return '' }
sub main::redis_stop { FwRedis::stop(FwRedis::port()); return '' }
sub main::redis_start { FwRedis::start(FwRedis::port()); return '' }

# the reconnection attempts the error log shows (a debug log: each
# "fw redis ...: connecting" but the first), as a pattern; a build
# without debug logging shows none: any number of them then
sub main::attempts_logged {
    my $f = "$ENV{TEST_NGINX_SERVROOT}/logs/error.log";
    open my $fh, '<', $f or die "$f: $!";
    my $n = grep { /fw redis \S+: connecting$/ } <$fh>;
    close $fh;
    return $n ? $n - 1 : '[1-9]\d*';
}

our $WH = "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\r\n"
    . "webhook-timestamp: 1614265330\r\n"
    . "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
our $WH_BODY = "{\"test\": 2432232314}";

add_block_preprocessor(sub {
    my $block = shift;
    my ($mods) = ($block->name // '') =~ /\[([\w ]+)\]/;
    my $dir = $ENV{TEST_NGINX_FW_MODDIR} or die "TEST_NGINX_FW_MODDIR";
    my $load = $ENV{TEST_NGINX_LOAD_MODULES};

    if (defined $mods) {
        $load = join ' ', map { "$dir/ngx_http_fw_${_}_module.so" }
                          split ' ', $mods;
    }

    no warnings 'once';
    $Test::Nginx::Socket::LoadModules = $load;
    $Test::Nginx::Util::LoadModules = $load;

    $block->set_value('http_config', <<'_EOC_' . ($block->http_config // ''));
    upstream backend {
        server unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }

    server {
        listen unix:$TEST_NGINX_HTML_DIR/backend.sock;
        fw_metrics_count off;

        location / {
            return 200 "ok\n";
        }
    }
_EOC_
    $block->set_value('no_error_log', "[alert]\n[emerg]\n[crit]\n")
        unless defined $block->no_error_log || defined $block->must_die;
});

run_tests();

__DATA__

=== TEST 1: every JWT outcome counted once, who denied, the status class
--- config
    location /t {
        fw_jwt on;
        fw_jwt_secret_file $TEST_NGINX_FW_ROOT/t/keys/jwt/hs.secret encoding=base64url;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", $::SCRAPE]
--- more_headers eval
["", $::GOOD, $::BAD, $::GOOD, ""]
--- error_code eval
[401, 200, 401, 200, 200]
--- response_headers eval
["", "", "", "", "Content-Type: text/plain; version=0.0.4; charset=utf-8"]
--- response_body_like eval
[".*", ".*", ".*", ".*", main::has(
'# TYPE fhirwall_checks_total counter',
'fhirwall_checks_total{module="jwt",outcome="passed",reason="valid"} 2',
'fhirwall_checks_total{module="jwt",outcome="denied",reason="missing"} 1',
'fhirwall_checks_total{module="jwt",outcome="denied",reason="bad_signature"} 1',
'fhirwall_checks_total{module="jwt",outcome="denied",reason="expired"} 0',
'fhirwall_checks_total{module="jwt",outcome="unknown",reason="other"} 0',
'fhirwall_checks_total{module="fhir",outcome="passed",reason="ok"} 0',
'fhirwall_denied_total{by="jwt"} 2',
'fhirwall_denied_total{by="nginx"} 0',
'fhirwall_denied_total{by="upstream"} 0',
'fhirwall_http_responses_total{code="2xx"} 2',
'fhirwall_http_responses_total{code="4xx"} 2',
'fhirwall_http_responses_total{code="5xx"} 0')]



=== TEST 2: FHIR and rate limit outcomes, refusals by nginx and upstream
--- http_config
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_types Observation;
        proxy_pass http://backend;
    }
    location /rl {
        fw_ratelimit two;
        proxy_pass http://backend;
    }
    location /nginx {
        return 403;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /fhir/Patient/1", "GET /fhir/Observation/1", "GET /fhir/Patient/1",
 "GET /rl", "GET /rl", "GET /rl", "GET /nginx", $::SCRAPE]
--- error_code eval
[200, 404, 200, 200, 200, 429, 403, 200]
--- response_body_like eval
[".*", ".*", ".*", ".*", ".*", ".*", ".*", main::has(
'fhirwall_checks_total{module="fhir",outcome="passed",reason="ok"} 2',
'fhirwall_checks_total{module="fhir",outcome="denied",reason="type-denied"} 1',
'fhirwall_checks_total{module="ratelimit",outcome="passed",reason="passed"} 2',
'fhirwall_checks_total{module="ratelimit",outcome="denied",reason="limited"} 1',
'fhirwall_denied_total{by="fhir"} 1',
'fhirwall_denied_total{by="ratelimit"} 1',
'fhirwall_denied_total{by="nginx"} 1',
'fhirwall_http_responses_total{code="2xx"} 4',
'fhirwall_http_responses_total{code="4xx"} 3')]



=== TEST 3: an upstream's refusal is the upstream's
--- http_config
    server {
        listen unix:$TEST_NGINX_HTML_DIR/refuse.sock;
        fw_metrics_count off;
        location / { return 404; }
    }
--- config
    location /up {
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/refuse.sock:/;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /up", "GET /up", $::SCRAPE]
--- error_code eval
[404, 404, 200]
--- response_body_like eval
[".*", ".*", main::has(
'fhirwall_denied_total{by="upstream"} 2',
'fhirwall_denied_total{by="nginx"} 0',
'fhirwall_http_responses_total{code="4xx"} 2')]



=== TEST 4: the metrics module alone: only the outcomes of nginx [metrics]
--- config
    location /t {
        return 204;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /t", "GET /nowhere", $::SCRAPE]
--- error_code eval
[204, 404, 200]
--- response_body_like eval
[".*", ".*", main::has(
'fhirwall_denied_total{by="nginx"} 1',
'fhirwall_http_responses_total{code="2xx"} 1',
'fhirwall_http_responses_total{code="4xx"} 1')]
--- response_body_unlike eval
["^\$", "^\$", qr/module=|by="jwt"|by="fhir"/]



=== TEST 5: metrics loaded before jwt [metrics jwt]
--- config
    location /t {
        fw_jwt on;
        fw_jwt_secret_file $TEST_NGINX_FW_ROOT/t/keys/jwt/hs.secret encoding=base64url;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /t", "GET /t", $::SCRAPE]
--- more_headers eval
[$::BAD, $::GOOD, ""]
--- error_code eval
[401, 200, 200]
--- response_body_like eval
[".*", ".*", main::has(
'fhirwall_checks_total{module="jwt",outcome="passed",reason="valid"} 1',
'fhirwall_checks_total{module="jwt",outcome="denied",reason="bad_signature"} 1',
'fhirwall_denied_total{by="jwt"} 1')]
--- response_body_unlike eval
["^\$", "^\$", qr/module="(fhir|webhook|ratelimit)"/]



=== TEST 6: jwt loaded before metrics, with fhir [jwt fhir metrics]
(jwt decides in the access phase whatever the load order, fhir after it
in the precontent phase: the tokenless request never reached fhir, jwt
passed the request that fhir refused)
--- config
    location /fhir {
        fw_jwt on;
        fw_jwt_secret_file $TEST_NGINX_FW_ROOT/t/keys/jwt/hs.secret encoding=base64url;
        fw_fhir R4;
        fw_fhir_scopes off;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /fhir/Patient/1", "GET /fhir/Patient/1", "GET /fhir/Nothing",
 $::SCRAPE]
--- more_headers eval
["", $::GOOD, $::GOOD, ""]
--- error_code eval
[401, 200, 404, 200]
--- response_body_like eval
[".*", ".*", ".*", main::has(
'fhirwall_checks_total{module="jwt",outcome="passed",reason="valid"} 2',
'fhirwall_checks_total{module="jwt",outcome="denied",reason="missing"} 1',
'fhirwall_checks_total{module="fhir",outcome="passed",reason="ok"} 1',
'fhirwall_checks_total{module="fhir",outcome="denied",reason="unknown-type"} 1',
'fhirwall_denied_total{by="jwt"} 1',
'fhirwall_denied_total{by="fhir"} 1')]
--- response_body_unlike eval
["^\$", "^\$", "^\$", qr/module="(webhook|ratelimit)"/]



=== TEST 7: a reload keeps the counters
--- config
    location /t {
        return 403;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /t", "GET /t", $::SCRAPE]
--- error_code eval
[403, 403, 200]
--- response_body_like eval
[".*", qr/(??{ main::reload() })/, main::has(
'fhirwall_denied_total{by="nginx"} 2',
'fhirwall_http_responses_total{code="4xx"} 2')]
--- timeout: 10



=== TEST 8: the scrapes are not counted, a POST is refused
--- config
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /metrics", "POST /metrics", $::SCRAPE]
--- error_code eval
[200, 405, 200]
--- response_body_like eval
[".*", ".*", main::has(
'fhirwall_http_responses_total{code="2xx"} 0',
'fhirwall_http_responses_total{code="4xx"} 0')]



=== TEST 9: fw_metrics takes no argument
--- config
    location /metrics {
        fw_metrics on;
    }
--- must_die
--- error_log
invalid number of arguments in "fw_metrics" directive



=== TEST 10: the JWT module's own metrics: cache, JWKS fetches, keys, age
--- http_config
    server {
        listen unix:$TEST_NGINX_HTML_DIR/idp.sock;
        fw_metrics_count off;
        root $TEST_NGINX_HTML_DIR;
        location /down {
            return 503;
        }
    }
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/both.jwks;
        subrequest_output_buffer_size 64k;
    }
    location = /_down {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/down;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks;
        proxy_pass http://backend;
    }
    location /u {
        fw_jwt on;
        fw_jwt_jwks_uri /_down;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- user_files eval
">>> both.jwks\n$::JWKS"
--- request eval
["GET /metrics", "GET /t", "GET /t", "GET /t", "GET /u", $::SCRAPE]
--- more_headers eval
["", $::RS, $::RS, $::RS, $::RS, ""]
--- error_code eval
[200, 200, 200, 200, 401, 200]
--- response_body_like eval
[main::has(
'fhirwall_jwt_jwks_last_success_age_seconds NaN',
'fhirwall_jwt_jwks_fetches_total{result="ok"} 0'),
".*", ".*", ".*", ".*", main::has(
'# TYPE fhirwall_jwt_cache_lookups_total counter',
'fhirwall_jwt_cache_lookups_total{result="hit"} 2',
'fhirwall_jwt_cache_lookups_total{result="miss"} 1',
'# TYPE fhirwall_jwt_jwks_fetches_total counter',
'fhirwall_jwt_jwks_fetches_total{result="ok"} 1',
'fhirwall_jwt_jwks_fetches_total{result="failed"} 1',
'# TYPE fhirwall_jwt_jwks_keys gauge',
'fhirwall_jwt_jwks_keys 2',
qr/fhirwall_jwt_jwks_last_success_age_seconds [0-3]/,
'fhirwall_checks_total{module="jwt",outcome="passed",reason="valid"} 3')]
--- no_error_log
[alert]
[emerg]



=== TEST 11: the rate limit's own metrics: Redis command durations
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy metrics_two limit=2 window=60s key=$remote_addr;
--- config
    location /rl {
        fw_ratelimit metrics_two;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- init
FwRedis::cmd(FwRedis::port(), 'FLUSHALL');
--- request eval
["GET /rl", "GET /rl", "GET /rl", $::SCRAPE]
--- error_code eval
[200, 200, 429, 200]
--- response_body_like eval
[".*", ".*", ".*", main::has(
'# TYPE fhirwall_ratelimit_redis_command_duration_seconds histogram',
qr/fhirwall_ratelimit_redis_command_duration_seconds_count [34]/,
qr/fhirwall_ratelimit_redis_command_duration_seconds_bucket\{le="\+Inf"\} [34]/,
'fhirwall_ratelimit_redis_failing 0',
'fhirwall_ratelimit_failure_policy_total{policy="open"} 0',
'fhirwall_checks_total{module="ratelimit",outcome="denied",reason="limited"} 1',
'fhirwall_checks_total{module="ratelimit",outcome="passed",reason="passed"} 2')]



=== TEST 12: the rate limit's own metrics: each failure policy applied
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
    fw_ratelimit_policy metrics_down limit=2 window=60s key=$remote_addr;
--- config
    location /open {
        fw_ratelimit metrics_down;
        proxy_pass http://backend;
    }
    location /closed {
        fw_ratelimit metrics_down;
        fw_ratelimit_failure closed;
        proxy_pass http://backend;
    }
    location /local {
        fw_ratelimit metrics_down;
        fw_ratelimit_failure local;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /open", "GET /open", "GET /closed", "GET /local", $::SCRAPE]
--- error_code eval
[200, 200, 503, 200, 200]
--- response_body_like eval
[".*", ".*", ".*", ".*", main::has(
'fhirwall_ratelimit_failure_policy_total{policy="open"} 2',
'fhirwall_ratelimit_failure_policy_total{policy="closed"} 1',
'fhirwall_ratelimit_failure_policy_total{policy="local"} 1',
'fhirwall_ratelimit_redis_failing 1',
'fhirwall_checks_total{module="ratelimit",outcome="not_checked",reason="error"} 2',
'fhirwall_checks_total{module="ratelimit",outcome="denied",reason="unavailable"} 1',
'fhirwall_denied_total{by="ratelimit"} 1')]
--- no_error_log
[alert]
[emerg]



=== TEST 13: the audit module's own metrics: records, bytes, errors, lost
--- http_config
    fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
    location /ok {
        fw_audit_log logs/audit.log;
        return 204;
    }
    location /full {
        # the sink's failure ([crit], once) goes to a log of its own
        error_log logs/sink-errors.log;
        fw_audit_log /dev/full;
        return 204;
    }
    location /metrics {
        fw_metrics;
    }
--- user_files
>>> audit.key
0123456789abcdef0123456789abcdef-test-key
--- request eval
["GET /ok", "GET /ok", "GET /full", "GET /full", $::SCRAPE]
--- error_code eval
[204, 204, 204, 204, 200]
--- response_body_like eval
[".*", ".*", ".*", ".*", main::has(
'# TYPE fhirwall_audit_records_total counter',
'fhirwall_audit_records_total 2',
qr/fhirwall_audit_written_bytes_total [1-9]\d{2,}/,
qr/fhirwall_audit_write_errors_total [1-9]\d*/,
'fhirwall_audit_sink_failing 1',
'fhirwall_audit_records_lost_total 2')]
--- no_error_log
[alert]
[emerg]



=== TEST 14: webhook outcomes: verified, a replay, a missing signature
--- http_config
    fw_webhook_replay_zone metrics_webhooks:1m;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay metrics_webhooks;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- user_files
>>> std.key
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
--- request eval
["POST /std\n{\"test\": 2432232314}", "POST /std\n{\"test\": 2432232314}",
 "POST /std\n{}", $::SCRAPE]
--- more_headers eval
["webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\r\nwebhook-timestamp: 1614265330\r\nwebhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
 "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\r\nwebhook-timestamp: 1614265330\r\nwebhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
 "", ""]
--- error_code eval
[200, 409, 401, 200]
--- response_body_like eval
[".*", ".*", ".*", main::has(
'fhirwall_checks_total{module="webhook",outcome="passed",reason="valid"} 1',
'fhirwall_checks_total{module="webhook",outcome="denied",reason="replay"} 1',
'fhirwall_checks_total{module="webhook",outcome="denied",reason="missing"} 1',
'fhirwall_denied_total{by="webhook"} 2')]



=== TEST 15: a reload keeps a module's own metrics too
--- config
    location /t {
        fw_jwt on;
        fw_jwt_secret_file $TEST_NGINX_FW_ROOT/t/keys/jwt/hs.secret encoding=base64url;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /t", "GET /t", $::SCRAPE]
--- more_headers eval
[$::GOOD, $::GOOD, ""]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/(??{ main::reload() })/, ".*", main::has(
'fhirwall_jwt_cache_lookups_total{result="miss"} 2',
'fhirwall_checks_total{module="jwt",outcome="passed",reason="valid"} 2')]
--- timeout: 10



=== TEST 16: Redis reconnections per client user, exactly one each
(a paused Redis accepts the new connection but answers nothing: each
module's command times out, its client reconnects once and waits for
the PING within connect_timeout=10s; resumed, each reconnection
succeeds: one attempt and one reconnection per module.  The webhook
message is stored, its check times out (503), then is a replay (409).)
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT connect_timeout=10s timeout=500ms;
    fw_ratelimit_policy metrics_rc limit=100 window=60s key=$remote_addr;
    fw_lockout_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT connect_timeout=10s timeout=500ms;
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT connect_timeout=10s timeout=500ms;
--- config
    location /rl {
        fw_ratelimit metrics_rc;
        proxy_pass http://backend;
    }
    location /lo {
        fw_lockout failures=3 window=1m lockout=30s max=1h;
        proxy_pass http://backend;
    }
    location = /wh {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_HTML_DIR/std.key;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- user_files
>>> std.key
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
--- init
FwRedis::resume(FwRedis::port());
FwRedis::cmd(FwRedis::port(), 'FLUSHALL');
--- request eval
[main::later(0.5, "GET /metrics"),
 "GET /rl", "GET /lo", "POST /wh\n$::WH_BODY",
 "GET /rl", "GET /lo", "POST /wh\n$::WH_BODY",
 main::later(1, "GET /rl"), "GET /lo",
 "POST /wh\n$::WH_BODY", $::SCRAPE]
--- more_headers eval
["", "", "", $::WH, "", "", $::WH, "", "", $::WH, ""]
--- error_code eval
[200, 200, 200, 200, 200, 200, 503, 200, 200, 409, 200]
--- response_body_like eval
[main::has(
'# TYPE fhirwall_redis_reconnect_attempts_total counter',
'fhirwall_redis_reconnect_attempts_total{module="ratelimit"} 0',
'fhirwall_redis_reconnect_attempts_total{module="lockout"} 0',
'fhirwall_redis_reconnect_attempts_total{module="webhook"} 0',
'# TYPE fhirwall_redis_reconnects_total counter',
'fhirwall_redis_reconnects_total{module="ratelimit"} 0',
'fhirwall_redis_reconnects_total{module="lockout"} 0',
'fhirwall_redis_reconnects_total{module="webhook"} 0'),
 ".*", ".*", qr/(??{ main::redis_pause() })/,
 ".*", ".*", qr/(??{ main::redis_resume() })/,
 ".*", ".*", ".*", main::has(
'fhirwall_redis_reconnect_attempts_total{module="ratelimit"} 1',
'fhirwall_redis_reconnect_attempts_total{module="lockout"} 1',
'fhirwall_redis_reconnect_attempts_total{module="webhook"} 1',
'fhirwall_redis_reconnects_total{module="ratelimit"} 1',
'fhirwall_redis_reconnects_total{module="lockout"} 1',
'fhirwall_redis_reconnects_total{module="webhook"} 1',
'fhirwall_ratelimit_redis_recoveries_total 1',
'fhirwall_checks_total{module="webhook",outcome="passed",reason="valid"} 1',
'fhirwall_checks_total{module="webhook",outcome="denied",reason="unavailable"} 1',
'fhirwall_checks_total{module="webhook",outcome="denied",reason="replay"} 1',
'fhirwall_checks_total{module="ratelimit",outcome="passed",reason="passed"} 2',
'fhirwall_checks_total{module="ratelimit",outcome="not_checked",reason="error"} 1')]
--- response_body_unlike eval
[qr/TYPE fhirwall_redis_reconnects_total[\s\S]*TYPE fhirwall_redis_reconnects_total/,
 "^\$", "^\$", "^\$", "^\$", "^\$", "^\$", "^\$", "^\$", "^\$",
 qr/TYPE fhirwall_redis_reconnect_attempts_total[\s\S]*TYPE fhirwall_redis_reconnect_attempts_total/]
--- no_error_log
[alert]
[emerg]
--- timeout: 15



=== TEST 17: Redis killed and started again: attempts while it is down,
one reconnection when it is back [metrics ratelimit]
(how many attempts depends on how long it is down, backoff=200ms: the
counter is what the debug log shows; the reconnection is exactly one)
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT backoff=200ms;
    fw_ratelimit_policy metrics_kill limit=100 window=60s key=$remote_addr;
--- config
    location /rl {
        fw_ratelimit metrics_kill;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- init
FwRedis::cmd(FwRedis::port(), 'FLUSHALL');
--- log_level: debug
--- request eval
[main::later(0.5, "GET /rl"), "GET /rl",
 main::later(0.5, "GET /metrics"),
 main::later(1, "GET /rl"), $::SCRAPE]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
[qr/(??{ main::redis_stop() })/, ".*", qr/(?=[\s\S]*^fhirwall_redis_reconnect_attempts_total\{module="ratelimit"\} [1-9]\d*$)(?=[\s\S]*^fhirwall_redis_reconnects_total\{module="ratelimit"\} 0$)(??{ main::redis_start() })/m,
 ".*", qr/(?=[\s\S]*^fhirwall_redis_reconnect_attempts_total\{module="ratelimit"\} (??{ main::attempts_logged() })$)(??{ main::has(
'fhirwall_redis_reconnects_total{module="ratelimit"} 1',
'fhirwall_ratelimit_redis_recoveries_total 1',
'fhirwall_checks_total{module="ratelimit",outcome="passed",reason="passed"} 2',
'fhirwall_checks_total{module="ratelimit",outcome="not_checked",reason="error"} 1') })/m]
--- response_body_unlike eval
["^\$", "^\$", qr/module="(webhook|lockout)"/, "^\$", qr/module="(webhook|lockout)"/]
--- no_error_log
[alert]
[emerg]
--- timeout: 15



=== TEST 18: FHIR interactions by outcome, each by exactly its requests
(a request refused before its interaction is known, the unknown type, is
not in the family; fhirwall_checks_total has it)
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_types Observation;
        fw_fhir_deny_interactions delete history-system;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /fhir/Patient/1", "GET /fhir/Patient/1",
 "GET /fhir/Patient/1/_history/2", "GET /fhir/Patient?name=x",
 "GET /fhir/metadata", "POST /fhir/Patient\n{}", "DELETE /fhir/Patient/1",
 "GET /fhir/_history", "GET /fhir/Observation/1", "GET /fhir/Nothing/1",
 "GET /fhir/Patient/1/_history", "PUT /fhir/Patient/1\n{}", $::SCRAPE]
--- more_headers eval
["", "", "", "", "", "Content-Type: application/fhir+json", "", "", "",
 "", "", "Content-Type: application/fhir+json", ""]
--- error_code eval
[200, 200, 200, 200, 200, 200, 405, 405, 404, 404, 200, 200, 200]
--- response_body_like eval
[".*", ".*", ".*", ".*", ".*", ".*", ".*", ".*", ".*", ".*", ".*", ".*",
main::has(
'# TYPE fhirwall_fhir_interactions_total counter',
'fhirwall_fhir_interactions_total{interaction="read",outcome="allowed"} 2',
'fhirwall_fhir_interactions_total{interaction="read",outcome="refused"} 1',
'fhirwall_fhir_interactions_total{interaction="vread",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="search-type",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="capabilities",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="create",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="delete",outcome="allowed"} 0',
'fhirwall_fhir_interactions_total{interaction="delete",outcome="refused"} 1',
'fhirwall_fhir_interactions_total{interaction="history-system",outcome="refused"} 1',
'fhirwall_fhir_interactions_total{interaction="history-instance",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="update",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="patch",outcome="allowed"} 0',
'fhirwall_fhir_interactions_total{interaction="batch",outcome="refused"} 0',
'fhirwall_fhir_interactions_total{interaction="search-compartment",outcome="allowed"} 0',
'fhirwall_checks_total{module="fhir",outcome="passed",reason="ok"} 8',
'fhirwall_checks_total{module="fhir",outcome="denied",reason="not-allowed"} 2',
'fhirwall_checks_total{module="fhir",outcome="denied",reason="unknown-type"} 1')]
--- response_body_unlike eval
["^\$", "^\$", "^\$", "^\$", "^\$", "^\$", "^\$", "^\$", "^\$", "^\$",
 "^\$", "^\$", qr/interaction="none"/]



=== TEST 19: no FHIR location, no FHIR interactions family
--- config
    location /t {
        return 204;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /t", $::SCRAPE]
--- error_code eval
[204, 200]
--- response_body_unlike eval
[qr/fhirwall_fhir_interactions_total/,
 qr/fhirwall_fhir_interactions_total/]



=== TEST 20: a reload keeps the FHIR interactions (a two-label block)
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_interactions delete;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /fhir/Patient/1", "DELETE /fhir/Patient/1", "GET /fhir/Patient/1",
 $::SCRAPE]
--- error_code eval
[200, 405, 200, 200]
--- response_body_like eval
[".*", qr/(??{ main::reload() })/, ".*", main::has(
'fhirwall_fhir_interactions_total{interaction="read",outcome="allowed"} 2',
'fhirwall_fhir_interactions_total{interaction="delete",outcome="refused"} 1',
'fhirwall_fhir_interactions_total{interaction="delete",outcome="allowed"} 0')]
--- timeout: 10



=== TEST 21: FHIR refusals by the scopes: insufficient scope, patient compartment, each by exactly one
(a scrape after each refusal: the read refused for its scope moves read
refused by one and nothing else; the search outside the patient
compartment, which names the user scope that would allow it, moves
search-type refused by one, not the allowed ones)
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_patient $http_x_patient;
        proxy_set_header X-Scopes "";
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- request eval
["GET /fhir/Patient/1", "GET /fhir/Observation?patient=123", "GET /metrics",
 "GET /fhir/Patient/1", "GET /metrics",
 "GET /fhir/Observation?code=x", $::SCRAPE]
--- more_headers eval
["X-Scopes: user/Patient.rs", "X-Scopes: patient/Observation.rs\nX-Patient: 123", "",
 "X-Scopes: user/Observation.rs", "",
 "X-Scopes: patient/Observation.rs\nX-Patient: 123", ""]
--- error_code eval
[200, 200, 200, 403, 200, 403, 200]
--- response_headers eval
["", "", "",
 'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Patient.r"',
 "", 'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Observation.s"',
 ""]
--- response_body_like eval
[".*", ".*", main::has(
'fhirwall_fhir_interactions_total{interaction="read",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="read",outcome="refused"} 0',
'fhirwall_fhir_interactions_total{interaction="search-type",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="search-type",outcome="refused"} 0'),
 qr/"code":"forbidden"/, main::has(
'fhirwall_fhir_interactions_total{interaction="read",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="read",outcome="refused"} 1',
'fhirwall_fhir_interactions_total{interaction="search-type",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="search-type",outcome="refused"} 0',
'fhirwall_checks_total{module="fhir",outcome="denied",reason="insufficient-scope"} 1',
'fhirwall_checks_total{module="fhir",outcome="denied",reason="patient-compartment"} 0'),
 qr/outside the patient compartment/, main::has(
'fhirwall_fhir_interactions_total{interaction="read",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="read",outcome="refused"} 1',
'fhirwall_fhir_interactions_total{interaction="search-type",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="search-type",outcome="refused"} 1',
'fhirwall_checks_total{module="fhir",outcome="passed",reason="ok"} 2',
'fhirwall_checks_total{module="fhir",outcome="denied",reason="insufficient-scope"} 1',
'fhirwall_checks_total{module="fhir",outcome="denied",reason="patient-compartment"} 1',
'fhirwall_denied_total{by="fhir"} 2')]



=== TEST 22: subrequests into a FHIR location are checked, not counted
(auth_request allowed and refused, an SSI include refused and allowed, a
mirror allowed: only the main request to the FHIR location is in the
family; counting them too gives read allowed 4, refused 2)
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_deny_types Binary;
        proxy_set_header X-Scopes "";
        proxy_pass http://backend;
    }
    location /app {
        auth_request /fhir/Observation/1;
        proxy_pass http://backend;
    }
    location /page {
        ssi on;
        default_type text/html;
    }
    location /mir {
        mirror /fhir/Patient/2;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- user_files
>>> page/two.html
[<!--# include virtual="/fhir/Binary/1" -->][<!--# include virtual="/fhir/Encounter/e1" -->]
--- request eval
["GET /fhir/Observation/1", "GET /app", "GET /app", "GET /page/two.html",
 "GET /mir", $::SCRAPE]
--- more_headers eval
["X-Scopes: user/Observation.rs", "X-Scopes: user/Observation.rs",
 "X-Scopes: user/Patient.rs", "X-Scopes: user/*.rs", "X-Scopes: user/*.rs",
 ""]
--- error_code eval
[200, 200, 403, 200, 200, 200]
--- response_body_like eval
["^ok\n\$", "^ok\n\$", "403 Forbidden",
 qr/^\[\{"resourceType":"OperationOutcome".*Binary.*\}\n\]\[ok\n\]$/,
 "^ok\n\$", main::has(
'fhirwall_fhir_interactions_total{interaction="read",outcome="allowed"} 1',
'fhirwall_fhir_interactions_total{interaction="read",outcome="refused"} 0')]



=== TEST 23: a reload keeps the Redis reconnection counters, the new worker's first connection is no attempt [metrics ratelimit]
(Redis paused: the command times out, one attempt; resumed: one
reconnection; after the HUP, the new worker's requests go through its
own first connection: still one and one.  Resetting the Redis zones on a
reload, or counting a new worker's first connection, gives 0/0 or 2/2.
The init starts Redis only if a failed block left it down: restarting it
here would drop the worker's connection.)
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT connect_timeout=10s timeout=500ms;
    fw_ratelimit_policy metrics_hup limit=100 window=60s key=$remote_addr;
--- config
    location /rl {
        fw_ratelimit metrics_hup;
        proxy_pass http://backend;
    }
    location /metrics {
        fw_metrics;
    }
--- init
FwRedis::start(FwRedis::port()) unless FwRedis::running(FwRedis::port());
FwRedis::resume(FwRedis::port());
FwRedis::cmd(FwRedis::port(), 'FLUSHALL');
--- request eval
["GET /rl", "GET /rl", main::later(1, "GET /rl"),
 main::later(0.5, "GET /metrics"), main::later(0.5, "GET /rl"),
 "GET /rl", $::SCRAPE]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[qr/(??{ main::redis_pause() })/, qr/(??{ main::redis_resume() })/, ".*",
 qr/(??{ main::has(
'fhirwall_redis_reconnect_attempts_total{module="ratelimit"} 1',
'fhirwall_redis_reconnects_total{module="ratelimit"} 1',
'fhirwall_ratelimit_redis_recoveries_total 1') })(??{ main::reload() })/,
 ".*", ".*", main::has(
'fhirwall_redis_reconnect_attempts_total{module="ratelimit"} 1',
'fhirwall_redis_reconnects_total{module="ratelimit"} 1',
'fhirwall_ratelimit_redis_recoveries_total 1',
'fhirwall_checks_total{module="ratelimit",outcome="passed",reason="passed"} 4',
'fhirwall_checks_total{module="ratelimit",outcome="not_checked",reason="error"} 1')]
--- no_error_log
[alert]
[emerg]
--- timeout: 15
