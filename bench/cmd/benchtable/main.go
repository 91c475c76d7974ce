// Command benchtable runs kvsmkv's benchmarks and prints the README's
// tables: speed (median and best of -count runs of each benchmark),
// allocations per fragment, per frame and per input MB; each reader's speed
// over BenchmarkCopy's or, from a file, BenchmarkCopyFile's, as the median
// and best over pairs of ops run side by side (BenchmarkRatio), each the
// median over several processes; what verifying CRC-32 costs each reader
// (BenchmarkCRC); the peak heap while reading a 1 GB
// generated stream; the reader on hostile shapes against the decoder;
// kvsdump against cat as whole processes on a file, pair by pair; and
// whether each target is met. Fragment and frame counts come from the
// stream the benchmarks read. It starts with the CPU model and its caches,
// on which the ratios depend. Run it from the bench module:
//
//	cd bench && go run ./cmd/benchtable [-count 5] [-benchtime 20x] [-pairs 30] [-processes 7] [-ratios]
//
// With -ratios it runs BenchmarkRatio alone and prints the paired ratios,
// their spread over the processes and their targets.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/bench"
	"github.com/kvsmkv/kvsmkv/fuzz"
)

// result holds one benchmark's metrics, unit -> values over the runs.
type result map[string][]float64

func (r result) median(unit string) float64 {
	v := slices.Clone(r[unit])
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func (r result) best(unit string) float64 {
	if len(r[unit]) == 0 {
		return 0
	}
	return slices.Max(r[unit])
}

func main() {
	count := flag.Int("count", 5, "runs of each speed benchmark")
	benchtime := flag.String("benchtime", "20x", "go test -benchtime of the speed benchmarks")
	pairs := flag.Int("pairs", 30, "pairs of ops of BenchmarkRatio, each reader against its copy side by side")
	processes := flag.Int("processes", 7, "runs of BenchmarkRatio, each in a process of its own")
	hostile := flag.Bool("hostile", true, "also run BenchmarkHostile")
	ratiosOnly := flag.Bool("ratios", false, "run BenchmarkRatio alone and print its paired ratios and their targets")
	flag.Parse()

	fmt.Printf("Machine: %s.\n\n", machine())
	if *ratiosOnly {
		ratioTable(pairedRuns("^BenchmarkRatio$", *pairs, *processes), *pairs, *processes)
		return
	}
	speed := run("-bench", "^Benchmark(Copy|Decoder|PushDecoder|ReaderMetadata|ReaderFrames|Streaming|EBMLGo|Mkvparse)(File)?$",
		"-benchtime", *benchtime, "-count", strconv.Itoa(*count))
	paired := pairedRuns("^BenchmarkRatio$", *pairs, *processes)
	// What verifying CRC-32 costs, on a stream whose Clusters carry one:
	// the default reader against WithoutCRC, paired the same way.
	crc := pairedRuns("^BenchmarkCRC$", *pairs, *processes)
	heap := run("-bench", "^BenchmarkPeakHeap(Frames)?$", "-benchtime", "1x")

	fragments := speed["ReaderMetadata"].median("fragments/op")
	frames := speed["ReaderMetadata"].median("frames/op")
	fmt.Printf("The stream: %d fragments, %d frames (from the benchmarks' counts).\n\n", int(fragments), int(frames))
	fmt.Printf("MB/s are medians and bests of %d runs of each benchmark; \"vs Copy\" is its speed over Copy's (CopyFile's for the file rows), "+
		"median and best over %d pairs of ops run side by side (BenchmarkRatio), which the machine's drift between runs does not move; "+
		"each the median over %d processes.\n\n", *count, *pairs, *processes)
	fmt.Printf("| benchmark | MB/s median | MB/s best | vs Copy, paired median | paired best | allocs/op | allocs/fragment | allocs/frame | B allocated per input MB |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, name := range []string{"Copy", "Decoder", "PushDecoder", "ReaderMetadata", "ReaderFrames", "Streaming", "EBMLGo", "Mkvparse",
		"CopyFile", "DecoderFile", "ReaderMetadataFile", "ReaderFramesFile", "StreamingFile"} {
		r := speed[name]
		mbs := r.median("MB/s")
		inputMB := r.median("ns/op") / 1e9 * mbs // MB per op
		allocs, bytesOp := r.median("allocs/op"), r.median("B/op")
		vs := "-"
		if p, ok := paired["Ratio/"+name]; ok {
			vs = fmt.Sprintf("%.2f | %.2f", p.median("x-copy-median"), p.median("x-copy-best"))
		} else if name == "Copy" || name == "CopyFile" {
			vs = "1 | 1"
		} else if yard := speed["Copy"]; len(yard["MB/s"]) > 0 {
			vs = fmt.Sprintf("%.2f | %.2f", mbs/yard.median("MB/s"), r.best("MB/s")/yard.best("MB/s")) + " (unpaired)"
		}
		fmt.Printf("| %s | %.0f | %.0f | %s | %.0f | %.1f | %.3f | %.0f |\n", name, mbs, r.best("MB/s"), vs,
			allocs, allocs/fragments, allocs/frames, bytesOp/inputMB)
	}
	for _, name := range []string{"PeakHeap", "PeakHeapFrames"} {
		h := heap[name]
		mode := "the streaming reader (NextEvent)"
		if name == "PeakHeapFrames" {
			mode = "whole fragments with frames (Next)"
		}
		fmt.Printf("\n%s: peak live heap reading a %.2f GB generated stream with %s: %.2f MiB in all, %.2f MiB of it the generator's, "+
			"so %.2f MiB kvsmkv's; largest frame %.3f MiB, largest fragment %.3f MiB.\n", name,
			h.median("GiB-read")*1.073741824, mode, h.median("peak-MiB"), h.median("gen-peak-MiB"), h.median("kvsmkv-peak-MiB"),
			h.median("largest-frame-MiB"), h.median("largest-fragment-MiB"))
	}

	crcReaders := []string{"ReaderMetadata", "ReaderFrames", "Streaming"}
	fmt.Printf("\nCRC-32 (BenchmarkCRC, the stream with known-size Clusters that start with a CRC-32, as GetMedia writes them): " +
		"the verifying reader's time over WithoutCRC's, paired median (worst pair), each the median over the processes:")
	for _, name := range crcReaders {
		c := crc["CRC/"+name]
		fmt.Printf(" %s %.3f (%.2f);", name, c.median("crc-cost-median"), c.median("crc-cost-worst"))
	}
	fmt.Println()

	var hostileOK = true
	if *hostile {
		hostileOK = hostileTable(run("-bench", "^BenchmarkHostile$", "-benchtime", "3x"))
	}
	dump, dumpOK := wholeProcess(*count, int(fragments))

	target := func(ok bool, format string, args ...any) {
		mark := "met"
		if !ok {
			mark = "MISSED"
		}
		fmt.Printf("- %s: %s\n", mark, fmt.Sprintf(format, args...))
	}
	ratio := func(name string) float64 { return paired["Ratio/"+name].median("x-copy-median") }
	fmt.Println("\nTargets (paired medians; the table has the best pairs too):")
	target(ratio("Decoder") >= 0.85, "Decoder at %.2fx Copy (target 0.85)", ratio("Decoder"))
	target(ratio("ReaderFrames") >= 0.5, "ReaderFrames at %.2fx Copy (target 0.50)", ratio("ReaderFrames"))
	perFrame := (speed["ReaderFrames"].median("allocs/op") - speed["ReaderMetadata"].median("allocs/op")) / frames
	target(perFrame < 0.01, "ReaderFrames: %.4f allocations per frame more than ReaderMetadata (target 0; TestNoAllocationsPerFrame checks it)", perFrame)
	target(ratio("ReaderMetadata") >= 0.85, "ReaderMetadata at %.2fx Copy (target 0.85)", ratio("ReaderMetadata"))
	target(ratio("Streaming") >= 0.85, "Streaming at %.2fx Copy (target 0.85)", ratio("Streaming"))
	target(ratio("ReaderMetadataFile") >= 0.85, "ReaderMetadataFile at %.2fx CopyFile (target 0.85)", ratio("ReaderMetadataFile"))
	target(ratio("ReaderFramesFile") >= 0.45, "ReaderFramesFile at %.2fx CopyFile (target 0.45)", ratio("ReaderFramesFile"))
	target(dumpOK && dump >= 0.8, "kvsdump (JSON) at %.2fx cat, whole process from a file (target 0.80)", dump)
	meta := speed["ReaderMetadata"].median("MB/s")
	target(meta >= 4*speed["EBMLGo"].median("MB/s"), "ReaderMetadata %.1fx EBMLGo (target 4x)", meta/speed["EBMLGo"].median("MB/s"))
	target(meta >= 6*speed["Mkvparse"].median("MB/s"), "ReaderMetadata %.1fx Mkvparse (target 6x)", meta/speed["Mkvparse"].median("MB/s"))
	for _, name := range crcReaders {
		cost := crc["CRC/"+name].median("crc-cost-median")
		target(cost < 1.10, "%s verifying CRC-32 takes %.1f%% more time than WithoutCRC (target under 10%%)", name, 100*(cost-1))
	}
	for _, name := range []string{"Decoder", "ReaderMetadata", "ReaderFrames", "Streaming"} {
		a := speed[name].median("allocs/op")
		target(a < fragments*64, "%s: %.0f allocations for %.0f frames, all per fragment or per decode", name, a, frames)
	}
	for _, name := range []string{"PeakHeap", "PeakHeapFrames"} {
		h := heap[name]
		limit := 4 + max(h.median("largest-frame-MiB"), h.median("largest-fragment-MiB"))
		target(h.median("kvsmkv-peak-MiB") <= limit, "%s: %.2f MiB, within 4 MiB plus the largest %s (%.2f MiB)", name,
			h.median("kvsmkv-peak-MiB"), map[bool]string{true: "fragment", false: "frame"}[name == "PeakHeapFrames"], limit)
	}
	if *hostile {
		target(hostileOK, "hostile shapes at 10 MB: peak heap under 16 MiB and time within 3x of the decoder's, each way")
	}
}

// pairedRuns runs a paired benchmark (BenchmarkRatio, BenchmarkCRC) with the given pairs in each of the
// given number of processes. The paired ratio still moves a few points
// between processes (where the stream lands in memory): each process's
// medians and bests are kept, and the tables give the median of each over
// the processes.
func pairedRuns(bench string, pairs, processes int) map[string]result {
	paired := map[string]result{}
	for range processes {
		for name, r := range run("-bench", bench, "-benchtime", strconv.Itoa(pairs)+"x") {
			if paired[name] == nil {
				paired[name] = result{}
			}
			for unit, v := range r {
				paired[name][unit] = append(paired[name][unit], v...)
			}
		}
	}
	return paired
}

// ratioTable prints the paired ratios of BenchmarkRatio, the median over
// the processes of each process's median and best with the spread of the
// medians, and the ratio targets.
func ratioTable(paired map[string]result, pairs, processes int) {
	fmt.Printf("Speed over Copy's (CopyFile's for the file rows), median over %d processes of %d pairs each (BenchmarkRatio).\n\n", processes, pairs)
	fmt.Printf("| benchmark | paired median | lowest, highest process | paired best |\n|---|---:|---:|---:|\n")
	for _, name := range []string{"Decoder", "ReaderMetadata", "ReaderFrames", "Streaming", "DecoderFile", "ReaderMetadataFile", "ReaderFramesFile", "StreamingFile"} {
		p := paired["Ratio/"+name]
		m := p["x-copy-median"]
		if len(m) == 0 {
			continue
		}
		fmt.Printf("| %s | %.2f | %.2f, %.2f | %.2f |\n", name, p.median("x-copy-median"), slices.Min(m), slices.Max(m), p.median("x-copy-best"))
	}
	fmt.Println("\nTargets (paired medians):")
	for _, t := range []struct {
		name string
		want float64
	}{{"Decoder", 0.85}, {"ReaderMetadata", 0.85}, {"Streaming", 0.85}, {"ReaderFrames", 0.5}} {
		got := paired["Ratio/"+t.name].median("x-copy-median")
		mark := "met"
		if got < t.want {
			mark = "MISSED"
		}
		fmt.Printf("- %s: %s at %.2fx Copy (target %.2f)\n", mark, t.name, got, t.want)
	}
}

// hostileTable prints BenchmarkHostile's results, each reader's time
// against the decoder's on the same shape, and reports whether all are
// within the targets.
func hostileTable(h map[string]result) bool {
	modes := []string{"Next", "NextEvent", "PushReader"}
	fmt.Printf("\nHostile shapes, 10 MB each, default budgets: time against the mkv decoder's on the same bytes, peak live heap, and how reading ends.\n\n")
	fmt.Printf("| shape | Decoder MB/s | Next | NextEvent | PushReader | ends with (whole / streaming) |\n|---|---:|---:|---:|---:|---|\n")
	ok := true
	for _, s := range fuzz.Shapes() {
		dec := h["Hostile/"+s.Name+"/Decoder"].median("ns/op")
		fmt.Printf("| %s | %.0f |", s.Name, h["Hostile/"+s.Name+"/Decoder"].median("MB/s"))
		for _, m := range modes {
			r := h["Hostile/"+s.Name+"/"+m]
			t, peak := r.median("ns/op")/dec, r.median("peak-MiB")
			ok = ok && t <= 3 && peak < 16 && len(r["ns/op"]) > 0
			fmt.Printf(" %.2fx, %.1f MiB |", t, peak)
		}
		fmt.Printf(" %s / %s |\n", errName(s.Whole), errName(s.Streaming))
	}
	return ok
}

func errName(err error) string {
	if err == nil {
		return "clean end"
	}
	return "`" + err.Error() + "`"
}

// wholeProcess writes the benchmarks' stream to a file, builds kvsdump, and
// times whole processes, 2*count pairs of each comparison, alternating:
// `kvsdump FILE` against `cat FILE`, both to /dev/null, and, reading every
// byte as from a network body, `cat FILE | kvsdump -` against
// `cat FILE | cat`. It prints their speeds and returns kvsdump's speed over cat's
// from the file (the median over the pairs), and whether kvsdump printed one
// line per fragment.
func wholeProcess(count, fragments int) (ratio float64, ok bool) {
	dir, err := os.MkdirTemp("", "benchtable")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	data := bench.StreamConfig.Bytes()
	file := filepath.Join(dir, "stream.mkv")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		fail(err)
	}
	bin := filepath.Join(dir, "kvsdump")
	build := exec.Command("go", "build", "-o", bin, "./examples/kvsdump")
	build.Dir = ".."
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fail(err)
	}
	out, err := exec.Command(bin, file).Output()
	ok = err == nil && bytes.Count(out, []byte("\n")) == fragments
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fail(err)
	}
	defer devNull.Close()
	mbs := func(name string, args ...string) float64 {
		cmd := exec.Command(name, args...)
		cmd.Stdout = devNull
		t := time.Now()
		if err := cmd.Run(); err != nil {
			fail(err)
		}
		return float64(len(data)) / 1e6 / time.Since(t).Seconds()
	}
	compare := func(what string, dump, cat func() float64) float64 {
		d, c, r := result{}, result{}, result{}
		for i := range 2 * count {
			var x, y float64
			if i%2 == 0 {
				x, y = dump(), cat()
			} else {
				y, x = cat(), dump()
			}
			d["MB/s"], c["MB/s"], r["x"] = append(d["MB/s"], x), append(c["MB/s"], y), append(r["x"], x/y)
		}
		fmt.Printf("- %s: %.0f MB/s median, %.0f best; cat %.0f MB/s median, %.0f best: %.2fx cat (median of %d pairs), %.2fx (best pair).\n",
			what, d.median("MB/s"), d.best("MB/s"), c.median("MB/s"), c.best("MB/s"), r.median("x"), 2*count, r.best("x"))
		return r.median("x")
	}
	fmt.Printf("\nWhole processes on a %.0f MB file (page cache warm), output to /dev/null:\n\n", float64(len(data))/1e6)
	ratio = compare("`kvsdump FILE` (JSON lines; a regular file is read in place)",
		func() float64 { return mbs(bin, file) }, func() float64 { return mbs("cat", file) })
	compare("`cat FILE | kvsdump -` (every byte read through a pipe), against `cat FILE | cat`",
		func() float64 { return mbs("sh", "-c", "cat \"$0\" | \"$1\" -", file, bin) },
		func() float64 { return mbs("sh", "-c", "cat \"$0\" | cat", file) })
	return ratio, ok
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "benchtable: %v\n", err)
	os.Exit(1)
}

// run runs go test on the bench package with args and parses its
// benchmark lines.
func run(args ...string) map[string]result {
	cmd := exec.Command("go", append([]string{"test", ".", "-run", "^$"}, args...)...)
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
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
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
