# FHIR module: SMART on FHIR scopes (v1, v2, granular), patient
# compartments, the operation policy.  Scopes come from X-Scopes, the
# patient in context from X-Patient.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwFhir;

repeat_each(1);
no_shuffle();
add_block_preprocessor(sub {
    my $block = shift;
    FwFhir::preprocess($block);
    if (!defined $block->config) {
        $block->set_value('config', <<'_EOC_');
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_patient $http_x_patient;
        fw_fhir_operation_scope $everything r;
        fw_fhir_operation_scope $versions public;
        fw_fhir_operation_scope $validate s;
        proxy_set_header X-Scopes "";
        proxy_set_header X-Patient "";
_EOC_
        my $c = $block->config;
        $block->set_value('config', $c . "        $FwFhir::Proxy\n    }\n");
    }
});

run_tests();

__DATA__

=== TEST 1: no scopes at all: 401 with a Bearer challenge; /metadata is public
--- request eval
["GET /fhir/Patient/1", "GET /fhir/metadata", "GET /fhir/Patient/1", "GET /fhir/Patient/1/\$versions"]
--- more_headers eval
["", "", "X-Scopes:   ", ""]
--- error_code eval
[401, 200, 401, 200]
--- response_headers eval
['WWW-Authenticate: Bearer realm="fhir"', "WWW-Authenticate:", 'WWW-Authenticate: Bearer realm="fhir"', "WWW-Authenticate:"]
--- response_body_like eval
[qr/"code":"login"/, qr/capabilities/, qr/"code":"login"/, qr/operation-instance/]


=== TEST 2: v1 scopes: read, write, *
--- request eval
[
"GET /fhir/Patient/1",
"GET /fhir/Patient?name=x",
"POST /fhir/Patient\n{}",
"POST /fhir/Patient\n{}",
"GET /fhir/Patient/1",
"GET /fhir/Observation/1",
"DELETE /fhir/Observation/1",
"DELETE /fhir/Observation/1",
]
--- more_headers eval
[
"X-Scopes: openid user/Patient.read",
"X-Scopes: user/Patient.read",
"X-Scopes: user/Patient.read",
"X-Scopes: user/Patient.write",
"X-Scopes: user/Patient.write",
"X-Scopes: user/*.read",
"X-Scopes: user/*.read",
"X-Scopes: user/Observation.*",
]
--- error_code eval
[200, 200, 403, 200, 403, 200, 403, 200]
--- response_headers eval
[
"WWW-Authenticate:",
"WWW-Authenticate:",
'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Patient.c"',
"WWW-Authenticate:",
'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Patient.r"',
"WWW-Authenticate:",
'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Observation.d"',
"WWW-Authenticate:",
]


=== TEST 3: v2 scopes: cruds subsets in order; malformed ones grant nothing
--- request eval
[
"GET /fhir/Patient/1",
"GET /fhir/Patient?name=x",
"PUT /fhir/Patient/1\n{}",
"PUT /fhir/Patient/1\n{}",
"GET /fhir/Patient/1",
"GET /fhir/Patient/1",
"GET /fhir/Patient/1",
"GET /fhir/Patient/1",
"GET /fhir/Patient/1",
"GET /fhir/Patient/1",
"GET /fhir/Observation?code=x",
"GET /fhir/Observation?code=x",
"GET /fhir/Patient/1",
"PATCH /fhir/Patient/1\n[]",
]
--- more_headers eval
[
"X-Scopes: user/Patient.rs",
"X-Scopes: user/Patient.rs",
"X-Scopes: user/Patient.rs",
"X-Scopes: user/Patient.cruds",
"X-Scopes: user/Patient.sr",
"X-Scopes: user/Patient.rr",
"X-Scopes: user/Patient.rx",
"X-Scopes: user/patient.r",
"X-Scopes: user/Patient.",
"X-Scopes: admin/Patient.r",
"X-Scopes: system/Observation.s",
"X-Scopes: system/Observation.r",
"X-Scopes: user/Patient.r\tuser/Observation.s  user/Patient.r",
"X-Scopes: user/Patient.cud",
]
--- error_code eval
[200, 200, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403, 200, 200]


=== TEST 4: the request-to-permission mapping
--- request eval
[
"GET /fhir/Patient/1/_history",
"GET /fhir/Patient/1/_history/2",
"GET /fhir/Patient/_history",
"GET /fhir/_history",
"GET /fhir/_history",
"GET /fhir?_type=Patient",
"PUT /fhir/Observation?identifier=x\n{}",
"PUT /fhir/Observation?identifier=x\n{}",
"DELETE /fhir/Observation?identifier=x",
"PATCH /fhir/Observation?identifier=x\n[]",
"POST /fhir/Patient/_search\nname=x",
"GET /fhir/Patient/1/Observation",
"GET /fhir/Patient/1/*",
"GET /fhir/Patient/1/*",
]
--- more_headers eval
[
"X-Scopes: user/Patient.r",
"X-Scopes: user/Patient.r",
"X-Scopes: user/Patient.r",
"X-Scopes: user/Patient.s",
"X-Scopes: system/*.s",
"X-Scopes: user/Patient.s",
"X-Scopes: user/Observation.u",
"X-Scopes: user/Observation.cu",
"X-Scopes: user/Observation.d",
"X-Scopes: user/Observation.u",
"X-Scopes: user/Patient.s\nContent-Type: application/x-www-form-urlencoded",
"X-Scopes: user/Observation.s",
"X-Scopes: user/Observation.s",
"X-Scopes: user/*.s",
]
--- error_code eval
[200, 200, 403, 403, 200, 403, 403, 200, 200, 200, 200, 200, 403, 200]
--- response_headers eval
[
"WWW-Authenticate:",
"WWW-Authenticate:",
'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Patient.s"',
'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/*.s"',
"WWW-Authenticate:",
'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/*.s"',
'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Observation.cu"',
"WWW-Authenticate:",
"WWW-Authenticate:",
"WWW-Authenticate:",
"WWW-Authenticate:",
"WWW-Authenticate:",
'WWW-Authenticate: Bearer error="insufficient_scope", scope="user/*.s"',
"WWW-Authenticate:",
]


=== TEST 5: operations: denied unless the policy names them
--- request eval
[
"GET /fhir/Patient/1/\$everything",
"GET /fhir/Patient/1/\$everything",
"GET /fhir/Patient/\$match",
"POST /fhir/Observation/\$validate\n{}",
"GET /fhir/\$export",
]
--- more_headers eval
[
"X-Scopes: user/Patient.r",
"X-Scopes: user/Patient.s",
"X-Scopes: user/*.cruds",
"X-Scopes: user/Observation.s\nContent-Type: application/fhir+json",
"X-Scopes: system/*.cruds",
]
--- error_code eval
[200, 403, 403, 200, 403]
--- response_body_like eval
[qr/operation-instance/, qr/insufficient scope/, qr/operation policy/, qr/operation-type/, qr/operation policy/]


=== TEST 6: operation policy default and deny
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_operation_scope * r;
        fw_fhir_operation_scope $purge deny;
        @proxy;
    }
--- request eval
["GET /fhir/Patient/\$match", "GET /fhir/Patient/1/\$purge", "GET /fhir/Patient/\$match"]
--- more_headers eval
["X-Scopes: user/Patient.r", "X-Scopes: user/Patient.cruds", "X-Scopes: user/Patient.s"]
--- error_code eval
[200, 403, 403]


=== TEST 7: patient/ scopes stay in the patient compartment
--- request eval
[
"GET /fhir/Patient/123",
"GET /fhir/Patient/12",
"GET /fhir/Patient/1234",
"GET /fhir/Patient/123/Observation",
"GET /fhir/Patient/124/Observation",
"GET /fhir/Encounter/e1/Observation",
"GET /fhir/Observation?patient=123",
"GET /fhir/Observation?patient=Patient/123",
"GET /fhir/Observation?patient=%31%323",
"GET /fhir/Observation?subject=Patient/123",
"GET /fhir/Observation?subject:Patient=123",
"GET /fhir/Patient?_id=123",
"GET /fhir/Patient/123/_history",
"GET /fhir/Patient/123/_history/1",
]
--- more_headers eval
[("X-Scopes: launch/patient patient/*.rs\nX-Patient: 123") x 14]
--- error_code eval
[200, 403, 403, 200, 403, 403, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[
qr/fhir=\[read\|Patient\|123\|\|\|\|123\|ok\]/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/fhir=\[search-compartment/,
qr/outside the patient compartment/,
qr/outside the patient compartment/,
qr/fhir=\[search-type\|Observation\|\|\|\|\|123\|ok\]/,
qr/\|123\|ok/, qr/\|123\|ok/, qr/\|123\|ok/, qr/\|123\|ok/, qr/\|123\|ok/,
qr/history-instance/, qr/vread/,
]


=== TEST 8: compartment escapes are refused for patient/ scopes
--- request eval
[
"GET /fhir/Observation?patient=12",
"GET /fhir/Observation?patient=1234",
"GET /fhir/Observation?patient=123,456",
"GET /fhir/Observation?patient=123&patient=456",
"GET /fhir/Observation?subject=123",
"GET /fhir/Observation?subject=Group/x",
"GET /fhir/Observation?patient=123&subject=Group/x",
"GET /fhir/Observation?patient:missing=true",
"GET /fhir/Observation?patient.name=smith",
"GET /fhir/Observation?patient=123&subject.name=smith",
"GET /fhir/Observation?patient=123&subject:Patient.name=smith",
"GET /fhir/Observation?patient=123&_include=Observation:subject",
"GET /fhir/Observation?patient=123&_include:iterate=Observation:subject",
"GET /fhir/Observation?patient=123&_revinclude=Provenance:target",
"GET /fhir/Patient?_id=123&_has:Observation:patient:code=x",
"GET /fhir/Observation?code=x",
"GET /fhir/Patient?name=smith",
"GET /fhir/Patient?_id=124",
"GET /fhir?_type=Observation",
"GET /fhir/_history",
"GET /fhir/Observation/_history",
"GET /fhir/Observation/o1",
"DELETE /fhir/Observation/o1",
"POST /fhir/Observation\n{}",
"GET /fhir/Observation?patient=Patient/123/_history/1",
"GET /fhir/Observation?patient=http://evil/Patient/123",
]
--- more_headers eval
[("X-Scopes: patient/*.cruds\nX-Patient: 123\nContent-Type: application/fhir+json") x 26]
--- error_code eval
[(403) x 26]
--- response_body_like eval
[
qr/outside/, qr/outside/, qr/outside/, qr/outside/, qr/outside/, qr/outside/,
qr/outside/, qr/outside/,
qr/chained/, qr/chained/, qr/chained/, qr/chained/, qr/chained/, qr/chained/,
qr/chained/,
qr/outside/, qr/outside/, qr/outside/, qr/chained/, qr/outside/, qr/outside/,
qr/read cannot be attributed/, qr/delete cannot be attributed/,
qr/create cannot be attributed/,
qr/outside/, qr/outside/,
]


=== TEST 9: patient/ scope without a patient in context
--- request eval
["GET /fhir/Patient/123", "GET /fhir/Patient/123"]
--- more_headers eval
["X-Scopes: patient/*.rs", "X-Scopes: patient/*.rs\nX-Patient: 1/2"]
--- error_code eval
[403, 403]
--- response_body_like eval
[qr/without a patient in context/, qr/without a patient in context/]


=== TEST 10: direct reads by id allowed when configured; user/ beats patient/
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_patient $http_x_patient;
        fw_fhir_patient_unverifiable allow;
        @proxy;
    }
--- request eval
["GET /fhir/Observation/o1", "GET /fhir/Patient/9", "GET /fhir/Patient/9"]
--- more_headers eval
["X-Scopes: patient/Observation.r\nX-Patient: 123", "X-Scopes: patient/Patient.r\nX-Patient: 123", "X-Scopes: patient/Patient.r user/Patient.r\nX-Patient: 123"]
--- error_code eval
[200, 403, 200]


=== TEST 11: POST _search bodies are checked like query strings
--- request eval
[
"POST /fhir/Observation/_search\npatient=12",
"POST /fhir/Observation/_search\npatient=123&code=x",
"POST /fhir/Observation/_search?patient=123\n_include=Observation:subject",
"POST /fhir/Observation/_search?patient=123\npatient=456",
"POST /fhir/Observation/_search?patient=123",
]
--- more_headers eval
[("X-Scopes: patient/Observation.rs\nX-Patient: 123\nContent-Type: application/x-www-form-urlencoded") x 5]
--- error_code eval
[403, 200, 403, 403, 200]


=== TEST 12: a POST _search body of another media type: 415
--- request
POST /fhir/Observation/_search
{"patient":"456"}
--- more_headers
X-Scopes: patient/Observation.rs
X-Patient: 123
Content-Type: application/json
--- error_code: 415
--- response_body_like: "code":"not-supported"


=== TEST 13: granular scopes need the same parameter values
--- request eval
[
"GET /fhir/Observation?patient=123&category=laboratory",
"GET /fhir/Observation?patient=123&category=vital-signs",
"GET /fhir/Observation?patient=123",
"GET /fhir/Observation?patient=123&category=laboratory&category=vital-signs",
"GET /fhir/Observation?patient=123&category=laboratory,vital-signs",
"GET /fhir/Observation?patient=123&category:not=laboratory",
"GET /fhir/Observation?patient=123&category=laboratory",
"GET /fhir/Observation?patient=123&category=http://terminology.hl7.org/CodeSystem/observation-category%7Claboratory",
]
--- more_headers eval
[
"X-Scopes: patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs\nX-Patient: 123",
"X-Scopes: patient/Observation.s?category=http://terminology.hl7.org/CodeSystem/observation-category%7Claboratory\nX-Patient: 123",
]
--- error_code eval
[200, 403, 403, 403, 403, 403, 200, 200]
--- response_body_like eval
[qr/backend/, qr/granular scope does not match/, qr/granular/, qr/granular/, qr/granular/, qr/granular/, qr/backend/, qr/backend/]


=== TEST 14: a granular scope does not grant reads by id
--- request
GET /fhir/Observation/o1
--- more_headers
X-Scopes: user/Observation.rs?category=laboratory
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Observation.r"


=== TEST 15: only non-resource scopes: 403, not 401
--- request
GET /fhir/Patient/1
--- more_headers
X-Scopes: openid fhirUser launch/patient offline_access
--- error_code: 403
--- response_body_like: "code":"forbidden".*insufficient scope


=== TEST 16: patient/ searches with lenient handling are refused (unknown parameters ignored)
--- request eval
["GET /fhir/Observation?patient=123", "GET /fhir/Condition?patient=123", "GET /fhir/Patient/123", "GET /fhir/Observation?patient=123"]
--- more_headers eval
[
"X-Scopes: patient/*.rs\nX-Patient: 123\nPrefer: handling=lenient",
"X-Scopes: patient/*.rs\nX-Patient: 123\nPrefer: return=minimal, HANDLING=Lenient",
"X-Scopes: patient/*.rs\nX-Patient: 123\nPrefer: handling=lenient",
"X-Scopes: patient/*.rs user/Observation.s\nX-Patient: 123\nPrefer: handling=lenient",
]
--- error_code eval
[403, 403, 200, 200]
--- response_body_like eval
[qr/lenient handling/, qr/lenient handling/, qr/fhir=\[read/, qr/backend/]


=== TEST 17: one scope string on many requests: each decision is its own (patient, parameters, one byte of the scopes)
--- request eval
[
"GET /fhir/Observation?patient=123&category=laboratory",
"GET /fhir/Observation?patient=123&category=laboratory",
"GET /fhir/Observation?patient=456&category=laboratory",
"GET /fhir/Observation?patient=123&category=vital-signs",
"GET /fhir/Observation?patient=123&category=laboratory",
"GET /fhir/Observation?patient=123&category=laboratory",
"GET /fhir/Condition?patient=123",
"GET /fhir/Observation?patient=123&category=laboratory",
]
--- more_headers eval
[
"X-Scopes: openid patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: openid patient/Observation.rs?category=laboratory\nX-Patient: 456",
"X-Scopes: openid patient/Observation.rs?category=laboratory\nX-Patient: 456",
"X-Scopes: openid patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: openid patient/Observation.rs?category=laboratorz\nX-Patient: 123",
"X-Scopes: openid patient/Observation.rs?category=%6Caboratory\nX-Patient: 123",
"X-Scopes: openid patient/Observation.rs?category=laboratory\nX-Patient: 123",
"X-Scopes: openid patient/Observation.rs?category=laboratory\nX-Patient: 123",
]
--- error_code eval
[200, 403, 200, 403, 403, 200, 403, 200]
--- response_body_like eval
[qr/backend/, qr/outside the patient compartment/, qr/backend/,
 qr/granular scope does not match/, qr/granular scope does not match/,
 qr/backend/, qr/insufficient scope/, qr/backend/]


=== TEST 18: scopes and patient as "${var}", and as values made of two variables
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes "${http_x_scopes}";
        fw_fhir_patient ${http_x_patient};
        @proxy;
    }
    location /fhir2 {
        fw_fhir R4;
        fw_fhir_scopes "$http_x_scopes $http_x_more";
        fw_fhir_patient "$http_x_patient$http_x_suffix";
        @proxy;
    }
--- request eval
[
"GET /fhir/Patient/123",
"GET /fhir/Patient/123",
"GET /fhir/Patient/1",
"GET /fhir2/Patient/123",
"GET /fhir2/Patient/1234",
"GET /fhir2/Observation?patient=1234",
"GET /fhir2/Patient/123",
]
--- more_headers eval
[
"X-Scopes: patient/Patient.r\nX-Patient: 123",
"X-Patient: 123",
"X-Scopes: patient/Patient.r\nX-Patient: 123",
"X-Scopes: openid\nX-More: patient/Patient.r\nX-Patient: 123",
"X-Scopes: patient/Patient.r\nX-Patient: 123\nX-Suffix: 4",
"X-Scopes: openid\nX-More: patient/Observation.s\nX-Patient: 12\nX-Suffix: 34",
"X-Scopes: openid\nX-Patient: 123",
]
--- error_code eval
[200, 401, 403, 200, 200, 200, 403]
