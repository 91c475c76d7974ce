package mkv_test

import (
	"errors"
	"io"
	"math/rand/v2"

	"github.com/kvsmkv/kvsmkv/internal/mkvtest"
)

var (
	el          = mkvtest.El
	unknown     = mkvtest.Unknown
	idBytes     = mkvtest.IDBytes
	u           = mkvtest.Uint
	str         = mkvtest.Str
	ebmlHeader  = mkvtest.EBMLHeader
	simpleBlock = mkvtest.SimpleBlock
	trace       = mkvtest.Trace
	pullTrace   = mkvtest.PullTrace
	pushTrace   = mkvtest.PushTrace
)

// randomReader returns reads of random sizes between 1 and max bytes.
type randomReader struct {
	r   io.Reader
	rng *rand.Rand
	max int
}

func (r *randomReader) Read(p []byte) (int, error) {
	n := 1 + r.rng.IntN(r.max)
	return r.r.Read(p[:min(n, len(p))])
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func isCutOff(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }
