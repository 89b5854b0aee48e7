package tradeloop_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/tradeloop/tradeloop/workflows"
)

// docker-compose.yml cannot run here (no Docker engine), so this test loads
// it with the Compose specification's own loader, which validates it against
// the schema, and checks it against what the README promises.

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"docker-compose.yml"},
		cli.WithWorkingDirectory("."), cli.WithName("tradeloop"), cli.WithoutEnvironmentResolution)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

// readmeServices reads the README's table of compose services:
// | `service` | host port | depends on |
func readmeServices(t *testing.T) map[string]struct {
	port string
	deps []string
} {
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
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| ([0-9]*|—) \\| ([^|]*) \\|")
	out := map[string]struct {
		port string
		deps []string
	}{}
	for _, m := range row.FindAllStringSubmatch(section[start:end], -1) {
		var deps []string
		for _, d := range regexp.MustCompile("`([a-z-]+)`").FindAllStringSubmatch(m[3], -1) {
			deps = append(deps, d[1])
		}
		port := m[2]
		if port == "—" {
			port = ""
		}
		out[m[1]] = struct {
			port string
			deps []string
		}{port, deps}
	}
	if len(out) < 5 {
		t.Fatalf("README names only %d compose services", len(out))
	}
	return out
}

func TestComposeHasEveryServiceTheReadmeNames(t *testing.T) {
	p := loadCompose(t)
	for name, want := range readmeServices(t) {
		svc, ok := p.Services[name]
		if !ok {
			t.Errorf("README names service %q, docker-compose.yml has none", name)
			continue
		}
		if want.port != "" {
			published := slices.ContainsFunc(svc.Ports, func(pc types.ServicePortConfig) bool { return pc.Published == want.port })
			if !published {
				t.Errorf("service %s does not publish port %s: %+v", name, want.port, svc.Ports)
			}
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

func TestComposeRegistersTheDealSearchAttributes(t *testing.T) {
	setup := strings.Join(loadCompose(t).Services["temporal-setup"].Command, " ")
	types := map[string]string{"INDEXED_VALUE_TYPE_KEYWORD": "Keyword", "INDEXED_VALUE_TYPE_INT": "Int"}
	for name, typ := range workflows.SearchAttributes() {
		if want := name + ":" + types[typ.String()]; !strings.Contains(setup, want) {
			t.Errorf("temporal-setup does not register %s", want)
		}
	}
}
