# FHIR module: path tricks from the reference, versions, _format, method
# override, allow/deny lists.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwFhir;

repeat_each(1);
no_shuffle();
add_block_preprocessor(\&FwFhir::preprocess);

run_tests();

__DATA__

=== TEST 1: encoded slashes, dot segments, ';', '\', empty segments: 400
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"GET /fhir/Patient%2F123",
"GET /fhir/Patient%2f123",
"GET /fhir/Patient%252F123",
"GET /fhir/Patient/123%252F..%252FObservation",
"GET /fhir/Patient/../Observation/1",
"GET /fhir/Patient/%2e%2e/Observation/1",
"GET /fhir/Patient/%2E%2E/Observation/1",
"GET /fhir/../fhir/Patient/1",
"GET /fhir/./Patient/1",
"GET /fhir/Patient/1/.",
"GET /fhir/Patient/123;jsessionid=abc",
"GET /fhir/Patient/123%3Bx",
"GET /fhir/Patient\\123",
"GET /fhir/Patient%5C123",
"GET /fhir/Patient/",
"GET /fhir/Patient/123/",
"GET /fhir//Patient/123",
"GET /fhir/Patient//123",
"GET /fhir/Patient/123/_history/",
"GET /fhir/Patient/%24everything",
"GET /fhir/Patient/1%20",
"GET /fhir/Patient/1'",
"GET /fhir/Patient/12\@3",
"GET /fhir/Patient/abc_def",
"GET /fhir/Patient/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"GET /fhir/Patient/123/Observation/x",
"GET /fhir/Observation/1/Patient",
"GET /fhir/Patient/1/_history/2/x",
"GET /fhir/_foo",
"GET /fhir/Patient?name=%zz",
"GET /fhir/Patient?name=a%00b",
"GET /fhir/Patient?=x",
]
--- error_code eval
[(400) x 32]
--- response_body_like eval
[("\"resourceType\":\"OperationOutcome\".*\"code\":\"invalid\"") x 32]
--- no_error_log
[alert]


=== TEST 2: the reference's worst cases never reach the backend
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
["GET /fhir/Patient/%00", "GET /fhir/Patient/caf\xc3\xa9", "GET /fhir/Patient/1%2500"]
--- error_code eval
[400, 400, 400]
--- response_body_unlike eval
[qr/backend/, qr/backend/, qr/backend/]


=== TEST 3: escapes of unreserved characters are decoded and accepted
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
["GET /fhir/P%61tient/a%2Db", "GET /fhir/Patient/a.b-C9"]
--- response_body_like eval
[qr/fhir=\[read\|Patient\|a-b\|/, qr/fhir=\[read\|Patient\|a.b-C9\|/]


=== TEST 4: type names are case-sensitive: 404 not-found
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
["GET /fhir/patient/1", "GET /fhir/PATIENT/1", "GET /fhir/PaTient", "GET /fhir/Patients", "GET /fhir/Patient/1/observation"]
--- error_code eval
[404, 404, 404, 404, 404]
--- response_body_like eval
[("\"code\":\"not-found\",\"diagnostics\":\"unknown resource type") x 5]


=== TEST 5: R4, R4B and R5 type lists differ
--- config
    location /r4 {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
    location /r4b {
        fw_fhir R4B;
        fw_fhir_scopes off;
        @proxy;
    }
    location /r5 {
        fw_fhir r5;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"GET /r4/MedicinalProduct/1", "GET /r4b/MedicinalProduct/1", "GET /r5/MedicinalProduct/1",
"GET /r4/SubscriptionTopic/1", "GET /r4b/SubscriptionTopic/1", "GET /r5/SubscriptionTopic/1",
"GET /r4/ActorDefinition/1", "GET /r4b/ActorDefinition/1", "GET /r5/ActorDefinition/1",
"GET /r4/DeviceUseStatement/1", "GET /r4b/DeviceUseStatement/1", "GET /r5/DeviceUseStatement/1",
"GET /r4/EpisodeOfCare/1/Observation", "GET /r5/EpisodeOfCare/1/Observation",
]
--- error_code eval
[200, 404, 404, 404, 200, 200, 404, 404, 200, 200, 200, 404, 400, 200]
--- response_body_like eval
[
qr/fhir=\[read\|MedicinalProduct\|1/, qr/FHIR R4B/, qr/FHIR R5/,
qr/FHIR R4"/, qr/fhir=\[read\|SubscriptionTopic/, qr/fhir=\[read\|SubscriptionTopic/,
qr/FHIR R4"/, qr/FHIR R4B/, qr/fhir=\[read\|ActorDefinition/,
qr/DeviceUseStatement/, qr/DeviceUseStatement/, qr/FHIR R5/,
qr/not a compartment/, qr/fhir=\[search-compartment\|Observation\|\|\|\|EpisodeOfCare\/1\|/,
]


=== TEST 6: method override headers are rejected by default
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
["GET /fhir/Patient/1", "GET /fhir/Patient/1", "GET /fhir/Patient/1"]
--- more_headers eval
["X-HTTP-Method-Override: DELETE", "X-HTTP-Method: DELETE", "x-method-override: PUT"]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[("method override headers are not accepted") x 3]


=== TEST 7: method override headers stripped when configured
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_method_override strip;
        @proxy;
    }
--- request
GET /fhir/Patient/1
--- more_headers
X-HTTP-Method-Override: DELETE
X-HTTP-Method: DELETE
X-Method-Override: DELETE
--- response_body_like: ^backend GET /fhir/Patient/1 fhir=\[read\|Patient\|1\|\|\|\|1\|ok\] ovr=\[\]


=== TEST 8: _format against the default allowlist
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"GET /fhir/Patient/1?_format=json",
"GET /fhir/Patient/1?_format=application/fhir+json",
"GET /fhir/Patient/1?_format=application%2Ffhir%2Bjson",
"GET /fhir/Patient/1?_format=xml",
"GET /fhir/Patient/1?_format=text/html",
"GET /fhir/Patient/1?_format=json&_format=html",
"GET /fhir/Patient/1?_format=",
"GET /fhir/Patient/1?_format=%3Cscript%3E",
]
--- error_code eval
[200, 200, 200, 200, 400, 400, 400, 400]
--- response_body_unlike eval
[qr/OperationOutcome/, qr/OperationOutcome/, qr/OperationOutcome/, qr/OperationOutcome/, qr/script|html/, qr/html/, qr/backend/, qr/<|script/]


=== TEST 9: _format with a configured list, also in a POST _search body
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_formats json application/fhir+json;
        @proxy;
    }
--- request eval
[
"GET /fhir/Patient?_format=json",
"GET /fhir/Patient?_format=xml",
"POST /fhir/Patient/_search\nname=x&_format=application/fhir+json",
"POST /fhir/Patient/_search\nname=x&_format=xml",
]
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code eval
[200, 400, 200, 400]
--- response_body_like eval
[qr/backend/, qr/"code":"not-supported".*_format value is not allowed/, qr/backend/, qr/_format value is not allowed/]


=== TEST 10: type, interaction and operation allow and deny lists
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_allow_types Patient Observation;
        fw_fhir_deny_types Observation;
        fw_fhir_allow_interactions read search capabilities operation;
        fw_fhir_allow_operations $everything validate;
        fw_fhir_deny_operations validate;
        @proxy;
    }
--- request eval
[
"GET /fhir/Patient/1",
"GET /fhir/Patient?name=x",
"GET /fhir/Observation/1",
"GET /fhir/Encounter/1",
"GET /fhir/Patient/1/Observation",
"DELETE /fhir/Patient/1",
"GET /fhir/Patient/1/_history",
"GET /fhir/metadata",
"GET /fhir/Patient/1/\$everything",
"GET /fhir/Patient/\$validate",
"GET /fhir/\$export",
]
--- error_code eval
[200, 200, 404, 404, 404, 405, 405, 200, 200, 405, 405]
--- response_body_like eval
[
qr/backend/, qr/backend/,
qr/resource type Observation is not served here/,
qr/resource type Encounter is not served here/,
qr/resource type Observation is not served here/,
qr/interaction delete is not allowed here/,
qr/interaction history-instance is not allowed here/,
qr/fhir=\[capabilities/,
qr/fhir=\[operation-instance\|Patient\|1\|\|everything/,
qr/operation is not allowed here/,
qr/operation is not allowed here/,
]


=== TEST 11: a rewritten request no longer matches its raw path: 400
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        rewrite ^/fhir/Pat/(.*)$ /fhir/Patient/$1 break;
        @proxy;
    }
--- request eval
["GET /fhir/Pat/1", "GET /fhir/Patient/1"]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/differs from its normalised form/, qr/backend/]


=== TEST 12: diagnostics never echo attacker input
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
["GET /fhir/Xscript/1", "GET /fhir/Patient/\$%3Cscript%3E", "GET /fhir/Patient?%22%3E%3Cimg=1"]
--- error_code eval
[404, 400, 200]
--- response_body_unlike eval
[qr/Xscript/, qr/<|script/, qr/OperationOutcome/]


=== TEST 13: absolute-form request targets are validated the same way
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- raw_request eval
"GET http://localhost/fhir/Patient/1;x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- response_body_like: "code":"invalid"


=== TEST 14: every request of a keep-alive connection is parsed on its own
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- pipelined_requests eval
["GET /fhir/Patient/1", "GET /fhir/Patient/1%2F2", "GET /fhir/Observation?patient=9"]
--- error_code eval
[200, 400, 200]
--- response_body_like eval
[qr/fhir=\[read\|Patient\|1\|\|\|\|1\|ok\]/, qr/"code":"invalid"/, qr/fhir=\[search-type\|Observation\|\|\|\|\|9\|ok\]/]
