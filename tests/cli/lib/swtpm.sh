# Shared by the TPM CLI tests (sourced after pki.sh and, when used, serve.sh):
# swtpm on 127.0.0.1 with a free port pair and a state directory under $T,
# stopped when the test ends. Sets TCTI for avow's -tpm. Skipped (77) only
# when avow was built without TPM support.

if [ "${AVOW_WITH_TPM:-ON}" = OFF ]; then
    echo "SKIP: avow built without TPM support (AVOW_WITH_TPM=OFF)"
    exit 77
fi
command -v swtpm >/dev/null 2>&1 || fail "swtpm is not installed (apt-get install swtpm)"

SWTPM_PID=
stop_swtpm() {
    if [ -n "$SWTPM_PID" ]; then
        kill -TERM "$SWTPM_PID" 2>/dev/null || true
        wait "$SWTPM_PID" 2>/dev/null || true
        SWTPM_PID=
    fi
}
trap 'stop_swtpm; if command -v stop_server >/dev/null 2>&1; then stop_server; fi; rm -rf "$T"' EXIT INT TERM

# swtpm_answers PORT: the server port takes a connection.
swtpm_answers() {
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN
}

# start_swtpm: a fresh TPM (state in $T/swtpm); sets SWTPM_PORT and TCTI.
start_swtpm() {
    mkdir -p "$T/swtpm"
    for attempt in 1 2 3 4 5 6 7 8; do
        r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        SWTPM_PORT=$((20000 + 2 * (r % 10000)))
        swtpm_answers "$SWTPM_PORT" && continue
        swtpm_answers $((SWTPM_PORT + 1)) && continue
        swtpm socket --tpm2 --tpmstate dir="$T/swtpm" \
            --server type=tcp,port=$SWTPM_PORT,bindaddr=127.0.0.1 \
            --ctrl type=tcp,port=$((SWTPM_PORT + 1)),bindaddr=127.0.0.1 \
            --flags not-need-init,startup-clear 2>>"$T/swtpm.err" &
        SWTPM_PID=$!
        i=0
        while [ $i -lt 200 ] && kill -0 "$SWTPM_PID" 2>/dev/null; do
            if swtpm_answers "$SWTPM_PORT"; then
                TCTI="swtpm:host=127.0.0.1,port=$SWTPM_PORT"
                return 0
            fi
            i=$((i + 1))
            sleep 0.025
        done
        stop_swtpm
    done
    cat "$T/swtpm.err" >&2
    fail "swtpm did not start"
}
