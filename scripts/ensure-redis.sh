#!/usr/bin/env bash
# The tests start their own redis-server processes, among them a Redis Cluster made
# with redis-cli --cluster create: install Debian's packages when either is missing.
set -eu
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing redis-server and redis-tools (apt-get) for the tests..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
else
  echo "redis-server/redis-cli missing: sudo apt-get install redis-server redis-tools" >&2
  exit 1
fi
