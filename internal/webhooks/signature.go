package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>", the
	// HMAC keyed with the endpoint's secret over "<t>.<body>" (the way
	// Stripe signs its webhooks).
	SignatureHeader = "Tradeloop-Signature"
	// EventHeader is the event's ID, the same in every attempt and at
	// every endpoint: a receiver that has seen it drops the repeat.
	EventHeader = "Tradeloop-Event-Id"
	// DeliveryHeader is the delivery's ID (one per event and endpoint),
	// AttemptHeader its attempt, from 1.
	DeliveryHeader = "Tradeloop-Delivery-Id"
	AttemptHeader  = "Tradeloop-Attempt"
)

// DefaultTolerance is how old a signature's time Verify accepts by
// default: older deliveries may be replays by someone who captured one.
const DefaultTolerance = 5 * time.Minute

// secretPrefix starts every endpoint secret.
const secretPrefix = "whsec_"

// NewSecret makes an endpoint's signing secret: 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a webhook secret: %w", err)
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Sign is the SignatureHeader value for body sent at t with secret, and
// with each of more (a rolled secret's predecessor) after it.
func Sign(secret string, t time.Time, body []byte, more ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	h := "t=" + ts + ",v1=" + mac(secret, ts, body)
	for _, m := range more {
		h += ",v1=" + mac(m, ts, body)
	}
	return h
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Errors Verify answers with.
var (
	ErrBadSignatureHeader = errors.New("the signature header is not t=<unix>,v1=<hex>")
	ErrSignatureMismatch  = errors.New("no v1 signature matches the body")
	ErrSignatureTooOld    = errors.New("the signature's time is outside the tolerance")
)

// Verify checks a delivery as a receiver should: header is its
// SignatureHeader, body the raw request body; the signature's time must be
// within tolerance of now (DefaultTolerance when zero). During a secret's
// rotation a header may carry several v1 signatures: one matching is
// enough.
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrBadSignatureHeader
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignatureHeader
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureTooOld
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// EventID is the ID of the event a notification makes: the same wherever
// and however often it is sent.
func EventID(notificationKey string) string {
	sum := sha256.Sum256([]byte(notificationKey))
	return "evt_" + hex.EncodeToString(sum[:12])
}
