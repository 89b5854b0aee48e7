package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/internal/dealclient"
	"github.com/tradeloop/tradeloop/workflows"
)

// The latency run (-latency) measures one request at a time per client, at
// each concurrency level of LatencyLevels, with nothing else running:
//
//   - an action through the API: a supplier's quote revision (POST
//     /v1/deals/:id/quotes) on a deal that already has its first quote, so
//     the deal's start is not part of it;
//   - the same kind of round trip through the raw SDK: an update of a
//     workflow that does nothing else (noopWorkflow), on a worker in the
//     bench's own process, through the same client and data converter;
//   - a read through the API: GET /v1/deals/:id.
//
// The action's p50 over the raw update's says what the platform adds to
// Temporal's own round trip.

// LatencyLevels are the latency run's concurrency levels.
var LatencyLevels = []int{1, 16}

// revisionsPerDeal: a supplier may quote a deal MaxQuotesPerSupplier
// times; the first quote is not measured.
const revisionsPerDeal = workflows.MaxQuotesPerSupplier - 1

// LatencyLevel is one concurrency level's latencies, in milliseconds.
type LatencyLevel struct {
	Concurrency int     `json:"concurrency"`
	Samples     int     `json:"samples"` // of each kind
	Action      Latency `json:"action"`
	RawUpdate   Latency `json:"raw_update"`
	Read        Latency `json:"read"`
	// ActionOverRaw is the action's p50 over the raw update's.
	ActionOverRaw float64 `json:"action_over_raw_p50"`
}

// noopWorkflow takes updates and does nothing else, until it is
// terminated: Temporal's own cost of an update.
const noopWorkflow = "bench-noop"

const noopUpdate = "ping"

func noop(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandler(ctx, noopUpdate, func(workflow.Context) error { return nil }); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return false })
}

// measureLatency runs the latency run with samples requests of each kind
// per level (rounded up to a multiple of the level).
func measureLatency(ctx context.Context, dc dealclient.Client, tc client.Client, parties []dealclient.Parties, samples int,
	progress io.Writer) ([]LatencyLevel, error) {
	queue := fmt.Sprintf("tradeloop-bench-noop-%d", os.Getpid())
	w := worker.New(tc, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(noop, workflow.RegisterOptions{Name: noopWorkflow})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("latency: start the no-op worker: %w", err)
	}
	defer w.Stop()

	var levels []LatencyLevel
	for _, c := range LatencyLevels {
		if c > len(parties) {
			return levels, fmt.Errorf("latency: %d clients at once, but only %d party sets", c, len(parties))
		}
		perClient := (samples + c - 1) / c
		l := LatencyLevel{Concurrency: c, Samples: perClient * c}
		// Request j of a kind goes out with party set j % P's keys, so
		// each key sends at most ⌈samples/P⌉ ≤ 30 of them (Run makes
		// enough party sets): within the API's burst for a key (40).
		// One client's back-to-back requests on one key would otherwise
		// wait for the key's rate (20 a second) and measure the limiter,
		// not the request.
		use := func(client, i int) (party, k int) {
			j := i*c + client
			return j % len(parties), j / len(parties)
		}
		perParty := (l.Samples + len(parties) - 1) / len(parties)
		fmt.Fprintf(progress, "latency at %d at once: preparing deals…\n", c)
		deals, err := prepareDeals(ctx, dc, parties, (perParty+revisionsPerDeal-1)/revisionsPerDeal)
		if err != nil {
			return levels, err
		}
		fmt.Fprintf(progress, "latency at %d at once: %d quote revisions through the API…\n", c, l.Samples)
		took, err := eachClient(ctx, c, perClient, func(ctx context.Context, client, i int) error {
			p, k := use(client, i)
			return reviseQuote(ctx, dc, parties[p].Supplier, deals[p][k/revisionsPerDeal], k)
		})
		if err != nil {
			return levels, err
		}
		l.Action = summarise(took)

		fmt.Fprintf(progress, "latency at %d at once: %d raw SDK updates…\n", c, l.Samples)
		if took, err = rawUpdates(ctx, tc, queue, c, perClient); err != nil {
			return levels, err
		}
		l.RawUpdate = summarise(took)

		fmt.Fprintf(progress, "latency at %d at once: %d reads through the API…\n", c, l.Samples)
		took, err = eachClient(ctx, c, perClient, func(ctx context.Context, client, i int) error {
			p, k := use(client, i)
			ids := deals[p]
			return dc.Do(ctx, parties[p].Buyer.Key, http.MethodGet, "GET /v1/deals/:id", "/v1/deals/"+ids[k%len(ids)], "", nil, http.StatusOK, nil)
		})
		if err != nil {
			return levels, err
		}
		l.Read = summarise(took)
		if l.RawUpdate.P50 > 0 {
			l.ActionOverRaw = round(l.Action.P50/l.RawUpdate.P50, 2)
		}
		levels = append(levels, l)
	}
	return levels, nil
}

// prepareDeals creates n deals for each party set, each with the
// supplier's first quote, and returns their IDs by party set.
func prepareDeals(ctx context.Context, dc dealclient.Client, parties []dealclient.Parties, n int) ([][]string, error) {
	ids := make([][]string, len(parties))
	_, err := eachClient(ctx, len(parties), n, func(ctx context.Context, client, i int) error {
		p := parties[client]
		var created struct {
			DealID string `json:"deal_id"`
		}
		ref := dealclient.NewRef()
		body := fmt.Appendf(nil, `{"product":"cotton t-shirts","quantity":2000,"unit":"pcs","currency":"USD","destination":"Hamburg","suppliers":[%q],"specs":"latency %s"}`,
			p.Supplier.OrgID, ref)
		if err := dc.Do(ctx, p.Buyer.Key, http.MethodPost, "POST /v1/deals", "/v1/deals", "latency-create-"+ref, body, http.StatusCreated, &created); err != nil {
			return fmt.Errorf("latency: create a deal: %w", err)
		}
		if created.DealID == "" {
			return errors.New("latency: the created deal has no ID")
		}
		if err := reviseQuote(ctx, dc, p.Supplier, created.DealID, -1); err != nil {
			return err
		}
		ids[client] = append(ids[client], created.DealID)
		return nil
	})
	return ids, err
}

// reviseQuote sends the supplier's quote on the deal, its price a cent
// lower with each revision n.
func reviseQuote(ctx context.Context, dc dealclient.Client, supplier dealclient.Party, dealID string, n int) error {
	valid := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	body := fmt.Appendf(nil, `{"tiers":[{"min_quantity":100,"unit_price":%d}],"moq":100,"lead_time_days":21,"valid_till":%q}`, 450-n%revisionsPerDeal, valid)
	if err := dc.Do(ctx, supplier.Key, http.MethodPost, "POST /v1/deals/:id/quotes", "/v1/deals/"+dealID+"/quotes", "latency-quote-"+dealclient.NewRef(), body, http.StatusOK, nil); err != nil {
		return fmt.Errorf("latency: quote deal %s: %w", dealID, err)
	}
	return nil
}

// rawUpdates starts c no-op workflows and sends each n updates, one at a
// time, waiting for each to complete.
func rawUpdates(ctx context.Context, tc client.Client, queue string, c, n int) ([]time.Duration, error) {
	ids := make([]string, c)
	for i := range ids {
		ids[i] = "bench-noop-" + dealclient.NewRef()
		if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ids[i], TaskQueue: queue}, noopWorkflow); err != nil {
			return nil, fmt.Errorf("latency: start a no-op workflow: %w", err)
		}
	}
	defer func() {
		for _, id := range ids {
			_ = tc.TerminateWorkflow(context.WithoutCancel(ctx), id, "", "latency run done")
		}
	}()
	update := func(ctx context.Context, client_, _ int) error {
		h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: ids[client_], UpdateName: noopUpdate, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return fmt.Errorf("latency: update a no-op workflow: %w", err)
		}
		return nil
	}
	// One update each first, so no workflow's first task is measured.
	if _, err := eachClient(ctx, c, 1, update); err != nil {
		return nil, err
	}
	return eachClient(ctx, c, n, update)
}

// eachClient runs c clients at once, each calling do n times one after
// the other, and returns how long every call took. The first error stops
// the clients.
func eachClient(ctx context.Context, c, n int, do func(ctx context.Context, client, i int) error) ([]time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu   sync.Mutex
		took []time.Duration
		wg   sync.WaitGroup
	)
	for client := range c {
		wg.Go(func() {
			for i := range n {
				began := time.Now()
				if err := do(ctx, client, i); err != nil {
					cancel(err)
					return
				}
				d := time.Since(began)
				mu.Lock()
				took = append(took, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return took, err
	}
	return took, nil
}

// namedLatency is one kind of request's latencies, with its name in the
// tables.
type namedLatency struct {
	name string
	lat  Latency
}

// kinds lists the level's kinds of request in the order the tables show.
func (l LatencyLevel) kinds() []namedLatency {
	return []namedLatency{{"quote revision via the API", l.Action}, {"raw SDK update, no-op workflow", l.RawUpdate}, {"GET /v1/deals/:id", l.Read}}
}

// PrintLatency writes the latency run's table.
func PrintLatency(w io.Writer, levels []LatencyLevel) {
	fmt.Fprintln(w, "\nLatency, one request at a time per client, ms:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "at once\tsamples\trequest\tp50\tp95\tp99\tmax\t")
	for _, l := range levels {
		for _, row := range l.kinds() {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t\n", l.Concurrency, l.Samples, row.name, row.lat.P50, row.lat.P95, row.lat.P99, row.lat.Max)
		}
		fmt.Fprintf(tw, "%d\t\tAPI action p50 ÷ raw update p50\t%.2f×\t\t\t\t\n", l.Concurrency, l.ActionOverRaw)
	}
	tw.Flush()
}
