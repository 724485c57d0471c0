#!/bin/sh
# Two instances of one CA (copies of its directory, each with its own
# ledger) sharing their nonces through one redis-server on 127.0.0.1:
# a nonce issued by one is accepted once by either, refused as a replay by
# the other, and raced by both at once it is accepted exactly once. The
# ledger of the instance that issued holds the certificate. With Redis down
# the CA is busy (exit 8) and issues nothing.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

REDIS=$(command -v redis-server || true)
[ -n "$REDIS" ] || [ ! -x /usr/bin/redis-server ] || REDIS=/usr/bin/redis-server
if [ -z "$REDIS" ]; then
    echo "SKIP: redis-server is not installed (scripts/deps test installs it)" >&2
    exit 77
fi
if ! "$AVOW" csr create --help >/dev/null 2>&1; then
    echo "SKIP: avow csr create is not available" >&2
    exit 77
fi

# A port of our own: try a few until one server stays up.
RPID=""
stop_redis() {
    [ -z "$RPID" ] || { kill "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; }
    RPID=""
}
trap 'stop_redis; rm -rf "$T"' EXIT INT TERM
mkdir "$T/redis"
start_redis() {
    "$REDIS" --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$T/redis" \
        --logfile "$T/redis/log" --daemonize no &
    RPID=$!
    i=0
    while [ $i -lt 600 ]; do
        if ! kill -0 "$RPID" 2>/dev/null; then RPID=""; return 1; fi
        grep -q "Ready to accept connections" "$T/redis/log" 2>/dev/null && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
PORT=""
for try in 1 2 3 4 5; do
    PORT=$((20000 + ($$ * 7 + try * 997) % 40000))
    : >"$T/redis/log"
    start_redis && break
    stop_redis
    PORT=""
done
[ -n "$PORT" ] || { cat "$T/redis/log" >&2; fail "redis-server did not start"; }
STORE="redis://127.0.0.1:$PORT/0?prefix=avow-cli-test"

make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
evidence() {
    spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "device-key", "spki": {"hex": "$spki"}, "extractable": false, "sensitive": true,
           "never-extractable": true, "local": true}]}
JSON
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$1" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ev.pem"
    expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject "CN=device 1" -evidence "$T/ev.pem" \
        -chain "$T/int.pem" -out "$2"
}

A="$T/ca-a"
B="$T/ca-b"
expect_rc 0 "$AVOW" ca init -dir "$A"
cp -a "$A" "$B"
if "$AVOW" ca nonce -dir "$A" -store "redis://127.0.0.1:1" 2>&1 | grep -q "without Redis"; then
    echo "SKIP: this avow was built without Redis (AVOW_WITH_REDIS=OFF)" >&2
    exit 77
fi

# --- a nonce from A, used through B, replayed through A ---
expect_rc 0 "$AVOW" ca nonce -dir "$A" -store "$STORE"
evidence "$(cat "$T/out")" "$T/req1.pem"
# A's own SQLite store never saw it: the store is what makes the instances one CA.
expect_rc 1 "$AVOW" ca issue -dir "$A" -in "$T/req1.pem" -CAfile "$T/root.pem" --json
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_NONCE_UNKNOWN") != null' "$T/out" \
    >/dev/null || { cat "$T/out"; fail "a Redis nonce was known to the SQLite store"; }
expect_rc 0 "$AVOW" ca issue -dir "$B" -store "$STORE" -in "$T/req1.pem" -CAfile "$T/root.pem" \
    -out "$T/cert1.pem"
expect_rc 1 "$AVOW" ca issue -dir "$A" -store "$STORE" -in "$T/req1.pem" -CAfile "$T/root.pem" \
    -out "$T/again.pem" --json
jq -e '[.submods[].avow_reasons[]?.code] | index("AVOW_ERR_NONCE_REPLAY") != null' "$T/out" \
    >/dev/null || { cat "$T/out"; fail "replay through the other instance not refused"; }
[ ! -e "$T/again.pem" ] || fail "a certificate for a replayed nonce"
expect_rc 1 "$AVOW" ca issue -dir "$B" -store "$STORE" -in "$T/req1.pem" -CAfile "$T/root.pem"

# The ledger of the instance that issued holds the certificate.
SN=$(openssl x509 -in "$T/cert1.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
expect_rc 0 "$AVOW" ca show -dir "$B" -store "$STORE" -serial "$SN"
expect_rc 1 "$AVOW" ca show -dir "$A" -serial "$SN"

# --- both instances race for each of five nonces: one certificate each time ---
for round in 1 2 3 4 5; do
    expect_rc 0 "$AVOW" ca nonce -dir "$B" -store "$STORE"
    evidence "$(cat "$T/out")" "$T/race.pem"
    set +e
    "$AVOW" ca issue -dir "$A" -store "$STORE" -in "$T/race.pem" -CAfile "$T/root.pem" \
        -out "$T/race-a.pem" >"$T/race-a.out" 2>&1 &
    pa=$!
    "$AVOW" ca issue -dir "$B" -store "$STORE" -in "$T/race.pem" -CAfile "$T/root.pem" \
        -out "$T/race-b.pem" >"$T/race-b.out" 2>&1 &
    pb=$!
    wait $pa
    ra=$?
    wait $pb
    rb=$?
    set -e
    won=0
    [ $ra -ne 0 ] || won=$((won + 1))
    [ $rb -ne 0 ] || won=$((won + 1))
    [ $won -eq 1 ] || { cat "$T/race-a.out" "$T/race-b.out" >&2; fail "round $round: $won winners"; }
    n=$(ls "$T"/race-?.pem 2>/dev/null | wc -l)
    [ "$n" -eq 1 ] || fail "round $round: $n certificates"
    rm -f "$T/race-a.pem" "$T/race-b.pem"
done

# --- a bad store URI is refused, never a silent fallback to DIR/nonces.db ---
expect_rc 2 "$AVOW" ca nonce -dir "$A" -store "memcached://127.0.0.1"
grep -q "store URI" "$T/err" || { cat "$T/err"; fail "bad URI not named"; }

# --- Redis down: busy, nothing issued, the nonce not spent ---
expect_rc 0 "$AVOW" ca nonce -dir "$A" -store "$STORE"
evidence "$(cat "$T/out")" "$T/req2.pem"
stop_redis
expect_rc 8 "$AVOW" ca issue -dir "$A" -store "$STORE" -in "$T/req2.pem" -CAfile "$T/root.pem" \
    -out "$T/down.pem"
grep -q "AVOW_ERR_STORE_BUSY" "$T/err" || { cat "$T/err"; fail "Redis down not busy"; }
[ ! -e "$T/down.pem" ] || fail "a certificate while the store was down"
echo "ok"
