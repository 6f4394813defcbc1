# vim:set ft= ts=4 sw=4 et fdm=marker:
# conf-examples/fhir-errors.conf: the answers nginx gives before (or
# instead of) the modules, as FHIR OperationOutcome.  A token larger than
# the header buffers (large_client_header_buffers) never reaches the JWT
# module: nginx answers 400 itself (494 inside), which the example maps to
# an OperationOutcome with the bearer challenge of RFC 6750 3.1
# (invalid_request).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

our $Big = "Authorization: Bearer " . ("a" x 9000);
our $Tok = mint("-a", "RS256", "-k", key_path("rsa.key"), "-c", "sub=alice",
                "-c", "scope=user/Patient.r");

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', FwJwt::backend_http());
    $block->set_value('config', <<"_EOC_") unless defined $block->config;
    include $ENV{TEST_NGINX_FW_ROOT}/conf-examples/fhir-errors.conf;
    location /fhir {
        fw_jwt on;
        fw_jwt_key_file $ENV{TEST_NGINX_FW_ROOT}/t/keys/jwt/rsa.pub;
        fw_jwt_realm fhir;
        fw_jwt_error_format fhir;
        fw_fhir R4;
        fw_fhir_scopes \$fw_jwt_scope;
        proxy_pass http://backend;
    }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: a token larger than the header buffers: 400, OperationOutcome, invalid_request
--- request
GET /fhir/Patient/1
--- more_headers eval: $::Big
--- error_code: 400
--- response_headers
WWW-Authenticate: Bearer realm="fhir", error="invalid_request", error_description="request header too large"
Content-Type: application/fhir+json
--- response_body
{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"too-long","diagnostics":"request header too large"}]}



=== TEST 2: %00 in the path: nginx's own 400, as an OperationOutcome
--- request
GET /fhir/Patient/1%00
--- more_headers eval: "Authorization: Bearer $::Tok"
--- error_code: 400
--- response_headers
Content-Type: application/fhir+json
!WWW-Authenticate
--- response_body
{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"bad request"}]}



=== TEST 3: a token within the buffers reaches the module
--- request
GET /fhir/Patient/1
--- more_headers eval: $::Tok ? "Authorization: Bearer $::Tok" : ""
--- error_code: 200
--- response_body_like: ^ok
