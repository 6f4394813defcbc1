# Environment variables of the runner.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use RunnerSelfTest;
use File::Temp ();

# TEST_NGINX_LOAD_MODULES: each .so becomes a load_module line on top
my $echo = '/usr/lib/nginx/modules/ngx_http_echo_module.so';
SKIP: {
    skip "no $echo", 3 unless -f $echo;
    my $r = run_fixture('pass-load-modules.t', port => 2,
                        env => { TEST_NGINX_LOAD_MODULES => "  $echo  " });
    is $r->{exit}, 0, 'TEST_NGINX_LOAD_MODULES: the module works'
        or diag $r->{out};
    like $r->{conf}, qr/\Aload_module \Q$echo\E;\n/,
        'load_module is the first line of nginx.conf';
    $r = run_fixture('pass-load-modules.t', port => 2);
    like $r->{out}, qr/not ok \d+ - .*nginx failed to start.*unknown directive "echo"/,
        'without it, the echo directive is unknown';
}

# TEST_NGINX_LOG_LEVEL, TEST_NGINX_NO_SHUFFLE, TEST_NGINX_SERVER_PORT
my $r = run_fixture('pass-last.t', port => 2,
                    env => { TEST_NGINX_LOG_LEVEL => 'warn' });
like $r->{conf}, qr{^error_log \S+ warn;$}m, 'TEST_NGINX_LOG_LEVEL';
my $port = ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 2;
like $r->{conf}, qr/^\s+listen\s+$port;$/m, 'TEST_NGINX_SERVER_PORT';

# shuffled unless no_shuffle() or TEST_NGINX_NO_SHUFFLE: pass-logs.t has
# 5 blocks and no no_shuffle(); with the variable they run in order
my @orders;
for (1 .. 3) {
    $r = run_fixture('pass-logs.t', port => 2,
                     env => { TEST_NGINX_NO_SHUFFLE => 1 });
    my @seq = $r->{out} =~ /TEST (\d+):.* - status code ok/g;
    push @orders, "@seq";
}
is_deeply \@orders, [('1 2 3 4 5') x 3],
    'TEST_NGINX_NO_SHUFFLE keeps the order';

# TEST_NGINX_HTML_DIR
my $html = File::Temp::tempdir(CLEANUP => 1);
$r = run_fixture('pass-misc.t', port => 2,
                 env => { TEST_NGINX_HTML_DIR => $html });
is $r->{exit}, 0, 'TEST_NGINX_HTML_DIR: fixture passes' or diag $r->{out};
ok -f "$html/sub/b.txt", 'TEST_NGINX_HTML_DIR: user_files written there';

done_testing;
