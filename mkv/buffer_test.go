package mkv

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"testing"
	"testing/iotest"
)

// TestBufferFollowsReads checks that the pull decoder's buffer starts small
// and grows to the buffer size only when reads fill it: a reader that has
// plenty gets reads of the default buffer size, one that hands out a few KiB at a time, as a
// network body does, keeps the first buffer.
func TestBufferFollowsReads(t *testing.T) {
	var stream []byte
	for range 64 {
		var err error
		stream, err = AppendBlock(stream, IDSimpleBlock, &Block{Track: 1, Keyframe: true, Frames: [][]byte{bytes.Repeat([]byte{7}, 60<<10)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		r    io.Reader
		want int
	}{
		{"plenty", bytes.NewReader(stream), defaultBufferSize()},
		{"4 KiB at a time", &chunked{stream, 4 << 10}, firstBuffer},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(stream)), firstBuffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.r)
			if cap(d.mem) != firstBuffer {
				t.Fatalf("first buffer %d bytes, want %d", cap(d.mem), firstBuffer)
			}
			blocks := 0
			for ev, err := range d.All() {
				if err != nil {
					t.Fatal(err)
				}
				if ev.Kind == BlockKind {
					blocks++
				}
			}
			if blocks != 64 || cap(d.mem) != tt.want {
				t.Errorf("%d blocks, buffer %d bytes; want 64 blocks, %d bytes", blocks, cap(d.mem), tt.want)
			}
		})
	}
}

// chunked hands out at most n bytes per Read.
type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

// TestDefaultBufferSize checks that the default buffer size is chosen from
// the CPU's vendor where Linux shows it: 256 KiB on Intel CPUs, 1 MiB on
// others and where the vendor is unknown.
func TestDefaultBufferSize(t *testing.T) {
	vendor := cpuVendor()
	if _, err := os.Stat("/proc/cpuinfo"); err == nil && runtime.GOARCH == "amd64" && vendor == "" {
		t.Fatal("no vendor_id read from /proc/cpuinfo")
	}
	want := DefaultBufferSize
	if runtime.GOARCH == "amd64" && vendor == "GenuineIntel" {
		want = intelBufferSize
	}
	if got := defaultBufferSize(); got != want {
		t.Errorf("defaultBufferSize() = %d on CPU vendor %q, want %d", got, vendor, want)
	}
}
