#!/bin/sh
# avow serve as OAuth authorization server and Client Attester, over HTTP:
# a SoftHSM2 client key -> PKIX Evidence with a nonce the service issued ->
# POST /oauth/attest (appraised, affirming) -> Client Attestation JWT -> PoP
# JWT by the token key -> POST /oauth/token answers an access token. Then:
# a replayed jti, a wrong aud, a missing challenge (use_attestation_challenge
# with a fresh challenge header, which then works), DPoP combined mode (a
# cnf.jkt-bound token; a wrong htu refused), an extractable key refused at
# the attester, the metadata document, /oauth/check for a resource server
# (a DPoP proof over the access token, ath), and the jti replay set
# surviving a restart. Skipped (77) without SoftHSM2.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

softhsm_token avow-serve-oauth
P="-pin-source env:AVOW_TEST_PIN"

CID=https://client.example.com
AS=https://as.example.com

# --- the device: an AK with a certificate, a client key, an extractable key ---
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=ak" -id a1 $P -pubout "$T/ak.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=cli" -id b1 $P -pubout "$T/cli.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=exp" -id c1 $P -extractable -pubout "$T/exp.pub"
token_ak_cert root

# --- the service ---
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "audit_log": "$T/audit.log",
 "oauth": {"issuer": "$AS", "clients": ["$CID"], "challenge_ttl": 120,
           "replay_db": "$T/replay.db", "token_ttl": 600}}
JSON
# an "oauth" member without its issuer, or with a misspelt member, is refused
printf '{"ca": "%s", "plain_http": true, "oauth": {"clients": ["x"]}}\n' "$CA" >"$T/bad1.json"
expect_rc 1 "$AVOW" serve -config "$T/bad1.json" -CAfile "$T/root.crt" -listen 127.0.0.1:0
grep -q 'oauth.issuer' "$T/err" || fail "no issuer not named: $(cat "$T/err")"
printf '{"ca": "%s", "plain_http": true, "oauth": {"issuer": "x", "leway": 5}}\n' "$CA" >"$T/bad2.json"
expect_rc 1 "$AVOW" serve -config "$T/bad2.json" -CAfile "$T/root.crt" -listen 127.0.0.1:0
grep -q 'leway' "$T/err" || fail "unknown member not named: $(cat "$T/err")"
start_server "$T/serve.json" -CAfile "$T/root.crt"

# challenge: sets CH (also the header) and CHX (its bytes in hex, an Evidence nonce)
challenge() {
    http POST /oauth/challenge
    expect_status 200
    CH=$(jq -r .attestation_challenge "$T/body")
    [ -n "$CH" ] && [ "$CH" != null ] || fail "no challenge: $(cat "$T/body")"
    grep -qi "^OAuth-Client-Attestation-Challenge: $CH" "$T/hdr" || fail "no challenge header"
    grep -qi '^cache-control: no-store' "$T/hdr" || fail "challenge is cacheable"
    CHX=$(b64url_hex "$CH")
}
# error_is STATUS ERROR REASON: the last answer is that RFC 6749 error
error_is() {
    expect_status "$1"
    jq -e --arg e "$2" --arg r "$3" '.error == $e and .reason == $r' "$T/body" >/dev/null ||
        fail "wanted $2/$3: $(cat "$T/body")"
}

# --- metadata ---
http GET /.well-known/oauth-authorization-server
expect_status 200
jq -e --arg iss "$AS" --arg b "$BASE" '.issuer == $iss and .token_endpoint == ($b + "/oauth/token")
    and .challenge_endpoint == ($b + "/oauth/challenge")
    and (.token_endpoint_auth_methods_supported | index("attest_jwt_client_auth") != null)
    and (.token_endpoint_auth_methods_supported | index("attest_jwt_client_auth_dpop") != null)
    and (.client_attestation_signing_alg_values_supported | index("ES256") != null)
    and .grant_types_supported == ["client_credentials"]' "$T/body" >/dev/null ||
    fail "metadata: $(cat "$T/body")"
http POST /.well-known/oauth-authorization-server
expect_status 405

# --- the Client Attester: Evidence with the service's nonce, PoP for the attester ---
# attest_body KEYOBJ PUB: the request in $T/req.json
attest_body() {
    challenge
    token_evidence "$1" "$CHX" "$T/ev.der" -outform DER
    expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=$1" $P -aud "$AS/oauth/attest" -out "$T/apop.jwt"
    jq -n --arg c "${ACID:-$CID}" --arg e "$(base64 -w0 "$T/ev.der")" --rawfile k "$2" \
        --arg p "$(cat "$T/apop.jwt")" '{client_id: $c, evidence: $e, cnf_key: $k, pop: $p}' >"$T/req.json"
}
attest_body cli "$T/cli.pub"
http POST /oauth/attest -H 'Content-Type: application/json' --data-binary "@$T/req.json"
expect_status 200
jq -r .client_attestation "$T/body" >"$T/att.jwt"
grep -q '^ey' "$T/att.jwt" || fail "no attestation: $(cat "$T/body")"
# the Evidence nonce was consumed: the same request again is refused
http POST /oauth/attest -H 'Content-Type: application/json' --data-binary "@$T/req.json"
[ "$STATUS" != 200 ] || fail "an Evidence nonce served twice"
# an extractable key is not affirming: no attestation
attest_body exp "$T/exp.pub"
http POST /oauth/attest -H 'Content-Type: application/json' --data-binary "@$T/req.json"
expect_status 403
jq -e '.ear_status != "affirming" and (.client_attestation == null)' "$T/body" >/dev/null ||
    fail "extractable key: $(cat "$T/body")"
grep -q key-not-extractable "$T/body" || fail "rule not named: $(cat "$T/body")"
# the cnf key must be the attested key
attest_body cli "$T/exp.pub"
http POST /oauth/attest -H 'Content-Type: application/json' --data-binary "@$T/req.json"
[ "$STATUS" = 403 ] || [ "$STATUS" = 400 ] || fail "another cnf key: HTTP $STATUS"
# a client_id not registered
ACID=https://other.example attest_body cli "$T/cli.pub"
http POST /oauth/attest -H 'Content-Type: application/json' --data-binary "@$T/req.json"
expect_status 403

# --- the token endpoint ---
ATT=$(cat "$T/att.jwt")
# token POPFILE [extra curl options]
token() {
    f=$1
    shift
    http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -H "OAuth-Client-Attestation-PoP: $(cat "$f")" \
        -d grant_type=client_credentials "$@"
}
challenge
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$CH" -jti jti-one -out "$T/pop1.jwt"
token "$T/pop1.jwt" --data-urlencode "client_id=$CID"
expect_status 200
jq -e '.token_type == "Bearer" and .expires_in == 600' "$T/body" >/dev/null || fail "token: $(cat "$T/body")"
payload "$(jq -r .access_token "$T/body")" | jq -e --arg c "$CID" --arg iss "$AS" \
    '.sub == $c and .client_id == $c and .iss == $iss and .cnf == null' >/dev/null || fail "access token claims"
grep -qi '^OAuth-Client-Attestation-Challenge: ' "$T/hdr" || fail "no next challenge with the token"
# the same jti with a fresh challenge: a replay
challenge
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$CH" -jti jti-one -out "$T/pop2.jwt"
token "$T/pop2.jwt"
error_is 401 invalid_client_attestation AVOW_ERR_OAUTH_REPLAY
# the wrong audience
challenge
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$BASE" -challenge "$CH" -out "$T/pop3.jwt"
token "$T/pop3.jwt"
error_is 401 invalid_client_attestation AVOW_ERR_OAUTH_AUD
# a client_id that is not the attestation's sub
challenge
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$CH" -out "$T/pop4.jwt"
token "$T/pop4.jwt" -d client_id=someone-else
error_is 401 invalid_client_attestation AVOW_ERR_OAUTH_CLIENT_ID
# no challenge: use_attestation_challenge with a fresh one, which then works
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -out "$T/pop5.jwt"
token "$T/pop5.jwt"
error_is 400 use_attestation_challenge AVOW_ERR_OAUTH_CHALLENGE_MISSING
FRESH=$(grep -i '^OAuth-Client-Attestation-Challenge:' "$T/hdr" | tr -d '\r' | sed 's/^[^:]*: *//')
[ -n "$FRESH" ] || fail "no fresh challenge with use_attestation_challenge"
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$FRESH" -out "$T/pop6.jwt"
token "$T/pop6.jwt"
expect_status 200
# other grants and bodies
token "$T/pop6.jwt" -d grant_type=authorization_code
error_is 400 invalid_request AVOW_ERR_OAUTH_GRANT
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -d grant_type=password
error_is 400 unsupported_grant_type AVOW_ERR_OAUTH_GRANT
http POST /oauth/token -d grant_type=client_credentials
error_is 401 invalid_client_attestation AVOW_ERR_OAUTH_HEADER

# hostile requests: each refused with its reason, the service stays up
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -H "OAuth-Client-Attestation: $ATT" \
    -H "OAuth-Client-Attestation-PoP: $(cat "$T/pop6.jwt")" -d grant_type=client_credentials
error_is 401 invalid_client_attestation AVOW_ERR_OAUTH_HEADER
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -d 'grant_type=client_credentials&grant_type=client_credentials'
error_is 400 invalid_request AVOW_ERR_OAUTH_GRANT
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -d 'grant_type=client%zzcredentials'
error_is 400 invalid_request AVOW_ERR_OAUTH_GRANT
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -d 'grant_type=client_credentials&client_id=a%00b'
error_is 400 invalid_request AVOW_ERR_OAUTH_GRANT
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT~x" -d grant_type=client_credentials
expect_status 401
http POST /oauth/token -H 'Content-Type: application/json' -d '{"grant_type":"client_credentials"}'
error_is 400 invalid_request AVOW_ERR_OAUTH_GRANT
http POST /oauth/attest -H 'Content-Type: application/json' -d '{"client_id":"x","evidence":"AA==","bogus":1}'
expect_status 400
http POST /oauth/attest -H 'Content-Type: application/json' -d '{"client_id":"x","client_id":"y"}'
expect_status 400
http POST /oauth/attest -H 'Content-Type: text/plain' -d '{}'
expect_status 415
http GET /oauth/token
expect_status 405
http POST /oauth/nothing
expect_status 404
alive

# --- DPoP combined mode ---
challenge
expect_rc 0 "$AVOW" oauth dpop -key "$TOK;object=cli" $P -htm POST -htu "$BASE/oauth/token" \
    -dpop-nonce "$CH" -out "$T/dpop1.jwt"
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -H "DPoP: $(cat "$T/dpop1.jwt")" \
    -d grant_type=client_credentials
expect_status 200
jq -e '.token_type == "DPoP"' "$T/body" >/dev/null || fail "DPoP token: $(cat "$T/body")"
DPOP_AT=$(jq -r .access_token "$T/body")
JKT=$(payload "$DPOP_AT" | jq -r .cnf.jkt)
[ -n "$JKT" ] && [ "$JKT" != null ] || fail "no cnf.jkt in the DPoP-bound token"
challenge
expect_rc 0 "$AVOW" oauth dpop -key "$TOK;object=cli" $P -htm POST -htu "$BASE/oauth/other" \
    -dpop-nonce "$CH" -out "$T/dpop2.jwt"
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -H "DPoP: $(cat "$T/dpop2.jwt")" \
    -d grant_type=client_credentials
error_is 400 invalid_dpop_proof AVOW_ERR_DPOP_HTU

# --- /oauth/check for a resource server: the DPoP proof must hash the token (ath) ---
challenge
printf '%s' "$DPOP_AT" >"$T/at.txt"
RS=https://rs.example.com/resource
expect_rc 0 "$AVOW" oauth dpop -key "$TOK;object=cli" $P -htm GET -htu "$RS" -dpop-nonce "$CH" \
    -access-token "$T/at.txt" -out "$T/dpop3.jwt"
check() {
    http POST "/oauth/check?method=GET&url=https%3A%2F%2Frs.example.com%2Fresource" \
        -H "OAuth-Client-Attestation: $ATT" -H "DPoP: $(cat "$1")" -H "Authorization: DPoP $DPOP_AT"
}
check "$T/dpop3.jwt"
expect_status 200
jq -e --arg c "$CID" --arg j "$JKT" '.authenticated == true and .client_id == $c and .jkt == $j' \
    "$T/body" >/dev/null || fail "check: $(cat "$T/body")"
challenge
printf 'another-token' >"$T/at2.txt"
expect_rc 0 "$AVOW" oauth dpop -key "$TOK;object=cli" $P -htm GET -htu "$RS" -dpop-nonce "$CH" \
    -access-token "$T/at2.txt" -out "$T/dpop4.jwt"
check "$T/dpop4.jwt"
error_is 400 invalid_dpop_proof AVOW_ERR_DPOP_ATH

# --- restart: the jti set is still there ---
alive
stop_server_clean
start_server "$T/serve.json" -CAfile "$T/root.crt"
challenge
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$CH" -jti jti-one -out "$T/pop7.jwt"
token "$T/pop7.jwt"
error_is 401 invalid_client_attestation AVOW_ERR_OAUTH_REPLAY
challenge
expect_rc 0 "$AVOW" oauth pop -key "$TOK;object=cli" $P -aud "$AS" -challenge "$CH" -out "$T/pop8.jwt"
token "$T/pop8.jwt"
expect_status 200
grep -q '"oauth.token"' "$T/audit.log" || fail "no audit event"
grep -q '"oauth.attest"' "$T/audit.log" || fail "no attester audit event"
alive
stop_server_clean
echo "serve_oauth: ok"
