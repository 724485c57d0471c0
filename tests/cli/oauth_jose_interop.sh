#!/bin/sh
# OAuth client attestation interop with the npm `jose` library under Node:
# Client Attestation JWTs (from an attested CSR, signed by avow with ES256,
# ES384, PS256, EdDSA attester keys), PoP JWTs and DPoP proofs made by
# avow verify with jose's jwtVerify (DPoP through EmbeddedJWK); and
# attestation + PoP pairs and DPoP proofs signed by jose (ES256, ES384,
# ES512, EdDSA, PS256, RS256) pass `avow oauth verify`, keys handed over as
# jose's JWK and as SPKI PEM. Skips (77) without node/npm or a registry.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

: "${AVOW_JOSE_TOOL:?AVOW_JOSE_TOOL must name tests/tools/jose_tool}"

command -v node >/dev/null 2>&1 || { echo "skip: no node"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "skip: no npm"; exit 77; }
if ! npm install --prefix "$T/npm" --no-audit --no-fund --no-package-lock --silent \
    --fetch-retries=1 --fetch-timeout=30000 jose >"$T/npm.log" 2>&1; then
    cat "$T/npm.log" >&2
    echo "skip: npm install jose failed (registry unreachable?)"
    exit 77
fi
node -e 'process.exit(0)' || { echo "skip: node does not run"; exit 77; }

CID=https://client.example.com
AS=https://as.example.com
NONCE=00112233445566778899aabbccddeeff

# --- 1. avow makes, jose verifies ---
make_ca
make_ak ak ec256
keygen "$T/cli.key" ec256
spki=$(openssl pkey -in "$T/cli.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
printf '{"keys":[{"identifier":"k","spki":{"hex":"%s"},"extractable":false,"sensitive":true,"never-extractable":true,"local":true}]}\n' \
    "$spki" >"$T/claims.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$NONCE" \
    -signkey "$T/ak.key" -signcert "$T/ak.pem" -out "$T/req.ev"
expect_rc 0 "$AVOW" csr create -key "$T/cli.key" -subject "CN=client" -evidence "$T/req.ev" \
    -chain "$T/int.pem" -out "$T/req.csr"
keygen "$T/ES256.key" ec256
keygen "$T/ES384.key" ec384
keygen "$T/EdDSA.key" ed25519
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$T/PS256.key" 2>/dev/null
for alg in ES256 ES384 PS256 EdDSA; do
    expect_rc 0 "$AVOW" oauth attest -csr "$T/req.csr" -CAfile "$T/root.pem" -nonce "$NONCE" \
        -client-id "$CID" -signkey "$T/$alg.key" -kid "k-$alg" -extra-claims '{"wallet":"x"}' \
        -out "$T/avow-$alg.att"
    expect_rc 0 "$AVOW_JOSE_TOOL" jwk "$T/$alg.key"
    cp "$T/out" "$T/$alg.jwk"
done
expect_rc 0 "$AVOW" oauth pop -key "$T/cli.key" -aud "$AS" -challenge c-1 -out "$T/avow.pop"
expect_rc 0 "$AVOW" oauth dpop -key "$T/cli.key" -htm POST -htu "$AS/token" -dpop-nonce c-2 \
    -out "$T/avow.dpop"
openssl pkey -in "$T/cli.key" -pubout -out "$T/cli.pub" 2>/dev/null

cat >"$T/npm/verify.mjs" <<'JS'
import { readFileSync } from "node:fs";
import * as jose from "jose";

const [dir, cid, as, ...algs] = process.argv.slice(2);
const rd = (f) => readFileSync(`${dir}/${f}`, "utf8").trim();
for (const alg of algs) {
  const key = await jose.importJWK(JSON.parse(rd(`${alg}.jwk`)), alg);
  const { payload, protectedHeader } = await jose.jwtVerify(rd(`avow-${alg}.att`), key, {
    typ: "oauth-client-attestation+jwt", algorithms: [alg], subject: cid, requiredClaims: ["exp", "cnf"],
  });
  if (protectedHeader.kid !== `k-${alg}` || payload.wallet !== "x") throw new Error(`${alg}: claims`);
  // The cnf key verifies the PoP.
  const cnf = await jose.importJWK(payload.cnf.jwk, "ES256");
  const pop = await jose.jwtVerify(rd("avow.pop"), cnf, {
    typ: "oauth-client-attestation-pop+jwt", audience: as, algorithms: ["ES256"], requiredClaims: ["jti", "iat"],
  });
  if (pop.payload.challenge !== "c-1") throw new Error("pop challenge");
  console.log(`${alg}: attestation and PoP verified by jose`);
}
const d = await jose.jwtVerify(rd("avow.dpop"), jose.EmbeddedJWK, { typ: "dpop+jwt", requiredClaims: ["jti", "iat", "htm", "htu"] });
if (d.payload.htm !== "POST" || d.payload.nonce !== "c-2") throw new Error("dpop claims");
const pub = await jose.importSPKI(rd("cli.pub"), "ES256");
const thumb = await jose.calculateJwkThumbprint(d.protectedHeader.jwk);
if (thumb !== await jose.calculateJwkThumbprint(await jose.exportJWK(pub))) throw new Error("dpop jwk");
console.log("DPoP verified by jose");
JS
expect_rc 0 node "$T/npm/verify.mjs" "$T" "$CID" "$AS" ES256 ES384 PS256 EdDSA
for alg in ES256 ES384 PS256 EdDSA; do
    grep -q "^$alg: attestation and PoP verified by jose$" "$T/out" || fail "$alg: jose refused"
done
grep -q "^DPoP verified by jose$" "$T/out" || fail "jose refused avow's DPoP proof"

# --- 2. jose makes, avow verifies ---
cat >"$T/npm/sign.mjs" <<'JS'
import { writeFileSync } from "node:fs";
import * as jose from "jose";

const [dir, cid, as, ...algs] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);
const gen = (alg) => jose.generateKeyPair(alg, { extractable: true, ...(alg.startsWith("RS") || alg.startsWith("PS") ? { modulusLength: 2048 } : {}) });
for (const alg of algs) {
  const att = await gen(alg), cli = await gen(alg);
  const jwk = await jose.exportJWK(cli.publicKey);
  writeFileSync(`${dir}/jose-${alg}.att`, await new jose.SignJWT({ cnf: { jwk } })
    .setProtectedHeader({ alg, typ: "oauth-client-attestation+jwt" })
    .setSubject(cid).setIssuedAt(now).setExpirationTime(now + 600).sign(att.privateKey));
  writeFileSync(`${dir}/jose-${alg}.pop`, await new jose.SignJWT({ challenge: "session-1" })
    .setProtectedHeader({ alg, typ: "oauth-client-attestation-pop+jwt" })
    .setAudience(as).setJti(`jti-${alg}`).setIssuedAt(now).sign(cli.privateKey));
  writeFileSync(`${dir}/jose-${alg}.dpop`, await new jose.SignJWT({ htm: "POST", htu: `${as}/token`, nonce: "session-1" })
    .setProtectedHeader({ alg, typ: "dpop+jwt", jwk })
    .setJti(`dpop-${alg}`).setIssuedAt(now).sign(cli.privateKey));
  writeFileSync(`${dir}/jose-${alg}.jwk`, JSON.stringify(await jose.exportJWK(att.publicKey)));
  writeFileSync(`${dir}/jose-${alg}.pem`, await jose.exportSPKI(att.publicKey));
}
JS
ALGS="ES256 ES384 ES512 EdDSA PS256 RS256"
expect_rc 0 node "$T/npm/sign.mjs" "$T" "$CID" "$AS" $ALGS
for alg in $ALGS; do
    for form in jwk pem; do
        expect_rc 0 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/jose-$alg.$form" \
            -attestation "$T/jose-$alg.att" -pop "$T/jose-$alg.pop" -client-id "$CID" \
            -challenge session-1
        [ "$(cat "$T/out")" = "$CID" ] || fail "$alg ($form): not authenticated"
        expect_rc 0 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/jose-$alg.$form" \
            -attestation "$T/jose-$alg.att" -dpop "$T/jose-$alg.dpop" -url "$AS/token" \
            -challenge session-1
    done
    # the replay set refuses the same PoP twice
    expect_rc 0 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/jose-$alg.jwk" \
        -attestation "$T/jose-$alg.att" -pop "$T/jose-$alg.pop" -replay-db "$T/replay.db"
    expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/jose-$alg.jwk" \
        -attestation "$T/jose-$alg.att" -pop "$T/jose-$alg.pop" -replay-db "$T/replay.db"
    grep -q AVOW_ERR_OAUTH_REPLAY "$T/err" || fail "$alg: replay not refused"
    # another attester's key
    other=ES256
    [ "$alg" = ES256 ] && other=ES384
    expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/jose-$other.jwk" \
        -attestation "$T/jose-$alg.att" -pop "$T/jose-$alg.pop"
    # the PoP for the attestation's place, and the wrong session challenge
    expect_rc 3 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/jose-$alg.jwk" \
        -attestation "$T/jose-$alg.pop" -pop "$T/jose-$alg.pop"
    grep -q AVOW_ERR_OAUTH_TYP "$T/err" || fail "$alg: PoP taken as an attestation"
    expect_rc 1 "$AVOW" oauth verify -aud "$AS" -attester-key "$T/jose-$alg.jwk" \
        -attestation "$T/jose-$alg.att" -pop "$T/jose-$alg.pop" -challenge session-2
    grep -q use_attestation_challenge "$T/err" || fail "$alg: challenge not checked"
done
echo ok
