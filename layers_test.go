package tradeloop_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tradeloop/tradeloop/"

// The layers of the repository, by package (paths relative to the module).
var (
	// Dev servers and the dev stack: `tradeloop dev` and the tests use them.
	devOnly = []string{"internal/devstack", "internal/pgcluster", "internal/temporalserver", "internal/seed", "internal/hooksink", "internal/mailsink"}
	// The load generator and what only it uses.
	benchOnly = []string{"internal/bench", "internal/bench/baseline", "internal/dealclient", "internal/childproc"}
	// Code only tests import.
	testOnly = []string{"internal/testenv", "internal/stripefake", "internal/faults", "internal/pdftext"}
	// The one binary that carries the dev stack and the bench.
	devBinaries = []string{"cmd/tradeloop"}
	// Leaf libraries: they import nothing of ours.
	leaves = []string{"internal/money", "internal/notice", "internal/tier", "internal/sheet", "internal/apikey", "internal/freeport", "internal/bounds", "internal/historycodec", "internal/pgpipe", "internal/drain"}
	// What the deal's workflow code may import of ours: the activities'
	// contract and three leaves; nothing that reaches a database or network.
	workflowDeps = []string{"activities", "internal/bounds", "internal/money", "internal/notice", "internal/tier"}
	// Standard packages that do I/O, which workflow code must not import
	// (its activities do the I/O).
	ioPackages = []string{"net", "net/http", "os", "os/exec", "io/fs", "database/sql", "syscall", "math/rand", "crypto/rand"}
)

// pkgInfo is one package's own imports and all its dependencies, without
// its tests'.
type pkgInfo struct {
	imports, deps []string
}

// layerViolations lists every package that breaks a layering rule.
func layerViolations(pkgs map[string]pkgInfo) []string {
	var out []string
	outside := slices.Concat(devOnly, benchOnly, testOnly, devBinaries)
	for _, p := range slices.Sorted(maps.Keys(pkgs)) {
		info := pkgs[p]
		ours := own(info.deps)
		if !slices.Contains(outside, p) {
			for _, d := range ours {
				if slices.Contains(devOnly, d) || slices.Contains(benchOnly, d) || slices.Contains(testOnly, d) {
					out = append(out, fmt.Sprintf("production package %s depends on %s (dev, bench or test-only code)", p, d))
				}
			}
		}
		if !slices.Contains(testOnly, p) {
			for _, d := range own(info.imports) {
				if slices.Contains(testOnly, d) {
					out = append(out, fmt.Sprintf("%s imports test-only %s", p, d))
				}
			}
		}
		if slices.Contains(leaves, p) && len(ours) > 0 {
			out = append(out, fmt.Sprintf("leaf library %s imports %s of ours", p, strings.Join(ours, ", ")))
		}
		if p == "workflows" {
			for _, d := range ours {
				if !slices.Contains(workflowDeps, d) {
					out = append(out, fmt.Sprintf("workflows depends on %s (only %s allowed)", d, strings.Join(workflowDeps, ", ")))
				}
			}
			for _, d := range info.imports {
				if slices.Contains(ioPackages, d) {
					out = append(out, fmt.Sprintf("workflows imports %s, which does I/O", d))
				}
			}
		}
	}
	return out
}

// own keeps this module's packages of paths, relative to the module.
func own(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rel, ok := strings.CutPrefix(p, module); ok {
			out = append(out, rel)
		}
	}
	return out
}

// The repository keeps its layers: no production package depends on dev,
// bench or test-only code, leaf libraries import nothing of ours, and the
// workflow code imports no I/O.
func TestLayers(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkgInfo{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list line %q", sc.Text())
		}
		rel, ok := strings.CutPrefix(parts[0], module)
		if !ok {
			continue // the module's root package
		}
		pkgs[rel] = pkgInfo{imports: strings.Fields(parts[1]), deps: strings.Fields(parts[2])}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// Every package of ours is in the listing, so a rule cannot pass for
	// want of input.
	for _, p := range slices.Concat(devOnly, benchOnly, testOnly, devBinaries, leaves, []string{"workflows", "cmd/api", "cmd/worker"}) {
		if _, ok := pkgs[p]; !ok {
			t.Fatalf("go list did not list %s: the layer lists name a package that is gone", p)
		}
	}
	if v := layerViolations(pkgs); len(v) > 0 {
		t.Fatalf("layering broken:\n%s", strings.Join(v, "\n"))
	}
}

// The rules catch what they are for: a production package that imports
// test-only code, a worker that registers the bench's baseline, a leaf that
// imports ours, workflow code that opens a socket.
func TestLayersRefuse(t *testing.T) {
	clean := map[string]pkgInfo{
		"internal/stack":          {imports: []string{module + "workflows"}, deps: []string{module + "workflows", module + "internal/money"}},
		"internal/money":          {},
		"workflows":               {imports: []string{"time", module + "activities"}, deps: []string{module + "activities"}},
		"internal/testenv":        {},
		"internal/bench/baseline": {},
		"internal/devstack":       {imports: []string{module + "internal/stack"}, deps: []string{module + "internal/stack"}},
	}
	if v := layerViolations(clean); len(v) > 0 {
		t.Fatalf("a clean tree refused: %v", v)
	}
	cases := map[string]struct {
		pkg  string
		info pkgInfo
		want string
	}{
		"production imports test-only":                 {"api", pkgInfo{imports: []string{module + "internal/testenv"}, deps: []string{module + "internal/testenv"}}, "production package api depends on internal/testenv"},
		"production reaches test-only through another": {"internal/stack", pkgInfo{deps: []string{module + "internal/stripefake"}}, "production package internal/stack depends on internal/stripefake"},
		"worker registers the baseline":                {"internal/stack", pkgInfo{imports: []string{module + "internal/bench/baseline"}, deps: []string{module + "internal/bench/baseline"}}, "depends on internal/bench/baseline"},
		"leaf imports ours":                            {"internal/money", pkgInfo{imports: []string{module + "internal/config"}, deps: []string{module + "internal/config"}}, "leaf library internal/money imports internal/config"},
		"workflows reaches the database":               {"workflows", pkgInfo{deps: []string{module + "internal/readmodel"}}, "workflows depends on internal/readmodel"},
		"workflows opens a socket":                     {"workflows", pkgInfo{imports: []string{"net/http"}}, "workflows imports net/http"},
		"dev code imports test-only":                   {"internal/devstack", pkgInfo{imports: []string{module + "internal/stripefake"}}, "internal/devstack imports test-only internal/stripefake"},
		"bench code imports test-only":                 {"internal/bench", pkgInfo{imports: []string{module + "internal/faults"}}, "internal/bench imports test-only internal/faults"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pkgs := map[string]pkgInfo{}
			for k, v := range clean {
				pkgs[k] = v
			}
			pkgs[c.pkg] = c.info
			v := layerViolations(pkgs)
			if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Fatalf("want a violation %q, got %v", c.want, v)
			}
		})
	}
}

// apiReachViolations lists the HTTP layer's files that reach past the
// domain services: imports, by file, of api/'s non-test files. The
// handlers ask services (deals, identity, idempotency, marketplace,
// readmodel, finance, payments); only the wiring (server.go) takes the
// Temporal client, to build the deals client from it.
func apiReachViolations(imports map[string][]string) []string {
	var out []string
	for _, f := range slices.Sorted(maps.Keys(imports)) {
		for _, imp := range imports[f] {
			switch {
			case imp == module+"db/store":
				out = append(out, fmt.Sprintf("api/%s imports db/store: SQL belongs to a service", f))
			case strings.HasPrefix(imp, "go.temporal.io/api/") || imp == "go.temporal.io/sdk/temporal":
				out = append(out, fmt.Sprintf("api/%s imports %s: Temporal belongs to internal/deals", f, imp))
			case imp == "go.temporal.io/sdk/client" && f != "server.go":
				out = append(out, fmt.Sprintf("api/%s imports the Temporal client: only server.go wires it", f))
			}
		}
	}
	return out
}

// The API's handlers call services, never SQL or Temporal themselves.
func TestAPIHandlersCallServices(t *testing.T) {
	files, err := filepath.Glob("api/*.go")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string][]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports[filepath.Base(f)] = append(imports[filepath.Base(f)], p)
		}
	}
	if len(imports) < 10 {
		t.Fatalf("read the imports of %d api files: the test reads the wrong folder", len(imports))
	}
	if v := apiReachViolations(imports); len(v) > 0 {
		t.Fatalf("the HTTP layer reaches past its services:\n%s", strings.Join(v, "\n"))
	}
	for name, bad := range map[string]map[string][]string{
		"handler runs SQL":         {"deals.go": {module + "db/store"}},
		"handler calls Temporal":   {"escrow.go": {"go.temporal.io/sdk/client"}},
		"handler reads its errors": {"webhook.go": {"go.temporal.io/api/serviceerror"}},
		"wiring takes the client":  {"server.go": {"go.temporal.io/sdk/client"}},
	} {
		v := apiReachViolations(bad)
		if want := name != "wiring takes the client"; (len(v) > 0) != want {
			t.Errorf("%s: violations %v", name, v)
		}
	}
}
