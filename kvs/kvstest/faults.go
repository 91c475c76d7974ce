package kvstest

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/tags"
)

// FaultKind says what a Fault does.
type FaultKind int

// The kinds of faults. A call fault and the body faults strike once
// (Count times) unless EveryTime; SlowBody and InBandError hold until
// injected again for their scope.
const (
	// FailCall answers a call with an error response of Status and Type,
	// in Form, instead of serving it.
	FailCall FaultKind = iota + 1
	// CutBody drops the connection after At bytes of a media body: the
	// client reads a body that breaks off.
	CutBody
	// EndBody ends a media body cleanly after At bytes, as if it were all
	// there: the client sees no error, only a body shorter than it should
	// be.
	EndBody
	// CorruptBody replaces the byte at At with 0x00 (0xFF if it was 0x00).
	// At the first byte of an element's ID or size that is invalid EBML,
	// which readers report as a syntax error at that offset; in frame
	// data it goes unnoticed, as on a real link.
	CorruptBody
	// SlowBody makes media bodies come Chunk bytes at a time, Delay apart
	// (for PutMedia, the emulator reads the request body so); a Chunk of
	// 0 serves them at full speed again. A stream's setting overrides its
	// API's.
	SlowBody
	// InBandError makes GetMedia serve Scope.Fragment of Scope.Stream as
	// an in-band error unit, as KVS does when it cannot serve a fragment
	// (a KMS key it may not use, a fragment it cannot read): a unit whose
	// tags hold the fragment number and Unit, in place of the fragment's
	// media, after which the body goes on with the next fragment. A zero
	// Unit serves the fragment again. GetMediaForFragmentList and
	// ListFragments are not affected.
	InBandError
	// MoveEndpoint moves Scope.Stream's data endpoint, as KVS does when it
	// moves a stream between hosts: data-plane calls to the endpoint given
	// before fail with InvalidEndpointException, which tells clients to
	// call GetDataEndpoint again. (Calls to the emulator's URL itself,
	// which tests may use as a data endpoint, are always served.)
	MoveEndpoint
)

// Scope says which calls a fault strikes.
type Scope struct {
	// API is the operation (GetMedia for InBandError; unused by
	// MoveEndpoint).
	API API
	// Stream, when set, scopes the fault to calls on that stream; other
	// streams' calls pass it by. InBandError and MoveEndpoint need it.
	Stream string
	// Fragment, for the body faults of GetMedia and
	// GetMediaForFragmentList, places the fault in that fragment's unit
	// wherever a response serves it, At counted from the unit's EBML
	// header; for InBandError it is the fragment served as an error.
	Fragment tags.FragmentNumber
}

// Fault is a fault the emulator injects: an error response instead of
// serving a call, a media body (of a GetMedia or GetMediaForFragmentList
// response, or of a PutMedia request as the emulator reads it) that breaks
// off, ends early, is corrupt or slow, an in-band error unit, a moved data
// endpoint. Kind says which, Scope where; the other fields are those of
// its kind.
type Fault struct {
	Kind  FaultKind
	Scope Scope

	// Status and Type are a FailCall's response: the HTTP status and the
	// error type, such as kvsaws.CodeClientLimitExceeded. Form is where the
	// response carries the type (default ErrorInHeader).
	Status int
	Type   string
	Form   ErrorForm

	// At is a body fault's offset in the body or, with Scope.Fragment, in
	// the fragment's unit. PutMedia bodies take offsets in the body only.
	At int64
	// Count is how many calls or bodies a FailCall or body fault strikes,
	// one after the other (default 1).
	Count int
	// EveryTime keeps a body fault for every body (every serving of
	// Scope.Fragment). By default it strikes once: the next body of its
	// API and stream, one fault of each kind a body, or the first serving
	// of Scope.Fragment that reaches At.
	EveryTime bool

	// Chunk and Delay are a SlowBody's pace.
	Chunk int
	Delay time.Duration

	// Unit is an InBandError's error unit.
	Unit kvsgen.ErrorUnit
}

// Throttled is the fault KVS answers calls past its rates with.
func Throttled(api API, count int) Fault {
	return Fault{Kind: FailCall, Scope: Scope{API: api}, Status: http.StatusBadRequest, Type: kvsaws.CodeClientLimitExceeded, Count: count}
}

// check reports what is missing from f for its kind.
func (f *Fault) check() error {
	switch f.Kind {
	case FailCall:
		if f.Status < 300 || f.Type == "" {
			return fmt.Errorf("kvstest: a FailCall fault needs a Status >= 300 and a Type")
		}
	case CutBody, EndBody, CorruptBody, SlowBody:
	case InBandError, MoveEndpoint:
		if f.Scope.Stream == "" || f.Kind == InBandError && f.Scope.Fragment == "" {
			return fmt.Errorf("kvstest: an InBandError fault needs a Stream and a Fragment, a MoveEndpoint fault a Stream")
		}
		return nil
	default:
		return fmt.Errorf("kvstest: unknown fault kind %d", f.Kind)
	}
	if f.Scope.API == "" {
		return fmt.Errorf("kvstest: the fault needs an API")
	}
	return nil
}

// faults are the faults injected into a server, guarded by Server.mu.
type faults struct {
	calls      map[API][]*Fault
	bodies     map[API][]*Fault
	errorUnits map[errorUnitKey]kvsgen.ErrorUnit
	slow       map[rateKey]slowness
}

type errorUnitKey struct {
	stream string
	number tags.FragmentNumber
}

type slowness struct {
	chunk int
	delay time.Duration
}

func newFaults() faults {
	return faults{
		calls: map[API][]*Fault{}, bodies: map[API][]*Fault{},
		errorUnits: map[errorUnitKey]kvsgen.ErrorUnit{}, slow: map[rateKey]slowness{},
	}
}

// add injects f, checked.
func (fs *faults) add(f Fault) {
	api, stream := f.Scope.API, f.Scope.Stream
	switch f.Kind {
	case FailCall, CutBody, EndBody, CorruptBody:
		q := &fs.calls
		if f.Kind != FailCall {
			q = &fs.bodies
		}
		n := max(f.Count, 1)
		if f.EveryTime && f.Kind != FailCall {
			n = 1 // one fault that stays strikes every body
		}
		for range n {
			c := f
			(*q)[api] = append((*q)[api], &c)
		}
	case SlowBody:
		fs.slow[rateKey{api, stream}] = slowness{f.Chunk, f.Delay}
	case InBandError:
		k := errorUnitKey{stream, f.Scope.Fragment}
		if f.Unit == (kvsgen.ErrorUnit{}) {
			delete(fs.errorUnits, k)
			return
		}
		fs.errorUnits[k] = f.Unit
	}
}

// takeCall returns the next call fault queued for api that applies to
// stream, removing it, or nil.
func (fs *faults) takeCall(api API, stream string) *Fault {
	q := fs.calls[api]
	for i, f := range q {
		if f.Scope.Stream == "" || f.Scope.Stream == stream {
			fs.calls[api] = append(q[:i:i], q[i+1:]...)
			return f
		}
	}
	return nil
}

// faultMessage is the message of a fault's response.
func faultMessage(f *Fault) string {
	switch f.Type {
	case kvsaws.CodeInvalidEndpoint:
		return "The data endpoint of the stream has moved; call GetDataEndpoint again."
	case kvsaws.CodeClientLimitExceeded:
		return "Rate exceeded for the stream and API; reduce the request rate."
	}
	return "injected by kvstest"
}

// errorUnit returns the error unit GetMedia serves in place of fragment
// number of stream, if any. Call it with Server.mu held.
func (fs *faults) errorUnit(stream string, number tags.FragmentNumber) (kvsgen.ErrorUnit, bool) {
	e, ok := fs.errorUnits[errorUnitKey{stream, number}]
	return e, ok
}

// slowness returns how api's bodies on stream are slowed: the stream's
// own setting, else the API's. Call it with s.mu held.
func (fs *faults) slowness(api API, stream string) slowness {
	if sl, ok := fs.slow[rateKey{api, stream}]; ok {
		return sl
	}
	return fs.slow[rateKey{api, ""}]
}

// bodyPlan applies the faults of one body as its bytes pass.
type bodyPlan struct {
	// mu is Server.mu, which guards fs.
	mu     *sync.Mutex
	fs     *faults
	api    API
	stream string
	// armed are the faults placed in the body, at their offsets in it.
	armed   []armedFault
	written int64
}

type armedFault struct {
	at int64
	f  *Fault
}

// planBody takes the faults of a new body of api on stream: every-time
// ones, one once-fault of each kind, and those of fragments (placed when
// their unit starts). Call it with mu, Server.mu, held.
func (fs *faults) planBody(mu *sync.Mutex, api API, stream string) *bodyPlan {
	p := &bodyPlan{mu: mu, fs: fs, api: api, stream: stream}
	q := fs.bodies[api]
	var taken [CorruptBody + 1]bool
	kept := q[:0]
	for _, f := range q {
		switch {
		case f.Scope.Stream != "" && f.Scope.Stream != stream, f.Scope.Fragment != "":
		case f.EveryTime:
			p.armed = append(p.armed, armedFault{f.At, f})
		case !taken[f.Kind]:
			taken[f.Kind] = true
			p.armed = append(p.armed, armedFault{f.At, f})
			continue // spent
		}
		kept = append(kept, f)
	}
	clear(q[len(kept):])
	fs.bodies[api] = kept
	return p
}

// unit tells the plan that fragment number's unit starts at the current
// offset, placing the faults of that fragment.
func (p *bodyPlan) unit(number tags.FragmentNumber) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.fs.bodies[p.api] {
		if f.Scope.Fragment == number && (f.Scope.Stream == "" || f.Scope.Stream == p.stream) {
			p.armed = append(p.armed, armedFault{p.written + f.At, f})
		}
	}
}

// next passes b, the body's next bytes: it returns what of b goes through,
// corrupt as planned, and the kind of the fault that stops the body right
// after that (0 when none does).
func (p *bodyPlan) next(b []byte) ([]byte, FaultKind) {
	start, end := p.written, p.written+int64(len(b))
	var stop *Fault
	for _, a := range p.armed {
		if (a.f.Kind == CutBody || a.f.Kind == EndBody) && a.at >= start && a.at < end {
			end, stop = a.at, a.f
		}
	}
	b = b[:end-start]
	copied := false
	for _, a := range p.armed {
		if a.f.Kind != CorruptBody || a.at < start || a.at >= end {
			continue
		}
		if !copied {
			b, copied = append([]byte(nil), b...), true
		}
		i := a.at - start
		if b[i] == 0 {
			b[i] = 0xFF
		} else {
			b[i] = 0
		}
		p.spend(a.f)
	}
	p.written = end
	if stop == nil {
		return b, 0
	}
	p.spend(stop)
	return b, stop.Kind
}

// spend removes a fragment's once-fault that struck from the queue (other
// once-faults left it when their body started).
func (p *bodyPlan) spend(f *Fault) {
	if f.EveryTime || f.Scope.Fragment == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fs.bodies[p.api] = slices.DeleteFunc(p.fs.bodies[p.api], func(g *Fault) bool { return g == f })
}
