package finance

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
)

// Collector exposes finance's alerts from the table, so any API replica
// serves them whichever process raised them: the open alerts by kind (the
// escrow watchdog's findings among them) and every report ever made.
func Collector(pool *pgxpool.Pool, logger *slog.Logger) prometheus.Collector {
	return &collector{
		pool: pool, logger: logger,
		open: prometheus.NewDesc("tradeloop_finance_alerts_open",
			"Open finance alerts by kind (escrow_without_deal and escrow_mismatch are the escrow watchdog's findings).", []string{"kind"}, nil),
		reported: prometheus.NewDesc("tradeloop_finance_alerts_reported_total",
			"Finance alert reports by kind, repeats of an open alert included.", []string{"kind"}, nil),
	}
}

type collector struct {
	pool           *pgxpool.Pool
	logger         *slog.Logger
	open, reported *prometheus.Desc
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.reported
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := store.New(c.pool).AlertFigures(ctx)
	if err != nil {
		// A scrape without these figures beats a failed scrape.
		if c.logger != nil {
			c.logger.Warn("finance alert metrics", "error", err)
		}
		return
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Kind] = true
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(r.Open), r.Kind)
		ch <- prometheus.MustNewConstMetric(c.reported, prometheus.CounterValue, float64(r.Reported), r.Kind)
	}
	// The watchdog's kinds are always there, at zero when nothing is wrong.
	for _, k := range activities.EscrowAlertKinds {
		if !seen[k] {
			ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, 0, k)
			ch <- prometheus.MustNewConstMetric(c.reported, prometheus.CounterValue, 0, k)
		}
	}
}
