package mkv_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// splitInputs are streams on which every way of cutting the input must give
// the same events.
func splitInputs() map[string][]byte {
	small := kvsgen.Generator{Fragments: 3, FragmentDuration: 200 * time.Millisecond, FPS: 15, VideoBitrate: 40_000, Audio: true}
	inputs := map[string][]byte{"handmade": handmadeStream()}
	for name, mod := range map[string]func(*kvsgen.Generator){
		"kvs-unknown-sizes": func(c *kvsgen.Generator) { c.ProducerTags, c.GetMedia = true, true },
		"xiph-lacing":       func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 3, mkv.XiphLacing },
		"ebml-lacing":       func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 4, mkv.EBMLLacing },
		"fixed-lacing":      func(c *kvsgen.Generator) { c.AudioPerBlock, c.AudioLacing = 5, mkv.FixedLacing },
		"blockgroups-crc": func(c *kvsgen.Generator) {
			c.BlockGroups, c.KnownSizeCluster, c.CRC, c.Void = true, true, true, true
		},
		"errors-nul": func(c *kvsgen.Generator) {
			c.NULPadding = true
			c.Errors = map[int]kvsgen.ErrorUnit{0: {Code: "FRAGMENT_NOT_FOUND", ID: 3000}, 2: {Exception: true, Code: "X", Message: "m"}}
		},
	} {
		c := small
		mod(&c)
		inputs[name] = c.Bytes()
	}
	return inputs
}

// handmadeStream has two units, the first with a known-size Segment, Void
// and an unknown element, the second with unknown sizes and a cut-off-free
// end of input closing them.
func handmadeStream() []byte {
	unit1 := append(ebmlHeader(), el(mkv.IDSegment,
		el(mkv.IDInfo, el(mkv.IDTimecodeScale, u(1000000)), el(mkv.IDVoid, make([]byte, 3))),
		el(0x2ABCDE, str("unknown element")),
		el(mkv.IDCluster, el(mkv.IDTimecode, u(5)), simpleBlock(1, 0, 0x80, str("frame-1"))),
	)...)
	unit2 := append(ebmlHeader(), unknown(mkv.IDSegment,
		unknown(mkv.IDCluster, el(mkv.IDTimecode, u(9)), simpleBlock(2, -3, 0x09, str("f2"))),
		el(mkv.IDTags, el(mkv.IDTag, el(mkv.IDSimpleTag, el(mkv.IDTagName, str("A\x00")), el(mkv.IDTagString, str("b\x00\x00"))))),
	)...)
	return append(unit1, unit2...)
}

// TestSplits decodes each input whole and cut in every way the tests know:
// one byte at a time, in halves, with the final data and io.EOF together,
// in random pieces from a fixed seed, and pushed in chunks of 1 to 64 and
// more bytes. Every way must give the same events and the same end.
func TestSplits(t *testing.T) {
	for name, data := range splitInputs() {
		t.Run(name, func(t *testing.T) {
			want, wantErr := pullTrace(bytes.NewReader(data))
			if wantErr != nil {
				t.Fatalf("whole input: %v", wantErr)
			}
			check := func(how string, got []string, err error) {
				t.Helper()
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("%s: events mismatch (-want +got):\n%s", how, diff)
				}
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
			}
			readers := map[string]io.Reader{
				"one-byte": iotest.OneByteReader(bytes.NewReader(data)),
				"half":     iotest.HalfReader(bytes.NewReader(data)),
				"data-err": iotest.DataErrReader(bytes.NewReader(data)),
				"random":   &randomReader{bytes.NewReader(data), rand.New(rand.NewPCG(1, 2)), 300},
			}
			for how, r := range readers {
				got, err := pullTrace(r)
				check(how, got, err)
			}
			got, err := pullTrace(iotest.OneByteReader(bytes.NewReader(data)), mkv.WithBufferSize(1))
			check("small-buffer", got, err)
			for chunk := 1; chunk <= 64; chunk++ {
				got, err := pushTrace(data, chunk)
				check(fmt.Sprintf("push/%d", chunk), got, err)
			}
			for _, chunk := range []int{100, 1000, 4097, len(data)} {
				got, err := pushTrace(data, chunk)
				check(fmt.Sprintf("push/%d", chunk), got, err)
			}
		})
	}
}

// TestTruncation cuts a unit at every byte offset: the decoder must deliver
// exactly the events of the whole input that end before the cut, then a
// cut-off error at the start of the innermost element the cut falls in.
func TestTruncation(t *testing.T) {
	c := kvsgen.Generator{Fragments: 1, FragmentDuration: 100 * time.Millisecond, FPS: 20, VideoBitrate: 8000,
		Audio: true, AudioPerBlock: 2, AudioLacing: mkv.EBMLLacing, AudioFrameSize: 10,
		KnownSizeCluster: true, BlockGroups: true, ProducerTags: true, GetMedia: true}
	data := append(c.Bytes(), handmadeStream()...)

	type span struct{ start, end int64 } // elements, or headers of unknown-size masters
	full := mkv.NewDecoder(bytes.NewReader(data))
	var events []string
	var ends []int64 // where each event's element ends: the cut must be past it
	var spans []span
	inGroup := false   // BlockGroups are held whole: a cut in one is reported at the group
	var closedBy []int // Ends of unknown-size masters, known only from the next header
	var headerEnd []int64
	unknownStart := map[int64]bool{}
	for {
		ev, err := full.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, trace(ev))
		headerEnd = append(headerEnd, ev.DataOffset())
		if ev.Kind == mkv.Start && ev.Size == mkv.UnknownSize {
			unknownStart[ev.Offset] = true
		}
		if ev.Kind == mkv.End && unknownStart[ev.Offset] {
			closedBy = append(closedBy, len(ends))
		}
		if ev.ID == mkv.IDBlockGroup {
			inGroup = ev.Kind == mkv.Start
		} else if inGroup {
			ends = append(ends, ev.DataOffset()+max(ev.Size, 0))
			continue
		}
		end := ev.DataOffset() + ev.Size
		if ev.Kind == mkv.Start {
			end = ev.DataOffset() // a Start needs only the header
			if ev.Size != mkv.UnknownSize {
				spans = append(spans, span{ev.Offset, ev.DataOffset() + ev.Size})
			} else {
				spans = append(spans, span{ev.Offset, ev.DataOffset()}) // its header
			}
			if ev.ID == mkv.IDBlockGroup {
				end = ev.DataOffset() + ev.Size // held whole
			}
		} else if ev.Kind != mkv.End {
			spans = append(spans, span{ev.Offset, end})
		}
		ends = append(ends, end)
	}
	// An unknown-size master's End needs the whole header of the element
	// that closes it (the next event that is not an End).
	for _, i := range closedBy {
		j := i + 1
		for j < len(events) && headerEnd[j] <= ends[i] {
			j++
		}
		if j < len(events) {
			ends[i] = headerEnd[j]
		}
	}

	for cut := 1; cut < len(data); cut++ {
		// The innermost element, or unknown-size header, the cut falls in.
		want := int64(-1)
		for _, s := range spans {
			if s.start < int64(cut) && int64(cut) < s.end && s.start > want {
				want = s.start
			}
		}
		for _, mode := range []string{"pull", "push"} {
			var got []string
			var err error
			if mode == "pull" {
				got, err = pullTrace(bytes.NewReader(data[:cut]))
			} else {
				got, err = pushTrace(data[:cut], 3)
			}
			if want < 0 {
				// A cut between units, or inside unknown-size masters only.
				if err != nil {
					t.Fatalf("%s cut at %d: %v, want a clean end", mode, cut, err)
				}
				continue
			}
			var se *mkv.SyntaxError
			if !errorsAs(err, &se) || !isCutOff(err) || se.Offset != want {
				t.Fatalf("%s cut at %d: got %v, want a cut-off error at offset %d", mode, cut, err, want)
			}
			// Every event of an element complete before the cut was
			// delivered, in order; the Ends of unknown-size masters may
			// differ, so compare the complete ones only.
			n := 0
			for n < len(events) && ends[n] <= int64(cut) {
				n++
			}
			if len(got) < n {
				t.Fatalf("%s cut at %d: %d events, want at least %d; missing %q; err %v", mode, cut, len(got), n, events[len(got)], err)
			}
			if diff := cmp.Diff(events[:n], got[:n], cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%s cut at %d: events mismatch (-want +got):\n%s", mode, cut, diff)
			}
		}
	}
}
