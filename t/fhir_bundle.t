# FHIR module: batch and transaction Bundles, every entry checked.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwFhir;

repeat_each(1);
no_shuffle();

sub bundle {
    my ($type, @entries) = @_;
    my @e = map {
        my ($m, $u, $extra) = @$_;
        '{"request":{"method":"' . $m . '","url":"' . $u . '"'
            . ($extra // '') . '}}'
    } @entries;
    return '{"resourceType":"Bundle","type":"' . $type . '","entry":['
        . join(',', @e) . ']}';
}

add_block_preprocessor(sub {
    my $block = shift;
    FwFhir::preprocess($block);
    if (!defined $block->config) {
        $block->set_value('config', <<"_EOC_");
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes \$http_x_scopes;
        fw_fhir_patient \$http_x_patient;
        fw_fhir_body_max_size 4k;
        fw_fhir_bundle_max_entries 5;
        $FwFhir::Proxy
    }
_EOC_
    }
});

run_tests();

__DATA__

=== TEST 1: a batch whose entries are all allowed reaches the backend with its body
--- request eval
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1'], ['GET', 'Patient?name=x'], ['GET', '/Patient/2/_history/3'])
--- more_headers
Content-Type: application/fhir+json
X-Scopes: user/Patient.rs
--- response_body_like: ^backend POST /fhir fhir=\[batch\|\|\|\|\|\|\|ok\] ovr=\[\] len=\[\d+\]
--- no_error_log
[error]


=== TEST 2: one denied entry denies the Bundle (403 with the scope it needed)
--- request eval
"POST /fhir\n" . main::bundle('transaction', ['GET', 'Patient/1'], ['DELETE', 'Patient/1'])
--- more_headers
Content-Type: application/fhir+json
X-Scopes: user/Patient.rs
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope", scope="user/Patient.d"
--- response_body_like: "diagnostics":"Bundle entry 1: insufficient scope: delete needs user/Patient.d"


=== TEST 3: entries with bad paths, types, methods and URLs
--- request eval
[
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1'], ['GET', 'Patient/../Observation/1']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient%2F1']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1;x']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'patient/1']),
"POST /fhir\n" . main::bundle('batch', ['TRACE', 'Patient/1']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'http://evil.example/Patient/1']),
"POST /fhir\n" . main::bundle('batch', ['GET', '']),
"POST /fhir\n" . main::bundle('batch', ['POST', '']),
"POST /fhir\n" . main::bundle('batch', ['DELETE', 'metadata']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient?name=%zz']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1?_format=html']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1/']),
]
--- more_headers
Content-Type: application/fhir+json
X-Scopes: user/*.cruds
--- error_code eval
[400, 400, 400, 404, 400, 400, 400, 400, 405, 400, 400, 400]
--- response_body_like eval
[
qr/Bundle entry 1: dot segment/,
qr/Bundle entry 0: malformed path/,
qr/Bundle entry 0: malformed path/,
qr/Bundle entry 0: unknown resource type/,
qr/Bundle entry 0: entry request method/,
qr/Bundle entry 0: malformed path/,
qr/Bundle entry 0: entry request url is empty/,
qr/Bundle entry 0: entry request url is empty/,
qr/Bundle entry 0: method not allowed/,
qr/Bundle entry 0: malformed query/,
qr/Bundle entry 0: _format/,
qr/Bundle entry 0: empty path segment/,
]


=== TEST 4: bodies that are no batch or transaction Bundle
--- request eval
[
"POST /fhir\n{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[]}",
"POST /fhir\n{\"resourceType\":\"Patient\"}",
"POST /fhir\nnot json",
"POST /fhir\n{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"type\":\"transaction\"}",
"POST /fhir\n{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":{}}",
"POST /fhir\n{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":{}}]}",
"POST /fhir\n{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\",\"url\":\"Patient/1\\u0000\"}}]}",
"POST /fhir\n" . main::bundle('batch', ['POST', 'Patient/$validate'], ['POST', 'Patient/_search']),
]
--- more_headers
Content-Type: application/fhir+json
X-Scopes: user/*.cruds
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 403]
--- response_body_like eval
[
qr/Bundle type must be batch or transaction/,
qr/needs a batch or transaction Bundle/,
qr/not valid JSON/,
qr/not valid JSON/,
qr/entry is not an array/,
qr/entry without a request/,
qr/not valid JSON/,
qr/Bundle entry 0: operation is not permitted/,
]


=== TEST 5: patient/ scopes apply to every entry
--- request eval
[
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/123'], ['GET', 'Observation?patient=123']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/123'], ['GET', 'Observation?patient=12']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Observation?patient=123&_include=Observation:subject']),
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/123/Observation'], ['GET', 'Patient/124/Observation']),
"POST /fhir\n" . main::bundle('transaction', ['PUT', 'Patient/123']),
"POST /fhir\n" . main::bundle('transaction', ['POST', 'Observation', ',"ifNoneExist":"identifier=x"']),
]
--- more_headers
Content-Type: application/fhir+json
X-Scopes: patient/*.rs patient/Patient.u
X-Patient: 123
--- error_code eval
[200, 403, 403, 403, 200, 403]
--- response_body_like eval
[
qr/fhir=\[batch\|/,
qr/Bundle entry 1: request is outside the patient compartment/,
qr/Bundle entry 0: chained/,
qr/Bundle entry 1: request is outside/,
qr/fhir=\[transaction\|/,
qr/Bundle entry 0: insufficient scope: conditional-create needs patient\/Observation.c/,
]


=== TEST 6: no scopes: 401 before the body is read
--- request eval
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1'])
--- more_headers
Content-Type: application/fhir+json
--- error_code: 401
--- response_body_like: "code":"login"


=== TEST 7: media type, size and entry count limits
--- request eval
[
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1']),
"POST /fhir\n" . main::bundle('batch', map { ['GET', 'Patient/' . ('x' x 60)] } 1..60),
"POST /fhir\n" . main::bundle('batch', map { ['GET', "Patient/$_"] } 1..6),
"POST /fhir\n" . main::bundle('batch', map { ['GET', "Patient/$_"] } 1..5),
]
--- more_headers eval
[
"Content-Type: text/plain\nX-Scopes: user/*.rs",
"Content-Type: application/fhir+json\nX-Scopes: user/*.rs",
"Content-Type: application/json; charset=utf-8\nX-Scopes: user/*.rs",
"Content-Type: application/fhir+json;fhirVersion=4.0\nX-Scopes: user/*.rs",
]
--- error_code eval
[415, 413, 413, 200]
--- response_body_like eval
[qr/"code":"not-supported"/, qr/"code":"too-long"/, qr/more than 5 entries/, qr/^backend/]


=== TEST 8: a chunked body over the limit: 413 after reading
--- raw_request eval
my $b = main::bundle('batch', map { ['GET', 'Patient/' . ('x' x 60)] } 1..60);
"POST /fhir HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/fhir+json\r\nX-Scopes: user/*.rs\r\nTransfer-Encoding: chunked\r\n\r\n" . sprintf("%x", length $b) . "\r\n$b\r\n0\r\n\r\n"
--- error_code: 413
--- response_body_like: "code":"too-long"


=== TEST 9: a Bundle that nginx buffered to a temp file is read from it
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        client_body_buffer_size 1k;
        @proxy;
    }
--- request eval
[
"POST /fhir\n" . main::bundle('batch', map { ['GET', "Patient/p$_"] } 1..100),
"POST /fhir\n" . main::bundle('batch', (map { ['GET', "Patient/p$_"] } 1..99), ['DELETE', 'Patient/x']),
]
--- more_headers
Content-Type: application/fhir+json
X-Scopes: user/Patient.rs
--- error_code eval
[200, 403]
--- response_body_like eval
[qr/^backend POST \/fhir fhir=\[batch\|/, qr/Bundle entry 99: insufficient scope/]
--- no_error_log
[alert]


=== TEST 10: batch and transaction allowed or denied separately
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_interactions transaction;
        @proxy;
    }
--- request eval
[
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1']),
"POST /fhir\n" . main::bundle('transaction', ['GET', 'Patient/1']),
]
--- more_headers
Content-Type: application/fhir+json
--- error_code eval
[200, 405]
--- response_body_like eval
[qr/fhir=\[batch/, qr/interaction transaction is not allowed here/]


=== TEST 11: entries are checked against the type and interaction lists too
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_allow_types Patient;
        fw_fhir_deny_interactions delete;
        @proxy;
    }
--- request eval
[
"POST /fhir\n" . main::bundle('batch', ['GET', 'Patient/1'], ['GET', 'Observation/1']),
"POST /fhir\n" . main::bundle('batch', ['DELETE', 'Patient/1']),
]
--- more_headers
Content-Type: application/fhir+json
--- error_code eval
[404, 405]
--- response_body_like eval
[qr/Bundle entry 1: resource type Observation is not served here/, qr/Bundle entry 0: interaction delete/]
