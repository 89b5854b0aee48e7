package devstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/seed"
	"github.com/tradeloop/tradeloop/workflows"
)

// A user's first deal on the dev stack, over its API with the demo keys:
// shipped with the simulated carrier, it is delivered on its own and the
// inspection window opens.
func TestDevStackDealIsDeliveredByTheSimulatedCarrier(t *testing.T) {
	cfg := testConfig(t)
	cfg.Tracking.SimStep = 200 * time.Millisecond
	cfg.Dev.TrackingPoll = time.Second
	run := start(t, cfg)
	key := map[string]seed.Demo{}
	for _, d := range run.info.DemoUsers {
		key[d.Role] = d
	}
	call := func(role, method, path string, body any) workflows.DealState {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, run.info.APIURL+path, rd)
		req.Header.Set("Authorization", "Bearer "+key[role].Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s as %s: %d %s", method, path, role, resp.StatusCode, raw)
		}
		var out struct {
			workflows.DealState
			Deal *workflows.DealState `json:"deal"`
		}
		_ = json.Unmarshal(raw, &out)
		if out.Deal != nil {
			return *out.Deal
		}
		return out.DealState
	}
	st := call("buyer", "POST", "/v1/deals", map[string]any{"product": "ceramic mugs", "quantity": 500, "currency": "EUR",
		"suppliers": []string{key["supplier"].OrgID.String()}})
	id := "/v1/deals/" + st.DealID
	st = call("supplier", "POST", id+"/quotes", map[string]any{"tiers": []map[string]int{{"min_quantity": 100, "unit_price": 320}},
		"lead_time_days": 14, "valid_till": time.Now().Add(time.Hour)})
	st = call("buyer", "POST", id+"/quotes/"+st.Quotes[0].ID+"/accept", nil)
	call("buyer", "POST", id+"/contract/sign", map[string]string{"terms_sha256": st.Contract.TermsSHA256})
	call("supplier", "POST", id+"/contract/sign", map[string]string{"terms_sha256": st.Contract.TermsSHA256})
	call("buyer", "POST", id+"/payments/deposit", nil)
	call("supplier", "POST", id+"/ready", nil)
	call("buyer", "POST", id+"/payments/balance", nil)
	call("supplier", "POST", id+"/shipment", map[string]string{"carrier": "dhl", "tracking_number": "JD014600006281"})
	deadline := time.Now().Add(45 * time.Second)
	for {
		st = call("buyer", "GET", id, nil)
		if st.Stage == workflows.StageInspection {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shipment was not delivered on its own: stage %s, shipment %+v", st.Stage, st.Shipment)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st.Shipment.DeliveredAt.IsZero() || len(st.Shipment.Events) != 5 || st.Deadlines["inspection_ends_at"].IsZero() {
		t.Fatalf("shipment %+v deadlines %v", st.Shipment, st.Deadlines)
	}
	if st.Escrow.Held != 160_000 {
		t.Fatalf("escrow %+v, want the 160,000 paid in the sandbox held", st.Escrow)
	}
}
