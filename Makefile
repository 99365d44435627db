# kdpinn: the two commands of the README, and what they need.
#
#   make demo    install missing Debian packages, configure, build, run the default case (jobs/burgers.opts)
#                on $(NP) MPI ranks into $(DEMO_OUT)/, print where the results are
#   make check   install missing Debian packages, configure, build, run the CTest suite (the soak aside), then the unit
#                tests once more in an AddressSanitizer + UndefinedBehaviorSanitizer build, then each fuzz target
#                briefly (clang + libFuzzer build)
#
# Both are idempotent: packages, configuration and builds that are already there are reused.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 20
NP         ?= 2
DEMO_OUT   ?= demo
CASE       ?= jobs/burgers.opts
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# Everything kdpinn needs from Debian 12 to build, test and plot.
DEBIAN_PACKAGES = build-essential cmake pkg-config petsc-dev libhdf5-openmpi-dev hdf5-tools \
                  libscalapack-openmpi-dev openmpi-bin libopenmpi-dev libopenblas-dev libxsmm-dev \
                  python3-numpy python3-h5py python3-matplotlib slurm-wlm munge \
                  python3-torch clang libclang-rt-14-dev

# Open MPI refuses to run as root without these; 2-core machines need oversubscription for more ranks.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

.PHONY: all deps build demo check check-sanitize check-fuzz clean

all: build

deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "kdpinn: installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing > /dev/null || exit 1; \
	fi

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	mpiexec -n $(NP) $(BUILD)/kdpinn run -options_file $(CASE) -kd_out $(DEMO_OUT)
	@echo "kdpinn: results of $(CASE) are in $(DEMO_OUT)/: report.md and results.json (every model against the reference),"
	@echo "        figures/*.png, and reference_L*.xmf / prediction_*.xmf to open in ParaView"

check: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -LE soak
	$(MAKE) --no-print-directory check-sanitize
	$(MAKE) --no-print-directory check-fuzz

# The unit tests once more with AddressSanitizer + UndefinedBehaviorSanitizer. Open MPI's own allocations are not
# ours to fix, so leak detection is off; every other ASan/UBSan finding fails the test.
check-sanitize: deps
	@[ -f $(BUILD_ASAN)/CMakeCache.txt ] || cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DKDPINN_SANITIZE=ON -DKDPINN_NATIVE=OFF
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS) -L unit -LE long

# Every fuzz target (tests/fuzz: the readers of reference, model, checkpoint, observation, microstructure and options
# files) replays its regression inputs and fuzzes for FUZZ_SECONDS, in a clang + libFuzzer + ASan/UBSan build.
# Longer by hand: make check-fuzz FUZZ_SECONDS=600 (docs/testing.md).
check-fuzz: deps
	@[ -f $(BUILD_FUZZ)/CMakeCache.txt ] || CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DKDPINN_FUZZ=ON -DBUILD_SHARED_LIBS=OFF -DKDPINN_NATIVE=OFF
	cmake -S . -B $(BUILD_FUZZ) -DKD_FUZZ_SECONDS=$(FUZZ_SECONDS) > /dev/null
	cmake --build $(BUILD_FUZZ) -j$(JOBS) --target kdfuzz kdpinn-driver
	cd $(BUILD_FUZZ) && ctest --output-on-failure -j$(JOBS) -L fuzz

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
