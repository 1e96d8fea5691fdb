# TokenCentral: one command to test, one to benchmark. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: deps build release test bench chaos clean demo compose-check

deps:
	@scripts/ensure-deps.sh libssl-dev openssl

build: deps
	swift build

## Release binaries of every product; the Dockerfile's build stage runs the same command.
release: deps
	swift build -c release

## Builds, then runs every test against a private redis-server (never the one on 6379): the Swift
## tests, the Python and shell examples against live workers (also as the least-privilege Redis users of
## deploy/redis-acl-users.txt), wechatpy 1.8.18 (from PyPI, in a private virtualenv) through the adapter
## and, unmodified, through the gateway, and the short fault-injection suite.
test: deps compose-check
	@scripts/ensure-deps.sh python3-redis curl gcc libc6-dev redis-sentinel python3-venv
	swift build --build-tests
	scripts/with-redis.sh swift test --skip-build
	scripts/with-redis.sh scripts/examples-test.sh
	scripts/with-redis.sh scripts/wechatpy-test.sh
	scripts/with-redis.sh scripts/examples-acl-test.sh
	/usr/bin/python3 scripts/chaos.py --short --bin-dir .build/debug

## Release build; compares the Swift client with redis-benchmark on the same server in the same run.
bench: release
	@scripts/ensure-deps.sh python3-redis wrk
	scripts/with-redis.sh scripts/bench.sh

## The full fault-injection and load suite on release binaries; writes docs/RESULTS.md from the run.
chaos: release
	@scripts/ensure-deps.sh python3-redis gcc libc6-dev redis-sentinel
	/usr/bin/python3 scripts/chaos.py --bin-dir .build/release --results docs/RESULTS.md

## Three workers, a private Redis and a fake WeChat with 30 s tokens; Ctrl-C (or DEMO_SECONDS=N) stops it.
demo:
	scripts/demo.sh

## Validates docker-compose.yml (no Docker engine needed), and that the Dockerfile still builds with
## the Makefile's release command.
compose-check:
	@scripts/ensure-deps.sh docker-compose
	docker-compose config -q
	@grep -qx 'RUN swift build -c release' Dockerfile || { echo "Dockerfile: its build stage must run 'swift build -c release', as make release does" >&2; exit 1; }

clean:
	swift package clean
