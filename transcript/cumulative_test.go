package transcript

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTranscriptsAreCumulative keeps every step a snapshot of the one
// before: step N replays every transcript of step N-1, under the same
// name, so a regression in an earlier concept fails the later step, and
// diffing two neighbours' testdata shows what the new concept changed on
// the wire.
func TestTranscriptsAreCumulative(t *testing.T) {
	mods, _ := filepath.Glob("../step*/go.mod")
	for i := 1; i < len(mods); i++ {
		prev, step := filepath.Dir(mods[i-1]), filepath.Dir(mods[i])
		have := transcriptNames(t, step)
		for _, name := range transcriptNames(t, prev) {
			if !slices.Contains(have, name) {
				t.Errorf("%s has no %s.txtar, which %s has: copy it and record its response with\n\tgo test ./%s -run 'TestTranscript/^%s$' -update",
					filepath.Base(step), name, filepath.Base(prev), filepath.Base(step), name)
			}
		}
	}
}

func transcriptNames(t *testing.T, step string) []string {
	paths, err := filepath.Glob(filepath.Join(step, "testdata", "transcripts", "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("%s: no transcripts (%v)", step, err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".txtar"))
	}
	return names
}
