// Command kvsemu runs the local Kinesis Video Streams emulator of
// kvs/kvstest as a server that AWS's own clients (the AWS CLI, boto3, the
// SDKs) and kvsdump can use, with no AWS account.
//
//	eval "$(go run ./examples/kvsemu -addr 127.0.0.1:4567 -stream cam=fragments=30,audio)" &
//	aws kinesisvideo list-streams
//
// On start it prints, on standard output, lines a shell can eval: the
// endpoint, the emulator's static test credentials and its region (as
// AWS_REGION and, for AWS CLI v1, AWS_DEFAULT_REGION). It
// serves until interrupted (SIGINT or SIGTERM). It listens on loopback
// unless -addr says otherwise.
//
// Streams are preloaded with -stream NAME or -stream NAME=SPEC, repeated.
// SPEC is either an MKV file (when it contains a "/" or ends in .mkv, .mka,
// .mk3d or .webm), whose Clusters become the stream's fragments, numbered
// and timestamped as KVS would (kvstest.Server.AddStreamFromFile), or
// describes a generated stream (kvstest.ParseStreamConfig):
// comma-separated fragments=N, duration=2s, fps=N, audio, counting,
// bitrate=N, start=RFC3339. Generated streams carry decodable H.264 and
// AAC unless "counting" is given.
//
//	kvsemu -stream cam=fragments=30,audio -stream door=./door.mkv
//
// -produce NAME=FILE[@SPEED], repeated, feeds a stream live from an MKV
// file through PutMedia, in-process, as a camera would: each block is sent
// when its time has come (SPEED 1, the default), SPEED times as fast, or
// as fast as it can with @0. The stream is created (24 hours of retention)
// unless it exists; a file whose times start near 0 is sent with RELATIVE
// timecodes from now, one with wall-clock times with ABSOLUTE ones. A
// GetMedia with StartSelectorType NOW follows it frame by frame; the end
// of each file is reported on standard error.
//
//	kvsemu -produce cam=./door.mkv@2
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
// KVS's rate limits (5 calls a second per stream and API, and its
// connection limits) are enforced unless -no-limits. Faults are injected
// at run time through the admin endpoint under /_kvsemu/ (see
// kvstest.AdminPrefix), for example:
//
//	curl -d '{"API":"GetMedia","Status":500,"Type":"InternalFailure","Count":2}' $AWS_ENDPOINT_URL/_kvsemu/fail
//	curl -d '{"Stream":"cam"}' $AWS_ENDPOINT_URL/_kvsemu/move-endpoint
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

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

// parseFeed reads a -produce value: NAME=FILE[@SPEED].
func parseFeed(v string) (feed, error) {
	name, path, _ := strings.Cut(v, "=")
	if name == "" || path == "" {
		return feed{}, fmt.Errorf("-produce %q: want NAME=FILE[@SPEED]", v)
	}
	f := feed{name: name, path: path, speed: 1}
	if i := strings.LastIndexByte(path, '@'); i >= 0 {
		if speed, err := strconv.ParseFloat(path[i+1:], 64); err == nil {
			if speed < 0 {
				return feed{}, fmt.Errorf("-produce %q: negative speed", v)
			}
			f.path, f.speed = path[:i], speed
		}
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
	fs.Var(&feeds, "produce", "feed a stream with PutMedia from an MKV file at its frame rate times SPEED: NAME=FILE[@SPEED] (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
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
	fmt.Fprintf(stdout, "export AWS_ENDPOINT_URL=%s\n", srv.URL())
	fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\n", kvstest.AccessKeyID)
	fmt.Fprintf(stdout, "export AWS_SECRET_ACCESS_KEY=%s\n", kvstest.SecretAccessKey)
	fmt.Fprintf(stdout, "export AWS_REGION=%s\n", kvstest.Region)
	fmt.Fprintf(stdout, "export AWS_DEFAULT_REGION=%s\n", kvstest.Region) // what AWS CLI v1 reads
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
	file, err := os.Open(f.path)
	if err != nil {
		fmt.Fprintf(log, "kvsemu: -produce %s: %v\n", f.name, err)
		return
	}
	defer file.Close()
	relative, err := startsNearZero(file)
	if err == nil {
		_, err = file.Seek(0, io.SeekStart)
	}
	if err != nil {
		fmt.Fprintf(log, "kvsemu: -produce %s: %s: %v\n", f.name, f.path, err)
		return
	}
	persisted := 0
	p := kvstest.Producer{
		Config: srv.Config(), Endpoint: srv.URL(), Stream: f.name, Speed: f.speed, Relative: relative,
		OnAck: func(a kvstest.Ack) {
			if a.EventType == kvstest.EventPersisted {
				persisted++
			}
		},
	}
	_, err = p.Produce(ctx, file)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(log, "kvsemu: -produce %s: stopped after %d fragments\n", f.name, persisted)
	case err != nil:
		fmt.Fprintf(log, "kvsemu: -produce %s: %v (%d fragments persisted)\n", f.name, err, persisted)
	default:
		fmt.Fprintf(log, "kvsemu: -produce %s: %s sent, %d fragments persisted\n", f.name, f.path, persisted)
	}
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
