# vim:set ft= ts=4 sw=4 et fdm=marker:
# fhirwall JWT module: a reload (HUP) picks up a rotated key file, and a
# reload with a broken key file keeps the keys that were in force.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();
master_on();
workers(1);

our $K = "$ENV{TEST_NGINX_FW_ROOT}/t/keys/jwt";
our $dir = tempdir(CLEANUP => 1);
our %T = (
    old => mint('-a', 'RS256', '-k', key_path('rsa.key')),
    new => mint('-a', 'RS256', '-k', key_path('rsa2.key')),
);

sub master_pid {
    my $f = "$ENV{TEST_NGINX_SERVROOT}/logs/nginx.pid";
    $f = html_dir() . "/../logs/nginx.pid" unless -f $f;
    open my $fh, '<', $f or die "$f: $!";
    my $pid = <$fh>;
    close $fh;
    chomp $pid;
    return $pid;
}

# puts FILE in place of the key file the configuration names, then reloads
sub main::rotate {
    my ($file) = @_;
    copy($file, "$::dir/current.pub") or die "copy: $!";
    kill 'HUP', master_pid() or die "HUP: $!";
    # the new worker takes over; the old one finishes its connections
    select undef, undef, undef, 1.5;
    return '';
}

# after a failed reload, the running workers still verify with the old key:
# asks /t itself and returns '' when it answers 200 for the old token
sub main::still_valid {
    require IO::Socket::INET;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $ENV{TEST_NGINX_SERVER_PORT} || 1984, Timeout => 5)
        or return "connect: $!";
    print $sock "GET /t HTTP/1.0\r\nHost: localhost\r\n"
        . "Authorization: Bearer $::T{old}\r\n\r\n";
    local $/;
    my $res = <$sock> // '';
    close $sock;
    return $res =~ m{\AHTTP/1\.\d 200} ? '' : "after the failed reload: "
        . (split /\r\n/, $res)[0];
}

add_block_preprocessor(sub {
    my $block = shift;
    copy("$K/rsa.pub", "$dir/current.pub") or die "copy: $!";
    $block->set_value('http_config', backend_http());
    $block->set_value('config', loc("        fw_jwt_key_file $dir/current.pub;"));
});

run_tests();

__DATA__

=== TEST 1: a rotated key file is used after a reload, the old key no more
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T{old}", "Authorization: Bearer $::T{new}",
 "Authorization: Bearer $::T{new}", "Authorization: Bearer $::T{old}"]
--- error_code eval
[200, 401, 200, 401]
--- response_headers eval
["X-JWT-Status: valid", "X-JWT-Status: bad_signature",
 "X-JWT-Status: valid", "X-JWT-Status: bad_signature"]
--- response_body_like eval
["^ok ", qr/(??{ main::rotate("$::K\/rsa2.pub") })"status":401/, "^ok ",
 qr/"status":401/]
--- timeout: 10



=== TEST 2: a reload with an empty key file fails; the keys in force stay
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::T{old}"
--- error_code: 200
--- response_headers
X-JWT-Status: valid
--- response_body_like eval
qr/(??{ main::rotate("$::K\/empty.secret"); main::still_valid() })^ok /
--- error_log eval
[qr/\[emerg\].*file "\S+current.pub" is empty/,
 qr/"fw_jwt_key_file": cannot use key file/]
--- timeout: 10
