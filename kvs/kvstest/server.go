package kvstest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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
}

// Fault is an error response the emulator gives instead of serving.
type Fault struct {
	Status int
	Type   string // the error type, such as kvsaws.ErrClientLimitExceeded
}

// Server is the emulator. Its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	signer *v4.Signer

	mu         sync.Mutex
	streams    map[string]*stream
	faults     map[API][]Fault
	cuts       map[API][]int64
	slow       map[API]slowness
	limits     map[API]int
	active     map[API]int
	peak       map[API]int
	requests   map[API]int
	maxResults int
	requestID  int
	live       LiveLimits
	dataDir    string
}

type slowness struct {
	chunk int
	delay time.Duration
}

// NewServer starts an emulator on a loopback port. Close it when done.
func NewServer() *Server {
	s := &Server{
		signer:  v4.NewSigner(),
		streams: map[string]*stream{},
		faults:  map[API][]Fault{},
		cuts:    map[API][]int64{},
		slow:    map[API]slowness{},
		// KVS's documented connection limits per stream.
		limits:   map[API]int{GetMedia: 3, GetMediaForFragmentList: 5},
		active:   map[API]int{},
		peak:     map[API]int{},
		requests: map[API]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /getDataEndpoint", s.handle(GetDataEndpoint, s.getDataEndpoint))
	mux.HandleFunc("POST /listFragments", s.handle(ListFragments, s.listFragments))
	mux.HandleFunc("POST /getMediaForFragmentList", s.handle(GetMediaForFragmentList, s.getMediaForFragmentList))
	mux.HandleFunc("POST /getMedia", s.handle(GetMedia, s.getMedia))
	mux.HandleFunc("POST /putMedia", s.handleStreaming(PutMedia, s.putMedia))
	s.srv = httptest.NewServer(mux)
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
		Audio: c.Audio, Start: c.Start, ProducerTags: true,
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
	s.streams[name] = st
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
		s.Fail(api, Fault{http.StatusBadRequest, kvsaws.ErrClientLimitExceeded})
	}
}

// CutBody makes the next len(at) media bodies of api break off, the
// connection dropped, after at[i] bytes.
func (s *Server) CutBody(api API, at ...int64) {
	s.mu.Lock()
	s.cuts[api] = append(s.cuts[api], at...)
	s.mu.Unlock()
}

// Slow makes media bodies of api come chunk bytes at a time, delay apart;
// a chunk of 0 serves them at full speed again.
func (s *Server) Slow(api API, chunk int, delay time.Duration) {
	s.mu.Lock()
	s.slow[api] = slowness{chunk, delay}
	s.mu.Unlock()
}

// LimitConnections sets how many bodies of api may stream at once; more
// fail with ConnectionLimitExceeded. The defaults are KVS's: 3 for
// GetMedia, 5 for GetMediaForFragmentList.
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

// PeakConnections returns the most bodies of api that streamed at once.
func (s *Server) PeakConnections(api API) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak[api]
}

// handle wraps an operation: counting, signature check, injected faults.
func (s *Server) handle(api API, serve func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return
		}
		s.mu.Lock()
		s.requests[api]++
		s.requestID++
		w.Header().Set("x-amz-RequestId", fmt.Sprintf("kvstest-%d", s.requestID))
		var fault *Fault
		if q := s.faults[api]; len(q) > 0 {
			fault, s.faults[api] = &q[0], q[1:]
		}
		s.mu.Unlock()
		if code, msg := s.verify(r, body); code != "" {
			writeError(w, http.StatusForbidden, code, msg)
			return
		}
		if fault != nil {
			writeError(w, fault.Status, fault.Type, "injected by kvstest")
			return
		}
		serve(w, r, body)
	}
}

// verify checks the request's SigV4 signature by signing it again with the
// SDK's signer and the emulator's credentials. It returns the error type
// KVS answers a missing or wrong signature with, or "".
func (s *Server) verify(r *http.Request, body []byte) (code, msg string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "MissingAuthenticationTokenException", "Missing Authentication Token"
	}
	signed := ""
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == "SignedHeaders" {
			signed = v
		}
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || signed == "" {
		return "IncompleteSignatureException", "Authorization header requires SignedHeaders and X-Amz-Date"
	}
	if d := time.Since(when); d > 15*time.Minute || d < -15*time.Minute {
		return "InvalidSignatureException", "Signature expired"
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return "InvalidSignatureException", err.Error()
	}
	again.ContentLength = int64(len(body))
	for _, h := range strings.Split(signed, ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		for _, v := range r.Header.Values(h) {
			again.Header.Add(h, v)
		}
	}
	again.Header.Del("Authorization")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
	if err := s.signer.SignHTTP(r.Context(), creds, again, hex.EncodeToString(sum[:]), kvsaws.SigningName, Region, when); err != nil {
		return "InvalidSignatureException", err.Error()
	}
	if again.Header.Get("Authorization") != auth {
		return "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
	}
	return "", ""
}

// writeError answers as KVS does: status, x-amz-ErrorType, JSON message.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("x-amz-ErrorType", code+":")
	w.Header().Set("x-amzn-ErrorType", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg, "__type": code})
}

func (s *Server) stream(w http.ResponseWriter, name, arn string) *stream {
	if name == "" {
		name = arn[strings.LastIndexByte(arn, '/')+1:]
	}
	s.mu.Lock()
	st := s.streams[name]
	s.mu.Unlock()
	if st == nil {
		writeError(w, http.StatusNotFound, kvsaws.ErrResourceNotFound, "The requested stream is not found or not active.")
	}
	return st
}

func (s *Server) getDataEndpoint(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ StreamName, StreamARN, APIName string }
	if json.Unmarshal(body, &in) != nil || in.APIName == "" {
		writeError(w, http.StatusBadRequest, kvsaws.ErrInvalidArgument, "APIName is required")
		return
	}
	if s.stream(w, in.StreamName, in.StreamARN) == nil {
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"DataEndpoint": s.srv.URL})
}

func (s *Server) listFragments(w http.ResponseWriter, r *http.Request, body []byte) {
	var in kvsaws.ListFragmentsInput
	if err := json.Unmarshal(body, &in); err != nil || in.FragmentSelector == nil || in.MaxResults < 0 || in.MaxResults > 1000 {
		writeError(w, http.StatusBadRequest, kvsaws.ErrInvalidArgument, "invalid ListFragments request")
		return
	}
	st := s.stream(w, in.StreamName, in.StreamARN)
	if st == nil {
		return
	}
	sel := in.FragmentSelector
	var match []kvsaws.FragmentInfo
	for _, f := range st.list() {
		t := f.ProducerTimestamp
		if sel.FragmentSelectorType == kvsaws.ServerTimestamp {
			t = f.ServerTimestamp
		}
		if t.Compare(sel.TimestampRange.StartTimestamp) >= 0 && t.Compare(sel.TimestampRange.EndTimestamp) <= 0 {
			match = append(match, f)
		}
	}
	// KVS returns fragments in no particular order: neither does the
	// emulator, so that clients sort.
	for i := 0; i+1 < len(match); i += 2 {
		match[i], match[i+1] = match[i+1], match[i]
	}
	start := 0
	if in.NextToken != "" {
		b, err := base64.StdEncoding.DecodeString(in.NextToken)
		if err == nil {
			start, err = strconv.Atoi(string(b))
		}
		if err != nil || start < 0 || start > len(match) {
			writeError(w, http.StatusBadRequest, kvsaws.ErrInvalidArgument, "invalid NextToken")
			return
		}
	}
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
	out := kvsaws.ListFragmentsOutput{Fragments: match[start:end]}
	if end < len(match) {
		out.NextToken = base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	json.NewEncoder(w).Encode(out)
}

func (s *Server) getMediaForFragmentList(w http.ResponseWriter, r *http.Request, body []byte) {
	var in kvsaws.GetMediaForFragmentListInput
	if err := json.Unmarshal(body, &in); err != nil || len(in.Fragments) == 0 || len(in.Fragments) > 1000 {
		writeError(w, http.StatusBadRequest, kvsaws.ErrInvalidArgument, "Fragments must hold 1 to 1000 fragment numbers")
		return
	}
	st := s.stream(w, in.StreamName, in.StreamARN)
	if st == nil {
		return
	}
	s.serveMedia(w, r, GetMediaForFragmentList, func(out *mediaOut) {
		for _, n := range in.Fragments {
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
		writeError(w, http.StatusBadRequest, kvsaws.ErrInvalidArgument, "invalid GetMedia request")
		return
	}
	st := s.stream(w, in.StreamName, in.StreamARN)
	if st == nil {
		return
	}
	first, ok := st.start(in.StartSelector)
	if !ok {
		writeError(w, http.StatusBadRequest, kvsaws.ErrInvalidArgument, "invalid StartSelector")
		return
	}
	s.serveMedia(w, r, GetMedia, func(out *mediaOut) { s.follow(out, st, first) })
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

// mediaOut writes a media body with the cut and slowness asked for.
type mediaOut struct {
	w       http.ResponseWriter
	r       *http.Request
	flusher http.Flusher
	cut     int64
	slow    slowness
	written int64
}

// write writes b, and reports false when the client has gone away. At the
// cut asked for, it drops the connection.
func (o *mediaOut) write(b []byte) bool {
	for len(b) > 0 {
		n := len(b)
		if o.slow.chunk > 0 {
			n = min(n, o.slow.chunk)
		}
		if o.cut >= 0 && o.written+int64(n) > o.cut {
			n = int(o.cut - o.written)
			o.w.Write(b[:n])
			o.flush()
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
		if _, err := o.w.Write(b[:n]); err != nil {
			return false
		}
		o.written += int64(n)
		b = b[n:]
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

// serveMedia answers with a media body that body writes, under the
// connection limit, with the cuts and slowness asked for.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, api API, body func(out *mediaOut)) {
	s.mu.Lock()
	if s.active[api] >= s.limits[api] && s.limits[api] > 0 {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, kvsaws.ErrConnectionLimitExceeded, "too many connections")
		return
	}
	s.active[api]++
	s.peak[api] = max(s.peak[api], s.active[api])
	out := &mediaOut{w: w, r: r, cut: -1, slow: s.slow[api]}
	if q := s.cuts[api]; len(q) > 0 {
		out.cut, s.cuts[api] = q[0], q[1:]
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active[api]--
		s.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "video/webm")
	w.WriteHeader(http.StatusOK)
	out.flusher, _ = w.(http.Flusher)
	out.flush() // the headers, before a live body's first fragment
	body(out)
}
