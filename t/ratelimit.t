# fw_ratelimit against a real redis-server on loopback, started here.
#
# Redis port: $TEST_NGINX_REDIS_PORT (default 6401); nothing may listen on
# the next port (the "Redis down" blocks use it); a second nginx (two
# instances, one limit) listens on $TEST_NGINX_SERVER_PORT + 1.
#
# A block names what it needs from Redis in an nginx comment of its
# http_config, "# fw-test: NAME" (see %Setup below); without one, the
# block gets a running, empty Redis (FLUSHALL, SCRIPT FLUSH).
#
# Every limited location ends in a content handler (try_files): a
# "return" answers in the rewrite phase, before the preaccess phase where
# the limit runs, so it would never be limited.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwRedis;
use Time::HiRes qw(sleep time);
use POSIX ();

my $port = FwRedis::port();
$ENV{TEST_NGINX_REDIS_PORT} = $port;
$ENV{TEST_NGINX_REDIS_DOWN_PORT} = $port + 1;
$ENV{TEST_NGINX_SERVER_PORT2} ||= ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 1;

use Cwd qw(cwd);
my $servroot = $ENV{TEST_NGINX_SERVROOT} || cwd() . '/t/servroot';
$ENV{TEST_NGINX_HTML_DIR} ||= "$servroot/html";
my $redis_mode = '';    # how Redis was left by the previous block

$ENV{TEST_NGINX_REDIS_SOCKET} = FwRedis::socket($port);

sub fresh_redis {
    my %opt = @_;
    my $mode = $opt{requirepass} ? "pass:$opt{requirepass}" : 'plain';
    $opt{unixsocket} = FwRedis::socket($port);

    FwRedis::resume($port);

    if ($mode ne $redis_mode || !FwRedis::running($port)) {
        FwRedis::start($port, %opt);
        $redis_mode = $mode;
        return;
    }

    FwRedis::cmd_auth($port, $opt{requirepass}, 'FLUSHALL');
    FwRedis::cmd_auth($port, $opt{requirepass}, 'SCRIPT', 'FLUSH');
}

# runs $code in a child once the nginx of this block has started (its pid
# file differs from the previous block's)
sub after_nginx_start {
    my ($code) = @_;
    my $pidfile = "$servroot/logs/nginx.pid";
    my $old = -e $pidfile ? `cat $pidfile 2>/dev/null` : "";

    FwRedis::later(0, sub {
        my $end = time + 10;
        while (time < $end) {
            POSIX::_exit(0) unless FwRedis::parent_alive();
            my $cur = -e $pidfile ? `cat $pidfile 2>/dev/null` : "";
            last if $cur ne '' && $cur ne $old;
            sleep 0.005;
        }
        FwRedis::wait_port($ENV{TEST_NGINX_SERVER_PORT}, 5);
        $code->();
    });
}

# waits in the child until a Redis condition holds
sub poll_redis {
    my ($cond) = @_;
    my $end = time + 10;
    while (time < $end) {
        POSIX::_exit(0) unless FwRedis::parent_alive();
        return 1 if eval { $cond->() };
        sleep 0.005;
    }
    return 0;
}

my %Setup = (

    # SCRIPT FLUSH once the first decision loaded the script
    script_flush => sub {
        fresh_redis();
        FwRedis::later(0, sub {
            poll_redis(sub {
                FwRedis::cmd($port, 'EXISTS', 'fw:rl:{flush:127.0.0.1}')
            });
            FwRedis::cmd($port, 'SCRIPT', 'FLUSH');
        });
    },

    # restart Redis (all data and scripts lost) once the limit is reached
    restart => sub {
        fresh_redis();
        FwRedis::later(0, sub {
            poll_redis(sub {
                my $v = FwRedis::cmd($port, 'HVALS',
                                     'fw:rl:{restart:127.0.0.1}');
                ref $v && @$v && $v->[0] >= 3
            });
            sleep 0.1;
            FwRedis::restart($port);
        });
    },

    redis_down => sub {
        FwRedis::stop($port);
        $redis_mode = '';
    },

    paused => sub {
        fresh_redis();
        FwRedis::pause($port);
    },

    # one request hangs on the paused Redis while the block's requests run
    # (they start with 250 ms of /sleep so that it is sent first; the
    # X-Active header shows it is open while /free answers)
    paused_concurrent => sub {
        fresh_redis();
        FwRedis::pause($port);
        after_nginx_start(sub {
            FwRedis::http_get($ENV{TEST_NGINX_SERVER_PORT}, '/limited');
        });
    },

    password => sub {
        fresh_redis(requirepass => 's3cret');
    },

    acl_user => sub {
        fresh_redis();
        FwRedis::cmd($port, 'ACL', 'SETUSER', 'fwuser', 'reset', 'on',
                     '>u-s3cret', '~fw:rl:*', '+@all');
    },

    # the limit as another nginx instance (same Redis) left it
    two_instances => sub {
        fresh_redis();
        my $p2 = $ENV{TEST_NGINX_SERVER_PORT2};
        FwRedis::start_nginx($p2, <<"HTTP");
    fw_ratelimit_redis 127.0.0.1:$port;
    fw_ratelimit_policy shared limit=5 window=60s key=\$remote_addr;
    server {
        listen 127.0.0.1:$p2;
        location / {
            fw_ratelimit shared;
            try_files /index.html =404;
        }
    }
HTTP
        for (1 .. 3) {
            my ($st) = FwRedis::http_get($p2, '/');
            die "the second nginx answered $st\n" unless $st && $st == 200;
        }
        FwRedis::stop_nginx($p2);
    },

    # a previous window full (5 of 5) and the current one empty: at
    # "elapsed" ms into a 40 s window, (k+1)*40000 + 5*(40000-e) <=
    # 200000 admits k+1 <= e/8000 requests.  Start 0-300 ms after a
    # multiple of 8 s so that k stays the same for 7.7 s (nginx starts in
    # between, slowly under ASan).  A fixed window would admit 5, a
    # sliding log none.
    sliding => sub {
        my $block = shift;
        fresh_redis();
        my ($now, $e, $idx);
        for (1 .. 2000) {
            my $t = FwRedis::cmd($port, 'TIME');
            $now = $t->[0] * 1000 + int($t->[1] / 1000);
            $idx = int($now / 40000);
            $e = $now - $idx * 40000;
            last if $e >= 8000 && $e < 32000 && $e % 8000 < 300;
            sleep 0.01;
        }
        FwRedis::cmd($port, 'HSET', 'fw:rl:{slide:127.0.0.1}', $idx - 1,
                     5);
        my $k = int($e / 8000);
        warn "sliding: e=$e k=$k\n" if $ENV{FW_TEST_VERBOSE};
        $block->set_value('request', [('GET /t') x ($k + 1)]);
        $block->set_value('error_code', [(200) x $k, 429]);
    },
);

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->user_files) {
        $block->set_value('user_files', ">>> ok.txt\nok\n");
    }

    my $http = $block->http_config // '';

    # with ONLY or SKIP in the file, prepare only the blocks that run
    # (Test::Base internals: skipped by runners that lack them)
    my $skip = eval {
        $block->skip
        || (!$block->only && grep { $_->{only} } Test::Base::blocks())
    };
    return if $skip;

    if ($http =~ /#\s*fw-test:\s*(\w+)/) {
        my $setup = $Setup{$1} or die "unknown fw-test setup $1\n";
        $setup->($block);
    } else {
        fresh_redis();
    }
});

# FwRedis stops its redis-server, second nginx and children at exit

no_shuffle();
run_tests();

__DATA__

=== TEST 1: exactly N allowed, N+1 refused (429, headers, problem body)
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy per_ip limit=3 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit per_ip;
        fw_ratelimit_headers on;
        add_header X-RL "$fw_ratelimit_status $fw_ratelimit_remaining $fw_ratelimit_engine" always;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 200, 429]
--- response_headers_like eval
[
"RateLimit-Policy: \"per_ip\";q=3;w=60
RateLimit: \"per_ip\";r=2;t=\\d+
X-RL: passed 2 redis",
"RateLimit: \"per_ip\";r=1;t=\\d+
X-RL: passed 1 redis",
"RateLimit: \"per_ip\";r=0;t=\\d+
X-RL: passed 0 redis",
"Retry-After: \\d+
RateLimit-Policy: \"per_ip\";q=3;w=60
RateLimit: \"per_ip\";r=0;t=\\d+
X-RL: limited 0 redis
Content-Type: application/problem\\+json",
]
--- response_body_like eval
["^ok\$", "^ok\$", "^ok\$",
'^\{"type":"about:blank","title":"Too Many Requests","status":429,"code":"throttled","detail":"rate limit exceeded"\}$']
--- no_error_log
[alert]
[crit]



=== TEST 2: several policies, all or nothing (a refused request counts nowhere)
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy per_ip limit=4 window=60s key=$remote_addr;
    fw_ratelimit_policy per_client limit=2 window=60s key=$arg_client;
--- config
    location /t {
        fw_ratelimit per_ip per_client;
        add_header X-By "$fw_ratelimit_policy" always;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t?client=a", "GET /t?client=a", "GET /t?client=a",
 "GET /t?client=b", "GET /t?client=b", "GET /t?client=c"]
--- error_code eval
[200, 200, 429, 200, 200, 429]
--- response_headers_like eval
["X-By: ", "X-By: ",
"X-By: per_client
RateLimit-Policy: \"per_ip\";q=4;w=60, \"per_client\";q=2;w=60
RateLimit: \"per_ip\";r=2;t=\\d+, \"per_client\";r=0;t=\\d+",
"X-By: ", "X-By: ",
"X-By: per_ip
RateLimit: \"per_ip\";r=0;t=\\d+, \"per_client\";r=2;t=\\d+"]



=== TEST 3: keys from variables; an empty key is not accounted
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy per_key limit=1 window=60s key=$http_x_api_key;
--- config
    location /t {
        fw_ratelimit per_key;
        add_header X-RL $fw_ratelimit_status always;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-Api-Key: k1", "X-Api-Key: k1", "X-Api-Key: k2", ""]
--- error_code eval
[200, 429, 200, 200]
--- response_headers eval
["X-RL: passed", "X-RL: limited", "X-RL: passed", "X-RL:"]



=== TEST 4: cost per request (a variable), remaining counts units
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy units limit=10 window=60s key=$remote_addr cost=$arg_cost;
--- config
    location /t {
        fw_ratelimit units;
        add_header X-Left $fw_ratelimit_remaining always;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t?cost=4", "GET /t?cost=4", "GET /t?cost=3", "GET /t?cost=2",
 "GET /t?cost=0", "GET /t?cost=1"]
--- error_code eval
[200, 200, 429, 200, 200, 429]
--- response_headers eval
["X-Left: 6", "X-Left: 2", "X-Left: 0", "X-Left: 0", "X-Left: 0",
 "X-Left: 0"]



=== TEST 5: the window slides: the previous window still weighs
--- http_config
    # fw-test: sliding
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy slide limit=5 window=40s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit slide;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t"]
--- error_code eval
[200]



=== TEST 6: dry run: counted and reported, never refused
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy one limit=1 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit one;
        fw_ratelimit_dry_run on;
        add_header X-RL $fw_ratelimit_status always;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-RL: passed", "X-RL: dry-run", "X-RL: dry-run"]



=== TEST 7: FHIR body, legacy headers, no headers on allowed answers by default
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy one limit=1 window=30s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit one;
        fw_ratelimit_error_format fhir;
        fw_ratelimit_legacy_headers on;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 429]
--- response_headers eval
["RateLimit:\nRateLimit-Policy:\nX-RateLimit-Limit:",
"X-RateLimit-Limit: 1
X-RateLimit-Remaining: 0
Content-Type: application/fhir+json"]
--- response_body eval
["ok\n",
qq({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled","diagnostics":"rate limit exceeded"}]}\n)]



=== TEST 8: SCRIPT FLUSH mid-run: NOSCRIPT, then EVAL, counts kept
--- http_config
    # fw-test: script_flush
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy flush limit=3 window=60s key=$remote_addr;
    limit_req_zone $uri zone=fwsleep:64k rate=4r/s;
--- config
    location /t {
        fw_ratelimit flush;
        fw_ratelimit_failure closed;
        add_header X-RL "$fw_ratelimit_status $fw_ratelimit_remaining $fw_ratelimit_engine" always;
        try_files /ok.txt =404;
    }
    location /sleep {
        limit_req zone=fwsleep burst=10;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /sleep", "GET /sleep", "GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 200, 200, 200, 429]
--- response_headers eval
["X-RL: passed 2 redis", "", "", "X-RL: passed 1 redis",
 "X-RL: passed 0 redis", "X-RL: limited 0 redis"]
--- no_error_log
cannot decide



=== TEST 9: Redis restarted mid-run: reconnects, reloads the script
--- http_config
    # fw-test: restart
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy restart limit=3 window=60s key=$remote_addr;
    limit_req_zone $uri zone=fwsleep:64k rate=1r/s;
--- config
    location /t {
        fw_ratelimit restart;
        fw_ratelimit_failure closed;
        add_header X-RL "$fw_ratelimit_status $fw_ratelimit_remaining $fw_ratelimit_engine" always;
        try_files /ok.txt =404;
    }
    location /sleep {
        limit_req zone=fwsleep burst=10;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /sleep", "GET /sleep",
 "GET /sleep", "GET /sleep", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 200, 429, 200, 200, 200, 200, 200, 200]
--- response_headers eval
["X-RL: passed 2 redis", "X-RL: passed 1 redis", "X-RL: passed 0 redis",
 "X-RL: limited 0 redis", "", "", "", "", "X-RL: passed 2 redis",
 "X-RL: passed 1 redis"]
--- timeout: 10



=== TEST 10: Redis down at start, failure local: limited on this node
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit two;
        fw_ratelimit_failure local;
        add_header X-RL "$fw_ratelimit_status $fw_ratelimit_engine" always;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 429]
--- response_headers eval
["X-RL: passed local", "X-RL: passed local", "X-RL: limited local"]



=== TEST 10b: Redis down at start: the reason in the error log
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit two;
        fw_ratelimit_failure open;
        try_files /ok.txt =404;
    }
--- request
GET /t
--- error_code: 200
--- error_log eval
qr/\[warn\] .*fw_ratelimit: redis cannot decide \(Connection refused\); the locations' failure policies apply/



=== TEST 11: Redis down at start: closed answers 503, open lets through
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    fw_ratelimit two;
    add_header X-RL $fw_ratelimit_status always;
    location /closed {
        fw_ratelimit_failure closed;
        fw_ratelimit_error_format fhir;
        try_files /ok.txt =404;
    }
    location /open {
        fw_ratelimit_failure open;
        try_files /ok.txt =404;
    }
--- request eval
["GET /closed", "GET /open", "GET /open", "GET /open"]
--- error_code eval
[503, 200, 200, 200]
--- response_headers eval
["X-RL: unavailable\nRetry-After: 1", "X-RL: error", "X-RL: error",
 "X-RL: error"]
--- response_body eval
[qq({"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"transient","diagnostics":"rate limit service unavailable"}]}\n),
"ok\n", "ok\n", "ok\n"]
--- grep_error_log: redis cannot decide
--- grep_error_log_out eval
qr/^(redis cannot decide\n)?$/



=== TEST 12a: Redis paused: the command timeout fires, the policy applies
--- http_config
    # fw-test: paused
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=100ms;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    add_header X-Time $request_time always;
    location /closed {
        fw_ratelimit two;
        fw_ratelimit_failure closed;
        try_files /ok.txt =404;
    }
--- request
GET /closed
--- error_code: 503
--- response_headers_like
X-Time: 0\.(09|1\d|2\d)\d
--- error_log eval
["fhirwall redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} is unavailable: command timed out after 100 ms; retrying in the background",
"fw_ratelimit: redis cannot decide (timed out)"]



=== TEST 12: Redis paused: the timeout fires once, then no waiting
--- http_config
    # fw-test: paused
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=100ms;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    add_header X-Time $request_time always;
    location /closed {
        fw_ratelimit two;
        fw_ratelimit_failure closed;
        try_files /ok.txt =404;
    }
    location /free {
        try_files /ok.txt =404;
    }
--- request eval
["GET /closed", "GET /closed", "GET /free", "GET /closed"]
--- error_code eval
[503, 503, 200, 503]
--- response_headers_like eval
["X-Time: 0\\.(09|1\\d|2\\d)\\d", "X-Time: 0\\.0[0-4]\\d",
 "X-Time: 0\\.0[0-4]\\d", "X-Time: 0\\.0[0-4]\\d"]
--- grep_error_log eval: qr/unavailable: command timed out after \d+ ms|redis cannot decide/
--- grep_error_log_out eval
qr/^(unavailable: command timed out after 100 ms\nredis cannot decide\n)?$/



=== TEST 13: Redis paused: other locations answer while a request waits
--- http_config
    # fw-test: paused_concurrent
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=1500ms connect_timeout=5s;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
    limit_req_zone $uri zone=fwsleep:64k rate=4r/s;
--- config
    add_header X-Time $request_time always;
    add_header X-Active $connections_active always;
    location /limited {
        fw_ratelimit two;
        fw_ratelimit_failure open;
        try_files /ok.txt =404;
    }
    location /free {
        try_files /ok.txt =404;
    }
    location /sleep {
        limit_req zone=fwsleep burst=10;
        try_files /ok.txt =404;
    }
--- request eval
["GET /sleep", "GET /sleep", "GET /free", "GET /free", "GET /free"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_headers_like eval
["", "",
"X-Time: 0\\.0[0-4]\\d\nX-Active: [2-9]",
 "X-Time: 0\\.0[0-4]\\d\nX-Active: [2-9]",
 "X-Time: 0\\.0[0-4]\\d\nX-Active: [2-9]"]
--- no_error_log
[alert]



=== TEST 14: two nginx instances on one Redis enforce one limit
--- http_config
    # fw-test: two_instances
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy shared limit=5 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit shared;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 429]



=== TEST 15: wrong password: a clear error log line, failure policy applies
--- http_config
    # fw-test: password
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_HTML_DIR/wrong.pw;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit two;
        fw_ratelimit_failure closed;
        try_files /ok.txt =404;
    }
--- user_files
>>> ok.txt
ok
>>> wrong.pw
not-the-password
--- request
GET /t
--- error_code: 503
--- error_log eval
qr/fw_ratelimit: redis cannot decide \(AUTH failed \(WRONGPASS invalid username-password pair/



=== TEST 16: the right password (file with a trailing newline)
--- http_config
    # fw-test: password
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_HTML_DIR/right.pw;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit two;
        fw_ratelimit_failure closed;
        add_header X-RL "$fw_ratelimit_status $fw_ratelimit_engine" always;
        try_files /ok.txt =404;
    }
--- user_files
>>> ok.txt
ok
>>> right.pw
s3cret
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 429]
--- response_headers eval
["X-RL: passed redis", "X-RL: passed redis", "X-RL: limited redis"]
--- no_error_log
AUTH failed



=== TEST 17: an ACL user and SELECT of another database
--- http_config
    # fw-test: acl_user
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT user=fwuser password_file=$TEST_NGINX_HTML_DIR/user.pw db=3;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit two;
        fw_ratelimit_failure closed;
        add_header X-RL "$fw_ratelimit_status $fw_ratelimit_engine" always;
        try_files /ok.txt =404;
    }
--- user_files
>>> ok.txt
ok
>>> user.pw
u-s3cret
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 429]
--- response_headers eval
["X-RL: passed redis", "X-RL: passed redis", "X-RL: limited redis"]



=== TEST 18: without Redis the shared-memory limiter decides
--- http_config
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit two;
        fw_ratelimit_headers on;
        add_header X-RL "$fw_ratelimit_status $fw_ratelimit_engine" always;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 429]
--- response_headers_like eval
["X-RL: passed local\nRateLimit: \"two\";r=1;t=\\d+",
 "X-RL: passed local\nRateLimit: \"two\";r=0;t=\\d+",
 "X-RL: limited local\nRetry-After: \\d+"]



=== TEST 19: fw_ratelimit off, and the inherited policies
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy one limit=1 window=60s key=$remote_addr;
--- config
    fw_ratelimit one;
    add_header X-RL $fw_ratelimit_status always;
    location /t {
        try_files /ok.txt =404;
    }
    location /off {
        fw_ratelimit off;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /off", "GET /off", "GET /t"]
--- error_code eval
[200, 200, 200, 429]
--- response_headers eval
["X-RL: passed", "X-RL:", "X-RL:", "X-RL: limited"]



=== TEST 20: a custom status code
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy one limit=1 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit one;
        fw_ratelimit_status 503;
        fw_ratelimit_error_format text;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 503]
--- response_body eval
["ok\n", "503 Service Unavailable: rate limit exceeded\n"]



=== TEST 20b: an internal redirect does not count the request twice
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy two limit=2 window=60s key=$remote_addr;
--- config
    add_header X-RL "$fw_ratelimit_status $fw_ratelimit_remaining" always;
    location /r {
        fw_ratelimit two;
        try_files /nonexistent @back;
    }
    location @back {
        fw_ratelimit two;
        try_files /ok.txt =404;
    }
--- request eval
["GET /r", "GET /r", "GET /r"]
--- error_code eval
[200, 200, 429]
--- response_headers eval
["X-RL: passed 1", "X-RL: passed 0", "X-RL: limited 0"]



=== TEST 20c: long keys are hashed, and stay distinct
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    fw_ratelimit_policy one limit=1 window=60s key=$arg_k;
--- config
    location /t {
        fw_ratelimit one;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t?k=" . ("a" x 300), "GET /t?k=" . ("a" x 300),
 "GET /t?k=" . ("a" x 299) . "b"]
--- error_code eval
[200, 429, 200]



=== TEST 20d: Redis on a unix socket
--- http_config
    fw_ratelimit_redis unix:$TEST_NGINX_REDIS_SOCKET;
    fw_ratelimit_policy one limit=1 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit one;
        fw_ratelimit_failure closed;
        add_header X-RL "$fw_ratelimit_status $fw_ratelimit_engine" always;
        try_files /ok.txt =404;
    }
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 429]
--- response_headers eval
["X-RL: passed redis", "X-RL: limited redis"]



=== TEST 20e: a full local zone drops the least recently used keys
--- http_config
    fw_ratelimit_local_zone 32k;
    fw_ratelimit_policy a limit=1 window=60s key=$arg_k;
    fw_ratelimit_policy b limit=1 window=60s key=x$arg_k;
--- config
    location /t {
        fw_ratelimit a b;
        try_files /ok.txt =404;
    }
--- request eval
[map({ "GET /t?k=key-$_-" . ("x" x 100) } 1 .. 150), "GET /t?k=key-150-" . ("x" x 100)]
--- error_code eval
[(200) x 150, 429]
--- no_error_log
[alert]
[crit]



=== TEST 21: nginx -t: unknown policy
--- http_config
    fw_ratelimit_policy one limit=1 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit nosuch;
        try_files /ok.txt =404;
    }
--- must_die
--- error_log
"fw_ratelimit" directive: unknown policy "nosuch"



=== TEST 22: nginx -t: a window that is not whole seconds
--- http_config
    fw_ratelimit_policy one limit=1 window=1500ms key=$remote_addr;
--- config
--- must_die
--- error_log
"fw_ratelimit_policy" directive: invalid "window=1500ms"



=== TEST 23: nginx -t: a policy without a key
--- http_config
    fw_ratelimit_policy one limit=1 window=60s;
--- config
--- must_die
--- error_log
policy "one" needs limit=, window= and key=



=== TEST 24: nginx -t: a duplicate policy
--- http_config
    fw_ratelimit_policy one limit=1 window=60s key=$remote_addr;
    fw_ratelimit_policy one limit=2 window=60s key=$remote_addr;
--- config
--- must_die
--- error_log
"fw_ratelimit_policy" directive: duplicate policy "one"



=== TEST 25: nginx -t: an unknown redis parameter
--- http_config
    fw_ratelimit_redis 127.0.0.1:6401 tls=on;
--- config
--- must_die
--- error_log
"fw_ratelimit_redis" directive: unknown parameter "tls=on"



=== TEST 26: nginx -t: a missing password file
--- http_config
    fw_ratelimit_redis 127.0.0.1:6401 password_file=/nonexistent/fw.pw;
--- config
--- must_die
--- error_log
"/nonexistent/fw.pw" failed



=== TEST 27: nginx -t: cost larger than the limit
--- http_config
    fw_ratelimit_policy one limit=2 window=60s key=$remote_addr cost=3;
--- config
--- must_die
--- error_log
policy "one": cost is larger than limit



=== TEST 28: nginx -t: a status that is not an error
--- http_config
    fw_ratelimit_policy one limit=2 window=60s key=$remote_addr;
--- config
    location /t {
        fw_ratelimit one;
        fw_ratelimit_status 200;
        try_files /ok.txt =404;
    }
--- must_die
--- error_log
"fw_ratelimit_status" directive: status "200" is not between 400 and 599



=== TEST 29: nginx -t: an invalid policy name
--- http_config
    fw_ratelimit_policy "a{b" limit=2 window=60s key=$remote_addr;
--- config
--- must_die
--- error_log
invalid policy name "a{b"
