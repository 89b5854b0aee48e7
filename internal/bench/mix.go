package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tradeloop/tradeloop/internal/dealclient"
)

// Mix is how many deals of each kind make up the load, as weights.
type Mix map[dealclient.Kind]int

// DefaultMix is six happy deals, two with a sample and two disputed in ten.
var DefaultMix = Mix{dealclient.Happy: 6, dealclient.Sample: 2, dealclient.Dispute: 2}

// ParseMix reads "happy=6,sample=2,dispute=2"; kinds left out weigh 0.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		kind := dealclient.Kind(strings.TrimSpace(name))
		w, err := strconv.Atoi(strings.TrimSpace(weight))
		if !ok || err != nil || w < 0 || !slices.Contains(dealclient.Kinds, kind) {
			return nil, fmt.Errorf("mix %q: want kind=weight pairs of happy, sample, dispute (for example happy=6,sample=2,dispute=2)", s)
		}
		m[kind] = w
	}
	total := 0
	for _, w := range m {
		total += w
	}
	if total == 0 {
		return nil, fmt.Errorf("mix %q: every weight is 0", s)
	}
	return m, nil
}

func (m Mix) String() string {
	var parts []string
	for _, k := range dealclient.Kinds {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	return strings.Join(parts, ",")
}

// Sequence is n deals' kinds in the mix's proportions, interleaved (smooth
// weighted round robin), so any stretch of the load has about the mix.
func (m Mix) Sequence(n int) []dealclient.Kind {
	total := 0
	for _, k := range dealclient.Kinds {
		total += m[k]
	}
	current := map[dealclient.Kind]int{}
	out := make([]dealclient.Kind, 0, n)
	for range n {
		var best dealclient.Kind
		for _, k := range dealclient.Kinds {
			if m[k] == 0 {
				continue
			}
			current[k] += m[k]
			if best == "" || current[k] > current[best] {
				best = k
			}
		}
		current[best] -= total
		out = append(out, best)
	}
	return out
}
