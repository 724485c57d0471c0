#!/bin/sh
# Linked key / platform attestation in one attested CSR (docs/kat.md):
# `avow kat create` signs a KAT of the request key with a KAK, psa_tool
# makes a PSA token (signed by the RFC 9783 example IAK) whose nonce is
# SHA-256 of the KAK's COSE_Key, `avow kat bundle` makes the CAB and
# `avow csr create -kat` carries it. csr show and csr verify (text and
# -json) name the link; each broken link has its code.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
: "${AVOW_PSA_TOOL:?AVOW_PSA_TOOL must name psa_tool}"

IAK=$VECTORS/psa/rfc9783-draft24-tfm-es-iak.pem
openssl pkey -in "$IAK" -pubout -out "$T/iak.pub" 2>/dev/null
N=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
cat >"$T/kat-policy.json" <<'EOF'
{"name": "kat-psa", "rules": [
  {"id": "kat-nonce", "claim": "kat:nonce", "present": true, "required": true},
  {"id": "psa-secured", "claim": "psa:lifecycle", "equals": "secured", "required": true}
]}
EOF

keygen "$T/ik.key" ec256
keygen "$T/kak.key" ec256
keygen "$T/kak2.key" ec256

# --- avow kat create / bundle / show ---
expect_rc 0 "$AVOW" kat create -key "$T/ik.key" -kak "$T/kak.key" -nonce "$N" \
    -link-nonce "$T/link.hex" -out "$T/kat.cose"
LINK=$(cat "$T/link.hex")
[ ${#LINK} -eq 64 ] || fail "link nonce: $LINK"
expect_rc 0 "$AVOW" kat show -in "$T/kat.cose"
grep -q "^Key attestation token" "$T/out" || fail "kat show: heading"
grep -q "link (SHA-256, the PAT's nonce): $LINK" "$T/out" || fail "kat show: link"
"$AVOW_PSA_TOOL" "$IAK" "$LINK" 0x3000 "$T/pat.cbor" || fail "psa_tool"
expect_rc 0 "$AVOW" kat bundle -kat "$T/kat.cose" -pat "$T/pat.cbor" -out "$T/cab.cbor"
expect_rc 0 "$AVOW" kat show -in "$T/cab.cbor" -json
jq -e '.type == "cab" and .kat.content.type == "kat" and .pat.content.type == "psa-token" and .kat.content.link_sha256 == "'"$LINK"'"' "$T/out" \
    >/dev/null || { cat "$T/out" >&2; fail "kat show -json of the CAB"; }
# bundle refuses a KAT that is not one, and the usage errors
expect_rc 3 "$AVOW" kat bundle -kat "$T/pat.cbor" -pat "$T/pat.cbor" -out "$T/bad.cbor"
[ -e "$T/bad.cbor" ] && fail "a refused bundle left a file"
expect_rc 2 "$AVOW" kat bundle -kat "$T/kat.cose"
expect_rc 2 "$AVOW" kat create -key "$T/ik.key" -kak "$T/kak.key" -nonce 0011
expect_rc 2 "$AVOW" kat create -key "$T/ik.key" -kak "$T/kak.key"

# --- the CAB in a CSR ---
expect_rc 0 "$AVOW" csr create -key "$T/ik.key" -subject "CN=kat device" -kat "$T/cab.cbor" \
    -out "$T/cab.csr"
expect_rc 0 "$AVOW" csr show -in "$T/cab.csr"
grep -q "type 1.3.6.1.4.1.99999.9783.2 (kat)" "$T/out" || fail "csr show: no KAT statement"
grep -q "type 1.3.6.1.4.1.99999.9783.1 (psa-token)" "$T/out" || fail "csr show: no PAT statement"

verify() {
    want=$1
    shift
    expect_rc "$want" "$AVOW" csr verify -iak "$T/iak.pub" -nonce "$N" -policy "$T/kat-policy.json" "$@"
}
verify 0 -in "$T/cab.csr" -json
jq -e '.ear.ear_status == "affirming"' "$T/out" >/dev/null || { cat "$T/out" >&2; fail "CAB not affirming"; }
jq -e '.ear.submods | has("kat") and has("psa-token")' "$T/out" >/dev/null ||
    { jq .ear.submods "$T/out" >&2; fail "CAB: submods"; }

# a bare KAT and its PAT by -pat make the same request
expect_rc 0 "$AVOW" csr create -key "$T/ik.key" -kat "$T/kat.cose" -pat "$T/pat.cbor" -out "$T/two.csr"
verify 0 -in "$T/two.csr"

# the KAT alone: nothing vouches for the KAK
expect_rc 0 "$AVOW" csr create -key "$T/ik.key" -kat "$T/kat.cose" -out "$T/alone.csr"
verify 1 -in "$T/alone.csr" -json
grep -q AVOW_ERR_KAT_UNLINKED "$T/out" || { cat "$T/out" >&2; fail "alone: not UNLINKED"; }

# a PAT for another KAK
expect_rc 0 "$AVOW" kat create -key "$T/ik.key" -kak "$T/kak2.key" -nonce "$N" \
    -link-nonce "$T/link2.hex" -out "$T/kat2.cose"
"$AVOW_PSA_TOOL" "$IAK" "$(cat "$T/link2.hex")" 0x3000 "$T/pat2.cbor" || fail "psa_tool"
expect_rc 0 "$AVOW" csr create -key "$T/ik.key" -kat "$T/kat.cose" -pat "$T/pat2.cbor" -out "$T/broken.csr"
verify 1 -in "$T/broken.csr" -json
grep -q AVOW_ERR_KAT_LINK_BROKEN "$T/out" || { cat "$T/out" >&2; fail "broken: not LINK_BROKEN"; }

# two KATs and one PAT, for the second KAT's KAK: the first is left with a swapped link
expect_rc 0 "$AVOW" csr create -key "$T/ik.key" -kat "$T/kat.cose" -kat "$T/kat2.cose" \
    -pat "$T/pat2.cbor" -out "$T/swapped.csr"
verify 1 -in "$T/swapped.csr" -json
jq -e '.request.statements[0].status == "AVOW_ERR_KAT_LINK_SWAPPED" and
    .request.statements[1].status == "AVOW_OK" and .request.links[0].binds == 1' "$T/out" >/dev/null ||
    { jq .request "$T/out" >&2; fail "swapped: not LINK_SWAPPED on the first KAT"; }

# a PAT for the attested key instead of the KAK
"$AVOW" kat create -key "$T/kak.key" -kak "$T/ik.key" -nonce "$N" -link-nonce "$T/iklink.hex" \
    -out /dev/null || fail "kat create for the ik hash"
"$AVOW_PSA_TOOL" "$IAK" "$(cat "$T/iklink.hex")" 0x3000 "$T/patik.cbor" || fail "psa_tool"
expect_rc 0 "$AVOW" csr create -key "$T/ik.key" -kat "$T/kat.cose" -pat "$T/patik.cbor" -out "$T/wrong.csr"
verify 1 -in "$T/wrong.csr" -json
grep -q AVOW_ERR_KAT_LINK_WRONG_KEY "$T/out" || { cat "$T/out" >&2; fail "wrong key: not WRONG_KEY"; }

# csr show names the link it reads (no signature checked); csr verify the one it checked
expect_rc 0 "$AVOW" csr show -in "$T/cab.csr"
grep -q "^  \[1\] psa-token binds \[0\] kat: nonce = sha-256(kak cose-key)$" "$T/out" ||
    { cat "$T/out" >&2; fail "csr show: no link line"; }
expect_rc 0 "$AVOW" csr show -in "$T/cab.csr" -json
jq -e '.links == [{"platform": 1, "platform_name": "psa-token", "binds": 0, "binds_name": "kat",
    "key": "signer", "hash": "sha-256", "form": "cose-key"}]' "$T/out" >/dev/null ||
    { jq .links "$T/out" >&2; fail "csr show -json: links"; }
expect_rc 0 "$AVOW" csr show -in "$T/wrong.csr"
grep -q "^  \[1\] psa-token: nonce = sha-256(cose-key) of a key \[0\] kat attests" "$T/out" ||
    { cat "$T/out" >&2; fail "csr show: wrong-key line"; }
expect_rc 0 "$AVOW" csr show -in "$T/alone.csr"
grep -q "^Links" "$T/out" && fail "csr show: a link without a platform token"
verify 0 -in "$T/cab.csr"
grep -q "link: statement 1 (psa-token) binds statement 0 (kat): nonce = sha-256(kak cose-key)" \
    "$T/err" || { cat "$T/err" >&2; fail "csr verify: no link line"; }
verify 0 -in "$T/cab.csr" -json
jq -e '.request.links == [{"platform": 1, "platform_name": "psa-token", "binds": 0,
    "binds_name": "kat", "how": "nonce = sha-256(kak cose-key)"}] and
    .request.statements[1].linked_to.statement == 0' "$T/out" >/dev/null ||
    { jq .request "$T/out" >&2; fail "csr verify -json: links"; }
verify 1 -in "$T/broken.csr" -json
jq -e '.request.links == []' "$T/out" >/dev/null || fail "broken: a link"

# --- PKIX Evidence as the key attestation, its signer (the AK) bound by a PSA token ---
make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
keygen "$T/other.key" ec256
spki_hash() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1; }
spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
printf '{"keys":[{"identifier":"dev","spki":{"hex":"%s"},"extractable":false,"sensitive":true,"never-extractable":true,"local":true}]}\n' \
    "$spki" >"$T/claims.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$N" -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -out "$T/ev.der"
# pkix_policy LINKED: the Evidence's key rule, the PSA lifecycle, both statements required;
# LINKED 1: the Evidence's signer must be bound by a platform token
pkix_policy() {
    if [ "$1" = 1 ]; then linked=', "linked": ["pkix-evidence"]'; else linked=; fi
    printf '{"name": "pkix-psa", "statements": {"required": ["pkix-evidence", "psa-token"]%s},\n' "$linked"
    printf ' "rules": [{"id": "key-sensitive", "element": "key", "claim": "sensitive", "equals": true, "required": true},\n'
    printf '  {"id": "psa-secured", "claim": "psa:lifecycle", "equals": "secured", "required": true}]}\n'
}
pkix_policy 1 >"$T/pkix-policy.json"
pkix_policy 0 >"$T/nolink-policy.json"
# pkix PAT_NONCE OUT: the Evidence and a PSA token over PAT_NONCE in one request
pkix() {
    "$AVOW_PSA_TOOL" "$IAK" "$1" 0x3000 "$T/ppat.cbor" || fail "psa_tool"
    expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject "CN=pkix psa device" \
        -evidence "$T/ev.der" -chain "$T/int.pem" -pat "$T/ppat.cbor" -out "$2"
}
pverify() {
    want=$1
    pol=$2
    shift 2
    expect_rc "$want" "$AVOW" csr verify -CAfile "$T/root.pem" -iak "$T/iak.pub" -nonce "$N" \
        -policy "$pol" "$@"
}
pkix "$(spki_hash "$T/ak.key")" "$T/pkix.csr"
pverify 0 "$T/pkix-policy.json" -in "$T/pkix.csr" -json
jq -e '.ear.ear_status == "affirming" and (.ear.submods | has("pkix-evidence") and has("psa-token"))' \
    "$T/out" >/dev/null || { cat "$T/out" >&2; fail "PKIX + PSA: not affirming with both submods"; }
jq -e '.request.links[0] | .platform_name == "psa-token" and .binds_name == "pkix-evidence" and
    .how == "nonce = sha-256(signer spki)"' "$T/out" >/dev/null ||
    { jq .request "$T/out" >&2; fail "PKIX + PSA: link"; }
pverify 0 "$T/pkix-policy.json" -in "$T/pkix.csr"
grep -q "link: statement 1 (psa-token) binds statement 0 (pkix-evidence): nonce = sha-256(signer spki)" \
    "$T/err" || { cat "$T/err" >&2; fail "PKIX + PSA: link line"; }
expect_rc 0 "$AVOW" csr show -in "$T/pkix.csr"
grep -q "^  \[1\] psa-token binds \[0\] pkix-evidence: nonce = sha-256(signer spki)$" "$T/out" ||
    { cat "$T/out" >&2; fail "PKIX + PSA: csr show link"; }
# the Evidence names its signer by SPKI only: csr show finds its certificate in the request's bundle
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$N" -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -sid spki -out "$T/ev-spki.der"
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject "CN=pkix psa device" \
    -evidence "$T/ev-spki.der" -chain "$T/ak.pem" -chain "$T/int.pem" -pat "$T/ppat.cbor" -out "$T/pspki.csr"
expect_rc 0 "$AVOW" csr show -in "$T/pspki.csr"
grep -q "^  \[1\] psa-token binds \[0\] pkix-evidence: nonce = sha-256(signer spki), signer certificate: the request's certs\[0\]$" \
    "$T/out" || { cat "$T/out" >&2; fail "PKIX by SPKI: csr show link from the bundle"; }
expect_rc 0 "$AVOW" csr show -in "$T/pspki.csr" -json
jq -e '.links == [{"platform": 1, "platform_name": "psa-token", "binds": 0, "binds_name": "pkix-evidence",
    "key": "signer", "hash": "sha-256", "form": "spki", "signer_cert": "certs[0]"}]' "$T/out" >/dev/null ||
    { jq .links "$T/out" >&2; fail "PKIX by SPKI: csr show -json link"; }
pverify 0 "$T/pkix-policy.json" -in "$T/pspki.csr"
# the bundle without the AK's certificate: nothing names the signer, no link is claimed
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -evidence "$T/ev-spki.der" -chain "$T/int.pem" \
    -pat "$T/ppat.cbor" -out "$T/pspki0.csr"
expect_rc 0 "$AVOW" csr show -in "$T/pspki0.csr"
grep -q "^Links" "$T/out" && { cat "$T/out" >&2; fail "PKIX by SPKI: a link without the signer's certificate"; }

# the PAT hashes another key: the link is broken, on both statements
pkix "$(spki_hash "$T/other.key")" "$T/pbroken.csr"
pverify 1 "$T/pkix-policy.json" -in "$T/pbroken.csr" -json
[ "$(grep -c '"AVOW_ERR_KAT_LINK_BROKEN"' "$T/out")" -ge 2 ] ||
    { cat "$T/out" >&2; fail "PKIX: not LINK_BROKEN on both"; }
# without "linked" the same request fails only for the PAT's nonce (it binds nothing)
pverify 1 "$T/nolink-policy.json" -in "$T/pbroken.csr" -json
grep -q AVOW_ERR_KAT_LINK_BROKEN "$T/out" && fail "PKIX: LINK_BROKEN without linked"
# the PAT hashes the attested key, not the AK
pkix "$(spki_hash "$T/dev.key")" "$T/pwrong.csr"
pverify 1 "$T/pkix-policy.json" -in "$T/pwrong.csr" -json
grep -q AVOW_ERR_KAT_LINK_WRONG_KEY "$T/out" || { cat "$T/out" >&2; fail "PKIX: not WRONG_KEY"; }
# no PAT while the policy requires the link
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -evidence "$T/ev.der" -chain "$T/int.pem" \
    -out "$T/pnone.csr"
pverify 1 "$T/pkix-policy.json" -in "$T/pnone.csr" -json
grep -q AVOW_ERR_KAT_UNLINKED "$T/out" || { cat "$T/out" >&2; fail "PKIX: not UNLINKED"; }

# a CAB that is not one: refused at csr create, nothing written
printf '\241\141\141\001' >"$T/notcab.cbor"
expect_rc 1 "$AVOW" csr create -key "$T/ik.key" -kat "$T/notcab.cbor" -out "$T/notcab.csr"
grep -q AVOW_ERR_KAT_BUNDLE "$T/err" || { cat "$T/err" >&2; fail "not a CAB: code"; }
[ -e "$T/notcab.csr" ] && fail "a refused request left a file"
echo ok
