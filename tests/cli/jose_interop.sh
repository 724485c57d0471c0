#!/bin/sh
# JOSE interop with the npm `jose` library under Node: EAR JWTs made by
# `avow csr verify -ear-key` verify with jose's jwtVerify (ES256, ES384,
# PS256, EdDSA; the key handed over as avow's JWK and as SPKI PEM), and JWTs
# signed by jose with typ eat+jwt over an EAR-shaped payload verify with
# avow (through tests/tools/jose_tool, key as jose's JWK and as PEM).
# Skips (77) without node/npm or when the npm registry cannot be reached.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

: "${AVOW_JOSE_TOOL:?AVOW_JOSE_TOOL must name tests/tools/jose_tool}"
command -v node >/dev/null 2>&1 || { echo "skip: no node"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "skip: no npm"; exit 77; }

# One install per run, into the test's own directory.
if ! npm install --prefix "$T/npm" --no-audit --no-fund --no-package-lock --silent \
    --fetch-retries=1 --fetch-timeout=30000 jose >"$T/npm.log" 2>&1; then
    cat "$T/npm.log" >&2
    echo "skip: npm install jose failed (registry unreachable?)"
    exit 77
fi
node -e 'process.exit(0)' || { echo "skip: node does not run"; exit 77; }

NONCE=00112233445566778899aabbccddeeff

# --- 1. avow signs, jose verifies ---

make_ca
make_ak ak ec256
keygen "$T/req.key" ec256
spki=$(openssl pkey -in "$T/req.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
printf '{"keys":[{"identifier":"k","spki":{"hex":"%s"},"extractable":false,"sensitive":true,"never-extractable":true,"local":true}]}\n' \
    "$spki" >"$T/claims.json"
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$NONCE" -vendor Acme \
    -hwmodel HSM-9000 -signkey "$T/ak.key" -signcert "$T/ak.pem" -out "$T/req.ev"
expect_rc 0 "$AVOW" csr create -key "$T/req.key" -subject "CN=interop.example" \
    -evidence "$T/req.ev" -chain "$T/int.pem" -out "$T/req.csr"

keygen "$T/ES256.key" ec256
keygen "$T/ES384.key" ec384
keygen "$T/EdDSA.key" ed25519
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$T/PS256.key" 2>/dev/null
for alg in ES256 ES384 PS256 EdDSA; do
    expect_rc 0 "$AVOW" csr verify -in "$T/req.csr" -CAfile "$T/root.pem" -nonce "$NONCE" \
        -ear-key "$T/$alg.key" -jwt-out "$T/$alg.jwt"
    openssl pkey -in "$T/$alg.key" -pubout -out "$T/$alg.pub" 2>/dev/null
    expect_rc 0 "$AVOW_JOSE_TOOL" jwk "$T/$alg.key"
    cp "$T/out" "$T/$alg.jwk"
done

cat >"$T/npm/verify.mjs" <<'JS'
import { readFileSync } from "node:fs";
import * as jose from "jose";

const [dir, ...algs] = process.argv.slice(2);
const want = { ES256: "EC", ES384: "EC", PS256: "RSA", EdDSA: "OKP" };
for (const alg of algs) {
  const jwt = readFileSync(`${dir}/${alg}.jwt`, "utf8").trim();
  const jwk = JSON.parse(readFileSync(`${dir}/${alg}.jwk`, "utf8"));
  if (jwk.kty !== want[alg]) throw new Error(`${alg}: kty ${jwk.kty}`);
  // The key as avow's JWK, and (where Node takes the SPKI as it is) as PEM.
  const keys = [["jwk", await jose.importJWK(jwk, alg)]];
  if (alg !== "PS256") keys.push(["spki", await jose.importSPKI(readFileSync(`${dir}/${alg}.pub`, "utf8"), alg)]);
  for (const [form, key] of keys) {
    const { payload, protectedHeader } = await jose.jwtVerify(jwt, key, {
      typ: "eat+jwt",
      algorithms: [alg],
    });
    if (protectedHeader.alg !== alg) throw new Error(`${alg}: header alg ${protectedHeader.alg}`);
    if (payload.eat_profile !== "tag:ietf.org,2026:rats/ear#03") throw new Error(`${alg}: eat_profile`);
    if (payload.ear_status !== "affirming") throw new Error(`${alg}: ear_status ${payload.ear_status}`);
    console.log(`${alg} (${form}): verified by jose`);
  }
  // jose agrees on the thumbprint of avow's JWK.
  console.log(`${alg} thumbprint ${await jose.calculateJwkThumbprint(jwk)}`);
}
JS
expect_rc 0 node "$T/npm/verify.mjs" "$T" ES256 ES384 PS256 EdDSA
cat "$T/out"
for alg in ES256 ES384 PS256 EdDSA; do
    grep -q "^$alg (jwk): verified by jose$" "$T/out" || fail "$alg: jose did not verify avow's EAR JWT"
    tp=$("$AVOW_JOSE_TOOL" thumbprint "$T/$alg.key")
    grep -q "^$alg thumbprint $tp$" "$T/out" || fail "$alg: thumbprints differ"
done

# --- 2. jose signs, avow verifies ---

cat >"$T/npm/sign.mjs" <<'JS'
import { writeFileSync } from "node:fs";
import * as jose from "jose";

const [dir, ...algs] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);
const ear = {
  eat_profile: "tag:ietf.org,2026:rats/ear#03",
  iat: now,
  exp: now + 600,
  ear_status: "affirming",
  ear_verifier_id: { developer: "jose-interop", build: "node" },
  submods: { "pkix-evidence": { ear_status: "affirming" } },
};
for (const alg of algs) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, alg === "PS256" ? { modulusLength: 2048 } : {});
  const sign = (typ) => new jose.SignJWT(ear).setProtectedHeader({ alg, typ, kid: "jose-1" }).sign(privateKey);
  writeFileSync(`${dir}/jose-${alg}.jwt`, await sign("eat+jwt"));
  writeFileSync(`${dir}/jose-${alg}-typ.jwt`, await sign("dpop+jwt"));
  writeFileSync(`${dir}/jose-${alg}.jwk`, JSON.stringify(await jose.exportJWK(publicKey)));
  writeFileSync(`${dir}/jose-${alg}.pem`, await jose.exportSPKI(publicKey));
}
JS
expect_rc 0 node "$T/npm/sign.mjs" "$T" ES256 ES384 PS256 RS256 EdDSA
for alg in ES256 ES384 PS256 RS256 EdDSA; do
    for form in jwk pem; do
        expect_rc 0 "$AVOW_JOSE_TOOL" verify-ear "$T/jose-$alg.jwt" "$T/jose-$alg.$form"
        grep -qx affirming "$T/out" || fail "$alg ($form): not read as affirming"
    done
    # Another token's typ is not an EAR's (JWT and eat-jwt are read: tests/cli/ear_verify.sh).
    expect_rc 1 "$AVOW_JOSE_TOOL" verify-ear "$T/jose-$alg-typ.jwt" "$T/jose-$alg.jwk"
    grep -q "jwt.header.typ" "$T/err" || fail "$alg: typ dpop+jwt not refused for its typ"
    # Someone else's key.
    other=ES256
    [ "$alg" = ES256 ] && other=ES384
    expect_rc 1 "$AVOW_JOSE_TOOL" verify-ear "$T/jose-$alg.jwt" "$T/jose-$other.jwk"
done
echo ok
