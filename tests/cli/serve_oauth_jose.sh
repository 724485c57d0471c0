#!/bin/sh
# avow serve's token endpoint with tokens made outside avow: npm `jose`
# signs a Client Attestation (an attester key the service trusts through
# oauth.attester_keys) and the PoP JWT (a client key jose holds); the
# service answers an access token, which jose's jwtVerify accepts with the
# service's key (typ at+jwt, iss, aud). An unsecured (alg none) PoP from
# jose is refused. Skips (77) without node/npm or a registry.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

command -v node >/dev/null 2>&1 || { echo "skip: no node"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "skip: no npm"; exit 77; }
if ! npm install --prefix "$T/npm" --no-audit --no-fund --no-package-lock --silent \
    --fetch-retries=1 --fetch-timeout=30000 jose >"$T/npm.log" 2>&1; then
    cat "$T/npm.log" >&2
    echo "skip: npm install jose failed (registry unreachable?)"
    exit 77
fi

CID=https://client.example.com
AS=https://as.example.com
make_ca
keygen "$T/attester.key" ec256
keygen "$T/client.key" ec256
openssl pkey -in "$T/attester.key" -pubout -out "$T/attester.pub" 2>/dev/null
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
openssl x509 -in "$CA/ca.crt" -noout -pubkey >"$T/ca.pub"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true,
 "oauth": {"issuer": "$AS", "attester_keys": ["$T/attester.pub"], "attester": false}}
JSON
start_server "$T/serve.json" -CAfile "$T/root.pem"

cat >"$T/npm/make.mjs" <<'JS'
import { readFileSync } from "node:fs";
import * as jose from "jose";

const [attKey, cliKey, cid, as, challenge, mode] = process.argv.slice(2);
const pkcs8 = (f) => jose.importPKCS8(readFileSync(f, "utf8"), "ES256", { extractable: true });
const att = await pkcs8(attKey);
const cli = await pkcs8(cliKey);
const pub = await jose.exportJWK(cli);
delete pub.d;
const now = Math.floor(Date.now() / 1000);
const attestation = await new jose.SignJWT({ cnf: { jwk: pub } })
  .setProtectedHeader({ alg: "ES256", typ: "oauth-client-attestation+jwt" })
  .setSubject(cid).setIssuedAt(now).setExpirationTime(now + 600).sign(att);
const claims = { challenge };
const pop = mode === "none"
  ? new jose.UnsecuredJWT(claims).setAudience(as).setJti(crypto.randomUUID()).setIssuedAt(now).encode()
  : await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", typ: "oauth-client-attestation-pop+jwt" })
      .setAudience(as).setJti(crypto.randomUUID()).setIssuedAt(now).sign(cli);
console.log(attestation);
console.log(pop);
JS
cat >"$T/npm/check.mjs" <<'JS'
import { readFileSync } from "node:fs";
import * as jose from "jose";

const [caPub, token, as] = process.argv.slice(2);
const key = await jose.importSPKI(readFileSync(caPub, "utf8"), "ES256");
const { payload } = await jose.jwtVerify(token, key, { issuer: as, audience: as, typ: "at+jwt" });
console.log(payload.sub);
JS

# pair MODE: ATT and POP made by jose with a fresh challenge
pair() {
    http POST /oauth/challenge
    expect_status 200
    node "$T/npm/make.mjs" "$T/attester.key" "$T/client.key" "$CID" "$AS" \
        "$(jq -r .attestation_challenge "$T/body")" "$1" >"$T/pair" || fail "jose could not sign"
    ATT=$(sed -n 1p "$T/pair")
    POP=$(sed -n 2p "$T/pair")
}
pair es256
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -H "OAuth-Client-Attestation-PoP: $POP" \
    -d grant_type=client_credentials
expect_status 200
AT=$(jq -r .access_token "$T/body")
sub=$(node "$T/npm/check.mjs" "$T/ca.pub" "$AT" "$AS") || fail "jose refused avow's access token"
[ "$sub" = "$CID" ] || fail "access token sub: $sub"
pair none
http POST /oauth/token -H "OAuth-Client-Attestation: $ATT" -H "OAuth-Client-Attestation-PoP: $POP" \
    -d grant_type=client_credentials
expect_status 401
jq -e '.error == "invalid_client_attestation" and .reason == "AVOW_ERR_SIG_ALG"' "$T/body" >/dev/null ||
    fail "alg none PoP: $(cat "$T/body")"
# the attester endpoint is off in this configuration
http POST /oauth/attest -H 'Content-Type: application/json' -d '{}'
expect_status 404
stop_server_clean
echo "serve_oauth_jose: ok"
