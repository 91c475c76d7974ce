// Command callaudio saves one phone call from a Kinesis Video stream, as
// Amazon Connect's live media streaming and the Amazon Chime SDK Voice
// Connector write them: it follows the stream from the fragment the call
// starts with, frame by frame, while the fragments carry the call's
// ContactId (Connect) or TransactionId (Chime), and writes each audio
// track as a WAV file as it arrives, plus, for Connect's two tracks, one
// stereo WAV with the customer on the left and the agent on the right,
// aligned by the frames' timestamps (silence fills a gap). It stops at
// the first fragment of another call (a stream is reused for the next
// contact), after -idle without a frame, or on Ctrl-C, with every file
// complete, and prints its progress on standard error.
//
//	go run ./examples/callaudio -stream connect-contact-stream -fragment 91343852333181432392682062607743920146159169392 -contact 2a4ffd2a-...
//	go run ./examples/callaudio -stream ChimeVoiceConnector-abc-123 -fragment 9134385233... -transaction 5ca1ab1e-...
//
// -fragment is the call's first fragment: Connect's StartFragmentNumber
// (the contact attribute $.MediaStreams.Customer.Audio.StartFragmentNumber),
// or the startFragmentNumber of the Voice Connector's streaming event. The
// follow begins with that fragment itself (kvsaws.Client.StartAt), not
// with the one after it as GetMedia's FRAGMENT_NUMBER selector would.
// Without -contact or -transaction, the call is the one of that fragment.
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
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/tags"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// The tags that name a call, and Connect's track names.
const (
	tagContact     = "ContactId"
	tagTransaction = "TransactionId"
	fromCustomer   = "AUDIO_FROM_CUSTOMER"
	toCustomer     = "AUDIO_TO_CUSTOMER"
)

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("callaudio", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stream := fs.String("stream", "", "the stream's name or ARN (required)")
	fragment := fs.String("fragment", "", "the call's first fragment number, such as Connect's StartFragmentNumber (required)")
	contact := fs.String("contact", "", "the Connect ContactId to save (default: the one of -fragment)")
	transaction := fs.String("transaction", "", "the Chime Voice Connector TransactionId to save (default: the one of -fragment)")
	dir := fs.String("dir", ".", "the directory the WAV files go to")
	idle := fs.Duration("idle", 0, "stop after this long without a frame (0: until the call changes or Ctrl-C)")
	endpoint := fs.String("endpoint", "", "the KVS endpoint, for an emulator")
	region := fs.String("region", "", "the AWS region (default: from the environment)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	first, err := tags.ParseFragmentNumber(*fragment)
	switch {
	case *stream == "" || *fragment == "" || fs.NArg() > 0:
		fmt.Fprintln(stderr, "callaudio: -stream NAME and -fragment NUMBER are required, and no other arguments")
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "callaudio: -fragment %q: %v\n", *fragment, err)
		return 2
	case *contact != "" && *transaction != "":
		fmt.Fprintln(stderr, "callaudio: a call is a -contact (Connect) or a -transaction (Chime), not both")
		return 2
	}
	opts := []func(*config.LoadOptions) error{}
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "callaudio:", err)
		return 1
	}
	if *endpoint != "" {
		cfg.BaseEndpoint = aws.String(*endpoint)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "callaudio:", err)
		return 1
	}
	c := &call{dir: *dir, first: first, stderr: stderr}
	switch {
	case *contact != "":
		c.tag, c.id = tagContact, *contact
	case *transaction != "":
		c.tag, c.id = tagTransaction, *transaction
	}
	err = c.follow(ctx, kvsaws.NewFromConfig(cfg), *stream, *idle)
	if cerr := c.close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "callaudio:", err)
		return 1
	}
	return 0
}

// follow reads the call from its first fragment until another call's
// fragment, idle without a frame, or the end of ctx.
func (c *call) follow(ctx context.Context, client *kvsaws.Client, stream string, idle time.Duration) error {
	start, err := client.StartAt(ctx, stream, c.first)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timer *time.Timer
	if idle > 0 {
		timer = time.AfterFunc(idle, cancel)
		defer timer.Stop()
	}
	fmt.Fprintf(c.stderr, "callaudio: following %s from fragment %s\n", stream, c.first)
	for ev, err := range client.FollowFrames(ctx, stream, start) {
		if err != nil {
			return err
		}
		if timer != nil && ev.Kind == kvs.FrameEvent {
			timer.Reset(idle)
		}
		switch ev.Kind {
		case kvs.FragmentStartEvent:
			if goOn, err := c.begin(ev.Fragment); !goOn {
				return err
			}
		case kvs.FrameEvent:
			if err := c.frame(ev.Fragment, ev.Frame); err != nil {
				return err
			}
		case kvs.FragmentEvent:
			c.progress(ev.Fragment)
		case kvs.ReconnectEvent:
			if !errors.Is(ev.Err, kvsaws.ErrMediaEnded) {
				fmt.Fprintf(c.stderr, "callaudio: reconnecting: %v\n", ev.Err)
			}
		}
	}
	if ctx.Err() != nil && idle > 0 {
		fmt.Fprintf(c.stderr, "callaudio: no frame for %v: stopping\n", idle)
	}
	return nil
}

// begin decides, at a fragment's start, whether the call goes on: a
// fragment before the call's first is skipped (a selector by timestamp may
// begin early), one of another call ends it, with an error when no frame
// of the call came before it (the -contact or -transaction given is not
// the one of -fragment). The first fragment names the call when no
// -contact or -transaction did.
func (c *call) begin(f *kvs.Fragment) (bool, error) {
	c.skip = f.Number != "" && f.Number.Compare(c.first) < 0
	if c.skip {
		return true, nil
	}
	if c.tag == "" {
		for _, name := range []string{tagContact, tagTransaction} {
			if v, ok := f.Tag(name); ok {
				c.tag, c.id = name, v
				fmt.Fprintf(c.stderr, "callaudio: %s %s\n", name, v)
				break
			}
		}
	}
	if v, ok := f.Tag(c.tag); ok && c.tag != "" && v != c.id {
		if len(c.tracks) == 0 {
			return false, fmt.Errorf("fragment %s has %s %s, not %s: no frame of the call was written", f.Number, c.tag, v, c.id)
		}
		fmt.Fprintf(c.stderr, "callaudio: fragment %s has %s %s: the call ended\n", f.Number, c.tag, v)
		return false, nil
	}
	return true, nil
}

// progress prints a line per fragment of the call, indexed from 0 as
// kvsdump's are (the call's first fragment is fragment 0).
func (c *call) progress(f *kvs.Fragment) {
	if c.skip {
		return
	}
	var parts []string
	for _, t := range c.tracks {
		parts = append(parts, fmt.Sprintf("%s %.2f s", t.label, t.seconds()))
	}
	if c.stereo != nil {
		parts = append(parts, fmt.Sprintf("stereo %.2f s", c.stereo.seconds()))
	}
	fmt.Fprintf(c.stderr, "callaudio: fragment %d (number %s): %s\n", c.fragments, f.Number, strings.Join(parts, ", "))
	c.fragments++
}

func (c *call) close() error {
	var errs []error
	for _, t := range c.tracks {
		errs = append(errs, t.close())
	}
	if c.stereo != nil {
		errs = append(errs, c.stereo.close())
	}
	for _, t := range c.tracks {
		fmt.Fprintf(c.stderr, "callaudio: wrote %s (%.2f s)\n", t.path, t.seconds())
	}
	if c.stereo != nil {
		fmt.Fprintf(c.stderr, "callaudio: wrote %s (%.2f s)\n", c.stereo.path, c.stereo.seconds())
	}
	return errors.Join(errs...)
}

// fileName returns the path of a file of the call.
func (c *call) fileName(suffix string) string {
	id := c.id
	if id == "" {
		id = "call"
	}
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id+"-"+suffix)
	return filepath.Join(c.dir, safe+".wav")
}
