# The minimise filter on a slow upstream that writes its answer one byte
# at a time (t/lib/FwMinimise.pm's trickle server): the same output as in
# one piece, and a body that turns out malformed after the header went
# out: the connection is aborted, and only filtered bytes were sent.

use lib 't/lib';
use FwMinimise;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
log_level('debug');

sub http_response {
    my $body = shift;
    return "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
        . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n"
        . $body;
}

our $Good = FwMinimise::trickle('good', http_response($FwMinimise::Patient),
                                0.0002);
our $Bad = FwMinimise::trickle('bad', http_response(
    '{"resourceType":"Patient","id":"p1","active":true,'
    . '"gender":"male","multipleBirthBoolean":false,'
    . '"identifier":[{"value":"MRN-4711"}],"name":[{"family":"Chalmers"}],'
    . '"x":]}'), 0.0002);

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', <<"_EOC_");
    fw_minimise_profile research safe-harbor;
    upstream good { server unix:$Good; }
    upstream bad { server unix:$Bad; }
_EOC_
    $block->set_value('timeout', 10);
});

sub tag {
    return '{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}';
}

run_tests();

__DATA__

=== TEST 1: byte by byte: the same bytes as the whole answer
--- config
    location /t {
        fw_minimise_default research;
        proxy_buffering off;
        proxy_pass http://good;
    }
--- request
GET /t
--- response_body eval
'{"resourceType":"Patient","id":"p1","meta":{"versionId":"3","lastUpdated":"2026-11-01T10:00:00Z","tag":[' . main::tag() . ']},"active":true,"gender":"male","birthDate":"1974","address":[{"state":"Vic","country":"AU"}],"maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}]},"generalPractitioner":[{"reference":"Practitioner/pr1"}],"managingOrganization":{"reference":"Organization/1"}}'
--- grep_error_log eval: qr/recv: fd:\d+ 1 of \d+/
--- grep_error_log_out eval
qr/(?:recv: fd:\d+ 1 of \d+\n){200}/



=== TEST 2: byte by byte, buffered proxying, small output buffers
--- config
    location /t {
        fw_minimise_default research;
        fw_minimise_buffers 2 4k;
        fw_minimise_hold 0;
        proxy_buffer_size 1k;
        proxy_buffers 4 1k;
        proxy_busy_buffers_size 1k;
        proxy_pass http://good;
    }
--- request
GET /t
--- response_body eval
'{"resourceType":"Patient","id":"p1","meta":{"versionId":"3","lastUpdated":"2026-11-01T10:00:00Z","tag":[' . main::tag() . ']},"active":true,"gender":"male","birthDate":"1974","address":[{"state":"Vic","country":"AU"}],"maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}]},"generalPractitioner":[{"reference":"Practitioner/pr1"}],"managingOrganization":{"reference":"Organization/1"}}'



=== TEST 3: malformed while held: a 502 OperationOutcome
--- config
    location /t {
        fw_minimise_default research;
        proxy_buffering off;
        proxy_pass http://bad;
    }
--- request
GET /t
--- error_code: 502
--- response_body_like eval
qr/\A(?!.*Chalmers)(?!.*MRN-4711)\{"resourceType":"OperationOutcome".*"exception"/s
--- error_log
the upstream response is not FHIR JSON



=== TEST 4: malformed after the header: aborted, only filtered bytes sent
--- config
    location /t {
        fw_minimise_default research;
        fw_minimise_hold 0;
        proxy_buffering off;
        proxy_pass http://bad;
    }
--- request
GET /t HTTP/1.0
--- error_code: 200
--- response_body_like eval
qr/\A(?!.*Chalmers)(?!.*MRN-4711)\{"resourceType":"Patient","id":"p1","active":true,"gender":"male","multipleBirthBoolean":false\z/s
--- error_log
connection aborted
