# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: a remote JWKS outage is logged once (an error at
# its first failed fetch, info for the later ones, a notice when the keys
# are fetched again), and a fetch completed twice by an error_page for
# its 502 counts once.  Blocks without "--- config" keep the nginx (and
# the outage) of the block before: keep them in this order.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

our %T;
$T{old} = mint("-a", "RS256", "-k", key_path("rsa.key"), "-K", "k-old",
               "-c", "sub=alice");
$T{unknown} = mint("-a", "RS256", "-k", key_path("rsa2.key"), "-K", "zzz",
                   "-c", "sub=eve");

sub slurp { local $/; open my $f, '<', key_path($_[0]) or die; <$f> }
our $old = slurp("rot-old.jwks");

# the level of every line about the remote JWKS
our $levels = qr/\[(?:emerg|alert|crit|error|warn|notice|info)\](?=.*fw_jwt: JWKS)/;

# the provider serves old.jwks; the client's "X-Fail" (a subrequest sends
# the client's headers) makes it answer 503, close the connection
# without an answer (nginx: 502), or serve a file that is not JSON
add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . <<'_EOC_' . $http);
    server {
        listen unix:$TEST_NGINX_HTML_DIR/idp.sock;
        root $TEST_NGINX_HTML_DIR;
        location / {
            if ($http_x_fail = 503) {
                return 503;
            }
            if ($http_x_fail = close) {
                return 444;
            }
            if ($http_x_fail = junk) {
                rewrite ^ /junk.jwks break;
            }
            rewrite ^ /old.jwks break;
        }
    }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: the first failed fetch of an outage: one error line, no token
--- log_level: info
--- config
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks min_refresh=0;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
--- user_files eval
">>> old.jwks\n$::old\n>>> junk.jwks\n<html>not json</html>\n"
--- request
GET /t
--- more_headers eval
"X-Fail: 503\r\nAuthorization: Bearer $::T{old}"
--- error_code: 401
--- response_headers
X-JWT-Status: unknown_key
--- grep_error_log eval: $::levels
--- grep_error_log_out
[error]
--- error_log eval
qr{\[error\] .*fw_jwt: JWKS fetch from "/_jwks" failed \(status 503\), keeping the keys it had}
--- no_error_log eval
[substr($::T{old}, -20), "[alert]"]



=== TEST 2: the same outage: the next failure is info, with the count
--- request
GET /t
--- more_headers eval
"X-Fail: 503\r\nAuthorization: Bearer $::T{old}"
--- error_code: 401
--- grep_error_log eval: $::levels
--- grep_error_log_out
[info]
--- error_log eval
qr{\[info\] .*fw_jwt: JWKS fetch from "/_jwks" failed again \(status 503\), 2 failures in \d+ s}



=== TEST 3: the same outage, another cause (not JSON): info
--- request
GET /t
--- more_headers eval
"X-Fail: junk\r\nAuthorization: Bearer $::T{old}"
--- error_code: 401
--- grep_error_log eval: $::levels
--- grep_error_log_out
[info]
--- error_log eval
qr{\[info\] .*fw_jwt: JWKS fetch from "/_jwks" failed again \(refused: [^)]*\), 3 failures in \d+ s}



=== TEST 4: the provider is back: the keys verify, the recovery is a notice
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{old}"
--- error_code: 200
--- response_headers
X-JWT-Status: valid
--- grep_error_log eval: $::levels
--- grep_error_log_out
[notice]
[info]
--- error_log eval
[qr{\[notice\] .*fw_jwt: JWKS from "/_jwks": keys fetched again after 3 failures in \d+ s},
 qr{\[info\] .*fw_jwt: JWKS from "/_jwks" loaded, 1 keys}]



=== TEST 5: a new outage (an unknown kid fetches): an error again, once
--- request
GET /t
--- more_headers eval
"X-Fail: 503\r\nAuthorization: Bearer $::T{unknown}"
--- error_code: 401
--- grep_error_log eval: $::levels
--- grep_error_log_out
[error]
--- error_log eval
qr{\[error\] .*fw_jwt: JWKS fetch from "/_jwks" failed \(status 503\)}



=== TEST 6: the known kid still verifies during the outage, nothing logged
--- request
GET /t
--- more_headers eval
"X-Fail: 503\r\nAuthorization: Bearer $::T{old}"
--- error_code: 200
--- grep_error_log eval: $::levels
--- grep_error_log_out



=== TEST 7: an error_page for the fetch's 502 completes it twice: one line
--- log_level: info
--- config
    error_page 502 504 /_err/502;
    location = /_err/502 {
        internal;
        return 502 '{"error":"bad gateway"}';
    }
    location = /_jwks {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/idp.sock:/;
        subrequest_output_buffer_size 64k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_jwks_uri /_jwks min_refresh=0;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
--- user_files eval
">>> old.jwks\n$::old\n"
--- request
GET /t
--- more_headers eval
"X-Fail: close\r\nAuthorization: Bearer $::T{old}"
--- error_code: 401
--- response_headers
X-JWT-Status: unknown_key
--- grep_error_log eval: $::levels
--- grep_error_log_out
[error]
--- error_log eval
[qr{\[error\] .*fw_jwt: JWKS fetch from "/_jwks" failed \(status 502\), keeping the keys it had},
 "upstream prematurely closed connection"]
--- no_error_log
status 0



=== TEST 8: with the error_page, the next failure of the outage is info
--- request
GET /t
--- more_headers eval
"X-Fail: close\r\nAuthorization: Bearer $::T{old}"
--- error_code: 401
--- grep_error_log eval: $::levels
--- grep_error_log_out
[info]
--- error_log eval
qr{\[info\] .*fw_jwt: JWKS fetch from "/_jwks" failed again \(status 502\), 2 failures in \d+ s}



=== TEST 9: with the error_page, the recovery: one notice
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{old}"
--- error_code: 200
--- grep_error_log eval: $::levels
--- grep_error_log_out
[notice]
[info]
--- error_log eval
qr{\[notice\] .*fw_jwt: JWKS from "/_jwks": keys fetched again after 2 failures in \d+ s}
