# Opt-in (slow): the passing fixtures are real Test::Nginx files: they
# pass under the real library too, with the same number of tests.
#   FW_RUNNER_REAL_LIB=/opt/test-nginx prove ... tools/test-nginx/t/90-real-lib.t
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use RunnerSelfTest;

my $real = $ENV{FW_RUNNER_REAL_LIB};
plan skip_all => 'set FW_RUNNER_REAL_LIB to a test-nginx checkout'
    unless $real && -f "$real/lib/Test/Nginx/Socket.pm";

my $echo = '/usr/lib/nginx/modules/ngx_http_echo_module.so';
opendir my $dh, RunnerSelfTest::fixture_path('') or die $!;
my @files = sort grep { /^pass-.*\.t$/ && $_ ne 'pass-fw-extensions.t' }
            readdir $dh;

for my $f (@files) {
    my %env = (TEST_NGINX_NO_SHUFFLE => 1);
    if ($f eq 'pass-load-modules.t') {
        next unless -f $echo;
        $env{TEST_NGINX_LOAD_MODULES} = $echo;
    }
    my $ours = run_fixture($f, port => 0, prove => 1, env => \%env);
    my $theirs = run_fixture($f, port => 0, prove => 1, env => \%env,
                             inc => ["$real/inc", "$real/lib"]);
    like $theirs->{out}, qr/^Result: PASS$/m, "$f passes under the real library"
        or diag $theirs->{out};
    my ($n1) = $ours->{out} =~ /^Files=1, Tests=(\d+)/m;
    my ($n2) = $theirs->{out} =~ /^Files=1, Tests=(\d+)/m;
    is $n1, $n2, "$f: same number of tests ($n2)";
}

done_testing;
