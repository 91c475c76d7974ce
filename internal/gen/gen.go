// Package gen writes KVS-like Matroska streams for the project's tests,
// benchmarks, samples and emulator, with github.com/at-wat/ebml-go: units of
// EBML header + unknown-size Segment, one per fragment, with Info, Tracks,
// Tags before and after the Cluster, and GetMedia's trailing tags.
package gen

import (
	"bytes"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/at-wat/ebml-go"
)

// Lacing modes for the audio track.
const (
	NoLacing    = ebml.LacingNo
	XiphLacing  = ebml.LacingXiph
	FixedLacing = ebml.LacingFixed
	EBMLLacing  = ebml.LacingEBML
)

// Config describes a stream. The zero value of a field takes the default
// given in its comment.
type Config struct {
	// Fragments is the number of units (default 3).
	Fragments int
	// FragmentDuration is the length of a fragment (default 2s).
	FragmentDuration time.Duration
	// FPS is the video frame rate (default 30).
	FPS int
	// VideoBitrate in bits per second (default 3,000,000). Keyframes, one
	// per fragment, are four times the size of the other frames.
	VideoBitrate int
	// Audio adds an audio track, 48 kHz stereo, 50 frames a second of
	// AudioFrameSize bytes (default 200), AudioPerBlock frames per block
	// (default 1) laced with AudioLacing.
	Audio          bool
	AudioFrameSize int
	AudioPerBlock  int
	AudioLacing    ebml.LacingMode
	// BlockGroups puts video frames in BlockGroups (Block, BlockDuration,
	// ReferenceBlock on all but the keyframe) instead of SimpleBlocks.
	BlockGroups bool
	// KnownSizeCluster writes Clusters with their size; by default their
	// size is unknown, as KVS writes them.
	KnownSizeCluster bool
	// CRC starts the Cluster with a correct CRC-32 element (known-size
	// Clusters only), as GetMedia does.
	CRC bool
	// GetMedia ends each unit with Tags holding MILLIS_BEHIND_NOW and
	// CONTINUATION_TOKEN.
	GetMedia bool
	// ProducerTags adds custom producer tags: a Tags element before the
	// Cluster (with a nested SimpleTag and a TagBinary) and one after it.
	ProducerTags bool
	// SideSpelling writes SERVER_SIDE_TIMESTAMP and PRODUCER_SIDE_TIMESTAMP
	// instead of SERVER_TIMESTAMP and PRODUCER_TIMESTAMP.
	SideSpelling bool
	// NULPadding pads tag strings with NUL bytes, as the C producer does.
	NULPadding bool
	// Void inserts a Void element after Info.
	Void bool
	// Start is the producer timestamp of the first fragment (default
	// 2017-11-28T06:55:08.513Z); server timestamps are 0.613 s later.
	Start time.Time
	// RelativeProducerTime writes producer timestamps relative to the
	// first fragment ("0.000", "2.000", ...), as some producers do.
	RelativeProducerTime bool
	// Errors replaces the fragments at these indexes by error units: a
	// unit with no Cluster whose tags report the error.
	Errors map[int]Error
	// DataSizeLen forces the length of element size fields (1-8 bytes).
	DataSizeLen int
	// Number, when set, gives the fragment number of unit i instead of
	// FragmentNumber(i).
	Number func(i int) string
	// MillisBehindNow, when set, gives GetMedia's MILLIS_BEHIND_NOW of
	// unit i instead of 1000 + 37 i.
	MillisBehindNow func(i int) int64
}

// Error is an in-band error unit.
type Error struct {
	// Exception writes EXCEPTION_ERROR_CODE and EXCEPTION_MESSAGE; otherwise
	// ERROR_CODE and ERROR_ID.
	Exception bool
	Code      string
	ID        int
	Message   string
}

func (c *Config) defaults() {
	if c.Fragments == 0 {
		c.Fragments = 3
	}
	if c.FragmentDuration == 0 {
		c.FragmentDuration = 2 * time.Second
	}
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.VideoBitrate == 0 {
		c.VideoBitrate = 3_000_000
	}
	if c.AudioFrameSize == 0 {
		c.AudioFrameSize = 200
	}
	if c.AudioPerBlock == 0 {
		c.AudioPerBlock = 1
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2017, 11, 28, 6, 55, 8, 513e6, time.UTC)
	}
}

// FragmentNumber returns the fragment number of unit i, a 47-digit decimal
// like KVS's.
func FragmentNumber(i int) string {
	n, _ := new(big.Int).SetString("91343852333181432392682062607743920146159169392", 10)
	step := new(big.Int).Lsh(big.NewInt(1), 92) // consecutive KVS numbers differ by multiples of 2^92
	return n.Add(n, step.Mul(step, big.NewInt(int64(i)))).String()
}

// Stream writes the whole stream to w.
func Stream(w io.Writer, c Config) error {
	c.defaults()
	var b bytes.Buffer
	for i := range c.Fragments {
		b.Reset()
		if err := unit(&b, &c, i); err != nil {
			return err
		}
		if _, err := w.Write(b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// Unit returns unit i of the stream alone.
func Unit(c Config, i int) []byte {
	c.defaults()
	var b bytes.Buffer
	if err := unit(&b, &c, i); err != nil {
		panic(fmt.Sprintf("gen: %v", err))
	}
	return b.Bytes()
}

// ErrorUnit returns an in-band error unit about fragment number, written
// with c's tag spellings.
func ErrorUnit(c Config, number string, e Error) []byte {
	c.Errors = map[int]Error{0: e}
	c.Number = func(int) string { return number }
	return Unit(c, 0)
}

// Bytes returns the whole stream.
func Bytes(c Config) []byte {
	var b bytes.Buffer
	if err := Stream(&b, c); err != nil {
		panic(fmt.Sprintf("gen: %v", err)) // writing to a bytes.Buffer fails only on a bad Config
	}
	return b.Bytes()
}

// Reader returns a reader of the stream that renders one unit at a time, so
// that a stream of any length is never held whole.
func Reader(c Config) io.Reader {
	c.defaults()
	return &reader{c: c}
}

type reader struct {
	c    Config
	i    int
	buf  bytes.Buffer
	err  error
	rest []byte
}

func (r *reader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.i == r.c.Fragments {
			return 0, io.EOF
		}
		r.buf.Reset()
		r.err = unit(&r.buf, &r.c, r.i)
		r.i++
		r.rest = r.buf.Bytes()
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// Size returns the number of bytes of the stream without keeping it.
func Size(c Config) int64 {
	var n countWriter
	if err := Stream(&n, c); err != nil {
		panic(fmt.Sprintf("gen: %v", err))
	}
	return int64(n)
}

type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}
