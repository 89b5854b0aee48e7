package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/freeport"
)

// StripeMock starts Stripe's own mock server (stripe-mock) for the test on
// free loopback ports and returns its HTTP base URL. `make test` installs the
// pinned binary and names it in STRIPE_MOCK_BIN; without it the test looks on
// PATH and is skipped if there is none.
func StripeMock(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("STRIPE_MOCK_BIN")
	if bin == "" {
		p, err := exec.LookPath("stripe-mock")
		if err != nil {
			t.Skip("stripe-mock not installed: run `make test`, which installs it")
		}
		bin = p
	}
	httpPort, err := freeport.Get()
	if err != nil {
		t.Fatal(err)
	}
	httpsPort, err := freeport.Get()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:"+strconv.Itoa(httpPort), "-https-addr", "127.0.0.1:"+strconv.Itoa(httpsPort))
	if os.Getenv("TESTENV_VERBOSE") != "" {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return fmt.Sprintf("http://%s", addr)
		}
		if time.Now().After(deadline) {
			t.Fatal("stripe-mock did not start within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
