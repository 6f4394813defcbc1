# FHIR module: subrequests (SSI include, auth_request, mirror, try_files
# in a subrequest) into an fw_fhir location get the same path validation,
# policy and scope decision as main requests; nginx skips the access phase
# for them, so the module checks them in the precontent phase.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use FwFhir;

repeat_each(1);
no_shuffle();
add_block_preprocessor(\&FwFhir::preprocess);

run_tests();

__DATA__

=== TEST 1: SSI include: a denied type, a bad path, _format: the denial is included
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_types Binary;
        @proxy;
    }
    location /page {
        ssi on;
        default_type text/html;
    }
--- user_files
>>> page/type.html
[<!--# include virtual="/fhir/Binary/1" -->]
>>> page/space.html
[<!--# include virtual="/fhir/Patient/a%20b" -->]
>>> page/empty.html
[<!--# include virtual="/fhir//Patient/1" -->]
>>> page/format.html
[<!--# include virtual="/fhir/Patient/1?_format=text/html" -->]
>>> page/method.html
[<!--# include virtual="/fhir/Patient/1/_history/x/y" -->]
--- request eval
[
"GET /page/type.html",
"GET /page/space.html",
"GET /page/empty.html",
"GET /page/format.html",
"GET /page/method.html",
]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
[
qr/^\[\{"resourceType":"OperationOutcome","issue":\[\{"severity":"error","code":"[a-z-]+","diagnostics":"[^"]*Binary[^"]*"\}\]\}\n\]$/,
qr/^\[\{"resourceType":"OperationOutcome".*"code":"invalid".*malformed path.*\n\]$/,
qr/^\[\{"resourceType":"OperationOutcome".*"code":"invalid".*empty path segment.*\n\]$/,
qr/^\[\{"resourceType":"OperationOutcome".*_format.*\n\]$/,
qr/^\[\{"resourceType":"OperationOutcome".*"code":"[a-z-]+".*\n\]$/,
]
--- response_body_unlike: backend
--- error_log eval
qr/fhirwall fhir: \d+ [a-z-]+ \([a-z-]*\) in a subrequest, answered (403|401)/


=== TEST 2: SSI include: a valid subrequest passes, with its own FHIR variables
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_types Binary;
        @proxy;
    }
    location /page {
        ssi on;
        default_type text/html;
    }
--- user_files
>>> page/read.html
[<!--# include virtual="/fhir/Patient/1" -->]
>>> page/escaped.html
[<!--# include virtual="/fhir/Observation/o%2D1/_history/2" -->]
>>> page/search.html
[<!--# include virtual="/fhir/Patient/7/Observation?code=x" -->]
>>> page/two.html
[<!--# include virtual="/fhir/Binary/1" -->][<!--# include virtual="/fhir/Encounter/e1" -->]
--- request eval
[
"GET /page/read.html",
"GET /page/escaped.html",
"GET /page/search.html",
"GET /page/two.html",
]
--- response_body_like eval
[
qr/^\[backend GET \/fhir\/Patient\/1 fhir=\[read\|Patient\|1\|\|\|\|1\|ok\] ovr=\[\] len=\[\]\n\]$/,
qr/^\[backend GET \/fhir\/Observation\/o-1\/_history\/2 fhir=\[vread\|Observation\|o-1\|2\|\|\|\|ok\] ovr=\[\] len=\[\]\n\]$/,
qr/^\[backend GET \/fhir\/Patient\/7\/Observation\?code=x fhir=\[search-compartment\|Observation\|\|\|\|Patient\/7\|7\|ok\] ovr=\[\] len=\[\]\n\]$/,
qr/^\[\{"resourceType":"OperationOutcome".*\}\n\]\[backend GET \/fhir\/Encounter\/e1 fhir=\[read\|Encounter\|e1\|\|\|\|\|ok\] ovr=\[\] len=\[\]\n\]$/,
]
--- no_error_log
[error]


=== TEST 3: auth_request: the scope decides; 401 and 403 reach the client
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_deny_types Binary;
        proxy_set_header X-Scopes "";
        @proxy;
    }
    location /app {
        auth_request /fhir/Observation/1;
        proxy_set_header Host backend;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /bin {
        auth_request /fhir/Binary/1;
        proxy_set_header Host backend;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request eval
[
"GET /app",
"GET /app",
"GET /app",
"GET /app",
"GET /bin",
]
--- more_headers eval
[
"X-Scopes: user/Observation.read",
"X-Scopes: patient/Observation.rs",
"X-Scopes: user/Patient.read",
"",
"X-Scopes: user/*.*",
]
--- error_code eval
[200, 403, 403, 401, 403]
--- response_headers eval
[
"WWW-Authenticate:",
"WWW-Authenticate:",
"WWW-Authenticate:",
'WWW-Authenticate: Bearer realm="fhir"',
"WWW-Authenticate:",
]
--- response_body_like eval
[
qr/^backend GET \/app fhir=\[\] /,
qr/403 Forbidden/,
qr/403 Forbidden/,
qr/401 Authorization Required/,
qr/403 Forbidden/,
]
--- no_error_log
auth request unexpected status


=== TEST 4: method override headers: rejected, or stripped in the subrequest only
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
    location /strip {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_method_override strip;
        @proxy;
    }
    location /plain {
        proxy_set_header Host backend;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /page {
        ssi on;
        default_type text/html;
    }
--- user_files
>>> page/reject.html
[<!--# include virtual="/fhir/Patient/1" -->]
>>> page/strip.html
[<!--# include virtual="/strip/Patient/1" -->][<!--# include virtual="/plain/x" -->][<!--# include virtual="/strip/Patient/2" -->]
--- request eval
["GET /page/reject.html", "GET /page/strip.html"]
--- more_headers
X-HTTP-Method-Override: DELETE
--- response_body_like eval
[
qr/^\[\{"resourceType":"OperationOutcome".*method override headers are not accepted.*\n\]$/,
qr/^\[backend GET \/strip\/Patient\/1 fhir=\[read\|Patient\|1\|\|\|\|1\|ok\] ovr=\[\] len=\[\]\n\]\[backend GET \/plain\/x fhir=\[\] ovr=\[DELETE\] len=\[\]\n\]\[backend GET \/strip\/Patient\/2 fhir=\[read\|Patient\|2\|\|\|\|2\|ok\] ovr=\[\] len=\[\]\n\]$/,
]


=== TEST 5: a try_files fallback of a subrequest into an fw_fhir location is checked
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_types Binary;
        @proxy;
    }
    location /files {
        try_files $uri /fhir/Binary/2;
    }
    location /files2 {
        try_files $uri /fhir/Patient/2;
    }
    location /page {
        ssi on;
        default_type text/html;
    }
--- user_files
>>> page/a.html
[<!--# include virtual="/files/none" -->]
>>> page/b.html
[<!--# include virtual="/files2/none" -->]
--- request eval
["GET /page/a.html", "GET /page/b.html"]
--- response_body_like eval
[
qr/^\[\{"resourceType":"OperationOutcome".*Binary.*\n\]$/,
qr/^\[backend GET \/fhir\/Patient\/2 fhir=\[read\|Patient\|2\|\|\|\|2\|ok\] ovr=\[\] len=\[\]\n\]$/,
]


=== TEST 6: mirror of a POST batch: the Bundle is the main request's: refused
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        @proxy;
    }
    location /api {
        mirror /fhir;
        proxy_set_header Host backend;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request
POST /api
{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/1"}}]}
--- more_headers
Content-Type: application/fhir+json
--- error_code: 200
--- response_body_like: ^backend POST /api fhir=\[\] 
--- wait: 0.2
--- error_log
fhirwall fhir: 403 subrequest-body (batch) in a subrequest, answered 403


=== TEST 7: mirror of a GET to a denied type: refused
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_types Binary;
        @proxy;
    }
    location /a {
        mirror /fhir/Binary/1;
        proxy_set_header Host backend;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request
GET /a
--- error_code: 200
--- response_body_like: ^backend GET /a fhir=\[\] 
--- wait: 0.2
--- error_log eval
qr/fhirwall fhir: 404 type-denied \(read\) in a subrequest, answered 403/


=== TEST 8: mirror of a GET to an allowed path passes
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_types Binary;
        @proxy;
    }
    location /b {
        mirror /fhir/Patient/1;
        proxy_set_header Host backend;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
--- request
GET /b
--- error_code: 200
--- wait: 0.2
--- no_error_log
in a subrequest
[error]


=== TEST 9: main requests: decided once, in the access phase, as before
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        fw_fhir_deny_types Binary;
        @proxy;
    }
--- request eval
["GET /fhir/Binary/1", "GET /fhir/Patient/1", "GET /fhir/Patient/1"]
--- more_headers eval
["X-Scopes: user/*.*", "X-Scopes: user/Observation.read", "X-Scopes: user/Patient.read"]
--- error_code eval
[404, 403, 200]
--- response_body_like eval
[qr/OperationOutcome/, qr/OperationOutcome/, qr/^backend GET \/fhir\/Patient\/1 fhir=\[read\|Patient\|1\|\|\|\|1\|ok\]/]
--- no_error_log
in a subrequest
