package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/audio"
	"github.com/kvsmkv/kvsmkv/tags"
)

// call is the call being saved: a WAV file per audio track, and the
// stereo one of Connect's two tracks.
type call struct {
	dir    string
	first  tags.FragmentNumber
	stderr io.Writer

	// tag and id name the call: ContactId or TransactionId, and its value.
	tag, id string
	// skip: the fragment being read is before the call's first.
	skip bool
	// fragments counts the call's fragments read.
	fragments int

	tracks  []*trackFile
	byTrack map[uint64]*trackFile
	stereo  *stereo
	noMix   bool // the stereo file was found impossible, and said so
}

// trackFile is the WAV file of one track.
type trackFile struct {
	label, path string
	file        *os.File
	w           *audio.Writer
	perSecond   float64 // bytes of a second of audio, 0 when not known
	written     int64
}

func (t *trackFile) seconds() float64 {
	if t.perSecond == 0 {
		return 0
	}
	return float64(t.written) / t.perSecond
}

func (t *trackFile) close() error {
	return errors.Join(t.w.Close(), t.file.Close())
}

func isAudio(t *kvs.Track) bool {
	return t.Type == mkv.AudioTrack || strings.HasPrefix(t.CodecID, "A_")
}

// frame writes a frame of the call.
func (c *call) frame(f *kvs.Fragment, fr *kvs.Frame) error {
	if c.skip {
		return nil
	}
	t := f.Track(fr.Track)
	if t == nil || !isAudio(t) {
		return nil
	}
	tf, err := c.track(t)
	if err != nil {
		return err
	}
	if err := tf.w.WriteFrame(fr.Data); err != nil {
		return fmt.Errorf("fragment %s: %w", f.Number, err)
	}
	tf.written += int64(len(fr.Data))
	if ch := channel(t); ch >= 0 {
		if s := c.mixer(t); s != nil {
			return s.add(ch, fr.Timestamp, fr.Data)
		}
	}
	return nil
}

// track returns the file of a track, created at its first frame.
func (c *call) track(t *kvs.Track) (*trackFile, error) {
	if tf := c.byTrack[t.Number]; tf != nil {
		return tf, nil
	}
	label := t.Name
	if label == "" {
		label = fmt.Sprintf("track%d", t.Number)
	}
	tf := &trackFile{label: label, path: c.fileName(label), perSecond: bytesPerSecond(t)}
	var err error
	if tf.file, err = os.Create(tf.path); err != nil {
		return nil, err
	}
	if tf.w, err = audio.NewWriter(tf.file, &t.Track); err != nil {
		tf.file.Close()
		os.Remove(tf.path)
		return nil, err
	}
	if c.byTrack == nil {
		c.byTrack = map[uint64]*trackFile{}
	}
	c.byTrack[t.Number] = tf
	c.tracks = append(c.tracks, tf)
	return tf, nil
}

// bytesPerSecond returns how many bytes a second of a track's audio
// takes: PCM of its bit depth, or G.711's one byte a sample (A_MS/ACM of
// format tag 6 or 7); 0 for other codecs.
func bytesPerSecond(t *kvs.Track) float64 {
	rate, channels := cmpOr(t.SamplingRate, mkv.DefaultSamplingRate), float64(max(t.Channels, 1))
	switch {
	case strings.HasPrefix(t.CodecID, "A_PCM/"):
		return rate * channels * float64(max(t.BitDepth, 8)/8)
	case t.CodecID == audio.CodecACM && len(t.CodecPrivate) >= 2:
		if tag := binary.LittleEndian.Uint16(t.CodecPrivate); tag == 6 || tag == 7 {
			return rate * channels
		}
	}
	return 0
}

func cmpOr(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// channel returns the stereo channel of one of Connect's tracks: the
// customer left (0), the agent right (1); -1 for another track.
func channel(t *kvs.Track) int {
	switch t.Name {
	case fromCustomer:
		return 0
	case toCustomer:
		return 1
	}
	return -1
}

// mixer returns the stereo file, created with the first track that goes
// into it; nil when a track cannot go into it (not 16-bit little-endian
// PCM of the file's rate), which is said once.
func (c *call) mixer(t *kvs.Track) *stereo {
	rate := cmpOr(t.SamplingRate, mkv.DefaultSamplingRate)
	ok := t.CodecID == audio.CodecPCMLittle && t.BitDepth == 16 && max(t.Channels, 1) == 1 && (c.stereo == nil || c.stereo.rate == rate)
	if !ok {
		if !c.noMix {
			c.noMix = true
			fmt.Fprintf(c.stderr, "callaudio: track %s is %s of %v Hz, %d channels, %d bits: it is left out of the stereo file, which takes mono 16-bit PCM\n", t.Name, t.CodecID, rate, max(t.Channels, 1), t.BitDepth)
		}
		return nil
	}
	if c.stereo == nil {
		s := &stereo{path: c.fileName("stereo"), rate: rate}
		var err error
		if s.file, err = os.Create(s.path); err != nil {
			fmt.Fprintf(c.stderr, "callaudio: %v: no stereo file\n", err)
			c.noMix = true
			return nil
		}
		s.w, err = audio.NewWriter(s.file, &mkv.Track{CodecID: audio.CodecPCMLittle, SamplingRate: rate, Channels: 2, BitDepth: 16})
		if err != nil {
			s.file.Close()
			fmt.Fprintf(c.stderr, "callaudio: %v: no stereo file\n", err)
			c.noMix = true
			return nil
		}
		c.stereo = s
	}
	return c.stereo
}

// maxLead is how far one channel of the stereo file may run ahead of the
// other before the other is filled with silence: it bounds the samples
// held when one track stops sending frames.
const maxLead = 5 * time.Second

// stereo interleaves the customer's and the agent's samples into one
// file, each sample placed by its frame's timestamp from the first frame
// of either track: a frame that starts past the end of its channel leaves
// silence before it. Samples are written as soon as both channels have
// them.
type stereo struct {
	path string
	file *os.File
	w    *audio.Writer
	rate float64

	started bool
	origin  time.Duration
	pending [2][]int16 // each channel's samples from written on
	end     [2]int64   // the position after each channel's last sample
	written int64      // stereo samples written
	buf     []byte
}

func (s *stereo) seconds() float64 { return float64(s.written) / s.rate }

// add places a frame of 16-bit little-endian samples of channel ch.
func (s *stereo) add(ch int, ts time.Duration, data []byte) error {
	if !s.started {
		s.started, s.origin = true, ts
	}
	pos := int64(math.Round((ts - s.origin).Seconds() * s.rate))
	if gap := pos - s.end[ch]; gap > 0 {
		s.pending[ch] = append(s.pending[ch], make([]int16, gap)...)
		s.end[ch] = pos
	}
	for i := 0; i+1 < len(data); i += 2 {
		s.pending[ch] = append(s.pending[ch], int16(binary.LittleEndian.Uint16(data[i:])))
	}
	s.end[ch] += int64(len(data) / 2)
	lead := int(maxLead.Seconds() * s.rate)
	n := min(len(s.pending[0]), len(s.pending[1]))
	if m := max(len(s.pending[0]), len(s.pending[1])); m-n > lead {
		n = m - lead
	}
	return s.flush(n)
}

// flush writes n stereo samples, filling a channel that has fewer with
// silence.
func (s *stereo) flush(n int) error {
	if n <= 0 {
		return nil
	}
	s.buf = s.buf[:0]
	for i := range n {
		for ch := range 2 {
			var v int16
			if i < len(s.pending[ch]) {
				v = s.pending[ch][i]
			}
			s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(v))
		}
	}
	for ch := range 2 {
		k := min(n, len(s.pending[ch]))
		s.pending[ch] = append(s.pending[ch][:0], s.pending[ch][k:]...)
		if k < n {
			s.end[ch] += int64(n - k) // silence written for it
		}
	}
	s.written += int64(n)
	return s.w.WriteFrame(s.buf)
}

// close writes what is held, the shorter channel ending in silence.
func (s *stereo) close() error {
	err := s.flush(max(len(s.pending[0]), len(s.pending[1])))
	return errors.Join(err, s.w.Close(), s.file.Close())
}
