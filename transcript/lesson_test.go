package transcript

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A step's lesson is what its Go code adds to the step before, read in a
// sensible order. Each step README's "What changed" holds the order, with
// each file's size, between two markers:
//
//	<!-- reading order -->
//	1. `router.go`, 256 lines, new
//	…
//	<!-- end reading order -->
//
// The names and their order are the author's choice; the sizes and the
// new/changed/unchanged words are generated. From the list, each step from
// 02 on has a generated lesson.diff: the diff of its code against the step
// before, file by file in that order, then the diff of its tests. The
// testdata is left out (the README lists the transcripts that changed, and
// git diff --no-index shows them).
var orderBlock = regexp.MustCompile(`(?s)<!-- reading order -->\n.*?<!-- end reading order -->`)

// TestLessonDiffs checks, for every step, the reading-order block of its
// README and its lesson.diff; -update rewrites both.
func TestLessonDiffs(t *testing.T) {
	mods, _ := filepath.Glob("../step*/go.mod")
	for i, mod := range mods {
		step := filepath.Dir(mod)
		prev := ""
		if i > 0 {
			prev = filepath.Dir(mods[i-1])
		}
		t.Run(filepath.Base(step), func(t *testing.T) {
			order := checkReadingOrder(t, prev, step)
			if prev == "" {
				return // the first step has nothing to diff against
			}
			// The code in reading order, then the code the step dropped, then the tests.
			files := order
			for _, name := range goFiles(t, false, prev) {
				if !slices.Contains(order, name) {
					files = append(files, name)
				}
			}
			diff := lessonDiff(prev, step, append(files, goFiles(t, true, prev, step)...))
			checkGenerated(t, filepath.Join(step, "lesson.diff"), []byte(diff), "lesson.diff is not the diff of the code against "+filepath.Base(prev))
		})
	}
}

// checkReadingOrder regenerates the README's reading-order block and
// returns its file names in order. Every non-test Go file of the step must
// be listed, once; with -update a missing one is added at the end and a
// vanished one dropped, so a new file only needs to be moved into place.
func checkReadingOrder(t *testing.T, prev, step string) []string {
	t.Helper()
	path := filepath.Join(step, "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks := orderBlock.FindAllIndex(readme, -1)
	whatChanged := strings.Index(string(readme), "\n## What changed")
	if len(blocks) != 1 || prev != "" && (whatChanged < 0 || blocks[0][0] < whatChanged) {
		t.Fatalf("%s: want one <!-- reading order --> … <!-- end reading order --> block (under \"What changed\" from step 02 on)", path)
	}
	code := goFiles(t, false, step)
	var order, problems []string
	for _, m := range regexp.MustCompile("(?m)^\\d+\\. `([^`]+)`").FindAllSubmatch(readme[blocks[0][0]:blocks[0][1]], -1) {
		name := string(m[1])
		switch {
		case !slices.Contains(code, name):
			problems = append(problems, "lists "+name+", which is not a Go file of the step")
		case slices.Contains(order, name):
			problems = append(problems, "lists "+name+" twice")
		default:
			order = append(order, name)
		}
	}
	for _, name := range code {
		if !slices.Contains(order, name) {
			problems = append(problems, "does not list "+name+" (put it where a learner should read it)")
			order = append(order, name)
		}
	}
	var b strings.Builder
	b.WriteString("<!-- reading order -->\n")
	if prev == "" {
		b.WriteString("Read the code in this order (lines of Go, tests left out):\n\n")
	} else {
		fmt.Fprintf(&b, "Read the code in this order (lines of Go, tests left out); [lesson.diff](lesson.diff) is the diff against %s in the same order, then the tests':\n\n", filepath.Base(prev))
	}
	for i, name := range order {
		fmt.Fprintf(&b, "%d. `%s`, %d lines%s\n", i+1, name, lineCount(t, filepath.Join(step, name)), changeWord(prev, step, name))
	}
	b.WriteString("<!-- end reading order -->")
	fresh := string(readme[:blocks[0][0]]) + b.String() + string(readme[blocks[0][1]:])
	if len(problems) > 0 && !Updating() {
		t.Errorf("%s: the reading order %s; fix the list, or run go test ./transcript -run TestLessonDiffs -update and move the file into place", path, strings.Join(problems, "; "))
	}
	checkGenerated(t, path, []byte(fresh), "the reading order's sizes are out of date")
	return order
}

// changeWord says what became of a file since the step before.
func changeWord(prev, step, name string) string {
	if prev == "" {
		return ""
	}
	switch fileChange(prev, step, name) {
	case "Added":
		return ", new"
	case "Changed":
		return ", changed"
	}
	return ", unchanged"
}

// checkGenerated compares a generated file with what is committed, and
// rewrites it with -update.
func checkGenerated(t *testing.T, path string, fresh []byte, problem string) {
	t.Helper()
	old, _ := os.ReadFile(path)
	if string(old) == string(fresh) {
		return
	}
	if Updating() {
		if err := os.WriteFile(path, fresh, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", path)
		return
	}
	t.Errorf("%s: %s (-want +got):\n%s\nregenerate it with: go test ./transcript -run TestLessonDiffs -update",
		path, problem, cmp.Diff(strings.Split(string(fresh), "\n"), strings.Split(string(old), "\n")))
}

// goFiles lists the Go files of the given steps, sorted: the tests, or the
// code without them.
func goFiles(t *testing.T, tests bool, dirs ...string) []string {
	t.Helper()
	var names []string
	for _, dir := range dirs {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			name := filepath.Base(p)
			if strings.HasSuffix(name, "_test.go") == tests && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func lineCount(t *testing.T, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

// lessonDiff is the unified diff of each named file from prev to step, in
// the given order; a file only in step shows as new, only in prev as gone.
func lessonDiff(prev, step string, names []string) string {
	var b strings.Builder
	for _, name := range names {
		oldName, newName := filepath.Base(prev)+"/"+name, filepath.Base(step)+"/"+name
		old, errOld := os.ReadFile(filepath.Join(prev, name))
		cur, errCur := os.ReadFile(filepath.Join(step, name))
		if errOld != nil {
			oldName = "/dev/null"
		}
		if errCur != nil {
			newName = "/dev/null"
		}
		b.WriteString(unifiedDiff(oldName, newName, splitLines(string(old)), splitLines(string(cur))))
	}
	return b.String()
}

// splitLines cuts s after each "\n"; a last line without one stays as it is.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// unifiedDiff writes the diff -u of two texts (lines with their "\n"),
// with three lines of context; nothing when they are the same. The edit
// script is a longest common subsequence, found by dynamic programming:
// the files are a few hundred lines, so its quadratic table is small.
func unifiedDiff(oldName, newName string, a, b []string) string {
	type op struct {
		kind byte // ' ', '-' or '+'
		line string
		i, j int // the line's number (0-based) in a and in b
	}
	// lcs[i][j] is the length of a longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{' ', a[i], i, j})
			i, j = i+1, j+1
		case j == len(b) || i < len(a) && lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, op{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, op{'+', b[j], i, j})
			j++
		}
	}
	const context = 3
	var out strings.Builder
	for start := 0; start < len(ops); {
		// The next hunk begins context lines before the next change and
		// ends where more than 2×context unchanged lines follow a change.
		first := slices.IndexFunc(ops[start:], func(o op) bool { return o.kind != ' ' })
		if first < 0 {
			break
		}
		from := max(start, start+first-context)
		to, quiet := from, 0
		for k := from; k < len(ops) && quiet <= 2*context; k++ {
			if ops[k].kind == ' ' {
				quiet++
			} else {
				quiet, to = 0, k+1
			}
		}
		to = min(len(ops), to+context)
		hunk := ops[from:to]
		oldCount, newCount := 0, 0
		for _, o := range hunk {
			if o.kind != '+' {
				oldCount++
			}
			if o.kind != '-' {
				newCount++
			}
		}
		if out.Len() == 0 {
			fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(hunk[0].i, oldCount), hunkRange(hunk[0].j, newCount))
		for _, o := range hunk {
			out.WriteByte(o.kind)
			out.WriteString(o.line)
			if !strings.HasSuffix(o.line, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		start = to
	}
	return out.String()
}

// hunkRange is a hunk header's "line,count", 1-based as diff -u writes it;
// an empty range names the line before it.
func hunkRange(at, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", at)
	}
	return fmt.Sprintf("%d,%d", at+1, count)
}

// TestUnifiedDiff pins the format on a small case, and checks on every
// pair of neighbouring steps' files that applying the diff to the old
// file gives the new one: a diff that loses or invents a line fails.
func TestUnifiedDiff(t *testing.T) {
	got := unifiedDiff("a/f", "b/f", splitLines("1\n2\n3\n4\n5\n6\n7\n8\n9\n"), splitLines("1\n2\n3\n4\nfive\n6\n7\n8\n9\nten"))
	want := "--- a/f\n+++ b/f\n@@ -2,8 +2,9 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n+ten\n\\ No newline at end of file\n"
	if got != want {
		t.Errorf("unifiedDiff (-want +got):\n%s", cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")))
	}
	mods, _ := filepath.Glob("../step*/go.mod")
	for i := 1; i < len(mods); i++ {
		prev, step := filepath.Dir(mods[i-1]), filepath.Dir(mods[i])
		for _, name := range goFiles(t, false, step) {
			old, _ := os.ReadFile(filepath.Join(prev, name))
			cur, _ := os.ReadFile(filepath.Join(step, name))
			diff := unifiedDiff("a", "b", splitLines(string(old)), splitLines(string(cur)))
			if rebuilt := applyDiff(t, splitLines(string(old)), diff); rebuilt != string(cur) {
				t.Errorf("%s/%s: the diff against %s does not rebuild the file", filepath.Base(step), name, filepath.Base(prev))
			}
		}
	}
}

// applyDiff applies a unifiedDiff to the old file's lines.
func applyDiff(t *testing.T, old []string, diff string) string {
	var out strings.Builder
	next := 0 // the first line of old not yet copied
	hunk := regexp.MustCompile(`^@@ -(\d+),(\d+) `)
	lines := splitLines(diff)
	for k := 0; k < len(lines); k++ {
		line := lines[k]
		switch {
		case strings.HasPrefix(line, "--- "), strings.HasPrefix(line, "+++ "):
		case strings.HasPrefix(line, "@@"):
			var at, count int
			fmt.Sscan(hunk.FindStringSubmatch(line)[1], &at)
			fmt.Sscan(hunk.FindStringSubmatch(line)[2], &count)
			if count > 0 {
				at-- // a non-empty range is 1-based
			}
			for ; next < at; next++ {
				out.WriteString(old[next])
			}
		case line[0] == ' ', line[0] == '+':
			text := line[1:]
			if k+1 < len(lines) && strings.HasPrefix(lines[k+1], `\ No newline`) {
				text = strings.TrimSuffix(text, "\n")
				k++
			}
			out.WriteString(text)
			if line[0] == ' ' {
				next++
			}
		case line[0] == '-':
			if k+1 < len(lines) && strings.HasPrefix(lines[k+1], `\ No newline`) {
				k++
			}
			next++
		default:
			t.Fatalf("a diff line that is not a diff line: %q", line)
		}
	}
	for ; next < len(old); next++ {
		out.WriteString(old[next])
	}
	return out.String()
}
