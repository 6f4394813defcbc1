# The minimise module: FHIR responses trimmed by role (docs/minimise.md).
# The upstream is a second server block serving t/lib/FwMinimise.pm's
# sample resources; the role comes from a request header here (in a
# gateway: $fw_jwt_claim_role, $fw_jwt_scope).

use lib 't/lib';
use FwMinimise;
use FwJwt;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
log_level('debug');

our $Http = <<'_EOC_';
    fw_minimise_profile research safe-harbor;
    fw_minimise_profile billing elements=Patient:gender,birthDate,address
                                elements=Observation:code,status,subject
                                types=Patient,Observation,Encounter
                                drop=*.text,Observation.subject.display;
    fw_minimise_profile brief summary=true;

    server {
        listen unix:$TEST_NGINX_HTML_DIR/fhir.sock;
        root $TEST_NGINX_HTML_DIR/data;
        default_type application/fhir+json;
        types { application/fhir+xml xml; text/plain txt; }
        add_header X-Upstream-Args "$args" always;
        add_header X-Upstream-AE "$http_accept_encoding" always;
        add_header X-Upstream-Range "$http_range" always;
        add_header X-Upstream-If-Range "$http_if_range" always;

        location / {
            try_files $uri.json $uri =404;
        }

        location /gz/ {
            gzip on;
            gzip_types application/fhir+json;
            gzip_min_length 1;
            rewrite ^/gz(/.*)$ $1 break;
            root $TEST_NGINX_HTML_DIR/data;
            try_files $uri.json =404;
        }

        location = /forcegz {
            add_header Content-Encoding gzip;
            return 200 '{"resourceType":"Patient"}';
        }
    }
_EOC_

our $Loc = <<'_EOC_';
    location /fhir/ {
        fw_minimise_map $http_x_role clinician none;
        fw_minimise_map $http_x_role researcher research;
        fw_minimise_map $http_x_role billing billing;
        fw_minimise_map $http_x_scope system/Patient.s brief;
        fw_minimise_map $http_x_role visitor deny;
        fw_minimise_default safe-harbor;
        add_header X-Profile $fw_minimise_profile always;
        add_header X-Min-Status $fw_minimise_status always;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $Http)
        unless defined $block->http_config;
    $block->set_value('config', $Loc) unless defined $block->config;
    $block->set_value('user_files', FwMinimise::user_files())
        unless defined $block->user_files;
});

our %T;
for my $role (qw(researcher clinician)) {
    $T{$role} = mint("-a", "HS256", "-k", key_path("hs.secret"), "-E",
                     "base64url", "-c", "sub=alice", "-c", "role=$role");
}
$T{norole} = mint("-a", "HS256", "-k", key_path("hs.secret"), "-E",
                  "base64url", "-c", "sub=bob");

# no sample identifier anywhere in the body
sub no_identifiers {
    my $re = join '|', map { quotemeta } @FwMinimise::Identifiers;
    return qr/\A(?!.*(?:$re))/s;
}

sub tag {
    return '{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}';
}

run_tests();

__DATA__

=== TEST 1: researcher, Patient read: safe-harbor, exactly
--- request
GET /fhir/Patient/p1
--- more_headers
X-Role: researcher
--- response_headers
Content-Type: application/fhir+json
X-Profile: research
X-Min-Status: filtered
--- response_body eval
'{"resourceType":"Patient","id":"p1","meta":{"versionId":"3","lastUpdated":"2026-11-01T10:00:00Z","tag":[' . main::tag() . ']},"active":true,"gender":"male","birthDate":"1974","address":[{"state":"Vic","country":"AU"}],"maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}]},"generalPractitioner":[{"reference":"Practitioner/pr1"}],"managingOrganization":{"reference":"Organization/1"}}'



=== TEST 2: researcher: no identifier in any sample (and $everything)
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Observation/o1",
 "GET /fhir/Encounter/e1", "GET /fhir/Device/d1",
 "GET /fhir/Patient/p1/\$everything"]
--- more_headers
X-Role: researcher
--- response_body_like eval
[main::no_identifiers(), main::no_identifiers(), main::no_identifiers(),
 main::no_identifiers(),
 qr/\A(?=.*"id":"p1")(?=.*"id":"o1")(?=.*"id":"e1")(?=.*"id":"d1")(?=.*"valueQuantity":\{"value":67.1)/s]



=== TEST 3: the same samples, unfiltered for a clinician (the scan can fail)
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Patient/p1/\$everything"]
--- more_headers
X-Role: clinician
--- response_headers eval
["X-Profile: none\nX-Min-Status: none", "X-Profile: none"]
--- response_body_like eval
[qr/\A(?=.*MRN-4711)(?=.*Chalmers)(?=.*555-0199)(?=.*Erewhon)(?=.*1974-12-25)/s,
 qr/\A(?=.*SSN-NESTED-42)(?=.*OBS-ID-1)(?=.*ENC-ID-1)(?=.*PRE-ADM-1)(?=.*DEV-SERIAL-9)/s]



=== TEST 4: a Bundle of 1,000 entries: each one filtered, no identifier
--- request
GET /fhir/Patient?identifier=MRN-B-1
--- more_headers
X-Role: researcher
--- response_body_like eval
qr/\A(?!.*MRN-B-)(?!.*Family)(?!.*Given)(?!.*Town)(?!.*555-1)(?!.*Main St)(?!.*"link")(?=(?:.*?"resourceType":"Patient","id":"b\d+","gender":"female","birthDate":"1980","address":\[\{"state":"MA","country":"US"\}\],"meta":\{"tag":\[\{[^]]*SUBSETTED"\}\]\}\}){1000})/s
--- grep_error_log eval: qr/fw_minimise: \d+ bytes in, \d+ out, output buffers peak \d+ bytes/
--- grep_error_log_out eval
qr/output buffers peak (?:[1-9]\d{0,4}|1[0-2]\d{4}) bytes/



=== TEST 5: no role: the default profile; a visitor: 403
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Patient/p1"]
--- more_headers eval
["", "X-Role: visitor"]
--- error_code eval
[200, 403]
--- response_body_like eval
[main::no_identifiers(), qr/"resourceType":"OperationOutcome".*"forbidden"/s]



=== TEST 6: a role in a list of roles (space-separated, as a claim)
--- request
GET /fhir/Patient/p1
--- more_headers
X-Role: nurse researcher
--- response_headers
X-Profile: research
--- response_body_like eval
main::no_identifiers()



=== TEST 7: elements: only the listed elements, id, meta; SUBSETTED
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Observation/o1",
 "GET /fhir/Device/d1"]
--- more_headers
X-Role: billing
--- response_body eval
['{"resourceType":"Patient","id":"p1","meta":{"versionId":"3","lastUpdated":"2026-11-01T10:00:00Z","tag":[' . main::tag() . ']},"gender":"male","birthDate":"1974-12-25","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1974-12-25T14:35:45-05:00"}]},"address":[{"use":"home","line":["534 Erewhon St"],"city":"Pleasantville","district":"Rainbow","state":"Vic","postalCode":"3999","country":"AU"}]}',
 '{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body Weight"}],"text":"weight"},"subject":{"reference":"Patient/p1"},"meta":{"tag":[' . main::tag() . ']}}',
 '{"resourceType":"Device","id":"d1","meta":{"tag":[' . main::tag() . ']}}']



=== TEST 8: request side: _elements capped, sent upstream
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Patient?name=x&_elements=name,gender",
 "GET /fhir/Patient?_el%65ments=telecom"]
--- more_headers
X-Role: billing
--- response_headers eval
["X-Upstream-Args: _elements=gender,birthDate,address",
 "X-Upstream-Args: name=x&_elements=gender",
 "X-Upstream-Args: _elements=id"]



=== TEST 9: request side: _include/_revinclude of a type it may not see
--- request eval
["GET /fhir/Observation?_include=Observation:performer:Practitioner",
 "GET /fhir/Observation?_include=Observation:subject",
 "GET /fhir/Observation?_revinclude=Provenance:target",
 "GET /fhir/Observation?_%69nclude:iterate=*",
 "GET /fhir/Observation/o1?_include=Observation:subject:Patient"]
--- more_headers
X-Role: billing
--- error_code eval
[403, 403, 403, 403, 200]
--- response_body_like eval
[qr/"forbidden".*_include of a resource type/s,
 qr/"forbidden"/, qr/_revinclude/, qr/"forbidden"/,
 qr/"resourceType":"Observation"/]



=== TEST 10: a forced _summary (a scope picks the profile); count stays
--- request eval
["GET /fhir/Patient?_summary=false", "GET /fhir/Patient?_summary=count"]
--- more_headers
X-Scope: launch system/Patient.s
--- response_headers eval
["X-Upstream-Args: _summary=true", "X-Upstream-Args: _summary=count"]



=== TEST 11: POST _search under a profile that limits the request: 403
--- request
POST /fhir/Patient/_search
identifier=MRN-4711
--- more_headers
X-Role: billing
Content-Type: application/x-www-form-urlencoded
--- error_code: 403
--- response_body_like: search with GET



=== TEST 12: XML and other types: 406 OperationOutcome (fail closed)
--- request eval
["GET /fhir/xml/p1.xml", "GET /fhir/text/p1.txt"]
--- more_headers
X-Role: researcher
--- error_code eval
[406, 406]
--- response_headers eval
["Content-Type: application/fhir+json\nX-Min-Status: not_acceptable",
 "Content-Type: application/fhir+json"]
--- response_body_like eval
[qr/\A(?!.*Chalmers).*"not-supported"/s, qr/\A(?!.*Chalmers).*OperationOutcome/s]



=== TEST 13: fw_minimise_passthrough: a type let through as it is
--- config
    location /fhir/ {
        fw_minimise_default safe-harbor;
        fw_minimise_passthrough text/plain;
        add_header X-Min-Status $fw_minimise_status always;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
--- request eval
["GET /fhir/text/p1.txt", "GET /fhir/xml/p1.xml"]
--- error_code eval
[200, 406]
--- response_headers eval
["X-Min-Status: passthrough", "X-Min-Status: not_acceptable"]



=== TEST 14: malformed upstream JSON: 502 OperationOutcome, nothing leaks
--- request eval
["GET /fhir/bad/small", "GET /fhir/bad/notfhir"]
--- more_headers
X-Role: researcher
--- error_code eval
[502, 502]
--- response_headers eval
["Content-Type: application/fhir+json\nX-Min-Status: bad_upstream",
 "X-Min-Status: bad_upstream"]
--- response_body_like eval
[qr/\A(?!.*Chalmers)(?!.*MRN).*"exception".*not valid FHIR JSON/s,
 qr/\A(?!.*Chalmers).*"exception"/s]
--- error_log
the upstream response is not FHIR JSON



=== TEST 15: gzip: the upstream is asked for identity, the client still gets gzip
--- config
    location /fhir/ {
        fw_minimise_default safe-harbor;
        gzip on;
        gzip_types application/fhir+json;
        gzip_min_length 1;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
--- request
GET /fhir/gz/Patient/p1
--- more_headers
Accept-Encoding: gzip
--- response_headers
X-Upstream-AE: identity
Content-Encoding: gzip



=== TEST 16: gzip: without Accept-Encoding from the client, plain JSON
--- request
GET /fhir/gz/Patient/p1
--- more_headers
X-Role: researcher
--- response_headers
Content-Encoding:
--- response_body_like eval
main::no_identifiers()



=== TEST 17: an upstream that compresses anyway: 502
--- request
GET /fhir/forcegz
--- more_headers
X-Role: researcher
--- error_code: 502
--- response_body_like: compressed
--- error_log
the upstream response is encoded



=== TEST 18: nginx's own error pages pass (the upstream is down)
--- config
    location /fhir/ {
        fw_minimise_default safe-harbor;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/nobody.sock:/;
    }
--- request
GET /fhir/Patient/p1
--- error_code: 502
--- response_body_like: 502 Bad Gateway
--- error_log
nobody.sock



=== TEST 19: a location without the module: untouched
--- config
    location /fhir/ {
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
--- request
GET /fhir/Patient/p1
--- response_body_like: MRN-4711



=== TEST 20: HEAD: no body to filter
--- request
HEAD /fhir/Patient/p1
--- more_headers
X-Role: researcher
--- response_body



=== TEST 21: config: fw_minimise_map without fw_minimise_default
--- config
    location /fhir/ {
        fw_minimise_map $http_x_role researcher research;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
--- must_die
--- error_log
"fw_minimise_map" needs "fw_minimise_default"



=== TEST 22: config: an unknown profile
--- config
    location /fhir/ {
        fw_minimise_default researchers;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
--- must_die
--- error_log
unknown profile "researchers"



=== TEST 23: config: id, meta and resourceType cannot be dropped
--- http_config
    fw_minimise_profile x drop=Patient.name,*.meta;
--- config
    location /fhir/ {
        fw_minimise_default x;
        return 204;
    }
--- must_die
--- error_log
"fw_minimise_profile x": "*.meta": id, meta and resourceType stay



=== TEST 24: config: a bad option and a bad path
--- http_config
    fw_minimise_profile x drop=Patient..name;
--- config
    location /fhir/ {
        fw_minimise_default x;
        return 204;
    }
--- must_die
--- error_log
bad element path



=== TEST 25: conf-examples/minimise*.conf load and do what they say
--- http_config eval
$main::Http =~ s/fw_minimise_profile.*?(?=\n    server)//sr
. "    include $ENV{TEST_NGINX_FW_ROOT}/conf-examples/minimise-http.conf;\n"
--- config
    location /fhir/ {
        set $fw_jwt_claim_role $http_x_role;
        include $TEST_NGINX_FW_ROOT/conf-examples/minimise.conf;
        add_header X-Profile $fw_minimise_profile always;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Patient/p1", "GET /fhir/Patient/p1",
 "GET /fhir/Observation/o1"]
--- more_headers eval
["X-Role: clinician", "X-Role: billing", "", "X-Role: billing"]
--- response_headers eval
["X-Profile: none", "X-Profile: billing", "X-Profile: research",
 "X-Profile: billing"]
--- response_body_like eval
[qr/MRN-4711/, qr/\A\{"resourceType":"Patient","id":"p1","meta":\{[^}]*"tag":\[\{[^]]*\]\},"gender":"male","birthDate":"1974-12-25","_birthDate":.*"address":.*"generalPractitioner":\[\{"reference":"Practitioner\/pr1","display":"Dr Adam Careful"\}\]\}\z/s,
 main::no_identifiers(),
 qr/\A\{"resourceType":"Observation","id":"o1","meta":\{"tag":\[\{[^]]*SUBSETTED"\}\]\}\}\z/]



=== TEST 26: with the JWT module: the role claim of a verified token
--- config eval
"    location /fhir/ {
        fw_jwt on;
        fw_jwt_secret_file ${\ FwJwt::key_path('hs.secret')} encoding=base64url;
        fw_minimise_map \$fw_jwt_claim_role clinician none;
        fw_minimise_map \$fw_jwt_claim_role researcher research;
        fw_minimise_default deny;
        add_header X-Profile \$fw_minimise_profile always;
        proxy_pass http://unix:\$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }"
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Patient/p1", "GET /fhir/Patient/p1",
 "GET /fhir/Patient/p1"]
--- more_headers eval
["Authorization: Bearer $::T{researcher}",
 "Authorization: Bearer $::T{clinician}",
 "Authorization: Bearer $::T{norole}",
 "Authorization: Bearer $::T{researcher}x"]
--- error_code eval
[200, 200, 403, 401]
--- response_headers eval
["X-Profile: research", "X-Profile: none", "X-Profile: deny", ""]
--- response_body_like eval
[main::no_identifiers(), qr/MRN-4711/, qr/OperationOutcome/, qr/./]



=== TEST 27: Range: not sent upstream, the whole filtered 200
--- request
GET /fhir/Patient/p1
--- more_headers
X-Role: researcher
Range: bytes=0-9
--- error_code: 200
--- response_headers
X-Upstream-Range:
X-Min-Status: filtered
Content-Range:
Accept-Ranges:
--- response_body eval
'{"resourceType":"Patient","id":"p1","meta":{"versionId":"3","lastUpdated":"2026-11-01T10:00:00Z","tag":[' . main::tag() . ']},"active":true,"gender":"male","birthDate":"1974","address":[{"state":"Vic","country":"AU"}],"maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}]},"generalPractitioner":[{"reference":"Practitioner/pr1"}],"managingOrganization":{"reference":"Organization/1"}}'



=== TEST 28: If-Range and a suffix range: neither sent upstream, 200
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Patient?identifier=MRN-B-1"]
--- more_headers eval
["X-Role: researcher\nRange: bytes=-20\nIf-Range: \"abc\"",
 "X-Role: researcher\nIf-Range: Fri, 04 Dec 2026 10:00:00 GMT\nRange: bytes=100-"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Upstream-Range: \nX-Upstream-If-Range: \nContent-Range: ",
 "X-Upstream-Range: \nX-Upstream-If-Range: \nContent-Range: "]
--- response_body_like eval
[qr/\A\{"resourceType":"Patient","id":"p1",.*"managingOrganization":\{"reference":"Organization\/1"\}\}\z/s,
 qr/\A\{"resourceType":"Bundle".*"id":"b999".*\}\z/s]



=== TEST 29: multipart ranges: one whole filtered body, not byteranges
--- request
GET /fhir/Patient/p1
--- more_headers
X-Role: researcher
Range: bytes=0-4,10-14,-3
--- error_code: 200
--- response_headers
Content-Type: application/fhir+json
X-Upstream-Range:
--- response_body_like eval
qr/\A\{"resourceType":"Patient","id":"p1",(?!.*byteranges).*"reference":"Organization\/1"\}\}\z/s



=== TEST 30: nginx's range filter does not cut a filtered body either
--- config
    location /fhir/ {
        fw_minimise_default safe-harbor;
        proxy_force_ranges on;
        add_header X-Min-Status $fw_minimise_status always;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
--- request eval
["GET /fhir/Patient/p1", "GET /fhir/Patient/p1"]
--- more_headers eval
["Range: bytes=0-9", "Range: bytes=0-4,10-14"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Min-Status: filtered\nContent-Range: \nAccept-Ranges: ",
 "Content-Type: application/fhir+json"]
--- response_body_like eval
[qr/\A\{"resourceType":"Patient","id":"p1",.*"reference":"Organization\/1"\}\}\z/s,
 qr/\A\{"resourceType":"Patient","id":"p1",.*"reference":"Organization\/1"\}\}\z/s]



=== TEST 31: the profile none leaves Range alone (the upstream's 206)
--- request
GET /fhir/Patient/p1
--- more_headers
X-Role: clinician
Range: bytes=0-9
--- error_code: 206
--- response_headers
X-Upstream-Range: bytes=0-9
--- response_body_like: \A\{\s+"resou\z



=== TEST 32: an upstream that answers 206 anyway (a Range set here): 502
--- config
    location /fhir/ {
        fw_minimise_default safe-harbor;
        proxy_set_header Range "bytes=0-9";
        add_header X-Min-Status $fw_minimise_status always;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/fhir.sock:/;
    }
--- request
GET /fhir/Patient/p1
--- error_code: 502
--- response_headers
X-Upstream-Range: bytes=0-9
X-Min-Status: bad_upstream
--- response_body_like: \A(?!.*Chalmers).*"exception".*answered a range
--- error_log
the upstream answered 206: refused



=== TEST 33: a file served here (try_files, as the bench case): Range, whole 200
--- config
    location /b/ {
        types { }
        default_type application/fhir+json;
        fw_minimise_default safe-harbor;
        add_header X-Min-Status $fw_minimise_status always;
        root $TEST_NGINX_HTML_DIR/data;
        try_files /Patient/p1.json =404;
    }
--- request eval
["GET /b/x", "GET /b/x", "GET /b/x"]
--- more_headers eval
["Range: bytes=0-9", "Range: bytes=0-4,10-14", "Range: bytes=5-9\nIf-Range: \"x\""]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Min-Status: filtered\nContent-Range: \nAccept-Ranges: ",
 "Content-Type: application/fhir+json", "Content-Range: "]
--- response_body_like eval
[qr/\A\{"resourceType":"Patient","id":"p1",(?!.*MRN).*"reference":"Organization\/1"\}\}\z/s,
 qr/\A\{"resourceType":"Patient","id":"p1",(?!.*MRN).*"reference":"Organization\/1"\}\}\z/s,
 qr/\A\{"resourceType":"Patient","id":"p1",(?!.*MRN).*"reference":"Organization\/1"\}\}\z/s]
