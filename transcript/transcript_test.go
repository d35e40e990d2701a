package transcript

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEveryByteSurvivesEncodeDecode(t *testing.T) {
	var all []byte
	for b := 0; b <= 0xff; b++ {
		all = append(all, byte(b))
		one := []byte{byte(b)}
		got, err := Decode(Encode(one))
		if err != nil || !cmp.Equal(one, got) {
			t.Errorf("byte %#02x: Decode(Encode) = %q, %v", b, got, err)
		}
	}
	got, err := Decode(Encode(all))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("all 256 bytes mismatch (-want +got):\n%s", diff)
	}
}

func TestEncodeSpellsOutLineEnds(t *testing.T) {
	got := Encode([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody\n"))
	want := "GET / HTTP/1.1\\r\\n\nHost: x\\r\\n\n\\r\\n\nbody\\n\n"
	if got != want {
		t.Errorf("Encode =\n%s\nwant\n%s", got, want)
	}
}

func TestDecodeIgnoresPhysicalLineEnds(t *testing.T) {
	// A CRLF checkout adds \r to every physical line; it must not reach the wire.
	got, err := Decode("A\\r\\n\r\nB\\n\r\n")
	if err != nil || string(got) != "A\r\nB\n" {
		t.Errorf("Decode = %q, %v; want %q", got, err, "A\r\nB\n")
	}
}

func TestDecodeRejectsBadEscapes(t *testing.T) {
	for _, text := range []string{`\q`, `\x4`, `\xzz`, `end\`} {
		if _, err := Decode(text); err == nil {
			t.Errorf("Decode(%q) succeeded, want an error", text)
		}
	}
}

func TestALostCRFailsTheComparison(t *testing.T) {
	tr := &Transcript{Path: "x.txtar", Exchanges: []Exchange{{
		Request:  []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		Response: []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
	}}}
	lostCR := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nhi")
	problems := Problems(tr, [][]byte{lostCR}, "127.0.0.1:8000", "go test -update")
	if len(problems) != 1 || !strings.Contains(problems[0], `Content-Length: 2\n`) {
		t.Fatalf("want one mismatch naming the line without \\r, got %q", problems)
	}
	if !strings.Contains(problems[0], "curl -v --http1.1 -H 'Host: x' -H 'User-Agent:' -H 'Accept:' 'http://127.0.0.1:8000/'") {
		t.Errorf("mismatch does not say how to reproduce it:\n%s", problems[0])
	}
	if p := Problems(tr, [][]byte{tr.Exchanges[0].Response}, "a:1", ""); len(p) != 0 {
		t.Errorf("identical response reported: %q", p)
	}
}

func TestMissingResponseSectionFailsWithTheCommand(t *testing.T) {
	tr, err := Parse("testdata/new.txtar", []byte("# new case\n-- request --\nGET / HTTP/1.1\\r\\n\n\\r\\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	problems := Problems(tr, [][]byte{[]byte("HTTP/1.1 200 OK\r\n\r\n")}, "a:1", "go test ./step02-socket -run 'TestTranscript/^new$' -update")
	if len(problems) != 1 || !strings.Contains(problems[0], "-update") {
		t.Errorf("want one problem naming the update command, got %q", problems)
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	src := "# two requests on one connection\n" +
		"-- request 1 --\nGET /a HTTP/1.1\\r\\n\n\\r\\n\n" +
		"-- response 1 --\nHTTP/1.1 200 OK\\r\\n\nContent-Length: 0\\r\\n\n\\r\\n\n" +
		"-- request 2 --\nGET /b HTTP/1.1\\r\\n\n\\r\\n\n" +
		"-- response 2 --\n"
	tr, err := Parse("two.txtar", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Exchanges) != 2 || string(tr.Exchanges[1].Request) != "GET /b HTTP/1.1\r\n\r\n" {
		t.Fatalf("parsed %+v", tr.Exchanges)
	}
	if tr.Exchanges[1].Response == nil || len(tr.Exchanges[1].Response) != 0 {
		t.Errorf("an empty response section must mean 'nothing sent', got %q", tr.Exchanges[1].Response)
	}
	if diff := cmp.Diff(src, string(tr.Format())); diff != "" {
		t.Errorf("Format(Parse(src)) mismatch (-want +got):\n%s", diff)
	}
	if _, err := Parse("bad.txtar", []byte("-- reply --\n")); err == nil {
		t.Error("unknown section name accepted")
	}
}

// fixedServer answers every request on a connection with the next canned
// response, then closes; enough to exercise Replay's framing.
func fixedServer(responses ...string) func(net.Listener) error {
	return func(ln net.Listener) error {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return nil
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for _, resp := range responses {
					for { // read one request head
						line, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if line == "\r\n" {
							break
						}
					}
					conn.Write([]byte(resp))
				}
			}()
		}
	}
}

func TestReplayFramesEachResponse(t *testing.T) {
	first := "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nDate: Sat, 21 Nov 2026 20:00:00 GMT\r\nContent-Length: 3\r\n\r\nabc"
	second := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
	addr := Start(t, fixedServer(first, second, "HTTP/1.0 200 OK\r\n\r\nuntil close"))
	tr := &Transcript{Exchanges: []Exchange{
		{Request: []byte("GET /1 HTTP/1.1\r\n\r\n")},
		{Request: []byte("GET /2 HTTP/1.1\r\n\r\n")},
		{Request: []byte("GET /3 HTTP/1.0\r\n\r\n")},
	}}
	got, err := Replay(addr, tr)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		strings.Replace(first, "Sat, 21 Nov 2026 20:00:00 GMT", "<DATE>", 1),
		second,
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
	}
	checkReplay(t, want, got)
}

// The printf form of Reproduce must really reproduce the bytes: sh's own
// printf runs it (TestReproduceKeepsTheVersionAndTheBytes has the forms).
func TestReproducedPrintfSendsTheBytes(t *testing.T) {
	cmd := Reproduce([]byte("GET /\xff%'\\\r\n\r\n"), "h:1")
	printf, ok := strings.CutSuffix(cmd, " | nc h 1")
	if !ok || !strings.HasPrefix(printf, "printf ") {
		t.Fatalf("Reproduce = %q, want printf … | nc h 1", cmd)
	}
	out, err := exec.Command("sh", "-c", printf).Output()
	if err != nil || string(out) != "GET /\xff%'\\\r\n\r\n" {
		t.Errorf("printf reproduced %q, %v", out, err)
	}
}

func TestFillREADME(t *testing.T) {
	readme := []byte("# Step\n<!-- transcript: hello -->\nstale\n<!-- end transcript -->\nafter\n")
	got, err := FillREADME(readme, "testdata")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Step\n<!-- transcript: hello -->\n```console\n" +
		"> GET / HTTP/1.1\n> Host: example.test\n>\n" +
		"< HTTP/1.1 200 OK\n< Content-Length: 6\n<\nhello\n" +
		"```\n<!-- end transcript -->\nafter\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("FillREADME mismatch (-want +got):\n%s", diff)
	}
	if _, err := FillREADME([]byte("no blocks"), "testdata"); err == nil {
		t.Error("a README without transcript blocks passed")
	}
	if _, err := FillREADME([]byte("<!-- transcript: nope -->\n<!-- end transcript -->"), "testdata"); err == nil {
		t.Error("a block naming a missing transcript passed")
	}
}

func TestReplayNormalisesPipelinedResponses(t *testing.T) {
	one := "HTTP/1.1 200 OK\r\nDate: Sat, 21 Nov 2026 20:00:00 GMT\r\nContent-Length: 1\r\n\r\na"
	addr := Start(t, fixedServer(one+one))
	tr := &Transcript{Exchanges: []Exchange{{Request: []byte("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")}}}
	got, err := Replay(addr, tr)
	if err != nil {
		t.Fatal(err)
	}
	normalised := strings.ReplaceAll(one, "Sat, 21 Nov 2026 20:00:00 GMT", "<DATE>")
	if diff := cmp.Diff(normalised+normalised, string(got[0])); diff != "" {
		t.Errorf("pipelined responses mismatch (-want +got):\n%s", diff)
	}
}

// checkReplay compares the responses Replay returned with those wanted.
func checkReplay(t *testing.T, want []string, got [][]byte) {
	t.Helper()
	var gotStrings []string
	for _, g := range got {
		gotStrings = append(gotStrings, string(g))
	}
	if diff := cmp.Diff(want, gotStrings); diff != "" {
		t.Errorf("Replay mismatch (-want +got):\n%s", diff)
	}
}
