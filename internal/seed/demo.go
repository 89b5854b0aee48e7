// Package seed puts demonstration data into a fresh database, so that a new
// user of the dev stack has an API key to try the platform with.
package seed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/apikey"
)

// Demo buyer the dev stack's key acts as.
const (
	DemoOrgName   = "Demo Buyer Co."
	DemoUserEmail = "buyer@demo.tradeloop.local"
)

// DemoBuyerKey returns an API key for the demo buyer, creating the buyer and
// the key when needed. The plain key is kept in keyFile (mode 0600) because
// the database holds only its hash: the same key works across restarts of the
// dev stack, until keyFile or the database is deleted.
func DemoBuyerKey(ctx context.Context, pool *pgxpool.Pool, keyFile string) (string, error) {
	q := store.New(pool)
	if b, err := os.ReadFile(keyFile); err == nil {
		plain := strings.TrimSpace(string(b))
		if hash, err := apikey.Parse(plain); err == nil {
			ok, err := q.APIKeyExistsByHash(ctx, hash[:])
			if err != nil {
				return "", fmt.Errorf("look up demo key: %w", err)
			}
			if ok {
				return plain, nil
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read demo key: %w", err)
	}

	var plain string
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := q.WithTx(tx)
		user, err := q.GetUserByEmail(ctx, DemoUserEmail)
		if errors.Is(err, pgx.ErrNoRows) {
			org, err := q.CreateOrganization(ctx, DemoOrgName)
			if err != nil {
				return fmt.Errorf("create demo organization: %w", err)
			}
			user, err = q.CreateUser(ctx, store.CreateUserParams{
				OrgID: org.ID, Email: DemoUserEmail, Name: "Demo Buyer", Role: store.UserRoleBuyer,
			})
			if err != nil {
				return fmt.Errorf("create demo user: %w", err)
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
		plain = key.Plain
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o755); err != nil {
		return "", fmt.Errorf("create dir for demo key: %w", err)
	}
	if err := os.WriteFile(keyFile, []byte(plain+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save demo key: %w", err)
	}
	return plain, nil
}
