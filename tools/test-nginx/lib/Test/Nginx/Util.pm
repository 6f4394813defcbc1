package Test::Nginx::Util;

# The real library keeps its settings and helpers in Test::Nginx::Util,
# and .t files sometimes call them by that name (for example
# "Test::Nginx::Util::html_dir()").  In fhirwall's runner they live in
# Test::Nginx::Socket, which makes Test::Nginx::Util names aliases of its
# own (see _install_util_aliases there); this file only lets
# "use Test::Nginx::Util;" work and export them.

use strict;
use warnings;

use Exporter 'import';
require Test::Nginx::Socket;

our @EXPORT = (@Test::Nginx::Socket::UtilFunctions,
               map { "\$$_" } @Test::Nginx::Socket::UtilVariables);

1;
