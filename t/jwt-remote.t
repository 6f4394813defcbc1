# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: remote JWKS fetched by nginx (a subrequest to a
# location that proxies to the provider), shared memory, refresh on an
# unknown kid (rate-limited), stale keys kept when the provider fails.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

our %T;
$T{old} = mint("-a", "RS256", "-k", key_path("rsa.key"), "-K", "k-old",
               "-c", "sub=alice");
$T{new} = mint("-a", "RS256", "-k", key_path("rsa2.key"), "-K", "k-new",
               "-c", "sub=bob");
$T{unknown} = mint("-a", "RS256", "-k", key_path("rsa2.key"), "-K", "zzz",
                   "-c", "sub=eve");

sub slurp { local $/; open my $f, '<', key_path($_[0]) or die; <$f> }
our $both = slurp("rot-both.jwks");
our $old = slurp("rot-old.jwks");
our $new = slurp("rot-new.jwks");

# the provider: a unix-socket server serving the JWKS files, or 503 when
# the client request carries "X-Fail" (subrequests share its headers)
add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . <<'_EOC_' . $http);
    server {
        listen unix:$TEST_NGINX_HTML_DIR/idp.sock;
        root $TEST_NGINX_HTML_DIR;
        location / {
            if ($http_x_fail) {
                return 503;
            }
            if ($http_x_jwks) {
                rewrite ^ /$http_x_jwks.jwks break;
            }
        }

    }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: keys fetched on first use, shared, used for later requests
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/both.jwks;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
--- user_files eval
">>> both.jwks\n$::both"
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{old}", "Authorization: Bearer $::T{new}",
 "Authorization: Bearer $::T{old}"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: valid", "X-JWT-Status: valid"]



=== TEST 2: an unknown kid fetches again: the provider now has the new key
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/old.jwks;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks min_refresh=0;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
--- user_files eval
">>> old.jwks\n$::old\n>>> both.jwks\n$::both"
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{old}",
 "X-Jwks: both\r\nAuthorization: Bearer $::T{new}",
 "Authorization: Bearer $::T{old}"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: valid", "X-JWT-Status: valid"]



=== TEST 2b: refetching on an unknown kid is rate-limited (min_refresh)
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/old.jwks;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks min_refresh=1h;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
--- user_files eval
">>> old.jwks\n$::old\n>>> both.jwks\n$::both"
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{old}",
 "X-Jwks: both\r\nAuthorization: Bearer $::T{new}",
 "X-Jwks: both\r\nAuthorization: Bearer $::T{unknown}"]
--- error_code eval
[200, 401, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: unknown_key",
 "X-JWT-Status: unknown_key"]



=== TEST 2c: the keys are refreshed once the interval has passed
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/old.jwks;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks refresh=1s min_refresh=1h;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
    location /slow {
        # each request after the first waits a second: the keys get stale
    # (the last request may fetch again, when the clock's second has
    # turned since the refresh: it asks for the same rotated file)
        limit_req zone=slow burst=5;
        try_files /nonexistent =204;
    }
--- http_config
    limit_req_zone $server_name zone=slow:1m rate=1r/s;
--- user_files eval
">>> old.jwks\n$::old\n>>> both.jwks\n$::both"
--- request eval
["GET /t", "GET /t", "GET /slow", "GET /slow", "GET /slow", "GET /t",
 "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{old}", "Authorization: Bearer $::T{new}", "",
 "", "", "X-Jwks: both\r\nAuthorization: Bearer $::T{old}",
 "X-Jwks: both\r\nAuthorization: Bearer $::T{new}"]
--- error_code eval
[200, 401, 204, 204, 204, 200, 200]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: unknown_key", "", "", "",
 "X-JWT-Status: valid", "X-JWT-Status: valid"]
--- timeout: 10

=== TEST 2d: an interval refresh runs in the background: the request that
starts it is checked with the keys it had (the provider now publishes only
the new key), the next ones with the keys the refresh brought
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/old.jwks;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks refresh=1s min_refresh=1h;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
    location /slow {
        limit_req zone=slow burst=5;
        try_files /nonexistent =204;
    }
--- http_config
    limit_req_zone $server_name zone=slow:1m rate=1r/s;
--- user_files eval
">>> old.jwks\n$::old\n>>> new.jwks\n$::new"
--- request eval
["GET /t", "GET /slow", "GET /slow", "GET /slow", "GET /t", "GET /slow",
 "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{old}", "", "", "",
 "X-Jwks: new\r\nAuthorization: Bearer $::T{old}", "",
 "X-Jwks: new\r\nAuthorization: Bearer $::T{new}",
 "X-Jwks: new\r\nAuthorization: Bearer $::T{old}"]
--- error_code eval
[200, 204, 204, 204, 200, 204, 200, 401]
--- response_headers eval
["X-JWT-Status: valid", "", "", "", "X-JWT-Status: valid", "",
 "X-JWT-Status: valid", "X-JWT-Status: unknown_key"]
--- timeout: 10



=== TEST 2e: the same background refresh started from an auth_request
subrequest (nginx checks subrequests in the precontent phase)
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/old.jwks;
        subrequest_output_buffer_size 64k;
    }
    location = /auth {
        internal;
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks refresh=1s min_refresh=1h;
        try_files /nonexistent =204;
    }
    location /t {
        auth_request /auth;
        proxy_pass http://backend;
    }
    location /slow {
        limit_req zone=slow burst=5;
        try_files /nonexistent =204;
    }
--- http_config
    limit_req_zone $server_name zone=slow:1m rate=1r/s;
--- user_files eval
">>> old.jwks\n$::old\n>>> new.jwks\n$::new"
--- request eval
["GET /t", "GET /slow", "GET /slow", "GET /slow", "GET /t", "GET /slow",
 "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{old}", "", "", "",
 "X-Jwks: new\r\nAuthorization: Bearer $::T{old}", "",
 "X-Jwks: new\r\nAuthorization: Bearer $::T{new}",
 "X-Jwks: new\r\nAuthorization: Bearer $::T{old}"]
--- error_code eval
[200, 204, 204, 204, 200, 204, 200, 401]
--- no_error_log
[alert]
[crit]
--- timeout: 10



=== TEST 3: provider outage: the keys it had are kept
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/both.jwks;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks min_refresh=0;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
--- user_files eval
">>> both.jwks\n$::both"
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{old}",
 "X-Fail: 1\r\nAuthorization: Bearer $::T{unknown}",
 "X-Fail: 1\r\nAuthorization: Bearer $::T{new}"]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: unknown_key", "X-JWT-Status: valid"]



=== TEST 4: provider down from the start: 401, no hang, no crash
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/nowhere.sock:/;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{old}"
--- error_code: 401
--- response_headers
X-JWT-Status: unknown_key
--- error_log
JWKS fetch from "/_jwks" failed
connect() to unix:
--- no_error_log
[alert]



=== TEST 5: a JWKS that is not JSON is refused, the request answered
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/junk.jwks;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks;
        proxy_pass http://backend;
    }
--- user_files
>>> junk.jwks
<html>not json</html>
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{old}"
--- error_code: 401
--- error_log
refused: invalid JSON



=== TEST 6: remote keys with the fw_jwt_phase rewrite option and "return"
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/both.jwks;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_phase rewrite;
        fw_jwt_jwks_uri /_jwks;
        return 200 "hello $fw_jwt_sub\n";
    }
--- user_files eval
">>> both.jwks\n$::both"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{new}", "Authorization: Bearer $::T{unknown}"]
--- error_code eval
[200, 401]
--- response_body_like eval
["hello bob", "invalid token"]



=== TEST 7: a bad fw_jwt_jwks_uri at nginx -t
--- config
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri https://idp.example/certs;
        proxy_pass http://backend;
    }
--- must_die
--- error_log
"fw_jwt_jwks_uri": "https://idp.example/certs" must be a local URI



=== TEST 8: the JWKS location inherits "fw_jwt on": no recursion
--- config
    fw_jwt on;
    fw_jwt_jwks_uri /_jwks;
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/both.jwks;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        proxy_pass http://backend;
    }
--- user_files eval
">>> both.jwks\n$::both"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{new}", "Authorization: Bearer $::T{old}"]
--- error_code eval
[200, 200]
--- response_body eval
["ok sub= roles=\n", "ok sub= roles=\n"]
--- no_error_log
subrequests cycle
[alert]
