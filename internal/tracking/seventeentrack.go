package tracking

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tradeloop/tradeloop/activities"
)

// SeventeenTrack is an adapter for 17TRACK's tracking API (v2.2): numbers
// are registered once, then their tracking info is read with gettrackinfo.
// Requests carry the account's key in the 17token header.
type SeventeenTrack struct {
	base   string
	token  string
	client *http.Client
}

var _ activities.Tracker = (*SeventeenTrack)(nil)

// NewSeventeenTrack returns the adapter for base (https://api.17track.net/track/v2.2).
func NewSeventeenTrack(base, token string) *SeventeenTrack {
	return &SeventeenTrack{base: strings.TrimSuffix(base, "/"), token: token, client: &http.Client{Timeout: 20 * time.Second}}
}

// ErrRateLimited says the provider asked us to slow down; the activity's
// retry policy backs off and tries again.
var ErrRateLimited = errors.New("17track: rate limited")

type stNumber struct {
	Number  string `json:"number"`
	Carrier int    `json:"carrier,omitempty"`
}

type stRejected struct {
	Number string `json:"number"`
	Error  struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type stEvent struct {
	TimeISO     string `json:"time_iso"`
	TimeUTC     string `json:"time_utc"`
	Description string `json:"description"`
	Location    string `json:"location"`
	Stage       string `json:"stage"`
}

type stAccepted struct {
	Number    string `json:"number"`
	TrackInfo struct {
		LatestStatus struct {
			Status    string `json:"status"`
			SubStatus string `json:"sub_status"`
		} `json:"latest_status"`
		TimeMetrics struct {
			EstimatedDeliveryDate struct {
				To string `json:"to"`
			} `json:"estimated_delivery_date"`
		} `json:"time_metrics"`
		Tracking struct {
			Providers []struct {
				Events []stEvent `json:"events"`
			} `json:"providers"`
		} `json:"tracking"`
	} `json:"track_info"`
}

type stResponse struct {
	Code int `json:"code"`
	Data struct {
		Accepted json.RawMessage `json:"accepted"`
		Rejected []stRejected    `json:"rejected"`
		Errors   []struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"data"`
}

// alreadyRegistered is 17TRACK's rejection code for a number registered before.
const alreadyRegistered = -18019901

func (s *SeventeenTrack) call(ctx context.Context, path string, body any) (stResponse, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(b))
	if err != nil {
		return stResponse{}, err
	}
	req.Header.Set("17token", s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return stResponse{}, fmt.Errorf("17track %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return stResponse{}, ErrRateLimited
	case resp.StatusCode != http.StatusOK:
		return stResponse{}, fmt.Errorf("17track %s: HTTP %d", path, resp.StatusCode)
	}
	var out stResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return stResponse{}, fmt.Errorf("17track %s: bad JSON: %w", path, err)
	}
	if out.Code != 0 {
		msg := ""
		if len(out.Data.Errors) > 0 {
			msg = out.Data.Errors[0].Message
		}
		return stResponse{}, fmt.Errorf("17track %s: error %d: %s", path, out.Code, msg)
	}
	return out, nil
}

func carrierCode(carrier string) int {
	n, _ := strconv.Atoi(carrier) // 17TRACK's numeric carrier codes; others auto-detect
	return n
}

// Track implements activities.Tracker: it registers the number (a number
// registered before is fine) and reads its tracking info.
func (s *SeventeenTrack) Track(ctx context.Context, in activities.TrackInput) (activities.TrackResult, error) {
	num := []stNumber{{Number: in.TrackingNumber, Carrier: carrierCode(in.Carrier)}}
	reg, err := s.call(ctx, "/register", num)
	if err != nil {
		return activities.TrackResult{}, err
	}
	for _, r := range reg.Data.Rejected {
		if r.Error.Code != alreadyRegistered {
			return activities.TrackResult{}, fmt.Errorf("17track refused %s: %d %s", r.Number, r.Error.Code, r.Error.Message)
		}
	}
	info, err := s.call(ctx, "/gettrackinfo", num)
	if err != nil {
		return activities.TrackResult{}, err
	}
	var accepted []stAccepted
	if err := json.Unmarshal(info.Data.Accepted, &accepted); err != nil {
		return activities.TrackResult{}, fmt.Errorf("17track gettrackinfo: bad accepted list: %w", err)
	}
	if len(accepted) == 0 {
		if len(info.Data.Rejected) > 0 {
			r := info.Data.Rejected[0]
			return activities.TrackResult{}, fmt.Errorf("17track has no info for %s: %d %s", r.Number, r.Error.Code, r.Error.Message)
		}
		return activities.TrackResult{Status: activities.TrackPending}, nil
	}
	ti := accepted[0].TrackInfo
	res := activities.TrackResult{Status: normalise(ti.LatestStatus.Status)}
	if t, err := time.Parse(time.RFC3339, ti.TimeMetrics.EstimatedDeliveryDate.To); err == nil {
		res.EstimatedDelivery = t
	}
	for _, p := range ti.Tracking.Providers {
		for _, e := range p.Events {
			at, err := time.Parse(time.RFC3339, e.TimeUTC)
			if err != nil {
				at, _ = time.Parse(time.RFC3339, e.TimeISO)
			}
			res.Events = append(res.Events, activities.TrackEvent{At: at.UTC(), Status: normalise(e.Stage), Location: e.Location, Description: e.Description})
		}
	}
	return res, nil
}

// normalise maps 17TRACK's statuses (and event stages) to ours.
func normalise(status string) string {
	switch status {
	case "InfoReceived":
		return activities.TrackInfoReceived
	case "InTransit", "PickedUp", "Departure", "Arrival":
		return activities.TrackInTransit
	case "OutForDelivery":
		return activities.TrackOutForDelivery
	case "AvailableForPickup":
		return activities.TrackAtPickup
	case "DeliveryFailure":
		return activities.TrackAttemptFailed
	case "Delivered":
		return activities.TrackDelivered
	case "Exception", "Returning", "Returned":
		return activities.TrackException
	case "Expired":
		return activities.TrackExpired
	}
	return activities.TrackPending // NotFound, and anything new
}
