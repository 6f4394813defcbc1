# fhirwall audit: redaction (fw_audit_redact).  A request carrying an MRN,
# a name and a token in its path, its query and its headers leaves none of
# them in the JSON Lines nor in the FHIR AuditEvent record (the whole log
# files are scanned, base64 query entities decoded); keep, hash, drop,
# prefix and names each proven; a hash is the one fw-audit-hash computes,
# the same within an epoch and another across epochs; without a key the
# defaults drop; the configurations nginx -t refuses.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwAudit;
use FwJwt;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time sleep);

BEGIN {
    $ENV{TEST_NGINX_HTML_DIR} ||=
        ($ENV{TEST_NGINX_SERVER_ROOT} || 't/servroot') . '/html';
}

repeat_each(1);
no_shuffle();
log_level('info');

our $MRN = 'MRN-884512';
our $NAME = 'Smithers';
our $TOKEN = FwJwt::mint("-a", "RS256", "-k", FwJwt::key_path("rsa.key"),
                         "-c", "sub=dr-hibbert",
                         "-c", "scope=patient/*.rs",
                         "-c", "patient=$MRN");
our @TOKEN_PARTS = split /\./, $TOKEN;

our $HASH = qr/fwh-\d+-[0-9a-f]{24}/;

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'_EOF_');
>>> audit.key
0123456789abcdef0123456789abcdef-test-key
_EOF_
    }

    if (!defined $block->no_error_log && !defined $block->must_die) {
        $block->set_value("no_error_log", "[alert]\n[emerg]\n");
    }
});

sub hash_tool {
    my (@args) = @_;
    my $build = $ENV{TEST_NGINX_FW_BUILD}
        || (($ENV{TEST_NGINX_FW_ROOT} || '.') . '/build');
    my $cmd = join ' ', map { "'$_'" } "$build/tools/fw-audit-hash", '-k',
                                       FwAudit::key_file(), @args;
    my $out = `$cmd 2>&1`;
    die "fw-audit-hash @args: $out" if $? != 0;
    return split /\n/, $out;
}

sub epoch_of { my ($h) = @_; return $h =~ /fwh-(\d+)-/ ? $1 : undef }

# the text of a log file, with the base64 query entities of AuditEvents
# decoded and appended
sub scan_text {
    my ($file) = @_;
    my @l = FwAudit::lines($file);
    my $text = join "\n", @l;
    for my $r (map { JSON::PP::decode_json($_) } @l) {
        for my $e (@{ $r->{entity} // [] }) {
            $text .= "\n" . decode_base64($e->{query}) if $e->{query};
        }
    }
    return $text;
}

sub leaks {
    my ($file) = @_;
    my $text = scan_text($file);
    for my $s ($MRN, '884512', $NAME, $TOKEN, @TOKEN_PARTS, 'dr-hibbert') {
        return "$file holds '$s'" if index($text, $s) >= 0;
    }
    return '';
}

sub main::no_identifier {
    return FwAudit::check(sub {
        my @j = FwAudit::requests('audit.log', 6);
        return "expected 5 JSON records, got " . scalar(@j) if @j != 5;
        my @f = FwAudit::requests('audit.fhir', 5);
        return "expected 5 AuditEvents, got " . scalar(@f) if @f != 5;
        my $e = leaks('audit.log') || leaks('audit.fhir');
        return $e if $e;

        # the hashes are the tool's, and link the records
        my $ep = epoch_of($j[0]{patient} // '');
        return "no hashed patient: " . ($j[0]{patient} // 'none')
            unless defined $ep;
        my ($h, $hn, $hsub) = hash_tool('-e', $ep, $MRN, $NAME,
                                        'dr-hibbert');
        my %by = map { (split m{/}, $_->{path})[2] . ($_->{query} ? '?' : '')
                       => $_ } @j;
        $e = FwAudit::fields($j[0], {
                 patient => $h, id => $h, user => $hsub,
                 fhir_user => "Patient/$h", path => "/fhir/Patient/$h",
                 query => qr/^_elements=$HASH&access_token=\*$/ })
             || FwAudit::fields($j[1], {
                 path => '/fhir/Patient', id => undef,
                 query => "identifier=$h&family=$hn" })
             || FwAudit::fields($j[2], { path => "/fhir/Patient/$hn" })
             || FwAudit::fields($j[3], { path => qr{^/fhir/Binary/$HASH$} })
             || FwAudit::fields($j[4], {
                 path => '/fhir/Observation',
                 query => "patient=$h&code=$hn" });
        return "JSON: $e" if $e;

        # AuditEvent: the patient entity and the data entity
        my @what = map { $_->{what}{reference} // () } @{ $f[0]{entity} };
        return "AuditEvent entities: @what"
            unless grep({ $_ eq "Patient/$h" } @what) == 2;
        return "AuditEvent agent: $f[0]{agent}[0]{who}{identifier}{value}"
            unless $f[0]{agent}[0]{who}{identifier}{value} eq $hsub;
        return "AuditEvent outcomeDesc: $f[0]{outcomeDesc}"
            unless $f[0]{outcomeDesc} =~ m{; GET /fhir/Patient/\Q$h\E$};

        for my $log ('audit.log', 'audit.fhir') {
            my ($rc, $out) = FwAudit::verify('--allow-open',
                                             FwAudit::path($log));
            return "verifier $log: $out" if $rc != 0;
        }
        return '';
    });
}

sub main::modes {
    return FwAudit::check(sub {
        my @r = FwAudit::requests('audit.log', 6);
        return "expected 6 records, got " . scalar(@r) if @r != 6;
        # a token in the query, whatever the mode ("keep" too)
        my $text = join "\n", FwAudit::lines('audit.log');
        for my $s ($TOKEN, @TOKEN_PARTS) {
            return "the token is in the log" if index($text, $s) >= 0;
        }
        my %by;
        @by{qw(keep hash drop prefix defaults legacy)} = @r;
        my ($h) = hash_tool('-e', epoch_of($by{hash}{patient} // 'x-0')
                                  // 0, $MRN);
        my ($hs) = hash_tool('-e', epoch_of($h), 'Simpson');
        return FwAudit::fields($by{keep}, {
                   patient => $MRN, id => $MRN, user => 'Simpson',
                   compartment => "Patient/$MRN",
                   path => "/keep/Patient/$MRN/_history/2",
                   query => "family=Simpson&given=Homer&access_token=*" })
            || FwAudit::fields($by{hash}, {
                   patient => $h, id => $h, user => $hs,
                   compartment => "Patient/$h",
                   path => "/hash/Patient/$h/_history/2",
                   query => qr/^family=\Q$hs\E&given=$HASH&access_token=\*$/ })
            || FwAudit::fields($by{drop}, {
                   patient => undef, id => undef, user => undef,
                   compartment => undef, path => undef, query => undef,
                   status => 200 })
            || FwAudit::fields($by{prefix}, {
                   path => '/prefix/Patient',
                   query => 'family=*&given=*&access_token=*',
                   patient => $h })
            || FwAudit::fields($by{defaults}, {
                   patient => $h, id => $h, user => 'Simpson',
                   fhir_user => "Patient/$h",
                   compartment => "Patient/$h",
                   path => "/defaults/Patient/$h/_history/2",
                   query => qr/^family=\Q$hs\E&given=$HASH&access_token=\*$/ })
            || FwAudit::fields($by{legacy}, {
                   query => undef,
                   query_hash => qr/^hmac-sha256:[0-9a-f]{64}$/ });
    });
}

sub main::no_key {
    return FwAudit::check(sub {
        my @r = FwAudit::requests('audit.log', 3);
        return "expected 3 records, got " . scalar(@r) if @r != 3;
        my $e = leaks('audit.log');
        return $e if $e;
        return FwAudit::fields($r[0], {
                   patient => undef, id => undef, compartment => undef,
                   fhir_user => undef,
                   path => '/nk/Patient/*/_history/2',
                   query => 'family=*&given=*', user => 'Simpson' })
            || FwAudit::fields($r[1], {
                   path => '/nk/Patient/*', query => undef,
                   patient => undef })
            || FwAudit::fields($r[2], {
                   query => undef,
                   query_hash => qr/^hmac-sha256:[0-9a-f]{64}$/ });
    });
}

# epoch=1s: requests in one second hash alike, in the next otherwise
sub main::epochs {
    return FwAudit::check(sub {
        # start just after a second begins, so that two requests share it
        my $t = time;
        sleep(1.05 - ($t - int $t));
        FwAudit::get("/e/Patient/$MRN") for 1 .. 2;
        sleep 1.2;
        FwAudit::get("/e/Patient/$MRN");
        my @r = FwAudit::requests('audit.log', 3);
        return "expected 3 records, got " . scalar(@r) if @r != 3;
        my @h = map { (split m{/}, $_->{path} // '')[-1] // '' } @r;
        my @e = map { epoch_of($_) // -1 } @h;
        return "epochs @e" unless $e[0] == $e[1] && $e[2] > $e[1];
        return "same epoch, other hash: @h[0,1]" if $h[0] ne $h[1];
        return "other epoch, same digits: @h[1,2]"
            if substr($h[1], -24) eq substr($h[2], -24);
        # the tool: by epoch, and by time with the epoch's length
        my @tool = hash_tool('-e', "$e[0]-$e[2]", $MRN);
        return "tool: @tool vs @h" unless $tool[0] eq $h[0]
                                       && $tool[-1] eq $h[2];
        my ($byt) = hash_tool('-l', '1s', '-t', $e[2], $MRN);
        return "tool -t: $byt vs $h[2]" unless $byt eq $h[2];
        my ($other) = hash_tool('-l', '10m', '-t', $e[2], $MRN);
        return "tool -l 10m gave the 1s epoch" if $other eq $h[2];
        return "the MRN is in the path" if $r[0]{path} =~ /\Q$MRN/;
        return '';
    });
}

run_tests();

__DATA__

=== TEST 1: an MRN, a name and a token in path, query and headers: none of them in either format
--- http_config eval
FwJwt::backend_http() . <<'_EOC_';
    fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
    fw_jwt_key_file $TEST_NGINX_FW_ROOT/t/keys/jwt/rsa.pub;
_EOC_
--- config
location /fhir/ {
    fw_audit_log logs/audit.log;
    fw_audit_log logs/audit.fhir format=fhir;
    fw_audit_field fhir_user $http_x_fhir_user;
    fw_audit_redact fhir_user hash;
    fw_audit_redact user hash;
    fw_jwt on;
    fw_fhir R4;
    fw_fhir_scopes $fw_jwt_scope;
    fw_fhir_patient $fw_jwt_claim_patient;
    proxy_pass http://backend;
}
location = /done { return 200 "done\n"; }
--- more_headers eval
"Authorization: Bearer $::TOKEN\nX-Patient-Name: $::NAME\n"
. "X-Fhir-User: Patient/$::MRN\nX-Mrn: $::MRN"
--- request eval
["GET /fhir/Patient/$::MRN?_elements=name&access_token=$::TOKEN",
 "GET /fhir/Patient?identifier=$::MRN&family=$::NAME",
 "GET /fhir/Patient/$::NAME",
 "GET /fhir/Binary/$::TOKEN",
 "GET /fhir/Observation?patient=$::MRN&code=$::NAME",
 "GET /done"]
--- error_code eval
[200, 403, 403, 400, 200, 200]
--- response_body_like eval
[".*", ".*", ".*", ".*", ".*", qr/\A(??{ main::no_identifier() })/]



=== TEST 2: keep, hash, drop, prefix, names; the defaults; fw_audit_query hash; a token in the query is never kept
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
--- config
fw_audit_log logs/audit.log;
fw_audit_field user $http_x_user;
fw_audit_field patient $http_x_patient;
fw_audit_field id $http_x_patient;
fw_audit_field compartment $http_x_compartment;
fw_audit_field fhir_user $http_x_fhir_user;
location /keep/ {
    fw_audit_redact patient keep;
    fw_audit_redact id keep;
    fw_audit_redact user keep;
    fw_audit_redact compartment keep;
    fw_audit_redact path keep;
    fw_audit_redact query keep;
    return 200 "ok\n";
}
location /hash/ {
    fw_audit_redact patient hash;
    fw_audit_redact id hash;
    fw_audit_redact user hash;
    fw_audit_redact compartment hash;
    fw_audit_redact path hash;
    fw_audit_redact query hash;
    return 200 "ok\n";
}
location /drop/ {
    fw_audit_redact patient drop;
    fw_audit_redact id drop;
    fw_audit_redact user drop;
    fw_audit_redact compartment drop;
    fw_audit_redact path drop;
    fw_audit_redact query drop;
    return 200 "ok\n";
}
location /prefix/ {
    fw_audit_redact path prefix;
    fw_audit_redact query names;
    return 200 "ok\n";
}
location /defaults/ { return 200 "ok\n"; }
location /legacy/ { fw_audit_query hash; return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- more_headers eval
"X-User: Simpson\nX-Patient: $::MRN\nX-Compartment: Patient/$::MRN\n"
. "X-Fhir-User: Patient/$::MRN"
--- request eval
[map({ "GET /$_/Patient/$::MRN/_history/2?family=Simpson&given=Homer"
       . "&access_token=$::TOKEN" }
     qw(keep hash drop prefix defaults legacy)), "GET /done"]
--- response_body_like eval
["ok", "ok", "ok", "ok", "ok", "ok", qr/\A(??{ main::modes() })/]



=== TEST 3: without a key file the defaults drop (ids "*", names only); fw_audit_query hash still works
--- user_files
--- config
fw_audit_log logs/audit.log;
fw_audit_field user $http_x_user;
fw_audit_field patient $http_x_patient;
fw_audit_field id $http_x_patient;
fw_audit_field compartment $http_x_compartment;
fw_audit_field fhir_user $http_x_fhir_user;
location /nk/ { return 200 "ok\n"; }
location /nk/legacy/ { fw_audit_query hash; return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- more_headers eval
"X-User: Simpson\nX-Patient: $::MRN\nX-Compartment: Patient/$::MRN\n"
. "X-Fhir-User: Patient/$::MRN"
--- request eval
["GET /nk/Patient/$::MRN/_history/2?family=$::NAME&given=Homer",
 "GET /nk/Patient/$::MRN",
 "GET /nk/legacy/x?family=$::NAME",
 "GET /done"]
--- response_body_like eval
["ok", "ok", "ok", qr/\A(??{ main::no_key() })/]



=== TEST 4: the same id hashes alike within an epoch and otherwise across epochs; the tool agrees
--- http_config
fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key epoch=1s;
--- config
fw_audit_log logs/audit.log;
location /e/ { fw_audit_redact id hash; return 200 "ok\n"; }
location = /done { fw_audit_log off; return 200 "done\n"; }
--- request
GET /done
--- response_body_like eval
qr/\A(??{ main::epochs() })/



=== TEST 5: an explicit hash without a key file fails nginx -t, naming the directive
--- user_files
--- config
location / {
    fw_audit_log logs/audit.log;
    fw_audit_redact patient hash;
}
--- request
GET /
--- must_die
--- error_log eval
qr/"fw_audit_redact patient hash" in \S+nginx.conf:\d+ needs "fw_audit_key_file"/



=== TEST 6: the status cannot be redacted
--- config
fw_audit_redact status drop;
--- request
GET /
--- must_die
--- error_log
the audit field "status" cannot be redacted



=== TEST 7: prefix is for the path, names for the query
--- config
fw_audit_redact patient prefix;
--- request
GET /
--- must_die
--- error_log
invalid mode "prefix" for the audit field "patient" (keep, hash, drop)



=== TEST 8: names for the path
--- config
fw_audit_redact path names;
--- request
GET /
--- must_die
--- error_log
invalid mode "names" for the audit field "path" (keep, hash, drop, prefix)



=== TEST 9: an unknown field
--- config
fw_audit_redact mrn drop;
--- request
GET /
--- must_die
--- error_log
unknown audit field "mrn"



=== TEST 10: a field redacted twice in one context
--- config
fw_audit_redact id drop;
fw_audit_redact id keep;
--- request
GET /
--- must_die
--- error_log
the redaction of "id" is duplicate



=== TEST 11: fw_audit_query and fw_audit_redact query in one context
--- config
fw_audit_query raw;
fw_audit_redact query hash;
--- request
GET /
--- must_die
--- error_log
the redaction of "query" is duplicate (or given by "fw_audit_query" too)



=== TEST 12: a header named like a credential never goes into a field
--- config
fw_audit_field purpose $http_x_api_token;
--- request
GET /
--- must_die
--- error_log
"$http_x_api_token" may carry a secret or a body and never goes into an audit record



=== TEST 13: nor an argument
--- config
fw_audit_field purpose $arg_Access_Token;
--- request
GET /
--- must_die
--- error_log
"$arg_Access_Token" may carry a secret or a body and never goes into an audit record



=== TEST 14: a header that is not one is accepted
--- config
fw_audit_log logs/audit.log;
fw_audit_field purpose $http_x_purpose;
location = /p { return 200 "ok\n"; }
--- more_headers
X-Purpose: TREAT
--- request
GET /p
--- response_body
ok
