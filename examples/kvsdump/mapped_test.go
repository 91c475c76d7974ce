package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// TestMappedSameAsRead checks that a file read in place, window by window,
// given by name or as standard input, prints what the same bytes read
// through a pipe print, whole, cut inside a frame, with -frames and -table:
// elements cut across the windows' edges included.
func TestMappedSameAsRead(t *testing.T) {
	if !canMap {
		t.Skip("this system reads files, it does not map them")
	}
	whole := kvsgen.Generator{Fragments: 12, VideoBitrate: 8_000_000, Audio: true, AudioPerBlock: 3, AudioLacing: 1,
		ProducerTags: true, GetMedia: true}.Bytes()
	if len(whole) < 2*mapWindow {
		t.Fatalf("the stream is %d bytes: it must span windows", len(whole))
	}
	for _, tt := range []struct {
		name  string
		input []byte
		args  []string
	}{
		{"whole", whole, nil},
		{"cut off", whole[:mapWindow+12345], nil},
		{"frames", whole, []string{"-frames"}},
		{"table", whole[:2*mapWindow+1], []string{"-table"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stream.mkv")
			if err := os.WriteFile(path, tt.input, 0o644); err != nil {
				t.Fatal(err)
			}
			var fileOut, fileErr, pipeOut, pipeErr bytes.Buffer
			fileCode := run(context.Background(), append(tt.args, path), nil, &fileOut, &fileErr)
			pipeCode := run(context.Background(), append(tt.args, "-"), bytes.NewReader(tt.input), &pipeOut, &pipeErr)
			if fileOut.Len() == 0 || fileOut.String() != pipeOut.String() || fileCode != pipeCode {
				t.Errorf("file: exit %d, %d bytes out; standard input: exit %d, %d bytes out", fileCode, fileOut.Len(), pipeCode, pipeOut.Len())
			}
			fileMsg := strings.ReplaceAll(fileErr.String(), path, "standard input")
			if fileMsg != pipeErr.String() {
				t.Errorf("file says %q, standard input %q", fileErr.String(), pipeErr.String())
			}
			// Standard input redirected from the file is mapped too.
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var redirOut, redirErr bytes.Buffer
			code := run(context.Background(), append(tt.args, "-"), f, &redirOut, &redirErr)
			if redirOut.String() != pipeOut.String() || redirErr.String() != pipeErr.String() || code != pipeCode {
				t.Errorf("redirected standard input: exit %d, %d bytes out, %q", code, redirOut.Len(), redirErr.String())
			}
		})
	}
}

// TestMappedFileShrinks checks that a file cut short while it is read in
// place ends the dump with an error after what was read, not a crash.
func TestMappedFileShrinks(t *testing.T) {
	if !canMap {
		t.Skip("this system reads files, it does not map them")
	}
	path := filepath.Join(t.TempDir(), "stream.mkv")
	if err := os.WriteFile(path, kvsgen.Generator{Fragments: 6, VideoBitrate: 4_000_000}.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !mappable(f) {
		t.Fatal("a regular file at its start is not mappable")
	}
	in := &input{name: path, r: f, ra: f}
	fragments := 0
	var last error
	for ev, err := range in.mappedEvents(f, []kvs.Option{kvs.WithoutFrameData()}) {
		if err != nil {
			last = err
			break
		}
		if ev.Kind == kvs.FragmentEvent {
			if fragments++; fragments == 1 {
				if err := os.Truncate(path, 1000); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if fragments != 1 || last == nil || !strings.Contains(last.Error(), "got shorter while it was read") {
		t.Errorf("%d fragments, then %v", fragments, last)
	}
}
