package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// FindBinDir returns a directory holding both initdb and postgres. It looks in
// want (when set), then on PATH, then in the versioned folders Debian, Ubuntu
// and the PGDG packages use (/usr/lib/postgresql/<major>/bin, newest first),
// then in /usr/local/pgsql/bin.
func FindBinDir(want string) (string, error) {
	if want != "" {
		if hasServerBinaries(want) {
			return want, nil
		}
		return "", fmt.Errorf("no initdb and postgres in %s", want)
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if dir := filepath.Dir(p); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versioned, func(i, j int) bool { return majorOf(versioned[i]) > majorOf(versioned[j]) })
	for _, dir := range append(versioned, "/usr/local/pgsql/bin") {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH, in /usr/lib/postgresql/*/bin or /usr/local/pgsql/bin: " +
		"install them (Debian: apt-get install postgresql) or set TRADELOOP_PG_BIN")
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// majorOf reads the major version from /usr/lib/postgresql/<major>/bin.
func majorOf(binDir string) int {
	n, err := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	if err != nil {
		return -1
	}
	return n
}
