package mkv

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"sync"
)

// intelBufferSize is the pull decoder's default buffer size on Intel CPUs:
// 256 KiB.
const intelBufferSize = 256 << 10

// defaultBufferSize returns the size a decoder's buffer grows to without
// WithBufferSize, chosen once per process from the CPU, because the best
// read size differs between CPUs by more than their L2 caches tell.
// BenchmarkRatio, each decoder against io.CopyBuffer through 32 KiB, pairs
// interleaved:
//
//   - Intel Xeon (Sapphire Rapids, 48 KiB L1d, 2 MiB L2 per core): 256 KiB
//     beats 1 MiB on every ratio (Decoder 0.88x against 0.83x, ReaderFrames
//     0.58x against 0.52x, Streaming 0.86x against 0.77x). Go's copy runs
//     REP MOVSQ on Intel CPUs with ERMS and FSRM (runtime/cpuflags_amd64.go),
//     which here slows past 512 KiB per copy; and with either copy (its AVX
//     loop too, GODEBUG=cpu.erms=off) a reader that reads the bytes again
//     after they land (frames copied out, tags, headers) finds those of a
//     256 KiB read in cache more than those of a 1 MiB one.
//   - AMD EPYC (1 MiB L2 per core): 1 MiB reads ran the decoder at
//     0.92-1.09x, 256 KiB ones at 0.84-0.88x, 1.25 MiB ones at 0.64-0.74x.
//
// Where the CPU's vendor cannot be read (not Linux), it is 1 MiB.
var defaultBufferSize = sync.OnceValue(func() int {
	if runtime.GOARCH == "amd64" && cpuVendor() == "GenuineIntel" {
		return intelBufferSize
	}
	return DefaultBufferSize
})

// cpuVendor returns the vendor_id of the first CPU in /proc/cpuinfo, or ""
// where there is none.
func cpuVendor() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "vendor_id" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
