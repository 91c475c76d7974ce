package audio_test

import (
	"errors"
	"io"
	"testing"

	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/audio"
)

// FuzzCodecPrivate gives NewWriter arbitrary WAVEFORMATEX and
// AudioSpecificConfig records and a frame: each is a Writer or a typed
// error, never a panic, and a frame is written or a *FrameError.
//
//	go test ./mkv/audio -run '^$' -fuzz '^FuzzCodecPrivate$' -fuzztime 60s
func FuzzCodecPrivate(f *testing.F) {
	f.Add(true, awsALaw, []byte{1, 2, 3})
	f.Add(true, waveFormatEx(1, 2, 44100, 0, 0, 24), make([]byte, 12))
	f.Add(true, append(waveFormatEx(0x11, 1, 8000, 4055, 256, 4), 2, 0, 0xF9, 0x01), make([]byte, 256))
	f.Add(false, []byte{0x12, 0x10, 0x56, 0xE5, 0x00}, []byte{0x21, 0x10})
	f.Add(false, []byte{0x2B, 0x11, 0x88, 0x00}, []byte{0x21})
	f.Add(false, []byte{0x0F, 0x80, 0x0F, 0xA0, 0x08}, []byte{0x21})
	f.Fuzz(func(t *testing.T, acm bool, cp, frame []byte) {
		tr := &mkv.Track{Number: 1, CodecID: audio.CodecAAC, CodecPrivate: cp}
		if acm {
			tr.CodecID = audio.CodecACM
		}
		w, err := audio.NewWriter(io.Discard, tr)
		if err != nil {
			var cpe *audio.CodecPrivateError
			var fe *audio.FormatError
			if !errors.As(err, &cpe) && !errors.As(err, &fe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if cpe != nil && (cpe.Offset < 0 || cpe.Offset > len(cp)) {
				t.Fatalf("offset %d outside the %d-byte record: %v", cpe.Offset, len(cp), err)
			}
			return
		}
		var fe *audio.FrameError
		if err := w.WriteFrame(frame); err != nil && !errors.As(err, &fe) {
			t.Fatalf("untyped frame error %T: %v", err, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
