package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
)

// give gives the test deal's buyer a coupon of amount before the deal.
func (h *harness) give(id string, amount int64) {
	h.t.Helper()
	if err := h.coupons.Give(context.Background(), id, buyer.OrgID, amount, "USD"); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) coupon(id string) int64 {
	return h.mem.Balance(activities.CouponAccount(id), "USD")
}

func TestACouponPaysPartOfTheDepositAndTheSupplierGetsWhatItWould(t *testing.T) {
	h := newHarness(t)
	h.give("c1", 10_000)
	h.coupons.Refer(buyer.OrgID, "referrer-1")
	h.toInspection()
	h.update(60*m+time.Second, "pay deposit again", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.update(7*time.Hour, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	h.ok("pay deposit", "pay balance", "accept goods")
	h.rejected("pay deposit again", RejectWrongStage)

	if st.Stage != StageCompleted {
		t.Fatalf("stage %s", st.Stage)
	}
	// The buyer's card paid the deposit less the coupon; the coupon the rest.
	if c := h.mem.Charges()["deal-d1/deposit-1"]; c.Amount != 290_000 {
		t.Fatalf("deposit charged %d, want 290,000", c.Amount)
	}
	if c := h.coupon("c1"); c != 0 {
		t.Fatalf("coupon holds %d after use, want 0", c)
	}
	// The supplier is paid what a deal without a coupon pays it (the
	// happy path's 980,000), part of it from the platform's balance.
	if want := (Escrow{Released: 1_000_000, Commission: 20_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	h.balances(0, 980_000, 20_000, -990_000, "sup-a")
	tr := h.mem.Transfers()
	cp, dep, bal := tr["deal-d1/coupon/transfer"], tr["deal-d1/deposit-1/transfer"], tr["deal-d1/balance-1/transfer"]
	if cp.Amount != 9_800 || cp.SourcePaymentID != "" || dep.Amount != 284_200 || bal.Amount != 686_000 {
		t.Fatalf("transfers coupon %+v deposit %+v balance %+v", cp, dep, bal)
	}
	if len(h.mem.Refunds()) != 0 {
		t.Fatalf("refunds on a completed deal: %+v", h.mem.Refunds())
	}
	if !h.hasEvent(EventCouponRedeemed) {
		t.Fatal("the timeline does not say the coupon paid part of the deposit")
	}
	// The buyer was referred: its first completed deal earns its
	// referrer 1 % of it, from the platform's rewards.
	if got := h.mem.Balance(activities.CouponAccount("reward-"+buyer.OrgID), "USD"); got != 10_000 {
		t.Fatalf("referrer's coupon %d, want 10,000", got)
	}
	if got := h.mem.Balance(activities.ReferralRewardsAccount, "USD"); got != -20_000 {
		t.Fatalf("platform's referral rewards %d, want -20,000 (two coupons)", got)
	}
}

func TestACancelledDealGivesTheCouponBack(t *testing.T) {
	h := newHarness(t)
	h.give("c1", 10_000)
	h.coupons.Refer(buyer.OrgID, "referrer-1")
	h.toProduction()
	h.update(20*day+2*time.Hour, "cancel late", UpdateCancel, ActorInput{Actor: buyer, Note: "too late"})
	st := h.run(dealInput())
	h.ok("pay deposit", "cancel late")
	if st.Stage != StageCancelled {
		t.Fatalf("stage %s", st.Stage)
	}
	if r := h.mem.Refunds()["deal-d1/deposit-1/refund"]; r.Amount != 290_000 {
		t.Fatalf("card refund %+v, want 290,000", h.mem.Refunds())
	}
	if _, ok := h.mem.Refunds()["deal-d1/coupon/refund"]; ok {
		t.Fatal("the coupon's part was refunded to the card")
	}
	if c := h.coupon("c1"); c != 10_000 {
		t.Fatalf("coupon holds %d after the cancellation, want 10,000 back", c)
	}
	if want := (Escrow{Refunded: 300_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	h.balances(0, 0, 0, 0, "sup-a")
	if got := h.mem.Balance(activities.CouponAccount("reward-"+buyer.OrgID), "USD"); got != 0 {
		t.Fatalf("a cancelled deal rewarded the referrer with %d", got)
	}
}

func TestACouponWorthTheWholeDepositPaysIt(t *testing.T) {
	h := newHarness(t)
	h.give("big", 500_000)
	h.toInspection()
	h.update(7*time.Hour, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	h.ok("pay deposit", "progress", "pay balance", "accept goods")
	if _, charged := h.mem.Charges()["deal-d1/deposit-1"]; charged {
		t.Fatal("the card was charged for a deposit the coupon paid")
	}
	if c := h.coupon("big"); c != 200_000 {
		t.Fatalf("coupon holds %d, want the 200,000 the deposit left", c)
	}
	h.balances(0, 980_000, 20_000, -700_000, "sup-a")
	if st.Escrow.Released != 1_000_000 {
		t.Fatalf("escrow %+v", st.Escrow)
	}
	// Not referred: no one is rewarded.
	if got := h.mem.Balance(activities.ReferralRewardsAccount, "USD"); got != -500_000 {
		t.Fatalf("platform's referral rewards %d, want only the coupon given", got)
	}
}
