package FwMinimise;

# Helpers for t/minimise*.t: sample FHIR resources (with every identifier
# they carry listed in @Identifiers), generated Bundles, and a "trickle"
# upstream on a unix socket that writes its answer one byte at a time.

use strict;
use warnings;

use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOL_SOCKET SO_SNDBUF);
use Time::HiRes qw(sleep);
use File::Path qw(make_path remove_tree);

our $Dir = ($ENV{TMPDIR} || '/tmp') . "/fw-minimise-$$";
our $Parent = $$;
our @Children;

# everything that identifies Peter Chalmers in the samples
our @Identifiers = ('MRN-4711', '999-45-6789', 'SSN-NESTED-42', 'OBS-ID-1',
    'ENC-ID-1', 'PRE-ADM-1', 'Chalmers', 'Peter', '555-0199',
    'peter@example.org', 'Erewhon', '3999', 'Pleasantville', '1974-12-25',
    'Adam Careful', 'Du Marche', 'DEV-SERIAL-9', 'photo.example.org',
    'Maiden-Name-X', 'http://patient-home.example.org');

our $Patient = <<'_EOJ_';
{
  "resourceType": "Patient",
  "id": "p1",
  "meta": {"versionId": "3", "lastUpdated": "2026-11-01T10:00:00Z"},
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Peter Chalmers, MRN-4711</div>"},
  "extension": [
    {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName", "valueString": "Maiden-Name-X"},
    {"url": "http://example.org/ext/outer", "extension": [
      {"url": "inner", "valueIdentifier": {"system": "urn:ssn", "value": "SSN-NESTED-42"}},
      {"url": "deeper", "extension": [{"url": "x", "valueUri": "http://patient-home.example.org"}]}
    ]}
  ],
  "identifier": [
    {"use": "usual", "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "MRN-4711"},
    {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-45-6789"}
  ],
  "active": true,
  "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
  "telecom": [
    {"system": "phone", "value": "555-0199", "use": "home"},
    {"system": "email", "value": "peter@example.org"},
    {"system": "url", "value": "http://patient-home.example.org"}
  ],
  "gender": "male",
  "birthDate": "1974-12-25",
  "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
  "address": [{"use": "home", "line": ["534 Erewhon St"], "city": "Pleasantville", "district": "Rainbow", "state": "Vic", "postalCode": "3999", "country": "AU"}],
  "photo": [{"contentType": "image/jpeg", "url": "http://photo.example.org/p1.jpg"}],
  "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M", "display": "Married"}]},
  "contact": [{"name": {"family": "Du Marche", "given": ["Benedicte"]}, "telecom": [{"system": "phone", "value": "555-0199"}]}],
  "generalPractitioner": [{"reference": "Practitioner/pr1", "display": "Dr Adam Careful"}],
  "managingOrganization": {"reference": "Organization/1"}
}
_EOJ_

our $Observation = <<'_EOJ_';
{
  "resourceType": "Observation",
  "id": "o1",
  "identifier": [{"system": "urn:obs", "value": "OBS-ID-1"}],
  "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body Weight"}], "text": "weight"},
  "subject": {"reference": "Patient/p1", "display": "Peter Chalmers"},
  "effectiveDateTime": "2026-03-28",
  "performer": [{"reference": "Practitioner/pr1", "display": "Dr Adam Careful"}],
  "valueQuantity": {"value": 67.1, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
  "note": [{"text": "Peter Chalmers says he feels fine"}]
}
_EOJ_

our $Encounter = <<'_EOJ_';
{
  "resourceType": "Encounter",
  "id": "e1",
  "identifier": [{"use": "official", "value": "ENC-ID-1"}],
  "status": "finished",
  "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient encounter"},
  "subject": {"reference": "Patient/p1", "display": "Peter Chalmers"},
  "participant": [{"individual": {"reference": "Practitioner/pr1", "display": "Dr Adam Careful"}}],
  "period": {"start": "2026-03-01", "end": "2026-03-05"},
  "hospitalization": {"preAdmissionIdentifier": {"value": "PRE-ADM-1"}, "dischargeDisposition": {"text": "home"}}
}
_EOJ_

our $Device = <<'_EOJ_';
{"resourceType": "Device", "id": "d1", "serialNumber": "DEV-SERIAL-9", "patient": {"reference": "Patient/p1", "display": "Peter Chalmers"}, "status": "active"}
_EOJ_

sub compact {
    my $s = shift;
    # the samples have no whitespace inside strings that matters here
    return $s;
}

# a searchset Bundle of $n entries: Patients with their own identifiers
sub bundle {
    my ($n, $prefix) = @_;
    $prefix //= 'MRN-B-';
    my @e;
    for my $i (1 .. $n) {
        push @e, qq({"fullUrl":"http://fhir.example.org/Patient/b$i","resource":{"resourceType":"Patient","id":"b$i","identifier":[{"system":"urn:mrn","value":"$prefix$i"}],"name":[{"family":"Family$i","given":["Given$i"]}],"telecom":[{"system":"phone","value":"555-1$i"}],"gender":"female","birthDate":"1980-01-0@{[$i % 9 + 1]}","address":[{"line":["$i Main St"],"city":"Town$i","state":"MA","country":"US"}]},"search":{"mode":"match"}});
    }
    return qq({"resourceType":"Bundle","type":"searchset","total":$n,"link":[{"relation":"self","url":"http://fhir.example.org/Patient?identifier=${prefix}1"}],"entry":[) . join(',', @e) . "]}\n";
}

# $everything: the three samples in one Bundle
sub everything {
    return qq({"resourceType":"Bundle","type":"searchset","entry":[)
        . join(',', map { qq({"resource":$_}) } $Patient, $Observation,
               $Encounter, $Device)
        . "]}\n";
}

# the files the upstream (a second server block) serves
sub user_files {
    my %f = (
        'data/Patient/p1.json' => $Patient,
        'data/Observation/o1.json' => $Observation,
        'data/Encounter/e1.json' => $Encounter,
        'data/Device/d1.json' => $Device,
        'data/Patient.json' => bundle(1000),
        'data/Patient/p1/$everything.json' => everything(),
        'data/bad/small.json' => qq({"resourceType":"Patient","name":[{"family":"Chalmers"}],"identifier":[{"value":"MRN-4711"}],}\n),
        'data/bad/notfhir.json' => qq({"data":{"patient":{"name":"Chalmers"}}}\n),
        'data/xml/p1.xml' => qq(<Patient xmlns="http://hl7.org/fhir"><name><family value="Chalmers"/></name></Patient>\n),
        'data/text/p1.txt' => "Peter Chalmers MRN-4711\n",
    );
    return join '', map { ">>> $_\n$f{$_}" } sort keys %f;
}

sub socket_path {
    my $name = shift;
    make_path($Dir);
    return "$Dir/$name.sock";
}

# a server on a unix socket answering every request with $response,
# written one byte at a time (each write waits $delay seconds)
sub trickle {
    my ($name, $response, $delay) = @_;
    my $path = socket_path($name);
    unlink $path;
    my $srv = IO::Socket::UNIX->new(Local => $path, Listen => 16)
        or die "listen $path: $!";
    chmod 0777, $path;

    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid) {
        close $srv;
        push @Children, $pid;
        return $path;
    }

    $SIG{TERM} = sub { POSIX::_exit(0) };
    while (my $c = $srv->accept) {
        my $req = '';
        while ($req !~ /\r\n\r\n/) {
            my $n = sysread $c, $req, 4096, length $req;
            last unless $n;
        }
        setsockopt($c, SOL_SOCKET, SO_SNDBUF, 1024);
        for my $i (0 .. length($response) - 1) {
            syswrite $c, substr($response, $i, 1) or last;
            sleep $delay if $delay;
        }
        close $c;
    }
    POSIX::_exit(0);
}

END {
    local $?;
    if ($$ == $Parent) {
        kill 'TERM', $_ for @Children;
        waitpid $_, 0 for @Children;
        remove_tree($Dir);
    }
}

1;
