# Entry points for people and CI. `make demo` is the main job: from a fresh Debian 12 (as root) it installs
# the dependencies, builds kbz-install, starts the local lab fleet and runs apply --all --failover on it.
#   make build | test | demo | lab-up [PROFILE=base|redis|pg|rabbitmq|galera|minio|k8s|full|ci] | lab-down
#   make lab-status | lab-images | lab-selftest (the lab alone, plain OpenSSH) | lab-ci (every lab test, one lab)
#   make ci-module2 | ci-module3 | ci-module4 | ci-module5 | ci-module6 | ci-module7 | ci-module8 | ci-module9 | ci-volume | ci-apply-all
#     (one module, or the chain, on its own small lab)
#   make sample-reports (demo, then its reports into reports/lab/) — LAB_INSTANCE=N picks a lab of its own
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= 2
PROFILE ?= base
LAB := tests/lab/lab.sh

.PHONY: help deps build test demo lab-up lab-down lab-purge lab-status lab-images lab-selftest lab-ci ci-module2 ci-module3 ci-module4 ci-module5 ci-module6 ci-module7 ci-module8 ci-module9 ci-volume ci-apply-all sample-reports

help:
	@sed -n '1,7p' Makefile | sed 's/^# \{0,1\}//'

deps:
	bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja

build: $(BUILD_DIR)/build.ninja
	ninja -C $(BUILD_DIR) -j$(JOBS)

test: deps build
	ctest --test-dir $(BUILD_DIR) --output-on-failure

demo:
	JOBS=$(JOBS) tests/lab/demo.sh

# reports/lab/: the lab's reports and SUIVI as samples for readers of the repository (runs the demo first).
sample-reports: demo
	tests/lab/sample-reports.sh

lab-up:
	$(LAB) up --profile $(PROFILE)

lab-down:
	$(LAB) down

# Also removes the cached images and the bundle, and stops the dockerd the lab started.
lab-purge:
	$(LAB) down --purge

lab-status:
	$(LAB) status

lab-images:
	$(LAB) images

# Proves the lab itself with plain OpenSSH (no kbz-install needed), then takes it down.
lab-selftest:
	LAB_PROFILE=$(PROFILE) tests/lab/selftest.sh

# Every lab test through ctest's shared fixture: lab_setup (profile ci + module 2), lab_moduleN, lab_cleanup.
lab-ci: build
	ctest --test-dir $(BUILD_DIR) -L lab --output-on-failure

ci-module2: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-module2.sh

ci-module3: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-module3.sh

ci-module4: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-module4.sh

ci-module9: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-module9.sh

ci-volume: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-volume.sh

ci-apply-all: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-apply-all.sh

ci-module6: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-module6.sh

ci-module5: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-module5.sh

ci-module7: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-module7.sh

ci-module8: build
	KBZ_BIN=$(CURDIR)/$(BUILD_DIR)/kbz-install tests/lab/ci-module8.sh
