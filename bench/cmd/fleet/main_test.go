package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantile(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{3 * ms}, 0.99, 3 * ms},
		// 1..100 ms: the 50th is 50 ms, the 99th 99 ms, each the upper
		// end of its 1 ms bucket.
		{"median of 100", ramp(100, ms), 0.5, 50 * ms},
		{"p99 of 100", ramp(100, ms), 0.99, 99 * ms},
		{"p100 is the maximum", ramp(100, ms), 1, 100 * ms},
		// The upper end of a bucket is never above the largest sample.
		{"within a bucket", []time.Duration{100 * time.Microsecond, 200 * time.Microsecond}, 0.5, 200 * time.Microsecond},
		{"negative counts as 0", []time.Duration{-5 * ms, 2 * ms}, 0.5, 0},
		// Above the limit: the overflow bucket, reported as the maximum.
		{"overflow", []time.Duration{ms, 20 * time.Second}, 0.99, 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistogram(ms, 10*time.Second)
			for _, d := range tt.samples {
				h.add(d)
			}
			if got := h.quantile(tt.q); got != tt.want {
				t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
			if got := h.count(); got != uint64(len(tt.samples)) {
				t.Errorf("count() = %d, want %d", got, len(tt.samples))
			}
		})
	}
}

// ramp returns 1..n times unit.
func ramp(n int, unit time.Duration) []time.Duration {
	var d []time.Duration
	for i := 1; i <= n; i++ {
		d = append(d, time.Duration(i)*unit)
	}
	return d
}

// summaryLine is the format of the last line, which runs are compared by.
var summaryLine = regexp.MustCompile(`^streams=(\d+) frames=(\d+) p50-ms=(\d+\.\d) p99-ms=(\d+\.\d) max-ms=(\d+\.\d) consumer-cpu-cores=(\d+\.\d{3}) consumer-rss-MB=(\d+\.\d) heap-MB=(\d+\.\d) goroutines=(\d+)$`)

func TestSummary(t *testing.T) {
	r := &result{config: config{streams: 1000, profile: "video", warmup: time.Second}, latency: newHistogram(100*time.Microsecond, 10*time.Second)}
	r.frames, r.goroutines = 25000, 3004
	r.latency.add(2 * time.Millisecond)
	r.latency.add(150 * time.Millisecond)
	r.consumerCPU, r.elapsed = 3*time.Second, 10*time.Second
	r.rss, r.heap = 150<<20, 100<<20
	want := "streams=1000 frames=25000 p50-ms=2.0 p99-ms=150.0 max-ms=150.0 consumer-cpu-cores=0.300 consumer-rss-MB=150.0 heap-MB=100.0 goroutines=3004"
	if got := r.summary(); got != want {
		t.Errorf("summary() = %q, want %q", got, want)
	}
	var out bytes.Buffer
	r.print(&out)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; last != want {
		t.Errorf("the output ends with %q, want the summary %q", last, want)
	}
	if !summaryLine.MatchString(want) {
		t.Errorf("summary %q does not match %v", want, summaryLine)
	}
}

func TestMemory(t *testing.T) {
	dir := t.TempDir()
	status := dir + "/status"
	os.WriteFile(status, []byte("Name:\tfleet\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t4\n"), 0o644)
	rss, peak, err := memory(status)
	if err != nil || rss != 1<<20 || peak != 2<<20 {
		t.Errorf("memory() = %d, %d, %v; want %d, %d", rss, peak, err, 1<<20, 2<<20)
	}
	os.WriteFile(status, []byte("VmRSS:\tlots kB\n"), 0o644)
	if _, _, err := memory(status); err == nil {
		t.Error("memory() of a bad VmRSS: no error")
	}
}

func TestProcessCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	if _, err := processCPU(os.Getpid()); err != nil {
		t.Errorf("processCPU(self): %v", err)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("processCPU(-1): no error")
	}
}

// TestRun follows two live streams of a real kvsemu for a moment: frames
// arrive with their latency, each stream on a connection of its own.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs kvsemu")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc:", err)
	}
	ctx := context.Background()
	bin, err := buildEmulator(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := config{streams: 2, seconds: 2 * time.Second, warmup: time.Second, profile: "calls", emulator: bin}
	var log bytes.Buffer
	r, err := measure(ctx, c, &log)
	if err != nil {
		t.Fatalf("measure: %v\n%s", err, log.String())
	}
	if r.frames == 0 || r.latency.count() != r.frames {
		t.Errorf("frames %d, latencies %d: want the same, more than 0", r.frames, r.latency.count())
	}
	if r.errors != 0 {
		t.Errorf("%d follows ended by an error:\n%s", r.errors, log.String())
	}
	if r.connections < 2 {
		t.Errorf("%d TCP connections open, want one per stream at least", r.connections)
	}
	m := summaryLine.FindStringSubmatch(r.summary())
	if m == nil {
		t.Fatalf("summary %q does not match %v", r.summary(), summaryLine)
	}
	if n, _ := strconv.Atoi(m[1]); n != 2 {
		t.Errorf("summary says streams=%s, want 2", m[1])
	}
}
