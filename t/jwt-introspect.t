# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: opaque tokens by introspection (RFC 7662).  The
# authorization server is nginx itself (a unix-socket server): it checks
# the client's basic credentials, the form's content type and the body,
# and answers the JSON a map chooses by the body.  Its "once" endpoint
# answers one call a minute (limit_req): a second answer can only come
# from the cache.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

our $As = <<'_EOC_';
    map_hash_bucket_size 256;
    map $request_method $as_once { default one; }
    limit_req_zone $as_once zone=once:1m rate=1r/m;

    map $request_body $as_answer {
        "token=tok-alice&token_type_hint=access_token"
            '{"active":true,"sub":"alice","scope":"user/Observation.rs openid","exp":4102444800,"aud":"api","iss":"https://as.example","client_id":"app","patient":"p1"}';
        "token=tok-bob&token_type_hint=access_token"
            '{"active":true,"sub":"bob","scope":"patient/Patient.rs","exp":4102444800,"aud":["x","api"],"iss":"https://as.example"}';
        "token=tok%2B%2Fx%3D%3D&token_type_hint=access_token"
            '{"active":true,"sub":"plus","exp":4102444800,"aud":"api","iss":"https://as.example"}';
        "token=tok-off&token_type_hint=access_token"
            '{"active":false}';
        "token=tok-expired&token_type_hint=access_token"
            '{"active":true,"sub":"old","exp":1000000000,"aud":"api","iss":"https://as.example"}';
        "token=tok-noexp&token_type_hint=access_token"
            '{"active":true,"sub":"eternal","aud":"api","iss":"https://as.example"}';
        "token=tok-aud&token_type_hint=access_token"
            '{"active":true,"sub":"alice","exp":4102444800,"aud":"other","iss":"https://as.example"}';
        "token=tok-iss&token_type_hint=access_token"
            '{"active":true,"sub":"alice","exp":4102444800,"aud":"api","iss":"https://evil.example"}';
        "token=tok-garbage&token_type_hint=access_token"
            'this is no JSON';
        "token=tok-strbool&token_type_hint=access_token"
            '{"active":"true","sub":"alice","exp":4102444800}';
        "token=tok-badscope&token_type_hint=access_token"
            '{"active":true,"sub":"alice","scope":["a"],"exp":4102444800,"aud":"api","iss":"https://as.example"}';
        default '{"active":false}';
    }

    map "$http_authorization|$http_content_type" $as_client_ok {
        "Basic Y2xpZW50OnMzY3JldA==|application/x-www-form-urlencoded" 1;
        "Bearer b3arer-s3cret|application/x-www-form-urlencoded" 1;
        default 0;
    }

    server {
        listen unix:$TEST_NGINX_HTML_DIR/as.sock;

        location = /introspect {
            if ($as_client_ok = 0) {
                return 401;
            }
            if ($request_method != POST) {
                return 405;
            }
            if ($http_x_leak) {
                return 400;
            }
            proxy_pass http://unix:$TEST_NGINX_HTML_DIR/as.sock:/answer;
            proxy_set_header X-Answer $as_answer;
        }

        location = /once {
            limit_req zone=once;
            if ($as_client_ok = 0) {
                return 401;
            }
            proxy_pass http://unix:$TEST_NGINX_HTML_DIR/as.sock:/answer;
            proxy_set_header X-Answer $as_answer;
        }

        location = /answer {
            default_type application/json;
            return 200 $http_x_answer;
        }

        location = /status500 {
            return 500;
        }
    }
_EOC_

sub prot {
    my ($uri, $extra) = @_;
    $extra //= '';
    return <<"_EOC_";
    location = /_introspect {
        internal;
        proxy_pass http://unix:\$TEST_NGINX_HTML_DIR/as.sock:$uri;
        subrequest_output_buffer_size 16k;
    }
    location /t {
        fw_jwt on;
        fw_jwt_audience api;
        fw_jwt_issuer https://as.example;
$extra
        add_header X-JWT-Status \$fw_jwt_status always;
        add_header X-Sub \$fw_jwt_sub always;
        add_header X-Scope \$fw_jwt_scope always;
        add_header X-Patient \$fw_jwt_claim_patient always;
        proxy_pass http://backend;
    }
_EOC_
}

# the zones outlive a reload: a block that counts on an empty cache (or on
# the endpoint's health) has its own
sub basic {
    my ($zone, $params) = @_;
    $params = $params ? " $params" : '';
    return "        fw_jwt_introspect /_introspect zone=$zone:1m$params;\n"
        . "        fw_jwt_introspect_auth basic client "
        . "\$TEST_NGINX_HTML_DIR/as.secret;\n";
}

our $Basic = basic("intro");

add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . $::As . $http);
    $block->set_value("config", prot("/introspect", $::Basic))
        unless defined $block->config;
    $block->set_value("user_files", ">>> as.secret\ns3cret\n")
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: an active opaque token: valid, its sub, scope and claims in the variables
--- request
GET /t
--- more_headers
Authorization: Bearer tok-alice
X-Leak: 1
--- error_code: 200
--- response_headers
X-JWT-Status: valid
X-Sub: alice
X-Scope: user/Observation.rs openid
X-Patient: p1
--- response_body_like: ^ok sub=
--- log_level: info
--- no_error_log
tok-alice
[error]



=== TEST 2: an inactive token: 401 invalid_token, nothing in the variables
--- request
GET /t
--- more_headers
Authorization: Bearer tok-off
--- error_code: 401
--- response_headers
X-JWT-Status: inactive
X-Sub:
X-Scope:
WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="token inactive"



=== TEST 3: an unknown token (the server's default answer): inactive
--- request
GET /t
--- more_headers
Authorization: Bearer something-else
--- error_code: 401
--- response_headers
X-JWT-Status: inactive



=== TEST 4: active but past its exp: expired
--- request
GET /t
--- more_headers
Authorization: Bearer tok-expired
--- error_code: 401
--- response_headers
X-JWT-Status: expired
X-Sub:



=== TEST 5: active without exp: refused (fw_jwt_require_exp on)
--- request
GET /t
--- more_headers
Authorization: Bearer tok-noexp
--- error_code: 401
--- response_headers
X-JWT-Status: invalid_claim



=== TEST 6: without exp and fw_jwt_require_exp off: valid
--- config eval
main::prot("/introspect", $::Basic . "        fw_jwt_require_exp off;\n")
--- request
GET /t
--- more_headers
Authorization: Bearer tok-noexp
--- error_code: 200
--- response_headers
X-JWT-Status: valid
X-Sub: eternal



=== TEST 7: wrong audience, wrong issuer; an audience array holding ours
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer tok-aud", "Authorization: Bearer tok-iss",
 "Authorization: Bearer tok-bob"]
--- error_code eval
[401, 401, 200]
--- response_headers eval
["X-JWT-Status: bad_audience", "X-JWT-Status: bad_issuer",
 "X-JWT-Status: valid"]



=== TEST 8: the token is form-encoded in the body
--- request
GET /t
--- more_headers
Authorization: Bearer tok+/x==
--- error_code: 200
--- response_headers
X-JWT-Status: valid
X-Sub: plus



=== TEST 9: a JWS is not introspected: with no key it is refused
--- request
GET /t
--- more_headers
Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl
--- error_code: 401
--- response_headers
X-JWT-Status: unknown_key



=== TEST 10: wrong client credentials: the server refuses, 503
--- user_files
>>> as.secret
wrong
--- request
GET /t
--- more_headers
Authorization: Bearer tok-alice
--- error_code: 503
--- response_headers
X-JWT-Status: introspection_unavailable
--- error_log
token introspection at "/_introspect" failed



=== TEST 11: a bearer secret from a file
--- config eval
main::prot("/introspect",
    "        fw_jwt_introspect /_introspect zone=intro:1m;\n"
    . "        fw_jwt_introspect_auth bearer \$TEST_NGINX_HTML_DIR/bearer;\n")
--- user_files
>>> bearer
b3arer-s3cret
--- request
GET /t
--- more_headers
Authorization: Bearer tok-alice
--- error_code: 200
--- response_headers
X-JWT-Status: valid
--- log_level: info
--- no_error_log
b3arer-s3cret



=== TEST 12: an active answer is cached: the second call would be refused
--- config eval
main::prot("/once", main::basic("c12"))
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer tok-alice", "Authorization: Bearer tok-alice",
 "Authorization: Bearer tok-bob"]
--- error_code eval
[200, 200, 503]
--- response_headers eval
["X-Sub: alice", "X-Sub: alice", "X-JWT-Status: introspection_unavailable"]



=== TEST 13: max_ttl=0: nothing cached, the second call is refused
--- config eval
main::prot("/once", main::basic("c13", "max_ttl=0"))
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer tok-alice", "Authorization: Bearer tok-alice"]
--- error_code eval
[200, 503]



=== TEST 14: an inactive answer is cached briefly (negative cache)
--- config eval
main::prot("/once", main::basic("c14"))
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer tok-off", "Authorization: Bearer tok-off"]
--- error_code eval
[401, 401]
--- response_headers eval
["X-JWT-Status: inactive", "X-JWT-Status: inactive"]



=== TEST 15: negative_ttl=0: an inactive answer is not cached
--- config eval
main::prot("/once", main::basic("c15", "negative_ttl=0"))
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer tok-off", "Authorization: Bearer tok-off"]
--- error_code eval
[401, 503]



=== TEST 16: the endpoint down: 503, the outage logged, no token in the log
--- config eval
main::prot("/nowhere", main::basic("c16"))
    =~ s{unix:\$TEST_NGINX_HTML_DIR/as.sock:/nowhere}{127.0.0.1:1/x}r
--- log_level: info
--- request
GET /t
--- more_headers
Authorization: Bearer tok-alice
--- error_code: 503
--- response_headers
X-JWT-Status: introspection_unavailable
--- grep_error_log eval: qr/fw_jwt: token introspection at "[^"]+" failed/
--- grep_error_log_out
fw_jwt: token introspection at "/_introspect" failed
--- no_error_log
tok-alice



=== TEST 16b: three checks in one request (SSI includes), one line
--- config eval
main::prot("/nowhere", main::basic("c16b"))
    =~ s{unix:\$TEST_NGINX_HTML_DIR/as.sock:/nowhere}{127.0.0.1:1/x}r
. q{
    location = /three {
        default_type text/html;
        ssi on;
        return 200 '<!--# include virtual="/t" --><!--# include virtual="/t/2" --><!--# include virtual="/t/3" -->';
    }
}
--- log_level: info
--- request
GET /three
--- more_headers
Authorization: Bearer tok-bob
--- error_code: 200
--- response_body_like: (?s)503 Service.*503 Service.*503 Service
--- grep_error_log eval: qr/fw_jwt: token introspection at "[^"]+" failed/
--- grep_error_log_out
fw_jwt: token introspection at "/_introspect" failed
--- no_error_log
tok-bob



=== TEST 17: the endpoint answers 500, or garbage, or a string "active": 503
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer tok-garbage", "Authorization: Bearer tok-strbool",
 "Authorization: Bearer tok-badscope"]
--- error_code eval
[503, 503, 503]
--- response_headers eval
["X-JWT-Status: introspection_unavailable",
 "X-JWT-Status: introspection_unavailable",
 "X-JWT-Status: introspection_unavailable"]
--- log_level: info
--- no_error_log
tok-garbage
tok-strbool



=== TEST 18: unavailable=401: the endpoint down answers 401
--- config eval
main::prot("/status500", main::basic("c18", "unavailable=401"))
--- request
GET /t
--- more_headers
Authorization: Bearer tok-alice
--- error_code: 401
--- response_headers
X-JWT-Status: introspection_unavailable



=== TEST 19: scopes flow into fw_fhir_scopes
--- config
    location = /_introspect {
        internal;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/as.sock:/introspect;
    }
    location /fhir {
        fw_jwt on;
        fw_jwt_introspect /_introspect zone=intro:1m;
        fw_jwt_introspect_auth basic client $TEST_NGINX_HTML_DIR/as.secret;
        fw_fhir R4;
        fw_fhir_scopes $fw_jwt_scope;
        proxy_pass http://backend;
    }
--- request eval
["GET /fhir/Observation?patient=p1", "GET /fhir/Patient/p1"]
--- more_headers eval
["Authorization: Bearer tok-alice", "Authorization: Bearer tok-alice"]
--- error_code eval
[200, 403]



=== TEST 20: no token: 401 with the bearer challenge, no subrequest
--- request
GET /t
--- error_code: 401
--- response_headers
X-JWT-Status: missing



=== TEST 21: fw_jwt_introspect without zone, or without credentials: nginx -t fails
--- config
    location /t {
        fw_jwt on;
        fw_jwt_introspect /_introspect;
        fw_jwt_introspect_auth none;
        proxy_pass http://backend;
    }
--- must_die
--- error_log
"fw_jwt_introspect" needs "zone=name:size"



=== TEST 22: fw_jwt_introspect without fw_jwt_introspect_auth: nginx -t fails
--- config
    location /t {
        fw_jwt on;
        fw_jwt_introspect /_introspect zone=intro:1m;
        proxy_pass http://backend;
    }
--- must_die
--- error_log
"fw_jwt_introspect" needs the client's credentials
