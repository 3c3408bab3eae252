# make test: installs what the test tiers need (as root), then vets and runs
# every test tier this machine can run, with the race detector.
# EOS_STORAGE_STRICT=1 (set by .ci/run) turns every skipped tier into a failure.
GO ?= go
TESTFLAGS ?= -race -timeout 45m

.PHONY: test deps vet unit bench fuzz

test: deps vet
	$(GO) test $(TESTFLAGS) ./...

# deps installs the Debian packages, then prepares the VM tier's guest assets
# and util-linux's own test data (blkid images, lsblk dumps) (both cached; a no-op when present).
# Without root they only say what they skip.
deps:
	./scripts/install-test-deps.sh
	@if [ "$$(id -u)" = 0 ]; then ./scripts/vm-assets.sh && ./scripts/util-linux-tests.sh; else echo "deps: not root, VM tier and util-linux test data will skip"; fi

vet:
	$(GO) vet ./...

# unit: the tests that need no privileges and no tools (what a laptop runs).
unit:
	$(GO) test -race -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
