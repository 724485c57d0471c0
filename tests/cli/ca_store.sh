#!/bin/sh
# The CA's nonce store under faults: a missing, foreign or corrupt
# nonces.db is a store failure (exit 7) and is not re-created; a locked
# one is busy (exit 8); neither signs an EAR or issues a certificate.
# Expired nonces are purged, outstanding ones bounded.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

if ! "$AVOW" csr create --help >/dev/null 2>&1; then
    echo "SKIP: avow csr create is not available" >&2
    exit 77
fi
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

CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -max-nonces 3
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
evidence "$(cat "$T/out")" "$T/req.pem"

# --- missing: not re-created ---
mv "$CA/nonces.db" "$T/nonces.db.saved"
expect_rc 7 "$AVOW" ca nonce -dir "$CA"
grep -q "AVOW_ERR_STORE" "$T/err" || fail "missing store not AVOW_ERR_STORE"
[ ! -e "$CA/nonces.db" ] || fail "ca nonce re-created a missing store"
expect_rc 7 "$AVOW" ca issue -dir "$CA" -in "$T/req.pem" -CAfile "$T/root.pem" -ear-out "$T/ear.json"
[ ! -e "$CA/nonces.db" ] || fail "ca issue re-created a missing store"
[ ! -e "$T/ear.json" ] || fail "an EAR was written on a store failure"

# --- not a database, or someone else's ---
head -c 8192 /dev/urandom >"$CA/nonces.db"
expect_rc 7 "$AVOW" ca nonce -dir "$CA"
expect_rc 7 "$AVOW" ca issue -dir "$CA" -in "$T/req.pem" -CAfile "$T/root.pem" -ear-out "$T/ear.json"
[ ! -e "$T/ear.json" ] || fail "an EAR was written for a corrupt store"
if command -v sqlite3 >/dev/null 2>&1; then
    rm -f "$CA/nonces.db"
    sqlite3 "$CA/nonces.db" "CREATE TABLE nonces (id INTEGER, note TEXT);"
    expect_rc 7 "$AVOW" ca nonce -dir "$CA"
    grep -q "not an avow nonce table" "$T/err" || fail "wrong schema not named"
fi
rm -f "$CA/nonces.db" "$CA/nonces.db-wal" "$CA/nonces.db-shm"
mv "$T/nonces.db.saved" "$CA/nonces.db"

# csr verify -nonce-db: an existing store is expected too
expect_rc 7 "$AVOW" csr verify -in "$T/req.pem" -CAfile "$T/root.pem" -nonce-db "$T/none.db"
[ ! -e "$T/none.db" ] || fail "csr verify created a nonce store"

# --- locked past the timeout: busy, retryable, nothing issued ---
if command -v sqlite3 >/dev/null 2>&1; then
    (printf 'BEGIN IMMEDIATE;\nSELECT 1;\n'; sleep 8; printf 'ROLLBACK;\n') | sqlite3 "$CA/nonces.db" >/dev/null &
    locker=$!
    sleep 1
    expect_rc 8 "$AVOW" ca issue -dir "$CA" -in "$T/req.pem" -CAfile "$T/root.pem" -ear-out "$T/ear.json"
    grep -q "AVOW_ERR_STORE_BUSY" "$T/err" || fail "locked store not AVOW_ERR_STORE_BUSY"
    grep -q "locked" "$T/err" || fail "the SQLite reason was dropped"
    [ ! -e "$T/ear.json" ] || fail "an EAR was written while the store was locked"
    [ -z "$(ls "$CA/certs")" ] || fail "a certificate was issued while the store was locked"
    wait "$locker"
    # the same request goes through once the lock is gone: its nonce was not used
    expect_rc 0 "$AVOW" ca issue -dir "$CA" -in "$T/req.pem" -CAfile "$T/root.pem"
fi

# --- bounded: max_nonces outstanding, then a clear refusal ---
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
expect_rc 1 "$AVOW" ca nonce -dir "$CA"
grep -q "AVOW_ERR_NONCE_LIMIT" "$T/err" || fail "nonce limit not reported"

# --- purged: expired nonces do not pile up ---
CA2="$T/ca2"
expect_rc 0 "$AVOW" ca init -dir "$CA2"
i=0
while [ $i -lt 40 ]; do
    expect_rc 0 "$AVOW" ca nonce -dir "$CA2" -ttl 1
    i=$((i + 1))
done
sleep 2
expect_rc 0 "$AVOW" ca nonce -dir "$CA2"
if command -v sqlite3 >/dev/null 2>&1; then
    n=$(sqlite3 "$CA2/nonces.db" "SELECT count(*) FROM nonces")
    [ "$n" -eq 1 ] || fail "$n nonces kept after purging, want 1"
fi
echo ok
