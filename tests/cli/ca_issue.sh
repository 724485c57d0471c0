#!/bin/sh
# avow ca: init, nonce, issue (affirming -> certificate with the CMW
# extension that openssl verifies), and the refusals: replayed nonce,
# unknown nonce, extractable key -- each with its reason in the EAR, a
# non-zero exit and no certificate.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -subject "CN=avow test CA,O=avow test"
[ -f "$CA/ca.crt" ] && [ -f "$CA/ca.key" ] && [ -f "$CA/nonces.db" ] && [ -f "$CA/ca.json" ] ||
    fail "ca init did not write the CA directory"
[ "$(stat -c %a "$CA/ca.key")" = 600 ] || fail "ca.key is not mode 0600"
openssl x509 -in "$CA/ca.crt" -noout -text >"$T/ca.txt"
grep -q "CA:TRUE" "$T/ca.txt" || fail "CA certificate without CA:TRUE"
grep -q "Certificate Sign" "$T/ca.txt" || fail "CA certificate without keyCertSign"
expect_rc 1 "$AVOW" ca init -dir "$CA"
grep -q "already holds a CA" "$T/err" || fail "ca init overwrote a CA"
expect_rc 2 "$AVOW" ca nonce
expect_rc 0 "$AVOW" ca nonce -dir "$CA" -len 16 -json
grep -q '"nonce": "[0-9a-f]\{32\}"' "$T/out" || fail "nonce --json"

# The requester side stops here without "avow csr create".
if ! "$AVOW" csr create --help >/dev/null 2>&1; then
    echo "SKIP: avow csr create is not available; the issue part of this test needs it" >&2
    exit 77
fi

make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
keygen "$T/bad.key" ec256
cat "$T/int.pem" >"$T/chain.pem"

# evidence KEY NONCE EXTRACTABLE OUT: Evidence about KEY, nonce NONCE, signed by the AK
evidence() {
    spki=$(openssl pkey -in "$1" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "device-key", "spki": {"hex": "$spki"}, "extractable": $3, "sensitive": true,
           "never-extractable": $(if [ "$3" = true ]; then echo false; else echo true; fi), "local": true}]}
JSON
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$2" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$4"
}
# csr KEY EVIDENCE OUT
csr() {
    expect_rc 0 "$AVOW" csr create -key "$1" -subject "CN=device 1,O=avow test" -evidence "$2" \
        -chain "$T/int.pem" -out "$3"
}

# --- affirming: a certificate carrying the EAR ---
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
N1=$(cat "$T/out")
evidence "$T/dev.key" "$N1" false "$T/ev1.pem"
csr "$T/dev.key" "$T/ev1.pem" "$T/req1.pem"
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/req1.pem" -CAfile "$T/root.pem" \
    -out "$T/cert1.pem" -ear-out "$T/ear1.json" -jwt-out "$T/ear1.jwt" -eku clientAuth
grep -q "status: affirming" "$T/out" || fail "summary does not say affirming"
openssl x509 -in "$T/cert1.pem" -noout -text >"$T/cert1.txt"
grep -q "1.3.6.1.5.5.7.1.35" "$T/cert1.txt" || fail "no CMW extension 1.3.6.1.5.5.7.1.35"
grep -q "CA:FALSE" "$T/cert1.txt" || fail "issued certificate without CA:FALSE"
grep -q "TLS Web Client Authentication" "$T/cert1.txt" || fail "-eku not applied"
openssl verify -CAfile "$CA/ca.crt" "$T/cert1.pem" >"$T/verify" 2>&1 || { cat "$T/verify"; fail "openssl verify"; }
# the certificate's key is the request's
openssl x509 -in "$T/cert1.pem" -noout -pubkey >"$T/c1.pub"
openssl pkey -in "$T/dev.key" -pubout >"$T/dev.pub"
cmp -s "$T/c1.pub" "$T/dev.pub" || fail "certificate key is not the request key"
jq -e '.ear_status == "affirming"' "$T/ear1.json" >/dev/null || fail "EAR not affirming"
[ -s "$T/ear1.jwt" ] || fail "no JWT written"
# the relying party reads the passport back
expect_rc 0 "$AVOW" ca show-result -in "$T/cert1.pem" -CAfile "$CA/ca.crt"
jq -e '.ear_status == "affirming" and (.submods | to_entries[0].value.ear_veraison_key_attestation.akpub | length > 0)' \
    "$T/out" >/dev/null || fail "show-result does not print the affirming EAR"
# ... and refuses another issuer's key
expect_rc 1 "$AVOW" ca show-result -in "$T/cert1.pem" -CAfile "$T/root.pem"
# the default output place: DIR/certs/SERIAL.pem
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
evidence "$T/dev.key" "$(cat "$T/out")" false "$T/ev1b.pem"
csr "$T/dev.key" "$T/ev1b.pem" "$T/req1b.pem"
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/req1b.pem" -CAfile "$T/root.pem" --json
jq -e '.ear_status == "affirming"' "$T/out" >/dev/null || fail "--json does not print the EAR"
# both land in certs/ (-out is a copy) and in the ledger
[ "$(ls "$CA/certs" | wc -l)" -eq 2 ] || fail "certificates not under DIR/certs"
SN1=$(openssl x509 -in "$T/cert1.pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
[ -f "$CA/certs/$SN1.pem" ] || fail "the -out certificate is not in DIR/certs"
cmp -s "$CA/certs/$SN1.pem" "$T/cert1.pem" || fail "DIR/certs copy differs from -out"
expect_rc 0 "$AVOW" ca list -dir "$CA"
[ "$(grep -c "CN=device 1" "$T/out")" -eq 2 ] || { cat "$T/out"; fail "ca list does not show both"; }
expect_rc 0 "$AVOW" ca list -dir "$CA" -json
jq -e 'length == 2 and (.[0].serial | test("^[0-9a-f]{32}$")) and (.[0].nonce == "'"$N1"'")' "$T/out" >/dev/null ||
    { cat "$T/out"; fail "ca list -json"; }
expect_rc 0 "$AVOW" ca show -dir "$CA" -serial "$(echo "$SN1" | tr 'a-f' 'A-F')" -json
jq -e '.ear.ear_status == "affirming" and .serial == "'"$SN1"'"' "$T/out" >/dev/null || fail "ca show -json"
jq -j .certificate "$T/out" >"$T/shown.pem"
cmp -s "$T/shown.pem" "$T/cert1.pem" || fail "ca show's certificate is not the issued one"
expect_rc 0 "$AVOW" ca show -dir "$CA" -serial "$SN1"
grep -q "BEGIN CERTIFICATE" "$T/out" && grep -q '"ear_status": "affirming"' "$T/out" || fail "ca show text"
expect_rc 1 "$AVOW" ca show -dir "$CA" -serial 00ff
grep -q AVOW_ERR_NOT_FOUND "$T/err" || fail "unknown serial"

# --- a forged copy (one byte of the signature flipped) must not burn the honest nonce ---
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
evidence "$T/dev.key" "$(cat "$T/out")" false "$T/ev4.pem"
csr "$T/dev.key" "$T/ev4.pem" "$T/req4.pem"
openssl req -in "$T/req4.pem" -outform DER -out "$T/forged.der"
size=$(stat -c %s "$T/forged.der")
off=$((size - 3))
b=$(od -An -tu1 -j "$off" -N1 "$T/forged.der" | tr -d ' ')
printf "\\$(printf %03o $((b ^ 1)))" | dd of="$T/forged.der" bs=1 seek="$off" conv=notrunc 2>/dev/null
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/forged.der" -CAfile "$T/root.pem" --json
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_POP") != null' "$T/out" >/dev/null ||
    { cat "$T/out"; fail "forged request not refused for its signature"; }
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/req4.pem" -CAfile "$T/root.pem"
grep -q "status: affirming" "$T/out" || fail "the honest request was refused after a forgery"

# --- outputs may not replace the CA's own files ---
cp "$CA/ca.key" "$T/ca.key.before"
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
evidence "$T/dev.key" "$(cat "$T/out")" false "$T/ev5.pem"
csr "$T/dev.key" "$T/ev5.pem" "$T/req5.pem"
for opt in -out -ear-out -jwt-out; do
    expect_rc 2 "$AVOW" ca issue -dir "$CA" -in "$T/req5.pem" -CAfile "$T/root.pem" $opt "$CA/ca.key"
    grep -q "inside the CA directory" "$T/err" || fail "$opt into the CA directory"
done
mkdir "$T/sub"
expect_rc 2 "$AVOW" ca issue -dir "$CA" -in "$T/req5.pem" -CAfile "$T/root.pem" -out "$T/sub/../ca/ca.json"
ln -s "$CA" "$T/calink"
expect_rc 2 "$AVOW" ca issue -dir "$CA" -in "$T/req5.pem" -CAfile "$T/root.pem" -out "$T/calink/certs/x.pem"
cmp -s "$CA/ca.key" "$T/ca.key.before" || fail "ca.key was replaced"
# ...and a refused output did not use the nonce up
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/req5.pem" -CAfile "$T/root.pem" -out "$T/cert5.pem"
[ "$(stat -c %a "$T/cert5.pem")" = 644 ] || fail "-out certificate is not 0644"
ls "$CA/certs" | grep -q '\.pem\.' && fail "a temporary was left in certs/"

# --- control characters in the subject ---
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
evidence "$T/dev.key" "$(cat "$T/out")" false "$T/ev6.pem"
csr "$T/dev.key" "$T/ev6.pem" "$T/req6.pem"
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/req6.pem" -CAfile "$T/root.pem" \
    -subject "$(printf 'CN=evil\033[2Jname')"
grep -q "subject.CN.*AVOW_ERR_BAD_SUBJECT" "$T/err" || { cat "$T/err"; fail "control character in subject"; }

# --- -at: @0 is 1970, not now; out of range is refused ---
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/req6.pem" -CAfile "$T/root.pem" -at @0 --json
jq -e '.ear_status != "affirming"' "$T/out" >/dev/null || fail "-at @0 was taken as now"
expect_rc 2 "$AVOW" ca issue -dir "$CA" -in "$T/req6.pem" -CAfile "$T/root.pem" -at @99999999999999999999
expect_rc 2 "$AVOW" ca issue -dir "$CA" -in "$T/req6.pem" -CAfile "$T/root.pem" -at @-1

# --- validity past the CA's: refused, or capped on request ---
SHORT="$T/short"
expect_rc 0 "$AVOW" ca init -dir "$SHORT" -days 30 -cert-days 10
expect_rc 2 "$AVOW" ca init -dir "$T/bad-days" -days 30 -cert-days 31
[ ! -e "$T/bad-days" ] || fail "a refused init left a directory"
expect_rc 0 "$AVOW" ca nonce -dir "$SHORT"
evidence "$T/dev.key" "$(cat "$T/out")" false "$T/ev7.pem"
csr "$T/dev.key" "$T/ev7.pem" "$T/req7.pem"
expect_rc 1 "$AVOW" ca issue -dir "$SHORT" -in "$T/req7.pem" -CAfile "$T/root.pem" -days 365
grep -q AVOW_ERR_CA_VALIDITY "$T/err" || fail "validity past the CA's not refused"
expect_rc 0 "$AVOW" ca issue -dir "$SHORT" -in "$T/req7.pem" -CAfile "$T/root.pem" -days 365 -cap-days -out "$T/cert7.pem"
[ "$(openssl x509 -in "$T/cert7.pem" -noout -enddate)" = "$(openssl x509 -in "$SHORT/ca.crt" -noout -enddate)" ] ||
    fail "-cap-days did not end the certificate with the CA"

# --- replay: the same request again ---
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/req1.pem" -CAfile "$T/root.pem" \
    -out "$T/cert1-again.pem" --json
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_NONCE_REPLAY") != null' "$T/out" >/dev/null ||
    { cat "$T/out"; fail "replayed nonce not reported as AVOW_ERR_NONCE_REPLAY"; }
[ ! -e "$T/cert1-again.pem" ] || fail "certificate issued for a replayed nonce"

# --- a nonce this CA never issued ---
evidence "$T/dev.key" 00112233445566778899aabbccddeeff "false" "$T/ev2.pem"
csr "$T/dev.key" "$T/ev2.pem" "$T/req2.pem"
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/req2.pem" -CAfile "$T/root.pem" \
    -out "$T/cert2.pem" -ear-out "$T/ear2.json"
grep -q "AVOW_ERR_NONCE_UNKNOWN" "$T/out" || { cat "$T/out"; fail "unknown nonce not reported"; }
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_NONCE_UNKNOWN") != null' "$T/ear2.json" >/dev/null ||
    fail "AVOW_ERR_NONCE_UNKNOWN not in the EAR"
[ ! -e "$T/cert2.pem" ] || fail "certificate issued for an unknown nonce"

# --- an extractable key: contraindicated by the default policy ---
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
N3=$(cat "$T/out")
evidence "$T/bad.key" "$N3" true "$T/ev3.pem"
csr "$T/bad.key" "$T/ev3.pem" "$T/req3.pem"
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/req3.pem" -CAfile "$T/root.pem" -out "$T/cert3.pem" --json
jq -e '.ear_status == "contraindicated"' "$T/out" >/dev/null || { cat "$T/out"; fail "extractable key not contraindicated"; }
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_POLICY") != null' "$T/out" >/dev/null ||
    fail "policy failure not in the reasons"
[ ! -e "$T/cert3.pem" ] || fail "certificate issued for an extractable key"

# --- usage and malformed input ---
expect_rc 2 "$AVOW" ca issue -dir "$CA" -in "$T/req1.pem"
echo "not a request" >"$T/junk.pem"
expect_rc 3 "$AVOW" ca issue -dir "$CA" -in "$T/junk.pem" -CAfile "$T/root.pem"
expect_rc 4 "$AVOW" ca issue -dir "$T/nowhere" -in "$T/req1.pem" -CAfile "$T/root.pem"
[ -n "${CA_TEST_KEEP:-}" ] && cp -r "$T" "$CA_TEST_KEEP"
echo "ok"
