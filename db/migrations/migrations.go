// Package migrations holds the database schema as ordered SQL files and
// applies them. Each file runs once, in its own transaction, recorded in the
// schema_version table; concurrent callers (two api replicas starting at
// once) are serialised by an advisory lock.
package migrations

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

// VersionTable records which migrations have run.
const VersionTable = "schema_version"

// Apply brings the database at conn up to the newest schema. It is a no-op
// on a database that is already current.
func Apply(ctx context.Context, conn *pgx.Conn) error {
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// ApplyURL connects to databaseURL, applies the migrations and disconnects.
func ApplyURL(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("connect to apply migrations: %w", err)
	}
	defer conn.Close(ctx)
	return Apply(ctx, conn)
}

// Latest is the number of the newest migration, for tests and status output.
func Latest() (int32, error) {
	names, err := migrate.FindMigrations(files)
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	return int32(len(names)), nil
}
