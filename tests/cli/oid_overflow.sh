#!/bin/sh
# Unsigned Evidence whose unknown claim OID has an arc of 2^64 after 39 arcs
# once overflowed the claim set's allocation before any signature was checked
# (exit 134 from malloc, or an ASan heap-buffer-overflow) in every command that
# verifies: evidence verify, csr verify and ca issue. Each must now refuse it
# cleanly (exit 1) and name the claim by the placeholder.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

hex=30583054020101304f304d06092b06010505876700023040300f060a2b0601050587670102000c016b302d06282b
hex=${hex}0101010101010101010101010101010101010101010101010101010101828080808080808080000c01783000
printf '%s' "$hex" | perl -ne 'print pack("H*", $_)' >"$T/ovf.der"
make_ca

expect_rc 1 "$AVOW" evidence verify -in "$T/ovf.der" -CAfile "$T/root.pem"
grep -q "AVOW_ERR_UNSIGNED" "$T/err" || fail "unsigned Evidence not named"
grep -q "key\[0\].(oid too long) = 0c0178" "$T/out" || fail "claim not named by the placeholder"
expect_rc 1 "$AVOW" evidence verify -in "$T/ovf.der" -CAfile "$T/root.pem" --json
grep -q '"name": "(oid too long)"' "$T/out" || fail "JSON claim name"

keygen "$T/dev.key" ec256
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject "CN=device,O=avow test" \
    -evidence "$T/ovf.der" -out "$T/req.pem"
expect_rc 1 "$AVOW" csr verify -in "$T/req.pem" -CAfile "$T/root.pem"
grep -q "AVOW_ERR_UNSIGNED" "$T/err" || fail "csr verify does not name the unsigned Evidence"

expect_rc 0 "$AVOW" ca init -dir "$T/ca" -subject "CN=avow test CA"
expect_rc 1 "$AVOW" ca issue -dir "$T/ca" -in "$T/req.pem" -CAfile "$T/root.pem" -out "$T/cert.pem"
[ ! -e "$T/cert.pem" ] || fail "a certificate was issued"
echo "ok: the overflow input is refused by evidence verify, csr verify and ca issue"
