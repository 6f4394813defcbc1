package FwWebhookRedis;

# Test helper for t/webhook_redis.t: one HTTP/1.0 POST to an nginx on
# loopback (a second instance started with FwRedis::start_nginx), and the
# Standard Webhooks published vector that the blocks deliver.
#
#   my ($status, $headers, $body) =
#       FwWebhookRedis::post($port, '/std', $body, %headers);

use strict;
use warnings;

use IO::Socket::INET;

# the Standard Webhooks published vector
our $ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
our $TS = 1614265330;
our $BODY = '{"test": 2432232314}';
our $SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
our $SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

sub headers {
    return ('webhook-id' => $ID, 'webhook-timestamp' => $TS,
            'webhook-signature' => $SIG);
}

sub post {
    my ($port, $path, $body, %h) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 10)
        or die "connect to nginx $port: $!\n";

    my $req = "POST $path HTTP/1.0\r\nHost: localhost\r\n"
              . "Content-Length: " . length($body) . "\r\n";
    $req .= "$_: $h{$_}\r\n" for sort keys %h;
    print $s "$req\r\n$body";

    local $/;
    my $resp = <$s>;
    close $s;

    my ($head, $rbody) = split /\r\n\r\n/, $resp // '', 2;
    my @lines = split /\r\n/, $head // '';
    my ($status) = (shift(@lines) // '') =~ m{^HTTP/\S+ (\d+)};
    my %hdr = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () } @lines;

    return ($status, \%hdr, $rbody);
}

1;
