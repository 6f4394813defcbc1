package FwJwt;

# Helpers for t/jwt*.t: token minting with tools/jwt/fw-jwt-mint (built by
# modules/jwt/module.mk), key paths and common nginx snippets.

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(mint key_path backend_http loc);

my $root = $ENV{TEST_NGINX_FW_ROOT} or die "TEST_NGINX_FW_ROOT is not set";
my $build = $ENV{TEST_NGINX_FW_BUILD} || "$root/build";
my $mint = "$build/tools/fw-jwt-mint";

-x $mint or die "$mint is missing: run make";

sub key_path {
    my ($name) = @_;
    return "$root/t/keys/jwt/$name";
}

# mint("-a", "RS256", "-k", key_path("rsa.key"), ...): the token, or dies
sub mint {
    my @args = @_;
    open(my $fh, '-|', $mint, @args) or die "cannot run $mint: $!";
    my $t = do { local $/; <$fh> };
    close $fh;
    die "fw-jwt-mint @args failed" if $? != 0 || !defined $t;
    chomp $t;
    return $t;
}

# an upstream on a unix socket that shows what it received
sub backend_http {
    return <<'_EOC_';
    upstream backend {
        server unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }

    server {
        listen unix:$TEST_NGINX_HTML_DIR/backend.sock;

        location / {
            return 200 "ok sub=$http_x_sub roles=$http_x_roles\n";
        }
    }
_EOC_
}

# a protected location /t (proxied: the access phase really runs)
sub loc {
    my ($directives) = @_;
    return <<"_EOC_";
    location /t {
        fw_jwt on;
$directives
        add_header X-JWT-Status \$fw_jwt_status always;
        proxy_pass http://backend;
    }
_EOC_
}

1;
