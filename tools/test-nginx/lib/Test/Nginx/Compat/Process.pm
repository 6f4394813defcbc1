package Test::Nginx::Compat::Process;

# Process control for fhirwall's Test::Nginx::Socket compatible runner:
# starting nginx (daemonised, or in the foreground under valgrind),
# stopping it and waiting for it to be gone.  Only processes whose pid we
# got from our own pid file or fork are signalled, and only if they still
# look like nginx (or valgrind running nginx).

use strict;
use warnings;

use POSIX qw(WNOHANG SIGQUIT SIGTERM SIGKILL);
use Time::HiRes qw(sleep time);

use Exporter 'import';
our @EXPORT_OK = qw(run_captured read_pid_file is_running looks_like_nginx
                    stop_process child_commands become_subreaper
                    exit_status);

# Wait statuses of processes we reaped, by pid.
our %ExitStatus;

# Linux: make this process the "child subreaper" of its descendants, so
# that a daemonised nginx (whose parent exits) is re-parented to us:
# we can then reap it (no zombies left behind) and see how it died.
# Returns true on success; harmless where unsupported.
sub become_subreaper {
    return 0 unless $^O eq 'linux';
    my $nr = eval { require 'syscall.ph'; &SYS_prctl() };
    return 0 unless $nr;
    my $PR_SET_CHILD_SUBREAPER = 36;
    return syscall($nr, $PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 1 : 0;
}

# How $pid ended, if we reaped it: "exit status N", "killed by signal N
# (core dumped)", or undef.
sub exit_status {
    my ($pid) = @_;
    my $st = $ExitStatus{$pid};
    return undef unless defined $st;
    return "exit status " . ($st >> 8) unless $st & 127;
    return "killed by signal " . ($st & 127)
           . ($st & 128 ? " (core dumped)" : '');
}

# Runs @cmd (no shell) with stdout to /dev/null and stderr into
# $stderr_file.  Returns the wait status ($?); -1 if exec failed.
sub run_captured {
    my ($stderr_file, @cmd) = @_;
    my $pid = fork;
    die "fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $stderr_file;
        exec { $cmd[0] } @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return $?;
}

sub read_pid_file {
    my ($file) = @_;
    open my $in, '<', $file or return undef;
    my $pid = do { local $/; <$in> };
    close $in;
    return undef unless defined $pid && $pid =~ /^\s*(\d+)\s*$/;
    return $1;
}

sub is_running {
    my ($pid) = @_;
    return 0 unless $pid;
    # reap it if it is our child (or re-parented to us)
    if (waitpid($pid, WNOHANG) == $pid) {
        $ExitStatus{$pid} = $?;
        return 0;
    }
    return 0 unless kill 0, $pid;
    # a daemon that exited stays a zombie until init reaps it, which may
    # take a while in containers: a zombie is not running
    if (open my $in, '<', "/proc/$pid/stat") {
        my $stat = <$in> // '';
        close $in;
        return 0 if $stat =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

# Guard against signalling an unrelated process that reused a stale pid
# (or another engineer's nginx): the command line must be nginx's (or
# valgrind's) and, if $conf is given, mention our nginx.conf.
sub looks_like_nginx {
    my ($pid, $conf) = @_;
    open my $in, '<', "/proc/$pid/cmdline" or return 1;  # no /proc: trust
    my $cmd = do { local $/; <$in> } // '';
    close $in;
    return 0 unless $cmd =~ /nginx|valgrind|memcheck/;
    return 0 if defined $conf && index($cmd, $conf) < 0;
    return 1;
}

# Command lines of the live (non-zombie) children of $pid, from /proc.
sub child_commands {
    my ($pid) = @_;
    my @cmds;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $in, '<', $stat or next;
        my $line = <$in> // '';
        close $in;
        # pid (comm) state ppid ...
        next unless $line =~ /^(\d+) \(.*\) (\S) (\d+) /s;
        next if $2 eq 'Z' || $3 != $pid;
        my $child = $1;
        open my $cmd, '<', "/proc/$child/cmdline" or next;
        my $text = do { local $/; <$cmd> } // '';
        close $cmd;
        $text =~ s/\0+/ /g;
        push @cmds, $text;
    }
    return @cmds;
}

# Asks $pid to quit (QUIT, graceful), waits up to $timeout seconds, then
# TERM, then KILL.  Returns 1 if it had to be forced.  $conf: see
# looks_like_nginx().
sub stop_process {
    my ($pid, $timeout, $conf) = @_;
    return 0 unless is_running($pid) && looks_like_nginx($pid, $conf);

    kill SIGQUIT, $pid;
    my $deadline = time() + $timeout;
    while (time() < $deadline) {
        return 0 unless is_running($pid);
        sleep 0.02;
    }

    kill SIGTERM, $pid;
    $deadline = time() + 1;
    while (time() < $deadline) {
        return 1 unless is_running($pid);
        sleep 0.02;
    }

    kill SIGKILL, $pid;
    $deadline = time() + 2;
    while (time() < $deadline && is_running($pid)) {
        sleep 0.02;
    }
    return 1;
}

1;
