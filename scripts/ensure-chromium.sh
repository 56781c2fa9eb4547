#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with Playwright (browser downloads cannot
# work on these machines): install the package when it is missing.
set -eu
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium (apt-get) for the browser tests..." >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed: sudo apt-get install chromium (the browser tests need it)" >&2
  exit 1
fi
