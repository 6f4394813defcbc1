# fhirwall audit module: records, formats, chains, delivery.
#
# Checks of the written records run after the responses came back, from the
# last element of "response_body_like" (see t/lib/FwAudit.pm).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwAudit;

BEGIN {
    $ENV{TEST_NGINX_HTML_DIR} ||=
        ($ENV{TEST_NGINX_SERVER_ROOT} || 't/servroot') . '/html';
    # a sink outside the server root, prepared before nginx starts
    $ENV{TEST_NGINX_AUDIT_TMP} ||= "/tmp/fw-audit-t-"
        . ($ENV{TEST_NGINX_SERVER_PORT} || 1984) . "-$$";
}

END {
    system("rm", "-rf", $ENV{TEST_NGINX_AUDIT_TMP})
        if $ENV{TEST_NGINX_AUDIT_TMP} =~ m{^/tmp/fw-audit-t-};
}

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

    if (($block->name // '') =~ /recovers/) {
        my $d = $ENV{TEST_NGINX_AUDIT_TMP};
        mkdir $d;
        unlink "$d/sink";
        symlink "/dev/full", "$d/sink" or die "symlink: $!";
    }

    if (!defined $block->no_error_log && !defined $block->must_die) {
        $block->set_value("no_error_log", "[alert]\n[emerg]\n");
    }
});

my $H64 = qr/^[0-9a-f]{64}$/;

sub req_n {   # the request records of a log, "n" of them at least
    my ($file, $n) = @_;
    my @r = FwAudit::requests($file, $n);
    return @r;
}

sub main::every_field {
    return FwAudit::check(sub {
        my @r = req_n('audit.log', 3);
        return "expected 1 request record, got " . scalar(@r) if @r != 1;
        my $e = FwAudit::fields($r[0], {
            v => 1, kind => 'request',
            time => qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
            gateway => 'gw-test',
            request_id => qr/^[0-9a-f]{32}$/,
            client => '127.0.0.1',
            user => 'alice', role => 'clinician', client_id => 'app-1',
            fhir_user => 'Practitioner/pr1', purpose => 'TREAT',
            patient => 'p1', interaction => 'vread', type => 'Patient',
            id => 'p1', vid => '2', operation => '$everything',
            compartment => 'Patient/p1',
            method => 'GET', path => '/a/Patient/p1/_history/2',
            query => 'name=x&patient=p1',
            status => 200, outcome => 0,
            bytes_sent => qr/^\d+$/,
            request_time => qr/^\d+\.\d{3}$/,
            upstream_status => '200',
            upstream_time => qr/^\d+\.\d{3}$/,
            denied_by => undef, reason => undef, truncated => undef,
            query_hash => undef,
            chain => qr/^fwa1 req \S+ 0 1 0 [0-9a-f]{64}$/,
            mac => $H64,
        });
        return $e if $e;
        my ($rc, $out) = FwAudit::verify('--allow-open',
                                         FwAudit::path('audit.log'));
        return "verifier: $out" if $rc != 0 || $out !~ /0 errors/;
        return '';
    });
}

sub main::query_modes {
    return FwAudit::check(sub {
        my @r = req_n('audit.log', 4);
        return "expected 3 records, got " . scalar(@r) if @r != 3;
        my %by = map { $_->{path} => $_ } @r;
        my $e = FwAudit::fields($by{'/q/hash'}, {
            query => undef,
            query_hash => qr/^hmac-sha256:[0-9a-f]{64}$/ })
            || FwAudit::fields($by{'/q/omit'}, {
            query => undef, query_hash => undef })
            || FwAudit::fields($by{'/q/raw'}, {
            query => 'patient=123&x=%22y', query_hash => undef });
        return $e;
    });
}

sub main::denials {
    return FwAudit::check(sub {
        my @r = req_n('audit.log', 7);
        return "expected 6 records, got " . scalar(@r) if @r != 6;
        my %by = map { $_->{path} => $_ } @r;
        return FwAudit::fields($by{'/d/jwt'}, {
                   status => 401, outcome => 4, denied_by => 'jwt',
                   reason => 'expired' })
            || FwAudit::fields($by{'/d/fhir'}, {
                   status => 403, outcome => 4, denied_by => 'fhir',
                   reason => 'insufficient-scope' })
            || FwAudit::fields($by{'/d/rate'}, {
                   status => 429, outcome => 4, denied_by => 'ratelimit',
                   reason => 'limited' })
            || FwAudit::fields($by{'/d/hook'}, {
                   status => 401, denied_by => 'webhook',
                   reason => 'bad-signature' })
            || FwAudit::fields($by{'/d/ok'}, {
                   status => 200, outcome => 0, denied_by => undef })
            || FwAudit::fields($by{'/d/up'}, {
                   status => 403, outcome => 4, denied_by => 'upstream',
                   reason => '403', upstream_status => '403' })
            || (join(',', map { "$_=$by{'/d/ok'}{checks}{$_}" }
                             sort keys %{ $by{'/d/ok'}{checks} })
                eq 'fhir=ok,jwt=valid' ? '' : 'checks of /d/ok');
    });
}

sub coding_ok {
    my ($c, $system, $code) = @_;
    return 0 unless ref $c eq 'HASH';
    return ($c->{system} // '') eq $system && ($c->{code} // '') eq $code;
}

# the BALP field list of a RESTful AuditEvent
sub balp {
    my ($ev, %w) = @_;
    my $p = "$w{name}: ";
    return "${p}resourceType" unless $ev->{resourceType} eq 'AuditEvent';
    return "${p}meta.profile"
        unless $ev->{meta}{profile}[0] eq
            "https://profiles.ihe.net/ITI/BALP/StructureDefinition/"
            . "IHE.BasicAudit.$w{profile}";
    return "${p}type" unless coding_ok($ev->{type},
        'http://terminology.hl7.org/CodeSystem/audit-event-type', 'rest');
    return "${p}subtype" unless coding_ok($ev->{subtype}[0],
        'http://hl7.org/fhir/restful-interaction', $w{interaction});
    return "${p}action $ev->{action}" unless $ev->{action} eq $w{action};
    return "${p}recorded"
        unless $ev->{recorded} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    return "${p}outcome $ev->{outcome}" unless $ev->{outcome} eq $w{outcome};
    return "${p}outcomeDesc" unless $ev->{outcomeDesc} =~ /^HTTP \d{3}/;

    my @a = @{ $ev->{agent} };
    return "${p}3 agents" unless @a == 3;
    my ($user, $client, $server) = @a;
    my $ut = $w{action} =~ /^[CUD]$/
        ? ['http://terminology.hl7.org/CodeSystem/v3-RoleClass', 'AGNT']
        : ['http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
           'IRCP'];
    return "${p}user agent type"
        unless coding_ok($user->{type}{coding}[0], @$ut);
    return "${p}user requestor" unless $user->{requestor};
    return "${p}user who" unless $user->{who}{identifier}{value} eq $w{user};
    return "${p}user role" unless $user->{role}[0]{text} eq 'clinician';
    return "${p}fhirUser"
        unless $user->{who}{reference} eq 'Practitioner/pr1';
    return "${p}purposeOfUse" unless coding_ok(
        $user->{purposeOfUse}[0]{coding}[0],
        'http://terminology.hl7.org/CodeSystem/v3-ActReason', 'TREAT');
    my $dcm = 'http://dicom.nema.org/resources/ontology/DCM';
    return "${p}client agent type"
        unless coding_ok($client->{type}{coding}[0], $dcm, '110153');
    return "${p}client requestor" if $client->{requestor};
    return "${p}client who"
        unless $client->{who}{identifier}{value} eq 'app-1';
    return "${p}client network"
        unless $client->{network}{address} eq '127.0.0.1'
               && $client->{network}{type} eq '2';
    return "${p}server agent type"
        unless coding_ok($server->{type}{coding}[0], $dcm, '110152');
    return "${p}server who" unless $server->{who}{display} eq 'gw-test';
    return "${p}source observer"
        unless $ev->{source}{observer}{display} eq 'gw-test'
               && coding_ok($ev->{source}{type}[0],
                   'http://terminology.hl7.org/CodeSystem/'
                   . 'security-source-type', '4');

    my $ent = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
    my $role = 'http://terminology.hl7.org/CodeSystem/object-role';
    my @e = @{ $ev->{entity} };
    my ($tx) = grep { ($_->{type}{code} // '') eq 'XrequestId' } @e;
    return "${p}transaction entity"
        unless $tx && $tx->{what}{identifier}{value} =~ /^[0-9a-f]{32}$/;
    my ($data) = grep { coding_ok($_->{role}, $role, '4') } @e;
    if (defined $w{data}) {
        return "${p}data entity"
            unless $data && coding_ok($data->{type}, $ent, '2')
                   && $data->{what}{reference} eq $w{data};
    }
    my ($pat) = grep { coding_ok($_->{role}, $role, '1') } @e;
    if (defined $w{patient}) {
        return "${p}patient entity"
            unless $pat && coding_ok($pat->{type}, $ent, '1')
                   && $pat->{what}{reference} eq "Patient/$w{patient}";
    } elsif ($pat) {
        return "${p}unexpected patient entity";
    }
    my ($q) = grep { coding_ok($_->{role}, $role, '24') } @e;
    if (defined $w{query}) {
        require MIME::Base64;
        return "${p}query entity"
            unless $q && coding_ok($q->{type}, $ent, '2')
                   && MIME::Base64::decode_base64($q->{query}) eq $w{query};
    } elsif ($q) {
        return "${p}unexpected query entity";
    }
    my @ext = @{ $ev->{extension} };
    return "${p}chain extension"
        unless $ext[0]{url} eq 'urn:fhirwall:audit-chain'
               && $ext[1]{url} eq 'urn:fhirwall:audit-mac'
               && $ext[1]{valueString} =~ $H64;
    return '';
}

sub main::fhir_balp {
    return FwAudit::check(sub {
        my @r = req_n('audit.fhir', 7);
        return "expected 5 AuditEvents, got " . scalar(@r) if @r != 5;
        my %by = map { ($_->{subtype}[0]{code}) => $_ } @r;
        return balp($by{read}, name => 'read', profile => 'PatientRead',
                    interaction => 'read', action => 'R', outcome => '0',
                    user => 'alice', data => 'Patient/p1',
                    patient => 'p1', query => 'i=read&t=Patient&id=p1&p=p1')
            || balp($by{create}, name => 'create', profile => 'Create',
                    interaction => 'create', action => 'C', outcome => '0',
                    user => 'alice', data => 'Observation',
                    query => 'i=create&t=Observation')
            || balp($by{'search-type'}, name => 'search',
                    profile => 'PatientQuery', interaction => 'search-type',
                    action => 'E', outcome => '4', user => 'alice',
                    data => 'Observation', patient => 'p2',
                    query => 'i=search-type&t=Observation&p=p2')
            || balp($by{delete}, name => 'delete', profile => 'Delete',
                    interaction => 'delete', action => 'D', outcome => '8',
                    user => 'alice', data => 'Observation/o1',
                    query => 'i=delete&t=Observation&id=o1')
            || balp($by{vread}, name => 'vread', profile => 'Read',
                    interaction => 'vread', action => 'R', outcome => '0',
                    user => 'alice', data => 'Observation/o1/_history/3',
                    query => 'i=vread&t=Observation&id=o1&v=3')
            || do {
                my ($rc, $out) = FwAudit::verify('--allow-open',
                                             FwAudit::path('audit.fhir'));
                $rc == 0 ? '' : "verifier: $out";
            };
    });
}

sub main::escaping {
    return FwAudit::check(sub {
        my @l = FwAudit::lines('audit.log', 3);
        my @req = grep { /"kind":"request"/ } @l;
        return "expected 2 request lines" unless @req == 2;
        for (@req) {
            return "line over 4096 bytes: " . length($_) if length($_) > 4095;
            # printable ASCII, and the one well-formed UTF-8 "e acute"
            (my $rest = $_) =~ s/\xc3\xa9//g;
            return "raw control or stray byte" if $rest =~ /[^\x20-\x7e]/;
            return "raw markup" if /[<>]/;
        }
        my ($small) = grep { !/"truncated"/ } @req;
        my ($big) = grep { /"truncated":true/ } @req;
        return "no truncated record" unless $big && $small;
        my $s = JSON::PP::decode_json($small);
        return "escaped user: $s->{user}"
            unless $s->{user} eq "a\"b\\c<d>\te\x{e9}";
        my ($rc, $out) = FwAudit::verify('--allow-open',
                                         FwAudit::path('audit.log'));
        return $rc == 0 ? '' : "verifier: $out";
    });
}

sub tamper {
    my ($name, $lines, $want, @opts) = @_;
    my $f = FwAudit::copy_lines(FwAudit::servroot() . "/logs/$name",
                                @$lines);
    my ($rc, $out) = FwAudit::verify(@opts, $f);
    return "$name: not detected (rc $rc): $out" if $rc != 1;
    return "$name: report does not name the record: $out"
        unless $out =~ $want;
    return '';
}

sub main::tampering {
    return FwAudit::check(sub {
        my @l = FwAudit::lines('audit.log', 7);
        return "expected 7 lines, got " . scalar(@l) if @l < 7;
        my ($rc, $out) = FwAudit::verify('--allow-open',
                                         FwAudit::path('audit.log'));
        return "clean log: $out" if $rc != 0;

        # edit: a field of record 4
        my @e = @l;
        $e[3] =~ s/"user":"alice"/"user":"mallory"/ or return "no user";
        # delete record 3
        my @d = @l; splice @d, 2, 1;
        # reorder records 4 and 5
        my @o = @l; @o[3, 4] = @o[4, 3];
        # duplicate record 2
        my @p = (@l[0 .. 5], $l[1]);
        # delete the first record (the chain's start)
        my @s = @l[1 .. $#l];
        # a forged epoch
        my @f = @l;
        $f[2] =~ s/(fwa1 req \S+ )0 /${1}99999999999 / or return "no seal";

        return tamper('edit.log', \@e,
                   qr/edit\.log:4: error: chain \S+ seq 3: record modified/,
                   '--allow-open')
            || tamper('delete.log', \@d,
                   qr/delete\.log:3: error: chain \S+: seq 2\.\.2 missing/,
                   '--allow-open')
            || tamper('reorder.log', \@o,
                   qr/reorder\.log:5: error: chain \S+ seq 3: out of order/,
                   '--allow-open')
            || tamper('dup.log', \@p,
                   qr/dup\.log:7: error: chain \S+ seq 1: duplicate of/,
                   '--allow-open')
            || tamper('start.log', \@s,
                   qr/start\.log:1: error: chain \S+: its start is missing/,
                   '--allow-open')
            || tamper('epoch.log', \@f,
                   qr/epoch\.log:3: error: .*epoch 99999999999 is implaus/,
                   '--allow-open')
            || do {
                # a line cut in the middle (no newline at the end)
                my $f2 = FwAudit::servroot() . "/logs/cut.log";
                FwAudit::copy_lines($f2, @l);
                truncate $f2, (-s $f2) - 20;
                my ($rc2, $out2) = FwAudit::verify('--allow-open', $f2);
                $rc2 == 1 && $out2 =~ /cut\.log:7: error: the file ends/
                    ? '' : "cut: $out2";
            }
            || do {
                # a line cut and a newline added
                my @c = @l;
                $c[6] = substr($c[6], 0, 100);
                tamper('cut2.log', \@c,
                       qr/cut2\.log:7: error: not a sealed audit record/,
                       '--allow-open');
            };
    });
}

sub main::reopen {
    return FwAudit::check(sub {
        my @l = FwAudit::lines('audit.log', 3);
        return "expected 3 lines before USR1" if @l != 3;
        my $log = FwAudit::path('audit.log');
        rename $log, "$log.1" or return "rename: $!";
        kill 'USR1', FwAudit::master_pid();
        my $st;
        for (1 .. 50) {
            last if -e $log;
            select undef, undef, undef, 0.1;
        }
        return "not reopened" unless -e $log;
        for my $i (1 .. 3) {
            my $r = FwAudit::get("/r/after$i");
            return "request after USR1 failed" unless $r && $r =~ / 200 /;
        }
        my @n = FwAudit::lines('audit.log', 3);
        return "expected 3 records in the new file, got " . scalar(@n)
            if @n != 3;
        my $mode = (stat $log)[2] & 07777;
        return sprintf("new file mode %04o", $mode) if $mode != 0600;
        my ($rc, $out) = FwAudit::verify('--allow-open', "$log.1", $log);
        return "verifier: $out" unless $rc == 0 && $out =~ /6 records/;
        # the new file alone misses the chain's start
        ($rc, $out) = FwAudit::verify('--allow-open', $log);
        return "new file alone passes" if $rc == 0;
        # unless told that older files exist
        ($rc, $out) = FwAudit::verify('--allow-open', '--allow-partial',
                                      $log);
        return "new file alone with --allow-partial: $out"
            unless $rc == 0 && $out =~ /its start is missing/;
        return '';
    });
}

sub main::buffered {
    return FwAudit::check(sub {
        my @l = FwAudit::lines('audit.log');
        return "records written before the flush: " . scalar(@l)
            if grep { /"kind":"request"/ } @l;
        select undef, undef, undef, 1.5;
        @l = FwAudit::lines('audit.log', 4);
        my @req = grep { /"kind":"request"/ } @l;
        return "expected 3 records after the flush, got " . scalar(@req)
            if @req != 3;
        my ($rc, $out) = FwAudit::verify('--allow-open',
                                         FwAudit::path('audit.log'));
        return $rc == 0 ? '' : "verifier: $out";
    });
}

sub main::no_key {
    return FwAudit::check(sub {
        my @r = FwAudit::records('audit.log', 1);
        return "expected 1 record, got " . scalar(@r) if @r != 1;
        return FwAudit::fields($r[0], {
            kind => 'request', chain => undef, mac => undef,
            user => undef, role => undef, patient => undef,
            interaction => undef, upstream_status => undef,
            method => 'GET', path => '/n', status => 200,
            gateway => qr/./ });
    });
}

sub main::fsync_mode {
    return FwAudit::check(sub {
        my @r = req_n('audit.log', 3);
        return "expected 2 records, got " . scalar(@r) if @r != 2;
        my $mode = (stat FwAudit::path('audit.log'))[2] & 07777;
        return sprintf("mode %04o", $mode) if $mode != 0640;
        return '';
    });
}

sub main::two_sinks {
    return FwAudit::check(sub {
        my @j = req_n('audit.log', 3);
        my @f = req_n('audit.fhir', 3);
        return "jsonl " . scalar(@j) . ", fhir " . scalar(@f)
            unless @j == 2 && @f == 2;
        return "jsonl interactions"
            unless join(',', map { $_->{interaction} } @j) eq 'read,create';
        return "fhir actions"
            unless join(',', map { $_->{action} } @f) eq 'R,C';
        for my $file ('audit.log', 'audit.fhir') {
            my ($rc, $out) = FwAudit::verify('--allow-open',
                                             FwAudit::path($file));
            return "$file: $out"
                unless $rc == 0 && $out =~ /3 records, 1 chains/;
        }
        return '';
    });
}

sub main::epochs {
    return FwAudit::check(sub {
        for my $i (2 .. 4) {
            select undef, undef, undef, 0.6;
            my $r = FwAudit::get("/k/$i");
            return "request $i failed" unless $r && $r =~ / 200 /;
        }
        my @l = FwAudit::lines('audit.log', 5);
        return "expected 5 lines, got " . scalar(@l) if @l != 5;
        my @e = map { /"chain":"fwa1 \S+ \S+ (\d+) / ? $1 : 'x' } @l;
        return "epochs @e do not advance" unless $e[-1] >= 1;
        my ($rc, $out) = FwAudit::verify('--allow-open',
                                         FwAudit::path('audit.log'));
        return "verifier: $out" if $rc != 0;
        # a record moved to another epoch no longer verifies
        my @t = @l;
        $t[-1] =~ s/("chain":"fwa1 \S+ \S+ )(\d+)/$1 . ($2 - 1)/e;
        my $f = FwAudit::copy_lines(FwAudit::servroot() . "/logs/e.log", @t);
        ($rc, $out) = FwAudit::verify('--allow-open', $f);
        return "epoch change not detected: $out"
            unless $rc == 1 && $out =~ /e\.log:5: error: .*record modified/;
        return '';
    });
}

sub main::stderr_sink {
    return FwAudit::check(sub {
        my $log = FwAudit::path('error.log');
        my @r = grep { /^\{"v":1,"kind":"request",.*"user":"bob"/
                       && m{"path":"/s/fwh-\d+-[0-9a-f]{24}"} }
                 FwAudit::lines('error.log');
        return "no record in the error log" unless @r == 1;
        my ($rc, $out) = FwAudit::verify('--allow-open', $log);
        return "mixed lines accepted" if $rc == 0;
        ($rc, $out) = FwAudit::verify('--allow-open', '--skip-other', $log);
        return "verifier: $out"
            unless $rc == 0 && $out =~ /2 records, 1 chains, 0 errors/;
        return '';
    });
}

sub main::recovers {
    return FwAudit::check(sub {
        my $d = $ENV{TEST_NGINX_AUDIT_TMP};
        my $r = FwAudit::get("/full");
        return "not refused while failing" unless $r =~ m{^HTTP/1\.\d 503};
        # the disk has room again: a new file, reopened on USR1
        unlink "$d/sink";
        open my $fh, '>', "$d/sink" or return "create: $!";
        close $fh;
        chmod 0600, "$d/sink";
        kill 'USR1', FwAudit::master_pid();
        select undef, undef, undef, 0.3;
        # the chain's start record, still to be written, is the probe:
        # the next request is served
        for (1 .. 2) {
            $r = FwAudit::get("/full");
            return "not served after recovery"
                unless $r =~ m{^HTTP/1\.\d 200};
        }
        my @e = FwAudit::lines('sink-errors.log');
        my $crit = grep { /\[crit\].*fw_audit: write\(\) to .* failed/ } @e;
        my $ok = grep { /\[notice\].*fw_audit: .* is writable again/ } @e;
        return "failure logged $crit times, recovery $ok times"
            unless $crit == 1 && $ok == 1;
        my @l = FwAudit::lines("$d/sink", 3);
        return "lines after recovery: " . scalar(@l) if @l != 3;
        # the start record counts the records lost while failing
        my ($lost) = $l[0] =~ /"chain":"fwa1 start \S+ \d+ 0 (\d+) /;
        return "start record: $l[0]" unless defined $lost && $lost >= 2;
        my @req = map { JSON::PP::decode_json($_) } @l[1, 2];
        return FwAudit::fields($req[0], { status => 200,
                                          denied_by => undef })
            || do {
                my ($rc, $out) = FwAudit::verify('--allow-open', "$d/sink");
                $rc == 0 ? '' : "verifier: $out";
            };
    });
}

sub main::logged_once {
    return FwAudit::check(sub {
        my @l = FwAudit::lines('sink-errors.log');
        my $n = grep { m{\[crit\].*fw_audit: write\(\) to "/dev/full" failed}
                     } @l;
        return $n == 1 ? '' : "the failure was logged $n times";
    });
}

sub main::subrequests {
    return FwAudit::check(sub {
        my @r = req_n('audit.log', 4);
        my %n;
        $n{$_->{path}}++ for @r;
        return "records: " . join(',', map { "$_=$n{$_}" } sort keys %n)
            unless @r == 3 && $n{'/s/main'} == 1 && $n{'/s2/main'} == 1
                   && $n{'/s/sub2'} == 1;
        return '';
    });
}

run_tests();

__DATA__

=== TEST 1: every field, from stand-in variables; the chain verifies
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
upstream backend { server 127.0.0.1:$TEST_NGINX_SERVER_PORT; }
--- config
fw_audit_field gateway gw-test;
location /a/ {
    fw_audit_log logs/audit.log;
    fw_audit_query raw;
    fw_audit_redact patient keep;
    fw_audit_redact id keep;
    fw_audit_redact compartment keep;
    fw_audit_redact path keep;
    fw_audit_field user $http_x_sub;
    fw_audit_field role $http_x_role;
    fw_audit_field client_id $http_x_client $http_x_azp;
    fw_audit_field fhir_user $http_x_fhiruser;
    fw_audit_field purpose $http_x_pou;
    fw_audit_field patient $http_x_nopatient $http_x_patient;
    fw_audit_field interaction $http_x_interaction;
    fw_audit_field type $http_x_type;
    fw_audit_field id $http_x_id;
    fw_audit_field vid $http_x_vid;
    fw_audit_field operation $http_x_operation;
    fw_audit_field compartment $http_x_compartment;
    proxy_pass http://backend/backend/;
}
location /backend/ { return 200 "hello\n"; }
location = /done { return 200 "done\n"; }
--- more_headers
X-Sub: alice
X-Role: clinician
X-Azp: app-1
X-Fhiruser: Practitioner/pr1
X-Pou: TREAT
X-Patient: p1
X-Interaction: vread
X-Type: Patient
X-Id: p1
X-Vid: 2
X-Operation: $everything
X-Compartment: Patient/p1
--- request eval
["GET /a/Patient/p1/_history/2?name=x&patient=p1", "GET /done"]
--- response_body_like eval
["hello", qr/\A(??{ main::every_field() })/]



=== TEST 2: query: hash (keyed), omit, raw
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
location /q/hash { fw_audit_query hash; return 200 "ok\n"; }
location /q/omit { fw_audit_query omit; return 200 "ok\n"; }
location /q/raw { fw_audit_query raw; return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request eval
["GET /q/hash?patient=123&x=%22y", "GET /q/omit?patient=123&x=%22y",
 "GET /q/raw?patient=123&x=%22y", "GET /done"]
--- response_body_like eval
["ok", "ok", "ok", qr/\A(??{ main::query_modes() })/]



=== TEST 3: denials: the module that denied and its reason
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
fw_audit_check ratelimit $arg_rl passed;
fw_audit_check jwt $arg_jwt valid;
fw_audit_check webhook $arg_hook valid;
fw_audit_check fhir $arg_fhir ok;
--- config
fw_audit_log logs/audit.log;
location /d/jwt { return 401; }
location /d/fhir { return 403; }
location /d/rate { return 429; }
location /d/hook { return 401; }
location /d/ok { return 200 "ok\n"; }
location /d/up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend403;
}
location /backend403 { fw_audit_log off; return 403; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request eval
["GET /d/jwt?jwt=expired", "GET /d/fhir?jwt=valid&fhir=insufficient-scope",
 "GET /d/rate?rl=limited", "GET /d/hook?jwt=valid&hook=bad-signature",
 "GET /d/ok?jwt=valid&fhir=ok", "GET /d/up?jwt=missing", "GET /done"]
--- error_code eval
[401, 403, 429, 401, 200, 403, 200]
--- response_body_like eval
[".*", ".*", ".*", ".*", "ok", ".*", qr/\A(??{ main::denials() })/]



=== TEST 4: FHIR R4 AuditEvent against the BALP field list
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.fhir format=fhir;
fw_audit_query raw;
fw_audit_redact patient keep;
fw_audit_redact id keep;
fw_audit_field gateway gw-test;
fw_audit_field user $http_x_sub;
fw_audit_field role $http_x_role;
fw_audit_field client_id $http_x_client;
fw_audit_field fhir_user $http_x_fhiruser;
fw_audit_field purpose $http_x_pou;
fw_audit_field patient $arg_p;
fw_audit_field interaction $arg_i;
fw_audit_field type $arg_t;
fw_audit_field id $arg_id;
fw_audit_field vid $arg_v;
location /f { return 200 "ok\n"; }
location /f/bad { return 400; }
location /f/fail { return 502; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- more_headers
X-Sub: alice
X-Role: clinician
X-Client: app-1
X-Fhiruser: Practitioner/pr1
X-Pou: TREAT
--- request eval
["GET /f?i=read&t=Patient&id=p1&p=p1",
 "GET /f?i=create&t=Observation",
 "GET /f/bad?i=search-type&t=Observation&p=p2",
 "GET /f/fail?i=delete&t=Observation&id=o1",
 "GET /f?i=vread&t=Observation&id=o1&v=3",
 "GET /done"]
--- error_code eval
[200, 200, 400, 502, 200, 200]
--- response_body_like eval
["ok", "ok", ".*", ".*", "ok", qr/\A(??{ main::fhir_balp() })/]



=== TEST 5: values are escaped, records are bounded
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
fw_audit_max_record 4096;
fw_audit_query raw;
location /e/small { fw_audit_field user $http_x_small; return 200 "ok\n"; }
location /e/big { fw_audit_field user $http_x_big; return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- more_headers eval
"X-Small: a\"b\\c<d>\te\xc3\xa9\r\nX-Big: " . ("<\"" x 3000)
--- request eval
["GET /e/small", "GET /e/big?" . ("%3C" x 1500), "GET /done"]
--- response_body_like eval
["ok", "ok", qr/\A(??{ main::escaping() })/]



=== TEST 6: tampering: edit, delete, reorder, duplicate, start, epoch, cut
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
fw_audit_field user $http_x_sub;
location /t { return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- more_headers
X-Sub: alice
--- request eval
["GET /t/1", "GET /t/2", "GET /t/3", "GET /t/4", "GET /t/5", "GET /t/6",
 "GET /done"]
--- response_body_like eval
["ok", "ok", "ok", "ok", "ok", "ok", qr/\A(??{ main::tampering() })/]



=== TEST 7: reopen on USR1, new file 0600, one chain across both files
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
location /r { return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request eval
["GET /r/1", "GET /r/2", "GET /done"]
--- response_body_like eval
["ok", "ok", qr/\A(??{ main::reopen() })/]



=== TEST 8: a failing sink, fail closed: 503 before the content, logged once
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
location /full {
    # the sink's failure ([crit], once) goes to a log of its own
    error_log logs/sink-errors.log;
    fw_audit_log /dev/full;
    fw_audit_fail_closed on;
    fw_audit_error_format fhir;
    try_files /index.html =404;
}
location = /done { return 200 "done\n"; }
--- request eval
["GET /full", "GET /full", "GET /full", "GET /done"]
--- error_code eval
[503, 503, 503, 200]
--- response_body_like eval
["OperationOutcome.*transient", "transient", "audit log is not writable",
 qr/\A(??{ main::logged_once() })/]



=== TEST 9: the content handler never runs when fail-closed refuses
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
location /full {
    # the sink's failure ([crit], once) goes to a log of its own
    error_log logs/sink-errors.log;
    fw_audit_log /dev/full;
    fw_audit_fail_closed on;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend { access_log logs/backend.log; return 200 "served\n"; }
--- request
GET /full
--- error_code: 503
--- response_body_like: audit log is not writable
--- no_error_log
upstream
[alert]



=== TEST 10: a failing sink, fail open: served, logged once
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
location /full {
    # the sink's failure ([crit], once) goes to a log of its own
    error_log logs/sink-errors.log;
    fw_audit_log /dev/full;
    try_files /index.html =404;
}
location = /done { return 200 "done\n"; }
--- request eval
["GET /full", "GET /full", "GET /full", "GET /done"]
--- response_body_like eval
["It works", "It works", "It works", qr/\A(??{ main::logged_once() })/]



=== TEST 11: buffered: written on the flush timer
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log buffer=64k flush=1s;
location /b { return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request eval
["GET /b/1", "GET /b/2", "GET /b/3", "GET /done"]
--- response_body_like eval
["ok", "ok", "ok", qr/\A(??{ main::buffered() })/]



=== TEST 12: no key, no other module: defaults that name absent variables
--- config
fw_audit_log logs/audit.log;
location /n { return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request eval
["GET /n", "GET /done"]
--- response_body_like eval
["ok", qr/\A(??{ main::no_key() })/]



=== TEST 13: stderr sink (here the error log): records verify among other lines
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log stderr;
fw_audit_field user $http_x_sub;
location /s { return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- more_headers
X-Sub: bob
--- request eval
["GET /s/1", "GET /done"]
--- response_body_like eval
["ok", qr/\A(??{ main::stderr_sink() })/]



=== TEST 14: subrequests only when asked
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
location = /s/main {
    ssi on; default_type text/html; alias $TEST_NGINX_HTML_DIR/ssi1.html;
}
location = /s2/main {
    ssi on; default_type text/html; alias $TEST_NGINX_HTML_DIR/ssi2.html;
}
location /s/sub { log_subrequest on; try_files /index.html =404; }
location = /s/sub2 {
    fw_audit_subrequests on;
    log_subrequest on;
    alias $TEST_NGINX_HTML_DIR/index.html;
}
location = /done { fw_audit_log off; return 200 "done\n"; }
--- user_files
>>> audit.key
0123456789abcdef0123456789abcdef-test-key
>>> ssi1.html
main <!--# include virtual="/s/sub" -->
>>> ssi2.html
main <!--# include virtual="/s/sub2" -->
--- request eval
["GET /s/main", "GET /s2/main", "GET /done"]
--- response_body_like eval
["main .*It works", "main .*It works", qr/\A(??{ main::subrequests() })/]



=== TEST 15: fsync=always, mode=0640
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log fsync=always mode=0640;
location /y { return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request eval
["GET /y/1", "GET /y/2", "GET /done"]
--- response_body_like eval
["ok", "ok", qr/\A(??{ main::fsync_mode() })/]



=== TEST 16: keys evolve each epoch (1s); every record verifies under its own
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key epoch=1s;
--- config
fw_audit_log logs/audit.log;
location /k { return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request eval
["GET /k/1", "GET /done"]
--- response_body_like eval
["ok", qr/\A(??{ main::epochs() })/]



=== TEST 17: fail closed recovers once the sink is writable again
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
location /full {
    # the sink's failure ([crit], once) goes to a log of its own
    error_log logs/sink-errors.log notice;
    fw_audit_log $TEST_NGINX_AUDIT_TMP/sink;
    fw_audit_fail_closed on;
    try_files /index.html =404;
}
location = /done { return 200 "done\n"; }
--- request eval
["GET /full", "GET /done"]
--- error_code eval
[503, 200]
--- response_body_like eval
["not writable", qr/\A(??{ main::recovers() })/]



=== TEST 18: two destinations, two formats, two chains
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
location /m {
    fw_audit_log logs/audit.log;
    fw_audit_log logs/audit.fhir format=fhir;
    fw_audit_field interaction $arg_i;
    return 200 "ok\n";
}
location = /done { return 200 "done\n"; }
--- request eval
["GET /m?i=read", "GET /m?i=create", "GET /done"]
--- response_body_like eval
["ok", "ok", qr/\A(??{ main::two_sinks() })/]



=== TEST 19: "off" goes alone
--- config
fw_audit_log logs/audit.log;
fw_audit_log off;
--- request
GET /
--- must_die
--- error_log
"off" takes no parameters and goes alone



=== TEST 20: a group-writable audit log is refused
--- config
fw_audit_log logs/audit.log mode=0660;
--- request
GET /
--- must_die
--- error_log
may be readable by its group at most



=== TEST 21: bad parameters
--- config
fw_audit_log logs/audit.log flush=1s;
--- request
GET /
--- must_die
--- error_log
has "flush" without "buffer"



=== TEST 22: unknown field
--- config
fw_audit_field body $request_body;
--- request
GET /
--- must_die
--- error_log
unknown audit field "body"



=== TEST 23: a field may not read a credential
--- config
fw_audit_field user $http_x_user $HTTP_Authorization;
--- request
GET /
--- must_die
--- error_log
"$HTTP_Authorization" may carry a secret or a body
