#!/bin/sh
# What must not verify, and the exit status and message each failure gives.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

make_ca
make_ak ak ec256
expect_rc 0 "$AVOW" evidence create -nonce 0102 -vendor Acme -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -chain "$T/int.pem" -outform DER -out "$T/ev.der"

# wrong nonce, missing nonce: 1
expect_rc 1 "$AVOW" evidence verify -in "$T/ev.der" -CAfile "$T/root.pem" -nonce 0103
grep -q "AVOW_ERR_NONCE_MISMATCH" "$T/err" || fail "nonce mismatch not named"
grep -q "^avow: .*: .* (AVOW_ERR_NONCE_MISMATCH)$" "$T/err" || fail "error line format"
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -chain "$T/int.pem" -out "$T/nononce.pem"
expect_rc 1 "$AVOW" evidence verify -in "$T/nononce.pem" -CAfile "$T/root.pem" -require-nonce

# an anchor that did not issue the chain: 1
keygen "$T/other.key" ec256
openssl req -x509 -new -key "$T/other.key" -subj "/CN=Other Root" -days 30 -out "$T/other.pem" 2>/dev/null
expect_rc 1 "$AVOW" evidence verify -in "$T/ev.der" -CAfile "$T/other.pem"
grep -q "AVOW_ERR_CHAIN" "$T/err" || fail "untrusted chain not named"
expect_rc 1 "$AVOW" evidence verify -in "$T/ev.der" -CAfile "$T/other.pem" --json
grep -q '"trusted": false' "$T/out" || fail "JSON verdict"

# a signer certificate without the attestation-key EKU: 1
keygen "$T/noeku.key" ec256
openssl req -new -key "$T/noeku.key" -subj "/CN=not an AK" -out "$T/noeku.csr" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$T/noeku.ext"
openssl x509 -req -in "$T/noeku.csr" -CA "$T/int.pem" -CAkey "$T/int.key" -CAcreateserial \
    -days 30 -extfile "$T/noeku.ext" -out "$T/noeku.pem" 2>/dev/null
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/noeku.key" -signcert "$T/noeku.pem" \
    -chain "$T/int.pem" -out "$T/noeku.ev"
expect_rc 1 "$AVOW" evidence verify -in "$T/noeku.ev" -CAfile "$T/root.pem"
grep -q "AVOW_ERR_AK_EKU" "$T/out" || fail "missing EKU not reported"

# an attestation-key certificate that is a CA: 1, unless -allow-ak-ca
keygen "$T/caak.key" ec256
openssl req -new -key "$T/caak.key" -subj "/CN=CA AK" -out "$T/caak.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=%s\n' \
    "$AK_EKU" >"$T/caak.ext"
openssl x509 -req -in "$T/caak.csr" -CA "$T/int.pem" -CAkey "$T/int.key" -CAcreateserial \
    -days 30 -extfile "$T/caak.ext" -out "$T/caak.pem" 2>/dev/null
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/caak.key" -signcert "$T/caak.pem" \
    -chain "$T/int.pem" -out "$T/caak.ev"
expect_rc 1 "$AVOW" evidence verify -in "$T/caak.ev" -CAfile "$T/root.pem"
grep -q "AVOW_ERR_AK_CA" "$T/out" || fail "AK with CA:TRUE not refused"
expect_rc 0 "$AVOW" evidence verify -in "$T/caak.ev" -CAfile "$T/root.pem" -allow-ak-ca

# an intermediate whose EKU does not allow the AK EKU: 1, unless -ignore-ca-eku
keygen "$T/ekuint.key" ec256
openssl req -new -key "$T/ekuint.key" -subj "/CN=TLS-only Intermediate" -out "$T/ekuint.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nextendedKeyUsage=serverAuth\n' >"$T/ekuint.ext"
openssl x509 -req -in "$T/ekuint.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -CAcreateserial \
    -days 30 -extfile "$T/ekuint.ext" -out "$T/ekuint.pem" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$AK_EKU" >"$T/ekuak.ext"
openssl x509 -req -in "$T/caak.csr" -CA "$T/ekuint.pem" -CAkey "$T/ekuint.key" -CAcreateserial \
    -days 30 -extfile "$T/ekuak.ext" -out "$T/ekuak.pem" 2>/dev/null
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/caak.key" -signcert "$T/ekuak.pem" \
    -chain "$T/ekuint.pem" -out "$T/ekuak.ev"
expect_rc 1 "$AVOW" evidence verify -in "$T/ekuak.ev" -CAfile "$T/root.pem"
grep -q "AVOW_ERR_AK_EKU" "$T/out" || fail "intermediate EKU not checked"
grep -q "intermediate certificate" "$T/out" || fail "intermediate EKU reason"
expect_rc 0 "$AVOW" evidence verify -in "$T/ekuak.ev" -CAfile "$T/root.pem" -ignore-ca-eku

# unsigned Evidence is never trusted: 1
expect_rc 0 "$AVOW" evidence create -vendor Acme -out "$T/unsigned.pem"
expect_rc 1 "$AVOW" evidence verify -in "$T/unsigned.pem" -CAfile "$T/root.pem"

# a tampered signature: 1
cp "$T/ev.der" "$T/bad.der"
size=$(wc -c <"$T/bad.der")
printf '\001' | dd of="$T/bad.der" bs=1 seek=$((size - 300)) conv=notrunc 2>/dev/null
set +e
"$AVOW" evidence verify -in "$T/bad.der" -CAfile "$T/root.pem" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || [ "$rc" -eq 3 ] || fail "tampered Evidence gave exit $rc"

# -any: one good signature suffices; without it, every signature must verify
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -signkey "$T/noeku.key" -signcert "$T/noeku.pem" -chain "$T/int.pem" -out "$T/two.pem"
expect_rc 1 "$AVOW" evidence verify -in "$T/two.pem" -CAfile "$T/root.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/two.pem" -CAfile "$T/root.pem" -any

# raw keys by key id
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/other.key" -sid keyid -out "$T/kid.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/kid.pem" --json
kid=$(sed -n 's/.*"keyId": "\([0-9a-f]*\)".*/\1/p' "$T/out")
openssl pkey -in "$T/other.key" -pubout -out "$T/other.pub" 2>/dev/null
expect_rc 0 "$AVOW" evidence verify -in "$T/kid.pem" -key-id "$kid" -key-pub "$T/other.pub"
# a wrong explicit id does not hide the key's derived ones; another key is not found
expect_rc 0 "$AVOW" evidence verify -in "$T/kid.pem" -key-id 0011 -key-pub "$T/other.pub"
openssl pkey -in "$T/noeku.key" -pubout -out "$T/noeku.pub" 2>/dev/null
expect_rc 1 "$AVOW" evidence verify -in "$T/kid.pem" -key-id "$kid" -key-pub "$T/noeku.pub"
grep -q "AVOW_ERR_SIG_INVALID" "$T/err" || fail "the key named by -key-id not used"
expect_rc 1 "$AVOW" evidence verify -in "$T/kid.pem" -key-pub "$T/noeku.pub"
grep -q "AVOW_ERR_KEY_UNKNOWN" "$T/err" || fail "keyId of an unknown key not named"
expect_rc 2 "$AVOW" evidence verify -in "$T/kid.pem" -key-id "$kid" -key-pub "$T/other.pub" \
    -key-pub "$T/noeku.pub"

# malformed input: 3
printf 'not evidence at all' >"$T/garbage"
expect_rc 3 "$AVOW" evidence show -in "$T/garbage"
expect_rc 3 "$AVOW" evidence verify -in "$T/garbage" -CAfile "$T/root.pem"
head -c 40 "$T/ev.der" >"$T/trunc.der"
expect_rc 3 "$AVOW" evidence show -in "$T/trunc.der"
cat "$T/ev.der" "$T/ev.der" >"$T/trailing.der"
expect_rc 3 "$AVOW" evidence show -in "$T/trailing.der"
printf -- '-----BEGIN EVIDENCE-----\n!!!!\n-----END EVIDENCE-----\n' >"$T/badpem"
expect_rc 3 "$AVOW" evidence show -in "$T/badpem"
printf -- '-----BEGIN EVIDENCE-----\n-----END EVIDENCE-----\n' >"$T/emptypem"
expect_rc 3 "$AVOW" evidence show -in "$T/emptypem"
grep -q "PEM body is empty" "$T/err" || fail "empty PEM body not said"
"$AVOW" evidence create -vendor Acme -out "$T/one.pem" >/dev/null
cat "$T/one.pem" "$T/one.pem" >"$T/twopem"
expect_rc 3 "$AVOW" evidence show -in "$T/twopem"
grep -q "second PEM block.*(AVOW_ERR_TRAILING)" "$T/err" || fail "second PEM block not refused"
if [ -f "${VECTORS:-}/pkix/head-9f03a1c/evidence3.der" ]; then
    expect_rc 3 "$AVOW" evidence show -in "$VECTORS/pkix/head-9f03a1c/evidence3.der"
    grep -q AVOW_ERR_DUP_ELEMENT "$T/err" || fail "second platform element not named"
fi

# bad claims JSON: 3, naming the JSON path
printf '{"platform":{"vendor":"A","colour":"red"}}' >"$T/c1.json"
expect_rc 3 "$AVOW" evidence create -claims "$T/c1.json"
grep -q "^avow: platform.colour: .*(AVOW_ERR_JSON)" "$T/err" || fail "unknown claim path"
printf '{"platform":{"fipsboot":"yes"}}' >"$T/c2.json"
expect_rc 3 "$AVOW" evidence create -claims "$T/c2.json"
grep -q "platform.fipsboot.*AVOW_ERR_CLAIM_TYPE" "$T/err" || fail "type mismatch path"
printf '{"keys":[{"identifier":"k","purpose":["sign","fly"]}]}' >"$T/c3.json"
expect_rc 3 "$AVOW" evidence create -claims "$T/c3.json"
grep -q "keys\[0\].purpose\[1\]" "$T/err" || fail "purpose path"
printf '{"elements":[{"type":"platform","claims":[{"name":"vendor","type":"int","value":"x"}]}]}' >"$T/c4.json"
expect_rc 3 "$AVOW" evidence create -claims "$T/c4.json"
grep -q "elements\[0\].claims\[0\].type" "$T/err" || fail "declared type path"
printf '{"platform":' >"$T/c5.json"
expect_rc 3 "$AVOW" evidence create -claims "$T/c5.json"
printf '{"platform":{"fipslevel":7}}' >"$T/c6.json"
expect_rc 3 "$AVOW" evidence create -claims "$T/c6.json"
printf '{"transaction":{"nonce":{"hex":""}}}' >"$T/c7.json"
expect_rc 3 "$AVOW" evidence create -claims "$T/c7.json"
grep -q "^avow: transaction.nonce: nonce is empty (AVOW_ERR_CLAIM_VALUE)" "$T/err" || fail "empty nonce"
expect_rc 3 "$AVOW" evidence create -nonce "" -vendor Acme

# usage errors: 2
expect_rc 2 "$AVOW" evidence create -vendor Acme -bogus
expect_rc 2 "$AVOW" evidence create -vendor Acme -outform XML
expect_rc 2 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -sid cert
expect_rc 2 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -signcert "$T/noeku.pem"
expect_rc 2 "$AVOW" evidence create -signkey "$T/ak.key"
expect_rc 2 "$AVOW" evidence create -vendor Acme -dbgstat many
expect_rc 2 "$AVOW" evidence verify -in "$T/ev.der"
expect_rc 2 "$AVOW" evidence verify -in "$T/ev.der" -CAfile "$T/root.pem" -nonce xyz
expect_rc 2 "$AVOW" evidence verify -in "$T/ev.der" -CAfile "$T/root.pem" -at yesterday
expect_rc 2 "$AVOW" evidence frobnicate
expect_rc 2 "$AVOW" nosuchgroup
expect_rc 2 "$AVOW"

# I/O errors: 4
expect_rc 4 "$AVOW" evidence show -in "$T/does-not-exist"
expect_rc 4 "$AVOW" evidence create -vendor Acme -out "$T/no/such/dir/ev.pem"

# -at: certificates checked at another time
expect_rc 1 "$AVOW" evidence verify -in "$T/ev.der" -CAfile "$T/root.pem" -at 2001-01-01T00:00:00Z
expect_rc 0 "$AVOW" evidence verify -in "$T/ev.der" -CAfile "$T/root.pem" -at now
echo "ok"
