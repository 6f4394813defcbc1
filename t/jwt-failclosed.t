# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT and FHIR modules together, fail closed: the JWT variables
# (claims, scope, sub, payload, header) are empty unless the token passed
# every configured check, also with "fw_jwt off" (a public location where
# they are still evaluated); the FHIR module refuses scopes and the patient
# unless the JWT status is "valid"; a valid token without scopes is 403.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

my $K = sub { key_path(@_) };
my @rsa = ("-a", "RS256", "-k", $K->("rsa.key"));
my @ok = ("-c", "iss=https://idp.example", "-c", "aud=fhir-api",
          "-c", "sub=alice", "-c", "scope=user/*.rs patient/*.rs",
          "-c", "patient=123");
my @claims = ("-c", "sub=alice", "-c", "scope=user/*.rs patient/*.rs",
              "-c", "patient=123");

our %T;
$T{valid} = mint(@rsa, @ok);
$T{expired} = mint(@rsa, @ok, "-e", "-120");
$T{nbf} = mint(@rsa, @ok, "-b", "3600", "-e", "7200");
$T{no_exp} = mint(@rsa, @ok, "-x");
$T{bad_iss} = mint(@rsa, "-c", "iss=https://evil.example",
                   "-c", "aud=fhir-api", @claims);
$T{bad_aud} = mint(@rsa, "-c", "iss=https://idp.example",
                   "-c", "aud=other", @claims);
$T{no_scope} = mint(@rsa, "-c", "iss=https://idp.example",
                    "-c", "aud=fhir-api", "-c", "sub=alice");
$T{forged} = mint("-a", "RS256", "-k", $K->("rsa2.key"), @ok);

our $Keys = "fw_jwt_key_file $ENV{TEST_NGINX_FW_ROOT}/t/keys/jwt/rsa.pub;\n"
    . "    fw_jwt_issuer https://idp.example;\n"
    . "    fw_jwt_audience fhir-api;\n";

# /pub: public (fw_jwt off), scopes from the token; /api: fw_jwt on
our $Fhir = <<'_EOC_';
    location /pub {
        fw_jwt off;
        fw_fhir R4;
        fw_fhir_scopes $fw_jwt_scope;
        fw_fhir_patient $fw_jwt_claim_patient;
        add_header X-JWT-Status $fw_jwt_status always;
        add_header X-FHIR-Status $fw_fhir_status always;
        proxy_pass http://backend;
    }
    location /api {
        fw_jwt on;
        fw_jwt_realm api;
        fw_fhir R4;
        fw_fhir_scopes $fw_jwt_scope;
        fw_fhir_patient $fw_jwt_claim_patient;
        add_header X-FHIR-Status $fw_fhir_status always;
        proxy_pass http://backend;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->http_config) {
        $block->set_value('http_config', FwJwt::backend_http()
                          . "    $Keys");
    }
});

run_tests();

__DATA__

=== TEST 1: fw_jwt off: no variable from a token that failed a check
--- config
    location /v {
        fw_jwt off;
        return 200 "status=$fw_jwt_status sub=[$fw_jwt_sub] scope=[$fw_jwt_scope] claim=[$fw_jwt_claim_patient] payload=[$fw_jwt_payload] kid=[$fw_jwt_header_alg] set=[$jwt_pt] unverified=[$fw_jwt_unverified_sub]\n";
    }
--- http_config eval
FwJwt::backend_http() . "    $::Keys    fw_jwt_claim_set \$jwt_pt patient;\n"
--- request eval
["GET /v", "GET /v", "GET /v", "GET /v", "GET /v", "GET /v", "GET /v"]
--- more_headers eval
["Authorization: Bearer $::T{expired}",
 "Authorization: Bearer $::T{nbf}",
 "Authorization: Bearer $::T{no_exp}",
 "Authorization: Bearer $::T{bad_iss}",
 "Authorization: Bearer $::T{bad_aud}",
 "Authorization: Bearer $::T{forged}",
 "Authorization: Bearer $::T{valid}"]
--- response_body eval
["status=expired sub=[] scope=[] claim=[] payload=[] kid=[] set=[] unverified=[alice]\n",
 "status=not_yet_valid sub=[] scope=[] claim=[] payload=[] kid=[] set=[] unverified=[alice]\n",
 "status=invalid_claim sub=[] scope=[] claim=[] payload=[] kid=[] set=[] unverified=[alice]\n",
 "status=bad_issuer sub=[] scope=[] claim=[] payload=[] kid=[] set=[] unverified=[alice]\n",
 "status=bad_audience sub=[] scope=[] claim=[] payload=[] kid=[] set=[] unverified=[alice]\n",
 "status=bad_signature sub=[] scope=[] claim=[] payload=[] kid=[] set=[] unverified=[]\n",
 qr/^status=valid sub=\[alice\] scope=\[user\/\*\.rs patient\/\*\.rs\] claim=\[123\] payload=\[\{.*\}\] kid=\[RS256\] set=\[123\] unverified=\[alice\]\n\z/]



=== TEST 2: a role requirement that failed empties the variables too
--- config eval
"    location /v {
        fw_jwt off;
        fw_jwt_role admin;
        return 200 \"status=\$fw_jwt_status sub=[\$fw_jwt_sub] scope=[\$fw_jwt_scope]\\n\";
    }"
--- request
GET /v
--- more_headers eval
"Authorization: Bearer $::T{valid}"
--- response_body
status=role_failed sub=[] scope=[]



=== TEST 3: fw_jwt off and fw_fhir_scopes $fw_jwt_scope: a token that failed a check grants nothing
--- config eval: $::Fhir
--- request eval
["GET /pub/Patient/123", "GET /pub/Patient/123", "GET /pub/Patient/123",
 "GET /pub/Patient/123", "GET /pub/Patient/123", "GET /pub/Patient/123"]
--- more_headers eval
["Authorization: Bearer $::T{expired}",
 "Authorization: Bearer $::T{nbf}",
 "Authorization: Bearer $::T{no_exp}",
 "Authorization: Bearer $::T{bad_iss}",
 "Authorization: Bearer $::T{bad_aud}",
 "Authorization: Bearer $::T{forged}"]
--- error_code eval
[401, 401, 401, 401, 401, 401]
--- response_headers eval
[map { 'WWW-Authenticate: Bearer realm="fhir", error="invalid_token", error_description="invalid token"' } 1..6]
--- response_body_like eval
[map { qr/"resourceType":"OperationOutcome".*"code":"login"/ } 1..6]



=== TEST 4: fw_jwt off: no token is a plain challenge; a valid one is let through
--- config eval: $::Fhir
--- request eval
["GET /pub/Patient/123", "GET /pub/Patient/123", "GET /pub/metadata"]
--- more_headers eval
["", "Authorization: Bearer $::T{valid}", ""]
--- error_code eval
[401, 200, 200]
--- response_headers eval
['WWW-Authenticate: Bearer realm="fhir"', "X-FHIR-Status: ok",
 "X-FHIR-Status: ok"]



=== TEST 5: a valid token without any scope claim is authenticated: 403 insufficient_scope
--- config eval: $::Fhir
--- request eval
["GET /api/Patient/123", "GET /pub/Patient/123", "GET /api/metadata"]
--- more_headers eval
["Authorization: Bearer $::T{no_scope}", "Authorization: Bearer $::T{no_scope}",
 "Authorization: Bearer $::T{no_scope}"]
--- error_code eval
[403, 403, 200]
--- response_headers eval
['WWW-Authenticate: Bearer error="insufficient_scope"',
 'WWW-Authenticate: Bearer error="insufficient_scope"',
 "X-FHIR-Status: ok"]
--- response_body_like eval
[qr/"code":"forbidden".*grants no scopes/, qr/"code":"forbidden".*grants no scopes/, qr/ok/]



=== TEST 6: fw_jwt on: the JWT module answers for a token that failed (RFC 6750 3.1)
--- config eval: $::Fhir
--- request eval
["GET /api/Patient/123", "GET /api/Patient/123", "GET /api/Patient/123"]
--- more_headers eval
["Authorization: Bearer $::T{expired}", "Authorization: Bearer $::T{forged}", ""]
--- error_code eval
[401, 401, 401]
--- response_headers eval
['WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="token expired"',
 'WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="invalid token"',
 'WWW-Authenticate: Bearer realm="api"']



=== TEST 7: fw_fhir_auth_status: an explicit verdict for scopes from a header
--- config
    location /h {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_auth_status $http_x_auth;
        proxy_pass http://backend;
    }
--- request eval
["GET /h/Patient/1", "GET /h/Patient/1", "GET /h/Patient/1", "GET /h/Patient/1"]
--- more_headers eval
["X-Scopes: user/*.rs\r\nX-Auth: valid",
 "X-Scopes: user/*.rs\r\nX-Auth: expired",
 "X-Scopes: user/*.rs",
 "X-Auth: valid"]
--- error_code eval
[200, 401, 401, 403]
--- response_headers eval
["WWW-Authenticate:",
 'WWW-Authenticate: Bearer realm="fhir", error="invalid_token", error_description="invalid token"',
 'WWW-Authenticate: Bearer realm="fhir"',
 'WWW-Authenticate: Bearer error="insufficient_scope"']



=== TEST 8: fw_fhir_auth_status off: scopes from the token's variable as they are
--- config
    location /h {
        fw_jwt off;
        fw_fhir R4;
        fw_fhir_scopes $fw_jwt_scope;
        fw_fhir_auth_status off;
        proxy_pass http://backend;
    }
--- request eval
["GET /h/Patient/1", "GET /h/Patient/1"]
--- more_headers eval
["Authorization: Bearer $::T{valid}", "Authorization: Bearer $::T{expired}"]
--- error_code eval
[200, 401]
--- response_headers eval
["WWW-Authenticate:", 'WWW-Authenticate: Bearer realm="fhir"']



=== TEST 9: scopes from a header are not gated by the JWT module's status
--- config
    location /h {
        fw_jwt off;
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        proxy_pass http://backend;
    }
--- request
GET /h/Patient/1
--- more_headers eval
"X-Scopes: user/*.rs\r\nAuthorization: Bearer $::T{expired}"
--- error_code: 200



=== TEST 10: the $fw_jwt_unverified_* variables are refused in fw_fhir_scopes
--- config
    location /h {
        fw_fhir R4;
        fw_fhir_scopes $fw_jwt_unverified_claim_scope;
        proxy_pass http://backend;
    }
--- must_die
--- error_log
"fw_fhir_scopes" must not use "$fw_jwt_unverified_claim_scope"



=== TEST 11: ... and in fw_fhir_patient
--- config
    location /h {
        fw_fhir R4;
        fw_fhir_scopes $fw_jwt_scope;
        fw_fhir_patient "${fw_jwt_unverified_claim_patient}";
        proxy_pass http://backend;
    }
--- must_die
--- error_log
"fw_fhir_patient" must not use



=== TEST 12: patient scopes: the patient claim of an expired token is not in context
--- config eval: $::Fhir
--- request eval
["GET /pub/Observation?patient=123", "GET /pub/Observation?patient=123"]
--- more_headers eval
["Authorization: Bearer $::T{valid}", "Authorization: Bearer $::T{expired}"]
--- error_code eval
[200, 401]
