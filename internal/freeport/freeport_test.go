package freeport

import (
	"net"
	"strconv"
	"testing"
)

// Ports come from below the ephemeral range, differ, and can be bound.
func TestPortsAreFreeAndOutsideTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	seen := map[int]bool{}
	for range 50 {
		p, err := Get()
		if err != nil {
			t.Fatal(err)
		}
		if low > minPort+1000 && (p < minPort || p >= low) {
			t.Fatalf("port %d outside [%d, %d)", p, minPort, low)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d cannot be bound: %v", p, err)
		}
		defer l.Close()
		seen[p] = true
	}
	if len(seen) < 45 {
		t.Fatalf("%d distinct ports in 50 picks", len(seen))
	}
}
