// Command fleet measures what following many live streams from one process
// costs. It builds kvsemu and starts it as a process of its own, feeding N
// live streams (kvsemu -fleet), follows all of them from this process with
// kvsaws.FollowFrames from now on, and reports, over the run after a
// warm-up: frame latency from the producer's write to the loop body (every
// frame carries the wall clock at which kvsemu wrote it; both processes
// read the same clock), this process's CPU (its own rusage: the emulator's
// work is not counted, and is shown apart), heap, RSS, goroutines and TCP
// connections, in total and per stream. -idle follows N streams that
// receive nothing: what an idle follow costs.
//
//	cd bench && go run ./cmd/fleet -streams 1000 -seconds 60 [-idle] [-profile video|calls]
//
// Profiles: video is 25 fps, a keyframe every 2 s, about 400 kbit/s a
// stream; calls is audio only, two 8 kHz 16-bit PCM tracks in 20 ms frames,
// as a contact center streams a call. The emulator feeds its streams
// through PutMedia's ingest in its own process, which costs it about 60% of
// the CPU that PutMedia over HTTP does (-putmedia: a connection a stream),
// so that the two processes sharing the machine leave the consumer its
// share. KVS's limits stay on in the emulator: they are per stream (5
// GetMedia calls a second, 3 connections), so a thousand streams do not
// reach them. The consumer's client is kvsaws.NewFromConfig's with no HTTP
// client of its own, as a program's would be.
//
// -warmup leaves out the start: a follow from now is served the fragment
// being ingested from its start (up to 2 s of frames at once), and the
// connections a thousand follows open at once beyond one each stay idle
// for net/http's 90 s before they close (95 s shows the steady state).
// -cpuprofile and -memprofile write the consumer's profiles.
//
// It ends with one line to compare runs by:
//
//	streams=N frames=F p50-ms=X p99-ms=X max-ms=X consumer-cpu-cores=X consumer-rss-MB=X heap-MB=X goroutines=N
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http/httptrace"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags ask for.
type config struct {
	streams          int
	seconds, warmup  time.Duration
	idle, putMedia   bool
	profile          string
	emulator         string
	cpuProfile, heap string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.streams, "streams", 10, "live streams to follow")
	seconds := fs.Float64("seconds", 30, "length of the measured run, after the warm-up")
	warmup := fs.Float64("warmup", 5, "seconds of following before the measured run (StartAtNow serves the fragment being ingested from its start)")
	fs.BoolVar(&c.idle, "idle", false, "follow streams that receive nothing")
	fs.BoolVar(&c.putMedia, "putmedia", false, "feed the streams through PutMedia over HTTP, not in the emulator's process")
	fs.StringVar(&c.profile, "profile", "video", "media of the streams: video or calls")
	fs.StringVar(&c.emulator, "emulator", "", "a kvsemu binary to run (default: built from this repository)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the consumer's CPU profile of the measured run to this file")
	fs.StringVar(&c.heap, "memprofile", "", "write the consumer's heap profile at the end of the run to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c.seconds = time.Duration(*seconds * float64(time.Second))
	c.warmup = time.Duration(*warmup * float64(time.Second))
	if fs.NArg() > 0 || c.streams < 1 || c.seconds <= 0 || c.warmup < 0 || c.profile != "video" && c.profile != "calls" {
		fmt.Fprintln(stderr, "usage: fleet -streams N -seconds S [-idle] [-profile video|calls]")
		return 2
	}
	if c.heap != "" {
		runtime.MemProfileRate = 4096 // the heap of a follow is a few kilobytes
	}
	r, err := measure(ctx, c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "fleet:", err)
		return 1
	}
	r.print(stdout)
	return 0
}

// result is what one run measured.
type result struct {
	config
	cpuModel string

	frames, reconnects, errors uint64
	dials, reused              uint64
	latency                    *histogram

	consumerCPU, emulatorCPU time.Duration
	elapsed                  time.Duration

	// Memory and the rest at the end of the run, and before the first
	// follow (the base that per-stream figures are counted from).
	heap, heapBase         uint64
	stacks, stacksBase     uint64
	rss, rssBase, peak     int64
	goroutines, goBase     int
	connections, connsBase int
}

// measure runs the emulator and the follows, and measures.
func measure(ctx context.Context, c config, log io.Writer) (*result, error) {
	bin := c.emulator
	if bin == "" {
		dir, err := os.MkdirTemp("", "fleet")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if bin, err = buildEmulator(ctx, dir); err != nil {
			return nil, err
		}
	}
	profile := c.profile
	if c.idle {
		profile = "idle"
	}
	spec := fmt.Sprintf("%d,%s", c.streams, profile)
	if c.putMedia {
		spec += ",putmedia"
	}
	emu, env, err := startEmulator(bin, spec, log)
	if err != nil {
		return nil, err
	}
	defer emu.stop()

	r := &result{config: c, cpuModel: cpuModel(), latency: newHistogram(100*time.Microsecond, 10*time.Second)}
	runtime.GC()
	r.heapBase, r.stacksBase = heapInuse()
	r.goBase = runtime.NumGoroutine()
	r.rssBase, _, _ = memory("/proc/self/status")
	r.connsBase, _ = tcpConnections()

	cfg := aws.Config{
		Region:       env["AWS_REGION"],
		Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
	}
	client := kvsaws.NewFromConfig(cfg)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var measuring atomic.Bool
	fctx = httptrace.WithClientTrace(fctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !measuring.Load() {
			return
		}
		if info.Reused {
			atomic.AddUint64(&r.reused, 1)
		} else {
			atomic.AddUint64(&r.dials, 1)
		}
	}})
	var wg sync.WaitGroup
	var reported atomic.Int32
	for i := range c.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.follow(fctx, client, fmt.Sprintf("fleet-%d", i), &measuring, &reported, log)
		}()
	}

	if err := sleep(ctx, c.warmup); err != nil {
		return nil, err
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	emu0, _ := processCPU(emu.cmd.Process.Pid)
	cpu0, t0 := cpuTime(), time.Now()
	measuring.Store(true)
	err = sleep(ctx, c.seconds)
	measuring.Store(false)
	r.consumerCPU, r.elapsed = cpuTime()-cpu0, time.Since(t0)
	emu1, _ := processCPU(emu.cmd.Process.Pid)
	r.emulatorCPU = emu1 - emu0
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	r.heap, r.stacks = heapInuse()
	r.goroutines = runtime.NumGoroutine()
	r.rss, r.peak, _ = memory("/proc/self/status")
	r.connections, _ = tcpConnections()
	if c.heap != "" {
		if err := writeHeapProfile(c.heap); err != nil {
			return nil, err
		}
	}
	cancel()
	wg.Wait()
	return r, nil
}

// follow follows one stream until ctx ends, counting what arrives while
// measuring.
func (r *result) follow(ctx context.Context, client *kvsaws.Client, stream string, measuring *atomic.Bool, reported *atomic.Int32, log io.Writer) {
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}
	for ev, err := range client.FollowFrames(ctx, stream, start) {
		if err != nil {
			if ctx.Err() == nil {
				atomic.AddUint64(&r.errors, 1)
				if reported.Add(1) <= 5 {
					fmt.Fprintf(log, "fleet: %s: %v\n", stream, err)
				}
			}
			return
		}
		if !measuring.Load() {
			continue
		}
		switch ev.Kind {
		case kvs.FrameEvent:
			if len(ev.Frame.Data) >= 8 {
				wrote := int64(binary.BigEndian.Uint64(ev.Frame.Data))
				r.latency.add(time.Duration(time.Now().UnixNano() - wrote))
			}
			atomic.AddUint64(&r.frames, 1)
		case kvs.ReconnectEvent:
			atomic.AddUint64(&r.reconnects, 1)
		}
	}
}

// heapInuse returns the bytes of heap spans and of goroutine stacks in use.
func heapInuse() (heap, stacks uint64) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(f)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// buildEmulator builds examples/kvsemu of the kvsmkv module this command
// is built with into dir.
func buildEmulator(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/kvsmkv/kvsmkv").Output()
	if err != nil {
		return "", fmt.Errorf("finding the kvsmkv module: %w", err)
	}
	bin := filepath.Join(dir, "kvsemu")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/kvsemu")
	cmd.Dir = strings.TrimSpace(string(out))
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building kvsemu: %w", err)
	}
	return bin, nil
}

// emulator is a running kvsemu.
type emulator struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startEmulator runs kvsemu with -fleet spec on a free port and returns
// the environment it printed (endpoint, credentials, region).
func startEmulator(bin, spec string, log io.Writer) (*emulator, map[string]string, error) {
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-fleet", spec)
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	e := &emulator{cmd: cmd, done: make(chan struct{})}
	env := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if ok {
			env[k] = v
		}
		if k == "AWS_DEFAULT_REGION" {
			break
		}
	}
	go func() {
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(e.done)
	}()
	if env["AWS_ENDPOINT_URL"] == "" || env["AWS_REGION"] == "" {
		e.stop()
		return nil, nil, errors.New("kvsemu printed no endpoint")
	}
	return e, env, nil
}

// stop interrupts the emulator and waits for it to end.
func (e *emulator) stop() {
	e.cmd.Process.Signal(os.Interrupt)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		e.cmd.Process.Kill()
		<-e.done
	}
}

// cpuModel is the CPU's model name from /proc/cpuinfo, and the number of
// CPUs.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	model := "unknown CPU"
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			model = strings.TrimSpace(v)
			break
		}
	}
	return fmt.Sprintf("%s, %d CPUs", model, runtime.NumCPU())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(n int64) float64         { return float64(n) / (1 << 20) }

// print writes the table and the summary line.
func (r *result) print(w io.Writer) {
	kind := r.profile
	if r.idle {
		kind = "idle"
	}
	fmt.Fprintf(w, "fleet: %d %s streams followed from one process, measured %.0f s after %.0f s of warm-up; %s\n",
		r.streams, kind, r.elapsed.Seconds(), r.warmup.Seconds(), r.cpuModel)
	n := float64(r.streams)
	cores := r.consumerCPU.Seconds() / r.elapsed.Seconds()
	f := func(format string, v ...any) string { return fmt.Sprintf(format, v...) }
	rows := [][3]string{
		{"", "total", "per stream"},
		{"frames received", f("%d", r.frames), f("%.0f", float64(r.frames)/n)},
		{"frames a second (the producers' rate)", f("%.0f (%.0f)", float64(r.frames)/r.elapsed.Seconds(), r.rate()*n), f("%.1f (%.0f)", float64(r.frames)/r.elapsed.Seconds()/n, r.rate())},
		{"frame latency p50 / p99 / max (ms)", f("%.1f / %.1f / %.1f", ms(r.latency.quantile(0.5)), ms(r.latency.quantile(0.99)), ms(r.latency.maximum())), ""},
		{"consumer CPU (cores)", f("%.3f", cores), f("%.6f", cores/n)},
		{"consumer RSS, peak (MB)", f("%.1f, %.1f", mb(r.rss), mb(r.peak)), f("%.3f", mb(r.rss-r.rssBase)/n)},
		{"heap in use (MB)", f("%.1f", mb(int64(r.heap))), f("%.3f", mb(int64(r.heap)-int64(r.heapBase))/n)},
		{"goroutine stacks (MB)", f("%.1f", mb(int64(r.stacks))), f("%.3f", mb(int64(r.stacks)-int64(r.stacksBase))/n)},
		{"goroutines", f("%d", r.goroutines), f("%.1f", float64(r.goroutines-r.goBase)/n)},
		{"TCP connections open", f("%d", r.connections), f("%.2f", float64(r.connections-r.connsBase)/n)},
		{"connections made / reused", f("%d / %d", r.dials, r.reused), ""},
		{"GetMedia sessions ended (reconnects)", f("%d", r.reconnects), ""},
		{"follows ended by an error", f("%d", r.errors), ""},
		{"emulator CPU (cores, not counted)", f("%.3f", r.emulatorCPU.Seconds()/r.elapsed.Seconds()), ""},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-38s %20s %12s\n", row[0], row[1], row[2])
	}
	fmt.Fprintf(w, "per stream: memory, goroutines and connections above the %.1f MB RSS, %.1f MB heap, %d goroutines and %d connections before the first follow\n",
		mb(r.rssBase), mb(int64(r.heapBase)), r.goBase, r.connsBase)
	fmt.Fprintln(w, r.summary())
}

// rate is the frames a second each stream's producer writes.
func (r *result) rate() float64 {
	switch {
	case r.idle:
		return 0
	case r.profile == "calls":
		return 2 * 50 // two tracks of 20 ms frames
	}
	return 25
}

// summary is the one line that ends the output.
func (r *result) summary() string {
	return fmt.Sprintf("streams=%d frames=%d p50-ms=%.1f p99-ms=%.1f max-ms=%.1f consumer-cpu-cores=%.3f consumer-rss-MB=%.1f heap-MB=%.1f goroutines=%d",
		r.streams, r.frames, ms(r.latency.quantile(0.5)), ms(r.latency.quantile(0.99)), ms(r.latency.maximum()),
		r.consumerCPU.Seconds()/max(r.elapsed.Seconds(), 1e-9), mb(r.rss), mb(int64(r.heap)), r.goroutines)
}
