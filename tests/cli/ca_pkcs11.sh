#!/bin/sh
# A CA whose key lives in a SoftHSM2 token: ca init with a pkcs11: key,
# ca issue signs the certificate and the EAR JWT inside the token, openssl
# verifies the certificate and show-result verifies the EAR with the CA's key.
# Skipped (77) without SoftHSM2.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"

softhsm_token avow-ca 2468
AVOW_CA_PIN=$PIN
export AVOW_CA_PIN

expect_rc 0 "$AVOW" keygen -pkcs11-module "$MOD" -token-uri "$TOK;object=ca-key" -type ec-p384 \
    -pin-source env:AVOW_CA_PIN
# -pkcs11-module is the one name of the option in every command
expect_rc 2 "$AVOW" keygen -module "$MOD" -token-uri "$TOK;object=old-spelling" -pin-source env:AVOW_CA_PIN
# a date the calendar does not have
expect_rc 2 "$AVOW" keygen -pkcs11-module "$MOD" -token-uri "$TOK;object=bad-date" \
    -pin-source env:AVOW_CA_PIN -end-date 2026-02-30
grep -q "end_date" "$T/err" || { cat "$T/err"; fail "-end-date 2026-02-30 not refused by its field"; }

# --- the PIN is never stored or printed ---
expect_rc 0 "$AVOW" ca init -dir "$T/pinca" -key "$TOK;object=ca-key?pin-value=$AVOW_CA_PIN" \
    -pkcs11-module "$MOD" -subject "CN=pin CA"
grep -q "$AVOW_CA_PIN" "$T/pinca/ca.json" && fail "ca.json holds the PIN of the URI"
grep -q "$AVOW_CA_PIN" "$T/out" && fail "ca init printed the PIN"
grep -q "not stored" "$T/err" || fail "no note that the URI's PIN is not stored"
expect_rc 1 "$AVOW" ca init -dir "$T/pinca2" -key "$TOK;object=no-such-key?pin-value=$AVOW_CA_PIN" \
    -pkcs11-module "$MOD"
grep -q "$AVOW_CA_PIN" "$T/err" && fail "an error echoed the PIN"
[ ! -e "$T/pinca2" ] || fail "a failed token init left a directory"
# -pin-source pass: is visible in ps: warned about, used, not stored
expect_rc 0 "$AVOW" ca init -dir "$T/passca" -key "$TOK;object=ca-key" -pkcs11-module "$MOD" \
    -pin-source "pass:$AVOW_CA_PIN"
grep -q "warning: -pin-source pass:" "$T/err" || fail "no warning for -pin-source pass:"
grep -q "$AVOW_CA_PIN" "$T/passca/ca.json" && fail "ca.json holds a pass: PIN"
# a PIN file others can read is refused
printf '%s\n' "$AVOW_CA_PIN" >"$T/pin.txt"
chmod 644 "$T/pin.txt"
expect_rc 1 "$AVOW" ca init -dir "$T/fileca" -key "$TOK;object=ca-key" -pkcs11-module "$MOD" \
    -pin-source "file:$T/pin.txt"
grep -q "AVOW_ERR_PERMISSION" "$T/err" || { cat "$T/err"; fail "world-readable PIN file accepted"; }
expect_rc 1 "$AVOW" ca init -dir "$T/fileca" -key "$TOK;object=ca-key?pin-source=file:$T/pin.txt" \
    -pkcs11-module "$MOD"
grep -q "AVOW_ERR_PERMISSION" "$T/err" || fail "world-readable pin-source file accepted"
chmod 600 "$T/pin.txt"
expect_rc 0 "$AVOW" ca init -dir "$T/fileca" -key "$TOK;object=ca-key" -pkcs11-module "$MOD" \
    -pin-source "file:$T/pin.txt"
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -key "$TOK;object=ca-key" -pkcs11-module "$MOD" \
    -pin-source env:AVOW_CA_PIN -subject "CN=token CA"
[ ! -f "$CA/ca.key" ] || fail "a token CA wrote a key file"
grep -q "pkcs11:" "$CA/ca.json" || fail "ca.json does not name the token key"
grep -q "2468" "$CA/ca.json" && fail "ca.json holds the PIN itself"

make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
N=$(cat "$T/out")
spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "dev", "spki": {"hex": "$spki"}, "extractable": false, "sensitive": true,
           "never-extractable": true, "local": true}]}
JSON
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$N" -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ev.pem"
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject "CN=dev" -evidence "$T/ev.pem" -out "$T/req.pem"
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/req.pem" -CAfile "$T/root.pem" -out "$T/dev.crt"
openssl verify -CAfile "$CA/ca.crt" "$T/dev.crt" >/dev/null || fail "token-signed certificate does not verify"
openssl x509 -in "$CA/ca.crt" -noout -text | grep -q "secp384r1\|P-384" || fail "CA key is not the token's P-384 key"
expect_rc 0 "$AVOW" ca show-result -in "$T/dev.crt" -CAfile "$CA/ca.crt"
grep -q '"ear_status": "affirming"' "$T/out" || fail "EAR signed in the token does not verify"
echo ok
