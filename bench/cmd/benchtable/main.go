// Command benchtable runs kvsmkv's benchmarks and prints one table: speed,
// the ratio to BenchmarkCopy, allocations per fragment, per frame and per
// input MB, the peak heap while reading a 1 GB generated stream, and whether
// each target is met. Run it from the module's root:
//
//	go run ./bench/cmd/benchtable [-count 5] [-benchtime 20x]
//
// Speeds are medians over -count runs made in one go test invocation.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// result holds one benchmark's metrics, unit -> values over the runs.
type result map[string][]float64

func (r result) median(unit string) float64 {
	v := append([]float64(nil), r[unit]...)
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// fragments and frames of the benchmarks' stream (bench.streamConfig).
const (
	fragments = 135.0
	frames    = 21600.0
)

func main() {
	count := flag.Int("count", 5, "runs of each speed benchmark")
	benchtime := flag.String("benchtime", "20x", "go test -benchtime of the speed benchmarks")
	flag.Parse()

	speed := run("-bench", "^Benchmark(Copy|Decoder|PushDecoder|ReaderMetadata|ReaderFrames|Streaming|EBMLGo|Mkvparse)$",
		"-benchtime", *benchtime, "-count", strconv.Itoa(*count))
	heap := run("-bench", "^BenchmarkPeakHeap$", "-benchtime", "1x")

	copyMBs := speed["Copy"].median("MB/s")
	fmt.Printf("| benchmark | MB/s | vs Copy | allocs/op | allocs/fragment | allocs/frame | B allocated per input MB |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|\n")
	inputMB := 0.0
	for _, name := range []string{"Copy", "Decoder", "PushDecoder", "ReaderMetadata", "ReaderFrames", "Streaming", "EBMLGo", "Mkvparse"} {
		r := speed[name]
		mbs := r.median("MB/s")
		if inputMB == 0 && mbs > 0 {
			inputMB = r.median("ns/op") / 1e9 * mbs // MB per op
		}
		allocs, bytesOp := r.median("allocs/op"), r.median("B/op")
		fmt.Printf("| %s | %.0f | %.2f | %.0f | %.1f | %.3f | %.0f |\n", name, mbs, mbs/copyMBs, allocs,
			allocs/fragments, allocs/frames, bytesOp/inputMB)
	}
	h := heap["PeakHeap"]
	fmt.Printf("\nPeak live heap reading a %.2f GB generated stream with the streaming reader: %.2f MiB in all, "+
		"%.2f MiB of it the generator's, so %.2f MiB kvsmkv's; largest frame %.3f MiB.\n\n",
		h.median("GiB-read")*1.073741824, h.median("peak-MiB"), h.median("gen-peak-MiB"), h.median("kvsmkv-peak-MiB"), h.median("largest-frame-MiB"))

	meta := speed["ReaderMetadata"].median("MB/s")
	target := func(ok bool, format string, args ...any) {
		mark := "met"
		if !ok {
			mark = "MISSED"
		}
		fmt.Printf("- %s: %s\n", mark, fmt.Sprintf(format, args...))
	}
	fmt.Println("Targets:")
	target(meta >= 0.8*copyMBs, "ReaderMetadata at %.0f%% of Copy (target 80%%)", 100*meta/copyMBs)
	target(meta >= 4*speed["EBMLGo"].median("MB/s"), "ReaderMetadata %.1fx EBMLGo (target 4x)", meta/speed["EBMLGo"].median("MB/s"))
	target(meta >= 6*speed["Mkvparse"].median("MB/s"), "ReaderMetadata %.1fx Mkvparse (target 6x)", meta/speed["Mkvparse"].median("MB/s"))
	dec := speed["Decoder"].median("MB/s")
	target(dec >= 0.8*copyMBs, "Decoder at %.0f%% of Copy (target 80%%)", 100*dec/copyMBs)
	for _, name := range []string{"Decoder", "ReaderMetadata", "Streaming"} {
		a := speed[name].median("allocs/op")
		target(a < fragments*64, "%s: %.0f allocations for %.0f frames, all per fragment or per decode (TestNoAllocationsPerFrame checks none are per frame)", name, a, frames)
	}
	heapMiB := h.median("kvsmkv-peak-MiB")
	target(heapMiB < 4+h.median("largest-frame-MiB"), "peak heap %.2f MiB, under 4 MiB plus the largest frame", heapMiB)
}

// run runs go test on ./bench with args and parses its benchmark lines.
func run(args ...string) map[string]result {
	cmd := exec.Command("go", append([]string{"test", "./bench", "-run", "^$"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtable: go test: %v\n%s", err, out)
		os.Exit(1)
	}
	results := map[string]result{}
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		r := results[name]
		if r == nil {
			r = result{}
			results[name] = r
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				r[f[i+1]] = append(r[f[i+1]], v)
			}
		}
	}
	return results
}
