package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// TestHTML checks that -html writes a report with a bar per fragment that
// has a producer timestamp, and lists the in-band error without one.
func TestHTML(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mkv")
	g := kvsgen.Generator{Fragments: 30, FPS: 5, VideoBitrate: 20000, Errors: map[int]kvsgen.ErrorUnit{4: {Code: "FRAGMENT_NOT_FOUND", ID: 4000}}}
	if err := os.WriteFile(in, g.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.html")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-html", report, in}, strings.NewReader(""), &out, &errOut); code != exitOK {
		t.Fatalf("exit status %d: %s", code, errOut.String())
	}
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if bars := strings.Count(string(page), `<rect class="frag"`); bars != 29 {
		t.Errorf("%d fragment bars, want 29", bars)
	}
	if !strings.Contains(string(page), "FRAGMENT_NOT_FOUND") || !strings.Contains(string(page), `data-stream="`+in+`"`) {
		t.Errorf("the report lacks the in-band error or the file's name")
	}
	if lines := strings.Count(out.String(), "\n"); lines != 30 {
		t.Errorf("%d JSON lines on standard output, want 30: -html adds to the dump", lines)
	}
}
