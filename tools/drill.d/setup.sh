# shellcheck shell=bash
# The gateway under drill (sourced by tools/drill): conf-examples/ copied
# as tools/demo does (tools/demo.d/lib.sh), with 2 workers and the drill's
# instruments, which docs/reliability.md lists:
#   - ports moved to DRILL_PORT_BASE + 43 (https), 80 (http), 81
#     (upstream), 82 (webhook receiver), 90 (Redis);
#   - policy per_ip effectively unlimited and per_client keyed on the
#     subjects "noisy-*" and "probe-*" only (an empty key is not counted),
#     so that allowed traffic stays allowed and 429s come from one client;
#   - the audit record's request_id is the client's X-Drill-Id when sent;
#   - location /open/: the upstream without token or rate limit (the
#     "location without limits" of the Redis drill);
#   - short form only: client_header_timeout and client_body_timeout 3s.
# Variables from tools/drill: root moddir nginx pbase form.

https_port=$((pbase + 43))
http_port=$((pbase + 80))
upstream_port=$((pbase + 81))
receiver_port=$((pbase + 82))
redis_port=$((pbase + 90))
bare_port=$((pbase + 44))
idp_port=$((pbase + 45))
metrics_port=$((pbase + 89))

drill_dirs=${DRILL_DIR:-/tmp/drill-$pbase}

# drill_up NAME [EXTRA]: the gateway in $drill_dirs/NAME, Redis, tokens.
# EXTRA: "jwks" (a remote JWKS at the drill IdP), "diskfull" (the audit
# log on a small tmpfs), "failopen" (fw_audit_fail_closed off).
drill_up() {
    local name=$1 extra=${2:-} so
    demo=$drill_dirs/$name
    drill_down quiet
    [ -d "$demo/logs/audit" ] && umount "$demo/logs/audit" 2> /dev/null
    rm -rf "$demo"
    mkdir -p "$demo"
    cp -r "$root/conf-examples/." "$demo/"
    mkdir -p "$demo/logs" "$demo/temp" "$demo/modules.d" "$demo/idp" \
             "$demo/logs/audit"
    for so in "$moddir"/ngx_http_fw_*_module.so; do
        echo "load_module $so;"
    done > "$demo/modules.d/fhirwall.conf"
    "$root/tools/gen-demo-certs" "$demo/certs" > /dev/null
    "$root/tools/gen-demo-keys" "$demo/keys" > /dev/null
    mv "$demo/keys/jwt-rs256.key" "$demo/keys/jwt-es256.key" "$demo/idp/"

    sed -i -e "s/8443/$https_port/g" -e "s/8080/$http_port/g" \
        -e "s/8081/$upstream_port/g" -e "s/8082/$receiver_port/g" \
        -e "s/6390/$redis_port/g" -e "s/8089/$metrics_port/g" \
        "$demo/gateway.conf" "$demo/ratelimit-http.conf" "$demo/webhook.conf" \
        "$demo/metrics.conf"
    sed -i 's/^worker_processes .*/worker_processes  2;/' "$demo/gateway.conf"

    sed -i -e 's/per_ip      limit=300 /per_ip      limit=1000000000 /' \
        -e 's/key=\$fw_jwt_sub;/key=$drill_rl_key;/' \
        "$demo/ratelimit-http.conf"
    cat >> "$demo/ratelimit-http.conf" <<'CONF'
# drill: only the noisy and probe clients are counted per client
map $fw_jwt_sub $drill_rl_key {
    default      "";
    "~^noisy-"   $fw_jwt_sub;
    "~^probe-"   $fw_jwt_sub;
}
CONF
    echo 'fw_audit_field request_id $http_x_drill_id $request_id;' \
        >> "$demo/audit-http.conf"
    sed -i 's|^fw_audit_log .*|fw_audit_log          logs/audit/audit.log;|' \
        "$demo/audit.conf"
    # the drills' clients (noisy, probes, the 401 floods) are all on
    # loopback: never locked out, or the lockout would be all they measure
    echo 'fw_lockout_allow         127.0.0.1 ::1;' >> "$demo/lockout.conf"
    if [ "$form" = short ]; then
        sed -i '/^    keepalive_timeout /a\
    client_header_timeout 3s;\
    client_body_timeout   3s;' "$demo/gateway.conf"
    fi
    python3 - "$demo/gateway.conf" "$extra" "$idp_port" "$form" <<'PY'
import sys
p, extra, idp, form = sys.argv[1:5]
s = open(p).read()
loc = """        # drill: a location without token or limits
        location /open/ {
            fw_ratelimit off;
            include proxy-fhir.conf;
            proxy_pass http://fhir_backend/;
        }
"""
if "jwks" in extra:
    loc += """        # drill: the identity provider's jwks_uri
        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:%s/jwks;
            proxy_pass_request_headers off;
            proxy_connect_timeout 1s;
            proxy_read_timeout 2s;
            subrequest_output_buffer_size 64k;
        }
""" % idp
mark = "        # Nothing else is served."
assert mark in s
s = s.replace(mark, loc + "\n" + mark)
open(p, "w").write(s)
PY
    if [ "${extra#*jwks}" != "$extra" ]; then
        if [ "$form" = short ]; then
            echo 'fw_jwt_jwks_uri      /_jwks refresh=1s min_refresh=1s;'
        else
            echo 'fw_jwt_jwks_uri      /_jwks refresh=10s min_refresh=5s;'
        fi >> "$demo/jwt.conf"
    fi
    if [ "${extra#*failopen}" != "$extra" ]; then
        sed -i 's/^fw_audit_fail_closed  on;/fw_audit_fail_closed  off;/' \
            "$demo/audit.conf"
    fi
    if [ "${extra#*diskfull}" != "$extra" ]; then
        # room for the records of the run until the fill (long: 10 s at
        # up to 10,000 requests a second), so that it is the fill that
        # makes the disk full and removing the filler gives room again
        local tmpfs_size=32m
        [ "$form" = long ] && tmpfs_size=128m
        mount -t tmpfs -o size=${DRILL_TMPFS:-$tmpfs_size},mode=0755 tmpfs \
            "$demo/logs/audit" || return 3
    fi
    # an experiment: DRILL_CONF_SED, a sed script for the copied *.conf
    if [ -n "${DRILL_CONF_SED:-}" ]; then
        sed -i -e "$DRILL_CONF_SED" "$demo"/*.conf
    fi
    chmod -R a+rX "$demo"
    chmod 777 "$demo/logs/audit"
    chmod 600 "$demo/keys/audit.key"

    demo_redis_start > /dev/null
    "$nginx" -t -q -p "$demo/" -c gateway.conf -e "$demo/logs/error.log" \
        2> "$demo/temp/nginx-t.out" || { cat "$demo/temp/nginx-t.out" >&2
                                         return 1; }
    "$nginx" -p "$demo/" -c gateway.conf -e "$demo/logs/error.log" \
        2> /dev/null
    drill_wait_listen "$https_port"
    drill_tokens
}

drill_wait_listen() {
    local _
    for _ in $(seq 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
        sleep 0.05
    done
    echo "drill: nothing listens on $1" >&2
    return 1
}

drill_down() {
    demo_stop quiet 2> /dev/null || true
    if [ -n "${demo:-}" ] && mountpoint -q "$demo/logs/audit" 2> /dev/null
    then
        umount "$demo/logs/audit" || true
    fi
}

drill_master() { cat "$demo/temp/nginx.pid"; }
drill_workers() { pgrep -P "$(drill_master)" | sort -n; }

# mint KID-KEY SUB SCOPE: a token signed with the demo's RS256 key
mint_as() {
    "$mint" -a RS256 -k "$demo/idp/jwt-rs256.key" -K demo-rs256 -T at+jwt \
        -e 3600 -c "iss=$issuer" -c "aud=$audience" -c "sub=$1" \
        -c "client_id=$1" -c "scope=$2"
}

drill_tokens() {
    demo_tokens
    CLIN=$(cat "$demo/idp/clinician.jwt")
    RES=$(cat "$demo/idp/researcher.jwt")
    NOISY=$(mint_as "noisy-$RANDOM" "user/Patient.rs user/Observation.rs")
}

# drill_hooks N FILE: N signed webhook deliveries, "t|v1|body" lines
drill_hooks() {
    python3 - "$1" "$2" "$demo/keys/webhook.secret" <<'PY'
import hmac, hashlib, sys, time, random
n, out, sec = int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read().strip()
t = int(time.time())
tag = random.randrange(1 << 30)
with open(out, "w") as f:
    for i in range(n):
        body = ('{"id":"evt_%d_%d","type":"patient.admitted",'
                '"data":{"patient":"Patient/123"}}' % (tag, i))
        sig = hmac.new(sec.encode(), ("%d.%s" % (t, body)).encode(),
                       hashlib.sha256).hexdigest()
        f.write("%d|%s|%s\n" % (t, sig, body))
PY
}

# drill_mix FILE: the mixed traffic of the reload and soak drills
drill_mix() {
    cat > "$1" <<MIX
# weight|method|path|headers
6|GET|/fhir/Patient/123|Authorization: Bearer $CLIN
1|GET|/fhir/Observation?patient=123|Authorization: Bearer $CLIN
2|GET|/fhir/Patient/123
1|GET|/fhir/Patient/123|Authorization: Bearer $RES
1|GET|/fhir/Patient/456|Authorization: Bearer $NOISY
1|WEBHOOK|/hooks/ehr-events
MIX
}

# run_wrk OUTVAR URL SECS CONNS MIXFILE [HOOKS]: runs wrk, sets the
# named variable to its drill-wrk summary line
run_wrk() {
    local _wl
    _wl=$(DRILL_MIX=$5 DRILL_HOOKS=${6:-} wrk -t 1 -c "$4" -d "${3}s" \
           --timeout 5s -s "$root/tools/drill.d/mix.lua" "$2" 2>&1 \
           | grep '^drill-wrk' || true)
    printf -v "$1" '%s' "${_wl:-drill-wrk failed}"
}

# wrk_field LINE KEY: a number of a drill-wrk line (0 when absent)
wrk_field() {
    local v
    v=$(printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p")
    echo "${v:-0}"
}

# statuses outside the expected set, as "s500=3 ..."; empty when none
unexpected() {
    local line=$1 ok=$2 f
    for f in $line; do
        case $f in
        s[0-9]*=*)
            case " $ok " in *" ${f%%=*} "*) ;; *) printf '%s ' "$f" ;; esac
            ;;
        esac
    done
}

alerts() {
    grep -cE '\[(alert|crit|emerg)\]' "$1" 2> /dev/null || true
}
