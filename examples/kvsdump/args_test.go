package main

import (
	"strings"
	"testing"
	"time"
)

// TestFlagsRefused checks that a flag that does not apply to the source
// read, or to the other flags given, is a usage error with a one-line
// reason, before anything is read.
func TestFlagsRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"-follow without -stream", []string{"-follow"}, "-follow goes with -stream, not with the built-in sample (no FILE given)"},
		{"-follow with FILE", []string{"-follow", "f.mkv"}, "-follow goes with -stream, not with FILE f.mkv"},
		{"-follow with -emulate", []string{"-emulate", "-follow"}, "-follow goes with -stream, not with -emulate"},
		{"-from with FILE", []string{"-from", "earliest", "-"}, "-from goes with -stream -follow, not with standard input (FILE -)"},
		{"-from with a range", []string{"-stream", "cam", "-from", "earliest"}, "-from goes with -stream -follow, not with -stream without -follow (a time range)"},
		{"-checkpoint with a range", []string{"-stream", "cam", "-checkpoint", "cp"}, "-checkpoint goes with -stream -follow, not with -stream without -follow"},
		{"-checkpoint with FILE", []string{"-checkpoint", "cp", "f.mkv"}, "-checkpoint goes with -stream -follow, not with FILE f.mkv"},
		{"-start with FILE", []string{"-start", "2024-01-01T00:00:00Z", "f.mkv"}, "-start goes with a time range (-stream without -follow, or -emulate), not with FILE f.mkv"},
		{"-end with -follow", []string{"-stream", "cam", "-follow", "-end", "2024-01-01T00:00:00Z"}, "-end goes with a time range (-stream without -follow, or -emulate), not with -stream -follow"},
		{"-server-time with FILE", []string{"-server-time", "f.mkv"}, "-server-time goes with a time range"},
		{"-endpoint with FILE", []string{"-endpoint", "http://127.0.0.1:1", "f.mkv"}, "-endpoint goes with -stream, not with FILE f.mkv"},
		{"-endpoint with -emulate", []string{"-emulate", "-endpoint", "http://127.0.0.1:1"}, "-endpoint goes with -stream, not with -emulate"},
		{"-region with FILE", []string{"-region", "us-east-1", "f.mkv"}, "-region goes with -stream, not with FILE f.mkv"},
		{"-stream with -emulate", []string{"-stream", "cam", "-emulate"}, "-stream and -emulate are two sources: give one"},
		{"-frames with -table", []string{"-frames", "-table"}, "-frames prints a JSON line per frame; -table prints a row per fragment only: give one"},
		{"-frames with -annexb -", []string{"-frames", "-annexb", "-"}, "-frames prints to standard output, which -annexb - or -mkv - takes"},
		{"-table with -mkv -", []string{"-table", "-mkv", "-"}, "-table prints to standard output, which -annexb - or -mkv - takes"},
		{"-annexb - with -mkv -", []string{"-annexb", "-", "-mkv", "-"}, "-annexb - and -mkv - both want standard output"},
		{"-merge without -out", []string{"-merge"}, "-merge goes with -out"},
		{"-strict with a range", []string{"-stream", "cam", "-strict"}, "-strict goes with FILE or standard input (KVS reads retry a malformed unit instead of skipping it), not with -stream without -follow"},
		{"-strict with -follow", []string{"-stream", "cam", "-follow", "-strict"}, "-strict goes with FILE or standard input"},
		{"-strict with -emulate", []string{"-emulate", "-strict"}, "-strict goes with FILE or standard input"},
		{"-audio - with -mkv -", []string{"-audio", "-", "-mkv", "-"}, "-audio - and -annexb - or -mkv - both want standard output"},
		{"-audio - with -frames", []string{"-audio", "-", "-frames"}, "-frames and -table print to standard output, which -audio - takes"},
		{"-start after -end", []string{"-stream", "cam", "-start", "2024-01-01T01:00:00Z", "-end", "2024-01-01T00:00:00Z"}, "-start 2024-01-01T01:00:00Z is not before -end 2024-01-01T00:00:00Z"},
		{"-start after now with -emulate", []string{"-emulate", "-start", "2999-01-01T00:00:00Z"}, "-start 2999-01-01T00:00:00Z is not before -end "},
		{"-start not a time", []string{"-stream", "cam", "-start", "yesterday"}, `-start "yesterday": not an RFC 3339 time`},
		{"-while-tag without =", []string{"-while-tag", "ContactId"}, `-while-tag "ContactId": want NAME=VALUE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := dump(t, tt.args...)
			first, _, _ := strings.Cut(stderr, "\n")
			if code != exitUsage || stdout != "" || !strings.HasPrefix(first, "kvsdump: "+tt.want) {
				t.Errorf("exit %d, stderr %q\nwant exit %d, a first line starting %q", code, stderr, exitUsage, "kvsdump: "+tt.want)
			}
		})
	}
}

// TestFlagsAccepted checks that the flags of each source are taken with it.
func TestFlagsAccepted(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"-n with the sample", []string{"-n", "1"}},
		{"-frames with the sample", []string{"-frames"}},
		{"-table with the sample", []string{"-table"}},
		{"-strict with the sample", []string{"-strict"}},
		{"-emulate with a range", []string{"-emulate", "-start", time.Now().Add(-2 * time.Hour).Format(time.RFC3339), "-server-time", "-n", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := dump(t, tt.args...)
			if code != exitOK || stdout == "" {
				t.Errorf("exit %d, stderr %q, %d bytes of output; want exit 0 and output", code, stderr, len(stdout))
			}
		})
	}
}
