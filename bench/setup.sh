#!/usr/bin/env bash
# What the benchmarks need besides requirements-dev.txt: wrk, Node.js and its ws package.
set -euo pipefail
cd "$(dirname "$0")"
command -v wrk >/dev/null && command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk nodejs npm; }
npm install --silent --no-audit --no-fund
