#!/bin/sh
# Create -> verify for every signing algorithm the CLI offers, in PEM and DER.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

make_ca
for alg in ec256 ec384 rsa rsa-pss ed25519; do
    keytype=$alg pss=
    [ "$alg" = rsa-pss ] && keytype=rsa pss=-pss
    make_ak "$alg" "$keytype"

    # PEM out (the default), with every kind of claim flag
    expect_rc 0 "$AVOW" evidence create -nonce 0a0b0c0d -timestamp now -ak-spki \
        -vendor "Acme Corp" -hwmodel HSM-9000 -hwversion 2.1 -fipsboot true -fipslevel 3 \
        -uptime 86400 -key-spki "$T/$alg.pem" -key-ident "key-$alg" \
        -signkey "$T/$alg.key" -signcert "$T/$alg.pem" -chain "$T/int.pem" $pss -out "$T/$alg.ev.pem"
    head -1 "$T/$alg.ev.pem" | grep -q -- '-----BEGIN EVIDENCE-----' || fail "$alg: not PEM EVIDENCE"
    expect_rc 0 "$AVOW" evidence verify -in "$T/$alg.ev.pem" -CAfile "$T/root.pem" -nonce 0a0b0c0d \
        -require-nonce
    grep -q "Evidence: TRUSTED" "$T/out" || fail "$alg: verdict not printed"

    # DER out; the file must be clean DER for openssl too
    expect_rc 0 "$AVOW" evidence create -nonce 0a0b0c0d -vendor Acme -signkey "$T/$alg.key" \
        -signcert "$T/$alg.pem" -chain "$T/int.pem" $pss -outform DER -out "$T/$alg.ev.der"
    openssl asn1parse -inform DER -in "$T/$alg.ev.der" >"$T/asn1.txt" 2>&1 || fail "$alg: asn1parse"
    grep -qi error "$T/asn1.txt" && fail "$alg: asn1parse reported an error"
    expect_rc 0 "$AVOW" evidence verify -in "$T/$alg.ev.der" -inform DER -CAfile "$T/root.pem" \
        -nonce 0a0b0c0d
    expect_rc 0 "$AVOW" evidence verify -in "$T/$alg.ev.der" -CAfile "$T/root.pem" --json
    grep -q '"trusted": true' "$T/out" || fail "$alg: JSON result not trusted"

    # the algorithm shown is the one asked for
    expect_rc 0 "$AVOW" evidence show -in "$T/$alg.ev.der"
    case $alg in
    ec256) want=ecdsa-sha256 ;;
    ec384) want=ecdsa-sha384 ;;
    rsa) want='rsa.*sha256' ;;
    rsa-pss) want='pss' ;;
    ed25519) want=ed25519 ;;
    esac
    grep -qi "Algorithm: .*$want" "$T/out" || fail "$alg: algorithm $want not shown"

    # signer identified by SPKI and by key id (resolved through -certs)
    expect_rc 0 "$AVOW" evidence create -nonce 01 -signkey "$T/$alg.key" -sid spki $pss -out "$T/$alg.spki.pem"
    expect_rc 0 "$AVOW" evidence create -nonce 01 -signkey "$T/$alg.key" -signcert "$T/$alg.pem" \
        -sid keyid $pss -out "$T/$alg.keyid.pem"
    expect_rc 0 "$AVOW" evidence verify -in "$T/$alg.keyid.pem" -CAfile "$T/root.pem" \
        -certs "$T/$alg.pem" -certs "$T/int.pem"
done

# several signatures in one Evidence, all verified by default
expect_rc 0 "$AVOW" evidence create -nonce 99 -ak-spki \
    -signkey "$T/ec256.key" -signcert "$T/ec256.pem" \
    -signkey "$T/ed25519.key" -signcert "$T/ed25519.pem" -chain "$T/int.pem" -out "$T/multi.pem"
expect_rc 0 "$AVOW" evidence verify -in "$T/multi.pem" -CAfile "$T/root.pem" -nonce 99
[ "$(grep -c '^Signature \[.\]: OK' "$T/out")" -eq 2 ] || fail "two signatures expected"
echo "ok"
