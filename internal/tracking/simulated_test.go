package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
)

func TestSimulatedCarrierAdvancesOnSchedule(t *testing.T) {
	s := NewSimulated(time.Hour)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ctx := context.Background()
	want := []string{"info_received", "in_transit", "in_transit", "out_for_delivery", "delivered", "delivered"}
	for i, w := range want {
		r, err := s.Track(ctx, activities.TrackInput{Carrier: "dhl", TrackingNumber: "JD0001"})
		if err != nil || r.Status != w {
			t.Fatalf("after %dh: %s (%v), want %s", i, r.Status, err, w)
		}
		if len(r.Events) != min(i+1, 5) {
			t.Fatalf("after %dh: %d events", i, len(r.Events))
		}
		now = now.Add(time.Hour)
	}
	exc := NewSimulated(time.Hour)
	exc.now = s.now
	for range 4 {
		now = now.Add(time.Hour)
		r, _ := exc.Track(ctx, activities.TrackInput{Carrier: "dhl", TrackingNumber: "EXCEPTION-1"})
		if r.Status == activities.TrackDelivered {
			t.Fatal("an EXCEPTION shipment was delivered")
		}
	}
	if r, _ := exc.Track(ctx, activities.TrackInput{Carrier: "dhl", TrackingNumber: "EXCEPTION-1"}); r.Status != activities.TrackException {
		t.Fatalf("EXCEPTION shipment ends %s", r.Status)
	}
}
