#!/bin/sh
# avow wimse with software keys only: an attested CSR -> issue (a WIT only
# when the appraisal affirms) -> proof (a WPT by the workload key) -> verify,
# and the relying party's refusals, each by its reason code: another
# audience, a WPT by another key, an untrusted issuer, a replayed WPT, an
# expired WIT; an extractable key refused at issue; show marks its output
# unverified; the usage errors.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

RP=https://rp.example.com/api
ISS=https://id.example.com
ID=spiffe://example.org/workload/web

make_ca
make_ak ak ec256
keygen "$T/wl.key" ec256
keygen "$T/other.key" ec256
keygen "$T/issuer.key" ec256
keygen "$T/rogue.key" ec256
openssl pkey -in "$T/issuer.key" -pubout -out "$T/issuer.pub" 2>/dev/null
spki=$(openssl pkey -in "$T/wl.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
claims() {
    printf '{"keys":[{"identifier":"k","spki":{"hex":"%s"},"extractable":%s,"sensitive":true,"never-extractable":true,"local":true}]}\n' \
        "$spki" "$1"
}
printf '{"identifiers": [{"when": {}, "uri": "%s"}], "trust_domains": ["example.org"]}\n' "$ID" \
    >"$T/idmap.json"
NONCE=$(openssl rand -hex 16)
csr() { # CLAIMS OUT: Evidence with the claims, in a CSR signed by the workload key
    claims "$1" >"$T/claims.json"
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$NONCE" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ev.pem"
    expect_rc 0 "$AVOW" csr create -key "$T/wl.key" -subject "CN=web" -evidence "$T/ev.pem" \
        -chain "$T/int.pem" -out "$2"
}
issue() {
    "$AVOW" wimse issue -idmap "$T/idmap.json" -CAfile "$T/root.pem" -nonce "$NONCE" -iss "$ISS" "$@"
}

# --- issue: affirming -> a WIT; an extractable key -> nothing ---
csr false "$T/req.csr"
expect_rc 0 issue -in "$T/req.csr" -key "$T/issuer.key" -out "$T/wit.jwt"
[ -s "$T/wit.jwt" ] || fail "no WIT written"
expect_rc 0 issue -in "$T/req.csr" -key "$T/rogue.key" -ttl 1 -out "$T/wit-rogue.jwt"
expect_rc 0 issue -in "$T/req.csr" -key "$T/issuer.key" -ttl 1 -result none -out "$T/wit-short.jwt"
expect_rc 0 "$AVOW" wimse show -in "$T/wit.jwt"
grep -q '^UNVERIFIED' "$T/out" || fail "show does not say unverified: $(cat "$T/out")"
grep -q '"typ":"wit+jwt"' "$T/out" || fail "show: no typ: $(cat "$T/out")"
grep -q "\"sub\":\"$ID\"" "$T/out" || fail "show: no sub: $(cat "$T/out")"
grep -q '"ear_sha256"' "$T/out" || fail "show: no ear_sha256 by default: $(cat "$T/out")"
csr true "$T/req-x.csr"
expect_rc 1 issue -in "$T/req-x.csr" -key "$T/issuer.key" -out "$T/wit-x.jwt" -json
grep -q 'key-not-extractable' "$T/err" || fail "extractable key: no rule named: $(cat "$T/err")"
grep -q 'ear: attestation result is contraindicated (AVOW_ERR_NOT_AFFIRMING)' "$T/err" || fail "extractable key: $(cat "$T/err")"
[ ! -s "$T/wit-x.jwt" ] || fail "a WIT was written for an extractable key"

# --- proof and verify ---
expect_rc 0 "$AVOW" wimse proof -key "$T/wl.key" -wit "$T/wit.jwt" -aud "$RP" -out "$T/wpt.jwt"
expect_rc 0 "$AVOW" wimse show -in "$T/wpt.jwt"
grep -q '"typ":"wpt+jwt"' "$T/out" || fail "show WPT: $(cat "$T/out")"
verify() {
    "$AVOW" wimse verify -issuer-key "$T/issuer.pub" "$@"
}
expect_rc 0 verify -wit "$T/wit.jwt" -wpt "$T/wpt.jwt" -aud "$RP" -issuer "$ISS" \
    -trust-domain example.org -json
jq -e --arg id "$ID" '.authenticated == true and .identifier == $id' "$T/out" >/dev/null ||
    fail "verify -json: $(cat "$T/out")"
expect_rc 0 verify -wit "$T/wit.jwt" -wpt "$T/wpt.jwt" -aud "$RP"
[ "$(cat "$T/out")" = "$ID" ] || fail "verify text: $(cat "$T/out")"
grep -q 'authenticated' "$T/err" || fail "verify verdict: $(cat "$T/err")"
expect_rc 0 verify -wit "$T/wit.jwt" -wit-only

# refusals, each by its reason
expect_rc 1 verify -wit "$T/wit.jwt" -wpt "$T/wpt.jwt" -aud https://other.example.com/api
grep -q 'wpt.claims.aud: AVOW_ERR_WIMSE_AUD' "$T/err" || fail "wrong aud: $(cat "$T/err")"
expect_rc 0 "$AVOW" wimse proof -key "$T/other.key" -wit "$T/wit.jwt" -aud "$RP" -out "$T/wpt-o.jwt"
expect_rc 1 verify -wit "$T/wit.jwt" -wpt "$T/wpt-o.jwt" -aud "$RP" -json
jq -e '.authenticated == false' "$T/out" >/dev/null || fail "other key -json: $(cat "$T/out")"
grep -q 'refused (wpt.signature: AVOW_ERR_WIMSE_WPT_SIG' "$T/err" || fail "WPT by another key: $(cat "$T/err")"
expect_rc 0 "$AVOW" wimse proof -key "$T/wl.key" -wit "$T/wit-rogue.jwt" -aud "$RP" -out "$T/wpt-r.jwt"
expect_rc 1 verify -wit "$T/wit-rogue.jwt" -wpt "$T/wpt-r.jwt" -aud "$RP"
grep -q 'refused (wit.signature: AVOW_ERR_WIMSE_ISSUER' "$T/err" || fail "untrusted issuer: $(cat "$T/err")"
expect_rc 0 verify -wit "$T/wit.jwt" -wpt "$T/wpt.jwt" -aud "$RP" -replay-db "$T/replay.db"
expect_rc 1 verify -wit "$T/wit.jwt" -wpt "$T/wpt.jwt" -aud "$RP" -replay-db "$T/replay.db"
grep -q 'wpt.claims.jti: AVOW_ERR_WIMSE_REPLAY' "$T/err" || fail "replayed WPT: $(cat "$T/err")"
expect_rc 0 "$AVOW" wimse proof -key "$T/wl.key" -wit "$T/wit-short.jwt" -aud "$RP" -out "$T/wpt-s.jwt"
expect_rc 1 verify -wit "$T/wit-short.jwt" -wpt "$T/wpt-s.jwt" -aud "$RP" -leeway 0 \
    -at "@$(($(date +%s) + 120))"
grep -q 'refused (wit.claims.exp: AVOW_ERR_WIMSE_EXPIRED' "$T/err" || fail "expired WIT: $(cat "$T/err")"

# --- usage ---
expect_rc 2 "$AVOW" wimse verify -wit "$T/wit.jwt" -issuer-key "$T/issuer.pub"
expect_rc 2 "$AVOW" wimse proof -key "$T/wl.key" -aud "$RP"
expect_rc 2 "$AVOW" wimse issue -in "$T/req.csr" -key "$T/issuer.key"
expect_rc 2 issue -in "$T/req.csr" -key "$T/issuer.key" -result all
for c in issue proof verify show; do
    expect_rc 0 "$AVOW" wimse "$c" --help
done
exit 0
