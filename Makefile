# chinaums: build, demo and tests. `make demo` and `make test` do their own
# set-up on a fresh machine (see scripts/setup).

CARGO   ?= cargo
CC      ?= cc
PROFILE ?= release
LIBDIR  := target/$(PROFILE)
LIB     := $(LIBDIR)/libums.so
BUILD   := build
CFLAGS  ?= -std=c99 -Wall -Wextra -Werror -O1 -g
CPPFLAGS := -Iinclude -D_POSIX_C_SOURCE=200809L
LDFLAGS := -L$(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR))
LDLIBS  := -lums

.PHONY: all setup lib header check-header demo test test-rust test-c test-c-valgrind test-c-asan \
        test-bindings lint bench clean

all: lib

setup:
	@scripts/setup

# The SONAME is libums.so.0; cargo writes libums.so, so link the SONAME to it.
lib:
	$(CARGO) build --$(PROFILE) --lib --bins
	ln -sf libums.so $(LIBDIR)/libums.so.0

header:
	UMS_UPDATE_HEADER=1 $(CARGO) test --test header

check-header:
	$(CARGO) test --test header

$(BUILD):
	mkdir -p $(BUILD)

$(BUILD)/update_qrcode: examples/update_qrcode.c include/ums.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(LDLIBS)

# C test programs: one plain, one with AddressSanitizer + UBSan each.
C_TESTS := test_abi test_hostile test_lifecycle test_load test_answers

$(BUILD)/%: tests/c/%.c tests/c/check.h include/ums.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -pthread $< -o $@ $(LDFLAGS) $(LDLIBS)

$(BUILD)/%_asan: tests/c/%.c tests/c/check.h include/ums.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -pthread -fsanitize=address,undefined -fno-omit-frame-pointer $< -o $@ \
	  $(LDFLAGS) $(LDLIBS)

# The main job: the doc page's update-qrcode through the C ABI against the
# ums-sandbox simulator, end to end.
demo: $(BUILD)/update_qrcode
	@scripts/demo $(LIBDIR)/ums-sandbox $(BUILD)/update_qrcode

test: setup lint test-rust test-c test-c-valgrind test-c-asan test-bindings
	@echo "all tests passed"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

test-rust:
	$(CARGO) test

test-c: $(addprefix $(BUILD)/,$(C_TESTS))
	@for t in $(C_TESTS); do echo "== $$t"; $(BUILD)/$$t || exit 1; done

VALGRIND := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-possibly-lost=no \
            --suppressions=tests/c/valgrind.supp
test-c-valgrind: $(addprefix $(BUILD)/,$(C_TESTS))
	@for t in $(C_TESTS); do echo "== valgrind $$t"; $(VALGRIND) -q $(BUILD)/$$t || exit 1; done

test-c-asan: $(addprefix $(BUILD)/,$(addsuffix _asan,$(C_TESTS)))
	@for t in $(C_TESTS); do echo "== asan $$t"; \
	  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/c/lsan.supp $(BUILD)/$${t}_asan || exit 1; done

# Python (ctypes), PHP (FFI) and Java (JNI) against the same libums.
export UMS_LIBRARY := $(abspath $(LIB))
test-bindings: lib $(BUILD)/prepare_vector
	bindings/python/run-tests.sh
	bindings/php/run-tests.sh
	bindings/java/run-tests.sh
	scripts/cross-language-check

# Every benchmark row in one table (BENCHMARKS.md); under 10 minutes.
bench: lib
	scripts/bench

clean:
	rm -rf $(BUILD)
	$(CARGO) clean
