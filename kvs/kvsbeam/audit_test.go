package kvsbeam

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// readLines reads a JSON Lines file into values of T.
func readLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

// brief is what a stream loaded from a file and the file itself agree on.
type brief struct {
	Producer string
	Tracks   []kvsreport.Track
}

// TestAudit loads streams from MKV files into the emulator, as kvsemu does,
// runs the audit, and checks that it writes one record per fragment that
// kvsdump's reader (kvs.Reader) reads from the same files, a summary per
// stream and an HTML report with a bar per fragment.
func TestAudit(t *testing.T) {
	dir := t.TempDir()
	files := map[string]kvsgen.Generator{
		"door":   {Fragments: 40, FPS: 5, VideoBitrate: 20000, Audio: true, ProducerTags: true},
		"garage": {Fragments: 25, FPS: 5, VideoBitrate: 20000, Start: time.Date(2017, 11, 28, 8, 0, 0, 0, time.UTC)},
	}
	srv := kvstest.NewServer()
	defer srv.Close()
	want := map[string][]brief{}
	var reqs []Request
	for name, g := range files {
		path := filepath.Join(dir, name+".mkv")
		if err := os.WriteFile(path, g.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := srv.AddStreamFromFile(name, path); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for fr, err := range kvs.NewReader(f, kvs.WithoutFrameData()).All() {
			if err != nil {
				t.Fatal(err)
			}
			r := kvsreport.FromFragment(name, fr)
			want[name] = append(want[name], brief{r.ProducerTimestamp, r.Tracks})
		}
		f.Close()
		reqs = append(reqs, Request{Stream: name, Start: start, End: start.Add(24 * time.Hour)})
	}

	out := filepath.Join(dir, "out", "audit")
	report := filepath.Join(dir, "report.html")
	p, s := beam.NewPipelineWithRoot()
	Audit(s, AuditOptions{Options: Options{Endpoint: srv.URL()}, Gap: time.Second, Out: out, HTML: report, Title: "audit"}, beam.CreateList(s, reqs))
	ptest.RunAndValidate(t, p)

	records := readLines[kvsreport.Record](t, out+"-fragments.jsonl")
	sort.Slice(records, func(i, j int) bool {
		if records[i].Stream != records[j].Stream {
			return records[i].Stream < records[j].Stream
		}
		return records[i].Index < records[j].Index
	})
	got := map[string][]brief{}
	for _, r := range records {
		got[r.Stream] = append(got[r.Stream], brief{r.ProducerTimestamp, r.Tracks})
		if r.Error != nil || r.FragmentNumber == "" || r.ServerTimestamp == "" || r.DurationMillis == 0 {
			t.Errorf("record %+v lacks a fragment number, server timestamp or duration, or has an error", r)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit records mismatch the files' fragments (-want +got):\n%s", diff)
	}

	summaries := readLines[kvsreport.Summary](t, out+"-summary.jsonl")
	if len(summaries) != len(files) {
		t.Fatalf("%d summaries, want %d", len(summaries), len(files))
	}
	for _, sum := range summaries {
		if n := len(want[sum.Stream]); sum.Fragments != n || len(sum.Spans) != 1 || sum.Spans[0].Fragments != n {
			t.Errorf("summary of %s: %d fragments in %d spans, want %d in one", sum.Stream, sum.Fragments, len(sum.Spans), n)
		}
	}

	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if bars, n := strings.Count(string(page), `<rect class="frag"`), len(want["door"])+len(want["garage"]); bars != n {
		t.Errorf("the report has %d fragment bars, want %d", bars, n)
	}
}

// TestAuditDamage checks that the audit counts damaged fragments per
// stream, with the bytes skipped, in the summary lines and the HTML
// report, and keeps each one's damage in its fragment line, however the
// records are spread over workers.
func TestAuditDamage(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	crc := kvsreport.Damage{Offset: 549084, Element: "Cluster", Cause: "CRC-32 mismatch", Stored: "0x11cb5410", Computed: "0x64759fcd"}
	size := kvsreport.Damage{Offset: 2000, Element: "Cluster", Cause: "invalid element size", Skipped: 1234}
	var records []kvsreport.Record
	for i := range 30 {
		for _, stream := range []string{"door", "garage"} {
			r := kvsreport.Record{Stream: stream, Index: i, FragmentNumber: fmt.Sprint(1000 + i),
				ProducerTimestamp: t0.Add(time.Duration(i) * 2 * time.Second).Format(kvsreport.TimeLayout), DurationMillis: 2000}
			switch {
			case stream == "door" && i%10 == 3:
				r.Damaged = []kvsreport.Damage{crc}
			case stream == "door" && i == 20:
				r.Partial, r.Damaged = true, []kvsreport.Damage{size, crc}
			}
			records = append(records, r)
		}
	}
	dir := t.TempDir()
	out, report := filepath.Join(dir, "audit"), filepath.Join(dir, "report.html")
	p, s := beam.NewPipelineWithRoot()
	writeAudit(s, AuditOptions{Gap: time.Second, Out: out, HTML: report, Title: "audit"}, beam.CreateList(s, records))
	ptest.RunAndValidate(t, p)

	want := map[string][2]int64{"door": {4, 1234}, "garage": {0, 0}}
	got := map[string][2]int64{}
	for _, sum := range readLines[kvsreport.Summary](t, out+"-summary.jsonl") {
		got[sum.Stream] = [2]int64{int64(sum.Damaged), sum.SkippedBytes}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("damaged fragments and bytes skipped per stream mismatch (-want +got):\n%s", diff)
	}
	damaged := 0
	for _, r := range readLines[kvsreport.Record](t, out+"-fragments.jsonl") {
		if len(r.Damaged) > 0 {
			damaged++
			if r.Damaged[len(r.Damaged)-1] != crc {
				t.Errorf("record %s %d: damage %+v, want %+v last", r.Stream, r.Index, r.Damaged, crc)
			}
		}
	}
	if damaged != 4 {
		t.Errorf("%d fragment lines with damage, want 4", damaged)
	}
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `<rect class="frag damaged"`); n != 4 || !strings.Contains(string(page), `title="1234 bytes skipped">4</td>`) {
		t.Errorf("the report has %d damaged bars, want 4, and a summary row counting 4 with 1234 bytes skipped", n)
	}
}
