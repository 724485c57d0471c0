#!/bin/sh
# avow serve, the verifier API with CMW bodies (RFC 9999): PKIX Evidence
# wrapped in a JSON or CBOR CMW (type application/pkix-evidence) is appraised
# as the bare DER is; a PSA token in a CMW verifies with the IAK of "iaks";
# an Attestation Result in a CMW is 415 and a broken CMW 400, neither using
# the session; newSession's "accept" lists the CMW media types.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

P=$VECTORS/psa
make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "anchors": ["$T/root.pem"], "iaks": ["$P/veraison-tfm-public.pem"]}
JSON
start_server "$T/serve.json"

CR=/challenge-response/v1
b64url() { base64 -w0 "$1" | tr '+/' '-_' | tr -d '='; }
# ear_of: the EAR payload of the answer in body, to ear.json
ear_of() {
    p=$(jq -r .result "$T/body" | cut -d. -f2 | tr '_-' '/+')
    case $(( ${#p} % 4 )) in 2) p="$p==" ;; 3) p="$p=" ;; esac
    printf '%s' "$p" | base64 -d >"$T/ear.json"
}
evidence() {
    spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "k", "spki": {"hex": "$spki"}, "extractable": false, "sensitive": true,
           "never-extractable": true, "local": true}]}
JSON
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$1" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -outform DER -out "$2"
}
session() {
    http POST "$CR/newSession"
    expect_status 201
    jq -e '.accept == ["application/pkix-evidence", "application/cmw+json", "application/cmw+cbor"]' \
        "$T/body" >/dev/null || { cat "$T/body"; fail "accept"; }
    loc=$(grep -i '^location:' "$T/hdr" | tr -d '\r' | sed 's/^[^:]*: *//')
    ID=${loc##*/}
    N=$(jq -r .nonce "$T/body" | base64 -d | od -An -v -tx1 | tr -d ' \n')
}
post() {
    http POST "$CR/session/$1" -H "Content-Type: $3" --data-binary "@$2"
}
# oct N: the byte N
oct() { printf "\\$(printf %o "$1")"; }
# cbor_cmw TYPE FILE OUT: the CBOR record [TYPE, bstr FILE]
cbor_cmw() {
    tl=${#1}
    l=$(wc -c <"$2")
    { oct 130; oct 120; oct "$tl"; printf '%s' "$1"
      oct 89; oct $((l / 256)); oct $((l % 256)); cat "$2"; } >"$3"
}

# --- PKIX Evidence in a JSON CMW: affirming ---
session
evidence "$N" "$T/ev1.der"
printf '["application/pkix-evidence","%s"]' "$(b64url "$T/ev1.der")" >"$T/ev1.cmw.json"
post "$ID" "$T/ev1.cmw.json" application/cmw+json
expect_status 200
jq -e '.status == "complete" and .evidence.type == "application/cmw+json"' "$T/body" >/dev/null ||
    { cat "$T/body"; fail "JSON CMW session"; }
ear_of
jq -e '.ear_status == "affirming"' "$T/ear.json" >/dev/null || { cat "$T/ear.json"; fail "JSON CMW not affirming"; }
post "$ID" "$T/ev1.cmw.json" application/cmw+json
expect_status 409

# --- in a CBOR CMW ---
session
evidence "$N" "$T/ev2.der"
cbor_cmw application/pkix-evidence "$T/ev2.der" "$T/ev2.cmw.cbor"
post "$ID" "$T/ev2.cmw.cbor" application/cmw+cbor
expect_status 200
ear_of
jq -e '.ear_status == "affirming"' "$T/ear.json" >/dev/null || { cat "$T/ear.json"; fail "CBOR CMW not affirming"; }

# --- refusals that leave the session waiting ---
session
# JSON text sent as CBOR
post "$ID" "$T/ev1.cmw.json" application/cmw+cbor
expect_status 400
jq -e '.type == "urn:avow:problem:malformed" and .code == "AVOW_ERR_CMW"' "$T/body" >/dev/null ||
    { cat "$T/body"; fail "JSON as CBOR"; }
printf '["application/pkix-evidence","not base64url!"]' >"$T/bad.json"
post "$ID" "$T/bad.json" application/cmw+json
expect_status 400
printf '["application/eat+jwt; eat_profile=\\"tag:github.com,2023:veraison/ear\\"","%s"]' \
    "$(printf 'a.b.c' | base64 -w0 | tr '+/' '-_' | tr -d '=')" >"$T/ear.cmw.json"
post "$ID" "$T/ear.cmw.json" application/cmw+json
expect_status 415
jq -e '.code == "AVOW_ERR_MEDIA_TYPE"' "$T/body" >/dev/null || { cat "$T/body"; fail "EAR CMW"; }
http GET "$CR/session/$ID"
jq -e '.status == "waiting"' "$T/body" >/dev/null || fail "a refused CMW used the session"

# --- a CMW of another type: appraised by the CMW row, not affirming ---
printf '["text/plain","%s"]' "$(b64url "$T/ev1.der")" >"$T/txt.cmw.json"
post "$ID" "$T/txt.cmw.json" application/cmw+json
expect_status 200
ear_of
jq -e '.ear_status != "affirming"' "$T/ear.json" >/dev/null || fail "text/plain CMW affirmed"

# --- a PSA token (its own nonce, not the session's): the IAK verifies it ---
session
printf '["application/psa-attestation-token","%s"]' "$(b64url "$P/veraison-tfm-psa-2_0_0_sign1.bin")" >"$T/psa.json"
post "$ID" "$T/psa.json" application/cmw+json
expect_status 200
ear_of
jq -e '.ear_status != "affirming"' "$T/ear.json" >/dev/null || fail "PSA token with another nonce affirmed"
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_NONCE_MISMATCH") != null' "$T/ear.json" >/dev/null ||
    { cat "$T/ear.json"; fail "PSA: no nonce mismatch"; }
# the nonce is the only reason (without the IAK: AVOW_ERR_KEY_UNKNOWN, check "trust")
jq -e '[.submods[].avow_reasons[]?.code] == ["AVOW_ERR_NONCE_MISMATCH"]' "$T/ear.json" >/dev/null ||
    { cat "$T/ear.json"; fail "PSA token did not verify with the IAK"; }
alive
stop_server_clean
echo ok
