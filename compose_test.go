package tradeloop_test

import (
	"context"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/tradeloop/tradeloop/workflows"
)

// docker-compose.yml cannot run here (no Docker engine), so these tests load
// it with the Compose specification's own loader, which validates it against
// the schema and interpolates it as `docker compose` does, and check it
// against what the README promises and against the deployment's lockdown:
// only the API and the authenticated UI proxy published, the back end on an
// internal network, no secret with a default, a read-only UI, and images
// that ship only their own binary.

// composeSecrets stands for a filled-in .env: every variable compose
// requires, with values no one would guess.
var composeSecrets = map[string]string{
	"POSTGRES_PASSWORD":         "3f9c1e0b7a5d4c2e8f6a1b3c5d7e9f0a",
	"HISTORY_KEYS":              "k1:Y29tcG9zZWNoZWNrY29tcG9zZWNoZWNrY29tcG9zZWM=",
	"STRIPE_SECRET_KEY":         "sk_test_composecheck51Hx2",
	"STRIPE_WEBHOOK_SECRET":     "whsec_composecheck8Qz4",
	"TEMPORAL_UI_USER":          "finance-auditor",
	"TEMPORAL_UI_PASSWORD_HASH": "$2a$14$composecheckcomposecheckcomposecheckcomposecheckcom",
}

// weakSecrets are values a secret must never have: the old defaults and
// their usual cousins.
var weakSecrets = []string{"tradeloop", "postgres", "password", "changeme", "secret", "admin", "temporal", "root", "example"}

func loadComposeWith(env map[string]string, opts ...cli.ProjectOptionsFn) (*types.Project, error) {
	var pairs []string
	for k, v := range env {
		pairs = append(pairs, k+"="+v)
	}
	all := append([]cli.ProjectOptionsFn{
		cli.WithWorkingDirectory("."), cli.WithName("tradeloop"), cli.WithoutEnvironmentResolution,
		cli.WithEnv(pairs),
	}, opts...)
	o, err := cli.NewProjectOptions([]string{"docker-compose.yml"}, all...)
	if err != nil {
		return nil, err
	}
	return o.LoadProject(context.Background())
}

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadComposeWith(composeSecrets)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load with every secret set: %v", err)
	}
	return p
}

type readmeService struct {
	port     string // "8080" (every interface), "127.0.0.1:8233", or "" for none
	networks []string
	deps     []string
}

// readmeServices reads the README's table of compose services:
// | `service` | host port | networks | depends on |
func readmeServices(t *testing.T) map[string]readmeService {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)
	start := strings.Index(section, "<!-- compose-services -->")
	end := strings.Index(section, "<!-- /compose-services -->")
	if start < 0 || end < start {
		t.Fatal("README has no compose-services table")
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| ([0-9.:]*|—) \\|([^|]*)\\|([^|]*)\\|")
	names := regexp.MustCompile("`([a-z-]+)`")
	list := func(cell string) []string {
		var out []string
		for _, m := range names.FindAllStringSubmatch(cell, -1) {
			out = append(out, m[1])
		}
		return out
	}
	out := map[string]readmeService{}
	for _, m := range row.FindAllStringSubmatch(section[start:end], -1) {
		port := m[2]
		if port == "—" {
			port = ""
		}
		out[m[1]] = readmeService{port: port, networks: list(m[3]), deps: list(m[4])}
	}
	if len(out) < 5 {
		t.Fatalf("README names only %d compose services", len(out))
	}
	return out
}

// published renders a service's published ports as the README writes them.
func published(svc types.ServiceConfig) []string {
	var out []string
	for _, pc := range svc.Ports {
		if pc.HostIP == "" || pc.HostIP == "0.0.0.0" {
			out = append(out, pc.Published)
		} else {
			out = append(out, pc.HostIP+":"+pc.Published)
		}
	}
	return out
}

func TestComposeHasEveryServiceTheReadmeNames(t *testing.T) {
	p := loadCompose(t)
	readme := readmeServices(t)
	for name := range p.Services {
		if _, ok := readme[name]; !ok {
			t.Errorf("docker-compose.yml has service %q, the README's table does not", name)
		}
	}
	for name, want := range readme {
		svc, ok := p.Services[name]
		if !ok {
			t.Errorf("README names service %q, docker-compose.yml has none", name)
			continue
		}
		var wantPorts []string
		if want.port != "" {
			wantPorts = []string{want.port}
		}
		if got := published(svc); !slices.Equal(got, wantPorts) {
			t.Errorf("service %s publishes %v, the README says %v", name, got, wantPorts)
		}
		if got := slices.Sorted(maps.Keys(svc.Networks)); !slices.Equal(got, slices.Sorted(slices.Values(want.networks))) {
			t.Errorf("service %s is on networks %v, the README says %v", name, got, want.networks)
		}
		for _, d := range want.deps {
			if _, ok := svc.DependsOn[d]; !ok {
				t.Errorf("service %s does not depend on %s", name, d)
			}
		}
		for d := range svc.DependsOn {
			if !slices.Contains(want.deps, d) {
				t.Errorf("service %s depends on %s, which the README does not say", name, d)
			}
		}
	}
}

// Only the API is open to the network; the UI's proxy listens on the host's
// loopback interface alone. Nothing else is published, and no service shares
// the host's network stack, which would bypass all of it.
func TestComposePublishesOnlyTheAPIAndTheUIProxy(t *testing.T) {
	p := loadCompose(t)
	want := map[string][]types.ServicePortConfig{
		"api":               {{HostIP: "", Published: "8080", Target: 8080}},
		"temporal-ui-proxy": {{HostIP: "127.0.0.1", Published: "8233", Target: 8233}},
	}
	for name, svc := range p.Services {
		if svc.NetworkMode != "" {
			t.Errorf("service %s has network_mode %q; every service must stay on the compose networks", name, svc.NetworkMode)
		}
		if len(svc.Ports) != len(want[name]) {
			t.Errorf("service %s publishes %v, want %v", name, published(svc), want[name])
			continue
		}
		for i, pc := range svc.Ports {
			w := want[name][i]
			if pc.HostIP != w.HostIP || pc.Published != w.Published || pc.Target != w.Target {
				t.Errorf("service %s publishes %s:%s→%d, want %s:%s→%d", name, pc.HostIP, pc.Published, pc.Target, w.HostIP, w.Published, w.Target)
			}
		}
	}
}

func TestComposeBackEndNetworkIsInternal(t *testing.T) {
	p := loadCompose(t)
	if !p.Networks["backend"].Internal {
		t.Fatal("network backend is not internal: PostgreSQL and Temporal would have a route to and from the host")
	}
	for _, name := range []string{"postgresql", "temporal", "temporal-setup", "temporal-ui"} {
		if got := slices.Sorted(maps.Keys(p.Services[name].Networks)); !slices.Equal(got, []string{"backend"}) {
			t.Errorf("service %s is on networks %v, want only the internal backend", name, got)
		}
	}
	for _, name := range []string{"api", "worker", "temporal-ui-proxy"} {
		if _, ok := p.Services[name].Networks["backend"]; !ok {
			t.Errorf("service %s is not on the backend network", name)
		}
	}
}

// composeVariable matches a variable reference in docker-compose.yml that
// compose interpolates ($${…} is an escaped dollar for the container's shell).
var composeVariable = regexp.MustCompile(`(^|[^$])\$\{([A-Za-z0-9_]+)([^}]*)\}`)

// Every variable docker-compose.yml reads is required: `${VAR:?message}`, so
// that compose refuses to start without it and nothing falls back to a value
// written in the file.
func TestComposeRefusesToStartWithoutItsSecrets(t *testing.T) {
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]bool{}
	for _, m := range composeVariable.FindAllStringSubmatch(string(raw), -1) {
		if !strings.HasPrefix(m[3], ":?") {
			t.Errorf("docker-compose.yml reads ${%s%s}: every variable must be required, ${%s:?message}", m[2], m[3], m[2])
		}
		required[m[2]] = true
	}
	if got, want := slices.Sorted(maps.Keys(required)), slices.Sorted(maps.Keys(composeSecrets)); !slices.Equal(got, want) {
		t.Errorf("docker-compose.yml requires %v; this test and .env.example know %v", got, want)
	}

	for name := range composeSecrets {
		for _, how := range []string{"unset", "empty"} {
			env := maps.Clone(composeSecrets)
			if how == "unset" {
				delete(env, name)
			} else {
				env[name] = ""
			}
			_, err := loadComposeWith(env)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("with %s %s, compose loads (err %v); it must refuse, naming the variable", name, how, err)
			}
		}
	}

	// Copying the example without filling it in must not give a running stack.
	_, err = loadComposeWith(nil, cli.WithEnvFiles(".env.example"), cli.WithDotEnv)
	if err == nil || !slices.ContainsFunc(slices.Collect(maps.Keys(composeSecrets)), func(name string) bool { return strings.Contains(err.Error(), name) }) {
		t.Errorf("with .env.example as it is, compose loads or fails for another reason (err %v); its values must be empty", err)
	}
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	for name := range composeSecrets {
		if !regexp.MustCompile(`(?m)^` + name + `=('')?$`).Match(example) {
			t.Errorf(".env.example has no empty %s= line", name)
		}
	}
}

// .env.example tells to keep the bcrypt hash in single quotes: then compose
// hands its $ signs to the proxy as they are.
func TestComposeKeepsAQuotedHashFromTheEnvFile(t *testing.T) {
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	filled := string(example)
	for name, value := range composeSecrets {
		line := regexp.MustCompile(`(?m)^` + name + `=.*$`)
		filled = line.ReplaceAllLiteralString(filled, name+"='"+value+"'")
	}
	envFile := t.TempDir() + "/.env"
	if err := os.WriteFile(envFile, []byte(filled), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := loadComposeWith(nil, cli.WithEnvFiles(envFile), cli.WithDotEnv)
	if err != nil {
		t.Fatalf("compose does not load with .env.example filled in: %v", err)
	}
	got := *p.Services["temporal-ui-proxy"].Environment["TEMPORAL_UI_PASSWORD_HASH"]
	if want := composeSecrets["TEMPORAL_UI_PASSWORD_HASH"]; got != want {
		t.Errorf("the proxy receives the hash %q, want %q", got, want)
	}
}

// secretName matches environment variables that hold a password or key.
var secretName = regexp.MustCompile(`PASSWORD|PWD|SECRET|_KEY$|TOKEN|HASH`)

// With the secrets set, every secret a service receives is one of them, never
// a value written in docker-compose.yml, and none is a known weak default.
func TestComposeHasNoDefaultPassword(t *testing.T) {
	p := loadCompose(t)
	given := slices.Collect(maps.Values(composeSecrets))
	for name, svc := range p.Services {
		for k, v := range svc.Environment {
			if v == nil {
				continue
			}
			value := *v
			if slices.Contains(weakSecrets, strings.ToLower(value)) && secretName.MatchString(k) {
				t.Errorf("service %s: %s is the weak %q", name, k, value)
			}
			if secretName.MatchString(k) && !slices.Contains(given, value) {
				t.Errorf("service %s: %s=%q does not come from the environment", name, k, value)
			}
			u, err := url.Parse(value)
			if err != nil || u.User == nil {
				continue
			}
			pw, ok := u.User.Password()
			if !ok || pw != composeSecrets["POSTGRES_PASSWORD"] {
				t.Errorf("service %s: %s carries password %q, not POSTGRES_PASSWORD", name, k, pw)
			}
		}
	}
	if got := *p.Services["postgresql"].Environment["POSTGRES_PASSWORD"]; got != composeSecrets["POSTGRES_PASSWORD"] {
		t.Errorf("postgresql's password is %q, not POSTGRES_PASSWORD", got)
	}
}

func TestComposeTemporalUIIsReadOnlyAndBehindAuthentication(t *testing.T) {
	p := loadCompose(t)
	ui := p.Services["temporal-ui"]
	for _, k := range []string{
		"TEMPORAL_DISABLE_WRITE_ACTIONS",
		"TEMPORAL_WORKFLOW_TERMINATE_DISABLED", "TEMPORAL_WORKFLOW_CANCEL_DISABLED",
		"TEMPORAL_WORKFLOW_SIGNAL_DISABLED", "TEMPORAL_WORKFLOW_UPDATE_DISABLED",
		"TEMPORAL_WORKFLOW_RESET_DISABLED", "TEMPORAL_BATCH_ACTIONS_DISABLED",
		"TEMPORAL_START_WORKFLOW_DISABLED",
	} {
		if v := ui.Environment[k]; v == nil || *v != "true" {
			t.Errorf("temporal-ui: %s is not true", k)
		}
	}
	proxy := p.Services["temporal-ui-proxy"]
	if len(proxy.Configs) != 1 || proxy.Configs[0].Target != "/etc/caddy/Caddyfile" {
		t.Fatalf("temporal-ui-proxy does not mount its Caddyfile: %+v", proxy.Configs)
	}
	caddyfile := p.Configs[proxy.Configs[0].Source].Content
	for _, want := range []string{
		"basic_auth {",
		"{$TEMPORAL_UI_USER} {$TEMPORAL_UI_PASSWORD_HASH}",
		"reverse_proxy temporal-ui:8080",
	} {
		if !strings.Contains(caddyfile, want) {
			t.Errorf("temporal-ui-proxy's Caddyfile has no %q:\n%s", want, caddyfile)
		}
	}
}

func TestComposeBuildsAppServicesFromTheDockerfile(t *testing.T) {
	p := loadCompose(t)
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"api", "worker"} {
		svc := p.Services[name]
		if svc.Build == nil || svc.Build.Target != name {
			t.Fatalf("service %s is not built from the Dockerfile's %s target", name, name)
		}
		if !regexp.MustCompile(`(?m)^FROM .+ AS ` + name + `$`).Match(dockerfile) {
			t.Errorf("Dockerfile has no %s stage", name)
		}
		for _, v := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS"} {
			if svc.Environment[v] == nil || *svc.Environment[v] == "" {
				t.Errorf("service %s has no %s", name, v)
			}
		}
	}
}

type dockerStage struct {
	from  string // the image or stage it starts from
	lines []string
}

// dockerStages splits the Dockerfile into its named stages. It reads the
// simple form this repository writes: one instruction per line, or a RUN
// continued with a trailing backslash.
func dockerStages(t *testing.T) map[string]dockerStage {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`^FROM (\S+) AS (\S+)$`)
	stages := map[string]dockerStage{}
	var current string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := from.FindStringSubmatch(line); m != nil {
			current = m[2]
			stages[current] = dockerStage{from: m[1]}
			continue
		}
		if current == "" {
			t.Fatalf("Dockerfile: %q before a named FROM", line)
		}
		s := stages[current]
		s.lines = append(s.lines, line)
		stages[current] = s
	}
	return stages
}

// The api image holds cmd/api's binary and the worker image cmd/worker's:
// each copies one file, from a stage that builds that command alone (and the
// stages it starts from build nothing). Neither has `tradeloop`, the dev
// all-in-one carrying the embedded Temporal server.
func TestDockerfileImagesShipOnlyTheirOwnBinary(t *testing.T) {
	stages := dockerStages(t)
	copyFrom := regexp.MustCompile(`^COPY --from=(\S+) (\S+) (\S+)$`)
	goBuild := regexp.MustCompile(`go build .*-o (\S+) (\S+)`)
	for _, name := range []string{"api", "worker"} {
		final, ok := stages[name]
		if !ok {
			t.Errorf("Dockerfile has no %s stage", name)
			continue
		}
		if _, isStage := stages[final.from]; isStage {
			t.Errorf("stage %s starts from stage %s; it must start from a bare runtime image", name, final.from)
		}
		var copies [][]string
		for _, line := range final.lines {
			if strings.HasPrefix(line, "COPY") || strings.HasPrefix(line, "ADD") {
				m := copyFrom.FindStringSubmatch(line)
				if m == nil {
					t.Errorf("stage %s: %q is not a plain COPY --from=<stage> <file> <file>", name, line)
					continue
				}
				copies = append(copies, m)
			}
			if strings.Contains(line, "tradeloop") {
				t.Errorf("stage %s mentions tradeloop: %q", name, line)
			}
		}
		if len(copies) != 1 || copies[0][2] != "/out/"+name || copies[0][3] != "/usr/local/bin/"+name {
			t.Errorf("stage %s copies %v; want only /out/%s to /usr/local/bin/%s", name, copies, name, name)
			continue
		}
		if !slices.Contains(final.lines, `ENTRYPOINT ["/usr/local/bin/`+name+`"]`) {
			t.Errorf("stage %s does not run /usr/local/bin/%s", name, name)
		}
		// The stage it copies from, and every stage under it, build only
		// ./cmd/<name> into /out/<name>.
		var builds []string
		for s, seen := copies[0][1], 0; ; seen++ {
			stage, ok := stages[s]
			if !ok || seen > len(stages) {
				break
			}
			text := strings.Join(stage.lines, "\n")
			for _, m := range goBuild.FindAllStringSubmatch(text, -1) {
				builds = append(builds, m[1]+" "+m[2])
			}
			s = stage.from
		}
		if want := []string{"/out/" + name + " ./cmd/" + name}; !slices.Equal(builds, want) {
			t.Errorf("the stages behind %s build %v, want only %v", name, builds, want)
		}
	}
}

// The images' separation is worth nothing if cmd/api or cmd/worker linked the
// Temporal server themselves.
func TestAppBinariesDoNotCarryTheTemporalServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./cmd/api", "./cmd/worker").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.temporal.io/server/") {
			t.Fatalf("cmd/api or cmd/worker depends on %s, part of the Temporal server", pkg)
		}
	}
}

func TestComposeRegistersTheDealSearchAttributes(t *testing.T) {
	setup := strings.Join(loadCompose(t).Services["temporal-setup"].Command, " ")
	types := map[string]string{"INDEXED_VALUE_TYPE_KEYWORD": "Keyword", "INDEXED_VALUE_TYPE_INT": "Int"}
	for name, typ := range workflows.SearchAttributes() {
		if want := name + ":" + types[typ.String()]; !strings.Contains(setup, want) {
			t.Errorf("temporal-setup does not register %s", want)
		}
	}
}

// The api keeps product media and verification documents on a volume of
// its own, which media-init gives to its non-root user first.
func TestComposeStoresMediaOnAVolume(t *testing.T) {
	p := loadCompose(t)
	api := p.Services["api"]
	if v := api.Environment["MEDIA_BUCKET_URL"]; v == nil || *v != "file:///var/lib/tradeloop/media" {
		t.Fatalf("api's MEDIA_BUCKET_URL is %v", v)
	}
	mounted := false
	for _, v := range api.Volumes {
		mounted = mounted || (v.Type == "volume" && v.Source == "media" && v.Target == "/var/lib/tradeloop/media")
	}
	if !mounted {
		t.Errorf("api does not mount the media volume at /var/lib/tradeloop/media: %+v", api.Volumes)
	}
	if d, ok := api.DependsOn["media-init"]; !ok || d.Condition != "service_completed_successfully" {
		t.Errorf("api does not wait for media-init: %+v", api.DependsOn)
	}
	initSvc := p.Services["media-init"]
	if strings.Join(initSvc.Command, " ") != "chown 65532:65532 /media" || len(initSvc.Volumes) != 1 || initSvc.Volumes[0].Source != "media" {
		t.Errorf("media-init does not give the media volume to uid 65532: %v %+v", initSvc.Command, initSvc.Volumes)
	}
}
