#!/bin/sh
# avow csr create / show / verify end to end: P-256, RSA and Ed25519 request
# keys, PKCS#10 and CRMF, both bundle shapes, and openssl reading what avow wrote.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

NONCE=00112233445566778899aabbccddeeff

# attested_evidence KEY OUT [EXTRACTABLE [HWMODEL]]: PKIX Evidence signed by the AK
# (no chain inside: the request's bundle carries the intermediate) with a key
# element for KEY's public key.
attested_evidence() {
    spki=$(openssl pkey -in "$1" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    printf '{"keys":[{"identifier":"csr-key","spki":{"hex":"%s"},"extractable":%s,"sensitive":true,"never-extractable":true,"local":true}]}\n' \
        "$spki" "${3:-false}" >"$T/claims.json"
    "$AVOW" evidence create -claims "$T/claims.json" -nonce "$NONCE" -vendor Acme \
        -hwmodel "${4:-HSM-9000}" -signkey "$T/ak.key" -signcert "$T/ak.pem" -out "$2" ||
        fail "evidence create"
}

# openssl_verifies REQ: `openssl req -verify` must print "verify OK" (3.0 exits 0 either way).
openssl_verifies() {
    openssl req -in "$1" -noout -text -verify >"$T/ossl.out" 2>&1 || true
    grep -q "self-signature verify OK" "$T/ossl.out" || {
        cat "$T/ossl.out" >&2
        fail "openssl does not verify $1"
    }
    grep -q "1.2.840.113549.1.9.16.2.59" "$T/ossl.out" || fail "openssl does not see the attestation attribute"
}

make_ca
make_ak ak ec256

for kt in ec256 rsa ed25519; do
    keygen "$T/$kt.key" "$kt"
    attested_evidence "$T/$kt.key" "$T/$kt.ev"
    expect_rc 0 "$AVOW" csr create -key "$T/$kt.key" -subject "CN=$kt.example,O=Acme" \
        -evidence "$T/$kt.ev" -chain "$T/int.pem" -out "$T/$kt.csr"
    grep -q "BEGIN CERTIFICATE REQUEST" "$T/$kt.csr" || fail "$kt: PEM label"
    openssl_verifies "$T/$kt.csr"
    # -subject is RFC 4514 text, most specific first: the DER (openssl's one-line output) has O first
    openssl req -in "$T/$kt.csr" -noout -subject | grep -q "O = Acme, CN = $kt.example" || fail "$kt: subject"

    expect_rc 0 "$AVOW" csr show -in "$T/$kt.csr"
    grep -q "^Request: pkcs10" "$T/out" || fail "$kt: kind"
    grep -q "^Attestation bundle: latest" "$T/out" || fail "$kt: version"
    grep -q "^Subject: CN=$kt.example,O=Acme$" "$T/out" || fail "$kt: show subject"
    grep -q "type 1.3.6.1.5.5.999 (pkix-evidence)" "$T/out" || fail "$kt: statement type"
    grep -q "PKIX Evidence:" "$T/out" || fail "$kt: evidence text"
    grep -q "subject: CN=Test Intermediate,O=avow test" "$T/out" || fail "$kt: bundle cert"
    grep -q "^Proof of possession: Certificate request self-signature verify OK$" "$T/out" ||
        fail "$kt: POP words"

    expect_rc 0 "$AVOW" csr verify -in "$T/$kt.csr" -CAfile "$T/root.pem" -nonce "$NONCE"
    grep -q '"ear_status": "affirming"' "$T/out" || fail "$kt: EAR not affirming"
    grep -q "affirming" "$T/err" || fail "$kt: verdict line"
done
expect_rc 0 "$AVOW" csr show -in "$T/rsa.csr"
grep -q "^Public key: RSA (2048 bits)" "$T/out" || fail "RSA key summary"
expect_rc 0 "$AVOW" csr show -in "$T/ec256.csr"
grep -q "^Public key: EC P-256 (256 bits)" "$T/out" || fail "EC key summary"

# show --json is JSON and carries the Evidence's own JSON
expect_rc 0 "$AVOW" csr show -in "$T/ec256.csr" --json
if command -v python3 >/dev/null 2>&1; then
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "pkcs10", d["kind"]
assert d["pop"]["ok"] is True and d["pop"]["text"].endswith("verify OK")
s = d["statements"][0]
assert s["name"] == "pkix-evidence" and s["type"] == "1.3.6.1.5.5.999"
assert "elements" in s["content"]
assert d["certs"][0]["subject"] == "CN=Test Intermediate,O=avow test", d["certs"][0]["subject"]
' "$T/out" || fail "show --json content"
else
    grep -q '"name": "pkix-evidence"' "$T/out" || fail "show --json"
fi

# DER output, CRMF, the -15 shape, an extra statement of another type
expect_rc 0 "$AVOW" csr create -key "$T/ec256.key" -subject "/CN=der/O=Acme" -evidence "$T/ec256.ev" \
    -chain "$T/int.pem" -outform DER -out "$T/ec256.der"
openssl req -inform DER -in "$T/ec256.der" -noout -verify 2>&1 | grep -q "verify OK" || fail "DER request"
expect_rc 0 "$AVOW" csr verify -in "$T/ec256.der" -CAfile "$T/root.pem" -nonce "$NONCE"

expect_rc 0 "$AVOW" csr create -key "$T/ec256.key" -subject "CN=crmf" -evidence "$T/ec256.ev" \
    -chain "$T/int.pem" -format crmf -out "$T/crmf.pem"
grep -q "BEGIN CERTIFICATE REQUEST MESSAGE" "$T/crmf.pem" || fail "CRMF label"
expect_rc 0 "$AVOW" csr show -in "$T/crmf.pem"
grep -q "^Request: crmf" "$T/out" || fail "CRMF kind"
grep -q "POPOSigningKey verify OK" "$T/out" || fail "CRMF POP"
expect_rc 0 "$AVOW" csr verify -in "$T/crmf.pem" -CAfile "$T/root.pem" -nonce "$NONCE"

printf '\014\003abc' >"$T/utf8.der" # UTF8String "abc" as an arbitrary statement
expect_rc 0 "$AVOW" csr create -key "$T/ec256.key" -subject "CN=d15" -evidence "$T/ec256.ev" \
    -statement "1.2.3.4.5:$T/utf8.der" -chain "$T/int.pem" -draft 15 -out "$T/d15.pem"
openssl_verifies "$T/d15.pem"
expect_rc 0 "$AVOW" csr show -in "$T/d15.pem"
grep -q "^Attestation bundle: -15" "$T/out" || fail "-15 shape"
grep -q "type 1.2.3.4.5 (unknown)" "$T/out" || fail "extra statement"
expect_rc 0 "$AVOW" csr verify -in "$T/d15.pem" -CAfile "$T/root.pem" -nonce "$NONCE"

# the EAR signed as a JWT; --json adds the request and policy results
keygen "$T/ear.key" ec256
expect_rc 0 "$AVOW" csr verify -in "$T/ec256.csr" -CAfile "$T/root.pem" -nonce "$NONCE" \
    -ear-key "$T/ear.key" -jwt-out "$T/ear.jwt" --json
[ "$(tr -cd . <"$T/ear.jwt" | wc -c)" -eq 2 ] || fail "JWT shape"
grep -q '"pop": "AVOW_OK"' "$T/out" || fail "--json request part"
grep -q '"policy": "avow-default"' "$T/out" || fail "--json policy part"

# usage errors
expect_rc 2 "$AVOW" csr create -subject "CN=x" -evidence "$T/ec256.ev"
expect_rc 2 "$AVOW" csr create -key "$T/ec256.key" -evidence "$T/ec256.ev" -format pkcs7
expect_rc 2 "$AVOW" csr verify -in "$T/ec256.csr"
expect_rc 2 "$AVOW" csr verify -in "$T/ec256.csr" -CAfile "$T/root.pem" -ear-key "$T/ear.key"
# not a request: 3
expect_rc 3 "$AVOW" csr show -in "$T/utf8.der"
# missing file: 4
expect_rc 4 "$AVOW" csr show -in "$T/nonexistent.pem"
echo ok
