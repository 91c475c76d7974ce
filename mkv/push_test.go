package mkv

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPushResyncInPlace checks that a PushDecoder scanning junk for the
// next unit decodes each Write in place: the bytes it copies into its
// pending buffer stay a few per Write, not one step per byte of every
// Write after the first, and the unit after the junk is found.
func TestPushResyncInPlace(t *testing.T) {
	unit := AppendUint(nil, IDEBMLVersion, 1)
	unit = AppendString(unit, IDDocType, "matroska")
	unit = AppendElement(nil, IDEBML, unit)
	unit = AppendElement(unit, IDSegment, AppendUint(nil, IDTimecodeScale, 1000000))

	rnd := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 4<<20)
	for i := range junk {
		junk[i] = byte(rnd.Uint32())
	}
	nuls := make([]byte, 4<<20)
	tests := []struct {
		name  string
		junk  []byte
		chunk int
	}{
		{"random/64KiB", junk, 64 << 10},
		{"random/1000", junk, 1000},
		{"NULs/64KiB", nuls, 64 << 10},
		{"NULs/7", nuls[:1<<20], 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := append(append(append([]byte{}, unit...), tt.junk...), unit...)
			var kinds []Kind
			p := NewPushDecoder(func(ev *Event) error {
				if ev.Kind == Damage || ev.Kind == Resync {
					kinds = append(kinds, ev.Kind)
				}
				return nil
			}, WithResync())
			writes := 0
			for rest := data; len(rest) > 0; writes++ {
				n := min(len(rest), tt.chunk)
				if _, err := p.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if want := []Kind{Damage, Resync}; !slices.Equal(kinds, want) {
				t.Errorf("events %v, want %v", kinds, want)
			}
			// Each Write carries at most a cut ID forward, plus what the
			// next look needs; the unit after the junk may be cut too.
			if limit := int64(writes*2*len(ebmlMagic) + 2*len(unit)); p.carried > limit {
				t.Errorf("copied %d bytes into pending over %d Writes of %d bytes, want at most %d", p.carried, writes, len(data), limit)
			}
		})
	}
}
