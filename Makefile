# libanimate - GNU Makefile
#
#   make                 library (build/libanimate.a, .so), examples, tests
#   make test            CPU test suite (no GPU needed)
#   make test-gpu        GPU op tests; skip with a message when no device / no CUDA build
#   make bench           bench binaries
#   make install PREFIX=/usr/local
#
# The CUDA backend is compiled when nvcc is found (CUDA=0 turns it off) for
# sm_80, sm_89, sm_90a (Hopper-only instructions allowed there) plus PTX.
# libpng / libwebp / libjpeg(-turbo) are optional (image I/O); the CUDA parts build without them.

CC      ?= cc
CXX     ?= c++
NVCC    ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
PREFIX  ?= /usr/local
BUILD   ?= build

# -ffp-contract=off everywhere: the CPU backend is the numerical reference and
# must not fuse multiply-adds differently from one compiler to the next.
OPT     ?= -O2
CFLAGS_BASE := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter $(OPT) -g -fPIC \
               -ffp-contract=off -fno-fast-math -pthread \
               -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib
LDLIBS_BASE := -lm -pthread

ifeq ($(SAN),1)
  CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDLIBS_BASE += -fsanitize=address,undefined
endif

# ---- CUDA ---------------------------------------------------------------
ifeq ($(CUDA),0)
  USE_CUDA := 0
else ifneq ($(NVCC),)
  USE_CUDA := 1
else
  USE_CUDA := 0
endif

ifeq ($(USE_CUDA),1)
  CUDA_HOME   ?= $(patsubst %/bin/nvcc,%,$(NVCC))
  CUDA_ARCHS  ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_89,code=sm_89 \
                 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90
  NVCCFLAGS   ?= -O3 -std=c++17 $(CUDA_ARCHS) -Xcompiler -fPIC -Xcompiler -Wall \
                 -fmad=true -Iinclude -Ilib -Ikernels
  CFLAGS_BASE += -DANIM_WITH_CUDA=1 -DANIM_WITH_CUBLASLT=1 -I$(CUDA_HOME)/include -Ikernels
  LDLIBS_BASE += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublasLt -lcublas -lcudart -lstdc++
endif

# ---- optional image I/O ---------------------------------------------------
PKG_CONFIG ?= pkg-config
HAVE_PNG  := $(shell $(PKG_CONFIG) --exists libpng 2>/dev/null && echo 1 || echo 0)
HAVE_WEBP := $(shell $(PKG_CONFIG) --exists libwebp libwebpmux libwebpdemux 2>/dev/null && echo 1 || echo 0)
HAVE_JPEG := $(shell $(PKG_CONFIG) --exists libjpeg 2>/dev/null && echo 1 || echo 0)
ifeq ($(HAVE_PNG),1)
  CFLAGS_BASE += -DANIM_WITH_PNG=1 $(shell $(PKG_CONFIG) --cflags libpng)
  LDLIBS_BASE += $(shell $(PKG_CONFIG) --libs libpng)
endif
ifeq ($(HAVE_WEBP),1)
  CFLAGS_BASE += -DANIM_WITH_WEBP=1 $(shell $(PKG_CONFIG) --cflags libwebp libwebpmux libwebpdemux)
  LDLIBS_BASE += $(shell $(PKG_CONFIG) --libs libwebp libwebpmux libwebpdemux)
endif
ifeq ($(HAVE_JPEG),1)
  CFLAGS_BASE += -DANIM_WITH_JPEG=1 $(shell $(PKG_CONFIG) --cflags libjpeg)
  LDLIBS_BASE += $(shell $(PKG_CONFIG) --libs libjpeg)
endif

CFLAGS += $(CFLAGS_BASE)
LDLIBS += $(LDLIBS_BASE)

# ---- sources ------------------------------------------------------------
LIB_SRC  := $(wildcard lib/*.c lib/util/*.c lib/io/*.c lib/nn/*.c lib/cpu/*.c lib/pipe/*.c lib/pose/*.c lib/audio/*.c)
ifeq ($(USE_CUDA),1)
  LIB_SRC  += $(wildcard lib/cuda/*.c)
  CU_SRC   := $(wildcard kernels/*.cu)
endif
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(CU_SRC:%.cu=$(BUILD)/obj/%.cu.o)

TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
GPU_TEST_SRC := $(wildcard tests/gpu/*.c)
GPU_TEST_OBJ := $(GPU_TEST_SRC:%.c=$(BUILD)/obj/%.o)
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/%,$(wildcard examples/*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/%,$(wildcard bench/*.c))

.PHONY: all lib examples tests test test-gpu bench install clean info
all: info lib examples tests

info:
	@echo "libanimate: CUDA backend $(if $(filter 1,$(USE_CUDA)),yes ($(NVCC)),no)  PNG $(HAVE_PNG)  WebP $(HAVE_WEBP)  JPEG $(HAVE_JPEG)  SAN $(if $(SAN),$(SAN),0)"

lib: $(BUILD)/libanimate.a $(BUILD)/libanimate.so

$(BUILD)/libanimate.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libanimate.so: $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

examples: $(EXAMPLES)
$(BUILD)/%: examples/%.c $(BUILD)/libanimate.a
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libanimate.a $(LDLIBS)

# ---- tests ----------------------------------------------------------------
tests: $(BUILD)/tests/run_tests $(BUILD)/tests/header_cpp $(BUILD)/tests/run_gpu_tests

$(BUILD)/tests/run_tests: $(TEST_OBJ) $(BUILD)/libanimate.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_OBJ) -o $@ $(BUILD)/libanimate.a $(LDLIBS)

# the public header must compile as C++ too
$(BUILD)/tests/header_cpp: tests/cpp/header_cpp.cpp include/animate.h $(BUILD)/libanimate.a
	@mkdir -p $(@D)
	$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude $< -o $@ $(BUILD)/libanimate.a $(LDLIBS)

$(BUILD)/tests/run_gpu_tests: $(GPU_TEST_OBJ) $(BUILD)/obj/tests/test_util.o $(BUILD)/obj/tests/main.o $(BUILD)/libanimate.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GPU_TEST_OBJ) $(BUILD)/obj/tests/test_util.o $(BUILD)/obj/tests/main.o -o $@ $(BUILD)/libanimate.a $(LDLIBS)

test: tests
	./$(BUILD)/tests/header_cpp
	./$(BUILD)/tests/run_tests

test-gpu: $(BUILD)/tests/run_gpu_tests
	./$(BUILD)/tests/run_gpu_tests

# ---- bench ----------------------------------------------------------------
bench: $(BENCHES)
# bench_conv compares with cuDNN when its header is found (cuDNN 9 legacy conv API)
ifeq ($(USE_CUDA),1)
  HAVE_CUDNN ?= $(shell printf '\043include <cudnn.h>\n' | $(CC) -I$(CUDA_HOME)/include -E -x c - >/dev/null 2>&1 && echo 1 || echo 0)
  ifeq ($(HAVE_CUDNN),1)
    $(BUILD)/bench_conv: private CFLAGS += -DANIM_BENCH_CUDNN=1
    $(BUILD)/bench_conv: private LDLIBS += -lcudnn
  endif
endif
$(BUILD)/bench_%: bench/bench_%.c $(BUILD)/libanimate.a
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libanimate.a $(LDLIBS)

# ---- install --------------------------------------------------------------
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/animate.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/libanimate.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libanimate.so $(DESTDIR)$(PREFIX)/lib/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/^#define ANIM_VERSION_STRING "\(.*\)"/\1/p' include/animate.h)|' \
	    -e 's|@LIBS_PRIVATE@|$(LDLIBS_BASE)|' tools/animate.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/animate.pc

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(GPU_TEST_OBJ:.o=.d)

# ---- fuzzing ----------------------------------------------------------------
# libFuzzer harnesses for every parser of untrusted input (tests/fuzz/README.md).
#
#   make fuzz-build        build $(FUZZ_BUILD)/fuzz_<name> with clang, ASan + UBSan + libFuzzer
#   make fuzz              build, replay tests/fuzz/regress/<name>/, then run every harness for
#                          FUZZ_SECONDS (default 60), FUZZ_JOBS (default 2) at a time, each on a
#                          copy of its seed corpus in $(FUZZ_BUILD)/corpus/<name>; fails on any
#                          crash, leak, timeout or out-of-memory, whose input lands in
#                          $(FUZZ_BUILD)/crashes/<name>-*; logs in $(FUZZ_BUILD)/logs/
#   make fuzz-<name>       the same for one harness (make fuzz-wav FUZZ_SECONDS=600)
#   make fuzz-regress      only the replay of tests/fuzz/regress/
#
# The library is compiled again, CPU only, with the same sanitizers and the
# fuzzer's coverage instrumentation (-fsanitize=fuzzer-no-link) into
# $(FUZZ_BUILD)/; PNG / WebP / JPEG as detected above. Nothing is written
# under tests/fuzz. FUZZ_ARGS adds libFuzzer flags (e.g. FUZZ_ARGS=-jobs=4).
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_ARGS    ?=
FUZZ_NAMES   := json safetensors pth pickle image wav pose_json config
# largest input per harness: a few times the biggest seed of each format
FUZZ_MAXLEN_json        := 8192
FUZZ_MAXLEN_safetensors := 65536
FUZZ_MAXLEN_pth         := 65536
FUZZ_MAXLEN_pickle      := 16384
FUZZ_MAXLEN_image       := 32768
FUZZ_MAXLEN_wav         := 32768
FUZZ_MAXLEN_pose_json   := 16384
FUZZ_MAXLEN_config      := 16384
FUZZ_RUN_FLAGS = -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -O1 -g $(FUZZ_SAN) \
               -ffp-contract=off -fno-fast-math -pthread \
               -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib \
               $(if $(filter 1,$(HAVE_PNG)),-DANIM_WITH_PNG=1 $(shell $(PKG_CONFIG) --cflags libpng)) \
               $(if $(filter 1,$(HAVE_WEBP)),-DANIM_WITH_WEBP=1 $(shell $(PKG_CONFIG) --cflags libwebp libwebpmux libwebpdemux)) \
               $(if $(filter 1,$(HAVE_JPEG)),-DANIM_WITH_JPEG=1 $(shell $(PKG_CONFIG) --cflags libjpeg))
FUZZ_LDLIBS := -lm -pthread \
               $(if $(filter 1,$(HAVE_PNG)),$(shell $(PKG_CONFIG) --libs libpng)) \
               $(if $(filter 1,$(HAVE_WEBP)),$(shell $(PKG_CONFIG) --libs libwebp libwebpmux libwebpdemux)) \
               $(if $(filter 1,$(HAVE_JPEG)),$(shell $(PKG_CONFIG) --libs libjpeg))
FUZZ_LIB_SRC := $(wildcard lib/*.c lib/util/*.c lib/io/*.c lib/nn/*.c lib/cpu/*.c lib/pipe/*.c lib/pose/*.c lib/audio/*.c)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build fuzz-regress $(addprefix fuzz-,$(FUZZ_NAMES)) $(addprefix fuzz-regress-,$(FUZZ_NAMES))

fuzz-build: $(FUZZ_BINS)

# clang with its libFuzzer and sanitizer runtimes (Debian splits them out:
# libclang-rt-14-dev is only a Recommends of clang)
$(FUZZ_BUILD)/.cc-ok:
	@mkdir -p $(@D)
	@printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }\n' > $(@D)/.cc-probe.c
	@$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(@D)/.cc-probe.c -o $(@D)/.cc-probe 2>$(@D)/.cc-probe.log || { \
	  echo "make fuzz needs clang with the libFuzzer and sanitizer runtimes (FUZZ_CC=$(FUZZ_CC));" \
	       "on Debian: apt-get install clang libclang-rt-dev (or libclang-rt-14-dev)"; cat $(@D)/.cc-probe.log; exit 1; }
	@touch $@

$(FUZZ_BUILD)/obj/%.o: %.c | $(FUZZ_BUILD)/.cc-ok
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/libanimate_fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libanimate_fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d $< -o $@ $(FUZZ_BUILD)/libanimate_fuzz.a $(FUZZ_LDLIBS)

# every harness once over its saved reproducers (a fixed bug must stay fixed)
fuzz-regress: $(addprefix fuzz-regress-,$(FUZZ_NAMES))
$(addprefix fuzz-regress-,$(FUZZ_NAMES)): fuzz-regress-%: $(FUZZ_BUILD)/fuzz_%
	@set -- $(wildcard tests/fuzz/regress/$*/*); [ $$# -eq 0 ] || { \
	  mkdir -p $(FUZZ_BUILD)/logs; \
	  if UBSAN_OPTIONS=print_stacktrace=1 ./$< $(FUZZ_RUN_FLAGS) "$$@" > $(FUZZ_BUILD)/logs/regress_$*.log 2>&1; then \
	    echo "fuzz $*: $$# regression input(s) pass"; \
	  else \
	    echo "fuzz $*: a regression input fails (tests/fuzz/regress/$*/):"; tail -n 40 $(FUZZ_BUILD)/logs/regress_$*.log; exit 1; \
	  fi; }

# one harness: replay, then FUZZ_SECONDS of fuzzing on a copy of the seeds
$(addprefix fuzz-,$(FUZZ_NAMES)): fuzz-%: $(FUZZ_BUILD)/fuzz_% fuzz-regress-%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/crashes $(FUZZ_BUILD)/logs
	@cp -R tests/fuzz/corpus_$*/. $(FUZZ_BUILD)/corpus/$*/
	@echo "fuzz $*: $(FUZZ_SECONDS) s, -max_len=$(FUZZ_MAXLEN_$*), log $(FUZZ_BUILD)/logs/$*.log"
	@if UBSAN_OPTIONS=print_stacktrace=1 ./$< $(FUZZ_RUN_FLAGS) -max_len=$(FUZZ_MAXLEN_$*) \
	      -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_BUILD)/crashes/$*- $(FUZZ_ARGS) \
	      $(FUZZ_BUILD)/corpus/$* $(wildcard tests/fuzz/regress/$*) > $(FUZZ_BUILD)/logs/$*.log 2>&1; then \
	  echo "fuzz $*: ok: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' $(FUZZ_BUILD)/logs/$*.log | grep -o '[0-9]*$$') execs," \
	       "$$(grep -o 'cov: [0-9]* ft: [0-9]*' $(FUZZ_BUILD)/logs/$*.log | tail -n 1), corpus $$(ls $(FUZZ_BUILD)/corpus/$* | wc -l) files"; \
	else \
	  echo "fuzz $*: FAILED (input saved as $(FUZZ_BUILD)/crashes/$*-*):"; tail -n 60 $(FUZZ_BUILD)/logs/$*.log; exit 1; \
	fi

fuzz: fuzz-build
	@$(MAKE) --no-print-directory -k -j$(FUZZ_JOBS) $(addprefix fuzz-,$(FUZZ_NAMES))

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BINS:=.d)
