#!/bin/sh
# Attestation requests with a software attester: evidence request builds the
# form (flags, -from JSON, PEM/DER, -json, -in), evidence create -request
# fills exactly the requested claims from -claims and reports the others,
# evidence verify -request checks the answer in each mode; malformed
# requests and misuse are refused with their codes.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

make_ca
make_ak ak ec256
keygen "$T/k1.key" ec256
openssl pkey -in "$T/k1.key" -pubout -out "$T/k1.pub" 2>/dev/null
NONCE=00112233445566778899

# --- the form ---
expect_rc 0 "$AVOW" evidence request -nonce "$NONCE" -want timestamp,ak-spki -want vendor,fipslevel \
    -key-ident k1 -want spki,extractable,expiry -out "$T/req.pem"
grep -q -- '-----BEGIN EVIDENCE REQUEST-----' "$T/req.pem" || fail "request PEM label"
expect_rc 0 "$AVOW" evidence request -in "$T/req.pem" -json
cp "$T/out" "$T/req.json"
[ "$(jq -r '[.elements[].type] | join(",")' "$T/req.json")" = "transaction,platform,key" ] ||
    fail "elements of the request: $(cat "$T/req.json")"
[ "$(jq -r '.elements[0].claims[0].value' "$T/req.json")" = "$NONCE" ] || fail "request nonce"
[ "$(jq '[.elements[].claims[] | select(.value != null)] | length' "$T/req.json")" = 2 ] ||
    fail "only the nonce and the key identifier carry values"
# the printed JSON, and the hand-written form with nulls, build the same DER
expect_rc 0 "$AVOW" evidence request -in "$T/req.pem" -outform DER -out "$T/req.der"
expect_rc 0 "$AVOW" evidence request -from "$T/req.json" -outform DER -out "$T/req2.der"
cmp -s "$T/req.der" "$T/req2.der" || fail "-from the printed JSON is not the same request"
cat >"$T/hand.json" <<JSON
{"transaction": {"nonce": {"hex": "$NONCE"}, "timestamp": null, "ak-spki": null},
 "platform": {"vendor": null, "fipslevel": null},
 "keys": [{"identifier": "k1", "spki": null, "extractable": null, "expiry": null}]}
JSON
expect_rc 0 "$AVOW" evidence request -from "$T/hand.json" -outform DER -out "$T/req3.der"
cmp -s "$T/req.der" "$T/req3.der" || fail "the hand-written request is not the same request"
# an element's name asks for all of its claims
expect_rc 0 "$AVOW" evidence request -want platform -json
[ "$(jq '.elements[0].claims | length' "$T/out")" = 14 ] || fail "-want platform"
# misuse
expect_rc 2 "$AVOW" evidence request -want nonce
grep -q 'nonce is given with -nonce' "$T/err" || fail "-want nonce"
expect_rc 2 "$AVOW" evidence request -want colour
expect_rc 2 "$AVOW" evidence request -want vendor,,hwmodel
expect_rc 2 "$AVOW" evidence request
expect_rc 2 "$AVOW" evidence request -in "$T/req.pem" -want vendor
printf '{"platform": {"vendor": "Acme"}}' >"$T/valued.json"
expect_rc 3 "$AVOW" evidence request -from "$T/valued.json"
grep -q 'AVOW_ERR_REQUEST_VALUE' "$T/err" || fail "a valued vendor in a request"

# --- the answer: exactly what was asked, from the claims the attester has ---
cat >"$T/claims.json" <<JSON
{"platform": {"vendor": "Acme", "hwmodel": "HSM-9000", "fipsboot": true},
 "keys": [{"identifier": "k1", "extractable": false, "sensitive": true},
          {"identifier": "k2", "local": true}]}
JSON
expect_rc 0 "$AVOW" evidence create -request "$T/req.pem" -claims "$T/claims.json" \
    -key-spki "$T/k1.pub" -key-ident k1 -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -chain "$T/int.pem" -out "$T/ev.pem"
grep -q 'avow: missing: platform fipslevel (request.reportedElements\[1\].claims\[1\])' "$T/err" ||
    fail "fipslevel not reported: $(cat "$T/err")"
grep -q 'avow: missing: key "k1" expiry' "$T/err" || fail "expiry not reported"
[ "$(grep -c '^avow: missing' "$T/err")" = 2 ] || fail "two claims not supplied: $(cat "$T/err")"
expect_rc 0 "$AVOW" evidence show -in "$T/ev.pem" --json
cp "$T/out" "$T/ev.json"
[ "$(jq -r '[.elements[] | .type + ":" + ([.claims[].name] | join("+"))] | join(" ")' "$T/ev.json")" = \
    "transaction:nonce+timestamp+ak-spki platform:vendor key:identifier+spki+extractable" ] ||
    fail "not exactly the requested claims: $(jq -c '.elements' "$T/ev.json")"
[ "$(jq -r '.elements[0].claims[0].value' "$T/ev.json")" = "$NONCE" ] || fail "nonce not copied"
# the report as JSON
expect_rc 0 "$AVOW" evidence create -request "$T/req.der" -claims "$T/claims.json" \
    -signkey "$T/ak.key" -json -out "$T/ev2.pem"
jq -e '.status == "AVOW_OK" and .missing == 3 and
       ([.answers[].claim] | sort == ["expiry", "fipslevel", "spki"])' "$T/err" >/dev/null ||
    fail "report JSON: $(cat "$T/err")"
# strict: nothing is written when a requested claim cannot be supplied
expect_rc 1 "$AVOW" evidence create -request "$T/req.pem" -claims "$T/claims.json" \
    -signkey "$T/ak.key" -strict-request -out "$T/strict.pem"
grep -q 'AVOW_ERR_UNANSWERED' "$T/err" || fail "-strict-request: $(cat "$T/err")"
[ ! -e "$T/strict.pem" ] || fail "-strict-request wrote Evidence"
# a key the attester does not have: the request fails, as the draft says
expect_rc 0 "$AVOW" evidence request -key-ident nope -want spki -out "$T/nope.pem"
expect_rc 1 "$AVOW" evidence create -request "$T/nope.pem" -claims "$T/claims.json" -signkey "$T/ak.key"
grep -q 'no claim source has a key with identifier "nope".*AVOW_ERR_NOT_FOUND' "$T/err" ||
    fail "missing key: $(cat "$T/err")"
# the attester's key: every key no element names
expect_rc 0 "$AVOW" evidence request -want local -out "$T/any.pem"
expect_rc 0 "$AVOW" evidence create -request "$T/any.pem" -claims "$T/claims.json" -signkey "$T/ak.key" \
    -out "$T/any-ev.pem"
grep -q 'missing: key "k1" local' "$T/err" || fail "k1 has no local: $(cat "$T/err")"
expect_rc 0 "$AVOW" evidence show -in "$T/any-ev.pem" --json
[ "$(jq -c '[.elements[].claims[] | .name + "=" + (.value | tostring)]' "$T/out")" = \
    '["identifier=k1","identifier=k2","local=true"]' ] || fail "attester's keys: $(cat "$T/out")"
# options that belong to the request
expect_rc 2 "$AVOW" evidence create -request "$T/req.pem" -claims "$T/claims.json" -nonce 00
expect_rc 2 "$AVOW" evidence create -request "$T/req.pem" -claims "$T/claims.json" -ak-spki \
    -signkey "$T/ak.key"
expect_rc 2 "$AVOW" evidence create -claims "$T/claims.json" -strict-request

# --- the verifier's check of the answer ---
expect_rc 0 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/root.pem" -request "$T/req.pem"
grep -q '^Request: answered' "$T/out" || fail "answer not reported: $(cat "$T/out")"
grep -q '^  missing: platform fipslevel' "$T/out" || fail "missing claim not listed"
expect_rc 1 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/root.pem" -request "$T/req.pem" \
    -strict-request
grep -q '^Request: NOT ANSWERED' "$T/out" || fail "strict answer: $(cat "$T/out")"
grep -q 'AVOW_ERR_UNANSWERED' "$T/err" || fail "strict answer code"
expect_rc 0 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/root.pem" -request "$T/req.pem" --json
jq -e '.trusted and .request.status == "AVOW_OK" and .request.missing == 2' "$T/out" >/dev/null ||
    fail "verify --json request member: $(cat "$T/out")"
# Evidence made without the request says more than was asked
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$NONCE" -timestamp now -ak-spki \
    -key-spki "$T/k1.pub" -key-ident k1 -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -chain "$T/int.pem" -out "$T/full.pem"
expect_rc 1 "$AVOW" evidence verify -in "$T/full.pem" -CAfile "$T/root.pem" -request "$T/req.pem"
grep -q 'tbs.reportedElements\[0\].claims\[1\]: hwmodel: not asked for (AVOW_ERR_UNREQUESTED)' "$T/err" ||
    fail "unrequested claim: $(cat "$T/err")"
expect_rc 0 "$AVOW" evidence verify -in "$T/full.pem" -CAfile "$T/root.pem" -request "$T/req.pem" \
    -allow-unrequested
grep -q '^  unrequested: key "k2" element' "$T/out" || fail "unrequested key not listed"
# another nonce: the request's nonce is the expected one
expect_rc 0 "$AVOW" evidence request -nonce ffff -want vendor -out "$T/other.pem"
expect_rc 1 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/root.pem" -request "$T/other.pem" \
    -allow-unrequested
grep -q 'AVOW_ERR_NONCE_MISMATCH' "$T/err" || fail "another nonce: $(cat "$T/err")"
expect_rc 2 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/root.pem" -strict-request

# --- malformed requests ---
printf '\060\003\002\001\001' >"$T/bad.der"  # TbsEvidence without elements
expect_rc 3 "$AVOW" evidence create -request "$T/bad.der" -claims "$T/claims.json"
grep -q 'request' "$T/err" || fail "bad request: no field"
cat "$T/req.der" >"$T/trail.der"
printf '\000' >>"$T/trail.der"
expect_rc 3 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/root.pem" -request "$T/trail.der"
grep -q 'request: 1 bytes after the TbsEvidence (AVOW_ERR_TRAILING)' "$T/err" ||
    fail "trailing byte: $(cat "$T/err")"
expect_rc 3 "$AVOW" evidence request -in "$T/ev.pem"
echo ok
