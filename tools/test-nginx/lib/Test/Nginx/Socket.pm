package Test::Nginx::Socket;

# fhirwall's own implementation of the Test::Nginx::Socket test format
# (openresty/test-nginx), for systems without that library (Debian has no
# package of it).  It runs the same t/*.t files:
#
#     use Test::Nginx::Socket 'no_plan';    # or: plan tests => ...
#     repeat_each(2); no_shuffle(); ...
#     run_tests();
#     __DATA__
#     === TEST 1: title
#     --- config
#     --- request
#     ...
#
# Blocks are parsed by Test::Base (we are a Test::Base subclass, so the
# .t files get Test::Base's and Test::More's exports too).  For each block
# we (re)start nginx with a generated nginx.conf in a fresh server root,
# send the request(s) over plain sockets and check the response and the
# error log, emitting the same tests, with the same names, as the real
# library, so "plan tests => repeat_each() * N * blocks()" counts match.
#
# Differences from the real library (on purpose):
#   - a section name the real library does not know fails the block
#     (unless a block preprocessor reads it: a project-specific section);
#     one it knows but we do not implement fails the block too;
#   - an [alert], [crit] or [emerg] line in the error log fails the block
#     (the real library only warns) unless the block's error_log,
#     no_error_log or grep_error_log(_out) mentions that level, or an
#     error_log pattern matches the line; [emerg] is expected in must_die
#     blocks;
#   - under TEST_NGINX_USE_VALGRIND, memcheck errors fail the block;
#   - nginx dying during a block, or not starting, fails the block (the
#     real library aborts the run when nginx does not start);
#   - $TEST_NGINX_* is also expanded in request and more_headers;
#   - a keep-alive request (more_headers "Connection: keep-alive") stops
#     reading once its response is complete instead of timing out.
# See tools/test-nginx/README.md for what is supported.
# Extra tests are only emitted on failure, so a passing file has the same
# test count as under the real library.

use strict;
use warnings;

use Test::Base -base;    # lower-case: subclass without source filtering

use Test::More ();
use Test::LongString ();
use File::Spec ();
use File::Path qw(make_path remove_tree);
use List::Util qw(shuffle);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);
use POSIX ();
use IO::Socket::INET ();

use Test::Nginx::Compat::HTTP qw(build_request parse_more_headers exchange
                                 parse_response);
use Test::Nginx::Compat::Process qw(run_captured read_pid_file is_running
                                    stop_process child_commands
                                    become_subreaper exit_status);

our $VERSION = '0.1';

our @EXPORT = qw(
    plan run_tests run_test repeat_each no_shuffle log_level workers
    master_on master_off master_process_enabled no_long_string
    no_root_location add_block_preprocessor env_to_nginx html_dir
    server_port server_port_for_client server_root server_addr server_name
    timeout config_preamble worker_connections use_hup bail_out
    add_cleanup_handler add_test_cleanup_handler is_str
);

# ---------------------------------------------------------------------------
# Settings (environment first, then the prologue functions below)
# ---------------------------------------------------------------------------

our $NginxBinary   = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $ServerPort    = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                     || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $ServerAddr    = '127.0.0.1';
our $ServerName    = 'localhost';
our $Timeout       = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $LogLevel      = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $Workers       = 1;
our $WorkerConnections = 64;
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $NoShuffle     = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $RepeatEach    = 1;
our $NoRootLocation = 0;
our $NoLongString  = 0;
our $UseValgrind   = $ENV{TEST_NGINX_USE_VALGRIND};
our $UseHup        = $ENV{TEST_NGINX_USE_HUP};
our $LoadModules   = $ENV{TEST_NGINX_LOAD_MODULES};
our $EventType     = $ENV{TEST_NGINX_EVENT_TYPE};
our $Sleep         = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ConfigPreamble = '';

our $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT}
                                    || 't/servroot');
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
our $HtmlDir    = $ENV{TEST_NGINX_HTML_DIR}
                  ? File::Spec->rel2abs($ENV{TEST_NGINX_HTML_DIR})
                  : "$ServRoot/html";
our $LogDir     = "$ServRoot/logs";
our $ConfDir    = "$ServRoot/conf";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $PidFile    = "$LogDir/nginx.pid";
our $ConfFile   = "$ConfDir/nginx.conf";
our $StderrFile = "$LogDir/nginx.stderr";
our $ValgrindLog = "$LogDir/valgrind.log";

# nginx's own never-freed allocations (tools/test-nginx/)
our $DefaultSuppressions = File::Spec->rel2abs(
    File::Spec->catfile((File::Spec->splitpath(__FILE__))[1],
                        qw(.. .. .. valgrind-nginx.suppress)));

our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers,
     @TestCleanupHandlers);

# ---------------------------------------------------------------------------
# Prologue functions
# ---------------------------------------------------------------------------

sub repeat_each {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub no_shuffle       { $NoShuffle = 1 }
sub no_long_string   { $NoLongString = 1 }
sub no_root_location { $NoRootLocation = 1 }
sub master_on        { $MasterProcessEnabled = 'on' }
sub master_off       { $MasterProcessEnabled = 'off' }
sub use_hup          { $UseHup = 1 }

sub master_process_enabled {
    $MasterProcessEnabled = $_[0] ? 'on' : 'off' if @_;
    return $MasterProcessEnabled;
}

sub log_level          { $LogLevel = shift if @_;          $LogLevel }
sub workers            { $Workers = shift if @_;           $Workers }
sub worker_connections { $WorkerConnections = shift if @_; $WorkerConnections }
sub timeout            { $Timeout = shift if @_;           $Timeout }
sub server_port        { $ServerPort = shift if @_;        $ServerPort }
sub server_port_for_client {
    $ServerPortForClient = shift if @_;
    $ServerPortForClient;
}
sub server_addr        { $ServerAddr = shift if @_;        $ServerAddr }
sub server_name        { $ServerName = shift if @_;        $ServerName }
sub config_preamble    { $ConfigPreamble = shift }
sub html_dir           { $HtmlDir }
sub server_root        { $ServRoot }

sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler        { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler   { unshift @TestCleanupHandlers, shift }

sub env_to_nginx {
    Carp::croak("env_to_nginx: no arguments specified") unless @_;
    for my $v (@_) {
        Carp::croak("env_to_nginx: bad argument value: $v")
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub is_str {
    my ($got, $expected, $desc) = @_;
    return ref $expected && ref $expected eq 'Regexp'
        ? Test::More::like($got, $expected, $desc)
        : Test::More::is($got, $expected, $desc);
}

# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------

# Sections this runner implements.
my %Supported = map { $_ => 1 } qw(
    main_config post_main_config http_config config server_name log_level
    request raw_request more_headers pipelined_requests
    raw_request_middle_delay shutdown abort ignore_response
    error_code error_code_like
    response_body response_body_like response_body_unlike
    response_headers response_headers_like
    raw_response_headers_like raw_response_headers_unlike
    error_log no_error_log grep_error_log grep_error_log_out
    shutdown_error_log no_shutdown_error_log
    must_die timeout wait user_files init post_setup_server_root
    suppress_stderr skip_nginx
    ONLY LAST SKIP
);

# Markers for test modes this runner has not (leak checking, HTTP/2 and
# HTTP/3 modes): accepted, and they change nothing, as in the real
# library's default mode.
$Supported{$_} = 1 for qw(no_check_leak no_http2 no_http3);

# Sections the real library knows and this runner does not implement:
# a block using one fails instead of silently passing.
my %Unsupported = map { $_ => 1 } qw(
    curl curl_error curl_options curl_protocol http2 http3 http09 quic_max_idle_timeout stap stap_out
    stap_out_like stap_out_unlike tcp_listen tcp_reply tcp_query
    tcp_query_len tcp_shutdown tcp_shutdown_delay tcp_reply_delay
    tcp_no_close tcp_query_auto_timeout udp_listen udp_reply udp_query
    udp_reply_delay skip_nginx2 skip_openssl skip_eval skip_slave todo
    todo_nginx charset response_body_json_sort response_body_filters
    write_resp_body_file access_log no_access_log request_eval
    response_body_eval reload_fails server_addr_for_client no_mockeagain
    error_log_file stap_out_file
);

# Keys of a Test::Base::Block that are not sections.
my %BlockInternal = map { $_ => 1 } qw(
    name description seq_num is_filtered blocks_object original_values
    _section_map _section_order
);

# Sections of $block that are neither ours nor internal keys.
sub _foreign_sections {
    my ($block) = @_;
    return grep { !$BlockInternal{$_} && !$Supported{$_} } sort keys %$block;
}

# Runs the block preprocessors.  A section unknown to us that a
# preprocessor reads (e.g. a project-specific "--- jwt_claims" turned into
# more_headers) is the preprocessor's business, not an error: returns the
# names of the sections read.
sub _run_preprocessors {
    my ($block) = @_;
    my %read;
    my @watch = grep { !$Unsupported{$_} } _foreign_sections($block);
    my %saved;
    {
        no strict 'refs';
        no warnings 'redefine';
        for my $sec (@watch) {
            my $orig = defined &{"Test::Base::Block::$sec"}
                ? \&{"Test::Base::Block::$sec"} : undef;
            next unless $orig;
            $saved{$sec} = $orig;
            *{"Test::Base::Block::$sec"} = sub {
                $read{$sec} = 1;
                goto &$orig;
            };
        }
    }
    my $ok = eval { $_->($block) for @BlockPreprocessors; 1 };
    my $err = $@;
    {
        no strict 'refs';
        no warnings 'redefine';
        *{"Test::Base::Block::$_"} = $saved{$_} for keys %saved;
    }
    die $err unless $ok;
    return \%read;
}

sub _check_sections {
    my ($block, $read) = @_;
    my @errors;
    for my $sec (_foreign_sections($block)) {
        next if $read->{$sec};
        push @errors, $Unsupported{$sec}
            ? "section '--- $sec' is not supported by fhirwall's runner"
            : "unknown section '--- $sec'";
    }
    return @errors;
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

our ($NginxPid, $ChildPid, $NginxStarted, $LogPos, $RandPorts, $PrevBlock);
our $KeepForNext = 0;
our $ConfigVersion = '';    # TEST_NGINX_USE_HUP
our $NginxVersion;

sub bail_out {
    _cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# Expands $TEST_NGINX_FOO in a string (or in the strings of an array);
# an unset variable aborts the run, as with the real library.
sub _expand_env {
    my ($text, $name) = @_;
    return $text unless defined $text;
    if (ref $text eq 'ARRAY') {
        return [ map { _expand_env($_, $name) } @$text ];
    }
    return $text if ref $text;
    $text =~ s/\$(TEST_NGINX_[_A-Z0-9]+)/_env_value($1, $name)/ge;
    return $text;
}

sub _env_value {
    my ($var, $name) = @_;
    if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
        return $RandPorts->{$var} //= _free_port();
    }
    bail_out("$name - No environment $var defined.\n")
        unless defined $ENV{$var};
    return $ENV{$var};
}

# A TCP port nobody listens on right now (for $TEST_NGINX_RAND_PORT_N).
sub _free_port {
    my %used = ($ServerPort => 1, map { $_ => 1 } values %$RandPorts);
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => 0, ReuseAddr => 1)
            or next;
        my $port = $s->sockport;
        close $s;
        return $port unless $used{$port};
    }
    bail_out("Cannot find an available listening port number.\n");
}

sub _nginx_version {
    my $out = `$NginxBinary -V 2>&1`;
    bail_out("Failed to run \"$NginxBinary -V\": $out")
        if !defined $out || $? != 0;
    return ($out, sprintf "%d.%03d%03d", $1, $2, $3)
        if $out =~ m{/(\d+)\.(\d+)\.(\d+)};
    bail_out("Failed to parse the output of \"$NginxBinary -V\": $out\n");
}

sub _slurp {
    my ($file) = @_;
    open my $in, '<', $file or return undef;
    binmode $in;
    local $/;
    my $data = <$in>;
    close $in;
    return $data;
}

sub _spew {
    my ($file, $data) = @_;
    open my $out, '>', $file or bail_out("Can't open $file for writing: $!\n");
    binmode $out;
    print $out $data;
    close $out;
}

# Lines of the error log written since the last call (the position is
# reset when nginx is restarted or a block starts).
sub _error_log_lines {
    sleep $Sleep * 3;    # let nginx finish its log phase
    open my $in, '<', $ErrLogFile or return [];
    seek $in, $LogPos, 0 if $LogPos;
    my @lines = <$in>;
    $LogPos = tell $in;
    close $in;
    return \@lines;
}

sub _fmt {
    my ($s) = @_;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub _matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

# Does a section value (string, qr// or array of them) mention $needle?
sub _value_contains {
    my ($val, $needle) = @_;
    return 0 unless defined $val;
    if (ref $val eq 'ARRAY') {
        for (@$val) { return 1 if _value_contains($_, $needle) }
        return 0;
    }
    return index("$val", $needle) >= 0 ? 1 : 0;
}

# Error log patterns as a list: one per line of a string, or qr//s.
sub _patterns {
    my ($val) = @_;
    return () unless defined $val;
    return ($val) if ref $val eq 'Regexp';
    return @$val if ref $val eq 'ARRAY';
    chomp(my $s = $val);
    return split /\n+/, $s;
}

# Picks the value for request $idx when a section holds an array.
sub _indexed {
    my ($name, $val, $idx, $need_array) = @_;
    if (ref $val eq 'ARRAY') {
        return $val->[$idx] if $need_array || $idx == 0;
    } elsif ($need_array) {
        bail_out("$name - You asked for many requests, the expected results"
                 . " should be arrays as well.");
    }
    return $val;
}

sub _parse_expected_headers {
    my ($text) = @_;
    my @headers;
    for my $line (split /\n/, $text // '') {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        if ($line =~ s/^!\s*//) {
            push @headers, [$line, undef];
        } else {
            my ($key, $val) = split /\s*:\s*/, $line, 2;
            push @headers, [$key, $val];
        }
    }
    return @headers;
}

# ---------------------------------------------------------------------------
# Server root, config, nginx process
# ---------------------------------------------------------------------------

# Fresh conf/, html/ and logs/ (and no caches nor temp files) for a
# block.  With $reloading (nginx keeps running), only conf/ and html/.
sub _setup_server_root {
    my ($reloading) = @_;
    if ($reloading) {
        remove_tree($ConfDir, "$ServRoot/html");
    } elsif (-d $ServRoot) {
        remove_tree($ConfDir, $LogDir, "$ServRoot/html", "$ServRoot/cache",
                    glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"));
    }
    # a TEST_NGINX_HTML_DIR outside the server root is never wiped
    remove_tree($HtmlDir) if index($HtmlDir, "$ServRoot/") == 0;
    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        make_path($dir) or bail_out("Failed to do mkdir $dir\n");
    }
    _spew("$HtmlDir/index.html",
          '<html><head><title>It works!</title></head>'
          . '<body>It works!</body></html>');
}

# "--- user_files": ">>> name [mtime]" headers, then the file contents;
# relative names are under the html dir; mtime is for "touch -t".
sub _write_user_files {
    my ($block) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        for my $line (split /^/, $files) {
            if ($line =~ />>> (\S+)(?:\s+(.+))?/) {
                push @list, [$1, undef, $2];
            } elsif (@list) {
                $list[-1][1] .= $line;
            }
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: ", ref $files,
                 ", only scalar or ARRAY are accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }
        _spew($path, _expand_env($body // '', $name));
        if ($date) {
            chomp $date;
            local $ENV{TZ} = 'GMT';
            my $rc = system('touch', '-t', $date, $path);
            bail_out("$name - Failed to set the mtime of $path to $date\n")
                if $rc != 0;
        }
    }
}

sub _write_config {
    my ($block, $config, $nginx_v) = @_;
    my $name = $block->name;

    my $http_config = _expand_env($block->http_config // '', $name);
    my $main_config = _expand_env($block->main_config // '', $name);
    my $post_main   = _expand_env($block->post_main_config // '', $name);
    my $level       = $block->log_level || $LogLevel;
    my $server_name = $block->server_name // $ServerName;
    $server_name =~ s/\\/\\\\/g;
    $server_name =~ s/'/\\'/g;

    my $daemon = $UseValgrind ? 'off' : 'on';
    my $master = $UseHup ? 'on' : $MasterProcessEnabled;

    my $conf = '';
    for my $so (grep { length } split /\s+/, $LoadModules // '') {
        $conf .= "load_module $so;\n";
    }

    $conf .= <<"EOC";
worker_processes  $Workers;
daemon $daemon;
master_process $master;
error_log $ErrLogFile $level;
pid       $PidFile;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env ASAN_OPTIONS;
env UBSAN_OPTIONS;
EOC
    for my $v (@EnvToNginx) {
        $conf .= $v =~ /\s/ ? "env '$v';\n" : "env $v;\n";
    }

    # temp paths inside the server root, as the real library does
    my @temp;
    push @temp, "client_body_temp_path $ServRoot/client_body_temp;"
        unless $http_config =~ /\bclient_body_temp_path\b/;
    push @temp, "proxy_temp_path $ServRoot/proxy_temp;"
        unless $http_config =~ /\bproxy_temp_path\b/;
    for my $m (qw(fastcgi scgi uwsgi)) {
        push @temp, "${m}_temp_path $ServRoot/${m}_temp;"
            unless $nginx_v =~ /--without-http_${m}_module/;
    }

    my $root_location = $NoRootLocation ? '' : <<"EOC";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
EOC

    my $user = $> == 0 ? "user root;\n" : '';

    # TEST_NGINX_USE_HUP: tells which config version is running
    my $ver_server = !$UseHup ? '' : <<"EOC";
    server {
        listen          $ServerPort;
        server_name     'Test-Nginx';
        location = /ver { return 200 '$ConfigVersion'; }
    }
EOC
    my $use_event = $EventType ? "    use $EventType;\n" : '';

    $conf .= <<"EOC";

$main_config

http {
    access_log $AccLogFile; @temp
    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config
    server {
        listen          $ServerPort;
        server_name     '$server_name';
        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
$ver_server}

$post_main

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
$use_event}
$user
EOC
    _spew($ConfFile, $conf);
}

# The nginx command line (as a list, no shell).
sub _nginx_cmd {
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    push @cmd, '-e', $ErrLogFile
        if defined $NginxVersion && $NginxVersion >= 1.019005;
    if ($UseValgrind) {
        my @vg = ('valgrind', '-q', '--num-callers=100', '--tool=memcheck',
                  '--keep-debuginfo=yes',
                  '--leak-check=full', '--show-possibly-lost=no',
                  '--gen-suppressions=all', "--log-file=$ValgrindLog");
        push @vg, "--suppressions=$DefaultSuppressions"
            if ($ENV{TEST_NGINX_VALGRIND_DEFAULT_SUPPRESS} // 1)
               && -f $DefaultSuppressions;
        push @vg, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';
        @cmd = (@vg, @cmd);
    }
    return @cmd;
}

# Stops the nginx we started (if any); checks the previous block's
# shutdown_error_log and valgrind output once it is gone.
sub _stop_nginx {
    my ($block) = @_;
    my $pid = $ChildPid // ($NginxPid // read_pid_file($PidFile));
    if ($pid) {
        my $forced = stop_process($pid, $Timeout + ($UseValgrind ? 10 : 0),
                                  $ConfFile);
        Test::More::diag("nginx $pid did not quit in time; killed it")
            if $forced;
    }
    undef $NginxPid;
    undef $ChildPid;
    if ($block) {
        _check_shutdown_error_log($block);
        _check_valgrind($block);
    }
}

sub _check_valgrind {
    my ($block) = @_;
    return unless $UseValgrind;
    my $out = _slurp($ValgrindLog);
    unlink $ValgrindLog;
    return unless defined $out && $out =~ /\S/;
    Test::More::fail($block->name . " - valgrind reported errors");
    Test::More::diag($out);
}

# Starts nginx for $block; returns undef on success, else an error text.
sub _start_nginx {
    my ($block) = @_;
    my @cmd = _nginx_cmd();
    my $deadline = time() + 5;

    if ($UseValgrind) {
        # foreground (daemon off) child, so that valgrind sees it all
        my $pid = fork;
        bail_out("fork failed: $!") unless defined $pid;
        if ($pid == 0) {
            Test::More->builder->no_ending(1);
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            open STDERR, '>', $StderrFile;
            exec { $cmd[0] } @cmd or POSIX::_exit(127);
        }
        $ChildPid = $NginxPid = $pid;

        # valgrind is slow to start: wait until nginx listens or dies
        my $until = time() + 30;
        while (time() < $until) {
            if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
                undef $ChildPid;
                undef $NginxPid;
                my $err = _slurp($StderrFile) // '';
                $err .= _slurp($ValgrindLog) // '';
                $err =~ s/\s+$//;
                return "nginx failed to start under valgrind (status "
                       . ($? >> 8) . "): $err";
            }
            my $s = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                          PeerPort => $ServerPortForClient,
                                          Proto => 'tcp', Timeout => 1);
            if ($s) {
                close $s;
                return undef;
            }
            sleep 0.1;
        }
        return "nginx did not listen within 30 s under valgrind";
    }

    while (1) {
        my $status = run_captured($StderrFile, @cmd);
        if ($status == 0) {
            # daemonised: the pid file is written before the parent exits
            $NginxPid = read_pid_file($PidFile);
            return undef;
        }
        my $err = _slurp($StderrFile) // '';
        # the port may still be held by a nginx that is going away
        if ($err =~ /Address already in use/ && time() < $deadline) {
            sleep 0.1;
            next;
        }
        $err =~ s/\s+$//;
        return "nginx failed to start (status " . ($status >> 8)
               . "): " . ($err eq '' ? '(no output)' : $err);
    }
}

sub _cleanup {
    $_->() for @CleanupHandlers;
    _stop_nginx($PrevBlock) if $NginxStarted;
    $NginxStarted = 0;
}

# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

sub _check_error_log {
    my ($block, $rep_idx, $extra_lines) = @_;
    my $name = $block->name;
    my $lines = _error_log_lines();
    push @$lines, @$extra_lines if $extra_lines;

    # grep_error_log + grep_error_log_out
    my $grep = $block->grep_error_log;
    $grep = $grep->[$rep_idx] if ref $grep eq 'ARRAY';
    if (defined $grep) {
        my $expected = _expand_env(scalar $block->grep_error_log_out, $name);
        bail_out("$name - No --- grep_error_log_out defined but --- "
                 . "grep_error_log is defined") unless defined $expected;
        $expected = $expected->[$rep_idx] if ref $expected eq 'ARRAY';
        my $got = '';
        for my $line (@$lines) {
            my $m;
            if (ref $grep) {
                $m = $& if $line =~ $grep;
            } elsif (index($line, $grep) >= 0) {
                $m = $grep;
            }
            $got .= "$m\n" if defined $m && $m !~ /\n/;
        }
        my $desc = "$name - grep_error_log_out (req $rep_idx)";
        if (ref $expected eq 'Regexp') {
            Test::More::like($got, $expected, $desc);
        } elsif ($NoLongString) {
            Test::More::is($got, $expected, $desc);
        } else {
            Test::LongString::is_string($got, $expected, $desc);
        }
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but --- "
                 . "grep_error_log_out is defined");
    }

    # error_log: every pattern must match some line
    my @expected_pats = _patterns(scalar $block->error_log);
    my %line_expected;
    if (defined $block->error_log) {
        my @pats = @expected_pats;
        for my $i (0 .. $#$lines) {
            for my $p (@pats) {
                next unless defined $p && _matches($lines->[$i], $p);
                Test::More::pass("$name - pattern \"$p\" matches a line in "
                                 . "error.log (req $rep_idx)");
                $line_expected{$i} = 1;
                undef $p;
            }
        }
        for my $p (grep { defined } @pats) {
            Test::More::fail("$name - pattern \"$p\" should match a line in "
                             . "error.log (req $rep_idx)");
        }
        # lines matched by any pattern are expected, even if matched later
        for my $i (0 .. $#$lines) {
            for my $p (@expected_pats) {
                $line_expected{$i} = 1 if _matches($lines->[$i], $p);
            }
        }
    }

    # no_error_log: no pattern may match any line
    if (defined $block->no_error_log) {
        for my $p (_patterns(scalar $block->no_error_log)) {
            my $hits = 0;
            for my $i (0 .. $#$lines) {
                next unless _matches($lines->[$i], $p);
                $hits++;
                my @more = @$lines[$i + 1 .. ($i + 9 < $#$lines ? $i + 9
                                                                : $#$lines)];
                Test::More::fail("$name - pattern \"" . _fmt($p)
                    . "\" should not match any line in error.log but matches"
                    . " line \"" . _fmt($lines->[$i]) . "\" (req $rep_idx)\n"
                    . join '', @more);
            }
            Test::More::pass("$name - pattern \"" . _fmt($p) . "\" does not "
                             . "match a line in error.log (req $rep_idx)")
                unless $hits;
        }
    }

    # [alert]/[crit]/[emerg] fail the block unless expected
    for my $level (qw(alert crit emerg)) {
        next if $level eq 'emerg' && defined $block->must_die;
        next if grep { _value_contains(scalar $block->$_, "[$level") }
                qw(error_log no_error_log grep_error_log grep_error_log_out);
        for my $i (0 .. $#$lines) {
            next if $line_expected{$i} || $lines->[$i] !~ /\[$level\]/;
            Test::More::fail("$name - unexpected [$level] in error.log: \""
                             . _fmt($lines->[$i]) . "\" (req $rep_idx)");
        }
    }

    for my $line (@$lines) {
        next unless $line =~ /\bAssertion .*?failed\b/;
        chomp(my $l = $line);
        Test::More::fail("$name - $l");
    }
}

sub _check_shutdown_error_log {
    my ($block) = @_;
    return unless defined $block->shutdown_error_log
                  || defined $block->no_shutdown_error_log;
    my $name = $block->name;
    my $lines = _error_log_lines();

    my @pats = _patterns(scalar $block->shutdown_error_log);
    for my $line (@$lines) {
        for my $p (@pats) {
            next unless defined $p && _matches($line, $p);
            Test::More::pass("$name - pattern \"$p\" matches a line in "
                             . "error.log");
            undef $p;
        }
    }
    Test::More::fail("$name - pattern \"$_\" should match a line in "
                     . "error.log") for grep { defined } @pats;

    for my $p (_patterns(scalar $block->no_shutdown_error_log)) {
        my $hits = 0;
        for my $line (grep { _matches($_, $p) } @$lines) {
            $hits++;
            Test::More::fail("$name - pattern \"" . _fmt($p) . "\" should "
                . "not match any line in error.log but matches line \""
                . _fmt($line) . "\"");
        }
        Test::More::pass("$name - pattern \"" . _fmt($p) . "\" does not "
                         . "match a line in error.log") unless $hits;
    }
}

sub _check_status {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';
    if (defined $block->error_code_like) {
        my $pat = _indexed($name, $block->error_code_like, $idx, $need_array);
        Test::More::like($got, qr/$pat/sm, "$name - status code ok");
    } else {
        my $want = defined $block->error_code
            ? _indexed($name, $block->error_code, $idx, $need_array) : 200;
        Test::More::is($got, $want, "$name - status code ok");
    }
}

sub _check_headers {
    my ($block, $res, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->raw_response_headers_like) {
        my $pat = _indexed($name, $block->raw_response_headers_like, $idx,
                           $need_array);
        Test::More::like($raw_headers, qr/$pat/s,
                         "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $pat = _indexed($name, $block->raw_response_headers_unlike, $idx,
                           $need_array);
        Test::More::unlike($raw_headers, qr/$pat/s,
                           "$name - raw resp headers unlike");
    }

    if (defined $block->response_headers) {
        my $spec = _indexed($name, $block->response_headers, $idx,
                            $need_array);
        for my $h (_parse_expected_headers($spec)) {
            my ($key, $val) = @$h;
            if (!defined $val) {    # "!Name": must be absent
                Test::More::unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                    "$name - header $key not present in the raw headers");
                next;
            }
            # "Name:" (empty value): absent or empty
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $got = $res ? $res->header($key) : undef;
            Test::More::is($got // '', $val, "$name - header $key ok");
        }
    } elsif (defined $block->response_headers_like) {
        my $spec = _indexed($name, $block->response_headers_like, $idx,
                            $need_array);
        for my $h (_parse_expected_headers($spec)) {
            my ($key, $val) = @$h;
            my $got = $res ? $res->header($key) : undef;
            Test::More::like($got // '', qr/^$val$/,
                             "$name - header $key like ok");
        }
    }
}

sub _check_body {
    my ($block, $res, $idx, $rep_idx, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body) {
        my $want = _indexed($name, $block->response_body, $idx, $need_array);
        if (defined $want && !ref $want) {
            $want =~ s/\$ServerPort\b/$ServerPort/g;
            $want =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $want = _expand_env($want, $name);
        }
        my $desc = "$name - response_body - response is expected "
                   . "(repeated req $rep_idx, req $idx)";
        if (ref $want) {
            Test::More::like($content, $want, "$name - response_body - like "
                             . "(repeated req $rep_idx, req $idx)");
        } elsif ($NoLongString) {
            Test::More::is($content, $want, $desc);
        } else {
            Test::LongString::is_string($content, $want, $desc);
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $like = defined $block->response_body_like;
        my $type = $like ? 'like' : 'unlike';
        my $pat = _indexed($name, $like ? $block->response_body_like
                                        : $block->response_body_unlike,
                           $idx, $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        (my $summary = $content // '') =~ s/^\s+|\s+$//g;
        $summary = substr($summary, 0, 200) . '...' if length $summary > 200;
        my $desc = "$name - response_body_$type - response is expected "
                   . "($summary)";
        if ($like) {
            Test::More::like($content, qr/$pat/s, $desc);
        } else {
            Test::More::unlike($content, qr/$pat/s, $desc);
        }
    }
}

# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

# The connections of a block: a list of { packets => [...], n => number
# of responses expected, head => HEAD request, keepalive => bool }.
sub _connections {
    my ($block) = @_;
    my $name = $block->name;
    my @conns;

    if (defined $block->raw_request) {
        my $raw = _expand_env(scalar $block->raw_request, $name);
        my @packets = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        my $all = join '', @packets;
        return ({ packets => [ map { { value => $_ } } @packets ], n => 1,
                  head => $all =~ /^\s*HEAD\s/ ? 1 : 0 });
    }

    my $more = _expand_env($block->more_headers // '', $name);
    my $hdrs_for = sub {
        my ($i, $what) = @_;
        my $h = $more;
        if (ref $more eq 'ARRAY') {
            $h = $more->[$i];
            bail_out("--- more_headers lacks data for the $what") unless
                defined $h;
        }
        return parse_more_headers($h);
    };
    my $build = sub {
        my ($text, $hdr, $chunked, $conn) = @_;
        my $req = eval { build_request($text, $hdr, $chunked, $conn,
                                       $ServerName) };
        bail_out("$name - $@") if $@;
        return $req;
    };

    if (my $reqs = $block->pipelined_requests) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $reqs eq 'ARRAY';
        my $data = '';
        for my $i (0 .. $#$reqs) {
            my ($hdr, $chunked) = $hdrs_for->($i, "$i pipelined request");
            $data .= $build->(_expand_env($reqs->[$i], $name), $hdr, $chunked,
                              $i == $#$reqs ? 'close' : 'keep-alive');
        }
        return ({ packets => [{ value => $data }], n => scalar @$reqs,
                  pipelined => 1 });
    }

    my $request = _expand_env(scalar $block->request, $name);
    bail_out("$name - request empty") unless defined $request;
    my @list = ref $request eq 'ARRAY' ? @$request : ($request);
    bail_out("$name - invalid --- request: MUST be string or array of "
             . "requests") if ref $request && ref $request ne 'ARRAY';

    for my $i (0 .. $#list) {
        my ($hdr, $chunked) = $hdrs_for->($i, "${i}th request");
        my $one = $list[$i];
        my $keepalive = $hdr =~ /(?:^|\n)Connection:\s*keep-alive/i;
        if (!ref $one) {
            my $req = $build->($one, $hdr, $chunked, 'close');
            push @conns, { packets => [{ value => $req }], n => 1,
                           head => $req =~ /^HEAD\s/ ? 1 : 0,
                           keepalive => $keepalive };
        } elsif (ref $one eq 'ARRAY') {
            # one request sent as several packets (strings or
            # {value => ..., delay_before => secs}); the generated
            # headers go into the first packet, the other packets keep
            # their sizes (counted from the end of the request)
            my @pk = map {
                ref $_ eq 'HASH' ? {%$_} : ref $_
                    ? bail_out("$name - Invalid syntax. $_ should be a "
                               . "string or hash with value.")
                    : { value => $_ }
            } @$one;
            my $req = $build->(join('', map { $_->{value} } @pk), $hdr,
                               $chunked, 'close');
            my $end = length $req;
            for my $p (reverse @pk[1 .. $#pk]) {
                my $len = length $p->{value};
                $len = $end if $len > $end;
                $p->{value} = substr $req, $end - $len, $len;
                $end -= $len;
            }
            $pk[0]{value} = substr $req, 0, $end;
            push @conns, { packets => \@pk, n => 1,
                           head => $req =~ /^HEAD\s/ ? 1 : 0,
                           keepalive => $keepalive };
        } else {
            bail_out("$name - Invalid syntax. $one should be a string or an "
                     . "array of packets.");
        }
    }
    return @conns;
}

# Sends the block's requests once (repetition $rep_idx) and checks them.
sub _run_requests {
    my ($block, $rep_idx) = @_;
    my $name = $block->name;
    my $timeout = $block->timeout;
    $timeout = _parse_time($timeout) // $Timeout;
    my @conns = _connections($block);
    my $need_array = @conns > 1 || $block->pipelined_requests ? 1 : 0;
    my $req_idx = 0;

    for my $c (0 .. $#conns) {
        my $conn = $conns[$c];
        my $r = exchange(
            addr => $ServerAddr, port => $ServerPortForClient,
            packets => $conn->{packets},
            middle_delay => _parse_time(scalar $block->raw_request_middle_delay),
            timeout => $timeout,
            connect_timeout => $Timeout + ($UseValgrind ? 20 : 0),
            shutdown => defined $block->shutdown
                ? ($block->shutdown =~ /^\s*$/ ? 1 : $block->shutdown)
                : undef,
            expect => $conn->{keepalive} ? $conn->{n} : undef,
            head => $conn->{head},
        );

        if (defined $r->{connect_error}) {
            Test::More::fail("$name - Can't connect to $ServerAddr:"
                . "$ServerPortForClient: $r->{connect_error} (aborted)\n");
        }
        if ($r->{timed_out} && !defined $block->abort) {
            Test::More::fail("ERROR: client socket timed out - $name\n");
        }
        Test::More::diag("$name - write failed: $r->{write_error}")
            if $r->{write_error} && $r->{resp} eq '';

        my $raw = $r->{resp};
        for my $k (1 .. $conn->{n}) {
            my ($res, $raw_headers) = (undef, '');
            if (!defined $block->ignore_response) {
                my $p = parse_response($raw // '', $conn->{head});
                if ($p->{error}) {
                    Test::More::fail("$name - $p->{error}");
                }
                ($res, $raw_headers) = ($p->{res}, $p->{raw_headers});
                Test::More::diag("WARNING: $name - response body truncated: "
                                 . "$p->{truncated}[0] expected, but got "
                                 . "$p->{truncated}[1]")
                    if $p->{truncated};
                if ($k < $conn->{n}) {
                    $raw = $p->{left};
                } elsif (defined $p->{left} && !$conn->{pipelined}) {
                    (my $l = $p->{left}) =~
                        s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                    Test::More::diag("WARNING: $name - unexpected extra bytes"
                                     . " after the response: \"$l\"");
                }

                _check_status($block, $res, $req_idx, $need_array);
                _check_headers($block, $res, $raw_headers, $req_idx,
                               $need_array);
                _check_body($block, $res, $req_idx, $rep_idx, $need_array);
            }

            my $last = $c == $#conns && $k == $conn->{n};
            if (!$last) {
                # as the real library: the error log is checked after
                # every request of an array, each time on the new lines
                sleep $block->wait if $block->wait;
                _check_error_log($block, $rep_idx);
            }
            $req_idx++;
        }
    }

    sleep $block->wait if $block->wait;
    _check_error_log($block, $rep_idx);
}

sub _parse_time {
    my ($t) = @_;
    return undef unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $t =~ /^(\d+(?:\.\d*)?)ms$/;
    return $1 if $t =~ /^(\d+(?:\.\d*)?)s?$/;
    return undef;
}

# ---------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------

my $NginxV;

sub run_tests {
    ($NginxV, $NginxVersion) = _nginx_version();
    become_subreaper();    # reap our daemonised nginx, see how it ended
    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort
        unless defined $ENV{TEST_NGINX_SERVER_PORT};

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;

    for my $i (0 .. $#blocks) {
        my $block = $blocks[$i];
        my $read = _run_preprocessors($block);
        $block->set_value(name => "$0 " . $block->name);
        # under valgrind nginx stops after each block, except before a
        # block without config: that one goes on with this nginx
        $KeepForNext = $i < $#blocks && !defined $blocks[$i + 1]->config;
        run_test($block, $read);
        $_->($block) for @TestCleanupHandlers;
        $PrevBlock = $block;
    }
    _cleanup();
}

sub run_test {
    my ($block, $read_by_preprocessors) = @_;
    my $name = $block->name;
    return if defined $block->SKIP;

    if (my @errors = _check_sections($block, $read_by_preprocessors || {})) {
        Test::More::fail("$name - $_") for @errors;
        return;
    }

    # "--- skip_nginx": as the real library, nginx is not even started
    # and the given number of tests is skipped in every repetition
    my ($tests_to_skip, $skip_reason) = _skip_count($block);
    if (defined $tests_to_skip) {
        for (1 .. $RepeatEach) {
            SKIP: { Test::More::skip("$name - $skip_reason", $tests_to_skip) }
        }
        return;
    }

    $RandPorts = {};
    my $config = _expand_env(scalar $block->config, $name);

    if (!defined $config) {
        # no config: keep the nginx of the previous block, as the real
        # library does; only this block's new log lines are checked
        bail_out("$name - No '--- config' section specified and could not "
                 . "get previous one.") unless $NginxStarted;
        $LogPos = -s $ErrLogFile // 0;
    } else {
        return if _restart_nginx($block, $config);
        $LogPos = 0;
    }

    if (defined $block->init) {
        eval $block->init;
        bail_out("$name - init failed: $@") if $@;
    }

    for my $i (0 .. $RepeatEach - 1) {
        _write_user_files($block) if $i > 0;
        _run_requests($block, $i);
    }

    # nginx must still be there (a crashed single-process nginx leaves no
    # trace in its log)
    if ($NginxPid && !is_running($NginxPid)) {
        Test::More::fail("$name - the nginx process $NginxPid is gone ("
                         . (exit_status($NginxPid) // 'crashed?') . ")");
        $NginxStarted = 0;
        undef $NginxPid;
        undef $ChildPid;
    }

    if ($UseValgrind && !$KeepForNext) {
        # stop now so that memcheck reports this block's errors (those
        # of a run of blocks sharing one nginx: at its last block)
        _stop_nginx($block);
        $NginxStarted = 0;
    }
}

# "--- skip_nginx: N: <op> x.y.z [: reason]": returns (N, reason) when
# the running nginx's version matches, else an empty list.
sub _skip_count {
    my ($block) = @_;
    my $spec = $block->skip_nginx;
    return () unless defined $spec;
    $spec =~ m{^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
               (?:\s*:\s*(.*?))?\s*$}x
        or bail_out($block->name . " - Invalid --- skip_nginx spec: $spec");
    my ($n, $op, $ver) = ($1, $2, sprintf("%d.%03d%03d", $3, $4, $5));
    my $reason = $6 || "nginx version $op $3.$4.$5";
    my %cmp = ('<'  => sub { $_[0] <  $_[1] }, '<=' => sub { $_[0] <= $_[1] },
               '>'  => sub { $_[0] >  $_[1] }, '>=' => sub { $_[0] >= $_[1] });
    return $cmp{$op}->($NginxVersion, $ver) ? ($n, $reason) : ();
}

# Stops the previous nginx, prepares the server root and starts nginx for
# $block (or, for must_die, checks that it fails to start).  Returns true
# when the block is finished (must_die, or nginx did not start).
sub _restart_nginx {
    my ($block, $config) = @_;
    my $name = $block->name;

    return 0 if _reload_nginx($block, $config);

    _stop_nginx($PrevBlock) if $NginxStarted;
    $NginxStarted = 0;

    # a stale nginx of ours from an aborted run still holds the port
    if (my $old = read_pid_file($PidFile)) {
        stop_process($old, $Timeout, $ConfFile);
    }

    _setup_server_root();
    if (defined $block->post_setup_server_root) {
        eval $block->post_setup_server_root;
        bail_out("$name - post_setup_server_root failed: $@") if $@;
    }
    _write_user_files($block);
    _write_config($block, $config, $NginxV);

    if (defined $block->must_die) {
        _run_must_die($block);
        return 1;
    }

    my $err = _start_nginx($block);
    if ($err) {
        Test::More::fail("$name - $err");
        $LogPos = 0;
        _check_error_log($block, 0);
        return 1;
    }
    $NginxStarted = 1;
    return 0;
}

# TEST_NGINX_USE_HUP: instead of a restart, rewrite the config and the
# files and send SIGHUP to the running master; the new config answers
# its version on "GET /ver" with "Host: Test-Nginx".  Returns true when
# nginx now runs the block's config (else the caller restarts nginx).

sub _reload_nginx {
    my ($block, $config) = @_;
    return 0 unless $UseHup && !$UseValgrind && $NginxStarted
                    && !defined $block->must_die
                    && is_running($NginxPid);

    # the previous block's shutdown logs are not checked in this mode
    # (nginx does not shut down), as with the real library
    if (my $prev = $PrevBlock) {
        my @pats = (_patterns(scalar $prev->shutdown_error_log),
                    _patterns(scalar $prev->no_shutdown_error_log));
        SKIP: {
            Test::More::skip($prev->name . " - shutdown_error_log - tests "
                             . "skipped due to TEST_NGINX_USE_HUP",
                             scalar @pats) if @pats;
        }
    }

    $ConfigVersion = join '', map { ('a' .. 'z')[rand 26] } 1 .. 10;
    unlink $ErrLogFile;    # nginx opens a new one when reloading
    _setup_server_root('reloading');
    _write_user_files($block);
    _write_config($block, $config, $NginxV);

    kill 'HUP', $NginxPid or return 0;

    my $deadline = time() + $Timeout;
    while (time() < $deadline) {
        my $r = exchange(
            addr => $ServerAddr, port => $ServerPortForClient,
            packets => [{ value => "GET /ver HTTP/1.0\r\n"
                                   . "Host: Test-Nginx\r\n\r\n" }],
            timeout => 1, connect_timeout => 1,
        );
        my $p = parse_response($r->{resp}, 0);
        if ($p->{res} && ($p->{res}->code // 0) == 200
            && $p->{res}->content eq $ConfigVersion)
        {
            # the old workers may still accept connections until they
            # get their QUIT: wait until only the new ones are left
            while (time() < $deadline) {
                my @workers = grep { /worker process/ }
                              child_commands($NginxPid);
                return 1 if @workers <= $Workers
                            && !grep { /shutting down/ } @workers;
                sleep 0.02;
            }
            last;
        }
        sleep 0.05;
    }
    Test::More::diag($block->name . " - nginx did not reload its config "
                     . "(HUP); restarting it");
    return 0;
}

sub _run_must_die {
    my ($block) = @_;
    my $name = $block->name;
    my $want = $block->must_die;
    local $UseValgrind;    # as the real library: never under valgrind

    for my $i (0 .. $RepeatEach - 1) {
        $LogPos = 0;
        my $status = run_captured($StderrFile, _nginx_cmd());
        my $exit = $status == -1 ? undef : $status >> 8;
        my $core = $status != -1 && ($status & 128);

        if (!defined $exit) {
            Test::More::fail("$name - failed to execute the nginx command "
                             . "line");
        } elsif ($core) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($want)) {
            Test::More::is($want, $exit,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        # nginx's stderr ("nginx: [emerg] ...") counts as error log lines
        my $stderr = _slurp($StderrFile) // '';
        _check_error_log($block, $i, [ split /^/, $stderr ]);

        if ($status == 0) {
            Test::More::diag("WARNING: $name - nginx must die but it does "
                             . "not; killing it");
            my $pid = read_pid_file($PidFile);
            stop_process($pid, $Timeout, $ConfFile) if $pid;
        }
    }
}

# ---------------------------------------------------------------------------
# Test::Nginx::Util names (the real library's home of these)
# ---------------------------------------------------------------------------

our @UtilFunctions = qw(
    repeat_each no_shuffle log_level workers worker_connections master_on
    master_off master_process_enabled no_long_string no_root_location
    add_block_preprocessor env_to_nginx html_dir server_root server_port
    server_port_for_client server_addr server_name timeout config_preamble
    use_hup bail_out add_cleanup_handler add_test_cleanup_handler
    run_tests is_str expand_env_in_text
);
our @UtilVariables = qw(
    ServerPort ServerPortForClient ServerAddr ServerName ServRoot HtmlDir
    LogDir ErrLogFile AccLogFile PidFile ConfFile RepeatEach NoShuffle
    LogLevel NginxBinary NginxVersion Timeout NoLongString UseValgrind
    UseHup
);

# expand_env_in_text($text, $name[, $rand_ports]) as in the real library
sub expand_env_in_text {
    my ($text, $name, $rand_ports) = @_;
    local $RandPorts = $rand_ports || $RandPorts || {};
    return _expand_env($text, $name // '');
}

sub _install_util_aliases {
    no strict 'refs';
    for my $f (@UtilFunctions) {
        *{"Test::Nginx::Util::$f"} = \&{"Test::Nginx::Socket::$f"}
            unless defined &{"Test::Nginx::Util::$f"};
    }
    *{"Test::Nginx::Util::$_"} = \${"Test::Nginx::Socket::$_"}
        for @UtilVariables;
}
_install_util_aliases();

END {
    # only in the process that ran the tests (not in forked children);
    # waitpid() must not change the exit status Test::Builder sets
    local $?;
    _cleanup() if $NginxStarted && $$ == $Test::Nginx::Socket::MainPid;
}

our $MainPid = $$;

1;
