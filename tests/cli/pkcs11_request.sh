#!/bin/sh
# An attestation request answered by a SoftHSM2 token end to end: the
# verifier writes the form (nonce, platform claims, a key named by its
# label, key claims), evidence create -request -pkcs11 fills it from the
# token (finding the key the request names) and signs inside the token,
# reporting what the token cannot say (fipslevel: no PKCS#11 attribute;
# expiry: the key has no CKA_END_DATE); evidence verify -request accepts
# the answer. Keys named by CKA_ID, the attester's key from the URI, and
# a key the token lacks. Skipped (77) without SoftHSM2.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"

softhsm_token avow-req

# the attestation key and its certificate from a test root; two keys to attest
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=ak" -id a1 -pin "$PIN" -pubout "$T/ak.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=tls" -id b1 -pin "$PIN" -pubout "$T/tls.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=other" -id c1 -pin "$PIN" -end-date 2031-02-28
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
    -subj "/CN=Test Manufacturer Root" -days 30 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" -out "$T/ca.crt" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$AK_EKU" >"$T/ak.ext"
openssl x509 -new -force_pubkey "$T/ak.pub" -subj "/CN=Token AK" -CA "$T/ca.crt" \
    -CAkey "$T/ca.key" -days 30 -extfile "$T/ak.ext" -out "$T/ak.crt" 2>/dev/null ||
    fail "openssl cannot issue the AK certificate"

# --- the verifier's form ---
NONCE=$(openssl rand -hex 16)
expect_rc 0 "$AVOW" evidence request -nonce "$NONCE" -want timestamp,ak-spki \
    -want vendor,hwmodel,hwserial,fipslevel -key-ident tls \
    -want spki,extractable,sensitive,never-extractable,local,expiry,purpose -out "$T/req.pem"

# --- the attester: the token fills it, the token signs ---
expect_rc 0 "$AVOW" evidence create -request "$T/req.pem" -pkcs11 "$TOK" -pin "$PIN" \
    -signkey "$TOK;object=ak" -signcert "$T/ak.crt" -out "$T/ev.pem"
grep -q 'missing: platform fipslevel .*PKCS#11 has no attribute for it' "$T/err" ||
    fail "fipslevel not reported: $(cat "$T/err")"
grep -q 'missing: key "tls" expiry .*the key has no CKA_END_DATE' "$T/err" ||
    fail "expiry not reported: $(cat "$T/err")"
[ "$(grep -c '^avow: missing' "$T/err")" = 2 ] || fail "only two claims are missing: $(cat "$T/err")"
expect_rc 0 "$AVOW" evidence show -in "$T/ev.pem" --json
cp "$T/out" "$T/ev.json"
[ "$(jq -r '[.elements[] | .type + ":" + ([.claims[].name] | join("+"))] | join(" ")' "$T/ev.json")" = \
    "transaction:nonce+timestamp+ak-spki platform:vendor+hwmodel+hwserial key:identifier+spki+extractable+sensitive+never-extractable+local+purpose" ] ||
    fail "not exactly the requested claims: $(jq -c '[.elements[] | [.type, [.claims[].name]]]' "$T/ev.json")"
[ "$(jq -r '.elements[2].claims[0].value' "$T/ev.json")" = tls ] || fail "the key is not tls"
[ "$(jq -r '.elements[1].claims[0].value' "$T/ev.json")" = "SoftHSM project" ] ||
    fail "vendor is not the token's"
want_spki=$(openssl pkey -pubin -in "$T/tls.pub" -outform DER | od -An -v -tx1 | tr -d ' \n')
[ "$(jq -r '.elements[2].claims[1].value' "$T/ev.json")" = "$want_spki" ] ||
    fail "spki is not the tls key's"
ak_spki=$(openssl pkey -pubin -in "$T/ak.pub" -outform DER | od -An -v -tx1 | tr -d ' \n')
[ "$(jq -r '.elements[0].claims[2].value' "$T/ev.json")" = "$ak_spki" ] ||
    fail "ak-spki is not the signing key's"

# --- the verifier: trusted, fresh, and the answer to its request ---
expect_rc 0 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/ca.crt" -request "$T/req.pem"
grep -q 'TRUSTED' "$T/out" || fail "not trusted: $(cat "$T/out")"
grep -q '^Request: answered' "$T/out" || fail "not answered: $(cat "$T/out")"
grep -q 'nonce: matches' "$T/out" || grep -qi 'nonce.*match' "$T/out" ||
    fail "the request's nonce was not checked: $(cat "$T/out")"
expect_rc 1 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/ca.crt" -request "$T/req.pem" \
    -strict-request
grep -q 'fipslevel.*AVOW_ERR_UNANSWERED' "$T/err" || fail "strict check: $(cat "$T/err")"
expect_rc 1 "$AVOW" evidence create -request "$T/req.pem" -pkcs11 "$TOK" -pin "$PIN" \
    -signkey "$TOK;object=ak" -strict-request -out "$T/strict.pem"
[ ! -e "$T/strict.pem" ] || fail "-strict-request wrote Evidence"

# --- keys by CKA_ID, the URI's key as the attester's key, a key the token lacks ---
expect_rc 0 "$AVOW" evidence request -nonce "$NONCE" -key-ident c1 -want expiry -out "$T/byid.pem"
expect_rc 0 "$AVOW" evidence create -request "$T/byid.pem" -pkcs11 "$TOK" -pin "$PIN" \
    -signkey "$TOK;object=ak" -signcert "$T/ak.crt" -out "$T/byid-ev.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/byid-ev.pem" --json
[ "$(jq -r '.elements[1].claims | map(.name + "=" + .value) | join(" ")' "$T/out")" = \
    "identifier=c1 expiry=2031-02-28T23:59:59Z" ] || fail "key by CKA_ID: $(cat "$T/out")"
expect_rc 0 "$AVOW" evidence verify -in "$T/byid-ev.pem" -CAfile "$T/ca.crt" -request "$T/byid.pem" \
    -strict-request
expect_rc 0 "$AVOW" evidence request -nonce "$NONCE" -want local,identifier -out "$T/any.pem"
expect_rc 0 "$AVOW" evidence create -request "$T/any.pem" -pkcs11 "$TOK;object=other" -pin "$PIN" \
    -signkey "$TOK;object=ak" -signcert "$T/ak.crt" -out "$T/any-ev.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/any-ev.pem" --json
[ "$(jq -r '[.elements[1].claims[] | .name + "=" + (.value | tostring)] | join(" ")' "$T/out")" = \
    "identifier=other identifier=c1 local=true" ] || fail "the URI's key: $(cat "$T/out")"
expect_rc 0 "$AVOW" evidence verify -in "$T/any-ev.pem" -CAfile "$T/ca.crt" -request "$T/any.pem" \
    -strict-request
expect_rc 0 "$AVOW" evidence request -nonce "$NONCE" -key-ident absent -want spki -out "$T/absent.pem"
expect_rc 1 "$AVOW" evidence create -request "$T/absent.pem" -pkcs11 "$TOK" -pin "$PIN" \
    -signkey "$TOK;object=ak"
grep -q '"absent".*AVOW_ERR_NOT_FOUND' "$T/err" || fail "absent key: $(cat "$T/err")"
# key claims need a login; platform claims alone do not
expect_rc 2 "$AVOW" evidence create -request "$T/req.pem" -pkcs11 "$TOK" -signkey "$T/ca.key"
expect_rc 0 "$AVOW" evidence request -nonce "$NONCE" -want vendor -out "$T/pf.pem"
expect_rc 0 "$AVOW" evidence create -request "$T/pf.pem" -pkcs11 "$TOK" -out "$T/pf-ev.pem"
echo ok
