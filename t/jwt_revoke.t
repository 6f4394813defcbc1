# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: one-time tokens (fw_jwt_jti_replay) and the
# revocation list (fw_jwt_revoke_file).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

my $hs = ["-a", "HS256", "-k", key_path("hs.secret"), "-E", "base64url"];
my $iat = time;

our %T;
$T{j1} = mint(@$hs, "-c", "sub=alice", "-c", "jti=j-1");
$T{j2} = mint(@$hs, "-c", "sub=alice", "-c", "jti=j-2");
$T{j3} = mint(@$hs, "-c", "sub=alice", "-c", "jti=j-3");
$T{j4} = mint(@$hs, "-c", "sub=alice", "-c", "jti=j-4");
$T{j5} = mint(@$hs, "-c", "sub=alice", "-c", "jti=j-5");
# the same jti from another issuer is another token
$T{j1_other} = mint(@$hs, "-c", "sub=alice", "-c", "jti=j-1",
                    "-c", "iss=https://other.example");
$T{nojti} = mint(@$hs, "-c", "sub=alice");
$T{revoked_jti} = mint(@$hs, "-c", "sub=erin", "-c", "jti=r-1");
$T{bob} = mint(@$hs, "-c", "sub=bob", "-c", "jti=b-1");
$T{carol} = mint(@$hs, "-c", "sub=carol");
$T{dave} = mint(@$hs, "-c", "sub=dave");
$T{frank} = mint(@$hs, "-c", "sub=frank", "-c", "jti=f-1");
$T{frank_noiat} = mint("-a", "HS256", "-k", key_path("hs.secret"),
                       "-E", "base64url", "-O", "-P",
                       '{"sub":"carol","exp":' . ($iat + 3600) . '}');

our $revoked = "# revoked\njti r-1\nsub bob\n"
               . "sub carol " . ($iat + 60) . "\n"
               . "sub dave " . ($iat - 60) . "\n";
our $secret = key_path("hs.secret");

add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . $http);
});

run_tests();

__DATA__

=== TEST 1: a one-time token passes once; its replay is refused (also when the verified-token cache has it)
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m;
_EOC_
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{j1}", "Authorization: Bearer $::T{j1}",
 "Authorization: Bearer $::T{j2}", "Authorization: Bearer $::T{j1_other}"]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: replayed", "X-JWT-Status: valid",
 "X-JWT-Status: valid"]
--- error_code eval
[200, 401, 200, 200]
--- no_error_log
[alert]



=== TEST 2: the refusal is 401 invalid_token in the location's format
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m;
_EOC_
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{j3}", "Authorization: Bearer $::T{j3}"]
--- response_headers_like eval
["", 'WWW-Authenticate: Bearer realm="api", error="invalid_token".*']
--- response_body_like eval
["ok", '"status":\s*401']
--- error_code eval
[200, 401]



=== TEST 3: required: a token without jti is refused; without "required" it passes, every time
--- config eval
FwJwt::loc(<<"_EOC_") . <<"_EOC2_";
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m required;
_EOC_
    location /u {
        fw_jwt on;
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }
_EOC2_
--- request eval
["GET /t", "GET /u", "GET /u"]
--- more_headers eval
["Authorization: Bearer $::T{nojti}", "Authorization: Bearer $::T{nojti}",
 "Authorization: Bearer $::T{nojti}"]
--- response_headers eval
["X-JWT-Status: replayed", "X-JWT-Status: valid", "X-JWT-Status: valid"]
--- error_code eval
[401, 200, 200]



=== TEST 4: one zone for two locations: a token used at one is refused at the other; "off" turns the check off
--- config eval
FwJwt::loc(<<"_EOC_") . <<"_EOC2_";
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m;
_EOC_
    location /u {
        fw_jwt on;
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;

        location /u/free {
            fw_jwt_jti_replay off;
            proxy_pass http://backend;
        }
    }
_EOC2_
--- request eval
["GET /t", "GET /u", "GET /u/free", "GET /u/free"]
--- more_headers eval
["Authorization: Bearer $::T{j4}", "Authorization: Bearer $::T{j4}",
 "Authorization: Bearer $::T{j4}", "Authorization: Bearer $::T{j4}"]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: replayed", "X-JWT-Status: valid",
 "X-JWT-Status: valid"]
--- error_code eval
[200, 401, 200, 200]



=== TEST 5: fw_jwt_jti_replay without a zone is refused by nginx -t
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay required;
_EOC_
--- must_die
--- error_log
"fw_jwt_jti_replay" needs zone=NAME:SIZE



=== TEST 6: a zone too small, an unknown parameter
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1k;
_EOC_
--- must_die
--- error_log
invalid size in "fw_jwt_jti_replay"



=== TEST 7: an unknown parameter
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m once;
_EOC_
--- must_die
--- error_log
invalid parameter "once" in "fw_jwt_jti_replay"



=== TEST 8: revocation by jti, by subject, by subject and time
--- user_files eval
[["revoked.txt" => $::revoked]]
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_file \$TEST_NGINX_HTML_DIR/revoked.txt;
_EOC_
--- request eval
[map { "GET /t" } 1 .. 7]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" }
 qw(revoked_jti bob carol dave j1 frank frank_noiat)]
--- response_headers eval
["X-JWT-Status: revoked", "X-JWT-Status: revoked", "X-JWT-Status: revoked",
 "X-JWT-Status: valid", "X-JWT-Status: valid", "X-JWT-Status: valid",
 "X-JWT-Status: revoked"]
--- error_code eval
[401, 401, 401, 200, 200, 200, 401]



=== TEST 9: a revocation list that cannot be read or parsed stops nginx -t
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_file \$TEST_NGINX_HTML_DIR/nope.txt;
_EOC_
--- must_die
--- error_log
"fw_jwt_revoke_file"



=== TEST 10: an invalid line names its number
--- user_files
>>> revoked.txt
jti a
kid b
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_file \$TEST_NGINX_HTML_DIR/revoked.txt;
_EOC_
--- must_die
--- error_log
line 2: expected "jti" or "sub"



=== TEST 11: a file over max_size is refused
--- user_files eval
[["revoked.txt" => $::revoked]]
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_file \$TEST_NGINX_HTML_DIR/revoked.txt max_size=10;
_EOC_
--- must_die
--- error_log
larger than max_size=10



=== TEST 12: the list is read again when the file changes (no reload), a broken one keeps the old list
--- user_files eval
[["rv/list" => "jti nothing\n"]]
--- config eval
FwJwt::loc(<<"_EOC_") . <<"_EOC2_";
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_file \$TEST_NGINX_HTML_DIR/rv/list interval=200ms;
_EOC_
    location /rv/ {
        root \$TEST_NGINX_HTML_DIR;
        dav_methods PUT;
    }

    # the body comes after a second: the timer runs meanwhile
    location /wait {
        proxy_pass http://backend;
    }
_EOC2_
--- request eval
["GET /t", "PUT /rv/list\njti j-1\n",
 ["POST /wait\n", {value => "x", delay_before => 1}], "GET /t",
 "PUT /rv/list\nnonsense\n",
 ["POST /wait\n", {value => "x", delay_before => 1}], "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{j1}", "", "", "Authorization: Bearer $::T{j1}",
 "", "", "Authorization: Bearer $::T{j1}"]
--- error_code eval
[200, 204, 200, 401, 204, 200, 401]
--- timeout: 10
