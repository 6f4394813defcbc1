# fhirwall audit module: no acknowledged request without its record
# (issue 15).  The record is written before the answer's last byte: a
# client that has the whole answer finds the record in the log at once.
#
# Every audited request here is mirrored to a backend that never answers
# (proxy_read_timeout 1s), so its log phase, which waits for the mirror,
# comes a second after the answer: the record is looked for the moment
# the answer is complete, before that.  The client reads each answer by
# its framing (Content-Length, chunked, none) and does not wait for nginx
# to close the connection.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwAudit;
use Digest::MD5 qw(md5_hex);
use IO::Socket::INET;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);

BEGIN {
    $ENV{TEST_NGINX_HTML_DIR} ||=
        ($ENV{TEST_NGINX_SERVER_ROOT} || 't/servroot') . '/html';
    my $p = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
    $ENV{TEST_NGINX_HANG_PORT} ||= $p + 11;
    $ENV{TEST_NGINX_H2_PORT} ||= $p + 12;
    # files and sinks outside the server root, made before nginx starts
    $ENV{TEST_NGINX_DURABLE_DIR} ||= "/tmp/fw-audit-durable-$p-$$";
}

our $TMPFS;

END {
    system("umount", $TMPFS) if $TMPFS;
    system("rm", "-rf", $ENV{TEST_NGINX_DURABLE_DIR})
        if $ENV{TEST_NGINX_DURABLE_DIR} =~ m{^/tmp/fw-audit-durable-};
}

my $DIR = $ENV{TEST_NGINX_DURABLE_DIR};
my $PORT = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;

# the backend that takes connections and never answers
our $HANG = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $ENV{TEST_NGINX_HANG_PORT},
                                  Listen => 128, ReuseAddr => 1)
    or die "listen on $ENV{TEST_NGINX_HANG_PORT}: $!";

my %FILE;

sub make_files {
    mkdir $DIR;
    mkdir "$DIR/f";
    srand(15);
    my $big = join '', map { chr(int(rand(256))) } 1 .. 65536;
    $big = $big x 48;                                   # 3 MiB
    my %f = ('big.bin' => $big, 'one.bin' => 'x',
             'small.txt' => "the answer, all of it\n" x 40,
             'page.shtml' => 'before|<!--# include virtual="/part" -->'
                             . "|after\n");
    for my $n (keys %f) {
        open my $fh, '>', "$DIR/f/$n" or die "$n: $!";
        binmode $fh;
        print $fh $f{$n};
        close $fh;
        $FILE{$n} = $f{$n};
    }
    # sinks that fail on every write: /dev/full under other names
    for my $s (qw(full1 full2 full3 full4)) {
        unlink "$DIR/$s";
        symlink "/dev/full", "$DIR/$s" or die "symlink: $!";
    }
}

make_files();

repeat_each(1);
no_shuffle();
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'_EOF_');
>>> audit.key
0123456789abcdef0123456789abcdef-test-key
_EOF_
    }

    if (($block->name // '') =~ /a full disk/ && !$TMPFS) {
        # a file system of 4 pages (needs root, as the disk-full drill)
        mkdir "$DIR/tfs";
        $TMPFS = "$DIR/tfs"
            if system("mount -t tmpfs -o size=16k,mode=0777 tmpfs "
                      . "'$DIR/tfs' 2>/dev/null") == 0;
    }

    $block->set_value("timeout", 60);

    if (!defined $block->no_error_log && !defined $block->must_die) {
        $block->set_value("no_error_log", "[alert]\n[emerg]\n");
    }
});

# one request on a new connection, read by its framing: returns a hash
# with status, h (headers), body, complete (the client has the whole
# answer), as soon as the answer is complete or the connection ends
sub fetch {
    my ($method, $uri, $id, @hdr) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $PORT, Timeout => 10)
        or return { error => "connect: $!", complete => 0 };
    binmode $s;
    print $s "$method $uri HTTP/1.1\r\nHost: localhost\r\nX-Id: $id\r\n",
             map({ "$_\r\n" } @hdr), "\r\n";
    my $buf = '';
    my $res = { complete => 0, body => '', sock => $s };
    my $more = sub {
        my $n = sysread($s, $buf, 1 << 20, length $buf);
        return $n;
    };
    while ($buf !~ /\r\n\r\n/) {
        $more->() or do { $res->{raw} = $buf; return $res };
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    ($res->{status}) = $head =~ m{^HTTP/1\.\d (\d{3})};
    my %h;
    for (split /\r\n/, $head) {
        $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    $res->{h} = \%h;
    $buf = $rest;
    my $st = $res->{status} // 0;
    if ($method eq 'HEAD' || $st == 204 || $st == 304) {
        $res->{complete} = 1;
        return $res;
    }
    if (defined $h{'content-length'}) {
        my $cl = $h{'content-length'};
        while (length $buf < $cl) {
            $more->() or last;
        }
        $res->{body} = $buf;
        $res->{complete} = length($buf) == $cl;
        return $res;
    }
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my $body = '';
        while (1) {
            while ($buf !~ /\r\n/) {
                $more->() or do { $res->{body} = $body; return $res };
            }
            my ($line) = $buf =~ /^([^\r]*)\r\n/;
            my $size = hex($line);
            my $need = length($line) + 2 + $size + 2;
            while (length $buf < $need) {
                $more->() or do { $res->{body} = $body; return $res };
            }
            if ($size == 0) {
                $res->{complete} = substr($buf, length($line) + 2, 2)
                                   eq "\r\n";
                $res->{body} = $body;
                return $res;
            }
            $body .= substr($buf, length($line) + 2, $size);
            substr($buf, 0, $need) = '';
        }
    }
    # delimited by the close
    while ($more->()) { }
    $res->{body} = $buf;
    $res->{complete} = 1;
    return $res;
}

# the records of request "id" in a log, now
sub records_of {
    my ($id, $file) = @_;
    $file //= FwAudit::path('audit.log');
    open my $fh, '<', $file or return 0;
    my $n = grep { /"request_id":"\Q$id\E"/ } <$fh>;
    close $fh;
    return $n;
}

# once every request's log phase ran (the access log names it)
sub settle {
    my @ids = @_;
    for (1 .. 100) {
        my %seen;
        if (open my $fh, '<', FwAudit::path('ids.log')) {
            while (<$fh>) {
                $seen{$1} = 1 if /^(\S+) /;
            }
            close $fh;
        }
        if (!grep { !$seen{$_} } @ids) {
            sleep 0.3;
            return '';
        }
        sleep 0.1;
    }
    return "the log phase never ran for some of @ids";
}

sub gunzipped {
    my ($z) = @_;
    my $out;
    gunzip(\$z => \$out) or return "gunzip: $GunzipError";
    return $out;
}

# each case: [name, method, uri, [headers], status, expected body or
# undef (none), transform of the body]
sub run_cases {
    my ($prefix, @cases) = @_;
    my @ids;
    my $n = 0;
    for my $c (@cases) {
        my ($name, $method, $uri, $hdr, $status, $want, $xf) = @$c;
        my $id = $prefix . ++$n;
        my $res = fetch($method, $uri, $id, @$hdr);
        # the moment the client has the whole answer
        my $now = records_of($id);
        close $res->{sock} if $res->{sock};
        return "$name: $res->{error}" if $res->{error};
        return "$name: status " . ($res->{status} // 'none')
            . " (raw: " . substr($res->{raw} // '', 0, 80) . ")"
            unless defined $res->{status} && $res->{status} == $status;
        return "$name: the answer is not complete" unless $res->{complete};
        my $body = $xf ? $xf->($res->{body}) : $res->{body};
        if (defined $want) {
            return "$name: body differs (" . length($body) . " bytes, "
                   . "expected " . length($want) . ")"
                unless $body eq $want;
        } elsif (length $res->{body}) {
            return "$name: a body with a header-only answer";
        }
        return "$name: $now records when the client had the answer"
            unless $now == 1;
        push @ids, $id;
    }
    my $e = settle(@ids);
    return $e if $e;
    for my $id (@ids) {
        my $k = records_of($id);
        return "$id: $k records after the log phase" unless $k == 1;
    }
    my ($rc, $out) = FwAudit::verify('--allow-open',
                                     FwAudit::path('audit.log'));
    return "verifier: $out" if $rc != 0;
    return '';
}

sub main::durable {
    return FwAudit::check(sub {
        my $future = strftime("%a, %d %b %Y %H:%M:%S GMT",
                              gmtime(time + 86400 * 365));
        return run_cases('d',
            ['static file, sendfile', 'GET', '/f/big.bin', [], 200,
             $FILE{'big.bin'}],
            ['static file, no sendfile', 'GET', '/nsf/big.bin', [], 200,
             $FILE{'big.bin'}],
            ['one byte', 'GET', '/f/one.bin', [], 200, 'x'],
            ['proxied, buffered, temp file', 'GET', '/p/big.bin', [], 200,
             $FILE{'big.bin'}],
            ['proxied, unbuffered', 'GET', '/pnb/big.bin', [], 200,
             $FILE{'big.bin'}],
            ['proxied one byte, unbuffered', 'GET', '/pnb/one.bin', [], 200,
             'x'],
            ['gzip, chunked', 'GET', '/gz/small.txt',
             ['Accept-Encoding: gzip'], 200, $FILE{'small.txt'},
             \&gunzipped],
            ['ssi: a subrequest inside the answer', 'GET', '/ssi/page.shtml',
             [], 200, "before|PART|after\n"],
            ['HEAD', 'HEAD', '/f/small.txt', [], 200, undef],
            ['HEAD proxied', 'HEAD', '/p/small.txt', [], 200, undef],
            ['204', 'GET', '/r204', [], 204, undef],
            ['304', 'GET', '/ims/small.txt',
             ["If-Modified-Since: $future"], 304, undef],
            ['Content-Length: 0', 'GET', '/empty', [], 200, ''],
            ['404 from nginx', 'GET', '/f/none', [], 404, 'a 404 page',
             sub { $_[0] =~ /404 Not Found/ ? 'a 404 page' : $_[0] }],
            ['range', 'GET', '/f/small.txt', ['Range: bytes=4-9'], 206,
             substr($FILE{'small.txt'}, 4, 6)]);
    });
}

sub main::h2 {
    return FwAudit::check(sub {
        my @ids;
        for my $c (['h1', '/f/big.bin', $FILE{'big.bin'}],
                   ['h2', '/pnb/big.bin', $FILE{'big.bin'}],
                   ['h3', '/f/one.bin', 'x'])
        {
            my ($id, $uri, $want) = @$c;
            my $out = FwAudit::servroot() . "/logs/h2.body";
            unlink $out;
            my $w = `curl -s --http2-prior-knowledge -o '$out' -H 'X-Id: $id' -w '%{http_code} %{http_version}' 'http://127.0.0.1:$ENV{TEST_NGINX_H2_PORT}$uri'`;
            my $now = records_of($id);
            return "$id: curl: $w" unless $w eq '200 2';
            open my $fh, '<', $out or return "$id: no body";
            binmode $fh;
            local $/;
            my $body = <$fh>;
            close $fh;
            return "$id: body differs" unless $body eq $want;
            return "$id: $now records when the client had the answer"
                unless $now == 1;
            push @ids, $id;
        }
        my $w = `curl -s --http2-prior-knowledge -I -o /dev/null -H 'X-Id: h4' -w '%{http_code}' 'http://127.0.0.1:$ENV{TEST_NGINX_H2_PORT}/f/small.txt'`;
        my $now = records_of('h4');
        return "HEAD: curl $w, $now records" unless $w eq '200' && $now == 1;
        push @ids, 'h4';
        my $e = settle(@ids);
        return $e if $e;
        for my $id (@ids) {
            my $k = records_of($id);
            return "$id: $k records after the log phase" unless $k == 1;
        }
        return '';
    });
}

sub main::cut {
    return FwAudit::check(sub {
        # fail closed, the sink fails at the record: no complete answer
        my $r = fetch('GET', '/c1/small.txt', 'x1');
        return "GET: $r->{error}" if $r->{error};
        return "GET: the client has the whole answer (status "
               . ($r->{status} // '-') . ")"
            if $r->{complete};
        return "GET: " . length($r->{body}) . " bytes of "
               . length($FILE{'small.txt'})
            if length($r->{body}) >= length($FILE{'small.txt'});
        $r = fetch('GET', '/c3/big.bin', 'x2');
        return "GET big: the client has the whole answer" if $r->{complete};
        $r = fetch('HEAD', '/c2/small.txt', 'x3');
        return "HEAD: answered (" . ($r->{status} // '-') . ")"
            if $r->{complete} || defined $r->{status};
        # the sink failed: refused before the content, a complete 503
        $r = fetch('GET', '/c1/small.txt', 'x4');
        return "then: " . ($r->{status} // '-') . " complete="
               . $r->{complete}
            unless ($r->{status} // 0) == 503 && $r->{complete};
        # fail open: served whole, the record lost
        $r = fetch('GET', '/o/small.txt', 'x5');
        return "fail open: " . ($r->{status} // '-')
            unless ($r->{status} // 0) == 200 && $r->{complete}
                   && $r->{body} eq $FILE{'small.txt'};
        my @e = FwAudit::lines('sink-errors.log');
        my $n = grep { /fw_audit: the audit record could not be written, the answer is cut short/ } @e;
        return "the cut was logged $n times (3 expected)" unless $n == 3;
        return '';
    });
}

sub main::client_gone {
    return FwAudit::check(sub {
        # the client goes before the answer: the log phase writes 499
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $PORT, Timeout => 5)
            or return "connect: $!";
        print $s "GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Id: g1\r\n\r\n";
        sleep 0.3;
        close $s;
        my $e = settle('g1');
        return $e if $e;
        my @r = grep { $_->{request_id} eq 'g1' }
                FwAudit::requests('audit.log');
        return "records: " . scalar(@r) unless @r == 1;
        return "status $r[0]{status}" unless $r[0]{status} == 499;
        return '';
    });
}

sub main::disk_full {
    return FwAudit::check(sub {
        if (!$TMPFS) {
            Test::More::diag("skipped: cannot mount a tmpfs (needs root)");
            return '';
        }
        my $log = "$TMPFS/audit.log";
        my $r = fetch('GET', '/t/small.txt', 'f0');
        return "f0: " . ($r->{status} // '-') unless $r->{complete};
        # the disk fills: the audit log can grow within its last page only
        open my $fill, '>', "$TMPFS/filler" or return "filler: $!";
        binmode $fill;
        1 while syswrite($fill, "\0" x 4096);
        close $fill;
        my $stop;
        for my $i (1 .. 40) {
            $r = fetch('GET', '/t/small.txt', "f$i");
            if (!($r->{complete} && ($r->{status} // 0) == 200)) {
                $stop = $i;
                last;
            }
        }
        return "the disk never filled" unless $stop;
        # the short write was taken back: whole records only
        open my $fh, '<', $log or return "$log: $!";
        my $all = do { local $/; <$fh> };
        close $fh;
        return "the log ends inside a record" unless $all =~ /\n\z/;
        for (split /\n/, $all) {
            eval { JSON::PP::decode_json($_); 1 }
                or return "not a whole record: " . substr($_, 0, 60);
        }
        my ($rc, $out) = FwAudit::verify('--allow-open', $log);
        return "verifier: $out" if $rc != 0 || $out =~ /modified|cut short/;
        my @e = FwAudit::lines('sink-errors.log');
        my $inc = grep { /\[crit\].*fw_audit: write\(\) to .* (was incomplete|failed)/ } @e;
        return "the failure was logged $inc times" unless $inc == 1;
        # room again: the worker tries the sink before it refuses, so it
        # serves at once (no 503 first), and says so once
        unlink "$TMPFS/filler";
        for my $j (1 .. 3) {
            $r = fetch('GET', '/t/small.txt', "g$j");
            return "g$j: " . ($r->{status} // '-') . " once there is room"
                unless $r->{complete} && ($r->{status} // 0) == 200;
            return "g$j: not in the log when answered"
                unless records_of("g$j", $log) == 1;
        }
        @e = FwAudit::lines('sink-errors.log');
        my $ok = grep { /\[notice\].*fw_audit: .* is writable again/ } @e;
        return "the recovery was logged $ok times" unless $ok == 1;
        ($rc, $out) = FwAudit::verify('--allow-open', $log);
        return "verifier after the recovery: $out"
            if $rc != 0 || $out =~ /modified|cut short/;
        return '';
    });
}

run_tests();

__DATA__

=== TEST 1: the record is in the log when the client has the last byte
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
log_format ids '$http_x_id $status';
--- config
access_log logs/ids.log ids;
fw_audit_log logs/audit.log;
fw_audit_field request_id $http_x_id $request_id;
mirror /_hang;
location = /_hang {
    internal;
    proxy_pass http://127.0.0.1:$TEST_NGINX_HANG_PORT;
    proxy_read_timeout 1s;
}
location /f/ {
    root $TEST_NGINX_DURABLE_DIR;
    sendfile on;
}
location /nsf/ {
    alias $TEST_NGINX_DURABLE_DIR/f/;
    sendfile off;
    output_buffers 2 8k;
}
location /ims/ {
    alias $TEST_NGINX_DURABLE_DIR/f/;
    if_modified_since before;
}
location /p/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/;
    proxy_buffering on;
    proxy_buffers 2 4k;
    proxy_buffer_size 4k;
    proxy_busy_buffers_size 4k;
    proxy_max_temp_file_size 8m;
    proxy_temp_file_write_size 4k;
}
location /pnb/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/;
    proxy_buffering off;
    proxy_buffer_size 4k;
}
location /gz/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 1;
}
location /raw/ {
    fw_audit_log off;
    access_log off;
    mirror off;
    alias $TEST_NGINX_DURABLE_DIR/f/;
}
location /ssi/ {
    alias $TEST_NGINX_DURABLE_DIR/f/;
    ssi on;
    ssi_types *;
}
location = /part { return 200 "PART"; }
location = /r204 { return 204; }
location = /empty { return 200 ""; }
location = /done { mirror off; return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::durable() })/



=== TEST 2: HTTP/2: the record before the last DATA frame
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
log_format ids '$http_x_id $status';
server {
    listen 127.0.0.1:$TEST_NGINX_H2_PORT http2;
    access_log logs/ids.log ids;
    fw_audit_log logs/audit.log;
    fw_audit_field request_id $http_x_id $request_id;
    mirror /_hang;
    location = /_hang {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HANG_PORT;
        proxy_read_timeout 1s;
    }
    location /f/ {
        root $TEST_NGINX_DURABLE_DIR;
    }
    location /pnb/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/;
        proxy_buffering off;
    }
}
--- config
location /raw/ {
    alias $TEST_NGINX_DURABLE_DIR/f/;
}
location = /done { return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::h2() })/



=== TEST 3: fail closed: a record that cannot be written cuts the answer
--- config
# the sinks' failures ([crit]) go to a log of their own
error_log logs/sink-errors.log info;
fw_audit_fail_closed on;
location /c1/ {
    fw_audit_log $TEST_NGINX_DURABLE_DIR/full1;
    alias $TEST_NGINX_DURABLE_DIR/f/;
}
location /c2/ {
    fw_audit_log $TEST_NGINX_DURABLE_DIR/full2;
    alias $TEST_NGINX_DURABLE_DIR/f/;
}
location /c3/ {
    fw_audit_log $TEST_NGINX_DURABLE_DIR/full3;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/;
}
location /o/ {
    fw_audit_log $TEST_NGINX_DURABLE_DIR/full4;
    fw_audit_fail_closed off;
    alias $TEST_NGINX_DURABLE_DIR/f/;
}
location /raw/ {
    alias $TEST_NGINX_DURABLE_DIR/f/;
}
location = /done { return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::cut() })/



=== TEST 4: a client gone before the answer: the log phase writes its record
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
log_format ids '$http_x_id $status';
--- config
access_log logs/ids.log ids;
fw_audit_log logs/audit.log;
fw_audit_field request_id $http_x_id $request_id;
location = /slow {
    proxy_pass http://127.0.0.1:$TEST_NGINX_HANG_PORT;
    proxy_read_timeout 2s;
    proxy_ignore_client_abort off;
}
location = /done { return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::client_gone() })/



=== TEST 5: a full disk: the short write is taken back; room again, served at once
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
# the sink's failure ([crit]) goes to a log of its own
error_log logs/sink-errors.log info;
location /t/ {
    fw_audit_log $TEST_NGINX_DURABLE_DIR/tfs/audit.log;
    fw_audit_field request_id $http_x_id $request_id;
    fw_audit_fail_closed on;
    alias $TEST_NGINX_DURABLE_DIR/f/;
}
location = /done { return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::disk_full() })/
