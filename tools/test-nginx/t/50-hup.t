# TEST_NGINX_USE_HUP: nginx is reloaded (SIGHUP) between blocks instead
# of restarted; the fixtures still pass.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use RunnerSelfTest;

for my $f (qw(pass-basic.t pass-requests.t pass-prologue.t)) {
    my $r = run_fixture($f, port => 4, prove => 1,
                        env => { TEST_NGINX_USE_HUP => 1 });
    is $r->{exit}, 0, "HUP mode: $f passes" or diag $r->{out};
    unlike $r->{out}, qr/did not reload/, "HUP mode: $f: every reload worked";
    like $r->{conf}, qr/^master_process on;$/m, "HUP mode: master on";
    like $r->{conf}, qr/server_name\s+'Test-Nginx';/,
        'HUP mode: config version server';
}

# a reload to a broken config falls back to a restart, which fails clearly
my $r = run_fixture('fail-reload.t', port => 4, prove => 1,
                    env => { TEST_NGINX_USE_HUP => 1,
                             TEST_NGINX_TIMEOUT => 1 });
like $r->{out}, qr/ok \d+ - .*TEST 1: fine - response_body/,
    'HUP mode: first block passes';
like $r->{out}, qr/TEST 2: broken config - nginx did not reload/,
    'HUP mode: the failed reload is noticed';
like $r->{out}, qr/not ok \d+ - .*TEST 2: broken config - nginx failed to start .*unknown directive "fw_no_such_directive"/,
    'HUP mode: broken config reported';
isnt $r->{exit}, 0, 'HUP mode: broken config fails the run';

done_testing;
