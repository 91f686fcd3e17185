# Two commands do all of the set-up: `make test` and `make demo` (see README.md).
# The build's own makes need not announce every directory they enter.
MAKEFLAGS += --no-print-directory
BUILD_DIR ?= build
JOBS ?= 2
BIN := $(BUILD_DIR)/apps/promptpack

.PHONY: all setup configure build test sanitize fuzz ci demo bench bench-compare format clean

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The unit and integration suites again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: setup
	@cmake -S . -B $(BUILD_DIR)-sanitize -DCMAKE_BUILD_TYPE=Release -DPROMPTPACK_SANITIZE=address,undefined \
	  -DPROMPTPACK_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(BUILD_DIR)-sanitize -j $(JOBS)
	@cd $(BUILD_DIR)-sanitize && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -E consumer

# Every libFuzzer target for FUZZ_SECONDS each (clang, with ASan and UBSan).
FUZZ_SECONDS ?= 60
fuzz: setup
	@CXX=clang++ cmake -S . -B $(BUILD_DIR)-fuzz -DCMAKE_BUILD_TYPE=Release -DPROMPTPACK_BUILD_FUZZ=ON \
	  -DPROMPTPACK_SANITIZE=fuzzer-no-link,address,undefined -DPROMPTPACK_BUILD_TESTS=OFF \
	  -DPROMPTPACK_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(BUILD_DIR)-fuzz -j $(JOBS) --target connection_life_fuzzer response_parser_fuzzer \
	  inference_request_fuzzer line_parser_fuzzer
	@bash scripts/fuzz.sh $(BUILD_DIR)-fuzz $(FUZZ_SECONDS)

# What CI runs: the tests, the sanitized tests, then the fuzzers.
ci: test sanitize fuzz

demo: build
	@bash scripts/demo.sh $(BIN)

bench: build
	@bash bench/run_all.sh $(BUILD_DIR)

# promptpack beside wrk, aiohttp and LiteLLM's request pattern, against the same three endpoints;
# the table also goes to bench/results/compare-latest.md.
bench-compare: build
	@bash scripts/setup-bench.sh
	@bash bench/compare.sh $(BUILD_DIR)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-sanitize $(BUILD_DIR)-fuzz
