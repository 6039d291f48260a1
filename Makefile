# tinyweb: see README.md. `make check` runs every test.
include config.mk

# One folder per layer, lowest first (modules/README.md); every .c in
# them is a module of the binary.
LAYERS = base net parse http run front
MODULES = $(basename $(notdir $(wildcard $(LAYERS:%=modules/%/*.c))))
FUZZERS = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# The source files of a list of module names.
sources = $(foreach m,$(1),$(wildcard $(LAYERS:%=modules/%/$(m).c)))

OBJ = $(MODULES:%=build/obj/%.o) build/obj/tinyweb.o
ASAN_OBJ = $(MODULES:%=build/asan/%.o) build/asan/tinyweb.o

# Each unit test links its module and only the modules below it: the link
# line is a second check of the layering.
TEST_DEPS_buf = buf
TEST_DEPS_pool = pool
TEST_DEPS_page = page buf
TEST_DEPS_url = url
TEST_DEPS_http_parse = http_parse
TEST_DEPS_coding = coding http_parse
TEST_DEPS_compress = compress coding http_parse conn resident aio loop page buf clock log pool stats shm
TEST_DEPS_chunked = chunked
TEST_DEPS_conf_parse = conf_parse
TEST_DEPS_mime = mime url stats shm
TEST_DEPS_fs = fs clock log stats shm
TEST_DEPS_listing = listing collate http_parse fs url buf clock log stats shm
TEST_DEPS_static = static listing collate compress coding conn aio pool resident http_parse mime fs url page buf clock log stats shm loop
TEST_DEPS_config = config opts scope pages cors access userfile htpasswd siphash upstreams return redirect conf_parse mode mime url status netmask compress coding health upstream http_response conn resident aio loop page log pool http_parse buf clock stats shm
TEST_DEPS_loop = loop clock
TEST_DEPS_conn = conn resident aio loop page buf clock log pool stats shm
TEST_DEPS_tls = tls tls_shared $(TEST_DEPS_conn)
TEST_DEPS_aio = aio loop clock
TEST_DEPS_resident = resident
TEST_DEPS_shmtx = shmtx shm
TEST_DEPS_channel = channel
TEST_DEPS_status = status netmask compress coding health upstream http_response http_parse conn resident aio loop page buf clock log pool stats shm
TEST_DEPS_http = http route exchange access_log vhost cors chunked http_parse url page buf clock log pool stats shm loop
TEST_DEPS_http_conn = $(TEST_DEPS_http)
TEST_DEPS_mode = mode
TEST_DEPS_upstream = upstream
TEST_DEPS_vhost = vhost
TEST_DEPS_return = return redirect http_parse buf
TEST_DEPS_cors = cors http_parse buf
TEST_DEPS_health = health upstream http_response http_parse conn resident aio loop page buf clock log pool stats shm
TEST_DEPS_http_response = http_response http_parse
TEST_DEPS_forward = forward http_response http_parse buf
TEST_DEPS_signals = signals
TEST_DEPS_pidfile = pidfile log
TEST_DEPS_log = log
TEST_DEPS_control = control pidfile log
TEST_DEPS_basic_auth = basic_auth
TEST_DEPS_htpasswd = htpasswd
TEST_DEPS_netmask = netmask
TEST_DEPS_throttle = throttle siphash
TEST_DEPS_auth = auth userfile htpasswd basic_auth netmask throttle siphash aio $(TEST_DEPS_http)
TEST_DEPS_collate = collate
TEST_DEPS_sockets = sockets listener conn resident aio loop page buf clock log pool stats shm
TEST_DEPS_listener = listener conn resident aio loop page buf clock log pool stats shm
TEST_DEPS_synq = synq
# Link flags of one test: listener's makes socket() and bind() of IPv6
# fail on demand (a kernel without IPv6).
TEST_LDFLAGS_listener = -Wl,--wrap=socket -Wl,--wrap=bind
# Sources compiled into one test only: http's fake transport (its seam),
# also under the whole-connection fuzzer.
TEST_EXTRA_http = tests/unit/support/fake_conn.c
TEST_EXTRA_http_conn = $(TEST_EXTRA_http)
TEST_EXTRA_auth = $(TEST_EXTRA_http)
TESTS = $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
TEST_BINS = $(TESTS:%=build/test/test_%)

all: build/tinyweb

build/tinyweb: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

build/tinyweb-asan: $(ASAN_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(ASAN_OBJ) $(LDLIBS)

# modules/<layer>/<module>.c: the folder is the module's layer (see
# modules/README.md); objects are flat, named for the module.
vpath %.c $(LAYERS:%=modules/%)

build/obj/%.o: %.c | build/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
build/asan/%.o: %.c | build/asan
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@

.SECONDEXPANSION:
build/test/test_%: tests/unit/test_%.c $$(addprefix build/asan/,$$(addsuffix .o,$$(TEST_DEPS_$$*))) $$(TEST_EXTRA_$$*) | build/test
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -Itests/unit -o $@ $< \
		$(TEST_EXTRA_$*) \
		$(addprefix build/asan/,$(addsuffix .o,$(TEST_DEPS_$*))) $(CMOCKA_LIBS) $(LDLIBS) \
		$(TEST_LDFLAGS_$*)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(call sources,$$(TEST_DEPS_$$*)) $$(TEST_EXTRA_$$*) | build/fuzz
	$(FUZZCC) $(CPPFLAGS) $(FUZZFLAGS) -Itests/unit -o $@ $< \
		$(TEST_EXTRA_$*) $(call sources,$(TEST_DEPS_$*)) $(LDLIBS)

build/obj build/asan build/test build/fuzz build/bench:
	mkdir -p $@

deps:
	@scripts/deps.sh --check >/dev/null 2>&1 || scripts/deps.sh

asan: build/tinyweb-asan

unit: $(TEST_BINS)

fuzz-build: $(FUZZERS:%=build/fuzz/fuzz_%)

# The fault injector (tests/fault/fault.c): an LD_PRELOAD library for
# tests/integration/test_faults.py, never part of the server.
fault-lib: build/test/libfault.so

build/test/libfault.so: tests/fault/fault.c | build/test
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

# make fuzz: each harness for FUZZ_SECONDS on its corpus.
fuzz: fuzz-build
	@for f in $(FUZZERS); do \
		mkdir -p build/fuzz/corpus-$$f; \
		echo "fuzz_$$f: $(FUZZ_SECONDS)s"; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) \
			build/fuzz/corpus-$$f tests/fuzz/corpus/$$f || exit 1; \
	done

# make fuzz-long: every harness at once, niced, for FUZZ_SECONDS given on
# the command line or FUZZ_LONG_SECONDS; summary in build/fuzz/long-report.txt.
fuzz-long: fuzz-build
	@tests/fuzz/long.sh $(if $(filter command line,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),$(FUZZ_LONG_SECONDS)) $(FUZZERS)

check: deps all asan unit fuzz-build bench-build fault-lib
	@tests/check.sh

check-layers:
	@scripts/check-layers.sh

check-headers:
	@scripts/check-headers.sh "$(CC)" "$(CPPFLAGS) $(CFLAGS)"

# make serve [DIR=./public] [PORT=8080] [BIND="127.0.0.1 ::1"]: PORT and
# BIND are -p and -b (every address without BIND).
DIR ?= ./public
PORT ?=
BIND ?=
serve: deps all
	@mkdir -p "$(DIR)"
	build/tinyweb serve "$(DIR)"$(if $(PORT), -p "$(PORT)")$(foreach b,$(BIND), -b "$(b)")

bench: all
	bench/run.sh

# make soak: bench/soak, a long run under mixed load with reloads and log
# rotation, sampling each server process's RSS and descriptors (not part
# of make check; see bench/README.md). 30 minutes a mode, one mode after
# another, unless SOAK_ARGS says otherwise, e.g.
# make soak SOAK_ARGS="--minutes 5 --mode prefork" or "--parallel".
SOAK_ARGS ?=
# make check-cluster: three tinyweb nodes in network namespaces behind
# HAProxy and behind tinyweb's own proxy (README: Behind a load balancer).
# Needs root, haproxy, rsync and iproute2; skips with the reason otherwise.
check-cluster: all
	python3 tests/cluster/test_cluster.py

soak: all
	bench/soak $(SOAK_ARGS)

# The blocking-I/O designs the benchmark compares the event loop with
# (bench/blocking.c): tinyweb's parsers linked in, not part of the server.
BENCH_DEPS = http_parse url fs mime clock log stats shm
bench-build: build/bench/blocking

build/bench/blocking: bench/blocking.c $(call sources,$(BENCH_DEPS)) | build/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ bench/blocking.c \
		$(call sources,$(BENCH_DEPS)) $(LDLIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 build/tinyweb $(DESTDIR)$(PREFIX)/bin/tinyweb
	install -m 644 man/tinyweb.1 $(DESTDIR)$(MANPREFIX)/man1/tinyweb.1
	install -d $(DESTDIR)$(MANPREFIX)/man5 $(DESTDIR)$(PREFIX)/share/tinyweb
	install -m 644 man/tinyweb.conf.5 $(DESTDIR)$(MANPREFIX)/man5/tinyweb.conf.5
	install -m 644 conf/tinyweb.conf conf/mime.types $(DESTDIR)$(PREFIX)/share/tinyweb/
	install -m 644 completions/tinyweb.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tinyweb
	install -m 644 completions/_tinyweb \
		$(DESTDIR)$(ZSHCOMPDIR)/_tinyweb
	install -m 644 completions/tinyweb.fish \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tinyweb.fish
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' dist/systemd/tinyweb.service.in \
		> $(DESTDIR)$(UNITDIR)/tinyweb.service
	chmod 644 $(DESTDIR)$(UNITDIR)/tinyweb.service
	install -m 644 dist/systemd/tinyweb.socket $(DESTDIR)$(UNITDIR)/tinyweb.socket

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tinyweb \
		$(DESTDIR)$(MANPREFIX)/man1/tinyweb.1 \
		$(DESTDIR)$(MANPREFIX)/man5/tinyweb.conf.5 \
		$(DESTDIR)$(PREFIX)/share/tinyweb/tinyweb.conf \
		$(DESTDIR)$(PREFIX)/share/tinyweb/mime.types \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tinyweb \
		$(DESTDIR)$(ZSHCOMPDIR)/_tinyweb \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tinyweb.fish
	rm -f $(DESTDIR)$(UNITDIR)/tinyweb.service $(DESTDIR)$(UNITDIR)/tinyweb.socket

# make deb: the Debian package, in build/deb, checked by lintian
# (scripts/deb.sh; README, "Debian package"). make check-deb installs it
# in a fresh Debian 12 chroot, serves a file and purges it: it needs root
# and the network, so make check leaves it out.
deb:
	@scripts/deb.sh

check-deb: deb
	@PYTHONPATH=tests/deb python3 tests/integration/run.py deb_chroot

.PHONY: deb check-deb

dist:
	git archive --prefix=tinyweb-$(VERSION)/ -o tinyweb-$(VERSION).tar.gz HEAD

clean:
	rm -rf build

-include $(wildcard build/obj/*.d build/asan/*.d)

.PHONY: all asan unit fuzz fuzz-build fuzz-long check check-cluster check-layers check-headers \
	deps serve bench bench-build soak fault-lib install uninstall dist clean
