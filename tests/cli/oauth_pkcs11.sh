#!/bin/sh
# OAuth attestation-based client authentication end to end, the Client
# Instance Key in a SoftHSM2 token: PKIX Evidence about it -> the Client
# Attester appraises it (possession by a PoP JWT the token signs) -> Client
# Attestation JWT -> PoP JWT and DPoP proof by the token key -> the server
# check with a challenge store and a jti replay set that outlives the
# process. An extractable key is refused at the attester, and the attester
# key may itself live in the token. Skipped (77) without SoftHSM2.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"

softhsm_token avow-oauth
P="-pin-source env:AVOW_TEST_PIN"

CID=https://client.example.com
AS=https://as.example.com
ATT_ID=https://attester.example.com

# --- keys: the AK, the Client Instance Key, an extractable key, an attester key ---
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=ak" -id a1 $P -pubout "$T/ak.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=cli" -id b1 $P -pubout "$T/cli.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=exp" -id c1 $P -extractable -pubout "$T/exp.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=attester" -id d1 $P -pubout "$T/attester-tok.pub"
keygen "$T/attester.key" ec256
openssl pkey -in "$T/attester.key" -pubout -out "$T/attester.pub" 2>/dev/null

token_ak_cert ca

# --- the Client Instance: Evidence about its key, and a PoP for the attester ---
NONCE=$(openssl rand -hex 16)
token_evidence cli "$NONCE" "$T/ev.pem"
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$ATT_ID" -out "$T/att-pop.jwt"

# --- the Client Attester ---
attest() {
    "$AVOW" oauth attest -evidence "$T/ev.pem" -cnf-key "${KP:-$T/cli.pub}" \
        -pop "${PF:-$T/att-pop.jwt}" -attester-id "$ATT_ID" -CAfile "$T/ca.crt" \
        -nonce "${NC:-$NONCE}" -client-id "$CID" "$@"
}
expect_rc 0 attest -signkey "$T/attester.key" -ttl 600 -out "$T/att.jwt"
grep -q '^ey' "$T/att.jwt" || fail "attest wrote no JWT"
# the attester's key in the token signs the same way
expect_rc 0 attest -signkey "$TOK;object=attester" $P -kid tok -out "$T/att-tok.jwt"
# the cnf key must be the key the Evidence attests and the PoP proves
KP=$T/exp.pub expect_rc 1 attest -signkey "$T/attester.key" -out "$T/x.jwt"
grep -q "AVOW_ERR_OAUTH_POP_SIG" "$T/err" ||
    fail "another cnf key not refused: $(cat "$T/err")"
[ ! -s "$T/x.jwt" ] || fail "a refused attestation was written"
# a PoP for another audience is no proof of possession
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud https://other.example -out "$T/bad-pop.jwt"
PF=$T/bad-pop.jwt expect_rc 1 attest -signkey "$T/attester.key"
grep -q 'AVOW_ERR_NOT_AFFIRMING' "$T/err" || fail "bad possession not refused: $(cat "$T/err")"
# the wrong nonce
NC=00112233445566778899aabbccddeeff expect_rc 1 attest -signkey "$T/attester.key"
# an extractable key is refused by the default policy
token_evidence exp "$NONCE" "$T/ev-exp.pem"
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=exp" $P -aud "$ATT_ID" -out "$T/exp-pop.jwt"
expect_rc 1 "$AVOW" oauth attest -evidence "$T/ev-exp.pem" -cnf-key "$T/exp.pub" \
    -pop "$T/exp-pop.jwt" -attester-id "$ATT_ID" -CAfile "$T/ca.crt" -nonce "$NONCE" \
    -client-id "$CID" -signkey "$T/attester.key" -json -out "$T/exp.jwt"
grep -q 'key-not-extractable' "$T/err" || fail "extractable key not named: $(cat "$T/err")"
[ ! -s "$T/exp.jwt" ] || fail "an attestation for an extractable key was written"

# --- the server: challenge, PoP by the token key, verify ---
expect_rc 0 "$AVOW" oauth challenge -challenge-db "$T/state.db" -json
CH=$(sed -n 's/.*"attestation_challenge":"\([^"]*\)".*/\1/p' "$T/out")
[ -n "$CH" ] || fail "no challenge: $(cat "$T/out")"
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$CH" -out "$T/pop.jwt"
verify() {
    "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester.pub" -attestation "$T/att.jwt" \
        -challenge-db "$T/state.db" -require-challenge -replay-db "$T/state.db" "$@"
}
expect_rc 0 verify -pop "$T/pop.jwt" -client-id "$CID"
[ "$(cat "$T/out")" = "$CID" ] || fail "verify printed $(cat "$T/out")"
# single-use: the same challenge again is use_attestation_challenge, with a fresh one
expect_rc 1 verify -pop "$T/pop.jwt" -json
grep -q '"error": "use_attestation_challenge"' "$T/out" || fail "used challenge: $(cat "$T/out")"
grep -q '"challenge": "' "$T/out" || fail "no fresh challenge with the error"
# a reusable challenge: the jti replay set (a new process each time) refuses the replay
expect_rc 0 "$AVOW" oauth challenge -challenge-db "$T/state.db"
CH2=$(cat "$T/out")
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$CH2" -out "$T/pop2.jwt"
expect_rc 0 verify -pop "$T/pop2.jwt" -reusable-challenge
expect_rc 1 verify -pop "$T/pop2.jwt" -reusable-challenge -json
grep -q 'AVOW_ERR_OAUTH_REPLAY' "$T/out" || fail "replay not refused: $(cat "$T/out")"
# the attestation signed in the token verifies with that key only
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$CH2" -out "$T/pop3.jwt"
expect_rc 3 verify -pop "$T/pop3.jwt" -reusable-challenge -attestation "$T/att-tok.jwt"
grep -q 'AVOW_ERR_OAUTH_HEADER' "$T/err" || fail "two attestation headers not refused"
expect_rc 0 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester-tok.pub" \
    -attestation "$T/att-tok.jwt" -pop "$T/pop3.jwt"
expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/attester.pub" \
    -attestation "$T/att-tok.jwt" -pop "$T/pop3.jwt"
grep -q 'AVOW_ERR_OAUTH_ATTESTER' "$T/err" || fail "untrusted attester not refused"

# --- DPoP combined mode, the challenge in the DPoP nonce ---
expect_rc 0 "$AVOW" oauth challenge -challenge-db "$T/state.db"
CH3=$(cat "$T/out")
printf 'access-token-1' >"$T/at.txt"
expect_rc 0 "$AVOW" oauth dpop -key "$TOK;object=cli" $P -htm POST -htu "$AS/token" \
    -dpop-nonce "$CH3" -out "$T/dpop.jwt"
expect_rc 0 verify -dpop "$T/dpop.jwt" -url "$AS/token?x=1" -json
grep -q '"mode": "attest_jwt_client_auth_dpop"' "$T/out" || fail "not combined mode"
expect_rc 1 verify -dpop "$T/dpop.jwt" -url "$AS/token"
expect_rc 0 "$AVOW" oauth challenge -challenge-db "$T/state.db"
CH4=$(cat "$T/out")
expect_rc 0 "$AVOW" oauth dpop -key "$TOK;object=cli" $P -htm POST -htu "$AS/token" \
    -dpop-nonce "$CH4" -access-token "$T/at.txt" -out "$T/dpop2.jwt"
expect_rc 1 verify -dpop "$T/dpop2.jwt" -url "$AS/other"
grep -q 'AVOW_ERR_DPOP_HTU' "$T/err" || fail "htu not checked"
expect_rc 0 verify -dpop "$T/dpop2.jwt" -url "$AS/token" -access-token "$T/at.txt"
echo "oauth_pkcs11: ok"
