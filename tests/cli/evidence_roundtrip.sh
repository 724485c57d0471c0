#!/bin/sh
# show --json feeds back into create -claims and rebuilds the same tbs;
# the hand-written claims form and its special values; PEM and DER in and out.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

make_ca
make_ak ak ec256
make_ak ed ed25519
openssl pkey -in "$T/ak.key" -pubout -out "$T/ak.pub" 2>/dev/null

# every claim type, in the hand-written form
cat >"$T/claims.json" <<JSON
{
  "transaction": {"nonce": {"hex": "00112233445566778899"}, "timestamp": "2026-07-21T11:13:38Z",
                  "ak-spki": "auto"},
  "platform": {"vendor": "Acme", "oemid": {"base64": "AQID"}, "hwmodel": "HSM-9000",
               "hwversion": "2.1.0", "hwserial": "SN-1", "swname": "fw", "swversion": "1.2",
               "dbgstat": 3, "uptime": 86400, "bootcount": 7, "fipsboot": true,
               "fipsver": "FIPS 140-3", "fipslevel": 3, "fipsmodule": "Acme HSM"},
  "keys": [
    {"identifier": ["k1", "alias-1"], "spki": {"pem": "$(awk '{printf "%s\\n", $0}' "$T/ak.pub")"},
     "extractable": false, "sensitive": true, "never-extractable": true, "local": true,
     "expiry": "2030-01-01T00:00:00+01:00", "purpose": ["sign", "verify", "1.2.3.4.5"]},
    {"identifier": "k2", "spki": {"hex": "$(openssl pkey -in "$T/ed.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')"}}
  ]
}
JSON
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -chain "$T/int.pem" -outform DER -out "$T/a.der"
expect_rc 0 "$AVOW" evidence verify -in "$T/a.der" -CAfile "$T/root.pem" -nonce 00112233445566778899
grep -q "ak-spki: signer key listed" "$T/out" || fail "auto ak-spki not filled in"
expect_rc 0 "$AVOW" evidence show -in "$T/a.der"
grep -q 'hwmodel .*("HSM-9000")' "$T/out" || fail "printable bytes not shown as text"
grep -q 'expiry .*2029-12-31T23:00:00Z' "$T/out" || fail "time offset not applied"
grep -q 'purpose .*sign, verify, 1.2.3.4.5' "$T/out" || fail "purposes not shown by name"

# show --json -> create -claims: the same tbs, byte for byte
roundtrip() {
    expect_rc 0 "$AVOW" evidence show -in "$1" --json
    cp "$T/out" "$T/rt.json"
    expect_rc 0 "$AVOW" evidence create -claims "$T/rt.json" -outform DER -out "$T/rt.der"
    tbs_of "$1" "$T/tbs1"
    tbs_of "$T/rt.der" "$T/tbs2"
    cmp -s "$T/tbs1" "$T/tbs2" || fail "tbs differs after show --json | create: $1"
}
roundtrip "$T/a.der"
for v in "${VECTORS:-}"/pkix/head-9f03a1c/evidence1.der "${VECTORS:-}"/pkix/head-9f03a1c/evidence2.der; do
    [ -f "$v" ] && roundtrip "$v"
done

# Ed25519 signs deterministically, so the whole Evidence comes back identical
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -signkey "$T/ed.key" \
    -signcert "$T/ed.pem" -outform DER -out "$T/ed1.der"
expect_rc 0 "$AVOW" evidence show -in "$T/ed1.der" --json
cp "$T/out" "$T/ed.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/ed.json" -signkey "$T/ed.key" \
    -signcert "$T/ed.pem" -outform DER -out "$T/ed2.der"
cmp -s "$T/ed1.der" "$T/ed2.der" || fail "Ed25519 Evidence differs after a JSON round trip"

# "now" is resolved by the CLI
printf '{"transaction":{"timestamp":"now"}}' >"$T/now.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/now.json" -out "$T/now.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/now.pem"
grep -q "timestamp .*GeneralizedTime: 20[0-9][0-9]-" "$T/out" || fail "now not resolved"

# PEM <-> DER: stdin in, both forms out, -inform honoured
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -out "$T/a.pem"
expect_rc 0 sh -c "\"$AVOW\" evidence show -in - <\"$T/a.pem\""
expect_rc 0 sh -c "\"$AVOW\" evidence show <\"$T/a.der\""
expect_rc 0 "$AVOW" evidence show -in "$T/a.pem" -inform PEM
expect_rc 0 "$AVOW" evidence show -in "$T/a.der" -inform DER
expect_rc 3 "$AVOW" evidence show -in "$T/a.der" -inform PEM
expect_rc 3 "$AVOW" evidence show -in "$T/a.pem" -inform DER
sed '1d;$d' "$T/a.pem" | openssl base64 -d -out "$T/a.pem.der"
expect_rc 0 "$AVOW" evidence show -in "$T/a.pem.der" -inform DER

# profile overrides: flag wins over the environment; show must use the same arc
expect_rc 0 env AVOW_EVIDENCE_ARC=1.3.6.1.4.1.99999.1 "$AVOW" evidence create -vendor Acme \
    -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/arc.pem"
expect_rc 0 "$AVOW" evidence show -in "$T/arc.pem" -arc 1.3.6.1.4.1.99999.1
grep -q "vendor (1.3.6.1.4.1.99999.1.1.1.0)" "$T/out" || fail "arc not applied"
expect_rc 0 env AVOW_EVIDENCE_ARC=1.2.3 "$AVOW" evidence verify -in "$T/arc.pem" \
    -arc 1.3.6.1.4.1.99999.1 -CAfile "$T/root.pem"
echo "ok"
