# fhirwall audit: "denied_by" and "reason" name the check that refused the
# request, for every module and every denial reason of common/fw_vocab.c,
# with the module alone (and the audit module) and with all five loaded
# (and the module's own when it is not one of the five: lockout, minimise),
# in JSON Lines and in FHIR AuditEvent records.
#
# The blocks are generated from one table (@Cases below): a block is a
# module ("nginx" stands for nginx's own refusals and an upstream's) and a
# set of loaded modules, taken from its name ("... alone", "... all five").
# In the "all five" blocks every location also has the other modules'
# statuses set without their refusing: an optional JWT check (keys at the
# server level, $fw_jwt_status "missing" without a token) and a rate
# limit that passes, so a record that named the first status that is not
# "passed" would be wrong.
#
# Not here (no way to cause them from a test without a fault injection):
# jwt "error", webhook "error", fhir "error"; fhir "subrequest-body" is in
# t/fhir_subrequest.t.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwAudit;
use FwJwt;
use Digest::SHA qw(hmac_sha256_hex);

BEGIN {
    $ENV{TEST_NGINX_HTML_DIR} ||=
        ($ENV{TEST_NGINX_SERVER_ROOT} || 't/servroot') . '/html';
}

repeat_each(1);
no_shuffle();
log_level('info');

my $K = sub { FwJwt::key_path(@_) };
my @hs = ("-k", $K->("hs.secret"), "-E", "base64url");
my $now = time;

sub tok { return "Authorization: Bearer " . FwJwt::mint("-a", "HS256", @hs,
                                                        @_) }
sub tok_h {
    my ($hdr, $payload) = @_;
    return "Authorization: Bearer "
        . FwJwt::mint("-H", $hdr, @hs, "-s", "HS256", "-P", $payload);
}

our $WH_SECRET = 'whsec_fhirwall_denied_by_1';
our $WH_NOW = 1700000000;

sub stripe {
    my ($ts, $body, $secret) = @_;
    my $sig = hmac_sha256_hex("$ts.$body", $secret // $WH_SECRET);
    return "Stripe-Signature: t=$ts,v1=$sig";
}

my $good = tok("-c", "sub=alice");
(my $tampered = $good) =~ s/(.)$/$1 eq 'A' ? 'B' : 'A'/e;
my $big = tok("-c", "sub=" . ('x' x 400));
my $body = '{"id":"evt_1"}';

# module, location, request, headers, status, denied_by, reason
our @Cases = (
    # jwt: every location "fw_jwt on" with the HS256 secret
    [jwt => '', 'GET /jwt/missing', '', 401, 'jwt', 'missing'],
    [jwt => '', 'GET /jwt/malformed', 'Authorization: Bearer abc', 401,
     'jwt', 'malformed'],
    [jwt => 'fw_jwt_max_size 200;', 'GET /jwt/too_large', $big, 401,
     'jwt', 'too_large'],
    [jwt => 'fw_jwt_algorithms HS512;', 'GET /jwt/alg', $good, 401,
     'jwt', 'unsupported_alg'],
    [jwt => 'fw_jwt_secret_file ' . $K->("hs.secret")
     . ' encoding=base64url kid=hs-1;', 'GET /jwt/kid', tok("-K", "nope"),
     401, 'jwt',
     'unknown_key'],
    [jwt => '', 'GET /jwt/sig', $tampered, 401, 'jwt', 'bad_signature'],
    [jwt => '', 'GET /jwt/exp', tok("-e", "-100"), 401, 'jwt', 'expired'],
    [jwt => '', 'GET /jwt/nbf', tok("-b", "1000"), 401, 'jwt',
     'not_yet_valid'],
    [jwt => 'fw_jwt_issuer https://idp.example;', 'GET /jwt/iss',
     tok("-c", "iss=https://other.example"), 401, 'jwt', 'bad_issuer'],
    [jwt => 'fw_jwt_audience fhir-api;', 'GET /jwt/aud',
     tok("-c", "aud=other"), 401, 'jwt', 'bad_audience'],
    [jwt => '', 'GET /jwt/typ',
     tok_h('{"alg":"HS256","typ":"dpop+jwt"}',
           qq({"sub":"a","exp":@{[$now + 3600]}})), 401, 'jwt', 'bad_type'],
    [jwt => '', 'GET /jwt/noexp', tok("-x"), 401, 'jwt', 'invalid_claim'],
    [jwt => 'fw_jwt_max_lifetime 10m;', 'GET /jwt/life', $good, 401, 'jwt',
     'lifetime_exceeded'],
    [jwt => 'fw_jwt_require sub eq bob;', 'GET /jwt/claim', $good, 403,
     'jwt', 'claim_failed'],
    [jwt => 'fw_jwt_role admin;', 'GET /jwt/role', $good, 403, 'jwt',
     'role_failed'],
    # satisfy any: the JWT refusal is overruled, the upstream's 403 is not
    [jwt => 'satisfy any; allow 127.0.0.1; deny all; proxy_pass '
     . 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b403;', 'GET /jwt/any', '',
     403, 'upstream', '403'],
    # an error_page to a proxied location keeps the refusal
    [jwt => 'error_page 401 = /b403up;', 'GET /jwt/errpage', '', 403, 'jwt',
     'missing'],
    # satisfy any, overruled, then nginx's own 404 (try_files): nginx's
    [jwt => 'satisfy any; allow 127.0.0.1; deny all; try_files /none =404;',
     'GET /jwt/any404', '', 404, 'nginx', '404'],
    # ... with a bad token: allow grants before the JWT check runs, so the
    # token's status (read for the record) is no refusal
    [jwt => 'satisfy any; allow 127.0.0.1; deny all; try_files /none =404;',
     'GET /jwt/anysig', $tampered, 404, 'nginx', '404'],
    [jwt => 'satisfy any; allow 127.0.0.1; deny all; try_files /none =404;',
     'GET /jwt/anyexp', tok("-e", "-100"), 404, 'nginx', '404'],
    # deny refuses, a valid token grants, then nginx's own 404
    [jwt => 'satisfy any; deny all; try_files /none =404;',
     'GET /jwt/anyok', $good, 404, 'nginx', '404'],
    # satisfy any, both refuse: the JWT vote stands (nginx answers its 401)
    [jwt => 'satisfy any; deny all;', 'GET /jwt/anydeny', '', 401, 'jwt',
     'missing'],
    # the standing vote, then an error_page to a proxied location
    [jwt => 'satisfy any; deny all; error_page 401 = /b403up;',
     'GET /jwt/anyerr', '', 403, 'jwt', 'missing'],

    # fhir: "fw_fhir R4" with the scopes of X-Scopes, the patient X-Patient
    [fhir => '', 'GET /fhir/Patient/a%2Fb', 'X-Scopes: user/*.rs', 400,
     'fhir', 'invalid'],
    [fhir => '', 'GET /fhir/Nope/1', 'X-Scopes: user/*.rs', 404, 'fhir',
     'unknown-type'],
    [fhir => 'fw_fhir_deny_types Observation;', 'GET /fhir2/Observation/1',
     'X-Scopes: user/*.rs', 404, 'fhir', 'type-denied'],
    [fhir => 'fw_fhir_deny_interactions delete;', 'DELETE /fhir3/Patient/1',
     'X-Scopes: user/*.*', 405, 'fhir', 'not-allowed'],
    [fhir => '', 'GET /fhir/Patient/2',
     "X-Scopes: user/*.rs\nX-HTTP-Method-Override: DELETE", 400, 'fhir',
     'method-override'],
    [fhir => 'fw_fhir_formats json;', 'GET /fhir6/Patient/3?_format=xml',
     'X-Scopes: user/*.rs',
     400, 'fhir', 'format'],
    [fhir => '', 'GET /fhir/Patient/4', '', 401, 'fhir', 'no-scope'],
    [fhir => '', 'GET /fhir/Observation/5', 'X-Scopes: user/Patient.rs',
     403, 'fhir', 'insufficient-scope'],
    [fhir => '', 'GET /fhir/Patient/6',
     "X-Scopes: patient/Patient.rs\nX-Patient: 7", 403, 'fhir',
     'patient-compartment'],
    [fhir => 'fw_fhir_body_max_size 16;', "POST /fhir4\n"
     . ('{"resourceType":"Patient"}' x 4),
     "X-Scopes: user/*.*\nContent-Type: application/fhir+json", 413,
     'fhir', 'body-too-large'],
    [fhir => '', "POST /fhir\n{\"resourceType\":\"Patient\"}",
     "X-Scopes: user/*.*\nContent-Type: application/fhir+json", 400, 'fhir',
     'bundle-invalid'],
    [fhir => '', "POST /fhir\n{\"resourceType\":\"Bundle\"}",
     "X-Scopes: user/*.*\nContent-Type: text/plain", 415, 'fhir',
     'unsupported-media-type'],

    # webhook: stripe, the clock pinned, the replay zone
    [webhook => '', "POST /hook/missing\n$body", '', 401, 'webhook',
     'missing'],
    [webhook => '', "POST /hook/malformed\n$body",
     'Stripe-Signature: t=x,v1=00', 400, 'webhook', 'malformed'],
    [webhook => '', "POST /hook/invalid\n$body",
     stripe($WH_NOW, $body, 'whsec_other'), 401, 'webhook', 'invalid'],
    [webhook => '', "POST /hook/expired\n$body",
     stripe($WH_NOW - 3600, $body), 401, 'webhook', 'expired'],
    [webhook => 'fw_webhook_max_body 8;', "POST /hook/large\n$body",
     stripe($WH_NOW, $body), 413, 'webhook', 'too_large'],
    [webhook => '', "POST /hook/replay\n$body", stripe($WH_NOW, $body),
     200, undef, undef],
    [webhook => '', "POST /hook/replay\n$body", stripe($WH_NOW, $body),
     409, 'webhook', 'replay'],

    # webhook and JWT under "satisfy any" (all five only): the signature
    # check is no vote that a valid token could overrule (docs/webhook.md)
    [webvote => 'satisfy any; fw_jwt on; try_files /none =404;',
     "POST /hv/404\n$body", "$good\n" . stripe($WH_NOW, $body, 'whsec_x'),
     401, 'webhook', 'invalid'],
    [webvote => 'satisfy any; fw_jwt on;', "POST /hv/both\n$body",
     stripe($WH_NOW + 4, $body, 'whsec_x'), 401, 'webhook', 'invalid'],

    # webhook: replays in Redis, which is down, failure=closed
    [webhook2 => 'fw_webhook_replay redis;', "POST /hook/redis\n$body",
     stripe($WH_NOW + 1, $body), 503, 'webhook', 'unavailable'],

    # ratelimit: Redis is down; "local" limits on this node, "closed" 503
    [ratelimit => 'fw_ratelimit one; fw_ratelimit_failure local;',
     'GET /rl/local', '', 200, undef, undef],
    [ratelimit => 'fw_ratelimit one; fw_ratelimit_failure local;',
     'GET /rl/local', '', 429, 'ratelimit', 'limited'],
    [ratelimit => 'fw_ratelimit one; fw_ratelimit_failure closed;',
     'GET /rl/closed', '', 503, 'ratelimit', 'unavailable'],

    # lockout: two upstream 401s lock the address out (shared memory);
    # Redis down with failure=closed: 503
    [lockout => 'fw_lockout failures=2 window=1m lockout=30s max=1h; '
     . 'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b401;',
     'GET /lo/locked', '', 401, 'upstream', '401'],
    [lockout => '', 'GET /lo/locked', '', 401, 'upstream', '401'],
    [lockout => '', 'GET /lo/locked', '', 429, 'lockout', 'locked'],
    [lockout2 => 'fw_lockout failures=2 window=1m lockout=30s max=1h; '
     . 'fw_lockout_failure closed;', 'GET /lo/redis', '', 503, 'lockout',
     'unavailable'],

    # minimise: refusals on the request side (403) and of the upstream's
    # answer (406, 502: the module's, not the upstream's); the profile
    # applied is the record's minimise_profile
    [minimise => 'fw_minimise_default deny;', 'GET /min/deny', '', 403,
     'minimise', 'forbidden', {minimise_profile => 'deny'}],
    [minimise => 'fw_minimise_default billing;',
     'GET /min/Observation?_include=Observation:performer:Practitioner', '',
     403, 'minimise', 'forbidden', {minimise_profile => 'billing'}],
    [minimise => 'fw_minimise_default safe-harbor; proxy_pass '
     . 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mtext;', 'GET /min/text',
     '', 406, 'minimise', 'not_acceptable',
     {minimise_profile => 'safe-harbor'}],
    [minimise => 'fw_minimise_default safe-harbor; proxy_pass '
     . 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mbad;', 'GET /min/bad',
     '', 502, 'minimise', 'bad_upstream',
     {minimise_profile => 'safe-harbor'}],
    [minimise => 'fw_minimise_default safe-harbor; proxy_pass '
     . 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mjson;', 'GET /min/ok',
     '', 200, undef, undef, {minimise_profile => 'safe-harbor'}],
    # an upstream's own (FHIR JSON) refusal, filtered, stays the upstream's;
    # its HTML error page is not FHIR JSON: the module's 406
    [minimise => 'fw_minimise_default safe-harbor; proxy_pass '
     . 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mj403;', 'GET /min/up403',
     '', 403, 'upstream', '403', {minimise_profile => 'safe-harbor'}],
    [minimise => 'fw_minimise_default safe-harbor; proxy_pass '
     . 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b403;', 'GET /min/html403',
     '', 406, 'minimise', 'not_acceptable',
     {minimise_profile => 'safe-harbor'}],

    # nginx's own refusals and an upstream's
    [nginx => 'client_max_body_size 4;', "POST /ngx/size\n$body", '', 413,
     'nginx', '413'],
    [nginx => 'auth_request /deny;', 'GET /ngx/auth', '', 403, 'nginx',
     '403'],
    [nginx => 'limit_req zone=one_rps nodelay; limit_req_status 429;',
     'GET /ngx/limit', '', 200, undef, undef],
    [nginx => 'limit_req zone=one_rps nodelay; limit_req_status 429;',
     'GET /ngx/limit', '', 429, 'nginx', '429'],
    [nginx => 'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b403;',
     'GET /ngx/upstream', '', 403, 'upstream', '403'],
);

sub cases { my ($m) = @_; return grep { $_->[0] eq $m } @Cases }

sub path_of { my ($req) = @_; return (split / /, (split /\n/, $req)[0])[1] }

# one location per distinct path (FHIR: per base), with the case's own
# directives
sub main::config {
    my ($m, $set) = @_;
    my (%seen, $c);

    for my $k (cases($m)) {
        my $own = $k->[1];
        my $path = path_of($k->[2]);
        $path =~ s/\?.*//;
        my $loc = $m eq 'fhir' ? '/' . (split m{/}, $path)[1] : "= $path";
        next if $seen{$loc}++;
        $c .= "    location $loc {\n";
        if ($m eq 'jwt') {
            $c .= "        fw_jwt on;\n";
            $c .= "        fw_jwt_secret_file " . $K->("hs.secret")
                . " encoding=base64url;\n" if $own !~ /secret_file/;
        } elsif ($m eq 'fhir') {
            $c .= "        fw_fhir R4;\n"
                . "        fw_fhir_scopes \$http_x_scopes;\n"
                . "        fw_fhir_patient \$http_x_patient;\n";
        } elsif ($m =~ /^webhook|^webvote/) {
            $c .= "        fw_webhook stripe;\n"
                . "        fw_webhook_secret_file "
                . "\$TEST_NGINX_HTML_DIR/wh.key;\n"
                . "        fw_webhook_test_now $WH_NOW;\n";
            $c .= "        fw_webhook_replay wh;\n" if $own !~ /replay/;
        }
        $c .= "        $own\n" if $own ne '';
        $c .= "        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT"
              . "/backend;\n" if $own !~ /proxy_pass/;
        $c .= "    }\n";
    }

    $c .= <<'_EOC_';
    location /backend { fw_audit_log off; return 200 "ok\n"; }
    location = /b403 { fw_audit_log off; return 403; }
    location = /deny { fw_audit_log off; return 403; }
    location = /done { fw_audit_log off; return 200 "done\n"; }
    location = /b403up {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b403;
    }
    location = /b401 { fw_audit_log off; return 401; }
    location = /mjson {
        fw_audit_log off;
        default_type application/fhir+json;
        return 200 '{"resourceType":"Patient","id":"p1","telecom":[]}';
    }
    location = /mj403 {
        fw_audit_log off;
        default_type application/fhir+json;
        return 403 '{"resourceType":"OperationOutcome"}';
    }
    location = /mbad {
        fw_audit_log off;
        default_type application/fhir+json;
        return 200 '{"resourceType":"Patient",';
    }
    location = /mtext {
        fw_audit_log off;
        default_type text/plain;
        return 200 "plain\n";
    }
_EOC_

    return $c;
}

sub main::http_config {
    my ($m, $set) = @_;
    my $c = <<'_EOC_';
    fw_audit_key_file $TEST_NGINX_HTML_DIR/audit.key;
    # the records are matched to the requests by their path
    fw_audit_redact path keep;
    limit_req_zone $uri zone=one_rps:1m rate=1r/m;
_EOC_
    if ($m =~ /^webhook|^webvote/) {
        $c .= "    fw_webhook_replay_zone wh:1m;\n";
    }
    if ($m eq 'webhook2') {
        $c .= "    fw_webhook_replay_redis 127.0.0.1:1 failure=closed;\n";
    }
    if ($m eq 'lockout2') {
        $c .= "    fw_lockout_redis 127.0.0.1:1;\n";
    }
    if ($m eq 'minimise') {
        $c .= "    fw_minimise_profile billing types=Patient,Observation;\n";
    }
    if ($m eq 'ratelimit' || $set eq 'all') {
        $c .= "    fw_ratelimit_redis 127.0.0.1:1;\n"
            . "    fw_ratelimit_policy one limit=1 window=60s "
            . "key=\$remote_addr;\n"
            . "    fw_ratelimit_policy many limit=1000 window=60s "
            . "key=\$remote_addr;\n";
    }
    return $c;
}

# the server level of a block: both sinks; with all five, statuses that
# are set everywhere without refusing anything
sub main::server_config {
    my ($m, $set) = @_;
    my $c = "    fw_audit_log logs/audit.log;\n"
          . "    fw_audit_log logs/audit.fhir format=fhir;\n";
    if ($set eq 'all') {
        $c .= "    fw_jwt_secret_file " . $K->("hs.secret")
            . " encoding=base64url;\n"
            . "    add_header X-JWT \$fw_jwt_status always;\n";
        $c .= "    fw_ratelimit many;\n    fw_ratelimit_failure local;\n"
            if $m ne 'ratelimit';
    }
    return $c;
}

sub main::requests {
    my ($m) = @_;
    return [(map { $_->[2] } cases($m)), "GET /done"];
}

sub main::headers {
    my ($m) = @_;
    return [(map { $_->[3] } cases($m)), ""];
}

sub main::codes {
    my ($m) = @_;
    return [(map { $_->[4] } cases($m)), 200];
}

sub main::bodies {
    my ($m) = @_;
    my @k = cases($m);
    return [(map { ".*" } @k), qr/\A(??{ main::check_records($m) })/];
}

sub main::check_records {
    my ($m) = @_;
    return FwAudit::check(sub {
        my @k = cases($m);
        my @j = FwAudit::requests('audit.log', scalar @k);
        my @f = FwAudit::requests('audit.fhir', scalar @k);
        return "expected " . scalar(@k) . " JSON records, got " . scalar(@j)
            if @j != @k;
        return "expected " . scalar(@k) . " AuditEvents, got " . scalar(@f)
            if @f != @k;
        for my $i (0 .. $#k) {
            my ($mod, $own, $req, $h, $st, $by, $why, $more)
                = @{ $k[$i] };
            my $path = path_of($req);
            $path =~ s/\?.*//;
            my $prof = ($more // {})->{minimise_profile};
            my $e = FwAudit::fields($j[$i], {
                path => $path, status => $st, denied_by => $by,
                reason => $why, minimise_profile => $prof });
            return "JSON record $i ($path): $e" if $e;
            my $det = $f[$i]{entity}[0]{detail} // [];
            my ($fp) = map { $_->{valueString} }
                       grep { $_->{type} eq 'minimise_profile' } @$det;
            return "AuditEvent $i ($path): minimise_profile "
                . ($fp // 'absent') . ", not " . ($prof // 'absent')
                if ($fp // '') ne ($prof // '');
            my $d = $f[$i]{outcomeDesc} // '';
            my $want = defined $by ? "; denied by $by: $why" : undef;
            if (defined $want) {
                return "AuditEvent $i ($path): '$d' lacks '$want'"
                    if index($d, "$want;") < 0 && substr($d, -length $want)
                                                  ne $want;
            } elsif ($d =~ /denied by/) {
                return "AuditEvent $i ($path): '$d' names a denial";
            }
        }
        return '';
    });
}

add_block_preprocessor(sub {
    my $block = shift;
    my $name = $block->name // '';
    my ($m, $set) = $name =~ /: (\w+) (alone|all five)/ or return;
    $set = $set eq 'alone' ? 'alone' : 'all';

    my $dir = $ENV{TEST_NGINX_FW_MODDIR} or die "TEST_NGINX_FW_MODDIR";
    (my $mod = $m) =~ s/\d+$//;
    $mod = 'webhook' if $mod eq 'webvote';
    # "all five": the five, and the block's module when it is another one
    my @mods = $set eq 'all' ? qw(jwt fhir webhook ratelimit audit)
             : $m eq 'nginx' ? qw(audit) : ($mod, 'audit');
    push @mods, $mod if $set eq 'all' && !grep { $_ eq $mod } @mods, 'nginx';
    my $load = join ' ', map { "$dir/ngx_http_fw_${_}_module.so" } @mods;
    no warnings 'once';
    $Test::Nginx::Socket::LoadModules = $load;
    $Test::Nginx::Util::LoadModules = $load;

    $block->set_value("http_config", main::http_config($m, $set));
    $block->set_value("config",
                      main::server_config($m, $set) . main::config($m, $set));
    $block->set_value("request", main::requests($m));
    $block->set_value("more_headers", main::headers($m));
    $block->set_value("error_code", main::codes($m));
    $block->set_value("response_body_like", main::bodies($m));
    $block->set_value("user_files", <<"_EOF_");
>>> audit.key
0123456789abcdef0123456789abcdef-test-key
>>> wh.key
$WH_SECRET
_EOF_
    $block->set_value("no_error_log", "[alert]\n[emerg]\n");
});

run_tests();

__DATA__

=== TEST 1: jwt alone
--- request
GET /done



=== TEST 2: jwt all five
--- request
GET /done



=== TEST 3: fhir alone
--- request
GET /done



=== TEST 4: fhir all five
--- request
GET /done



=== TEST 5: webhook alone
--- request
GET /done



=== TEST 6: webhook all five
--- request
GET /done



=== TEST 6a: webvote all five
--- request
GET /done



=== TEST 6b: webhook2 alone
--- request
GET /done



=== TEST 6c: webhook2 all five
--- request
GET /done



=== TEST 7: ratelimit alone
--- request
GET /done



=== TEST 8: ratelimit all five
--- request
GET /done



=== TEST 8b: lockout alone
--- request
GET /done



=== TEST 8c: lockout all five
--- request
GET /done



=== TEST 8d: lockout2 alone
--- request
GET /done



=== TEST 8e: lockout2 all five
--- request
GET /done



=== TEST 8f: minimise alone
--- request
GET /done



=== TEST 8g: minimise all five
--- request
GET /done



=== TEST 9: nginx alone
--- request
GET /done



=== TEST 10: nginx all five
--- request
GET /done
