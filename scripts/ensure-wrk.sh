#!/usr/bin/env bash
# The USSD benchmark drives load with wrk (Debian package); install it when missing.
set -eu
command -v wrk >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing wrk (apt-get)..." >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
else
  echo "wrk is not installed: sudo apt-get install wrk (the USSD benchmark needs it)" >&2
  exit 1
fi
