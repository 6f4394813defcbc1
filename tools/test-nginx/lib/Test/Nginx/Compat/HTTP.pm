package Test::Nginx::Compat::HTTP;

# HTTP client side of fhirwall's Test::Nginx::Socket compatible runner.
#
#  - build_request(): turns a "--- request" value ("METHOD [URL [VERSION]]"
#    plus an optional body) and "--- more_headers" into the bytes sent on
#    the wire, with the same defaults as Test::Nginx (Host: localhost,
#    Connection: close, Content-Length for a body);
#  - exchange(): one TCP connection: writes the request (possibly in
#    several packets) while reading the answer, until the server closes,
#    the expected responses are complete on a keep-alive connection, or
#    the idle timeout expires;
#  - parse_response(): status line and headers (HTTP::Response), body by
#    Content-Length / chunked / until close; returns what is left over so
#    that pipelined responses can be parsed one after the other.

use strict;
use warnings;

use IO::Socket::INET ();
use IO::Select ();
use Errno qw(EAGAIN EWOULDBLOCK EINTR EINPROGRESS);
use Time::HiRes qw(sleep time);
use HTTP::Response ();

our @EXPORT_OK = qw(build_request parse_more_headers exchange parse_response
                    decode_chunked responses_complete);
use Exporter 'import';

# Parses a "--- more_headers" value: one "Name: value" per line, '#'
# comment lines skipped.  Returns the header text (CRLF line ends) and
# whether the request body is sent chunked.
sub parse_more_headers {
    my ($text) = @_;
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $text // '') {
        next if $line =~ /^\s*#/;
        my ($key, $val) = split /:\s*/, $line, 2;
        $val //= '';
        $chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

# Builds the bytes of one request.
#   $text          the "--- request" value: request line, then the body
#   $more_headers  already passed through parse_more_headers()
#   $chunked       the body is sent as is (no Content-Length added)
#   $conn          default Connection header value ('close', 'keep-alive')
#   $server_name   default Host header value
# Dies with a message on an invalid request line.
sub build_request {
    my ($text, $more_headers, $chunked, $conn, $server_name) = @_;

    # Leading blank lines and '#' comment lines before the request line
    # are dropped.
    1 while $text =~ s/^\s*#[^\n]+\s+|^\s+//s;

    my ($line, $body) = split /\n/, $text, 2;
    die "Request line should be non-empty\n"
        if !defined $line || $line !~ /\S/;

    $line =~ /^\s*(\S+)(?:\s+(\S+))?(?:\s+(\S+))?\s*$/
        or die "Request line is not valid. Should be 'meth [url [version]]'"
             . " but got \"$line\".\n";
    my ($method, $url, $version) = ($1, $2 // '/', $3 // 'HTTP/1.1');

    $body //= '';
    my $length = '';
    if (!$chunked && $body ne ''
        && $more_headers !~ /(?:^|\n)Content-Length:/)
    {
        # as Test::Nginx does: surrounding white space of a body given in
        # the request section is not sent
        $body =~ s/^\s+|\s+$//gs;
        $length = "Content-Length: " . length($body) . "\r\n";
    }

    $more_headers =~ s/(?<!\r)\n/\r\n/g;

    my $head = "$method $url $version\r\n";
    $head .= "Host: $server_name\r\n"
        if $more_headers !~ /(?:^|\n)Host:/i;
    $head .= "Connection: $conn\r\n"
        if $more_headers !~ /(?:^|\n)Connection/i;
    $head .= $more_headers . $length . "\r\n";

    return $head . $body;
}

# Connects to $addr:$port, retrying until $deadline (epoch seconds) while
# the connection is refused (nginx may still be starting).
sub _connect {
    my ($addr, $port, $deadline) = @_;
    my $wait = 0.01;
    while (1) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $port,
            Proto    => 'tcp',
            Timeout  => 2,
        );
        return $sock if $sock;
        my $err = "$!";
        return (undef, $err) if time() + $wait > $deadline;
        sleep $wait;
        $wait *= 1.5;
        $wait = 0.5 if $wait > 0.5;
    }
}

# Runs one connection.  Options:
#   addr, port         where nginx listens
#   packets            array of {value => bytes, delay_before => secs}
#   middle_delay       delay between packets without their own delay
#   timeout            idle timeout (no byte read or written for so long)
#   connect_timeout    how long to retry refused connections
#   shutdown           after writing everything, shutdown($sock, value)
#   expect             if set: number of responses after which to stop
#                      reading even if the server keeps the connection
#   head               the request is a HEAD request (for "expect")
# Returns a hash: resp (bytes read), timed_out, connect_error, write_error,
# read_error.
sub exchange {
    my (%o) = @_;
    my %r = (resp => '');

    local $SIG{PIPE} = 'IGNORE';

    my ($sock, $cerr) = _connect($o{addr}, $o{port},
                                 time() + ($o{connect_timeout} // 5));
    if (!$sock) {
        $r{connect_error} = $cerr;
        return \%r;
    }
    $sock->blocking(0);
    binmode $sock;

    my @packets = @{ $o{packets} };
    my $buf = shift(@packets)->{value} // '';
    my $off = 0;
    my $writing = 1;
    my $sel = IO::Select->new($sock);

    while (1) {
        my ($rd, $wr) = IO::Select->select($sel, $writing ? $sel : undef,
                                           undef, $o{timeout});
        if (!$rd && !$wr) {
            next if $! == EINTR;
            $r{timed_out} = 1;
            last;
        }

        if ($rd && @$rd) {
            my $closed;
            while (1) {
                my $n = sysread($sock, my $chunk, 65536);
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    $r{read_error} = "$!";   # e.g. connection reset
                    $closed = 1;
                    last;
                }
                if ($n == 0) {
                    $closed = 1;
                    last;
                }
                $r{resp} .= $chunk;
            }
            last if $closed;
            last if $o{expect}
                && responses_complete($r{resp}, $o{expect}, $o{head});
        }

        if ($writing && $wr && @$wr) {
            while ($writing) {
                if ($off >= length $buf) {
                    my $next = shift @packets;
                    if (!defined $next) {
                        # everything has been sent
                        $writing = 0;
                        shutdown($sock, $o{shutdown}) if defined $o{shutdown};
                        last;
                    }
                    my $delay = $next->{delay_before} // $o{middle_delay};
                    sleep $delay if $delay;
                    ($buf, $off) = ($next->{value} // '', 0);
                    next;
                }
                my $n = syswrite($sock, $buf, length($buf) - $off, $off);
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    # nginx closed early (e.g. request headers too large):
                    # stop writing, keep reading its answer
                    $r{write_error} = "$!";
                    $writing = 0;
                    last;
                }
                $off += $n;
            }
        }
    }

    close $sock;
    return \%r;
}

# Decodes a chunked body.  Returns ($body, $left_over) or (undef, undef,
# $error).  Trailer header lines after the last chunk are skipped.
sub decode_chunked {
    my ($raw) = @_;
    my ($pos, $body) = (0, '');
    while (1) {
        my $eol = index $raw, "\r\n", $pos;
        return (undef, undef, "no last chunk found") if $eol < 0;
        my $line = substr $raw, $pos, $eol - $pos;
        return (undef, undef, "invalid chunk size line \"$line\"")
            if $line !~ /^[ \t]*([0-9A-Fa-f]+)[ \t]*(?:;.*)?$/;
        my $size = hex $1;
        $pos = $eol + 2;

        if ($size == 0) {
            while (1) {    # optional trailers, then the empty line
                my $end = index $raw, "\r\n", $pos;
                return (undef, undef, "no CRLF after the last chunk")
                    if $end < 0;
                my $trailer = substr $raw, $pos, $end - $pos;
                $pos = $end + 2;
                last if $trailer eq '';
            }
            my $left = substr $raw, $pos;
            return ($body, length $left ? $left : undef);
        }

        return (undef, undef,
                "not enough octets for the data section ($size expected, "
                . (length($raw) - $pos) . " left)")
            if length($raw) - $pos < $size;
        $body .= substr $raw, $pos, $size;
        $pos += $size;
        return (undef, undef, "expected CRLF after chunk data")
            if substr($raw, $pos, 2) ne "\r\n";
        $pos += 2;
    }
}

# Parses one response from the start of $raw.  Returns a hash:
#   res          HTTP::Response (code, header(), content decoded)
#   raw_headers  status line and header lines, as received
#   left         bytes after this response (pipelining), or undef
#   error        text if the body framing is invalid (res is then undef)
#   truncated    [expected, got] when fewer bytes than Content-Length
sub parse_response {
    my ($raw, $head_req) = @_;
    my %p = (raw_headers => '');

    $p{raw_headers} = $1 if $raw =~ /^(.*?\r\n)\r\n/s;

    my $res = HTTP::Response->parse($raw);
    my $code = $res->code;
    if (defined $code && $code !~ /^\d+$/) {
        $res->code(undef);
        $code = undef;
    }
    $p{res} = $res;

    return \%p if $code && ($code == 304 || $code == 101);

    my $te  = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if (defined $te && $te eq 'chunked') {
        my ($body, $left, $err) = decode_chunked($res->content // '');
        if (defined $err) {
            $p{error} = "invalid chunked data received: $err";
            delete $p{res};
            return \%p;
        }
        $res->content($body);
        $p{left} = $left;

    } elsif (defined $len && $len =~ /^\d+$/) {
        my $body = $res->content // '';
        if (length $body < $len) {
            $p{truncated} = [$len, length $body] unless $head_req;
        } elsif (length $body > $len) {
            $p{left} = substr $body, $len;
            $res->content(substr $body, 0, $len);
        }
    }

    return \%p;
}

# True when $raw holds $n complete responses (used to stop reading a
# keep-alive connection).  A response without Content-Length or chunked
# framing is only complete when the server closes.
sub responses_complete {
    my ($raw, $n, $head) = @_;
    my $pos = 0;
    for (1 .. $n) {
        my $end = index $raw, "\r\n\r\n", $pos;
        return 0 if $end < 0;
        my $hdr = substr $raw, $pos, $end - $pos;
        $pos = $end + 4;
        my ($code) = $hdr =~ m{^\S+\s+(\d+)};
        next if $head || !defined $code || $code =~ /^(?:1\d\d|204|304)$/;
        if ($hdr =~ /^Transfer-Encoding:\s*chunked\s*$/mi) {
            my ($body, $left, $err) = decode_chunked(substr $raw, $pos);
            return 0 if defined $err;
            $pos = length($raw) - length($left // '');
        } elsif ($hdr =~ /^Content-Length:\s*(\d+)\s*$/mi) {
            return 0 if length($raw) - $pos < $1;
            $pos += $1;
        } else {
            return 0;
        }
    }
    return 1;
}

1;
