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
// Streams are preloaded with -stream NAME or -stream NAME=SPEC, repeated;
// SPEC describes a generated stream (kvstest.ParseStreamConfig):
// comma-separated fragments=N, duration=2s, fps=N, audio, counting,
// bitrate=N, start=RFC3339. Generated streams carry decodable H.264 and
// AAC unless "counting" is given.
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
	"strings"
	"syscall"

	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// streamFlags collects -stream values.
type streamFlags []string

func (s *streamFlags) String() string     { return strings.Join(*s, " ") }
func (s *streamFlags) Set(v string) error { *s = append(*s, v); return nil }

// run starts the emulator and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kvsemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4567", "address to listen on (port 0 picks one)")
	noLimits := fs.Bool("no-limits", false, "do not enforce KVS's request rates")
	form := fs.String("timestamps", "mixed", "form of JSON timestamps: mixed, decimal, exponent or integer")
	var streams streamFlags
	fs.Var(&streams, "stream", "preload a generated stream: NAME or NAME=SPEC (repeatable)")
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
	type preload struct {
		name string
		c    kvstest.StreamConfig
	}
	var pre []preload
	for _, s := range streams {
		name, spec, _ := strings.Cut(s, "=")
		c, err := kvstest.ParseStreamConfig(spec)
		if err == nil && name == "" {
			err = errors.New("kvsemu: -stream needs a name")
		}
		if err != nil {
			fmt.Fprintln(stderr, "kvsemu:", err)
			return 2
		}
		pre = append(pre, preload{name, c})
	}

	srv, err := kvstest.NewServerAt(*addr)
	if err != nil {
		fmt.Fprintln(stderr, "kvsemu:", err)
		return 1
	}
	defer srv.Close()
	if !*noLimits {
		srv.EnforceKVSLimits()
	}
	srv.SetTimestampForm(tsForm)
	for _, p := range pre {
		srv.AddStream(p.name, p.c)
	}
	fmt.Fprintf(stdout, "export AWS_ENDPOINT_URL=%s\n", srv.URL())
	fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\n", kvstest.AccessKeyID)
	fmt.Fprintf(stdout, "export AWS_SECRET_ACCESS_KEY=%s\n", kvstest.SecretAccessKey)
	fmt.Fprintf(stdout, "export AWS_REGION=%s\n", kvstest.Region)
	fmt.Fprintf(stdout, "export AWS_DEFAULT_REGION=%s\n", kvstest.Region) // what AWS CLI v1 reads
	fmt.Fprintf(stderr, "kvsemu: serving at %s until interrupted\n", srv.URL())
	<-ctx.Done()
	fmt.Fprintln(stderr, "kvsemu: stopped")
	return 0
}
