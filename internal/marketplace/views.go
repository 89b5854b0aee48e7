package marketplace

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tradeloop/tradeloop/db/store"
)

// Channel is how a buyer came to a product, and so what brought its
// inquiry: the funnel's figures are also given by channel.
type Channel string

// The channels. Direct is any way but the platform's own links.
const (
	ChannelDirect       Channel = "direct"
	ChannelMatching     Channel = "matching"
	ChannelReactivation Channel = "reactivation"
	ChannelReferral     Channel = "referral"
)

// Channels are the channels in the order the figures list them.
var Channels = []Channel{ChannelDirect, ChannelMatching, ChannelReactivation, ChannelReferral}

// ParseChannel reads a link's channel (its via parameter); "" is direct.
func ParseChannel(s string) (Channel, bool) {
	if s == "" {
		return ChannelDirect, true
	}
	for _, c := range Channels {
		if string(c) == s {
			return c, true
		}
	}
	return "", false
}

// View is a buyer's look at a product page.
type View struct {
	Product Product
	// The buyer's organization and user.
	ViewerOrg, ViewerUser uuid.UUID
	Channel               Channel
	At                    time.Time
}

// RecordView logs a buyer's view of a product for the funnel: once per
// user, product and hour, however often the page is loaded.
func (m *Market) RecordView(ctx context.Context, v View) error {
	at := v.At.UTC()
	err := store.New(m.db).RecordProductView(ctx, store.RecordProductViewParams{
		ProductID: v.Product.ID, ViewerOrgID: v.ViewerOrg, ViewerUserID: v.ViewerUser,
		Category: v.Product.Category, Channel: string(v.Channel), Hour: at.Truncate(time.Hour), ViewedAt: at,
	})
	if err != nil {
		return fmt.Errorf("record view of product %s: %w", v.Product.ID, err)
	}
	return nil
}

// Origin is what the platform knows of an inquiry as it starts its deal.
type Origin struct {
	DealID   string
	BuyerOrg uuid.UUID
	// Product is the product the buyer inquired from, if it named one.
	Product  *uuid.UUID
	Category string
	At       time.Time
}

// RecordOrigin records what brought an inquiry and answers its channel:
// the channel of the buyer's latest view in the inquiry's category in the
// 30 days before, or direct. A repeat keeps the first answer.
func (m *Market) RecordOrigin(ctx context.Context, o Origin) (Channel, error) {
	var product pgtype.UUID
	if o.Product != nil {
		product = pgtype.UUID{Bytes: *o.Product, Valid: true}
	}
	ch, err := store.New(m.db).RecordDealOrigin(ctx, store.RecordDealOriginParams{
		DealID: o.DealID, BuyerOrgID: o.BuyerOrg, ProductID: product, Category: o.Category, CreatedAt: o.At.UTC(),
	})
	if err != nil {
		return "", fmt.Errorf("record origin of deal %s: %w", o.DealID, err)
	}
	return Channel(ch), nil
}
