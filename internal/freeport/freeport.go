// Package freeport finds TCP ports on the loopback interface that nothing is
// listening on, for services the dev stack and the tests start themselves.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Get returns a port that was free on 127.0.0.1 when it was asked for.
//
// It picks at random below the kernel's ephemeral range, where no outgoing
// connection and no listener on port 0 is ever placed, so a port freed here
// is not handed to another process before the caller binds it (two test
// runs at once on one machine collided there). Another process may still
// take it; callers that start servers on it should be ready for that.
func Get() (int, error) {
	if low := ephemeralLow(); low > minPort+1000 {
		for range 100 {
			p := minPort + rand.IntN(low-minPort)
			if Available("127.0.0.1", p) {
				return p, nil
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// minPort is the lowest port Get picks: above the well-known and the
// common development ports (PostgreSQL 5432, Temporal 7233, 8080, 8233).
const minPort = 10000

// ephemeralLow is the first port of the kernel's ephemeral range, or 0 if
// it cannot be read.
func ephemeralLow() int {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw))
	if len(f) != 2 {
		return 0
	}
	low, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return low
}

// Available reports whether host:port can be bound right now.
func Available(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
