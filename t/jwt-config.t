# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: every unsafe configuration fails at start (nginx -t)
# with a message naming the directive and the file.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

our $K = "$ENV{TEST_NGINX_FW_ROOT}/t/keys/jwt";

run_tests();

__DATA__

=== TEST 1: fw_jwt on without any key
--- config
    location /t {
        fw_jwt on;
        proxy_pass http://127.0.0.1:1;
    }
--- must_die
--- error_log
"fw_jwt" is on but no key is configured



=== TEST 2: a missing key file
--- config
    location /t {
        fw_jwt on;
        fw_jwt_key_file /nonexistent/key.pem;
        proxy_pass http://127.0.0.1:1;
    }
--- must_die
--- error_log eval
qr{"fw_jwt_key_file": cannot use key file "/nonexistent/key.pem"}



=== TEST 3: an empty secret file
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_secret_file $::K/empty.secret;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{file "\S+/empty.secret" is empty}



=== TEST 4: an unreadable key file
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_key_file": cannot use key file "\S+/keys/jwt"}



=== TEST 5: none in the allowlist (any case)
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K/rsa.pub;
        fw_jwt_algorithms RS256 None;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log
"fw_jwt_algorithms": "None" is never allowed



=== TEST 6: HS256 allowed for an RSA key (algorithm confusion)
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K/rsa.pub;
        fw_jwt_algorithms RS256 HS256;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log
an HMAC algorithm is allowed but every key is an RSA, EC or OKP public key



=== TEST 7: an HMAC algorithm pinned to an EC key in a JWKS
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_jwks_file $::K/bad-alg.jwks;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_jwks_file" "\S+/bad-alg.jwks": algorithm HS256 does not fit the key type}



=== TEST 8: alg= that does not fit a PEM key
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K/ec256.pub alg=HS256;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_key_file" "\S+/ec256.pub": algorithm HS256 does not fit the key type}



=== TEST 9: an RSA key under 2048 bits
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K/rsa1024.pub;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_key_file" "\S+/rsa1024.pub": RSA key of 1024 bits, at least 2048 are required}



=== TEST 10: an HMAC secret under 32 bytes
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_secret_file $::K/short.secret;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/short.secret": HMAC secret of 9 bytes, at least 32 are required}



=== TEST 11: a private key where a public key belongs
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K/rsa.key;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_key_file" "\S+/rsa.key": a private key; give the public key}



=== TEST 12: a JWKS without a signature key
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_jwks_file $::K/enc-only.jwks;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_jwks_file" "\S+/enc-only.jwks": no usable signature key}



=== TEST 13: a file that is no key at all
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K/hs.secret;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_key_file" "\S+/hs.secret": no PEM public key or certificate}



=== TEST 14: a JWKS file that is not JSON
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_jwks_file $::K/rsa.pub;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_jwks_file" "\S+/rsa.pub": invalid JSON}



=== TEST 15: a secret too short for the algorithm it is pinned to
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_secret_file $::K/hs-raw.secret alg=HS512;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/hs-raw.secret": HMAC secret of 50 bytes is too short for HS512}



=== TEST 16: an unknown algorithm, an unknown requirement operator
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K/rsa.pub;
        fw_jwt_algorithms RS256 ES256K;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log
"fw_jwt_algorithms": unsupported algorithm "ES256K"



=== TEST 17: an unknown requirement operator
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::K/rsa.pub;
        fw_jwt_require tenant matches x;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log
"fw_jwt_require": unknown operator "matches"



=== TEST 18: keys at http level, no key where fw_jwt is on in another server is fine when inherited
--- http_config eval
"    fw_jwt_key_file $::K/rsa.pub;"
--- config
    location /t {
        fw_jwt on;
        return 204;
    }
--- request
GET /t
--- error_code: 204



=== TEST 19: a realm that would break the WWW-Authenticate header
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_realm 'a\"b';
        fw_jwt_key_file $::K/rsa.pub;
        proxy_pass http://127.0.0.1:1;
    }"
--- must_die
--- error_log
"fw_jwt_realm" must not hold quotes, backslashes or control characters
