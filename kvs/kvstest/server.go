package kvstest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/tags"
)

// The emulator's static test credentials and region.
const (
	AccessKeyID     = "AKIDKVSMKVTEST"
	SecretAccessKey = "kvsmkv-test-secret"
	Region          = "us-west-2"
)

// API names an operation, for faults and counters.
type API string

// The operations the emulator serves.
const (
	GetDataEndpoint         API = "GetDataEndpoint"
	ListFragments           API = "ListFragments"
	GetMediaForFragmentList API = "GetMediaForFragmentList"
	GetMedia                API = "GetMedia"
)

// StreamConfig describes a generated stream. Zero fields take the defaults
// in their comments.
type StreamConfig struct {
	// Fragments is the number of fragments (default 10).
	Fragments int
	// FragmentDuration is each fragment's length (default 2s).
	FragmentDuration time.Duration
	// FPS and VideoBitrate shape the video (defaults 30 and 1,000,000).
	FPS, VideoBitrate int
	// Audio adds an audio track.
	Audio bool
	// Start is the producer timestamp of the first fragment (default
	// 2017-11-28T06:55:08.513Z).
	Start time.Time
	// Media makes the frames decodable H.264 and AAC (Generator.Media)
	// instead of counting bytes of the VideoBitrate.
	Media bool
}

// Server is the emulator. Its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	signer *v4.Signer

	mu         sync.Mutex
	streams    map[string]*stream
	faults     map[API][]Fault
	bodyFaults map[API][]*BodyFault
	errorUnits map[errorUnitKey]ErrorUnit
	slow       map[rateKey]slowness
	limits     map[API]int
	active     map[rateKey]int
	total      map[API]int
	peak       map[API]int
	requests   map[API]int
	maxResults int
	requestID  int
	ctl        control
	live       LiveLimits
	dataDir    string
}

type slowness struct {
	chunk int
	delay time.Duration
}

// NewServer starts an emulator on a loopback port. Close it when done.
func NewServer() *Server {
	s := newServer()
	s.srv.Start()
	return s
}

// NewServerAt starts an emulator listening on addr ("127.0.0.1:4567"; a
// port of 0 picks one). Close it when done.
func NewServerAt(addr string) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kvstest: %w", err)
	}
	s := newServer()
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	return s, nil
}

// newServer makes an emulator with its handlers, not yet started.
func newServer() *Server {
	s := &Server{
		signer:     v4.NewSigner(),
		streams:    map[string]*stream{},
		faults:     map[API][]Fault{},
		bodyFaults: map[API][]*BodyFault{},
		errorUnits: map[errorUnitKey]ErrorUnit{},
		slow:       map[rateKey]slowness{},
		// KVS's documented connection limits per stream.
		limits:   map[API]int{GetMedia: 3, GetMediaForFragmentList: 5},
		active:   map[rateKey]int{},
		total:    map[API]int{},
		peak:     map[API]int{},
		requests: map[API]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /getDataEndpoint", s.handle(GetDataEndpoint, s.getDataEndpoint))
	mux.HandleFunc("POST /listFragments", s.handle(ListFragments, s.listFragments))
	mux.HandleFunc("POST /getMediaForFragmentList", s.handle(GetMediaForFragmentList, s.getMediaForFragmentList))
	mux.HandleFunc("POST /getMedia", s.handle(GetMedia, s.getMedia))
	mux.HandleFunc("POST /putMedia", s.handleStreaming(PutMedia, s.putMedia))
	s.controlRoutes(mux)
	s.srv = httptest.NewUnstartedServer(endpoints(mux))
	return s
}

// URL is the emulator's address, both control and data endpoint.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the emulator down.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Config returns an aws.Config that talks to the emulator with its test
// credentials, with the SDK's default retryer.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.srv.URL),
		HTTPClient:   s.srv.Client(),
	}
}

// AddStream adds a stream of generated fragments, replacing any stream of
// that name, and returns their fragment numbers in order. A generated
// stream is an archive: GetMedia ends at its end, unless PutMedia adds to
// it. It is kept in memory only.
func (s *Server) AddStream(name string, c StreamConfig) []tags.FragmentNumber {
	g := Generator{
		Fragments: c.Fragments, FragmentDuration: c.FragmentDuration, FPS: c.FPS, VideoBitrate: c.VideoBitrate,
		Audio: c.Audio, Start: c.Start, ProducerTags: true, Media: c.Media,
	}
	if g.Fragments == 0 {
		g.Fragments = 10
	}
	if g.VideoBitrate == 0 {
		g.VideoBitrate = 1_000_000
	}
	if g.FragmentDuration == 0 {
		g.FragmentDuration = 2 * time.Second
	}
	st := newStream(name, 24*time.Hour)
	var numbers []tags.FragmentNumber
	for i := range g.Fragments {
		p, sv := g.Times(i)
		st.add(&fragment{
			producer: time.Unix(0, int64(p)), server: time.Unix(0, int64(sv)), duration: g.FragmentDuration,
			gen: &g, genIndex: i, genSize: int64(len(g.Unit(i))), done: true, persisted: true,
		})
		numbers = append(numbers, st.frags[i].number)
	}
	s.mu.Lock()
	s.put(st, "video/h264")
	s.mu.Unlock()
	return numbers
}

// Fragments returns the metadata of a stream's persisted fragments, in
// order, or nil when there is no such stream.
func (s *Server) Fragments(name string) []kvsaws.FragmentInfo {
	st := s.streamNamed(name)
	if st == nil {
		return nil
	}
	return st.list()
}

// Fail makes the next len(faults) calls of api fail with them, in order.
func (s *Server) Fail(api API, faults ...Fault) {
	s.mu.Lock()
	s.faults[api] = append(s.faults[api], faults...)
	s.mu.Unlock()
}

// Throttle makes the next n calls of api fail with ClientLimitExceeded.
func (s *Server) Throttle(api API, n int) {
	for range n {
		s.Fail(api, Fault{Status: http.StatusBadRequest, Type: kvsaws.CodeClientLimitExceeded})
	}
}

// CutBody makes the next len(at) media bodies of api break off, the
// connection dropped, after at[i] bytes. FailBody scopes cuts to a stream
// or a fragment.
func (s *Server) CutBody(api API, at ...int64) {
	for _, n := range at {
		s.FailBody(api, BodyFault{Kind: BodyCut, At: n})
	}
}

// Slow makes media bodies of api come chunk bytes at a time, delay apart;
// a chunk of 0 serves them at full speed again. SlowStream sets it for one
// stream.
func (s *Server) Slow(api API, chunk int, delay time.Duration) {
	s.SlowStream(api, "", chunk, delay)
}

// LimitConnections sets how many bodies of api may stream at once on one
// stream, as KVS limits them; more fail with ConnectionLimitExceeded. The
// defaults are KVS's: 3 for GetMedia, 5 for GetMediaForFragmentList, none
// for PutMedia (KVS refuses a second PutMedia connection of a stream:
// set 1 to do the same).
func (s *Server) LimitConnections(api API, n int) {
	s.mu.Lock()
	s.limits[api] = n
	s.mu.Unlock()
}

// SetMaxResults caps the page size of ListFragments below its 1000.
func (s *Server) SetMaxResults(n int) {
	s.mu.Lock()
	s.maxResults = n
	s.mu.Unlock()
}

// Requests returns how many calls of api the emulator received.
func (s *Server) Requests(api API) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[api]
}

// PeakConnections returns the most bodies of api that streamed at once,
// over all streams.
func (s *Server) PeakConnections(api API) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak[api]
}

// handle wraps an operation: counting, signature check, moved endpoints,
// rate limits, injected faults. PutMedia's body streams: it is left unread
// for the operation, and its signature covers the payload hash given in
// X-Amz-Content-Sha256 or else, as producers sign it, the empty string.
func (s *Server) handle(api API, serve func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if api != PutMedia {
			var err error
			if body, err = io.ReadAll(io.LimitReader(r.Body, 1<<20)); err != nil {
				return
			}
		}
		s.mu.Lock()
		s.requests[api]++
		s.requestID++
		w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("kvstest-%d", s.requestID))
		s.mu.Unlock()
		if e := s.verify(r, body); e != nil {
			writeError(w, e.status, e.code, e.msg)
			return
		}
		if f := s.admit(r, api, streamName(r, body)); f != nil {
			writeErrorForm(w, f.Status, f.Type, faultMessage(f), f.Form)
			return
		}
		serve(w, r, body)
	}
}

// writeError answers as KVS does: the status, the type in the
// X-Amzn-ErrorType header, the message in a JSON body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeErrorForm(w, status, code, msg, ErrorInHeader)
}

// stream looks a request's stream up by name or ARN, answering the error
// when there is none.
func (s *Server) stream(w http.ResponseWriter, name, arn string) *stream {
	name, status, code := s.resolve(name, arn)
	if status != 0 {
		writeError(w, status, code, "Either StreamName or a valid StreamARN is required.")
		return nil
	}
	s.mu.Lock()
	st := s.streams[name]
	s.mu.Unlock()
	if st == nil {
		writeError(w, http.StatusNotFound, kvsaws.CodeResourceNotFound, "The requested stream is not found or not active.")
	}
	return st
}

func (s *Server) getDataEndpoint(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ StreamName, StreamARN, APIName string }
	if json.Unmarshal(body, &in) != nil || !apiNames[in.APIName] {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "APIName must be one of the model's APIName values")
		return
	}
	m := s.meta(w, in.StreamName, in.StreamARN)
	if m == nil {
		return
	}
	writeJSON(w, map[string]string{"DataEndpoint": s.DataEndpoint(m.name)})
}

// fragmentJSON is the Fragment shape with timestamps in the server's form.
type fragmentJSON struct {
	FragmentNumber               tags.FragmentNumber
	FragmentSizeInBytes          int64
	ProducerTimestamp            json.Number
	ServerTimestamp              json.Number
	FragmentLengthInMilliseconds int64
}

// listToken is what a ListFragments NextToken holds: the selector of the
// first page and where the next page starts, so that a request with only
// the token (as AWS's ListFragmentWorker pages) continues the listing.
type listToken struct {
	Selector kvsaws.FragmentSelector
	Offset   int
}

func (s *Server) listFragments(w http.ResponseWriter, r *http.Request, body []byte) {
	var in kvsaws.ListFragmentsInput
	if err := json.Unmarshal(body, &in); err != nil || in.MaxResults < 0 || in.MaxResults > 1000 {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid ListFragments request")
		return
	}
	var tok listToken
	if in.NextToken != "" {
		b, err := base64.StdEncoding.DecodeString(in.NextToken)
		if err == nil {
			err = json.Unmarshal(b, &tok)
		}
		if err != nil || tok.Offset < 0 {
			writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid NextToken")
			return
		}
	} else if in.FragmentSelector == nil {
		// "This is only required when the NextToken isn't passed in the API."
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "FragmentSelector is required without a NextToken")
		return
	} else {
		tok.Selector = *in.FragmentSelector
	}
	sel := tok.Selector
	if sel.TimestampRange.StartTimestamp.IsZero() || sel.TimestampRange.EndTimestamp.IsZero() ||
		sel.FragmentSelectorType != kvsaws.ProducerTimestamp && sel.FragmentSelectorType != kvsaws.ServerTimestamp {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "FragmentSelector needs a FragmentSelectorType and both ends of its TimestampRange")
		return
	}
	st := s.stream(w, in.StreamName, in.StreamARN)
	if st == nil {
		return
	}
	var match []kvsaws.FragmentInfo
	for _, f := range st.list() {
		t := f.ProducerTimestamp
		if sel.FragmentSelectorType == kvsaws.ServerTimestamp {
			t = f.ServerTimestamp
		}
		// Both ends are inclusive, on the fragment's start time.
		if t.Compare(sel.TimestampRange.StartTimestamp) >= 0 && t.Compare(sel.TimestampRange.EndTimestamp) <= 0 {
			match = append(match, f)
		}
	}
	// KVS returns fragments in no particular order: neither does the
	// emulator, so that clients sort.
	for i := 0; i+1 < len(match); i += 2 {
		match[i], match[i+1] = match[i+1], match[i]
	}
	start := min(tok.Offset, len(match))
	page := int(in.MaxResults)
	s.mu.Lock()
	if page == 0 {
		page = 100
	}
	if s.maxResults > 0 {
		page = min(page, s.maxResults)
	}
	s.mu.Unlock()
	end := min(start+page, len(match))
	ts := s.timestamps()
	out := struct {
		Fragments []fragmentJSON
		NextToken string `json:",omitempty"`
	}{Fragments: []fragmentJSON{}}
	for _, f := range match[start:end] {
		out.Fragments = append(out.Fragments, fragmentJSON{
			f.FragmentNumber, f.FragmentSizeInBytes,
			ts.number(f.ProducerTimestamp), ts.number(f.ServerTimestamp), f.FragmentLengthInMilliseconds,
		})
	}
	if end < len(match) {
		b, _ := json.Marshal(listToken{sel, end})
		out.NextToken = base64.StdEncoding.EncodeToString(b)
	}
	writeJSON(w, out)
}

func (s *Server) getMediaForFragmentList(w http.ResponseWriter, r *http.Request, body []byte) {
	var in kvsaws.GetMediaForFragmentListInput
	if err := json.Unmarshal(body, &in); err != nil || len(in.Fragments) == 0 || len(in.Fragments) > 1000 {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "Fragments must hold 1 to 1000 fragment numbers")
		return
	}
	st := s.stream(w, in.StreamName, in.StreamARN)
	if st == nil {
		return
	}
	s.serveMedia(w, r, GetMediaForFragmentList, st.name, func(out *mediaOut) {
		for _, n := range in.Fragments {
			out.unit(n)
			var b []byte
			if f := st.persistedFragment(n); f != nil {
				b = f.unit(false, 0)
			} else {
				// The names the GetMediaForFragmentList documentation gives.
				b = Generator{SideSpelling: true}.Error(string(n), ErrorUnit{Exception: true, Code: "ResourceNotFoundException", Message: "Fragment " + string(n) + " not found"})
			}
			if !out.write(b) {
				return
			}
		}
	})
}

func (s *Server) getMedia(w http.ResponseWriter, r *http.Request, body []byte) {
	var in kvsaws.GetMediaInput
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid GetMedia request")
		return
	}
	st := s.stream(w, in.StreamName, in.StreamARN)
	if st == nil {
		return
	}
	first, ok := st.start(in.StartSelector)
	if !ok {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid StartSelector")
		return
	}
	s.serveMedia(w, r, GetMedia, st.name, func(out *mediaOut) { s.follow(out, st, first) })
}

// start returns the index of the fragment GetMedia starts at for a
// selector.
func (st *stream) start(sel kvsaws.StartSelector) (int, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch sel.StartSelectorType {
	case kvsaws.StartAtEarliest:
		return 0, true
	case kvsaws.StartAtNow:
		// The latest chunk: the fragment being ingested, from its start,
		// or else the next one to come.
		if n := len(st.frags); n > 0 && !st.frags[n-1].done && !st.frags[n-1].aborted {
			return n - 1, true
		}
		return len(st.frags), true
	case kvsaws.StartAtFragmentNumber:
		// The chunk after the one named (the documented meaning, and how
		// AWS's ContinuousGetMediaWorker resumes).
		i, ok := st.index[sel.AfterFragmentNumber]
		return i + 1, ok
	case kvsaws.StartAtContinuationToken:
		i, ok := st.index[tags.FragmentNumber(sel.ContinuationToken)]
		return i + 1, ok
	case kvsaws.StartAtServerTimestamp, kvsaws.StartAtProducerTimestamp:
		if sel.StartTimestamp.IsZero() {
			return 0, false
		}
		at := sel.StartTimestamp.Time()
		for i, f := range st.frags {
			if f.aborted {
				continue
			}
			t := f.producer
			if sel.StartSelectorType == kvsaws.StartAtServerTimestamp {
				t = f.server
			}
			// The chunk containing the time, or the first one after it;
			// a fragment being ingested contains all times after its start.
			if !f.done || at.Before(t.Add(f.duration)) {
				return i, true
			}
		}
		return len(st.frags), true
	}
	return 0, false
}

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
		case BodyCut:
			o.flush()
			panic(http.ErrAbortHandler) // drop the connection mid-body
		case BodyEnd:
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

// serveMedia answers with a media body of stream that body writes, under
// the stream's connection limit, with the faults and slowness asked for.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, api API, stream string, body func(out *mediaOut)) {
	s.mu.Lock()
	if !s.acquire(api, stream) {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, kvsaws.CodeConnectionLimitExceeded, "too many connections")
		return
	}
	out := &mediaOut{w: w, r: r, plan: s.planBody(api, stream), slow: s.slowness(api, stream)}
	s.mu.Unlock()
	defer s.release(api, stream)

	w.Header().Set("Content-Type", "video/webm")
	w.WriteHeader(http.StatusOK)
	out.flusher, _ = w.(http.Flusher)
	out.flush() // the headers, before a live body's first fragment
	body(out)
}
