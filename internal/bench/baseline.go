package bench

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/tradeloop/tradeloop/api"
	"github.com/tradeloop/tradeloop/internal/bench/baseline"
	"github.com/tradeloop/tradeloop/internal/dealclient"
	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/workflows"
)

// baselineAPI serves the routes a deal's client calls, with the Temporal
// calls the API makes for each, through the same deal client, and nothing
// else: no authentication, no
// idempotency keys, no database. Creating a deal starts the baseline
// workflow with the plan of the deal's kind and answers from its input, as
// the API does; a party action
// sends the update of the plan's step; the mediator's
// decision signals and queries. Reading a deal queries it: the API reads
// its read model instead, which the baseline does not have. Its routes
// live under /<kind>/, so one server holds every kind's plan.
type baselineAPI struct {
	// deals is the API's deal client (internal/deals) driving the
	// baseline's workflows instead: the same calls, timeouts and errors.
	deals *deals.Client
	plans map[dealclient.Kind]baseline.Plan
}

// newBaselineAPI serves the plans with the deal client of the task queue,
// driving the baseline workflow.
func newBaselineAPI(tc client.Client, taskQueue string, plans map[dealclient.Kind]baseline.Plan) *baselineAPI {
	wf := deals.Workflow{Name: baseline.WorkflowName, ID: func(id string) string { return "baseline-" + id }}
	return &baselineAPI{deals: deals.New(tc, taskQueue, api.DefaultDealTimeout).For(wf), plans: plans}
}

// updateOf names the deal update each action route sends, by the route's
// path under /deals/:id/ without its parameters ("quotes/accept",
// "payments"), from the API's route table.
var updateOf = func() map[string]string {
	out := map[string]string{}
	for path, update := range api.UpdateRoutes() {
		rest, ok := strings.CutPrefix(path, "/deals/:id/")
		if !ok {
			continue
		}
		var parts []string
		for _, seg := range strings.Split(rest, "/") {
			if !strings.HasPrefix(seg, ":") {
				parts = append(parts, seg)
			}
		}
		out[strings.Join(parts, "/")] = update
	}
	return out
}()

// baselineView is the baseline's state in the shape the deal client reads.
type baselineView struct {
	baseline.State
	Stage    string              `json:"stage"`
	Total    int64               `json:"total"`
	Quotes   []map[string]string `json:"quotes"`
	Contract map[string]string   `json:"contract"`
}

func (b *baselineAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	plan, ok := b.plans[dealclient.Kind(kind)]
	parts := strings.Split(strings.TrimPrefix(rest, "v1/deals"), "/")
	if !ok || !strings.HasPrefix(rest, "v1/deals") {
		http.NotFound(w, r)
		return
	}
	ctx := r.Context()
	switch {
	case r.Method == http.MethodPost && len(parts) == 1:
		id := uuid.NewString()
		if _, err := b.deals.StartWith(ctx, id, baseline.Input{ID: id, Plan: plan}); err != nil {
			fail(w, err)
			return
		}
		// As the API answers a create: from its input, without a query.
		write(w, http.StatusCreated, view(baseline.State{ID: id}))
	case r.Method == http.MethodGet && len(parts) == 2:
		b.answer(w, ctx, parts[1], http.StatusOK)
	case r.Method == http.MethodPost && len(parts) >= 3:
		id, action := parts[1], strings.Join(parts[2:], "/")
		if action == "dispute/decision" {
			if err := b.deals.Signal(ctx, id, baseline.SignalStep, baseline.StepInput{Name: workflows.SignalMediatorDecision}); err != nil {
				fail(w, err)
				return
			}
			b.answer(w, ctx, id, http.StatusOK)
			return
		}
		if strings.HasPrefix(action, "quotes/") && strings.HasSuffix(action, "/accept") {
			action = "quotes/accept"
		}
		pay := strings.HasPrefix(action, "payments/")
		if pay {
			action = "payments"
		}
		name, known := updateOf[action]
		if !known {
			http.NotFound(w, r)
			return
		}
		var st baseline.State
		if err := b.deals.Act(ctx, id, baseline.UpdateStep, "", baseline.StepInput{Name: name}, &st); err != nil {
			fail(w, err)
			return
		}
		v := view(st)
		if pay {
			write(w, http.StatusOK, map[string]any{"deal": v, "payment": map[string]string{"id": "p", "status": "succeeded", "provider": "baseline"}})
			return
		}
		write(w, http.StatusOK, v)
	default:
		http.NotFound(w, r)
	}
}

func (b *baselineAPI) answer(w http.ResponseWriter, ctx context.Context, id string, status int) {
	var st baseline.State
	if err := b.deals.Query(ctx, id, &st); err != nil {
		fail(w, err)
		return
	}
	write(w, status, view(st))
}

func view(st baseline.State) baselineView {
	return baselineView{
		State: st, Stage: "BASELINE", Total: 780_000,
		Quotes: []map[string]string{{"id": "q1"}}, Contract: map[string]string{"terms_sha256": strings.Repeat("0", 64)},
	}
}

func write(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if workflows.RejectionCode(err) != "" {
		status = http.StatusConflict
	}
	var msg struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	msg.Error.Code, msg.Error.Message = "baseline", err.Error()
	if errors.Is(err, context.Canceled) {
		msg.Error.Code = "cancelled"
	}
	write(w, status, msg)
}
