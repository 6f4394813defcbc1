# vim:set ft= ts=4 sw=4 et fdm=marker:
# The answer never depends on the order of the load_module lines: every
# pair of fhirwall modules, loaded in both orders, in one location that
# uses both, gets the same status, WWW-Authenticate and body for a fixed
# set of requests (those of the pair's modules among: valid, forged,
# expired, missing token, insufficient scope, outside the patient
# compartment, rate limited, bad webhook signature; an expired token with
# too few scopes; a forged token with a bad webhook signature, which both
# access-phase modules refuse: the webhook module answers, the JWT module
# being always the last access handler).  RFC 6750 3.1: invalid_token for a forged and an
# expired token, whatever its scopes.
#
# Handlers that share a phase (docs/DEVELOPING.md, "Phase order"): a
# "case" runs requests that two of them refuse at once, in both orders.
# sink: the audit sink fails (/dev/full, fail closed): a rate limited
# request gets the 429, not the 503.  lockout: a locked-out client (one
# failure locks) that is also rate limited, or whose audit sink fails,
# gets the lockout's 429.  minimise: a role the minimise module denies,
# with too few scopes, gets the FHIR module's 403.  preaccess: the three
# preaccess modules together, in several orders (lockout, then rate
# limit, then the failing sink).
#
# The file loads its own modules (main_config) instead of
# TEST_NGINX_LOAD_MODULES; the .so files are in TEST_NGINX_FW_MODDIR.

BEGIN { $ENV{TEST_NGINX_LOAD_MODULES} = '' }

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(hmac_sha256_hex);
use FwJwt;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

repeat_each(1);
no_shuffle();

my $moddir = $ENV{TEST_NGINX_FW_MODDIR}
    or die "TEST_NGINX_FW_MODDIR is not set (run through tools/run-tests)";
my $keys = "$ENV{TEST_NGINX_FW_ROOT}/t/keys/jwt";
my $now = 1700000000;
my $wh_secret = 'whsec_fhirwall_order_test';

my @rsa = ("-a", "RS256", "-k", "$keys/rsa.key");

sub tok {
    my ($sub, $scope, @more) = @_;
    return mint(@rsa, "-c", "sub=$sub", "-c", "scope=$scope",
                "-c", "patient=123", @more);
}

my $ok_scope = "user/Patient.r user/Observation.c";

my %T = (
    valid    => tok("alice", $ok_scope),
    rl       => tok("rl", $ok_scope),
    forged   => mint("-a", "RS256", "-k", "$keys/rsa2.key", "-c", "sub=alice",
                     "-c", "scope=$ok_scope"),
    expired  => tok("alice", $ok_scope, "-e", "-120"),
    expired_narrow => tok("bob", "user/Observation.r", "-e", "-120"),
    narrow   => tok("bob", "user/Observation.r"),
    patient  => tok("pat", "patient/*.cr"),
);

# the request of a scenario, for the modules of a pair
sub request {
    my ($m, $s) = @_;
    my $post = $m->{webhook};
    my $body = '{"resourceType":"Observation"}';
    my ($path, @h);

    return ("GET /f", "X-Client: fail") if $s eq 'fail';

    push @h, "X-Role: visitor" if $s =~ /visitor/;
    $s =~ s/_visitor$//;

    if ($m->{fhir}) {
        $path = $post ? "/p/Observation"
              : $s eq 'compartment' ? "/p/Patient/456" : "/p/Patient/123";
    } else {
        $path = "/p/x";
    }

    if ($m->{jwt}) {
        my $t = $s =~ /^forged/ ? $T{forged}
              : $s eq 'expired' ? $T{expired}
              : $s eq 'expired_narrow' ? $T{expired_narrow}
              : $s eq 'scope' ? $T{narrow}
              : $s eq 'compartment' ? $T{patient}
              : $s =~ /^rl/ ? $T{rl}
              : $T{valid};
        push @h, "Authorization: Bearer $t" unless $s eq 'missing';
    } elsif ($m->{fhir}) {
        push @h, "X-Scopes: " . ($s eq 'scope' ? "user/Observation.r"
                                 : $s eq 'compartment' ? "patient/*.cr"
                                 : $ok_scope);
        push @h, "X-Patient: 123";
    }

    push @h, "X-Client: " . ($s =~ /^rl/ ? "rl" : $s);

    if ($post) {
        my $sig = hmac_sha256_hex("$now.$body", $wh_secret);
        $sig =~ tr/0-9a-f/1-9a-f0/ if $s =~ /webhook/;
        push @h, "Stripe-Signature: t=$now,v1=$sig",
                 "Content-Type: application/fhir+json";
        return ("POST $path\n$body", join("\r\n", @h));
    }

    return ("GET $path", join("\r\n", @h));
}

# what every order must answer: status, WWW-Authenticate, body
my $oo = sub {
    my ($code, $diag) = @_;
    return qq({"resourceType":"OperationOutcome","issue":[{"severity":)
        . qq("error","code":"$code","diagnostics":"$diag"}]}\n);
};

sub expected {
    my ($m, $s) = @_;
    my $post = $m->{webhook};

    return (200, undef, "ok\n")
        if $s eq 'valid' || $s eq 'rl1';
    return (401, 'Bearer realm="api", error="invalid_token", '
                 . 'error_description="invalid token"',
            "401 Unauthorized: invalid token\n")
        if $s eq 'forged';
    return (401, 'Bearer realm="api", error="invalid_token", '
                 . 'error_description="token expired"',
            "401 Unauthorized: token expired\n")
        if $s eq 'expired' || $s eq 'expired_narrow';
    return (401, 'Bearer realm="api"',
            "401 Unauthorized: a bearer token is required\n")
        if $s eq 'missing';
    return (403, 'Bearer error="insufficient_scope", scope="user/'
                 . ($post ? 'Observation.c' : 'Patient.r') . '"',
            $oo->('forbidden', "insufficient scope: "
                  . ($post ? "create needs user/Observation.c"
                           : "read needs user/Patient.r")))
        if $s eq 'scope';
    return (403, 'Bearer error="insufficient_scope", scope="user/'
                 . ($post ? 'Observation.c' : 'Patient.r') . '"',
            $oo->('forbidden', $post
                  ? "create cannot be attributed to the patient in context"
                  : "request is outside the patient compartment"))
        if $s eq 'compartment';
    return (429, undef, "429 Too Many Requests: rate limit exceeded\n")
        if $s eq 'rl2';
    return (503, undef,
            "503 Service Unavailable: the audit log is not writable\n")
        if $s eq 'sink' || $s eq 'rl1_sink';
    return (401, undef, "failed\n")
        if $s eq 'fail';
    return (429, "!WWW-Authenticate\nRetry-After: 30",
            "429 Too Many Requests: too many failed authentications\n")
        if $s eq 'locked' || $s eq 'rl_locked';
    return (403, undef, $oo->('forbidden', "this role may not read this data"))
        if $s eq 'visitor';
    return expected($m, 'scope')
        if $s eq 'scope_visitor';
    return (401, 'Signature', "401 Unauthorized: webhook signature invalid\n")
        if $s eq 'webhook' || $s eq 'forged_webhook';
    die "no scenario $s";
}

my $serial = 0;

sub setup {
    my ($block) = @_;
    my @order = split ' ', $block->modules;
    my %m = map { $_ => 1 } @order;
    my $case = $block->case // '';
    $serial++;

    my $main = join '', map { "load_module $moddir/ngx_http_fw_${_}_module.so;\n" }
                        @order;

    my $http = <<'_EOC_';
    upstream backend {
        server unix:$TEST_NGINX_HTML_DIR/order.sock;
    }
    server {
        listen unix:$TEST_NGINX_HTML_DIR/order.sock;
        location / { return 200 "ok\n"; }
    }
_EOC_
    my $loc = '';
    my $lockout = "fw_lockout failures=1 window=1m lockout=30s max=1h;";
    my $srv = '';

    if ($m{jwt}) {
        $loc .= "        fw_jwt on;\n"
              . "        fw_jwt_key_file $keys/rsa.pub;\n"
              . "        fw_jwt_realm api;\n"
              . "        fw_jwt_require_exp off;\n"
              . "        fw_jwt_error_format text;\n";
    }
    if ($m{fhir}) {
        $loc .= "        fw_fhir R4;\n"
              . "        fw_fhir_patient_unverifiable deny;\n"
              . ($m{jwt} ? "        fw_fhir_scopes \$fw_jwt_scope;\n"
                         . "        fw_fhir_patient \$fw_jwt_claim_patient;\n"
                         : "        fw_fhir_scopes \$http_x_scopes;\n"
                         . "        fw_fhir_patient \$http_x_patient;\n");
    }
    if ($m{webhook}) {
        $loc .= "        fw_webhook stripe;\n"
              . "        fw_webhook_secret_file \$TEST_NGINX_HTML_DIR/wh.key;\n"
              . "        fw_webhook_test_now $now;\n"
              . "        fw_webhook_error_format text;\n";
    }
    if ($m{ratelimit}) {
        my $key = $m{jwt} ? '$fw_jwt_sub' : '$http_x_client';
        $http .= "    fw_ratelimit_policy p limit=1 window=1h "
               . "key=$key;\n";
        $loc .= "        fw_ratelimit p;\n"
              . "        fw_ratelimit_error_format text;\n";
    }
    if ($m{audit}) {
        $http .= "    fw_audit_key_file \$TEST_NGINX_HTML_DIR/audit.key;\n";
        $loc .= $case =~ /^(sink|lockout|preaccess)$/
                ? "        error_log logs/sink-errors.log;\n"
                  . "        fw_audit_log /dev/full;\n"
                  . "        fw_audit_fail_closed on;\n"
                  . "        fw_audit_error_format text;\n"
                : "        fw_audit_log logs/audit.log;\n";
    }
    if ($m{lockout}) {
        $loc .= "        $lockout\n"
              . "        fw_lockout_error_format text;\n";
        $srv .= "    location = /f {\n        $lockout\n"
              . "        return 401 \"failed\\n\";\n    }\n";
    }
    if ($m{minimise}) {
        $loc .= "        fw_minimise_map \$http_x_role visitor deny;\n"
              . "        fw_minimise_default none;\n";
    }

    my @s = ('valid');
    push @s, qw(forged expired missing) if $m{jwt};
    push @s, qw(scope compartment) if $m{fhir};
    push @s, 'expired_narrow' if $m{fhir} && $m{jwt};
    push @s, 'webhook' if $m{webhook};
    push @s, 'forged_webhook' if $m{webhook} && $m{jwt};
    push @s, qw(rl1 rl2) if $m{ratelimit};

    if ($case eq 'sink') {
        @s = qw(rl1_sink rl2);
    } elsif ($case eq 'lockout') {
        @s = $m{ratelimit} ? qw(rl1 fail rl_locked) : qw(sink fail locked);
    } elsif ($case eq 'preaccess') {
        @s = qw(rl1_sink fail rl_locked);
    } elsif ($case eq 'minimise') {
        @s = qw(valid scope compartment visitor scope_visitor);
    }

    my (@req, @hdr, @code, @www, @body);
    for my $s (@s) {
        my ($r, $h) = request(\%m, $s);
        my ($c, $w, $b) = expected(\%m, $s);
        push @req, $r;
        push @hdr, $h;
        push @code, $c;
        push @www, !defined $w ? "!WWW-Authenticate"
                 : $w =~ /^!/ ? $w : "WWW-Authenticate: $w";
        push @body, $b;
    }

    $block->set_value('main_config', $main);
    $block->set_value('http_config', $http);
    $block->set_value('config', "    location /p {\n$loc"
                                . "        proxy_pass http://backend;\n    }\n"
                                . $srv);
    $block->set_value('user_files', ">>> wh.key\n$wh_secret\n"
                      . ">>> audit.key\n0123456789abcdef0123456789abcdef-order\n");
    $block->set_value('request', \@req);
    $block->set_value('more_headers', \@hdr);
    $block->set_value('error_code', \@code);
    $block->set_value('response_headers', \@www);
    $block->set_value('response_body', \@body);
}

add_block_preprocessor(\&setup);

run_tests();

__DATA__

=== TEST 1: jwt, fhir
--- modules: jwt fhir

=== TEST 2: fhir, jwt
--- modules: fhir jwt

=== TEST 3: jwt, webhook
--- modules: jwt webhook

=== TEST 4: webhook, jwt
--- modules: webhook jwt

=== TEST 5: jwt, ratelimit
--- modules: jwt ratelimit

=== TEST 6: ratelimit, jwt
--- modules: ratelimit jwt

=== TEST 7: jwt, audit
--- modules: jwt audit

=== TEST 8: audit, jwt
--- modules: audit jwt

=== TEST 9: fhir, webhook
--- modules: fhir webhook

=== TEST 10: webhook, fhir
--- modules: webhook fhir

=== TEST 11: fhir, ratelimit
--- modules: fhir ratelimit

=== TEST 12: ratelimit, fhir
--- modules: ratelimit fhir

=== TEST 13: fhir, audit
--- modules: fhir audit

=== TEST 14: audit, fhir
--- modules: audit fhir

=== TEST 15: webhook, ratelimit
--- modules: webhook ratelimit

=== TEST 16: ratelimit, webhook
--- modules: ratelimit webhook

=== TEST 17: webhook, audit
--- modules: webhook audit

=== TEST 18: audit, webhook
--- modules: audit webhook

=== TEST 19: ratelimit, audit
--- modules: ratelimit audit

=== TEST 20: audit, ratelimit
--- modules: audit ratelimit

=== TEST 21: ratelimit, audit: the sink fails, the 429 wins
--- modules: ratelimit audit
--- case: sink

=== TEST 22: audit, ratelimit: the sink fails, the 429 wins
--- modules: audit ratelimit
--- case: sink

=== TEST 23: lockout, ratelimit: locked out and rate limited
--- modules: lockout ratelimit
--- case: lockout

=== TEST 24: ratelimit, lockout: locked out and rate limited
--- modules: ratelimit lockout
--- case: lockout

=== TEST 25: lockout, audit: locked out, the sink fails
--- modules: lockout audit
--- case: lockout

=== TEST 26: audit, lockout: locked out, the sink fails
--- modules: audit lockout
--- case: lockout

=== TEST 27: fhir, minimise: a denied role with too few scopes
--- modules: fhir minimise
--- case: minimise

=== TEST 28: minimise, fhir: a denied role with too few scopes
--- modules: minimise fhir
--- case: minimise

=== TEST 29: audit, lockout, ratelimit: the three preaccess checks
--- modules: audit lockout ratelimit
--- case: preaccess

=== TEST 30: ratelimit, audit, lockout: the three preaccess checks
--- modules: ratelimit audit lockout
--- case: preaccess

=== TEST 31: lockout, ratelimit, audit: the three preaccess checks
--- modules: lockout ratelimit audit
--- case: preaccess
