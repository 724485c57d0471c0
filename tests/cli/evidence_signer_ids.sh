#!/bin/sh
# Signer identifiers of several fields (-sid cert,keyid), raw keys trusted
# without a -key-id (found by the key ids RFC 5280 and RFC 7093 derive from
# them), and embedded certificates that are not DER.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

hexof() { od -An -v -tx1 | tr -d ' \n'; }

make_ca
make_ak ak ec256
openssl pkey -in "$T/ak.key" -pubout -out "$T/ak.pub" 2>/dev/null
openssl pkey -in "$T/ak.key" -pubout -outform DER -out "$T/ak.spki" 2>/dev/null
keygen "$T/other.key" ec256
openssl pkey -in "$T/other.key" -pubout -out "$T/other.pub" 2>/dev/null

# several fields: every one is written and shown, the key comes from the certificate
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -chain "$T/int.pem" -sid cert,keyid -out "$T/two.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/two.pem"
grep -q 'Signer: key id [0-9a-f]*, certificate$' "$T/out" || fail "both sid fields not shown"
expect_rc 0 "$AVOW" evidence verify -in "$T/two.pem" -CAfile "$T/root.pem"
grep -q 'signer: key id + certificate, .*key: certificate' "$T/out" || fail "verify: sid fields"
expect_rc 0 "$AVOW" evidence verify -in "$T/two.pem" -CAfile "$T/root.pem" --json
grep -q '"sid_fields": \[' "$T/out" || fail "JSON sid_fields"
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -chain "$T/int.pem" -sid keyid,spki,cert -out "$T/three.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/three.pem" -CAfile "$T/root.pem"
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -sid spki,keyid -out "$T/raw2.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/raw2.pem" -key-pub "$T/ak.pub"
expect_rc 2 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -sid cert,cert -out "$T/x.pem"
expect_rc 2 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -sid cert, -out "$T/x.pem"
expect_rc 2 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -sid spki,cert -out "$T/x.pem"

# -key-pub alone: the keyId may be any of the derived key ids. The AK certificate's
# subjectKeyIdentifier is set to each in turn and written as the keyId (-sid keyid).
bits=$(tail -c 65 "$T/ak.spki" | hexof) # P-256: the 65-byte point ends the SPKI
[ "$(printf '%s' "$bits" | cut -c1-2)" = 04 ] || fail "not an uncompressed point"
tail -c 65 "$T/ak.spki" >"$T/ak.bits"
n=0
for spec in "sha1 bits 40" "sha256 bits 40" "sha384 bits 40" "sha512 bits 40" \
    "sha256 spki 64" "sha384 spki 96" "sha512 spki 128"; do
    set -- $spec
    src=$T/ak.bits
    [ "$2" = spki ] && src=$T/ak.spki
    id=$(openssl dgst -"$1" -binary "$src" | hexof | cut -c1-"$3")
    n=$((n + 1))
    printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=%s\n' \
        "$AK_EKU" "$id" >"$T/ski$n.ext"
    openssl x509 -req -in "$T/ak.csr" -CA "$T/int.pem" -CAkey "$T/int.key" -CAcreateserial \
        -days 30 -extfile "$T/ski$n.ext" -out "$T/ski$n.pem" 2>/dev/null
    expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -signcert "$T/ski$n.pem" \
        -sid keyid -out "$T/ski$n.ev"
    expect_rc 0 "$AVOW" evidence show -in "$T/ski$n.ev" --json
    grep -q "\"keyId\": \"$id\"" "$T/out" || fail "$spec: keyId is not the SKI"
    expect_rc 0 "$AVOW" evidence verify -in "$T/ski$n.ev" -key-pub "$T/ak.pub"
    grep -q 'key: key set' "$T/out" || fail "$spec: not found in the key set"
    expect_rc 1 "$AVOW" evidence verify -in "$T/ski$n.ev" -key-pub "$T/other.pub"
    grep -q AVOW_ERR_KEY_UNKNOWN "$T/err" || fail "$spec: another key matched"
done
[ "$n" -eq 7 ] || fail "not every method tried"

# a keyId no method gives is found only by an explicit -key-id
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=a1b2c3\n' \
    "$AK_EKU" >"$T/label.ext"
openssl x509 -req -in "$T/ak.csr" -CA "$T/int.pem" -CAkey "$T/int.key" -CAcreateserial \
    -days 30 -extfile "$T/label.ext" -out "$T/label.pem" 2>/dev/null
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -signcert "$T/label.pem" \
    -sid keyid -out "$T/label.ev"
expect_rc 1 "$AVOW" evidence verify -in "$T/label.ev" -key-pub "$T/ak.pub"
expect_rc 0 "$AVOW" evidence verify -in "$T/label.ev" -key-id a1b2c3 -key-pub "$T/ak.pub"
# beside an SPKI, that keyId must be the key set's id for it: the fields must agree
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/ak.key" -signcert "$T/label.pem" \
    -sid spki,keyid -out "$T/label2.ev"
expect_rc 1 "$AVOW" evidence verify -in "$T/label2.ev" -key-pub "$T/ak.pub"
grep -q AVOW_ERR_SIGNER_MISMATCH "$T/err" || fail "disagreeing sid fields not named"
expect_rc 0 "$AVOW" evidence verify -in "$T/label2.ev" -key-id a1b2c3 -key-pub "$T/ak.pub"

# embedded certificates must be DER (tests/vectors/pkix/nonder/README.md)
V=${VECTORS:-$TESTS_DIR/vectors}/pkix/nonder
expect_rc 3 "$AVOW" evidence show -in "$V/ak-critical-01.der"
grep -q 'signatures\[0\].sid.certificate.tbsCertificate.extensions\[0\].critical' "$T/err" ||
    fail "non-DER BOOLEAN in the AK certificate not named"
grep -q AVOW_ERR_NOT_DER "$T/err" || fail "not AVOW_ERR_NOT_DER"
expect_rc 3 "$AVOW" evidence show -in "$V/int-ca-false.der"
grep -q 'intermediateCertificates\[0\].tbsCertificate.extensions\[0\].extnValue' "$T/err" ||
    fail "cA FALSE in the intermediate not named"
expect_rc 3 "$AVOW" evidence show -in "$V/ak-serial-padded.der"
grep -q 'signatures\[0\].sid.certificate.tbsCertificate.serialNumber' "$T/err" ||
    fail "padded serial not named"
expect_rc 0 "$AVOW" evidence show -in "$V/base.der"
