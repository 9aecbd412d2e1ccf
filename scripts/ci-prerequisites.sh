#!/usr/bin/env bash
# Debian packages the test suite needs beyond Node.js (idempotent; installs only what
# is missing). PostgreSQL and pgvector are handled by scripts/setup-postgres.sh.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The native scan kernel is compiled at npm install (scripts/build-native.mjs).
command -v cc >/dev/null 2>&1 || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
