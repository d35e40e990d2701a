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
	// main.go names its default once, and hands it to the -addr flag.
	defaultAddr := regexp.MustCompile(`(?s)const defaultAddr = "([^"]+)".*"addr", defaultAddr,`)
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

// TestWhatChangedListsEveryFile keeps each step README's "What changed
// since step NN" honest: every file the step adds, changes or deletes
// against the step before it is named in that section, in a bullet that
// starts with "Added:", "Changed:" or "Deleted:".
func TestWhatChangedListsEveryFile(t *testing.T) {
	mods, _ := filepath.Glob("../step*/go.mod")
	for i := 1; i < len(mods); i++ {
		prev, step := filepath.Dir(mods[i-1]), filepath.Dir(mods[i])
		readme, err := os.ReadFile(filepath.Join(step, "README.md"))
		if err != nil {
			t.Error(err)
			continue
		}
		bullets := changeBullets(string(readme))
		for _, name := range stepFiles(t, prev, step) {
			kind := fileChange(prev, step, name)
			if kind == "" {
				continue
			}
			if !strings.Contains(bullets[kind], "`"+name+"`") {
				t.Errorf("%s/README.md: %s is %s since %s, but no \"- %s:\" bullet under \"What changed\" names `%s`",
					filepath.Base(step), name, strings.ToLower(kind), filepath.Base(prev), kind, name)
			}
		}
	}
}

// changeBullets collects the text of the Added/Changed/Deleted bullets of
// the README's "What changed" section, by kind.
func changeBullets(readme string) map[string]string {
	_, section, _ := strings.Cut(readme, "\n## What changed")
	section, _, _ = strings.Cut(section, "\n## ")
	bullets := map[string]string{}
	kind := ""
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "- ") {
			kind, _, _ = strings.Cut(strings.TrimPrefix(line, "- "), ":")
		}
		if !strings.HasPrefix(line, "- ") && !strings.HasPrefix(line, "  ") {
			kind = ""
		}
		bullets[kind] += line + "\n"
	}
	return bullets
}

// stepFiles lists the source files of two steps, by name: the Go files,
// go.mod and the step's own scripts. Transcripts, go.sum and the README
// change in every step and are described in prose instead.
func stepFiles(t *testing.T, dirs ...string) []string {
	seen := map[string]bool{}
	var names []string
	for _, dir := range dirs {
		for _, pattern := range []string{"*.go", "testdata/*.py"} {
			paths, err := filepath.Glob(filepath.Join(dir, pattern))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				name, _ := filepath.Rel(dir, p)
				if !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
	}
	return names
}

// fileChange says how name differs between two steps: "Added", "Deleted",
// "Changed", or "" when it is the same file.
func fileChange(prev, step, name string) string {
	old, errOld := os.ReadFile(filepath.Join(prev, name))
	cur, errCur := os.ReadFile(filepath.Join(step, name))
	switch {
	case errOld != nil:
		return "Added"
	case errCur != nil:
		return "Deleted"
	case string(old) != string(cur):
		return "Changed"
	}
	return ""
}

// TestREADMELinksResolve finds every relative link in the READMEs (the
// prev/next lines, the course map) and checks its target exists, so a
// learner never clicks into a step that is not there yet.
func TestREADMELinksResolve(t *testing.T) {
	readmes, _ := filepath.Glob("../*/README.md")
	readmes = append(readmes, "../README.md")
	link := regexp.MustCompile(`\]\(([^)#:]+)\)`)
	for _, readme := range readmes {
		text, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllSubmatch(text, -1) {
			target := filepath.Join(filepath.Dir(readme), string(m[1]))
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s links to %s, which does not exist", readme, m[1])
			}
		}
	}
}
