# `make dev` and `make test` install what they need (scripts/setup.sh, idempotent) first.
.PHONY: setup dev test sim build-worker build-worker-package build-npm bench clean

setup:
	bash scripts/setup.sh

dev: setup
	bash scripts/dev.sh

test:
	bash scripts/setup.sh --browser --fuzz
	bash scripts/test.sh

# The payment simulation (worker/src/sim) over more seeds than `make test` runs:
# `make sim SEEDS=500`, or replay one with its trace: `make sim SIM_SEED=7`.
SEEDS ?= 500
sim: setup
	SEEDS=$(SEEDS) SIM_SEED=$(SIM_SEED) cargo test --release --locked -p kelantanpay-worker --lib sim:: -- --nocapture

build-worker: setup
	bash scripts/build-worker.sh

# The merchant packages (kelantanpay-worker, create-kelantanpay), staged in build/packages/.
build-worker-package: setup
	bash scripts/build-worker-package.sh

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
	rm -rf target worker/build worker/build-profiling pkg artifacts .wrangler build
