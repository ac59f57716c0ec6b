# `make dev` and `make test` install what they need (scripts/setup.sh, idempotent) first.
.PHONY: setup dev test build-worker build-npm bench clean

setup:
	bash scripts/setup.sh

dev: setup
	bash scripts/dev.sh

test:
	bash scripts/setup.sh --browser --fuzz
	bash scripts/test.sh

build-worker: setup
	bash scripts/build-worker.sh

build-npm: setup
	bash scripts/build-npm.sh

bench:
	bash scripts/setup.sh --bench
	bash scripts/build-worker.sh
	bash scripts/build-npm.sh
	node bench/run.mjs
	node bench/scale.mjs
	node bench/wasm-top.mjs

clean:
	rm -rf target worker/build worker/build-profiling pkg artifacts .wrangler
