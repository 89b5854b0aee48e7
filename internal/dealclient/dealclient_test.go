package dealclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/workflows"
)

// Do retries what the platform could not answer, with the same key, and
// returns any other answer.
func TestDoRetriesWithTheSameKeyUntilAnAnswer(t *testing.T) {
	var calls atomic.Int32
	keys := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get("Idempotency-Key")
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusBadGateway)
		case 2:
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"error":{"code":"in_progress"}}`))
		default:
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"deal_id":"d1"}`))
		}
	}))
	defer srv.Close()
	var seen []int
	replayed := 0
	c := Client{BaseURL: srv.URL, Retry: 10 * time.Second,
		Observe:  func(_ string, status int, _ time.Duration) { seen = append(seen, status) },
		Replayed: func(string) { replayed++ }}
	var v View
	if err := c.Do(context.Background(), "k", http.MethodPost, "POST /v1/deals", "/v1/deals", "ref/create", []byte(`{}`), http.StatusCreated, &v); err != nil {
		t.Fatal(err)
	}
	if v.DealID != "d1" || replayed != 1 || len(seen) != 4 || seen[3] != http.StatusCreated {
		t.Fatalf("view %+v, replayed %d, statuses %v", v, replayed, seen)
	}
	close(keys)
	for k := range keys {
		if k != "ref/create" {
			t.Fatalf("a retry used key %q", k)
		}
	}
}

func TestDoReturnsRefusalsAndKeysStuckInProgress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/refused" {
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"error":{"code":"wrong_stage"}}`))
			return
		}
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"error":{"code":"in_progress"}}`))
	}))
	defer srv.Close()
	c := Client{BaseURL: srv.URL, Retry: 10 * time.Second, Recover: 300 * time.Millisecond}
	err := c.Do(context.Background(), "k", http.MethodPost, "e", "/refused", "key", nil, http.StatusOK, nil)
	var refused *Error
	if !errors.As(err, &refused) || refused.Status != http.StatusConflict {
		t.Fatalf("refusal: %v", err)
	}
	began := time.Now()
	err = c.Do(context.Background(), "k", http.MethodPost, "e", "/stuck", "key", nil, http.StatusOK, nil)
	var stuck *StuckError
	if !errors.As(err, &stuck) || time.Since(began) < 300*time.Millisecond || time.Since(began) > 5*time.Second {
		t.Fatalf("stuck key: %v after %s", err, time.Since(began))
	}
}

func TestAnActionIsSeenInTheTimelineByItsActor(t *testing.T) {
	var v View
	v.Timeline = append(v.Timeline, struct {
		Type  workflows.EventType `json:"type"`
		Actor string              `json:"actor"`
	}{"contract_signed", "buyer-1"}, struct {
		Type  workflows.EventType `json:"type"`
		Actor string              `json:"actor"`
	}{"mediator_decision", ""})
	if !v.applied("contract/sign", Party{OrgID: "buyer-1"}) || v.applied("contract/sign", Party{OrgID: "supplier-1"}) {
		t.Error("signature by the wrong party")
	}
	if !v.applied("dispute/decision", Party{OrgID: "mediation"}) || v.applied("accept", Party{OrgID: "buyer-1"}) {
		t.Error("decision or acceptance")
	}
	if routeOf("quotes/q7/accept") != "quotes/:qid/accept" || routeOf("contract/sign") != "contract/sign" {
		t.Error("routeOf")
	}
	if e, by := ActionEvent("quotes/:qid/accept"); e != "quote_accepted" || !by {
		t.Errorf("ActionEvent %q %v", e, by)
	}
}
