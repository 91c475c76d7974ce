// Command keyframes is a small live pipeline to copy: it follows a Kinesis
// Video stream frame by frame and writes one image per keyframe of its
// H.264 or H.265 track as the keyframe arrives, named by fragment number and
// wall clock. Each keyframe is turned into a stand-alone Annex-B picture
// (parameter sets first) and piped to ffmpeg, which writes a JPEG; without
// ffmpeg the Annex-B keyframe itself is saved (ffmpeg -i K.h264 K.png makes
// it an image later). Ctrl-C stops it with every file complete.
//
//	go run ./examples/keyframes -stream front-door -out frames/
//	go run ./examples/keyframes -endpoint http://127.0.0.1:4567 -stream cam -from earliest -n 10 -out frames/
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/mkv/annexb"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("keyframes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stream := fs.String("stream", "", "the stream's name or ARN (required)")
	from := fs.String("from", "now", "where to start: now or earliest")
	out := fs.String("out", "keyframes", "the directory the images go to")
	endpoint := fs.String("endpoint", "", "the KVS endpoint, for an emulator")
	n := fs.Int("n", 0, "stop after this many keyframes (0: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *stream == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "keyframes: -stream NAME is required, and no other arguments")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "keyframes:", err)
		return 1
	}
	if *endpoint != "" {
		cfg.BaseEndpoint = aws.String(*endpoint)
	}
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}
	if *from == "earliest" {
		start.StartSelectorType = kvsaws.StartAtEarliest
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(stderr, "keyframes:", err)
		return 1
	}
	p := &pipeline{dir: *out, limit: *n, stderr: stderr}
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		p.ffmpeg = true
	} else {
		fmt.Fprintln(stderr, "keyframes: ffmpeg not found; saving the keyframes as Annex-B .h264/.h265 files")
	}
	err = p.follow(ctx, kvsaws.NewFromConfig(cfg), *stream, start)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "keyframes:", err)
		return 1
	}
	fmt.Fprintf(stderr, "keyframes: %d files in %s\n", p.written, p.dir)
	return 0
}

// pipeline writes the keyframes of a follow.
type pipeline struct {
	dir     string
	limit   int
	ffmpeg  bool
	stderr  io.Writer
	written int
}

// follow writes each keyframe of the first H.264/H.265 track as it arrives.
func (p *pipeline) follow(ctx context.Context, client *kvsaws.Client, stream string, start kvsaws.StartSelector) error {
	for ev, err := range client.FollowFrames(ctx, stream, start) {
		if err != nil {
			return err
		}
		if ev.Kind != kvs.FrameEvent || !ev.Frame.Keyframe {
			continue
		}
		t := ev.Fragment.Track(ev.Frame.Track)
		if t == nil || (t.CodecID != annexb.CodecAVC && t.CodecID != annexb.CodecHEVC) {
			continue
		}
		if err := p.keyframe(ev.Fragment, t, ev.Frame); err != nil {
			return err
		}
		if p.written == p.limit {
			return nil
		}
	}
	return nil
}

// keyframe writes one keyframe alone: its parameter sets and its NAL units
// as Annex-B, then through ffmpeg to a JPEG. The file appears complete or
// not at all: it is written under a temporary name and renamed.
func (p *pipeline) keyframe(f *kvs.Fragment, t *kvs.Track, fr *kvs.Frame) error {
	var pic bytes.Buffer
	w, err := annexb.NewWriter(&pic, t.CodecID, t.CodecPrivate)
	if err != nil {
		return err
	}
	if err := w.WriteFrame(fr.Data, true); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s", f.Number, f.WallClock(fr).Format("20060102T150405.000Z"))
	ext, format := ".h264", "h264"
	if t.CodecID == annexb.CodecHEVC {
		ext, format = ".h265", "hevc"
	}
	path := filepath.Join(p.dir, name+ext)
	tmp := path + ".part"
	if p.ffmpeg {
		path = filepath.Join(p.dir, name+".jpg")
		tmp = filepath.Join(p.dir, name+".part.jpg")
		cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-f", format, "-i", "-", "-frames:v", "1", tmp)
		cmd.Stdin, cmd.Stderr = &pic, p.stderr
		if err := cmd.Run(); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("ffmpeg: %w", err)
		}
	} else if err := os.WriteFile(tmp, pic.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	p.written++
	fmt.Fprintf(p.stderr, "%s %s\n", time.Now().Format(time.TimeOnly), path)
	return nil
}
