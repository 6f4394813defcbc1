package RunnerSelfTest;

# Helpers for the self-tests of fhirwall's Test::Nginx::Socket runner:
# run a fixture .t file (tools/test-nginx/fixtures/) in a subprocess with
# our runner on the include path, its own server root and port, and
# return its exit code and output.

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec ();
use File::Temp qw(tempdir);
use Cwd qw(abs_path);

our @EXPORT = qw(run_fixture fixture_path nginx_binary $RunnerLib);

our $Root      = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..'));
our $RunnerLib = "$Root/lib";

sub fixture_path { "$Root/fixtures/$_[0]" }

# The nginx to test with: TEST_NGINX_BINARY, else nginx in PATH, else
# Debian's /usr/sbin/nginx.
sub nginx_binary {
    return $ENV{TEST_NGINX_BINARY} if $ENV{TEST_NGINX_BINARY};
    for my $dir (File::Spec->path, '/usr/sbin') {
        return "$dir/nginx" if -x "$dir/nginx";
    }
    return 'nginx';
}

# run_fixture($file, port => $offset, env => {...}, prove => 1,
#             inc => [include dirs, default: our runner's lib])
# Returns { exit, out, conf, ok, not_ok }: out is stdout+stderr, conf the
# last generated nginx.conf, ok / not_ok the numbers of TAP lines.
sub run_fixture {
    my ($file, %o) = @_;
    my $tmp = tempdir('fw-runner-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $base = $ENV{TEST_NGINX_SERVER_PORT} || 1984;

    local %ENV = %ENV;
    delete @ENV{qw(TEST_NGINX_NO_SHUFFLE TEST_NGINX_LOG_LEVEL
                   TEST_NGINX_LOAD_MODULES TEST_NGINX_USE_VALGRIND
                   TEST_NGINX_USE_HUP TEST_NGINX_HTML_DIR)};
    $ENV{TEST_NGINX_SERVROOT}    = "$tmp/servroot";
    $ENV{TEST_NGINX_SERVER_PORT} = $base + ($o{port} // 0);
    $ENV{TEST_NGINX_BINARY}      = nginx_binary();
    $ENV{TEST_NGINX_FW_SELFTEST} = 'selftest-value';
    %ENV = (%ENV, %{ $o{env} || {} });

    my @inc = map { "-I$_" } @{ $o{inc} || [$RunnerLib] };
    my @cmd = $o{prove}
        ? ('prove', '-v', @inc, fixture_path($file))
        : ($^X, @inc, fixture_path($file));

    my $pid = open my $out, '-|';
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or die "exec @cmd: $!";
    }
    my $text = do { local $/; <$out> } // '';
    close $out;
    my $exit = $? >> 8;

    my $conf = '';
    if (open my $in, '<', "$tmp/servroot/conf/nginx.conf") {
        local $/;
        $conf = <$in>;
    }

    return {
        exit   => $exit,
        out    => $text,
        conf   => $conf,
        ok     => scalar(() = $text =~ /^ok \d+/mg),
        not_ok => scalar(() = $text =~ /^not ok \d+/mg),
    };
}

1;
