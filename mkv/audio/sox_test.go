package audio_test

import (
	"bytes"
	"os/exec"
	"testing"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/audio"
)

// TestSoxPipe writes WAV into sox through a pipe (sizes unknown): sox
// reads every sample, in the source's encoding.
func TestSoxPipe(t *testing.T) {
	if _, err := exec.LookPath("sox"); err != nil {
		mediatest.Skip(t, "sox", "apt-get install sox")
	}
	for _, tc := range []struct {
		name  string
		track mkv.Track
	}{
		{"s16le", mkv.Track{CodecID: audio.CodecPCMLittle, BitDepth: 16}},
		{"A-law", mkv.Track{CodecID: audio.CodecACM, CodecPrivate: awsALaw}},
		{"µ-law", mkv.Track{CodecID: audio.CodecACM, CodecPrivate: waveFormatEx(7, 1, 8000, 0, 0, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("sox", "-V1", "-t", "wav", "-", "-t", "raw", "-")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w, err := audio.NewWriter(stdin, &tc.track)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			for i := range 50 {
				frame := bytes.Repeat([]byte{byte(i), byte(i * 7)}, 160) // 20 ms of 16-bit, 40 of G.711
				if err := w.WriteFrame(frame); err != nil {
					t.Fatal(err)
				}
				want = append(want, frame...)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("sox: %v %s", err, stderr.String())
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("sox reads %d bytes of samples from the pipe, not the %d written", out.Len(), len(want))
			}
		})
	}
}
