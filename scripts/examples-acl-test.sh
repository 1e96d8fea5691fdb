#!/usr/bin/env bash
# Runs scripts/examples-test.sh with least-privilege Redis users: creates the users of
# deploy/redis-acl-users.txt (the lines docs/redis-contract.md shows) on the Redis at $REDIS_URL, then
# the workers run as `tokend` and the Python and shell examples as `token-reader`, with the default
# key prefix the lines name. Run through scripts/with-redis.sh (its server is private to this run).
set -euo pipefail
: "${REDIS_URL:?run through scripts/with-redis.sh}"
here=$(cd "$(dirname "$0")" && pwd)
server=${REDIS_URL#redis://}
server=${server%%/*}

password() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
tokend_password=$(password)
reader_password=$(password)
# redis-cli reads the commands from stdin, so the passwords never appear on a command line.
replies=$(grep -v '^#' "$here/../deploy/redis-acl-users.txt" \
    | sed -e "s/>TOKEND-PASSWORD/>$tokend_password/" -e "s/>READER-PASSWORD/>$reader_password/" \
        -e "s/>TOKENCTL-PASSWORD/>$(password)/" \
    | redis-cli -u "$REDIS_URL")
[ "$(tr -d '\r' <<<"$replies")" = $'OK\nOK\nOK' ] || { echo "creating the users failed: $replies" >&2; exit 1; }

WORKER_REDIS_URL="redis://tokend:$tokend_password@$server/0" EXAMPLES_PREFIX=wechat \
    REDIS_URL="redis://token-reader:$reader_password@$server/0" "$here/examples-test.sh"
