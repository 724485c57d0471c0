#!/bin/sh
# Two `avow serve` instances of one CA behind one redis-server on 127.0.0.1
# (appendonly yes, appendfsync always): each instance has its own copy of
# the CA directory, so its own SQLite ledger (as on two hosts), and both
# share the Redis nonce store and the EST nonce-cookie key file.
#   (a) 200 rounds: a fresh nonce, and the same attested CSR sent to both
#       instances at once; exactly one certificate per round, the other
#       answer a replay (409).
#   Verifier sessions made by one are known to the other.
#   (b) a load run of parallel curl enrolments through both; SIGKILL one in
#       the middle; every certificate a client received has its row in the
#       ledger of the instance that issued it; the killed instance restarts
#       on the same directory and Redis and serves on.
# Also: a cookie-key file open to others is refused. Skipped (77) without
# redis-server or a Redis build.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

REDIS=$(command -v redis-server || true)
[ -n "$REDIS" ] || [ ! -x /usr/bin/redis-server ] || REDIS=/usr/bin/redis-server
if [ -z "$REDIS" ]; then
    echo "SKIP: redis-server is not installed (scripts/deps test installs it)" >&2
    exit 77
fi
ROUNDS=${AVOW_REDIS_ROUNDS:-200}
LOAD=${AVOW_REDIS_LOAD:-60}

RPID=""
PA=""
PB=""
stop_all() {
    for p in $PA $PB; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $PA $PB; do wait "$p" 2>/dev/null || true; done
    PA=""
    PB=""
    [ -z "$RPID" ] || { kill "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; }
    RPID=""
}
trap 'stop_all; rm -rf "$T"' EXIT INT TERM

# --- redis-server on a port of our own, durable ---
mkdir "$T/redis"
start_redis() {
    "$REDIS" --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync always \
        --dir "$T/redis" --logfile "$T/redis/log" --daemonize no &
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
RPORT=""
for try in 1 2 3 4 5; do
    RPORT=$((20000 + ($$ * 13 + try * 1009) % 40000))
    : >"$T/redis/log"
    start_redis && break
    [ -z "$RPID" ] || { kill "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; }
    RPID=""
    RPORT=""
done
[ -n "$RPORT" ] || { cat "$T/redis/log" >&2; fail "redis-server did not start"; }
# A loaded CI machine (ASan builds on two cores) can stall Redis past the default command timeout.
STORE="redis://127.0.0.1:$RPORT/0?prefix=avow-serve-test&timeout_ms=5000"

# --- one CA, two copies of its directory; attestation PKI; one device key ---
make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
expect_rc 0 "$AVOW" ca init -dir "$T/ca-a" -subject "CN=avow serve redis CA"
if "$AVOW" ca nonce -dir "$T/ca-a" -store "redis://127.0.0.1:1" 2>&1 | grep -q "without Redis"; then
    echo "SKIP: this avow was built without Redis (AVOW_WITH_REDIS=OFF)" >&2
    exit 77
fi
cp -a "$T/ca-a" "$T/ca-b"
openssl rand -out "$T/cookie.key" 32
chmod 600 "$T/cookie.key"
for x in a b; do
    cat >"$T/serve-$x.json" <<JSON
{"ca": "$T/ca-$x", "plain_http": true, "anchors": ["$T/root.pem"], "store": "$STORE",
 "est": {"cookie_key": "$T/cookie.key"}, "limits": {"threads": 4}}
JSON
done

# start X: instance X (a or b) on a port of its own; sets PA/PB and PORT_A/PORT_B.
start() {
    rm -f "$T/port-$1"
    "$AVOW" serve -config "$T/serve-$1.json" -listen 127.0.0.1:0 -port-file "$T/port-$1" \
        2>>"$T/serve-$1.err" &
    pid=$!
    i=0
    while [ ! -s "$T/port-$1" ]; do
        i=$((i + 1))
        if [ $i -gt 1200 ] || ! kill -0 "$pid" 2>/dev/null; then
            cat "$T/serve-$1.err" >&2
            fail "avow serve $1 did not start"
        fi
        sleep 0.05
    done
    if [ "$1" = a ]; then PA=$pid PORT_A=$(cat "$T/port-a"); else PB=$pid PORT_B=$(cat "$T/port-b"); fi
}

# --- a cookie key others may read is refused before anything listens ---
cp "$T/cookie.key" "$T/open.key"
chmod 644 "$T/open.key"
sed "s|$T/cookie.key|$T/open.key|" "$T/serve-a.json" >"$T/open.json"
set +e
"$AVOW" serve -config "$T/open.json" -listen 127.0.0.1:0 >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "a cookie key open to others was taken"
grep -q "est.cookie_key" "$T/err" && grep -q "chmod 600" "$T/err" || { cat "$T/err"; fail "open cookie key"; }

start a
start b

# --- a verifier session made by a is known to b (the sessions are Redis nonces) ---
loc=$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$PORT_A/challenge-response/v1/newSession" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
[ -n "$loc" ] || fail "no session from a"
curl -s "http://127.0.0.1:$PORT_B$loc" >"$T/session.json"
jq -e '.status == "waiting"' "$T/session.json" >/dev/null || { cat "$T/session.json"; fail "b does not know a's session"; }

spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "device-key", "spki": {"hex": "$spki"}, "extractable": false, "sensitive": true,
           "never-extractable": true, "local": true}]}
JSON
# prep.sh K PORT DIR: a fresh EST nonce from the instance at PORT (its cookie in DIR/K.jar) and
# an attested CSR for the device key carrying it, base64 DER in DIR/K.b64; DIR/K.fail on error.
# Requests are made in parallel (xargs -P): the machine is shared, the rounds are independent.
cat >"$T/prep.sh" <<SH
k=\$1 p=\$2 d=\$3
fail() { echo "\$*" >"\$d/\$k.fail"; exit 1; }
# 503 (store busy) is a retry-later answer: a client tries again, so does this one, a few times.
for try in 1 2 3 4 5; do
    s=\$(curl -s -c "\$d/\$k.jar" -X POST -o "\$d/\$k.nonce" -w "%{http_code}" \\
        "http://127.0.0.1:\$p/.well-known/est/nonce") || fail "nonce request"
    [ "\$s" = 503 ] || break
    sleep 1
done
b=\$(jq -r .nonce "\$d/\$k.nonce" | tr '_-' '/+')
[ \${#b} -eq 43 ] || fail "nonce answer \$(cat "\$d/\$k.nonce")"
n=\$(printf '%s=' "\$b" | base64 -d | od -An -v -tx1 | tr -d ' \n')
"$AVOW" evidence create -claims "$T/claims.json" -nonce "\$n" -signkey "$T/ak.key" \
    -signcert "$T/ak.pem" -chain "$T/int.pem" -out "\$d/\$k.ev" >/dev/null 2>"\$d/\$k.err" ||
    fail "evidence create \$(cat "\$d/\$k.err")"
"$AVOW" csr create -key "$T/dev.key" -subject "CN=device \$k,O=avow test" -evidence "\$d/\$k.ev" \
    -chain "$T/int.pem" -outform DER -out "\$d/\$k.der" >/dev/null 2>"\$d/\$k.err" ||
    fail "csr create \$(cat "\$d/\$k.err")"
base64 <"\$d/\$k.der" >"\$d/\$k.b64"
SH
# prep_all DIR COUNT: COUNT requests, nonces alternately from b and a; DIR/plan lists "K X PORT DIR".
prep_all() {
    mkdir "$1"
    k=0
    while [ $k -lt "$2" ]; do
        k=$((k + 1))
        if [ $((k % 2)) -eq 0 ]; then echo "$k a $PORT_A $1"; else echo "$k b $PORT_B $1"; fi
    done >"$1/plan"
    awk '{ print $1, $3, $4 }' "$1/plan" | xargs -P 4 -L 1 sh "$T/prep.sh" || true
    ! ls "$1"/*.fail >/dev/null 2>&1 || { cat "$1"/*.fail >&2; fail "preparing requests"; }
}
# enroll PORT JAR BODY OUT: prints the HTTP status; the body in OUT.
enroll() {
    curl -s -b "$2" -o "$4" -w "%{http_code}" -X POST -H 'Content-Type: application/pkcs10' \
        --data-binary "@$3" "http://127.0.0.1:$1/.well-known/est/simpleenroll" || echo 000
}
# one_req PORT K: one request prepared by hand in $T/one (after the restart).
one_req() {
    mkdir -p "$T/one"
    sh "$T/prep.sh" "$2" "$1" "$T/one" || { cat "$T/one/$2.fail" >&2; fail "preparing a request"; }
}

# --- (a) one nonce, two instances at once, ROUNDS times ---
t0=$(date +%s)
prep_all "$T/race" "$ROUNDS"
# race.sh K DIR: the same request to both instances at once; "K STATUS_A STATUS_B" in DIR/K.res.
cat >"$T/race.sh" <<SH
k=\$1 d=\$2
for x in a b; do
    if [ \$x = a ]; then p=$PORT_A; else p=$PORT_B; fi
    curl -s -b "\$d/\$k.jar" -o "\$d/\$k.\$x.out" -w "%{http_code}" -X POST \
        -H 'Content-Type: application/pkcs10' --data-binary "@\$d/\$k.b64" \
        "http://127.0.0.1:\$p/.well-known/est/simpleenroll" >"\$d/\$k.\$x.st" || echo 000 >"\$d/\$k.\$x.st" &
done
wait
echo "\$k \$(cat "\$d/\$k.a.st") \$(cat "\$d/\$k.b.st")" >"\$d/\$k.res"
SH
t1=$(date +%s)
awk '{ print $1, $4 }' "$T/race/plan" | xargs -P 4 -L 1 sh "$T/race.sh"
wins_a=0
wins_b=0
for f in "$T"/race/*.res; do
    read -r r sa sb <"$f"
    case "$sa/$sb" in
    200/409) wins_a=$((wins_a + 1)); loser="$T/race/$r.b.out" ;;
    409/200) wins_b=$((wins_b + 1)); loser="$T/race/$r.a.out" ;;
    *) cat "$T/race/$r.a.out" "$T/race/$r.b.out" >&2; fail "round $r: statuses $sa and $sb" ;;
    esac
    jq -e '.type == "urn:avow:problem:nonce-replay"' "$loser" >/dev/null ||
        { cat "$loser" >&2; fail "round $r: the loser is not a replay"; }
done
[ $((wins_a + wins_b)) -eq "$ROUNDS" ] || fail "$((wins_a + wins_b)) rounds decided of $ROUNDS"
expect_rc 0 "$AVOW" ca list -dir "$T/ca-a" -json
la=$(jq length "$T/out")
expect_rc 0 "$AVOW" ca list -dir "$T/ca-b" -json
lb=$(jq length "$T/out")
[ "$la" -eq "$wins_a" ] && [ "$lb" -eq "$wins_b" ] ||
    fail "ledgers hold $la + $lb rows for $wins_a + $wins_b certificates"
echo "race: $ROUNDS rounds, $wins_a won by a, $wins_b by b, $ROUNDS replays refused" \
    "(prepared in $((t1 - t0)) s, raced in $(($(date +%s) - t1)) s)"

# --- (b) a load run, one instance SIGKILLed in the middle ---
prep_all "$T/load" "$LOAD"
# Each job: enrol, keep the status.
cat >"$T/load/job.sh" <<'SH'
k=$1 x=$2 p=$3 d=$4
s=$(curl -s -b "$d/$k.jar" -o "$d/$k.out" -w "%{http_code}" -X POST \
    -H 'Content-Type: application/pkcs10' --data-binary "@$d/$k.b64" \
    "http://127.0.0.1:$p/.well-known/est/simpleenroll") || s=000
echo "$k $x $s" >"$d/$k.status"
SH
xargs -P 8 -L 1 sh "$T/load/job.sh" <"$T/load/plan" >/dev/null 2>&1 &
LJ=$!
# The kill lands once some enrolments went through b and others are still to come.
i=0
while [ "$(cat "$T"/load/*.status 2>/dev/null | grep -c ' b 200$' || true)" -lt 5 ]; do
    i=$((i + 1))
    [ $i -lt 3000 ] || fail "the load run did not get going"
    sleep 0.02
done
kill -KILL "$PB"
wait "$PB" 2>/dev/null || true
PB=""
wait $LJ || true
done_n=$(cat "$T"/load/*.status | wc -l)
[ "$done_n" -eq "$LOAD" ] || fail "$done_n of $LOAD enrolments finished"
got_a=0
got_b=0
lost_b=0
expect_rc 0 "$AVOW" ca list -dir "$T/ca-a" -json
cp "$T/out" "$T/ledger-a.json"
expect_rc 0 "$AVOW" ca list -dir "$T/ca-b" -json
cp "$T/out" "$T/ledger-b.json"
for f in "$T"/load/*.status; do
    read -r k x s <"$f"
    if [ "$s" = 200 ]; then
        base64 -d "$T/load/$k.out" | openssl pkcs7 -inform DER -print_certs -out "$T/load/$k.pem" \
            2>/dev/null || fail "load $k: no certificate in a 200"
        sn=$(openssl x509 -in "$T/load/$k.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
        jq -e --arg s "$sn" 'map(select(.serial == $s)) | length == 1' "$T/ledger-$x.json" \
            >/dev/null || fail "load $k: certificate $sn from $x has no ledger row"
        if [ "$x" = a ]; then got_a=$((got_a + 1)); else got_b=$((got_b + 1)); fi
    elif [ "$x" = b ]; then
        lost_b=$((lost_b + 1)) # b was killed: refused connections or cut answers
    else
        cat "$T/load/$k.out" >&2
        fail "load $k: instance a answered $s"
    fi
done
[ "$got_b" -ge 5 ] || fail "only $got_b certificates from b before the kill"
[ "$lost_b" -ge 1 ] || fail "the kill came after the load run (nothing lost at b)"
echo "load: $LOAD enrolments, $got_a certificates from a, $got_b from b, $lost_b cut by SIGKILL;" \
    "every certificate in its ledger"

# --- the killed instance restarts on its directory and Redis, and serves on ---
start b
one_req "$PORT_B" 1
s=$(enroll "$PORT_B" "$T/one/1.jar" "$T/one/1.b64" "$T/after.out")
[ "$s" = 200 ] || { cat "$T/after.out" >&2; fail "b after the restart: $s"; }
# The nonce it consumed is spent for a as well.
s=$(enroll "$PORT_A" "$T/one/1.jar" "$T/one/1.b64" "$T/after-a.out")
[ "$s" = 409 ] || { cat "$T/after-a.out" >&2; fail "replay at a after b's restart: $s"; }
# A nonce b issued before the kill and never used is still good (Redis kept it).
k=$(grep -l ' b 000$' "$T"/load/*.status | head -n 1 | sed 's|.*/||; s|\.status$||')
if [ -n "$k" ]; then
    s=$(enroll "$PORT_B" "$T/load/$k.jar" "$T/load/$k.b64" "$T/late.out")
    case $s in
    200 | 409) ;; # 409 when the cut request had consumed it before the kill
    *) cat "$T/late.out" >&2; fail "an outstanding nonce after the restart: $s" ;;
    esac
fi
# Both stop cleanly on SIGTERM (an ASan build exits non-zero on a leak or an error).
for x in a b; do
    if [ $x = a ]; then p=$PA; else p=$PB; fi
    kill -TERM "$p"
    set +e
    wait "$p"
    rc=$?
    set -e
    [ $rc -eq 0 ] || { cat "$T/serve-$x.err" >&2; fail "instance $x exited $rc"; }
done
PA=""
PB=""
stop_all
echo "ok"
