#!/bin/sh
# The combined form (docs/kat.md): a PSA token carried inside PKIX Evidence
# (avow evidence create -platform-token), put into a CSR and appraised by
# avow csr verify with a policy on psa:* claims; the refusals, each with its
# code, and the EAR naming the submod the platform token binds.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

: "${AVOW_PSA_TOOL:?AVOW_PSA_TOOL must name tests/tools/psa_tool}"
make_ca
make_ak ak ec256
keygen "$T/iak.key" ec256
keygen "$T/iak2.key" ec256
openssl pkey -in "$T/iak.key" -pubout -out "$T/iak.pub" 2>/dev/null
keygen "$T/subj.key" ec256
openssl pkey -in "$T/subj.key" -pubout -out "$T/subj.pub" 2>/dev/null
N=$(printf '5a%.0s' $(seq 32))
OTHER=$(printf '6b%.0s' $(seq 32))
cat >"$T/pol.json" <<'J'
{"name": "pkix-key-psa-platform", "rules": [
 {"id": "psa-secured", "claim": "psa:lifecycle", "equals": "secured", "required": true, "vector": "instance-identity"},
 {"id": "psa-nonce", "claim": "psa:nonce", "present": true, "required": true, "vector": "instance-identity"}
]}
J
printf '{"keys": [{"identifier": "k1", "sensitive": true, "extractable": false}]}' >"$T/claims.json"

# evidence NAME TOKEN [NONCE]: $T/NAME.pem, Evidence carrying TOKEN, then a CSR $T/NAME.csr
evidence() {
    "$AVOW" evidence create -nonce "${3:-$N}" -claims "$T/claims.json" -key-spki "$T/subj.pub" \
        -key-ident k1 -platform-token "$2" -signkey "$T/ak.key" -signcert "$T/ak.pem" \
        -chain "$T/int.pem" -out "$T/$1.pem"
    "$AVOW" csr create -key "$T/subj.key" -subject "CN=combined" -evidence "$T/$1.pem" -out "$T/$1.csr"
}
verify() {
    name=$1
    shift
    "$AVOW" csr verify -in "$T/$name.csr" -CAfile "$T/root.pem" -iak "$T/iak.pub" -nonce "$N" \
        -policy "$T/pol.json" "$@"
}

# the platform token answers the same challenge: affirming, the PSA submod binds the Evidence's
"$AVOW_PSA_TOOL" "$T/iak.key" "$N" 12288 "$T/psa.cbor"
evidence good "$T/psa.cbor"
expect_rc 0 "$AVOW" evidence show -in "$T/good.pem"
grep -q "platform-token" "$T/out" || fail "show names the platform token claim"
expect_rc 0 verify good
grep -q '"ear_status": "affirming"' "$T/out" || fail "combined: not affirming"
grep -q '"avow_binds": "pkix-evidence"' "$T/out" || fail "combined: EAR lacks avow_binds"
grep -q '"avow_binding": "nested"' "$T/out" || fail "combined: EAR lacks avow_binding"
grep -q "link: statement 1 (id-pe-cmw) binds statement 0 (pkix-evidence): nested: nonce = the outer nonce" \
    "$T/err" || fail "combined: csr verify names no link"
# the policy file: PKIX key rules on the Evidence, psa: rules on the token nested in it
expect_rc 0 "$AVOW" csr verify -in "$T/good.csr" -CAfile "$T/root.pem" -iak "$T/iak.pub" -nonce "$N" \
    -policy "$TESTS_DIR/../policies/pkix-psa.json"
grep -q '"ear_status": "affirming"' "$T/out" || fail "pkix-psa.json: not affirming"
"$AVOW_PSA_TOOL" "$T/iak.key" "$N" 20480 "$T/psa-debug.cbor"
evidence debug "$T/psa-debug.cbor"
expect_rc 1 "$AVOW" csr verify -in "$T/debug.csr" -CAfile "$T/root.pem" -iak "$T/iak.pub" -nonce "$N" \
    -policy "$TESTS_DIR/../policies/pkix-psa.json"
grep -q '"rule": "psa-secured"' "$T/out" || fail "pkix-psa.json: a debug platform passed"

# avow evidence verify checks the nested token too (-iak), and its binding
expect_rc 0 "$AVOW" evidence verify -in "$T/good.pem" -CAfile "$T/root.pem" -iak "$T/iak.pub" -nonce "$N"
grep -q "^Platform token (.*platform-token)): verified, bound by nonce = the outer nonce" "$T/out" ||
    fail "evidence verify: the platform token"
expect_rc 1 "$AVOW" evidence verify -in "$T/good.pem" -CAfile "$T/root.pem" -nonce "$N"
grep -q "AVOW_ERR_NESTED" "$T/err" || fail "evidence verify without the IAK"
grep -q "AVOW_ERR_KEY_UNKNOWN" "$T/err" || fail "evidence verify without the IAK: the inner code"

# the CMW's media type must be one (RFC 9110)
set +e
"$AVOW" evidence create -nonce "$N" -vendor x -platform-token "$T/psa.cbor" \
    -platform-token-type "no type" -signkey "$T/ak.key" -sid spki >"$T/out" 2>"$T/err"
[ $? -ne 0 ] || fail "a media type that is none was taken"
set -e
grep -q "AVOW_ERR_MEDIA_TYPE" "$T/err" || fail "bad media type: no AVOW_ERR_MEDIA_TYPE"
# a token under a media type no row verifies is refused, not skipped
"$AVOW" evidence create -nonce "$N" -claims "$T/claims.json" -key-spki "$T/subj.pub" -key-ident k1 \
    -platform-token "$T/psa.cbor" -platform-token-type "text/plain" -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/plain.pem"
"$AVOW" csr create -key "$T/subj.key" -subject "CN=combined" -evidence "$T/plain.pem" -out "$T/plain.csr"
expect_rc 1 verify plain
grep -q "AVOW_ERR_NESTED" "$T/out" "$T/err" || fail "text/plain token: no AVOW_ERR_NESTED"

# the policy needs psa claims: without the token it is not affirming
"$AVOW" evidence create -nonce "$N" -claims "$T/claims.json" -key-spki "$T/subj.pub" -key-ident k1 \
    -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/bare.pem"
"$AVOW" csr create -key "$T/subj.key" -subject "CN=combined" -evidence "$T/bare.pem" -out "$T/bare.csr"
expect_rc 1 verify bare

# the platform token of another IAK: its signature does not verify under a known key
"$AVOW_PSA_TOOL" "$T/iak2.key" "$N" 12288 "$T/psa2.cbor"
evidence wrongkey "$T/psa2.cbor"
expect_rc 1 verify wrongkey
grep -q "AVOW_ERR_NESTED" "$T/out" "$T/err" || fail "wrong IAK: no AVOW_ERR_NESTED"
grep -q "platform-token" "$T/out" "$T/err" || fail "wrong IAK: the field is not named"

# the platform token answers another challenge
"$AVOW_PSA_TOOL" "$T/iak.key" "$OTHER" 12288 "$T/psa3.cbor"
evidence stale "$T/psa3.cbor"
expect_rc 1 verify stale
expect_rc 1 "$AVOW" evidence verify -in "$T/stale.pem" -CAfile "$T/root.pem" -iak "$T/iak.pub" -nonce "$N"
grep -q "NOT VERIFIED (AVOW_ERR_NONCE_MISMATCH)" "$T/out" || fail "evidence verify: stale token"
grep -q "AVOW_ERR_NONCE_MISMATCH" "$T/out" "$T/err" || fail "stale token: no nonce mismatch"
grep -q "AVOW_ERR_NESTED" "$T/out" "$T/err" || fail "stale token: no AVOW_ERR_NESTED"

# -nested-by-signer: the token's nonce must be the hash of the AK's SubjectPublicKeyInfo instead
H=$(openssl pkey -in "$T/ak.key" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -hex | sed 's/.*= //')
"$AVOW_PSA_TOOL" "$T/iak.key" "$H" 12288 "$T/psa4.cbor"
evidence bysigner "$T/psa4.cbor"
expect_rc 0 verify bysigner -nested-by-signer
grep -q '"ear_status": "affirming"' "$T/out" || fail "by signer: not affirming"
expect_rc 0 "$AVOW" evidence verify -in "$T/bysigner.pem" -CAfile "$T/root.pem" -iak "$T/iak.pub" \
    -nested-by-signer
grep -q "bound by nonce = sha-256(outer signer spki)" "$T/out" || fail "evidence verify: by signer"
expect_rc 1 verify bysigner
expect_rc 1 verify good -nested-by-signer

# a token that is not CBOR
printf 'not a token' >"$T/junk.bin"
evidence junk "$T/junk.bin"
expect_rc 1 verify junk
grep -q "AVOW_ERR_NESTED" "$T/out" "$T/err" || fail "junk: no AVOW_ERR_NESTED"

# csr show: the nested token under its statement, through the PSA row, and how it would bind
expect_rc 0 "$AVOW" csr show -in "$T/good.csr"
grep -q '^      nested platform token \[0\] at tbs.reportedElements\[.\].claims\[.\] (platform-token): [0-9]* bytes, media type "application/eat+cwt; eat_profile=' \
    "$T/out" || { cat "$T/out" >&2; fail "csr show: no nested token line"; }
grep -q "^        PSA attestation token (RFC 9783):" "$T/out" || fail "csr show: no PSA summary"
grep -q "^            security lifecycle: 0x3000 (secured)" "$T/out" || fail "csr show: PSA claims"
grep -q "^  \[0\] pkix-evidence nests id-pe-cmw at .*(platform-token): nested, bound by nonce: nonce = the outer nonce$" \
    "$T/out" || { cat "$T/out" >&2; fail "csr show: nested link by nonce"; }
expect_rc 0 "$AVOW" csr show -in "$T/good.csr" -json
jq -e --arg n "$N" '.statements[0].nested | length == 1 and (.[0] | .name == "id-pe-cmw" and .size > 300 and
    (.media_type | startswith("application/eat+cwt")) and .content.psa.claims.nonce == $n and
    .content.psa.claims.lifecycle == "secured")' "$T/out" >/dev/null ||
    { jq .statements "$T/out" >&2; fail "csr show -json: nested"; }
jq -e '.links == [{"platform": 0, "platform_name": "id-pe-cmw", "binds": 0, "binds_name": "pkix-evidence",
    "nested": "tbs.reportedElements[2].claims[0] (platform-token)", "binding": "nested, bound by nonce",
    "key": "nonce"}]' "$T/out" >/dev/null || { jq .links "$T/out" >&2; fail "csr show -json: nested link"; }
# a stale token binds by neither
expect_rc 0 "$AVOW" csr show -in "$T/stale.csr" -json
jq -e '.links[0].key == "none" and (.links[0].binding | startswith("nested, bound by neither"))' "$T/out" \
    >/dev/null || { jq .links "$T/out" >&2; fail "csr show: stale token"; }
# bound by the signer (from the sid's certificate)
expect_rc 0 "$AVOW" csr show -in "$T/bysigner.csr"
grep -q "nested, bound by signer: nonce = sha-256(signer spki, sid.certificate)$" "$T/out" ||
    { cat "$T/out" >&2; fail "csr show: nested link by signer"; }
# the signer named by keyId only, its certificate in the request's bundle (not in the Evidence)
"$AVOW" evidence create -nonce "$N" -claims "$T/claims.json" -key-spki "$T/subj.pub" -key-ident k1 \
    -platform-token "$T/psa4.cbor" -signkey "$T/ak.key" -signcert "$T/ak.pem" -sid keyid -out "$T/kid.pem"
"$AVOW" csr create -key "$T/subj.key" -subject "CN=combined" -evidence "$T/kid.pem" \
    -chain "$T/int.pem" -chain "$T/ak.pem" -out "$T/kid.csr"
expect_rc 0 "$AVOW" csr show -in "$T/kid.csr" -json
jq -e '.links[0] | .key == "signer" and .hash == "sha-256" and .signer_cert == "certs[1]" and
    .binding == "nested, bound by signer"' "$T/out" >/dev/null ||
    { jq .links "$T/out" >&2; fail "csr show: keyId signer from the bundle"; }
expect_rc 0 verify kid -nested-by-signer
# without the certificate in the bundle nothing names the signer
"$AVOW" csr create -key "$T/subj.key" -subject "CN=combined" -evidence "$T/kid.pem" -out "$T/kid0.csr"
expect_rc 0 "$AVOW" csr show -in "$T/kid0.csr" -json
jq -e '.links[0].key == "none"' "$T/out" >/dev/null || { jq .links "$T/out" >&2; fail "kid0: bound"; }
# malformed nested bytes are shown as such, with the decode error, in text and JSON
expect_rc 0 "$AVOW" csr show -in "$T/junk.csr"
grep -q "^        does not decode: .*(AVOW_ERR_[A-Z_]*)$" "$T/out" || { cat "$T/out" >&2; fail "junk: show"; }
grep -q "nests id-pe-cmw at .*: nested, does not decode (not bound) (AVOW_ERR_" "$T/out" ||
    fail "junk: show link"
expect_rc 0 "$AVOW" csr show -in "$T/junk.csr" -json
jq -e '(.statements[0].nested[0].content_error.code | startswith("AVOW_ERR_")) and
    (.links[0].decode_error | startswith("AVOW_ERR_"))' "$T/out" >/dev/null ||
    { jq . "$T/out" >&2; fail "junk: show -json"; }
echo "combined_psa: ok"
