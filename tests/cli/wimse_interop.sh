#!/bin/sh
# WIMSE credentials across implementations: a WIT and a WPT that avow made
# (avow serve's identity server after an affirming appraisal of a SoftHSM2
# workload key; the WPT by `avow wimse proof` in the token) verify with npm
# `jose` (jwtVerify with the issuer key, then with the WIT's cnf.jwk, and
# the wth hash recomputed); a WIT and a WPT that jose made with its own keys
# (its issuer key configured in wimse.issuer_keys) verify at avow serve's
# /wimse/check and with `avow wimse verify`, and a jose WPT by another key
# is refused. The WIC passes `openssl verify` against the CA, and python3's
# `cryptography` finds exactly one URI subjectAltName, the identifier.
# Skips (77) without SoftHSM2, node/npm or a registry.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"
. "$TESTS_DIR/cli/lib/serve.sh"
"$AVOW" wimse --help >/dev/null 2>&1 || { echo "SKIP: this avow has no wimse command yet"; exit 77; }

softhsm_token avow-wimse-interop
command -v node >/dev/null 2>&1 || { echo "skip: no node"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "skip: no npm"; exit 77; }
PY=/usr/bin/python3
"$PY" -c 'import cryptography' 2>/dev/null || { echo "skip: python3-cryptography not installed"; exit 77; }
if ! npm install --prefix "$T/npm" --no-audit --no-fund --no-package-lock --silent \
    --fetch-retries=1 --fetch-timeout=30000 jose >"$T/npm.log" 2>&1; then
    cat "$T/npm.log" >&2
    echo "skip: npm install jose failed (registry unreachable?)"
    exit 77
fi

P="-pin-source env:AVOW_TEST_PIN"
ISS=https://ids.example.org
AUD=https://api.example.org/orders
AUDQ=https%3A%2F%2Fapi.example.org%2Forders

# --- the device and the service (issuer key a file, jose's issuer key trusted too) ---
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=ak" -id a1 $P -pubout "$T/ak.pub"
expect_rc 0 "$AVOW" keygen -uri "$TOK;object=wl" -id b1 $P -pubout "$T/wl.pub"
token_ak_cert root
keygen "$T/issuer.key" ec256
openssl pkey -in "$T/issuer.key" -pubout -out "$T/issuer.pub" 2>/dev/null
keygen "$T/jose-issuer.key" ec256
openssl pkey -in "$T/jose-issuer.key" -pubout -out "$T/jose-issuer.pub" 2>/dev/null
keygen "$T/jose-wl.key" ec256
keygen "$T/jose-other.key" ec256
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
cat >"$T/idmap.json" <<'JSON'
{"identifiers": [{"when": {"pkix:hwmodel": "SoftHSM v2"},
                  "uri": "spiffe://example.org/hsm/{pkix:hwserial}"}]}
JSON
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true,
 "wimse": {"issuer": "$ISS", "idmap": "$T/idmap.json", "issuer_key": "$T/issuer.key",
           "issuer_keys": ["$T/jose-issuer.pub"], "trust_domain": "example.org"}}
JSON
start_server "$T/serve.json" -CAfile "$T/root.crt"

# --- avow makes the WIT, the WIC and the WPT ---
http GET /.well-known/est/nonce
expect_status 200
N=$(b64url_hex "$(jq -r .nonce "$T/body")")
token_evidence wl "$N" "$T/ev.der" -outform DER
expect_rc 0 "$AVOW" csr create -key "$TOK;object=wl" $P -subject "CN=workload" \
    -evidence "$T/ev.der" -outform DER -out "$T/req.der"
jq -n --arg c "$(base64 -w0 "$T/req.der")" '{csr: $c}' >"$T/req.json"
http POST /wimse/issue -H 'Content-Type: application/json' --data-binary "@$T/req.json"
expect_status 200
ID=$(jq -r .identifier "$T/body")
jq -r .wit "$T/body" | tr -d '\n' >"$T/wit.txt"
jq -r .wic "$T/body" >"$T/wic.pem"
expect_rc 0 "$AVOW" wimse proof -key "$TOK;object=wl" $P -wit "$T/wit.txt" -aud "$AUD" -out "$T/wpt.txt"

cat >"$T/npm/check.mjs" <<'JS'
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import * as jose from "jose";

const [issuerPub, witFile, wptFile, iss, aud] = process.argv.slice(2);
const wit = readFileSync(witFile, "utf8").trim();
const wpt = readFileSync(wptFile, "utf8").trim();
const issuer = await jose.importSPKI(readFileSync(issuerPub, "utf8"), "ES256");
const w = await jose.jwtVerify(wit, issuer, { issuer: iss, typ: "wit+jwt", requiredClaims: ["exp", "sub"] });
const jwk = w.payload.cnf.jwk;
if (!jwk.alg || jwk.d) throw new Error("cnf.jwk without alg, or private");
const cnf = await jose.importJWK(jwk, jwk.alg);
const p = await jose.jwtVerify(wpt, cnf, { audience: aud, typ: "wpt+jwt", algorithms: [jwk.alg],
                                           requiredClaims: ["exp", "jti", "wth"] });
const wth = createHash("sha256").update(wit, "ascii").digest("base64url");
if (p.payload.wth !== wth) throw new Error(`wth ${p.payload.wth} is not ${wth}`);
console.log(w.payload.sub);
JS
cat >"$T/npm/make.mjs" <<'JS'
import { readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import * as jose from "jose";

const [issKey, wlKey, signKey, sub, iss, aud, out] = process.argv.slice(2);
const pkcs8 = (f) => jose.importPKCS8(readFileSync(f, "utf8"), "ES256", { extractable: true });
const issuer = await pkcs8(issKey);
const workload = await pkcs8(wlKey);
const signer = await pkcs8(signKey);
const pub = await jose.exportJWK(workload);
delete pub.d;
pub.alg = "ES256";
const now = Math.floor(Date.now() / 1000);
const wit = await new jose.SignJWT({ cnf: { jwk: pub } })
  .setProtectedHeader({ alg: "ES256", typ: "wit+jwt" })
  .setIssuer(iss).setSubject(sub).setIssuedAt(now).setExpirationTime(now + 600)
  .setJti(crypto.randomUUID()).sign(issuer);
const wth = createHash("sha256").update(wit, "ascii").digest("base64url");
const wpt = await new jose.SignJWT({ wth })
  .setProtectedHeader({ alg: "ES256", typ: "wpt+jwt" })
  .setAudience(aud).setIssuedAt(now).setExpirationTime(now + 60)
  .setJti(crypto.randomUUID()).sign(signer);
writeFileSync(out + ".wit", wit);
writeFileSync(out + ".wpt", wpt);
JS

# avow -> jose
sub=$(node "$T/npm/check.mjs" "$T/issuer.pub" "$T/wit.txt" "$T/wpt.txt" "$ISS" "$AUD" 2>"$T/node.err") ||
    fail "jose refused avow's WIT/WPT: $(cat "$T/node.err")"
[ "$sub" = "$ID" ] || fail "jose read sub $sub, not $ID"
# jose's check can fail: the WPT against another audience
if node "$T/npm/check.mjs" "$T/issuer.pub" "$T/wit.txt" "$T/wpt.txt" "$ISS" https://else.example 2>/dev/null; then
    fail "jose accepted a WPT for another audience"
fi

# jose -> avow: a WIT by jose's issuer key, a WPT by the workload key jose holds
JID=spiffe://example.org/jose/workload-1
node "$T/npm/make.mjs" "$T/jose-issuer.key" "$T/jose-wl.key" "$T/jose-wl.key" "$JID" "$ISS" "$AUD" "$T/j1" ||
    fail "jose could not sign"
http POST "/wimse/check?url=$AUDQ" -H "Workload-Identity-Token: $(cat "$T/j1.wit")" \
    -H "Workload-Proof-Token: $(cat "$T/j1.wpt")"
expect_status 200
jq -e --arg i "$JID" '.authenticated == true and .identifier == $i' "$T/body" >/dev/null ||
    fail "jose pair at /wimse/check: $(cat "$T/body")"
node "$T/npm/make.mjs" "$T/jose-issuer.key" "$T/jose-wl.key" "$T/jose-wl.key" "$JID" "$ISS" "$AUD" "$T/j2" ||
    fail "jose could not sign"
expect_rc 0 "$AVOW" wimse verify -wit "$T/j2.wit" -wpt "$T/j2.wpt" -aud "$AUD" \
    -issuer-key "$T/jose-issuer.pub" -issuer "$ISS" -json
jq -e --arg i "$JID" '.authenticated == true and .identifier == $i' "$T/out" >/dev/null ||
    fail "avow wimse verify on jose's pair: $(cat "$T/out" "$T/err")"
# a jose WPT signed by a key that is not the WIT's cnf: refused
node "$T/npm/make.mjs" "$T/jose-issuer.key" "$T/jose-wl.key" "$T/jose-other.key" "$JID" "$ISS" "$AUD" "$T/j3" ||
    fail "jose could not sign"
http POST "/wimse/check?url=$AUDQ" -H "Workload-Identity-Token: $(cat "$T/j3.wit")" \
    -H "Workload-Proof-Token: $(cat "$T/j3.wpt")"
expect_status 401
jq -e '.code == "AVOW_ERR_WIMSE_WPT_SIG"' "$T/body" >/dev/null || fail "foreign WPT key: $(cat "$T/body")"
# a jose WIT by an issuer nobody configured: refused
node "$T/npm/make.mjs" "$T/jose-other.key" "$T/jose-wl.key" "$T/jose-wl.key" "$JID" "$ISS" "$AUD" "$T/j4" ||
    fail "jose could not sign"
http POST "/wimse/check?url=$AUDQ" -H "Workload-Identity-Token: $(cat "$T/j4.wit")" \
    -H "Workload-Proof-Token: $(cat "$T/j4.wpt")"
expect_status 401
jq -e '.code == "AVOW_ERR_WIMSE_ISSUER"' "$T/body" >/dev/null || fail "untrusted issuer: $(cat "$T/body")"

# --- the WIC: openssl and python3 cryptography ---
openssl verify -CAfile "$CA/ca.crt" "$T/wic.pem" >"$T/verify.out" 2>&1 ||
    fail "openssl verify: $(cat "$T/verify.out")"
openssl verify -CAfile "$T/root.crt" "$T/wic.pem" >/dev/null 2>&1 && fail "the WIC verified under another root"
"$PY" - "$T/wic.pem" "$ID" <<'PY' || fail "python3 cryptography: the WIC's URI SAN"
import sys
from cryptography import x509
cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
uris = san.get_values_for_type(x509.UniformResourceIdentifier)
if uris != [sys.argv[2]]:
    sys.exit("URI SANs %r, want exactly [%r]" % (uris, sys.argv[2]))
PY
stop_server_clean
echo "wimse_interop: ok"
