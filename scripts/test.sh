#!/usr/bin/env bash
# Runs pinpoint's whole test suite on a fresh machine: starts the local
# PostgreSQL and Redis the tests use (if they are not running), installs the
# npm packages of the SDK and browser tests, then runs go vet and go test.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*"; }

# PostgreSQL (trust auth on 127.0.0.1:5432) and Redis (127.0.0.1:6379).
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
for i in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break
  sleep 0.2
done

# npm packages for the tests that drive real clients (the openai SDK,
# playwright-core with Debian's chromium).
for dir in test/sdk test/browser; do
  if [ -f "$dir/package.json" ]; then
    log "npm ci in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done
if [ -f test/browser/package.json ] && ! command -v chromium >/dev/null 2>&1; then
  log "installing Debian's chromium for the browser test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || log "chromium could not be installed"
fi

log "go vet"
go vet ./...
log "go test"
go test -count=1 -timeout 30m ./... 2>&1 | tee /tmp/pinpoint-test.log
