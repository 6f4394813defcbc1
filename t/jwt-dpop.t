# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: DPoP (RFC 9449).  Each check of a proof with a
# passing and a failing request: typ, alg (none, HMAC), jwk (private
# members), signature, htm, htu, iat, ath, jti replay (two workers share
# the replay zone), cnf.jkt, the Bearer downgrade, nonces, the modes and
# the challenges.  Proofs are minted when the file starts (their iat is
# then), for https://api.example.org unless a block says otherwise.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;
use Digest::SHA qw(hmac_sha256 sha256);
use MIME::Base64 qw(encode_base64url);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();
master_on();
workers(2);
log_level('info');

my $K = sub { key_path(@_) };
my $O = "https://api.example.org";

our %T;
our %P;

# access tokens: bound to the EC P-256, Ed25519, RSA keys; to another key;
# and not bound
$T{bound} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-c", "sub=alice",
                 "-B", $K->("ec256.key"));
$T{bound_ed} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-c", "sub=alice",
                    "-B", $K->("ed25519.key"));
$T{bound_rsa} = mint("-a", "RS256", "-k", $K->("rsa.key"),
                     "-c", "sub=alice", "-B", $K->("rsa2.key"));
$T{bound_384} = mint("-a", "RS256", "-k", $K->("rsa.key"),
                     "-c", "sub=alice", "-B", $K->("ec384.key"));
$T{plain} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-c", "sub=bob");
$T{bad_cnf} = mint("-a", "RS256", "-k", $K->("rsa.key"), "-O",
                   "-J", '{"cnf":"x"}', "-c", "sub=alice");

our $jkt = mint("-Z", $K->("ec256.key"));

# a proof by the P-256 key for a token
sub proof {
    my ($htm, $htu, $tok, @more) = @_;
    return mint("-a", "ES256", "-k", $K->("ec256.key"), "-D", $htm,
                "-U", $htu, "-A", $tok, @more);
}

$P{get} = proof("GET", "$O/t", $T{bound});
$P{get2} = proof("GET", "$O/t", $T{bound});
$P{redirect} = proof("GET", "$O/r", $T{bound});
$P{zone} = proof("GET", "$O/t", $T{bound});
$P{auth} = proof("GET", "$O/a", $T{bound});
$P{auth_t} = proof("GET", "$O/auth", $T{bound});
$P{get_ed} = mint("-a", "EdDSA", "-k", $K->("ed25519.key"), "-D", "GET",
                  "-U", "$O/t", "-A", $T{bound_ed});
$P{get_ps} = mint("-a", "PS256", "-k", $K->("rsa2.key"), "-D", "GET",
                  "-U", "$O/t", "-A", $T{bound_rsa});
$P{post} = proof("POST", "$O/t", $T{bound});
$P{post_ok} = proof("POST", "$O/t", $T{bound});
$P{get_lc} = proof("get", "$O/t", $T{bound});
$P{query} = proof("GET", "$O/t?x=1", $T{bound});
$P{noquery} = proof("GET", "$O/t", $T{bound});
$P{frag} = proof("GET", "$O/t#f", $T{bound});
$P{other_host} = proof("GET", "https://evil.example/t", $T{bound});
$P{other_path} = proof("GET", "$O/u", $T{bound});
$P{http} = proof("GET", "http://api.example.org/t", $T{bound});
$P{port} = proof("GET", "HTTPS://API.example.org:443/t", $T{bound});
$P{localhost} = proof("GET", "http://localhost/t", $T{bound});
$P{stale} = proof("GET", "$O/t", $T{bound}, "-i", "-400");
$P{old_ok} = proof("GET", "$O/t", $T{bound}, "-i", "-250");
$P{future} = proof("GET", "$O/t", $T{bound}, "-i", "3600");
$P{replay} = proof("GET", "$O/t", $T{bound}, "-I", "once");
$P{ath} = proof("GET", "$O/t", $T{plain});
$P{no_ath} = mint("-a", "ES256", "-k", $K->("ec256.key"), "-D", "GET",
                  "-U", "$O/t");
$P{for_384} = proof("GET", "$O/t", $T{bound_384});
$P{for_plain} = proof("GET", "$O/t", $T{plain});
$P{private} = proof("GET", "$O/t", $T{bound}, "-d");
$P{none} = mint("-a", "none", "-s", "ES256", "-k", $K->("ec256.key"),
                "-D", "GET", "-U", "$O/t", "-A", $T{bound});
$P{hs} = mint("-a", "HS256", "-k", $K->("hs.secret"), "-E", "base64url",
              "-w", $K->("ec256.key"), "-D", "GET", "-U", "$O/t",
              "-A", $T{bound});
$P{typ_jwt} = proof("GET", "$O/t", $T{bound}, "-T", "JWT");
my @seg = split /\./, $P{get2};
substr($seg[2], 10, 1) = substr($seg[2], 10, 1) eq "A" ? "B" : "A";
$P{badsig} = join(".", @seg);
$P{es384_alg} = mint("-a", "ES384", "-k", $K->("ec384.key"), "-D", "GET",
                     "-U", "$O/t", "-A", $T{bound_384});

# 300 distinct proofs, more than a 32k replay zone holds
our @many = split /\n/, mint("-a", "ES256", "-k", $K->("ec256.key"),
                              "-D", "GET", "-U", "$O/t", "-A", $T{bound},
                              "-N", 300);

# server nonces: what nginx computes, for this slot
our $secret = "0123456789abcdef0123456789abcdef-nonce";
my $nonce = encode_base64url(hmac_sha256("fhirwall-dpop-nonce:"
                                         . int(time / 300), $secret));
$P{nonce} = proof("GET", "$O/t", $T{bound}, "-W", $nonce);
$P{bad_nonce} = proof("GET", "$O/t", $T{bound}, "-W", "stale");
$P{no_nonce} = proof("GET", "$O/t", $T{bound});
# slots of a day for the rotation block: a slot boundary during the run
# is then unlikely
our $nonce_day = encode_base64url(hmac_sha256("fhirwall-dpop-nonce:"
                                             . int(time / 86400), $secret));
$P{prev_nonce} = proof("GET", "$O/t", $T{bound}, "-W",
                       encode_base64url(hmac_sha256("fhirwall-dpop-nonce:"
                                        . (int(time / 86400) - 1), $secret)));
$P{day_nonce} = proof("GET", "$O/t", $T{bound}, "-W", $nonce_day);

our $rsa_pub = $K->("rsa.pub");

sub dpop_loc {
    my ($more) = @_;
    $more //= '';
    return FwJwt::loc(<<"_EOC_");
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_dpop optional;
        fw_jwt_dpop_window 300s;
        fw_jwt_dpop_origin https://api.example.org;
        add_header X-JKT \$fw_jwt_dpop_jkt always;
$more
_EOC_
}

sub h {
    my ($tok, @proofs) = @_;
    return join("\n", "Authorization: DPoP $T{$tok}",
                map { "DPoP: $P{$_}" } @proofs);
}

add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . $http);
});

run_tests();

__DATA__

=== TEST 1: valid DPoP requests (ES256, EdDSA, PS256 proofs), the jkt variable
--- config eval
main::dpop_loc()
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "get"), main::h("bound_ed", "get_ed"),
 main::h("bound_rsa", "get_ps")]
--- response_headers eval
["X-JWT-Status: valid\nX-JKT: $::jkt", "X-JWT-Status: valid",
 "X-JWT-Status: valid"]
--- error_code eval
[200, 200, 200]
--- no_error_log
[error]
[alert]



=== TEST 2: htm: a POST passes; a lowercase method, a proof for POST on a GET are refused
--- config eval
main::dpop_loc()
--- request eval
["POST /t", "GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "post_ok"), main::h("bound", "get_lc"),
 main::h("bound", "post")]
--- error_code eval
[200, 401, 401]
--- response_headers_like eval
['X-JWT-Status: valid',
 'X-JWT-Status: invalid_dpop_proof',
 'WWW-Authenticate: Bearer realm="api", DPoP realm="api", error="invalid_dpop_proof", error_description="DPoP proof htm does not match", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"']



=== TEST 3: htu: a query or a fragment in htu is refused; the request's query is not part of it
--- config eval
main::dpop_loc()
--- request eval
["GET /t?x=1", "GET /t", "GET /t?x=1"]
--- more_headers eval
[main::h("bound", "query"), main::h("bound", "frag"),
 main::h("bound", "noquery")]
--- error_code eval
[401, 401, 200]
--- response_headers_like eval
['WWW-Authenticate: .*error_description="DPoP proof htu does not match".*',
 'WWW-Authenticate: .*error_description="DPoP proof htu does not match".*',
 'X-JWT-Status: valid']



=== TEST 4: htu: another host, path or scheme is refused; case and the default port are not
--- config eval
main::dpop_loc()
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "other_host"), main::h("bound", "other_path"),
 main::h("bound", "http"), main::h("bound", "port")]
--- error_code eval
[401, 401, 401, 200]



=== TEST 5: htu: without fw_jwt_dpop_origin, the scheme and Host of the request
--- config eval
FwJwt::loc(<<"_EOC_")
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_dpop optional;
        fw_jwt_dpop_window 300s;
_EOC_
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "localhost"), main::h("bound", "get")]
--- error_code eval
[200, 401]



=== TEST 6: iat: older than the window, in the future; inside the window passes
--- config eval
main::dpop_loc()
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "stale"), main::h("bound", "future"),
 main::h("bound", "old_ok")]
--- error_code eval
[401, 401, 200]
--- response_headers_like eval
['WWW-Authenticate: .*error="invalid_dpop_proof", error_description="DPoP proof iat out of window".*',
 'WWW-Authenticate: .*error_description="DPoP proof iat out of window".*',
 'X-JWT-Status: valid']



=== TEST 7: jti: a proof used twice is refused (each request on its own connection, two workers)
--- config eval
main::dpop_loc()
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "replay"), main::h("bound", "replay"),
 main::h("bound", "get2"), main::h("bound", "replay")]
--- error_code eval
[200, 401, 200, 401]
--- response_headers_like eval
['X-JWT-Status: valid',
 'WWW-Authenticate: .*error="invalid_dpop_proof", error_description="DPoP proof replayed".*',
 'X-JWT-Status: valid',
 'X-JWT-Status: invalid_dpop_proof']



=== TEST 8: jti: a proof checked again after an internal redirect of the same request is no replay
--- config eval
main::dpop_loc() . <<"_EOC_";
    location /r {
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_dpop optional;
        fw_jwt_dpop_origin https://api.example.org;
        set \$s \$fw_jwt_status;
        rewrite ^ /t last;
    }
_EOC_
--- request
GET /r
--- more_headers eval
main::h("bound", "redirect")
--- error_code: 200
--- response_headers
X-JWT-Status: valid



=== TEST 9: ath: a proof for another token, a proof without ath
--- config eval
main::dpop_loc()
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "ath"), main::h("bound", "no_ath")]
--- error_code eval
[401, 401]
--- response_headers_like eval
['WWW-Authenticate: .*error_description="DPoP proof ath does not match".*',
 'WWW-Authenticate: .*error_description="DPoP proof ath does not match".*']



=== TEST 10: cnf.jkt: the proof key and the token's key differ; the right pair passes
--- config eval
main::dpop_loc()
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::h("bound_384", "es384_alg"), main::h("bound_384", "for_384"),
 main::h("plain", "for_plain"), "Authorization: Bearer $::T{bad_cnf}"]
--- error_code eval
[200, 401, 401, 401]
--- response_headers_like eval
['X-JWT-Status: valid',
 'WWW-Authenticate: Bearer realm="api", DPoP realm="api", error="invalid_token", error_description="the token is not bound to the DPoP proof.s key".*',
 'X-JWT-Status: key_mismatch',
 'X-JWT-Status: invalid_claim']



=== TEST 11: jwk: a proof whose jwk holds the private key is refused
--- config eval
main::dpop_loc()
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "private"), main::h("bound", "get")]
--- error_code eval
[401, 200]
--- response_headers_like eval
['WWW-Authenticate: .*error_description="DPoP proof jwk holds a private key".*',
 'X-JWT-Status: valid']



=== TEST 12: alg: none, HS256 and an algorithm off the allow-list are refused; a bad signature too
--- config eval
main::dpop_loc("        fw_jwt_dpop_algorithms ES256 EdDSA;")
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "none"), main::h("bound", "hs"),
 main::h("bound_rsa", "get_ps"), main::h("bound", "badsig"),
 main::h("bound", "get")]
--- error_code eval
[401, 401, 401, 401, 200]
--- response_headers_like eval
['WWW-Authenticate: .*error_description="DPoP proof algorithm not allowed", algs="ES256 EdDSA".*',
 'WWW-Authenticate: .*error_description="DPoP proof algorithm not allowed".*',
 'WWW-Authenticate: .*error_description="DPoP proof algorithm not allowed".*',
 'WWW-Authenticate: .*error_description="DPoP proof signature invalid".*',
 'X-JWT-Status: valid']



=== TEST 13: typ: a proof that is not dpop+jwt
--- config eval
main::dpop_loc()
--- request eval
["GET /t"]
--- more_headers eval
[main::h("bound", "typ_jwt")]
--- error_code eval
[401]
--- response_headers_like eval
['WWW-Authenticate: .*error_description="DPoP proof typ is not dpop\+jwt".*']
--- error_log
fw_jwt: DPoP proof typ is not dpop+jwt



=== TEST 14: the DPoP header: missing, twice
--- config eval
main::dpop_loc()
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::h("bound"), main::h("bound", "get", "get2")]
--- error_code eval
[401, 401]
--- response_headers_like eval
['WWW-Authenticate: .*error_description="no DPoP proof".*',
 'WWW-Authenticate: .*error_description="malformed DPoP proof".*']



=== TEST 15: Bearer downgrade: a DPoP-bound token as a bearer token is refused (optional and off); an unbound one passes
--- config eval
main::dpop_loc() . FwJwt::loc("        fw_jwt_key_file $::rsa_pub;") =~ s{location /t}{location /t-off}r
--- request eval
["GET /t", "GET /t-off", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{bound}\nDPoP: $::P{get}",
 "Authorization: Bearer $::T{bound}",
 "Authorization: Bearer $::T{plain}"]
--- error_code eval
[401, 401, 200]
--- response_headers_like eval
['WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="the token is bound to a key: use the DPoP scheme", DPoP realm="api", algs=.*',
 'WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="the token is bound to a key: use the DPoP scheme"',
 'X-JWT-Status: valid']



=== TEST 16: required: a bearer token and no token get the DPoP challenge only
--- config eval
main::dpop_loc() =~ s/fw_jwt_dpop optional/fw_jwt_dpop required/r
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{plain}", "", main::h("bound", "get")]
--- error_code eval
[401, 401, 200]
--- response_headers_like eval
['WWW-Authenticate: DPoP realm="api", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"',
 'WWW-Authenticate: DPoP realm="api", algs=".*"',
 'X-JWT-Status: valid']



=== TEST 17: off: the DPoP scheme is not accepted
--- config eval
FwJwt::loc("        fw_jwt_key_file $::rsa_pub;")
--- request eval
["GET /t"]
--- more_headers eval
[main::h("bound", "get")]
--- error_code eval
[401]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"api\"\nX-JWT-Status: missing"]



=== TEST 18: nonces: none or a wrong one gets use_dpop_nonce and a DPoP-Nonce; the server's passes
--- config eval
main::dpop_loc('        fw_jwt_dpop_nonce_secret_file $TEST_NGINX_HTML_DIR/nonce.secret;')
--- user_files eval
">>> nonce.secret\n$::secret\n"
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "no_nonce"), main::h("bound", "bad_nonce"),
 main::h("bound", "nonce")]
--- error_code eval
[401, 401, 200]
--- response_headers_like eval
['WWW-Authenticate: .*DPoP realm="api", error="use_dpop_nonce", error_description="a DPoP nonce is required".*',
 'DPoP-Nonce: [A-Za-z0-9_-]{43}.*',
 'X-JWT-Status: valid']



=== TEST 19: nginx -t: an HMAC algorithm for proofs
--- config eval
main::dpop_loc("        fw_jwt_dpop_algorithms ES256 HS256;")
--- must_die
--- error_log
"fw_jwt_dpop_algorithms": "HS256" is not an asymmetric signature algorithm



=== TEST 20: nginx -t: DPoP with the token from fw_jwt_token
--- config eval
main::dpop_loc('        fw_jwt_token $http_x_token;')
--- must_die
--- error_log
"fw_jwt_dpop" needs the token from the Authorization header



=== TEST 21: nginx -t: an origin with a path, a scheme that is not http(s)
--- config eval
main::dpop_loc("        fw_jwt_dpop_origin https://api.example.org/fhir;") =~ s/^\s*fw_jwt_dpop_origin https:..api.example.org;$//mr
--- must_die
--- error_log
"fw_jwt_dpop_origin": "https://api.example.org/fhir" is not an origin



=== TEST 22: nginx -t: a short nonce secret
--- config eval
main::dpop_loc('        fw_jwt_dpop_nonce_secret_file $TEST_NGINX_HTML_DIR/short.secret;')
--- user_files
>>> short.secret
too-short
--- must_die
--- error_log
is shorter than 32 bytes



=== TEST 23: nginx -t: a replay zone without a size
--- config eval
main::dpop_loc('        fw_jwt_dpop_replay_zone dpop;')
--- must_die
--- error_log
"fw_jwt_dpop_replay_zone": "dpop" is not name:size



=== TEST 24: a named replay zone works like the default one
--- config eval
main::dpop_loc('        fw_jwt_dpop_replay_zone dpop:1m;')
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "zone"), main::h("bound", "zone")]
--- error_code eval
[200, 401]



=== TEST 25: a full replay zone answers 503 (fail closed: no proof is forgotten within its window)
--- config eval
main::dpop_loc('        fw_jwt_dpop_replay_zone tiny:32k;')
--- request eval
[map { "GET /t" } 1 .. 300]
--- more_headers eval
[map { "Authorization: DPoP $::T{bound}\nDPoP: $_" } @::many]
--- error_code_like eval
[qr/^200$/, (map { qr/^(200|503)$/ } 2 .. 299), qr/^503$/]
--- response_headers_like eval
['X-JWT-Status: valid', (map { 'X-JWT-Status: (valid|dpop_unavailable)' } 2 .. 300)]
--- timeout: 30



=== TEST 26: nonces: the previous slot's nonce passes and the answer brings the current one; the current one brings none
--- config eval
main::dpop_loc('        fw_jwt_dpop_nonce_secret_file $TEST_NGINX_HTML_DIR/nonce.secret lifetime=1d;')
--- user_files eval
">>> nonce.secret\n$::secret\n"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::h("bound", "prev_nonce"), main::h("bound", "day_nonce")]
--- error_code eval
[200, 200]
--- response_headers eval
["X-JWT-Status: valid\nDPoP-Nonce: $::nonce_day", "X-JWT-Status: valid\n!DPoP-Nonce"]



=== TEST 27: auth_request: the proof is for the client's request (its method and URI), checked in the subrequest
--- config eval
<<"_EOC_"
    location /a {
        auth_request /auth;
        proxy_pass http://backend;
    }
    location = /auth {
        internal;
        fw_jwt on;
        fw_jwt_key_file $::rsa_pub;
        fw_jwt_dpop required;
        fw_jwt_dpop_origin https://api.example.org;
        return 204;
    }
_EOC_
--- request eval
["GET /a", "GET /a", "GET /a"]
--- more_headers eval
[main::h("bound", "auth"), main::h("bound", "auth"),
 main::h("bound", "auth_t")]
--- error_code eval
[200, 401, 401]
--- response_headers_like eval
['Content-Type: .*',
 'WWW-Authenticate: DPoP realm="api", error="invalid_dpop_proof", error_description="DPoP proof replayed".*',
 'WWW-Authenticate: DPoP realm="api", error="invalid_dpop_proof", error_description="DPoP proof htu does not match".*']
