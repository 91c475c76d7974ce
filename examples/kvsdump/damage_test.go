package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

var (
	idSegment = []byte{0x18, 0x53, 0x80, 0x67}
	idCluster = []byte{0x1F, 0x43, 0xB6, 0x75}
)

// damagedStream is a GetMedia response of 8 units with known-size
// Clusters that start with a CRC-32, as KVS writes them, and the offset of
// each unit.
func damagedStream() (data []byte, units []int) {
	g := kvsgen.Generator{Fragments: 8, FragmentDuration: 200 * time.Millisecond, FPS: 30, VideoBitrate: 9600,
		GetMedia: true, ProducerTags: true, KnownSizeCluster: true, CRC: true, Audio: true, AudioFrameSize: 20}
	for i := range g.Fragments {
		units = append(units, len(data))
		data = append(data, g.Unit(i)...)
	}
	return data, units
}

// within returns the offset of the first id in data[from:].
func within(t *testing.T, data []byte, from int, id []byte) int {
	t.Helper()
	i := bytes.Index(data[from:], id)
	if i < 0 {
		t.Fatalf("no % x after offset %d", id, from)
	}
	return from + i
}

// damageLine is a damaged fragment's line: its Record and its text.
type damageLine struct {
	rec  kvsreport.Record
	line string
}

// TestDamagedUnits damages units in the middle of a stream (a bad Cluster
// size, a broken Segment ID, junk between units, a payload overwritten
// under a Cluster's CRC-32, and all of them at once) and checks that
// kvsdump, reading a file (mapped, through a PushReader) and standard
// input (through a Reader), prints every fragment the damage did not touch
// exactly as from the clean stream, marks each damaged one with the offset
// and cause, and exits 1 with one line on standard error that counts them;
// and that -strict stops at the first malformed unit as kvsdump did before
// it resynchronised.
func TestDamagedUnits(t *testing.T) {
	data, units := damagedStream()
	for _, via := range []string{"file", "stdin"} {
		_, stderr, code := dumpInput(t, via, data)
		if code != exitOK || stderr != "" {
			t.Fatalf("clean stream via %s: exit %d, stderr %q", via, code, stderr)
		}
	}
	cleanOut, _, _ := dumpInput(t, "file", data)
	clean := strings.SplitAfter(cleanOut, "\n")
	clean = clean[:len(clean)-1]
	if len(clean) != len(units) {
		t.Fatalf("clean stream: %d lines, want %d", len(clean), len(units))
	}

	cluster1 := within(t, data, units[1], idCluster)
	segment3 := within(t, data, units[3], idSegment)
	cluster7 := within(t, data, units[7], idCluster)
	frame7 := lastBytesOfBlock(t, data, cluster7)
	junk := []byte("not a header \x1a\x45\xdf\xa3\x84\xec\x01\xff\xff\xff\xff\xff\xff\xff")
	badSize := func(d []byte) { d[cluster1+4] = 0 }
	badSegment := func(d []byte) { d[segment3+3]++ }
	payload := func(d []byte) { copy(d[frame7:], "overwrt") }
	insertJunk := func(d []byte) []byte { return bytes.Join([][]byte{d[:units[6]], junk, d[units[6]:]}, nil) }
	const after = 6 // the Index of the junk, and the first unit's after it in the clean stream

	tests := []struct {
		name   string
		damage func([]byte) []byte
		want   []damageWant
		// With -strict: the lines printed, and the message (none when
		// the damage is a CRC-32 mismatch, which -strict reads past).
		strictLines int
		strict      string
	}{
		{"bad Cluster size", func(d []byte) []byte { badSize(d); return d },
			[]damageWant{{1, cluster1, "invalid element size", "Cluster", false}},
			2, fmt.Sprintf("malformed Cluster at offset %s: invalid element size", commas(int64(cluster1)))},
		{"broken Segment ID", func(d []byte) []byte { badSegment(d); return d },
			[]damageWant{{3, segment3, "unexpected element", "", false}},
			4, fmt.Sprintf("malformed 0x%X at offset %s: ", idSegmentPlus1, commas(int64(segment3)))},
		{"junk between units", insertJunk,
			[]damageWant{{after, units[after], "unexpected element", "", true}},
			6, fmt.Sprintf("cut off inside 0x6E6F at offset %s", commas(int64(units[after])))},
		{"payload under a CRC-32", func(d []byte) []byte { payload(d); return d },
			[]damageWant{{7, cluster7, "CRC-32 mismatch", "Cluster", true}}, 8, ""},
		{"all of them", func(d []byte) []byte { badSize(d); badSegment(d); payload(d); return insertJunk(d) },
			[]damageWant{
				{1, cluster1, "invalid element size", "Cluster", false}, {3, segment3, "unexpected element", "", false},
				{after, units[after], "unexpected element", "", true}, {8, cluster7 + len(junk), "CRC-32 mismatch", "Cluster", true},
			},
			2, fmt.Sprintf("malformed Cluster at offset %s: invalid element size", commas(int64(cluster1)))},
	}
	for _, tt := range tests {
		damaged := tt.damage(bytes.Clone(data))
		shift := len(damaged) - len(data) // the junk's length
		for _, via := range []string{"file", "stdin"} {
			t.Run(tt.name+"/"+via, func(t *testing.T) {
				stdout, stderr, code := dumpInput(t, via, damaged)
				var good []string
				var bad []damageLine
				for i, line := range strings.SplitAfter(stdout, "\n") {
					if line == "" {
						continue
					}
					var r kvsreport.Record
					if err := json.Unmarshal([]byte(line), &r); err != nil {
						t.Fatalf("line %q: %v", line, err)
					}
					if r.Index != i {
						t.Errorf("line %d has Index %d: %s", i, r.Index, line)
					}
					if len(r.Damaged) > 0 {
						bad = append(bad, damageLine{r, line})
						if r.Damaged[0].Cause != "CRC-32 mismatch" {
							continue
						}
						// Otherwise intact: the line is the clean one
						// with the damage.
						r.Damaged = nil
						line = string(r.AppendJSON(nil)) + "\n"
					}
					if r.Index > after && shift > 0 { // after the junk
						r.Index--
						r.Offset -= int64(shift)
						line = string(r.AppendJSON(nil)) + "\n"
					}
					good = append(good, line)
				}
				// Every fragment the damage did not touch is there, as
				// from the clean stream.
				var wantGood []string
				for i, line := range clean {
					if !destroys(tt.want, i) {
						wantGood = append(wantGood, line)
					}
				}
				if strings.Join(wantGood, "") != strings.Join(good, "") {
					t.Errorf("undamaged fragments differ from the clean stream's:\ngot\n%s\nwant\n%s", strings.Join(good, ""), strings.Join(wantGood, ""))
				}
				// Each damaged one is marked with its offset and cause.
				if len(bad) != len(tt.want) {
					t.Fatalf("%d damaged fragments, want %d:\n%s", len(bad), len(tt.want), stdout)
				}
				var skipped int64
				for i, w := range tt.want {
					r := bad[i].rec
					d := r.Damaged[0]
					if r.Index != w.index || len(r.Damaged) != 1 || d.Offset != int64(w.offset) || d.Cause != w.cause || w.elem != "" && d.Element != w.elem {
						t.Errorf("damaged fragment %d: %s want Index %d, damage %s in %q at offset %d", i, bad[i].line, w.index, w.cause, w.elem, w.offset)
					}
					if (w.cause == "CRC-32 mismatch") != (d.Stored != "" && d.Computed != "" && d.Stored != d.Computed && d.Skipped == 0) {
						t.Errorf("damaged fragment %d: %s: stored, computed and skipped do not fit a %s", i, bad[i].line, w.cause)
					}
					skipped += d.Skipped
				}
				// Exit 1, and one line on standard error.
				first := bad[0].rec.Damaged[0]
				where := first.Cause
				if first.Element != "" {
					where += " in " + first.Element
				}
				noun := "fragments"
				if len(bad) == 1 {
					noun = "fragment"
				}
				wantErr := fmt.Sprintf(": %d %s damaged, %s bytes skipped (first: %s at offset %s)\n",
					len(bad), noun, commas(skipped), where, commas(first.Offset))
				if via == "stdin" {
					wantErr = "kvsdump: standard input" + wantErr
				}
				if code != exitInput || !strings.HasPrefix(stderr, "kvsdump: ") || !strings.HasSuffix(stderr, wantErr) || strings.Count(stderr, "\n") != 1 {
					t.Errorf("exit %d, stderr %q; want exit 1, stderr ending %q", code, stderr, wantErr)
				}
			})
		}
		t.Run(tt.name+"/strict", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "input.mkv")
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := dump(t, "-strict", path)
			lines := strings.SplitAfter(stdout, "\n")
			lines = lines[:len(lines)-1]
			if len(lines) != tt.strictLines {
				t.Fatalf("-strict: %d lines, want %d:\n%s", len(lines), tt.strictLines, stdout)
			}
			if tt.strict == "" {
				if code != exitInput || !strings.Contains(stderr, ": 1 fragment damaged, 0 bytes skipped (first: CRC-32 mismatch in Cluster") ||
					strings.Count(stderr, "\n") != 1 {
					t.Errorf("-strict on a CRC-32 mismatch: exit %d, stderr %q; want every fragment and the damage counted", code, stderr)
				}
				return
			}
			// The fragments before the first fault, then the one it is
			// in, cut off (partial), as before resynchronisation.
			whole := min(tt.want[0].index, tt.strictLines)
			if strings.Join(lines[:whole], "") != strings.Join(clean[:whole], "") || strings.Contains(stdout, `"damaged"`) {
				t.Errorf("-strict: stdout\n%s\nwant the %d fragments before the fault as from the clean stream, and no damage", stdout, whole)
			}
			if code != exitInput || !strings.Contains(stderr, ": "+tt.strict) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("-strict: exit %d, stderr %q; want 1 and %q", code, stderr, tt.strict)
			}
		})
	}
}

// idSegmentPlus1 is the Segment ID with its last byte one more.
const idSegmentPlus1 = 0x18538068

// lastBytesOfBlock returns the offset of the last 7 bytes of the first
// block in the Cluster at offset cluster whose frame holds more than 7
// bytes: inside the frame, under the Cluster's CRC-32.
func lastBytesOfBlock(t *testing.T, data []byte, cluster int) int {
	t.Helper()
	d := mkv.NewDecoder(bytes.NewReader(data))
	for {
		ev, err := d.Next()
		if err != nil {
			t.Fatalf("no block of more than 12 bytes after offset %d: %v", cluster, err)
		}
		if ev.Kind == mkv.BlockKind && ev.Offset > int64(cluster) && ev.Size > 12 {
			return int(ev.DataOffset() + ev.Size - 7)
		}
	}
}

// damageWant is a damage a test expects.
type damageWant struct {
	index  int    // the Index of the fragment it is reported on
	offset int    // its offset
	cause  string // its cause
	elem   string // its element, when the test knows it
	// keeps says that no fragment of the clean stream is lost: the
	// damage is a CRC-32 mismatch, or junk between units, a fragment of
	// its own.
	keeps bool
}

// destroys says whether a damage of want costs the fragment index.
func destroys(want []damageWant, index int) bool {
	for _, w := range want {
		if w.index == index && !w.keeps {
			return true
		}
	}
	return false
}

// TestDamagedCapture damages the real GetMedia capture of issue 23 (5
// fragments, whose Clusters start with a CRC-32): one bad size byte in
// the second fragment's Cluster, which once cost the three fragments
// after it, and then 64 bytes overwritten inside a frame of that Cluster,
// which once went unnoticed. Either way the other fragments come out as
// from the clean capture, and the second is reported damaged.
func TestDamagedCapture(t *testing.T) {
	dir := corpus.Dir(t)
	data, err := os.ReadFile(filepath.Join(dir, "output_get_media.mkv"))
	if err != nil {
		t.Skipf("no output_get_media.mkv in the corpus: %v", err)
	}
	cleanOut, stderr, code := dumpInput(t, "file", data)
	clean := strings.SplitAfter(cleanOut, "\n")
	if code != exitOK || len(clean) != 6 {
		t.Fatalf("clean capture: exit %d, %d lines, stderr %q", code, len(clean)-1, stderr)
	}
	var second kvsreport.Record
	if err := json.Unmarshal([]byte(clean[1]), &second); err != nil {
		t.Fatal(err)
	}
	cluster := within(t, data, int(second.Offset), idCluster)
	if cluster != 549_084 {
		t.Fatalf("the second fragment's Cluster is at offset %d, want 549,084", cluster)
	}
	tests := []struct {
		name, damage string
		damaged      func([]byte)
	}{
		{"bad size byte", `[{"offset":549084,"element":"Cluster","cause":"invalid element size","skipped":`,
			func(d []byte) { d[cluster+4] = 0 }},
		{"payload overwritten", `[{"offset":549084,"element":"Cluster","cause":"CRC-32 mismatch","stored":"0x`,
			func(d []byte) { copy(d[cluster+60_000:], bytes.Repeat([]byte{0xAA}, 64)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := bytes.Clone(data)
			tt.damaged(d)
			stdout, stderr, code := dumpInput(t, "file", d)
			got := strings.SplitAfter(stdout, "\n")
			if len(got) != 6 {
				t.Fatalf("%d lines, want 5:\n%s", len(got)-1, stdout)
			}
			for _, i := range []int{0, 2, 3, 4} {
				if got[i] != clean[i] {
					t.Errorf("fragment %d:\n got %s\nwant %s", i, got[i], clean[i])
				}
			}
			if !strings.Contains(got[1], `,"damaged":`+tt.damage) {
				t.Errorf("fragment 1: %s\nwant damaged %s...", got[1], tt.damage)
			}
			if code != exitInput || !strings.Contains(stderr, ": 1 fragment damaged, ") ||
				!strings.HasSuffix(stderr, " at offset 549,084)\n") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 1 and one line counting the damage at 549,084", code, stderr)
			}
		})
	}
}

// TestMutateMiddleUnit flips each byte of a unit in the middle of a
// stream in turn, and checks that kvsdump, reading a file and standard
// input, prints the units before it and the last one exactly as from the
// clean stream, and that its exit status and standard error agree with
// what it printed: 1 and one line counting them when a fragment is
// damaged, 0 and nothing otherwise. Every flip inside the unit's Cluster,
// which its CRC-32 covers, is reported as damage.
func TestMutateMiddleUnit(t *testing.T) {
	data, units := damagedStream()
	cleanOut, _, _ := dumpInput(t, "stdin", data)
	clean := strings.SplitAfter(cleanOut, "\n")
	clean = clean[:len(clean)-1]
	last := len(units) - 1
	const mid = 3
	cluster := within(t, data, units[mid], idCluster)
	clusterEnd := endOf(t, data, cluster)
	t.Logf("unit %d: bytes %d to %d, its Cluster %d to %d", mid, units[mid], units[mid+1], cluster, clusterEnd)
	for off := units[mid]; off < units[mid+1]; off++ {
		d := bytes.Clone(data)
		d[off] ^= 0xFF
		via := []string{"stdin", "file"}[off%2]
		stdout, stderr, code := dumpInput(t, via, d)
		lines := strings.SplitAfter(stdout, "\n")
		lines = lines[:len(lines)-1]
		if len(lines) < mid+1 || strings.Join(lines[:mid], "") != strings.Join(clean[:mid], "") {
			t.Fatalf("byte %d flipped: the units before it differ:\n%s", off, stdout)
		}
		var r kvsreport.Record
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			t.Fatal(err)
		}
		r.Index = last // a unit whose EBML header was destroyed takes no Index
		if got := string(r.AppendJSON(nil)) + "\n"; got != clean[last] {
			t.Fatalf("byte %d flipped: the last unit differs:\n got %s\nwant %s", off, got, clean[last])
		}
		damaged := strings.Count(stdout, `"damaged":`)
		switch {
		case damaged == 0 && off >= cluster && off < clusterEnd:
			t.Fatalf("byte %d flipped, inside the Cluster at %d: no damage reported", off, cluster)
		case damaged == 0 && (code != exitOK || stderr != ""):
			t.Fatalf("byte %d flipped: no damage printed, but exit %d, stderr %q", off, code, stderr)
		case damaged > 0 && (code != exitInput || !strings.Contains(stderr, fmt.Sprintf(": %d fragment", damaged)) || strings.Count(stderr, "\n") != 1):
			t.Fatalf("byte %d flipped: %d damaged fragments printed, exit %d, stderr %q", off, damaged, code, stderr)
		}
	}
}

// endOf returns the end of the element at offset at.
func endOf(t *testing.T, data []byte, at int) int {
	t.Helper()
	d := mkv.NewDecoder(bytes.NewReader(data))
	for {
		ev, err := d.Next()
		if err != nil {
			t.Fatalf("no element at offset %d: %v", at, err)
		}
		if ev.Offset == int64(at) && ev.Size >= 0 {
			return int(ev.DataOffset() + ev.Size)
		}
	}
}

// TestDamagedTable checks that -table marks a damaged fragment in its
// ERROR column with the damage's cause, element, offset and bytes skipped,
// and leaves the others' rows as from the clean stream.
func TestDamagedTable(t *testing.T) {
	data, units := damagedStream()
	path := filepath.Join(t.TempDir(), "clean.mkv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	clean, _, _ := dump(t, "-table", path)
	cluster := within(t, data, units[1], idCluster)
	data[cluster+4] = 0
	damaged := filepath.Join(t.TempDir(), "damaged.mkv")
	if err := os.WriteFile(damaged, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code := dump(t, "-table", damaged)
	got, want := strings.Split(stdout, "\n"), strings.Split(clean, "\n")
	if code != exitInput || len(got) != len(want) {
		t.Fatalf("exit %d, %d rows; want 1 and %d:\n%s", code, len(got), len(want), stdout)
	}
	for i := range got {
		if i == 2 { // the header, then fragment 0
			row := fmt.Sprintf("partial; damaged: invalid element size in Cluster at offset %d (%d bytes skipped)", cluster, units[2]-cluster)
			if !strings.HasSuffix(got[i], row) {
				t.Errorf("row of the damaged fragment:\n%s\nwant it to end %q", got[i], row)
			}
			continue
		}
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// TestDamagedFromKVS reads a time range from the emulator whose
// GetMediaForFragmentList serves one fragment with a byte of a frame
// changed, every time: kvsaws delivers it with its CRC-32 mismatch, and
// kvsdump prints it marked, the others as served clean, and exits 1 with
// the damage line naming the stream.
func TestDamagedFromKVS(t *testing.T) {
	awstest.EmulatorEnv(t)
	g := kvsgen.Generator{Fragments: 4, FragmentDuration: 500 * time.Millisecond, FPS: 10, VideoBitrate: 20_000, KnownSizeCluster: true, CRC: true}
	path := filepath.Join(t.TempDir(), "cam.mkv")
	if err := os.WriteFile(path, g.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.AddStreamFromFile("cam", path); err != nil {
		t.Fatal(err)
	}
	producer, _ := g.Times(0)
	from := time.Unix(0, int64(producer)).UTC()
	args := []string{"-endpoint", srv.URL(), "-stream", "cam",
		"-start", from.Add(-time.Minute).Format(time.RFC3339), "-end", from.Add(time.Hour).Format(time.RFC3339)}
	framesOut, stderr, code := dump(t, append(args, "-frames")...)
	if code != exitOK {
		t.Fatalf("clean stream: exit %d, stderr %q", code, stderr)
	}
	clean, _, _ := dump(t, args...)
	cleanLines := strings.SplitAfter(clean, "\n")
	if len(cleanLines) != g.Fragments+1 {
		t.Fatalf("clean stream: %d lines, want %d:\n%s", len(cleanLines)-1, g.Fragments, clean)
	}
	var second kvsreport.Record
	if err := json.Unmarshal([]byte(cleanLines[1]), &second); err != nil {
		t.Fatal(err)
	}
	var at int64 = -1 // a byte of a frame of the second fragment, from its unit's start
	for _, line := range strings.Split(framesOut, "\n") {
		var fr struct {
			Fragment     *int
			Size, Offset int64
		}
		if json.Unmarshal([]byte(line), &fr) == nil && fr.Fragment != nil && *fr.Fragment == 1 && fr.Size > 8 {
			at = fr.Offset - second.Offset + fr.Size/2
			break
		}
	}
	if at < 0 {
		t.Fatalf("no frame of the second fragment in:\n%s", framesOut)
	}
	srv.Inject(kvstest.Fault{Kind: kvstest.CorruptBody, At: at, EveryTime: true,
		Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList, Stream: "cam", Fragment: tags.FragmentNumber(second.FragmentNumber)}})
	stdout, stderr, code := dump(t, args...)
	lines := strings.SplitAfter(stdout, "\n")
	if len(lines) != len(cleanLines) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines)-1, len(cleanLines)-1, stdout)
	}
	for i := range lines {
		if i == 1 {
			var r kvsreport.Record
			if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Damaged) != 1 || r.Damaged[0].Cause != "CRC-32 mismatch" || r.Damaged[0].Element != "Cluster" {
				t.Errorf("the second fragment: %s\nwant a CRC-32 mismatch in its Cluster", lines[i])
			}
			r.Damaged = nil
			lines[i] = string(r.AppendJSON(nil)) + "\n"
		}
		if lines[i] != cleanLines[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i, lines[i], cleanLines[i])
		}
	}
	if want := "kvsdump: stream cam: 1 fragment damaged, 0 bytes skipped (first: CRC-32 mismatch in Cluster at offset "; code != exitInput || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and %q...", code, stderr, want)
	}
}

// TestJunkBeforeFirstUnit checks that bytes before the first unit (HTTP
// headers saved with a response) cost a fragment of their own, printed
// once the unit after them shows that the input is an EBML stream after
// all, and that the units come out as from the clean stream, one Index
// later and as many bytes further.
func TestJunkBeforeFirstUnit(t *testing.T) {
	data, _ := damagedStream()
	cleanOut, _, _ := dumpInput(t, "stdin", data)
	clean := strings.SplitAfter(cleanOut, "\n")
	junk := "HTTP/1.1 200 OK\r\n\r\n"
	for _, via := range []string{"file", "stdin"} {
		stdout, stderr, code := dumpInput(t, via, append([]byte(junk), data...))
		lines := strings.SplitAfter(stdout, "\n")
		if len(lines) != len(clean)+1 {
			t.Fatalf("%s: %d lines, want %d:\n%s", via, len(lines)-1, len(clean), stdout)
		}
		if want := fmt.Sprintf(`{"index":0,"offset":0,"size":%d,"partial":true,"damaged":[{"offset":0,"element":"0x4854","cause":"unexpected element","skipped":%d}]}`+"\n",
			len(junk), len(junk)); lines[0] != want {
			t.Errorf("%s: first line %s\nwant %s", via, lines[0], want)
		}
		for i, line := range lines[1 : len(lines)-1] {
			var r kvsreport.Record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			r.Index--
			r.Offset -= int64(len(junk))
			if got := string(r.AppendJSON(nil)) + "\n"; got != clean[i] {
				t.Errorf("%s: fragment %d:\n got %s\nwant %s", via, i, got, clean[i])
			}
		}
		if code != exitInput || !strings.HasSuffix(stderr, fmt.Sprintf(": 1 fragment damaged, %d bytes skipped (first: unexpected element in 0x4854 at offset 0)\n", len(junk))) {
			t.Errorf("%s: exit %d, stderr %q", via, code, stderr)
		}
	}
}
