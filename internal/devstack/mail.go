package devstack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/mailsink"
)

// startMailSink runs an SMTP sink on a free port and its page at addr, and
// returns the mail configuration that sends to it.
func startMailSink(m config.Mail, addr string) (config.Mail, string, func(), error) {
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		return m, "", nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		_ = sink.Close()
		return m, "", nil, fmt.Errorf("mail page on %s (TRADELOOP_DEV_MAIL_ADDR): %w", addr, err)
	}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second}
	// The page is a convenience: the stack runs on if it fails.
	go func() { _ = srv.Serve(l) }()
	m = sink.Config(m.From)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = sink.Close()
	}
	return m, "http://" + l.Addr().String(), stop, nil
}
