package FwFhir;

# Shared setup of the t/fhir*.t files: a backend virtual server on the test
# port (server_name "backend") that echoes what it received, and "@proxy;"
# in a block's config, which becomes a proxy_pass to it that also forwards
# every $fw_fhir_* variable.

use strict;
use warnings;

our $Backend = <<'_EOC_';
    server {
        listen       $TEST_NGINX_SERVER_PORT;
        server_name  backend;
        location / {
            return 200 "backend $request_method $request_uri fhir=[$http_x_fhir] ovr=[$http_x_http_method_override$http_x_http_method$http_x_method_override] len=[$content_length]\n";
        }
    }
_EOC_

our $Proxy = 'proxy_set_header Host backend; '
    . 'proxy_set_header X-Fhir "$fw_fhir_interaction|$fw_fhir_type|'
    . '$fw_fhir_id|$fw_fhir_vid|$fw_fhir_operation|$fw_fhir_compartment|'
    . '$fw_fhir_patient|$fw_fhir_status"; '
    . 'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;';

sub preprocess {
    my $block = shift;
    my $hc = $block->http_config // '';
    $block->set_value('http_config', $Backend . $hc);
    my $c = $block->config;
    if (defined $c) {
        $c =~ s/\@proxy;/$Proxy/g;
        $block->set_value('config', $c);
    }
}

1;
