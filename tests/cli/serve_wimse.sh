#!/bin/sh
# avow serve as a WIMSE identity server and relying-party check, over HTTP,
# on real parts: a SoftHSM2 workload key -> PKIX Evidence with a nonce the
# service issued -> an attested CSR signed in the token -> POST /wimse/issue
# (appraised, affirming; the identifier from the identifier policy; the WIT
# signed by an issuer key in the token) -> a WIT and a WIC -> a WPT made
# with the token key -> POST /wimse/check and `avow wimse verify` accept it.
# Then: the WPT replayed (refused, also after a restart), another aud, an
# extractable key and a hardware model the policy does not know (no
# credential), Evidence with a PoP instead of a CSR (a WIT only), hostile
# bodies and configurations. Skipped (77) without SoftHSM2.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"
. "$TESTS_DIR/cli/lib/serve.sh"
"$AVOW" wimse --help >/dev/null 2>&1 || { echo "SKIP: this avow has no wimse command yet"; exit 77; }

softhsm_token avow-serve-wimse
P="-pin-source env:AVOW_TEST_PIN"
ISS=https://ids.example.org
AUD=https://api.example.org/orders
AUDQ=https%3A%2F%2Fapi.example.org%2Forders

# --- the device: an AK with a certificate, the workload key, an extractable key, the issuer key ---
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=ak" -id a1 $P -pubout "$T/ak.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=wl" -id b1 $P -pubout "$T/wl.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=exp" -id c1 $P -extractable -pubout "$T/exp.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=iss" -id d1 $P -pubout "$T/iss.pub"
token_ak_cert root

# --- the service ---
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
cat >"$T/idmap.json" <<'JSON'
{"identifiers": [{"when": {"pkix:hwmodel": "SoftHSM v2"},
                  "uri": "spiffe://example.org/hsm/{pkix:hwserial}"}],
 "trust_domains": ["example.org"]}
JSON
cat >"$T/idmap-luna.json" <<'JSON'
{"identifiers": [{"when": {"pkix:hwmodel": "Luna K7"}, "uri": "spiffe://example.org/luna/{pkix:hwserial}"}]}
JSON
# serve_cfg IDMAP: the configuration in $T/serve.json
serve_cfg() {
    cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "audit_log": "$T/audit.log",
 "pkcs11_module": "$MOD", "pin_source": "env:AVOW_TEST_PIN",
 "wimse": {"issuer": "$ISS", "idmap": "$1", "issuer_key": "$TOK;object=iss",
           "replay_db": "$T/wimse-replay.db", "ttl": 900, "trust_domain": "example.org"}}
JSON
}
serve_cfg "$T/idmap.json"
# a "wimse" member without its idmap, a misspelt member or a bad result mode is refused
printf '{"ca": "%s", "plain_http": true, "wimse": {"issuer": "%s"}}\n' "$CA" "$ISS" >"$T/bad1.json"
expect_rc 1 "$AVOW" serve -config "$T/bad1.json" -CAfile "$T/root.crt" -listen 127.0.0.1:0
grep -q 'wimse.idmap' "$T/err" || fail "no idmap not named: $(cat "$T/err")"
printf '{"ca": "%s", "plain_http": true, "wimse": {"issuer": "x", "idmap": "%s", "tll": 5}}\n' \
    "$CA" "$T/idmap.json" >"$T/bad2.json"
expect_rc 1 "$AVOW" serve -config "$T/bad2.json" -CAfile "$T/root.crt" -listen 127.0.0.1:0
grep -q 'tll' "$T/err" || fail "unknown member not named: $(cat "$T/err")"
printf '{"ca": "%s", "plain_http": true, "wimse": {"issuer": "x", "idmap": "%s", "result": "all"}}\n' \
    "$CA" "$T/idmap.json" >"$T/bad3.json"
expect_rc 1 "$AVOW" serve -config "$T/bad3.json" -CAfile "$T/root.crt" -listen 127.0.0.1:0
grep -q 'wimse.result' "$T/err" || fail "bad result mode not named: $(cat "$T/err")"
printf '{"identifiers": [{"when": {}, "uri": "https://example.org/x"}]}\n' >"$T/idmap-bad.json"
printf '{"ca": "%s", "plain_http": true, "wimse": {"issuer": "x", "idmap": "%s"}}\n' \
    "$CA" "$T/idmap-bad.json" >"$T/bad4.json"
expect_rc 1 "$AVOW" serve -config "$T/bad4.json" -CAfile "$T/root.crt" -listen 127.0.0.1:0
start_server "$T/serve.json" -CAfile "$T/root.crt"

# nonce: sets N (hex), a nonce of the service's store
nonce() {
    http GET /.well-known/est/nonce
    expect_status 200
    N=$(b64url_hex "$(jq -r .nonce "$T/body")")
}
# csr_body KEYOBJ [CREDENTIALS-JSON]: an attested CSR about that key, in $T/req.json
csr_body() {
    nonce
    token_evidence "$1" "$N" "$T/ev.der" -outform DER
    expect_rc 0 "$AVOW" csr create -key "$TOK;object=$1" $P -subject "CN=workload $1" \
        -evidence "$T/ev.der" -outform DER -out "$T/req.der"
    if [ $# -gt 1 ]; then
        jq -n --arg c "$(base64 -w0 "$T/req.der")" --argjson w "$2" '{csr: $c, credentials: $w}' >"$T/req.json"
    else
        jq -n --arg c "$(base64 -w0 "$T/req.der")" '{csr: $c}' >"$T/req.json"
    fi
}
issue() {
    http POST /wimse/issue -H 'Content-Type: application/json' --data-binary "@$T/req.json"
}
problem_is() {
    expect_status "$1"
    jq -e --arg c "$2" '.code == $c or .reason_code == $c' "$T/body" >/dev/null || fail "wanted $2: $(cat "$T/body")"
    grep -qi '^content-type: application/problem+json' "$T/hdr" || fail "not a problem document"
}

# --- the identity server: an attested CSR in, a WIT and a WIC out ---
csr_body wl
issue
expect_status 200
ID=$(jq -r .identifier "$T/body")
case $ID in spiffe://example.org/hsm/?*) ;; *) fail "identifier: $(cat "$T/body")" ;; esac
jq -r .wit "$T/body" | tr -d '\n' >"$T/wit.txt"
jq -r .wic "$T/body" >"$T/wic.pem"
jq -e '.expires_in == 900 and (.serial | test("^[0-9a-f]+$"))' "$T/body" >/dev/null ||
    fail "issue answer: $(cat "$T/body")"
WIT=$(cat "$T/wit.txt")
payload "$WIT" 1 | jq -e '.typ == "wit+jwt" and .alg == "ES256"' >/dev/null || fail "WIT header"
payload "$WIT" | jq -e --arg s "$ID" --arg i "$ISS" --rawfile k "$T/wl.pub" \
    '.sub == $s and .iss == $i and .cnf.jwk.alg == "ES256" and .cnf.jwk.d == null and (.exp - .iat) == 900' \
    >/dev/null || fail "WIT claims: $(payload "$WIT")"
# the WIC: exactly one URI SAN, the identifier; the token key; chains to the CA
openssl verify -CAfile "$CA/ca.crt" "$T/wic.pem" >/dev/null 2>&1 || fail "openssl does not verify the WIC"
openssl x509 -in "$T/wic.pem" -noout -ext subjectAltName >"$T/san.txt" 2>/dev/null
[ "$(grep -o 'URI:[^,]*' "$T/san.txt" | tr -d ' \n')" = "URI:$ID" ] || fail "WIC SAN: $(cat "$T/san.txt")"
openssl x509 -in "$T/wic.pem" -noout -pubkey | cmp -s - "$T/wl.pub" || fail "WIC key is not the token key"
# the nonce was consumed: the same request again is refused
issue
problem_is 409 AVOW_ERR_NONCE_REPLAY

# --- the relying party: a WPT by the token key ---
# proof FILE [AUD]: a WPT for the WIT
proof() {
    expect_rc 0 "$AVOW" wimse proof -key "$TOK;object=wl" $P -wit "$T/wit.txt" -aud "${2:-$AUD}" -out "$1"
}
check() {
    http POST "/wimse/check?url=${2:-$AUDQ}" -H "Workload-Identity-Token: $WIT" \
        -H "Workload-Proof-Token: $(tr -d '\n' <"$1")"
}
proof "$T/wpt1.txt"
payload "$(cat "$T/wpt1.txt")" 1 | jq -e '.typ == "wpt+jwt"' >/dev/null || fail "WPT header"
check "$T/wpt1.txt"
expect_status 200
jq -e --arg i "$ID" '.authenticated == true and .identifier == $i and .trust_domain == "example.org"' \
    "$T/body" >/dev/null || fail "check: $(cat "$T/body")"
# the same WPT again: a replay
check "$T/wpt1.txt"
problem_is 401 AVOW_ERR_WIMSE_REPLAY
# a WPT for another audience
proof "$T/wpt2.txt" https://other.example.org/orders
check "$T/wpt2.txt"
problem_is 401 AVOW_ERR_WIMSE_AUD
# no WPT: a WIT is no bearer token
http POST "/wimse/check?url=$AUDQ" -H "Workload-Identity-Token: $WIT"
problem_is 401 AVOW_ERR_WIMSE_HEADER
# two WITs
proof "$T/wpt3.txt"
http POST "/wimse/check?url=$AUDQ" -H "Workload-Identity-Token: $WIT" -H "Workload-Identity-Token: $WIT" \
    -H "Workload-Proof-Token: $(cat "$T/wpt3.txt")"
problem_is 401 AVOW_ERR_WIMSE_HEADER
# no audience at all
http POST /wimse/check -H "Workload-Identity-Token: $WIT" -H "Workload-Proof-Token: $(cat "$T/wpt3.txt")"
expect_status 400
# the command line's verify: the same verdict
proof "$T/wpt4.txt"
expect_rc 0 "$AVOW" wimse verify -wit "$T/wit.txt" -wpt "$T/wpt4.txt" -aud "$AUD" -issuer-key "$T/iss.pub" \
    -issuer "$ISS" -json
jq -e --arg i "$ID" '.authenticated == true and .identifier == $i' "$T/out" >/dev/null ||
    fail "avow wimse verify: $(cat "$T/out" "$T/err")"
expect_rc 1 "$AVOW" wimse verify -wit "$T/wit.txt" -wpt "$T/wpt4.txt" -aud "$AUD" -issuer-key "$T/wl.pub" \
    -issuer "$ISS" -json

# --- no credential without an affirming appraisal of that very key ---
csr_body exp
issue
expect_status 403
jq -e '.ear_status != "affirming" and .wit == null and .wic == null' "$T/body" >/dev/null ||
    fail "extractable key: $(cat "$T/body")"
grep -q key-not-extractable "$T/body" || fail "rule not named: $(cat "$T/body")"

# --- Evidence with a PoP instead of a CSR: a WIT only ---
# ev_body KEYOBJ PUB: Evidence about the key and a PoP by it, in $T/req.json
ev_body() {
    nonce
    token_evidence "$1" "$N" "$T/ev.der" -outform DER
    expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=$1" $P -aud "$ISS/wimse/issue" -out "$T/pop.jwt"
    jq -n --arg e "$(base64 -w0 "$T/ev.der")" --rawfile k "$2" --arg p "$(cat "$T/pop.jwt")" \
        '{evidence: $e, cnf_key: $k, pop: $p}' >"$T/req.json"
}
ev_body wl "$T/wl.pub"
issue
expect_status 200
jq -e --arg i "$ID" '.identifier == $i and (.wit | startswith("ey")) and .wic == null' "$T/body" >/dev/null ||
    fail "Evidence issue: $(cat "$T/body")"
# the Evidence about one key, the cnf another: refused
ev_body wl "$T/exp.pub"
issue
[ "$STATUS" = 403 ] || [ "$STATUS" = 400 ] || fail "another cnf key: HTTP $STATUS $(cat "$T/body")"
jq -e '.wit == null' "$T/body" >/dev/null || fail "a WIT for a key the Evidence is not about"
# a CSR asking for the WIT only
csr_body wl '["wit"]'
issue
expect_status 200
jq -e '(.wit | startswith("ey")) and .wic == null' "$T/body" >/dev/null || fail "WIT only: $(cat "$T/body")"

# hostile requests: each refused with its reason, the service stays up
http POST /wimse/issue -H 'Content-Type: application/json' -d '{"csr":"AA==","bogus":1}'
expect_status 400
http POST /wimse/issue -H 'Content-Type: application/json' -d '{"csr":"AA==","credentials":["wit","wit"]}'
expect_status 400
http POST /wimse/issue -H 'Content-Type: application/json' -d '{"evidence":"AA==","credentials":["wic"]}'
expect_status 400
http POST /wimse/issue -H 'Content-Type: application/json' -d '{"csr":"AA==","evidence":"AA=="}'
expect_status 400
http POST /wimse/issue -H 'Content-Type: application/json' -d '{"csr":"!!!"}'
expect_status 400
http POST /wimse/issue -H 'Content-Type: application/json' -d '[1,2]'
expect_status 400
http POST /wimse/issue -H 'Content-Type: text/plain' -d '{}'
expect_status 415
http POST "/wimse/check?url=$AUDQ" -H "Workload-Identity-Token: $WIT~x" -H "Workload-Proof-Token: x.y.z"
expect_status 401
http GET /wimse/issue
expect_status 405
http POST /wimse/nothing
expect_status 404
alive

# --- a hardware model the identifier policy does not know: no credential ---
stop_server_clean
serve_cfg "$T/idmap-luna.json"
start_server "$T/serve.json" -CAfile "$T/root.crt"
csr_body wl
issue
problem_is 403 AVOW_ERR_WIMSE_NO_IDENTIFIER
jq -e '.wit == null and .wic == null' "$T/body" >/dev/null || fail "a credential for an unknown model"
# that consumed nothing: the same request under the right policy still works after a restart
stop_server_clean
serve_cfg "$T/idmap.json"
start_server "$T/serve.json" -CAfile "$T/root.crt"
issue
expect_status 200

# --- restart: the WPT jti set is still there ---
check "$T/wpt1.txt"
problem_is 401 AVOW_ERR_WIMSE_REPLAY
proof "$T/wpt5.txt"
check "$T/wpt5.txt"
expect_status 200
grep -q '"wimse.issue"' "$T/audit.log" || fail "no issue audit event"
grep -q '"wimse.check"' "$T/audit.log" || fail "no check audit event"
alive
stop_server_clean
echo "serve_wimse: ok"
