package devstack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/internal/hooksink"
	"github.com/tradeloop/tradeloop/internal/seed"
	"github.com/tradeloop/tradeloop/internal/webhooks"
)

// devEndpoint describes the endpoints the dev stack registers for its
// demo organizations, so a restart replaces them.
const devEndpoint = "the dev stack's webhook receiver"

// startHookSink serves the dev stack's webhook receiver at addr and
// registers an endpoint there for the demo buyer's and supplier's
// organizations (replacing the ones an earlier start registered): every
// notification to them arrives there, its signature checked. It returns
// the receiver's page and how to stop it.
func startHookSink(ctx context.Context, pool *pgxpool.Pool, demo []seed.Demo, addr string) (string, func(), error) {
	sink := hooksink.New()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("webhook receiver on %s (TRADELOOP_DEV_HOOKS_ADDR): %w", addr, err)
	}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	url := "http://" + l.Addr().String()
	svc := webhooks.New(pool, true)
	for _, d := range demo {
		if d.Role != "buyer" && d.Role != "supplier" {
			continue
		}
		old, err := svc.List(ctx, d.OrgID)
		if err != nil {
			stop()
			return "", nil, err
		}
		for _, e := range old {
			if e.Description == devEndpoint {
				if err := svc.Delete(ctx, d.OrgID, e.ID); err != nil {
					stop()
					return "", nil, err
				}
			}
		}
		_, secret, err := svc.Create(ctx, d.OrgID, url+"/hooks/"+d.Role, devEndpoint)
		if err != nil {
			stop()
			return "", nil, fmt.Errorf("register the demo %s's webhook endpoint: %w", d.Role, err)
		}
		sink.Expect(d.Role, secret)
	}
	return url, stop, nil
}
