#!/bin/sh
# Attestation Results in requests (the passport model) and PSA tokens as CMW
# statements: a verifier's EAR JWT about a key goes into a CSR with
# `csr create -result`, and `csr verify` / `ca issue` accept it under the
# trusted verifier key (-result-key); refused with their codes: an EAR that
# is not affirming, about another key, signed by an untrusted key, stale,
# with the wrong nonce, with alg none. A PSA token (-psa, -cmw, the TCG DICE
# wrapper) verifies with the IAK given to the verifier.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

POLICY=$TESTS_DIR/../policies/ear-passport.json
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -subject "CN=avow test CA,O=avow test"
make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
keygen "$T/other.key" ec256
keygen "$T/ver.key" ec256
keygen "$T/rogue.key" ec256
openssl pkey -in "$T/ver.key" -pubout -out "$T/ver.pub" 2>/dev/null
openssl pkey -in "$T/rogue.key" -pubout -out "$T/rogue.pub" 2>/dev/null

# ear KEY NONCE EXTRACTABLE OUT: an attested CSR for KEY appraised by the verifier
# (csr verify), whose EAR JWT (signed with ver.key, akpub = KEY) goes to OUT
ear() {
    spki=$(openssl pkey -in "$1" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "device-key", "spki": {"hex": "$spki"}, "extractable": $3, "sensitive": true,
           "never-extractable": $(if [ "$3" = true ]; then echo false; else echo true; fi), "local": true}]}
JSON
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$2" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ev.pem"
    expect_rc 0 "$AVOW" csr create -key "$1" -subject "CN=device 1,O=avow test" -evidence "$T/ev.pem" \
        -chain "$T/int.pem" -out "$T/ev.csr"
    set +e
    "$AVOW" csr verify -in "$T/ev.csr" -CAfile "$T/root.pem" -nonce "$2" -ear-key "$T/ver.key" \
        -ear-kid verifier-1 -jwt-out "$4" >"$T/out" 2>"$T/err"
    set -e
    [ -s "$4" ] || fail "the verifier wrote no EAR JWT"
}
# passport KEY JWT OUT: the CSR of the passport model
passport() {
    expect_rc 0 "$AVOW" csr create -key "$1" -subject "CN=device 1,O=avow test" -result "$2" -out "$3"
}

# --- affirming: csr verify, then ca issue with the CA's own nonce ---
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
N1=$(cat "$T/out")
ear "$T/dev.key" "$N1" false "$T/ear1.jwt"
passport "$T/dev.key" "$T/ear1.jwt" "$T/req1.pem"
expect_rc 0 "$AVOW" csr show -in "$T/req1.pem"
grep -q "id-pe-cmw" "$T/out" || fail "csr show does not name the CMW statement"
expect_rc 0 "$AVOW" csr verify -in "$T/req1.pem" -result-key "$T/ver.pub" -policy "$POLICY" -nonce "$N1"
grep -q '"id-pe-cmw"' "$T/out" || fail "no id-pe-cmw submod"
grep -q '"ear_status": "affirming"' "$T/out" || fail "csr verify not affirming"
# without a nonce the EAR's age decides (default 300 s)
expect_rc 0 "$AVOW" csr verify -in "$T/req1.pem" -result-key "$T/ver.pub" -policy "$POLICY"
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/req1.pem" -result-key "$T/ver.pub" \
    -policy "$POLICY" -out "$T/cert1.pem"
grep -q "status: affirming" "$T/out" || fail "ca issue not affirming"
openssl x509 -in "$T/cert1.pem" -noout -pubkey >"$T/cert1.pub"
openssl pkey -in "$T/dev.key" -pubout >"$T/dev.pub"
cmp -s "$T/cert1.pub" "$T/dev.pub" || fail "the certificate is not for the device key"
# the CA's nonce is used up: the same passport again is a replay
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/req1.pem" -result-key "$T/ver.pub" \
    -policy "$POLICY" -out "$T/cert1b.pem"
[ ! -f "$T/cert1b.pem" ] || fail "replayed passport issued"

# reason FILE CODE: the EAR (or summary) names CODE
reason() {
    grep -q "$2" "$1" || { cat "$1" >&2; fail "no $2"; }
}

# --- refusals (csr verify), each with its code ---
# the verifier key is not trusted
expect_rc 1 "$AVOW" csr verify -in "$T/req1.pem" -result-key "$T/rogue.pub" -policy "$POLICY"
reason "$T/out" AVOW_ERR_RESULT_UNTRUSTED
# the verifier's key given as an attester's key (-iak) verifies no result: the sets are apart
expect_rc 1 "$AVOW" csr verify -in "$T/req1.pem" -iak "$T/ver.pub" -policy "$POLICY"
reason "$T/out" AVOW_ERR_RESULT_UNTRUSTED
expect_rc 2 "$AVOW" csr verify -in "$T/req1.pem" -policy "$POLICY"
# the expected nonce is another one
expect_rc 1 "$AVOW" csr verify -in "$T/req1.pem" -result-key "$T/ver.pub" -policy "$POLICY" \
    -nonce 00112233445566778899aabbccddeeff
reason "$T/out" AVOW_ERR_NONCE_MISMATCH
# stale: no nonce expected and no age accepted, or checked 1000 s later
expect_rc 1 "$AVOW" csr verify -in "$T/req1.pem" -result-key "$T/ver.pub" -policy "$POLICY" \
    -result-max-age 0
reason "$T/out" AVOW_ERR_RESULT_STALE
expect_rc 1 "$AVOW" csr verify -in "$T/req1.pem" -result-key "$T/ver.pub" -policy "$POLICY" \
    -at "@$(($(date +%s) + 1000))"
reason "$T/out" AVOW_ERR_RESULT_STALE
expect_rc 2 "$AVOW" csr verify -in "$T/req1.pem" -result-key "$T/ver.pub" -result-max-age soon
# the EAR attests the device key, the request is for another key
passport "$T/other.key" "$T/ear1.jwt" "$T/req2.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/req2.pem" -result-key "$T/ver.pub" -policy "$POLICY"
reason "$T/out" AVOW_ERR_KEY_BINDING
# the verifier found the key extractable: its EAR is contraindicated
ear "$T/dev.key" "$N1" true "$T/ear3.jwt"
passport "$T/dev.key" "$T/ear3.jwt" "$T/req3.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/req3.pem" -result-key "$T/ver.pub" -policy "$POLICY"
reason "$T/out" AVOW_ERR_NOT_AFFIRMING
# alg none: the same claims, no signature
hdr=$(printf '{"alg":"none","typ":"eat+jwt"}' | openssl base64 -A | tr '+/' '-_' | tr -d '=')
printf '%s.%s.' "$hdr" "$(cut -d. -f2 "$T/ear1.jwt")" >"$T/none.jwt"
passport "$T/dev.key" "$T/none.jwt" "$T/req4.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/req4.pem" -result-key "$T/ver.pub" -policy "$POLICY"
reason "$T/out" AVOW_ERR_SIG_ALG
# a changed payload under the original signature
printf '%s.%s.%s' "$(cut -d. -f1 "$T/ear1.jwt")" "$(cut -d. -f2 "$T/ear3.jwt")" \
    "$(cut -d. -f3 "$T/ear1.jwt")" >"$T/mixed.jwt"
passport "$T/dev.key" "$T/mixed.jwt" "$T/req5.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/req5.pem" -result-key "$T/ver.pub" -policy "$POLICY"
reason "$T/out" AVOW_ERR_RESULT_UNTRUSTED
# ca issue refuses as csr verify does, and writes no certificate
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
N2=$(cat "$T/out")
ear "$T/dev.key" "$N2" false "$T/ear6.jwt"
passport "$T/other.key" "$T/ear6.jwt" "$T/req6.pem"
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/req6.pem" -result-key "$T/ver.pub" \
    -policy "$POLICY" -out "$T/cert6.pem"
[ ! -f "$T/cert6.pem" ] || fail "a passport for another key was issued"
# the default policy wants key claims a result does not carry
passport "$T/dev.key" "$T/ear6.jwt" "$T/req7.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/req7.pem" -result-key "$T/ver.pub"

# --- a PSA token as a CMW statement ---
P=$VECTORS/psa
TOKEN=$P/veraison-tfm-psa-2_0_0_sign1.bin
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject "CN=psa device" -psa "$TOKEN" -out "$T/psa.pem"
expect_rc 0 "$AVOW" csr show -in "$T/psa.pem"
grep -q "PSA attestation token" "$T/out" || fail "csr show: no PSA token inside the CMW"
# the token verifies with the IAK; it attests a platform, not the key, so the request
# is not bound (a linked key attestation would do that)
expect_rc 1 "$AVOW" csr verify -in "$T/psa.pem" -iak "$P/veraison-tfm-public.pem" -json
grep -q '"check": "key-binding"' "$T/out" || fail "psa: no key-binding reason"
if grep -q '"check": "signature"' "$T/out"; then fail "psa: the token did not verify"; fi
expect_rc 1 "$AVOW" csr verify -in "$T/psa.pem" -iak "$T/rogue.pub" -json
reason "$T/out" AVOW_ERR_KEY_UNKNOWN
# the same token under a media type given by hand, and inside the TCG DICE wrapper
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -cmw "$TOKEN" \
    -cmw-type "application/psa-attestation-token" -out "$T/psa2.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/psa2.pem" -iak "$P/veraison-tfm-public.pem" -json
grep -q '"check": "key-binding"' "$T/out" || fail "psa -cmw: not verified"
expect_rc 2 "$AVOW" csr create -key "$T/dev.key" -cmw "$TOKEN" -out "$T/x.pem"
hex=$(printf '["application/psa-attestation-token","%s"]' \
    "$(openssl base64 -A -in "$TOKEN" | tr '+/' '-_' | tr -d '=')" | od -An -v -tx1 | tr -d ' \n')
printf 'asn1=SEQUENCE:s\n[s]\ncmw=FORMAT:HEX,OCTETSTRING:%s\n' "$hex" >"$T/dice.conf"
openssl asn1parse -genconf "$T/dice.conf" -out "$T/dice.der" >/dev/null
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -statement "2.23.133.5.4.9:$T/dice.der" -out "$T/psa3.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/psa3.pem" -iak "$P/veraison-tfm-public.pem" -json
grep -q '"tcg-dice-conceptual-message-wrapper"' "$T/out" || fail "dice: submod name"
grep -q '"check": "key-binding"' "$T/out" || fail "dice: not verified"
# a CMW of a media type no row takes is a statement of unknown type
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -cmw "$TOKEN" -cmw-type "application/example" \
    -out "$T/unk.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/unk.pem" -iak "$P/veraison-tfm-public.pem"
reason "$T/out" "no statement of a known type"
echo "ok"
