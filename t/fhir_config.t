# FHIR module: configurations that could let requests through unchecked
# fail "nginx -t", with a message naming the directive.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

run_tests();

__DATA__

=== TEST 1: fw_fhir without fw_fhir_scopes
--- config
    location /fhir {
        fw_fhir R4;
        try_files /x =404;
    }
--- must_die
--- error_log
"fw_fhir" needs "fw_fhir_scopes"


=== TEST 2: fw_fhir with satisfy any
--- config
    location /fhir {
        satisfy any;
        allow 127.0.0.1;
        fw_fhir R4;
        fw_fhir_scopes $http_x_scopes;
        try_files /x =404;
    }
--- must_die
--- error_log
"fw_fhir" cannot be used with "satisfy any"


=== TEST 3: unknown FHIR version
--- config
    location /fhir {
        fw_fhir R6;
        fw_fhir_scopes off;
    }
--- must_die
--- error_log
"fw_fhir": unknown FHIR version "R6"


=== TEST 4: a type of another version, or in the wrong case
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_allow_types Patient ActorDefinition;
    }
--- must_die
--- error_log
"fw_fhir_allow_types": "ActorDefinition" is not a resource type of FHIR R4


=== TEST 5: a deny list with a misspelt type
--- config
    location /fhir {
        fw_fhir R5;
        fw_fhir_scopes off;
        fw_fhir_deny_types patient;
    }
--- must_die
--- error_log
"fw_fhir_deny_types": "patient" is not a resource type of FHIR R5


=== TEST 6: unknown interaction
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_interactions remove;
    }
--- must_die
--- error_log
"fw_fhir_deny_interactions": unknown interaction "remove"


=== TEST 7: a regex location without fw_fhir_base
--- config
    location ~ ^/fhir/ {
        fw_fhir R4;
        fw_fhir_scopes off;
    }
--- must_die
--- error_log
"fw_fhir" in a regex or named location needs "fw_fhir_base"


=== TEST 8: a base that is no plain path
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_base /fhir/../x;
    }
--- must_die
--- error_log
"fw_fhir_base": "/fhir/../x" is not a plain path


=== TEST 9: bad operation policy
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_operation_scope $everything rx;
    }
--- must_die
--- error_log
"fw_fhir_operation_scope": "rx" is not deny, public or SMART permissions (cruds)


=== TEST 10: fw_fhir_scopes takes a variable, not a constant
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes user/*.cruds;
    }
--- must_die
--- error_log
"fw_fhir_scopes" needs a variable (or "off"), not "user/*.cruds"


=== TEST 11: deny status other than 403 or 405
--- config
    location /fhir {
        fw_fhir R4;
        fw_fhir_scopes off;
        fw_fhir_deny_status 200;
    }
--- must_die
--- error_log
"fw_fhir_deny_status" must be 403 or 405, not "200"


=== TEST 12: fw_fhir inherited from the server level into a location without scopes at that level
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name other;
        fw_fhir R4;
        location /fhir { try_files /x =404; }
    }
--- config
--- must_die
--- error_log
"fw_fhir" needs "fw_fhir_scopes"


=== TEST 13: a valid configuration at server level, inherited, and off below
--- config
    fw_fhir R4;
    fw_fhir_scopes off;
    fw_fhir_base /fhir;
    location /fhir {
        try_files $uri =404;
    }
    location /other {
        fw_fhir off;
        try_files $uri =404;
    }
--- user_files
>>> fhir/Patient
bundle
>>> other/Patient
plain
--- request eval
["GET /fhir/Patient", "GET /fhir/Patient/", "GET /other/Patient;x", "GET /other/Patient"]
--- error_code eval
[200, 400, 404, 200]
--- response_body_like eval
[qr/^bundle$/, qr/empty path segment/, qr/Not Found/, qr/^plain$/]
