#!/usr/bin/env bash
# Start (if none answers) or stop the one local Prefect server on 127.0.0.1:PORT.
set -euo pipefail
cmd=${1:?start|stop}; port=${2:-4200}
url="http://127.0.0.1:${port}/api/health"
mkdir -p "${PREFECT_HOME:?}"
pidfile="$PREFECT_HOME/server.pid"
case "$cmd" in
  start)
    if curl -sf "$url" >/dev/null 2>&1; then echo "Prefect server already up on 127.0.0.1:$port"; exit 0; fi
    setsid .venv/bin/prefect server start --host 127.0.0.1 --port "$port" \
      >"$PREFECT_HOME/server.log" 2>&1 < /dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 120); do
      if curl -sf "$url" >/dev/null 2>&1; then echo "Prefect server up: http://127.0.0.1:$port"; exit 0; fi
      sleep 1
    done
    echo "Prefect server did not start; see $PREFECT_HOME/server.log" >&2; exit 1 ;;
  stop)
    if [ -f "$pidfile" ]; then kill -- "-$(cat "$pidfile")" 2>/dev/null || kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi
    # gone only when it no longer answers: a `start` right after must not find the dying one "already up"
    for _ in $(seq 1 30); do curl -sf "$url" >/dev/null 2>&1 || exit 0; sleep 1; done
    echo "Prefect server on 127.0.0.1:$port still answers" >&2; exit 1 ;;
  *) echo "usage: $0 start|stop [port]" >&2; exit 2 ;;
esac
