package FwTls;

# Real TLS clients for Test::Nginx::Socket files.
#
# Test::Nginx speaks plain HTTP only, so a .t file that uses this module
# gets a small HTTP "client runner" on loopback: a request to
#   /fw-client/s_client?port=NAME&v=tls1_2[&cipher=..][&alpn=h2][&status=1]
#   /fw-client/curl?port=NAME&path=/x[&h2=1][&tls=1.2][&from=NAME][&body=1]
#       [&cert=1|2][&auth=VALUE]
# (proxied there by the location that preprocessor() adds to each block's
# config) runs `openssl s_client` or `curl` against the TLS servers of the
# block while nginx is up, and answers with the client's exit code and
# output (curl: the response headers without Date, and the body with
# body=1; ca=1 trusts the test CA instead of the self-signed certificate;
# cert=1 or 2 presents that client certificate; auth=VALUE sends it as the
# Authorization header).
# NAME is tls, tls2 or tls3: $TEST_NGINX_FW_TLS_PORT,
# $TEST_NGINX_FW_TLS2_PORT, $TEST_NGINX_FW_TLS3_PORT.
#
# Also exported to the config sections:
#   $TEST_NGINX_FW_CERT, $TEST_NGINX_FW_KEY   throwaway self-signed
#       certificate for CN=localhost, made with tools/gen-demo-certs
#   $TEST_NGINX_FW_CA_CERT, $TEST_NGINX_FW_LEAF_CERT, $TEST_NGINX_FW_LEAF_KEY,
#   $TEST_NGINX_FW_OCSP_RESP   a throwaway CA, a certificate it issued
#       (with an OCSP responder URL) and a DER OCSP "good" response for it
#   $TEST_NGINX_FW_CLIENT1_CERT, $TEST_NGINX_FW_CLIENT1_KEY,
#   $TEST_NGINX_FW_CLIENT2_CERT, $TEST_NGINX_FW_CLIENT2_KEY   two client
#       certificates (clientAuth) the CA issued
#   $TEST_NGINX_FW_CLOSED_PORT  a loopback port nothing listens on
#
# Everything lives in a temporary directory removed at exit.

use strict;
use warnings;
use File::Temp ();
use IO::Socket::INET;
use POSIX ();
use Cwd ();

our ($Dir, $ClientPid, $ParentPid);

sub run_quiet {
    my @cmd = @_;
    my $out = qx{@{[join ' ', map { quotemeta } @cmd]} 2>&1};
    die "FwTls: @cmd failed:\n$out" if $?;
    return $out;
}

sub free_port {
    my ($from, $taken) = @_;
    for my $p ($from .. $from + 500) {
        next if $taken->{$p};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $p, Proto => 'tcp',
                                      ReuseAddr => 1, Listen => 1);
        if ($s) {
            close $s;
            $taken->{$p} = 1;
            return $p;
        }
    }
    die "FwTls: no free port from $from\n";
}

sub make_certs {
    my $root = $ENV{TEST_NGINX_FW_ROOT} || Cwd::getcwd();
    run_quiet("$root/tools/gen-demo-certs", "$Dir/self", 2);
    $ENV{TEST_NGINX_FW_CERT} = "$Dir/self/gateway.crt";
    $ENV{TEST_NGINX_FW_KEY} = "$Dir/self/gateway.key";

    # a CA, a leaf it signed with an OCSP URL, and a "good" OCSP response
    my $d = "$Dir/ca";
    mkdir $d or die "FwTls: mkdir $d: $!";
    run_quiet(qw(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256
                 -nodes -days 2 -subj /CN=fhirwall-test-CA),
              '-addext', 'basicConstraints=critical,CA:TRUE',
              '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
              '-keyout', "$d/ca.key", '-out', "$d/ca.crt");
    run_quiet(qw(openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256
                 -nodes -subj /CN=localhost), '-keyout', "$d/leaf.key",
              '-out', "$d/leaf.csr");
    open my $ext, '>', "$d/leaf.ext" or die;
    print $ext "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
               "authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/\n",
               "extendedKeyUsage=serverAuth\n";
    close $ext;
    run_quiet(qw(openssl x509 -req -days 2 -set_serial 4660),
              '-in', "$d/leaf.csr", '-CA', "$d/ca.crt", '-CAkey', "$d/ca.key",
              '-extfile', "$d/leaf.ext", '-out', "$d/leaf.crt");
    my $notafter = POSIX::strftime("%y%m%d%H%M%SZ", gmtime(time + 2 * 86400));
    open my $idx, '>', "$d/index.txt" or die;
    print $idx "V\t$notafter\t\t1234\tunknown\t/CN=localhost\n";
    close $idx;
    run_quiet(qw(openssl ocsp -no_nonce), '-issuer', "$d/ca.crt",
              '-cert', "$d/leaf.crt", '-reqout', "$d/req.der");
    run_quiet(qw(openssl ocsp -ndays 2), '-index', "$d/index.txt",
              '-rsigner', "$d/ca.crt", '-rkey', "$d/ca.key", '-CA', "$d/ca.crt",
              '-reqin', "$d/req.der", '-respout', "$d/resp.der");
    $ENV{TEST_NGINX_FW_CA_CERT} = "$d/ca.crt";
    $ENV{TEST_NGINX_FW_LEAF_CERT} = "$d/leaf.crt";
    $ENV{TEST_NGINX_FW_LEAF_KEY} = "$d/leaf.key";
    $ENV{TEST_NGINX_FW_OCSP_RESP} = "$d/resp.der";

    # two client certificates for mutual TLS
    open my $cext, '>', "$d/client.ext" or die;
    print $cext "extendedKeyUsage=clientAuth\n";
    close $cext;
    for my $n (1, 2) {
        run_quiet(qw(openssl req -new -newkey ec -pkeyopt
                     ec_paramgen_curve:P-256 -nodes),
                  '-subj', "/CN=fhirwall-test-client-$n",
                  '-keyout', "$d/client$n.key", '-out', "$d/client$n.csr");
        run_quiet(qw(openssl x509 -req -days 2), '-set_serial', 5000 + $n,
                  '-in', "$d/client$n.csr", '-CA', "$d/ca.crt",
                  '-CAkey', "$d/ca.key", '-extfile', "$d/client.ext",
                  '-out', "$d/client$n.crt");
        $ENV{"TEST_NGINX_FW_CLIENT${n}_CERT"} = "$d/client$n.crt";
        $ENV{"TEST_NGINX_FW_CLIENT${n}_KEY"} = "$d/client$n.key";
    }
}

sub uri_unescape {
    my $s = shift;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

sub run_client {
    my ($tool, $q) = @_;
    my %port = (tls  => $ENV{TEST_NGINX_FW_TLS_PORT},
                tls2 => $ENV{TEST_NGINX_FW_TLS2_PORT},
                tls3 => $ENV{TEST_NGINX_FW_TLS3_PORT},
                http => $ENV{TEST_NGINX_SERVER_PORT});
    my $port = $port{$q->{port} || 'tls'} or return "exit: bad port\n";
    my $ca = $q->{ca} ? $ENV{TEST_NGINX_FW_CA_CERT} : $ENV{TEST_NGINX_FW_CERT};
    my @cmd;

    if ($tool eq 's_client') {
        my $v = $q->{v} || 'tls1_3';
        return "exit: bad version\n" unless $v =~ /^tls1(?:_[123])?$/;
        @cmd = ('openssl', 's_client', "-$v", '-connect', "127.0.0.1:$port",
                '-servername', 'localhost', '-CAfile', $ca,
                '-verify_return_error');
        # TLS 1.0 and 1.1 need security level 0 in OpenSSL 3, else the
        # client would refuse them by itself and prove nothing
        push @cmd, '-cipher', ($q->{cipher} || 'DEFAULT') . '@SECLEVEL=0'
            if $v eq 'tls1' || $v eq 'tls1_1';
        push @cmd, '-cipher', $q->{cipher}
            if $q->{cipher} && $v eq 'tls1_2';
        push @cmd, '-ciphersuites', $q->{suites} if $q->{suites};
        push @cmd, '-alpn', $q->{alpn} if $q->{alpn};
        push @cmd, '-status' if $q->{status};
    } elsif ($tool eq 'curl') {
        my $path = $q->{path} || '/';
        return "exit: bad path\n" unless $path =~ m{^/};
        @cmd = ('curl', '-sS', '--max-time', '5', '--cacert', $ca,
                '--resolve', "localhost:$port:127.0.0.1");
        push @cmd, $q->{body} ? '-i' : ('-D', '-', '-o', '/dev/null');
        push @cmd, $q->{h2} ? '--http2' : '--http1.1';
        if ($q->{cert}) {
            return "exit: bad cert\n" unless $q->{cert} =~ /^[12]$/;
            push @cmd, '--cert', $ENV{"TEST_NGINX_FW_CLIENT$q->{cert}_CERT"},
                 '--key', $ENV{"TEST_NGINX_FW_CLIENT$q->{cert}_KEY"};
        }
        push @cmd, '-H', "Authorization: $q->{auth}" if $q->{auth};
        if ($q->{tls}) {
            return "exit: bad tls\n" unless $q->{tls} =~ /^1\.[0-3]$/;
            push @cmd, "--tlsv$q->{tls}", '--tls-max', $q->{tls};
            push @cmd, '--ciphers', 'DEFAULT@SECLEVEL=0' if $q->{tls} lt '1.2';
        }
        if ($q->{from}) {
            # start on plain HTTP at port NAME, follow the redirect
            my $from = $port{$q->{from}} or return "exit: bad port\n";
            push @cmd, '-L', '--resolve', "localhost:$from:127.0.0.1",
                 "http://localhost:$from$path";
        } else {
            push @cmd, "https://localhost:$port$path";
        }
    } else {
        return "exit: unknown client\n";
    }

    my $pid = open my $fh, '-|';
    die "FwTls: fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my $rc = $? >> 8;

    if ($tool eq 'curl') {
        # headers in the order received; Date changes, so it goes
        $out =~ s/\r//g;
        $out = join '', grep { !/^date:/i } split /^/m, $out;
    }
    return "exit: $rc\n$out";
}

sub serve_clients {
    my $srv = shift;
    $SIG{TERM} = sub { POSIX::_exit(0) };
    while (my $c = $srv->accept) {
        my $line = <$c> // '';
        while (my $h = <$c>) { last if $h =~ /^\r?\n$/ }
        my $body;
        if ($line =~ m{^GET /fw-client/(s_client|curl)\?(\S*) HTTP}) {
            my ($tool, %q) = ($1);
            for (split /&/, $2) {
                my ($k, $v) = split /=/, $_, 2;
                $q{uri_unescape($k)} = uri_unescape($v // '');
            }
            $body = eval { run_client($tool, \%q) } // "exit: error $@\n";
        } else {
            $body = "exit: bad request\n";
        }
        print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n",
                 "Content-Length: ", length($body), "\r\n\r\n", $body;
        close $c;
    }
    POSIX::_exit(0);
}

sub start {
    return if $ClientPid;
    $Dir = File::Temp::tempdir('fw-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $Dir;
    make_certs();

    # Test::Nginx's default, set here already so the client runner has it
    my $base = $ENV{TEST_NGINX_SERVER_PORT} ||= $ENV{TEST_NGINX_PORT} || 1984;
    my %taken = ($base => 1);
    for my $name (qw(TLS TLS2 TLS3 CLIENT CLOSED)) {
        $ENV{"TEST_NGINX_FW_${name}_PORT"} ||= free_port($base + 1, \%taken);
        $taken{$ENV{"TEST_NGINX_FW_${name}_PORT"}} = 1;
    }

    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                    LocalPort => $ENV{TEST_NGINX_FW_CLIENT_PORT},
                                    Proto => 'tcp', ReuseAddr => 1,
                                    Listen => 16)
        or die "FwTls: listen on $ENV{TEST_NGINX_FW_CLIENT_PORT}: $!\n";
    $ParentPid = $$;
    $ClientPid = fork;
    die "FwTls: fork: $!" unless defined $ClientPid;
    if (!$ClientPid) {
        serve_clients($srv);
    }
    close $srv;
}

# adds the /fw-client/ location to a block's config
sub preprocessor {
    my $block = shift;
    my $loc = "\n    location /fw-client/ {\n"
            . "        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_FW_CLIENT_PORT};\n"
            . "        proxy_read_timeout 20s;\n"
            . "    }\n";
    $block->set_value('config', ($block->config // '') . $loc);
}

END {
    local $?;
    if ($ClientPid && $ParentPid && $$ == $ParentPid) {
        kill 'TERM', $ClientPid;
        waitpid $ClientPid, 0;
    }
}

sub import {
    start();
}

1;
