package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/internal/historycodec"
)

// Histories recorded from real runs (RECORD_HISTORIES=1 go test -run
// OnEmbeddedServer ./workflows) must replay against today's code: a change
// that breaks them would break every deal running when it is deployed, and
// must go behind workflow.GetVersion instead.
//
// The replayer reads payloads as the worker does, through the history codec
// (with the dev key the tests record with): histories recorded before
// encryption hold plain payloads, which the codec passes through.
func TestRecordedHistoriesReplay(t *testing.T) {
	codec, err := historycodec.Parse(historycodec.DevKeys)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, name := range []string{"happy_path_with_sample", "dispute_with_split", "sla_miss_redispatch", "deal_continued_as_new"} {
		// Recorded before versionDeal 2, and at 2, 3, 4, 5, 6 and 7.
		for _, at := range []string{"", "_deal2", "_deal3", "_deal4", "_deal5", "_deal6", "_deal7"} {
			want[name+at+".json"] = false
		}
	}
	for _, f := range files {
		want[filepath.Base(f)] = true
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: codec.DataConverter()})
			if err != nil {
				t.Fatal(err)
			}
			Register(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("%s does not replay: %v", f, err)
			}
		})
	}
	for name, found := range want {
		if !found {
			t.Errorf("missing recorded history %s", name)
		}
	}
}
