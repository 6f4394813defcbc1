# shellcheck shell=bash
# Functions of tools/demo (sourced).  Variables from tools/demo: root,
# moddir, demo, nginx, https_port, http_port, upstream_port, redis_port.

mint=${FW_JWT_MINT:-$(dirname "$moddir")/tools/fw-jwt-mint}
verify=${FW_AUDIT_VERIFY:-$(dirname "$moddir")/tools/fw-audit-verify}
hashtool=${FW_AUDIT_HASH:-$(dirname "$moddir")/tools/fw-audit-hash}
issuer=https://idp.demo.fhirwall.invalid
audience=fhir-gateway
base=https://localhost:$https_port

demo_redis_start() {
    command -v redis-server > /dev/null || {
        echo "demo: redis-server is not installed" >&2; return 1; }
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize yes --pidfile "$demo/temp/redis.pid" \
        --logfile "$demo/logs/redis.log" --dir "$demo/temp" > /dev/null
    for _ in $(seq 50); do
        redis-cli -p "$redis_port" ping 2> /dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    echo "demo: Redis did not start (see $demo/logs/redis.log)" >&2
    return 1
}

# The gateway in a container (FW_DEMO_IMAGE, tools/image-build): the image
# as built, run read-only as its own user with the demo's certificate and
# keys mounted and a volume at /var/cache/nginx (as an emptyDir in k8s/;
# podman's --tmpfs here is root's 0755 whatever its mode= says), its ports
# published on loopback; Redis in a second
# container (FW_DEMO_REDIS_IMAGE) whose network namespace the gateway
# shares, so that 127.0.0.1:6390 of ratelimit-http.conf is that Redis.
# FW_PODMAN_RUN_OPTS: what this machine's podman needs (tools/image-build).
ctr=fw-demo-$https_port

demo_container_start() {
    local opts _
    read -r -a opts <<< "${FW_PODMAN_RUN_OPTS:-}"
    rm -rf "$demo"
    mkdir -p "$demo/logs" "$demo/temp" "$demo/idp"
    "$root/tools/gen-demo-certs" "$demo/certs" > /dev/null
    "$root/tools/gen-demo-keys" "$demo/keys" > /dev/null
    mv "$demo/keys/jwt-rs256.key" "$demo/keys/jwt-es256.key" "$demo/idp/"
    # the image's user (uid 101) owns the mounted throwaway keys
    chown -R 101:101 "$demo/certs" "$demo/keys"
    podman run -d --name "$ctr-redis" "${opts[@]}" \
        -p "127.0.0.1:$https_port:8443" -p "127.0.0.1:$http_port:8080" \
        "${FW_DEMO_REDIS_IMAGE:?FW_DEMO_REDIS_IMAGE: a Redis image}" \
        redis-server --port 6390 --bind 127.0.0.1 --save '' \
        --appendonly no > /dev/null
    podman run -d --name "$ctr-gw" "${opts[@]}" \
        --network "container:$ctr-redis" --read-only \
        -v /var/cache/nginx \
        -v "$demo/certs:/etc/fhirwall/certs:ro" \
        -v "$demo/keys:/etc/fhirwall/keys:ro" "$FW_DEMO_IMAGE" > /dev/null
    for _ in $(seq 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$http_port/healthz" && break
        [ "$(podman inspect -f '{{.State.Running}}' "$ctr-gw")" = true ] \
            || break
        sleep 0.2
    done
    if ! curl -sf -o /dev/null "http://127.0.0.1:$http_port/healthz"; then
        echo "demo: the gateway container does not answer on" \
             "127.0.0.1:$http_port; its log:" >&2
        podman logs "$ctr-gw" 2>&1 | tail -n 20 >&2
        return 1
    fi
    echo "demo: $FW_DEMO_IMAGE runs as $ctr-gw (uid" \
         "$(podman exec "$ctr-gw" id -u)), published on" \
         "127.0.0.1:$https_port and :$http_port"
    demo_tokens
}

# the container's logs as the files demo_check reads: stderr is the error
# log, the JSON lines on stdout the audit records (the rest: access log)
demo_collect_logs() {
    [ -n "${FW_DEMO_IMAGE:-}" ] || return 0
    podman logs "$ctr-gw" > "$demo/logs/stdout.log" 2> "$demo/logs/error.log"
    grep '^{' "$demo/logs/stdout.log" > "$demo/logs/audit.log" || true
    grep -v '^{' "$demo/logs/stdout.log" > "$demo/logs/access.log" || true
}

demo_container_stop() {
    local c
    for c in "$ctr-gw" "$ctr-redis"; do
        podman rm -f -v --ignore -t 2 "$c" > /dev/null 2>&1 || true
    done
}

demo_start() {
    local so

    demo_stop quiet
    if [ -n "${FW_DEMO_IMAGE:-}" ]; then
        [ -x "$mint" ] || { echo "demo: $mint is not built (make)" >&2; exit 1; }
        demo_container_start
        return
    fi
    [ -x "$mint" ] || { echo "demo: $mint is not built (make)" >&2; exit 1; }
    rm -rf "$demo"
    mkdir -p "$demo"
    cp -r "$root/conf-examples/." "$demo/"
    mkdir -p "$demo/logs" "$demo/temp" "$demo/modules.d" "$demo/idp"
    chmod -R a+rX "$demo"

    for so in "$moddir"/ngx_http_fw_*_module.so; do
        echo "load_module $so;"
    done > "$demo/modules.d/fhirwall.conf"

    "$root/tools/gen-demo-certs" "$demo/certs" > /dev/null
    "$root/tools/gen-demo-keys" "$demo/keys" > /dev/null
    # the identity provider's signing keys are not the gateway's business
    mv "$demo/keys/jwt-rs256.key" "$demo/keys/jwt-es256.key" "$demo/idp/"

    sed -i -e "s/8443/$https_port/g" -e "s/8080/$http_port/g" \
        -e "s/8081/$upstream_port/g" -e "s/6390/$redis_port/g" \
        -e "s/8089/$metrics_port/g" \
        "$demo/gateway.conf" "$demo/ratelimit-http.conf" \
        "$demo/metrics.conf"
    # a demo runs one worker, so that the rate limit and replay cache
    # figures are easy to follow
    sed -i 's/^worker_processes .*/worker_processes  1;/' "$demo/gateway.conf"

    demo_redis_start
    "$nginx" -t -q -p "$demo/" -c gateway.conf -e "$demo/logs/error.log"
    "$nginx" -p "$demo/" -c gateway.conf -e "$demo/logs/error.log"
    for _ in $(seq 50); do [ -s "$demo/temp/nginx.pid" ] && break; sleep 0.1; done

    demo_tokens
}

demo_stop() {
    if [ -n "${FW_DEMO_IMAGE:-}" ]; then
        demo_container_stop
        [ "${1:-}" = quiet ] || echo "demo: stopped"
        return
    fi
    if [ -f "$demo/temp/nginx.pid" ]; then
        "$nginx" -p "$demo/" -c gateway.conf -e "$demo/logs/error.log" \
            -s quit 2> /dev/null || true
        for _ in $(seq 50); do
            [ -f "$demo/temp/nginx.pid" ] || break
            sleep 0.1
        done
    fi
    if [ -f "$demo/temp/redis.pid" ]; then
        kill "$(cat "$demo/temp/redis.pid")" 2> /dev/null || true
        for _ in $(seq 50); do
            [ -f "$demo/temp/redis.pid" ] || break
            sleep 0.1
        done
        rm -f "$demo/temp/redis.pid"
    fi
    [ "${1:-}" = quiet ] || echo "demo: stopped"
}

# token KIND: a token for one of the demo's users
token() {
    local k=$1
    local common=(-a RS256 -k "$demo/idp/jwt-rs256.key" -K demo-rs256
                  -T at+jwt -e 3600 -c "iss=$issuer" -c "aud=$audience")
    case $k in
    clinician)
        "$mint" "${common[@]}" -c sub=dr-grey -c client_id=ehr-app \
            -c "fhirUser=Practitioner/dr-grey" \
            -c "scope=user/Patient.rs user/Observation.rs" ;;
    researcher)
        "$mint" "${common[@]}" -c sub=researcher-7 -c client_id=cohort-tool \
            -c "scope=user/Observation.s" ;;
    clinician-dpop)
        "$mint" "${common[@]}" -c sub=dr-grey-dpop -c client_id=ehr-app \
            -c "fhirUser=Practitioner/dr-grey" \
            -c "scope=user/Patient.rs user/Observation.rs" \
            -B "$demo/idp/dpop-client.key" ;;
    patient)
        "$mint" "${common[@]}" -c sub=pat-123 -c client_id=patient-app \
            -c patient=123 -c "fhirUser=Patient/123" \
            -c "scope=patient/Patient.r patient/Observation.rs" ;;
    esac
}

demo_tokens() {
    token clinician > "$demo/idp/clinician.jwt"
    token researcher > "$demo/idp/researcher.jwt"
    token patient > "$demo/idp/patient.jwt"
    # a DPoP client (RFC 9449): its own key, and a token bound to it
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$demo/idp/dpop-client.key" 2> /dev/null
    token clinician-dpop > "$demo/idp/clinician-dpop.jwt"
}

# proof METHOD URL TOKEN: a DPoP proof of the demo's DPoP client
proof() {
    "$mint" -a ES256 -k "$demo/idp/dpop-client.key" -D "$1" -U "$2" -A "$3"
}

# a Stripe-signed webhook delivery: prints the curl arguments
webhook_args() {
    local t body secret sig
    t=$(date +%s)
    body='{"id":"evt_demo_'"$t"'","type":"patient.admitted","data":{"patient":"Patient/123"}}'
    secret=$(tr -d '\r\n' < "$demo/keys/webhook.secret")
    sig=$(printf '%s.%s' "$t" "$body" \
          | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
    printf '%s\n' "-H" "Stripe-Signature: t=$t,v1=$sig" \
        "-H" "Content-Type: application/json" "--data-binary" "$body"
}

demo_print() {
    local c="curl -sk"
    cat <<TXT

fhirwall demo gateway is up.
  FHIR API (TLS 1.3, HTTP/2)   $base/fhir/
  HTTP (redirects to HTTPS)    http://localhost:$http_port/
  sample FHIR server           http://127.0.0.1:$upstream_port/ (loopback)
  metrics (Prometheus)         http://127.0.0.1:$metrics_port/metrics (loopback)
  Redis                        127.0.0.1:$redis_port
  files                        $demo (logs/, keys/, idp/)

Tokens (RS256, 1 hour; signed by the demo identity provider in idp/):
  export CLINICIAN=\$(cat $demo/idp/clinician.jwt)    # user/Patient.rs user/Observation.rs
  export RESEARCHER=\$(cat $demo/idp/researcher.jwt)  # user/Observation.s
  export PATIENT=\$(cat $demo/idp/patient.jwt)        # patient/*, patient 123

An allowed read (200):
  $c -H "Authorization: Bearer \$CLINICIAN" $base/fhir/Patient/123
No token (401, OperationOutcome, WWW-Authenticate):
  $c -i $base/fhir/Patient/123
A refused scope (403 insufficient_scope: the researcher may only search Observations):
  $c -i -H "Authorization: Bearer \$RESEARCHER" $base/fhir/Patient/123
The patient app stays in its compartment (200, then 403):
  $c -H "Authorization: Bearer \$PATIENT" "$base/fhir/Observation?patient=123"
  $c -i -H "Authorization: Bearer \$PATIENT" "$base/fhir/Observation?patient=456"
A DPoP request (RFC 9449: a token bound to the client's key, a fresh proof
signed with that key; the same token as a bearer token is refused, 401):
  export DPOP_TOKEN=\$(cat $demo/idp/clinician-dpop.jwt)
  $c -H "Authorization: DPoP \$DPOP_TOKEN" -H "DPoP: \$($mint -a ES256 -k $demo/idp/dpop-client.key -D GET -U $base/fhir/Patient/123 -A "\$DPOP_TOKEN")" $base/fhir/Patient/123
  $c -i -H "Authorization: Bearer \$DPOP_TOKEN" $base/fhir/Patient/123
A refused path trick (400: encoded slash):
  $c -i -H "Authorization: Bearer \$CLINICIAN" "$base/fhir/Patient%2F123"
A rate limit (per_client: 20 a minute; the last ones get 429 with Retry-After):
  for i in \$(seq 22); do $c -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer \$CLINICIAN" $base/fhir/Patient/456; done; echo
A verified webhook (202), then its replay (409), then a tampered one (401):
  tools/demo webhook
The failed-authentication lockout (8 401/403 answers a minute lock this
address out: 429 with Retry-After, 30s, doubling up to 10 minutes):
  tools/demo lockout
The audit records (no id of a path, no value of a query: HMAC hashes,
fwh-<epoch>-<hex>), and their HMAC chain checked:
  tail -n 3 $demo/logs/audit.log
  $verify -k $demo/keys/audit.key --allow-open $demo/logs/audit.log
The records of Patient/123 (its hash in each 10-minute epoch of the hour):
  grep -F -f <($hashtool -k $demo/keys/audit.key -e \$((\$(date +%s) / 600 - 5))-\$((\$(date +%s) / 600)) 123) $demo/logs/audit.log
(--allow-open: the chains of running workers have no end record yet)
Stop: tools/fw stop
TXT
}

demo_webhook() {
    local args
    mapfile -t args < <(webhook_args)
    echo "POST $base/hooks/ehr-events (signed):"
    curl -sk -o /dev/null -w '%{http_code}\n' "${args[@]}" \
        "$base/hooks/ehr-events"
    echo "the same delivery again (a replay):"
    curl -sk -o /dev/null -w '%{http_code}\n' "${args[@]}" \
        "$base/hooks/ehr-events"
    args[5]="${args[5]/admitted/discharged}"
    echo "the body changed after signing:"
    curl -sk -o /dev/null -w '%{http_code}\n' "${args[@]}" \
        "$base/hooks/ehr-events"
}

# demo_lockout: requests without a token until the lockout, then a valid
# token from the locked-out address
demo_lockout() {
    local i code
    echo "GET $base/fhir/Patient/123 without a token (401), until the lockout:"
    for i in $(seq 12); do
        code=$(curl -sk -o /dev/null -w '%{http_code}' \
               "$base/fhir/Patient/123")
        printf '%s ' "$code"
        [ "$code" = 429 ] && break
    done
    echo
    echo "the clinician's valid token from this address:"
    curl -sk -i -H "Authorization: Bearer $(cat "$demo/idp/clinician.jwt")" \
        "$base/fhir/Patient/123" \
        | grep -iE '^(HTTP/|retry-after:)|"diagnostics"' | tr -d '\r'
    echo "(127.0.0.1 is locked out for 30s; a repeat doubles it, up to 10 minutes)"
}

# demo_audit_redacted FILE: every request record of the audit log keeps no
# id of its path and no value of its query (each is a hash or "*"), names
# none of the demo's patient ids (123, 456) anywhere, and the lockout's
# refusals are audited as such
demo_audit_redacted() {
    python3 - "$1" <<'PY'
import json, re, sys

hashed = re.compile(r"^fwh-\d+-[0-9a-f]{24}$")
kept = re.compile(r"^([A-Z][A-Za-z]*[a-z][A-Za-z]*|_[a-z]+|\$[A-Za-z][A-Za-z0-9-]*"
                  r"|metadata|\d+|\*)$")
bad, n, locked = [], 0, 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") != "request":
        continue
    n += 1
    if r.get("denied_by") == "lockout" and r.get("reason") == "locked":
        locked += 1
    path = r.get("path", "")
    # the locations' own names (configuration, kept as they are)
    prefix = next((p for p in ("/hooks/ehr-events", "/fhir/", "/")
                   if path.startswith(p)), "")
    for seg in path[len(prefix):].split("/"):
        if seg and not hashed.match(seg) and not kept.match(seg):
            bad.append("path %s: %s" % (path, seg))
    for par in filter(None, r.get("query", "").split("&")):
        v = par.split("=", 1)[-1]
        if v and v != "*" and not hashed.match(v):
            bad.append("query %s: %s" % (r["query"], v))
    for k, v in r.items():
        if isinstance(v, str) and set(re.split(r"[/?&=]", v)) & {"123", "456"}:
            bad.append("%s: %s" % (k, v))
if n == 0 or locked == 0 or bad:
    print("%d records, %d lockout refusals; %s" % (n, locked, "; ".join(bad[:5])))
    sys.exit(1)
print("%d records, %d lockout refusals" % (n, locked))
PY
}

# tamper TOKEN: the token with one signature character changed
tamper() {
    local t=$1 i c
    i=$((${#t} - 10))
    c=${t:$i:1}
    if [ "$c" = B ]; then c=C; else c=B; fi
    printf '%s' "${t:0:$i}$c${t:$((i + 1))}"
}

# demo_check: every printed command, with the answer it must give
demo_check() {
    local fails=0 passes=0 got clin res pat args i codes dtok dproof

    expect() {   # expect WANT LABEL curl-args...
        local want=$1 label=$2
        shift 2
        got=$(curl -sk -o /dev/null -w '%{http_code}' "$@")
        if [ "$got" = "$want" ]; then
            passes=$((passes + 1))
            echo "demo check: ok   $label ($got)"
        else
            fails=$((fails + 1))
            echo "demo check: FAIL $label: $got, expected $want"
        fi
    }

    clin=$(cat "$demo/idp/clinician.jwt")
    res=$(cat "$demo/idp/researcher.jwt")
    pat=$(cat "$demo/idp/patient.jwt")

    expect 200 "public metadata" "$base/fhir/metadata"
    expect 200 "clinician reads Patient/123" \
        -H "Authorization: Bearer $clin" "$base/fhir/Patient/123"
    expect 401 "no token" "$base/fhir/Patient/123"
    expect 401 "a tampered token" \
        -H "Authorization: Bearer $(tamper "$clin")" "$base/fhir/Patient/123"
    expect 403 "researcher reads a Patient" \
        -H "Authorization: Bearer $res" "$base/fhir/Patient/123"
    expect 200 "researcher searches Observations" \
        -H "Authorization: Bearer $res" "$base/fhir/Observation"
    expect 200 "patient app, own compartment" \
        -H "Authorization: Bearer $pat" "$base/fhir/Observation?patient=123"
    expect 403 "patient app, another patient" \
        -H "Authorization: Bearer $pat" "$base/fhir/Observation?patient=456"
    expect 403 "patient app reads another Patient" \
        -H "Authorization: Bearer $pat" "$base/fhir/Patient/456"
    dtok=$(cat "$demo/idp/clinician-dpop.jwt")
    dproof=$(proof GET "$base/fhir/Patient/123" "$dtok")
    expect 200 "DPoP request, bound token and a fresh proof" \
        -H "Authorization: DPoP $dtok" -H "DPoP: $dproof" \
        "$base/fhir/Patient/123"
    expect 401 "the same DPoP proof again (a replay)" \
        -H "Authorization: DPoP $dtok" -H "DPoP: $dproof" \
        "$base/fhir/Patient/123"
    expect 401 "a DPoP-bound token as a bearer token" \
        -H "Authorization: Bearer $dtok" "$base/fhir/Patient/123"
    expect 400 "encoded slash" \
        -H "Authorization: Bearer $clin" "$base/fhir/Patient%2F123"
    expect 404 "unknown resource type" \
        -H "Authorization: Bearer $clin" "$base/fhir/Patients/123"
    head -c 9000000 /dev/zero > "$demo/temp/big.body"
    expect 413 "a body over client_max_body_size" \
        -H "Authorization: Bearer $clin" -H "Content-Type: application/fhir+json" \
        --data-binary @"$demo/temp/big.body" "$base/fhir/Observation"
    for proto in --http1.1 --http2; do
        if curl -sk "$proto" -H "Authorization: Bearer $clin" \
                --data-binary @"$demo/temp/big.body" "$base/fhir/Observation" \
                | grep -q '"too-long"'; then
            passes=$((passes + 1))
            echo "demo check: ok   the 413 is an OperationOutcome ($proto)"
        else
            fails=$((fails + 1))
            echo "demo check: FAIL the 413 is not an OperationOutcome ($proto)"
        fi
    done
    expect 301 "plain HTTP redirects" "http://localhost:$http_port/fhir/metadata"

    mapfile -t args < <(webhook_args)
    expect 202 "signed webhook" "${args[@]}" "$base/hooks/ehr-events"
    expect 409 "replayed webhook" "${args[@]}" "$base/hooks/ehr-events"
    args[5]="${args[5]/admitted/discharged}"
    expect 401 "tampered webhook" "${args[@]}" "$base/hooks/ehr-events"

    # the clinician has used 2 of 20 requests of the minute so far
    codes=""
    for i in $(seq 20); do
        codes="$codes $(curl -sk -o /dev/null -w '%{http_code}' \
            -H "Authorization: Bearer $clin" "$base/fhir/Patient/456")"
    done
    if echo "$codes" | grep -q 429 && echo "$codes" | grep -q 200; then
        passes=$((passes + 1))
        echo "demo check: ok   rate limit (answers:$codes)"
    else
        fails=$((fails + 1))
        echo "demo check: FAIL rate limit (answers:$codes)"
    fi

    # the lockout: 7 of the answers above were 401 or 403 to this address
    # (no token, tampered, two DPoP, three scopes and compartments); the
    # 8th locks it out, even for a valid token, with Retry-After
    codes=""
    for i in $(seq 3); do
        codes="$codes $(curl -sk -o /dev/null -w '%{http_code}' \
            "$base/fhir/Patient/123")"
    done
    got=$(curl -sk -o /dev/null -D - -H "Authorization: Bearer $clin" \
          "$base/fhir/Patient/123" | tr -d '\r')
    if echo "$codes" | grep -q 429 \
       && echo "$got" | grep -q '^HTTP/[0-9.]* 429' \
       && echo "$got" | grep -Eiq '^retry-after: [1-9][0-9]*$'; then
        passes=$((passes + 1))
        echo "demo check: ok   lockout (answers:$codes; then a valid token: 429, $(echo "$got" | grep -i '^retry-after'))"
    else
        fails=$((fails + 1))
        echo "demo check: FAIL lockout (answers:$codes; then a valid token: $(echo "$got" | head -1))"
    fi

    sleep 0.5
    demo_collect_logs
    if got=$(demo_audit_redacted "$demo/logs/audit.log" 2>&1); then
        passes=$((passes + 1))
        echo "demo check: ok   no path id, no query value in the audit log ($got)"
    else
        fails=$((fails + 1))
        echo "demo check: FAIL audit redaction: $got"
    fi
    if [ -x "$verify" ] && "$verify" -k "$demo/keys/audit.key" --allow-open \
            "$demo/logs/audit.log" > "$demo/temp/verify.out" 2>&1; then
        passes=$((passes + 1))
        echo "demo check: ok   audit chain verifies ($(wc -l < "$demo/logs/audit.log") records)"
    else
        fails=$((fails + 1))
        echo "demo check: FAIL audit chain: $(cat "$demo/temp/verify.out" 2>/dev/null)"
    fi

    # the metrics: the refusals above, counted (docs/metrics.md); in a
    # container they listen on its own loopback, read from inside it
    if [ -n "${FW_DEMO_IMAGE:-}" ]; then
        got=$(podman exec "$ctr-gw" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8089
            printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
            cat <&3' 2> /dev/null | tr -d '\r' || true)
    else
        got=$(curl -s "http://127.0.0.1:$metrics_port/metrics" || true)
    fi
    if echo "$got" | grep -Eq '^fhirwall_checks_total\{module="jwt",outcome="denied",reason="missing"\} [1-9]' \
       && echo "$got" | grep -Eq '^fhirwall_checks_total\{module="ratelimit",outcome="denied",reason="limited"\} [1-9]' \
       && echo "$got" | grep -Eq '^fhirwall_audit_records_lost_total 0$'; then
        passes=$((passes + 1))
        echo "demo check: ok   metrics count the refusals (127.0.0.1:$metrics_port)"
    else
        fails=$((fails + 1))
        echo "demo check: FAIL metrics: $(echo "$got" | grep -E 'reason="(missing|limited)"|lost' | tr '\n' ' ')"
    fi

    if grep -q "$clin" "$demo/logs/audit.log" "$demo/logs/error.log"; then
        fails=$((fails + 1))
        echo "demo check: FAIL a token is in the logs"
    else
        passes=$((passes + 1))
        echo "demo check: ok   no token in the audit and error logs"
    fi

    if grep -E '\[(alert|crit|emerg)\]' "$demo/logs/error.log"; then
        fails=$((fails + 1))
        echo "demo check: FAIL alerts in the error log"
    fi

    echo "demo check: $passes passed, $fails failed"
    [ "$fails" -eq 0 ]
}
