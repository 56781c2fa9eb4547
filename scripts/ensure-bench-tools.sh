#!/usr/bin/env bash
# The benchmarks drive USSD load with wrk and count instructions with valgrind (Debian
# packages); install them when missing.
set -eu
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing$missing (apt-get)..." >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null
else
  echo "missing:$missing: sudo apt-get install$missing (the benchmarks need them)" >&2
  exit 1
fi
