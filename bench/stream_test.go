package bench

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	streamOnce sync.Once
	stream     []byte
	streamFile string
)

// input returns the stream, generated once per process.
func input(b *testing.B) []byte {
	streamOnce.Do(func() { stream = StreamConfig.Bytes() })
	return stream
}

// inputFile returns the path of a file holding the stream, written once per
// process in a temporary folder.
func inputFile(b *testing.B) string {
	data := input(b)
	if streamFile == "" {
		dir, err := os.MkdirTemp("", "kvsmkv-bench")
		if err != nil {
			b.Fatal(err)
		}
		streamFile = filepath.Join(dir, "stream.mkv")
		if err := os.WriteFile(streamFile, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return streamFile
}

// start prepares a benchmark that processes n bytes per operation: its
// MB/s, its allocations, and a timer that starts now.
func start(b *testing.B, n int) {
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
}

// readerOnly hides every method but Read, so that io.CopyBuffer really
// copies through its buffer and the decoders read as from a network body.
type readerOnly struct{ r io.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }

type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// TestMain removes the temporary file of the file benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	if streamFile != "" {
		os.RemoveAll(filepath.Dir(streamFile))
	}
	os.Exit(code)
}
