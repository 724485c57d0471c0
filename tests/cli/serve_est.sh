#!/bin/sh
# avow serve, EST: a SoftHSM2 token key enrols over plain HTTP with curl
# (nonce -> Evidence about the token key -> attested CSR signed in the token ->
# simpleenroll -> certs-only CMS); openssl verifies the certificate and avow
# reads its EAR. Then the refusals of the CLI tests, each with its status and
# problem document: replay, a nonce never issued, an untrusted AK, an
# extractable key, a broken proof of possession, a key the Evidence is not
# about, a nonce without its client's cookie; and malformed requests. Skipped (77) without SoftHSM2.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

softhsm_token avow-serve
P11="-pkcs11-module $MOD -pin-source env:AVOW_TEST_PIN"

make_ca
make_ak ak ec256
expect_rc 0 "$AVOW" keygen $P11 -token-uri "$TOK;object=dev" -id d1 -pubout "$T/dev.pub"
expect_rc 0 "$AVOW" keygen $P11 -token-uri "$TOK;object=loose" -id d2 -extractable -pubout "$T/loose.pub"
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -subject "CN=avow serve test CA"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "anchors": ["$T/root.pem"],
 "access_log": "$T/access.log", "audit_log": "$T/audit.log",
 "est": {"cert_eku": "clientAuth"}, "store": "sqlite"}
JSON
start_server "$T/serve.json"
alive

# --- cacerts: the CA certificate as certs-only CMS, base64 ---
http GET /.well-known/est/cacerts
expect_status 200
grep -qi '^content-type: application/pkcs7-mime; smime-type=certs-only' "$T/hdr" || fail "cacerts type"
base64 -d "$T/body" >"$T/cacerts.der" || fail "cacerts is not base64"
openssl pkcs7 -inform DER -in "$T/cacerts.der" -print_certs -out "$T/cacerts.pem" 2>/dev/null || fail "cacerts CMS"
[ "$(openssl x509 -in "$T/cacerts.pem" -noout -fingerprint -sha256)" = \
  "$(openssl x509 -in "$CA/ca.crt" -noout -fingerprint -sha256)" ] || fail "cacerts is not the CA"

# --- csrattrs names id-aa-attestation ---
http GET /.well-known/est/csrattrs
expect_status 200
base64 -d "$T/body" | openssl asn1parse -inform DER | grep -q "1.2.840.113549.1.9.16.2.59" ||
    fail "csrattrs does not name the attestation attribute"

# --- the nonce (attestation-freshness-08) ---
# nonce: POSTs the -08 request, sets N (hex) from the answer
nonce() {
    http POST /.well-known/est/nonce -H 'Content-Type: application/est-attestation-freshness+json' \
        --data '{"len": 32, "reqTypeInfo": {"type": "1.3.6.1.5.5.999"}}'
    expect_status 200
    grep -qi '^content-type: application/est-attestation-freshness+json' "$T/hdr" || fail "nonce media type"
    jq -e '(.nonce | test("^[A-Za-z0-9_-]{43}$")) and .expiry == 300 and .respTypeInfo.type == "1.3.6.1.5.5.999"' \
        "$T/body" >/dev/null || { cat "$T/body"; fail "nonce answer"; }
    N=$(b64url_hex "$(jq -r .nonce "$T/body")")
}
http GET /.well-known/est/nonce
expect_status 200
jq -e '.nonce | length == 43' "$T/body" >/dev/null || fail "GET nonce"

# evidence URI NONCE OUT [AKNAME]: Evidence about a token key, signed by the AK
evidence() {
    expect_rc 0 "$AVOW" evidence create $P11 -attest-key "$1" -nonce "$2" \
        -signkey "$T/${4:-ak}.key" -signcert "$T/${4:-ak}.pem" -out "$3"
}
# csr URI EVIDENCE OUT: the attested request, signed in the token, base64 DER
csr() {
    expect_rc 0 "$AVOW" csr create $P11 -key "$1" -subject "CN=device 1,O=avow test" \
        -evidence "$2" -chain "$T/int.pem" -out "$3.pem"
    openssl req -in "$3.pem" -outform DER -out "$3.der"
    base64 <"$3.der" >"$3.b64"
}
enroll() {
    http POST /.well-known/est/simpleenroll -H 'Content-Type: application/pkcs10' --data-binary "@$1"
}

# --- affirming: a certificate with the EAR ---
nonce
N1=$N
evidence "$TOK;object=dev" "$N1" "$T/ev1.pem"
csr "$TOK;object=dev" "$T/ev1.pem" "$T/req1"
enroll "$T/req1.b64"
expect_status 200
grep -qi '^content-type: application/pkcs7-mime; smime-type=certs-only' "$T/hdr" || fail "enroll type"
base64 -d "$T/body" | openssl pkcs7 -inform DER -print_certs -out "$T/cert1.pem" 2>/dev/null || fail "enroll CMS"
openssl verify -CAfile "$CA/ca.crt" "$T/cert1.pem" >"$T/verify" 2>&1 || { cat "$T/verify"; fail "openssl verify"; }
openssl x509 -in "$T/cert1.pem" -noout -pubkey >"$T/c1.pub"
cmp -s "$T/c1.pub" "$T/dev.pub" || fail "certificate key is not the token key"
openssl x509 -in "$T/cert1.pem" -noout -text | grep -q "TLS Web Client Authentication" || fail "est.cert_eku"
expect_rc 0 "$AVOW" ca show-result -in "$T/cert1.pem" -CAfile "$CA/ca.crt"
jq -e '.ear_status == "affirming"' "$T/out" >/dev/null || fail "EAR in the certificate"
SN1=$(openssl x509 -in "$T/cert1.pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
expect_rc 0 "$AVOW" ca list -dir "$CA" -json
jq -e '.[0].serial == "'"$SN1"'" and .[0].nonce == "'"$N1"'"' "$T/out" >/dev/null || fail "ledger row"

# refused: problem STATUS TYPE REASON
problem() {
    expect_status "$1"
    grep -qi '^content-type: application/problem+json' "$T/hdr" || fail "not a problem document"
    jq -e --arg t "$2" --arg r "$3" --argjson s "$1" \
        '.type == $t and .status == $s and (.reason_code == $r or .code == $r or ([.reasons[]?.code] | index($r) != null))' \
        "$T/body" >/dev/null || { cat "$T/body"; fail "problem: wanted $1 $2 $3"; }
}

# --- replay: the same request again ---
enroll "$T/req1.b64"
problem 409 urn:avow:problem:nonce-replay AVOW_ERR_NONCE_REPLAY
jq -e '.code == "AVOW_ERR_NOT_AFFIRMING" and (.ear | split(".") | length == 3)' "$T/body" >/dev/null ||
    fail "replay problem without the EAR"

# --- a nonce this client did not fetch: the Evidence must carry the cookie's nonce ---
nonce
evidence "$TOK;object=dev" 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff "$T/ev2.pem"
csr "$TOK;object=dev" "$T/ev2.pem" "$T/req2"
enroll "$T/req2.b64"
problem 403 urn:avow:problem:not-affirming AVOW_ERR_NONCE_MISMATCH

# --- the nonce is tied to the client that fetched it (attestation-freshness-08) ---
nonce
N7=$N
grep -q 'avow-est-nonce' "$T/jar" || fail "the nonce answer set no cookie"
grep -qi '^set-cookie: avow-est-nonce=.*HttpOnly; SameSite=Strict' "$T/hdr" || fail "cookie attributes"
evidence "$TOK;object=dev" "$N7" "$T/ev7.pem"
csr "$TOK;object=dev" "$T/ev7.pem" "$T/req7"
mv "$T/jar" "$T/jar.mine"
enroll "$T/req7.b64"
problem 409 urn:avow:problem:nonce-unbound AVOW_ERR_NONCE_UNKNOWN
# a stranger's copy of the cookie with another nonce in it (the MAC no longer holds)
sed 's/\(avow-est-nonce\t\)[A-Za-z0-9_-]\{4\}/\1AAAA/' "$T/jar.mine" >"$T/jar"
enroll "$T/req7.b64"
problem 409 urn:avow:problem:nonce-unbound AVOW_ERR_NONCE_UNKNOWN
mv "$T/jar.mine" "$T/jar"
enroll "$T/req7.b64"
expect_status 200

# --- an AK that chains to no anchor of the service ---
keygen "$T/rogue.key" ec256
openssl req -x509 -new -key "$T/rogue.key" -subj "/CN=rogue AK" -days 30 \
    -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=$AK_EKU" \
    -out "$T/rogue.pem" 2>/dev/null
nonce
evidence "$TOK;object=dev" "$N" "$T/ev3.pem" rogue
csr "$TOK;object=dev" "$T/ev3.pem" "$T/req3"
enroll "$T/req3.b64"
problem 403 urn:avow:problem:not-affirming AVOW_ERR_CHAIN

# --- an extractable key: the default policy's rule ---
nonce
evidence "$TOK;object=loose" "$N" "$T/ev4.pem"
csr "$TOK;object=loose" "$T/ev4.pem" "$T/req4"
enroll "$T/req4.b64"
problem 403 urn:avow:problem:not-affirming AVOW_ERR_POLICY
jq -e '.rule | length > 0' "$T/body" >/dev/null || fail "the failed rule is not named"

# --- a broken proof of possession (one byte of the signature flipped) ---
nonce
N5=$N
evidence "$TOK;object=dev" "$N5" "$T/ev5.pem"
csr "$TOK;object=dev" "$T/ev5.pem" "$T/req5"
size=$(stat -c %s "$T/req5.der")
off=$((size - 3))
b=$(od -An -tu1 -j "$off" -N1 "$T/req5.der" | tr -d ' ')
cp "$T/req5.der" "$T/forged.der"
printf "\\$(printf %03o $((b ^ 1)))" | dd of="$T/forged.der" bs=1 seek="$off" conv=notrunc 2>/dev/null
base64 <"$T/forged.der" >"$T/forged.b64"
enroll "$T/forged.b64"
problem 403 urn:avow:problem:not-affirming AVOW_ERR_POP
# ... which did not burn the honest nonce
enroll "$T/req5.b64"
expect_status 200

# --- key binding: Evidence about one key, a request for another ---
nonce
evidence "$TOK;object=loose" "$N" "$T/ev6.pem"
csr "$TOK;object=dev" "$T/ev6.pem" "$T/req6"
enroll "$T/req6.b64"
problem 403 urn:avow:problem:not-affirming AVOW_ERR_KEY_BINDING

# --- malformed requests ---
enroll "$T/req1.der"
problem 400 urn:avow:problem:malformed AVOW_ERR_BASE64
http POST /.well-known/est/simpleenroll -H 'Content-Type: text/plain' --data-binary "@$T/req1.b64"
problem 415 urn:avow:problem:media-type AVOW_ERR_CONTENT_TYPE
printf 'MIIB' >"$T/short.b64"
enroll "$T/short.b64"
expect_status 400
http GET /.well-known/est/simpleenroll
expect_status 405
grep -qi '^allow: POST' "$T/hdr" || fail "405 without Allow"
http POST /.well-known/est/nonce -H 'Content-Type: application/est-attestation-freshness+json' --data '{"len": 4}'
expect_status 400
http POST /.well-known/est/nonce -H 'Content-Type: application/est-attestation-freshness+json' --data '[{"len": 8}]'
expect_status 400
http POST /.well-known/est/nonce -H 'Content-Type: application/est-attestation-freshness+json' --data '{"len": 8, "len": 9}'
expect_status 400
http POST /.well-known/est/nonce -H 'Content-Type: application/est-attestation-freshness+json' --data '{"len": 8}'
expect_status 200
[ "$(jq -r .nonce "$T/body" | wc -c)" -eq 23 ] || fail "len 8 does not give the store's 16 octets"
alive

# --- operations: metrics, logs ---
http GET /metrics
expect_status 200
grep -q 'avow_http_requests_total{route="est_simpleenroll",status="200"} 3' "$T/body" || { cat "$T/body"; fail "metrics: enrolments"; }
grep -q 'avow_appraisal_reasons_total{code="AVOW_ERR_NONCE_REPLAY"} 1' "$T/body" || fail "metrics: reasons"
grep -q 'avow_appraisals_total{status="affirming"} 3' "$T/body" || fail "metrics: outcomes"
grep -q 'avow_http_request_duration_seconds_bucket{route="est_simpleenroll",le="+Inf"}' "$T/body" || fail "metrics: latency"
stop_server_clean
[ "$(grep -c '"event":"est.enroll"' "$T/audit.log")" -ge 10 ] || fail "audit log"
grep '"serial":"'"$SN1"'"' "$T/audit.log" | jq -e '.status == 200 and .ear_status == "affirming"' >/dev/null ||
    fail "audit line of the first certificate"
jq -s -e 'all(.[]; .method and .status and .route)' "$T/access.log" >/dev/null || fail "access log lines"
echo ok
