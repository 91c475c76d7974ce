package audio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/audio"
)

// wavHeader returns a WAV header as the Writer writes it: fmt of the
// given body, a fact chunk when fact >= 0, RIFF and data sizes given.
func wavHeader(riff uint32, fmtBody []byte, fact int64, data uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32([]byte("RIFF"), riff)
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, uint32(len(fmtBody)))
	b = append(b, fmtBody...)
	if fact >= 0 {
		b = le.AppendUint32(append(b, "fact"...), 4)
		b = le.AppendUint32(b, uint32(fact))
	}
	return le.AppendUint32(append(b, "data"...), data)
}

// TestPipeHeader checks the header written to a writer that cannot seek:
// sizes unknown, no fact chunk, G.711's block alignment and byte rate
// derived from the format tag whatever the WAVEFORMATEX says, and the
// frames after it as they are.
func TestPipeHeader(t *testing.T) {
	var out bytes.Buffer
	w, err := audio.NewWriter(&out, &mkv.Track{Number: 1, CodecID: audio.CodecACM, CodecPrivate: awsALaw})
	if err != nil {
		t.Fatal(err)
	}
	want := wavHeader(0xFFFFFFFF, waveFormatEx(6, 1, 8000, 8000, 1, 8), -1, 0xFFFFFFFF)
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("header before any frame\n% x\nwant\n% x", out.Bytes(), want)
	}
	for _, fr := range []string{"abc", "de"} {
		if err := w.WriteFrame([]byte(fr)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if want = append(want, "abcde"...); !bytes.Equal(out.Bytes(), want) {
		t.Errorf("file\n% x\nwant\n% x", out.Bytes(), want)
	}
}

// TestFileSizes checks that Close writes the exact sizes to a file that
// seeks, a fact chunk's sample count for formats other than PCM, and the
// pad byte of an odd data chunk, then leaves the file at its end; and
// that the header written by NewWriter starts where the file was.
func TestFileSizes(t *testing.T) {
	extensible := func(tag uint32) []byte {
		b := waveFormatEx(0xFFFE, 3, 8000, 8000*3*3, 9, 24)
		b[16] = 22
		b = binary.LittleEndian.AppendUint16(b, 24)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, tag)
		return append(b, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	}
	tests := []struct {
		name    string
		track   mkv.Track
		frames  []string
		fmtBody []byte
		fact    int64
	}{
		{"PCM", mkv.Track{CodecID: audio.CodecPCMLittle, BitDepth: 16}, []string{"ab", "cdef"}, waveFormatEx(1, 1, 8000, 16000, 2, 16)[:16], -1},
		{"A-law, odd size", mkv.Track{CodecID: audio.CodecACM, CodecPrivate: awsALaw}, []string{"abc", "de", "f", "g"}, waveFormatEx(6, 1, 8000, 8000, 1, 8), 7},
		{"float", mkv.Track{CodecID: audio.CodecPCMFloat, SamplingRate: 48000, Channels: 2}, []string{"12345678"}, waveFormatEx(3, 2, 48000, 384000, 8, 32), 1},
		{"24-bit, 3 channels", mkv.Track{CodecID: audio.CodecPCMBig, BitDepth: 24, Channels: 3}, []string{"123456789", "abcdefghi"}, extensible(1), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.wav")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("junk")
			w, err := audio.NewWriter(f, &tt.track)
			if err != nil {
				t.Fatal(err)
			}
			var data []byte
			for _, fr := range tt.frames {
				if err := w.WriteFrame([]byte(fr)); err != nil {
					t.Fatal(err)
				}
				data = append(data, fr...)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f.WriteString("end")
			f.Close()
			if tt.track.CodecID == audio.CodecPCMBig {
				data = []byte("321654987cbafedihg")
			}
			header := wavHeader(0, tt.fmtBody, tt.fact, uint32(len(data)))
			body := append(header, data...)
			if len(data)%2 == 1 {
				body = append(body, 0)
			}
			binary.LittleEndian.PutUint32(body[4:], uint32(len(body)-8))
			got, _ := os.ReadFile(path)
			if want := append(append([]byte("junk"), body...), "end"...); !bytes.Equal(got, want) {
				t.Errorf("file\n% x\nwant\n% x", got, want)
			}
		})
	}
}

// TestADTSHeader checks the ADTS header of each frame against
// AudioSpecificConfigs: the profile, rate index and channels of AAC-LC,
// of HE-AAC signalled explicitly (its core), and of an explicit 24-bit
// frequency that has an index.
func TestADTSHeader(t *testing.T) {
	tests := []struct {
		name string
		asc  []byte
		want []byte // header of a 10-byte frame
	}{
		// AOT 2, index 4 (44100), 2 channels, then a sync extension.
		{"LC 44.1 kHz stereo", []byte{0x12, 0x10, 0x56, 0xE5, 0x00}, []byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x3F, 0xFC}},
		// AOT 5, index 6 (24000), 2 channels, ext index 3 (48000), AOT 2.
		{"HE-AAC explicit", []byte{0x2B, 0x11, 0x88, 0x00}, []byte{0xFF, 0xF1, 0x58, 0x80, 0x02, 0x3F, 0xFC}},
		// AOT 1, index 15 then 8000 in 24 bits, 1 channel.
		{"Main, explicit 8 kHz", []byte{0x0F, 0x80, 0x0F, 0xA0, 0x08}, []byte{0xFF, 0xF1, 0x2C, 0x40, 0x02, 0x3F, 0xFC}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w, err := audio.NewWriter(&out, &mkv.Track{CodecID: audio.CodecAAC, CodecPrivate: tt.asc})
			if err != nil {
				t.Fatal(err)
			}
			frame := []byte("0123456789")
			if err := w.WriteFrame(frame); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFrame(frame[:3]); err != nil {
				t.Fatal(err)
			}
			short := bytes.Clone(tt.want)
			short[4], short[5] = 0x01, 0x5F // frame_length 10
			want := append(append(append(bytes.Clone(tt.want), frame...), short...), frame[:3]...)
			if err := w.Close(); err != nil || !bytes.Equal(out.Bytes(), want) {
				t.Errorf("ADTS (close: %v)\n% x\nwant\n% x", err, out.Bytes(), want)
			}
		})
	}
}

// TestExt checks the extension of each codec, and the error of another.
func TestExt(t *testing.T) {
	for codec, want := range map[string]string{audio.CodecPCMLittle: ".wav", audio.CodecPCMBig: ".wav", audio.CodecPCMFloat: ".wav", audio.CodecACM: ".wav", audio.CodecAAC: ".aac"} {
		if got, err := audio.Ext(codec); got != want || err != nil {
			t.Errorf("Ext(%q) = %q, %v, want %q", codec, got, err, want)
		}
	}
	var ce *audio.CodecError
	if _, err := audio.Ext("A_OPUS"); !errors.As(err, &ce) || ce.CodecID != "A_OPUS" || !errors.Is(err, audio.ErrCodec) {
		t.Errorf("Ext(A_OPUS): %v", err)
	}
}

// TestNewWriterErrors checks that tracks that cannot be converted get a
// typed error that names the track and says where, and that nothing is
// written.
func TestNewWriterErrors(t *testing.T) {
	acm := func(cp []byte) mkv.Track { return mkv.Track{Number: 3, CodecID: audio.CodecACM, CodecPrivate: cp} }
	aac := func(cp ...byte) mkv.Track { return mkv.Track{Number: 3, CodecID: audio.CodecAAC, CodecPrivate: cp} }
	pcm := func(codec string, rate float64, channels, bits uint64) mkv.Track {
		return mkv.Track{Number: 3, CodecID: codec, SamplingRate: rate, Channels: channels, BitDepth: bits}
	}
	overrun := bytes.Clone(awsALaw)
	overrun[16] = 4
	tests := []struct {
		name   string
		track  mkv.Track
		target error
		want   string
	}{
		{"codec", mkv.Track{Number: 3, CodecID: "A_OPUS"}, audio.ErrCodec, `audio: track 3, codec "A_OPUS" is not PCM (A_PCM/*), A_MS/ACM or A_AAC`},
		{"WAVEFORMATEX short", acm(awsALaw[:15]), audio.ErrCodecPrivate, "audio: track 3, codec private offset 15: malformed CodecPrivate: WAVEFORMATEX of 15 bytes, shorter than 16"},
		{"cbSize overruns", acm(append(overrun, 1, 2)), audio.ErrCodecPrivate, "audio: track 3, codec private offset 16: malformed CodecPrivate: WAVEFORMATEX cbSize 4 overruns the 2 bytes after the structure"},
		{"no channels", acm(waveFormatEx(6, 0, 8000, 1000, 1, 0)), audio.ErrCodecPrivate, "audio: track 3, codec private offset 2: malformed CodecPrivate: WAVEFORMATEX of 0 channels"},
		{"no rate", acm(waveFormatEx(7, 1, 0, 1000, 1, 0)), audio.ErrCodecPrivate, "audio: track 3, codec private offset 4: malformed CodecPrivate: WAVEFORMATEX of sampling rate 0"},
		{"PCM of 0 bits", acm(waveFormatEx(1, 1, 8000, 1000, 1, 0)), audio.ErrCodecPrivate, "audio: track 3, codec private offset 14: malformed CodecPrivate: WAVEFORMATEX of PCM of 0 bits per sample"},
		{"float of 16 bits", acm(waveFormatEx(3, 1, 8000, 1000, 1, 16)), audio.ErrCodecPrivate, "audio: track 3, codec private offset 14: malformed CodecPrivate: WAVEFORMATEX of IEEE float of 16 bits per sample"},
		{"ACM too wide", acm(waveFormatEx(1, 0xFFFF, 0xFFFFFFFF, 0, 0, 32)), audio.ErrFormat, "audio: track 3, unusable audio format: 65535 channels of 32 bits at 4294967295 Hz, more than a WAV header can describe"},
		{"ASC empty", aac(), audio.ErrCodecPrivate, "audio: track 3, codec private offset 0: malformed CodecPrivate: AudioSpecificConfig of 0 bytes, cut off"},
		{"ASC cut off", aac(0x12), audio.ErrCodecPrivate, "audio: track 3, codec private offset 1: malformed CodecPrivate: AudioSpecificConfig of 1 bytes, cut off"},
		{"ASC object type", aac(0xF9, 0x42, 0x00), audio.ErrCodecPrivate, "audio: track 3, codec private offset 0: malformed CodecPrivate: AudioSpecificConfig of audio object type 42; ADTS has profiles for types 1 to 4 (Main, LC, SSR, LTP)"},
		{"ASC explicit rate", aac(0x17, 0x80, 0x30, 0x39, 0x08), audio.ErrCodecPrivate, "audio: track 3, codec private offset 0: malformed CodecPrivate: AudioSpecificConfig explicit sampling frequency 24690 Hz, which ADTS has no index for"},
		{"ASC reserved rate", aac(0x16, 0x88), audio.ErrCodecPrivate, "audio: track 3, codec private offset 0: malformed CodecPrivate: AudioSpecificConfig sampling frequency index 13 is reserved"},
		{"ASC channel 0", aac(0x12, 0x00), audio.ErrCodecPrivate, "audio: track 3, codec private offset 1: malformed CodecPrivate: AudioSpecificConfig channel configuration 0; ADTS carries 1 to 7 (a program config element is not supported)"},
		{"ASC 960", aac(0x12, 0x14), audio.ErrCodecPrivate, "audio: track 3, codec private offset 1: malformed CodecPrivate: AudioSpecificConfig of 960-sample frames (frameLengthFlag), which ADTS cannot signal"},
		{"PCM without BitDepth", pcm(audio.CodecPCMLittle, 8000, 1, 0), audio.ErrFormat, "audio: track 3, unusable audio format: A_PCM/INT/LIT of BitDepth 0, not 8, 16, 24 or 32"},
		{"PCM of 12 bits", pcm(audio.CodecPCMBig, 8000, 1, 12), audio.ErrFormat, "audio: track 3, unusable audio format: A_PCM/INT/BIG of BitDepth 12, not 8, 16, 24 or 32"},
		{"float of 16 bits", pcm(audio.CodecPCMFloat, 8000, 1, 16), audio.ErrFormat, "audio: track 3, unusable audio format: A_PCM/FLOAT/IEEE of BitDepth 16, not 32 or 64"},
		{"fractional rate", pcm(audio.CodecPCMLittle, 44100.5, 1, 16), audio.ErrFormat, "audio: track 3, unusable audio format: sampling rate 44100.5 Hz is not a whole number of Hz that WAV can hold"},
		{"too many channels", pcm(audio.CodecPCMLittle, 8000, 70000, 16), audio.ErrFormat, "audio: track 3, unusable audio format: 70000 channels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w, err := audio.NewWriter(&out, &tt.track)
			if w != nil || !errors.Is(err, tt.target) || err.Error() != tt.want {
				t.Fatalf("NewWriter = %v, %v\nwant error %q", w, err, tt.want)
			}
			var track uint64
			var cpe *audio.CodecPrivateError
			var fe *audio.FormatError
			var ce *audio.CodecError
			switch {
			case errors.As(err, &cpe):
				track = cpe.Track
			case errors.As(err, &fe):
				track = fe.Track
			case errors.As(err, &ce):
				track = ce.Track
			}
			if track != 3 || out.Len() > 0 {
				t.Errorf("error of track %d, %d bytes written", track, out.Len())
			}
		})
	}
}

// TestFrameErrors checks that a frame that cannot be written is a
// *FrameError with the frame's index and the offset of the fault, and
// that nothing of it is written.
func TestFrameErrors(t *testing.T) {
	lc := []byte{0x12, 0x10}
	tests := []struct {
		name   string
		track  mkv.Track
		frame  []byte
		offset int64
		detail string
	}{
		{"PCM ends inside a sample", mkv.Track{CodecID: audio.CodecPCMBig, BitDepth: 24, Channels: 2}, make([]byte, 13), 12, "13-byte frame ends inside a 6-byte sample frame"},
		{"A-law stereo", mkv.Track{CodecID: audio.CodecACM, CodecPrivate: waveFormatEx(6, 2, 8000, 1000, 1, 0)}, make([]byte, 3), 2, "3-byte frame ends inside a 2-byte sample frame"},
		{"empty AAC", mkv.Track{CodecID: audio.CodecAAC, CodecPrivate: lc}, nil, 0, "empty AAC frame"},
		{"AAC too long", mkv.Track{CodecID: audio.CodecAAC, CodecPrivate: lc}, make([]byte, 8185), 8184, "AAC frame of 8185 bytes, longer than ADTS's 8184"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.track.Number = 2
			var out bytes.Buffer
			w, err := audio.NewWriter(&out, &tt.track)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFrame(make([]byte, 12)); err != nil { // whole samples, and an AAC frame
				t.Fatal(err)
			}
			before := out.Len()
			err = w.WriteFrame(tt.frame)
			var fe *audio.FrameError
			if !errors.As(err, &fe) || !errors.Is(err, audio.ErrFrame) || fe.Track != 2 || fe.Frame != 1 || fe.Offset != tt.offset {
				t.Fatalf("WriteFrame = %v (%+v), want a *FrameError of track 2, frame 1, offset %d", err, fe, tt.offset)
			}
			if want := fmt.Sprintf("audio: track 2, frame 1, offset %d: malformed frame: %s", tt.offset, tt.detail); err.Error() != want {
				t.Errorf("error %q\nwant  %q", err, want)
			}
			if out.Len() != before {
				t.Errorf("%d bytes of the bad frame written", out.Len()-before)
			}
		})
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errWrite
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriteErrors checks that a failed write is returned, by WriteFrame
// and then Close, and that a write after Close is an error.
func TestWriteErrors(t *testing.T) {
	tr := &mkv.Track{CodecID: audio.CodecPCMLittle, BitDepth: 8}
	if _, err := audio.NewWriter(&failWriter{n: 10}, tr); !errors.Is(err, errWrite) {
		t.Errorf("NewWriter with a failing header: %v", err)
	}
	w, err := audio.NewWriter(&failWriter{n: 50}, tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(make([]byte, 10)); !errors.Is(err, errWrite) {
		t.Errorf("WriteFrame: %v, want %v", err, errWrite)
	}
	if err := w.WriteFrame(make([]byte, 1)); !errors.Is(err, errWrite) {
		t.Errorf("WriteFrame after a failure: %v, want %v", err, errWrite)
	}
	if err := w.Close(); !errors.Is(err, errWrite) {
		t.Errorf("Close: %v, want %v", err, errWrite)
	}
	w, _ = audio.NewWriter(io.Discard, tr)
	w.Close()
	if err := w.WriteFrame([]byte{1}); !errors.Is(err, audio.ErrClosed) {
		t.Errorf("WriteFrame after Close: %v", err)
	}
}
