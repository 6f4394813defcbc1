# fhirwall audit module: several workers (master process on): concurrent
# chains, and the end records a graceful worker exit writes.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwAudit;

BEGIN {
    # glibc fills freed memory: a pointer into it (TEST 3) fails at once
    $ENV{MALLOC_PERTURB_} ||= 165;
    $ENV{TEST_NGINX_HTML_DIR} ||=
        ($ENV{TEST_NGINX_SERVER_ROOT} || 't/servroot') . '/html';
}

repeat_each(1);
no_shuffle();
master_on();
workers(4);
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("user_files", <<'_EOF_');
>>> audit.key
0123456789abcdef0123456789abcdef-test-key
_EOF_
    $block->set_value("no_error_log", "[alert]\n[emerg]\n");
    $block->set_value("timeout", 60);
});

sub chains_of {
    my %c;
    for (@_) {
        $c{$1}++ if /"(?:chain|valueString)":"fwa1 \S+ (\S+) /;
    }
    return %c;
}

sub main::concurrent {
    return FwAudit::check(sub {
        my $ok = FwAudit::load('/c', 800, 8);
        return "only $ok of 800 requests succeeded" if $ok != 800;
        my @l;
        for (1 .. 50) {
            @l = FwAudit::lines('audit.log');
            last if (grep { /"kind":"request"/ } @l) >= 800;
            select undef, undef, undef, 0.1;
        }
        my @req = grep { /"kind":"request"/ } @l;
        return "expected 800 records, got " . scalar(@req) if @req != 800;
        my %c = chains_of(@l);
        my $n = keys %c;
        return "expected 1 to 4 chains, got $n" if $n < 1 || $n > 4;
        my $starts = grep { /"kind":"start"/ } @l;
        return "$starts start records for $n chains" if $starts != $n;
        my $total = 800 + $n;
        my ($rc, $out) = FwAudit::verify('--allow-open',
                                         FwAudit::path('audit.log'));
        return "verifier: $out"
            unless $rc == 0
                   && $out =~ /$total records, $n chains, 0 errors/;
        return '';
    });
}

sub main::truncation {
    return FwAudit::check(sub {
        FwAudit::load('/t', 40, 4) == 40 or return "load failed";
        my @l = FwAudit::lines('audit.log');
        my %c = chains_of(@l);
        my ($old) = sort { $c{$b} <=> $c{$a} } keys %c;
        return "no chain" unless $old;

        # HUP: the old workers end their chains gracefully
        kill 'HUP', FwAudit::master_pid();
        my @mine;
        for (1 .. 100) {
            @mine = grep { /\Q$old\E/ } FwAudit::lines('audit.log');
            last if grep { /"kind":"end"/ } @mine;
            select undef, undef, undef, 0.1;
        }
        return "no end record" unless grep { /"kind":"end"/ } @mine;
        return "chain too short" if @mine < 4;
        my $dir = FwAudit::servroot() . "/logs";
        my $f = FwAudit::copy_lines("$dir/old.log", @mine);
        my ($rc, $out) = FwAudit::verify($f);
        return "closed chain: $out" if $rc != 0;

        # the whole log after the reload: every chain closed or open
        ($rc, $out) = FwAudit::verify('--allow-open',
                                      FwAudit::path('audit.log'));
        return "whole log: $out" if $rc != 0;

        # the last two records (a request and the end) cut off
        my @t = @mine[0 .. $#mine - 2];
        my $n = scalar @t;
        $f = FwAudit::copy_lines("$dir/trunc.log", @t);
        ($rc, $out) = FwAudit::verify($f);
        return "truncation not detected: $out"
            unless $rc == 1
                   && $out =~ /trunc\.log:$n: error: chain \S+: no end record/;

        # the end record alone cut off
        @t = @mine[0 .. $#mine - 1];
        $n = scalar @t;
        $f = FwAudit::copy_lines("$dir/trunc1.log", @t);
        ($rc, $out) = FwAudit::verify($f);
        return "end cut not detected: $out"
            unless $rc == 1 && $out =~ /trunc1\.log:$n: error: .*no end/;
        return '';
    });
}

# three generations of workers: each reload's old workers exit (the
# configuration's cleanups run in them) without a crash
sub main::reloads {
    return FwAudit::check(sub {
        my $log = FwAudit::servroot() . "/logs/error.log";
        for my $n (1 .. 3) {
            FwAudit::load('/t', 20, 2) == 20 or return "load $n failed";
            kill 'HUP', FwAudit::master_pid();
            my $ok;
            for (1 .. 100) {
                open my $fh, '<', $log or return "$log: $!";
                my $exits = () = grep { /gracefully shutting down/ } <$fh>;
                close $fh;
                $ok = 1, last if $exits >= 4 * $n;
                select undef, undef, undef, 0.1;
            }
            return "reload $n: the old workers did not exit" unless $ok;
        }
        select undef, undef, undef, 0.5;
        open my $fh, '<', $log or return "$log: $!";
        my @bad = grep { /exited on signal|\[alert\]/ } <$fh>;
        close $fh;
        return "a worker crashed: $bad[0]" if @bad;
        my ($rc, $out) = FwAudit::verify('--allow-open',
                                         FwAudit::path('audit.log'));
        return "verifier: $out" if $rc != 0;
        return '';
    });
}

run_tests();

__DATA__

=== TEST 1: workers 4 under concurrent load: every chain intact
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
location /c { try_files /index.html =404; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::concurrent() })/



=== TEST 2: truncation after a chain's end (a reload ends the old chains)
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
location /t { try_files /index.html =404; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::truncation() })/



=== TEST 3: three reloads: the old workers of each exit cleanly
A cleanup of the configuration's pool logged with the previous cycle's
log, freed by then: the workers of the second generation crashed on exit.
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
location /t { try_files /index.html =404; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::reloads() })/
