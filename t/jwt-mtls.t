# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: certificate-bound access tokens (RFC 8705) over real
# TLS (curl with openssl-made CA and client certificates, t/lib/FwTls.pm),
# with the server settings of conf-examples/jwt-bound.conf.

use lib 't/lib';
use FwTls;
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

no_shuffle();
log_level('info');

my $K = sub { key_path(@_) };

our %T;
$T{c1} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-c", "sub=alice",
              "-X", $ENV{TEST_NGINX_FW_CLIENT1_CERT});
$T{c2} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-c", "sub=bob",
              "-X", $ENV{TEST_NGINX_FW_CLIENT2_CERT});
$T{plain} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-c", "sub=carol");
$T{bad} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
               "-J", '{"cnf":{"x5t#S256":7}}', "-c", "sub=dave");

# the shipped example, with the test CA and no DPoP origin
open my $fh, '<', "$ENV{TEST_NGINX_FW_ROOT}/conf-examples/jwt-bound.conf"
    or die "conf-examples/jwt-bound.conf: $!";
our $example = do { local $/; <$fh> };
close $fh;
$example =~ s{certs/client-ca\.crt}{$ENV{TEST_NGINX_FW_CA_CERT}}g or die;
$example =~ s{^fw_jwt_dpop_origin .*$}{}m or die;
$example =~ s/^/        /mg;

our $rsa_pub = $K->("rsa.pub");

sub server {
    my ($mode) = @_;
    my $s = $::example;
    $s =~ s/fw_jwt_cert_bound        optional;/fw_jwt_cert_bound $mode;/
        if $mode;
    return FwJwt::backend_http() . <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_FW_TLS_PORT ssl;
        server_name localhost;
        ssl_certificate     \$TEST_NGINX_FW_CERT;
        ssl_certificate_key \$TEST_NGINX_FW_KEY;
$s
        location /t {
            fw_jwt on;
            fw_jwt_key_file $::rsa_pub;
            add_header X-JWT-Status \$fw_jwt_status always;
            proxy_pass http://backend;
        }
    }
_EOC_
}

sub curl {
    my ($tok, $cert) = @_;
    my $q = "GET /fw-client/curl?port=tls&path=/t&body=1";
    $q .= "&cert=$cert" if $cert;
    $q .= "&auth=Bearer%20$T{$tok}" if $tok;
    return $q;
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('timeout', 20) unless defined $block->timeout;
    FwTls::preprocessor($block);
});

run_tests();

__DATA__

=== TEST 1: a token bound to the certificate the client presents passes
--- http_config eval
main::server()
--- request eval
[main::curl("c1", 1), main::curl("c2", 2)]
--- response_body_like eval
[qr{\Aexit: 0\nHTTP/1\.1 200 OK\n.*x-jwt-status: valid\n.*ok sub= roles=}is,
 qr{\Aexit: 0\nHTTP/1\.1 200 OK\n.*x-jwt-status: valid\n}is]
--- no_error_log
[error]



=== TEST 2: the other client's certificate, no certificate: 401 invalid_token
--- http_config eval
main::server()
--- request eval
[main::curl("c1", 2), main::curl("c1"), main::curl("c2", 1)]
--- response_body_like eval
[qr{\Aexit: 0\nHTTP/1\.1 401 .*www-authenticate: Bearer realm="api", error="invalid_token", error_description="the token is not bound to the client certificate", DPoP realm="api", algs="PS256 ES256 EdDSA"\n.*x-jwt-status: cert_mismatch\n}is,
 qr{\Aexit: 0\nHTTP/1\.1 401 .*x-jwt-status: cert_mismatch\n}is,
 qr{\Aexit: 0\nHTTP/1\.1 401 .*x-jwt-status: cert_mismatch\n}is]



=== TEST 3: optional: an unbound token passes with or without a certificate; an invalid cnf does not
--- http_config eval
main::server()
--- request eval
[main::curl("plain", 1), main::curl("plain"), main::curl("bad", 1)]
--- response_body_like eval
[qr{\Aexit: 0\nHTTP/1\.1 200 OK\n}is,
 qr{\Aexit: 0\nHTTP/1\.1 200 OK\n}is,
 qr{\Aexit: 0\nHTTP/1\.1 401 .*x-jwt-status: invalid_claim\n}is]



=== TEST 4: required: an unbound token is refused, a bound one passes
--- http_config eval
main::server("required")
--- request eval
[main::curl("plain", 1), main::curl("c1", 1)]
--- response_body_like eval
[qr{\Aexit: 0\nHTTP/1\.1 401 .*x-jwt-status: cert_mismatch\n}is,
 qr{\Aexit: 0\nHTTP/1\.1 200 OK\n}is]



=== TEST 5: off: a bound token is refused (its binding cannot be checked), even with its certificate
--- http_config eval
main::server("off")
--- request eval
[main::curl("c1", 1), main::curl("plain", 1)]
--- response_body_like eval
[qr{\Aexit: 0\nHTTP/1\.1 401 .*x-jwt-status: cert_mismatch\n}is,
 qr{\Aexit: 0\nHTTP/1\.1 200 OK\n}is]



=== TEST 6: a bound token over plain HTTP is refused
--- http_config eval
main::server()
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_cert_bound optional;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{c1}", "Authorization: Bearer $::T{plain}"]
--- error_code eval
[401, 200]
--- response_headers eval
["X-JWT-Status: cert_mismatch", "X-JWT-Status: valid"]
