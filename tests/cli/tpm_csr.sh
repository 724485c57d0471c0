#!/bin/sh
# A TPM-attested CSR made on a real swtpm by the CLI: avow tpm keygen (the
# key, an AK, a duplicable key), the AK certified by a test CA with openssl
# (TCG AK EKU 2.23.133.8.3), avow csr create -tpm -tpm-ak -nonce (TPM2_Certify
# over the nonce, the proof of possession signed in the TPM), then avow csr
# verify, avow ca issue and EST simpleenroll through avow serve with the
# server's nonce. Refusals, each by its reason code: wrong nonce, a key that
# is not fixedTPM, a tampered TPMT_PUBLIC (name mismatch), an untrusted AK,
# an AK certificate without its EKU. Skipped (77) only without TPM support.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"
. "$TESTS_DIR/cli/lib/swtpm.sh"

start_swtpm
make_ca

expect_rc 0 "$AVOW" tpm --help
grep -q "keygen" "$T/out" || fail "tpm --help lacks keygen"
expect_rc 0 "$AVOW" csr create --help
for o in -tpm -tpm-ak -nonce; do
    grep -q -- "^  $o" "$T/out" || fail "csr create --help lacks $o"
done

expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/dev" -pubout "$T/dev.pem"
expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/ak" -ak -pubout "$T/ak.pem"
expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/dup" -duplicable
expect_rc 0 "$AVOW" tpm pubkey -key "$T/ak" -out "$T/ak2.pem"
cmp -s "$T/ak.pem" "$T/ak2.pem" || fail "tpm pubkey differs from keygen -pubout"
# Damaged key files are refused before TPM2_Load, the field named (exit 3: malformed):
# a .pub cut by a byte, and a .priv whose integrity HMAC has SHA-1's length.
n=$(wc -c <"$T/dev.pub")
head -c $((n - 1)) "$T/dev.pub" >"$T/cut.pub"
cp "$T/dev.priv" "$T/cut.priv"
expect_rc 3 "$AVOW" tpm pubkey -key "$T/cut" -out "$T/cut.pem"
grep -q "key.pub.size" "$T/err" || fail "tpm pubkey: a cut .pub not refused at key.pub.size"
cp "$T/dev.pub" "$T/sha1.pub"
cp "$T/dev.priv" "$T/sha1.priv"
printf '\000\024' | dd of="$T/sha1.priv" bs=1 seek=2 conv=notrunc 2>/dev/null
expect_rc 3 "$AVOW" tpm certify -tpm "$TCTI" -key "$T/sha1" -tpm-ak "$T/ak" -nonce 00 -out "$T/x.der"
grep -q "key.priv.integrity" "$T/err" || fail "tpm certify: a SHA-1 integrity not refused by field"
expect_rc 2 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/x" -ak -duplicable
expect_rc 2 "$AVOW" csr create -key "$T/dev" -tpm-ak "$T/ak"

# ak_cert NAME ISSUER_PEM ISSUER_KEY EKU: the AK's certificate (+ its issuer) in $T/NAME.pem
ak_cert() {
    printf 'keyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$T/$1.ext"
    [ -n "$4" ] && printf 'extendedKeyUsage=%s\n' "$4" >>"$T/$1.ext"
    openssl x509 -new -force_pubkey "$T/ak.pem" -subj "/O=avow test/CN=TPM AK" -CA "$2" -CAkey "$3" \
        -days 365 -extfile "$T/$1.ext" -out "$T/$1.pem" 2>"$T/err" || { cat "$T/err"; fail "AK cert $1"; }
    cat "$2" >>"$T/$1.pem"
}
ak_cert akcert "$T/int.pem" "$T/int.key" 2.23.133.8.3
ak_cert akcert-noeku "$T/int.pem" "$T/int.key" ""
keygen "$T/rogue.key" ec256
openssl req -x509 -new -key "$T/rogue.key" -subj "/CN=Rogue Root" -days 30 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -out "$T/rogue.pem" 2>/dev/null
ak_cert akcert-rogue "$T/rogue.pem" "$T/rogue.key" 2.23.133.8.3

N=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
# tpm_csr KEY OUT [AKCHAIN] [NONCE]
tpm_csr() {
    expect_rc 0 "$AVOW" csr create -tpm "$TCTI" -key "$1" -tpm-ak "$T/ak" -nonce "${4:-$N}" \
        -chain "${3:-$T/akcert.pem}" -subject "CN=tpm device,O=avow test" -out "$2"
}
# refused REQ CODE: avow csr verify says 1 and names CODE
refused() {
    expect_rc 1 "$AVOW" csr verify -in "$1" -CAfile "$T/root.pem" -nonce "$N" -json
    grep -q "\"code\": \"$2\"" "$T/out" || { cat "$T/out" "$T/err" >&2; fail "$1: no $2"; }
}

# --- affirming ---
tpm_csr "$T/dev" "$T/req.pem"
openssl req -in "$T/req.pem" -noout -verify 2>&1 | grep -q "verify OK" || fail "openssl: the TPM-made POP"
expect_rc 0 "$AVOW" csr show -in "$T/req.pem"
grep -q "type 2.23.133.20.1 (tcg-attest-tpm-certify" "$T/out" || fail "show: statement"
grep -q "extra data (nonce): $N" "$T/out" || fail "show: nonce"
grep -q "fixedTPM fixedParent" "$T/out" || fail "show: attributes"
expect_rc 0 "$AVOW" csr verify -in "$T/req.pem" -CAfile "$T/root.pem" -nonce "$N"
jq -e '.ear_status == "affirming" and .submods["tcg-attest-tpm-certify"].ear_status == "affirming"' \
    "$T/out" >/dev/null || fail "verify: not affirming"
openssl req -in "$T/req.pem" -noout -pubkey >"$T/req.pub"
cmp -s "$T/req.pub" "$T/dev.pem" || fail "the request's key is not the TPM key"

# --- avow ca issue ---
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -subject "CN=avow TPM test CA"
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
CN=$(cat "$T/out")
tpm_csr "$T/dev" "$T/req-ca.pem" "$T/akcert.pem" "$CN"
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/req-ca.pem" -CAfile "$T/root.pem" -out "$T/cert.pem"
grep -q "status: affirming" "$T/out" || fail "ca issue: not affirming"
openssl verify -CAfile "$CA/ca.crt" "$T/cert.pem" >"$T/v" 2>&1 || { cat "$T/v"; fail "openssl verify"; }
expect_rc 0 "$AVOW" ca show-result -in "$T/cert.pem" -CAfile "$CA/ca.crt"
jq -e '.ear_status == "affirming" and .submods["tcg-attest-tpm-certify"].ear_status == "affirming"' \
    "$T/out" >/dev/null || fail "the certificate's result"
# the CA's nonce is used once
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/req-ca.pem" -CAfile "$T/root.pem" -out "$T/cert2.pem"

# --- refusals, each with its code ---
tpm_csr "$T/dev" "$T/wrong-nonce.pem" "$T/akcert.pem" ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100
refused "$T/wrong-nonce.pem" AVOW_ERR_NONCE_MISMATCH
tpm_csr "$T/dup" "$T/dup.pem"
refused "$T/dup.pem" AVOW_ERR_POLICY
grep -q '"key-not-extractable"\|key-not-extractable' "$T/out" || fail "duplicable: not the key rule"
tpm_csr "$T/dev" "$T/noeku.pem" "$T/akcert-noeku.pem"
refused "$T/noeku.pem" AVOW_ERR_AK_EKU
tpm_csr "$T/dev" "$T/rogue.pem" "$T/akcert-rogue.pem"
refused "$T/rogue.pem" AVOW_ERR_CHAIN
# name mismatch: userWithAuth cleared in the TPMT_PUBLIC (the statement's last part),
# the request signed anew in the TPM so that only the name is wrong
expect_rc 0 "$AVOW" tpm certify -tpm "$TCTI" -key "$T/dev" -tpm-ak "$T/ak" -nonce "$N" -out "$T/stmt.der"
n=$(wc -c <"$T/stmt.der")
p=$(wc -c <"$T/dev.pub")
off=$((n - (p - 2) + 7)) # TPMT_PUBLIC: type, nameAlg, then objectAttributes (4 bytes, big-endian)
b=$(od -An -j$off -N1 -tu1 "$T/stmt.der" | tr -d ' ')
[ $((b & 64)) -eq 64 ] || fail "objectAttributes not where expected ($b)"
printf "\\$(printf %o $((b ^ 64)))" | dd of="$T/stmt.der" bs=1 seek=$off conv=notrunc 2>/dev/null
expect_rc 0 "$AVOW" csr create -tpm "$TCTI" -key "$T/dev" -statement "2.23.133.20.1:$T/stmt.der" \
    -chain "$T/akcert.pem" -subject "CN=tpm device" -out "$T/name.pem"
refused "$T/name.pem" AVOW_ERR_TPM_NAME

# --- EST simpleenroll through avow serve, with the server's nonce ---
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "anchors": ["$T/root.pem"], "store": "sqlite",
 "access_log": "$T/access.log", "audit_log": "$T/audit.log"}
JSON
start_server "$T/serve.json"
alive
http POST /.well-known/est/nonce -H 'Content-Type: application/est-attestation-freshness+json' \
    --data '{"len": 32, "reqTypeInfo": {"type": "2.23.133.20.1"}}'
expect_status 200
SN=$(b64url_hex "$(jq -r .nonce "$T/body")")
tpm_csr "$T/dev" "$T/est.pem" "$T/akcert.pem" "$SN"
openssl req -in "$T/est.pem" -outform DER | base64 >"$T/est.b64"
http POST /.well-known/est/simpleenroll -H 'Content-Type: application/pkcs10' --data-binary "@$T/est.b64"
expect_status 200
base64 -d "$T/body" | openssl pkcs7 -inform DER -print_certs -out "$T/est-cert.pem" 2>/dev/null || fail "enroll CMS"
openssl x509 -in "$T/est-cert.pem" -noout -pubkey >"$T/est.pub"
cmp -s "$T/est.pub" "$T/dev.pem" || fail "EST certificate key is not the TPM key"
expect_rc 0 "$AVOW" ca show-result -in "$T/est-cert.pem" -CAfile "$CA/ca.crt"
jq -e '.ear_status == "affirming"' "$T/out" >/dev/null || fail "EST certificate's result"
# a duplicable key is refused by the server too
http POST /.well-known/est/nonce -H 'Content-Type: application/est-attestation-freshness+json' \
    --data '{"len": 32, "reqTypeInfo": {"type": "2.23.133.20.1"}}'
SN=$(b64url_hex "$(jq -r .nonce "$T/body")")
tpm_csr "$T/dup" "$T/est-dup.pem" "$T/akcert.pem" "$SN"
openssl req -in "$T/est-dup.pem" -outform DER | base64 >"$T/est-dup.b64"
http POST /.well-known/est/simpleenroll -H 'Content-Type: application/pkcs10' --data-binary "@$T/est-dup.b64"
expect_status 403
grep -q "key-not-extractable\|AVOW_ERR_POLICY" "$T/body" || { cat "$T/body"; fail "EST dup: reason"; }
stop_server_clean
echo ok
