# conf-examples/security-headers.conf: every header on every answer (200,
# 401, 403, 404, 429, 502), over plain HTTP (Test::Nginx's own client) and
# over TLS 1.3 + HTTP/2 (curl, see t/lib/FwTls.pm); version-leaking and
# duplicate upstream headers removed.

use lib 't/lib';
use FwTls;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
log_level('info');

our @Headers = (
    "Strict-Transport-Security: max-age=31536000; includeSubDomains",
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options: nosniff",
    "X-Frame-Options: DENY",
    "Referrer-Policy: no-referrer",
    "Cache-Control: no-store",
);

# curl's header dump (lower-case names over HTTP/2) holds each header once
# with exactly our value
sub curl_like {
    my ($status) = @_;
    return "(?msi)\\Aexit: 0\\nHTTP/2 $status \\n"
        . join('', map { my ($n, $v) = split /: /, $_, 2;
                         "(?=.*^\Q$n: $v\E\$)(?!.*^\Q$n:\E.*^\Q$n:\E)" }
                   @Headers);
}

# an upstream that sends what a FHIR server in the wild might
our $Upstream = <<'_EOC_';
    limit_req_zone $binary_remote_addr zone=fw_hdr_test:1m rate=1r/m;
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS3_PORT;
        server_tokens on;
        location / {
            add_header X-Powered-By "PHP/8.1.2";
            add_header X-AspNet-Version "4.0.30319";
            add_header X-AspNetMvc-Version "5.2";
            add_header X-Runtime "0.012";
            add_header X-Generator "HAPI FHIR 6.4.0";
            add_header Cache-Control "max-age=3600";
            add_header X-Frame-Options "SAMEORIGIN";
            add_header Strict-Transport-Security "max-age=60";
            add_header Content-Security-Policy "default-src *";
            add_header ETag-Kept "yes";
            return 200 "{\"resourceType\":\"Patient\",\"id\":\"123\"}\n";
        }
    }
_EOC_

our $Tls = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS_PORT ssl http2;
        server_name localhost;
        ssl_certificate     $TEST_NGINX_FW_CERT;
        ssl_certificate_key $TEST_NGINX_FW_KEY;
        include $TEST_NGINX_FW_ROOT/conf-examples/tls.conf;
        include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
        root html;
        location = /ok        { return 200 "ok\n"; }
        location = /login     { return 401; }
        location = /forbidden { deny all; }
        location = /missing   { }
        location = /limited   { limit_req zone=fw_hdr_test nodelay;
                                limit_req_status 429;
                                proxy_pass http://127.0.0.1:$TEST_NGINX_FW_TLS3_PORT; }
        location = /down      { proxy_pass http://127.0.0.1:$TEST_NGINX_FW_CLOSED_PORT; }
        location = /upstream  { proxy_pass http://127.0.0.1:$TEST_NGINX_FW_TLS3_PORT; }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $Upstream . $Tls)
        unless defined $block->http_config;
    $block->set_value('timeout', 20) unless defined $block->timeout;
    # a plain-HTTP block that includes the file gets all headers checked
    if (!defined $block->response_headers
        && ($block->config // '') =~ /security-headers\.conf/)
    {
        $block->set_value('response_headers', join "\n", @Headers, '');
    }
    FwTls::preprocessor($block);
});

run_tests();

__DATA__

=== TEST 1: 200
--- config
    include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 2: 401
--- config
    include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
    location = /t { return 401; }
--- request
GET /t
--- error_code: 401



=== TEST 3: 403 (deny)
--- config
    include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
    location = /t { deny all; }
--- request
GET /t
--- error_code: 403
--- error_log
access forbidden by rule



=== TEST 4: 404 (a missing file)
--- config
    include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
--- request
GET /no-such-file
--- error_code: 404
--- error_log
No such file or directory



=== TEST 5: 429 (limit_req; `return` would answer before limit_req runs)
--- config
    include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
    location = /t {
        limit_req zone=fw_hdr_test nodelay;
        limit_req_status 429;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FW_TLS3_PORT;
    }
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 429]
--- response_headers eval
[CORE::join("\n", @::Headers, ''), CORE::join("\n", @::Headers, '')]



=== TEST 6: 502 (upstream port closed)
--- config
    include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
    location = /t { proxy_pass http://127.0.0.1:$TEST_NGINX_FW_CLOSED_PORT; }
--- request
GET /t
--- error_code: 502
--- error_log
Connection refused



=== TEST 7: control: without the file, the test upstream's headers come through
--- config
    location = /t { proxy_pass http://127.0.0.1:$TEST_NGINX_FW_TLS3_PORT; }
--- request
GET /t
--- response_headers
X-Powered-By: PHP/8.1.2
X-AspNet-Version: 4.0.30319
X-Generator: HAPI FHIR 6.4.0
Cache-Control: max-age=3600
X-Frame-Options: SAMEORIGIN
Referrer-Policy:



=== TEST 8: upstream headers that leak versions are removed, ours are not doubled
--- config
    include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
    location = /t { proxy_pass http://127.0.0.1:$TEST_NGINX_FW_TLS3_PORT; }
--- request
GET /t
--- response_headers eval
CORE::join("\n", @::Headers,
     "X-Powered-By:", "X-AspNet-Version:", "X-AspNetMvc-Version:",
     "X-Runtime:", "X-Generator:", "Server: nginx", "ETag-Kept: yes", '')
--- response_body
{"resourceType":"Patient","id":"123"}



=== TEST 9: over TLS 1.3 and HTTP/2 (curl): every status carries every header, once
--- request eval
["GET /fw-client/curl?port=tls&h2=1&path=/ok",
 "GET /fw-client/curl?port=tls&h2=1&path=/login",
 "GET /fw-client/curl?port=tls&h2=1&path=/forbidden",
 "GET /fw-client/curl?port=tls&h2=1&path=/missing",
 "GET /fw-client/curl?port=tls&h2=1&path=/limited",
 "GET /fw-client/curl?port=tls&h2=1&path=/limited",
 "GET /fw-client/curl?port=tls&h2=1&path=/down",
 "GET /fw-client/curl?port=tls&h2=1&path=/upstream"]
--- response_body_like eval
[main::curl_like(200), main::curl_like(401), main::curl_like(403),
 main::curl_like(404), main::curl_like(200), main::curl_like(429),
 main::curl_like(502),
 main::curl_like(200) . "(?!.*^x-powered-by:)(?!.*^x-aspnet-version:)(?!.*^x-generator:)(?!.*^server: nginx/)"]



=== TEST 10: the curl check is not vacuous: a header missing fails the pattern
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS_PORT ssl http2;
        server_name localhost;
        ssl_certificate     $TEST_NGINX_FW_CERT;
        ssl_certificate_key $TEST_NGINX_FW_KEY;
        include $TEST_NGINX_FW_ROOT/conf-examples/tls.conf;
        include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
        location = /own {
            # a location with its own add_header drops the inherited ones
            add_header X-Own "1" always;
            return 404;
        }
    }
--- request
GET /fw-client/curl?port=tls&h2=1&path=/own
--- response_body_unlike eval
main::curl_like(404)
--- response_body_like: (?m)\Aexit: 0\nHTTP/2 404 \n.*^x-own: 1$
