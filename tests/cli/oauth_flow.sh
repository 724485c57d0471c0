#!/bin/sh
# avow oauth with software keys only (runs in every build, no token, no
# network): the draft's -10 examples through `oauth verify` at their time,
# Evidence -> attest (possession by a PoP) -> PoP -> verify, an attested CSR
# -> attest, the challenge endpoint's JSON, the refusals' exit codes and
# messages, and the usage errors.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

V=$VECTORS/oauth
CID=https://client.example.com
AS=https://as.example.com
ATT_ID=https://attester.example.com

# --- the draft's -10 examples ---
expect_rc 0 "$AVOW" oauth verify -aud "$AS" -attester-key "$V/attester-key.pub.pem" \
    -attestation "$V/draft10-client-attestation.jwt" -pop "$V/draft10-client-attestation-pop-as.jwt" \
    -at @1772487595 -client-id "$CID"
[ "$(cat "$T/out")" = "$CID" ] || fail "-10 AS pair: $(cat "$T/out")"
expect_rc 0 "$AVOW" oauth verify -aud https://rs.example.com -attester-key "$V/attester-key.pub.pem" \
    -attestation "$V/draft10-client-attestation.jwt" -pop "$V/draft10-client-attestation-pop-rs.jwt" \
    -at @1772487595 -json
grep -q '"authenticated": true' "$T/out" || fail "-10 RS pair not authenticated"
grep -q '"jkt": "' "$T/out" || fail "no jkt in the result"
expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$V/attester-key.pub.pem" \
    -attestation "$V/draft10-client-attestation.jwt" -pop "$V/draft10-client-attestation-pop-rs.jwt" \
    -at @1772487595
grep -q 'pop.payload.aud: AVOW_ERR_OAUTH_AUD' "$T/err" || fail "RS PoP at the AS: $(cat "$T/err")"
expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$V/attester-key.pub.pem" \
    -attestation "$V/draft07-client-attestation.jwt" -pop "$V/draft07-client-attestation-pop.jwt" \
    -at @1300815780
grep -q 'AVOW_ERR_OAUTH_POP_SIG' "$T/err" || fail "-07 PoP not refused by its signature"
expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$V/client-instance-pop-key.pub.pem" \
    -attestation "$V/draft10-client-attestation.jwt" -pop "$V/draft10-client-attestation-pop-as.jwt" \
    -at @1772487595
grep -q 'AVOW_ERR_OAUTH_ATTESTER' "$T/err" || fail "untrusted attester not refused"

# --- Evidence about a software key -> attester -> client -> server ---
make_ca
make_ak ak ec256
keygen "$T/cli.key" ec256
keygen "$T/attester.key" ec256
openssl pkey -in "$T/attester.key" -pubout -out "$T/attester.pub" 2>/dev/null
openssl pkey -in "$T/cli.key" -pubout -out "$T/cli.pub" 2>/dev/null
spki=$(openssl pkey -in "$T/cli.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
claims() {
    printf '{"keys":[{"identifier":"k","spki":{"hex":"%s"},"extractable":%s,"sensitive":true,"never-extractable":true,"local":true}]}\n' \
        "$spki" "$1"
}
NONCE=$(openssl rand -hex 16)
claims false >"$T/claims.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$NONCE" \
    -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ev.pem"
expect_rc 0 "$AVOW" oauth pop -key "$T/cli.key" -aud "$ATT_ID" -out "$T/att-pop.jwt"
attest() {
    "$AVOW" oauth attest -cnf-key "$T/cli.pub" -pop "$T/att-pop.jwt" -attester-id "$ATT_ID" \
        -CAfile "$T/root.pem" -nonce "$NONCE" -client-id "$CID" -signkey "$T/attester.key" "$@"
}
expect_rc 0 attest -evidence "$T/ev.pem" -out "$T/att.jwt"
# an extractable key: the default policy says no, nothing is written
claims true >"$T/claims-x.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/claims-x.json" -nonce "$NONCE" \
    -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ev-x.pem"
expect_rc 1 attest -evidence "$T/ev-x.pem" -out "$T/att-x.jwt"
grep -q 'rule key-not-extractable' "$T/err" || fail "extractable key: $(cat "$T/err")"
[ ! -s "$T/att-x.jwt" ] || fail "an attestation was written for an extractable key"
# Evidence for another nonce
expect_rc 1 "$AVOW" oauth attest -evidence "$T/ev.pem" -cnf-key "$T/cli.pub" -pop "$T/att-pop.jwt" \
    -attester-id "$ATT_ID" -CAfile "$T/root.pem" -nonce 00112233445566778899aabbccddeeff \
    -client-id "$CID" -signkey "$T/attester.key"
grep -q 'AVOW_ERR_NONCE_MISMATCH' "$T/err" || fail "wrong nonce: $(cat "$T/err")"
# usage: both inputs, neither, Evidence without its possession proof
expect_rc 2 attest -evidence "$T/ev.pem" -csr "$T/ev.pem"
expect_rc 2 "$AVOW" oauth attest -evidence "$T/ev.pem" -CAfile "$T/root.pem" -client-id "$CID" \
    -signkey "$T/attester.key"
grep -q 'needs -cnf-key, -pop and -attester-id' "$T/err" || fail "missing -pop not explained"

# the attested CSR path: its self-signature is the possession
expect_rc 0 "$AVOW" csr create -key "$T/cli.key" -subject "CN=client" -evidence "$T/ev.pem" \
    -chain "$T/int.pem" -out "$T/req.csr"
expect_rc 0 "$AVOW" oauth attest -csr "$T/req.csr" -CAfile "$T/root.pem" -nonce "$NONCE" \
    -client-id "$CID" -signkey "$T/attester.key" -ttl 60 -out "$T/att-csr.jwt"

# the server with a challenge store and a replay set
expect_rc 0 "$AVOW" oauth challenge -challenge-db "$T/state.db" -ttl 60 -json
grep -q '^{"attestation_challenge":"[A-Za-z0-9_-]\{43\}"}$' "$T/out" || fail "challenge JSON: $(cat "$T/out")"
CH=$(sed 's/.*":"\([^"]*\)".*/\1/' "$T/out")
expect_rc 0 "$AVOW" oauth pop -key "$T/cli.key" -aud "$AS" -challenge "$CH" -out "$T/pop.jwt"
verify() {
    "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester.pub" -challenge-db "$T/state.db" \
        -require-challenge -replay-db "$T/replay.db" "$@"
}
expect_rc 0 verify -attestation "$T/att.jwt" -pop "$T/pop.jwt"
expect_rc 1 verify -attestation "$T/att.jwt" -pop "$T/pop.jwt"
grep -q '^OAuth-Client-Attestation-Challenge: [A-Za-z0-9_-]\{43\}$' "$T/out" ||
    fail "no fresh challenge after use_attestation_challenge: $(cat "$T/out")"
grep -q 'use_attestation_challenge' "$T/err" || fail "$(cat "$T/err")"
# the CSR's attestation with the next challenge; then the client_id of another client
expect_rc 0 "$AVOW" oauth challenge -challenge-db "$T/state.db"
expect_rc 0 "$AVOW" oauth pop -key "$T/cli.key" -aud "$AS" -challenge "$(cat "$T/out")" \
    -out "$T/pop2.jwt"
expect_rc 1 verify -attestation "$T/att-csr.jwt" -pop "$T/pop2.jwt" -client-id https://other.example
grep -q 'AVOW_ERR_OAUTH_CLIENT_ID' "$T/err" || fail "client_id not compared"
expect_rc 0 verify -attestation "$T/att-csr.jwt" -pop "$T/pop2.jwt" -client-id "$CID"
# an attestation past its exp (+ 60 s leeway) is use_fresh_attestation
expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester.pub" \
    -attestation "$T/att-csr.jwt" -pop "$T/pop2.jwt" -at "@$(($(date +%s) + 400))" -pop-max-age 3600
grep -q 'use_fresh_attestation' "$T/err" || fail "expired attestation: $(cat "$T/err")"
# combined mode without a DPoP key match
keygen "$T/other.key" ec256
expect_rc 0 "$AVOW" oauth dpop -key "$T/other.key" -htm POST -htu "$AS/token" -out "$T/dpop.jwt"
expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester.pub" \
    -attestation "$T/att.jwt" -dpop "$T/dpop.jwt" -url "$AS/token"
grep -q 'AVOW_ERR_DPOP_KEY' "$T/err" || fail "DPoP key not compared with cnf"
# "oauth pop -dpop" is "oauth dpop": combined mode with the cnf key passes, once per jti
expect_rc 0 "$AVOW" oauth pop -dpop -key "$T/cli.key" -htm POST -htu "$AS/token" -out "$T/dpop-cli.jwt"
expect_rc 0 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester.pub" \
    -attestation "$T/att.jwt" -dpop "$T/dpop-cli.jwt" -url "$AS/token" -replay-db "$T/dreplay.db" -json
grep -q '"mode": "attest_jwt_client_auth_dpop"' "$T/out" || fail "pop -dpop: $(cat "$T/out")"
expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester.pub" \
    -attestation "$T/att.jwt" -dpop "$T/dpop-cli.jwt" -url "$AS/token" -replay-db "$T/dreplay.db"
grep -q 'AVOW_ERR_OAUTH_REPLAY' "$T/err" || fail "pop -dpop replay: $(cat "$T/err")"
expect_rc 2 "$AVOW" oauth pop -dpop -key "$T/cli.key" -htm POST -htu "$AS/token" -aud "$AS"
expect_rc 2 "$AVOW" oauth pop -key "$T/cli.key" -aud "$AS" -htm POST
expect_rc 2 "$AVOW" oauth pop -dpop -key "$T/cli.key" -htm POST

# trusted attester keys as a JWK set: the attester's key (from its SPKI: 04 || x || y)
b64u() { base64 | tr '+/' '-_' | tr -d '=\n'; }
jwk_of() {
    openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | tail -c 64 >"$T/pt"
    printf '{"kty":"EC","crv":"P-256","x":"%s","y":"%s","kid":"%s","use":"sig"}' \
        "$(head -c 32 "$T/pt" | b64u)" "$(tail -c 32 "$T/pt" | b64u)" "$2"
}
openssl pkey -in "$T/other.key" -pubout -out "$T/other.pub" 2>/dev/null
printf '{"keys":[%s]}' "$(jwk_of "$T/attester.pub" att-1)" >"$T/att.jwks"
printf '{"keys":[%s]}' "$(jwk_of "$T/other.pub" other)" >"$T/other.jwks"
printf '{"keys":[%s,%s]}' "$(jwk_of "$T/other.pub" other)" "$(jwk_of "$T/attester.pub" att-1)" \
    >"$T/two.jwks"
expect_rc 0 "$AVOW" oauth pop -key "$T/cli.key" -aud "$AS" -out "$T/pop-jwks.jwt"
expect_rc 0 "$AVOW" oauth verify -aud "$AS" -attester-jwks "$T/att.jwks" \
    -attestation "$T/att.jwt" -pop "$T/pop-jwks.jwt"
grep -qx "$CID" "$T/out" || fail "-attester-jwks: $(cat "$T/out") $(cat "$T/err")"
expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-jwks "$T/other.jwks" \
    -attestation "$T/att.jwt" -pop "$T/pop-jwks.jwt"
grep -q 'AVOW_ERR_OAUTH_ATTESTER' "$T/err" || fail "-attester-jwks, another key: $(cat "$T/err")"
# no kid in the attestation and two P-256 keys: the set cannot say which (exit 2, as for
# any key reference that names several keys)
expect_rc 2 "$AVOW" oauth verify -aud "$AS" -attester-jwks "$T/two.jwks" \
    -attestation "$T/att.jwt" -pop "$T/pop-jwks.jwt"
grep -q 'AVOW_ERR_AMBIGUOUS' "$T/err" || fail "-attester-jwks, ambiguous: $(cat "$T/err")"
# ... unless another trusted key is given beside it
expect_rc 0 "$AVOW" oauth verify -aud "$AS" -attester-jwks "$T/two.jwks" \
    -attester-key "$T/attester.pub" -attestation "$T/att.jwt" -pop "$T/pop-jwks.jwt"
printf '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}' >"$T/oct.jwks"
expect_rc 3 "$AVOW" oauth verify -aud "$AS" -attester-jwks "$T/oct.jwks" \
    -attestation "$T/att.jwt" -pop "$T/pop-jwks.jwt"
grep -q 'AVOW_ERR_JWKS' "$T/err" || fail "-attester-jwks with an oct key: $(cat "$T/err")"

# usage errors
expect_rc 2 "$AVOW" oauth verify -attester-key "$T/attester.pub" -attestation "$T/att.jwt"
expect_rc 2 "$AVOW" oauth verify -aud "$AS" -attestation "$T/att.jwt"
expect_rc 2 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester.pub" -leeway soon
expect_rc 2 "$AVOW" oauth pop -key "$T/cli.key"
expect_rc 2 "$AVOW" oauth dpop -key "$T/cli.key" -htm POST
expect_rc 2 "$AVOW" oauth challenge
for c in attest pop dpop verify challenge; do
    expect_rc 0 "$AVOW" oauth $c --help
    grep -q "^Usage: avow oauth $c" "$T/out" || fail "oauth $c --help"
done
echo ok
