package kvstest

import (
	"net/http"
	"time"

	"github.com/kvsmkv/kvsmkv/tags"
)

// mediaOut writes a media body with the faults and slowness asked for.
type mediaOut struct {
	w       http.ResponseWriter
	r       *http.Request
	flusher http.Flusher
	plan    *bodyPlan
	slow    slowness
}

// unit marks the start of fragment number's unit, for the faults placed
// in it.
func (o *mediaOut) unit(number tags.FragmentNumber) { o.plan.unit(number) }

// write writes b, and reports false when the body is over: the client has
// gone away, or a fault ended it. At a cut asked for, it drops the
// connection.
func (o *mediaOut) write(b []byte) bool {
	for len(b) > 0 {
		n := len(b)
		if o.slow.chunk > 0 {
			n = min(n, o.slow.chunk)
		}
		part, stop := o.plan.next(b[:n])
		b = b[n:]
		if _, err := o.w.Write(part); err != nil {
			return false
		}
		switch stop {
		case CutBody:
			o.flush()
			panic(http.ErrAbortHandler) // drop the connection mid-body
		case EndBody:
			return false
		}
		if o.slow.chunk > 0 {
			o.flush()
			select {
			case <-time.After(o.slow.delay):
			case <-o.r.Context().Done():
				return false // the client went away
			}
		}
	}
	return true
}

// flush sends what was written to the client now.
func (o *mediaOut) flush() {
	if o.flusher != nil {
		o.flusher.Flush()
	}
}
