package transcript

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
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
		if m != nil && !strings.Contains(string(stepReadme), startupLine(step, string(m[1]))+"\n") {
			t.Errorf("%s/README.md does not show the start-up line %q", step, startupLine(step, string(m[1])))
		}
	}
}

// startupLine is what a step prints when it serves on its default address.
// A default on every interface (step 07's ":8081", for a container) is
// printed as the loopback URL a browser on the machine opens.
func startupLine(step, addr string) string {
	if strings.HasPrefix(addr, ":") {
		return step + " serving on http://127.0.0.1" + addr + "/ (listening on all interfaces)"
	}
	return step + " serving on http://" + addr + "/"
}

// TestWhatChangedListsEveryFile keeps each step README's "What changed
// since step NN" honest: every file the step adds, changes or deletes
// against the step before it is named in that section, in a bullet that
// starts with "Added:", "Changed:" or "Deleted:". The transcripts, too
// many to describe one by one, are listed in a generated block instead
// (see transcriptChanges); -update rewrites it.
func TestWhatChangedListsEveryFile(t *testing.T) {
	mods, _ := filepath.Glob("../step*/go.mod")
	for i := 1; i < len(mods); i++ {
		prev, step := filepath.Dir(mods[i-1]), filepath.Dir(mods[i])
		path := filepath.Join(step, "README.md")
		readme, err := os.ReadFile(path)
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
		checkTranscriptChanges(t, filepath.Base(step)+"/README.md", path, readme, prev, step)
	}
}

// The "What changed" section of steps 02 on holds a block that lists the
// transcripts added, changed and deleted since the step before; it is
// generated from the two testdata/transcripts folders, never typed:
//
//	<!-- transcript changes -->
//	…generated list…
//	<!-- end transcript changes -->
var changesBlock = regexp.MustCompile(`(?s)<!-- transcript changes -->\n.*?<!-- end transcript changes -->`)

func checkTranscriptChanges(t *testing.T, name, path string, readme []byte, prev, step string) {
	t.Helper()
	blocks := changesBlock.FindAllIndex(readme, -1)
	whatChanged := strings.Index(string(readme), "\n## What changed")
	if len(blocks) != 1 || whatChanged < 0 || blocks[0][0] < whatChanged {
		t.Errorf("%s: want one <!-- transcript changes --> … <!-- end transcript changes --> block under \"What changed\"", name)
		return
	}
	fresh := "<!-- transcript changes -->\n" + transcriptChanges(t, prev, step) + "<!-- end transcript changes -->"
	got := readme[blocks[0][0]:blocks[0][1]]
	if string(got) == fresh {
		return
	}
	if Updating() {
		out := string(readme[:blocks[0][0]]) + fresh + string(readme[blocks[0][1]:])
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", name)
		return
	}
	t.Errorf("%s: the list of transcript changes is out of date (-want +got):\n%s\nregenerate it with: go test ./transcript -run TestWhatChangedListsEveryFile -update",
		name, cmp.Diff(strings.Split(fresh, "\n"), strings.Split(string(got), "\n")))
}

// transcriptChanges compares two steps' testdata/transcripts, file by
// file, byte for byte, and lists the differences by kind.
func transcriptChanges(t *testing.T, prev, step string) string {
	t.Helper()
	names := map[string][]string{}
	seen := map[string]bool{}
	for _, dir := range []string{prev, step} {
		paths, err := filepath.Glob(filepath.Join(dir, "testdata", "transcripts", "*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			name := filepath.Base(p)
			if seen[name] {
				continue
			}
			seen[name] = true
			kind := fileChange(prev, step, filepath.Join("testdata", "transcripts", name))
			names[kind] = append(names[kind], "`"+strings.TrimSuffix(name, ".txtar")+"`")
		}
	}
	// The new and the dropped are named; the re-recorded ones, often most
	// of them, are a count with their names folded away (GitHub shows a
	// <details> block closed until it is clicked).
	var b strings.Builder
	for _, kind := range []struct{ key, label string }{
		{"Added", "New transcripts"},
		{"Deleted", "Transcripts dropped"},
	} {
		if list := names[kind.key]; len(list) > 0 {
			sort.Strings(list)
			fmt.Fprintf(&b, "- %s (%d): %s\n", kind.label, len(list), strings.Join(list, ", "))
		}
	}
	if list := names["Changed"]; len(list) > 0 {
		sort.Strings(list)
		fmt.Fprintf(&b, "- Transcripts whose bytes changed: %d\n  <details><summary>their names</summary>\n\n  %s\n\n  </details>\n", len(list), strings.Join(list, ", "))
	}
	if n := len(names[""]); n > 0 {
		fmt.Fprintf(&b, "- Unchanged: %d more\n", n)
	}
	return b.String()
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

// stepFiles lists the files of two steps that "What changed" must name:
// the Go files and everything under testdata/ except the transcripts,
// which have their generated block. go.mod and go.sum change in every step
// (the module path is the folder's name), and the README is the list.
func stepFiles(t *testing.T, dirs ...string) []string {
	seen := map[string]bool{}
	var names []string
	add := func(dir, p string) {
		name, _ := filepath.Rel(dir, p)
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	for _, dir := range dirs {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			add(dir, p)
		}
		err = filepath.WalkDir(filepath.Join(dir, "testdata"), func(p string, d fs.DirEntry, err error) error {
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil
			case err != nil:
				return err
			case d.IsDir() && d.Name() == "transcripts":
				return filepath.SkipDir
			case !d.IsDir():
				add(dir, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
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

// TestREADMEsHaveTheCourseSections keeps the promise of the root README:
// every step's README has the same sections, in the same order, and the
// root README names them.
func TestREADMEsHaveTheCourseSections(t *testing.T) {
	root, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fixed := []string{"Run it", "What you'll see", "What changed", "How it works", "Tests", "Exercises", "Wrapping up"}
	for _, name := range append(fixed, "Deliberate deviations from wsgiref") {
		if !strings.Contains(strings.Join(strings.Fields(string(root)), " "), name) {
			t.Errorf("README.md does not name the section %q", name)
		}
	}
	heading := regexp.MustCompile(`(?m)^## (.+)$`)
	mods, _ := filepath.Glob("../step*/go.mod")
	for i, mod := range mods {
		dir := filepath.Dir(mod)
		readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
		if err != nil {
			t.Error(err)
			continue
		}
		want := slices.Clone(fixed)
		if i > 0 { // "What changed since step 03"
			want[2] += " since step " + filepath.Base(filepath.Dir(mods[i-1]))[len("step"):len("stepNN")]
		}
		var got []string
		for _, m := range heading.FindAllStringSubmatch(string(readme), -1) {
			if m[1] != "Deliberate deviations from wsgiref" { // an optional section
				got = append(got, m[1])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s/README.md has the sections\n\t%q\nwant\n\t%q", filepath.Base(dir), got, want)
		}
	}
}

// TestREADMELinksResolve finds every relative link in the READMEs (the
// prev/next lines, the course map) and checks its target exists, so a
// learner never clicks into a step that is not there yet.
func TestREADMELinksResolve(t *testing.T) {
	readmes, _ := filepath.Glob("../*/README.md")
	readmes = append(readmes, "../README.md")
	link := regexp.MustCompile(`\]\(([^)#:]*)(?:#([^)]+))?\)`)
	for _, readme := range readmes {
		text, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllSubmatch(text, -1) {
			path, anchor := string(m[1]), string(m[2])
			target := readme // a link to "#anchor" alone is to this file
			if path != "" {
				target = filepath.Join(filepath.Dir(readme), path)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s links to %s, which does not exist", readme, path)
				continue
			}
			if anchor != "" && !slices.Contains(headingAnchors(t, target), anchor) {
				t.Errorf("%s links to %s#%s, but %s has no heading with that anchor", readme, path, anchor, target)
			}
		}
	}
}

// headingAnchors are the anchors GitHub gives a Markdown file's headings:
// the heading's text in lower case, spaces as hyphens, other punctuation
// left out.
func headingAnchors(t *testing.T, file string) []string {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var anchors []string
	for _, line := range strings.Split(string(text), "\n") {
		heading, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		anchors = append(anchors, b.String())
	}
	return anchors
}

// TestREADMECommandsSendTheTranscriptRequests runs, with the learner's own
// tools, the command a README shows above each transcript block, against a
// listener that records what arrives, and compares that with the
// transcript's requests byte for byte: a README's command must reproduce
// the block below it with any curl.
func TestREADMECommandsSendTheTranscriptRequests(t *testing.T) {
	for _, tool := range []string{"curl", "nc", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" || os.Getenv("COURSE_REQUIRE_PEERS") != "" {
				t.Fatalf("%s not found, and CI or COURSE_REQUIRE_PEERS is set, so the README commands may not go unchecked", tool)
			}
			t.Skipf("%s not found (Debian: apt install curl netcat-openbsd); the README commands go unchecked", tool)
		}
	}
	defaultAddr := regexp.MustCompile(`const defaultAddr = "([^"]+)"`)
	// The command sits in a console block of its own, right above the marker.
	commandThenBlock := regexp.MustCompile("```console\n\\$ ([^\n]+)\n```\n\n<!-- transcript: ([\\w.-]+) -->")
	mods, _ := filepath.Glob("../step*/go.mod")
	for _, mod := range mods {
		dir := filepath.Dir(mod)
		main, _ := os.ReadFile(filepath.Join(dir, "main.go"))
		readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
		m := defaultAddr.FindSubmatch(main)
		if m == nil {
			t.Errorf("%s/main.go has no defaultAddr", dir)
			continue
		}
		addr := string(m[1])
		if strings.HasPrefix(addr, ":") {
			addr = "127.0.0.1" + addr // every interface: the READMEs' commands use loopback
		}
		blocks := readmeBlock.FindAllSubmatch(readme, -1)
		commands := commandThenBlock.FindAllSubmatch(readme, -1)
		if len(commands) != len(blocks) {
			t.Errorf("%s/README.md has %d transcript blocks but %d with their command in a console block just above", filepath.Base(dir), len(blocks), len(commands))
		}
		for _, c := range commands {
			command, name := string(c[1]), string(c[2])
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				tr, err := Load(filepath.Join(dir, "testdata", "transcripts", name+".txtar"))
				if err != nil {
					t.Fatal(err)
				}
				got := captureRequests(t, command, addr, tr)
				for i, ex := range tr.Exchanges {
					if i >= len(got) || string(got[i]) != string(ex.Request) {
						var g []byte
						if i < len(got) {
							g = got[i]
						}
						t.Errorf("$ %s\nsent as request %d (-want +got):\n%s", command, i+1, cmp.Diff(Lines(ex.Request), Lines(g)))
					}
				}
			})
		}
	}
}

// captureRequests runs command with the step's address replaced by that of
// a listener, which reads as many bytes as each of the transcript's
// requests has and answers each with an empty 200 (the next one comes only
// after an answer), then closes. The Host the client sent is put back.
func captureRequests(t *testing.T, command, addr string, tr *Transcript) [][]byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	host, port, _ := net.SplitHostPort(addr)
	capHost, capPort, _ := net.SplitHostPort(ln.Addr().String())
	command = strings.ReplaceAll(command, addr, ln.Addr().String())
	command = strings.ReplaceAll(command, host+" "+port, capHost+" "+capPort) // nc HOST PORT
	got := make(chan [][]byte, 1)
	go func() {
		var requests [][]byte
		defer func() { got <- requests }()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(exchangeTimeout))
		for i, ex := range tr.Exchanges {
			buf := make([]byte, len(bytes.ReplaceAll(ex.Request, []byte(addr), []byte(ln.Addr().String()))))
			n, _ := io.ReadFull(conn, buf)
			if i == len(tr.Exchanges)-1 {
				// Anything past the expected bytes is a difference too.
				conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				extra, _ := io.ReadAll(io.LimitReader(conn, 1<<16))
				buf = append(buf[:n], extra...)
				n = len(buf)
			}
			requests = append(requests, bytes.ReplaceAll(buf[:n], []byte(ln.Addr().String()), []byte(addr)))
			conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), exchangeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard // curl and nc fail when we hang up: expected
	cmd.Run()
	ln.Close()
	return <-got
}

// TestEmbeddedCourseAppsAreTheCourses: step 08 embeds its own copy of
// pyapps/course_apps.py (a step is a module of its own and can embed only
// its own files) to serve by default; the copy must not drift from the
// one the course checker and its tests hold the Go demos to.
func TestEmbeddedCourseAppsAreTheCourses(t *testing.T) {
	want, err := os.ReadFile("../pyapps/course_apps.py")
	if err != nil {
		t.Fatal(err)
	}
	copies, _ := filepath.Glob("../step*/course_apps.py")
	if len(copies) == 0 {
		t.Fatal("no step embeds course_apps.py; step 08 should")
	}
	for _, path := range copies {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			step := strings.TrimPrefix(path, "../")
			t.Errorf("%s differs from pyapps/course_apps.py: copy it again, from the repository root: cp pyapps/course_apps.py %s", step, step)
		}
	}
}
