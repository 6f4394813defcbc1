# Failing blocks make the fixture fail, with a clear message.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use RunnerSelfTest;

my @cases = (
    ['fail-status.t',
     qr/not ok 1 - \S+ TEST 1: expects 200, gets 404 - status code ok/,
     qr/got: '404'\n#\s+expected: '200'/],
    ['fail-body.t',
     qr/not ok 2 - .*TEST 1: body differs - response_body - response is expected/,
     qr/got: "actual body/],
    ['fail-alert.t',
     qr/not ok \d+ - .*TEST 1: unexpected crit - unexpected \[crit\] in error\.log: .*No such device or address/],
    ['fail-sections.t',
     qr/not ok \d+ - .*TEST 1: typo in a section name - unknown section '--- respone_body'/,
     qr/not ok \d+ - .*TEST 2: unsupported section - section '--- tcp_listen' is not supported/],
    ['fail-logs.t',
     qr/not ok \d+ - .*TEST 1: .* - pattern "this text is never logged" should match a line in error\.log/,
     qr/not ok \d+ - .*TEST 2: .* - pattern "No such file or directory" should not match any line in error\.log/,
     qr/not ok \d+ - .*TEST 3: .* - grep_error_log_out \(req 0\)/],
    ['fail-headers.t',
     qr/not ok \d+ - .* - header X-Present ok/,
     qr/not ok \d+ - .* - header X-Present not present in the raw headers/,
     qr/not ok \d+ - .* - header Content-Type ok/],
    ['fail-timeout.t',
     qr/not ok 1 - ERROR: client socket timed out - \S+ TEST 1: client timeout/],
    ['fail-must-die.t',
     qr/not ok 1 - .*TEST 1: must_die but the config is valid - die as expected/,
     qr/not ok \d+ - .*TEST 2: nginx does not start - nginx failed to start \(status 1\): nginx: \[emerg\] unknown directive "fw_no_such_directive"/],
);

for my $c (@cases) {
    my ($f, @want) = @$c;
    my $t0 = time;
    my $r = run_fixture($f, prove => 1, port => 1);
    isnt $r->{exit}, 0, "$f: prove exits non-zero";
    like $r->{out}, qr/^Result: FAIL$/m, "$f: Result: FAIL";
    like $r->{out}, $_, "$f: failure text $_" for @want;
    cmp_ok time - $t0, '<', 15, "$f: no hang";
}

# nginx dying during a block is a failure
{
    my $r = run_fixture('fail-crash.t', port => 1, prove => 1,
                        env => { TEST_NGINX_TIMEOUT => 1 });
    isnt $r->{exit}, 0, 'fail-crash.t: prove exits non-zero';
    like $r->{out}, qr/not ok \d+ - .*TEST 1: nginx crashes - the nginx process \d+ is gone \((?:killed by signal 11|crashed\?)/,
        'fail-crash.t: the crash is reported';
    like $r->{out}, qr/TEST 1: nginx crashes - Can't connect to 127\.0\.0\.1:\d+: Connection refused/,
        'fail-crash.t: connection failure reported';
}

# an unset $TEST_NGINX_* variable aborts the file
my $r = run_fixture('fail-unset-env.t', port => 1);
is $r->{exit}, 255, 'unset variable: exit 255 (bail out)';
like $r->{out},
    qr/^Bail out!\s+\S+ TEST 1: unset variable - No environment TEST_NGINX_FW_SURELY_UNSET_VAR defined\./m,
    'unset variable: clear message';
$r = run_fixture('fail-unset-env.t', port => 1, prove => 1);
like $r->{out}, qr/FAILED--Further testing stopped: .*No environment TEST_NGINX_FW_SURELY_UNSET_VAR/,
    'unset variable: prove stops with the message';
isnt $r->{exit}, 0, 'unset variable: prove exits non-zero';

done_testing;
