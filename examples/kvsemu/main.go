// Command kvsemu runs the local Kinesis Video Streams emulator of
// kvs/kvstest as a server that AWS's own clients (the AWS CLI, boto3, the
// SDKs) and kvsdump can use, with no AWS account.
//
//	go build -o /tmp/kvsemu ./examples/kvsemu
//	/tmp/kvsemu -stream cam=fragments=30,audio -env /tmp/kvsemu.env &
//	until [ -s /tmp/kvsemu.env ] || ! kill -0 $! 2>/dev/null; do sleep 0.1; done
//	. /tmp/kvsemu.env
//	aws --endpoint-url "$AWS_ENDPOINT_URL" kinesisvideo list-streams
//
// Once it serves, it prints on standard output lines a shell can source:
// the endpoint, the emulator's static test credentials and its region (as
// AWS_REGION and, for AWS CLI v1, AWS_DEFAULT_REGION); -env FILE also
// writes them to FILE, atomically, and removes FILE at exit. A start that
// fails (a missing file, a port in use) exits non-zero with a message and
// writes no FILE, so the wait above ends at once. It serves until
// interrupted (SIGINT or SIGTERM). It listens on loopback unless -addr
// says otherwise.
//
// Streams are preloaded with -stream NAME or -stream NAME=SPEC, repeated.
// SPEC is either an MKV file (when it contains a "/" or ends in .mkv, .mka,
// .mk3d or .webm), whose Clusters become the stream's fragments, numbered
// and timestamped as KVS would (kvstest.Server.AddStreamFromFile: a
// GetMedia capture's own AWS_KINESISVIDEO_* tags give way to the
// emulator's, its other tags are kept), or
// describes a generated stream (kvstest.ParseStreamConfig):
// comma-separated fragments=N, duration=2s, fps=N, audio, counting,
// bitrate=N, start=RFC3339. Generated streams carry decodable H.264 and
// AAC unless "counting" is given, and end when kvsemu starts unless
// start= says when they begin, so that a time range of the last hour
// (kvsdump -stream's default) holds them; "connect" (an Amazon Connect
// call: two named 8 kHz PCM tracks, a ContactId tag) or "chime=alaw" and
// "chime=mulaw" (a Chime Voice Connector call leg in G.711) make a call's
// audio instead, the call changing at fragment change=N (by default the
// middle).
//
//	kvsemu -stream cam=fragments=30,audio -stream door=examples/kvsdump/sample.mkv
//
// -produce NAME=FILE[@SPEED][,loop], repeated, feeds a stream live from an
// MKV file through PutMedia, in-process, as a camera would: each block is
// sent when its time has come (SPEED 1, the default), SPEED times as fast,
// or as fast as it can with @0. The stream is created (24 hours of
// retention) unless it exists; a file whose times start near 0 is sent
// with RELATIVE timecodes from now, one with wall-clock times with
// ABSOLUTE ones. With ,loop the file is sent again and again until kvsemu
// stops, each pass with RELATIVE timecodes that go on from the last (the
// file's times moved to start at 0). A GetMedia with StartSelectorType NOW
// follows it frame by frame; the end of each file is reported on standard
// error.
//
//	kvsemu -produce cam=examples/kvsdump/sample.mkv@2,loop
//
// -fleet N[,PROFILE][,putmedia] feeds N streams, fleet-0 ...
// fleet-(N-1), live from media made on the fly, for a benchmark of many
// followers (bench/cmd/fleet): PROFILE video (the default: 25 fps, a
// keyframe every 2 s, about 400 kbit/s), calls (two 8 kHz PCM tracks, 20
// ms frames) or idle (the streams exist, nothing is fed). The media goes
// through PutMedia's ingest in this process (kvstest.Server.Ingest), or
// with putmedia through PutMedia over HTTP, a connection a stream. The
// first 8 bytes of every frame are the wall clock at which it was written.
//
// -data DIR keeps streams and fragments in DIR so that they survive a
// restart (kvstest.Server.OpenDataDir): streams created with CreateStream,
// PutMedia or -produce, and streams from files. A fragment acknowledged
// PERSISTED is on disk, also if the process is killed (kill -9). Without
// -data everything is in memory; generated streams always are.
//
// AWS's C producer SDK (v1.6.4 tried; the engine under the C++ SDK and
// GStreamer's kvssink) streams into it with its default settings: given
// the endpoint (createDefaultCallbacksProviderWithAwsCredentialsAndEndpointOverride)
// it creates and tags streams, puts media, and stops with every fragment
// acknowledged PERSISTED. Stream tags, UpdateDataRetention
// and UpdateStream are served; the API model's other operations answer
// UnsupportedOperationException (see kvstest's package documentation for
// what is emulated and what is not).
//
// KVS's rate limits (5 calls a second per stream and API, and its
// connection limits) are enforced unless -no-limits. Faults are injected
// at run time through the admin endpoint under /_kvsemu/ (see
// kvstest.AdminPrefix), for example:
//
//	curl -d '{"API":"GetMedia","Status":500,"Type":"InternalFailure","Count":2}' $AWS_ENDPOINT_URL/_kvsemu/fail
//	curl -d '{"Stream":"cam"}' $AWS_ENDPOINT_URL/_kvsemu/move-endpoint
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/atomicfile"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// streamFlags collects the values of a repeated flag.
type streamFlags []string

// String is safe on a nil receiver, which the flag package may use.
func (s *streamFlags) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(*s, " ")
}
func (s *streamFlags) Set(v string) error { *s = append(*s, v); return nil }

// preload is a stream of -stream: generated from c, or read from path.
type preload struct {
	name, path string
	c          kvstest.StreamConfig
}

// feed is a stream of -produce.
type feed struct {
	name, path string
	speed      float64
	loop       bool
}

// isFile tells a -stream SPEC that names an MKV file.
func isFile(spec string) bool {
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".mkv", ".mka", ".mk3d", ".webm":
		return true
	}
	return strings.ContainsRune(spec, '/')
}

// parseStream reads a -stream value.
func parseStream(v string) (preload, error) {
	name, spec, _ := strings.Cut(v, "=")
	if name == "" {
		return preload{}, errors.New("-stream needs a name")
	}
	if isFile(spec) {
		if _, err := os.Stat(spec); err != nil {
			return preload{}, fmt.Errorf("-stream %s: %w", v, err)
		}
		return preload{name: name, path: spec}, nil
	}
	c, err := kvstest.ParseStreamConfig(spec)
	return preload{name: name, c: c}, err
}

// speedHelp says what SPEED may be.
const speedHelp = "SPEED is a number: 1 plays the file in real time (the default), 2 twice as fast, 0.5 at half speed, 0 as fast as it can"

// parseFeed reads a -produce value: NAME=FILE[@SPEED][,loop].
func parseFeed(v string) (feed, error) {
	name, path, _ := strings.Cut(v, "=")
	if name == "" || path == "" {
		return feed{}, fmt.Errorf("-produce %q: want NAME=FILE[@SPEED][,loop]", v)
	}
	f := feed{name: name, path: path, speed: 1}
	if p, ok := strings.CutSuffix(f.path, ",loop"); ok {
		f.path, f.loop = p, true
	}
	if i := strings.LastIndexByte(f.path, '@'); i >= 0 {
		speed, err := strconv.ParseFloat(f.path[i+1:], 64)
		switch _, statErr := os.Stat(f.path); {
		case err == nil && speed >= 0 && !math.IsInf(speed, 0):
			f.path, f.speed = f.path[:i], speed
		case statErr == nil:
			// A file whose name holds an '@'.
		default:
			return feed{}, fmt.Errorf("-produce %s: SPEED %q: %s", v, f.path[i+1:], speedHelp)
		}
	}
	if f.loop && f.speed == 0 {
		return feed{}, fmt.Errorf("-produce %s: a loop needs a SPEED above 0 (0 would send without end as fast as it can)", v)
	}
	if _, err := os.Stat(f.path); err != nil {
		return feed{}, fmt.Errorf("-produce %s: %w", v, err)
	}
	return f, nil
}

// lockedWriter serializes the writes of the producers and of run.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// run starts the emulator and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kvsemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4567", "address to listen on (port 0 picks one)")
	noLimits := fs.Bool("no-limits", false, "do not enforce KVS's request rates")
	form := fs.String("timestamps", "mixed", "form of JSON timestamps: mixed, decimal, exponent or integer")
	dataDir := fs.String("data", "", "keep streams and fragments in this directory, across restarts")
	var streams, feeds streamFlags
	fs.Var(&streams, "stream", "preload a stream: NAME, NAME=SPEC of a generated stream, or NAME=FILE.mkv (repeatable)")
	fleetSpec := fs.String("fleet", "", "feed N generated live streams fleet-0 ... fleet-(N-1): N[,video|calls|idle][,putmedia]")
	fs.Var(&feeds, "produce", "feed a stream with PutMedia from an MKV file at its frame rate times SPEED, and again and again with ,loop: NAME=FILE[@SPEED][,loop] (repeatable)")
	envFile := fs.String("env", "", "also write the export lines to this `file` once serving (atomically, so that a shell can wait for it), and remove it at exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *envFile != "" {
		// A file left by an earlier run must not pass for this one's.
		if err := os.Remove(*envFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, "kvsemu:", err)
			return 1
		}
	}
	started := time.Now()
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kvsemu: unexpected arguments %q\n", fs.Args())
		return 2
	}
	tsForm, err := kvstest.ParseTimestampForm(*form)
	if err != nil {
		fmt.Fprintln(stderr, "kvsemu:", err)
		return 2
	}
	var pre []preload
	for _, v := range streams {
		p, err := parseStream(v)
		if err != nil {
			fmt.Fprintln(stderr, "kvsemu:", strings.TrimPrefix(err.Error(), "kvstest: "))
			return 2
		}
		if p.path == "" && p.c.Start.IsZero() {
			// A generated stream ends now, in a default time range.
			p.c.Start = started.Add(-p.c.Length())
		}
		pre = append(pre, p)
	}
	var fed []feed
	for _, v := range feeds {
		f, err := parseFeed(v)
		if err != nil {
			fmt.Fprintln(stderr, "kvsemu:", err)
			return 2
		}
		fed = append(fed, f)
	}

	var fl fleet
	if *fleetSpec != "" {
		if fl, err = parseFleet(*fleetSpec); err != nil {
			fmt.Fprintln(stderr, "kvsemu:", err)
			return 2
		}
	}

	srv, err := kvstest.NewServerAt(*addr)
	if err != nil {
		fmt.Fprintln(stderr, "kvsemu:", err)
		return 1
	}
	defer srv.Close()
	if *dataDir != "" {
		if err := srv.OpenDataDir(*dataDir); err != nil {
			fmt.Fprintln(stderr, "kvsemu:", err)
			return 1
		}
	}
	if !*noLimits {
		srv.EnforceKVSLimits()
	}
	srv.SetTimestampForm(tsForm)
	for _, p := range pre {
		if p.path == "" {
			srv.AddStream(p.name, p.c)
		} else if err := srv.AddStreamFromFile(p.name, p.path); err != nil {
			fmt.Fprintln(stderr, "kvsemu:", err)
			return 1
		}
	}
	if err := fl.create(srv); err != nil {
		fmt.Fprintln(stderr, "kvsemu: -fleet:", err)
		return 1
	}
	exports := fmt.Sprintf("export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n"+
		"export AWS_REGION=%s\nexport AWS_DEFAULT_REGION=%s\n", // AWS_DEFAULT_REGION is what AWS CLI v1 reads
		srv.URL(), kvstest.AccessKeyID, kvstest.SecretAccessKey, kvstest.Region, kvstest.Region)
	if *envFile != "" {
		if err := atomicfile.WriteFile(*envFile, []byte(exports)); err != nil {
			fmt.Fprintln(stderr, "kvsemu:", err)
			return 1
		}
		defer os.Remove(*envFile)
	}
	io.WriteString(stdout, exports)
	log := &lockedWriter{w: stderr}
	fmt.Fprintf(log, "kvsemu: serving at %s until interrupted\n", srv.URL())

	pctx, stopFeeds := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, f := range fed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			produce(pctx, srv, f, log)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		fl.run(pctx, srv, log)
	}()
	<-ctx.Done()
	stopFeeds()
	wg.Wait()
	fmt.Fprintln(log, "kvsemu: stopped")
	return 0
}

// produce feeds a stream from a file through PutMedia, creating the stream
// if needed, and reports the outcome on log.
func produce(ctx context.Context, srv *kvstest.Server, f feed, log io.Writer) {
	if err := srv.CreateStream(f.name, 24*time.Hour); err != nil && !errors.Is(err, kvstest.ErrStreamExists) {
		fmt.Fprintf(log, "kvsemu: -produce %s: %v\n", f.name, err)
		return
	}
	persisted := 0
	p := kvstest.Producer{
		Config: srv.Config(), Endpoint: srv.URL(), Stream: f.name, Speed: f.speed,
		OnAck: func(a kvstest.Ack) {
			if a.EventType == kvstest.EventPersisted {
				persisted++
			}
		},
	}
	var err error
	if f.loop {
		err = loop(ctx, &p, f.path)
	} else {
		err = once(ctx, &p, f.path)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(log, "kvsemu: -produce %s: stopped after %d fragments\n", f.name, persisted)
	case err != nil:
		fmt.Fprintf(log, "kvsemu: -produce %s: %v (%d fragments persisted)\n", f.name, err, persisted)
	default:
		fmt.Fprintf(log, "kvsemu: -produce %s: %s sent, %d fragments persisted\n", f.name, f.path, persisted)
	}
}

// once sends the file once: a file whose times start near 0 with RELATIVE
// timecodes from now, one with wall-clock times with ABSOLUTE ones.
func once(ctx context.Context, p *kvstest.Producer, path string) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	relative, err := startsNearZero(file)
	if err == nil {
		_, err = file.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	p.Relative = relative
	_, err = p.Produce(ctx, file)
	return err
}

// loop sends the file again and again until ctx ends, each pass with
// RELATIVE timecodes that go on from where the last pass ended: the
// file's Cluster times are made to start at 0, and pass k starts at the
// first pass's start plus k times the file's length.
func loop(ctx context.Context, p *kvstest.Producer, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	length, err := rebase(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if length <= 0 {
		return fmt.Errorf("%s: no frames to loop", path)
	}
	p.Relative, p.StartTimestamp = true, time.Now()
	for ctx.Err() == nil {
		if _, err := p.Produce(ctx, bytes.NewReader(data)); err != nil {
			return err
		}
		p.StartTimestamp = p.StartTimestamp.Add(length)
	}
	return nil
}

// rebase rewrites, in place, the Cluster timecodes of an MKV file so that
// its first Cluster is at 0 (each value keeps its width, as none grows),
// and returns the file's length: from its first Cluster to where the next
// frame would come, a frame lasting as long as the gap before it on its
// track, on the track that ends first.
func rebase(data []byte) (time.Duration, error) {
	d := mkv.NewDecoder(bytes.NewReader(data))
	scale := uint64(mkv.DefaultTimecodeScale)
	var first, cluster int64
	started := false
	last, step := map[uint64]int64{}, map[uint64]int64{} // per track, in ticks
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		switch {
		case ev.Kind == mkv.Value && ev.ID == mkv.IDTimecodeScale && ev.Uint > 0:
			scale = ev.Uint
		case ev.Kind == mkv.Value && ev.ID == mkv.IDTimecode:
			if !started {
				first, started = int64(ev.Uint), true
			}
			cluster = int64(ev.Uint)
			v, at := ev.Uint-uint64(first), ev.DataOffset()
			for i := int64(ev.Size) - 1; i >= 0; i-- {
				data[at+i], v = byte(v), v>>8
			}
		case ev.Kind == mkv.BlockKind && started:
			t := cluster + int64(ev.Block.Timecode)
			if prev, ok := last[ev.Block.Track]; ok && t > prev {
				step[ev.Block.Track] = t - prev
			}
			last[ev.Block.Track] = t
		}
	}
	end := int64(-1)
	for track, t := range last {
		if e := t + step[track]; end < 0 || e < end {
			end = e
		}
	}
	if end <= first {
		return 0, nil
	}
	return time.Duration(end-first) * time.Duration(scale), nil
}

// startsNearZero tells whether the first Cluster of an MKV file is before
// 2001 in its time scale: a file timed from 0 rather than from the wall
// clock, which is sent with RELATIVE timecodes.
func startsNearZero(r io.Reader) (bool, error) {
	d := mkv.NewDecoder(r)
	scale := uint64(mkv.DefaultTimecodeScale)
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		switch {
		case ev.Kind == mkv.Value && ev.ID == mkv.IDTimecodeScale && ev.Uint > 0:
			scale = ev.Uint
		case ev.Kind == mkv.Value && ev.ID == mkv.IDTimecode:
			at := time.Unix(0, 0).Add(time.Duration(ev.Uint) * time.Duration(scale))
			return at.Before(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)), nil
		}
	}
}
