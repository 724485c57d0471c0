#!/bin/sh
# avow ca init creates a CA whole or not at all: ten inits racing for one
# directory give exactly one winner and a key that matches the certificate;
# a failing init leaves nothing and the directory can be initialised after.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

CA="$T/ca"
i=0
while [ $i -lt 10 ]; do
    (set +e; "$AVOW" ca init -dir "$CA" -subject "CN=racer $i" >"$T/out.$i" 2>"$T/err.$i"; echo $? >"$T/rc.$i") &
    i=$((i + 1))
done
wait
wins=0
i=0
while [ $i -lt 10 ]; do
    rc=$(cat "$T/rc.$i")
    case $rc in
    0) wins=$((wins + 1)) ;;
    1) grep -q "already holds a CA\|is not empty" "$T/err.$i" || { cat "$T/err.$i"; fail "loser $i says something else"; } ;;
    *) cat "$T/err.$i"; fail "init $i exited $rc" ;;
    esac
    i=$((i + 1))
done
[ "$wins" -eq 1 ] || fail "$wins inits won, want exactly 1"
openssl x509 -in "$CA/ca.crt" -noout -pubkey >"$T/crt.pub"
openssl pkey -in "$CA/ca.key" -pubout >"$T/key.pub"
cmp -s "$T/crt.pub" "$T/key.pub" || fail "ca.key does not match ca.crt"
subj=$(jq -r .subject "$CA/ca.json")
openssl x509 -in "$CA/ca.crt" -noout -subject | grep -q "${subj#CN=}" || fail "ca.json and ca.crt from different inits"
ls -d "$T"/ca.init-* 2>/dev/null && fail "temporary directories left behind"
[ "$(stat -c %a "$CA")" = 700 ] || fail "CA directory is not 0700"
[ "$(stat -c %a "$CA/ca.key")" = 600 ] || fail "ca.key is not 0600"
[ "$(stat -c %a "$CA/ca.crt")" = 644 ] || fail "ca.crt is not 0644"
[ "$(stat -c %a "$CA/nonces.db")" = 600 ] || fail "nonces.db is not 0600"
expect_rc 0 "$AVOW" ca nonce -dir "$CA"

# A failing init (a subject that does not parse) leaves nothing behind...
expect_rc 2 "$AVOW" ca init -dir "$T/half" -subject "CN"
[ ! -e "$T/half" ] || fail "a failed init left $T/half"
ls -d "$T"/half.init-* 2>/dev/null && fail "a failed init left its temporary"
# ...so the same directory can be initialised afterwards.
expect_rc 0 "$AVOW" ca init -dir "$T/half"

# An existing empty directory is fine and gets the modes of a new one; a full one is refused.
mkdir -m 0755 "$T/empty"
expect_rc 0 "$AVOW" ca init -dir "$T/empty"
[ "$(stat -c %a "$T/empty")" = 700 ] || fail "pre-existing directory kept mode $(stat -c %a "$T/empty")"
[ "$(stat -c %a "$T/empty/ca.crt")" = 644 ] || fail "ca.crt in a pre-existing directory"
mkdir "$T/full"
touch "$T/full/notes.txt"
expect_rc 1 "$AVOW" ca init -dir "$T/full"
grep -q "is not empty" "$T/err" || fail "init into a non-empty directory"
[ ! -e "$T/full/ca.key" ] || fail "init wrote into a non-empty directory"

# A writer killed between write and rename leaves NAME.XXXXXX; old ones are swept.
touch -d '1 hour ago' "$CA/certs/00aa.pem.AbC123" "$CA/ca.json.XyZ987"
touch "$CA/certs/00bb.pem.New123"
expect_rc 0 "$AVOW" ca nonce -dir "$CA"
[ ! -e "$CA/certs/00aa.pem.AbC123" ] && [ ! -e "$CA/ca.json.XyZ987" ] || fail "stale temporaries not swept"
[ -e "$CA/certs/00bb.pem.New123" ] || fail "a fresh temporary (maybe a writer's) was swept"

# The CLI holds PINs and keys: no core files while it runs.
if [ -r /proc/self/limits ]; then
    mkfifo "$T/fifo"
    # raise the soft limit first (where the hard one allows), so 0 is avow's doing
    (ulimit -c unlimited 2>/dev/null || true; exec "$AVOW" evidence show) <"$T/fifo" >/dev/null 2>&1 &
    pid=$!
    exec 3>"$T/fifo"
    sleep 0.5
    core=$(awk '/^Max core file size/ {print $5}' "/proc/$pid/limits")
    exec 3>&-
    wait "$pid" || true
    [ "$core" = 0 ] || fail "core files allowed ($core) while avow runs"
fi

# Files are synced before they are renamed into place, and their directory after.
if command -v strace >/dev/null 2>&1 &&
    strace -f -o "$T/probe" -e trace=fsync true >/dev/null 2>&1; then
    # LeakSanitizer cannot run under ptrace
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -o "$T/trace" -e trace=fsync,rename,renameat,renameat2 \
        "$AVOW" ca init -dir "$T/traced" >/dev/null 2>&1 || fail "ca init under strace"
    # every rename of a file into place follows an fsync, and one follows it (the directory)
    awk '/fsync\(/ {synced = 1} /rename/ && /ca\.(key|crt|json)\./ {if (!synced) bad = 1; synced = 0; need = 1}
         /fsync\(/ && need {need = 0} END {exit bad || need}' "$T/trace" ||
        { cat "$T/trace" >&2; fail "a file was renamed into place without fsync"; }
fi
echo ok
