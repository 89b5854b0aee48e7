// Package preferences holds each user's choice of channels (the in-app
// inbox, e-mail) per notification kind, and the catalog of kinds it
// chooses among: a kind about money or a legal step (a payment due, a
// contract to sign, a dispute to answer) always reaches every channel;
// the others a user may turn off per channel. The inbox and e-mail
// channels read the choices where they pick recipients (the inbox's and
// mail's recipient queries).
package preferences

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
)

// Class is what a kind of notification is about.
type Class string

// Classes of notification kinds.
const (
	// Money: payments due, made, failed or disputed. Never muted.
	Money Class = "money"
	// Legal: contracts, disputes, mediation, an account's integrations.
	// Never muted.
	Legal Class = "legal"
	// Deal: the deal's progress. A user may turn a channel off.
	Deal Class = "deal"
	// Marketing: offers and news. A user may turn a channel off.
	Marketing Class = "marketing"
)

// Mandatory reports whether notifications of class c reach every channel
// whatever a user chose.
func (c Class) Mandatory() bool { return c == Money || c == Legal }

// Kind is one kind of notification.
type Kind struct {
	Name  string `json:"kind"`
	Class Class  `json:"class"`
}

// Kinds are the kinds of notification the platform sends, by name.
func Kinds() []Kind {
	k := func(c Class, names ...string) []Kind {
		out := make([]Kind, 0, len(names))
		for _, n := range names {
			out = append(out, Kind{Name: n, Class: c})
		}
		return out
	}
	all := slices.Concat(
		k(Money, "deposit_due", "deposit_due_soon", "deposit_secured", "balance_due", "balance_due_soon", "balance_paid",
			"payment_failed", "payment_mismatch", "card_dispute", "sample_paid", "referral_coupon", "deposit_forfeited",
			"gold_activated", "gold_failed", "gold_renewal_soon", "gold_renewed", "gold_payment_failed", "gold_ended", "gold_lapsed"),
		k(Legal, "contract_ready", "contract_sign_soon", "dispute_opened", "dispute_answer_soon", "mediation_needed",
			"settlement_proposed", "inspection_reminder", "webhook_endpoint_disabled",
			"verification_submitted", "verification_review_due", "verification_revision", "verification_revision_due",
			"verification_approved", "verification_rejected", "verification_lapsed", "verification_expiring", "verification_expired"),
		k(Deal, "invited_to_quote", "quote_due_soon", "invitation_closed", "inquiry_redispatched", "quote_submitted",
			"quote_revised", "counter_offer", "quote_accepted", "sample_requested", "sample_shipped", "sample_delivered",
			"sample_shipment_failed", "resample_requested", "production_late", "ship_by_extended", "goods_shipped",
			"goods_delivered", "stage_changed"),
		k(Marketing, "price_drop", "new_supplier_in_category", "reactivation", "matched_offer", "new_product"),
	)
	slices.SortFunc(all, func(a, b Kind) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return all
}

// ClassOf is kind's class; a kind the catalog does not hold is a Deal
// kind.
func ClassOf(kind string) (Class, bool) {
	for _, k := range Kinds() {
		if k.Name == kind {
			return k.Class, true
		}
	}
	return Deal, false
}

// Channels a user chooses among.
var Channels = []string{"inbox", "email"}

// Preference is a user's channels for one kind.
type Preference struct {
	Kind      string          `json:"kind"`
	Class     Class           `json:"class"`
	Mandatory bool            `json:"mandatory"`
	Channels  map[string]bool `json:"channels"`
}

// Change turns one channel of one kind on or off.
type Change struct {
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	Enabled bool   `json:"enabled"`
}

// MaxChanges bounds the changes of one Set.
const MaxChanges = 200

// ChangeError is a change that cannot be made.
type ChangeError struct {
	Index  int
	Reason string
}

func (e *ChangeError) Error() string { return fmt.Sprintf("change %d: %s", e.Index, e.Reason) }

// ErrTooManyChanges is a Set of more than MaxChanges.
var ErrTooManyChanges = fmt.Errorf("at most %d changes at once", MaxChanges)

// Service keeps the users' preferences.
type Service struct{ pool *pgxpool.Pool }

// New keeps preferences in pool.
func New(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Of is user's preferences for every kind in the catalog.
func (s *Service) Of(ctx context.Context, user uuid.UUID) ([]Preference, error) {
	rows, err := store.New(s.pool).ListPreferences(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("read notification preferences: %w", err)
	}
	off := map[string]bool{}
	for _, r := range rows {
		off[r.Kind+"/"+r.Channel] = !r.Enabled
	}
	var out []Preference
	for _, k := range Kinds() {
		p := Preference{Kind: k.Name, Class: k.Class, Mandatory: k.Class.Mandatory(), Channels: map[string]bool{}}
		for _, c := range Channels {
			p.Channels[c] = p.Mandatory || !off[k.Name+"/"+c]
		}
		out = append(out, p)
	}
	return out, nil
}

// Set makes user's changes, all or none: a kind not in the catalog, a
// channel not in Channels, or a money or legal kind turned off is refused
// (ChangeError).
func (s *Service) Set(ctx context.Context, user uuid.UUID, changes []Change) error {
	if len(changes) > MaxChanges {
		return ErrTooManyChanges
	}
	for i, c := range changes {
		class, known := ClassOf(c.Kind)
		switch {
		case !known:
			return &ChangeError{Index: i, Reason: fmt.Sprintf("no notification kind %.64q", c.Kind)}
		case !slices.Contains(Channels, c.Channel):
			return &ChangeError{Index: i, Reason: fmt.Sprintf("channel %.32q is not one of inbox, email", c.Channel)}
		case class.Mandatory() && !c.Enabled:
			return &ChangeError{Index: i, Reason: fmt.Sprintf("%s notifications are about %s and cannot be turned off", c.Kind, class)}
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		for _, c := range changes {
			if err := q.SetPreference(ctx, store.SetPreferenceParams{UserID: user, Kind: c.Kind, Channel: c.Channel, Enabled: c.Enabled}); err != nil {
				return fmt.Errorf("keep notification preference: %w", err)
			}
		}
		return nil
	})
}
