# calsync — two-way Google Calendar sync for an online booking product.
# `make run` starts the whole system locally; `make test` runs every test (CI runs exactly that).
SHELL := /bin/bash
GO ?= go
TOOLS := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2
PKGS := ./...

.PHONY: run test test-go bench-smoke lint tools package bench soak fuzz tf-check clean

run: ## the whole system locally on the real emulators (Ctrl-C stops everything)
	scripts/dev.sh

test: lint test-go bench-smoke tf-check ## every test: lint, unit + emulator + end-to-end + browser tests, benchmarks once, Terraform checks

test-go:
	scripts/ensure-chromium.sh
	scripts/with-emulators.sh $(GO) test -count=1 -timeout 25m $(PKGS)

bench-smoke: ## every benchmark once, so their own correctness checks run in CI (numbers: make bench)
	scripts/with-emulators.sh $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 15m $(PKGS)

lint: tools
	@echo "[lint] gofmt"; out=$$(gofmt -l functions shared scripts); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "[lint] go vet"; $(GO) vet $(PKGS)
	@echo "[lint] staticcheck"; $(TOOLS)/staticcheck $(PKGS)

tools:
	@test -x $(TOOLS)/staticcheck || { echo "[tools] installing staticcheck $(STATICCHECK_VERSION)"; $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }

package: ## deploy archives, one zip per function, in dist/functions
	scripts/package.sh dist/functions

bench: ## every benchmark at full size and the 10,000-channel renewal simulation; rewrites the generated section of docs/benchmarks.md
	scripts/with-emulators.sh scripts/bench.sh

soak: ## the convergence test with 10,000 random histories (make test runs 1,000)
	CONVERGENCE_HISTORIES=10000 scripts/with-emulators.sh $(GO) test -count=1 -timeout 180m -run Convergence -v ./shared/syncer/

fuzz: ## run each fuzz target for FUZZTIME (default 20s)
	scripts/fuzz.sh $${FUZZTIME:-20s}

tf-check: ## terraform fmt, tflint, validate, plan (offline provider) and policy checks
	scripts/tf-check.sh

clean:
	rm -rf dist
