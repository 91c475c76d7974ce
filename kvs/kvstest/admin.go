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
// unsigned JSON POSTs, each the counterpart of a Go method (cut, end-early
// and corrupt of FailBody, error-unit of ServeErrorUnit). Stream and
// Fragment are optional: they scope a fault.
//
//	POST /_kvsemu/fail        {"API":"GetMedia","Status":500,"Type":"InternalFailure","Form":"code","Stream":"cam","Count":2}
//	POST /_kvsemu/rate-limit  {"API":"GetMedia","PerSecond":5}
//	POST /_kvsemu/connections {"API":"GetMedia","Limit":1}
//	POST /_kvsemu/cut         {"API":"GetMedia","At":[1000,5000],"Stream":"cam"}
//	POST /_kvsemu/end-early   {"API":"GetMediaForFragmentList","At":3000,"Stream":"cam"}
//	POST /_kvsemu/corrupt     {"API":"GetMedia","Offset":120,"Stream":"cam","Fragment":"9134...","EveryTime":true}
//	POST /_kvsemu/error-unit  {"Stream":"cam","Fragment":"9134...","Code":"KMS_ACCESS_DENIED","ID":4500}
//	POST /_kvsemu/slow        {"API":"GetMedia","Chunk":512,"Delay":"10ms","Stream":"cam"}
//	POST /_kvsemu/move-endpoint {"Stream":"cam"}
//	POST /_kvsemu/timestamps  {"Form":"exponent"}
//	POST /_kvsemu/streams     {"Name":"cam","Spec":"fragments=20,audio"}
//	GET  /_kvsemu/requests    → {"GetMedia":{"Requests":3,"PeakConnections":1},...}
const AdminPrefix = "/_kvsemu/"

// errorForms and timestampForms name the forms for the admin endpoint and
// the command's flags.
var (
	errorForms     = map[string]ErrorForm{"": ErrorInHeader, "header": ErrorInHeader, "code": ErrorInCode, "type": ErrorInType}
	timestampForms = map[string]TimestampForm{"mixed": TimestampMixed, "decimal": TimestampDecimal, "exponent": TimestampExponent, "integer": TimestampInteger}
)

// ParseTimestampForm reads a timestamp form's name: mixed, decimal,
// exponent or integer.
func ParseTimestampForm(name string) (TimestampForm, error) {
	f, ok := timestampForms[name]
	if !ok {
		return 0, fmt.Errorf("kvstest: unknown timestamp form %q (mixed, decimal, exponent, integer)", name)
	}
	return f, nil
}

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
	admin("fail", func(dec *json.Decoder) error {
		var in struct {
			API        API
			Status     int
			Type, Form string
			Stream     string
			Count      int
		}
		if err := dec.Decode(&in); err != nil {
			return err
		}
		form, ok := errorForms[in.Form]
		if !ok || in.Status < 300 || in.Type == "" {
			return fmt.Errorf("kvstest: a fault needs a Status >= 300, a Type and a Form of header, code or type")
		}
		for range max(in.Count, 1) {
			s.Fail(in.API, Fault{Status: in.Status, Type: in.Type, Form: form, Stream: in.Stream})
		}
		return nil
	})
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
	admin("cut", func(dec *json.Decoder) error {
		var in struct {
			API    API
			At     []int64
			Stream string
		}
		err := dec.Decode(&in)
		for _, at := range in.At {
			if err == nil {
				s.FailBody(in.API, BodyFault{Kind: BodyCut, At: at, Stream: in.Stream})
			}
		}
		return err
	})
	admin("end-early", func(dec *json.Decoder) error {
		var in struct {
			API    API
			At     int64
			Stream string
		}
		err := dec.Decode(&in)
		if err == nil {
			s.FailBody(in.API, BodyFault{Kind: BodyEnd, At: in.At, Stream: in.Stream})
		}
		return err
	})
	admin("corrupt", func(dec *json.Decoder) error {
		var in struct {
			API       API
			Offset    int64
			Stream    string
			Fragment  tags.FragmentNumber
			EveryTime bool
		}
		err := dec.Decode(&in)
		if err == nil {
			s.FailBody(in.API, BodyFault{Kind: BodyCorrupt, At: in.Offset, Stream: in.Stream, Fragment: in.Fragment, EveryTime: in.EveryTime})
		}
		return err
	})
	admin("error-unit", func(dec *json.Decoder) error {
		var in struct {
			Stream    string
			Fragment  tags.FragmentNumber
			Exception bool
			Code      string
			ID        int
			Message   string
		}
		err := dec.Decode(&in)
		if err == nil && (in.Stream == "" || in.Fragment == "") {
			err = fmt.Errorf("kvstest: an error unit needs a Stream and a Fragment")
		}
		if err == nil {
			s.ServeErrorUnit(in.Stream, in.Fragment, kvsgen.ErrorUnit{Exception: in.Exception, Code: in.Code, ID: in.ID, Message: in.Message})
		}
		return err
	})
	admin("slow", func(dec *json.Decoder) error {
		var in struct {
			API    API
			Chunk  int
			Delay  string
			Stream string
		}
		if err := dec.Decode(&in); err != nil {
			return err
		}
		d, err := time.ParseDuration(in.Delay)
		if err == nil {
			s.SlowStream(in.API, in.Stream, in.Chunk, d)
		}
		return err
	})
	admin("move-endpoint", func(dec *json.Decoder) error {
		var in struct{ Stream string }
		err := dec.Decode(&in)
		if err == nil {
			s.MoveEndpoint(in.Stream)
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
			s.AddStream(in.Name, c)
		}
		return err
	})
	mux.HandleFunc("GET "+AdminPrefix+"requests", func(w http.ResponseWriter, r *http.Request) {
		type counts struct{ Requests, PeakConnections int }
		out := map[API]counts{}
		s.mu.Lock()
		for api, n := range s.requests {
			out[api] = counts{n, s.peak[api]}
		}
		s.mu.Unlock()
		writeJSON(w, out)
	})
}

// ParseStreamConfig reads a generated stream's description, as the
// kvsemu command's -stream flag takes it: comma-separated settings of
// fragments=N, duration=D (a fragment's length, "2s"), fps=N, bitrate=N
// (bits per second, with counting), audio, counting (frames of counting
// bytes of the bitrate instead of decodable media) and start=RFC 3339
// time. An empty spec is the default stream, with decodable media.
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
		default:
			err = fmt.Errorf("unknown setting %q", k)
		}
		if err != nil {
			return StreamConfig{}, fmt.Errorf("kvstest: stream spec %q: %w", spec, err)
		}
	}
	if c.Fragments < 0 || c.FPS < 0 || c.VideoBitrate < 0 || c.FragmentDuration < 0 {
		return StreamConfig{}, fmt.Errorf("kvstest: stream spec %q: negative setting", spec)
	}
	return c, nil
}
