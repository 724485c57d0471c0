#!/bin/sh
# Published sample requests (tests/vectors/csr/README.md names their sources):
# avow parses them and reports the same self-signature verdict as openssl.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

V="$TESTS_DIR/vectors/csr"

for f in "$V"/*.pem; do
    name=$(basename "$f")
    openssl req -in "$f" -noout -verify >"$T/ossl" 2>&1 || true
    if grep -q "self-signature verify OK" "$T/ossl"; then
        verdict="Certificate request self-signature verify OK"
    elif grep -q "self-signature verify failure" "$T/ossl"; then
        verdict="Certificate request self-signature verify failure"
    else
        cat "$T/ossl" >&2
        fail "$name: openssl gave no verdict"
    fi
    expect_rc 0 "$AVOW" csr show -in "$f"
    grep -q "^Proof of possession: $verdict\$" "$T/out" || {
        cat "$T/out" >&2
        fail "$name: avow does not say \"$verdict\" as openssl does"
    }
    expect_rc 0 "$AVOW" csr show -in "$f" --json
    grep -q "\"text\": \"$verdict\"" "$T/out" || fail "$name: JSON POP text"
done

# tcgAttestTpmCertify.pem (lamps-wg/csr-attestation 02aed20): hinted bundle,
# a TPM certify statement, two certificates, a self-signature that fails.
f="$V/tcgAttestTpmCertify.pem"
expect_rc 0 "$AVOW" csr show -in "$f"
grep -q "^Request: pkcs10" "$T/out" || fail "kind"
grep -q "^Attestation bundle: pre -16" "$T/out" || fail "bundle version"
grep -q "type 2.23.133.20.1 (tcg-attest-tpm-certify" "$T/out" || fail "statement type"
grep -q "hint: tpmverifier.example.com" "$T/out" || fail "hint"
grep -q "^Certificates (2):" "$T/out" || fail "certs"
grep -q "CN=test-ak" "$T/out" || fail "AK certificate"
grep -q "^Proof of possession: Certificate request self-signature verify failure$" "$T/out" || fail "POP"
expect_rc 0 "$AVOW" csr show -in "$f" --json
grep -q '"type": "2.23.133.20.1"' "$T/out" || fail "JSON statement type"
grep -q '"ok": false' "$T/out" || fail "JSON POP"

# verify: the broken self-signature comes first
make_ca
expect_rc 1 "$AVOW" csr verify -in "$f" -CAfile "$T/root.pem"
grep -q '"code": "AVOW_ERR_POP"' "$T/out" || fail "POP reason for the sample"
echo ok
