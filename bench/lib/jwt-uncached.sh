# fhirwall bench: the uncached JWT cases (sourced by bench/cases/jwt-*-
# nocache.case and jwt-*-100k.case).
#
#   jwt_uncached ALG MODE
#
# MODE "nocache": one token, fw_jwt_cache 0 (a process-wide directive:
# these cases run only when named, together, see bench/jwt-uncached);
# MODE "100k": 100,000 distinct tokens in turn (each with its own jti),
# about 100 times what the default cache holds, so none is ever found
# there, compared with MODE "tokens" (jwt-<alg>-tokens): the same Lua
# script and the same tokens to a location without the module, so the
# ratio and the limit of a 100k case leave out what the client and the
# bigger header cost (the tokens case's own ratio is to plain bare).  CASE_SPEED names the `openssl speed` test of the algorithm: the
# harness computes the bare-plus-crypto ceiling from it, in the same run.

jwt_uncached() {
    local alg=$1 mode=$2 lc key pub enc=()
    lc=$(echo "$alg" | tr '[:upper:]' '[:lower:]')
    jwt_keys=$FW_ROOT/t/keys/jwt
    case $alg in
    HS256) key=$jwt_keys/hs.secret; enc=(-E base64url)
           jwt_keyline="fw_jwt_secret_file $key encoding=base64url;"
           CASE_SPEED=hmac:sha256 ;;
    RS256|PS256) key=$jwt_keys/rsa.key
           jwt_keyline="fw_jwt_key_file $jwt_keys/rsa.pub;"
           # PS256: RSA-PSS, timed by bench/verify/fw-pss-speed.c
           CASE_SPEED=rsa2048
           [ "$alg" = PS256 ] && CASE_SPEED=rsa2048-pss ;;
    ES256) key=$jwt_keys/ec256.key
           jwt_keyline="fw_jwt_key_file $jwt_keys/ec256.pub;"
           CASE_SPEED=ecdsap256 ;;
    EdDSA) key=$jwt_keys/ed25519.key
           jwt_keyline="fw_jwt_key_file $jwt_keys/ed25519.pub;"
           CASE_SPEED=ed25519 ;;
    esac
    CASE_NAME=jwt-$lc-$mode
    CASE_URL=/b/$CASE_NAME
    CASE_LOCATION="location /b/$CASE_NAME {
        fw_jwt on;
        fw_jwt_algorithms $alg;
        $jwt_keyline
        try_files /body.json =404;
    }"
    if [ "$mode" = nocache ]; then
        CASE_PROCESS_HTTP="fw_jwt_cache 0;"
        CASE_HEADERS=("Authorization: Bearer $("$FW_BUILD/tools/fw-jwt-mint" \
            -a "$alg" -k "$key" "${enc[@]}" -e 86400 -c sub=bench)")
        return
    fi
    # the tokens of an algorithm, minted once for its 100k case and the
    # baseline that sends them to a location without the module
    jwt_tokens=$BENCH_WORK/jwt-$lc.tokens
    CASE_WRK_LUA=$BENCH_WORK/$CASE_NAME.lua
    jwt_mint=("$FW_BUILD/tools/fw-jwt-mint" -a "$alg" -k "$key" "${enc[@]}"
              -e 86400 -c sub=bench -N "${BENCH_JWT_TOKENS:-100000}")
    if [ "$mode" = tokens ]; then
        # the same client (wrk's Lua, one request() per request) and the
        # same headers, no module: what the 100k case costs the client
        CASE_SPEED=""
        CASE_LOCATION="location /b/$CASE_NAME {
        try_files /body.json =404;
    }"
    else
        CASE_BASE=jwt-$lc-tokens
    fi
    case_setup() {
        [ -s "$jwt_tokens" ] || "${jwt_mint[@]}" > "$jwt_tokens"
        cat > "$CASE_WRK_LUA" <<_LUA_
local tokens = {}
for line in io.lines("$jwt_tokens") do
    tokens[#tokens + 1] = "Bearer " .. line
end
local i = math.random(#tokens)
request = function()
    i = i % #tokens + 1
    return wrk.format("GET", "$CASE_URL", { ["Authorization"] = tokens[i] })
end
_LUA_
    }
}
