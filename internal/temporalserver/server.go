// Package temporalserver runs a complete Temporal server (frontend, history,
// matching and worker services) inside the current process on SQLite, with
// the Temporal Web UI beside it. The dev stack uses it with a database file so
// deals survive a restart; tests use it in memory.
//
// It is the one package that links the Temporal server: keeping it alone lets
// the build cache hold the server's four-minute cold build for every test
// binary that imports it.
package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	"github.com/tradeloop/tradeloop/internal/freeport"
)

const clusterName = "active"

// Options configure an embedded server. The zero value of every optional
// field picks a sensible default.
type Options struct {
	// DatabaseFile is the SQLite file that holds all server state. Empty runs
	// the server in memory: everything is gone when it stops.
	DatabaseFile string
	// Host is the address the frontend and the UI bind to (default 127.0.0.1).
	Host string
	// FrontendPort is the gRPC port clients dial; 0 picks a free one.
	FrontendPort int
	// UIPort serves the Temporal Web UI; 0 runs no UI.
	UIPort int
	// UICodec, when set, has the UI's browsers decode payloads at a codec
	// server (the API's /codec endpoint).
	UICodec *UICodec
	// Namespace is registered at start (default "default").
	Namespace string
	// SearchAttributes are registered on Namespace at start, by name and type.
	SearchAttributes map[string]enumspb.IndexedValueType
	// DynamicConfig overrides entries of DefaultDynamicConfig.
	DynamicConfig map[string]any
	// Logger receives the server's warnings and errors (default slog.Default()).
	Logger *slog.Logger
	// ServerLogLevel is the lowest server log level passed on (default warn:
	// the server logs every shard and membership change at info).
	ServerLogLevel slog.Level
}

// UICodec points the Web UI at a codec server. The UI's browser code posts
// payloads to Endpoint+"/decode"; PassAccessToken sends the user's access
// token as the Authorization header, IncludeCredentials sends cookies.
type UICodec struct {
	Endpoint           string
	PassAccessToken    bool
	IncludeCredentials bool
	// SignInURL is where the UI sends a user whose browser the codec
	// refuses.
	SignInURL string
}

// DefaultDynamicConfig tunes a single-node server for low latency: timers fire
// on time instead of up to a second late, and each task queue has one
// partition, which cuts tail latency when there is only one matching host.
func DefaultDynamicConfig() map[string]any {
	return map[string]any{
		"history.timerProcessorMaxTimeShift":             100 * time.Millisecond,
		"matching.numTaskqueueReadPartitions":            1,
		"matching.numTaskqueueWritePartitions":           1,
		"frontend.enableUpdateWorkflowExecution":         true,
		"system.forceSearchAttributesCacheRefreshOnRead": true,
	}
}

// Server is a running embedded Temporal server.
type Server struct {
	server    temporal.Server
	logLevel  *slog.LevelVar
	ui        *uiserver.Server
	uiDone    chan error
	frontend  string
	uiURL     string
	namespace string
}

// Start builds and starts the server, registers the namespace and its search
// attributes, and returns once the frontend answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ServerLogLevel == 0 {
		opts.ServerLogLevel = slog.LevelWarn
	}
	if opts.FrontendPort == 0 {
		p, err := freeport.Get()
		if err != nil {
			return nil, err
		}
		opts.FrontendPort = p
	}

	cfg, hosts, err := serverConfig(opts)
	if err != nil {
		return nil, err
	}
	sqlCfg := cfg.Persistence.DataStores[sqliteplugin.PluginName].SQL
	if err := prepareDatabase(opts, sqlCfg); err != nil {
		return nil, err
	}

	level := new(slog.LevelVar)
	level.Set(opts.ServerLogLevel)
	logger := slogAdapter{logger: opts.Logger, minLevel: level}
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	dyn := dynamicconfig.StaticClient{}
	for k, v := range DefaultDynamicConfig() {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	for k, v := range opts.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}

	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("build temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{
		server:    srv,
		logLevel:  level,
		frontend:  net.JoinHostPort(opts.Host, strconv.Itoa(opts.FrontendPort)),
		namespace: opts.Namespace,
	}
	if err := s.ensureSearchAttributes(ctx, opts.SearchAttributes); err != nil {
		s.Stop()
		return nil, err
	}
	if opts.UIPort != 0 {
		if err := s.startUI(opts); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// FrontendAddress is the host:port SDK clients dial.
func (s *Server) FrontendAddress() string { return s.frontend }

// Namespace is the namespace registered at start.
func (s *Server) Namespace() string { return s.namespace }

// UIURL is the Web UI's address, or "" when no UI runs.
func (s *Server) UIURL() string { return s.uiURL }

// Stop stops the UI and the server. The SQLite file, if any, stays.
func (s *Server) Stop() {
	// Stopping services warn about each other's closed connections: noise.
	s.logLevel.Set(slog.LevelError)
	if s.ui != nil {
		s.ui.Stop()
		<-s.uiDone
		s.ui = nil
	}
	if s.server != nil {
		_ = s.server.Stop()
		s.server = nil
	}
}

func serverConfig(opts Options) (*config.Config, map[primitives.ServiceName]static.Hosts, error) {
	sqlCfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
	}
	if opts.DatabaseFile == "" {
		sqlCfg.ConnectAttributes["mode"] = "memory"
		sqlCfg.ConnectAttributes["cache"] = "shared"
		// Shared-cache memory databases are per process and per name: a random
		// name keeps two servers in one test binary apart.
		sqlCfg.DatabaseName = fmt.Sprintf("tradeloop-%d", rand.Int64())
	} else {
		sqlCfg.ConnectAttributes["mode"] = "rwc"
		sqlCfg.ConnectAttributes["_journal_mode"] = "wal"
		sqlCfg.ConnectAttributes["_synchronous"] = "2"
		sqlCfg.DatabaseName = opts.DatabaseFile
	}

	cfg := &config.Config{}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: "127.0.0.1"}
	cfg.Persistence = config.Persistence{
		DefaultStore:     sqliteplugin.PluginName,
		VisibilityStore:  sqliteplugin.PluginName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
	}
	cfg.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.FrontendPort)),
			},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"
	cfg.PublicClient.HostPort = net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.FrontendPort))

	cfg.Services = map[string]config.Service{}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, name := range []primitives.ServiceName{
		primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService,
	} {
		rpc := config.RPC{BindOnLocalHost: true}
		if name == primitives.FrontendService {
			rpc.GRPCPort = opts.FrontendPort
			if opts.Host != "127.0.0.1" && opts.Host != "localhost" {
				rpc.BindOnLocalHost = false
				rpc.BindOnIP = opts.Host
			}
		} else {
			p, err := freeport.Get()
			if err != nil {
				return nil, nil, err
			}
			rpc.GRPCPort = p
		}
		mp, err := freeport.Get()
		if err != nil {
			return nil, nil, err
		}
		rpc.MembershipPort = mp
		cfg.Services[string(name)] = config.Service{RPC: rpc}
		hosts[name] = static.SingleLocalHost(net.JoinHostPort("127.0.0.1", strconv.Itoa(rpc.GRPCPort)))
	}
	return cfg, hosts, nil
}

// prepareDatabase creates the schema in a new database file, and registers the
// namespace (with its search attributes) if it does not exist yet.
func prepareDatabase(opts Options, sqlCfg *config.SQL) error {
	if opts.DatabaseFile != "" {
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o755); err != nil {
			return fmt.Errorf("create temporal data dir: %w", err)
		}
		if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := sqliteschema.SetupSchema(sqlCfg); err != nil {
				return fmt.Errorf("create temporal schema in %s: %w", opts.DatabaseFile, err)
			}
		} else if err != nil {
			return fmt.Errorf("stat %s: %w", opts.DatabaseFile, err)
		}
	}
	// An in-memory database gets its schema from the SQLite plugin itself.
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", opts.Namespace, err)
	}
	if err := sqliteschema.CreateNamespaces(sqlCfg, ns); err != nil {
		return fmt.Errorf("register namespace %s: %w", opts.Namespace, err)
	}
	return nil
}

// ensureSearchAttributes adds any wanted search attribute the namespace lacks.
// A new database gets them with the namespace; this covers a database made by
// an older version of the stack.
func (s *Server) ensureSearchAttributes(ctx context.Context, want map[string]enumspb.IndexedValueType) error {
	if len(want) == 0 {
		return nil
	}
	c, err := client.Dial(client.Options{
		HostPort: s.frontend, Namespace: s.namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return fmt.Errorf("dial embedded temporal: %w", err)
	}
	defer c.Close()
	return EnsureSearchAttributes(ctx, c.OperatorService(), s.namespace, want)
}

// EnsureSearchAttributes registers on namespace each wanted search attribute
// it lacks, through any server's operator service, and fails when one exists
// with another type.
func EnsureSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string, want map[string]enumspb.IndexedValueType) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case got != typ:
			return fmt.Errorf("search attribute %s is registered as %s, want %s", name, got, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

func (s *Server) startUI(opts Options) error {
	if !freeport.Available(opts.Host, opts.UIPort) {
		return fmt.Errorf("temporal UI port %s:%d is in use", opts.Host, opts.UIPort)
	}
	var codec uiconfig.Codec
	if c := opts.UICodec; c != nil {
		codec = uiconfig.Codec{
			Endpoint: c.Endpoint, PassAccessToken: c.PassAccessToken, IncludeCredentials: c.IncludeCredentials,
			DefaultErrorMessage: "Payloads are encrypted: sign in to the codec with a finance or admin API key.",
			DefaultErrorLink:    c.SignInURL,
		}
	}
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Codec:               codec,
		Host:                opts.Host,
		Port:                opts.UIPort,
		TemporalGRPCAddress: s.frontend,
		EnableUI:            true,
		DefaultNamespace:    s.namespace,
		DisableNewsFetch:    true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
	}))
	s.uiDone = make(chan error, 1)
	go func() { s.uiDone <- s.ui.Start() }()
	s.uiURL = fmt.Sprintf("http://%s", net.JoinHostPort(opts.Host, strconv.Itoa(opts.UIPort)))
	// Start blocks while serving; wait until it accepts connections or fails.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.uiDone:
			s.ui = nil
			return fmt.Errorf("temporal UI: %w", err)
		default:
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.UIPort)), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("temporal UI did not start within 10s")
}
