# fhirwall audit module: several workers (master process on): concurrent
# chains, and the end records a graceful worker exit writes.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwAudit;

BEGIN {
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
