#!/usr/bin/env bash
# README command 1: from a fresh clone on Debian 12, install what cairn needs (Debian packages, npm ci) and build
# the seed example (examples/seed) into the image `seed` in cairn's local store, on cairn's default builder
# (made on first use). Then it prints how to run the image.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
npm ci --no-audit --no-fund
# Behind a TLS-intercepting proxy, the host's extra CA certificates (NODE_EXTRA_CA_CERTS) are trusted by the
# build only; they never reach the image.
bin/cairn build seed --path examples/seed ${NODE_EXTRA_CA_CERTS:+--build-ca-cert "$NODE_EXTRA_CA_CERTS"}
cat <<'MSG'

Run it, then open http://localhost:3000 (or: curl localhost:3000):
  npx cairn run seed -p 3000:3000
MSG
