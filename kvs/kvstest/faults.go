package kvstest

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

// Fault is an error response the emulator gives instead of serving.
type Fault struct {
	Status int
	Type   string // the error type, such as kvsaws.ErrClientLimitExceeded
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
			return &Fault{Status: http.StatusBadRequest, Type: kvsaws.ErrInvalidEndpoint}
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
			return &Fault{Status: http.StatusBadRequest, Type: kvsaws.ErrClientLimitExceeded}
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
	case kvsaws.ErrInvalidEndpoint:
		return "The data endpoint of the stream has moved; call GetDataEndpoint again."
	case kvsaws.ErrClientLimitExceeded:
		return "Rate exceeded for the stream and API; reduce the request rate."
	}
	return "injected by kvstest"
}
