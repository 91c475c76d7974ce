package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// TestInputMessages checks what kvsdump says of inputs that are not a
// clean KVS stream, read from a file and from standard input: the message
// names the fault and where, and the exit status tells them apart.
func TestInputMessages(t *testing.T) {
	whole := kvsgen.Generator{Fragments: 2, GetMedia: true}.Bytes()
	long, block := whole[:50_000], blockAt(t, whole, 50_000)
	random := make([]byte, 50_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[0] = 0x71 // not 0x1A, whatever the generator gives
	tests := []struct {
		name  string
		input []byte
		code  int
		want  string // the message, after "kvsdump: NAME: "
	}{
		{"text", []byte("hello world, this is not a video\n"), exitInput, "offset 0: not an EBML stream (starts with 68 65 6c 6c)"},
		{"random", random, exitInput, fmt.Sprintf("offset 0: not an EBML stream (starts with % x)", random[:4])},
		{"one byte", []byte{0x68}, exitInput, "offset 0: not an EBML stream (starts with 68)"},
		{"cut off", long, exitInput, fmt.Sprintf("cut off inside SimpleBlock at offset %s (element of %s bytes, %s read); the input ended at 50,000 bytes",
			commas(block.Offset), commas(int64(block.HeaderSize)+block.Size), commas(50_000-block.Offset))},
		{"cut off in the header", sample[:3], exitInput, "cut off inside an element header at offset 0; the input ended at 3 bytes"},
	}
	for _, tt := range tests {
		for _, via := range []string{"file", "stdin"} {
			t.Run(tt.name+"/"+via, func(t *testing.T) {
				_, stderr, code := dumpInput(t, via, tt.input)
				if code != tt.code || !strings.Contains(stderr, ": "+tt.want+"\n") {
					t.Errorf("exit %d, stderr %q\nwant exit %d, message %q", code, stderr, tt.code, tt.want)
				}
			})
		}
	}
}

// TestEmptyInput checks that an empty file or standard input is an error
// of its own, not a clean end.
func TestEmptyInput(t *testing.T) {
	for _, via := range []string{"file", "stdin"} {
		stdout, stderr, code := dumpInput(t, via, nil)
		if code != exitEmpty || stdout != "" || !strings.Contains(stderr, "is empty (0 bytes)") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and a message", via, code, stdout, stderr, exitEmpty)
		}
	}
}

// dumpInput runs kvsdump on input as a file, or on standard input.
func dumpInput(t *testing.T, via string, input []byte) (stdout, stderr string, code int) {
	t.Helper()
	if via == "stdin" {
		var out, errOut bytes.Buffer
		code = run(context.Background(), []string{"-"}, bytes.NewReader(input), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	path := filepath.Join(t.TempDir(), "input.mkv")
	if err := os.WriteFile(path, input, 0o644); err != nil {
		t.Fatal(err)
	}
	return dump(t, path)
}

// blockAt returns the block of a stream that offset falls in.
func blockAt(t *testing.T, stream []byte, offset int64) mkv.Event {
	t.Helper()
	d := mkv.NewDecoder(bytes.NewReader(stream))
	for {
		ev, err := d.Next()
		if err != nil {
			t.Fatalf("no block at offset %d: %v", offset, err)
		}
		if ev.Kind == mkv.BlockKind && ev.Offset < offset && offset < ev.DataOffset()+ev.Size {
			return *ev
		}
	}
}

// TestArgs checks that a command line kvsdump cannot run says what is
// wrong and exits 2, and that -h exits 0.
func TestArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"flag after FILE", []string{"f.mkv", "-table"}, exitUsage, "kvsdump: flags must come before FILE: -table comes after f.mkv\n"},
		{"two files", []string{"a.mkv", "b.mkv"}, exitUsage, "kvsdump: one FILE at most, got 2: a.mkv b.mkv\n"},
		{"FILE with -stream", []string{"-stream", "cam", "f.mkv"}, exitUsage, "kvsdump: -stream and -emulate read from KVS, not from FILE f.mkv\n"},
		{"unknown flag", []string{"-nope"}, exitUsage, "flag provided but not defined: -nope\n"},
		{"bad -from", []string{"-stream", "cam", "-follow", "-from", "yesterday", "-endpoint", "http://127.0.0.1:1"}, exitUsage, `-from "yesterday": not now, earliest`},
		{"help", []string{"-h"}, exitOK, "Exit status: 0 clean end, 1 input cut off"},
	}
	t.Setenv("AWS_ACCESS_KEY_ID", kvstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", kvstest.SecretAccessKey)
	t.Setenv("AWS_REGION", kvstest.Region)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := dump(t, tt.args...)
			if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q\nwant exit %d, %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestNoCredentials checks that reading KVS without credentials says which
// environment variables or profile to set, and nothing of the SDK's
// provider chain.
func TestNoCredentials(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	stdout, stderr, code := dump(t, "-stream", "cam", "-endpoint", "http://127.0.0.1:1")
	want := "kvsdump: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), " +
		"or AWS_PROFILE to a profile of ~/.aws/config, which `aws configure` writes\n"
	if code != exitInput || stdout != "" || stderr != want {
		t.Errorf("exit %d, stderr %q\nwant exit %d, %q", code, stderr, exitInput, want)
	}
}

// TestPartial checks that the fragment a cut-off input ends inside is
// marked partial in the JSON and in the table, and no other.
func TestPartial(t *testing.T) {
	cut := sample[:sampleOffset(t, 3)+1000]
	stdout, stderr, code := dumpInput(t, "file", cut)
	frags, _ := parse(t, stdout)
	if code != exitInput || len(frags) != 4 || !strings.Contains(stderr, "cut off inside") {
		t.Fatalf("exit %d, %d fragments, stderr %q", code, len(frags), stderr)
	}
	for i, f := range frags {
		if f.Partial != (i == 3) {
			t.Errorf("fragment %d: partial %v", i, f.Partial)
		}
	}
	var out, errOut bytes.Buffer
	run(context.Background(), []string{"-table", "-"}, bytes.NewReader(cut), &out, &errOut)
	rows := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(rows) != 5 || !strings.HasSuffix(rows[4], "  partial") || strings.Contains(strings.Join(rows[:4], "\n"), "partial") {
		t.Errorf("-table:\n%s", out.String())
	}
}

// TestProgressLine checks the progress line: counts and lag while
// fragments come, a waiting line with the time since the last one when
// none came for a second, each written over the last, and ended with a
// newline when kvsdump is done.
func TestProgressLine(t *testing.T) {
	var w bytes.Buffer
	p := newProgress(&w)
	p.on = true
	p.done()
	if w.Len() != 0 {
		t.Errorf("done with no progress shown wrote %q", w.String())
	}
	if got, want := p.line(p.start.Add(3500*time.Millisecond)), "waiting for the first fragment: 3s"; got != want {
		t.Errorf("line before any fragment = %q, want %q", got, want)
	}
	p.fragment("", &kvs.Fragment{Size: 4_000_000, HasMillisBehindNow: true, MillisBehindNow: 7_361_500})
	if got := w.String(); !strings.HasPrefix(got, "\r1 fragments, 4.0 MB, ") || !strings.HasSuffix(got, " MB/s, 2h02m41.5s behind now\x1b[K") {
		t.Errorf("progress line %q, want the counts and the lag, then erase to the end of the line", got)
	}
	if got, want := p.line(p.last.Add(12*time.Second)), "waiting: 12s since the last fragment (1 so far, 4.0 MB)"; got != want {
		t.Errorf("idle line = %q, want %q", got, want)
	}
	w.Reset()
	p.tick(p.last.Add(61 * time.Second))
	if got, want := w.String(), "\rwaiting: 1m1s since the last fragment (1 so far, 4.0 MB)\x1b[K"; got != want {
		t.Errorf("tick wrote %q, want %q", got, want)
	}
	w.Reset()
	p.clear()
	p.clear()
	if got, want := w.String(), "\r\x1b[K"; got != want {
		t.Errorf("clear twice wrote %q, want %q once", got, want)
	}
	p.tick(p.last)
	w.Reset()
	p.done()
	if got := w.String(); got != "\n" {
		t.Errorf("done wrote %q, want a newline", got)
	}
}

// TestBehindCell checks that the lag behind now has one width, so that the
// table's columns stay in line.
func TestBehindCell(t *testing.T) {
	for ms, want := range map[int64]string{
		0: "  0h00m00.0s", 1037: "  0h00m01.0s", 1111: "  0h00m01.1s", 59_960: "  0h01m00.0s",
		7_337_494: "  2h02m17.5s", 93_600_000: " 26h00m00.0s", 999*3_600_000 + 1: "999h00m00.0s", -5: "  0h00m00.0s",
	} {
		if got := behindCell(ms); got != want || len(got) != 12 {
			t.Errorf("behindCell(%d) = %q, want %q", ms, got, want)
		}
	}
}

// TestTableUnderProgress runs -table with the progress line on and both
// outputs on one terminal: no row is written after the progress line on
// the same screen line.
func TestTableUnderProgress(t *testing.T) {
	c, err := parseArgs([]string{"-table"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.open(context.Background(), nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	var term bytes.Buffer // standard output and standard error
	d := newDumper(c, src, &term, &term)
	d.prog.on, d.clearRows, d.out.stream = true, true, true
	d.prog.draw(time.Now()) // a line is up when the first row comes
	if code := d.run(context.Background()); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	rows := 0
	for _, line := range strings.Split(term.String(), "\n") {
		// What the terminal shows: the text after the last carriage
		// return, without the erase sequences.
		shown := line[strings.LastIndexByte(line, '\r')+1:]
		shown = strings.ReplaceAll(shown, "\x1b[K", "")
		switch {
		case strings.Contains(line, "INDEX"):
			if !strings.HasPrefix(shown, "INDEX ") {
				t.Errorf("the header shows as %q (written %q)", shown, line)
			}
		case line != "":
			if rows++; !strings.HasPrefix(shown, fmt.Sprint(rows-1)+" ") {
				t.Errorf("row %d shows as %q (written %q)", rows-1, shown, line)
			}
		}
	}
	if rows != 4 {
		t.Errorf("%d rows, want 4:\n%q", rows, term.String())
	}
}

// TestCommas checks the thousands separators of messages.
func TestCommas(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 50_000: "50,000", 1_234_567: "1,234,567", -4211: "-4,211"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestEmptyRange checks that a time range that holds no fragment is said
// on standard error, with where the stream's fragments are, and exits 3.
func TestEmptyRange(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("old", kvstest.StreamConfig{Fragments: 3, FragmentDuration: time.Second, Start: time.Date(2017, 11, 28, 6, 55, 8, 0, time.UTC)})
	if err := srv.CreateStream("new", time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", kvstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", kvstest.SecretAccessKey)
	t.Setenv("AWS_REGION", kvstest.Region)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"producer times", []string{"-stream", "old", "-start", "2024-01-01T00:00:00Z", "-end", "2024-01-01T01:00:00Z"},
			"kvsdump: no fragment of old in 2024-01-01T00:00:00Z to 2024-01-01T01:00:00Z (producer timestamps); " +
				"its 3 fragments are from 2017-11-28T06:55:08.000Z to 2017-11-28T06:55:10.000Z: give -start and -end\n"},
		{"server times", []string{"-stream", "old", "-server-time", "-start", "2024-01-01T00:00:00Z", "-end", "2024-01-01T01:00:00Z"},
			"kvsdump: no fragment of old in 2024-01-01T00:00:00Z to 2024-01-01T01:00:00Z (server timestamps); " +
				"its 3 fragments are from 2017-11-28T06:55:08.613Z to 2017-11-28T06:55:10.613Z: give -start and -end\n"},
		{"no fragment at all", []string{"-stream", "new", "-start", "2024-01-01T00:00:00Z", "-end", "2024-01-01T01:00:00Z"},
			"kvsdump: no fragment of new in 2024-01-01T00:00:00Z to 2024-01-01T01:00:00Z (producer timestamps); the stream holds no fragment at all\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := dump(t, append([]string{"-endpoint", srv.URL()}, tt.args...)...)
			if code != exitEmpty || stdout != "" || stderr != tt.want {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stderr %q", code, stdout, stderr, exitEmpty, tt.want)
			}
		})
	}
}

// TestEmptyRangeSeveral checks the same with several streams: each stream
// whose range holds no fragment is named on standard error, and the exit
// status is 3 when none had any, 0 when another had some.
func TestEmptyRangeSeveral(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("old", kvstest.StreamConfig{Fragments: 3, FragmentDuration: time.Second, Start: time.Date(2017, 11, 28, 6, 55, 8, 0, time.UTC)})
	srv.AddStream("now", kvstest.StreamConfig{Fragments: 2, FragmentDuration: time.Second, Start: time.Now().Add(-time.Minute)})
	if err := srv.CreateStream("new", time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", kvstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", kvstest.SecretAccessKey)
	t.Setenv("AWS_REGION", kvstest.Region)
	oldMsg := "kvsdump: no fragment of old in "
	newMsg := "; the stream holds no fragment at all\n"
	tests := []struct {
		name, streams string
		code, lines   int
		stderr        []string
	}{
		{"all empty", "old,new", exitEmpty, 0, []string{oldMsg, "its 3 fragments are from 2017-11-28T06:55:08.000Z", "kvsdump: no fragment of new in ", newMsg}},
		{"one empty", "old,now", exitOK, 2, []string{oldMsg}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := dump(t, "-endpoint", srv.URL(), "-stream", tt.streams)
			if lines := strings.Count(stdout, "\n"); code != tt.code || lines != tt.lines {
				t.Errorf("exit %d, %d lines; want exit %d, %d lines; stderr %q", code, lines, tt.code, tt.lines, stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}
		})
	}
}
