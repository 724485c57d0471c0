#!/bin/sh
# Every command answers --help (and -help, -h) on stdout with exit 0.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

for args in "" "evidence" "evidence create" "evidence show" "evidence verify" "evidence request" \
    "ear" "ear verify" "ear show" "serve" "wimse" "wimse issue" "wimse proof" "wimse verify" \
    "wimse show" "kat" "kat create" "kat bundle" "kat show"; do
    for h in --help -help -h; do
        # shellcheck disable=SC2086
        expect_rc 0 "$AVOW" $args $h
        grep -q "^Usage: avow" "$T/out" || fail "no usage line: avow $args $h"
    done
done
expect_rc 0 "$AVOW" evidence create --help
for o in -claims -nonce -signkey -signcert -chain -sid -pss -arc -ak-eku -outform -out; do
    grep -q -- "^  $o" "$T/out" || fail "create --help lacks $o"
done
expect_rc 0 "$AVOW" evidence verify --help
for o in -in -CAfile -certs -key-id -key-pub -nonce -any -require-nonce -ignore-ak-spki -at -json; do
    grep -q -- "^  $o" "$T/out" || fail "verify --help lacks $o"
done
expect_rc 0 "$AVOW" wimse issue --help
for o in -in -idmap -key -iss -ttl -result -CAfile -certs -policy -nonce -at -ak-eku -json -out; do
    grep -q -- "^  $o" "$T/out" || fail "wimse issue --help lacks $o"
done
expect_rc 0 "$AVOW" --help
grep -q "^  wimse " "$T/out" || fail "avow --help lacks the wimse group"
expect_rc 0 "$AVOW" --version
grep -q "^avow [0-9]" "$T/out" || fail "--version"

# double-dash and =value spellings are the same options
expect_rc 0 "$AVOW" evidence create --vendor=Acme --outform DER --out="$T/x.der"
expect_rc 0 "$AVOW" evidence show --in "$T/x.der" --json
echo "ok"
