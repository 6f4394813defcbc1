# Unit tests of the HTTP helpers (no nginx needed).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::Nginx::Compat::HTTP qw(build_request parse_more_headers
                                 parse_response decode_chunked
                                 responses_complete);

# --- request building -----------------------------------------------------
my ($h, $chunked) = parse_more_headers("X-A: 1\n# comment\nX-B:2\n");
is $h, "X-A: 1\r\nX-B: 2\r\n", 'more_headers: CRLF, comments skipped';
ok !$chunked, 'more_headers: not chunked';
(undef, $chunked) = parse_more_headers("Transfer-Encoding: chunked\n");
ok $chunked, 'more_headers: chunked detected';

is build_request("GET /t\n", '', 0, 'close', 'localhost'),
   "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
   'GET: defaults (HTTP/1.1, Host, Connection: close)';
is build_request("GET", '', 0, 'close', 'localhost'),
   "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
   'method only: URL /';
is build_request("\n# comment\n  GET /x HTTP/1.0\n", '', 0, 'close', 'h'),
   "GET /x HTTP/1.0\r\nHost: h\r\nConnection: close\r\n\r\n",
   'leading blank and comment lines skipped, version kept';
is build_request("POST /p\n  hello \n", '', 0, 'close', 'h'),
   "POST /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
   . "Content-Length: 5\r\n\r\nhello",
   'body: trimmed, Content-Length added';
is build_request("POST /p\nabc\n", "Content-Length: 4\r\n", 0, 'close', 'h'),
   "POST /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
   . "Content-Length: 4\r\n\r\nabc\n",
   'body with explicit Content-Length: sent as is';
is build_request("GET /", "Host: x\r\nconnection: keep-alive\r\n", 0,
                 'close', 'h'),
   "GET / HTTP/1.1\r\nHost: x\r\nconnection: keep-alive\r\n\r\n",
   'Host and Connection from more_headers win';
ok !defined eval { build_request("\n\n", '', 0, 'close', 'h') },
   'empty request line dies';

# --- chunked decoding --------------------------------------------------------
my ($body, $left, $err) = decode_chunked("5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\n\r\n");
is $body, 'hello!', 'chunked: decoded (with an extension)';
ok !defined $left, 'chunked: nothing left';
($body, $left) = decode_chunked("3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1");
is $body, 'abc', 'chunked: trailers skipped';
is $left, 'HTTP/1.1', 'chunked: bytes after the body are left over';
(undef, undef, $err) = decode_chunked("5\r\nhel");
like $err, qr/not enough octets/, 'chunked: truncated data is an error';
(undef, undef, $err) = decode_chunked("5\r\nhello\r\n");
like $err, qr/no last chunk/, 'chunked: missing last chunk is an error';
(undef, undef, $err) = decode_chunked("zz\r\n");
like $err, qr/invalid chunk size/, 'chunked: bad size line is an error';

# --- responses -----------------------------------------------------------------
my $raw = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-M: a\r\nX-M: b\r\n\r\n"
        . "abcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
my $p = parse_response($raw, 0);
is $p->{res}->code, 200, 'response: status';
is $p->{res}->content, 'abc', 'response: body cut at Content-Length';
is $p->{res}->header('X-M'), 'a, b', 'response: repeated header joined';
like $p->{raw_headers}, qr/^HTTP\/1\.1 200 OK\r\n.*X-M: b\r\n\z/s,
    'response: raw headers';
$p = parse_response($p->{left}, 0);
is $p->{res}->code, 404, 'pipelined: second response parsed from left over';

$p = parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    . "2\r\nok\r\n0\r\n\r\n", 0);
is $p->{res}->content, 'ok', 'response: chunked body decoded';
$p = parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    . "9\r\nok", 0);
like $p->{error}, qr/invalid chunked data/, 'response: bad chunked is an error';
$p = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0);
is_deeply $p->{truncated}, [10, 3], 'response: truncation reported';
$p = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1);
ok !$p->{truncated}, 'HEAD response: no body expected';
$p = parse_response('', 0);
ok !$p->{res}->code, 'no response: no status code';

ok responses_complete("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1),
   'complete: Content-Length';
ok !responses_complete("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok", 1),
   'incomplete: Content-Length';
ok !responses_complete("HTTP/1.1 200 OK\r\n\r\nok", 1),
   'incomplete: no framing (read until close)';
ok responses_complete("HTTP/1.1 204 No Content\r\n\r\n"
                      . "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      . "0\r\n\r\n", 2),
   'complete: 204 then chunked';

done_testing;
