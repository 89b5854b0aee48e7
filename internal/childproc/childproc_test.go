package childproc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKillStopAndStartAgain(t *testing.T) {
	p := &Process{Name: "sleeper", Path: "/bin/sh", Args: []string{"-c", "echo up; exec sleep 60"}, Log: filepath.Join(t.TempDir(), "log")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	if err := p.Start(); err == nil {
		t.Fatal("started twice")
	}
	pid := p.Pid()
	if pid == 0 || !p.Running() {
		t.Fatal("not running")
	}
	waitLog(t, p, 1)
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() || p.Pid() != 0 {
		t.Fatal("still running after Kill")
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if p.Pid() == pid || p.Starts() != 2 {
		t.Fatalf("pid %d after restart (was %d), starts %d", p.Pid(), pid, p.Starts())
	}
	waitLog(t, p, 2)
	began := time.Now()
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if time.Since(began) > 4*time.Second {
		t.Fatal("SIGTERM did not stop sleep")
	}
	if got := p.LogTail(100); strings.Count(got, "up") != 2 {
		t.Fatalf("log %q", got)
	}
}

func TestUsageOfThisProcess(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // burn some CPU
	}
	u, err := UsageOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.CPU <= 0 || u.RSS <= 0 || u.PeakRSS < u.RSS {
		t.Fatalf("usage %+v", u)
	}
}

func waitLog(t *testing.T, p *Process, ups int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); strings.Count(p.LogTail(100), "up") < ups; {
		if time.Now().After(deadline) {
			t.Fatalf("log %q", p.LogTail(100))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTreeCPUCountsChildren(t *testing.T) {
	p := &Process{Name: "busy", Path: "/bin/sh", Args: []string{"-c", "sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done' & wait; sleep 60"}}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		own, err := p.Usage()
		if err != nil {
			t.Fatal(err)
		}
		tree, err := TreeCPUOf(p.Pid())
		if err != nil {
			t.Fatal(err)
		}
		if tree >= 100*time.Millisecond && tree > own.CPU {
			return // the busy grandchild's time, reaped, counts
		}
		if time.Now().After(deadline) {
			t.Fatalf("tree CPU %s, own %s", tree, own.CPU)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
