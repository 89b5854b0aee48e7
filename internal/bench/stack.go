package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tradeloop/tradeloop/internal/childproc"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/devstack"
	"github.com/tradeloop/tradeloop/internal/freeport"
)

// ownStack is the dev stack the bench starts for itself in a fresh data
// directory: PostgreSQL, Temporal and the API as `tradeloop dev` runs them,
// and the worker as a child process, so that its CPU time and memory are
// its own.
type ownStack struct {
	info     devstack.Info
	worker   *childproc.Process
	dir      string
	tempDir  bool
	cancel   context.CancelFunc
	done     chan error
	simStep  time.Duration
	stackLog string
}

func startStack(ctx context.Context, o Options) (*ownStack, error) {
	s := &ownStack{dir: o.DataDir, simStep: o.SimStep}
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "tradeloop-bench-")
		if err != nil {
			return nil, err
		}
		_ = os.Chmod(dir, 0o755) // PostgreSQL may run as another user
		s.dir, s.tempDir = dir, true
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	for k, v := range map[string]string{
		"TRADELOOP_DATA_DIR": s.dir, "HTTP_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0", "DATABASE_URL": "", "TRADELOOP_DEV_MAIL_ADDR": "127.0.0.1:0", "TRADELOOP_DEV_HOOKS_ADDR": "127.0.0.1:0",
		// The load comes from one address: no per-address limit.
		"HTTP_CLIENT_RATE_LIMIT": "0", "DEAL_POLICY_SCALE": strconv.FormatFloat(o.PolicyScale, 'g', -1, 64), "TRACKING_SIM_STEP": o.SimStep.String(),
		// The sandbox and the simulated carrier: nothing leaves the machine.
		"STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "", "TRACKING_17TRACK_TOKEN": "", "SANDBOX_CONFIRM_DELAY": "0s",
	} {
		env[k] = v
	}
	for _, name := range []string{"TEMPORAL_PORT", "TEMPORAL_UI_PORT", "TRADELOOP_PG_PORT"} {
		p, err := freeport.Get()
		if err != nil {
			return nil, err
		}
		env[name] = strconv.Itoa(p)
	}
	cfg, err := config.Load(env)
	if err != nil {
		return nil, err
	}
	cfg.Dev.TrackingPoll = o.TrackingPoll
	s.stackLog = filepath.Join(s.dir, "stack.log")
	logFile, err := os.OpenFile(s.stackLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	lvl, _ := cfg.Log.SlogLevel()
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: lvl}))

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	up := make(chan devstack.Info, 1)
	go func() {
		s.done <- devstack.RunWith(runCtx, cfg, logger, devstack.Options{NoWorker: true}, func(i devstack.Info) { up <- i })
		logFile.Close()
	}()
	select {
	case s.info = <-up:
	case err := <-s.done:
		cancel()
		s.cleanup()
		return nil, fmt.Errorf("start the dev stack: %w", err)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	s.worker = &childproc.Process{
		Name: "worker", Path: o.WorkerCommand[0], Args: o.WorkerCommand[1:], Log: filepath.Join(s.dir, "worker.log"),
		Env: []string{
			"DATABASE_URL=" + s.info.DatabaseURL, "TEMPORAL_ADDRESS=" + s.info.TemporalAddress,
			"TEMPORAL_NAMESPACE=" + s.info.Namespace, "TEMPORAL_TASK_QUEUE=" + s.info.TaskQueue, "HISTORY_KEYS=" + s.info.HistoryKeys,
			"TRACKING_SIM_STEP=" + o.SimStep.String(), "STRIPE_SECRET_KEY=", "STRIPE_WEBHOOK_SECRET=",
			"TRACKING_17TRACK_TOKEN=", "SANDBOX_CONFIRM_DELAY=0s", "LOG_LEVEL=" + workerLogLevel(cfg.Log.Level),
		},
	}
	if err := s.startWorker(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startWorker starts the worker process and waits until it says it runs.
func (s *ownStack) startWorker(ctx context.Context) error {
	var from int64
	if st, err := os.Stat(s.worker.Log); err == nil {
		from = st.Size()
	}
	if err := s.worker.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(s.worker.Log); err == nil && int64(len(b)) > from && strings.Contains(string(b[from:]), "worker started") {
			return nil
		}
		select {
		case <-s.worker.Exited():
			return fmt.Errorf("the worker exited at start: %s", s.worker.LogTail(2000))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the worker did not start in 60s: %s", s.worker.LogTail(2000))
		}
	}
}

// restartWorker gives the next phase a fresh worker process.
func (s *ownStack) restartWorker(ctx context.Context) error {
	if err := s.worker.Stop(30 * time.Second); err != nil {
		return err
	}
	return s.startWorker(ctx)
}

func (s *ownStack) stop() {
	if s.worker != nil {
		_ = s.worker.Stop(30 * time.Second)
	}
	s.cancel()
	<-s.done
	s.cleanup()
}

func (s *ownStack) cleanup() {
	if s.tempDir {
		os.RemoveAll(s.dir)
	}
}

// workerLogLevel keeps the worker's "worker started" line, which the bench
// waits for.
func workerLogLevel(level string) string {
	if level == "debug" {
		return level
	}
	return "info"
}

// postmasterPID is the stack's PostgreSQL server process, from its pid file.
func (s *ownStack) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(s.dir, "pg", "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}
