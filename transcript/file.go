package transcript

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/tools/txtar"
)

// Exchange is one request and the response it must get, as wire bytes.
// Response is nil when the golden file has no response section yet.
type Exchange struct {
	Request  []byte
	Response []byte
}

// Transcript is one golden file: what it shows, and its exchanges in the
// order they happen on a single connection.
type Transcript struct {
	Name      string // file name without .txtar, used as the subtest name
	Path      string
	Comment   string // the lines before the first section
	Exchanges []Exchange
}

// Load reads one transcript. Sections are "request"/"response" for a single
// exchange, or "request 1"/"response 1", "request 2"… for keep-alive.
func Load(path string) (*Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes a transcript from the bytes of a txtar file.
func Parse(path string, data []byte) (*Transcript, error) {
	ar := txtar.Parse(data)
	tr := &Transcript{
		Name:    strings.TrimSuffix(filepath.Base(path), ".txtar"),
		Path:    path,
		Comment: string(ar.Comment),
	}
	for _, f := range ar.Files {
		kind, n, err := sectionName(f.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		for len(tr.Exchanges) < n {
			tr.Exchanges = append(tr.Exchanges, Exchange{})
		}
		wire, err := Decode(string(f.Data))
		if err != nil {
			return nil, fmt.Errorf("%s: section %q: %v", path, f.Name, err)
		}
		ex := &tr.Exchanges[n-1]
		if kind == "request" {
			ex.Request = wire
		} else {
			ex.Response = wire
		}
	}
	if len(tr.Exchanges) == 0 {
		return nil, fmt.Errorf("%s: no -- request -- section", path)
	}
	for i, ex := range tr.Exchanges {
		if ex.Request == nil {
			return nil, fmt.Errorf("%s: exchange %d has no request section", path, i+1)
		}
	}
	return tr, nil
}

// sectionName splits "request 2" into ("request", 2); "response" is 1.
func sectionName(name string) (kind string, n int, err error) {
	kind, num, numbered := strings.Cut(strings.TrimSpace(name), " ")
	if kind != "request" && kind != "response" {
		return "", 0, fmt.Errorf("unknown section %q (want request, response, request 2, …)", name)
	}
	if !numbered {
		return kind, 1, nil
	}
	n, err = strconv.Atoi(num)
	if err != nil || n < 1 || n > 100 {
		return "", 0, fmt.Errorf("bad section number in %q", name)
	}
	return kind, n, nil
}

// Format writes the transcript back as a txtar file, numbering sections
// only when there is more than one exchange.
func (tr *Transcript) Format() []byte {
	ar := &txtar.Archive{Comment: []byte(tr.Comment)}
	for i, ex := range tr.Exchanges {
		suffix := ""
		if len(tr.Exchanges) > 1 {
			suffix = " " + strconv.Itoa(i+1)
		}
		ar.Files = append(ar.Files, txtar.File{Name: "request" + suffix, Data: []byte(Encode(ex.Request))})
		if ex.Response != nil {
			ar.Files = append(ar.Files, txtar.File{Name: "response" + suffix, Data: []byte(Encode(ex.Response))})
		}
	}
	return txtar.Format(ar)
}

// LoadDir reads every *.txtar in dir, sorted by name. An empty directory is
// an error: a golden test that finds nothing to compare must not pass.
func LoadDir(dir string) ([]*Transcript, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no transcripts (*.txtar) in %s", dir)
	}
	var all []*Transcript
	for _, p := range paths {
		tr, err := Load(p)
		if err != nil {
			return nil, err
		}
		all = append(all, tr)
	}
	return all, nil
}
