package kvstest

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/tags"
)

// Fault is an error response the emulator gives instead of serving.
type Fault struct {
	Status int
	Type   string // the error type, such as kvsaws.CodeClientLimitExceeded
	// Form is where the response carries the type (default ErrorInHeader).
	Form ErrorForm
	// Stream, when set, scopes the fault to calls on that stream; other
	// streams' calls pass it by.
	Stream string
}

// ErrorForm is one of the ways AWS's services name an error's type, which
// clients must all read (the SDKs read the X-Amzn-ErrorType header, then
// the body's code, then its __type, cutting at ":" and "#").
type ErrorForm int

// The error forms.
const (
	// ErrorInHeader names the type in the X-Amzn-ErrorType header, with the
	// ":http://internal.amazon.com/coral/..." suffix KVS adds, and the body
	// holds only {"Message": ...}: what KVS sends.
	ErrorInHeader ErrorForm = iota
	// ErrorInCode sends no header and names the type in the body's "code".
	ErrorInCode
	// ErrorInType sends no header and names the type in the body's
	// "__type", with a namespace prefix: "com.amazonaws.kinesisvideo#Name".
	ErrorInType
)

// writeErrorForm answers with an error in the given form, the message in
// the body's "Message" (the key the SDK's modeled exceptions read).
func writeErrorForm(w http.ResponseWriter, status int, code, msg string, form ErrorForm) {
	body := map[string]string{"Message": msg}
	switch form {
	case ErrorInCode:
		body["code"] = code
	case ErrorInType:
		body["__type"] = "com.amazonaws.kinesisvideo#" + code
	default:
		w.Header().Set("X-Amzn-ErrorType", code+":http://internal.amazon.com/coral/com.amazonaws.kinesisvideo/")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// SetRateLimit makes calls of api on one stream (or, for ListStreams and
// CreateStream, on the account) fail with ClientLimitExceededException
// past perSecond calls in any one second, as KVS enforces its limits; 0
// lifts the limit. The emulator enforces no rate unless asked, so that
// tests may burst; EnforceKVSLimits sets KVS's own.
func (s *Server) SetRateLimit(api API, perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctl.rates == nil {
		s.ctl.rates = map[API]int{}
	}
	s.ctl.rates[api] = perSecond
}

// EnforceKVSLimits sets the request rates KVS documents: 5 calls a second
// per stream of each stream API, 50 a second of ListStreams and
// CreateStream. (The connection limits, 3 GetMedia and 5
// GetMediaForFragmentList bodies at once, are on by default.)
func (s *Server) EnforceKVSLimits() {
	for _, api := range []API{GetDataEndpoint, ListFragments, GetMediaForFragmentList, GetMedia, PutMedia, DescribeStream, DeleteStream} {
		s.SetRateLimit(api, 5)
	}
	s.SetRateLimit(ListStreams, 50)
	s.SetRateLimit(CreateStream, 50)
}

// DataEndpoint returns the data endpoint GetDataEndpoint gives for stream:
// the emulator's URL with a path that MoveEndpoint invalidates.
func (s *Server) DataEndpoint(stream string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataEndpoint(stream)
}

// MoveEndpoint moves stream's data endpoint, as KVS does when it moves a
// stream between hosts: data-plane calls to the endpoint given before fail
// with InvalidEndpointException, which tells clients to call
// GetDataEndpoint again. (Calls to the emulator's URL itself, which tests
// may use as a data endpoint, are always served.)
func (s *Server) MoveEndpoint(stream string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.ctl.meta[stream]; m != nil {
		m.epoch++
	}
}

type rateKey struct {
	api    API
	stream string
}

// admit decides, after the signature, whether a call of api on stream is
// served: it refuses calls to a moved data endpoint, calls past the rate
// limit, and gives the next fault queued for api that applies to stream.
func (s *Server) admit(r *http.Request, api API, stream string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ep, ok := r.Context().Value(endpointKey{}).(endpointRef); ok && dataPlane(api) {
		if m := s.ctl.meta[stream]; m != nil && ep.epoch != m.epoch {
			return &Fault{Status: http.StatusBadRequest, Type: kvsaws.CodeInvalidEndpoint}
		}
	}
	if limit := s.ctl.rates[api]; limit > 0 {
		if s.ctl.calls == nil {
			s.ctl.calls = map[rateKey][]time.Time{}
		}
		k := rateKey{api, stream}
		now := time.Now()
		recent := s.ctl.calls[k]
		for len(recent) > 0 && now.Sub(recent[0]) >= time.Second {
			recent = recent[1:]
		}
		if len(recent) >= limit {
			s.ctl.calls[k] = recent
			return &Fault{Status: http.StatusBadRequest, Type: kvsaws.CodeClientLimitExceeded}
		}
		s.ctl.calls[k] = append(recent, now)
	}
	q := s.faults[api]
	for i, f := range q {
		if f.Stream == "" || f.Stream == stream {
			s.faults[api] = append(q[:i:i], q[i+1:]...)
			return &f
		}
	}
	return nil
}

// dataPlane tells the APIs served at data endpoints.
func dataPlane(api API) bool {
	switch api {
	case GetMedia, GetMediaForFragmentList, ListFragments, PutMedia:
		return true
	}
	return false
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

// BodyFaultKind says what a BodyFault does to a body.
type BodyFaultKind int

// The kinds of body faults.
const (
	// BodyCut drops the connection after At bytes, mid-body: the client
	// reads a body that breaks off.
	BodyCut BodyFaultKind = iota + 1
	// BodyEnd ends the body cleanly after At bytes, as if it were all
	// there: the client sees no error, only a body shorter than it should
	// be.
	BodyEnd
	// BodyCorrupt replaces the byte at At with 0x00 (0xFF if it was 0x00).
	// At the first byte of an element's ID or size that is invalid EBML,
	// which readers report as a syntax error at that offset; in frame
	// data it goes unnoticed, as on a real link.
	BodyCorrupt
)

// BodyFault is a fault of a media body: of a GetMedia or
// GetMediaForFragmentList response, or of a PutMedia request's body as the
// emulator reads it (breaking off, ending early or corrupt before it is
// decoded).
type BodyFault struct {
	Kind BodyFaultKind
	// At is the fault's offset in the body or, with Fragment set, in the
	// unit of that fragment wherever a response serves it (the unit's
	// EBML header is at 0). PutMedia bodies take offsets in the body only.
	At int64
	// Stream, when set, scopes the fault to bodies of that stream.
	Stream string
	// Fragment, when set, places the fault in that fragment's unit.
	Fragment tags.FragmentNumber
	// EveryTime keeps the fault for every body (every serving of
	// Fragment). By default it strikes once: the next body of its API and
	// stream, one fault of each kind a body, or the first serving of
	// Fragment that reaches At.
	EveryTime bool
}

// FailBody queues body faults for api's bodies.
func (s *Server) FailBody(api API, faults ...BodyFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		s.bodyFaults[api] = append(s.bodyFaults[api], &f)
	}
}

// Corrupt corrupts the byte at offset of the next body of api on stream
// ("" for any stream) or, with everyTime, of every such body (see
// BodyCorrupt). FailBody with a Fragment corrupts a given fragment
// wherever it is served.
func (s *Server) Corrupt(api API, stream string, offset int64, everyTime bool) {
	s.FailBody(api, BodyFault{Kind: BodyCorrupt, At: offset, Stream: stream, EveryTime: everyTime})
}

// EndEarly makes the next body of api end cleanly after n bytes, the rest
// missing (see BodyEnd).
func (s *Server) EndEarly(api API, n int64) {
	s.FailBody(api, BodyFault{Kind: BodyEnd, At: n})
}

// ServeErrorUnit makes GetMedia on stream serve fragment number as an
// in-band error unit, as KVS does when it cannot serve a fragment (a KMS
// key it may not use, a fragment it cannot read): a unit whose tags hold
// the fragment number and the error, in place of the fragment's media,
// after which the body goes on with the next fragment. It holds for every
// serving until called again with a zero ErrorUnit.
// GetMediaForFragmentList and ListFragments are not affected.
func (s *Server) ServeErrorUnit(stream string, number tags.FragmentNumber, e ErrorUnit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := errorUnitKey{stream, number}
	if e == (ErrorUnit{}) {
		delete(s.errorUnits, k)
		return
	}
	s.errorUnits[k] = e
}

type errorUnitKey struct {
	stream string
	number tags.FragmentNumber
}

// errorUnit returns the error unit GetMedia serves in place of fragment
// number of stream, if any.
func (s *Server) errorUnit(stream string, number tags.FragmentNumber) (ErrorUnit, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.errorUnits[errorUnitKey{stream, number}]
	return e, ok
}

// bodyPlan applies the faults of one body as its bytes pass.
type bodyPlan struct {
	s      *Server
	api    API
	stream string
	// armed are the faults placed in the body, at their offsets in it.
	armed   []armedFault
	written int64
}

type armedFault struct {
	at int64
	f  *BodyFault
}

// planBody takes the faults of a new body of api on stream: every-time
// ones, one once-fault of each kind, and those of fragments (placed when
// their unit starts). Call it with s.mu held.
func (s *Server) planBody(api API, stream string) *bodyPlan {
	p := &bodyPlan{s: s, api: api, stream: stream}
	q := s.bodyFaults[api]
	var taken [BodyCorrupt + 1]bool
	kept := q[:0]
	for _, f := range q {
		switch {
		case f.Stream != "" && f.Stream != stream, f.Fragment != "":
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
	s.bodyFaults[api] = kept
	return p
}

// unit tells the plan that fragment number's unit starts at the current
// offset, placing the faults of that fragment.
func (p *bodyPlan) unit(number tags.FragmentNumber) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	for _, f := range p.s.bodyFaults[p.api] {
		if f.Fragment == number && (f.Stream == "" || f.Stream == p.stream) {
			p.armed = append(p.armed, armedFault{p.written + f.At, f})
		}
	}
}

// next passes b, the body's next bytes: it returns what of b goes through,
// corrupt as planned, and the kind of the fault that stops the body right
// after that (0 when none does).
func (p *bodyPlan) next(b []byte) ([]byte, BodyFaultKind) {
	start, end := p.written, p.written+int64(len(b))
	var stop *BodyFault
	for _, a := range p.armed {
		if (a.f.Kind == BodyCut || a.f.Kind == BodyEnd) && a.at >= start && a.at < end {
			end, stop = a.at, a.f
		}
	}
	b = b[:end-start]
	copied := false
	for _, a := range p.armed {
		if a.f.Kind != BodyCorrupt || a.at < start || a.at >= end {
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
func (p *bodyPlan) spend(f *BodyFault) {
	if f.EveryTime || f.Fragment == "" {
		return
	}
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	p.s.bodyFaults[p.api] = slices.DeleteFunc(p.s.bodyFaults[p.api], func(g *BodyFault) bool { return g == f })
}

// slowness returns how api's bodies on stream are slowed: the stream's
// own setting, else the API's. Call it with s.mu held.
func (s *Server) slowness(api API, stream string) slowness {
	if sl, ok := s.slow[rateKey{api, stream}]; ok {
		return sl
	}
	return s.slow[rateKey{api, ""}]
}

// SlowStream makes api's bodies on stream come chunk bytes at a time,
// delay apart, whatever Slow sets for other streams; a chunk of 0 serves
// them at full speed. For PutMedia the emulator reads the request body
// this slowly.
func (s *Server) SlowStream(api API, stream string, chunk int, delay time.Duration) {
	s.mu.Lock()
	s.slow[rateKey{api, stream}] = slowness{chunk, delay}
	s.mu.Unlock()
}

// acquire takes one of the connections of api on stream, and reports false
// when they are all taken. Call it with s.mu held.
func (s *Server) acquire(api API, stream string) bool {
	k := rateKey{api, stream}
	if limit := s.limits[api]; limit > 0 && s.active[k] >= limit {
		return false
	}
	s.active[k]++
	s.total[api]++
	s.peak[api] = max(s.peak[api], s.total[api])
	return true
}

// release gives back a connection acquire took.
func (s *Server) release(api API, stream string) {
	s.mu.Lock()
	s.active[rateKey{api, stream}]--
	s.total[api]--
	s.mu.Unlock()
}
