#!/bin/sh
# The PKCS#11 attester end to end on a fresh SoftHSM2 token: avow keygen,
# an AK certificate from a test CA (from the file and from the token),
# evidence create -signkey pkcs11: -platform-from -attest-key, verify, the
# key claims cross-checked with pkcs11-tool, and the failures (wrong PIN,
# missing module, missing key). Skipped (77) without SoftHSM2 and OpenSC.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"

softhsm_token avow-test
command -v pkcs11-tool >/dev/null 2>&1 || { echo "SKIP: pkcs11-tool (opensc) not installed"; exit 77; }
printf '%s\n' "$PIN" >"$T/pin.txt"
chmod 600 "$T/pin.txt"

p11tool() {
    pkcs11-tool --module "$MOD" --token-label avow-test "$@"
}

# --- keygen ---
expect_rc 0 "$AVOW" keygen -pkcs11-module "$MOD" -token-uri "$TOK;object=ak" -id a1 \
    -pin-source env:AVOW_TEST_PIN -pubout "$T/ak.pub"
grep -q '^pkcs11:.*token=avow-test' "$T/out" || fail "keygen printed no URI: $(cat "$T/out")"
grep -q 'object=ak' "$T/out" || fail "keygen URI lacks object=ak"
grep -q 'id=%[aA]1' "$T/out" || fail "keygen URI lacks id=%a1"
grep -q 'BEGIN PUBLIC KEY' "$T/ak.pub" || fail "-pubout wrote no PEM public key"
# the default module (SoftHSM2's Debian path) and a URI that carries the id
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=subj;id=%b1" -pin-source "file:$T/pin.txt" \
    -end-date 2031-02-28
expect_rc 0 "$AVOW" keygen -uri "$TOK" -label exp -id c1 -pin "$PIN" -type ec-p384 -extractable
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=rsa" -id d1 -pin "$PIN" -type rsa-2048 \
    -pubout "$T/rsa.pub"
openssl pkey -pubin -in "$T/rsa.pub" -noout -text 2>/dev/null | grep -q '2048 bit' ||
    fail "rsa-2048 key is not 2048 bits"
# no label or id twice: later look-ups would be ambiguous
expect_rc 2 "$AVOW" keygen -uri "$TOK;object=ak" -id e1 -pin "$PIN"
grep -q 'already has a private key' "$T/err" || fail "duplicate label not refused clearly"
expect_rc 2 "$AVOW" keygen -uri "$TOK;object=other" -id a1 -pin "$PIN"
expect_rc 2 "$AVOW" keygen -uri "$TOK;object=x" -pin "$PIN" -type dsa
expect_rc 2 "$AVOW" keygen -uri "$TOK;object=x" -pin "$PIN" -end-date 31.12.2030
expect_rc 2 "$AVOW" keygen -uri "$TOK;object=x" -pin "$PIN" -pin-source pass:1
# the flag wins over AVOW_PKCS11_MODULE, which wins over the default
AVOW_PKCS11_MODULE=$T/no-such-module.so expect_rc 1 "$AVOW" keygen -uri "$TOK;object=x" -pin "$PIN"
grep -q 'no-such-module.so' "$T/err" || fail "AVOW_PKCS11_MODULE not used"
AVOW_PKCS11_MODULE=$T/no-such-module.so expect_rc 0 "$AVOW" keygen -pkcs11-module "$MOD" \
    -uri "$TOK;object=x" -pin "$PIN"

# --- the AK certificate: a test root issues it for the key in the token ---
token_ak_cert ca

NONCE=$(openssl rand -hex 16)
AK="$TOK;object=ak"

# --- case 1: certificate from -signcert ---
expect_rc 0 "$AVOW" evidence create -signkey "$AK" -signcert "$T/ak.crt" -pin-source env:AVOW_TEST_PIN \
    -platform-from "$TOK" -attest-key "$TOK;object=subj" -attest-key "$TOK;object=exp" \
    -nonce "$NONCE" -timestamp now -out "$T/ev1.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/ev1.pem" -CAfile "$T/ca.crt" -nonce "$NONCE"
grep -q 'TRUSTED' "$T/out" || fail "case 1 not trusted"

# --- case 2: certificate stored in the token under the AK's CKA_ID ---
openssl x509 -in "$T/ak.crt" -outform DER -out "$T/ak.der"
p11tool --login --pin "$PIN" --write-object "$T/ak.der" --type cert --id a1 --label ak \
    >/dev/null 2>&1 || fail "pkcs11-tool cannot store the certificate"
expect_rc 0 "$AVOW" evidence create -signkey "$AK" -pin "$PIN" -platform-from "$TOK" \
    -attest-key "$TOK;object=subj" -ak-spki -nonce "$NONCE" -outform DER -out "$T/ev2.der"
expect_rc 0 "$AVOW" evidence verify -in "$T/ev2.der" -CAfile "$T/ca.crt" -nonce "$NONCE"
grep -q 'signer: certificate' "$T/out" || fail "token certificate not used as the signer id"
grep -q 'ak-spki: signer key listed' "$T/out" || fail "ak-spki of the token key not listed"
expect_rc 1 "$AVOW" evidence verify -in "$T/ev2.der" -CAfile "$T/ca.crt" -nonce 00
# -pkcs11 URI is -attest-key URI plus the platform of the URI's token
expect_rc 0 "$AVOW" evidence create -signkey "$AK" -pin "$PIN" -pkcs11 "$TOK;object=subj" \
    -nonce "$NONCE" -out "$T/ev-short.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/ev-short.pem" --json
grep -q '"platform"' "$T/out" || fail "-pkcs11 did not add the platform element"
grep -q '"subj"' "$T/out" || fail "-pkcs11 did not attest the key"
expect_rc 0 "$AVOW" evidence verify -in "$T/ev-short.pem" -CAfile "$T/ca.crt" -nonce "$NONCE"
# an RSA key in the token signs too (no certificate: sid spki, verified by key)
expect_rc 0 "$AVOW" evidence create -signkey "$TOK;object=rsa" -pss -pin "$PIN" -nonce "$NONCE" \
    -out "$T/ev3.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/ev3.pem"
grep -q 'rsa-pss-sha256' "$T/out" || fail "-pss not used for the token's RSA key"
# a certificate for another key is refused
expect_rc 2 "$AVOW" evidence create -signkey "$TOK;object=rsa" -signcert "$T/ak.crt" -pin "$PIN" \
    -nonce "$NONCE"

# --- the claims against what pkcs11-tool says ---
expect_rc 0 "$AVOW" evidence show -in "$T/ev1.pem" --json
cp "$T/out" "$T/ev1.json"
p11tool --login --pin "$PIN" --list-objects --type privkey >"$T/objects.txt" 2>/dev/null
p11tool --list-token-slots >"$T/slots.txt" 2>/dev/null || pkcs11-tool --module "$MOD" -L >"$T/slots.txt"

# claims_of IDENT: "name=value" lines of the key element with that identifier
# (arrays joined with commas), from the pretty JSON of show --json.
claims_of() {
    awk -v want="$1" '
    function flush() { if (hit) printf "%s", buf; buf = ""; hit = 0 }
    /"claims": \[/ { flush(); next }
    /"signatures":/ { flush(); stop = 1 }
    stop { next }
    /"name": / { n = $0; sub(/.*"name": "/, "", n); sub(/".*/, "", n); next }
    inarr && /\]/ { buf = buf n "=" arr "\n"; inarr = 0; next }
    inarr { v = $0; gsub(/[ ",]/, "", v); arr = arr (arr == "" ? "" : ",") v; next }
    /"value": \[/ { inarr = 1; arr = ""; next }
    /"value": / { v = $0; sub(/.*"value": /, "", v); gsub(/"/, "", v); sub(/,$/, "", v)
                  buf = buf n "=" v "\n"; if (n == "identifier" && v == want) hit = 1; next }
    END { flush() }' "$T/ev1.json"
}

# tool_field LABEL FIELD: "Access" or "Usage" of the private key LABEL per pkcs11-tool
tool_field() {
    awk -v want="$1" -v field="$2" '
    /^[A-Za-z].*Object/ { cur = "" }
    /^ *label:/ { v = $0; sub(/^ *label: */, "", v); cur = v }
    $0 ~ "^ *" field ":" { v = $0; sub("^ *" field ": *", "", v); if (cur == want) print v }' \
        "$T/objects.txt"
}

# has_item LIST ITEM: ITEM is one of the comma-separated items of LIST
has_item() {
    printf '%s\n' "$1" | tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep -qx "$2"
}

check_key() {
    label=$1
    claims=$(claims_of "$label")
    [ -n "$claims" ] || fail "no key element for $label"
    access=$(tool_field "$label" Access)
    usage=$(tool_field "$label" Usage)
    [ -n "$access" ] || fail "pkcs11-tool printed no Access line for $label"
    for pair in sensitive:sensitive extractable:extractable \
        never-extractable:"never extractable" local:local; do
        claim=${pair%%:*}
        item=${pair#*:}
        want=false
        has_item "$access" "$item" && want=true
        printf '%s\n' "$claims" | grep -qx "$claim=$want" ||
            fail "$label: $claim should be $want (pkcs11-tool: $access; avow: $(printf '%s' "$claims" | grep "^$claim=" || echo none))"
    done
    purpose=$(printf '%s\n' "$claims" | sed -n 's/^purpose=//p')
    for u in $(printf '%s' "$usage" | tr ',' ' '); do
        has_item "$purpose" "$u" || fail "$label: usage $u (pkcs11-tool) missing from purpose $purpose"
    done
}
check_key subj
check_key exp
claims_of exp | grep -qx 'extractable=true' || fail "-extractable key not shown extractable"
claims_of subj | grep -qx 'extractable=false' || fail "default key shown extractable"
claims_of subj | grep -qx 'never-extractable=true' || fail "default key not never-extractable"
claims_of subj | grep -qx 'sensitive=true' || fail "default key not sensitive"
claims_of subj | grep -qx 'identifier=b1' || fail "CKA_ID not an identifier"
claims_of subj | grep -qx 'expiry=2031-02-28T23:59:59Z' || fail "CKA_END_DATE not the expiry"
claims_of subj | grep -q '^purpose=.*sign' || fail "subject key lacks purpose sign"
# the platform claims name this token
serial=$(sed -n 's/^ *serial num *: *//p' "$T/slots.txt" | head -n 1)
[ -n "$serial" ] && { grep -q "\"value\": \"$serial\"" "$T/ev1.json" || fail "hwserial is not $serial"; }
grep -q '"value": "SoftHSM project"' "$T/ev1.json" || fail "vendor is not the token's manufacturer"

# --- failures ---
expect_rc 1 "$AVOW" evidence create -signkey "$AK" -pin 0000 -nonce "$NONCE"
grep -q 'C_Login' "$T/err" || fail "wrong PIN: no C_Login in: $(cat "$T/err")"
grep -q 'AVOW_ERR_PIN' "$T/err" || fail "wrong PIN: not AVOW_ERR_PIN"
expect_rc 1 "$AVOW" keygen -uri "$TOK;object=y" -pin-source pass:0000
grep -q 'C_Login' "$T/err" || fail "keygen wrong PIN: no C_Login"
expect_rc 1 "$AVOW" evidence create -pkcs11-module "$T/missing.so" -signkey "$AK" -pin "$PIN" \
    -nonce "$NONCE"
grep -q 'module.*missing.so' "$T/err" || fail "missing module not named: $(cat "$T/err")"
expect_rc 1 "$AVOW" keygen -pkcs11-module "$T/missing.so" -uri "$TOK;object=y" -pin "$PIN"
grep -q 'missing.so' "$T/err" || fail "keygen: missing module not named"
expect_rc 1 "$AVOW" evidence create -signkey "$TOK;object=nokey" -pin "$PIN" -nonce "$NONCE"
grep -q 'no object matches.*nokey' "$T/err" || fail "missing key not named: $(cat "$T/err")"
expect_rc 1 "$AVOW" evidence create -attest-key "$TOK;object=nokey" -pin "$PIN" -nonce "$NONCE"
grep -q 'nokey' "$T/err" || fail "missing attested key not named"
expect_rc 1 "$AVOW" evidence create -signkey "pkcs11:token=no-such-token;object=ak" -pin "$PIN" \
    -nonce "$NONCE"
grep -q 'no-such-token' "$T/err" || fail "missing token not named"
expect_rc 2 "$AVOW" evidence create -signkey "$AK" -nonce "$NONCE"
grep -q 'PIN' "$T/err" || fail "no PIN: message does not say so"
# a PIN source that gives no PIN: AVOW_ERR_NO_PIN, a usage error
expect_rc 2 "$AVOW" evidence create -signkey "$AK" -pin-source env:AVOW_NO_SUCH_VAR -nonce "$NONCE"
grep -q 'AVOW_NO_SUCH_VAR is not set.*AVOW_ERR_NO_PIN' "$T/err" || fail "unset PIN variable: $(cat "$T/err")"
expect_rc 2 "$AVOW" evidence create -attest-key "$T/ak.pub" -pin "$PIN" -nonce "$NONCE"
# platform claims need no login
expect_rc 0 "$AVOW" evidence create -platform-from "$TOK" -out "$T/pf.pem"
echo "ok"
