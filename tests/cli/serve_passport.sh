#!/bin/sh
# avow serve, the passport hand-back: a verifier session opened with
# ?passport=est gives an EAR JWT (signed by the service's CA key) about the
# device key; the attester carries it in its CSR (csr create -result) and
# EST simpleenroll issues a certificate for the device key under the
# service's own EAR key and "passport_policy". Once only; an EAR signed by a
# foreign key, a tampered one, or one for another nonce is refused.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
keygen "$T/rogue.key" ec256
openssl pkey -in "$T/dev.key" -pubout >"$T/dev.pub"
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "anchors": ["$T/root.pem"],
 "passport_policy": "$TESTS_DIR/../policies/ear-passport.json"}
JSON
start_server "$T/serve.json"

CR=/challenge-response/v1
evidence() {
    spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "k", "spki": {"hex": "$spki"}, "extractable": false, "sensitive": true,
           "never-extractable": true, "local": true}]}
JSON
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$1" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -outform DER -out "$2"
}
# passport OUT: newSession?passport=est, Evidence, the EAR JWT to OUT; sets ID
passport() {
    http POST "$CR/newSession?passport=est"
    expect_status 201
    grep -qi '^set-cookie: avow-est-nonce=' "$T/hdr" || fail "no EST nonce cookie"
    loc=$(grep -i '^location:' "$T/hdr" | tr -d '\r' | sed 's/^[^:]*: *//')
    ID=${loc##*/}
    N=$(jq -r .nonce "$T/body" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    evidence "$N" "$T/ev.der"
    key=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | base64 -w0 | tr '+/' '-_' | tr -d '=')
    http POST "$CR/session/$ID?passport=est&key=$key" -H "Content-Type: application/pkix-evidence" \
        --data-binary "@$T/ev.der"
    expect_status 200
    jq -r .result "$T/body" >"$1"
    [ -s "$1" ] || fail "no EAR"
}
enroll() {
    expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject "CN=device 1,O=avow test" -result "$1" \
        -out "$T/req.pem"
    openssl req -in "$T/req.pem" -outform DER | base64 >"$T/req.b64"
    http POST /.well-known/est/simpleenroll -H 'Content-Type: application/pkcs10' --data-binary "@$T/req.b64"
}
problem() {
    expect_status "$1"
    jq -e --arg t "$2" '.type == $t' "$T/body" >/dev/null || { cat "$T/body"; fail "problem type, wanted $2"; }
    [ -z "${3:-}" ] || grep -q "$3" "$T/body" || { cat "$T/body"; fail "no $3"; }
}

# --- the round trip ---
passport "$T/ear1.jwt"
# the passport session stays open for the CA to redeem
http GET "$CR/session/$ID"
jq -e '.status == "waiting"' "$T/body" >/dev/null || fail "passport session used before enrolment"
enroll "$T/ear1.jwt"
expect_status 200
base64 -d "$T/body" | openssl pkcs7 -inform DER -print_certs -out "$T/cert1.pem" 2>/dev/null || fail "enroll CMS"
openssl verify -CAfile "$CA/ca.crt" "$T/cert1.pem" >/dev/null 2>&1 || fail "openssl verify"
openssl x509 -in "$T/cert1.pem" -noout -pubkey >"$T/c1.pub"
cmp -s "$T/c1.pub" "$T/dev.pub" || fail "the certificate is not for the device key"
http GET "$CR/session/$ID"
jq -e '.status == "complete"' "$T/body" >/dev/null || fail "redeemed passport session not complete"
# once only
enroll "$T/ear1.jwt"
problem 409 urn:avow:problem:nonce-replay

# --- a foreign verifier's EAR (same claims, re-signed with rogue.key) ---
passport "$T/ear2.jwt"
hdr=$(printf '{"alg":"ES256","typ":"eat-jwt"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
body=$(cut -d. -f2 "$T/ear2.jwt")
printf '%s.%s' "$hdr" "$body" >"$T/signed"
openssl dgst -sha256 -sign "$T/rogue.key" -out "$T/sig.der" "$T/signed"
rs=$(openssl asn1parse -inform DER -in "$T/sig.der" | awk -F: '/INTEGER/ {print $NF}' |
    while read -r x; do printf '%064s' "$x" | tr ' ' 0; done)
sig=$(printf '%s' "$rs" | sed 's/../\\x&/g')
printf "$sig" | base64 -w0 | tr '+/' '-_' | tr -d '=' >"$T/sig.b64"
printf '%s.%s' "$(cat "$T/signed")" "$(cat "$T/sig.b64")" >"$T/foreign.jwt"
enroll "$T/foreign.jwt"
problem 403 urn:avow:problem:not-affirming AVOW_ERR_RESULT_UNTRUSTED
# --- tampered: the payload changed under the service's signature ---
p=$(cut -d. -f2 "$T/ear2.jwt" | tr '_-' '/+')
case $(( ${#p} % 4 )) in 2) p="$p==" ;; 3) p="$p=" ;; esac
printf '%s' "$p" | base64 -d | jq -c '.iat += 1' | base64 -w0 | tr '+/' '-_' | tr -d '=' >"$T/p.b64"
printf '%s.%s.%s' "$(cut -d. -f1 "$T/ear2.jwt")" "$(cat "$T/p.b64")" "$(cut -d. -f3 "$T/ear2.jwt")" >"$T/tampered.jwt"
enroll "$T/tampered.jwt"
problem 403 urn:avow:problem:not-affirming AVOW_ERR_RESULT_UNTRUSTED
# the genuine one still works (refusals left the nonce unused)
enroll "$T/ear2.jwt"
expect_status 200
# --- an EAR for another session than the cookie's ---
passport "$T/ear3.jwt"
passport "$T/ear4.jwt"
enroll "$T/ear3.jwt"
problem 403 urn:avow:problem:not-affirming AVOW_ERR_NONCE_MISMATCH
# --- a plain session's EAR (its nonce consumed, no cookie) never enrols ---
rm -f "$T/jar"
http POST "$CR/newSession"
ID=$(grep -i '^location:' "$T/hdr" | tr -d '\r' | sed 's|.*/||')
N=$(jq -r .nonce "$T/body" | base64 -d | od -An -v -tx1 | tr -d ' \n')
evidence "$N" "$T/ev5.der"
http POST "$CR/session/$ID" -H "Content-Type: application/pkix-evidence" --data-binary "@$T/ev5.der"
expect_status 200
jq -r .result "$T/body" >"$T/ear5.jwt"
enroll "$T/ear5.jwt"
problem 409 urn:avow:problem:nonce-unbound
# --- bad parameters: 400, the session unused ---
http POST "$CR/newSession?passport=cmp"
expect_status 400
http POST "$CR/newSession?passport=est"
ID=$(grep -i '^location:' "$T/hdr" | tr -d '\r' | sed 's|.*/||')
http POST "$CR/session/$ID?passport=est&key=AAAA" -H "Content-Type: application/pkix-evidence" \
    --data-binary "@$T/ev.der"
problem 400 urn:avow:problem:malformed
http POST "$CR/session/$ID?passport=est" -H "Content-Type: application/pkix-evidence" --data-binary "@$T/ev.der"
problem 400 urn:avow:problem:malformed
http GET "$CR/session/$ID"
jq -e '.status == "waiting"' "$T/body" >/dev/null || fail "a bad key used the session"
alive
stop_server_clean
echo ok
