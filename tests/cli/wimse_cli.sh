#!/bin/sh
# avow wimse with software keys only: an attested CSR -> issue (a WIT only
# when the appraisal affirms) -> proof (a WPT by the workload key) -> verify,
# and the relying party's refusals, each by its reason code: another
# audience, a WPT by another key, an untrusted issuer, a replayed WPT, an
# expired WIT; an extractable key refused at issue; show marks its output
# unverified; a WIC from issue -dir checked by verify -wic (PEM and DER),
# refused when of another CA, with two URI names, of another trust domain or
# expired; the usage errors.
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

# --- WIC: issue -dir (the CA's key and nonce), verify -wic ---
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -subject "CN=avow WIMSE CA"
expect_rc 0 "$AVOW" ca init -dir "$T/ca2" -subject "CN=another CA"
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
saved_nonce=$NONCE
NONCE=$(cat "$T/out")
csr false "$T/req-wic.csr"
expect_rc 0 "$AVOW" wimse issue -dir "$CA" -in "$T/req-wic.csr" -idmap "$T/idmap.json" \
    -CAfile "$T/root.pem" -dns web.example.org -days 2 -out "$T/wic.pem"
openssl x509 -in "$T/wic.pem" -noout -ext subjectAltName,extendedKeyUsage >"$T/x" 2>&1
grep -q "URI:$ID" "$T/x" && grep -q "DNS:web.example.org" "$T/x" && grep -q "TLS Web Client" "$T/x" ||
    fail "WIC extensions: $(cat "$T/x")"
[ "$(openssl x509 -in "$T/wic.pem" -noout -pubkey)" = "$(openssl pkey -in "$T/wl.key" -pubout)" ] ||
    fail "the WIC's key is not the workload key"
# the CA's nonce is used once: the same request gets no second WIC
expect_rc 1 "$AVOW" wimse issue -dir "$CA" -in "$T/req-wic.csr" -idmap "$T/idmap.json" \
    -CAfile "$T/root.pem" -out "$T/wic2.pem"
NONCE=$saved_nonce
expect_rc 0 "$AVOW" wimse verify -wic "$T/wic.pem" -CAfile "$CA/ca.crt" -trust-domain example.org
printf 'identifier: %s\ntrust domain: example.org\nverdict: valid\n' "$ID" >"$T/want"
cmp -s "$T/out" "$T/want" || fail "verify -wic text: $(cat "$T/out")"
grep -q 'verify: valid' "$T/err" || fail "verify -wic verdict: $(cat "$T/err")"
openssl x509 -in "$T/wic.pem" -outform DER -out "$T/wic.der"
expect_rc 0 "$AVOW" wimse verify -wic "$T/wic.der" -CAfile "$CA/ca.crt" -json
jq -e --arg id "$ID" '.authenticated == true and .identifier == $id and
    .trust_domain == "example.org" and .credential == "wic"' "$T/out" >/dev/null ||
    fail "verify -wic -json (DER): $(cat "$T/out")"
# refusals, each by its code: another CA, two URI names, another trust domain, expired
expect_rc 1 "$AVOW" wimse verify -wic "$T/wic.pem" -CAfile "$T/ca2/ca.crt" -json
jq -e '.authenticated == false and .reason == "AVOW_ERR_CHAIN"' "$T/out" >/dev/null ||
    fail "WIC of another CA -json: $(cat "$T/out")"
grep -q 'refused (wic: AVOW_ERR_CHAIN' "$T/err" || fail "WIC of another CA: $(cat "$T/err")"
openssl req -new -key "$T/wl.key" -subj "/CN=web" -out "$T/two.csr" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:%s,URI:spiffe://example.org/workload/db\n' \
    "$ID" >"$T/two.ext"
openssl x509 -req -in "$T/two.csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/two.ext" -out "$T/two.pem" 2>/dev/null || fail "two-URI certificate"
expect_rc 1 "$AVOW" wimse verify -wic "$T/two.pem" -CAfile "$CA/ca.crt"
grep -q 'refused (wic.subjectAltName: AVOW_ERR_WIMSE_WIC_SAN' "$T/err" ||
    fail "two URI names: $(cat "$T/err")"
grep -q '^verdict: refused$' "$T/out" || fail "two URI names, text: $(cat "$T/out")"
expect_rc 1 "$AVOW" wimse verify -wic "$T/wic.pem" -CAfile "$CA/ca.crt" -trust-domain example.com
grep -q 'AVOW_ERR_WIMSE_TRUST_DOMAIN' "$T/err" || fail "WIC trust domain: $(cat "$T/err")"
expect_rc 1 "$AVOW" wimse verify -wic "$T/wic.pem" -CAfile "$CA/ca.crt" -at "@$(($(date +%s) + 5 * 86400))"
grep -q 'refused (wic: AVOW_ERR_CHAIN: .*expired' "$T/err" || fail "expired WIC: $(cat "$T/err")"
expect_rc 2 "$AVOW" wimse verify -wic "$T/wic.pem"
expect_rc 2 "$AVOW" wimse verify -wic "$T/wic.pem" -CAfile "$CA/ca.crt" -wit "$T/wit.jwt"
expect_rc 2 "$AVOW" wimse verify -wit "$T/wit.jwt" -wit-only -issuer-key "$T/issuer.pub" \
    -CAfile "$CA/ca.crt"
expect_rc 2 "$AVOW" wimse issue -dir "$CA" -key "$T/issuer.key" -in "$T/req.csr" \
    -idmap "$T/idmap.json" -CAfile "$T/root.pem"
expect_rc 2 issue -in "$T/req.csr" -key "$T/issuer.key" -dns web.example.org
expect_rc 2 "$AVOW" wimse issue -dir "$CA" -in "$T/req-wic.csr" -idmap "$T/idmap.json" \
    -CAfile "$T/root.pem" -days 0
expect_rc 1 "$AVOW" wimse issue -dir "$CA" -in "$T/req-wic.csr" -idmap "$T/idmap.json" \
    -CAfile "$T/root.pem" -dns "a.example,URI:spiffe://example.org/x"
grep -q 'AVOW_ERR_WIMSE_WIC_SAN' "$T/err" || fail "-dns with a URI: $(cat "$T/err")"

# --- an identifier policy naming a claim no vocabulary has is refused at load ---
printf '{"identifiers": [{"when": {"pkix:hwmodle": "SoftHSM v2"}, "uri": "%s"}]}\n' "$ID" >"$T/typo.json"
expect_rc 1 "$AVOW" wimse issue -idmap "$T/typo.json" -CAfile "$T/root.pem" -in "$T/req.csr" \
    -key "$T/issuer.key" -out "$T/wit-typo.jwt"
grep -q 'idmap.identifiers\[0\]: when names unknown claim "pkix:hwmodle".*(AVOW_ERR_WIMSE_IDMAP_CLAIM)' \
    "$T/err" || fail "idmap typo: $(cat "$T/err")"

# --- usage ---
expect_rc 2 "$AVOW" wimse verify -wit "$T/wit.jwt" -issuer-key "$T/issuer.pub"
expect_rc 2 "$AVOW" wimse proof -key "$T/wl.key" -aud "$RP"
expect_rc 2 "$AVOW" wimse issue -in "$T/req.csr" -key "$T/issuer.key"
expect_rc 2 issue -in "$T/req.csr" -key "$T/issuer.key" -result all
for c in issue proof verify show; do
    expect_rc 0 "$AVOW" wimse "$c" --help
done
exit 0
