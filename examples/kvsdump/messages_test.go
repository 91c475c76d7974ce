package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// TestProgressLine checks that the progress line, once shown, is ended
// with a newline when kvsdump is done.
func TestProgressLine(t *testing.T) {
	var w bytes.Buffer
	p := &progress{w: &w, on: true}
	p.done()
	if w.Len() != 0 {
		t.Errorf("done with no progress shown wrote %q", w.String())
	}
	p.fragment(&kvs.Fragment{Size: 4000})
	p.done()
	if got := w.String(); !strings.HasPrefix(got, "\r1 fragments, ") || !strings.HasSuffix(got, " behind now \n") {
		t.Errorf("progress output %q, want one line ended by a newline", got)
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
