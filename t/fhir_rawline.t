# FHIR module: the upstream gets exactly the request target the module
# decided on.  The backend answers with the request line it received
# ($request is the raw line, not nginx's parsed form: TEST 1 shows it), so
# every block shows what a FHIR server behind the gateway would see.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwFhir;

repeat_each(1);
no_shuffle();

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
        $block->set_value('config', <<'_EOC_');
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_patient $http_x_patient;
        proxy_set_header Host echo;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /plain {
        proxy_set_header Host echo;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
_EOC_
    }
    if (!defined $block->more_headers) {
        $block->set_value('more_headers',
                          "X-Scopes: patient/*.rs\nX-Patient: 123");
    }
});

run_tests();

__DATA__

=== TEST 1: the echo shows the raw line: nginx's parsed args end at '#', the line does not
--- config
    location /plain {
        proxy_set_header Host echo;
        proxy_set_header X-Args $args;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
        add_header X-Args $args;
    }
--- request
GET /plain/Observation?patient=123#,456
--- error_code: 200
--- response_headers
X-Args: patient=123
--- response_body
line=[GET /plain/Observation?patient=123#,456 HTTP/1.0]



=== TEST 2: a raw '#' in the query or the path: 400 (nginx cut what it parsed there)
--- request eval
[
"GET /fhir/Observation?patient=123#,456",
"GET /fhir/Observation?patient=123#&patient=456",
"GET /fhir/Observation?code=x&patient=123#",
"GET /fhir/Patient/123#/../456",
"GET /fhir/Patient/123#?_id=456",
]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body_like eval
[
qr/"resourceType":"OperationOutcome".*raw '#'/,
qr/raw '#'/,
qr/raw '#'/,
qr/raw '#'/,
qr/raw '#'/,
]



=== TEST 3: what passes reaches the upstream byte for byte
--- request eval
[
"GET /fhir/Observation?patient=123&code=a%20b",
"GET /fhir/Observation?patient=Patient%2F123&_format=application/fhir+json",
"GET /fhir/Patient/12%33",
"GET /fhir/Observation?patient=123&",
"GET /fhir/Observation?patient=123&&_count=%31",
]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
[
"line=[GET /fhir/Observation?patient=123&code=a%20b HTTP/1.0]\n",
"line=[GET /fhir/Observation?patient=Patient%2F123&_format=application/fhir+json HTTP/1.0]\n",
"line=[GET /fhir/Patient/12%33 HTTP/1.0]\n",
"line=[GET /fhir/Observation?patient=123& HTTP/1.0]\n",
"line=[GET /fhir/Observation?patient=123&&_count=%31 HTTP/1.0]\n",
]



=== TEST 4: an absolute-URI request line: the upstream gets the path and query checked
--- request eval
[
"GET http://localhost/fhir/Observation?patient=123 HTTP/1.1",
"GET http://localhost/fhir/Observation?patient=456 HTTP/1.1",
"GET http://localhost:1234/fhir/Observation?patient=123#,456 HTTP/1.1",
]
--- error_code eval
[200, 403, 400]
--- response_body_like eval
[
qr/^line=\[GET \/fhir\/Observation\?patient=123 HTTP\/1.0\]$/,
qr/outside the patient compartment/,
qr/raw '#'/,
]



=== TEST 5: ';' in the query (a pair separator to some servers): 400
--- request eval
[
"GET /fhir/Observation?patient=123;patient=456",
"GET /fhir/Observation?patient=123&_count=1;_revinclude=Provenance:target",
"GET /fhir/Observation?patient=123&code=a%3Bb",
]
--- error_code eval
[400, 400, 200]
--- response_body_like eval
[
qr/malformed query string/,
qr/malformed query string/,
qr/^line=\[GET \/fhir\/Observation\?patient=123&code=a%3Bb HTTP\/1.0\]$/,
]



=== TEST 6: '+' in a parameter name (a space to some servers): 400; in a value it is passed as is
--- request eval
[
"GET /fhir/Observation?patient=123&_include+=Observation:subject",
"GET /fhir/Observation?pat+ient=456&patient=123",
"GET /fhir/Observation?patient=123&date=ge2020-01-01T00:00:00+01:00",
]
--- error_code eval
[400, 400, 200]
--- response_body_like eval
[
qr/malformed query string/,
qr/malformed query string/,
qr/^line=\[GET \/fhir\/Observation\?patient=123&date=ge2020-01-01T00:00:00\+01:00 HTTP\/1.0\]$/,
]



=== TEST 7: args changed by "set $args" before the check: the upstream would get the client's, 400
--- config
    location /fhir {
        set $args "patient=123";
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_patient $http_x_patient;
        proxy_set_header Host echo;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request eval
["GET /fhir/Observation?patient=456", "GET /fhir/Observation?patient=123"]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/the query differs from the request line/,
 qr/^line=\[GET \/fhir\/Observation\?patient=123 HTTP\/1.0\]$/]



=== TEST 8: proxy_pass with a URI forwards nginx's form, which is the checked one
--- config
    location /fhir/ {
        fw_fhir R4;
        fw_fhir_base /fhir;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_patient $http_x_patient;
        proxy_set_header Host echo;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/r4/;
    }
--- request eval
["GET /fhir/Patient/12%33", "GET /fhir/Observation?patient=123&code=a%20b",
 "GET /fhir/Patient/12%33#/../456"]
--- error_code eval
[200, 200, 400]
--- response_body_like eval
[qr/^line=\[GET \/r4\/Patient\/123 HTTP\/1.0\]$/,
 qr/^line=\[GET \/r4\/Observation\?patient=123&code=a%20b HTTP\/1.0\]$/,
 qr/raw '#'/]



=== TEST 9: path rewrites nginx makes ("//", "/./", "/../", escaped dots) are refused, not forwarded
--- request eval
[
"GET /fhir//Patient/123",
"GET /fhir/Patient/456/../123",
"GET /fhir/./Patient/123",
"GET /fhir/Patient/456/%2E%2E/123",
"GET /fhir/Patient/123%3F_id=456",
"GET /fhir/Patient/123%23x",
]
--- error_code eval
[400, 400, 400, 400, 400, 400]
--- response_body_like eval
[
qr/normalised form/,
qr/normalised form/,
qr/normalised form/,
qr/normalised form/,
qr/only unreserved characters/,
qr/only unreserved characters/,
]



=== TEST 10: bytes nginx passes raw in the query but a server may read otherwise: 400
--- request eval
[
"GET /fhir/Observation?patient=123&x=\xff",
"GET /fhir/Observation?patient=123&x=\x7f",
"GET /fhir/Observation?patient=123&x=%",
"GET /fhir/Observation?patient=123&x=%4",
"GET /fhir/Observation?patient=123&x=%00",
]
--- error_code eval
[400, 400, 400, 400, 400]



=== TEST 11: a raw space ends the target: nginx refuses what follows unless it is the version
--- raw_request eval
"GET /fhir/Observation?patient=123 &patient=456 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- response_body_unlike: line=
