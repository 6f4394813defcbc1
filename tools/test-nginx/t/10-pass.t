# The passing fixtures pass under our runner, with the test counts of the
# real library (the fixtures that declare a plan check that themselves).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use RunnerSelfTest;

my %expect = (
    'pass-basic.t'         => 20,   # 3 blocks, repeat_each(2), plan
    'pass-requests.t'      => 34,
    'pass-logs.t'          => 18,   # incl. shutdown_error_log
    'pass-misc.t'          => 19,   # must_die, user_files, SKIP, skip_nginx
    'pass-large.t'         => 14,
    'pass-fw-extensions.t' => 4,
    'pass-only.t'          => 2,
    'pass-last.t'          => 4,
    'pass-prologue.t'      => 6,    # no_root_location, no config, plan
);

for my $f (sort keys %expect) {
    my $r = run_fixture($f, prove => 1, port => 0);
    is $r->{exit}, 0, "$f: prove exits 0"
        or diag $r->{out};
    like $r->{out}, qr/^Result: PASS$/m, "$f: Result: PASS";
    like $r->{out}, qr/^Files=1, Tests=$expect{$f},/m,
        "$f: $expect{$f} tests ran";
    is $r->{not_ok}, 0, "$f: no 'not ok'";
}

# test names like the real library's
my $r = run_fixture('pass-basic.t', port => 0);
like $r->{out}, qr{^ok \d+ - \S*pass-basic\.t TEST 1: plain body, status and a header - status code ok$}m,
    'test names: "<file> TEST n: title - status code ok"';
like $r->{out}, qr{TEST 3: .* - response_body - response is expected \(repeated req 1, req 0\)}m,
    'repeat_each(2) runs every block twice';
unlike $r->{out}, qr/Looks like/, 'no Test::More complaint';

# the generated config
my $conf = $r->{conf};
like $conf, qr/^daemon on;$/m, 'conf: daemon on';
like $conf, qr/^master_process off;$/m, 'conf: master_process off';
like $conf, qr/^worker_processes\s+1;$/m, 'conf: worker_processes 1';
like $conf, qr{^error_log \S+/servroot/logs/error\.log debug;$}m,
    'conf: error_log debug in the server root';
like $conf, qr{client_body_temp_path \S+/servroot/client_body_temp;},
    'conf: temp paths in the server root';
like $conf, qr/^\s+listen\s+$ENV{TEST_NGINX_SERVER_PORT}|listen\s+\d+;/m,
    'conf: listen';
like $conf, qr/server_name\s+'localhost';/, "conf: server_name 'localhost'";
like $conf, qr/client_max_body_size 30M;/, 'conf: client_max_body_size 30M';
like $conf, qr/keepalive_timeout\s+68000ms;/, 'conf: keepalive_timeout';
like $conf, qr/worker_connections\s+64;/, 'conf: worker_connections 64';
like $conf, qr{location / \{\s+root \S+/html;}, 'conf: root location';

# master_on() and workers(2) in pass-misc.t
$r = run_fixture('pass-misc.t', port => 0);
like $r->{conf}, qr/^master_process on;$/m, 'master_on()';
like $r->{conf}, qr/^worker_processes\s+2;$/m, 'workers(2)';
like $r->{conf}, qr/^env TEST_NGINX_FW_SELFTEST;$/m, 'env_to_nginx()';
unlike $r->{out}, qr/TEST 5: skipped block/, 'SKIP: the block does not run';
like $r->{out}, qr/TEST 1: must_die .* - die as expected/, 'must_die';

# no_root_location()
$r = run_fixture('pass-prologue.t', port => 0);
unlike $r->{conf}, qr/index index\.html/, 'no_root_location(): no root location';

# ONLY and LAST
$r = run_fixture('pass-only.t', port => 0);
like $r->{out}, qr/I found ONLY/, 'ONLY: Test::Base says so';
unlike $r->{out}, qr/TEST [13]:/, 'ONLY: other blocks do not run';
$r = run_fixture('pass-last.t', port => 0);
like $r->{out}, qr/TEST 2: runs, and is the last - status code ok/,
    'LAST: the LAST block runs';
unlike $r->{out}, qr/TEST 3:/, 'LAST: later blocks do not run';

done_testing;
