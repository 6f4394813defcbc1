# fw_ratelimit against a scripted fake Redis (t/lib/FwRedis.pm fake_start):
# replies far larger than hiredis' 16 KiB read, and replies of the wrong
# shape, must be read completely; the connection stays in step (the next
# reply goes to the next request) and the failure policy answers the odd
# one.
#
# The fake listens on $TEST_NGINX_REDIS_PORT + 2.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwRedis;

my $port = FwRedis::port() + 2;
$ENV{TEST_NGINX_FAKE_REDIS_PORT} = $port;

# EVALSHA sha 1 "fw:rl:{policy:key}" limit window cost: the key says what
# to answer; "c" is the count of the current window the fake reports
my %calls;

FwRedis::fake_start($port, sub {
    my @argv = @_;
    my ($key) = ($argv[3] // '') =~ /:([^:}]*)\}$/;
    $key //= '';

    # a bulk string of 1 MiB (not the array the script returns)
    if ($key =~ /^big(\d+)$/) {
        my $len = $1 * 1024;
        return '$' . $len . "\r\n" . ('x' x $len) . "\r\n";
    }

    # an error reply of 256 KiB on one line
    if ($key eq 'longerr') {
        return '-ERR ' . ('e' x (256 * 1024)) . "\r\n";
    }

    # a valid reply: admitted, c and p as given, 1 ms into the window
    if ($key =~ /^full(\d+)$/) {
        return "*4\r\n:0\r\n:$1\r\n:0\r\n:1\r\n";
    }

    return "*4\r\n:1\r\n:0\r\n:0\r\n:1\r\n";
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a 1 MiB reply is read whole; the next requests get their own replies
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT timeout=2s;
    fw_ratelimit_policy p limit=10 window=60s key=$arg_k;
--- config
    location /t {
        fw_ratelimit p;
        fw_ratelimit_failure closed;
        add_header X-RL $fw_ratelimit_status always;
        try_files /ok.txt =404;
    }
--- user_files
>>> ok.txt
ok
--- request eval
["GET /t?k=a", "GET /t?k=big1024", "GET /t?k=a", "GET /t?k=full10",
 "GET /t?k=a"]
--- error_code eval
[200, 503, 200, 429, 200]
--- response_headers eval
["X-RL: passed", "X-RL: unavailable", "X-RL: passed", "X-RL: limited",
 "X-RL: passed"]
--- no_error_log
[alert]
[crit]



=== TEST 2: a 256 KiB error line, then a valid reply on the same connection
--- http_config
    fw_ratelimit_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT timeout=2s;
    fw_ratelimit_policy p limit=10 window=60s key=$arg_k;
--- config
    location /t {
        fw_ratelimit p;
        fw_ratelimit_failure closed;
        add_header X-RL $fw_ratelimit_status always;
        try_files /ok.txt =404;
    }
--- user_files
>>> ok.txt
ok
--- request eval
["GET /t?k=longerr", "GET /t?k=a", "GET /t?k=longerr", "GET /t?k=a"]
--- error_code eval
[503, 200, 503, 200]
--- response_headers eval
["X-RL: unavailable", "X-RL: passed", "X-RL: unavailable",
 "X-RL: passed"]
--- no_error_log
[alert]
[crit]
