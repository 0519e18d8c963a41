#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test on SQLite
# and again on PostgreSQL (started here if needed), then schemathesis against the
# OpenAPI document on each. Fails loudly; never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "PostgreSQL"
PG_URL=$(./scripts/postgres.sh)
echo "PostgreSQL at $PG_URL"

if [ -f tests/oidc/package.json ]; then
  step "OpenID provider for the login tests (npm package oidc-provider)"
  (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi

step "Chromium and ChromeDriver for the browser tests (Debian packages chromium, chromium-driver)"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "chromium and chromium-driver are missing and this is not root: apt-get install chromium chromium-driver" >&2
    exit 1
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } ||
    { echo "cannot install chromium and chromium-driver: the browser tests cannot run" >&2; exit 1; }
fi
chromium --version
chromedriver --version

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "build"
cargo build --workspace --all-targets

summary=()
run_suite() { # label, then env assignments
  local label=$1; shift
  step "tests on $label"
  local out
  out=$(mktemp)
  if ! env "$@" cargo test --workspace --no-fail-fast 2>&1 | tee "$out"; then
    echo "tests failed on $label" >&2
    exit 1
  fi
  local passed
  passed=$(grep -E '^test result: ok' "$out" | awk '{s+=$4} END {print s+0}')
  summary+=("$label: $passed tests passed")
  rm -f "$out"
}

run_suite SQLite CORDEE_TEST_POSTGRES_URL=
run_suite PostgreSQL "CORDEE_TEST_POSTGRES_URL=$PG_URL"

# The OpenAPI document against the real gateway (docs/openapi.md).
run_schemathesis() { # label, then the arguments of scripts/schemathesis.sh
  local label=$1; shift
  step "schemathesis on $label"
  local out
  out=$(mktemp)
  if ! ./scripts/schemathesis.sh "$@" 2>&1 | tee "$out"; then
    echo "schemathesis failed on $label" >&2
    exit 1
  fi
  local cases
  cases=$(grep -Eo '[0-9]+ generated, [0-9]+ passed' "$out" | tail -n 1)
  summary+=("schemathesis on $label: ${cases:-?}, 0 failures")
  rm -f "$out"
}

run_schemathesis SQLite sqlite
run_schemathesis PostgreSQL postgres "$PG_URL"

# Databases made by the PostgreSQL pass are dropped here rather than in each test.
if command -v psql >/dev/null 2>&1; then
  psql "$PG_URL" -tAc "select datname from pg_database where datname like 'cordee_test_%'" 2>/dev/null |
    while read -r db; do [ -n "$db" ] && psql "$PG_URL" -qc "drop database if exists \"$db\"" >/dev/null 2>&1 || true; done
fi

step "summary"
printf '%s\n' "${summary[@]}"
