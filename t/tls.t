# conf-examples/tls.conf, tls12.conf and redirect.conf, checked with real
# TLS clients (openssl s_client, curl; see t/lib/FwTls.pm).
#
# Servers of every block (unless the block has its own http_config):
#   tls   the shipped TLS 1.3 profile: tls.conf + security-headers.conf
#   tls2  the shipped TLS 1.2 profile: tls12.conf
#   tls3  a control server that accepts TLS 1.0 to 1.3 and weak ciphers,
#         to show that the clients below do offer what tls/tls2 refuse

use lib 't/lib';
use FwTls;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
log_level('info');

our $Servers = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS_PORT ssl http2;
        server_name localhost;
        ssl_certificate     $TEST_NGINX_FW_CERT;
        ssl_certificate_key $TEST_NGINX_FW_KEY;
        include $TEST_NGINX_FW_ROOT/conf-examples/tls.conf;
        include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
        location / {
            return 200 "$ssl_protocol $ssl_cipher $server_protocol\n";
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS2_PORT ssl http2;
        server_name localhost;
        ssl_certificate     $TEST_NGINX_FW_CERT;
        ssl_certificate_key $TEST_NGINX_FW_KEY;
        include $TEST_NGINX_FW_ROOT/conf-examples/tls12.conf;
        location / {
            return 200 "$ssl_protocol $ssl_cipher $server_protocol\n";
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS3_PORT ssl;
        server_name localhost;
        ssl_certificate     $TEST_NGINX_FW_CERT;
        ssl_certificate_key $TEST_NGINX_FW_KEY;
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
        ssl_ciphers   ALL@SECLEVEL=0;
        location / {
            return 200 "$ssl_protocol $ssl_cipher\n";
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $Servers)
        unless defined $block->http_config;
    $block->set_value('timeout', 20) unless defined $block->timeout;
    FwTls::preprocessor($block);
});

run_tests();

__DATA__

=== TEST 1: TLS 1.3 handshake succeeds and the certificate verifies
--- request
GET /fw-client/s_client?port=tls&v=tls1_3
--- response_body_like: (?m)\Aexit: 0\n.*^New, TLSv1\.3, Cipher is TLS_(AES_256_GCM_SHA384|AES_128_GCM_SHA256|CHACHA20_POLY1305_SHA256)$.*^Verify return code: 0 \(ok\)$
--- no_error_log
[emerg]
[alert]
[crit]



=== TEST 2: each TLS 1.3 cipher suite (all AEAD) is accepted
--- request eval
["GET /fw-client/s_client?port=tls&v=tls1_3&suites=TLS_AES_128_GCM_SHA256",
 "GET /fw-client/s_client?port=tls&v=tls1_3&suites=TLS_AES_256_GCM_SHA384",
 "GET /fw-client/s_client?port=tls&v=tls1_3&suites=TLS_CHACHA20_POLY1305_SHA256"]
--- response_body_like eval
["(?m)\\Aexit: 0\\n.*^New, TLSv1\\.3, Cipher is TLS_AES_128_GCM_SHA256\$",
 "(?m)\\Aexit: 0\\n.*^New, TLSv1\\.3, Cipher is TLS_AES_256_GCM_SHA384\$",
 "(?m)\\Aexit: 0\\n.*^New, TLSv1\\.3, Cipher is TLS_CHACHA20_POLY1305_SHA256\$"]



=== TEST 3: TLS 1.2 is refused, by the server
--- request
GET /fw-client/s_client?port=tls&v=tls1_2
--- response_body_like: (?m)\Aexit: 1\n.*(alert protocol version|unsupported protocol|no protocols available)
--- error_log
unsupported protocol
--- response_body_unlike: (?m)^New, TLSv1\.2



=== TEST 4: TLS 1.1 and TLS 1.0 are refused
--- request eval
["GET /fw-client/s_client?port=tls&v=tls1_1",
 "GET /fw-client/s_client?port=tls&v=tls1"]
--- response_body_like eval
["(?m)\\Aexit: 1\\n.*(alert protocol version|unsupported protocol|no protocols available)",
 "(?m)\\Aexit: 1\\n.*(alert protocol version|unsupported protocol|no protocols available)"]
--- error_log
unsupported protocol



=== TEST 5: control: the same clients get TLS 1.2, 1.1 and 1.0 from a server that allows them
--- request eval
["GET /fw-client/s_client?port=tls3&v=tls1_2",
 "GET /fw-client/s_client?port=tls3&v=tls1_1",
 "GET /fw-client/s_client?port=tls3&v=tls1",
 "GET /fw-client/s_client?port=tls3&v=tls1_2&cipher=ECDHE-ECDSA-AES128-SHA",
 "GET /fw-client/curl?port=tls3&path=/&tls=1.2&body=1"]
--- response_body_like eval
["(?m)\\Aexit: 0\\n.*^\\s+Protocol\\s+: TLSv1\\.2\$",
 "(?m)\\Aexit: 0\\n.*^\\s+Protocol\\s+: TLSv1\\.1\$",
 "(?m)\\Aexit: 0\\n.*^\\s+Protocol\\s+: TLSv1\$",
 "(?m)\\Aexit: 0\\n.*^\\s+Protocol\\s+: TLSv1\\.2\$.*^\\s+Cipher\\s+: ECDHE-ECDSA-AES128-SHA\$",
 "(?m)\\Aexit: 0\\n.*^TLSv1\\.2 ECDHE-"]



=== TEST 6: curl: HTTP/2 over TLS 1.3, the security headers on the way
--- request
GET /fw-client/curl?port=tls&path=/Patient/123&h2=1&body=1
--- response_body
exit: 0
HTTP/2 200 
server: nginx
content-type: text/plain
content-length: 40
strict-transport-security: max-age=31536000; includeSubDomains
content-security-policy: default-src 'none'; frame-ancestors 'none'
x-content-type-options: nosniff
x-frame-options: DENY
referrer-policy: no-referrer
cache-control: no-store

TLSv1.3 TLS_AES_256_GCM_SHA384 HTTP/2.0



=== TEST 7: curl: TLS 1.2 and TLS 1.1 are refused
--- request eval
["GET /fw-client/curl?port=tls&path=/&tls=1.2",
 "GET /fw-client/curl?port=tls&path=/&tls=1.1"]
--- response_body_like eval
["\\Aexit: 35\\n.*(alert protocol version|unsupported protocol)",
 "\\Aexit: 35\\n.*(alert protocol version|unsupported protocol)"]



=== TEST 8: ALPN offers h2 (HTTP/2 on)
--- request
GET /fw-client/s_client?port=tls&v=tls1_3&alpn=h2,http/1.1
--- response_body_like: (?m)\Aexit: 0\n.*^ALPN protocol: h2$



=== TEST 9: tls12.conf: TLS 1.2 with ECDHE and AES-GCM, and TLS 1.3
--- request eval
["GET /fw-client/s_client?port=tls2&v=tls1_2",
 "GET /fw-client/s_client?port=tls2&v=tls1_2&cipher=ECDHE-ECDSA-CHACHA20-POLY1305",
 "GET /fw-client/s_client?port=tls2&v=tls1_3",
 "GET /fw-client/curl?port=tls2&path=/&tls=1.2&body=1&h2=1"]
--- response_body_like eval
["(?m)\\Aexit: 0\\n.*^New, TLSv1\\.2, Cipher is ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)\$",
 "(?m)\\Aexit: 0\\n.*^New, TLSv1\\.2, Cipher is ECDHE-ECDSA-CHACHA20-POLY1305\$",
 "(?m)\\Aexit: 0\\n.*^New, TLSv1\\.3, Cipher is TLS_",
 "(?m)\\Aexit: 0\\n.*^HTTP/2 200.*^TLSv1\\.2 ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384) HTTP/2\\.0\$"]



=== TEST 10: tls12.conf: CBC ciphers are refused
--- request eval
["GET /fw-client/s_client?port=tls2&v=tls1_2&cipher=ECDHE-ECDSA-AES128-SHA",
 "GET /fw-client/s_client?port=tls2&v=tls1_2&cipher=ECDHE-ECDSA-AES256-SHA384"]
--- response_body_like eval
["(?m)\\Aexit: 1\\n.*(handshake failure|no shared cipher)",
 "(?m)\\Aexit: 1\\n.*(handshake failure|no shared cipher)"]
--- error_log
no shared cipher



=== TEST 11: tls12.conf: TLS 1.1 and TLS 1.0 are refused
--- request eval
["GET /fw-client/s_client?port=tls2&v=tls1_1",
 "GET /fw-client/s_client?port=tls2&v=tls1"]
--- response_body_like eval
["(?m)\\Aexit: 1\\n.*(alert protocol version|unsupported protocol|no protocols available)",
 "(?m)\\Aexit: 1\\n.*(alert protocol version|unsupported protocol|no protocols available)"]
--- error_log
unsupported protocol



=== TEST 12: OCSP stapling in tls.conf staples with a CA-issued certificate
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS_PORT ssl http2;
        server_name localhost;
        ssl_certificate     $TEST_NGINX_FW_LEAF_CERT;
        ssl_certificate_key $TEST_NGINX_FW_LEAF_KEY;
        ssl_trusted_certificate $TEST_NGINX_FW_CA_CERT;
        ssl_stapling_file   $TEST_NGINX_FW_OCSP_RESP;
        include $TEST_NGINX_FW_ROOT/conf-examples/tls.conf;
        location / {
            return 200 "ok\n";
        }
    }
--- request
GET /fw-client/s_client?port=tls&v=tls1_3&status=1&ca=1
--- response_body_like: (?m)\Aexit: 0\n.*^\s*OCSP Response Status: successful \(0x0\)$.*^\s*Cert Status: good$.*^Verify return code: 0 \(ok\)$
--- no_error_log
"ssl_stapling" ignored



=== TEST 13: a self-signed certificate: stapling is skipped with a warning, TLS works
--- request
GET /fw-client/s_client?port=tls&v=tls1_3&status=1
--- response_body_like: (?m)\Aexit: 0\n.*^\s*OCSP response: no response sent$.*^Verify return code: 0 \(ok\)$
--- error_log
"ssl_stapling" ignored



=== TEST 14: redirect.conf: plain HTTP answers 301 to the same URL over HTTPS
--- config
    set $fw_https_port ":$TEST_NGINX_FW_TLS_PORT";
    include $TEST_NGINX_FW_ROOT/conf-examples/redirect.conf;
--- request
GET /Patient/123?_format=json
--- error_code: 301
--- response_headers eval
"Location: https://localhost:$ENV{TEST_NGINX_FW_TLS_PORT}/Patient/123?_format=json\n"




=== TEST 15: redirect.conf: curl follows the redirect and gets the page over TLS 1.3
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS_PORT ssl http2;
        server_name localhost;
        ssl_certificate     $TEST_NGINX_FW_CERT;
        ssl_certificate_key $TEST_NGINX_FW_KEY;
        include $TEST_NGINX_FW_ROOT/conf-examples/tls.conf;
        include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
        location / {
            return 200 "$ssl_protocol $ssl_cipher $server_protocol\n";
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS3_PORT;
        server_name localhost;
        set $fw_https_port ":$TEST_NGINX_FW_TLS_PORT";
        include $TEST_NGINX_FW_ROOT/conf-examples/redirect.conf;
    }
--- request
GET /fw-client/curl?port=tls&from=tls3&path=/Observation%3Fpatient%3D123&h2=1&body=1
--- response_body_like: (?m)\Aexit: 0\nHTTP/1\.1 301 Moved Permanently\nServer: nginx\n.*^Location: https://localhost:\d+/Observation\?patient=123\n.*^HTTP/2 200 \n.*^TLSv1\.3 TLS_\w+ HTTP/2\.0$
