# Shared by tests/cli/serve_*.sh (sourced after pki.sh): starts `avow serve`
# on 127.0.0.1 with a port the kernel picks (-listen 127.0.0.1:0, -port-file),
# stops it when the test ends, and small curl helpers.

if [ "${AVOW_WITH_HTTP:-ON}" = OFF ]; then
    echo "SKIP: avow built without the HTTP service (AVOW_WITH_HTTP=OFF)"
    exit 77
fi
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not installed"; exit 77; }
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not installed"; exit 77; }

SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap 'stop_server; rm -rf "$T"' EXIT INT TERM

# stop_server_clean: SIGTERM, and the server must exit 0 (an ASan build exits
# non-zero on a leak or an error, with the report in serve.err).
stop_server_clean() {
    kill -TERM "$SERVER_PID" 2>/dev/null || fail "avow serve is not running"
    set +e
    wait "$SERVER_PID"
    rc=$?
    set -e
    SERVER_PID=
    [ $rc -eq 0 ] || { cat "$T/serve.err" >&2; fail "avow serve exited $rc"; }
    grep -q "avow serve: stopped" "$T/serve.err" || fail "no clean stop"
}

# start_server CONFIG [extra avow serve options]: sets PORT and BASE.
start_server() {
    cfg=$1
    shift
    rm -f "$T/port"
    "$AVOW" serve -config "$cfg" -listen 127.0.0.1:0 -port-file "$T/port" "$@" 2>>"$T/serve.err" &
    SERVER_PID=$!
    i=0
    while [ ! -s "$T/port" ]; do
        i=$((i + 1))
        if [ $i -gt 1200 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$T/serve.err" >&2
            fail "avow serve did not start"
        fi
        sleep 0.05
    done
    PORT=$(cat "$T/port")
    BASE=http://127.0.0.1:$PORT
}

# http METHOD PATH [curl options...]: body in $T/body, status in $STATUS, headers in $T/hdr.
http() {
    m=$1
    p=$2
    shift 2
    STATUS=$(curl -s -o "$T/body" -D "$T/hdr" -b "$T/jar" -c "$T/jar" -w "%{http_code}" -X "$m" "$@" "$BASE$p") || STATUS=000
}

# expect_status WANT: fails unless the last http call answered WANT.
expect_status() {
    if [ "$STATUS" != "$1" ]; then
        cat "$T/hdr" "$T/body" >&2 2>/dev/null || true
        fail "HTTP $STATUS, wanted $1"
    fi
}

# b64url_hex TEXT: the bytes of unpadded base64url TEXT in lower-case hex.
b64url_hex() {
    s=$(printf '%s' "$1" | tr '_-' '/+')
    case $(( ${#s} % 4 )) in
    2) s="$s==" ;;
    3) s="$s=" ;;
    esac
    printf '%s' "$s" | base64 -d | od -An -v -tx1 | tr -d ' \n'
}

# alive: the server still answers /healthz.
alive() {
    http GET /healthz
    expect_status 200
    kill -0 "$SERVER_PID" 2>/dev/null || fail "avow serve died"
}

# payload JWT [PART]: the decoded PART (default 2, the claims) of a compact JWT.
payload() {
    s=$(printf '%s' "$1" | cut -d. -f"${2:-2}" | tr '_-' '/+')
    case $(( ${#s} % 4 )) in 2) s="$s==" ;; 3) s="$s=" ;; esac
    printf '%s' "$s" | base64 -d
}
