# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: fw_jwt_introspect_issuers.  A JWT whose
# (unverified) iss is listed is checked by introspection (RFC 7662), not
# with the local keys; any other JWT is verified here as before, opaque
# tokens are introspected as before.  The authorization server is nginx
# itself (a unix-socket server, as in t/jwt-introspect.t); its answers are
# chosen by the request body, which holds the tokens minted below.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();
log_level('info');

my $rsa = ["-a", "RS256", "-k", key_path("rsa.key")];

our %T;
# the authorization server's tokens: verifiable here (RS256, rsa.key) or
# not (HS256: no secret here), active or revoked at the server
$T{as_hs} = mint("-a", "HS256", "-k", key_path("hs.secret"), "-E",
                 "base64url", "-c", "iss=https://as.example", "-c", "aud=api",
                 "-c", "sub=carol");
$T{as_revoked} = mint(@$rsa, "-c", "iss=https://as.example", "-c", "aud=api",
                      "-c", "sub=mallory");
$T{as_forged} = mint("-a", "HS256", "-k", key_path("hs.secret"), "-E",
                     "base64url", "-c", "iss=https://as.example",
                     "-c", "aud=api", "-c", "sub=admin", "-c", "jti=forged");
# another issuer's tokens, verified here
$T{local} = mint(@$rsa, "-c", "iss=https://local.example", "-c", "aud=api",
                 "-c", "sub=dave");
$T{local_hs} = mint("-a", "HS256", "-k", key_path("hs.secret"), "-E",
                    "base64url", "-c", "iss=https://local.example",
                    "-c", "aud=api", "-c", "sub=admin");
# a listed issuer's name with another case, or a prefix: not listed
$T{as_case} = mint(@$rsa, "-c", "iss=HTTPS://as.example", "-c", "aud=api",
                   "-c", "sub=erin");

sub body { return "token=$_[0]&token_type_hint=access_token" }

our $As = <<"_EOC_";
    map_hash_bucket_size 1024;

    map \$request_body \$as_answer {
        "${\ body($T{as_hs})}"
            '{"active":true,"sub":"carol","scope":"user/Patient.rs","exp":4102444800,"aud":"api","iss":"https://as.example"}';
        "${\ body($T{local})}"
            '{"active":true,"sub":"introspected","exp":4102444800,"aud":"api","iss":"https://local.example"}';
        "${\ body($T{as_case})}"
            '{"active":true,"sub":"introspected","exp":4102444800,"aud":"api","iss":"https://as.example"}';
        "token=tok-alice&token_type_hint=access_token"
            '{"active":true,"sub":"alice","exp":4102444800,"aud":"api","iss":"https://as.example"}';
        default '{"active":false}';
    }

    server {
        listen unix:\$TEST_NGINX_HTML_DIR/as.sock;

        location = /introspect {
            if (\$http_authorization != "Basic Y2xpZW50OnMzY3JldA==") {
                return 401;
            }
            proxy_pass http://unix:\$TEST_NGINX_HTML_DIR/as.sock:/answer;
            proxy_set_header X-Answer \$as_answer;
        }

        location = /answer {
            default_type application/json;
            return 200 \$http_x_answer;
        }

        location = /status500 {
            return 500;
        }
    }
_EOC_

sub prot {
    my ($uri, $extra) = @_;
    (my $zone = $uri) =~ s/\W//g;
    return <<"_EOC_";
    location = /_introspect {
        internal;
        proxy_pass http://unix:\$TEST_NGINX_HTML_DIR/as.sock:$uri;
        subrequest_output_buffer_size 16k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_key_file ${\ key_path("rsa.pub")};
        fw_jwt_audience api;
        fw_jwt_issuer https://as.example https://local.example;
        fw_jwt_introspect /_introspect zone=intro_$zone:1m;
        fw_jwt_introspect_auth basic client \$TEST_NGINX_HTML_DIR/as.secret;
$extra
        add_header X-JWT-Status \$fw_jwt_status always;
        add_header X-Sub \$fw_jwt_sub always;
        proxy_pass http://backend;
    }
_EOC_
}

our $Listed = "        fw_jwt_introspect_issuers https://as.example "
              . "https://other.example;\n";

add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . $::As . $http);
    $block->set_value("config", prot("/introspect", $::Listed))
        unless defined $block->config;
    $block->set_value("user_files", ">>> as.secret\ns3cret\n")
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: a listed issuer's JWT is introspected: active at the server, accepted without a local key (HS256, no secret here); the answer's claims are the token's
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{as_hs}"
--- error_code: 200
--- response_headers
X-JWT-Status: valid
X-Sub: carol
--- response_body_like: ^ok sub=
--- no_error_log
[alert]
[error]



=== TEST 2: a listed issuer's JWT the server says is revoked is refused, although its signature would verify here
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{as_revoked}"
--- error_code: 401
--- response_headers
X-JWT-Status: inactive
--- response_headers_like
WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="token inactive"



=== TEST 3: attack: a forged JWT naming a listed issuer (the server does not know it): refused
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{as_forged}"
--- error_code: 401
--- response_headers
X-JWT-Status: inactive
--- no_error_log eval
[substr($::T{as_forged}, 0, 40), "[alert]"]



=== TEST 4: another issuer's JWT is verified here, not introspected (the server would name another sub); forged, it fails here
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{local}", "Authorization: Bearer $::T{local_hs}"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-JWT-Status: valid\nX-Sub: dave", "X-JWT-Status: unsupported_alg"]



=== TEST 5: the issuer is compared exactly: another case is not listed, verified here
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{as_case}"
--- error_code: 401
--- response_headers
X-JWT-Status: bad_issuer



=== TEST 6: opaque tokens are still introspected
--- request
GET /t
--- more_headers
Authorization: Bearer tok-alice
--- error_code: 200
--- response_headers
X-JWT-Status: valid
X-Sub: alice



=== TEST 7: without fw_jwt_introspect_issuers a JWT is verified here: the HS256 one has no key
--- config eval
main::prot("/introspect", "")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{as_hs}", "Authorization: Bearer $::T{as_revoked}"]
--- error_code eval
[401, 200]
--- response_headers eval
["X-JWT-Status: unsupported_alg", "X-JWT-Status: valid\nX-Sub: mallory"]



=== TEST 8: the endpoint failing: a listed issuer's JWT gets 503, never a local verdict
--- config eval
main::prot("/status500", $::Listed)
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{as_revoked}"
--- error_code: 503
--- response_headers
X-JWT-Status: introspection_unavailable



=== TEST 9: inherited from the server level; the answer is cached (a second request, the same verdict)
--- config eval
"    fw_jwt_introspect_issuers https://as.example;\n"
. main::prot("/introspect", "")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{as_hs}", "Authorization: Bearer $::T{as_hs}"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-JWT-Status: valid\nX-Sub: carol", "X-JWT-Status: valid\nX-Sub: carol"]



=== TEST 10: fw_jwt_introspect_issuers without fw_jwt_introspect
--- config eval
"    location /t {\n        fw_jwt on;\n        fw_jwt_key_file "
. FwJwt::key_path("rsa.pub") . ";\n"
. "        fw_jwt_introspect_issuers https://as.example;\n"
. "        proxy_pass http://backend;\n    }\n"
--- must_die
--- error_log
"fw_jwt_introspect_issuers" needs "fw_jwt_introspect"
