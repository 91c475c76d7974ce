package kvs

import (
	"errors"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// Default budgets of a Reader or PushReader, per fragment. They sit far
// above what KVS streams carry (one video and one audio track, about ten
// tags, a few hundred frames and at most 50 MB per fragment) and keep what
// a hostile stream can make the reader hold to a few MiB beyond the frame
// bytes themselves. Decoding limits (the largest element, the nesting
// depth) are the mkv decoder's: see mkv.WithMaxElementSize and
// WithDecoderOptions.
const (
	// DefaultMaxTracks bounds the tracks of a unit: its TrackEntries plus
	// the tracks that only its blocks name.
	DefaultMaxTracks = 256
	// DefaultMaxTags bounds the SimpleTags of a fragment, nested ones
	// included.
	DefaultMaxTags = 4096
	// DefaultMaxFrames bounds the frames Next holds for one fragment.
	DefaultMaxFrames = 1 << 16
	// DefaultMaxFragmentBytes bounds the bytes held for one fragment: its
	// tags' and tracks' values and, in whole-fragment mode, its frames'
	// bytes. It equals mkv.DefaultMaxElementSize.
	DefaultMaxFragmentBytes = mkv.DefaultMaxElementSize
)

// ErrBudget is the cause of every budget error: for each of the errors
// below, errors.Is(err, ErrBudget) holds too. A reader past a budget
// delivers what it read of the fragment, marked Partial, then fails with a
// *mkv.SyntaxError wrapping the budget's error at the element that went
// past it. Budget errors are final, like every error of the reader.
var ErrBudget = errors.New("kvs: fragment over budget")

// The budgets' errors, each naming the option that sets it.
var (
	ErrTooManyTracks    error = &budgetError{"kvs: more tracks in a unit than the budget (WithMaxTracks)"}
	ErrTooManyTags      error = &budgetError{"kvs: more SimpleTags in a fragment than the budget (WithMaxTags)"}
	ErrTooManyFrames    error = &budgetError{"kvs: more frames in a fragment than the budget (WithMaxFrames)"}
	ErrFragmentTooLarge error = &budgetError{"kvs: more bytes held for a fragment than the budget (WithMaxFragmentBytes)"}
)

type budgetError struct{ msg string }

func (e *budgetError) Error() string { return e.msg }

// Is makes every budget error match ErrBudget.
func (e *budgetError) Is(target error) bool { return target == ErrBudget }

// Option configures a Reader or a PushReader.
type Option func(*options)

type options struct {
	noData    bool
	noCRC     bool
	resync    bool
	maxTracks int
	maxTags   int
	maxFrames int
	maxBytes  int64
	mkv       []mkv.Option
}

func defaultOptions() options {
	return options{
		maxTracks: DefaultMaxTracks, maxTags: DefaultMaxTags,
		maxFrames: DefaultMaxFrames, maxBytes: DefaultMaxFragmentBytes,
	}
}

// WithoutFrameData makes Next keep each frame's metadata but not its bytes
// (Frame.Data is nil), so that reading whole fragments costs no copy.
func WithoutFrameData() Option { return func(o *options) { o.noData = true } }

// WithMaxTracks sets the largest number of tracks a unit may have
// (DefaultMaxTracks); past it the reader fails with ErrTooManyTracks. n
// below 1 is raised to 1.
func WithMaxTracks(n int) Option { return func(o *options) { o.maxTracks = max(n, 1) } }

// WithMaxTags sets the largest number of SimpleTags, nested ones included,
// a fragment may have (DefaultMaxTags); past it the reader fails with
// ErrTooManyTags. n below 16 is raised to 16.
func WithMaxTags(n int) Option { return func(o *options) { o.maxTags = max(n, 16) } }

// WithMaxFrames sets the largest number of frames Next holds for one
// fragment (DefaultMaxFrames); past it Next fails with ErrTooManyFrames.
// Streaming (NextEvent, PushReader) holds no frames and is not limited. n
// below 1 is raised to 1.
func WithMaxFrames(n int) Option { return func(o *options) { o.maxFrames = max(n, 1) } }

// WithMaxFragmentBytes sets the largest number of bytes held for one
// fragment (DefaultMaxFragmentBytes): the values of its tags and tracks
// and, when Next reads frames with their bytes, those bytes; past it the
// reader fails with ErrFragmentTooLarge. n below 64 KiB is raised to
// 64 KiB.
func WithMaxFragmentBytes(n int64) Option { return func(o *options) { o.maxBytes = max(n, 64<<10) } }

// WithoutCRC turns off the verification of CRC-32 elements. By default
// the reader verifies every CRC-32 a producer wrote (KVS writes one first
// in every Cluster of GetMedia output, and in the other masters of each
// unit), as the bytes pass, in every reading mode: a mismatch is a
// Damage record on its fragment, which is delivered as usual. The check
// reads every byte of the Clusters, which the reader otherwise only copies:
// it costs 8-14% of the reader's time on an Intel Xeon with AVX-512 (mkv
// sums the bulk of the bytes with VPCLMULQDQ in four lanes, twice the speed
// of Go 1.26's crc32, six times Go 1.24's), and 17-25% with hash/crc32
// alone (BenchmarkCRC in bench/).
func WithoutCRC() Option { return func(o *options) { o.noCRC = true } }

// WithResync makes the reader resynchronise after malformed input instead
// of failing: the fragment the fault hit is delivered with what was
// complete of it, Partial, with a Damage record (offset, element, cause,
// bytes skipped), and reading goes on at the next unit, an EBML header
// that validates followed by a Segment (see mkv.WithResync). A fault where
// no fragment is being read (junk between units) is delivered as a
// fragment of its own, Damaged (see Fragment.Damage); Skipped counts the
// bytes skipped in all. The budgets still
// hold while scanning, and input that ends inside a unit still ends with
// io.ErrUnexpectedEOF; budget errors are still final.
func WithResync() Option { return func(o *options) { o.resync = true } }

// WithDecoderOptions passes options to the mkv decoder underneath, such as
// mkv.WithMaxElementSize; they come after the reader's own (mkv.WithCRC, mkv.WithResync), so they may override them.
func WithDecoderOptions(opts ...mkv.Option) Option {
	return func(o *options) { o.mkv = append(o.mkv, opts...) }
}
