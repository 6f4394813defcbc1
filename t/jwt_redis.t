# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: the checks the replicas share through Redis
# (fw_jwt_redis): one-time tokens (fw_jwt_jti_replay ... redis),
# revocation sets (fw_jwt_revoke_redis), DPoP proof replay
# (fw_jwt_dpop_replay_redis); Redis down, paused and restarted under
# fw_jwt_redis_failure closed and open.
#
# A private redis-server on $TEST_NGINX_REDIS_PORT (t/lib/FwRedis.pm);
# nothing may listen on the next port (the "Redis down" blocks use it); a
# second nginx (the other replica, the same Redis) listens on
# $TEST_NGINX_SERVER_PORT + 1.  A block names what it needs done first in
# an nginx comment of its http_config, "# fw-test: NAME" (%Setup); without
# one it gets a running, empty Redis.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Test::More;
use FwJwt;
use FwRedis;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

my $port = FwRedis::port();
$ENV{TEST_NGINX_REDIS_PORT} = $port;
$ENV{TEST_NGINX_REDIS_DOWN_PORT} = $port + 1;
$ENV{TEST_NGINX_SERVER_PORT2} ||= ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 1;

repeat_each(1);
no_shuffle();
log_level('info');

my $hs = ["-a", "HS256", "-k", key_path("hs.secret"), "-E", "base64url"];
my $iat = time;

our %T;
$T{$_} = mint(@$hs, "-c", "sub=alice", "-c", "jti=$_")
    for qw(a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12);
$T{revoked_jti} = mint(@$hs, "-c", "sub=erin", "-c", "jti=r-1");
# a revoked subject's token with a fresh jti (the attack the sub entry is
# for), and the subjects revoked at a time
$T{bob} = mint(@$hs, "-c", "sub=bob", "-c", "jti=b-fresh");
$T{carol} = mint(@$hs, "-c", "sub=carol", "-c", "jti=c-1");
$T{dave} = mint(@$hs, "-c", "sub=dave", "-c", "jti=d-1");
$T{carol_noiat} = mint(@$hs, "-O", "-P",
                       '{"sub":"carol","exp":' . ($iat + 3600) . '}');
$T{nojti} = mint(@$hs, "-c", "sub=alice");

# DPoP: a token bound to the P-256 key, proofs by that key
my $O = "https://api.example.org";
$T{bound} = mint("-a", "RS256", "-k", key_path("rsa.key"), "-c", "sub=alice",
                 "-B", key_path("ec256.key"));
our %P;
$P{$_} = mint("-a", "ES256", "-k", key_path("ec256.key"), "-D", "GET",
              "-U", "$O/t", "-A", $T{bound})
    for qw(p1 p2 p3);

our $secret = key_path("hs.secret");
our $rsa_pub = key_path("rsa.pub");

# a replica's error log lines that match
sub log_lines {
    my ($p2, $re) = @_;
    my $log = "$FwRedis::Nginx{$p2}/logs/error.log";
    open my $fh, '<', $log or die "$log: $!\n";
    my @l = grep { /$re/ } <$fh>;
    close $fh;
    return @l;
}

sub fresh_redis {
    FwRedis::resume($port);

    if (!FwRedis::running($port)) {
        FwRedis::start($port);
        return;
    }

    FwRedis::cmd($port, 'FLUSHALL');
}

# the other replica: the location /t of the blocks, the same Redis
sub replica {
    my ($redis, $loc) = @_;
    my $p2 = $ENV{TEST_NGINX_SERVER_PORT2};

    FwRedis::start_nginx($p2, <<"HTTP");
    fw_jwt_redis $redis;
    server {
        listen 127.0.0.1:$p2;
        location /t {
            fw_jwt on;
$loc
            add_header X-JWT-Status \$fw_jwt_status always;
            proxy_pass http://127.0.0.1:$p2/backend;
        }
        location = /backend {
            return 200 "second\\n";
        }
    }
HTTP

    return $p2;
}

sub jti_loc {
    return <<"LOC";
            fw_jwt_secret_file $secret encoding=base64url;
            fw_jwt_jti_replay zone=jti:1m redis;
LOC
}

sub dpop_loc {
    return <<"LOC";
        fw_jwt_key_file $rsa_pub;
        fw_jwt_dpop optional;
        fw_jwt_dpop_window 300s;
        fw_jwt_dpop_origin https://api.example.org;
        fw_jwt_dpop_replay_redis on;
LOC
}

sub get {
    my ($p2, $tok, %h) = @_;
    return FwRedis::http_get($p2, '/t', Authorization => "Bearer $T{$tok}",
                             %h);
}

my %Setup = (

    # a1 used on the other replica first; its key in Redis
    two_replicas => sub {
        fresh_redis();
        my $p2 = replica("127.0.0.1:$port", jti_loc());
        my ($st, $h) = get($p2, 'a1');
        my ($st2, $h2) = get($p2, 'a1');
        is("$st $st2", "200 401", 'replica B: a1 once, then refused');
        is($h2->{'x-jwt-status'}, 'replayed', 'replica B: replayed');
        FwRedis::stop_nginx($p2);

        my $keys = FwRedis::cmd($port, 'KEYS', '*');
        is(scalar @$keys, 1, 'one key in Redis');
        is($keys->[0], 'fw:jwt:jti:' . sha256_hex("\0a1"),
           'the key: the prefix, "jti:", SHA-256 hex of iss NUL jti');
        my $pttl = FwRedis::cmd($port, 'PTTL', $keys->[0]);
        ok($pttl > 3500000 && $pttl <= 3600000,
           "it lives for the token's remaining lifetime ($pttl ms)");
    },

    revoked => sub {
        fresh_redis();
        FwRedis::cmd($port, 'SADD', 'fw:jwt:revoked:jti', 'r-1');
        FwRedis::cmd($port, 'ZADD', 'fw:jwt:revoked:sub', '+inf', 'bob');
        FwRedis::cmd($port, 'ZADD', 'fw:jwt:revoked:sub', $iat + 60, 'carol');
        FwRedis::cmd($port, 'ZADD', 'fw:jwt:revoked:sub', $iat - 60, 'dave');
        FwRedis::cmd($port, 'SADD', 'other:jti', 'a9');
    },

    # a proof used on the other replica first
    dpop => sub {
        fresh_redis();
        my $p2 = replica("127.0.0.1:$port", dpop_loc());
        my ($st) = FwRedis::http_get($p2, '/t',
                                     Authorization => "DPoP $T{bound}",
                                     DPoP => $P{p1});
        my ($st2, $h2) = FwRedis::http_get($p2, '/t',
                                           Authorization => "DPoP $T{bound}",
                                           DPoP => $P{p1});
        is("$st $st2", "200 401", 'replica B: the proof once, then refused');
        like($h2->{'www-authenticate'} // '', qr/DPoP proof replayed/,
             'replica B: replayed proof');
        FwRedis::stop_nginx($p2);

        my $keys = FwRedis::cmd($port, 'KEYS', 'fw:jwt:dpop:*');
        is(scalar @$keys, 1, 'one proof key in Redis');
        like($keys->[0] // '', qr/^fw:jwt:dpop:[0-9a-f]{64}$/,
             'the proof key: a SHA-256 hex');
        my $pttl = FwRedis::cmd($port, 'PTTL', $keys->[0]);
        ok($pttl > 290000 && $pttl <= 301000,
           "it lives for the proof's window ($pttl ms)");
    },

    # Redis down, then up again: 503 until it answers, then Redis decides;
    # one line for each change of state
    recovering => sub {
        FwRedis::resume($port);
        FwRedis::stop($port);
        my $p2 = replica("127.0.0.1:$port backoff=100ms", jti_loc());

        my ($st1) = get($p2, 'a10');
        my ($st2) = get($p2, 'a10');

        FwRedis::start($port);

        my $st3;
        for (1 .. 100) {
            ($st3) = get($p2, 'a10');
            last if $st3 != 503;
            sleep 0.05;
        }
        my ($st4) = get($p2, 'a10');

        is("$st1 $st2 $st3 $st4", "503 503 200 401",
           'Redis down then up: 503 until it answers, then Redis decides');

        my @lines = log_lines($p2, qr/fw_jwt: redis (cannot check|checks)/);
        FwRedis::stop_nginx($p2);
        is(scalar @lines, 2, 'two changes of state, two lines');
        like($lines[0] // '', qr/redis cannot check tokens/, 'down first');
        like($lines[1] // '', qr/redis checks tokens again/, 'then up');
        fresh_redis();
    },

    paused => sub {
        fresh_redis();
        FwRedis::pause($port);
    },
);

add_block_preprocessor(sub {
    my $block = shift;

    my $http = $block->http_config // '';
    $block->set_value("http_config", FwJwt::backend_http() . $http);

    my $skip = eval {
        $block->skip
        || (!$block->only && grep { $_->{only} } Test::Base::blocks())
    };
    return if $skip;

    if ($http =~ /#\s*fw-test:\s*(\w+)/) {
        my $setup = $Setup{$1} or die "unknown fw-test setup $1\n";
        $setup->($block);
    } elsif (!defined $block->must_die) {
        fresh_redis();
    }
});

run_tests();

__DATA__

=== TEST 1: a one-time token used on replica B is refused on A
--- http_config
    # fw-test: two_replicas
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
_EOC_
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{a1}"
--- error_code: 401
--- response_headers
X-JWT-Status: replayed
--- response_headers_like
WWW-Authenticate: Bearer realm="api", error="invalid_token".*
--- error_log
fw_jwt: replayed token refused (jti seen before, redis)
--- no_error_log
redis cannot check tokens
[alert]



=== TEST 2: one replica: once, then refused; another jti passes; a token without jti under "required"
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis required;
_EOC_
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a2}", "Authorization: Bearer $::T{a2}",
 "Authorization: Bearer $::T{a3}", "Authorization: Bearer $::T{nojti}"]
--- error_code eval
[200, 401, 200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: replayed", "X-JWT-Status: valid",
 "X-JWT-Status: replayed"]
--- response_body_like eval
["^ok sub=", '"status":\s*401', "^ok sub=", '"status":\s*401']
--- no_error_log
redis cannot check tokens
[alert]



=== TEST 3: checked again after an internal redirect (error_page) the request does not replay its own token
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(<<"_EOC_") . <<"_EOC2_";
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
_EOC_
    location /first {
        fw_jwt on;
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
        proxy_pass http://127.0.0.1:\$server_port/gone;
        proxy_intercept_errors on;
        error_page 404 = /t;
    }
    location = /gone {
        return 404;
    }
_EOC2_
--- request eval
["GET /first", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a4}", "Authorization: Bearer $::T{a4}"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: replayed"]
--- response_body_like eval
["^ok sub=", '"status":\s*401']



=== TEST 4: revocation in Redis: a jti in the set; a subject in the sorted set, its token with a fresh jti too; a time: iat <= it (or no iat) refused, later tokens pass
--- http_config
    # fw-test: revoked
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_redis;
_EOC_
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{revoked_jti}", "Authorization: Bearer $::T{bob}",
 "Authorization: Bearer $::T{carol}", "Authorization: Bearer $::T{carol_noiat}",
 "Authorization: Bearer $::T{dave}", "Authorization: Bearer $::T{a9}"]
--- error_code eval
[401, 401, 401, 401, 200, 200]
--- response_headers eval
["X-JWT-Status: revoked", "X-JWT-Status: revoked", "X-JWT-Status: revoked",
 "X-JWT-Status: revoked", "X-JWT-Status: valid", "X-JWT-Status: valid"]
--- no_error_log
[alert]



=== TEST 4b: a revoked token: logged, no token in the log
--- http_config
    # fw-test: revoked
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_redis;
_EOC_
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{bob}"
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer realm="api", error="invalid_token".*
--- error_log
fw_jwt: revoked token refused (redis)
--- no_error_log eval
[substr($::T{bob}, 0, 40), "b-fresh", "[alert]"]



=== TEST 5: revocation keys of one's own (jti=, sub=) and a prefix; with one-time tokens in the same EVAL
--- http_config
    # fw-test: revoked
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=other:;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_redis jti=jti sub=sub;
        fw_jwt_jti_replay zone=jti:1m redis;
_EOC_
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a9}", "Authorization: Bearer $::T{a8}",
 "Authorization: Bearer $::T{a8}"]
--- error_code eval
[401, 200, 401]
--- response_headers eval
["X-JWT-Status: revoked", "X-JWT-Status: valid", "X-JWT-Status: replayed"]



=== TEST 6: Redis down, fw_jwt_redis_failure closed (the default): 503 without a challenge, logged once
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
        fw_jwt_revoke_redis;
_EOC_
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a5}", "Authorization: Bearer $::T{a5}",
 "Authorization: Bearer $::T{a6}"]
--- error_code eval
[503, 503, 503]
--- response_headers eval
["X-JWT-Status: unavailable\n!WWW-Authenticate",
 "X-JWT-Status: unavailable\n!WWW-Authenticate",
 "X-JWT-Status: unavailable\n!WWW-Authenticate"]
--- response_body_like eval
['"status":\s*503', '"status":\s*503', '"status":\s*503']
--- no_error_log
[alert]



=== TEST 7: Redis down, open: the local zone decides (once, then replayed), revocation sets not checked
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
        fw_jwt_revoke_redis;
        fw_jwt_redis_failure open;
_EOC_
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a5}", "Authorization: Bearer $::T{a5}",
 "Authorization: Bearer $::T{a6}"]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: replayed", "X-JWT-Status: valid"]
--- no_error_log
[alert]



=== TEST 8: Redis paused (SIGSTOP): the command times out, closed: 503
--- http_config
    # fw-test: paused
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=100ms;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
_EOC_
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{a7}"
--- error_code: 503
--- response_headers
X-JWT-Status: unavailable
--- error_log
fw_jwt: redis cannot check tokens (timed out)



=== TEST 9: Redis paused, open: served after the timeout, the local zone records the token
--- http_config
    # fw-test: paused
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=100ms;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
        fw_jwt_redis_failure open;
_EOC_
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a7}", "Authorization: Bearer $::T{a7}"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: replayed"]



=== TEST 10: Redis restarted: 503 while down, then it decides again (replica B); here Redis answers
--- http_config
    # fw-test: recovering
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
_EOC_
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a11}", "Authorization: Bearer $::T{a11}"]
--- error_code eval
[200, 401]



=== TEST 11: a DPoP proof used on replica B is refused on A; a fresh proof passes
--- http_config
    # fw-test: dpop
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(main::dpop_loc())
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: DPoP $::T{bound}\nDPoP: $::P{p1}",
 "Authorization: DPoP $::T{bound}\nDPoP: $::P{p2}",
 "Authorization: DPoP $::T{bound}\nDPoP: $::P{p2}"]
--- error_code eval
[401, 200, 401]
--- response_headers_like eval
['WWW-Authenticate: .*error="invalid_dpop_proof", error_description="DPoP proof replayed".*',
 'X-JWT-Status: valid',
 'X-JWT-Status: invalid_dpop_proof']
--- no_error_log
[alert]



=== TEST 12: DPoP, Redis down, closed: 503 without a challenge
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
--- config eval
FwJwt::loc(main::dpop_loc())
--- request
GET /t
--- more_headers eval
"Authorization: DPoP $::T{bound}\nDPoP: $::P{p3}"
--- error_code: 503
--- response_headers
X-JWT-Status: unavailable
!WWW-Authenticate



=== TEST 13: DPoP, Redis down, open: the local replay zone
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
--- config eval
FwJwt::loc(main::dpop_loc() . "        fw_jwt_redis_failure open;\n")
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: DPoP $::T{bound}\nDPoP: $::P{p3}",
 "Authorization: DPoP $::T{bound}\nDPoP: $::P{p3}"]
--- error_code eval
[200, 401]
--- response_headers_like eval
['X-JWT-Status: valid',
 'WWW-Authenticate: .*error_description="DPoP proof replayed".*']



=== TEST 14: "fw_jwt_revoke_redis" without "fw_jwt_redis"
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_redis;
_EOC_
--- must_die
--- error_log
"fw_jwt_revoke_redis" needs "fw_jwt_redis" at the http level



=== TEST 15: "fw_jwt_jti_replay ... redis" without "fw_jwt_redis"
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
_EOC_
--- must_die
--- error_log
"fw_jwt_jti_replay" with "redis" needs "fw_jwt_redis" at the http level



=== TEST 16: "fw_jwt_dpop_replay_redis on" without "fw_jwt_redis"
--- config eval
FwJwt::loc(main::dpop_loc())
--- must_die
--- error_log
"fw_jwt_dpop_replay_redis" needs "fw_jwt_redis" at the http level



=== TEST 17: bad parameters: fw_jwt_redis, fw_jwt_revoke_redis, fw_jwt_redis_failure
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT ttl=5;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
_EOC_
--- must_die
--- error_log
"fw_jwt_redis" directive: unknown parameter "ttl=5"



=== TEST 18: fw_jwt_revoke_redis with an unknown parameter
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_revoke_redis set=x;
_EOC_
--- must_die
--- error_log
invalid parameter "set=x" in "fw_jwt_revoke_redis"



=== TEST 19: fw_jwt_redis_failure: closed or open only
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
FwJwt::loc(<<"_EOC_");
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_redis_failure local;
_EOC_
--- must_die
--- error_log
invalid value "local"



=== TEST 20: fw_jwt_phase rewrite (before "return"): the request waits for Redis there too
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_phase rewrite;
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
        add_header X-JWT-Status \$fw_jwt_status always;
        return 200 \"answered by return\\n\";
    }"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a12}", "Authorization: Bearer $::T{a12}"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: replayed"]



=== TEST 21: a subrequest (auth_request) checked with Redis: once, then refused
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
"    location /api {
        auth_request /auth;
        proxy_pass http://backend;
    }
    location = /auth {
        internal;
        fw_jwt on;
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
        return 204;
    }"
--- request eval
["GET /api", "GET /api"]
--- more_headers eval
["Authorization: Bearer $::T{a12}", "Authorization: Bearer $::T{a12}"]
--- error_code eval
[200, 401]
--- response_body_like eval
["^ok sub=", "401"]



=== TEST 22: a variable read before the access phase is "unavailable" until Redis answered, never "valid" before
--- http_config
    fw_jwt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
"    location /t {
        fw_jwt on;
        fw_jwt_secret_file $::secret encoding=base64url;
        fw_jwt_jti_replay zone=jti:1m redis;
        set \$before \$fw_jwt_status;
        add_header X-Before \$before always;
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{a12}", "Authorization: Bearer $::T{a12}"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-Before: unavailable\nX-JWT-Status: valid",
 "X-Before: unavailable\nX-JWT-Status: replayed"]
