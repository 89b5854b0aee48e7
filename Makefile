# Tradeloop: `make dev` runs the whole stack, `make test` runs every test.

GO          ?= go
BIN         := $(CURDIR)/bin
SQLC_VERSION := v1.31.1
SQLC        := $(BIN)/sqlc-$(SQLC_VERSION)
STRIPE_MOCK_VERSION := v0.203.0
STRIPE_MOCK := $(BIN)/stripe-mock-$(STRIPE_MOCK_VERSION)
WORKFLOWCHECK_VERSION := v0.6.0
WORKFLOWCHECK := $(BIN)/workflowcheck-$(WORKFLOWCHECK_VERSION)
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(BIN)/staticcheck-$(STATICCHECK_VERSION)
GOTEST_FLAGS ?=

.PHONY: dev build test bench bench-load bench-latency bench-readmodel bench-search bench-funnel vet fmt-check lint workflowcheck generate generate-check tools clean

## dev: the whole stack in one process (Temporal + UI, PostgreSQL, worker, API)
dev: build
	exec $(BIN)/tradeloop dev

## build: the three binaries into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## test: vet, formatting, workflow determinism, generated code freshness, every test with -race, a short fuzz
# The fault tests are bounded by the deals' progress, not the clock: on a
# machine busy with a second test run they take longer, so a package gets
# 40 minutes before go test gives up on it (a quiet machine needs about 3).
# The fuzz run is bounded by executions, not seconds: Go 1.26's fuzz
# coordinator can report "context deadline exceeded" when a -fuzztime
# duration runs out on a busy machine (go.dev/issue/75804, fixed in 1.27).
test: vet fmt-check lint workflowcheck generate-check $(STRIPE_MOCK)
	STRIPE_MOCK_BIN=$(STRIPE_MOCK) $(GO) test -race -count=1 -timeout 40m $(GOTEST_FLAGS) ./...
	$(GO) test -run '^$$' -fuzz FuzzDecodeCreateDeal -fuzztime 5000x ./api

## bench: every benchmark, one after the other (figures in the README)
bench: bench-load bench-latency bench-readmodel bench-search bench-funnel

## bench-load: `tradeloop bench`: whole deals through the API of a dev stack it starts, then the baseline workflow, and the ratio; BENCH_FLAGS adds options
BENCH_FLAGS ?=
bench-load: build
	$(BIN)/tradeloop bench -out $(BIN)/bench.json $(BENCH_FLAGS)

## bench-latency: `tradeloop bench -latency`: single requests at 1 and 16 clients at once (an action, the raw SDK update, a read)
bench-latency: build
	$(BIN)/tradeloop bench -latency 400 -out $(BIN)/bench-latency.json $(BENCH_FLAGS)

## bench-readmodel: the read-model queries on 100,000 deals
bench-readmodel:
	$(GO) test -run '^$$' -bench ReadModel -benchtime 2000x -v ./internal/readmodel

## bench-search: the product search on 100,000 products
bench-search:
	$(GO) test -run '^$$' -bench Search100k -benchtime 300x ./internal/marketplace

## bench-funnel: the funnel's figures on a year of 1,000,000 product views and 100,000 deals
bench-funnel:
	$(GO) test -run '^$$' -bench Funnel1M -benchtime 50x ./internal/marketplace

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## lint: staticcheck with the rule set of staticcheck.conf
lint: $(STATICCHECK)
	$(STATICCHECK) ./...

## workflowcheck: no non-deterministic call reachable from workflow code
workflowcheck: $(WORKFLOWCHECK)
	$(WORKFLOWCHECK) ./workflows/... ./internal/bench/baseline/...

## generate: regenerate db/store from db/queries and db/migrations
generate: $(SQLC)
	$(SQLC) generate

## generate-check: fail when the committed sqlc output is stale
generate-check: $(SQLC)
	@$(SQLC) diff || { echo "db/store is stale: run 'make generate' and commit the result"; exit 1; }

## tools: the pinned code generator, checker and Stripe mock, installed into ./bin
tools: $(SQLC) $(WORKFLOWCHECK) $(STATICCHECK) $(STRIPE_MOCK)

$(SQLC):
	@mkdir -p $(BIN)
	GOBIN=$(BIN)/.sqlc $(GO) install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)
	mv $(BIN)/.sqlc/sqlc $@ && rmdir $(BIN)/.sqlc

$(WORKFLOWCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN)/.wfc $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)
	mv $(BIN)/.wfc/workflowcheck $@ && rmdir $(BIN)/.wfc

$(STATICCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN)/.sc $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(BIN)/.sc/staticcheck $@ && rmdir $(BIN)/.sc

$(STRIPE_MOCK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN)/.smock $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)
	mv $(BIN)/.smock/stripe-mock $@ && rmdir $(BIN)/.smock

clean:
	rm -rf $(BIN)
