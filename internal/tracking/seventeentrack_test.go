package tracking

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tradeloop/tradeloop/activities"
)

// fake17 serves register and gettrackinfo the way 17TRACK documents them.
func fake17(t *testing.T, register, info string, status int) (*SeventeenTrack, *[]string) {
	t.Helper()
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		calls = append(calls, r.URL.Path+" "+r.Header.Get("17token")+" "+string(body))
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/register") {
			_, _ = w.Write([]byte(register))
			return
		}
		_, _ = w.Write([]byte(info))
	}))
	t.Cleanup(srv.Close)
	return NewSeventeenTrack(srv.URL+"/track/v2.2", "tok"), &calls
}

const registered = `{"code":0,"data":{"accepted":[],"rejected":[{"number":"RR123456789CN","error":{"code":-18019901,"message":"The tracking number 'RR123456789CN' has been registered, don't need to repeat registration."}}]}}`

const inTransit = `{"code":0,"data":{"accepted":[{"number":"RR123456789CN","carrier":3011,"track_info":{
 "latest_status":{"status":"InTransit","sub_status":"InTransit_Other"},
 "time_metrics":{"estimated_delivery_date":{"from":"2026-05-08T00:00:00Z","to":"2026-05-10T00:00:00Z"}},
 "tracking":{"providers":[{"provider":{"key":3011},"events":[
   {"time_iso":"2026-05-02T09:10:00+08:00","time_utc":"2026-05-02T01:10:00Z","description":"Departed from facility","location":"Shenzhen","stage":"Departure"},
   {"time_iso":"2026-05-01T18:00:00+08:00","time_utc":"2026-05-01T10:00:00Z","description":"Shipment information received","location":"Shenzhen","stage":"InfoReceived"}]}]}}}],"rejected":[]}}`

func TestSeventeenTrackReadsAndNormalises(t *testing.T) {
	s, calls := fake17(t, registered, inTransit, 0)
	r, err := s.Track(context.Background(), activities.TrackInput{Carrier: "3011", TrackingNumber: "RR123456789CN"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != activities.TrackInTransit || len(r.Events) != 2 || r.Events[0].Location != "Shenzhen" || r.Events[1].Status != activities.TrackInfoReceived {
		t.Fatalf("result %+v", r)
	}
	if r.EstimatedDelivery.Format("2006-01-02") != "2026-05-10" || r.Events[0].At.Hour() != 1 {
		t.Fatalf("times %v %v", r.EstimatedDelivery, r.Events[0].At)
	}
	if len(*calls) != 2 || !strings.Contains((*calls)[0], "/register tok ") || !strings.Contains((*calls)[0], `"carrier":3011`) {
		t.Fatalf("calls %v", *calls)
	}
	for in, want := range map[string]string{
		"NotFound": "pending", "InfoReceived": "info_received", "OutForDelivery": "out_for_delivery",
		"AvailableForPickup": "available_for_pickup", "DeliveryFailure": "attempt_failed", "Delivered": "delivered",
		"Exception": "exception", "Expired": "expired", "SomethingNew": "pending",
	} {
		if got := normalise(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

func TestSeventeenTrackErrors(t *testing.T) {
	ctx := context.Background()
	in := activities.TrackInput{TrackingNumber: "RR123456789CN"}
	s, _ := fake17(t, "", "", http.StatusTooManyRequests)
	if _, err := s.Track(ctx, in); !errors.Is(err, ErrRateLimited) {
		t.Errorf("429: %v", err)
	}
	s, _ = fake17(t, `{"code":-18010002,"data":{"errors":[{"code":-18010002,"message":"Invalid access key."}]}}`, "", 0)
	if _, err := s.Track(ctx, in); err == nil || !strings.Contains(err.Error(), "Invalid access key") {
		t.Errorf("bad token: %v", err)
	}
	s, _ = fake17(t, `{"code":0,"data":{"accepted":[],"rejected":[{"number":"X","error":{"code":-18019903,"message":"Carrier cannot be detected."}}]}}`, "", 0)
	if _, err := s.Track(ctx, in); err == nil || !strings.Contains(err.Error(), "Carrier cannot be detected") {
		t.Errorf("refused number: %v", err)
	}
	s, _ = fake17(t, registered, `{"code":0,"data":{"accepted":[],"rejected":[]}}`, 0)
	if r, err := s.Track(ctx, in); err != nil || r.Status != activities.TrackPending {
		t.Errorf("no info yet: %+v %v", r, err)
	}
}
