# tinyweb build configuration
VERSION = 0.1.0

PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man
# systemd units (dist/systemd); systemd reads /usr/local/lib/systemd/system
UNITDIR = $(PREFIX)/lib/systemd/system

CC = cc
CPPFLAGS = -Imodules -D_GNU_SOURCE -DVERSION=\"$(VERSION)\" $(EXTRA_CPPFLAGS)
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wmissing-declarations -Wpointer-arith \
       -Wcast-qual -Wformat=2
CFLAGS = -std=gnu17 -O2 -g $(WARN) $(EXTRA_CFLAGS)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
MAGIC_LIBS = $(shell pkg-config --libs libmagic 2>/dev/null || echo -lmagic)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
SSL_LIBS = $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
COMPRESS_LIBS = -ldeflate -lbrotlienc -lzstd
# libxcrypt: bcrypt and SHA-crypt checks of auth_basic_user_file
CRYPT_LIBS = $(shell pkg-config --libs libxcrypt 2>/dev/null || echo -lcrypt)
LDLIBS = $(MAGIC_LIBS) $(SSL_LIBS) $(COMPRESS_LIBS) $(CRYPT_LIBS) -lpthread

FUZZCC = clang
FUZZFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined
FUZZ_SECONDS = 30
FUZZ_LONG_SECONDS = 1800

# zsh's directory for completions: site-functions is zsh's own default;
# Debian's zsh reads packages' completions from vendor-completions
# (debian/rules says so).
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions
# Flags a distribution's build adds after the project's own, which stay:
# debian/rules passes dpkg-buildflags' hardening flags here.
EXTRA_CFLAGS =
EXTRA_CPPFLAGS =
LDFLAGS =
