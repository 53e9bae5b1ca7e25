# Larder's entry points. `make run` and `make test` install what is missing
# (scripts/install-deps), configure and build with CMake, then run.
#
#   make            build (build/)
#   make run        build, then run Larder on embedded defaults
#   make test       build and run every test (ctest)
#   make test SANITIZE=1   the same under ASan+UBSan (build-asan/)
#   make test CC=clang     with clang (build-clang/)
#   make test CTEST_ARGS="-L slow"   only the long kill/soak rounds
#   make fuzz       build libFuzzer targets with clang (build-fuzz/)
#   make format     clang-format every C file

SANITIZE ?= 0
CC ?= cc
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?= -LE slow

ifeq ($(SANITIZE),1)
  BUILD ?= build-asan
  CMAKE_FLAGS += -DLARDER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
else ifneq ($(findstring clang,$(CC)),)
  BUILD ?= build-clang
else
  BUILD ?= build
endif

.PHONY: all build deps run test fuzz format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_C_COMPILER=$(CC) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run-demo $(BUILD)/larder

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600 $(CTEST_ARGS)

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DLARDER_FUZZ=ON -DLARDER_SANITIZE=ON \
	  -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-fuzz -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-clang build-fuzz
