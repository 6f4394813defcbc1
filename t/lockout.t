# vim:set ft= ts=4 sw=4 et fdm=marker:
# fw_lockout: failed authentications (401/403 answers) per client address
# and per subject, in shared memory and in a real redis-server on
# loopback (started here, $TEST_NGINX_REDIS_PORT; nothing may listen on
# the next port: the "Redis down" blocks use it).
#
# The protected location proxies to a backend that answers the status in
# ?s= (401, 403, 404, else 200); X-Real-IP (realip) gives each request its
# client address, X-User stands for a verified subject ($fw_jwt_sub).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwRedis;

my $port = FwRedis::port();
$ENV{TEST_NGINX_REDIS_PORT} = $port;
$ENV{TEST_NGINX_REDIS_DOWN_PORT} = $port + 1;
$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

FwRedis::start($port);

our $backend = <<'_EOC_';
    upstream backend {
        server unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }

    server {
        listen unix:$TEST_NGINX_HTML_DIR/backend.sock;

        location / {
            if ($arg_s = 401) {
                return 401;
            }
            if ($arg_s = 403) {
                return 403;
            }
            if ($arg_s = 404) {
                return 404;
            }
            return 200 "ok\n";
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    $block->set_value("http_config", $main::backend . $http);
});

run_tests();

__DATA__

=== TEST 1: three failures in the window lock the address out: 429 with Retry-After, for good requests too
--- config
    location /t {
        fw_lockout failures=3 window=1m lockout=30s max=1h;
        add_header X-Lockout $fw_lockout_status always;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=200", "GET /t?s=401",
 "GET /t?s=200", "GET /t?s=401"]
--- error_code eval
[401, 401, 200, 401, 429, 429]
--- response_headers eval
["X-Lockout: passed", "X-Lockout: passed", "X-Lockout: passed",
 "X-Lockout: passed", "Retry-After: 30", "X-Lockout: locked"]
--- response_body_like eval
["", "", "ok", "", '"status":\s*429', "too many failed"]



=== TEST 2: 403 counts as well; fw_lockout_status 403 and the FHIR format
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=10s max=1h;
        fw_lockout_status 403;
        fw_lockout_error_format fhir;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=403", "GET /t?s=403", "GET /t?s=200"]
--- error_code eval
[403, 403, 403]
--- response_headers eval
["", "", "Retry-After: 10"]
--- response_body_like eval
["", "", '"resourceType":\s*"OperationOutcome"']



=== TEST 3: per address: another address is not locked out; the allow-list is never locked
--- http_config
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=10s max=1h;
        fw_lockout_allow 10.9.0.0/16 ::1;
        add_header X-Lockout $fw_lockout_status always;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=200", "GET /t?s=200",
 "GET /t?s=401", "GET /t?s=401", "GET /t?s=401", "GET /t?s=200"]
--- more_headers eval
["X-Real-IP: 192.0.2.1", "X-Real-IP: 192.0.2.1", "X-Real-IP: 192.0.2.1",
 "X-Real-IP: 192.0.2.2", "X-Real-IP: 10.9.1.1", "X-Real-IP: 10.9.1.1",
 "X-Real-IP: 10.9.1.1", "X-Real-IP: 10.9.1.1"]
--- error_code eval
[401, 401, 429, 200, 401, 401, 401, 200]
--- response_headers eval
["", "", "X-Lockout: locked", "X-Lockout: passed", "X-Lockout: allowed",
 "", "", "X-Lockout: allowed"]



=== TEST 4: per subject: the subject's failures from several addresses lock it out everywhere
--- http_config
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;
--- config
    location /t {
        fw_lockout failures=3 window=1m lockout=20s max=1h;
        fw_lockout_subject $http_x_user;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=403", "GET /t?s=403", "GET /t?s=403", "GET /t?s=200",
 "GET /t?s=200"]
--- more_headers eval
["X-Real-IP: 192.0.2.1\nX-User: alice", "X-Real-IP: 192.0.2.2\nX-User: alice",
 "X-Real-IP: 192.0.2.3\nX-User: alice", "X-Real-IP: 192.0.2.4\nX-User: alice",
 "X-Real-IP: 192.0.2.4\nX-User: bob"]
--- error_code eval
[403, 403, 403, 429, 200]



=== TEST 5: each repeat doubles the lockout (1s, then 2s)
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=1s max=8s;
        proxy_pass http://backend;
    }

    location /wait {
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=200",
 ["POST /wait\n", {value => "x", delay_before => 2}],
 "GET /t?s=401", "GET /t?s=401", "GET /t?s=200"]
--- error_code eval
[401, 401, 429, 200, 401, 401, 429]
--- response_headers eval
["", "", "Retry-After: 1", "", "", "", "Retry-After: 2"]
--- timeout: 10



=== TEST 6: fw_lockout_count: which statuses are failures
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=10s max=1h;
        fw_lockout_count 404;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=401", "GET /t?s=404",
 "GET /t?s=404", "GET /t?s=200"]
--- error_code eval
[401, 401, 401, 404, 404, 429]



=== TEST 7: off in a nested location; a location without it is not checked
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=10s max=1h;
        proxy_pass http://backend;

        location /t/free {
            fw_lockout off;
            proxy_pass http://backend;
        }
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=200", "GET /t/free?s=200"]
--- error_code eval
[401, 401, 429, 200]



=== TEST 8: invalid configurations are refused by nginx -t
--- config
    location /t {
        fw_lockout failures=5 window=1m lockout=10m max=1m;
        proxy_pass http://backend;
    }
--- must_die
--- error_log
"fw_lockout": max= must be at least lockout=



=== TEST 9: fw_lockout_status takes 429 or 403
--- config
    location /t {
        fw_lockout failures=5;
        fw_lockout_status 500;
        proxy_pass http://backend;
    }
--- must_die
--- error_log
"fw_lockout_status" must be 429 or 403



=== TEST 10: 429 is never counted
--- config
    location /t {
        fw_lockout failures=5;
        fw_lockout_count 401 429;
        proxy_pass http://backend;
    }
--- must_die
--- error_log
"fw_lockout_count": "429" is not a 4xx



=== TEST 11: Redis: failures are counted there and the lock is read there
--- init
FwRedis::cmd(FwRedis::port(), 'FLUSHALL');
--- http_config
    fw_lockout_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /t {
        fw_lockout failures=3 window=1m lockout=30s max=1h;
        fw_lockout_failure closed;
        add_header X-Lockout $fw_lockout_status always;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=401", "GET /t?s=200"]
--- error_code eval
[401, 401, 401, 429]
--- response_headers eval
["X-Lockout: passed", "X-Lockout: passed", "X-Lockout: passed",
 "Retry-After: 30"]
--- no_error_log
redis cannot decide



=== TEST 12: Redis: a lock another replica set is honoured (the key is read from Redis)
--- init
FwRedis::cmd(FwRedis::port(), 'FLUSHALL');
FwRedis::cmd(FwRedis::port(), 'SET', 'fw:lo:{a:127.0.0.1}:l', '1', 'PX', '50000');
--- http_config
    fw_lockout_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /t {
        fw_lockout failures=3 window=1m lockout=30s max=1h;
        proxy_pass http://backend;
    }
--- request
GET /t?s=200
--- error_code: 429
--- response_headers
Retry-After: 50



=== TEST 13: Redis down, failure=open: nothing is counted, every request passes (logged once)
--- http_config
    fw_lockout_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT connect_timeout=100ms;
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=30s max=1h;
        fw_lockout_failure open;
        add_header X-Lockout $fw_lockout_status always;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=401", "GET /t?s=200"]
--- error_code eval
[401, 401, 401, 200]
--- response_headers eval
["X-Lockout: error", "X-Lockout: error", "X-Lockout: error",
 "X-Lockout: error"]



=== TEST 14: Redis down, failure=closed: 503
--- http_config
    fw_lockout_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT connect_timeout=100ms;
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=30s max=1h;
        fw_lockout_failure closed;
        add_header X-Lockout $fw_lockout_status always;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=200", "GET /t?s=200"]
--- error_code eval
[503, 503]
--- response_headers eval
["X-Lockout: unavailable", "X-Lockout: unavailable"]



=== TEST 15: Redis down, failure=local (the default): this node's shared memory counts and locks
--- http_config
    fw_lockout_redis 127.0.0.1:$TEST_NGINX_REDIS_DOWN_PORT connect_timeout=100ms;
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=30s max=1h;
        add_header X-Lockout $fw_lockout_status always;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=200"]
--- error_code eval
[401, 401, 429]
--- response_headers eval
["X-Lockout: passed", "X-Lockout: passed", "X-Lockout: locked"]



=== TEST 16: Redis paused (it accepts, never answers): the check times out, failure=local takes over
--- init
FwRedis::cmd(FwRedis::port(), 'FLUSHALL');
FwRedis::pause(FwRedis::port());
--- http_config
    fw_lockout_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=30s max=1h;
        fw_lockout_timeout 200ms;
        add_header X-Lockout $fw_lockout_status always;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=200"]
--- error_code eval
[401, 401, 429]
--- response_headers eval
["X-Lockout: passed", "X-Lockout: passed", "X-Lockout: locked"]
--- timeout: 10



=== TEST 17: Redis resumed: it counts and decides again
--- init
FwRedis::resume(FwRedis::port());
FwRedis::cmd(FwRedis::port(), 'FLUSHALL');
--- http_config
    fw_lockout_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /t {
        fw_lockout failures=2 window=1m lockout=30s max=1h;
        fw_lockout_failure closed;
        proxy_pass http://backend;
    }
--- request eval
["GET /t?s=401", "GET /t?s=401", "GET /t?s=200"]
--- error_code eval
[401, 401, 429]
--- no_error_log
redis cannot decide
