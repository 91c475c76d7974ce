package audio_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
)

// TestADTSThroughFFmpeg takes AAC that ffmpeg encoded, writes its frames
// into Matroska with mkv.Writer, reads them back and converts them to
// ADTS: ffprobe reads the codec, rate and channels, ffmpeg decodes every
// frame (1024 samples each, the frames' duration), and the frames it
// copies out without their headers are the source's, byte for byte.
func TestADTSThroughFFmpeg(t *testing.T) {
	mediatest.Need(t)
	for _, tc := range []struct {
		rate, channels int
		profile        string
	}{{44100, 2, "LC"}, {16000, 1, "LC"}, {48000, 6, "LC"}} {
		t.Run(fmt.Sprintf("%d Hz %d channels", tc.rate, tc.channels), func(t *testing.T) {
			dir := t.TempDir()
			enc := filepath.Join(dir, "enc.mkv")
			mediatest.Run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=%d:duration=1.5", tc.rate),
				"-ac", strconv.Itoa(tc.channels), "-c:a", "aac", enc)
			encTrack, encFrames := readMKV(t, enc)
			step := time.Duration(1024 * int64(time.Second) / int64(tc.rate))
			tr, got := mkvOf(t, dir, encTrack, encFrames, step)
			if len(got) != len(encFrames) || len(got) < 20 {
				t.Fatalf("read %d frames back, wrote %d", len(got), len(encFrames))
			}
			aac := filepath.Join(dir, "out.aac")
			f, err := os.Create(aac)
			if err != nil {
				t.Fatal(err)
			}
			convert(t, f, &tr, got)
			f.Close()

			out := mediatest.Run(t, "ffprobe", "-v", "error", "-count_packets", "-show_entries",
				"stream=codec_name,profile,sample_rate,channels,nb_read_packets", "-of", "default=nw=1", aac)
			want := fmt.Sprintf("codec_name=aac,profile=%s,sample_rate=%d,channels=%d,nb_read_packets=%d", tc.profile, tc.rate, tc.channels, len(got))
			if p := strings.Join(strings.Fields(out), ","); p != want {
				t.Errorf("ffprobe reads %s\nwant            %s", p, want)
			}
			pcm := mediatest.Run(t, "ffmpeg", "-v", "error", "-i", aac, "-f", "s16le", "-")
			if samples, want := len(pcm)/2/tc.channels, len(got)*1024; samples != want {
				t.Errorf("ffmpeg decodes %d samples per channel, want %d (%d frames of 1024)", samples, want, len(got))
			}
			raw := mediatest.Run(t, "ffmpeg", "-v", "error", "-i", aac, "-map", "0:a", "-c", "copy", "-bsf:a", "aac_adtstoasc", "-f", "data", "-")
			if want := bytes.Join(got, nil); !bytes.Equal([]byte(raw), want) {
				t.Errorf("ffmpeg copies %d bytes of frames out of the ADTS stream, not the %d of the source", len(raw), len(want))
			}
		})
	}
}
