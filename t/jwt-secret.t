# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: an HMAC secret that is a public key fails nginx -t,
# naming the directive: a PEM block, a JWK or JWKS, DER, the base64 of DER,
# the same bytes as a public key of the location (with or without line
# ends, the raw Ed25519 key); the same for JWKS "oct" keys.  Anyone who has
# the public key could otherwise MAC tokens (the forgery of TEST 1).  And a
# secret too short for every allowed HMAC algorithm (RFC 7518 3.2).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use File::Temp qw(tempdir);
use MIME::Base64 qw(decode_base64 encode_base64);
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

our $K = "$ENV{TEST_NGINX_FW_ROOT}/t/keys/jwt";
our $D = tempdir("fw-jwt-secret-XXXXXX", TMPDIR => 1, CLEANUP => 1);

sub slurp {
    open my $fh, '<:raw', $_[0] or die "$_[0]: $!";
    local $/;
    return <$fh>;
}

sub spew {
    my ($name, $data) = @_;
    open my $fh, '>:raw', "$D/$name" or die "$D/$name: $!";
    print $fh $data;
    close $fh;
}

sub b64u {
    my $s = encode_base64($_[0], '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

my $pem = slurp("$K/rsa.pub");
(my $body = $pem) =~ s/-----[^-]+-----//g;
$body =~ s/\s+//g;
my $der = decode_base64($body);
(my $flat = $pem) =~ s/[\r\n]//g;
my $ed_der = decode_base64(join '', grep { !/-----/ }
                           split /\n/, slurp("$K/ed25519.pub"));
my $ed_raw = substr($ed_der, -32);
my ($jwk) = slurp("$K/all.jwks") =~ /(\{\s*"kty"[^}]*\})/;

spew("pem.secret", $pem);
spew("flat.secret", $flat);
spew("prefixed.secret", "some text before the key\n$pem");
spew("jwk.secret", $jwk);
spew("jwks.secret", slurp("$K/all.jwks"));
spew("der.secret", $der);
spew("der.b64", encode_base64($der, "") . "\n");
spew("body.secret", "$body\n");
spew("ed-raw.b64u", b64u($ed_raw) . "\n");
spew("oct-pem.jwks", qq({"keys":[{"kty":"oct","kid":"h","k":")
     . b64u($pem) . qq("}]}));
spew("oct-der.jwks", qq({"keys":[{"kty":"oct","kid":"h","k":")
     . b64u($der) . qq("}]}));
spew("oct-okp.jwks", qq({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":")
     . b64u($ed_raw) . qq("},{"kty":"oct","kid":"h","k":")
     . b64u($ed_raw) . qq("}]}));
spew("hs32.secret", "0123456789abcdef0123456789ABCDEF");
spew("hs48.secret", "0123456789abcdef0123456789ABCDEF0123456789abcdef");

our %T;
$T{forged} = mint("-a", "HS256", "-k", "$K/rsa.pub", "-O",
                  "-c", "sub=mallory");
$T{hs256} = mint("-a", "HS256", "-k", "$D/hs32.secret", "-c", "sub=alice");

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', FwJwt::backend_http())
        unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: the forgery: fw_jwt_secret_file with the public key PEM fails nginx -t
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::K/rsa.pub;
        fw_jwt_algorithms HS256;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/rsa.pub": the HMAC secret holds a PEM block}



=== TEST 2: ... also beside the same key as fw_jwt_key_file (HS256 RS256)
--- config eval
FwJwt::loc("        fw_jwt_key_file $::K/rsa.pub kid=rsa1;
        fw_jwt_secret_file $::K/rsa.pub kid=rsa1;
        fw_jwt_algorithms HS256 RS256;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/rsa.pub": the HMAC secret holds a PEM block}



=== TEST 3: the PEM without its line ends
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/flat.secret;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/flat.secret": the HMAC secret holds a PEM block}



=== TEST 4: a file that contains a PEM block after other text
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/prefixed.secret;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/prefixed.secret": the HMAC secret holds a PEM block}



=== TEST 5: a JWK document
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/jwk.secret;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/jwk.secret": the HMAC secret is a JWK or JWKS document}



=== TEST 6: a JWKS document
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/jwks.secret;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/jwks.secret": the HMAC secret is a JWK or JWKS document}



=== TEST 7: a DER-encoded public key
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/der.secret;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/der.secret": the HMAC secret is a DER-encoded key}



=== TEST 8: the same DER with encoding=base64
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/der.b64 encoding=base64;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/der.b64": the HMAC secret is a DER-encoded key}



=== TEST 9: the PEM's base64 body without its armour, as raw text
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/body.secret;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file" "\S+/body.secret": the HMAC secret is the base64 text of a DER-encoded key}



=== TEST 10: the raw Ed25519 public key of the location's fw_jwt_key_file
--- config eval
FwJwt::loc("        fw_jwt_key_file $::K/ed25519.pub;
        fw_jwt_secret_file $::D/ed-raw.b64u encoding=base64url;
        fw_jwt_algorithms HS256 EdDSA;")
--- must_die
--- error_log eval
qr{"fw_jwt_secret_file", "fw_jwt_key_file", "fw_jwt_jwks_file"\): an HMAC secret is the same as a public key}



=== TEST 10b: ... also when both are set at the http level and inherited
--- http_config eval
FwJwt::backend_http() . "
    fw_jwt_key_file $::K/ed25519.pub;
    fw_jwt_secret_file $::D/ed-raw.b64u encoding=base64url;
    fw_jwt_algorithms HS256 EdDSA;"
--- config eval
FwJwt::loc("")
--- must_die
--- error_log eval
qr{an HMAC secret is the same as a public key}



=== TEST 10c: a JWKS whose "oct" key is the raw value of its own OKP key
--- config eval
FwJwt::loc("        fw_jwt_jwks_file $::D/oct-okp.jwks;")
--- must_die
--- error_log eval
qr{"fw_jwt_jwks_file"\): an HMAC secret is the same as a public key}



=== TEST 11: a JWKS "oct" key whose k is the public key PEM
--- config eval
FwJwt::loc("        fw_jwt_jwks_file $::D/oct-pem.jwks;")
--- must_die
--- error_log eval
qr{"fw_jwt_jwks_file" "\S+/oct-pem.jwks": the HMAC secret holds a PEM block}



=== TEST 12: a JWKS "oct" key whose k is the DER public key
--- config eval
FwJwt::loc("        fw_jwt_jwks_file $::D/oct-der.jwks;")
--- must_die
--- error_log eval
qr{"fw_jwt_jwks_file" "\S+/oct-der.jwks": the HMAC secret is a DER-encoded key}



=== TEST 13: HS384 HS512 with a 32-byte secret fails nginx -t (RFC 7518 3.2)
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/hs32.secret;
        fw_jwt_algorithms HS384 HS512;")
--- must_die
--- error_log eval
qr{"fw_jwt_algorithms" and the keys of this location .*: an HMAC secret of 32 bytes fits none of the allowed HMAC algorithms \(RFC 7518 3.2}



=== TEST 14: HS256 HS384 with a 32-byte secret: a warning names the 48 bytes HS384 needs
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/hs32.secret;
        fw_jwt_algorithms HS256 HS384;")
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{hs256}"
--- error_code: 200
--- error_log
HS384 is allowed but no HMAC secret has the 48 bytes it needs (RFC 7518 3.2)



=== TEST 15: HS384 with a 48-byte secret: no warning
--- config eval
FwJwt::loc("        fw_jwt_secret_file $::D/hs48.secret;
        fw_jwt_algorithms HS384;")
--- request
GET /t
--- error_code: 401
--- no_error_log
RFC 7518



=== TEST 16: a random secret beside a public key is fine, and the forged token is refused
--- config eval
FwJwt::loc("        fw_jwt_key_file $::K/rsa.pub;
        fw_jwt_secret_file $::D/hs32.secret;
        fw_jwt_algorithms HS256 RS256;")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{forged}", "Authorization: Bearer $::T{hs256}"]
--- error_code eval
[401, 200]
--- response_headers eval
["X-JWT-Status: bad_signature", "X-JWT-Status: valid"]
