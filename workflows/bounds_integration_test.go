package workflows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

// longest is text of n characters of three UTF-8 bytes each: the most bytes
// the limits let through.
func longest(n int) string { return strings.Repeat("货", n) }

// refusedAtCap sends one more of a capped action and wants it refused as
// past the cap, with nothing changed.
func (d *liveDeal) refusedAtCap(name string, arg any) {
	d.t.Helper()
	before := len(d.state().Timeline)
	_, err := d.try(name, arg)
	require.Error(d.t, err, "%s past its cap was accepted", name)
	assert.Equal(d.t, workflows.RejectLimit, workflows.RejectionCode(err), "%s past its cap: %v", name, err)
	assert.Len(d.t, d.state().Timeline, before, "%s past its cap changed the deal", name)
}

// One deal through every capped action up to its cap, with the longest text
// the limits allow everywhere: it completes, its history stays small, and
// one more of each capped action is refused.
func TestDealAtEveryCapStaysSmallAndCompletes(t *testing.T) {
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	sent := recordProjections(mem)
	defer startWorker(t, tc, mem).Stop()
	note := longest(workflows.MaxNote)
	d := startDeal(t, tc, mem, "caps", func(in *workflows.DealInput) {
		in.Inquiry.WantsSample = true
		in.Inquiry.Product = longest(workflows.MaxProduct)
		in.Inquiry.Destination = longest(workflows.MaxDestination)
		in.Inquiry.Unit = longest(workflows.MaxCode)
		in.Inquiry.Incoterm = longest(workflows.MaxCode)
		in.Inquiry.Specs = longest(workflows.MaxSpecs)
		in.Policy.InitialInvites = 2
	})
	firstRun := d.runID()
	t.Cleanup(func() {
		if t.Failed() {
			d.diagnoseRuns(firstRun)
		}
	})

	// Quotes and revisions, counter-offers.
	var lastA string
	for i := range workflows.MaxQuotesPerSupplier {
		for _, s := range []workflows.Actor{supA, supB} {
			q := quote(s)
			q.Note = note
			q.Tiers = nil
			for k := range workflows.MaxPriceTiers {
				q.Tiers = append(q.Tiers, workflows.PriceTier{MinQuantity: int64(1 + k*100), UnitPrice: int64(500 - k - i)})
			}
			d.act(workflows.UpdateSubmitQuote, q)
		}
	}
	for _, q := range d.state().Quotes {
		if q.SupplierID == supA.OrgID {
			lastA = q.ID
		}
	}
	extra := quote(supA)
	d.refusedAtCap(workflows.UpdateSubmitQuote, extra)
	for i := range workflows.MaxCounterOffers {
		s := []workflows.Actor{supA, supB}[i%2]
		d.act(workflows.UpdateCounterOffer, workflows.CounterOfferInput{Actor: buyer, SupplierID: s.OrgID, TargetUnitPrice: 300, Message: note})
	}
	d.refusedAtCap(workflows.UpdateCounterOffer, workflows.CounterOfferInput{Actor: buyer, SupplierID: supA.OrgID, TargetUnitPrice: 300})
	d.act(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: buyer, QuoteID: lastA})

	// Samples: as many rounds as allowed, each rejected with the longest reason.
	d.act(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepSample})
	for round := 1; round <= workflows.MaxSampleRounds; round++ {
		d.act(workflows.UpdateShipSample, workflows.ShipmentInput{Actor: supA, Carrier: longest(workflows.MaxCode),
			TrackingNumber: fmt.Sprintf("S%d-%s", round, strings.Repeat("9", workflows.MaxTrackingNumber-4))})
		if round < workflows.MaxSampleRounds {
			d.act(workflows.UpdateRejectSample, workflows.RejectSampleInput{Actor: buyer, Reason: note, Resample: true})
		}
	}
	d.refusedAtCap(workflows.UpdateRejectSample, workflows.RejectSampleInput{Actor: buyer, Reason: note, Resample: true})
	d.act(workflows.UpdateApproveSample, workflows.ActorInput{Actor: buyer, Note: note})
	d.signContract(buyer)
	d.signContract(supA)
	d.act(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepDeposit})

	// Production reports.
	for i := range workflows.MaxProgressReports {
		d.act(workflows.UpdateReportProgress, workflows.ProgressInput{Actor: supA, Percent: i * 3, Note: note})
	}
	d.refusedAtCap(workflows.UpdateReportProgress, workflows.ProgressInput{Actor: supA, Percent: 99})
	d.act(workflows.UpdateMarkReady, workflows.ActorInput{Actor: supA, Note: note})
	d.act(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepBalance})

	// The goods' tracking number, corrected as often as allowed.
	d.act(workflows.UpdateAddShipment, workflows.ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "G0"})
	for i := 1; i <= workflows.MaxTrackingCorrections; i++ {
		d.act(workflows.UpdateCorrectTracking, workflows.CorrectTrackingInput{Actor: supA, Kind: "goods", Carrier: longest(workflows.MaxCode),
			TrackingNumber: fmt.Sprintf("G%d", i)})
	}
	d.refusedAtCap(workflows.UpdateCorrectTracking, workflows.CorrectTrackingInput{Actor: supA, Kind: "goods", Carrier: "dhl", TrackingNumber: "G9"})

	// A dispute with the most evidence, and every proposal each party may make.
	evidence := make([]string, workflows.MaxEvidence)
	for i := range evidence {
		evidence[i] = fmt.Sprintf("%02d", i) + longest(workflows.MaxEvidenceItem-2)
	}
	d.act(workflows.UpdateOpenDispute, workflows.DisputeInput{Actor: buyer, Reason: note, Remedy: note, Evidence: evidence})
	d.act(workflows.UpdateAnswerDispute, workflows.ActorInput{Actor: supA, Note: note})
	var lastSupplierProposal string
	for i := range workflows.MaxProposalsPerParty {
		for _, p := range []workflows.Actor{buyer, supA} {
			st := d.update(workflows.UpdateProposeSettlement, workflows.ProposalInput{Actor: p, ReleaseAmount: int64(1000 * (i + 1)), Note: note})
			if p == supA {
				lastSupplierProposal = st.Dispute.Proposals[len(st.Dispute.Proposals)-1].ID
			}
		}
	}
	d.refusedAtCap(workflows.UpdateProposeSettlement, workflows.ProposalInput{Actor: buyer, ReleaseAmount: 1})
	d.act(workflows.UpdateAcceptSettlement, workflows.AcceptProposalInput{Actor: buyer, ProposalID: lastSupplierProposal})

	final := d.result()
	require.Equal(t, workflows.StageResolved, final.Stage)
	assert.Zero(t, final.Escrow.Held, "escrow left after the settlement")
	assert.Zero(t, mem.Balance(activities.EscrowAccount(final.DealID), "USD"), "escrow account in the ledger")

	// Every run stays far from Temporal's limits, and what a worker that
	// lost the deal from its cache replays (a run before its closing
	// event: the state it carried in and at most its byte budget more)
	// stays small enough to replay within a workflow task's timeout on a
	// busy machine. Each run carries the deal's state in (up to a
	// megabyte at every cap) and hands it on in its closing event.
	runs := d.runs(firstRun)
	var events int64
	for i, r := range runs {
		t.Logf("run %d: %d events, %d bytes, %d of them replayed", i+1, r.events, r.bytes, r.bytes-r.closing)
		assert.Less(t, r.bytes, int64(5<<20)/2, "history bytes of run %d", i+1)
		assert.Less(t, r.bytes-r.closing, int64(2<<20), "bytes to replay of run %d", i+1)
		events += r.events
	}
	assert.Greater(t, len(runs), 1, "the deal never continued as new, though its history passed its byte budget")
	assert.Less(t, events, int64(5_000), "history events of all runs")
	d.readModelAddsUpTo(final, sent())
	d.checkHistory("deal_at_every_cap")
}

// A deal whose history budget is tiny continues as new again and again,
// with its deposit in escrow, and still completes with its money exact.
func TestDealWithMoneyInEscrowContinuesAsNewAndCompletes(t *testing.T) {
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	defer startWorker(t, tc, mem).Stop()
	mem.Script("GOODS-1", activities.TrackInTransit, activities.TrackDelivered)
	sent := recordProjections(mem)
	d := startDeal(t, tc, mem, "can", func(in *workflows.DealInput) { in.Policy.HistoryEvents, in.Policy.HistoryBytes = 40, 1 })
	firstRun := d.runID()
	t.Cleanup(func() {
		if t.Failed() {
			d.diagnoseRuns(firstRun)
		}
	})

	st := d.update(workflows.UpdateSubmitQuote, quote(supA))
	d.update(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: buyer, QuoteID: st.Quotes[0].ID})
	d.signContract(buyer)
	d.signContract(supA)
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepDeposit})
	for i := range 10 {
		d.update(workflows.UpdateReportProgress, workflows.ProgressInput{Actor: supA, Percent: i * 10, Note: "batch"})
	}
	st = d.state()
	require.NotEqual(t, firstRun, d.runID(), "the deal never continued as new")
	require.Equal(t, workflows.StageProduction, st.Stage)
	assert.Equal(t, int64(234_000), st.Escrow.Held, "the deposit carried into the new run")
	assert.Len(t, st.Production.Progress, 10, "progress carried across runs")

	d.update(workflows.UpdateMarkReady, workflows.ActorInput{Actor: supA})
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepBalance})
	d.update(workflows.UpdateAddShipment, workflows.ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "GOODS-1"})
	d.waitStage(workflows.StageInspection)
	d.update(workflows.UpdateAcceptDelivery, workflows.ActorInput{Actor: buyer})
	final := d.result()
	require.Equal(t, workflows.StageCompleted, final.Stage)
	total := int64(390 * 2000)
	assert.Equal(t, total, final.Escrow.Released, "released")
	assert.Zero(t, mem.Balance(activities.EscrowAccount(final.DealID), "USD"), "escrow account")
	assert.Equal(t, -total, mem.Balance(activities.BuyerAccount(buyer.OrgID), "USD"), "buyer paid once")
	assert.Len(t, mem.Charges(), 2, "one charge per payment step")
	assert.Len(t, mem.Transfers(), 2, "one transfer per charge")
	// The last run, which began from the carried state, replays.
	d.checkHistory("deal_continued_as_new")
	// Every timeline entry reached the read model once, across the runs.
	_, events := mem.Projected(final.DealID)
	require.Len(t, events, len(final.Timeline))
	for i, e := range events {
		assert.Equal(t, i+1, e.Seq)
	}
	// What the runs sent adds up to the deal, each run going on from
	// what the one before had sent.
	d.readModelAddsUpTo(final, sent())
	// With a byte budget of one byte, the deal continued as new whenever
	// it was quiet. How often that was depends on the machine's speed (an
	// action that arrives while the books of the one before are still
	// being written leaves no quiet moment between them; a run that
	// begins with an action waits out its hand-off), so only "again and
	// again" is asserted: the money and the read model above are exact
	// across however many runs there were.
	runs := d.runs(firstRun)
	t.Logf("%d runs", len(runs))
	assert.Greater(t, len(runs), 2, "runs")
}

func (d *liveDeal) runID() string {
	d.t.Helper()
	desc, err := d.tc.Client.DescribeWorkflowExecution(d.ctx, d.id, "")
	require.NoError(d.t, err)
	return desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
}

// recordProjections keeps every projection the deal sends, in order.
func recordProjections(mem *activities.Memory) (sent func() []activities.DealProjection) {
	var (
		mu  sync.Mutex
		all []activities.DealProjection
	)
	mem.FailProjections(func(p activities.DealProjection) error {
		mu.Lock()
		defer mu.Unlock()
		all = append(all, p)
		return nil
	})
	return func() []activities.DealProjection {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(all)
	}
}

// readModelAddsUpTo applies the projections as the read model does and
// wants the deal's final state, less what the read model keeps in tables
// of its own (the timeline, tracking events).
func (d *liveDeal) readModelAddsUpTo(final workflows.DealState, sent []activities.DealProjection) {
	d.t.Helper()
	var kept workflows.DealState
	for i, p := range sent {
		var details workflows.DealDetails
		if len(p.Details) > 0 {
			require.NoError(d.t, json.Unmarshal(p.Details, &details), "projection %d", i)
		}
		var err error
		kept, err = workflows.ApplyProjection(kept, p.State, p.Sections, details)
		require.NoError(d.t, err, "projection %d", i)
	}
	want := final
	want.Timeline = nil
	if want.Shipment != nil {
		sh := *want.Shipment
		sh.Events = nil
		want.Shipment = &sh
	}
	if want.Sample != nil && want.Sample.Shipment != nil {
		sample, sh := *want.Sample, *want.Sample.Shipment
		sh.Events = nil
		sample.Shipment = &sh
		want.Sample = &sample
	}
	got, err := json.Marshal(kept)
	require.NoError(d.t, err)
	wantJSON, err := json.Marshal(want)
	require.NoError(d.t, err)
	assert.JSONEq(d.t, string(wantJSON), string(got), "the read model from the projections")
}

// runSize is the size of one run's history; closing is its closing
// event's share.
type runSize struct{ events, bytes, closing int64 }

// runs follows the deal from its first run through each continue-as-new
// and returns the size of every run's history.
func (d *liveDeal) runs(first string) []runSize {
	d.t.Helper()
	var out []runSize
	for run := first; run != ""; {
		desc, err := d.tc.Client.DescribeWorkflowExecution(d.ctx, d.id, run)
		require.NoError(d.t, err)
		info := desc.GetWorkflowExecutionInfo()
		it := d.tc.Client.GetWorkflowHistory(d.ctx, d.id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		require.True(d.t, it.HasNext(), "run %s has no close event", run)
		e, err := it.Next()
		require.NoError(d.t, err)
		out = append(out, runSize{events: info.GetHistoryLength(), bytes: info.GetHistorySizeBytes(), closing: int64(proto.Size(e))})
		run = e.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	}
	return out
}

// diagnoseRuns logs, for a failed deal that continued as new, each run's
// last events from the first run on: where a run stopped, and whether the
// next one started.
func (d *liveDeal) diagnoseRuns(first string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for run := first; run != ""; {
		var lines []string
		next := ""
		it := d.tc.Client.GetWorkflowHistory(ctx, d.id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				d.t.Logf("diagnose run %s: history: %v", run, err)
				return
			}
			lines = append(lines, eventLine(e))
			if a := e.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				next = a.GetNewExecutionRunId()
			}
		}
		d.t.Logf("run %s: %d events, the last:", run, len(lines))
		for _, l := range lines[max(0, len(lines)-30):] {
			d.t.Log("  ", l)
		}
		run = next
	}
}
