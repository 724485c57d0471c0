#!/bin/sh
# avow psa show / verify over the RFC 9783 examples and Veraison's tokens
# (tests/vectors/psa): the verdict, the exit status, the key options and
# the refusals, each with its code.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

P=$VECTORS/psa
SIGN1=$P/rfc9783-draft24-psa-sign1.cbor
MAC0=$P/rfc9783-draft24-psa-mac0.cbor
SIGN1_ID=010202020202020202020202020202020202020202020202020202020202020202
MAC0_ID=01c557bd4fadc83f756fca2cd5ea2dcc8b82159bb4e7453d6a744d4eecd6d0ac60
NONCE=0101010101010101010101010101010101010101010101010101010101010101
openssl pkey -in "$P/rfc9783-draft24-tfm-es-iak.pem" -pubout -out "$T/iak.pub" 2>/dev/null

for h in --help -h; do
    expect_rc 0 "$AVOW" psa $h
    grep -q "^Usage: avow psa" "$T/out" || fail "psa $h"
done
expect_rc 0 "$AVOW" psa verify --help
for o in -in -iak -iak-jwk -hmac-key -instance-id -nonce -json; do
    grep -q -- "^  $o" "$T/out" || fail "psa verify --help lacks $o"
done

# show: no key needed, every claim printed
expect_rc 0 "$AVOW" psa show -in "$SIGN1"
grep -q "security lifecycle: 0x3000 (secured)" "$T/out" || fail "show: lifecycle"
grep -q "measurement type: \"PRoT\"" "$T/out" || fail "show: sw component"
expect_rc 0 "$AVOW" psa show -in "$MAC0" -json
grep -q '"envelope": "COSE_Mac0"' "$T/out" || fail "show -json: envelope"

# verify: Sign1 with the IAK under its instance id, the nonce checked
expect_rc 0 "$AVOW" psa verify -in "$SIGN1" -iak "$T/iak.pub" -instance-id "$SIGN1_ID" -nonce "$NONCE"
grep -q "Verified: yes" "$T/out" || fail "verify sign1"
# the private key file works too (its public half is used)
expect_rc 0 "$AVOW" psa verify -in "$SIGN1" -iak "$P/rfc9783-draft24-tfm-es-iak.pem" -instance-id "$SIGN1_ID"
expect_rc 1 "$AVOW" psa verify -in "$SIGN1" -iak "$T/iak.pub" -instance-id "$SIGN1_ID" -nonce "02$(echo $NONCE | cut -c3-)"
grep -q AVOW_ERR_NONCE_MISMATCH "$T/err" || fail "wrong nonce"
# without the instance id the RFC example's dummy id names no key
expect_rc 1 "$AVOW" psa verify -in "$SIGN1" -iak "$T/iak.pub"
grep -q "psa.instance_id: no IAK for this instance id (AVOW_ERR_KEY_UNKNOWN)" "$T/err" || fail "no iak"
# Mac0 with the symmetric IAK; the public key under its id is refused (no alg confusion)
expect_rc 0 "$AVOW" psa verify -in "$MAC0" -hmac-key "$P/rfc9783-draft24-tfm-hs-iak.bin" -instance-id "$MAC0_ID" -json
grep -q '"verified": true' "$T/out" || fail "verify mac0"
expect_rc 1 "$AVOW" psa verify -in "$MAC0" -iak "$T/iak.pub" -instance-id "$MAC0_ID"
grep -q AVOW_ERR_COSE_ALG "$T/err" || fail "mac0 with a public key"
expect_rc 2 "$AVOW" psa verify -in "$MAC0" -hmac-key "$P/rfc9783-draft24-tfm-hs-iak.bin"
expect_rc 2 "$AVOW" psa verify -in "$MAC0"
expect_rc 2 "$AVOW" psa verify -in "$MAC0" -iak "$T/iak.pub" -instance-id 0102
# the same IAK as a public JWK (x and y of rfc9783-draft24-tfm-es-iak.json)
printf '%s' '{"kty":"EC","crv":"P-256","x":"Tl4iCZ47zrRbRG0TVf0dw7VFlHtv18HInYhnmMNybo8","y":"gNcLhAslaqw0pi7eEEM2TwRAlfADR0uR4Bggkq-xPy4"}' >"$T/iak.jwk"
expect_rc 0 "$AVOW" psa verify -in "$SIGN1" -iak-jwk "$T/iak.jwk" -instance-id "$SIGN1_ID"
# Veraison: the instance id derived from the key
for f in veraison-tfm-psa-2_0_0_sign1.bin veraison-tfm-psa-iot-1_sign1.bin; do
    expect_rc 0 "$AVOW" psa verify -in "$P/$f" -iak "$P/veraison-tfm-public.pem"
    grep -q "instance id derived from the key" "$T/out" || fail "veraison $f"
done
"$AVOW" psa verify -in "$SIGN1" -iak "$T/iak.pub" >/dev/null 2>&1 && fail "dummy id verified"
# a broken signature, trailing bytes, not CBOR at all
cp "$SIGN1" "$T/bad.cbor"
printf '\001' | dd of="$T/bad.cbor" bs=1 seek=331 conv=notrunc 2>/dev/null
expect_rc 1 "$AVOW" psa verify -in "$T/bad.cbor" -iak "$T/iak.pub" -instance-id "$SIGN1_ID"
grep -q "AVOW_ERR_SIG_INVALID" "$T/err" || fail "bad signature"
cat "$SIGN1" >"$T/trail.cbor"
printf '\000' >>"$T/trail.cbor"
expect_rc 3 "$AVOW" psa show -in "$T/trail.cbor"
grep -q "AVOW_ERR_TRAILING" "$T/out" "$T/err" || fail "trailing"
expect_rc 3 "$AVOW" psa verify -in "$T/trail.cbor" -iak "$T/iak.pub" -instance-id "$SIGN1_ID"
grep -q "AVOW_ERR_TRAILING" "$T/err" || fail "trailing verify"
echo ok
