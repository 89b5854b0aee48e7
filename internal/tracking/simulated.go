// Package tracking follows shipments at their carriers. Simulated is the
// carrier the dev stack and demos use: it moves each shipment through the
// statuses a real one passes, on a schedule.
package tracking

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/tradeloop/tradeloop/activities"
)

// Simulated advances every shipment one status per Step from the first time
// it is asked about: info_received, in_transit (twice), out_for_delivery,
// delivered. A tracking number containing "EXCEPTION" ends in an exception
// instead, after it has been in transit.
type Simulated struct {
	Step time.Duration

	mu    sync.Mutex
	now   func() time.Time
	first map[string]time.Time
}

var _ activities.Tracker = (*Simulated)(nil)

// NewSimulated returns a simulated carrier advancing one status per step.
func NewSimulated(step time.Duration) *Simulated {
	return &Simulated{Step: step, now: time.Now, first: map[string]time.Time{}}
}

type simStep struct{ status, location, description string }

var (
	simRoute = []simStep{
		{activities.TrackInfoReceived, "Origin facility", "Shipment information received"},
		{activities.TrackInTransit, "Origin hub", "Departed origin hub"},
		{activities.TrackInTransit, "Destination hub", "Arrived at destination hub"},
		{activities.TrackOutForDelivery, "Local depot", "Out for delivery"},
		{activities.TrackDelivered, "Consignee", "Delivered"},
	}
	simException = simStep{activities.TrackException, "Destination hub", "Held by customs: documents missing"}
)

// Track implements activities.Tracker.
func (s *Simulated) Track(_ context.Context, in activities.TrackInput) (activities.TrackResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := in.Carrier + "/" + in.TrackingNumber
	now := s.now()
	start, ok := s.first[key]
	if !ok {
		start = now
		s.first[key] = now
	}
	route := simRoute
	if strings.Contains(strings.ToUpper(in.TrackingNumber), "EXCEPTION") {
		route = append(append([]simStep{}, simRoute[:3]...), simException)
	}
	reached := min(int(now.Sub(start)/max(s.Step, time.Nanosecond)), len(route)-1)
	res := activities.TrackResult{Status: activities.TrackPending, EstimatedDelivery: start.Add(time.Duration(len(simRoute)) * s.Step)}
	for i := 0; i <= reached; i++ {
		st := route[i]
		res.Status = st.status
		res.Events = append(res.Events, activities.TrackEvent{
			At: start.Add(time.Duration(i) * s.Step), Status: st.status, Location: st.location, Description: st.description,
		})
	}
	return res, nil
}
