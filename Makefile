# TokenCentral: one command to test, one to benchmark. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: deps build test bench chaos clean demo compose-check

deps:
	@scripts/ensure-deps.sh

build: deps
	swift build

## Builds, then runs every test against a private redis-server (never the one on 6379): the Swift
## tests, the Python and shell examples against live workers, and the short fault-injection suite.
test: deps compose-check
	@scripts/ensure-deps.sh python3-redis curl
	swift build --build-tests
	scripts/with-redis.sh swift test --skip-build
	scripts/with-redis.sh scripts/examples-test.sh
	/usr/bin/python3 scripts/chaos.py --short --bin-dir .build/debug

## Release build; compares the Swift client with redis-benchmark on the same server in the same run.
bench: deps
	@scripts/ensure-deps.sh python3-redis wrk
	swift build -c release --product tokencentral-bench
	swift build -c release --product tokend
	swift build -c release --product wechat-mock
	scripts/with-redis.sh scripts/bench.sh

## The full fault-injection and load suite on release binaries; writes docs/RESULTS.md from the run.
chaos: deps
	@scripts/ensure-deps.sh python3-redis
	swift build -c release --product tokend
	swift build -c release --product wechat-mock
	/usr/bin/python3 scripts/chaos.py --bin-dir .build/release --results docs/RESULTS.md

## Three workers, a private Redis and a fake WeChat with 30 s tokens; Ctrl-C (or DEMO_SECONDS=N) stops it.
demo:
	scripts/demo.sh

## Validates docker-compose.yml (no Docker engine needed).
compose-check:
	@scripts/ensure-deps.sh docker-compose
	docker-compose config -q

clean:
	swift package clean
