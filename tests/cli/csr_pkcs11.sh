#!/bin/sh
# A request whose key lives in a SoftHSM2 token: the token attests the key
# (evidence create -attest-key), signs the request inside the token (csr create
# -key pkcs11:), openssl verifies it and csr verify affirms it; the EAR is
# signed as a JWT by another token key. Skipped (77) without SoftHSM2.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"

softhsm_token avow-csr
NONCE=00112233445566778899aabbccddeeff

make_ca
make_ak ak ec256
expect_rc 0 "$AVOW" keygen -pkcs11-module "$MOD" -token-uri "$TOK;object=tls" -id c1 \
    -pin-source env:AVOW_TEST_PIN -pubout "$T/tls.pub"
expect_rc 0 "$AVOW" keygen -pkcs11-module "$MOD" -token-uri "$TOK;object=ear" -id e1 \
    -pin-source env:AVOW_TEST_PIN -pubout "$T/ear.pub"

expect_rc 0 "$AVOW" evidence create -pkcs11-module "$MOD" -pin-source env:AVOW_TEST_PIN \
    -attest-key "$TOK;object=tls" -nonce "$NONCE" -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -out "$T/ev.pem"
expect_rc 0 "$AVOW" csr create -pkcs11-module "$MOD" -pin-source env:AVOW_TEST_PIN \
    -key "$TOK;object=tls" -subject "CN=token.example" -evidence "$T/ev.pem" -chain "$T/int.pem" \
    -out "$T/req.pem"
openssl req -in "$T/req.pem" -noout -verify 2>&1 | grep -q "self-signature verify OK" ||
    fail "openssl does not verify the token-signed request"
# the request's key is the token's key
openssl req -in "$T/req.pem" -noout -pubkey >"$T/req.pub"
cmp -s "$T/req.pub" "$T/tls.pub" || fail "request key is not the token key"

expect_rc 0 "$AVOW" csr verify -in "$T/req.pem" -CAfile "$T/root.pem" -nonce "$NONCE" \
    -pkcs11-module "$MOD" -pin-source env:AVOW_TEST_PIN -ear-key "$TOK;object=ear" \
    -jwt-out "$T/ear.jwt"
grep -q '"ear_status": "affirming"' "$T/out" || fail "token request not affirming"
[ "$(tr -cd . <"$T/ear.jwt" | wc -c)" -eq 2 ] || fail "JWT shape"

# A key generated extractable in the token: the token says so in the Evidence,
# and the default policy makes the result contraindicated (exit 1), naming the rule.
expect_rc 0 "$AVOW" keygen -pkcs11-module "$MOD" -token-uri "$TOK;object=loose" -id c2 -extractable \
    -pin-source env:AVOW_TEST_PIN -pubout "$T/loose.pub"
expect_rc 0 "$AVOW" evidence create -pkcs11-module "$MOD" -pin-source env:AVOW_TEST_PIN \
    -attest-key "$TOK;object=loose" -nonce "$NONCE" -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -out "$T/ev-loose.pem"
expect_rc 0 "$AVOW" csr create -pkcs11-module "$MOD" -pin-source env:AVOW_TEST_PIN \
    -key "$TOK;object=loose" -subject "CN=loose.example" -evidence "$T/ev-loose.pem" \
    -chain "$T/int.pem" -out "$T/req-loose.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/req-loose.pem" -CAfile "$T/root.pem" -nonce "$NONCE"
grep -q '"ear_status": "contraindicated"' "$T/out" || fail "extractable key not contraindicated"
grep -q 'AVOW_ERR_POLICY' "$T/out" || fail "no policy reason for the extractable key"
grep -q 'extractable' "$T/out" || fail "the reason does not name the extractable claim"

# no PIN for a token key: usage error
expect_rc 2 "$AVOW" csr create -pkcs11-module "$MOD" -key "$TOK;object=tls" -subject "CN=x" \
    -evidence "$T/ev.pem"
echo ok
