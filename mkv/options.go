package mkv

// Defaults of the decoder's limits.
const (
	// DefaultMaxElementSize bounds the elements the decoder holds in memory
	// (values, blocks, BlockGroups): 64 MiB, more than a whole 50 MB KVS
	// fragment.
	DefaultMaxElementSize = 64 << 20
	// DefaultMaxDepth bounds the nesting of masters. Matroska needs about
	// 10; nested SimpleTags need a few more.
	DefaultMaxDepth = 64
	// DefaultBufferSize is the size the pull decoder's buffer grows to as
	// reads fill it: 1 MiB, the L2 cache of one core of the AMD EPYC the
	// benchmarks ran on, where reads that large keep a stream of bytes
	// flowing at the speed of a plain copy (BenchmarkRatio: the decoder at
	// 0.95-1.05x io.CopyBuffer, against 0.85x with 256 KiB); past the L2
	// cache the bytes the decoder parses after each read are no longer in
	// it. On Intel CPUs, where smaller reads are faster, the default is
	// 256 KiB instead.
	DefaultBufferSize = 1 << 20
)

type options struct {
	maxSize    int64
	maxDepth   int
	verifyCRC  bool
	resync     bool
	bufferSize int
}

func defaultOptions() options {
	return options{maxSize: DefaultMaxElementSize, maxDepth: DefaultMaxDepth, bufferSize: defaultBufferSize()}
}

// Option configures a Decoder or a PushDecoder.
type Option func(*options)

// WithMaxElementSize sets the largest element the decoder holds in memory:
// a value, a SimpleBlock or Block, or a whole BlockGroup. A larger one fails
// with ErrTooLarge before anything is allocated for it. A smaller one is
// buffered as its bytes arrive, the buffer growing by half up to the element's
// size: a declared size alone allocates nothing. Masters and skipped
// elements are never held, so they are not limited. n below 1 KiB is raised
// to 1 KiB.
func WithMaxElementSize(n int64) Option {
	return func(o *options) { o.maxSize = max(n, 1<<10) }
}

// WithMaxDepth sets how deeply masters may nest; deeper fails with
// ErrTooDeep. n below 2 is raised to 2.
func WithMaxDepth(n int) Option {
	return func(o *options) { o.maxDepth = max(n, 2) }
}

// WithCRC makes the decoder verify the CRC-32 element (RFC 8794 section
// 11.3.1) at the start of any master that has one, as the master's bytes
// pass (no second pass over them). The result is in the master's End event
// (Event.Checksum): a mismatch is data, not an error, and decoding goes
// on. A master of unknown size is verified over the data it turned out to
// have, up to the element that ended it or the end of input. On amd64
// CPUs with AVX-512 and VPCLMULQDQ the bytes are summed at about 100 GB/s
// in cache, twice as fast as Go 1.26's hash/crc32.
func WithCRC(verify bool) Option {
	return func(o *options) { o.verifyCRC = verify }
}

// WithResync makes the decoder resynchronise after malformed input instead
// of failing: a fault other than the end of input (an invalid ID or size,
// an element past the end of its parent or over the maximum size, a
// unit's EBML header inside a master of known size, an element outside the
// master the schema puts it in, an unknown element at the top two levels) is delivered as a Damage event, then the decoder
// scans for the next unit, an EBML header whose children parse, with
// DocType matroska or webm, followed by a Segment, and delivers a Resync
// event saying how many bytes it skipped. The scan holds at most a
// candidate header in memory (a few hundred bytes) and looks at each byte
// a bounded number of times. Input that ends inside an element still
// fails with io.ErrUnexpectedEOF.
func WithResync() Option {
	return func(o *options) { o.resync = true }
}

// WithBufferSize sets the size of the pull decoder's read buffer (default
// DefaultBufferSize, or 256 KiB on Intel CPUs). The buffer starts at 64 KiB,
// or n if smaller, and grows to n as reads fill it; past n it grows only to
// hold a larger element, up to the maximum element size. n below 4 KiB is raised to 4 KiB.
func WithBufferSize(n int) Option {
	return func(o *options) { o.bufferSize = max(n, 4<<10) }
}
