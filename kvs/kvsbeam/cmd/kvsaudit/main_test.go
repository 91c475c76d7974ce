package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsbeam"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestFirstError checks that the first error this module's packages wrote
// is picked out of a runner's error, escaped newlines and all.
func TestFirstError(t *testing.T) {
	tests := []struct {
		name, err, want string
	}{
		{"prism", `job failed: "process bundle failed for instruction inst001 using plan stage-001 : while executing Process for Plan[stage-001]:\n1: DataSource[S[stage-001_source@localhost:38537], i0] Out:6\n\tcaused by:\nDoFn[UID:4, PID:e3, Name: github.com/kvsmkv/kvsmkv/kvs/kvsbeam.listFn] failed:\nkvsbeam: listing nope: kvsaws: GetDataEndpoint: ResourceNotFoundException (HTTP 404): The requested stream is not found or not active. (request id kvstest-1)"`,
			"kvsbeam: listing nope: kvsaws: GetDataEndpoint: ResourceNotFoundException (HTTP 404): The requested stream is not found or not active. (request id kvstest-1)"},
		{"real newlines", "plan\n\tcaused by:\nkvsaws: GetMediaForFragmentList: InternalFailure (HTTP 500)\nmore\n", "kvsaws: GetMediaForFragmentList: InternalFailure (HTTP 500)"},
		{"none of ours", "plan\nworker lost\n\n", "worker lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstError(errors.New(tt.err)); got != tt.want {
				t.Errorf("firstError() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCheck checks what kvsaudit says before it runs a pipeline: a stream
// it cannot read ends it with that error on one line, a range with no
// fragment of any stream says where their fragments are, and a stream
// with none among others with some is noted.
func TestCheck(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	old := time.Date(2017, 11, 28, 6, 55, 8, 0, time.UTC)
	srv.AddStream("old", kvstest.StreamConfig{Fragments: 3, FragmentDuration: time.Second, Start: old})
	srv.AddStream("now", kvstest.StreamConfig{Fragments: 3, FragmentDuration: time.Second, Start: time.Now().Add(-time.Minute)})
	c := kvsaws.NewFromConfig(srv.Config())
	day := func(names ...string) []kvsbeam.Request {
		var reqs []kvsbeam.Request
		for _, n := range names {
			reqs = append(reqs, kvsbeam.Request{Stream: n, Start: time.Now().Add(-24 * time.Hour), End: time.Now()})
		}
		return reqs
	}
	tests := []struct {
		name    string
		reqs    []kvsbeam.Request
		err     string
		wantErr error
		stderr  string
	}{
		{"missing stream", day("now", "nope"), "stream nope: kvsaws: GetDataEndpoint: ResourceNotFoundException (HTTP 404)", nil, ""},
		{"empty range", day("old"), "", errEmpty, "kvsaudit: no fragment of old in "},
		{"one empty among others", day("old", "now"), "", nil, "its 3 fragments are from 2017-11-28T06:55:08.000Z to 2017-11-28T06:55:10.000Z: give -start and -end\n"},
		{"all there", day("now"), "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := check(context.Background(), c, tt.reqs, &stderr)
			switch {
			case tt.err != "":
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) || strings.Contains(err.Error(), "\n") {
					t.Errorf("check() = %v, want one line starting %q", err, tt.err)
				}
			case !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil):
				t.Errorf("check() = %v, want %v", err, tt.wantErr)
			}
			if got := stderr.String(); !strings.Contains(got, tt.stderr) || (tt.stderr == "") != (got == "") {
				t.Errorf("stderr %q, want %q", got, tt.stderr)
			}
		})
	}
}

// TestUsage checks that -h lists kvsaudit's flags and none of Beam's,
// and points to -help-beam, which lists Beam's.
func TestUsage(t *testing.T) {
	var h, beamHelp bytes.Buffer
	usage(&h, flag.CommandLine)
	beamUsage(&beamHelp, flag.CommandLine)
	for _, want := range []string{"usage: kvsaudit -streams", "  -streams string", "  -kvs-endpoint string", "are listed by kvsaudit -help-beam"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("-h lacks %q:\n%s", want, h.String())
		}
	}
	if strings.Contains(h.String(), "  -runner") || !strings.Contains(beamHelp.String(), "  -runner") || strings.Contains(beamHelp.String(), "  -streams") {
		t.Errorf("-h lists Beam's flags, or -help-beam kvsaudit's:\n%s\n%s", h.String(), beamHelp.String())
	}
	if lines := strings.Count(h.String(), "\n"); lines > 40 {
		t.Errorf("-h is %d lines", lines)
	}
}
