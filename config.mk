# tinyweb build configuration
VERSION = 0.1.0

PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man
# systemd units (dist/systemd); systemd reads /usr/local/lib/systemd/system
UNITDIR = $(PREFIX)/lib/systemd/system

CC = cc
CPPFLAGS = -Imodules -D_GNU_SOURCE -DVERSION=\"$(VERSION)\"
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wmissing-declarations -Wpointer-arith \
       -Wcast-qual -Wformat=2
CFLAGS = -std=gnu17 -O2 -g $(WARN)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
MAGIC_LIBS = $(shell pkg-config --libs libmagic 2>/dev/null || echo -lmagic)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
SSL_LIBS = $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
LDLIBS = $(MAGIC_LIBS) $(SSL_LIBS) -lpthread

FUZZCC = clang
FUZZFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined
FUZZ_SECONDS = 30
FUZZ_LONG_SECONDS = 1800
