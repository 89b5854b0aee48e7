package workflows_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/historycodec"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// These tests run deals on the real (embedded) Temporal server, with
// deadlines of seconds instead of days. With RECORD_HISTORIES=1 they write
// their histories to testdata/, which the replay test replays in every run.

var (
	buyer = workflows.Actor{UserID: "u-buyer", OrgID: "buyer-1", Role: workflows.RoleBuyer}
	supA  = workflows.Actor{UserID: "u-a", OrgID: "sup-a", Role: workflows.RoleSupplier}
	supB  = workflows.Actor{UserID: "u-b", OrgID: "sup-b", Role: workflows.RoleSupplier}
	med   = workflows.Actor{UserID: "u-med", OrgID: "mediation", Role: workflows.RoleMediator}
)

type liveDeal struct {
	t   *testing.T
	tc  testenv.Temporal
	mem *activities.Memory
	id  string
	ctx context.Context
}

func startWorker(t *testing.T, tc testenv.Temporal, mem *activities.Memory) worker.Worker {
	t.Helper()
	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	workflows.Register(w)
	acts := mem.Activities()
	acts.Deals = tc.Client // trackers' news goes to their deals from the activity
	w.RegisterActivity(acts)
	require.NoError(t, w.Start())
	return w
}

func fastPolicy() workflows.Policy {
	return workflows.Policy{
		QuoteSLA: time.Minute, InquiryExpiry: time.Hour, InitialInvites: 1,
		TrackingPoll: 100 * time.Millisecond, TrackingPollNear: 100 * time.Millisecond, TrackingStall: time.Minute,
	}
}

func startDeal(t *testing.T, tc testenv.Temporal, mem *activities.Memory, name string, mutate func(*workflows.DealInput)) *liveDeal {
	t.Helper()
	// Bounded by progress: each step of the deal gets stepTimeout, the
	// deal as a whole the test binary's timeout (a busy machine makes a
	// long deal slow, not stuck).
	ctx := t.Context()
	dealID := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	in := workflows.DealInput{
		DealID: dealID,
		Inquiry: workflows.Inquiry{
			BuyerOrgID: buyer.OrgID, Product: "cotton t-shirts", Quantity: 2000, Unit: "pcs", Currency: "USD", Destination: "Hamburg",
		},
		Suppliers: []workflows.Supplier{{OrgID: supA.OrgID, Tier: "gold"}, {OrgID: supB.OrgID, Tier: "silver"}},
		Policy:    fastPolicy(),
	}
	if mutate != nil {
		mutate(&in)
	}
	d := &liveDeal{t: t, tc: tc, mem: mem, id: workflows.DealWorkflowID(dealID), ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			d.diagnose()
		}
	})
	_, err := tc.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: d.id, TaskQueue: tc.TaskQueue}, workflows.DealWorkflowName, in)
	require.NoError(t, err)
	return d
}

func (d *liveDeal) update(name string, arg any) workflows.DealState {
	d.t.Helper()
	st, err := d.try(name, arg)
	require.NoError(d.t, err, name)
	return st
}

// act runs an update and wants it accepted, without the query of the
// state that update makes: the deal at every cap has a state of a
// megabyte, and asking for it after each of its hundred actions was half
// its test's work.
func (d *liveDeal) act(name string, arg any) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	require.NoError(d.t, d.send(ctx, name, arg), name)
}

// stepTimeout bounds one step of a live deal: an update, a query.
const stepTimeout = 2 * time.Minute

func (d *liveDeal) try(name string, arg any) (workflows.DealState, error) {
	ctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	if err := d.send(ctx, name, arg); err != nil {
		return workflows.DealState{}, err
	}
	// Updates answer with the stage only; the state is the query's.
	return d.state(), nil
}

// send runs an update to its end and writes the round of bookkeeping it
// hands off, as the API does.
func (d *liveDeal) send(ctx context.Context, name string, arg any) error {
	h, err := d.tc.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: d.id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	var res struct {
		Books *activities.Books `json:"books"`
	}
	if err := h.Get(ctx, &res); err != nil {
		return err
	}
	if res.Books != nil && d.mem != nil {
		return d.mem.WriteBooks(ctx, *res.Books)
	}
	return nil
}

func (d *liveDeal) state() workflows.DealState {
	d.t.Helper()
	st, err := d.tryState()
	require.NoError(d.t, err)
	return st
}

// tryState queries the deal's state.
func (d *liveDeal) tryState() (workflows.DealState, error) {
	ctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	var st workflows.DealState
	v, err := d.tc.Client.QueryWorkflow(ctx, d.id, "", workflows.QueryState)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

func (d *liveDeal) waitStage(want workflows.Stage) {
	d.t.Helper()
	require.EventuallyWithT(d.t, func(c *assert.CollectT) {
		assert.Equal(c, want, d.state().Stage)
	}, stepTimeout, 50*time.Millisecond, "deal never reached %s", want)
}

func (d *liveDeal) result() workflows.DealState {
	d.t.Helper()
	var st workflows.DealState
	require.NoError(d.t, d.tc.Client.GetWorkflow(d.ctx, d.id, "").Get(d.ctx, &st))
	return st
}

func (d *liveDeal) history() *historypb.History {
	d.t.Helper()
	return d.historyOf(d.id)
}

// historyOf is the history of one of the deal's workflows (its trackers).
func (d *liveDeal) historyOf(workflowID string) *historypb.History {
	d.t.Helper()
	h := &historypb.History{}
	it := d.tc.Client.GetWorkflowHistory(d.ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(d.t, err)
		h.Events = append(h.Events, e)
	}
	return h
}

// checkHistory replays the deal's history against today's code and, when
// recording, saves it as a replay fixture.
// recording names the deals a fixture recorded now holds (versionDeal 7);
// the fixtures of earlier deals stay beside them, so their histories go
// on replaying.
const recording = "_deal7"

func (d *liveDeal) checkHistory(fixture string) *historypb.History {
	d.t.Helper()
	h := d.history()
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: testenv.DataConverter()})
	require.NoError(d.t, err)
	workflows.Register(r)
	require.NoError(d.t, r.ReplayWorkflowHistory(nil, h), "history does not replay")
	if os.Getenv("RECORD_HISTORIES") != "" {
		b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
		require.NoError(d.t, err)
		require.NoError(d.t, os.WriteFile(filepath.Join("testdata", fixture+recording+".json"), b, 0o644))
	}
	return h
}

// diagnose logs what a failed deal's history says about its workflow
// tasks: how many ran, timed out or failed (a task that times out again and
// again is a deal that cannot make progress), and the last events.
func (d *liveDeal) diagnose() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	counts := map[enumspb.EventType]int{}
	var last []string
	var size int
	{
		it := d.tc.Client.GetWorkflowHistory(ctx, d.id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				d.t.Logf("diagnose: history: %v", err)
				return
			}
			counts[e.GetEventType()]++
			size += proto.Size(e)
			last = append(last, eventLine(e))
			if len(last) > 40 {
				last = last[1:]
			}
		}
	}
	d.t.Logf("diagnose %s: %d bytes; events by type: %v", d.id, size, counts)
	for _, l := range last {
		d.t.Log(l)
	}
	if desc, err := d.tc.Client.DescribeWorkflowExecution(ctx, d.id, ""); err == nil {
		d.t.Logf("pending workflow task: %v; pending activities: %v", desc.GetPendingWorkflowTask(), desc.GetPendingActivities())
	}
}

// eventLine is one history event as a diagnosis logs it: ID, time, type,
// and what says most about it (the update or activity it names, why a
// workflow task timed out or failed, the history's size at a task's start).
func eventLine(e *historypb.HistoryEvent) string {
	line := fmt.Sprintf("%d %s %s", e.GetEventId(), e.GetEventTime().AsTime().Format("15:04:05.000"), e.GetEventType())
	if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
		line += " " + a.GetAcceptedRequest().GetInput().GetName()
	}
	if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
		line += " " + a.GetActivityType().GetName()
	}
	if a := e.GetWorkflowTaskTimedOutEventAttributes(); a != nil {
		line += " " + a.GetTimeoutType().String()
	}
	if a := e.GetWorkflowTaskFailedEventAttributes(); a != nil {
		line += " " + a.GetCause().String() + ": " + a.GetFailure().GetMessage()
	}
	if a := e.GetWorkflowTaskStartedEventAttributes(); a != nil {
		line += fmt.Sprintf(" (history %d bytes)", a.GetHistorySizeBytes())
	}
	return line
}

func (d *liveDeal) signContract(a workflows.Actor) {
	d.t.Helper()
	d.update(workflows.UpdateSignContract, workflows.SignInput{Actor: a, TermsSHA256: d.state().Contract.TermsSHA256})
}

func quote(a workflows.Actor) workflows.QuoteInput {
	return workflows.QuoteInput{
		Actor: a, Tiers: []workflows.PriceTier{{MinQuantity: 100, UnitPrice: 450}, {MinQuantity: 1000, UnitPrice: 390}},
		MOQ: 100, LeadTimeDays: 21, ValidTill: time.Now().Add(48 * time.Hour), SamplePrice: 2500,
	}
}

func countEvents(h *historypb.History, typ enumspb.EventType) int {
	n := 0
	for _, e := range h.Events {
		if e.GetEventType() == typ {
			n++
		}
	}
	return n
}

// One whole deal with a sample, on the real server, and its history read back.
func TestWholeDealWithSampleOnEmbeddedServer(t *testing.T) {
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	defer startWorker(t, tc, mem).Stop()
	mem.Script("SAMPLE-1", activities.TrackInTransit, activities.TrackDelivered)
	mem.Script("GOODS-1", activities.TrackInfoReceived, activities.TrackInTransit, activities.TrackOutForDelivery, activities.TrackDelivered)
	d := startDeal(t, tc, mem, "whole", func(in *workflows.DealInput) { in.Inquiry.WantsSample = true })

	_, err := d.try(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: supA, QuoteID: "q1"})
	assert.Equal(t, workflows.RejectNotAllowed, workflows.RejectionCode(err), "supplier accepting: %v", err)

	st := d.update(workflows.UpdateSubmitQuote, quote(supA))
	assert.Equal(t, int64(390*2000), st.Quotes[0].Total)
	st = d.update(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: buyer, QuoteID: st.Quotes[0].ID})
	assert.Equal(t, workflows.StageSample, st.Stage)
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepSample})
	d.update(workflows.UpdateShipSample, workflows.ShipmentInput{Actor: supA, Carrier: "ups", TrackingNumber: "SAMPLE-1"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, workflows.SampleDelivered, d.state().Sample.Status)
	}, 30*time.Second, 50*time.Millisecond)
	st = d.update(workflows.UpdateApproveSample, workflows.ActorInput{Actor: buyer})
	assert.Equal(t, workflows.StageContract, st.Stage)
	d.signContract(buyer)
	d.signContract(supA)
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepDeposit})
	d.update(workflows.UpdateReportProgress, workflows.ProgressInput{Actor: supA, Percent: 60})
	d.update(workflows.UpdateMarkReady, workflows.ActorInput{Actor: supA})
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepBalance})
	d.update(workflows.UpdateAddShipment, workflows.ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "GOODS-1"})
	d.waitStage(workflows.StageInspection)
	d.update(workflows.UpdateAcceptDelivery, workflows.ActorInput{Actor: buyer})

	final := d.result()
	assert.Equal(t, workflows.StageCompleted, final.Stage)
	// 780,000 of goods and 2,500 of sample, all released at 200 bp.
	assert.Equal(t, workflows.Escrow{Released: 782_500, Commission: 15_650}, final.Escrow)
	assert.Equal(t, int64(0), mem.Balance(activities.EscrowAccount(final.DealID), "USD"))
	assert.Equal(t, int64(766_850), mem.Balance(activities.SupplierAccount("sup-a"), "USD"))

	h := d.checkHistory("happy_path_with_sample")
	// Finance audits payments in the Temporal UI, through the codec: each
	// money activity's input and result are readable JSON with amount, step
	// and key, and no secret. Stored, they are sealed.
	codec, err := historycodec.Parse(historycodec.DevKeys)
	require.NoError(t, err)
	plain := func(p *commonpb.Payload) string {
		t.Helper()
		out, err := codec.Decode([]*commonpb.Payload{p})
		require.NoError(t, err)
		return string(out[0].GetData())
	}
	charges := 0
	for _, e := range h.Events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "Charge" {
			charges++
			sealed := a.GetInput().GetPayloads()[0]
			assert.NotContains(t, string(sealed.GetData()), `"amount":`, "a charge's input in clear")
			in := plain(sealed)
			assert.Contains(t, in, `"idempotency_key":"`+d.id+`/`)
			assert.Contains(t, in, `"amount":`)
		}
		for _, p := range e.GetActivityTaskCompletedEventAttributes().GetResult().GetPayloads() {
			assert.NotContains(t, plain(p), "secret", "a secret in an activity result")
		}
		for _, p := range e.GetWorkflowExecutionUpdateCompletedEventAttributes().GetOutcome().GetSuccess().GetPayloads() {
			assert.NotContains(t, plain(p), "memory_secret", "a secret in an update result")
		}
	}
	assert.Equal(t, 3, charges, "sample, deposit and balance charges")
	assert.Equal(t, 1, countEvents(h, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED))
	assert.Equal(t, 2, countEvents(h, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED), "one tracker each for sample and goods")
	// The deal ended with its last update; its last rounds, after the
	// payouts, are local activities, not trips through the server.
	lastUpdate := 0
	for i, e := range h.Events {
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			lastUpdate = i
		}
	}
	endBooks, endLocal := 0, 0
	for _, e := range h.Events[lastUpdate:] {
		if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "KeepBooks" {
			endBooks++
		}
		if e.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
			endLocal++
		}
	}
	assert.Zero(t, endBooks, "bookkeeping activities after the deal's last update")
	assert.GreaterOrEqual(t, endLocal, 3, "local activities after the deal's last update: two settlements and the last round")
	for _, tracker := range []string{d.id + "/track-sample-1", d.id + "/track-goods-2"} {
		th := d.historyOf(tracker)
		assert.Equal(t, 1, countEvents(th, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), tracker)
	}
	assert.GreaterOrEqual(t, countEvents(h, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED), 12)

	query := fmt.Sprintf("DealStage = 'COMPLETED' AND BuyerId = 'buyer-1' AND SupplierId = 'sup-a' AND DealAmount = 780000 AND DealCurrency = 'USD' AND WorkflowId = '%s'", d.id)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := tc.Client.ListWorkflow(d.ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if assert.NoError(c, err) {
			assert.Len(c, resp.Executions, 1)
		}
	}, 20*time.Second, 200*time.Millisecond, "deal not found by its search attributes")
}

func TestDisputeWithSplitOnEmbeddedServer(t *testing.T) {
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	defer startWorker(t, tc, mem).Stop()
	mem.Script("GOODS-2", activities.TrackDelivered)
	d := startDeal(t, tc, mem, "split", nil)
	st := d.update(workflows.UpdateSubmitQuote, quote(supA))
	d.update(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: buyer, QuoteID: st.Quotes[0].ID})
	d.signContract(supA)
	d.signContract(buyer)
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepDeposit})
	d.update(workflows.UpdateMarkReady, workflows.ActorInput{Actor: supA})
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepBalance})
	d.update(workflows.UpdateAddShipment, workflows.ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "GOODS-2"})
	d.waitStage(workflows.StageInspection)
	d.update(workflows.UpdateOpenDispute, workflows.DisputeInput{Actor: buyer, Reason: "wrong colour", Remedy: "half refund"})
	d.update(workflows.UpdateAnswerDispute, workflows.ActorInput{Actor: supA, Note: "colour as sampled"})
	d.update(workflows.UpdateEscalateDispute, workflows.ActorInput{Actor: supA})
	require.NoError(t, tc.Client.SignalWorkflow(d.ctx, d.id, "", workflows.SignalMediatorDecision,
		workflows.MediatorDecision{Actor: med, Outcome: workflows.OutcomeSplit, ReleaseAmount: 500_000}))
	final := d.result()
	assert.Equal(t, workflows.StageResolved, final.Stage)
	assert.Equal(t, workflows.Escrow{Released: 500_000, Commission: 10_000, Refunded: 280_000}, final.Escrow)
	d.checkHistory("dispute_with_split")
}

func TestQuoteSLAMissRedispatchesOnEmbeddedServer(t *testing.T) {
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	defer startWorker(t, tc, mem).Stop()
	d := startDeal(t, tc, mem, "sla", func(in *workflows.DealInput) { in.Policy.QuoteSLA = time.Second })
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st := d.state()
		if assert.Len(c, st.Invitations, 2) {
			assert.Equal(c, workflows.InvitationLate, st.Invitations[0].Status)
		}
	}, 30*time.Second, 50*time.Millisecond)
	_, err := d.try(workflows.UpdateSubmitQuote, quote(supA))
	assert.Equal(t, workflows.RejectWrongStage, workflows.RejectionCode(err), "late supplier quoting: %v", err)
	st := d.update(workflows.UpdateSubmitQuote, quote(supB))
	d.update(workflows.UpdateCancel, workflows.ActorInput{Actor: buyer, Note: "bought elsewhere"})
	_ = st
	final := d.result()
	assert.Equal(t, workflows.StageCancelled, final.Stage)
	d.checkHistory("sla_miss_redispatch")
}

// Deadlines are durable timers: with the worker down when one passes, the
// deal still moves on once a worker is back, and no money moves twice.
func TestDeadlinesFireAcrossAWorkerRestart(t *testing.T) {
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	w := startWorker(t, tc, mem)
	mem.Script("GOODS-3", activities.TrackDelivered)
	d := startDeal(t, tc, mem, "restart", func(in *workflows.DealInput) {
		in.Policy.InspectionWindow = 3 * time.Second
		in.Policy.InspectionReminder = time.Second
	})
	st := d.update(workflows.UpdateSubmitQuote, quote(supA))
	d.update(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: buyer, QuoteID: st.Quotes[0].ID})
	d.signContract(buyer)
	d.signContract(supA)
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepDeposit})
	d.update(workflows.UpdateMarkReady, workflows.ActorInput{Actor: supA})
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepBalance})
	d.update(workflows.UpdateAddShipment, workflows.ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "GOODS-3"})
	d.waitStage(workflows.StageInspection)

	w.Stop() // the worker dies during the inspection window
	time.Sleep(4 * time.Second)
	defer startWorker(t, tc, mem).Stop()

	final := d.result()
	assert.Equal(t, workflows.StageCompleted, final.Stage)
	assert.Contains(t, eventTypes(final), "auto_accepted")
	assert.Len(t, mem.Charges(), 2, "one deposit and one balance charge")
	assert.Len(t, mem.Transfers(), 2, "one transfer per charge")
	assert.Equal(t, int64(764_400), mem.Balance(activities.SupplierAccount("sup-a"), "USD"))
	assert.Equal(t, int64(0), mem.Balance(activities.EscrowAccount(final.DealID), "USD"))
}

func eventTypes(st workflows.DealState) []string {
	out := make([]string, len(st.Timeline))
	for i, e := range st.Timeline {
		out[i] = string(e.Type)
	}
	return out
}

// An action that reaches a deal before its worker has run it (the update
// is delivered with the deal's first workflow task) hands its round of
// bookkeeping to its caller, as every later action does: the caller reads
// its own write.
func TestAnActionInTheDealsFirstTaskHandsItsRoundOff(t *testing.T) {
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	d := startDeal(t, tc, mem, "first-task", func(in *workflows.DealInput) { in.OpenedAt = time.Now() })
	type answer struct {
		res workflows.ActionResult
		err error
	}
	answered := make(chan answer, 1)
	go func() {
		h, err := tc.Client.UpdateWorkflow(d.ctx, client.UpdateWorkflowOptions{
			WorkflowID: d.id, UpdateName: workflows.UpdateSubmitQuote, Args: []any{quote(supA)}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var a answer
		if a.err = err; err == nil {
			a.err = h.Get(d.ctx, &a.res)
		}
		answered <- a
	}()
	// The worker starts once the server holds the update: its first
	// workflow task has the deal's start and the update together.
	require.Eventually(t, func() bool {
		desc, err := tc.Client.DescribeWorkflowExecution(d.ctx, d.id, "")
		return err == nil && desc.GetPendingWorkflowTask() != nil
	}, stepTimeout, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // the update's request on its way to the server
	defer startWorker(t, tc, mem).Stop()
	a := <-answered
	require.NoError(t, a.err)
	h := d.history()
	first := 0
	for _, e := range h.Events {
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			break
		}
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			first++
		}
	}
	if first != 1 {
		t.Skipf("the update came in workflow task %d, not the first: nothing shown", first)
	}
	assert.NotNil(t, a.res.Books, "the first task's action handed no round off")
}
