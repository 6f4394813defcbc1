package FwRedis;

# Test helper: a private redis-server (and, if asked, a second nginx) for
# the .t files.  Everything runs on loopback; every process started here is
# stopped when the test file ends.
#
#   use lib 't/lib'; use FwRedis;
#   FwRedis::start($port, requirepass => 'x');  # fresh, --save '' ...
#   FwRedis::start($port, unixsocket => $path); # also on a unix socket
#   FwRedis::socket($port);                     # a path for that
#   FwRedis::cmd($port, 'SET', 'k', 'v');        # a raw RESP client
#   FwRedis::pause($port); FwRedis::resume($port);   # SIGSTOP / SIGCONT
#   FwRedis::restart($port); FwRedis::stop($port);
#   FwRedis::later(1.5, sub { FwRedis::restart($port) });  # in a child
#   FwRedis::start_nginx($port, $http_config);  # a second nginx instance
#   my ($status, $headers) = FwRedis::http_get($port, '/path', %headers);
#   FwRedis::fake_start($port, sub { my @argv = @_; ...; return $resp });
#                                      # a scripted server speaking RESP

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes qw(sleep time);
use File::Path qw(make_path remove_tree);

our $Dir = ($ENV{TMPDIR} || '/tmp') . "/fw-test-$$";
our %Started;           # port => 1, redis servers started by this process
our %Nginx;             # port => directory, nginx instances started here
our @Children;
our $Parent = $$;

sub port {
    return $ENV{TEST_NGINX_REDIS_PORT} || 6401;
}

sub _dir {
    my $port = shift;
    my $d = "$Dir/redis-$port";
    make_path($d);
    return $d;
}

sub socket {
    my $port = shift;
    return _dir($port) . "/redis.sock";
}

sub _pid {
    my $port = shift;
    my $f = _dir($port) . "/redis.pid";
    open my $fh, '<', $f or return undef;
    my $pid = <$fh>;
    close $fh;
    chomp $pid if defined $pid;
    return $pid && $pid =~ /^\d+$/ ? $pid : undef;
}

sub start {
    my ($port, %opt) = @_;

    stop($port) if $Started{$port};

    my $probe = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
    if ($probe) {
        close $probe;
        die "port $port is in use (a redis-server left over? set "
            . "TEST_NGINX_REDIS_PORT)\n";
    }

    my $d = _dir($port);
    my @args = ('redis-server', '--port', $port, '--bind', '127.0.0.1',
                '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
                '--dir', $d, '--pidfile', "$d/redis.pid",
                '--logfile', "$d/redis.log");

    push @args, '--requirepass', $opt{requirepass} if $opt{requirepass};
    push @args, '--unixsocket', $opt{unixsocket}, '--unixsocketperm', '777'
        if $opt{unixsocket};

    unlink "$d/redis.pid";
    system(@args) == 0 or die "cannot start redis-server on $port\n";
    $Started{$port} = 1;

    for (1 .. 200) {
        return 1 if _ping($port, $opt{requirepass});
        sleep 0.01;
    }

    die "redis-server on $port does not answer\n";
}

sub _ping {
    my ($port, $pass) = @_;
    my $r = eval { cmd_auth($port, $pass, 'PING') };
    return defined $r && $r eq 'PONG';
}

sub stop {
    my $port = shift;
    my $pid = _pid($port);

    return unless $pid && $Started{$port};

    kill 'CONT', $pid;
    kill 'TERM', $pid;

    for (1 .. 300) {
        last unless _alive($pid);
        sleep 0.01;
    }

    kill 'KILL', $pid if _alive($pid);
    unlink _dir($port) . "/redis.pid";
    delete $Started{$port};
}

# alive and not a zombie (a daemonised redis-server is reparented to
# whichever process reaps orphans, possibly the test runner itself)
sub _alive {
    my $pid = shift;
    return 0 unless kill 0, $pid;
    open my $fh, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$fh>;
    close $fh;
    return !($stat && $stat =~ /^\d+ \(.*\) Z/);
}

sub restart {
    my ($port, %opt) = @_;
    stop($port);
    start($port, %opt);
}

sub pause {
    my $pid = _pid(shift) or die "no redis to pause\n";
    kill 'STOP', $pid;
}

sub resume {
    my $pid = _pid(shift) or return;
    kill 'CONT', $pid;
}

sub running {
    my $port = shift;
    my $pid = _pid($port);
    return $pid && _alive($pid);
}

# a minimal RESP client: returns a scalar for simple replies, an array
# reference for arrays, dies on an error reply
sub cmd {
    my ($port, @args) = @_;
    return cmd_auth($port, undef, @args);
}

sub cmd_auth {
    my ($port, $pass, @args) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 2)
        or die "connect to redis $port: $!\n";

    if ($pass) {
        print $s _resp('AUTH', $pass);
        _read($s);
    }

    print $s _resp(@args);
    my $r = _read($s);
    close $s;
    return $r;
}

sub _resp {
    my @a = @_;
    my $out = '*' . scalar(@a) . "\r\n";
    $out .= '$' . length($_) . "\r\n$_\r\n" for @a;
    return $out;
}

sub _read {
    my $s = shift;
    my $line = <$s>;
    die "redis closed the connection\n" unless defined $line;
    $line =~ s/\r\n$//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));

    return $v if $t eq '+' || $t eq ':';
    die "redis error: $v\n" if $t eq '-';

    if ($t eq '$') {
        return undef if $v < 0;
        my $buf = '';
        read($s, $buf, $v + 2);
        return substr($buf, 0, $v);
    }

    if ($t eq '*') {
        return undef if $v < 0;
        return [map { _read($s) } 1 .. $v];
    }

    die "bad redis reply: $line\n";
}

# runs code in a child process after a delay (mid-test events)
sub later {
    my ($delay, $code) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        sleep $delay;
        POSIX::_exit(0) if getppid() != $Parent;
        eval { $code->() };
        warn "FwRedis::later: $@" if $@;
        POSIX::_exit(0);
    }

    push @Children, $pid;
    return $pid;
}

# the test process is still there (a child must not outlive it)
sub parent_alive {
    return getppid() == $Parent || $$ == $Parent;
}

sub wait_port {
    my ($port, $max) = @_;
    my $end = time + ($max || 5);

    while (time < $end) {
        POSIX::_exit(0) unless parent_alive();
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        if ($s) {
            close $s;
            return 1;
        }
        sleep 0.005;
    }

    return 0;
}

# one HTTP/1.0 GET: returns (status, {lower-case header => value}, body)
sub http_get {
    my ($port, $path, %h) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 10)
        or die "connect to nginx $port: $!\n";

    my $req = "GET $path HTTP/1.0\r\nHost: localhost\r\n";
    $req .= "$_: $h{$_}\r\n" for sort keys %h;
    print $s "$req\r\n";

    local $/;
    my $resp = <$s>;
    close $s;

    my ($head, $body) = split /\r\n\r\n/, $resp // '', 2;
    my @lines = split /\r\n/, $head // '';
    my ($status) = (shift(@lines) // '') =~ m{^HTTP/\S+ (\d+)};
    my %hdr = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () } @lines;

    return ($status, \%hdr, $body);
}

# a second nginx (the same binary and modules as Test::Nginx uses)
sub start_nginx {
    my ($port, $http) = @_;

    stop_nginx($port) if $Nginx{$port};

    my $d = "$Dir/nginx-$port";
    remove_tree($d);
    make_path("$d/logs", "$d/conf", "$d/html");

    open my $fh, '>', "$d/html/index.html" or die $!;
    print $fh "second\n";
    close $fh;

    my $mods = join '', map { "load_module $_;\n" }
                        split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');

    open $fh, '>', "$d/conf/nginx.conf" or die $!;
    print $fh <<"CONF";
${mods}daemon on;
master_process off;
worker_processes 1;
error_log $d/logs/error.log debug;
pid $d/logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    root $d/html;
$http
}
CONF
    close $fh;

    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    system($bin, '-p', "$d/", '-c', "$d/conf/nginx.conf") == 0
        or die "cannot start the second nginx on $port\n";

    $Nginx{$port} = $d;
    wait_port($port) or die "the second nginx does not listen on $port\n";
}

sub stop_nginx {
    my $port = shift;
    my $d = delete $Nginx{$port} or return;

    open my $fh, '<', "$d/logs/nginx.pid" or return;
    my $pid = <$fh>;
    close $fh;
    chomp $pid;

    return unless $pid =~ /^\d+$/;

    kill 'QUIT', $pid;
    for (1 .. 300) {
        last unless _alive($pid);
        sleep 0.01;
    }
    kill 'KILL', $pid if _alive($pid);
}

# A fake Redis in a child process: PING, AUTH, SELECT and QUIT are
# answered as Redis would; every other command (an array of bulk strings)
# gets the raw RESP bytes $reply->(@argv) returns.  Commands are parsed
# from a per-connection buffer, so pipelined commands are all answered.
sub fake_start {
    my ($port, $reply) = @_;

    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port, Listen => 16,
                                  ReuseAddr => 1, Proto => 'tcp')
        or die "fake redis on $port: $!\n";

    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        local $SIG{PIPE} = 'IGNORE';
        my $sel = IO::Select->new($l);
        my %buf;

        for (;;) {
            POSIX::_exit(0) unless parent_alive();

            for my $s ($sel->can_read(0.1)) {
                if ($s == $l) {
                    my $c = $l->accept or next;
                    $sel->add($c);
                    $buf{fileno $c} = '';
                    next;
                }

                my $n = sysread($s, my $chunk, 65536);
                if (!$n) {
                    $sel->remove($s);
                    delete $buf{fileno $s};
                    close $s;
                    next;
                }

                my $b = \$buf{fileno $s};
                $$b .= $chunk;

                while (my @argv = _fake_parse($b)) {
                    my $cmd = uc $argv[0];
                    my $out = $cmd eq 'PING' ? "+PONG\r\n"
                            : $cmd =~ /^(AUTH|SELECT|QUIT)$/ ? "+OK\r\n"
                            : $reply->(@argv);
                    _fake_write($s, $out);
                }
            }
        }
    }

    close $l;
    push @Children, $pid;
    return $pid;
}

# one complete command off the front of the buffer, or () if incomplete
sub _fake_parse {
    my $b = shift;

    return () unless $$b =~ /\A\*(\d+)\r\n/;
    my ($n, $pos) = ($1, length($1) + 3);
    my @argv;

    for (1 .. $n) {
        return () unless substr($$b, $pos) =~ /\A\$(\d+)\r\n/;
        my $len = $1;
        $pos += length($len) + 3;
        return () if length($$b) < $pos + $len + 2;
        push @argv, substr($$b, $pos, $len);
        $pos += $len + 2;
    }

    substr($$b, 0, $pos) = '';
    return @argv;
}

sub _fake_write {
    my ($s, $out) = @_;
    my $off = 0;

    while ($off < length $out) {
        my $n = syswrite($s, $out, length($out) - $off, $off);
        return unless defined $n;
        $off += $n;
    }
}

sub cleanup {
    return unless $$ == $Parent;

    # waitpid() sets $?, which in an END block is the exit status
    local $?;

    for my $pid (@Children) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }

    @Children = ();

    stop_nginx($_) for keys %Nginx;
    stop($_) for keys %Started;
    remove_tree($Dir);
}

END {
    cleanup();
}

1;
