package api

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/marketplace/catalogseed"
)

// BenchmarkReadADeal reads one deal (a quote and ten counter-offers on its
// timeline) through the API over real HTTP, 16 clients at once, as
// `tradeloop bench -latency` does at 16: on a machine the load, the API
// and PostgreSQL share, ns/op is the whole machine's time per read, which
// bounds a read's latency at 16 clients from below.
func BenchmarkReadADeal(b *testing.B) {
	p := newPlatform(b, func(d *Deps) {
		d.RateLimit, d.RateBurst, d.ClientRateLimit, d.ClientRateBurst = 1e9, 1e9, 1e9, 1e9
	})
	id := p.newDeal(false, "supplier")
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody()))
	for i := range 10 {
		p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/counter-offers"), map[string]any{
			"supplier_id": p.orgs["supplier"].String(), "target_unit_price": 380 - i, "message": fmt.Sprintf("offer %d", i),
		}))
	}
	url, key := p.url+p.path(id, ""), "Bearer "+p.keys["buyer"]
	b.SetParallelism(16 / runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	var took []time.Duration
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &http.Client{}
		var mine []time.Duration
		defer func() {
			mu.Lock()
			took = append(took, mine...)
			mu.Unlock()
		}()
		for pb.Next() {
			start := time.Now()
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Authorization", key)
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			mine = append(mine, time.Since(start))
		}
	})
	b.StopTimer()
	slices.Sort(took)
	if len(took) > 0 {
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkConsolePages renders the console's deal page and a product
// search's results with 100,000 products in the catalog, as a signed-in
// buyer over HTTP, one request at a time: the time at the server that
// issue #18 wants under 50 ms (reported as p50-ms and p99-ms):
//
//	go test ./api -run '^$' -bench ConsolePages -benchtime 200x
func BenchmarkConsolePages(b *testing.B) {
	p := newPlatform(b)
	catalogseed.Seed(b, p.pool)
	p.withPasswords("buyer")
	id := p.newDeal(false, "supplier")
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody()))
	for i := range 10 {
		p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/counter-offers"), map[string]any{
			"supplier_id": p.orgs["supplier"].String(), "target_unit_price": 380 - i, "message": fmt.Sprintf("offer %d", i),
		}))
	}
	buyer := &browserless{t: b, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	for name, path := range map[string]string{
		"DealPage":      "/app/deals/" + id,
		"SearchResults": "/app/products?q=steel+bolt&quantity=1000&currency=USD&max_price=500&sort=price",
		"SearchByTier":  "/app/products?q=valve&tiers=gold&tiers=platinum&max_lead_time_days=30",
	} {
		b.Run(name, func(b *testing.B) {
			if res := buyer.do("GET", path, nil); res.status != http.StatusOK {
				b.Fatalf("%s: %d %.300s", path, res.status, res.body)
			}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if res := buyer.do("GET", path, nil); res.status != http.StatusOK {
					b.Fatalf("%s: %d", path, res.status)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
