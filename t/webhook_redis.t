# fhirwall webhook module: replay protection across replicas through a
# real redis-server on loopback, started here (t/lib/FwRedis.pm).
#
# Redis port: $TEST_NGINX_REDIS_PORT (default 6401); nothing may listen on
# the next port (the "Redis down" blocks use it); a second nginx (two
# replicas, one Redis) listens on $TEST_NGINX_SERVER_PORT + 1.
#
# Every block delivers the Standard Webhooks published vector
# (t/lib/FwWebhookRedis.pm) with the clock pinned to its timestamp.  A
# block names what it needs from Redis in an nginx comment of its
# http_config, "# fw-test: NAME" (see %Setup); without one it gets a
# running, empty Redis.  Every location proxies to /backend: a "return"
# would answer before the access phase, the static module refuses POST.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Test::More;
use FwRedis;
use FwWebhookRedis;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);

my $port = FwRedis::port();
$ENV{TEST_NGINX_REDIS_PORT} = $port;
$ENV{TEST_NGINX_REDIS_DOWN_PORT} = $port + 1;
$ENV{TEST_NGINX_SERVER_PORT2} ||= ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 1;

# the secret, in a file both nginx instances read
my $keyfile = "$FwRedis::Dir/std.key";
{
    File::Path::make_path($FwRedis::Dir);
    open my $fh, '>', $keyfile or die "$keyfile: $!\n";
    print $fh "$FwWebhookRedis::SECRET\n";
    close $fh;
}
$ENV{TEST_NGINX_WH_KEY} = $keyfile;

my $ts = $FwWebhookRedis::TS;

# a second nginx; its "fw_webhook_test_now" warning stays off the output
sub start_quietly {
    my ($p2, $http) = @_;

    open my $saved, '>&', \*STDERR or die "dup stderr: $!\n";
    open STDERR, '>', '/dev/null' or die "/dev/null: $!\n";
    my $ok = eval { FwRedis::start_nginx($p2, $http); 1 };
    my $err = $@;
    open STDERR, '>&', $saved or die "restore stderr: $!\n";
    die $err unless $ok;
}

sub fresh_redis {
    FwRedis::resume($port);

    if (!FwRedis::running($port)) {
        FwRedis::start($port);
        return;
    }

    FwRedis::cmd($port, 'FLUSHALL');
}

# the second replica: the same location, the same Redis
sub second_nginx {
    my ($tolerance, $opt) = @_;
    my $p2 = $ENV{TEST_NGINX_SERVER_PORT2};

    $opt //= '';

    start_quietly($p2, <<"HTTP");
    fw_webhook_replay_redis 127.0.0.1:$port $opt;
    server {
        listen 127.0.0.1:$p2;
        location = /std {
            fw_webhook standard;
            fw_webhook_secret_file $keyfile;
            fw_webhook_test_now $ts;
            fw_webhook_tolerance $tolerance;
            fw_webhook_replay redis;
            proxy_pass http://127.0.0.1:$p2/backend;
        }
        location = /backend {
            return 200 "second\n";
        }
    }
HTTP

    return $p2;
}

sub down_replica {
    my ($opt, $codes) = @_;
    my $p2 = $ENV{TEST_NGINX_SERVER_PORT2};
    my $down = $ENV{TEST_NGINX_REDIS_DOWN_PORT};

    start_quietly($p2, <<"HTTP");
    fw_webhook_replay_redis 127.0.0.1:$down $opt;
    fw_webhook_replay_zone webhooks:1m;
    server {
        listen 127.0.0.1:$p2;
        location = /std {
            fw_webhook standard;
            fw_webhook_secret_file $keyfile;
            fw_webhook_test_now $ts;
            fw_webhook_replay webhooks;
            proxy_pass http://127.0.0.1:$p2/backend;
        }
        location = /backend {
            return 200 "second\n";
        }
    }
HTTP

    my @got = map {
        (FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY,
                              FwWebhookRedis::headers()))[0]
    } @$codes;

    is("@got", "@$codes", "Redis down ($opt): the policy applies");

    my $log = "$FwRedis::Nginx{$p2}/logs/error.log";
    FwRedis::stop_nginx($p2);

    open my $fh, '<', $log or die "$log: $!\n";
    my $n = grep { /fw_webhook: redis cannot check replays/ } <$fh>;
    close $fh;

    is($n, 1, "Redis down ($opt): the state change is logged once");
}

# Redis down, then up again: one line for each change of state
sub recovering_replica {
    my $p2 = $ENV{TEST_NGINX_SERVER_PORT2};

    FwRedis::stop($port);

    start_quietly($p2, <<"HTTP");
    fw_webhook_replay_redis 127.0.0.1:$port backoff=100ms;
    server {
        listen 127.0.0.1:$p2;
        location = /std {
            fw_webhook standard;
            fw_webhook_secret_file $keyfile;
            fw_webhook_test_now $ts;
            fw_webhook_replay redis;
            proxy_pass http://127.0.0.1:$p2/backend;
        }
        location = /backend {
            return 200 "second\n";
        }
    }
HTTP

    my @h = FwWebhookRedis::headers();
    my ($st1) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY, @h);
    my ($st2) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY, @h);

    FwRedis::start($port);

    my ($st3, $st4);
    for (1 .. 100) {
        ($st3) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY, @h);
        last if $st3 != 503;
        sleep 0.05;
    }
    ($st4) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY, @h);

    is("$st1 $st2 $st3 $st4", "503 503 200 409",
       'Redis down then up: 503 until it answers, then Redis decides');

    my $log = "$FwRedis::Nginx{$p2}/logs/error.log";
    FwRedis::stop_nginx($p2);

    open my $fh, '<', $log or die "$log: $!\n";
    my @lines = grep { /fw_webhook: redis (cannot check|checks) replays/ }
                <$fh>;
    close $fh;

    is(scalar @lines, 2, 'two changes of state, two lines');
    like($lines[0] // '', qr/cannot check replays/, 'down first');
    like($lines[1] // '', qr/redis checks replays again/, 'then up');
}

my %Setup = (

    # the message delivered once to another replica
    two_instances => sub {
        fresh_redis();
        my $p2 = second_nginx('300s');
        my ($st) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY,
                                        FwWebhookRedis::headers());
        is($st, 200, 'the second replica accepts the first delivery');

        my ($st2) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY,
                                         FwWebhookRedis::headers());
        is($st2, 409, 'the second replica refuses it again');
        FwRedis::stop_nginx($p2);

        # the key: namespaced, SHA-256 hex of the scheme and the id
        my $keys = FwRedis::cmd($port, 'KEYS', '*');
        is(scalar @$keys, 1, 'one key in Redis');
        like($keys->[0], qr/^fw:webhook:[0-9a-f]{64}$/,
             'the key is the prefix and a SHA-256 hex');
        is($keys->[0], 'fw:webhook:' . sha256_hex("\x02"
                                                  . $FwWebhookRedis::ID),
           'the key hashes the scheme and the message id');
        my $pttl = FwRedis::cmd($port, 'PTTL', $keys->[0]);
        ok($pttl > 299000 && $pttl <= 301000,
           "the key lives for the tolerance window ($pttl ms)");
    },

    # delivered with a tolerance of 1 s: remembered 2 s (ts + tolerance,
    # the edge included), then forgotten
    expired => sub {
        fresh_redis();
        my $p2 = second_nginx('1s');
        my ($st) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY,
                                        FwWebhookRedis::headers());
        is($st, 200, 'delivered with a tolerance of 1s');
        my ($st2) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY,
                                         FwWebhookRedis::headers());
        is($st2, 409, 'a replay within the window is refused');
        FwRedis::stop_nginx($p2);

        my $keys = FwRedis::cmd($port, 'KEYS', 'fw:webhook:*');
        my $pttl = FwRedis::cmd($port, 'PTTL', $keys->[0]);
        ok($pttl > 1000 && $pttl <= 2000, "PX of 2 s ($pttl ms)");

        sleep(($pttl + 100) / 1000);
        is(FwRedis::cmd($port, 'EXISTS', $keys->[0]), 0,
           'the key expired after the window');
    },

    # delivered once to a replica of another namespace
    prefixed => sub {
        fresh_redis();
        my $p2 = second_nginx('300s', 'prefix=prod:hooks:');
        my ($st) = FwWebhookRedis::post($p2, '/std', $FwWebhookRedis::BODY,
                                        FwWebhookRedis::headers());
        is($st, 200, 'delivered in the prod:hooks: namespace');
        FwRedis::stop_nginx($p2);

        my $keys = FwRedis::cmd($port, 'KEYS', '*');
        like($keys->[0], qr/^prod:hooks:[0-9a-f]{64}$/,
             'the key is in the configured namespace');
    },

    # three deliveries to a replica whose Redis is down: the policy
    # applies to each, the state change is logged once
    redis_down_closed => sub {
        down_replica('', [503, 503, 503]);
    },

    redis_down_local => sub {
        down_replica('failure=local', [200, 409, 409]);
    },

    recovering => sub {
        recovering_replica();
        fresh_redis();
    },

    paused => sub {
        fresh_redis();
        FwRedis::pause($port);
    },
);

add_block_preprocessor(sub {
    my $block = shift;

    if (defined $block->config) {
        $block->set_value('config', $block->config . <<'EOF');
    location = /backend {
        return 200 "ok\n";
    }
EOF
    }

    if (!defined $block->more_headers) {
        $block->set_value('more_headers', <<"HEADERS");
webhook-id: $FwWebhookRedis::ID
webhook-timestamp: $FwWebhookRedis::TS
webhook-signature: $FwWebhookRedis::SIG
HEADERS
    }

    my $skip = eval {
        $block->skip
        || (!$block->only && grep { $_->{only} } Test::Base::blocks())
    };
    return if $skip;

    my $http = $block->http_config // '';

    if ($http =~ /#\s*fw-test:\s*(\w+)/) {
        my $setup = $Setup{$1} or die "unknown fw-test setup $1\n";
        $setup->($block);
    } elsif (!defined $block->must_die) {
        fresh_redis();
    }
});

no_shuffle();
log_level('info');
run_tests();

__DATA__

=== TEST 1: accepted once, refused as a replay the second time
--- http_config
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /std\n{\"test\": 2432232314}", "POST /std\n{\"test\": 2432232314}"]
--- error_code eval
[200, 409]
--- response_headers eval
["X-Webhook: valid", "X-Webhook: replay"]
--- response_body_like eval
['^ok\n$', '"status":\s*409']
--- no_error_log
redis cannot check replays
[alert]



=== TEST 2: an invalid message is not recorded
--- http_config
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /std\n{\"test\": 2432232315}", "POST /std\n{\"test\": 2432232314}"]
--- error_code eval
[401, 200]
--- no_error_log
replayed message refused



=== TEST 3: two replicas on one Redis: the replay is refused across them
--- http_config
    # fw-test: two_instances
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- error_code: 409
--- response_headers
X-Webhook: replay
--- error_log
fw_webhook: replayed message refused



=== TEST 4: the key expires after the window: accepted again
--- http_config
    # fw-test: expired
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_tolerance 1s;
        fw_webhook_replay redis;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- error_code: 200
--- response_headers
X-Webhook: valid



=== TEST 5: the prefix is configurable: namespaces do not see each other
--- http_config
    # fw-test: prefixed
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- error_code: 200
--- response_headers
X-Webhook: valid



=== TEST 6: Redis down at start, failure=closed (default): 503, logged once
--- http_config
    # fw-test: redis_down_closed
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /std\n{\"test\": 2432232314}", "POST /std\n{\"test\": 2432232314}"]
--- error_code eval
[503, 503]
--- response_headers eval
["X-Webhook: unavailable", "X-Webhook: unavailable"]
--- response_body_like eval
['"status":\s*503', '"status":\s*503']
--- grep_error_log eval: qr/redis cannot check replays/
--- grep_error_log_out eval
qr/^(redis cannot check replays\n)?$/



=== TEST 7: Redis down at start, failure=local: the shared-memory zone decides
--- http_config
    # fw-test: redis_down_local
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT failure=local;
    fw_webhook_replay_zone webhooks:1m;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay webhooks;
        add_header X-Webhook $fw_webhook_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- pipelined_requests eval
["POST /std\n{\"test\": 2432232314}", "POST /std\n{\"test\": 2432232314}"]
--- error_code eval
[200, 409]
--- response_headers eval
["X-Webhook: valid", "X-Webhook: replay"]
--- grep_error_log eval: qr/redis cannot check replays/
--- grep_error_log_out eval
qr/^(redis cannot check replays\n)?$/



=== TEST 7a: Redis down, then up again: the state changes are logged once each
--- http_config
    # fw-test: recovering
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- error_code: 200
--- no_error_log
redis cannot check replays



=== TEST 8: Redis paused: the command timeout fires, the policy applies
--- http_config
    # fw-test: paused
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=100ms;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        add_header X-Webhook $fw_webhook_status always;
        add_header X-Time $request_time always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- error_code: 503
--- response_headers
X-Webhook: unavailable
--- response_headers_like
X-Time: 0\.(09|1\d|2\d)\d
--- error_log
redis cannot check replays (timed out)



=== TEST 9: a client that goes away while Redis is asked
--- http_config
    # fw-test: paused
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=1s;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_test_now 1614265330;
        fw_webhook_replay redis;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- request
POST /std
{"test": 2432232314}
--- timeout: 0.3
--- abort
--- ignore_response
--- wait: 1.5
--- error_log eval
[qr/client prematurely closed connection/,
 qr/redis 127\.0\.0\.1:\d+ is unavailable: no answer within 1000 ms/]
--- no_error_log
[alert]
[crit]



=== TEST 10: "fw_webhook_replay redis" without "fw_webhook_replay_redis"
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_replay redis;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- must_die
--- error_log
"fw_webhook_replay redis" needs "fw_webhook_replay_redis"



=== TEST 11: failure=local without a replay zone
--- http_config
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT failure=local;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_replay redis;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- must_die
--- error_log
"fw_webhook_replay_redis ... failure=local" needs a replay zone



=== TEST 12: an unknown failure policy
--- http_config
    fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT failure=open;
--- config
    location = /std {
        fw_webhook standard;
        fw_webhook_secret_file $TEST_NGINX_WH_KEY;
        fw_webhook_replay redis;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- must_die
--- error_log
invalid failure policy "open" (closed or local)



=== TEST 13: fw_webhook_replay_redis is an http-level directive
--- config
    location = /std {
        fw_webhook_replay_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
--- must_die
--- error_log
"fw_webhook_replay_redis" directive is not allowed here
