package transcript

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every step has exercises, each in stepNN-x/exercises/NN-slug/ with a
// README (the task, an example, hints, what to read, the check command,
// where the solution is), a doc.go, the check (check_test.go, built only
// with -tags exercise, so an untouched clone's go test work stays green)
// and the reference solution (solution.patch, applied from the repo root
// with git apply). The step README's Exercises table lists them.
var (
	exerciseHeadings = []string{"## What a correct server sends", "## Hints", "## Read first", "## Check", "## Solution"}
	exerciseRow      = regexp.MustCompile("(?m)^\\| \\[[^]]+\\]\\(exercises/([0-9][0-9]-[a-z0-9-]+)\\) \\| [^|]+ \\| (warm-up|core|stretch) \\| [^|]+ \\| `go test -tags exercise \\./(step[0-9][0-9]-[a-z-]+)/exercises/([0-9][0-9]-[a-z0-9-]+)` \\|$")
)

// exercises lists each step's exercise folders, by step folder.
func exercises(t *testing.T) map[string][]string {
	t.Helper()
	mods, _ := filepath.Glob("../step*/go.mod")
	all := map[string][]string{}
	for _, mod := range mods {
		step := filepath.Dir(mod)
		dirs, _ := filepath.Glob(filepath.Join(step, "exercises", "[0-9][0-9]-*"))
		all[step] = dirs
	}
	return all
}

func TestEveryStepHasExercises(t *testing.T) {
	for step, dirs := range exercises(t) {
		name := filepath.Base(step)
		t.Run(name, func(t *testing.T) {
			if len(dirs) < 3 {
				t.Errorf("%s has %d exercises, want at least three (a warm-up, a core one, a stretch)", name, len(dirs))
			}
			for _, dir := range dirs {
				checkExerciseFolder(t, name, dir)
			}
			readme, err := os.ReadFile(filepath.Join(step, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			_, section, _ := strings.Cut(string(readme), "\n## Exercises\n")
			section, _, _ = strings.Cut(section, "\n## ")
			var listed []string
			levels := map[string]bool{}
			for _, row := range exerciseRow.FindAllStringSubmatch(section, -1) {
				if row[3] != name || row[4] != row[1] {
					t.Errorf("%s/README.md: the row for %s checks ./%s/exercises/%s", name, row[1], row[3], row[4])
				}
				listed = append(listed, row[1])
				levels[row[2]] = true
			}
			var folders []string
			for _, dir := range dirs {
				folders = append(folders, filepath.Base(dir))
			}
			slices.Sort(listed)
			if !slices.Equal(listed, folders) {
				t.Errorf("%s/README.md's Exercises table lists %v; the exercises/ folder holds %v", name, listed, folders)
			}
			for _, level := range []string{"warm-up", "core", "stretch"} {
				if len(dirs) > 0 && !levels[level] {
					t.Errorf("%s/README.md's Exercises table has no %s exercise", name, level)
				}
			}
		})
	}
}

// checkExerciseFolder checks one exercise's files.
func checkExerciseFolder(t *testing.T, step, dir string) {
	t.Helper()
	name := step + "/exercises/" + filepath.Base(dir)
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	at := 0
	for _, heading := range exerciseHeadings {
		i := strings.Index(string(readme[at:]), "\n"+heading+"\n")
		if i < 0 {
			t.Errorf("%s/README.md has no %q heading after the ones before it (want, in order: %s)", name, heading, strings.Join(exerciseHeadings, ", "))
			break
		}
		at += i + 1
	}
	_, checkSection, _ := strings.Cut(string(readme), "\n## Check\n")
	checkSection, _, _ = strings.Cut(checkSection, "\n## ")
	if want := "$ go test -tags exercise ./" + name + "\n"; strings.Count(checkSection, "\n$ ") != 1 || !strings.Contains(checkSection, "```console\n"+want) {
		t.Errorf("%s/README.md: want the Check section to hold one console block with the one command %q", name, strings.TrimSpace(want))
	}
	check, err := os.ReadFile(filepath.Join(dir, "check_test.go"))
	if err != nil || !strings.HasPrefix(string(check), "//go:build exercise\n") {
		t.Errorf("%s/check_test.go must exist and start with //go:build exercise (so go test work skips it): %v", name, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "doc.go")); err != nil {
		t.Errorf("%s: %v (the package needs a file that builds without the tag)", name, err)
	}
	if patch, err := os.ReadFile(filepath.Join(dir, "solution.patch")); err != nil || !strings.Contains(string(patch), "\n+++ b/"+step+"/") {
		t.Errorf("%s/solution.patch must be a diff of %s's files (+++ b/%s/…): %v", name, step, step, err)
	}
}

// TestExercisesAreReal proves every exercise: in a copy of its step (and
// of this module, which the step's tests use), its check fails, and with
// the solution applied it passes. It builds every step twice per
// exercise, so it runs in CI and where asked for.
func TestExercisesAreReal(t *testing.T) {
	if os.Getenv("COURSE_REQUIRE_PEERS") == "" && os.Getenv("COURSE_PROVE_EXERCISES") == "" {
		t.Skip("proving the exercises builds each step twice per exercise; CI does it, or run with COURSE_PROVE_EXERCISES=1")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to apply the solutions: ", err)
	}
	for step, dirs := range exercises(t) {
		for _, dir := range dirs {
			name := filepath.Base(step) + "/exercises/" + filepath.Base(dir)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				root := t.TempDir()
				// The step's go.mod finds this module at ../transcript.
				if err := copyTree(step, filepath.Join(root, filepath.Base(step))); err != nil {
					t.Fatal(err)
				}
				if err := copyTree(".", filepath.Join(root, "transcript")); err != nil {
					t.Fatal(err)
				}
				check := func() (string, error) {
					cmd := exec.Command("go", "test", "-tags", "exercise", "-count=1", "./exercises/"+filepath.Base(dir))
					cmd.Dir = filepath.Join(root, filepath.Base(step))
					cmd.Env = append(os.Environ(), "GOWORK=off")
					out, err := cmd.CombinedOutput()
					return string(out), err
				}
				out, err := check()
				if err == nil || !strings.Contains(out, "--- FAIL") {
					t.Fatalf("the check of %s does not fail on the untouched step (a build error does not count):\n%s", name, out)
				}
				apply := exec.Command("git", "apply", filepath.Join(filepath.Base(step), "exercises", filepath.Base(dir), "solution.patch"))
				apply.Dir = root
				if out, err := apply.CombinedOutput(); err != nil {
					t.Fatalf("the solution of %s no longer applies: %v\n%s", name, err, out)
				}
				if out, err := check(); err != nil {
					t.Errorf("the check of %s fails with its solution applied:\n%s", name, out)
				}
			})
		}
	}
}

// copyTree copies the files under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
