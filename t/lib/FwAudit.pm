package FwAudit;

# Helpers for t/audit*.t: read the audit records nginx wrote, run the
# verifier CLI on them, tamper with copies, send concurrent load.
#
# The checks run after the responses came back: a .t file calls them from
# a regex code block in the last "response_body_like" element,
#
#   qr/(??{ FwAudit::check(sub { ... return "problem" or "" }) })/
#
# so they work under any runner that matches bodies with Perl regexes.
# check() returns an empty pattern (matches) when the sub returns "", else
# prints the problem and returns a pattern that never matches.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Copy qw(copy);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);

our $Problem = '';

sub servroot {
    return $ENV{TEST_NGINX_SERVER_ROOT}
        || ($ENV{TEST_NGINX_HTML_DIR} ? dirname($ENV{TEST_NGINX_HTML_DIR})
                                      : 't/servroot');
}

sub path { return servroot() . "/logs/$_[0]" }

sub key_file { return servroot() . "/html/audit.key" }

sub verifier {
    my $build = $ENV{TEST_NGINX_FW_BUILD}
        || (($ENV{TEST_NGINX_FW_ROOT} || '.') . '/build');
    return "$build/tools/fw-audit-verify";
}

sub check {
    my ($sub) = @_;
    my $err = eval { $sub->() };
    $err = "died: $@" if !defined $err && $@;
    $Problem = $err // '';
    if ($Problem ne '') {
        Test::More::diag("audit check: $Problem");
        return '(?!)';
    }
    return '';
}

# the lines of a log, once no line is being written (the log phase runs
# after the response is sent)
sub lines {
    my ($file, $min) = @_;
    my $path = $file =~ m{/} ? $file : path($file);
    my @l;
    for (1 .. 40) {
        @l = ();
        if (open my $fh, '<', $path) {
            local $/;
            my $all = <$fh>;
            close $fh;
            @l = split /\n/, $all if defined $all;
            last if (!defined $min || @l >= $min)
                    && (!length($all) || substr($all, -1) eq "\n");
        }
        sleep 0.05;
    }
    return @l;
}

sub records {
    my ($file, $min) = @_;
    return map { decode_json($_) } lines($file, $min);
}

# the request records (jsonl: kind "request"; fhir: type "rest")
sub requests {
    my ($file, $min) = @_;
    my @r = records($file, $min);
    return grep {
        (($_->{kind} // '') eq 'request')
        || (($_->{resourceType} // '') eq 'AuditEvent'
            && ($_->{type}{code} // '') eq 'rest')
    } @r;
}

# compares a record with {field => value | qr// | undef (absent)}
sub fields {
    my ($rec, $want) = @_;
    for my $k (sort keys %$want) {
        my $w = $want->{$k};
        my $v = $rec->{$k};
        if (!defined $w) {
            return "field $k is present: " . encode_json([$v]) if defined $v;
            next;
        }
        return "field $k is absent" unless defined $v;
        if (ref $w eq 'Regexp') {
            return "field $k: '$v' !~ $w" unless $v =~ $w;
        } elsif ($v ne $w) {
            return "field $k: '$v' ne '$w'";
        }
    }
    return '';
}

# runs the verifier; returns (exit status, output)
sub verify {
    my (@args) = @_;
    my $cmd = join ' ', map { "'$_'" } verifier(), '-k', key_file(), @args;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub copy_lines {
    my ($to, @l) = @_;
    open my $fh, '>', $to or die "$to: $!";
    print $fh map { "$_\n" } @l;
    close $fh;
    return $to;
}

sub master_pid {
    open my $fh, '<', path('nginx.pid') or die "nginx.pid: $!";
    my $pid = <$fh>;
    close $fh;
    chomp $pid;
    return $pid;
}

sub get {
    my ($uri, @headers) = @_;
    my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $port, Timeout => 5)
        or return undef;
    print $s "GET $uri HTTP/1.0\r\nHost: localhost\r\n",
             map({ "$_\r\n" } @headers), "\r\n";
    local $/;
    my $resp = <$s>;
    close $s;
    return $resp;
}

# "n" requests from "conc" processes; returns the number of 200s
sub load {
    my ($uri, $n, $conc) = @_;
    my @pids;
    my $dir = servroot() . "/logs";
    for my $c (1 .. $conc) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $ok = 0;
            for my $i (1 .. int($n / $conc)) {
                my $r = get("$uri?c=$c&i=$i");
                $ok++ if defined $r && $r =~ m{^HTTP/1\.\d 200};
            }
            open my $fh, '>', "$dir/load.$c";
            print $fh $ok;
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my $ok = 0;
    for my $c (1 .. $conc) {
        open my $fh, '<', "$dir/load.$c" or next;
        $ok += <$fh>;
        close $fh;
    }
    return $ok;
}

1;
