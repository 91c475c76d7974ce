package annexb_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/annexb"
)

// avcC with 4-byte lengths, one SPS and one PPS.
var avcC = []byte{1, 0x64, 0, 0x1f, 0xFF, 0xE1, 0, 3, 0x67, 0xAA, 0xBB, 1, 0, 2, 0x68, 0xCC}

func TestWriteFrame(t *testing.T) {
	var out bytes.Buffer
	w, err := annexb.NewWriter(&out, annexb.CodecAVC, avcC)
	if err != nil {
		t.Fatal(err)
	}
	frame := []byte{0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x06}
	if err := w.WriteFrame(frame, true); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame([]byte{0, 0, 0, 1, 0x41}, false); err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 1, 0x67, 0xAA, 0xBB, 0, 0, 0, 1, 0x68, 0xCC, 0, 0, 0, 1, 0x65, 1, 0, 0, 0, 1, 0x06, 0, 0, 0, 1, 0x41}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("got % x\nwant % x", out.Bytes(), want)
	}
	for _, bad := range [][]byte{{0, 0, 0, 9, 1}, {0, 0}, {0, 0, 0, 0}} {
		if err := w.WriteFrame(bad, false); !errors.Is(err, annexb.ErrFrame) {
			t.Errorf("frame % x: %v", bad, err)
		}
	}
}

func TestCodecPrivate(t *testing.T) {
	hvcC := make([]byte, 23)
	hvcC[0], hvcC[21], hvcC[22] = 1, 0xF3, 3
	for _, ps := range [][]byte{{0x40, 1}, {0x42, 2}, {0x44, 3}} {
		hvcC = append(hvcC, 0x80|ps[0]>>1, 0, 1, 0, byte(len(ps)))
		hvcC = append(hvcC, ps...)
	}
	c, err := annexb.ParseCodecPrivate(annexb.CodecHEVC, hvcC)
	if err != nil || c.LengthSize != 4 || len(c.ParamSets) != 3 || !c.HEVC || c.ParamSets[2][0] != 0x44 {
		t.Fatalf("hvcC: %+v, %v", c, err)
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, avcC[:10], avcC[:12], avcC[:15]} {
		if _, err := annexb.ParseCodecPrivate(annexb.CodecAVC, bad); !errors.Is(err, annexb.ErrCodecPrivate) {
			t.Errorf("avcC % x: %v", bad, err)
		}
	}
	if _, err := annexb.ParseCodecPrivate(annexb.CodecHEVC, hvcC[:30]); !errors.Is(err, annexb.ErrCodecPrivate) {
		t.Errorf("truncated hvcC: %v", err)
	}
	if _, err := annexb.ParseCodecPrivate("A_AAC", nil); !errors.Is(err, annexb.ErrCodec) {
		t.Errorf("A_AAC: %v", err)
	}
}

// TestFFmpegDecodes converts an H.264 track that ffmpeg encoded into
// Matroska back to Annex-B: ffmpeg must decode every frame, and a keyframe
// on its own must decode to an image of the track's size.
func TestFFmpegDecodes(t *testing.T) {
	mediatest.Need(t)
	for _, enc := range []struct{ name, codecID, ext string }{{"libx264", annexb.CodecAVC, "h264"}, {"libx265", annexb.CodecHEVC, "hevc"}} {
		t.Run(enc.name, func(t *testing.T) { decodes(t, enc.name, enc.codecID, enc.ext) })
	}
}

func decodes(t *testing.T, encoder, wantCodec, ext string) {
	if !strings.Contains(mediatest.Run(t, "ffmpeg", "-hide_banner", "-encoders"), encoder) {
		t.Skipf("ffmpeg has no %s", encoder)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mkv")
	mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "3", "-c:v", encoder, "-g", "10",
		"-x265-params", "log-level=error", "-pix_fmt", "yuv420p", src)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var es bytes.Buffer
	var w *annexb.Writer
	var key []byte
	var codecID string
	var codecPrivate []byte
	frames := 0
	for ev, err := range mkv.NewDecoder(bytes.NewReader(data)).All() {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.ID == mkv.IDCodecID:
			if codecID = ev.String(); codecID != wantCodec {
				t.Fatalf("ffmpeg wrote %s, want %s", codecID, wantCodec)
			}
		case ev.ID == mkv.IDCodecPrivate:
			codecPrivate = bytes.Clone(ev.Bytes)
		case ev.Kind == mkv.BlockKind:
			if w == nil {
				if w, err = annexb.NewWriter(&es, codecID, codecPrivate); err != nil {
					t.Fatal(err)
				}
			}
			for _, fr := range ev.Block.Frames {
				if err := w.WriteFrame(fr, ev.Block.Keyframe); err != nil {
					t.Fatal(err)
				}
				if ev.Block.Keyframe && key == nil {
					var k bytes.Buffer
					kw, _ := annexb.NewWriter(&k, codecID, codecPrivate)
					kw.WriteFrame(fr, true)
					key = k.Bytes()
				}
				frames++
			}
		}
	}
	h264 := filepath.Join(dir, "out."+ext)
	os.WriteFile(h264, es.Bytes(), 0o644)
	if got := mediatest.Frames(t, h264, "v:0"); got != 30 || frames != 30 {
		t.Errorf("ffprobe counted %d frames in the Annex-B stream; the track has %d", got, frames)
	}
	keyFile, png := filepath.Join(dir, "key."+ext), filepath.Join(dir, "key.png")
	os.WriteFile(keyFile, key, 0o644)
	mediatest.Run(t, "ffmpeg", "-v", "error", "-i", keyFile, "-frames:v", "1", png)
	if dims := mediatest.Size(t, png); dims != "320,240" {
		t.Errorf("the keyframe decoded to %s, want 320,240", dims)
	}
}
