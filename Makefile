# tern -- one Makefile for every program, test and benchmark.
#
#   make            build everything into build/
#   make run        install what is missing, build, run the pipeline locally
#   make test       the same, then every unit test and bats scenario
#   make bench      the benchmarks the issues name (BENCH lines)
#   make fuzz       libFuzzer targets for the codecs (clang)
#   make install    PREFIX=/usr/local DESTDIR=...
#   make SANITIZE=1 test   the same under AddressSanitizer + UBSan
#   make WERROR=1   warnings are errors (CI sets it)
#
# Libraries come through pkg-config; deps.sh installs whatever pkg-config
# cannot find before anything is compiled.

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc

ifeq ($(SANITIZE),1)
BUILD	?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	   -fno-omit-frame-pointer
OPT	?= -O1
else
BUILD	?= build
SANFLAGS =
# C has no exceptions and tern never unwinds at run time, so no
# .eh_frame: 15 kB less of tern-sampler to map (make bench:
# sampler.rss_kb).  -g still gives a debugger .debug_frame.  The
# sanitizers keep their tables, for their stack traces.
UNWIND	= -fno-asynchronous-unwind-tables
# The static libraries tern-sampler links were built with the tables:
# 28 kB of .eh_frame and its index, mapped and resident with the
# read-only data beside them.  The link leaves out the index (and so the
# program header that points at it), and objcopy removes the tables.
SAMPLER_NOEH_LD = -Wl,--no-eh-frame-hdr
SAMPLER_NOEH	= objcopy --remove-section=.eh_frame $@
OPT	?= -O2
endif

# msgpack-c's pkg-config name changed between 4.x and 6.x.
MSGPACK_PC := $(shell pkg-config --exists msgpack-c 2>/dev/null && echo msgpack-c || echo msgpack)
PKGS	= sqlite3 libevent libconfig libcurl zlib $(MSGPACK_PC)

WARN	= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wpointer-arith -Wformat=2 -Wvla -Wcast-qual -Wwrite-strings \
	  -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN	+= -Werror
endif

CFLAGS	?= $(OPT) -g
# A section per function and object, so that a link with --gc-sections
# (tern-sampler's, below) leaves out what the program never calls.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(UNWIND) \
	  -ffunction-sections -fdata-sections \
	  -Iproto -Iwriter -Isampler -Iuploader -Ireceiver $(PKG_CFLAGS) -MMD -MP
LDLIBS	= $(PKG_LIBS) -lm
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# Resolved lazily so that `make` on a fresh machine runs deps.sh first.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# tern-sampler runs on every device all the time, and its resident memory
# is a budget (make bench: sampler.rss_kb, 2 MB).  Each shared object costs
# resident pages of its own (its symbol tables, relocated data, the
# dynamic linker's work), so the sampler links the libraries it needs --
# libevent's core, libconfig, msgpack-c -- from their static archives,
# which the -dev packages ship: only the objects it calls come in, and
# --gc-sections drops the functions of those (and of libproto) that it
# never calls.  libcurl stays out of the link; sampler/fetch.c dlopens it
# when a URL is fetched.
#   Linking glibc statically too (-static-pie; dlopen of libcurl still
# works) was measured and left out: VmRSS falls from 2.15 MB to 1.32 MB,
# but the 1.4 MB of libc.so that VmRSS counts are pages every process on
# the machine shares, while a static sampler's 1 MB of text is its own --
# its Pss rose from 0.69 MB to 1.32 MB.  The smaller figure would cost the
# device more memory.
SAMPLER_PKGS   = libevent_core libconfig $(MSGPACK_PC)
SAMPLER_LDLIBS = -Wl,--gc-sections -Wl,-Bstatic \
		 $(shell pkg-config --libs $(SAMPLER_PKGS) 2>/dev/null) \
		 -Wl,-Bdynamic -lm

# Per-program sources.  Each folder's main file is named after its program;
# everything else in the folder is a library the tests can link.
PROTO_SRCS   = $(wildcard proto/*.c)
WRITER_MAIN  = writer/writer.c
WRITER_SRCS  = $(filter-out $(WRITER_MAIN),$(wildcard writer/*.c))
SAMPLER_MAIN = sampler/sampler.c
SAMPLER_SRCS = $(filter-out $(SAMPLER_MAIN),$(wildcard sampler/*.c))
UPLOADER_MAIN = uploader/uploader.c
UPLOADER_SRCS = $(filter-out $(UPLOADER_MAIN),$(wildcard uploader/*.c))
RECEIVER_MAIN = receiver/receiver.c
RECEIVER_SRCS = $(filter-out $(RECEIVER_MAIN),$(wildcard receiver/*.c))
CTL_MAIN     = ctl/ternctl.c
CTL_SRCS     = $(filter-out $(CTL_MAIN),$(wildcard ctl/*.c))
UNIT_SRCS    = $(wildcard test/unit/test_*.c)
BENCH_SRCS   = $(wildcard test/bench/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBPROTO   = $(BUILD)/libproto.a
LIBWRITER  = $(BUILD)/libwriter.a
LIBSAMPLER = $(BUILD)/libsampler.a
LIBUPLOADER = $(BUILD)/libuploader.a
LIBRECEIVER = $(BUILD)/libreceiver.a
LIBCTL     = $(BUILD)/libctl.a
LIBS_ALL   = $(LIBRECEIVER) $(LIBUPLOADER) $(LIBWRITER) $(LIBSAMPLER) \
	     $(LIBCTL) $(LIBPROTO)

PROGS	= $(BUILD)/tern-writer $(BUILD)/tern-sampler $(BUILD)/ternctl \
	  $(if $(wildcard $(UPLOADER_MAIN)),$(BUILD)/tern-uploader) \
	  $(if $(wildcard $(RECEIVER_MAIN)),$(BUILD)/tern-receiver)
UNITS	= $(patsubst test/unit/%.c,$(BUILD)/test/%,$(UNIT_SRCS))
BENCHES	= $(patsubst test/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all deps run test unit bats bench fuzz install clean
# Keep objects that are only intermediate steps to a test binary.
.SECONDARY:
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory build-all

.PHONY: build-all
build-all: $(PROGS) $(UNITS) $(BENCHES)

deps:
	@./deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBPROTO): $(call obj,$(PROTO_SRCS))
$(LIBWRITER): $(call obj,$(WRITER_SRCS))
$(LIBSAMPLER): $(call obj,$(SAMPLER_SRCS))
$(LIBCTL): $(call obj,$(CTL_SRCS))
$(LIBUPLOADER): $(call obj,$(UPLOADER_SRCS))
# The JSON tokenizer is shared with the sampler's srt source.
$(LIBRECEIVER): $(call obj,$(RECEIVER_SRCS) sampler/json.c)
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/tern-writer: $(call obj,$(WRITER_MAIN)) $(LIBWRITER) $(LIBPROTO)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tern-sampler: $(call obj,$(SAMPLER_MAIN)) $(LIBSAMPLER) $(LIBPROTO)
	$(CC) $(ALL_LDFLAGS) $(SAMPLER_NOEH_LD) -o $@ $^ $(SAMPLER_LDLIBS)
	$(SAMPLER_NOEH)
$(BUILD)/ternctl: $(call obj,$(CTL_MAIN)) $(LIBCTL) $(LIBWRITER) $(LIBPROTO)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tern-uploader: $(call obj,$(UPLOADER_MAIN)) $(LIBUPLOADER) $(LIBPROTO)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tern-receiver: $(call obj,$(RECEIVER_MAIN)) $(LIBRECEIVER) $(LIBWRITER) $(LIBPROTO)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/%: $(BUILD)/test/unit/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bench/%: $(BUILD)/test/bench/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# The pipeline on this machine, on the default configuration, under ./run.
run: all
	@BUILD=$(BUILD) test/pipeline.sh run

# Unit tests and bats scenarios, counted together; the last line printed is
# "N passed, N failed".  TESTS=pattern narrows the bats scenarios.
test: all
	@BUILD=$(BUILD) test/run.sh $(TESTS)

bench: all
	@BUILD=$(BUILD) test/bench/run.sh

FUZZ_SRCS = $(wildcard test/fuzz/fuzz_*.c)
fuzz: deps
	@mkdir -p build-fuzz
	@for f in $(FUZZ_SRCS); do \
		n=$$(basename $$f .c); \
		echo "clang fuzz $$n"; \
		clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		    -Iproto -Iwriter $$(pkg-config --cflags $(PKGS)) \
		    -o build-fuzz/$$n $$f $(PROTO_SRCS) writer/chunk.c \
		    $$(pkg-config --libs $(PKGS)) -lm || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/tern \
	    $(DESTDIR)/lib/systemd/system
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	test -e $(DESTDIR)/etc/tern/tern.conf || \
	    install -m 0644 conf/tern.conf $(DESTDIR)/etc/tern/tern.conf
	install -m 0644 systemd/*.service systemd/*.target \
	    $(DESTDIR)/lib/systemd/system/
	install -d $(DESTDIR)/usr/lib/sysusers.d
	install -m 0644 systemd/tern.sysusers $(DESTDIR)/usr/lib/sysusers.d/tern.conf

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
