#!/bin/sh
# The real `openssl cmp` client (Debian's OpenSSL) against `avow serve` on
# 127.0.0.1 (POST /pkix/, the "cmp" member of the configuration): a genm
# nonce request under the placeholder OIDs registered in an OpenSSL config,
# p10cr and ir carrying attested requests under MAC protection, each
# confirmed (certConf) and in the ledger; a replayed nonce and an
# extractable key refused with their failInfo and the avow reason in the
# status text; a wrong secret and a non-CMP body refused; audit and metrics.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"
if ! openssl cmp -help >/dev/null 2>&1; then
    echo "SKIP: this openssl has no cmp command" >&2
    exit 77
fi

CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -subject "CN=avow CMP CA,O=avow test"
make_ca
make_ak ak ec256
keygen "$T/dev1.key" ec256
keygen "$T/dev2.key" ec256
keygen "$T/dev3.key" ec256

# evidence KEY NONCE EXTRACTABLE OUT; csr KEY EVIDENCE OUT (as in ca_issue.sh)
evidence() {
    spki=$(openssl pkey -in "$1" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "device-key", "spki": {"hex": "$spki"}, "extractable": $3, "sensitive": true,
           "never-extractable": $(if [ "$3" = true ]; then echo false; else echo true; fi), "local": true}]}
JSON
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$2" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$4"
}
csr() {
    expect_rc 0 "$AVOW" csr create -key "$1" -subject "CN=device,O=avow test" -evidence "$2" \
        -chain "$T/int.pem" -out "$3"
}
nonce() {
    expect_rc 0 "$AVOW" ca nonce -dir "$CA"
    cat "$T/out"
}

printf 'cmp-s3cret\n' >"$T/secret"
chmod 600 "$T/secret"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "anchors": ["$T/root.pem"], "audit_log": "$T/audit.log",
 "cmp": {"secret": "file:$T/secret"}}
JSON
start_server "$T/serve.json"
# An OpenSSL config naming the placeholder info types, for -infotype; the -reqexts section
# is appended per request.
cat >"$T/cmp.cnf" <<'CNF'
openssl_conf = init
[init]
oid_section = avow_oids
[avow_oids]
id-it-nonceRequest = 1.3.6.1.5.5.7.4.999
id-it-nonceResponse = 1.3.6.1.5.5.7.4.1000
CNF

# cmpc ARGS...: openssl cmp against the server, MAC-protected with the shared secret.
cmpc() {
    set +e
    OPENSSL_CONF="$T/cmp.cnf" openssl cmp -server "127.0.0.1:$PORT" -path pkix/ \
        -secret pass:cmp-s3cret -ref device -recipient "/CN=avow CMP CA/O=avow test" "$@" \
        >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    return 0
}

# --- genm: a freshness nonce (OpenSSL 3.0 prints only the info types it got) ---
cmpc -cmd genm -infotype nonceRequest
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" "$T/serve.err" >&2; fail "genm failed"; }
grep -q "nonceResponse" "$T/out" "$T/err" || { cat "$T/out" "$T/err" >&2; fail "genp without the nonce response"; }

# --- p10cr: the attested PKCS#10 as is ---
evidence "$T/dev1.key" "$(nonce)" false "$T/ev1.pem"
csr "$T/dev1.key" "$T/ev1.pem" "$T/req1.pem"
cmpc -cmd p10cr -csr "$T/req1.pem" -certout "$T/cert1.pem"
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" "$T/serve.err" >&2; fail "p10cr failed"; }
openssl verify -CAfile "$CA/ca.crt" "$T/cert1.pem" >/dev/null 2>&1 || fail "p10cr certificate does not verify"
openssl x509 -in "$T/cert1.pem" -noout -text | grep -q "1.3.6.1.5.5.7.1.35" || fail "no CMW extension"
jq -se 'map(select(.event == "cmp.certConf" and .response == "pkiconf")) | length == 1' "$T/audit.log" \
    >/dev/null || { cat "$T/audit.log" >&2; fail "no certConf after the cp"; }
jq -se 'map(select(.event == "cmp.p10cr" and .ear_status == "affirming" and (.serial | length > 0))) | length == 1' \
    "$T/audit.log" >/dev/null || { cat "$T/audit.log" >&2; fail "p10cr not audited"; }

# --- ir: the same attestation in the CRMF extension, the key proven by openssl ---
evidence "$T/dev2.key" "$(nonce)" false "$T/ev2.pem"
csr "$T/dev2.key" "$T/ev2.pem" "$T/req2.pem"
# The AttestationBundle: the SEQUENCE inside the SET after the attribute's OID in the PKCS#10.
openssl req -in "$T/req2.pem" -outform DER -out "$T/req2.der"
at=$(openssl asn1parse -inform DER -in "$T/req2.der" |
    awk '/:1\.2\.840\.113549\.1\.9\.16\.2\.59$/ { f = 1; next }
         f == 1 && /SET/ { f = 2; next }
         f == 2 { split($0, a, ":"); off = a[1] + 0; sub(/.*hl= */, ""); hl = $1 + 0;
                  sub(/^[0-9]+ *l= */, ""); print off, hl + $1; exit }')
[ -n "$at" ] || fail "no attestation attribute in req2"
set -- $at
hex=$(dd if="$T/req2.der" bs=1 skip="$1" count="$2" 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
[ "${#hex}" -eq $(($2 * 2)) ] || fail "attestation bundle not cut out"
printf '[attest]\n1.2.840.113549.1.9.16.2.59 = DER:%s\n' "$hex" >>"$T/cmp.cnf"
cmpc -cmd ir -newkey "$T/dev2.key" -subject "/CN=device 2/O=avow test" -reqexts attest \
    -certout "$T/cert2.pem"
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" "$T/serve.err" >&2; fail "ir failed"; }
openssl verify -CAfile "$CA/ca.crt" "$T/cert2.pem" >/dev/null 2>&1 || fail "ir certificate does not verify"
openssl x509 -in "$T/cert2.pem" -noout -pubkey >"$T/c2.pub"
openssl pkey -in "$T/dev2.key" -pubout >"$T/d2.pub"
cmp -s "$T/c2.pub" "$T/d2.pub" || fail "ir certificate is not for the requested key"

expect_rc 0 "$AVOW" ca list -dir "$CA" -json
[ "$(jq length "$T/out")" -eq 2 ] || fail "the ledger does not hold both certificates"

# --- a replayed nonce: rejected, badRequest, the reason named ---
cmpc -cmd p10cr -csr "$T/req1.pem" -certout "$T/cert1b.pem"
[ "$rc" -ne 0 ] || fail "a replayed request was enrolled"
grep -q "rejection" "$T/out" "$T/err" || { cat "$T/out" "$T/err" >&2; fail "replay: no rejection"; }
grep -q "badRequest" "$T/out" "$T/err" || { cat "$T/out" "$T/err" >&2; fail "replay: failInfo is not badRequest"; }
grep -q "AVOW_ERR_NONCE_REPLAY" "$T/out" "$T/err" || { cat "$T/out" "$T/err" >&2; fail "replay: reason not named"; }
[ ! -e "$T/cert1b.pem" ] || fail "a certificate was written for the replay"

# --- an extractable key: contraindicated, notAuthorized, the rule named ---
evidence "$T/dev3.key" "$(nonce)" true "$T/ev3.pem"
csr "$T/dev3.key" "$T/ev3.pem" "$T/req3.pem"
cmpc -cmd p10cr -csr "$T/req3.pem" -certout "$T/cert3.pem"
[ "$rc" -ne 0 ] || fail "an extractable key was enrolled"
grep -q "notAuthorized" "$T/out" "$T/err" || { cat "$T/out" "$T/err" >&2; fail "extractable: failInfo is not notAuthorized"; }
grep -q "contraindicated" "$T/out" "$T/err" || { cat "$T/out" "$T/err" >&2; fail "extractable: tier not named"; }
grep -q "rule " "$T/out" "$T/err" || { cat "$T/out" "$T/err" >&2; fail "extractable: rule not named"; }

# --- a wrong shared secret: refused by the framework, nothing issued ---
set +e
OPENSSL_CONF="$T/cmp.cnf" openssl cmp -server "127.0.0.1:$PORT" -path pkix/ -secret pass:wrong \
    -ref device -recipient "/CN=avow CMP CA/O=avow test" -cmd p10cr -csr "$T/req3.pem" \
    -certout "$T/cert4.pem" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 0 ] && [ ! -e "$T/cert4.pem" ] || fail "a request under the wrong secret was enrolled"
expect_rc 0 "$AVOW" ca list -dir "$CA" -json
[ "$(jq length "$T/out")" -eq 2 ] || fail "the ledger grew from refused requests"

# --- HTTP: not CMP, wrong media type, wrong method; the service answers on ---
printf '\060\003\002\001\000' >"$T/junk.der"
http POST /pkix/ -H 'Content-Type: application/pkixcmp' --data-binary @"$T/junk.der"
expect_status 400
jq -e '.type == "urn:avow:problem:malformed"' "$T/body" >/dev/null || fail "junk: problem type"
# /pkix/ takes AVOW_CMP_MAX_MESSAGE (1.25 MiB) though limits.body_bytes is 256 KiB; beyond, 413
head -c 300000 /dev/zero >"$T/big.der"
http POST /pkix/ -H 'Content-Type: application/pkixcmp' --data-binary @"$T/big.der"
expect_status 400
head -c 1400000 /dev/zero >"$T/huge.der"
http POST /pkix/ -H 'Content-Type: application/pkixcmp' --data-binary @"$T/huge.der"
expect_status 413
http POST /.well-known/est/simpleenroll -H 'Content-Type: application/pkcs10' --data-binary @"$T/big.der"
expect_status 413
http POST /pkix/ -H 'Content-Type: application/octet-stream' --data-binary @"$T/junk.der"
expect_status 415
http GET /pkix/
expect_status 405
http GET /metrics
grep -q 'avow_http_requests_total{route="pkix",status="200"}' "$T/body" || fail "no pkix metrics"
grep -q 'avow_appraisals_total{status="contraindicated"} [1-9]' "$T/body" || fail "no CMP outcome metrics"
alive
stop_server_clean
echo "ok"
