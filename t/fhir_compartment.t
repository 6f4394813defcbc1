# FHIR module: the patient compartment of patient/ scopes, decided from the
# per-version tables generated from the FHIR definitions (a parameter
# restricts a search to a patient only where it is a Patient reference of
# the type that the compartment definition, or its name "patient", ties to
# the patient), and control parameters in another case.  The backend
# answers with the request line it received: what passes is what a FHIR
# server behind the gateway would run.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

sub bundle {
    my ($type, @entries) = @_;
    my @e = map {
        '{"request":{"method":"' . $_->[0] . '","url":"' . $_->[1] . '"}}'
    } @entries;
    return '{"resourceType":"Bundle","type":"' . $type . '","entry":['
        . join(',', @e) . ']}';
}

our $Echo = <<'_EOC_';
    server {
        listen       $TEST_NGINX_SERVER_PORT;
        server_name  echo;
        location / {
            return 200 "line=[$request]\n";
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $Echo . ($block->http_config // ''));
    if (!defined $block->config) {
        my $c = '';
        for my $v (qw(R4 R4B R5)) {
            my $base = $v eq 'R4' ? '/fhir' : '/' . lc $v;
            $c .= <<"_EOC_";
    location $base {
        fw_fhir $v;
        fw_fhir_scopes \$http_x_scopes;
        fw_fhir_patient \$http_x_patient;
        proxy_set_header Host echo;
        proxy_set_header X-Scopes "";
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;
    }
_EOC_
        }
        $c .= <<'_EOC_';
    location /open {
        fw_fhir R4;
        fw_fhir_scopes off;
        proxy_set_header Host echo;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
_EOC_
        $block->set_value('config', $c);
    }
    if (!defined $block->more_headers) {
        $block->set_value('more_headers',
                          "X-Scopes: patient/*.rs\nX-Patient: 123");
    }
});

run_tests();

__DATA__

=== TEST 1: the issue's cases: parameters that mean nothing on the type restrict nothing (403)
--- request eval
[
"GET /fhir/Patient?patient=123",
"GET /fhir/Patient?subject=Patient/123",
"GET /fhir/Group?patient=123",
"GET /fhir/Medication?patient=123",
"GET /fhir/Medication?subject=Patient/123",
]
--- more_headers eval
[
"X-Scopes: patient/Patient.rs\nX-Patient: 123",
"X-Scopes: patient/Patient.rs\nX-Patient: 123",
"X-Scopes: patient/Group.rs\nX-Patient: 123",
"X-Scopes: patient/Medication.rs\nX-Patient: 123",
"X-Scopes: patient/Medication.rs\nX-Patient: 123",
]
--- error_code eval
[403, 403, 403, 403, 403]
--- response_body_like eval
[
qr/"code":"forbidden".*outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/Medication is never in the patient compartment \(FHIR R4\)/,
qr/Medication is never in the patient compartment/,
]



=== TEST 2: a type never in the compartment: only a scope without patient context allows it
--- request eval
["GET /fhir/Medication?code=x", "GET /fhir/Medication?code=x",
 "GET /fhir/Practitioner?name=x", "GET /fhir/Device?patient=123"]
--- more_headers eval
[
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs user/Medication.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123",
]
--- error_code eval
[403, 200, 403, 403]
--- response_body_like eval
[
qr/never in the patient compartment/,
qr/^line=\[GET \/fhir\/Medication\?code=x HTTP\/1.0\]$/,
qr/Practitioner is never in the patient compartment/,
qr/Device is never in the patient compartment/,
]



=== TEST 3: what ties a type to the patient: the compartment definition's parameters, "patient", and "subject" where "patient" is defined
--- request eval
[
"GET /fhir/Patient?_id=123",
"GET /fhir/Patient?link=Patient/123",
"GET /fhir/Group?member=Patient/123",
"GET /fhir/Observation?patient=123",
"GET /fhir/Observation?subject=Patient/123",
"GET /fhir/Observation?subject:Patient=123",
"GET /fhir/Observation?performer=Patient/123",
"GET /fhir/AllergyIntolerance?recorder=Patient/123",
"GET /fhir/Condition?subject=Patient/123",
"GET /fhir/Basic?subject:Patient=123",
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_body eval
[
"line=[GET /fhir/Patient?_id=123 HTTP/1.0]\n",
"line=[GET /fhir/Patient?link=Patient/123 HTTP/1.0]\n",
"line=[GET /fhir/Group?member=Patient/123 HTTP/1.0]\n",
"line=[GET /fhir/Observation?patient=123 HTTP/1.0]\n",
"line=[GET /fhir/Observation?subject=Patient/123 HTTP/1.0]\n",
"line=[GET /fhir/Observation?subject:Patient=123 HTTP/1.0]\n",
"line=[GET /fhir/Observation?performer=Patient/123 HTTP/1.0]\n",
"line=[GET /fhir/AllergyIntolerance?recorder=Patient/123 HTTP/1.0]\n",
"line=[GET /fhir/Condition?subject=Patient/123 HTTP/1.0]\n",
"line=[GET /fhir/Basic?subject:Patient=123 HTTP/1.0]\n",
]



=== TEST 4: anything else is refused as unverifiable
--- request eval
[
"GET /fhir/Observation?focus=Patient/123",
"GET /fhir/Condition?evidence-detail=Patient/123",
"GET /fhir/Observation?subject=123",
"GET /fhir/Group?member=123",
"GET /fhir/Observation?patient:not=456",
"GET /fhir/Observation?patient=123&patient:missing=true",
"GET /fhir/Observation?patient=123&subject=Patient/456",
"GET /fhir/Observation?code=x",
]
--- error_code eval
[403, 403, 403, 403, 403, 403, 403, 403]
--- response_body_like eval
[
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
]



=== TEST 5: each version has its own table (Task: not in R4B's compartment; Encounter: R5's participant is a Patient reference the definition does not tie)
--- request eval
[
"GET /fhir/Task?patient=123",
"GET /r4b/Task?patient=123",
"GET /r5/Task?patient=123",
"GET /fhir/Encounter?subject=Patient/123",
"GET /r5/Encounter?participant=Patient/123",
"GET /r5/Encounter?patient=123",
"GET /r5/Patient?_id=123",
]
--- error_code eval
[200, 403, 200, 200, 403, 200, 200]
--- response_body_like eval
[
qr/^line=\[GET \/fhir\/Task\?patient=123 HTTP\/1.0\]$/,
qr/Task is never in the patient compartment \(FHIR R4B\)/,
qr/^line=\[GET \/r5\/Task\?patient=123 HTTP\/1.0\]$/,
qr/^line=\[GET \/fhir\/Encounter\?subject=Patient\/123 HTTP\/1.0\]$/,
qr/outside the patient compartment/,
qr/^line=\[GET \/r5\/Encounter\?patient=123 HTTP\/1.0\]$/,
qr/^line=\[GET \/r5\/Patient\?_id=123 HTTP\/1.0\]$/,
]



=== TEST 6: compartment searches refuse a conflicting patient, in the query and in a _search body
--- request eval
[
"GET /fhir/Patient/123/Observation",
"GET /fhir/Patient/123/Observation?patient=123",
"GET /fhir/Patient/123/Observation?patient=456",
"GET /fhir/Patient/123/Observation?subject=Patient/456",
"GET /fhir/Patient/123/Observation?subject=456",
"POST /fhir/Patient/123/Observation/_search\npatient=456",
"POST /fhir/Patient/123/Observation/_search\npatient=123&code=x",
"POST /fhir/Observation/_search\nsubject=Patient/456&patient=123",
"GET /fhir/Patient/123/Medication",
]
--- more_headers eval
[
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123\nContent-Type: application/x-www-form-urlencoded",
"X-Scopes: patient/*.rs\nX-Patient: 123\nContent-Type: application/x-www-form-urlencoded",
"X-Scopes: patient/*.rs\nX-Patient: 123\nContent-Type: application/x-www-form-urlencoded",
"X-Scopes: patient/*.rs\nX-Patient: 123",
]
--- error_code eval
[200, 200, 403, 403, 403, 403, 200, 403, 403]
--- response_body_like eval
[
qr/^line=\[GET \/fhir\/Patient\/123\/Observation HTTP\/1.0\]$/,
qr/^line=\[GET \/fhir\/Patient\/123\/Observation\?patient=123 HTTP\/1.0\]$/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/^line=\[POST \/fhir\/Patient\/123\/Observation\/_search HTTP\/1.0\]$/,
qr/outside the patient compartment/,
qr/Medication is never in the patient compartment/,
]



=== TEST 7: the same inside batch and transaction entries
--- request eval
[
"POST /fhir\n" . main::bundle('batch', ['GET', 'Observation?patient=123'], ['GET', 'Medication?patient=123']),
"POST /fhir\n" . main::bundle('transaction', ['GET', 'Patient?patient=123']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/123/Observation?patient=456']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Observation?patient=123'], ['GET', 'Group?member=Patient/123']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Observation?patient=123&_Include=Observation:subject']),
]
--- more_headers
Content-Type: application/fhir+json
X-Scopes: patient/*.rs
X-Patient: 123
--- error_code eval
[403, 403, 403, 200, 400]
--- response_body_like eval
[
qr/Bundle entry 1: Medication is never in the patient compartment/,
qr/Bundle entry 0: .*outside the patient compartment/,
qr/Bundle entry 0: .*outside the patient compartment/,
qr/^line=\[POST \/fhir HTTP\/1.0\]$/,
qr/Bundle entry 0: ambiguous parameter/,
]



=== TEST 8: control parameters in another case are ambiguous (400) where scopes are checked, whatever the scope
--- request eval
[
"GET /fhir/Observation?patient=123&_Include=Observation:subject",
"GET /fhir/Observation?patient=123&_revInclude=Provenance:target",
"GET /fhir/Observation?patient=123&_HAS:Observation:patient:code=x",
"GET /fhir/Observation?code=x&_REVINCLUDE:iterate=Provenance:target",
"GET /fhir/Observation?code=x&_Type=Patient",
"GET /fhir/Observation?code=x&_include=Observation:subject",
"GET /open/Observation?code=x&_Include=Observation:subject",
]
--- more_headers eval
[
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: user/*.rs",
"X-Scopes: system/*.rs",
"X-Scopes: user/*.rs",
"",
]
--- error_code eval
[400, 400, 400, 400, 400, 200, 200]
--- response_body_like eval
[
qr/"code":"invalid".*ambiguous parameter/,
qr/ambiguous parameter/,
qr/ambiguous parameter/,
qr/ambiguous parameter/,
qr/ambiguous parameter/,
qr/^line=\[GET \/fhir\/Observation\?code=x&_include=Observation:subject HTTP\/1.0\]$/,
qr/^line=\[GET \/open\/Observation\?code=x&_Include=Observation:subject HTTP\/1.0\]$/,
]



=== TEST 9: fw_fhir_strict_handling on: the upstream gets "Prefer: handling=strict" first, the client's other preferences, never its handling
--- http_config
    server {
        listen       $TEST_NGINX_SERVER_PORT;
        server_name  prefer;
        location / {
            return 200 "line=[$request] prefer=[$http_prefer]\n";
        }
    }
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_patient $http_x_patient;
        fw_fhir_strict_handling on;
        proxy_set_header Host prefer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /off {
        fw_fhir R4;
        fw_fhir_base /off;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_patient $http_x_patient;
        proxy_set_header Host prefer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request eval
["GET /fhir/Observation?patient=123", "GET /fhir/Observation?patient=123",
 "GET /fhir/Observation?patient=123", "GET /off/Observation?patient=123",
 "GET /fhir/Medication?patient=123"]
--- more_headers eval
[
"X-Scopes: patient/*.rs\nX-Patient: 123",
"X-Scopes: patient/*.rs\nX-Patient: 123\nPrefer: return=minimal, handling=strict",
"X-Scopes: user/*.rs\nPrefer: respond-async\nPrefer: HANDLING = lenient ; x, return=representation",
"X-Scopes: patient/*.rs\nX-Patient: 123\nPrefer: return=minimal",
"X-Scopes: patient/*.rs\nX-Patient: 123",
]
--- error_code eval
[200, 200, 200, 200, 403]
--- response_body_like eval
[
qr/^line=\[GET \/fhir\/Observation\?patient=123 HTTP\/1.0\] prefer=\[handling=strict\]$/,
qr/ prefer=\[handling=strict, return=minimal\]$/,
qr/ prefer=\[handling=strict, respond-async, return=representation\]$/,
qr/^line=\[GET \/off\/Observation\?patient=123 HTTP\/1.0\] prefer=\[return=minimal\]$/,
qr/never in the patient compartment/,
]
