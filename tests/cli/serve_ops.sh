#!/bin/sh
# avow serve, operations: TLS through libmicrohttpd's GnuTLS back end (curl
# checks the server certificate), HTTP Basic authentication of enrolling
# clients from a users file of PBKDF2 hashes made with `openssl kdf`, TLS
# client certificates judged by OpenSSL against est.client_ca, a
# truncated TLS handshake, configuration refusals, and SIGTERM: a request in
# progress is answered, new connections are refused, exit 0.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

make_ca
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
# the server's TLS certificate, for 127.0.0.1
keygen "$T/tls.key" ec256
openssl req -x509 -new -key "$T/tls.key" -subj "/CN=127.0.0.1" -days 2 \
    -addext "subjectAltName=IP:127.0.0.1" -out "$T/tls.pem" 2>/dev/null
# users: alice with a PBKDF2-HMAC-SHA256 hash
SALT=0011223344556677
hash=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:wonderland \
    -kdfopt hexsalt:$SALT -kdfopt iter:10000 PBKDF2 | tr -d ':\n' | tr 'A-F' 'a-f')
[ ${#hash} -eq 64 ] || fail "openssl kdf: $hash"
printf '# avow serve users\nalice:pbkdf2-sha256:10000:%s:%s\n' "$SALT" "$hash" >"$T/users"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "tls": {"cert": "$T/tls.pem", "key": "$T/tls.key"}, "anchors": ["$T/root.pem"],
 "est": {"auth": "basic", "users": "$T/users"}, "limits": {"body_bytes": 65536}}
JSON
start_server "$T/serve.json"
BASE=https://127.0.0.1:$PORT
TLSOPT="--cacert $T/tls.pem"
# shellcheck disable=SC2086
http GET /healthz $TLSOPT
expect_status 200
# plain HTTP to the TLS port is not served
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz") || true
[ "$STATUS" != 200 ] || fail "plain HTTP answered on the TLS port"
# a certificate curl does not trust is refused by curl
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz") || true
[ "$STATUS" = 000 ] || fail "curl trusted an unknown server certificate"
# truncated and garbage TLS handshakes
printf '\026\003\001\000\200\001\000\000' | curl -s --max-time 3 "telnet://127.0.0.1:$PORT" >/dev/null 2>&1 || true
head -c 3000 /dev/urandom | curl -s --max-time 3 "telnet://127.0.0.1:$PORT" >/dev/null 2>&1 || true
# shellcheck disable=SC2086
http GET /healthz $TLSOPT
expect_status 200

# --- Basic authentication on the nonce and enrolment, not on cacerts ---
JS='Content-Type: application/est-attestation-freshness+json'
# shellcheck disable=SC2086
http GET /.well-known/est/cacerts $TLSOPT
expect_status 200
# shellcheck disable=SC2086
http POST /.well-known/est/nonce $TLSOPT -H "$JS" --data '{}'
expect_status 401
grep -qi '^www-authenticate: Basic' "$T/hdr" || fail "401 without WWW-Authenticate"
jq -e '.code == "AVOW_ERR_AUTH"' "$T/body" >/dev/null || fail "401 problem"
for cred in alice:wrong bob:wonderland alice: :wonderland alice:wonderlandx; do
    # shellcheck disable=SC2086
    http POST /.well-known/est/nonce $TLSOPT -H "$JS" --data '{}' -u "$cred"
    expect_status 401
done
for h in 'Basic' 'Basic !!!!' 'Bearer abc' "Basic $(printf 'alice' | base64)"; do
    # shellcheck disable=SC2086
    http POST /.well-known/est/nonce $TLSOPT -H "$JS" --data '{}' -H "Authorization: $h"
    expect_status 401
done
# shellcheck disable=SC2086
http POST /.well-known/est/nonce $TLSOPT -H "$JS" --data '{}' -u alice:wonderland
expect_status 200
# shellcheck disable=SC2086
http POST /.well-known/est/simpleenroll $TLSOPT -H 'Content-Type: application/pkcs10' --data 'QUJD'
expect_status 401
# shellcheck disable=SC2086
http POST /.well-known/est/simpleenroll $TLSOPT -H 'Content-Type: application/pkcs10' --data 'QUJD' -u alice:wonderland
expect_status 400

# --- SIGTERM: the request in progress is answered, then exit 0 ---
{ printf '{"len": 16}'; head -c 3000 /dev/zero | tr '\0' ' '; } >"$T/slow.json"
curl -s -o "$T/slow.out" -w '%{http_code}' --limit-rate 1000 $TLSOPT -u alice:wonderland \
    -H "$JS" --data-binary "@$T/slow.json" "$BASE/.well-known/est/nonce" >"$T/slow.status" &
slow=$!
sleep 1
kill -TERM "$SERVER_PID"
sleep 0.5
STATUS=$(curl -s -o /dev/null -w '%{http_code}' $TLSOPT --max-time 2 "$BASE/healthz") || true
[ "$STATUS" = 000 ] || fail "a new connection was served while draining ($STATUS)"
wait "$slow" || true
[ "$(cat "$T/slow.status")" = 200 ] || fail "the request in progress was not answered: $(cat "$T/slow.status")"
jq -e '.nonce | length == 22' "$T/slow.out" >/dev/null || fail "drained answer"
set +e
wait "$SERVER_PID"
rc=$?
set -e
SERVER_PID=
[ $rc -eq 0 ] || fail "avow serve exited $rc after SIGTERM"
grep -q "avow serve: stopped" "$T/serve.err" || fail "no stop message"

# --- TLS client certificates (est.auth "tls-client"), judged by OpenSSL ---
keygen "$T/cca.key" ec256
openssl req -x509 -new -key "$T/cca.key" -subj "/CN=client CA" -days 2 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -out "$T/cca.pem" 2>/dev/null
# client NAME CA: a TLS-client certificate for NAME issued by CA (cca or tls, the wrong one)
client() {
    keygen "$T/$1.key" ec256
    openssl req -new -key "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
    printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "${3:-clientAuth}" >"$T/$1.ext"
    openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" -CAcreateserial -days 2 \
        -extfile "$T/$1.ext" -out "$T/$1.pem" 2>/dev/null
}
client dev1 cca
client stranger tls
client server1 cca serverAuth
cat >"$T/mtls.json" <<JSON
{"ca": "$CA", "tls": {"cert": "$T/tls.pem", "key": "$T/tls.key"}, "anchors": ["$T/root.pem"],
 "est": {"auth": "tls-client", "client_ca": "$T/cca.pem"}, "access_log": "$T/mtls.log"}
JSON
rm -f "$T/serve.err"
start_server "$T/mtls.json"
BASE=https://127.0.0.1:$PORT
# shellcheck disable=SC2086
http POST /.well-known/est/nonce $TLSOPT -H "$JS" --data '{}'
expect_status 401
jq -e '.code == "AVOW_ERR_AUTH" and (.detail | test("no client certificate"))' "$T/body" >/dev/null ||
    { cat "$T/body"; fail "no certificate"; }
# shellcheck disable=SC2086
http POST /.well-known/est/nonce $TLSOPT -H "$JS" --data '{}' --cert "$T/dev1.pem" --key "$T/dev1.key"
expect_status 200
for who in stranger server1; do
    # shellcheck disable=SC2086
    http POST /.well-known/est/nonce $TLSOPT -H "$JS" --data '{}' --cert "$T/$who.pem" --key "$T/$who.key"
    expect_status 401
done
# shellcheck disable=SC2086
http GET /.well-known/est/cacerts $TLSOPT
expect_status 200
grep -q '"user":"dev1"' "$T/mtls.log" || fail "the client certificate's name is not logged"
stop_server_clean
printf '{"ca": "%s", "plain_http": true, "anchors": ["%s"], "est": {"auth": "tls-client", "client_ca": "%s"}}' \
    "$CA" "$T/root.pem" "$T/cca.pem" >"$T/mtls-plain.json"
expect_rc 1 "$AVOW" serve -config "$T/mtls-plain.json"
grep -q 'needs TLS' "$T/err" || fail "tls-client over plain HTTP not refused"

# --- configuration refusals ---
expect_rc 2 "$AVOW" serve
printf '{"ca": "%s", "anchors": ["%s"]}' "$CA" "$T/root.pem" >"$T/notls.json"
expect_rc 1 "$AVOW" serve -config "$T/notls.json"
grep -q "plain HTTP" "$T/err" || fail "no TLS and no plain_http not refused"
printf '{"ca": "%s", "plain_http": true, "anchors": ["%s"], "limitz": {}}' "$CA" "$T/root.pem" >"$T/typo.json"
expect_rc 1 "$AVOW" serve -config "$T/typo.json"
grep -q 'unknown member' "$T/err" || fail "unknown member not refused"
printf '{"ca": "%s", "plain_http": true, "anchors": ["%s"], "store": "redis"}' "$CA" "$T/root.pem" >"$T/redis.json"
expect_rc 1 "$AVOW" serve -config "$T/redis.json"
grep -q 'store' "$T/err" || fail "store redis not refused"
printf '{"ca": "%s", "plain_http": true}' "$CA" >"$T/noanchor.json"
expect_rc 1 "$AVOW" serve -config "$T/noanchor.json"
grep -q 'anchors' "$T/err" || fail "no anchors not refused"
printf '{"ca": "%s", "plain_http": true, "anchors": ["%s"], "est": {"auth": "basic"}}' "$CA" "$T/root.pem" >"$T/nousers.json"
expect_rc 1 "$AVOW" serve -config "$T/nousers.json"
printf 'alice:pbkdf2-sha256:10:00112233:00\n' >"$T/badusers"
printf '{"ca": "%s", "plain_http": true, "anchors": ["%s"], "est": {"auth": "basic", "users": "%s"}}' \
    "$CA" "$T/root.pem" "$T/badusers" >"$T/badusers.json"
expect_rc 1 "$AVOW" serve -config "$T/badusers.json"
grep -q 'pbkdf2-sha256' "$T/err" || fail "bad users file not refused"
expect_rc 1 "$AVOW" serve -ca "$CA" -CAfile "$T/root.pem" -plain-http -listen 127.0.0.1:99999
expect_rc 1 "$AVOW" serve -ca "$CA" -CAfile "$T/root.pem" -plain-http -listen localhost:80
echo ok
