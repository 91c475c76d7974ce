package annexb_test

import (
	"bytes"
	"errors"
	"fmt"
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
	if _, err := annexb.ParseCodecPrivate("A_AAC", nil); !errors.Is(err, annexb.ErrCodec) {
		t.Errorf("A_AAC: %v", err)
	}
}

// TestFrameErrors checks that a malformed frame is a *FrameError naming
// the track, the frame's index and the offset in the frame of the length
// at fault.
func TestFrameErrors(t *testing.T) {
	tests := []struct {
		name   string
		frame  []byte
		offset int64
		detail string
	}{
		{"length past the end", []byte{0, 0, 0, 1, 0x41, 0, 0, 0, 9, 1}, 5, "NAL unit of 9 bytes past the end of the 10-byte frame"},
		{"length cut off", []byte{0, 0}, 0, "4-byte NAL unit length cut off at the end of the 2-byte frame"},
		{"empty NAL unit", []byte{0, 0, 0, 0}, 0, "NAL unit of length 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w, err := annexb.NewWriter(&out, annexb.CodecAVC, avcC, annexb.WithTrack(2))
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := w.WriteFrame([]byte{0, 0, 0, 1, 0x41}, false); err != nil {
					t.Fatal(err)
				}
			}
			before := out.Len()
			err = w.WriteFrame(tt.frame, false)
			var fe *annexb.FrameError
			if !errors.As(err, &fe) || !errors.Is(err, annexb.ErrFrame) {
				t.Fatalf("WriteFrame(% x) = %v, want a *FrameError wrapping ErrFrame", tt.frame, err)
			}
			if fe.Track != 2 || fe.Frame != 3 || fe.Offset != tt.offset {
				t.Errorf("FrameError{Track %d, Frame %d, Offset %d}, want {2, 3, %d}", fe.Track, fe.Frame, fe.Offset, tt.offset)
			}
			want := fmt.Sprintf("annexb: track 2, frame 3, offset %d: malformed length-prefixed frame: %s", tt.offset, tt.detail)
			if err.Error() != want {
				t.Errorf("error %q\nwant  %q", err, want)
			}
			if out.Len() != before {
				t.Errorf("%d bytes of the bad frame written", out.Len()-before)
			}
		})
	}
}

// TestCodecPrivateErrors checks that avcC and hvcC records are refused,
// with the offset of the fault, when they are cut short or lack a
// parameter set a decoder needs.
func TestCodecPrivateErrors(t *testing.T) {
	noPPS := append(bytes.Clone(avcC[:11]), 0)
	tests := []struct {
		name    string
		codecID string
		cp      []byte
		offset  int
		detail  string
	}{
		{"empty", annexb.CodecAVC, nil, 0, "avcC of 0 bytes, shorter than its 7-byte header"},
		{"short header", annexb.CodecAVC, []byte{1, 2, 3}, 3, "avcC of 3 bytes, shorter than its 7-byte header"},
		{"version", annexb.CodecAVC, append([]byte{2}, avcC[1:]...), 0, "avcC version 2, want 1"},
		{"no SPS", annexb.CodecAVC, append(bytes.Clone(avcC[:5]), 0xE0, 1, 0, 2, 0x68, 0xCC), 5, "avcC without an SPS"},
		{"SPS past the end", annexb.CodecAVC, avcC[:10], 6, "parameter set of 3 bytes past the end of the record (10 bytes)"},
		{"PPS count missing", annexb.CodecAVC, avcC[:11], 11, "avcC without a PPS"},
		{"no PPS", annexb.CodecAVC, noPPS, 11, "avcC without a PPS"},
		{"PPS length cut off", annexb.CodecAVC, avcC[:13], 12, "parameter set length cut off at the end of the record (13 bytes)"},
		{"PPS past the end", annexb.CodecAVC, avcC[:15], 12, "parameter set of 2 bytes past the end of the record (15 bytes)"},
		{"empty SPS", annexb.CodecAVC, append(bytes.Clone(avcC[:6]), 0, 0), 6, "empty parameter set"},
		{"hvcC short", annexb.CodecHEVC, hvcC(t)[:22], 22, "hvcC of 22 bytes, shorter than its 23-byte header"},
		{"hvcC array cut off", annexb.CodecHEVC, hvcC(t)[:31], 30, "NAL unit array cut off at the end of the record (31 bytes)"},
		{"hvcC SPS past the end", annexb.CodecHEVC, hvcC(t)[:35], 33, "parameter set of 2 bytes past the end of the record (35 bytes)"},
		{"hvcC without VPS", annexb.CodecHEVC, hvcC(t, 0x42, 0x44), 22, "hvcC without a VPS"},
		{"hvcC without PPS", annexb.CodecHEVC, hvcC(t, 0x40, 0x42), 22, "hvcC without a PPS"},
		{"hvcC without any", annexb.CodecHEVC, hvcC(t, 0x4E), 22, "hvcC without a VPS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := annexb.NewWriter(&bytes.Buffer{}, tt.codecID, tt.cp, annexb.WithTrack(1))
			var ce *annexb.CodecPrivateError
			if !errors.As(err, &ce) || !errors.Is(err, annexb.ErrCodecPrivate) {
				t.Fatalf("NewWriter(% x) = %v, want a *CodecPrivateError wrapping ErrCodecPrivate", tt.cp, err)
			}
			want := fmt.Sprintf("annexb: track 1, codec private offset %d: malformed avcC/hvcC: %s", tt.offset, tt.detail)
			if ce.Track != 1 || ce.Offset != tt.offset || err.Error() != want {
				t.Errorf("error %q (track %d, offset %d)\nwant  %q", err, ce.Track, ce.Offset, want)
			}
		})
	}
}

// hvcC returns an hvcC record with one parameter set of each NAL unit type
// given as its first header byte (0x40 VPS, 0x42 SPS, 0x44 PPS by default).
func hvcC(t *testing.T, types ...byte) []byte {
	t.Helper()
	if len(types) == 0 {
		types = []byte{0x40, 0x42, 0x44}
	}
	b := make([]byte, 23)
	b[0], b[21], b[22] = 1, 0xF3, byte(len(types))
	for i, typ := range types {
		b = append(b, 0x80|typ>>1, 0, 1, 0, 2, typ, byte(i+1))
	}
	return b
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
			if codecID = ev.StringValue(); codecID != wantCodec {
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
