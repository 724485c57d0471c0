#!/bin/sh
# avow serve under hostile HTTP: oversized bodies (declared and chunked),
# oversized headers, slow clients, raw garbage, bad base64, wrong media
# types, path tricks, huge and deep JSON, odd methods. Each is answered 4xx
# (or the connection dropped) and the service answers /healthz afterwards.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

make_ca
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "anchors": ["$T/root.pem"],
 "limits": {"body_bytes": 16384, "header_bytes": 8192, "request_seconds": 2, "threads": 2,
            "connections": 64}}
JSON
start_server "$T/serve.json"
alive
COUNT=0
# hostile WANT... -- METHOD PATH [curl options]: the status must be one of WANT
hostile() {
    want=""
    while [ "$1" != "--" ]; do
        want="$want $1"
        shift
    done
    shift
    http "$@"
    ok=0
    for w in $want; do [ "$STATUS" = "$w" ] && ok=1; done
    [ $ok -eq 1 ] || { cat "$T/body" >&2 2>/dev/null || true; fail "HTTP $STATUS, wanted one of$want: $*"; }
    COUNT=$((COUNT + 1))
    LAST=$STATUS
    alive
}
ENROLL=/.well-known/est/simpleenroll
P10='Content-Type: application/pkcs10'
JS='Content-Type: application/est-attestation-freshness+json'

# bodies over the limit: declared, chunked, and an endless stream cut by the answer
head -c 300000 /dev/zero | tr '\0' 'A' >"$T/big"
http POST "$ENROLL" -H "$P10" --data-binary "@$T/big"
expect_status 413
grep -q '"code":"AVOW_ERR_TOO_LARGE"' "$T/body" || fail "413 without its problem"
hostile 413 -- POST "$ENROLL" -H "$P10" --data-binary "@$T/big"
# a chunked body has no length to refuse up front: past the limit the connection is closed
hostile 413 000 -- POST "$ENROLL" -H "$P10" -H 'Transfer-Encoding: chunked' --data-binary "@$T/big"
head -c 16385 /dev/zero | tr '\0' 'A' >"$T/edge"
hostile 413 -- POST "$ENROLL" -H "$P10" --data-binary "@$T/edge"
hostile 413 -- POST /.well-known/est/nonce -H "$JS" -H 'Content-Length: 99999999999' --data-binary 'x'
# headers over the memory limit: one long, many short
long=$(head -c 20000 /dev/zero | tr '\0' 'h')
hostile 413 431 400 000 -- GET /healthz -H "X-Long: $long"
many=""
i=0
while [ $i -lt 400 ]; do many="$many -H X-H$i:vvvvvvvvvvvvvvvvvvvv"; i=$((i + 1)); done
# shellcheck disable=SC2086
hostile 413 431 400 000 -- GET /healthz $many
hostile 414 413 431 400 404 000 -- GET "/$(head -c 12000 /dev/zero | tr '\0' 'p')"
# bad base64
for b in '====' 'QQ=Q' '@@@@' 'QUJD' 'QUI' "$(printf 'QU\001JD')" ' '; do
    hostile 400 -- POST "$ENROLL" -H "$P10" --data-binary "$b"
done
hostile 400 -- POST "$ENROLL" -H "$P10" --data-binary ''
# base64 of garbage DER
hostile 400 -- POST "$ENROLL" -H "$P10" --data-binary "$(head -c 600 /dev/urandom | base64 | tr -d '\n')"
hostile 400 -- POST "$ENROLL" -H "$P10" --data-binary 'MAA='
# media types
hostile 415 -- POST "$ENROLL" --data-binary 'QUJD'
hostile 415 -- POST "$ENROLL" -H 'Content-Type: application/json' --data-binary 'QUJD'
hostile 415 -- POST "$ENROLL" -H 'Content-Type: application/pkcs10x' --data-binary 'QUJD'
hostile 415 -- POST /.well-known/est/nonce -H 'Content-Type: text/html' --data '{}'
hostile 415 -- POST /challenge-response/v1/session/AAAAAAAAAAAAAAAAAAAAAA -H 'Content-Type: text/plain' --data 'x'
# path tricks: nothing outside the routes answers but 404
for path in /.well-known/est/../est/cacerts //healthz /.well-known/est/cacerts/ \
    /.well-known/est/%2e%2e/cacerts /.well-known/est/cacerts%00 /.well-known/est/cacerts/x \
    /.well-known/EST/cacerts /challenge-response/v1/session/ /challenge-response/v1/session/..%2fnewSession \
    /challenge-response/v1/session/%00 "/.well-known/est/cacerts?x=$(head -c 3000 /dev/zero | tr '\0' y)"; do
    hostile 404 400 200 -- GET "$path" --path-as-is
    case $path in /.well-known/est/cacerts\?*) ;; *) [ "$LAST" != 200 ] || fail "$path answered 200" ;; esac
done
# JSON: huge, deep, duplicated, wrong types, NUL
head -c 15000 /dev/zero | tr '\0' '[' >"$T/deep"
hostile 400 413 -- POST /.well-known/est/nonce -H "$JS" --data-binary "@$T/deep"
{ printf '{"len": 16, "reqTypeInfo": {"type": "'; head -c 15000 /dev/zero | tr '\0' 'a'; printf '"}}'; } >"$T/huge.json"
hostile 400 413 -- POST /.well-known/est/nonce -H "$JS" --data-binary "@$T/huge.json"
hostile 400 -- POST /.well-known/est/nonce -H "$JS" --data '{"len": "16"}'
hostile 400 -- POST /.well-known/est/nonce -H "$JS" --data '{"len": 1e400}'
hostile 400 -- POST /.well-known/est/nonce -H "$JS" --data '{"len": 16, "reqTypeInfo": 5}'
hostile 400 -- POST /.well-known/est/nonce -H "$JS" --data "$(printf '{"len": 16}\\u0000')"
hostile 400 -- POST /.well-known/est/nonce -H "$JS" --data '{"len": 16} {"len": 16}'
# methods
hostile 405 -- PUT /.well-known/est/cacerts
hostile 405 -- DELETE "$ENROLL"
hostile 405 400 501 -- FOO /healthz
hostile 405 -- PUT /challenge-response/v1/session/AAAAAAAAAAAAAAAAAAAAAA
# Basic credentials where none are configured are ignored, not parsed into trouble
hostile 415 -- POST "$ENROLL" -H 'Authorization: Basic !!!!' --data 'x'

# raw TCP: garbage, a request line only, a slow client dropped by request_seconds
raw() {
    curl -s --max-time "$1" "telnet://127.0.0.1:$PORT" >"$T/raw" 2>/dev/null || true
    COUNT=$((COUNT + 1))
}
printf 'GARBAGE\r\n\r\n' | raw 3
# answered 400 or dropped, never anything else
[ ! -s "$T/raw" ] || grep -q '^HTTP/1.1 400' "$T/raw" || { cat "$T/raw"; fail "garbage request line"; }
alive
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n' | raw 3
[ ! -s "$T/raw" ] || grep -q '^HTTP/1.1 4' "$T/raw" || { cat "$T/raw"; fail "negative Content-Length"; }
alive
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n' | raw 3
alive
conns() {
    http GET /metrics
    sed -n 's/^avow_http_connections //p' "$T/body"
}
(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n'; sleep 6) | raw 8 &
slow=$!
sleep 0.5
[ "$(conns)" -ge 2 ] || fail "the slow client's connection is not counted"
sleep 3
[ "$(conns)" -eq 1 ] || fail "a slow client held its connection past request_seconds"
wait "$slow" || true
alive
# a body that trickles in (never idle) is cut at request_seconds from the start
{ printf '{"len": 16}'; head -c 4000 /dev/zero | tr '\0' ' '; } >"$T/trickle.json"
start=$(date +%s)
STATUS=$(curl -s -o /dev/null -w '%{http_code}' --limit-rate 500 -H "$JS" --data-binary "@$T/trickle.json" \
    "$BASE/.well-known/est/nonce") || STATUS=000
took=$(($(date +%s) - start))
[ "$STATUS" = 000 ] && [ "$took" -lt 6 ] || fail "a trickling body was not cut ($STATUS after $took s)"
COUNT=$((COUNT + 1))
alive
# a burst of slow clients does not stop the others
i=0
pids=""
while [ $i -lt 20 ]; do
    (printf 'POST /.well-known/est/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{'; sleep 3) | raw 5 &
    pids="$pids $!"
    i=$((i + 1))
done
sleep 0.5
alive
for p in $pids; do wait "$p" || true; done
COUNT=$((COUNT + 20))
[ "$COUNT" -ge 40 ] || fail "only $COUNT hostile requests"
alive
stop_server_clean
echo "ok ($COUNT hostile requests)"
