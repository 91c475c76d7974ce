// Command kvsdump prints the fragments of a Kinesis Video Streams media
// response (GetMedia or GetMediaForFragmentList output): numbers, timestamps,
// in-band errors, every tag, and per-track counts, one JSON object per
// fragment, as the bytes arrive.
//
// Usage:
//
//	kvsdump [flags] [FILE|-]
//
// With no FILE it dumps a small sample stream it carries, so that a new user
// sees output at once; "-" reads standard input. Each line is written as
// soon as it is known when the input arrives over time (-stream, -follow,
// a pipe); a regular file read to its end is written through a buffer.
// Nothing printed is lost on SIGINT, SIGTERM or SIGPIPE: kvsdump stops
// reading, writes out every whole line it has, and exits.
//
// Exit status:
//
//	0    the input was read to a clean end (fragments with in-band errors included)
//	1    fragments were damaged (a CRC-32 mismatch, a malformed unit skipped: after
//	     printing every fragment, the damaged ones marked "damaged", with one line
//	     on standard error that counts them), or the input was cut off, malformed
//	     (with -strict) or unreadable (after printing every good fragment, the
//	     cut-off one marked "partial"), or KVS or an output failed
//	2    usage: a bad flag or argument
//	3    the input was empty (0 bytes), or the time range held no fragment
//	     (the message says where the stream's fragments are)
//	130  interrupted by SIGINT, SIGTERM or SIGPIPE, or standard output was closed
//
// With several streams (-stream a,b,c or -streams FILE) every line starts
// with a "stream" field. Each stream is read on its own (a follow each, or
// up to 8 time ranges at once), with one KVS client; a stream that fails
// (not found, not authorized, a fragment that fails every time) is named
// in a line on standard error and left while the others go on, and the
// exit status is then 1 once the others have ended or been interrupted.
// -n counts each stream's fragments; -checkpoint keeps every stream's
// position in its one file; -html draws a timeline per stream. -table,
// -out, -annexb, -keyframes, -mkv, -audio, -track, -while-tag and
// -emulate take one stream.
//
// Messages go to standard error. When standard error is a terminal, a
// progress line there (fragments, megabytes, rate, and how far behind now
// the stream is; while no fragment comes, how long since the last) is
// rewritten once a second, cleared before each line printed to the same
// terminal, and ended with a newline when kvsdump is done.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

//go:embed sample.mkv
var sample []byte

// Exit statuses (see the package comment).
const (
	exitOK          = 0
	exitInput       = 1
	exitUsage       = 2
	exitEmpty       = 3
	exitInterrupted = 130
)

func main() {
	// With SIGPIPE notified, a write to a closed standard output returns
	// EPIPE instead of killing the process, so kvsdump ends as interrupted.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is kvsdump with its arguments, streams and a context whose end (a
// signal) interrupts it; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage
	}
	if c.several() {
		return runSeveral(ctx, c, stdout, stderr)
	}
	src, err := c.open(ctx, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kvsdump: %v\n", err)
		if errors.As(err, new(*usageError)) {
			return exitUsage
		}
		return exitInput
	}
	defer src.close()
	return withHTML(c, src, stderr, func() int { return newDumper(c, src, stdout, stderr).run(ctx) })
}

// config is what the command line asks for.
type config struct {
	frames, table, emulate bool
	// strict turns resynchronisation off: a malformed unit of FILE ends
	// the dump.
	strict bool
	// html is the -html report's file.
	html string
	// file is FILE: a path, "-" for standard input, or "" for the sample.
	file  string
	live  live
	out   outputs
	media media
	// tracks, audio and while are -track, -audio and -while-tag.
	tracks trackFlags
	audio  audioOut
	while  whileTag

	// streams is the list of -streams FILE.
	streams streamList
}

// usageError is a command line kvsdump cannot run; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const usageText = `usage: kvsdump [flags] [FILE|-]

Prints the fragments of a KVS GetMedia or GetMediaForFragmentList response,
or of a stream read from KVS with -stream, one JSON line per fragment;
-stream a,b,c or -streams FILE reads several at once, each line naming its
stream. With no FILE, dumps a built-in sample stream; "-" reads standard input.

Exit status: 0 clean end, 1 input cut off, malformed or unreadable (or KVS
failed, or one of several streams), 2 usage, 3 empty input or a time range
with no fragment, 130 interrupted (SIGINT, SIGTERM, SIGPIPE). Damage (a
CRC-32 mismatch, a malformed unit of FILE skipped to the next unit, or
stopped at with -strict) is marked on its fragment, and exits 1.
On a terminal, standard error shows a progress line, updated each second.
A flag that does not apply to the source read (FILE, -stream, -stream
-follow or -emulate) is refused.

Flags (before FILE):
`

// parseArgs reads the command line. It reports a bad one on stderr and
// returns flag.ErrHelp for -h.
func parseArgs(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := c.flagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	switch rest := fs.Args(); {
	case len(rest) > 1 && flagAfterFile(rest[1:]) != "":
		err = usagef("flags must come before FILE: %s comes after %s", flagAfterFile(rest[1:]), rest[0])
	case len(rest) > 1:
		err = usagef("one FILE at most, got %d: %s", len(rest), strings.Join(rest, " "))
	case len(rest) == 1 && (c.live.stream != "" || c.emulate):
		err = usagef("-stream and -emulate read from KVS, not from FILE %s", rest[0])
	case len(rest) == 1 && c.streams.file != "":
		err = usagef("-streams reads from KVS, not from FILE %s", rest[0])
	case len(rest) == 1:
		c.file = rest[0]
	}
	if err == nil {
		err = c.mediaArgs(setFlags(fs))
	}
	if err != nil {
		fmt.Fprintf(stderr, "kvsdump: %v\nusage: kvsdump [flags] [FILE|-]  (kvsdump -h lists the flags)\n", err)
	}
	return c, err
}

// mediaArgs moves "-annexb -" from the folder outputs to the media written
// as frames arrive, then checks the flags given (set) with checkFlags.
func (c *config) mediaArgs(set []string) error {
	if c.out.annexbDir == "-" {
		c.out.annexbDir, c.media.annexbOut = "", true
	}
	return c.checkFlags(set)
}

// flagAfterFile returns the first of args that looks like a flag.
func flagAfterFile(args []string) string {
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' {
			return a
		}
	}
	return ""
}

func (c *config) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kvsdump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.BoolVar(&c.frames, "frames", false, "also print one JSON line per frame, as it is read, before its fragment's line")
	fs.BoolVar(&c.table, "table", false, "print a human-readable table instead of JSON lines")
	fs.BoolVar(&c.strict, "strict", false, "stop at the first malformed unit of FILE instead of skipping to the next one (a CRC-32 mismatch is reported on its fragment either way)")
	l := &c.live
	fs.StringVar(&l.stream, "stream", "", "read the stream with this name or ARN from KVS, instead of a file; a,b,c reads several at once, each line naming its stream")
	fs.StringVar(&c.streams.file, "streams", "", "read the streams this file names from KVS, at once, one name or ARN a line (blank lines and # comments left out), each line naming its stream")
	fs.StringVar(&l.start, "start", "", "with -stream: start of the time range, RFC 3339 (default: an hour before -end)")
	fs.StringVar(&l.end, "end", "", "with -stream: end of the time range, RFC 3339 (default: now)")
	fs.BoolVar(&l.server, "server-time", false, "with -stream: select the range by server timestamps, not producer timestamps")
	fs.BoolVar(&l.follow, "follow", false, "with -stream: follow the stream live with GetMedia, from -from, until interrupted")
	fs.StringVar(&l.from, "from", "now", "with -follow: now, earliest, a fragment number, token:CONTINUATION_TOKEN or an RFC 3339 time")
	fs.IntVar(&l.count, "n", 0, "stop after this many fragments (0: no limit)")
	fs.StringVar(&l.endpoint, "endpoint", "", "with -stream: KVS control-plane endpoint URL, such as an emulator's")
	fs.StringVar(&l.region, "region", "", "with -stream: AWS region (default: from the environment)")
	fs.BoolVar(&c.emulate, "emulate", false, "start a local KVS emulator with a demo stream that ends now, and dump a time range of it (by default the last hour: all of it)")
	o := &c.out
	fs.StringVar(&o.outDir, "out", "", "write each fragment as a playable MKV file in this folder, named by fragment number")
	fs.BoolVar(&o.merge, "merge", false, "with -out: write runs of consecutive fragments with the same tracks as one file")
	fs.StringVar(&o.annexbDir, "annexb", "", "write each H.264/H.265 track as an Annex-B elementary stream in this folder; - writes the first one to standard output as frames arrive (instead of the JSON lines)")
	fs.StringVar(&c.media.mkvPath, "mkv", "", "write every track as one continuous live Matroska stream to this file, or - for standard output (instead of the JSON lines), as frames arrive")
	fs.StringVar(&l.checkpoint, "checkpoint", "", "with -follow: keep the position in this file and resume from it (at-least-once: the fragment in flight when stopped comes again)")
	fs.StringVar(&c.html, "html", "", "also write an HTML report with a timeline of the fragments (gaps, in-band errors) to this file")
	fs.StringVar(&o.keyDir, "keyframes", "", "write each H.264/H.265 keyframe as its own Annex-B file in this folder")
	fs.Var(&c.tracks, "track", "restrict -frames, -annexb, -audio, -mkv and -out to the track `NAME|NUMBER` (such as AUDIO_FROM_CUSTOMER); repeatable. A fragment without it ends the dump (exit 1)")
	fs.StringVar(&c.audio.dir, "audio", "", "write to `DIR` each audio track (PCM, G.711 and other A_MS/ACM, as WAV; AAC as ADTS) as <track name or number>.<wav|aac>, frame by frame; - writes the first one to standard output (instead of the JSON lines)")
	fs.StringVar(&c.while.spec, "while-tag", "", "read while fragments carry the tag `NAME=VALUE` (such as ContactId=...); stop cleanly (exit 0) before the first fragment whose value differs. A fragment without the tag goes on")
	return fs
}
