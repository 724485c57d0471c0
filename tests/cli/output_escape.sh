#!/bin/sh
# Hostile text in Evidence, requests and error details reaches the terminal
# escaped (\xHH), in every human-readable output: evidence show and verify,
# csr show, the ca issue summary, and the "avow: field: detail" error line.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

ESC=$(printf '\033')
CR=$(printf '\r')
# no_raw FILE: FILE holds no ESC, CR, C1 CSI (U+009B) or right-to-left override byte sequence.
no_raw() {
    if grep -q "$ESC" "$1" || grep -q "$CR" "$1" || grep -q "$(printf '\302\233')" "$1" ||
        grep -q "$(printf '\342\200\256')" "$1"; then
        od -c "$1" | head -40 >&2
        fail "raw control text in $1"
    fi
}

make_ca
make_ak ak ec256

# --- Evidence: a vendor that clears the screen and forges a verdict line ---
vendor=$(printf 'Acme\033[2J\r\nEvidence: TRUSTED\302\233')
serial=$(printf 'SN-1\342\200\256lave')
expect_rc 0 "$AVOW" evidence create -vendor "$vendor" -hwserial "$serial" -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ev.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/root.pem"
no_raw "$T/out"
[ "$(grep -c '^Evidence: ' "$T/out")" -eq 1 ] || fail "a second verdict line"
grep -qF 'vendor = "Acme\x1b[2J\x0d\x0aEvidence: TRUSTED\xc2\x9b"' "$T/out" || fail "verify: vendor"
grep -qF 'hwserial = "SN-1\xe2\x80\xaelave"' "$T/out" || fail "verify: hwserial"
expect_rc 0 "$AVOW" evidence show -in "$T/ev.pem"
no_raw "$T/out"
grep -qF '"Acme\x1b[2J\x0d\x0aEvidence: TRUSTED\xc2\x9b"' "$T/out" || fail "show: vendor"
# JSON is for machines: jansson's own escaping, the value itself kept
expect_rc 0 "$AVOW" evidence verify -in "$T/ev.pem" -CAfile "$T/root.pem" --json
grep -qF '\u001B[2J\r\nEvidence: TRUSTED' "$T/out" || fail "JSON value"

# --- csr show: the published TPM request with a hint that drives the terminal ---
sample="${VECTORS:-$TESTS_DIR/vectors}/csr/tcgAttestTpmCertify.pem"
sed '/-----/d' "$sample" | openssl base64 -d >"$T/tpm.der"
off=$(grep -abo "tpmverifier.example.com" "$T/tpm.der" | head -1 | cut -d: -f1)
[ -n "$off" ] || fail "hint not found in the sample"
printf 'tpm\033[2J\r\nHINT\000\302\23331mXXXX' | dd of="$T/tpm.der" bs=1 seek="$off" conv=notrunc 2>/dev/null
expect_rc 0 "$AVOW" csr show -in "$T/tpm.der"
no_raw "$T/out"
grep -qF 'hint: tpm\x1b[2J\x0d\x0aHINT\x00\xc2\x9b31mXXXX' "$T/out" || { cat "$T/out" >&2; fail "csr show: hint"; }
# a hint that is not UTF-8 cannot be a JSON string: its bytes in hex, the rest shown
printf '\377' | dd of="$T/tpm.der" bs=1 seek="$off" conv=notrunc 2>/dev/null
expect_rc 0 "$AVOW" csr show -in "$T/tpm.der" --json
grep -q '"hint_hex": "ff706d' "$T/out" || { cat "$T/out" "$T/err" >&2; fail "csr show --json: hint"; }

# --- csr show: subject and bundle certificate names with a C1 CSI ---
keygen "$T/csr.key" ec256
spki=$(openssl pkey -in "$T/csr.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
printf '{"keys":[{"identifier":"k","spki":{"hex":"%s"}}]}' "$spki" >"$T/k.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/k.json" -signkey "$T/ak.key" -signcert "$T/ak.pem" \
    -out "$T/k.ev"
keygen "$T/evilint.key" ec256
openssl req -new -utf8 -key "$T/evilint.key" -subj "/CN=Int$(printf '\302\233')2J" -out "$T/evilint.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >"$T/evilint.ext"
openssl x509 -req -in "$T/evilint.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -CAcreateserial \
    -days 30 -extfile "$T/evilint.ext" -out "$T/evilint.pem" 2>/dev/null
expect_rc 0 "$AVOW" csr create -key "$T/csr.key" -subject "CN=host$(printf '\302\233')31m" \
    -evidence "$T/k.ev" -chain "$T/evilint.pem" -out "$T/evil.csr"
expect_rc 0 "$AVOW" csr show -in "$T/evil.csr"
no_raw "$T/out"
grep -qF 'Subject: CN=host\xc2\x9b31m' "$T/out" || { cat "$T/out" >&2; fail "csr show: subject"; }
grep -qF 'subject: CN=Int\xc2\x9b2J' "$T/out" || { cat "$T/out" >&2; fail "csr show: cert name"; }

# --- ca issue's summary: a policy rule name that would forge a verdict line ---
expect_rc 0 "$AVOW" ca init -dir "$T/ca"
expect_rc 0 "$AVOW" ca nonce -dir "$T/ca"
printf '{"platform":{"vendor":"Acme"},"keys":[{"identifier":"k","spki":{"hex":"%s"},"extractable":false,"sensitive":true,"never-extractable":true,"local":true}]}' \
    "$spki" >"$T/ca-claims.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/ca-claims.json" -nonce "$(cat "$T/out")" \
    -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ca.ev"
expect_rc 0 "$AVOW" csr create -key "$T/csr.key" -subject "CN=host" -evidence "$T/ca.ev" -out "$T/ca.csr"
printf '{"name":"p","rules":[{"id":"v\\u001b[2J\\r\\nstatus: affirming\\u009b","claim":"vendor","equals":"Other"}]}' \
    >"$T/pv.json"
expect_rc 1 "$AVOW" ca issue -dir "$T/ca" -in "$T/ca.csr" -CAfile "$T/root.pem" -policy "$T/pv.json"
no_raw "$T/out"
[ "$(grep -c '^status: ' "$T/out")" -eq 1 ] || { cat "$T/out" >&2; fail "ca issue: a second status line"; }
grep -qF 'rule v\x1b[2J\x0d\x0astatus: affirming\xc2\x9b: contraindicated' "$T/out" ||
    { cat "$T/out" >&2; fail "ca issue: rule name"; }
# ... and the ledger's subject (a right-to-left override passes the subject check) in list and show
expect_rc 0 "$AVOW" ca issue -dir "$T/ca" -in "$T/ca.csr" -CAfile "$T/root.pem" \
    -subject "CN=host$(printf '\342\200\256')lave" -out "$T/ca.crt"
no_raw "$T/out"
expect_rc 0 "$AVOW" ca list -dir "$T/ca"
no_raw "$T/out"
grep -qF 'CN=host\xe2\x80\xaelave' "$T/out" || { cat "$T/out" >&2; fail "ca list: subject"; }
sn=$(openssl x509 -in "$T/ca.crt" -noout -serial | sed 's/^serial=//')
expect_rc 0 "$AVOW" ca show -dir "$T/ca" -serial "$sn"
no_raw "$T/out"
grep -qF 'subject: CN=host\xe2\x80\xaelave' "$T/out" || { cat "$T/out" >&2; fail "ca show: subject"; }

# --- the error line: a detail quoting the input ---
printf '{"name":"p","rules":[{"id":"a","claim":"bad\\u001b[2J\\r\\nforged","present":true}]}' \
    >"$T/p.json"
expect_rc 3 "$AVOW" csr verify -in "$T/evil.csr" -CAfile "$T/root.pem" -policy "$T/p.json"
no_raw "$T/err"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "the error took more than one line"
echo ok
