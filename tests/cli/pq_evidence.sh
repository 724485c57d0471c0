#!/bin/sh
# Post-quantum Evidence through the command line.
# PQ build (AVOW_PQ=1, OpenSSL 3.5 and its openssl command in AVOW_PQ_OPENSSL):
# keys and an ML-DSA PKI made with that openssl, Evidence signed by ECDSA and
# ML-DSA-65 together, verified in the default (every signature) and -any modes,
# with one signature broken; ML-DSA-only and SLH-DSA Evidence.
# Any other build: the hybrid vector made by the PQ build is refused by default
# (the ML-DSA signature is unsupported) and trusted on its ECDSA signature under -any.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
V=$VECTORS/pq

if [ "${AVOW_PQ:-0}" != 1 ]; then
    expect_rc 1 "$AVOW" evidence verify -in "$V/hybrid.der" -inform DER -CAfile "$V/ec-root.crt" \
        -nonce 0011223344556677
    grep -q "Signature \[1\]: .*AVOW_ERR_UNSUPPORTED\|ml-dsa-65 signatures need" "$T/out" ||
        fail "the ML-DSA signature should be reported as unsupported"
    expect_rc 0 "$AVOW" evidence verify -in "$V/hybrid.der" -inform DER -CAfile "$V/ec-root.crt" \
        -nonce 0011223344556677 -any
    grep -q "Evidence: TRUSTED" "$T/out" || fail "-any should trust the ECDSA signature"
    expect_rc 0 "$AVOW" evidence show -in "$V/hybrid.der"
    grep -q "Key: ML-DSA-65 (not supported by this build)" "$T/out" || fail "show: ML-DSA key not named"
    echo "ok (classical build: the hybrid vector)"
    exit 0
fi

O=${AVOW_PQ_OPENSSL:?the PQ build passes the openssl of its OpenSSL 3.5}
"$O" version | grep -q '^OpenSSL 3\.\([5-9]\|[1-9][0-9]\)' || fail "$O is not OpenSSL 3.5 or later"

# ECDSA hierarchy (the helpers' root and intermediate) and an ML-DSA-87 root.
make_ca
make_ak ec256 ec256
"$O" req -x509 -newkey ML-DSA-87 -nodes -keyout "$T/pqroot.key" -subj "/O=avow test/CN=PQ Root" \
    -days 3650 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$T/pqroot.pem" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
    "$AK_EKU" >"$T/pqak.ext"
# pq_ak NAME ALGORITHM: $T/NAME.key and an AK certificate $T/NAME.pem signed by the ML-DSA root.
pq_ak() {
    "$O" genpkey -algorithm "$2" -out "$T/$1.key"
    "$O" req -new -key "$T/$1.key" -subj "/O=avow test/CN=AK $1" -out "$T/$1.csr"
    "$O" x509 -req -in "$T/$1.csr" -CA "$T/pqroot.pem" -CAkey "$T/pqroot.key" -CAcreateserial \
        -days 365 -extfile "$T/pqak.ext" -out "$T/$1.pem" 2>/dev/null
}
pq_ak mldsa ML-DSA-65
pq_ak slh SLH-DSA-SHA2-128s
cat "$T/root.pem" "$T/pqroot.pem" >"$T/anchors.pem"

# The hybrid: one ECDSA and one ML-DSA-65 signature, both AKs listed in ak-spki.
expect_rc 0 "$AVOW" evidence create -nonce 0a0b0c0d -ak-spki -vendor "Acme Corp" \
    -signkey "$T/ec256.key" -signcert "$T/ec256.pem" -chain "$T/int.pem" \
    -signkey "$T/mldsa.key" -signcert "$T/mldsa.pem" -outform DER -out "$T/hybrid.der"
expect_rc 0 "$AVOW" evidence verify -in "$T/hybrid.der" -inform DER -CAfile "$T/anchors.pem" \
    -nonce 0a0b0c0d
grep -q "Evidence: TRUSTED" "$T/out" || fail "hybrid: not trusted"
[ "$(grep -c '^Signature \[.\]: OK' "$T/out")" -eq 2 ] || fail "hybrid: two signatures expected"
grep -q "algorithm: ml-dsa-65" "$T/out" || fail "hybrid: ml-dsa-65 not shown"
expect_rc 0 "$AVOW" evidence show -in "$T/hybrid.der"
grep -q "Algorithm: ml-dsa-65 (2.16.840.1.101.3.4.3.18)" "$T/out" || fail "show: ML-DSA OID"
grep -q "Key: ML-DSA-65" "$T/out" || fail "show: ML-DSA key"
"$O" asn1parse -inform DER -in "$T/hybrid.der" >"$T/asn1.txt" 2>&1 || fail "asn1parse"

# Only the ECDSA root: the ML-DSA signature's chain fails; -any trusts the ECDSA one.
expect_rc 1 "$AVOW" evidence verify -in "$T/hybrid.der" -inform DER -CAfile "$T/root.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/hybrid.der" -inform DER -CAfile "$T/root.pem" -any

# flip_in FILE OFFSET: inverts one byte in place.
flip_in() {
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# The ML-DSA-65 signatureValue: the OCTET STRING of its 3309 bytes (FIPS 204).
line=$("$O" asn1parse -inform DER -in "$T/hybrid.der" | grep 'l=3309 prim: OCTET STRING' | tail -1)
[ -n "$line" ] || fail "no 3309-byte signature in the hybrid Evidence"
off=$(echo "$line" | sed 's/^ *\([0-9]*\):.*/\1/')
cp "$T/hybrid.der" "$T/broken.der"
flip_in "$T/broken.der" $((off + 4 + 1000))
expect_rc 1 "$AVOW" evidence verify -in "$T/broken.der" -inform DER -CAfile "$T/anchors.pem"
grep -q "Signature \[0\]: OK" "$T/out" || fail "broken ML-DSA: the ECDSA signature still verifies"
grep -q "Signature \[1\]: .*AVOW_ERR_SIG_INVALID" "$T/out" || fail "broken ML-DSA: not SIG_INVALID"
expect_rc 0 "$AVOW" evidence verify -in "$T/broken.der" -inform DER -CAfile "$T/anchors.pem" -any
grep -q "Evidence: TRUSTED" "$T/out" || fail "broken ML-DSA: -any should trust"

# ML-DSA alone, PEM; SLH-DSA alone, by SPKI resolved through -certs.
expect_rc 0 "$AVOW" evidence create -nonce 01 -ak-spki -signkey "$T/mldsa.key" \
    -signcert "$T/mldsa.pem" -out "$T/mldsa.ev.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/mldsa.ev.pem" -CAfile "$T/pqroot.pem" -nonce 01
expect_rc 0 "$AVOW" evidence create -nonce 02 -ak-spki -signkey "$T/slh.key" -sid spki \
    -out "$T/slh.ev.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/slh.ev.pem" -CAfile "$T/pqroot.pem" -certs "$T/slh.pem" \
    -nonce 02 --json
grep -q '"algorithm": "slh-dsa-sha2-128s"' "$T/out" || fail "slh: algorithm not in the JSON"
grep -q '"trusted": true' "$T/out" || fail "slh: not trusted"
echo "ok"
