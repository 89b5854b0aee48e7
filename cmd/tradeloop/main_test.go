package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/freeport"
)

// These tests run the real binary, as a user does with `make dev`, and stop
// it the way Ctrl-C does.

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tradeloop")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type devProcess struct {
	cmd    *exec.Cmd
	stdout *bufio.Scanner
	exited chan error
}

func devEnv(t *testing.T) []string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tradeloop-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755) // PostgreSQL may run as another user
	env := []string{"TRADELOOP_DATA_DIR=" + dir, "HTTP_ADDR=127.0.0.1:0", "METRICS_ADDR=127.0.0.1:0", "TRADELOOP_DEV_MAIL_ADDR=127.0.0.1:0", "TRADELOOP_DEV_HOOKS_ADDR=127.0.0.1:0", "DATABASE_URL=", "LOG_LEVEL=warn"}
	for _, name := range []string{"TEMPORAL_PORT", "TEMPORAL_UI_PORT", "TRADELOOP_PG_PORT"} {
		p, err := freeport.Get()
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, fmt.Sprintf("%s=%d", name, p))
	}
	return env
}

func startDev(t *testing.T, bin string, env []string) *devProcess {
	t.Helper()
	cmd := exec.Command(bin, "dev")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devProcess{cmd: cmd, stdout: bufio.NewScanner(stdout), exited: make(chan error, 1)}
	up := make(chan bool, 1)
	go func() {
		seen := false
		for p.stdout.Scan() {
			if !seen && strings.Contains(p.stdout.Text(), "Press Ctrl-C to stop everything") {
				seen = true
				up <- true
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case <-up:
	case err := <-p.exited:
		t.Fatalf("tradeloop dev exited before it was up: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("tradeloop dev not up within 30s")
	}
	return p
}

func (p *devProcess) interrupt(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("tradeloop dev exited with %v after Ctrl-C", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("tradeloop dev still running 60s after Ctrl-C")
	}
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

func TestDevCtrlCLeavesNothingBehindAndRestartReusesData(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the whole stack")
	}
	bin := buildBinary(t)
	if out, err := exec.Command(bin, "frobnicate").CombinedOutput(); err == nil || !strings.Contains(string(out), "unknown command") {
		t.Fatalf("unknown command: %v: %s", err, out)
	}
	env := devEnv(t)
	dataDir := envValue(env, "TRADELOOP_DATA_DIR")

	first := startDev(t, bin, env)
	key1, _ := os.ReadFile(filepath.Join(dataDir, "demo-keys.json"))

	// A second `make dev` on the same data says so and exits.
	second := exec.Command(bin, "dev")
	second.Env = append(os.Environ(), env...)
	out, err := second.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 || !strings.Contains(string(out), "another tradeloop dev stack is running") {
		t.Fatalf("second dev stack: %v\n%s", err, out)
	}

	first.interrupt(t)
	for _, name := range []string{"TRADELOOP_PG_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT"} {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+envValue(env, name), time.Second); err == nil {
			c.Close()
			t.Errorf("something still listens on %s after Ctrl-C", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "pg", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid left behind: %v", err)
	}
	lock, err := os.Open(filepath.Join(dataDir, "dev.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Errorf("dev lock still held after Ctrl-C: %v", err)
	}
	lock.Close()

	began := time.Now()
	third := startDev(t, bin, env)
	t.Logf("restart up in %s", time.Since(began))
	key2, _ := os.ReadFile(filepath.Join(dataDir, "demo-keys.json"))
	if len(key1) == 0 || string(key1) != string(key2) {
		t.Errorf("demo key not reused across restart")
	}
	third.interrupt(t)
}
