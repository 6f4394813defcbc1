# TEST_NGINX_USE_VALGRIND: nginx runs under memcheck; errors fail blocks.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use RunnerSelfTest;
use File::Spec ();

plan skip_all => 'valgrind is not installed'
    unless grep { -x "$_/valgrind" } File::Spec->path;

my $r = run_fixture('pass-last.t', port => 3, prove => 1,
                    env => { TEST_NGINX_USE_VALGRIND => 1 });
is $r->{exit}, 0, 'under valgrind, with the default suppressions: passes'
    or diag $r->{out};
like $r->{conf}, qr/^daemon off;$/m, 'under valgrind nginx is not a daemon';

# without the suppressions of nginx's own never-freed memory, memcheck
# reports leaks, which must fail the blocks
$r = run_fixture('pass-last.t', port => 3, prove => 1,
                 env => { TEST_NGINX_USE_VALGRIND => 1,
                          TEST_NGINX_VALGRIND_DEFAULT_SUPPRESS => 0 });
isnt $r->{exit}, 0, 'memcheck errors: prove fails';
like $r->{out}, qr/not ok \d+ - .*TEST 1: runs - valgrind reported errors/,
    'memcheck errors: the block fails';
like $r->{out}, qr/definitely lost/, 'memcheck errors: the report is shown';

done_testing;
