# FHIR module: every row of the interaction table and the variables.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwFhir;

repeat_each(1);
no_shuffle();
add_block_preprocessor(\&FwFhir::preprocess);

run_tests();

__DATA__

=== TEST 1: capabilities, read, vread, history, search (GET rows)
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"GET /fhir/metadata",
"GET /fhir?_lastUpdated=gt2020",
"GET /fhir/",
"GET /fhir/_history",
"GET /fhir/Patient",
"GET /fhir/Patient?name=smith",
"GET /fhir/Patient/_history",
"GET /fhir/Patient/123",
"HEAD /fhir/Patient/123",
"GET /fhir/Patient/123/_history",
"GET /fhir/Patient/123/_history/4",
"GET /fhir/Patient/123/*",
"GET /fhir/Patient/123/Observation?code=x",
"GET /fhir/Encounter/e1/Observation",
]
--- response_body eval
[
"backend GET /fhir/metadata fhir=[capabilities|||||||ok] ovr=[] len=[]\n",
"backend GET /fhir?_lastUpdated=gt2020 fhir=[search-system|||||||ok] ovr=[] len=[]\n",
"backend GET /fhir/ fhir=[search-system|||||||ok] ovr=[] len=[]\n",
"backend GET /fhir/_history fhir=[history-system|||||||ok] ovr=[] len=[]\n",
"backend GET /fhir/Patient fhir=[search-type|Patient||||||ok] ovr=[] len=[]\n",
"backend GET /fhir/Patient?name=smith fhir=[search-type|Patient||||||ok] ovr=[] len=[]\n",
"backend GET /fhir/Patient/_history fhir=[history-type|Patient||||||ok] ovr=[] len=[]\n",
"backend GET /fhir/Patient/123 fhir=[read|Patient|123||||123|ok] ovr=[] len=[]\n",
"",
"backend GET /fhir/Patient/123/_history fhir=[history-instance|Patient|123||||123|ok] ovr=[] len=[]\n",
"backend GET /fhir/Patient/123/_history/4 fhir=[vread|Patient|123|4|||123|ok] ovr=[] len=[]\n",
"backend GET /fhir/Patient/123/* fhir=[search-compartment|||||Patient/123|123|ok] ovr=[] len=[]\n",
"backend GET /fhir/Patient/123/Observation?code=x fhir=[search-compartment|Observation||||Patient/123|123|ok] ovr=[] len=[]\n",
"backend GET /fhir/Encounter/e1/Observation fhir=[search-compartment|Observation||||Encounter/e1||ok] ovr=[] len=[]\n",
]
--- no_error_log
[error]
[alert]


=== TEST 2: operations at system, type and instance level, GET and POST
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"GET /fhir/\$export",
"POST /fhir/\$export\n{}",
"GET /fhir/Patient/\$match",
"POST /fhir/Patient/\$match\n{}",
"GET /fhir/Patient/123/\$everything",
"POST /fhir/Patient/123/\$everything\n{}",
"DELETE /fhir/Patient/123/\$everything",
"GET /fhir/Patient/123/\$bad!op",
]
--- more_headers
Content-Type: application/fhir+json
--- response_body_like eval
[
qr/fhir=\[operation-system\|\|\|\|export\|\|\|ok\]/,
qr/^backend POST .* fhir=\[operation-system\|\|\|\|export\|\|\|ok\] ovr=\[\] len=\[2\]/,
qr/fhir=\[operation-type\|Patient\|\|\|match\|\|\|ok\]/,
qr/^backend POST .*fhir=\[operation-type\|Patient\|\|\|match\|\|\|ok\]/,
qr/fhir=\[operation-instance\|Patient\|123\|\|everything\|\|123\|ok\]/,
qr/^backend POST .*fhir=\[operation-instance\|Patient\|123\|\|everything\|\|123\|ok\]/,
qr/"resourceType":"OperationOutcome".*"code":"not-supported".*method not allowed for this path/,
qr/"code":"invalid"/,
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 405, 400]


=== TEST 3: create, conditional create, update, patch, delete
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"POST /fhir/Observation\n{\"resourceType\":\"Observation\"}",
"PUT /fhir/Observation/o1\n{\"resourceType\":\"Observation\"}",
"PATCH /fhir/Observation/o1\n[]",
"DELETE /fhir/Observation/o1",
"PUT /fhir/Observation?identifier=x\n{}",
"PATCH /fhir/Observation?identifier=x\n[]",
"DELETE /fhir/Observation?identifier=x",
]
--- more_headers
Content-Type: application/fhir+json
--- response_body_like eval
[
qr/^backend POST \/fhir\/Observation fhir=\[create\|Observation\|\|\|\|\|\|ok\]/,
qr/^backend PUT \/fhir\/Observation\/o1 fhir=\[update\|Observation\|o1\|/,
qr/^backend PATCH \/fhir\/Observation\/o1 fhir=\[patch\|Observation\|o1\|/,
qr/^backend DELETE \/fhir\/Observation\/o1 fhir=\[delete\|Observation\|o1\|/,
qr/fhir=\[conditional-update\|Observation\|/,
qr/fhir=\[conditional-patch\|Observation\|/,
qr/fhir=\[conditional-delete\|Observation\|/,
]


=== TEST 4: conditional create with If-None-Exist
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request
POST /fhir/Patient
{"resourceType":"Patient"}
--- more_headers
Content-Type: application/fhir+json
If-None-Exist: identifier=http://x|1
--- response_body_like: fhir=\[conditional-create\|Patient\|\|\|\|\|\|ok\]


=== TEST 5: POST _search at system, type and compartment level (form body)
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"POST /fhir/_search\n_type=Patient",
"POST /fhir/Patient/_search\nname=smith",
"POST /fhir/Patient/123/_search\n_lastUpdated=gt2020",
"POST /fhir/Patient/123/Observation/_search\ncode=x",
"POST /fhir/Observation/_search\npatient=Patient/77&code=x",
]
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- response_body_like eval
[
qr/^backend POST \/fhir\/_search fhir=\[search-system\|\|\|\|\|\|\|ok\] ovr=\[\] len=\[13\]/,
qr/fhir=\[search-type\|Patient\|\|\|\|\|\|ok\]/,
qr/fhir=\[search-compartment\|\|\|\|\|Patient\/123\|123\|ok\]/,
qr/fhir=\[search-compartment\|Observation\|\|\|\|Patient\/123\|123\|ok\]/,
qr/fhir=\[search-type\|Observation\|\|\|\|\|77\|ok\]/,
]


=== TEST 6: batch and transaction at the base
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"POST /fhir\n{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\",\"url\":\"Patient/1\"}}]}",
"POST /fhir/\n{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":{\"method\":\"POST\",\"url\":\"Patient\"},\"resource\":{\"resourceType\":\"Patient\"}}]}",
]
--- more_headers
Content-Type: application/fhir+json
--- response_body_like eval
[
qr/^backend POST \/fhir fhir=\[batch\|\|\|\|\|\|\|ok\] ovr=\[\] len=\[\d+\]/,
qr/^backend POST \/fhir\/ fhir=\[transaction\|\|\|\|\|\|\|ok\]/,
]


=== TEST 7: methods that do not fit a path: 405 with an OperationOutcome
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
--- request eval
[
"DELETE /fhir/metadata",
"POST /fhir/metadata\n{}",
"PUT /fhir/Patient\n{}",
"DELETE /fhir/Patient",
"POST /fhir/Patient/123\n{}",
"GET /fhir/Patient/_search",
"POST /fhir/Patient/_history\n{}",
"PUT /fhir/Patient/123/_history/1\n{}",
"GET /fhir/Patient/123/_search",
"DELETE /fhir",
"PUT /fhir/Patient?_format=json\n{}",
"OPTIONS /fhir/Patient",
]
--- more_headers
Content-Type: application/fhir+json
--- response_headers eval
[("Content-Type: application/fhir+json") x 12]
--- response_body_like eval
[("^\\{\"resourceType\":\"OperationOutcome\",\"issue\":\\[\\{\"severity\":\"error\",\"code\":\"not-supported\"") x 12]
--- error_code eval
[(405) x 12]


=== TEST 8: 403 instead of 405 when configured
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_status 403;
        fw_fhir_deny_interactions delete;
        @proxy;
    }
--- request
DELETE /fhir/Patient/1
--- error_code: 403
--- response_body_like: "code":"forbidden".*interaction delete is not allowed here


=== TEST 9: variables evaluated in a preaccess-phase module parse the same way
--- http_config
    limit_req_zone $fw_fhir_interaction$fw_fhir_patient zone=fhir:1m rate=100r/s;
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        limit_req zone=fhir burst=10;
        @proxy;
    }
--- request
GET /fhir/Observation?subject=Patient/p9
--- response_body_like: fhir=\[search-type\|Observation\|\|\|\|\|p9\|ok\]


=== TEST 10: a location name is the base; a path outside it is 404
--- config
    location /fhirx {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_base /fhirx/r4;
        @proxy;
    }
--- request eval
["GET /fhirx/r4/Patient/1", "GET /fhirx/Patient/1", "GET /fhirx/r4x/Patient"]
--- error_code eval
[200, 404, 404]
--- response_body_like eval
[qr/fhir=\[read\|Patient\|1\|/, qr/not under the FHIR base/, qr/not under the FHIR base/]


=== TEST 11: the audit-facing $fw_fhir_status names the denial
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        add_header X-Status $fw_fhir_status always;
        @proxy;
    }
--- request eval
["GET /fhir/Patient/1", "GET /fhir/Nope/1", "GET /fhir/Patient/1;x", "DELETE /fhir/metadata"]
--- response_headers_like eval
["X-Status: ok", "X-Status: unknown-type", "X-Status: invalid", "X-Status: not-allowed"]
--- error_code eval
[200, 404, 400, 405]
