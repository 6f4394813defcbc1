# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: one-time tokens (fw_jwt_jti_replay) with two
# workers (master process on): the zone is shared.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
master_on();
workers(2);
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

=== TEST 1: the replay zone is shared by the workers
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m;
_EOC_
--- request eval
[map { "GET /t" } 1 .. 6]
--- more_headers eval
[map { "Authorization: Bearer $::T{j5}" } 1 .. 6]
--- error_code eval
[200, 401, 401, 401, 401, 401]
