# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: algorithms, the attack table, claims, roles,
# variables, answers.  Every protected location is proxied (a content
# handler), never answered by "return" (see the phase tests at the end).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

my $K = sub { key_path(@_) };
my $hs = ["-k", $K->("hs.secret"), "-E", "base64url"];

our %T;

for my $a (qw(HS256 HS384 HS512)) {
    $T{lc $a} = mint("-a", $a, @$hs, "-c", "sub=alice");
}
for my $a (qw(RS256 RS384 RS512 PS256 PS384 PS512)) {
    $T{lc $a} = mint("-a", $a, "-k", $K->("rsa.key"), "-c", "sub=alice");
}
$T{es256} = mint("-a", "ES256", "-k", $K->("ec256.key"), "-c", "sub=alice");
$T{es384} = mint("-a", "ES384", "-k", $K->("ec384.key"), "-c", "sub=alice");
$T{es512} = mint("-a", "ES512", "-k", $K->("ec521.key"), "-c", "sub=alice");
$T{eddsa} = mint("-a", "EdDSA", "-k", $K->("ed25519.key"), "-c", "sub=alice");

# kid-tagged, for JWKS
$T{rs256_kid} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-K", "rsa-1",
                     "-c", "sub=alice");
$T{es256_kid} = mint("-a", "ES256", "-k", $K->("ec256.key"), "-K", "ec-256",
                     "-c", "sub=alice");
$T{es384_kid} = mint("-a", "ES384", "-k", $K->("ec384.key"), "-K", "ec-384",
                     "-c", "sub=alice");
$T{es512_kid} = mint("-a", "ES512", "-k", $K->("ec521.key"), "-K", "ec-521",
                     "-c", "sub=alice");
$T{ed_kid} = mint("-a", "EdDSA", "-k", $K->("ed25519.key"), "-K", "ed-1",
                  "-c", "sub=alice");
$T{hs256_kid} = mint("-a", "HS256", @$hs, "-K", "hs-1", "-c", "sub=alice");
$T{ps256_kid} = mint("-a", "PS256", "-k", $K->("rsa.key"), "-K", "rsa-1",
                     "-c", "sub=alice");
$T{ps_pinned} = mint("-a", "PS256", "-k", $K->("rsa.key"), "-K", "rsa-ps",
                     "-c", "sub=alice");
$T{rs_pinned} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-K", "rsa-ps",
                     "-c", "sub=alice");

# camelCase claims (SMART's fhirUser), names differing only in case
{
    my $e = time + 3600;
    my $rs = ["-H", '{"alg":"RS256","typ":"JWT"}', "-k", $K->("rsa.key"),
              "-s", "RS256"];
    $T{camel} = mint(@$rs, "-P", qq({"sub":"alice","exp":$e,)
        . qq("fhirUser":"Practitioner/pr1","Tenant":"t1","role":"x",)
        . qq("Role":"y","GROUP":"g1","group":"g2","Dup":"a","DUP":"b"}));
}

# the attack table
my $now = time;
my $exp = $now + 3600;
my $rsa = ["-k", $K->("rsa.key"), "-s", "RS256"];
$T{none} = mint("-H", '{"alg":"none","typ":"JWT"}', "-s", "none",
                "-P", qq({"sub":"alice","exp":$exp}));
$T{none_signed} = mint("-H", '{"alg":"none","typ":"JWT"}', @$rsa,
                       "-P", qq({"sub":"alice","exp":$exp}));
$T{None} = mint("-H", '{"alg":"None","typ":"JWT"}', @$rsa,
                "-P", qq({"sub":"alice","exp":$exp}));
$T{lower} = mint("-H", '{"alg":"rs256","typ":"JWT"}', @$rsa,
                 "-P", qq({"sub":"alice","exp":$exp}));
$T{confused} = mint("-a", "HS256", "-k", $K->("rsa.pub"), "-E", "binary",
                    "-O", "-c", "sub=alice");
$T{confused2} = mint("-a", "HS256", "-k", $K->("rsa.pub"), "-O",
                     "-c", "sub=alice");
$T{unknown_kid} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-K", "nope",
                       "-c", "sub=alice");
$T{wrong_kid} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-K", "ec-256",
                     "-c", "sub=alice");
$T{other_key} = mint("-a", "RS256", "-k", $K->("rsa2.key"), "-K", "rsa-1",
                     "-c", "sub=alice");
$T{rsa2} = mint("-a", "RS256", "-k", $K->("rsa2.key"), "-c", "sub=alice");
$T{expired} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-e", "-120",
                   "-c", "sub=alice");
$T{future} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-b", "3600",
                  "-e", "7200", "-c", "sub=alice");
# RFC 8259 JSON may start (and end) with white space
$T{ws_json} = mint("-H", qq( \t\r\n{"alg":"RS256","typ":"JWT"}), @$rsa,
                   "-P", qq(\n {"sub":"alice","exp":$exp}\n));
$T{ff_json} = mint("-H", qq(\f{"alg":"RS256","typ":"JWT"}), @$rsa,
                   "-P", qq({"sub":"alice","exp":$exp}));
$T{iat_future} = mint("-a", "RS256", @$rsa, "-P",
                      qq({"sub":"alice","exp":$exp,"iat":@{[$now + 30]}}));
$T{exp_str} = mint("-a", "RS256", @$rsa, "-P",
                   qq({"sub":"alice","exp":"$exp"}));
$T{no_exp} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-x",
                  "-c", "sub=alice");
$T{crit} = mint("-H", '{"alg":"RS256","crit":["x-custom"],"x-custom":1}',
                @$rsa, "-P", qq({"sub":"alice","exp":$exp}));
$T{dup} = mint("-a", "RS256", @$rsa, "-P",
               qq({"sub":"alice","sub":"admin","exp":$exp}));
$T{dup_hdr} = mint("-H", '{"alg":"RS256","alg":"RS256"}', @$rsa,
                   "-P", qq({"sub":"alice","exp":$exp}));
$T{deep} = mint("-a", "RS256", @$rsa, "-P",
                qq({"sub":"alice","exp":$exp,"x":) . ("[" x 40)
                . ("]" x 40) . "}");
$T{jwe_enc} = mint("-H", '{"alg":"RS256","enc":"A128GCM"}', @$rsa,
                   "-P", qq({"sub":"alice","exp":$exp}));
$T{payload_array} = mint("-a", "RS256", @$rsa, "-P", qq([1,2,3]));
$T{iss_good} = mint("-a", "RS256", "-k", $K->("rsa.key"),
                    "-c", "iss=https://idp.example", "-c", "sub=alice");
$T{iss_bad} = mint("-a", "RS256", "-k", $K->("rsa.key"),
                   "-c", "iss=https://evil.example", "-c", "sub=alice");
$T{aud_arr} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
                   "-J", '{"aud":["other","fhir-api"]}', "-c", "sub=alice");
$T{aud_bad} = mint("-a", "RS256", "-k", $K->("rsa.key"),
                   "-c", "aud=other", "-c", "sub=alice");
$T{typ_at} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
                  "-T", "at+jwt", "-c", "sub=alice");
$T{typ_dpop} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
                    "-T", "dpop+jwt", "-c", "sub=alice");
$T{long_life} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-e", "86400",
                     "-c", "sub=alice");

# encodings of a valid token that must all be refused
my ($h, $p, $s) = split /\./, $T{rs256};
$T{padded} = "$h.$p.$s=";
$T{padded_hdr} = "$h==.$p.$s";
(my $s2 = $s) =~ s/^(.{10})/$1!/;
$T{junk} = "$h.$p.$s2";
my %next = map { substr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        . "0123456789-_", $_, 1) => $_ } 0 .. 63;
my $last = substr($s, -1);
my $alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
$T{noncanon} = "$h.$p." . substr($s, 0, -1)
               . substr($alpha, $next{$last} ^ 1, 1);
$T{std_b64} = "$h.$p." . ($s =~ tr/-_/+\//r) . "+/";
$T{seg2} = "$h.$p";
$T{seg4} = "$h.$p.$s.$s";
$T{seg5} = "$h.$p.$s.$s.$s";
$T{tampered} = "$h." . mint("-a", "RS256", "-k", $K->("rsa2.key"),
                            "-c", "sub=admin") =~ s/^[^.]*\.([^.]*)\..*$/$1/r
               . ".$s";

# roles and requirements
$T{reader} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
                  "-J", '{"realm_access":{"roles":["reader"]}}',
                  "-c", "sub=bob");
$T{admin} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
                 "-J", '{"realm_access":{"roles":["admin","reader"]}}',
                 "-c", "sub=carol");
$T{noroles} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-c", "sub=dave");
$T{scoped} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
                  "-J", '{"scope":"patient/*.rs openid","tenant":"t1",'
                        . '"level":3,"groups":["a","b"],'
                        . '"https://example.com/org":"acme"}',
                  "-c", "sub=erin", "-K", "k1");
$T{scoped2} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
                   "-J", '{"scope":"openid","tenant":"t2","level":1}',
                   "-c", "sub=frank");

our $rsa_pub = $K->("rsa.pub");
our $jwks = $K->("all.jwks");
our $big = "A" x (8 * 1024 * 1024);

add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . $http);
});

run_tests();

__DATA__

=== TEST 1: a valid token for every algorithm (PEM keys and a secret)
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_key_file ${\ FwJwt::key_path("ec256.pub")};
        fw_jwt_key_file ${\ FwJwt::key_path("ec384.pub")};
        fw_jwt_key_file ${\ FwJwt::key_path("ec521.pub")};
        fw_jwt_key_file ${\ FwJwt::key_path("ed25519.pub")};
        fw_jwt_secret_file ${\ FwJwt::key_path("hs.secret")} encoding=base64url;
_EOC_
--- request eval
[map { "GET /t" } 1 .. 13]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" }
 qw(hs256 hs384 hs512 rs256 rs384 rs512 ps256 ps384 ps512 es256 es384
    es512 eddsa)]
--- response_headers eval
[map { "X-JWT-Status: valid" } 1 .. 13]
--- response_body eval
[map { "ok sub= roles=\n" } 1 .. 13]
--- no_error_log
[error]
[alert]



=== TEST 2: the same tokens with kids from a JWKS file
--- config eval
FwJwt::loc("        fw_jwt_jwks_file $::jwks;")
--- request eval
[map { "GET /t" } 1 .. 7]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" }
 qw(rs256_kid ps256_kid es256_kid es384_kid es512_kid ed_kid hs256_kid)]
--- response_headers eval
[map { "X-JWT-Status: valid" } 1 .. 7]
--- error_code eval
[map { 200 } 1 .. 7]
--- no_error_log
[alert]



=== TEST 3: no token: 401, a realm and no error code
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;\n        fw_jwt_realm fhir;")
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="fhir"
X-JWT-Status: missing
Content-Type: application/problem+json
--- response_body_like: "status":\s*401



=== TEST 4: another scheme is no bearer token; the scheme is case-insensitive
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
 "Authorization: bEaReR $::T{rs256}",
 "Authorization: Bearer  $::T{rs256}"]
--- error_code eval
[401, 200, 200]
--- response_headers eval
["X-JWT-Status: missing", "X-JWT-Status: valid", "X-JWT-Status: valid"]



=== TEST 5: alg none (empty and non-empty signature), None, lowercase alg
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{none}",
 "Authorization: Bearer $::T{none_signed}",
 "Authorization: Bearer $::T{None}",
 "Authorization: Bearer $::T{lower}"]
--- error_code eval
[401, 401, 401, 401]
--- response_headers eval
["X-JWT-Status: malformed", "X-JWT-Status: unsupported_alg",
 "X-JWT-Status: unsupported_alg", "X-JWT-Status: unsupported_alg"]
--- response_headers_like eval
['WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="malformed token"',
 'WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="invalid token"',
 'WWW-Authenticate: .*invalid_token', 'WWW-Authenticate: .*invalid_token']



=== TEST 6: HS256 signed with the RSA public key PEM (algorithm confusion)
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{confused}",
 "Authorization: Bearer $::T{confused2}"]
--- error_code eval
[401, 401]
--- response_headers eval
["X-JWT-Status: unsupported_alg", "X-JWT-Status: unsupported_alg"]



=== TEST 7: HS256 with the RSA PEM, even in a JWKS that also has an HMAC key
--- config eval
FwJwt::loc("        fw_jwt_jwks_file $::jwks;")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{confused}",
 "Authorization: Bearer $::T{confused2}"]
--- error_code eval
[401, 401]
--- response_headers eval
["X-JWT-Status: bad_signature", "X-JWT-Status: bad_signature"]



=== TEST 8: unknown kid, a kid of another key type, a kid with the wrong key
--- config eval
FwJwt::loc("        fw_jwt_jwks_file $::jwks;")
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{unknown_kid}",
 "Authorization: Bearer $::T{wrong_kid}",
 "Authorization: Bearer $::T{other_key}"]
--- error_code eval
[401, 401, 401]
--- response_headers eval
["X-JWT-Status: unknown_key", "X-JWT-Status: unknown_key",
 "X-JWT-Status: bad_signature"]



=== TEST 9: a JWK "alg" pins its key (PS256 only)
--- config eval
FwJwt::loc("        fw_jwt_jwks_file ${\ FwJwt::key_path('rsa-ps256.jwks')};")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{ps_pinned}",
 "Authorization: Bearer $::T{rs_pinned}"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: unsupported_alg"]



=== TEST 10: the allowlist: RS256 only refuses PS256 and ES256
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_key_file ${\ FwJwt::key_path("ec256.pub")};
        fw_jwt_algorithms RS256;
_EOC_
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{rs256}",
 "Authorization: Bearer $::T{ps256}",
 "Authorization: Bearer $::T{es256}"]
--- error_code eval
[200, 401, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: unsupported_alg",
 "X-JWT-Status: unsupported_alg"]



=== TEST 11: a tampered payload, another signer
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{tampered}",
 "Authorization: Bearer $::T{rsa2}"]
--- error_code eval
[401, 401]
--- response_headers eval
["X-JWT-Status: bad_signature", "X-JWT-Status: bad_signature"]



=== TEST 12: expired, not yet valid, exp as a string, no exp
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{expired}",
 "Authorization: Bearer $::T{future}",
 "Authorization: Bearer $::T{exp_str}",
 "Authorization: Bearer $::T{no_exp}"]
--- error_code eval
[401, 401, 401, 401]
--- response_headers eval
["X-JWT-Status: expired", "X-JWT-Status: not_yet_valid",
 "X-JWT-Status: invalid_claim", "X-JWT-Status: invalid_claim"]
--- response_headers_like eval
['WWW-Authenticate: .*error_description="token expired"',
 'WWW-Authenticate: .*error_description="token not yet valid"',
 'WWW-Authenticate: .*error="invalid_token"',
 'WWW-Authenticate: .*error="invalid_token"']



=== TEST 12b: JSON with leading white space verifies (RFC 8259); a form feed is no JSON white space; iat in the future is refused with leeway 0
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{ws_json}",
 "Authorization: Bearer $::T{ff_json}",
 "Authorization: Bearer $::T{iat_future}"]
--- error_code eval
[200, 401, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: malformed",
 "X-JWT-Status: not_yet_valid"]



=== TEST 13: leeway accepts a token expired 2 minutes ago; exp optional
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_leeway 5m;
        fw_jwt_require_exp off;
_EOC_
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{expired}",
 "Authorization: Bearer $::T{no_exp}"]
--- error_code eval
[200, 200]



=== TEST 14: maximum lifetime
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;\n        fw_jwt_max_lifetime 2h;")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{rs256}",
 "Authorization: Bearer $::T{long_life}"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: lifetime_exceeded"]



=== TEST 15: iss one of a list, aud a string or an array
--- config eval
FwJwt::loc(<<"_EOC_")
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_issuer https://other.example https://idp.example;
_EOC_
. "    location /aud {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_audience fhir-api;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /t", "GET /t", "GET /aud", "GET /aud", "GET /aud"]
--- more_headers eval
["Authorization: Bearer $::T{iss_good}",
 "Authorization: Bearer $::T{iss_bad}",
 "Authorization: Bearer $::T{rs256}",
 "Authorization: Bearer $::T{aud_arr}",
 "Authorization: Bearer $::T{aud_bad}",
 "Authorization: Bearer $::T{rs256}"]
--- error_code eval
[200, 401, 401, 200, 401, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: bad_issuer",
 "X-JWT-Status: bad_issuer", "X-JWT-Status: valid",
 "X-JWT-Status: bad_audience", "X-JWT-Status: bad_audience"]



=== TEST 16: typ: either (default) refuses dpop+jwt; at+jwt requires it
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
. "    location /at {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_type at+jwt;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /t", "GET /t", "GET /at", "GET /at"]
--- more_headers eval
["Authorization: Bearer $::T{typ_at}",
 "Authorization: Bearer $::T{typ_dpop}",
 "Authorization: Bearer $::T{rs256}",
 "Authorization: Bearer $::T{typ_at}",
 "Authorization: Bearer $::T{rs256}"]
--- error_code eval
[200, 401, 200, 200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: bad_type", "X-JWT-Status: valid",
 "X-JWT-Status: valid", "X-JWT-Status: bad_type"]



=== TEST 17: unknown crit, JWE "enc", duplicate claims and header keys, depth
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{crit}",
 "Authorization: Bearer $::T{jwe_enc}",
 "Authorization: Bearer $::T{dup}",
 "Authorization: Bearer $::T{dup_hdr}",
 "Authorization: Bearer $::T{deep}",
 "Authorization: Bearer $::T{payload_array}"]
--- error_code eval
[401, 401, 401, 401, 401, 401]
--- response_headers eval
["X-JWT-Status: malformed", "X-JWT-Status: malformed",
 "X-JWT-Status: malformed", "X-JWT-Status: malformed",
 "X-JWT-Status: malformed", "X-JWT-Status: malformed"]



=== TEST 18: padded, junk, non-canonical and standard base64
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{padded}",
 "Authorization: Bearer $::T{padded_hdr}",
 "Authorization: Bearer $::T{junk}",
 "Authorization: Bearer $::T{noncanon}",
 "Authorization: Bearer $::T{std_b64}"]
--- error_code eval
[401, 401, 401, 401, 401]
--- response_headers eval
["X-JWT-Status: malformed", "X-JWT-Status: malformed",
 "X-JWT-Status: malformed", "X-JWT-Status: malformed",
 "X-JWT-Status: malformed"]



=== TEST 19: 2, 4 and 5 segments, an empty bearer, two tokens in one header
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{seg2}",
 "Authorization: Bearer $::T{seg4}",
 "Authorization: Bearer $::T{seg5}",
 "Authorization: Bearer ",
 "Authorization: Bearer $::T{rs256} $::T{rs256}"]
--- error_code eval
[401, 401, 401, 401, 401]
--- response_headers eval
["X-JWT-Status: malformed", "X-JWT-Status: malformed",
 "X-JWT-Status: malformed", "X-JWT-Status: malformed",
 "X-JWT-Status: malformed"]



=== TEST 20: two Authorization headers: 400 (nginx refuses them before us)
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{rs256}\r\nAuthorization: Bearer $::T{rs256}"
--- error_code: 400
--- response_body_unlike: ^ok
--- error_log
client sent duplicate header line



=== TEST 21: an 8 MiB header is refused by nginx itself, no crash
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::big"
--- error_code: 400
--- no_error_log
[alert]
[emerg]



=== TEST 22: an 8 MiB token that nginx lets through: 401 too_large
--- config eval
"    large_client_header_buffers 4 9m;\n"
. FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::big"
--- error_code: 401
--- response_headers
X-JWT-Status: too_large
--- timeout: 20
--- no_error_log
[alert]



=== TEST 23: the size cap is configurable
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;\n        fw_jwt_max_size 100;")
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{rs256}"
--- error_code: 401
--- response_headers
X-JWT-Status: too_large



=== TEST 24: token from a cookie or an argument (fw_jwt_token)
--- config eval
"    location /c {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_token \$cookie_at;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }
    location /a {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_token \$arg_access_token;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }"
--- request eval
["GET /c", "GET /c", "GET /a?access_token=$::T{rs256}", "GET /a"]
--- more_headers eval
["Cookie: x=1; at=$::T{rs256}", "Authorization: Bearer $::T{rs256}", "",
 ""]
--- error_code eval
[200, 401, 200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: missing", "X-JWT-Status: valid",
 "X-JWT-Status: missing"]



=== TEST 25: roles by method (Keycloak realm_access.roles)
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_roles_claim realm_access.roles;
        fw_jwt_role admin;
        fw_jwt_role reader GET HEAD;
_EOC_
--- request eval
["GET /t", "HEAD /t", "POST /t\r\nContent-Length: 0\r\n\r\n",
 "DELETE /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{reader}",
 "Authorization: Bearer $::T{reader}",
 "Authorization: Bearer $::T{reader}",
 "Authorization: Bearer $::T{admin}",
 "Authorization: Bearer $::T{noroles}",
 "Authorization: Bearer $::T{rs256}"]
--- error_code eval
[200, 200, 403, 200, 403, 403]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: valid", "X-JWT-Status: role_failed",
 "X-JWT-Status: valid", "X-JWT-Status: role_failed",
 "X-JWT-Status: role_failed"]



=== TEST 26: a role failure is 403 insufficient_scope, as FHIR OperationOutcome
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_roles_claim realm_access.roles;
        fw_jwt_role admin;
        fw_jwt_error_format fhir;
_EOC_
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{reader}"
--- error_code: 403
--- response_headers
Content-Type: application/fhir+json
--- response_headers_like
WWW-Authenticate: Bearer realm="api", error="insufficient_scope"
--- response_body_like: "resourceType":\s*"OperationOutcome"



=== TEST 27: claim requirements: eq, any (space-separated), gt, exists, dotted names
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_require tenant eq t1 t3;
        fw_jwt_require scope any patient/*.rs user/*.rs;
        fw_jwt_require level ge 2;
        fw_jwt_require https://example.com/org eq acme error=401;
        fw_jwt_require groups all a b;
_EOC_
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{scoped}",
 "Authorization: Bearer $::T{scoped2}"]
--- error_code eval
[200, 403]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: claim_failed"]



=== TEST 28: a requirement may answer 401
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_require tenant exists error=401;
_EOC_
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{rs256}"
--- error_code: 401
--- response_headers
X-JWT-Status: claim_failed
--- response_headers_like
WWW-Authenticate: Bearer realm="api", error="invalid_token"



=== TEST 29: claims forwarded upstream replace client-sent headers
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_claim_header X-Sub sub;
        fw_jwt_claim_header X-Roles realm_access.roles;
_EOC_
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Sub: evil\r\nAuthorization: Bearer $::T{admin}\r\nx-sub: evil2",
 "X-Roles: admin\r\nAuthorization: Bearer $::T{rs256}"]
--- response_body eval
["ok sub=carol roles=admin,reader\n", "ok sub=alice roles=\n"]



=== TEST 30: variables in a log line (a valid token)
--- http_config
    log_format jwt 'JWTLOG status=$fw_jwt_status sub=$fw_jwt_sub '
                   'tenant=$fw_jwt_claim_tenant kid=$fw_jwt_header_kid '
                   'scope="$fw_jwt_scope" org=$jwt_org '
                   'groups=$fw_jwt_claim_groups';
    fw_jwt_claim_set $jwt_org https://example.com/org;
--- config eval
"    access_log logs/error.log jwt;\n"
. FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{scoped}"
--- error_code: 200
--- error_log
JWTLOG status=valid sub=erin tenant=t1 kid=k1 scope="patient/*.rs openid" org=acme groups=a,b



=== TEST 30b: variables in a log line (an expired token: only the unverified family)
--- http_config
    log_format jwt 'JWTLOG status=$fw_jwt_status sub=$fw_jwt_unverified_sub '
                   'tenant=$fw_jwt_unverified_claim_tenant '
                   'payload=$fw_jwt_unverified_payload '
                   'trusted=$fw_jwt_sub$fw_jwt_payload$fw_jwt_claim_sub.';
--- config eval
"    access_log logs/error.log jwt;\n"
. FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{expired}"
--- error_code: 401
--- error_log eval
qr/JWTLOG status=expired sub=alice tenant=- payload=\{\\x22exp\\x22:\d+,\\x22iat\\x22:\d+,\\x22sub\\x22:\\x22alice\\x22\} trusted=---\./



=== TEST 30c: no claim of a token that failed its signature reaches a log
--- http_config
    log_format jwt 'JWTLOG status=$fw_jwt_status sub=$fw_jwt_sub';
--- config eval
"    access_log logs/error.log jwt;\n"
. FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{tampered}"
--- error_code: 401
--- error_log
JWTLOG status=bad_signature sub=-



=== TEST 31: $fw_jwt_payload, nested claim through fw_jwt_claim_set
--- http_config
    fw_jwt_claim_set $jwt_roles realm_access.roles;
--- config eval
"    location /v {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        proxy_set_header X-Sub \$jwt_roles;
        proxy_pass http://backend;
    }"
--- request
GET /v
--- more_headers eval
"Authorization: Bearer $::T{admin}"
--- response_body
ok sub=admin,reader roles=



=== TEST 32: a variable read before the access phase: verification once
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        set \$who \$fw_jwt_sub;
        proxy_set_header X-Sub \$who;
        proxy_pass http://backend;
    }"
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{rs256}"
--- response_body
ok sub=alice roles=
--- grep_error_log eval: qr/fw_jwt: token checked/
--- grep_error_log_out
fw_jwt: token checked



=== TEST 33: the verified-token cache: the second use costs no signature work
--- config eval
"    fw_jwt_key_file $::rsa_pub;
    location /t {
        fw_jwt on;
        try_files /nonexistent \@b;
    }
    location \@b {
        fw_jwt on;
        proxy_pass http://backend;
    }"
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{rs256}"
--- response_body
ok sub= roles=
--- grep_error_log eval: qr/fw_jwt: (verified-token cache hit|signature verified)/
--- grep_error_log_out
fw_jwt: signature verified
fw_jwt: verified-token cache hit



=== TEST 33b: no cache: the signature is verified every time
--- http_config
    fw_jwt_cache 0;
--- config eval
"    fw_jwt_key_file $::rsa_pub;
    location /t {
        fw_jwt on;
        try_files /nonexistent \@b;
    }
    location \@b {
        fw_jwt on;
        proxy_pass http://backend;
    }"
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{rs256}"
--- response_body
ok sub= roles=
--- grep_error_log eval: qr/fw_jwt: (verified-token cache hit|signature verified)/
--- grep_error_log_out
fw_jwt: signature verified
fw_jwt: signature verified



=== TEST 34: the cache keeps locations apart (a token for one key set only)
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
. "    location /ec {
        fw_jwt on;
        fw_jwt_key_file ${\ FwJwt::key_path('ec256.pub')};
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /ec"]
--- more_headers eval
["Authorization: Bearer $::T{rs256}", "Authorization: Bearer $::T{rs256}"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: unsupported_alg"]



=== TEST 35: error formats: problem (default), fhir, text
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
. "    location /f {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_error_format fhir;
        proxy_pass http://backend;
    }
    location /x {
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_error_format text;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /f", "GET /x"]
--- more_headers eval
["Authorization: Bearer $::T{expired}", "Authorization: Bearer $::T{expired}",
 "Authorization: Bearer $::T{expired}"]
--- error_code eval
[401, 401, 401]
--- response_headers eval
["Content-Type: application/problem+json",
 "Content-Type: application/fhir+json", "Content-Type: text/plain"]
--- response_body_like eval
[qr/"status":\s*401/, qr/"OperationOutcome"/, qr/token expired/]



=== TEST 36: satisfy any: another access module may grant, or not
--- config eval
"    location /t {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        proxy_pass http://backend;
    }
    location /n {
        satisfy any;
        deny all;
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /n", "GET /n"]
--- more_headers eval
["Authorization: Bearer $::T{tampered}", "Authorization: Bearer $::T{tampered}",
 "Authorization: Bearer $::T{rs256}"]
--- error_code eval
[200, 401, 200]
--- raw_response_headers_like eval
[qr/^(?!.*WWW-Authenticate)/si, qr/WWW-Authenticate: Bearer/, qr/200 OK/]



=== TEST 37: auth_request to a JWT location: 401 and its WWW-Authenticate
--- config eval
"    location /api {
        auth_request /auth;
        proxy_pass http://backend;
    }
    location = /auth {
        internal;
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        proxy_pass http://backend;
    }"
--- request eval
["GET /api", "GET /api", "GET /api"]
--- more_headers eval
["Authorization: Bearer $::T{rs256}", "Authorization: Bearer $::T{tampered}",
 ""]
--- error_code eval
[200, 401, 401]
--- response_headers_like eval
['', 'WWW-Authenticate: Bearer realm="api", error="invalid_token".*',
 'WWW-Authenticate: Bearer realm="api"']



=== TEST 38: keys and settings are inherited from http and server levels
--- http_config eval
"    fw_jwt_key_file $::rsa_pub;\n    fw_jwt_error_format text;"
--- config
    location /t {
        fw_jwt on;
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
    location /open {
        add_header X-JWT-Status $fw_jwt_status always;
        proxy_pass http://backend;
    }
--- request eval
["GET /t", "GET /t", "GET /open", "GET /open"]
--- more_headers eval
["Authorization: Bearer $::T{rs256}", "Authorization: Bearer $::T{tampered}",
 "Authorization: Bearer $::T{tampered}", "Authorization: Bearer $::T{rs256}"]
--- error_code eval
[200, 401, 200, 200]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: bad_signature",
 "X-JWT-Status: bad_signature", "X-JWT-Status: valid"]



=== TEST 39: a per-request failure never changes the location (kjdev 0.14.1)
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{none}", "Authorization: Bearer $::T{tampered}",
 "Authorization: Bearer $::T{none_signed}"]
--- error_code eval
[401, 401, 401]



=== TEST 40: JWKS rotation, 1: only the old key
--- config eval
FwJwt::loc("        fw_jwt_jwks_file ${\ FwJwt::key_path('rot-old.jwks')};")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer " . FwJwt::mint("-a", "RS256", "-k", FwJwt::key_path("rsa.key"), "-K", "k-old"),
 "Authorization: Bearer " . FwJwt::mint("-a", "RS256", "-k", FwJwt::key_path("rsa2.key"), "-K", "k-new")]
--- error_code eval
[200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: unknown_key"]



=== TEST 41: JWKS rotation, 2: both keys during the overlap
--- config eval
FwJwt::loc("        fw_jwt_jwks_file ${\ FwJwt::key_path('rot-both.jwks')};")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer " . FwJwt::mint("-a", "RS256", "-k", FwJwt::key_path("rsa.key"), "-K", "k-old"),
 "Authorization: Bearer " . FwJwt::mint("-a", "RS256", "-k", FwJwt::key_path("rsa2.key"), "-K", "k-new")]
--- error_code eval
[200, 200]



=== TEST 42: JWKS rotation, 3: the old key is gone; several JWKS files merge
--- config eval
FwJwt::loc("        fw_jwt_jwks_file ${\ FwJwt::key_path('rot-new.jwks')};\n"
    . "        fw_jwt_jwks_file ${\ FwJwt::key_path('rsa-ps256.jwks')};")
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer " . FwJwt::mint("-a", "RS256", "-k", FwJwt::key_path("rsa.key"), "-K", "k-old"),
 "Authorization: Bearer " . FwJwt::mint("-a", "RS256", "-k", FwJwt::key_path("rsa2.key"), "-K", "k-new"),
 "Authorization: Bearer $::T{ps_pinned}"]
--- error_code eval
[401, 200, 200]
--- response_headers eval
["X-JWT-Status: unknown_key", "X-JWT-Status: valid", "X-JWT-Status: valid"]



=== TEST 43: HMAC secret as raw text (one line end removed)
--- config eval
FwJwt::loc("        fw_jwt_secret_file ${\ FwJwt::key_path('hs-raw.secret')};")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer " . FwJwt::mint("-a", "HS256", "-k", FwJwt::key_path("hs-raw.secret")),
 "Authorization: Bearer " . FwJwt::mint("-a", "HS256", "-k", FwJwt::key_path("hs-raw.secret"), "-E", "binary", "-O")]
--- error_code eval
[200, 401]



=== TEST 44: a replaced client header leaves nginx's own entries in place
Removing the client's X-Sub before Authorization must not shift the entry
that r->headers_in.authorization points at ($http_authorization, the
same for Host, Cookie, ...).
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_claim_header X-Sub sub;
        add_header X-Seen-Auth "[\$http_authorization]";
        add_header X-Seen-UA "[\$http_user_agent]";
_EOC_
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Sub: evil\r\nAuthorization: Bearer $::T{admin}\r\nX-After: z\r\nUser-Agent: ua1",
 "X-Sub: a\r\nX-Sub: b\r\nUser-Agent: ua2\r\nAuthorization: Bearer $::T{admin}\r\nX-After: z"]
--- response_body eval
["ok sub=carol roles=\n", "ok sub=carol roles=\n"]
--- response_headers eval
["X-Seen-Auth: [Bearer $::T{admin}]\nX-Seen-UA: [ua1]",
 "X-Seen-Auth: [Bearer $::T{admin}]\nX-Seen-UA: [ua2]"]



=== TEST 45: a claim variable finds a camelCase claim (nginx lowercases the name)
$fw_jwt_claim_fhiruser is SMART's fhirUser; an exact match wins over one
that only differs in case; two keys differing only in case and none
exact give nothing; the audit record's default fhir_user reads it.
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        add_header X-FU "[\$fw_jwt_claim_fhiruser]";
        add_header X-Tenant "[\$fw_jwt_claim_tenant]";
        add_header X-Role "[\$fw_jwt_claim_role]";
        add_header X-Group "[\$fw_jwt_claim_group]";
        add_header X-Dup "[\$fw_jwt_claim_dup]";
        add_header X-UFU "[\$fw_jwt_unverified_claim_fhiruser]";
_EOC_
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{camel}"
--- error_code: 200
--- response_headers
X-FU: [Practitioner/pr1]
X-Tenant: [t1]
X-Role: [x]
X-Group: [g2]
X-Dup: []
X-UFU: [Practitioner/pr1]
