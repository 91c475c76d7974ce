package mkv

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// TestUpdateCRC checks updateCRC against hash/crc32 over lengths on both
// sides of where it folds (1 KiB) and of every multiple of 256 bytes, at
// every alignment, from random CRC registers.
func TestUpdateCRC(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20+512)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	lengths := []int{0, 1, 63, 64, 255, 256, 1023, 1024, 1025, 1279, 1280, 1281, 4096, 32 << 10, 256<<10 + 17, 1 << 20}
	for range 2000 {
		lengths = append(lengths, r.IntN(8<<10))
	}
	for _, n := range lengths {
		off := r.IntN(64)
		crc := r.Uint32()
		p := buf[off : off+n]
		if got, want := updateCRC(crc, p), crc32.Update(crc, crc32.IEEETable, p); got != want {
			t.Fatalf("updateCRC(%#x, %d bytes at offset %d) = %#x, want %#x", crc, n, off, got, want)
		}
	}
}

// FuzzUpdateCRC checks updateCRC against hash/crc32 on any input, whole
// and cut in two.
func FuzzUpdateCRC(f *testing.F) {
	f.Add(uint32(0), make([]byte, 1024), 0)
	f.Add(uint32(0xFFFFFFFF), make([]byte, 3000), 1500)
	f.Fuzz(func(t *testing.T, crc uint32, p []byte, cut int) {
		if got, want := updateCRC(crc, p), crc32.Update(crc, crc32.IEEETable, p); got != want {
			t.Fatalf("updateCRC(%#x, %d bytes) = %#x, want %#x", crc, len(p), got, want)
		}
		if cut < 0 || cut > len(p) {
			return
		}
		if got, want := updateCRC(updateCRC(crc, p[:cut]), p[cut:]), crc32.Update(crc, crc32.IEEETable, p); got != want {
			t.Fatalf("updateCRC in two at %d of %d bytes = %#x, want %#x", cut, len(p), got, want)
		}
	})
}

// BenchmarkUpdateCRC compares updateCRC with hash/crc32 over a buffer in
// cache, of the size the decoder reads on Intel CPUs.
func BenchmarkUpdateCRC(b *testing.B) {
	p := make([]byte, 256<<10)
	var sum uint32
	b.Run("updateCRC", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			sum = updateCRC(sum, p)
		}
	})
	b.Run("crc32", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			sum = crc32.Update(sum, crc32.IEEETable, p)
		}
	})
}
