package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/tradeloop/tradeloop/activities"
)

// countKeepBooks counts the bookkeeping activities the deal starts.
func countKeepBooks(h *harness) *int {
	n, _ := countBooks(h)
	return n
}

// countBooks counts the bookkeeping activities the deal starts, regular
// and local.
func countBooks(h *harness) (regular, local *int) {
	regular, local = new(int), new(int)
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "KeepBooks" {
			*regular++
		}
	})
	h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		if info.ActivityType.Name == "KeepBooks" {
			*local++
		}
	})
	return regular, local
}

// projectedUpTo reports whether the read model has the deal's timeline
// up to its last entry.
func (h *harness) projectedUpTo(st DealState) bool {
	p, evs := h.mem.Projected("d1")
	return p.LastSeq == len(st.Timeline) && len(evs) == len(st.Timeline)
}

// An action hands its round of bookkeeping to its caller: the API writes
// the read model and the notifications before it answers, and no
// bookkeeping activity runs for it.
func TestActionHandsItsRoundOfBookkeepingToItsCaller(t *testing.T) {
	h := newHarness(t)
	books := countKeepBooks(h)
	var before int
	h.check(9*m, func(DealState) { before = *books })
	h.update(10*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.check(11*m, func(st DealState) {
		if !h.projectedUpTo(st) {
			t.Errorf("the read model lacks the quote a minute after it")
		}
		if p, _ := h.mem.Projected("d1"); !h.handedOffRound(p.Round) {
			t.Errorf("the read model's round %d was not the one the action handed off", p.Round)
		}
		if *books != before {
			t.Errorf("%d bookkeeping activities ran for the quote, want none", *books-before)
		}
		if n := len(h.mem.Notifications("quote_submitted")); n != 1 {
			t.Errorf("%d quote_submitted notifications, want 1", n)
		}
	})
	h.run(dealInput())
	h.ok("quote")
}

// A round the API never wrote (it crashed between the update's outcome
// and the write) is written by the deal within confirmBooksAfter when
// nothing else happens, with its notifications.
func TestRoundTheAPINeverWroteIsWrittenWithinTheHour(t *testing.T) {
	h := newHarness(t)
	h.dropBooks = true
	h.update(10*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.check(30*m, func(st DealState) {
		if h.projectedUpTo(st) || len(h.mem.Notifications("quote_submitted")) != 0 {
			t.Errorf("the read model has the quote whose round was lost, before the deal wrote it again")
		}
	})
	var checked bool
	h.check(10*m+65*m, func(st DealState) {
		checked = true
		if !h.projectedUpTo(st) {
			t.Errorf("the read model lacks the quote 65 minutes after its round was lost")
		}
		if n := len(h.mem.Notifications("quote_submitted")); n != 1 {
			t.Errorf("%d quote_submitted notifications, want 1", n)
		}
	})
	h.run(dealInput())
	h.ok("quote")
	if !checked {
		t.Fatal("the deal ended before the check")
	}
}

// At most maxHandedOff rounds go unconfirmed in a row (fewer when they
// grow past maxHandOffBytes): then the bookkeeping activity confirms,
// its round carrying every change since the last confirmed, the lost
// rounds' included.
func TestAtMostEightRoundsGoUnconfirmed(t *testing.T) {
	h := newHarness(t)
	h.dropBooks = true
	regular, local := countBooks(h)
	const actions = maxHandedOff + 2
	for i := range actions {
		h.update(10*m+time.Duration(i)*m, label(i), UpdateSubmitQuote, h.quote(supA))
	}
	h.check(10*m+actions*m+5*m, func(st DealState) {
		p, evs := h.mem.Projected("d1")
		if p.LastSeq <= 3 || len(evs) != p.LastSeq {
			t.Errorf("read model at entry %d with %d entries; want one confirmed after the first quote (the timeline has %d)", p.LastSeq, len(evs), len(st.Timeline))
		}
		// The opening round (local: no update in its task), and one or
		// more of the actions' (regular: their updates are in theirs).
		if *regular < 1 || *regular+*local < 2 {
			t.Errorf("%d regular and %d local bookkeeping activities, want 1 or more regular and 2 or more in all", *regular, *local)
		}
	})
	h.run(dealInput())
	for i := range actions {
		h.ok(label(i))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	inARow, most := 0, 0
	for r := 1; r <= actions+1; r++ {
		if h.handedOff[r] {
			inARow++
			most = max(most, inARow)
		} else {
			inARow = 0
		}
	}
	if most == 0 || most > maxHandedOff {
		t.Errorf("%d rounds handed off in a row (%v), want 1 to %d", most, h.handedOff, maxHandedOff)
	}
}

func label(i int) string { return "revision " + string(rune('a'+i)) }

// The action that hands off the last round the bounds allow starts the
// confirmation beside the deal (dealConfirmsAhead): the action after it,
// a minute later, hands its round off too instead of waiting for the
// bookkeeping activity, and the read model has every change.
func TestTheConfirmationRunsAheadOfTheNextAction(t *testing.T) {
	h := newHarness(t)
	regular, _ := countBooks(h)
	const actions = maxHandedOff + 2
	for i := range actions {
		h.update(10*m+time.Duration(i)*m, label(i), UpdateSubmitQuote, h.quote(supA))
	}
	h.check(10*m+actions*m+5*m, func(st DealState) {
		if !h.projectedUpTo(st) {
			t.Errorf("the read model lacks the last quotes")
		}
		if *regular < 1 {
			t.Errorf("no bookkeeping activity confirmed the rounds handed off")
		}
	})
	h.run(dealInput())
	for i := range actions {
		h.ok(label(i))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.handedOff) != actions {
		t.Errorf("%d of %d actions handed their round off (rounds %v); want every one", len(h.handedOff), actions, h.handedOff)
	}
}

// A deal ends only with its books confirmed: the round of its last action,
// lost, is in the read model when the workflow completes.
func TestDealEndsWithItsBooksConfirmed(t *testing.T) {
	h := newHarness(t)
	h.dropBooks = true
	h.toInspection()
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	if st.Stage != StageCompleted || !h.projectedUpTo(st) {
		p, _ := h.mem.Projected("d1")
		t.Fatalf("deal %s with %d entries, read model at %s entry %d", st.Stage, len(st.Timeline), p.Stage, p.LastSeq)
	}
}

// The API writes a deal's opening round as it starts it (OpeningBooks);
// a deal that opens at the API's time takes that round as handed off and
// runs no bookkeeping activity for it, and its next round builds on it.
func TestOpeningRoundIsWrittenByTheAPI(t *testing.T) {
	h := newHarness(t)
	books := countKeepBooks(h)
	in := dealInput()
	in.OpenedAt = h.start
	opening, err := OpeningBooks(in, in.OpenedAt)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.mem.WriteBooks(context.Background(), opening); err != nil {
		t.Fatal(err)
	}
	h.check(m, func(st DealState) {
		if *books != 0 {
			t.Errorf("%d bookkeeping activities for the opening round, want none", *books)
		}
		if !h.projectedUpTo(st) || len(h.mem.Notifications("invited_to_quote")) != 1 {
			t.Errorf("the opening round is not in the read model")
		}
	})
	h.update(10*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.check(11*m, func(st DealState) {
		if p, _ := h.mem.Projected("d1"); !h.projectedUpTo(st) || p.Round != 2 {
			t.Errorf("read model at round %d entry %d after the quote, deal at entry %d", p.Round, p.LastSeq, len(st.Timeline))
		}
	})
	h.run(in)
	h.ok("quote")
}

// OpeningBooks makes the round the workflow makes itself when it opens at
// another time than the API's.
func TestOpeningBooksIsTheWorkflowsOpeningRound(t *testing.T) {
	h := newHarness(t)
	var first *activities.DealProjection
	h.mem.FailProjections(func(p activities.DealProjection) error {
		if first == nil {
			first = &p
		}
		return nil
	})
	in := dealInput() // no OpenedAt: the workflow writes its own round
	h.run(in)
	opening, err := OpeningBooks(in, h.start)
	if err != nil {
		t.Fatal(err)
	}
	got := *opening.Projection
	if first == nil {
		t.Fatal("the workflow made no projection")
	}
	want := *first
	got.At, want.At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("OpeningBooks projects\n%+v\nthe workflow\n%+v", got, want)
	}
	var firstInvite activities.Notification
	for _, n := range h.mem.Notifications("invited_to_quote") {
		if n.Key == "deal-d1/notify/1" {
			firstInvite = n
		}
	}
	if len(opening.Notifications) != 1 || !reflect.DeepEqual(opening.Notifications[0], firstInvite) {
		t.Fatalf("OpeningBooks notifies %+v, the workflow %+v", opening.Notifications, firstInvite)
	}
}

// A deposit paid is posted to the ledger within its payment (a local
// activity, in the worker), so the round the payment hands off has the
// posting and the stage after it: no bookkeeping round follows for it.
// (The rounds handed off by then are near their bounds: one bookkeeping
// activity may confirm them beside the deal, dealConfirmsAhead.)
func TestAPaymentHandsOffItsPostingInItsRound(t *testing.T) {
	h := newHarness(t)
	regular, local := countBooks(h)
	h.toInspection()
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	var regBefore, localBefore int
	h.check(59*m, func(DealState) { regBefore, localBefore = *regular, *local })
	h.check(61*m, func(st DealState) {
		if *regular > regBefore+1 || *local != localBefore {
			t.Errorf("%d regular and %d local bookkeeping activities for the deposit, want at most a confirmation", *regular-regBefore, *local-localBefore)
		}
		h.mu.Lock()
		paid := h.paid
		h.mu.Unlock()
		if paid == nil || paid.Projection.Stage != string(StageProduction) {
			t.Errorf("the deposit handed off %+v, want its round with the stage after it", paid)
		}
		p, _ := h.mem.Projected("d1")
		if st.Stage != StageProduction || !h.projectedUpTo(st) || p.Stage != string(StageProduction) {
			t.Errorf("deal %s, read model %s at entry %d of %d", st.Stage, p.Stage, p.LastSeq, len(st.Timeline))
		}
		if got := h.mem.Balance(activities.EscrowAccount("d1"), "USD"); got != 300_000 {
			t.Errorf("escrow holds %d, want the deposit 300000", got)
		}
		if pay := st.Payments[len(st.Payments)-1]; !pay.Posted {
			t.Errorf("deposit %s not posted", pay.ID)
		}
	})
	h.run(dealInput())
	h.ok("pay deposit", "accept goods")
}

// A payment whose posting fails in the worker still answers; the deal
// posts it afterwards, as a regular activity, and the books follow.
func TestAPaymentWhosePostingFailsAnswersAndIsPostedLater(t *testing.T) {
	h := newHarness(t)
	h.toInspection()
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	tries := int32(0)
	h.mem.FailPostings(func(activities.Posting) error {
		tries++
		if tries <= quickTries.MaximumAttempts {
			return errors.New("ledger unavailable")
		}
		return nil
	})
	h.check(2*m*60, func(st DealState) {
		if st.Stage != StageProduction || !st.Payments[len(st.Payments)-1].Posted || !h.projectedUpTo(st) {
			t.Errorf("deal %s, deposit posted %v, read model up to date %v", st.Stage, st.Payments[len(st.Payments)-1].Posted, h.projectedUpTo(st))
		}
		if got := h.mem.Balance(activities.EscrowAccount("d1"), "USD"); got != 300_000 {
			t.Errorf("escrow holds %d, want the deposit 300000", got)
		}
	})
	h.run(dealInput())
	h.ok("pay deposit", "accept goods")
	if tries <= quickTries.MaximumAttempts {
		t.Errorf("the ledger was asked %d times, want the payment's %d local attempts and more", tries, quickTries.MaximumAttempts)
	}
}

// Which rounds are written by a local activity (roundRecorded): one that
// only confirms rounds handed off (an hour after an action on a quiet
// deal); a round with changes of its own task (a signal's) is written by
// a regular activity, which runs only once its task is recorded. (The
// last rounds of a deal that ended in an earlier task are local too:
// TestWholeDealWithSampleOnEmbeddedServer, as this environment runs
// activities in no time, in the task that ended the deal.)
func TestWhichRoundsAreWrittenByALocalActivity(t *testing.T) {
	t.Run("confirming a quiet deal", func(t *testing.T) {
		h := newHarness(t)
		regular, local := countBooks(h)
		h.toContract()
		var regBefore, localBefore int
		h.check(21*m, func(DealState) { regBefore, localBefore = *regular, *local })
		h.check(2*m*60, func(st DealState) {
			if *regular != regBefore || *local != localBefore+1 || !h.projectedUpTo(st) {
				t.Errorf("%d regular and %d local bookkeeping activities to confirm, want 0 and 1", *regular-regBefore, *local-localBefore)
			}
		})
		h.signal(3*m*60, SignalProviderEvent, ProviderEvent{Type: "charge.updated", ObjectID: "ch_1", Detail: "metadata"})
		h.check(3*m*60+m, func(st DealState) {
			if *regular != regBefore+1 || *local != localBefore+1 || !h.projectedUpTo(st) {
				t.Errorf("after a signal: %d regular and %d local bookkeeping activities, want 1 and 1", *regular-regBefore, *local-localBefore)
			}
		})
		h.run(dealInput())
		h.ok("quote", "accept")
	})
}

// readModelOf is what the read model keeps of the deal after the
// projections written, in the order written: each applied as the read
// model applies it, unless a newer one is there already.
func readModelOf(t *testing.T, written []activities.DealProjection) DealState {
	t.Helper()
	var kept DealState
	var last activities.DealProjection
	for i, p := range written {
		if i > 0 && (last.LastSeq > p.LastSeq || last.LastSeq == p.LastSeq && last.Round > p.Round) {
			continue
		}
		var details DealDetails
		if len(p.Details) > 0 {
			if err := json.Unmarshal(p.Details, &details); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if kept, err = ApplyProjection(kept, p.State, p.Sections, details); err != nil {
			t.Fatalf("projection %d: %v", i, err)
		}
		last = p
	}
	return kept
}

// A part of the deal that leaves a value and comes back to it between two
// confirmed rounds is in the round that brings it back: the read model,
// which has the handed-off rounds between, would otherwise keep the value
// it left for. Here the stage goes CONTRACT → SAMPLE → CONTRACT and the
// contract away and back (the buyer asks for a free sample after its
// contract was made, once the contract's round was confirmed).
func TestTheReadModelFollowsAPartThatComesBack(t *testing.T) {
	h := newHarness(t)
	var (
		mu      sync.Mutex
		written []activities.DealProjection
	)
	h.mem.FailProjections(func(p activities.DealProjection) error {
		mu.Lock()
		defer mu.Unlock()
		written = append(written, p)
		return nil
	})
	free := h.quote(supA)
	free.SamplePrice = 0
	h.update(10*m, "quote", UpdateSubmitQuote, free)
	h.update(20*m, "accept", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"})
	// Quiet for more than confirmBooksAfter: the contract's round is
	// confirmed.
	h.update(2*time.Hour, "ask sample", UpdateRequestSample, ActorInput{Actor: buyer})
	h.update(2*time.Hour+10*m, "ship sample", UpdateShipSample, ShipmentInput{Actor: supA, Carrier: "ups", TrackingNumber: "S1"})
	h.update(2*time.Hour+20*m, "approve", UpdateApproveSample, ActorInput{Actor: buyer})
	for _, at := range []time.Duration{2*time.Hour + 5*m, 2*time.Hour + 25*m} {
		h.check(at, func(st DealState) {
			mu.Lock()
			kept := readModelOf(t, written)
			mu.Unlock()
			if kept.Stage != st.Stage || (kept.Contract == nil) != (st.Contract == nil) || kept.Sample == nil || kept.Sample.Status != st.Sample.Status {
				t.Errorf("at %s the read model has stage %s, contract %v, sample %+v; the deal %s, contract %v, sample %+v",
					at, kept.Stage, kept.Contract != nil, kept.Sample, st.Stage, st.Contract != nil, st.Sample)
			}
		})
	}
	h.run(dealInput())
	h.ok("quote", "accept", "ask sample", "ship sample", "approve")
}
