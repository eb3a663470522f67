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
        lint clean

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

$(BUILD)/test_abi: tests/c/test_abi.c include/ums.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(LDLIBS)

$(BUILD)/test_abi_asan: tests/c/test_abi.c include/ums.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer $< -o $@ $(LDFLAGS) $(LDLIBS)

# The main job: the doc page's update-qrcode through the C ABI against the
# ums-sandbox simulator, end to end.
demo: $(BUILD)/update_qrcode
	@scripts/demo $(LIBDIR)/ums-sandbox $(BUILD)/update_qrcode

test: setup lint test-rust test-c test-c-valgrind test-c-asan
	@echo "all tests passed"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

test-rust:
	$(CARGO) test

test-c: $(BUILD)/test_abi
	$(BUILD)/test_abi

test-c-valgrind: $(BUILD)/test_abi
	valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	  --suppressions=tests/c/valgrind.supp $(BUILD)/test_abi

test-c-asan: $(BUILD)/test_abi_asan
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/c/lsan.supp $(BUILD)/test_abi_asan

clean:
	rm -rf $(BUILD)
	$(CARGO) clean
