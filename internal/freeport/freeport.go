// Package freeport finds TCP ports on the loopback interface that nothing is
// listening on, for services the dev stack and the tests start themselves.
package freeport

import (
	"fmt"
	"net"
)

// Get returns a port that was free on 127.0.0.1 when it was asked for. Another
// process may take it before the caller binds it; callers that start servers
// on it should be ready for that to fail.
func Get() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
