package kvstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/tags"
)

// AdminPrefix is the path under which the emulator takes its faults and
// settings over HTTP, for programs that run it as a command (kvsemu):
// unsigned JSON POSTs, each the counterpart of a Go method. A fault is
// POSTed to the name of its kind (fail, cut, end-early, corrupt, slow,
// error-unit, move-endpoint), as the fields of a Fault with its Scope's
// API, Stream and Fragment beside them, Form by name (header, code,
// type), Delay as a duration ("10ms") and Unit's Exception, Code, ID and
// Message in place of Unit; Server.Inject takes it.
//
//	POST /_kvsemu/fail        {"API":"GetMedia","Status":500,"Type":"InternalFailure","Form":"code","Stream":"cam","Count":2}
//	POST /_kvsemu/cut         {"API":"GetMedia","At":1000,"Stream":"cam"}
//	POST /_kvsemu/end-early   {"API":"GetMediaForFragmentList","At":3000,"Stream":"cam"}
//	POST /_kvsemu/corrupt     {"API":"GetMedia","At":120,"Stream":"cam","Fragment":"9134...","EveryTime":true}
//	POST /_kvsemu/error-unit  {"Stream":"cam","Fragment":"9134...","Code":"KMS_ACCESS_DENIED","ID":4500}
//	POST /_kvsemu/slow        {"API":"GetMedia","Chunk":512,"Delay":"10ms","Stream":"cam"}
//	POST /_kvsemu/move-endpoint {"Stream":"cam"}
//	POST /_kvsemu/rate-limit  {"API":"GetMedia","PerSecond":5}
//	POST /_kvsemu/connections {"API":"GetMedia","Limit":1}
//	POST /_kvsemu/timestamps  {"Form":"exponent"}
//	POST /_kvsemu/streams     {"Name":"cam","Spec":"fragments=20,audio"} (ending now unless start= is given)
//	GET  /_kvsemu/requests    → {"GetMedia":{"Requests":3,"PeakConnections":1},...}
const AdminPrefix = "/_kvsemu/"

// faultKinds and errorForms name the fault kinds and the error forms for
// the admin endpoint.
var (
	faultKinds = map[string]FaultKind{
		"fail": FailCall, "cut": CutBody, "end-early": EndBody, "corrupt": CorruptBody,
		"slow": SlowBody, "error-unit": InBandError, "move-endpoint": MoveEndpoint,
	}
	errorForms = map[string]ErrorForm{"": ErrorInHeader, "header": ErrorInHeader, "code": ErrorInCode, "type": ErrorInType}
)

func (s *Server) adminRoutes(mux *http.ServeMux) {
	admin := func(path string, do func(dec *json.Decoder) error) {
		mux.HandleFunc("POST "+AdminPrefix+path, func(w http.ResponseWriter, r *http.Request) {
			dec := json.NewDecoder(r.Body)
			dec.DisallowUnknownFields()
			if err := do(dec); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
	for name, kind := range faultKinds {
		admin(name, func(dec *json.Decoder) error {
			var in adminFault
			if err := dec.Decode(&in); err != nil {
				return err
			}
			f, err := in.fault(kind)
			if err == nil {
				s.Inject(f)
			}
			return err
		})
	}
	admin("rate-limit", func(dec *json.Decoder) error {
		var in struct {
			API       API
			PerSecond int
		}
		err := dec.Decode(&in)
		if err == nil {
			s.SetRateLimit(in.API, in.PerSecond)
		}
		return err
	})
	admin("connections", func(dec *json.Decoder) error {
		var in struct {
			API   API
			Limit int
		}
		err := dec.Decode(&in)
		if err == nil {
			s.LimitConnections(in.API, in.Limit)
		}
		return err
	})
	admin("timestamps", func(dec *json.Decoder) error {
		var in struct{ Form string }
		if err := dec.Decode(&in); err != nil {
			return err
		}
		f, err := ParseTimestampForm(in.Form)
		if err == nil {
			s.SetTimestampForm(f)
		}
		return err
	})
	admin("streams", func(dec *json.Decoder) error {
		var in struct{ Name, Spec string }
		if err := dec.Decode(&in); err != nil {
			return err
		}
		c, err := ParseStreamConfig(in.Spec)
		if err == nil && !validStreamName(in.Name) {
			err = fmt.Errorf("kvstest: invalid stream name %q", in.Name)
		}
		if err == nil {
			if c.Start.IsZero() {
				c.Start = time.Now().Add(-c.Length()) // in a default time range
			}
			s.AddStream(in.Name, c)
		}
		return err
	})
	mux.HandleFunc("GET "+AdminPrefix+"requests", func(w http.ResponseWriter, r *http.Request) {
		type counts struct{ Requests, PeakConnections int }
		out := map[API]counts{}
		s.mu.Lock()
		for api, n := range s.limits.requests {
			out[api] = counts{n, s.limits.peak[api]}
		}
		s.mu.Unlock()
		writeJSON(w, out)
	})
}

// adminFault is a Fault as the admin endpoint takes it.
type adminFault struct {
	API           API
	Stream        string
	Fragment      tags.FragmentNumber
	Status        int
	Type, Form    string
	At            int64
	Count         int
	EveryTime     bool
	Chunk         int
	Delay         string
	Exception     bool
	Code, Message string
	ID            int
}

// fault is the Fault of kind that in describes.
func (in *adminFault) fault(kind FaultKind) (Fault, error) {
	form, ok := errorForms[in.Form]
	if !ok {
		return Fault{}, fmt.Errorf("kvstest: unknown error form %q (header, code, type)", in.Form)
	}
	var delay time.Duration
	if in.Delay != "" {
		var err error
		if delay, err = time.ParseDuration(in.Delay); err != nil {
			return Fault{}, fmt.Errorf("kvstest: %w", err)
		}
	}
	f := Fault{
		Kind: kind, Scope: Scope{API: in.API, Stream: in.Stream, Fragment: in.Fragment},
		Status: in.Status, Type: in.Type, Form: form, At: in.At, Count: in.Count, EveryTime: in.EveryTime,
		Chunk: in.Chunk, Delay: delay,
		Unit: kvsgen.ErrorUnit{Exception: in.Exception, Code: in.Code, ID: in.ID, Message: in.Message},
	}
	if kind == InBandError {
		f.Scope.API = GetMedia
	}
	return f, f.check()
}

// ParseStreamConfig reads a generated stream's description, as the
// kvsemu command's -stream flag takes it: comma-separated settings of
// fragments=N, duration=D (a fragment's length, "2s"), fps=N, bitrate=N
// (bits per second, with counting), audio, counting (frames of counting
// bytes of the bitrate instead of decodable media) and start=RFC 3339
// time; connect (an Amazon Connect call: two named PCM tracks and a
// ContactId tag), chime=alaw or chime=mulaw (a Chime SDK Voice Connector
// call leg in G.711, with TransactionId and VoiceConnectorId tags) and
// change=N (the fragment where the second call begins, by default the
// middle) make it a call instead of video. An empty spec is the default
// stream, with decodable media.
func ParseStreamConfig(spec string) (StreamConfig, error) {
	c := StreamConfig{Media: true}
	for _, kv := range strings.Split(spec, ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "fragments":
			c.Fragments, err = strconv.Atoi(v)
		case "fps":
			c.FPS, err = strconv.Atoi(v)
		case "bitrate":
			c.VideoBitrate, err = strconv.Atoi(v)
		case "duration":
			c.FragmentDuration, err = time.ParseDuration(v)
		case "audio":
			c.Audio = true
		case "counting":
			c.Media = false
		case "start":
			c.Start, err = time.Parse(time.RFC3339Nano, v)
		case "connect":
			c.Call = kvsgen.ConnectCall
		case "chime":
			switch v {
			case "alaw":
				c.Call = kvsgen.ChimeALaw
			case "mulaw":
				c.Call = kvsgen.ChimeMuLaw
			default:
				err = fmt.Errorf("chime=%q: want chime=alaw or chime=mulaw", v)
			}
		case "change":
			c.CallChange, err = strconv.Atoi(v)
		default:
			err = fmt.Errorf("unknown setting %q", k)
		}
		if err != nil {
			return StreamConfig{}, fmt.Errorf("kvstest: stream spec %q: %w", spec, err)
		}
	}
	if c.Fragments < 0 || c.FPS < 0 || c.VideoBitrate < 0 || c.FragmentDuration < 0 || c.CallChange < 0 {
		return StreamConfig{}, fmt.Errorf("kvstest: stream spec %q: negative setting", spec)
	}
	return c, nil
}

// SetRateLimit makes calls of api on one stream (or, for ListStreams and
// CreateStream, on the account) fail with ClientLimitExceededException
// past perSecond calls in any one second, as KVS enforces its limits; 0
// lifts the limit. The emulator enforces no rate unless asked, so that
// tests may burst; EnforceKVSLimits sets KVS's own.
func (s *Server) SetRateLimit(api API, perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.rates[api] = perSecond
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

// LimitConnections sets how many bodies of api may stream at once on one
// stream, as KVS limits them; more fail with ConnectionLimitExceeded. The
// defaults are KVS's: 3 for GetMedia, 5 for GetMediaForFragmentList, none
// for PutMedia (KVS refuses a second PutMedia connection of a stream:
// set 1 to do the same).
func (s *Server) LimitConnections(api API, n int) {
	s.mu.Lock()
	s.limits.conns[api] = n
	s.mu.Unlock()
}

// SetMaxResults caps the page size of ListFragments below its 1000.
func (s *Server) SetMaxResults(n int) {
	s.mu.Lock()
	s.limits.maxResults = n
	s.mu.Unlock()
}

// Requests returns how many calls of api the emulator received.
func (s *Server) Requests(api API) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.requests[api]
}

// PeakConnections returns the most bodies of api that streamed at once,
// over all streams.
func (s *Server) PeakConnections(api API) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.peak[api]
}

// SetLiveLimits sets the limits of live GetMedia and PutMedia sessions.
func (s *Server) SetLiveLimits(l LiveLimits) {
	s.mu.Lock()
	s.limits.live = l.withDefaults()
	s.mu.Unlock()
}

// Inject injects faults, in order. It panics on a fault its kind's fields
// are missing from, as regexp.MustCompile does on a bad pattern: faults
// are written in tests.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		if err := f.check(); err != nil {
			panic(err)
		}
		if f.Kind == MoveEndpoint {
			if st := s.streams.get(f.Scope.Stream); st != nil {
				st.epoch++
			}
			continue
		}
		s.faults.add(f)
	}
}

// SetTimestampForm sets how the emulator writes JSON timestamps.
func (s *Server) SetTimestampForm(f TimestampForm) {
	s.mu.Lock()
	s.ctl.form = f
	s.mu.Unlock()
}
