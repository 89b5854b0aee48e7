package webhooks

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/drain"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Put adds a delivery of the notification key to each enabled endpoint of
// the organization it is addressed to, with q inside the notification
// dispatcher's transaction: a notification has its deliveries exactly
// when it is marked delivered, once however often it is tried.
func Put(ctx context.Context, q *store.Queries, key string, now time.Time) error {
	if err := q.PutWebhookDeliveries(ctx, store.PutWebhookDeliveriesParams{Now: now, Key: key}); err != nil {
		return fmt.Errorf("add webhook deliveries of %s: %w", key, err)
	}
	return nil
}

// The retry schedule: a failed attempt n waits FirstGap·2^(n-1), at most
// MaxGap; a delivery still failing GiveUpAfter after it was made is given
// up, and an endpoint failing DisableAfter since its last answer is
// disabled. With these, a delivery is tried about 20 times over three
// days.
const (
	FirstGap     = 30 * time.Second
	MaxGap       = 6 * time.Hour
	GiveUpAfter  = 72 * time.Hour
	DisableAfter = 72 * time.Hour
)

// Gap is how long a delivery waits after its attempt-th failed attempt.
func Gap(attempt int32) time.Duration {
	g := FirstGap
	for i := int32(1); i < attempt && g < MaxGap; i++ {
		g *= 2
	}
	return min(g, MaxGap)
}

// Event is a delivery's body: the notification as an event.
type Event struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
	OrgID   string    `json:"org_id"`
	DealID  string    `json:"deal_id,omitempty"`
	// Text is the notification in English; Facts are what it says, for
	// programs (amounts in minor units, durations in nanoseconds).
	Text  string        `json:"text"`
	Facts *notice.Facts `json:"facts,omitempty"`
}

// NoticeKind is the kind of the notification an organization gets when
// one of its endpoints is disabled.
const NoticeKind = "webhook_endpoint_disabled"

// Dispatcher posts the due deliveries.
type Dispatcher struct {
	Pool   *pgxpool.Pool
	Client *http.Client // default Client(false)
	Logger *slog.Logger
	// Every is how often due deliveries are looked for (default a second).
	Every time.Duration
	// Batch is how many deliveries one round takes (default 50), Parallel
	// how many of them are posted at once (default 8).
	Batch, Parallel int
	// Lease is how long a taken delivery is held before another round may
	// take it again (default a minute): longer than an attempt.
	Lease time.Duration
	// AttemptTimeout bounds one attempt (default AttemptTimeout).
	AttemptTimeout time.Duration
	Now            func() time.Time

	defaultClient sync.Once
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	drain.Every(ctx, d.Every, d.batch(), d.DeliverDue, func(err error) { d.logger().Error("deliver webhooks", "error", err) })
}

// DeliverDue takes the deliveries due now (a committed lease on each, so
// no transaction is held while endpoints answer), posts them, and records
// each attempt. It returns how many it took.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	q := store.New(d.Pool)
	rows, err := q.ClaimWebhookDeliveries(ctx, store.ClaimWebhookDeliveriesParams{
		Now: d.now(), LeaseSecs: d.lease().Seconds(), MaxCount: int32(d.batch()),
	})
	if err != nil {
		return 0, fmt.Errorf("take due webhook deliveries: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, d.parallel())
	)
	for _, r := range rows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := d.deliver(ctx, r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(rows), errors.Join(errs...)
}

// deliver makes one attempt of a delivery and records it.
func (d *Dispatcher) deliver(ctx context.Context, r store.ClaimWebhookDeliveriesRow) error {
	facts, err := notice.Decode(r.Facts)
	if err != nil {
		return fmt.Errorf("webhook event %s: %w", r.Key, err)
	}
	body, err := json.Marshal(Event{ID: EventID(r.Key), Type: r.Kind, Created: r.NotifiedAt.UTC(), OrgID: r.OrgID, DealID: r.DealID, Text: r.Text, Facts: facts})
	if err != nil {
		return fmt.Errorf("encode webhook event %s: %w", r.Key, err)
	}
	began := d.now()
	status, failure := d.post(ctx, r, body, began)
	if status == 0 && ctx.Err() != nil {
		// Stopping before the endpoint answered: the lease runs out and
		// the delivery is taken again.
		return nil
	}
	// What the endpoint answered is recorded even while stopping: a
	// delivery it took would otherwise go out again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	took := d.now().Sub(began)
	var code *int32
	if status > 0 {
		c := int32(status)
		code = &c
	}
	detail := ""
	if failure != nil {
		detail = bounds.Clean(failure.Error(), 300)
	}
	return pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.RecordWebhookAttempt(ctx, store.RecordWebhookAttemptParams{
			DeliveryID: r.ID, Attempt: r.Attempts, At: began, Status: code, Error: detail, DurationMs: int32(took.Milliseconds()),
		}); err != nil {
			return fmt.Errorf("log attempt %d of webhook delivery %s: %w", r.Attempts, r.ID, err)
		}
		if failure == nil {
			at := d.now()
			if err := q.MarkWebhookDelivered(ctx, store.MarkWebhookDeliveredParams{At: &at, Status: code, ID: r.ID}); err != nil {
				return fmt.Errorf("mark webhook delivery %s delivered: %w", r.ID, err)
			}
			return q.WebhookEndpointAnswered(ctx, r.EndpointID)
		}
		giveUp := began.Sub(r.CreatedAt) >= GiveUpAfter
		d.logger().Warn("webhook not delivered", "endpoint", r.EndpointID, "delivery", r.ID, "attempt", r.Attempts, "give_up", giveUp, "error", detail)
		if err := q.MarkWebhookAttemptFailed(ctx, store.MarkWebhookAttemptFailedParams{
			GiveUp: giveUp, NextAttemptAt: began.Add(Gap(r.Attempts)), Status: code, Error: detail, ID: r.ID,
		}); err != nil {
			return fmt.Errorf("record the failed attempt of webhook delivery %s: %w", r.ID, err)
		}
		return d.endpointFailed(ctx, q, r, began)
	})
}

// recordTimeout bounds the record of an attempt.
const recordTimeout = 10 * time.Second

// post sends one attempt and returns the endpoint's status (0 without an
// answer) and why the attempt failed (nil for a 2xx answer).
func (d *Dispatcher) post(ctx context.Context, r store.ClaimWebhookDeliveriesRow, body []byte, at time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(d.AttemptTimeout, AttemptTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tradeloop-Webhooks/1")
	var previous []string
	if r.PreviousSecret != "" {
		previous = append(previous, r.PreviousSecret) // rolled less than RollOverlap ago
	}
	req.Header.Set(SignatureHeader, Sign(r.Secret, at, body, previous...))
	req.Header.Set(EventHeader, EventID(r.Key))
	req.Header.Set(DeliveryHeader, r.ID.String())
	req.Header.Set(AttemptHeader, strconv.Itoa(int(r.Attempts)))
	resp, err := d.client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// What the endpoint says, briefly, for the log; the rest is drained
	// (a little) so the connection can be used again.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet)
	}
	return resp.StatusCode, nil
}

// endpointFailed notes the endpoint's failure and disables it once it has
// failed for DisableAfter, with a notice to its organization.
func (d *Dispatcher) endpointFailed(ctx context.Context, q *store.Queries, r store.ClaimWebhookDeliveriesRow, at time.Time) error {
	e, err := q.WebhookEndpointFailed(ctx, store.WebhookEndpointFailedParams{At: at, ID: r.EndpointID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("note webhook endpoint %s failing: %w", r.EndpointID, err)
	}
	if !e.Enabled || e.FailingSince == nil || at.Sub(*e.FailingSince) < DisableAfter {
		return nil
	}
	facts := notice.Facts{Ref: e.Url, Since: *e.FailingSince}
	why := fmt.Sprintf("no successful delivery since %s", e.FailingSince.UTC().Format(time.RFC3339))
	n, err := q.DisableWebhookEndpoint(ctx, store.DisableWebhookEndpointParams{At: &at, Why: why, ID: r.EndpointID})
	if err != nil || n == 0 {
		return err
	}
	d.logger().Warn("webhook endpoint disabled", "endpoint", r.EndpointID, "why", why)
	encoded, err := notice.Encode(&facts)
	if err != nil {
		return err
	}
	return q.InsertNotification(ctx, store.InsertNotificationParams{
		Key: fmt.Sprintf("webhook/%s/disabled/%d", r.EndpointID, at.UnixMicro()), DealID: "", OrgID: e.OrgID.String(), Kind: NoticeKind,
		Text: texts.Text(texts.Default, NoticeKind, facts, ""), Facts: encoded,
	})
}

func (d *Dispatcher) client() *http.Client {
	d.defaultClient.Do(func() {
		if d.Client == nil {
			d.Client = Client(false)
		}
	})
	return d.Client
}

func (d *Dispatcher) batch() int {
	if d.Batch <= 0 {
		return 50
	}
	return d.Batch
}

func (d *Dispatcher) parallel() int {
	if d.Parallel <= 0 {
		return 8
	}
	return d.Parallel
}

func (d *Dispatcher) lease() time.Duration {
	if d.Lease <= 0 {
		return time.Minute
	}
	return d.Lease
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

func (d *Dispatcher) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}
