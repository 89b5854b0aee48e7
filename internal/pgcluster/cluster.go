// Package pgcluster runs a private PostgreSQL cluster from the server binaries
// installed on the machine, as a child process of the caller: the dev stack
// keeps its deals in one, and tests get a throw-away one per test binary.
//
// PostgreSQL refuses to run as root. When the caller is root, initdb and
// postgres run as the "postgres" system user (or "nobody"), with the data
// directory handed over to that user.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/internal/freeport"
)

// Superuser is the cluster's superuser role. Authentication is "trust" on
// 127.0.0.1 only: the cluster is for one developer's machine or one test run.
const Superuser = "postgres"

// Options configure a cluster.
type Options struct {
	// DataDir holds the cluster. It is initialised when it has no cluster yet
	// and reused otherwise.
	DataDir string
	// Port on 127.0.0.1; 0 picks a free one.
	Port int
	// BinDir holds initdb and postgres; empty searches for them (FindBinDir).
	BinDir string
	// LogFile receives the server's own log (default DataDir + ".log").
	LogFile string
	// Ephemeral trades durability for speed (no fsync): for tests only.
	Ephemeral bool
	Logger    *slog.Logger
}

// Cluster is a running PostgreSQL server.
type Cluster struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	port    int
	logFile string
	logger  *slog.Logger
}

// Start initialises the data directory if needed, starts postgres and waits
// until it accepts connections.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("pgcluster: DataDir is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", opts.DataDir, err)
	}
	if opts.LogFile == "" {
		opts.LogFile = dataDir + ".log"
	}
	binDir, err := FindBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	if opts.Port == 0 {
		if opts.Port, err = freeport.Get(); err != nil {
			return nil, err
		}
	} else if !freeport.Available("127.0.0.1", opts.Port) {
		return nil, fmt.Errorf("PostgreSQL port 127.0.0.1:%d is in use", opts.Port)
	}

	if err := initDataDir(ctx, binDir, dataDir, cred, opts.Logger); err != nil {
		return nil, err
	}

	logf, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open postgres log: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor

	args := []string{
		"-D", dataDir,
		"-p", strconv.Itoa(opts.Port),
		"-c", "listen_addresses=127.0.0.1",
		// No Unix socket: its path length limit (~100 bytes) would tie the
		// cluster to short checkout paths, and TCP on loopback is enough.
		"-c", "unix_socket_directories=",
		"-c", "max_connections=200",
	}
	if opts.Ephemeral {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// If this process dies without stopping the cluster, the kernel asks
		// postgres for a fast shutdown, so no orphan keeps the data dir.
		Pdeathsig: syscall.SIGINT,
		Setpgid:   true,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c := &Cluster{cmd: cmd, exited: make(chan struct{}), port: opts.Port, logFile: opts.LogFile, logger: opts.Logger}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	if err := c.waitReady(ctx, 30*time.Second); err != nil {
		_ = c.Stop()
		return nil, err
	}
	opts.Logger.Debug("postgres started", "data_dir", dataDir, "port", opts.Port, "pid", cmd.Process.Pid)
	return c, nil
}

// Port is the TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// URL is a connection string for database dbname as the superuser.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(Superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// EnsureDatabase creates database name if it does not exist.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Stop asks postgres for a fast shutdown (SIGINT: open sessions are ended,
// the data is checkpointed) and waits for it; after 30 s it forces an
// immediate shutdown.
func (c *Cluster) Stop() error {
	select {
	case <-c.exited:
		return nil
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.logger.Warn("postgres did not stop in 30s; forcing an immediate shutdown")
		_ = c.cmd.Process.Signal(syscall.SIGQUIT)
		<-c.exited
	}
	var exitErr *exec.ExitError
	if c.waitErr != nil && !errors.As(c.waitErr, &exitErr) {
		return fmt.Errorf("stop postgres: %w", c.waitErr)
	}
	return nil
}

// Exited is closed when the postgres process has ended.
func (c *Cluster) Exited() <-chan struct{} { return c.exited }

func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lastErr error
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during start-up (%v): %s", c.waitErr, c.logTail())
		default:
		}
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready after %s: %w; log: %s", timeout, lastErr, c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logFile)
	if err != nil {
		return "(no log)"
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// initDataDir runs initdb when dataDir holds no cluster yet.
func initDataDir(ctx context.Context, binDir, dataDir string, cred *syscall.Credential, logger *slog.Logger) error {
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err == nil {
		return nil // reused
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) > 0 {
		return fmt.Errorf("data dir %s is not empty and holds no PostgreSQL cluster", dataDir)
	}
	if err := chownTree(dataDir, cred); err != nil {
		return err
	}
	if cred != nil {
		if err := checkTraversable(dataDir, cred); err != nil {
			return err
		}
	}
	logger.Info("initialising PostgreSQL cluster", "data_dir", dataDir)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
		"-D", dataDir, "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb %s: %w: %s", dataDir, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// runAs returns the credentials the server must run with: nil for a normal
// user, the postgres (or nobody) system user for root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as")
}

func chownTree(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("hand %s to the postgres user: %w", path, err)
		}
		return nil
	})
}

// checkTraversable fails early, with a clear message, when a parent of the
// data dir is closed to the server's user (for example a checkout under /root).
func checkTraversable(dataDir string, cred *syscall.Credential) error {
	for dir := filepath.Dir(dataDir); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("stat %s: %w", dir, err)
		}
		sys, _ := st.Sys().(*syscall.Stat_t)
		mode := st.Mode().Perm()
		ok := mode&0o001 != 0 ||
			(sys != nil && sys.Uid == cred.Uid && mode&0o100 != 0) ||
			(sys != nil && sys.Gid == cred.Gid && mode&0o010 != 0)
		if !ok {
			return fmt.Errorf("PostgreSQL runs as uid %d, which cannot enter %s (mode %v): "+
				"put the data elsewhere (TRADELOOP_DATA_DIR) or chmod o+x %s", cred.Uid, dir, mode, dir)
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}
