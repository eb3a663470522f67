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

# The library's file names, from the workspace version in Cargo.toml. The
# SONAME changes with every incompatible release: libums.so.0.MINOR for 0.x
# (each 0.x minor may break the ABI), libums.so.MAJOR from 1.0 on. build.rs
# sets it from the same version; `make lib` checks that the two agree.
VERSION  := $(shell sed -n 's/^version = "\([0-9][0-9.]*\)".*/\1/p' Cargo.toml | head -n 1)
V_MAJOR  := $(word 1,$(subst ., ,$(VERSION)))
V_MINOR  := $(word 2,$(subst ., ,$(VERSION)))
SONAME   := libums.so.$(if $(filter 0,$(V_MAJOR)),0.$(V_MINOR),$(V_MAJOR))
REALNAME := libums.so.$(VERSION)
PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all setup lib header check-header check-header-std check-symbols install test-install demo test test-rust test-c \
        test-c-valgrind test-c-asan test-bindings test-fleet lint bench clean

all: lib

setup:
	@scripts/setup

# The whole workspace: libums.so / libums.a (the C ABI), the ums-sandbox
# simulator and the ums tool. The shared library is installed in LIBDIR as
# the real file $(REALNAME) with two links to it: $(SONAME) (its SONAME,
# what programs linked with it load) and libums.so (for -lums, and
# UMS_LIBRARY; cargo writes a plain libums.so again on its next build, which
# works as well). The file is copied from cargo's deps/ output. Links of
# other SONAMEs (libums.so.0, the SONAME of every 0.x until now) are removed
# so that nothing is loaded through them by mistake.
lib:
	$(CARGO) build --$(PROFILE) --workspace --lib --bins
	@soname=$$(readelf -d $(LIBDIR)/deps/libums.so | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'); \
	  if [ "$$soname" != "$(SONAME)" ]; then \
	    echo "make lib: the SONAME of libums.so is '$$soname', expected $(SONAME) (build.rs)" >&2; exit 1; fi
	cp -f $(LIBDIR)/deps/libums.so $(LIBDIR)/$(REALNAME).tmp
	mv -f $(LIBDIR)/$(REALNAME).tmp $(LIBDIR)/$(REALNAME)
	ln -sfn $(REALNAME) $(LIBDIR)/$(SONAME)
	ln -sfn $(REALNAME) $(LIBDIR)/libums.so
	@find $(LIBDIR) -maxdepth 1 -type l -name 'libums.so.*' ! -name '$(SONAME)' -exec rm -f {} +

# Installs the header, the shared library (real file and links), the static
# library (debug sections stripped: about a quarter smaller, links the same),
# the pkg-config file lib/pkgconfig/ums.pc and the CMake package
# lib/cmake/ums/umsConfig.cmake + umsConfigVersion.cmake (imported targets
# ums::ums and ums::ums_static) under $(DESTDIR)$(PREFIX), from the templates
# in packaging/. ums.pc says prefix=$(PREFIX); the CMake files find the
# prefix from their own location, so a DESTDIR staging or a moved tree works.
# UMS_STATIC_LIBS: what a static link of the Rust staticlib needs on Linux,
# as `cargo rustc --release --lib -- --print native-static-libs` prints it
# (Libs.private of ums.pc, INTERFACE_LINK_LIBRARIES of ums::ums_static).
UMS_STATIC_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
STRIP ?= strip
INSTALL_SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@V_MAJOR@|$(V_MAJOR)|g' -e 's|@V_MINOR@|$(V_MINOR)|g' \
	-e 's|@SONAME@|$(SONAME)|g' -e 's|@REALNAME@|$(REALNAME)|g' \
	-e 's|@NATIVE_STATIC_LIBS@|$(UMS_STATIC_LIBS)|g' \
	-e 's|@CMAKE_STATIC_LIBS@|$(subst $(space),;,$(patsubst -l%,%,$(UMS_STATIC_LIBS)))|g' \
	-e "s|@SIZEOF_VOID_P@|$$(($$(getconf LONG_BIT) / 8))|g"
empty :=
space := $(empty) $(empty)
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/ums
	install -m 644 include/ums.h $(DESTDIR)$(PREFIX)/include/ums.h
	install -m 644 include/ums.hpp $(DESTDIR)$(PREFIX)/include/ums.hpp
	install -m 755 $(LIBDIR)/$(REALNAME) $(DESTDIR)$(PREFIX)/lib/$(REALNAME)
	ln -sfn $(REALNAME) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(PREFIX)/lib/libums.so
	install -m 644 $(LIBDIR)/libums.a $(DESTDIR)$(PREFIX)/lib/libums.a
	$(STRIP) --strip-debug $(DESTDIR)$(PREFIX)/lib/libums.a
	$(INSTALL_SUBST) packaging/ums.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/ums.pc
	$(INSTALL_SUBST) packaging/umsConfig.cmake.in >$(DESTDIR)$(PREFIX)/lib/cmake/ums/umsConfig.cmake
	$(INSTALL_SUBST) packaging/umsConfigVersion.cmake.in >$(DESTDIR)$(PREFIX)/lib/cmake/ums/umsConfigVersion.cmake
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/ums.pc $(DESTDIR)$(PREFIX)/lib/cmake/ums/*.cmake

# `make install` into a temporary prefix, then a C program built against it
# with pkg-config (shared and --static) and with CMake (find_package(ums)),
# each run against the simulator (tests/install/run.sh).
test-install: lib
	tests/install/run.sh

header:
	UMS_UPDATE_HEADER=1 $(CARGO) test --test header

check-header:
	$(CARGO) test --test header

# The header compiles as C89 (pedantic), C11 and C++11 with every warning an
# error, and each program links against libums (every declaration resolves).
check-header-std: lib | $(BUILD)
	gcc -std=c89 -pedantic-errors -Wall -Wextra -Werror -Iinclude tests/c/header_std.c -o $(BUILD)/header_c89 \
	  $(LDFLAGS) $(LDLIBS)
	gcc -std=c11 -Wall -Wextra -Werror -Wpedantic -Wstrict-prototypes -Iinclude tests/c/header_std.c \
	  -o $(BUILD)/header_c11 $(LDFLAGS) $(LDLIBS)
	g++ -std=c++11 -Wall -Wextra -Werror -Wpedantic -Iinclude -x c++ tests/c/header_std.c -o $(BUILD)/header_cxx11 \
	  $(LDFLAGS) $(LDLIBS)
	$(BUILD)/header_c89 && $(BUILD)/header_c11 && $(BUILD)/header_cxx11

# libums.so exports the ums_* functions of the header and nothing else (no
# Rust symbol, no data), and carries no trace of the simulator (the
# /_sandbox/ control paths are in ums-sandbox only).
check-symbols: lib | $(BUILD)
	@nm -D --defined-only $(LIB) | awk '{print $$2, $$3}' | sort >$(BUILD)/symbols.txt
	@sed -n 's/^[A-Za-z].*[ *]\(ums_[a-z0-9_]*\)(.*/T \1/p' include/ums.h | sort >$(BUILD)/symbols.expected
	@if ! cmp -s $(BUILD)/symbols.txt $(BUILD)/symbols.expected; then \
	  echo "check-symbols: the dynamic symbols of $(LIB) are not exactly the functions of include/ums.h:" >&2; \
	  diff $(BUILD)/symbols.expected $(BUILD)/symbols.txt >&2; exit 1; fi
	@if strings $(LIB) | grep -F '/_sandbox/' >&2; then \
	  echo "check-symbols: $(LIB) contains /_sandbox/ (simulator code in the library)" >&2; exit 1; fi
	@echo "check-symbols: $$(wc -l <$(BUILD)/symbols.txt) symbols, all ums_* functions of the header; no /_sandbox/"

$(BUILD):
	mkdir -p $(BUILD)

$(BUILD)/update_qrcode: examples/update_qrcode.c include/ums.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(LDLIBS)

# C test programs: one plain, one with AddressSanitizer + UBSan each.
# Those that need the simulator start it from UMS_SANDBOX (tests/c/support.h).
C_TESTS := test_abi test_hostile test_lifecycle test_load test_answers test_no_listen

$(BUILD)/%: tests/c/%.c tests/c/check.h tests/c/support.h include/ums.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -pthread $< -o $@ $(LDFLAGS) $(LDLIBS)

$(BUILD)/%_asan: tests/c/%.c tests/c/check.h tests/c/support.h include/ums.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -pthread -fsanitize=address,undefined -fno-omit-frame-pointer $< -o $@ \
	  $(LDFLAGS) $(LDLIBS)

# The main job: the doc page's update-qrcode through the C ABI against the
# ums-sandbox simulator, end to end.
demo: $(BUILD)/update_qrcode
	@scripts/demo $(LIBDIR)/ums-sandbox $(BUILD)/update_qrcode

test: setup lint check-header-std check-symbols test-rust test-c test-c-valgrind test-c-asan test-cpp test-bindings \
      test-fleet test-install test-python-wheel test-java-jar test-php-package test-console
	@echo "all tests passed"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace

test-c: $(addprefix $(BUILD)/,$(C_TESTS))
	@for t in $(C_TESTS); do echo "== $$t"; $(BUILD)/$$t || exit 1; done

# --trace-children=no (valgrind's default, spelled out): the simulator the
# tests fork and exec runs natively, only the test program is checked.
VALGRIND := valgrind --trace-children=no --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-possibly-lost=no \
            --suppressions=tests/c/valgrind.supp
test-c-valgrind: $(addprefix $(BUILD)/,$(C_TESTS))
	@for t in $(C_TESTS); do echo "== valgrind $$t"; $(VALGRIND) -q $(BUILD)/$$t || exit 1; done

test-c-asan: $(addprefix $(BUILD)/,$(addsuffix _asan,$(C_TESTS)))
	@for t in $(C_TESTS); do echo "== asan $$t"; \
	  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/c/lsan.supp $(BUILD)/$${t}_asan || exit 1; done

# Python (ctypes), PHP (FFI) and Java (JNI) against the same libums; every
# test program starts its own simulator from UMS_SANDBOX.
export UMS_LIBRARY := $(abspath $(LIB))
export UMS_SANDBOX := $(abspath $(LIBDIR)/ums-sandbox)
test-bindings: lib $(BUILD)/prepare_vector
	bindings/python/run-tests.sh
	bindings/php/run-tests.sh
	bindings/java/run-tests.sh
	scripts/cross-language-check

# The simulator's web console in a real headless Chromium (Debian's
# chromium + chromium-driver, scripts/setup): a bill made with the Python
# binding is paid by clicking in the console, and a receiver verifies the
# notification (tests/console/run.sh). The screenshot goes to CONSOLE_PNG;
# `make test-console CONSOLE_PNG=docs/console.png` refreshes the README's.
CONSOLE_PNG ?= $(BUILD)/console.png
.PHONY: test-console
test-console: lib
	tests/console/run.sh $(abspath $(CONSOLE_PNG))

# Packages as each ecosystem installs them.
# python-wheel: bindings/python/dist/chinaums-$(VERSION)-py3-none-<platform>.whl,
# libums.so and the ums-sandbox simulator inside, tagged manylinux_2_X only
# when the ELF checks of bindings/python/build_wheel.py pass (else linux_<arch>).
# php-lib: bindings/php/lib/libums.so (git-ignored), where the PHP binding and
# its preload.php look first, and which composer path repositories copy.
# test-*: install them from a temporary directory outside the repository.
.PHONY: python-wheel php-lib test-python-wheel test-php-package
python-wheel: lib
	python3 bindings/python/build_wheel.py --lib $(LIB) --sandbox $(LIBDIR)/ums-sandbox --out bindings/python/dist

php-lib: lib
	@v=$$(php -r 'echo json_decode(file_get_contents("bindings/php/composer.json"), true)["version"] ?? "";'); \
	  if [ "$$v" != "$(VERSION)" ]; then \
	    echo "make php-lib: bindings/php/composer.json says version '$$v', Cargo.toml $(VERSION)" >&2; exit 1; fi
	mkdir -p bindings/php/lib
	cp -f $(LIBDIR)/$(REALNAME) bindings/php/lib/libums.so.tmp
	mv -f bindings/php/lib/libums.so.tmp bindings/php/lib/libums.so

test-python-wheel: python-wheel
	bindings/python/test-wheel.sh

test-php-package: php-lib
	bindings/php/test-package.sh

# include/ums.hpp (header-only C++11): tests/cpp/test_client.cpp and the
# example examples/cpp/update_qrcode.cpp, each compiled with every warning an
# error under C++11 and C++17 and run against the simulator (the tests start
# their own from UMS_SANDBOX; the example through scripts/demo).
.PHONY: test-cpp java-jar test-java-jar
CXXFLAGS_UMS := -Wall -Wextra -Werror -pedantic -O1 -g
CPP_STDS := c++11 c++17
test-cpp: lib | $(BUILD)
	@for std in $(CPP_STDS); do \
	  echo "== $$std"; \
	  $(CXX) -std=$$std $(CXXFLAGS_UMS) -Iinclude -Itests/cpp tests/cpp/test_client.cpp -o $(BUILD)/test_cpp_$$std \
	    -pthread $(LDFLAGS) $(LDLIBS) || exit 1; \
	  $(CXX) -std=$$std $(CXXFLAGS_UMS) -Iinclude examples/cpp/update_qrcode.cpp -o $(BUILD)/update_qrcode_cpp_$$std \
	    $(LDFLAGS) $(LDLIBS) || exit 1; \
	  $(BUILD)/test_cpp_$$std || exit 1; \
	  scripts/demo $(UMS_SANDBOX) $(BUILD)/update_qrcode_cpp_$$std || exit 1; \
	done

# The Java jar: bindings/java/build/chinaums-$(VERSION).jar with the classes
# (javac --release 8), the JNI glue and libums under native/<os>-<arch>/,
# loaded from the jar with no -D flag and no LD_LIBRARY_PATH
# (bindings/java/build-jar.sh). test-java-jar builds it, then compiles and
# runs a quickstart with `java -cp chinaums.jar:.` alone from a temporary
# directory outside the repository, and two JVMs loading it at once.
java-jar: lib
	bindings/java/build-jar.sh

test-java-jar: lib
	bindings/java/test-jar.sh

# The fleet test (tests/fleet/run.py): 50 processes (C through the ABI,
# Python, PHP) share one appId's tokens through Redis against one simulator;
# then one token per process ("memory") must hit the 10-token limit; then 12
# php-fpm style processes get exactly one token; notifications are claimed
# once by 8 receivers. Needs redis-server (scripts/setup). Under 2 minutes.
test-fleet: lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) tests/fleet/worker.c -o $(BUILD)/fleet_worker $(LDFLAGS) $(LDLIBS)
	python3 tests/fleet/run.py $(BUILD)/fleet_worker

# Every benchmark row in one table (BENCHMARKS.md); under 10 minutes.
bench: lib
	scripts/bench

clean:
	rm -rf $(BUILD)
	$(CARGO) clean
