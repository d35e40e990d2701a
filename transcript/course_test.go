package transcript

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCourseMapMatchesTheSteps keeps the root README's table of steps
// honest: every step folder is listed with the address its main.go really
// uses, and every listed step exists.
func TestCourseMapMatchesTheSteps(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| \\[(step\\d\\d-[a-z-]+)\\]\\(step\\d\\d-[a-z-]+\\) \\|.*\\| `go run \\./(step\\d\\d-[a-z-]+)` \\| ([^ ]+) \\|$").FindAllSubmatch(readme, -1)
	listed := map[string]string{}
	for _, row := range rows {
		if string(row[1]) != string(row[2]) {
			t.Errorf("README row for %s runs ./%s", row[1], row[2])
		}
		listed[string(row[1])] = string(row[3])
	}
	// A step is a folder with its own module; a folder still without a
	// go.mod is work in progress, not yet part of the course.
	mods, _ := filepath.Glob("../step*/go.mod")
	var dirs []string
	for _, mod := range mods {
		dirs = append(dirs, filepath.Dir(mod))
	}
	if len(dirs) == 0 || len(rows) != len(dirs) {
		t.Errorf("README lists %d steps, the repository has %d step folders", len(rows), len(dirs))
	}
	defaultAddr := regexp.MustCompile(`String\("addr", "([^"]+)"`)
	for _, dir := range dirs {
		step := filepath.Base(dir)
		main, err := os.ReadFile(filepath.Join(dir, "main.go"))
		if err != nil {
			t.Errorf("%s: %v", step, err)
			continue
		}
		m := defaultAddr.FindSubmatch(main)
		switch {
		case m == nil:
			t.Errorf("%s/main.go has no -addr flag", step)
		case listed[step] == "":
			t.Errorf("README's course map does not list %s", step)
		case listed[step] != string(m[1]):
			t.Errorf("README lists %s at %s, its main.go defaults to %s", step, listed[step], m[1])
		}
		// The step's own README shows the line main prints at start-up;
		// TestRunPrintsItsURLAndServes in each step checks its format.
		stepReadme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
		if m != nil && !strings.Contains(string(stepReadme), step+" serving on http://"+string(m[1])+"/\n") {
			t.Errorf("%s/README.md does not show the start-up line %q", step, step+" serving on http://"+string(m[1])+"/")
		}
	}
}
