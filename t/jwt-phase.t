# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: phases, subrequests, internal redirects, error_page.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

our %T;
$T{good} = mint("-a", "RS256", "-k", key_path("rsa.key"), "-c", "sub=alice");
my ($h, $p, $s) = split /\./, $T{good};
my $evil = mint("-a", "RS256", "-k", key_path("rsa2.key"), "-c", "sub=admin");
$T{tampered} = "$h." . (split /\./, $evil)[1] . ".$s";
our $rsa_pub = key_path("rsa.pub");
our $ec_pub = key_path("ec256.pub");

add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . $http);
});

run_tests();

__DATA__

=== TEST 1: the pitfall: "return" answers in the rewrite phase, before access
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        return 200 \"answered by return\\n\";
    }"
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{tampered}"
--- error_code: 200
--- response_body
answered by return



=== TEST 2: fw_jwt_phase rewrite checks before "return"
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_phase rewrite;
        fw_jwt_key_file $::rsa_pub;
        add_header X-JWT-Status \$fw_jwt_status always;
        return 200 \"answered by return\\n\";
    }"
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{tampered}", "Authorization: Bearer $::T{good}",
 ""]
--- error_code eval
[401, 200, 401]
--- response_headers eval
["X-JWT-Status: bad_signature", "X-JWT-Status: valid",
 "X-JWT-Status: missing"]



=== TEST 3: fw_jwt_phase rewrite checks before "rewrite ... last"
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_phase rewrite;
        fw_jwt_key_file $::rsa_pub;
        rewrite ^ /open last;
    }
    location /open {
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{tampered}", "Authorization: Bearer $::T{good}"]
--- error_code eval
[401, 200]



=== TEST 4: a subrequest (auth_request) is checked although nginx skips its access phase
--- config eval
"    location /api {
        auth_request /auth;
        proxy_pass http://backend;
    }
    location = /auth {
        internal;
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        return 204;
    }"
--- request eval
["GET /api", "GET /api", "GET /api"]
--- more_headers eval
["Authorization: Bearer $::T{good}", "Authorization: Bearer $::T{tampered}",
 ""]
--- error_code eval
[200, 401, 401]
--- response_headers_like eval
['', 'WWW-Authenticate: Bearer realm="api", error="invalid_token".*',
 'WWW-Authenticate: Bearer realm="api"']



=== TEST 5: "rewrite ... last" into another location: checked with its keys
--- config eval
"    location /r {
        fw_jwt_key_file $::ec_pub;
        set \$before \$fw_jwt_status;
        rewrite ^ /t last;
    }
    location /t {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        add_header X-Before \$before always;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }"
--- request
GET /r
--- more_headers eval
"Authorization: Bearer $::T{good}"
--- error_code: 200
--- response_headers
X-Before: unsupported_alg
X-JWT-Status: valid



=== TEST 6: error_page 401 of the location answers, without a loop
--- config eval
"    fw_jwt on;
    fw_jwt_key_file $::rsa_pub;
    location /t {
        error_page 401 /denied.html;
        proxy_pass http://backend;
    }
    location = /denied.html {
        fw_jwt off;
        return 401 \"please log in\\n\";
    }
    location /loop {
        error_page 401 /loop-denied;
        proxy_pass http://backend;
    }
    location /loop-denied {
        error_page 401 /loop-denied;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /loop", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{tampered}",
 "Authorization: Bearer $::T{tampered}",
 "Authorization: Bearer $::T{good}"]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
[qr/please log in/, qr/"status":401/, qr/^ok/]



=== TEST 7: HEAD gets the status and no body
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        proxy_pass http://backend;
    }"
--- request
HEAD /t
--- error_code: 401
--- response_body
--- response_headers
Content-Type: application/problem+json



=== TEST 8: fw_jwt off in a location under a protected server
--- config eval
"    fw_jwt on;
    fw_jwt_key_file $::rsa_pub;
    location /t {
        proxy_pass http://backend;
    }
    location /public {
        fw_jwt off;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /public"]
--- error_code eval
[401, 200]
