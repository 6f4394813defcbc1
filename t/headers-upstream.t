# conf-examples/fhir-upstream.conf, the built-in sample FHIR server, alone
# (through a plain proxy location /fhir/) and behind a TLS 1.3 server set up
# like gateway.conf's (tls.conf, security-headers.conf, proxy_pass).

use lib 't/lib';
use FwTls;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
log_level('info');

sub fhir_file {
    my $f = "$ENV{TEST_NGINX_FW_ROOT}/conf-examples/fhir-data/$_[0]";
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    return scalar <$fh>;
}

# a searchset Bundle with exactly these resources, "total" included
sub bundle_like {
    my ($type, @ids) = @_;
    my $n = @ids;
    my $re = "(?s)\\A\\{\\s*\"resourceType\": \"Bundle\",\\s*\"type\": \"searchset\",\\s*\"total\": $n\\b";
    $re .= "(?=.*\"fullUrl\": \"[^\"]*/$type/$_\")" for @ids;
    my $others = $type eq 'Patient' ? [qw(123 456)] : [map "obs$_", 1 .. 4];
    for my $o (@$others) {
        $re .= "(?!.*\"fullUrl\": \"[^\"]*/$type/$o\")" unless grep $_ eq $o, @ids;
    }
    return $re;
}

our $Sample = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS3_PORT;
        server_name fhir-sample;
        root $TEST_NGINX_FW_ROOT/conf-examples/fhir-data;
        include $TEST_NGINX_FW_ROOT/conf-examples/fhir-upstream.conf;
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_FW_TLS_PORT ssl http2;
        server_name localhost;
        ssl_certificate     $TEST_NGINX_FW_CERT;
        ssl_certificate_key $TEST_NGINX_FW_KEY;
        include $TEST_NGINX_FW_ROOT/conf-examples/tls.conf;
        include $TEST_NGINX_FW_ROOT/conf-examples/security-headers.conf;
        location / {
            proxy_pass http://127.0.0.1:$TEST_NGINX_FW_TLS3_PORT;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $Sample)
        unless defined $block->http_config;
    $block->set_value('config', <<"_EOC_") unless defined $block->config;
    location /fhir/ {
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_FW_TLS3_PORT}/;
    }
_EOC_
    $block->set_value('timeout', 20) unless defined $block->timeout;
    FwTls::preprocessor($block);
});

run_tests();

__DATA__

=== TEST 1: metadata: the CapabilityStatement, as application/fhir+json
--- request
GET /fhir/metadata
--- response_headers
Content-Type: application/fhir+json
--- response_body eval
main::fhir_file('metadata.json')



=== TEST 2: reads: every sample resource, byte for byte
--- request eval
[map "GET /fhir/$_", qw(Patient/123 Patient/456 Observation/obs1
                        Observation/obs2 Observation/obs3 Observation/obs4)]
--- response_body eval
[map main::fhir_file("$_.json"), qw(Patient/123 Patient/456 Observation/obs1
                                    Observation/obs2 Observation/obs3 Observation/obs4)]
--- response_headers eval
[("Content-Type: application/fhir+json\n") x 6]



=== TEST 3: searches answer searchset Bundles with the right resources
--- request eval
["GET /fhir/Patient",
 "GET /fhir/Patient?_id=456",
 "GET /fhir/Observation",
 "GET /fhir/Observation?patient=123",
 "GET /fhir/Observation?subject=Patient/456",
 "GET /fhir/Observation?patient=999",
 "GET /fhir/Patient?_id=nobody"]
--- response_body_like eval
[main::bundle_like('Patient', '123', '456'),
 main::bundle_like('Patient', '456'),
 main::bundle_like('Observation', map "obs$_", 1 .. 4),
 main::bundle_like('Observation', 'obs1', 'obs2'),
 main::bundle_like('Observation', 'obs3', 'obs4'),
 main::bundle_like('Observation'),
 main::bundle_like('Patient')]



=== TEST 4: the Observations of a Patient's Bundle name that Patient as subject
--- request eval
["GET /fhir/Observation?patient=123", "GET /fhir/Observation?patient=456"]
--- response_body_unlike eval
["Patient/456", "Patient/123"]



=== TEST 5: unknown resources: 404 with an OperationOutcome
--- request eval
["GET /fhir/Patient/999", "GET /fhir/Encounter/1",
 "GET /fhir/Patient/123/_history/1", "GET /fhir/_search/_empty.json",
 "GET /fhir/_outcome/404.json", "GET /fhir/Patient/123.json"]
--- error_code eval
[404, 404, 404, 404, 404, 404]
--- response_body eval
[(main::fhir_file('_outcome/404.json')) x 6]



=== TEST 6: other search parameters and path tricks in them: 400
--- request eval
["GET /fhir/Observation?code=8867-4",
 "GET /fhir/Observation?patient=../../../etc/passwd",
 "GET /fhir/Observation?subject=Patient/../../metadata",
 "GET /fhir/Patient?_id=123&_id=456",
 "GET /fhir/Patient?_id=%2e%2e%2fmetadata"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body eval
[(main::fhir_file('_outcome/400.json')) x 5]



=== TEST 7: read-only: POST, PUT and DELETE give 405, HEAD works
--- request eval
["POST /fhir/Patient\n{\"resourceType\":\"Patient\"}",
 "PUT /fhir/Patient/123\n{\"resourceType\":\"Patient\",\"id\":\"123\"}",
 "DELETE /fhir/Patient/123",
 "HEAD /fhir/Patient/123"]
--- error_code eval
[405, 405, 405, 200]
--- response_body eval
[main::fhir_file('_outcome/405.json'), main::fhir_file('_outcome/405.json'),
 main::fhir_file('_outcome/405.json'), ""]



=== TEST 8: through the TLS 1.3 gateway: FHIR JSON with the security headers
--- request eval
["GET /fw-client/curl?port=tls&h2=1&body=1&path=/Patient/123",
 "GET /fw-client/curl?port=tls&h2=1&body=1&path=/Observation%3Fpatient%3D456",
 "GET /fw-client/curl?port=tls&h2=1&body=1&path=/Patient/999"]
--- response_body_like eval
["(?ms)\\Aexit: 0\\nHTTP/2 200 \\n(?=.*^content-type: application/fhir\\+json\$)(?=.*^cache-control: no-store\$)(?=.*^strict-transport-security: max-age=31536000; includeSubDomains\$).*\"family\": \"Chalmers\"",
 "(?ms)\\Aexit: 0\\nHTTP/2 200 \\n(?=.*^content-type: application/fhir\\+json\$)(?=.*^x-frame-options: DENY\$).*\"total\": 2,.*/Observation/obs3\".*/Observation/obs4\"",
 "(?ms)\\Aexit: 0\\nHTTP/2 404 \\n(?=.*^content-type: application/fhir\\+json\$)(?=.*^cache-control: no-store\$).*\"resourceType\": \"OperationOutcome\""]
