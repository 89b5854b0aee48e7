// Package seed puts demonstration data into a fresh database, so that a new
// user of the dev stack has an organization and an API key of every role to
// try the platform with.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/tier"
)

// Demo is one demo user: its role, organization and API key.
type Demo struct {
	Role  string    `json:"role"`
	OrgID uuid.UUID `json:"org_id"`
	Email string    `json:"email"`
	Key   string    `json:"api_key"`
}

// Roles are seeded in this order.
var Roles = []string{"buyer", "supplier", "mediator", "finance", "admin"}

// DemoPassword signs every demo user in to the console. It is printed in
// the dev stack's banner: demo users exist only in `make dev`.
const DemoPassword = "tradeloop-demo"

// Email is the demo user of a role.
func Email(role string) string { return role + "@demo.tradeloop.local" }

// DemoKeys returns a demo user with an API key for every role, creating the
// organizations, users and keys that are missing. The plain keys are kept
// in keyFile (mode 0600) because the database holds only their hashes: the
// same keys work across restarts of the dev stack, until keyFile or the
// database is deleted.
func DemoKeys(ctx context.Context, pool *pgxpool.Pool, keyFile string) ([]Demo, error) {
	saved := map[string]Demo{}
	if b, err := os.ReadFile(keyFile); err == nil {
		var list []Demo
		if json.Unmarshal(b, &list) == nil {
			for _, d := range list {
				saved[d.Role] = d
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read demo keys: %w", err)
	}
	q := store.New(pool)
	out := make([]Demo, 0, len(Roles))
	for _, role := range Roles {
		if d, ok := saved[role]; ok {
			if hash, err := apikey.Parse(d.Key); err == nil {
				valid, err := q.APIKeyExistsByHash(ctx, hash[:])
				if err != nil {
					return nil, fmt.Errorf("look up demo key: %w", err)
				}
				if valid {
					out = append(out, d)
					continue
				}
			}
		}
		d, err := create(ctx, pool, role)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	for _, d := range out {
		if err := demoPassword(ctx, q, d.Email); err != nil {
			return nil, err
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o755); err != nil {
		return nil, fmt.Errorf("create dir for demo keys: %w", err)
	}
	if err := os.WriteFile(keyFile, b, 0o600); err != nil {
		return nil, fmt.Errorf("save demo keys: %w", err)
	}
	return out, nil
}

// demoPassword gives the demo user of email DemoPassword unless it has a
// password.
func demoPassword(ctx context.Context, q *store.Queries, email string) error {
	user, err := q.GetUserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("look up demo user %s: %w", email, err)
	}
	if user.PasswordHash != nil {
		return nil
	}
	hash, err := signin.Hash(DemoPassword)
	if err != nil {
		return fmt.Errorf("hash the demo password: %w", err)
	}
	if _, err := q.SetPasswordHash(ctx, store.SetPasswordHashParams{ID: user.ID, PasswordHash: &hash}); err != nil {
		return fmt.Errorf("set the demo password: %w", err)
	}
	return nil
}

// create makes the role's demo organization and user if needed, and a key.
func create(ctx context.Context, pool *pgxpool.Pool, role string) (Demo, error) {
	d := Demo{Role: role, Email: Email(role)}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		user, err := q.GetUserByEmail(ctx, d.Email)
		if errors.Is(err, pgx.ErrNoRows) {
			org, err := q.CreateOrganization(ctx, "Demo "+role+" organization")
			if err != nil {
				return fmt.Errorf("create demo organization: %w", err)
			}
			user, err = q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: d.Email, Name: "Demo " + role, Role: store.UserRole(role)})
			if err != nil {
				return fmt.Errorf("create demo user: %w", err)
			}
			if role == "supplier" {
				// The demo supplier's desk is in Zhejiang: it reads its
				// notifications in Chinese, on Shanghai's clock.
				if user, err = q.SetUserReading(ctx, store.SetUserReadingParams{ID: user.ID, Language: "zh", TimeZone: "Asia/Shanghai"}); err != nil {
					return fmt.Errorf("set the demo supplier's language: %w", err)
				}
				if err := q.UpsertSupplierProfile(ctx, store.UpsertSupplierProfileParams{
					OrgID: org.ID, Categories: []string{"apparel", "fasteners"}, Regions: []string{"CN-ZJ", "DE"}, Tier: string(tier.Gold),
				}); err != nil {
					return fmt.Errorf("create demo supplier profile: %w", err)
				}
			}
		} else if err != nil {
			return fmt.Errorf("look up demo user: %w", err)
		}
		key, err := apikey.New()
		if err != nil {
			return fmt.Errorf("make demo key: %w", err)
		}
		if _, err := q.CreateAPIKey(ctx, store.CreateAPIKeyParams{
			UserID: user.ID, Prefix: key.Prefix, SecretHash: key.Hash[:], Label: "dev stack demo key",
		}); err != nil {
			return fmt.Errorf("store demo key: %w", err)
		}
		d.OrgID, d.Key = user.OrgID, key.Plain
		return nil
	})
	if err == nil && role == "supplier" {
		err = demoCatalog(ctx, marketplace.New(pool), d.OrgID)
	}
	return d, err
}

// demoCatalog lists a few products of the demo supplier (again: by SKU).
func demoCatalog(ctx context.Context, m *marketplace.Market, supplier uuid.UUID) error {
	for _, p := range []marketplace.ProductInput{
		{SKU: "TS-180", Name: "Cotton t-shirt 180 gsm", Description: "Crew neck, combed cotton, custom print", Category: "apparel",
			Unit: "piece", MOQ: 500, Currency: "USD", PriceTiers: []marketplace.PriceTier{{MinQuantity: 500, UnitPrice: 450}, {MinQuantity: 2000, UnitPrice: 390}},
			LeadTimeDays: 21, Certifications: []string{"OEKO-TEX"}, Customizable: true, OriginRegion: "CN-ZJ", SampleAvailable: true, SamplePrice: 2500},
		{SKU: "BOLT-M8-50", Name: "Steel hex bolt M8x50", Description: "Grade 8.8, zinc plated", Category: "fasteners",
			Unit: "piece", MOQ: 1000, Currency: "USD", PriceTiers: []marketplace.PriceTier{{MinQuantity: 1000, UnitPrice: 12}, {MinQuantity: 10000, UnitPrice: 9}},
			LeadTimeDays: 14, Certifications: []string{"ISO 9001"}, OriginRegion: "CN-ZJ"},
		{SKU: "NUT-M8", Name: "Steel hex nut M8", Category: "fasteners", Unit: "piece", MOQ: 1000, Currency: "EUR",
			PriceTiers: []marketplace.PriceTier{{MinQuantity: 1000, UnitPrice: 5}}, LeadTimeDays: 10, Certifications: []string{"ISO 9001"}, OriginRegion: "DE"},
	} {
		if _, _, err := m.SaveProduct(ctx, supplier, p); err != nil {
			return fmt.Errorf("demo product %s: %w", p.SKU, err)
		}
	}
	return nil
}
