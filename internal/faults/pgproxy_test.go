package faults

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// commitDone is PostgreSQL's answer to COMMIT on the wire: CommandComplete
// ('C', length 11, "COMMIT\0").
var commitDone = []byte("C\x00\x00\x00\x0bCOMMIT\x00")

// pgProxy forwards connections to PostgreSQL and cuts some of them the
// moment the server has committed a transaction, before the client hears
// of it: the write is durable, the client sees an error and, if it is an
// activity, runs again. Only an idempotent write survives that.
type pgProxy struct {
	ln     net.Listener
	target string
	cut    atomic.Uint64 // the share of COMMITs whose answer is lost, in millionths
	cuts   atomic.Int32
	wg     sync.WaitGroup
	mu     sync.Mutex
	open   map[net.Conn]bool
	closed bool
}

// newPGProxy forwards to target; it cuts nothing until cutCommits.
func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, open: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *pgProxy) addr() string { return p.ln.Addr().String() }

// cutCommits makes the proxy lose the answer to this share of COMMITs.
func (p *pgProxy) cutCommits(share float64) { p.cut.Store(uint64(share * 1e6)) }

func (p *pgProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(c)
		}()
	}
}

func (p *pgProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.open[c] = true
	}
	return true
}

func (p *pgProxy) pipe(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(client, server) {
		client.Close()
		if server != nil {
			server.Close()
		}
		return
	}
	defer func() {
		client.Close()
		server.Close()
		p.mu.Lock()
		delete(p.open, client)
		delete(p.open, server)
		p.mu.Unlock()
	}()
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	buf := make([]byte, 64<<10)
	var tail []byte
	for {
		n, err := server.Read(buf)
		if n > 0 {
			seen := append(tail, buf[:n]...)
			if bytes.Contains(seen, commitDone) && rand.Float64()*1e6 < float64(p.cut.Load()) {
				p.cuts.Add(1)
				return // committed, and the client never hears of it
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
			tail = append(tail[:0], seen[max(0, len(seen)-len(commitDone)+1):]...)
		}
		if err != nil {
			return
		}
	}
}

func (p *pgProxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
