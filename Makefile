# Two commands do all of the set-up: `make test` and `make demo` (see README.md).
# The build's own makes need not announce every directory they enter.
MAKEFLAGS += --no-print-directory
BUILD_DIR ?= build
JOBS ?= 2
BIN := $(BUILD_DIR)/apps/promptpack

.PHONY: all setup configure build test demo bench format clean

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BIN)

bench: build
	@bash bench/run_all.sh $(BUILD_DIR)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR)
