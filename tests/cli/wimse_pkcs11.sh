#!/bin/sh
# avow wimse with the keys in a SoftHSM2 token: PKIX Evidence about the
# workload key from the token (its platform claims) in an attested CSR the
# token signs -> a WIT signed by the identity server's key in the token, its
# identifier from the key's claims (its token object, {identifier}) -> a WPT
# the token signs -> verify. An extractable token key is refused at issue.
# Skipped (77) without SoftHSM2.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"

softhsm_token avow-wimse
P="-pin-source env:AVOW_TEST_PIN"
RP=https://rp.example.com/api

expect_rc 0 "$AVOW" keygen -uri "$TOK;object=ak" -id a1 $P -pubout "$T/ak.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=wl" -id b1 $P -pubout "$T/wl.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=exp" -id c1 $P -extractable -pubout "$T/exp.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=ids" -id d1 $P -pubout "$T/ids.pub"
token_ak_cert ca

NONCE=$(openssl rand -hex 16)
req() { # KEY OUT
    token_evidence "$1" "$NONCE" "$T/$1.ev"
    expect_rc 0 "$AVOW" csr create -key "$TOK;object=$1" $P -subject "CN=$1" -evidence "$T/$1.ev" \
        -out "$2"
}
printf '{"identifiers": [{"when": {}, "uri": "spiffe://example.org/hsm/{identifier}"}], "trust_domains": ["example.org"]}\n' \
    >"$T/idmap.json"
issue() {
    "$AVOW" wimse issue -idmap "$T/idmap.json" -CAfile "$T/ca.crt" -nonce "$NONCE" \
        -key "$TOK;object=ids" $P -iss https://id.example.com "$@"
}
req wl "$T/wl.csr"
expect_rc 0 issue -in "$T/wl.csr" -result ear -out "$T/wit.jwt"
expect_rc 0 "$AVOW" wimse show -in "$T/wit.jwt"
grep -q '"ear":"ey' "$T/out" || fail "-result ear: no EAR in the WIT: $(cat "$T/out")"
expect_rc 0 "$AVOW" wimse proof -key "$TOK;object=wl" $P -wit "$T/wit.jwt" -aud "$RP" \
    -out "$T/wpt.jwt"
expect_rc 0 "$AVOW" wimse verify -wit "$T/wit.jwt" -wpt "$T/wpt.jwt" -aud "$RP" \
    -issuer-key "$T/ids.pub" -issuer https://id.example.com -json
jq -e '.authenticated == true and .identifier == "spiffe://example.org/hsm/wl"' "$T/out" \
    >/dev/null || fail "verify: $(cat "$T/out")"
# the identity server is not the workload: its key's proof does not verify
expect_rc 0 "$AVOW" wimse proof -key "$TOK;object=ids" $P -wit "$T/wit.jwt" -aud "$RP" \
    -out "$T/wpt-ids.jwt"
expect_rc 1 "$AVOW" wimse verify -wit "$T/wit.jwt" -wpt "$T/wpt-ids.jwt" -aud "$RP" \
    -issuer-key "$T/ids.pub"
grep -q 'AVOW_ERR_WIMSE_WPT_SIG' "$T/err" || fail "WPT by the issuer key: $(cat "$T/err")"
# an extractable key: no WIT
req exp "$T/exp.csr"
expect_rc 1 issue -in "$T/exp.csr" -out "$T/wit-x.jwt"
grep -q 'AVOW_ERR_NOT_AFFIRMING' "$T/err" || fail "extractable key: $(cat "$T/err")"
[ ! -s "$T/wit-x.jwt" ] || fail "a WIT was written for an extractable key"
exit 0
