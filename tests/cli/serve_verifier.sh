#!/bin/sh
# avow serve, the verifier API (Veraison-shaped challenge-response): a new
# session gives a nonce, Evidence carrying it is posted to the session and
# answered with the EAR as a JWT signed by the service's CA key; the session
# completes once, unknown sessions are 404, a wrong nonce or an untrusted AK
# give a contraindicated EAR, wrong media types are 415.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "nonce": {"ttl": 120}, "audit_log": "$T/audit.log"}
JSON
# anchors from the command line this time
start_server "$T/serve.json" -CAfile "$T/root.pem"

CR=/challenge-response/v1
# evidence NONCE OUT [AK]: DER Evidence about dev.key
evidence() {
    spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "k", "spki": {"hex": "$spki"}, "extractable": false, "sensitive": true,
           "never-extractable": true, "local": true}]}
JSON
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$1" \
        -signkey "$T/${3:-ak}.key" -signcert "$T/${3:-ak}.pem" -chain "$T/int.pem" -outform DER -out "$2"
}
# session: sets ID (the Location's last part) and N (the nonce in hex)
session() {
    http POST "$CR/newSession$1"
    expect_status 201
    jq -e '.status == "waiting" and (.accept | index("application/pkix-evidence") != null) and (.expiry | test("Z$"))' \
        "$T/body" >/dev/null || { cat "$T/body"; fail "newSession body"; }
    loc=$(grep -i '^location:' "$T/hdr" | tr -d '\r' | sed 's/^[^:]*: *//')
    case $loc in "$CR/session/"*) ;; *) fail "Location: $loc" ;; esac
    ID=${loc##*/}
    N=$(jq -r .nonce "$T/body" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    [ "$(b64url_hex "$ID")" = "$N" ] || fail "session id and nonce differ"
}
post_ev() {
    http POST "$CR/session/$1" -H "Content-Type: ${3:-application/pkix-evidence}" --data-binary "@$2"
}

# --- round trip: affirming ---
session ""
[ ${#N} -eq 64 ] || fail "default nonce size"
http GET "$CR/session/$ID"
expect_status 200
jq -e '.status == "waiting"' "$T/body" >/dev/null || fail "fresh session not waiting"
evidence "$N" "$T/ev1.der"
post_ev "$ID" "$T/ev1.der"
expect_status 200
jq -e '.status == "complete" and .evidence.type == "application/pkix-evidence" and (.result | split(".") | length == 3)' \
    "$T/body" >/dev/null || { cat "$T/body"; fail "complete session"; }
jq -r .result "$T/body" >"$T/ear1.jwt"
# the JWT verifies under the CA key, and its EAR is affirming with the session's nonce
openssl x509 -in "$CA/ca.crt" -noout -pubkey >"$T/ca.pub"
payload=$(cut -d. -f2 "$T/ear1.jwt" | tr '_-' '/+')
case $(( ${#payload} % 4 )) in 2) payload="$payload==" ;; 3) payload="$payload=" ;; esac
printf '%s' "$payload" | base64 -d >"$T/ear1.json"
jq -e '.ear_status == "affirming"' "$T/ear1.json" >/dev/null || { cat "$T/ear1.json"; fail "EAR not affirming"; }
[ "$(b64url_hex "$(jq -r .eat_nonce "$T/ear1.json")")" = "$N" ] || fail "EAR nonce is not the session's"
hdr=$(cut -d. -f1 "$T/ear1.jwt" | tr '_-' '/+')
case $(( ${#hdr} % 4 )) in 2) hdr="$hdr==" ;; 3) hdr="$hdr=" ;; esac
printf '%s' "$hdr" | base64 -d | jq -e '.alg == "ES256"' >/dev/null || fail "JWT alg"
# signature: r||s to DER, then openssl
sig=$(cut -d. -f3 "$T/ear1.jwt" | tr '_-' '/+')
case $(( ${#sig} % 4 )) in 2) sig="$sig==" ;; 3) sig="$sig=" ;; esac
hex=$(printf '%s' "$sig" | base64 -d | od -An -v -tx1 | tr -d ' \n')
r=$(echo "$hex" | cut -c1-64)
s=$(echo "$hex" | cut -c65-128)
printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "$r" "$s" >"$T/sig.cnf"
openssl asn1parse -genconf "$T/sig.cnf" -out "$T/sig.der" >/dev/null
printf '%s' "$(cut -d. -f1,2 "$T/ear1.jwt")" >"$T/signed.txt"
openssl dgst -sha256 -verify "$T/ca.pub" -signature "$T/sig.der" "$T/signed.txt" >/dev/null ||
    fail "the EAR JWT does not verify under the CA key"

# --- once only ---
http GET "$CR/session/$ID"
jq -e '.status == "complete"' "$T/body" >/dev/null || fail "GET after completion"
post_ev "$ID" "$T/ev1.der"
expect_status 409
jq -e '.type == "urn:avow:problem:session-complete"' "$T/body" >/dev/null || fail "second POST"

# --- Evidence for another nonce: contraindicated, and the session is used ---
session "?nonceSize=16"
[ ${#N} -eq 32 ] || fail "nonceSize=16"
evidence 00112233445566778899aabbccddeeff "$T/ev2.der"
post_ev "$ID" "$T/ev2.der"
expect_status 200
jq -r .result "$T/body" | cut -d. -f2 | tr '_-' '/+' >"$T/p2"
p=$(cat "$T/p2"); case $(( ${#p} % 4 )) in 2) p="$p==" ;; 3) p="$p=" ;; esac
printf '%s' "$p" | base64 -d | jq -e '.ear_status != "affirming" and ([.submods[].avow_reasons[]?.code] | index("AVOW_ERR_NONCE_MISMATCH") != null)' >/dev/null ||
    fail "wrong nonce not refused in the EAR"

# --- an untrusted AK ---
keygen "$T/rogue.key" ec256
openssl req -x509 -new -key "$T/rogue.key" -subj "/CN=rogue AK" -days 30 \
    -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=$AK_EKU" \
    -out "$T/rogue.pem" 2>/dev/null
session ""
evidence "$N" "$T/ev3.der" rogue
post_ev "$ID" "$T/ev3.der"
expect_status 200
p=$(jq -r .result "$T/body" | cut -d. -f2 | tr '_-' '/+'); case $(( ${#p} % 4 )) in 2) p="$p==" ;; 3) p="$p=" ;; esac
printf '%s' "$p" | base64 -d | jq -e '.ear_status == "contraindicated"' >/dev/null || fail "untrusted AK affirmed"

# --- refusals before any appraisal ---
session ""
post_ev "$ID" "$T/ev1.der" application/json
expect_status 415
http GET "$CR/session/$ID"
jq -e '.status == "waiting"' "$T/body" >/dev/null || fail "a refused media type used the session"
printf 'garbage' >"$T/junk.der"
post_ev "$ID" "$T/junk.der"
expect_status 200
p=$(jq -r .result "$T/body" | cut -d. -f2 | tr '_-' '/+'); case $(( ${#p} % 4 )) in 2) p="$p==" ;; 3) p="$p=" ;; esac
printf '%s' "$p" | base64 -d | jq -e '.ear_status != "affirming"' >/dev/null || fail "garbage affirmed"
post_ev AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "$T/ev1.der"
expect_status 404
post_ev "not-base64!" "$T/ev1.der"
expect_status 404
http POST "$CR/newSession?nonceSize=8"
expect_status 400
http POST "$CR/newSession?nonce=AAAA"
expect_status 400
http GET "$CR/newSession"
expect_status 405
# CMP is off without "cmp" in the configuration (tests/cli/cmp_openssl.sh has it on)
http POST /pkix/ -H 'Content-Type: application/pkixcmp' --data-binary 'x'
expect_status 404
# --- sessions in parallel: every one completes once, affirming ---
i=0
while [ $i -lt 12 ]; do
    session ""
    evidence "$N" "$T/par$i.der"
    echo "$ID" >"$T/par$i.id"
    i=$((i + 1))
done
pids=""
i=0
while [ $i -lt 12 ]; do
    curl -s -o "$T/par$i.out" -w '%{http_code}' -H 'Content-Type: application/pkix-evidence' \
        --data-binary "@$T/par$i.der" "$BASE$CR/session/$(cat "$T/par$i.id")" >"$T/par$i.status" &
    pids="$pids $!"
    i=$((i + 1))
done
for p in $pids; do wait "$p" || true; done
i=0
while [ $i -lt 12 ]; do
    [ "$(cat "$T/par$i.status")" = 200 ] || fail "parallel session $i: $(cat "$T/par$i.status")"
    p=$(jq -r .result "$T/par$i.out" | cut -d. -f2 | tr '_-' '/+'); case $(( ${#p} % 4 )) in 2) p="$p==" ;; 3) p="$p=" ;; esac
    printf '%s' "$p" | base64 -d | jq -e '.ear_status == "affirming"' >/dev/null || fail "parallel session $i not affirming"
    i=$((i + 1))
done
alive
stop_server_clean
[ "$(grep -c '"event":"cr.appraise"' "$T/audit.log")" -eq 16 ] || { cat "$T/audit.log"; fail "audit of sessions"; }
[ "$(grep '"event":"cr.appraise"' "$T/audit.log" | grep -c '"ear_status":"affirming"')" -eq 13 ] || fail "audit: affirming sessions"
echo ok
