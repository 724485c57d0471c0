#!/bin/sh
# One meaning per option name across commands: the attestation-key EKU is
# -ak-eku everywhere (-eku is the issued certificate's extendedKeyUsage, in
# ca issue only), the certificates a request carries are -chain as in
# evidence create, ca issue takes the verification strictness options of the
# other verifiers, and every TIME option reads times the same way.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

# --- the names: -ak-eku in --help, the old -eku refused with a pointer to -ak-eku ---
for cmd in "evidence create" "evidence show" "evidence verify" "evidence request" "csr create" "csr show" "csr verify" \
    "ca issue"; do
    # shellcheck disable=SC2086
    expect_rc 0 "$AVOW" $cmd --help
    grep -q -- "^  -ak-eku OID" "$T/out" || fail "$cmd --help lacks -ak-eku"
    grep -q -- "^  -eku-ak" "$T/out" && fail "$cmd --help still has -eku-ak"
    # shellcheck disable=SC2086
    expect_rc 2 "$AVOW" $cmd -eku-ak 1.2.3.4
done
for cmd in "evidence create" "evidence show" "evidence verify" "evidence request" "csr create" "csr show" \
    "csr verify"; do
    # shellcheck disable=SC2086
    expect_rc 0 "$AVOW" $cmd --help
    grep -q -- "^  -eku " "$T/out" && fail "$cmd --help still has -eku"
    # shellcheck disable=SC2086
    expect_rc 2 "$AVOW" $cmd -eku 1.2.3.4
    grep -q -- "option -eku is not taken here: for the attestation-key EKU give -ak-eku" "$T/err" ||
        { cat "$T/err" >&2; fail "$cmd -eku does not point to -ak-eku"; }
    # shellcheck disable=SC2086
    expect_rc 2 "$AVOW" $cmd --eku=1.2.3.4
done
expect_rc 2 "$AVOW" ca issue -dir "$T/ca" -eku-ak 1.2.3.4
grep -q -- "give -ak-eku" "$T/err" || { cat "$T/err" >&2; fail "ca issue -eku-ak does not point to -ak-eku"; }
expect_rc 0 "$AVOW" ca issue --help
grep -q -- "^  -eku LIST .*extendedKeyUsage" "$T/out" || fail "ca issue --help: -eku is the certificate's"
for o in -any -any-ecdsa-hash -allow-ak-ca -ignore-ca-eku -at; do
    grep -q -- "^  $o " "$T/out" || fail "ca issue --help lacks $o"
done
expect_rc 0 "$AVOW" csr create --help
grep -q -- "^  -chain FILE" "$T/out" || fail "csr create --help lacks -chain"
grep -q -- "^  -cert " "$T/out" && fail "csr create --help still has -cert"
expect_rc 2 "$AVOW" csr create -key x -evidence y -cert z
grep -q -- "give -chain" "$T/err" || { cat "$T/err" >&2; fail "csr create -cert does not point to -chain"; }

# --- -ak-eku works where the attestation key's EKU is checked ---
make_ca
saved_eku=$AK_EKU
AK_EKU=1.3.6.1.4.1.99999.7
make_ak vak ec256
AK_EKU=$saved_eku
expect_rc 0 "$AVOW" evidence create -vendor Acme -signkey "$T/vak.key" -signcert "$T/vak.pem" \
    -chain "$T/int.pem" -out "$T/v.ev"
expect_rc 1 "$AVOW" evidence verify -in "$T/v.ev" -CAfile "$T/root.pem"
grep -q AVOW_ERR_AK_EKU "$T/out" || fail "another AK EKU not refused"
expect_rc 0 "$AVOW" evidence verify -in "$T/v.ev" -CAfile "$T/root.pem" -ak-eku 1.3.6.1.4.1.99999.7
expect_rc 0 "$AVOW" evidence show -in "$T/v.ev" -ak-eku 1.3.6.1.4.1.99999.7

CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
keygen "$T/dev.key" ec256
# request AK CHAIN OUT: Evidence about dev.key with a nonce of the CA, signed by AK, in a request
request() {
    expect_rc 0 "$AVOW" ca nonce -dir "$CA"
    spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    printf '{"keys":[{"identifier":"k","spki":{"hex":"%s"},"extractable":false,"sensitive":true,"never-extractable":true,"local":true}]}' \
        "$spki" >"$T/claims.json"
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$(cat "$T/out")" \
        -signkey "$T/$1.key" -signcert "$T/$1.pem" -out "$T/$3.ev"
    expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject "CN=dev" -evidence "$T/$3.ev" \
        -chain "$2" -out "$T/$3.csr"
}
request vak "$T/int.pem" rv
expect_rc 1 "$AVOW" csr verify -in "$T/rv.csr" -CAfile "$T/root.pem"
expect_rc 0 "$AVOW" csr verify -in "$T/rv.csr" -CAfile "$T/root.pem" -ak-eku 1.3.6.1.4.1.99999.7
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/rv.csr" -CAfile "$T/root.pem" --json
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_AK_EKU") != null' "$T/out" >/dev/null ||
    { cat "$T/out" >&2; fail "ca issue: another AK EKU not refused"; }
# a refused request leaves its nonce unused, so the same request is issued with the right EKU
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/rv.csr" -CAfile "$T/root.pem" \
    -ak-eku 1.3.6.1.4.1.99999.7 -eku clientAuth -out "$T/v.crt"
openssl x509 -in "$T/v.crt" -noout -text | grep -q "TLS Web Client Authentication" ||
    fail "ca issue -eku is not the certificate's EKU"

# --- ca issue: the strictness options of the other verifiers ---
keygen "$T/caak.key" ec256
openssl req -new -key "$T/caak.key" -subj "/CN=CA AK" -out "$T/caak.req" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=%s\n' \
    "$AK_EKU" >"$T/caak.ext"
openssl x509 -req -in "$T/caak.req" -CA "$T/int.pem" -CAkey "$T/int.key" -CAcreateserial \
    -days 30 -extfile "$T/caak.ext" -out "$T/caak.pem" 2>/dev/null
request caak "$T/int.pem" rc
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/rc.csr" -CAfile "$T/root.pem" --json
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_AK_CA") != null' "$T/out" >/dev/null ||
    { cat "$T/out" >&2; fail "ca issue: an AK that is a CA not refused"; }
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/rc.csr" -CAfile "$T/root.pem" -allow-ak-ca

keygen "$T/ekuint.key" ec256
openssl req -new -key "$T/ekuint.key" -subj "/CN=TLS-only Intermediate" -out "$T/ekuint.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nextendedKeyUsage=serverAuth\n' >"$T/ekuint.ext"
openssl x509 -req -in "$T/ekuint.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -CAcreateserial \
    -days 30 -extfile "$T/ekuint.ext" -out "$T/ekuint.pem" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$AK_EKU" >"$T/ekuak.ext"
openssl x509 -req -in "$T/caak.req" -CA "$T/ekuint.pem" -CAkey "$T/ekuint.key" -CAcreateserial \
    -days 30 -extfile "$T/ekuak.ext" -out "$T/ekuak.pem" 2>/dev/null
cp "$T/caak.key" "$T/ekuak.key"
request ekuak "$T/ekuint.pem" re
expect_rc 1 "$AVOW" ca issue -dir "$CA" -in "$T/re.csr" -CAfile "$T/root.pem"
grep -q "AVOW_ERR_AK_EKU" "$T/out" || { cat "$T/out" >&2; fail "ca issue: intermediate EKU not checked"; }
expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/re.csr" -CAfile "$T/root.pem" -ignore-ca-eku

# --- TIME options: one reader, the same range everywhere ---
expect_rc 0 "$AVOW" evidence create -vendor Acme -timestamp @0 -out "$T/t0.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/t0.pem"
grep -q "1970-01-01T00:00:00Z" "$T/out" || { cat "$T/out" >&2; fail "-timestamp @0 is not 1970"; }
expect_rc 0 "$AVOW" evidence create -vendor Acme -timestamp 9999-12-31T23:59:59Z -out "$T/tmax.pem"
for bad in @-1 @253402300800 @99999999999999999999 @ @1e3 "@ 5" 1969-12-31T23:59:59Z \
    2025-02-29T00:00:00Z 2025-01-31T12:00:00+01:00 yesterday; do
    expect_rc 2 "$AVOW" evidence create -vendor Acme -timestamp "$bad" -out "$T/bad.pem"
    grep -q "timestamp: " "$T/err" || { cat "$T/err" >&2; fail "-timestamp $bad: no field"; }
    expect_rc 2 "$AVOW" evidence verify -in "$T/v.ev" -CAfile "$T/root.pem" -at "$bad"
    grep -q "at: " "$T/err" || { cat "$T/err" >&2; fail "-at $bad: no field"; }
done
expect_rc 0 "$AVOW" evidence verify -in "$T/v.ev" -CAfile "$T/root.pem" -ak-eku 1.3.6.1.4.1.99999.7 \
    -at "$(date -u +%Y-%m-%dT%H:%M:%S).5+00:00"
echo ok
