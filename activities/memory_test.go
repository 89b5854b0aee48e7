package activities

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestPostingMustBalancePerCurrency(t *testing.T) {
	ok := Posting{IdempotencyKey: "k", Lines: []Line{
		{Account: "buyer:b", Amount: -100, Currency: "USD"}, {Account: "escrow:d", Amount: 100, Currency: "USD"},
	}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Posting{
		"unbalanced":     {IdempotencyKey: "k", Lines: []Line{{Account: "a", Amount: -100, Currency: "USD"}, {Account: "b", Amount: 99, Currency: "USD"}}},
		"mixed currency": {IdempotencyKey: "k", Lines: []Line{{Account: "a", Amount: -100, Currency: "USD"}, {Account: "b", Amount: 100, Currency: "EUR"}}},
		"one line":       {IdempotencyKey: "k", Lines: []Line{{Account: "a", Amount: 0, Currency: "USD"}}},
		"no key":         {Lines: ok.Lines},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%s posting accepted", name)
		}
	}
	a := NewMemory().Activities()
	err := a.PostLedger(context.Background(), Posting{IdempotencyKey: "k", Lines: []Line{{Account: "a", Amount: 1, Currency: "USD"}, {Account: "b", Amount: 1, Currency: "USD"}}})
	if err == nil || !strings.Contains(err.Error(), "not zero") {
		t.Fatalf("unbalanced posting through the activity: %v", err)
	}
}

func TestMemoryLedgerPostsOnceAndKeepsEscrowNonNegative(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	in := Posting{IdempotencyKey: "deal-1/deposit-1/escrow", Lines: []Line{
		{Account: BuyerAccount("b"), Amount: -300, Currency: "USD"}, {Account: EscrowAccount("1"), Amount: 300, Currency: "USD"},
	}}
	for range 3 {
		if err := m.Post(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Balance(EscrowAccount("1"), "USD"); got != 300 {
		t.Fatalf("escrow %d after a posting retried 3 times, want 300", got)
	}
	over := Posting{IdempotencyKey: "deal-1/over", Lines: []Line{
		{Account: EscrowAccount("1"), Amount: -301, Currency: "USD"}, {Account: SupplierAccount("s"), Amount: 301, Currency: "USD"},
	}}
	if err := m.Post(ctx, over); err == nil {
		t.Fatal("escrow allowed below zero")
	}
	if got := m.Balance(SupplierAccount("s"), "USD"); got != 0 {
		t.Fatalf("a refused posting moved %d", got)
	}
}

func TestMemoryChargeIsIdempotentAndCanDecline(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	m.Decline("deposit", 1)
	in := ChargeInput{DealID: "1", Step: "deposit", Amount: 300, Currency: "USD", IdempotencyKey: "deal-1/deposit-1"}
	if _, err := m.Activities().Charge(ctx, in); err == nil {
		t.Fatal("decline not applied")
	}
	in.IdempotencyKey = "deal-1/deposit-2"
	r1, err := m.Charge(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := m.Charge(ctx, in)
	if r1.PaymentID != r2.PaymentID || len(m.Charges()) != 1 {
		t.Fatalf("retried charge made %d charges (%s, %s)", len(m.Charges()), r1.PaymentID, r2.PaymentID)
	}
	if _, err := m.Activities().Charge(ctx, ChargeInput{Amount: 0, IdempotencyKey: "z"}); err == nil {
		t.Fatal("zero charge accepted")
	}
}

// An alert raised twice is one alert; the memory keeps it until resolved.
func TestMemoryAlertsAreOnePerKindDealAndSubject(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	a := m.Activities()
	lost := Alert{Kind: "projection_failed", DealID: "d1", Subject: "ProjectDeal", Detail: "read model refused"}
	for range 2 {
		if err := a.RaiseAlert(ctx, lost); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RaiseAlert(ctx, Alert{Kind: "Bad Kind", Detail: "x"}); err == nil {
		t.Fatal("an alert of a malformed kind was raised")
	}
	if got := m.OpenAlerts(); len(got) != 1 || got[0] != lost {
		t.Fatalf("open alerts %+v", got)
	}
	n, err := m.Resolve(ctx, []string{"projection_failed"}, nil, time.Time{})
	if err != nil || n != 1 || len(m.OpenAlerts()) != 0 {
		t.Fatalf("resolved %d (%v), open %+v", n, err, m.OpenAlerts())
	}
}
