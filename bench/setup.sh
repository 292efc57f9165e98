#!/usr/bin/env bash
# What the benchmarks need besides requirements-dev.txt: wrk, Node.js and its ws package.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then  # only what is missing: a Node.js from elsewhere conflicts with Debian's npm
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
npm install --silent --no-audit --no-fund
