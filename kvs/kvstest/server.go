package kvstest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
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
	CreateStream            API = "CreateStream"
	DescribeStream          API = "DescribeStream"
	ListStreams             API = "ListStreams"
	DeleteStream            API = "DeleteStream"
	GetDataEndpoint         API = "GetDataEndpoint"
	ListFragments           API = "ListFragments"
	GetMediaForFragmentList API = "GetMediaForFragmentList"
	GetMedia                API = "GetMedia"
	PutMedia                API = "PutMedia"
)

// Server is the emulator. Its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	signer *v4.Signer

	mu        sync.Mutex
	streams   registry
	faults    faults
	limits    limits
	ctl       control
	requestID int
	dataDir   string
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
	s := &Server{signer: v4.NewSigner(), streams: registry{byName: map[string]*stream{}}, faults: newFaults(), limits: newLimits()}
	mux := http.NewServeMux()
	route := func(path string, api API, serve func(w http.ResponseWriter, r *http.Request, body []byte)) {
		mux.HandleFunc("POST /"+path, s.handle(api, serve))
	}
	route("createStream", CreateStream, s.createStream)
	route("describeStream", DescribeStream, s.describeStream)
	route("listStreams", ListStreams, s.listStreams)
	route("deleteStream", DeleteStream, s.deleteStream)
	route("getDataEndpoint", GetDataEndpoint, s.getDataEndpoint)
	route("listFragments", ListFragments, s.listFragments)
	route("getMediaForFragmentList", GetMediaForFragmentList, s.getMediaForFragmentList)
	route("getMedia", GetMedia, s.getMedia)
	mux.HandleFunc("POST /putMedia", s.handleStreaming(PutMedia, s.putMedia))
	s.adminRoutes(mux)
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
		s.limits.requests[api]++
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

// admit decides, after the signature, whether a call of api on stream is
// served: it refuses calls to a moved data endpoint, calls past the rate
// limit, and gives the next fault injected for api that applies to
// stream.
func (s *Server) admit(r *http.Request, api API, stream string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ep, ok := r.Context().Value(endpointKey{}).(endpointRef); ok && dataPlane(api) {
		if st := s.streams.get(stream); st != nil && ep.epoch != st.epoch {
			return &Fault{Kind: FailCall, Status: http.StatusBadRequest, Type: kvsaws.ErrInvalidEndpoint}
		}
	}
	if f := s.limits.overRate(api, stream); f != nil {
		return f
	}
	return s.faults.takeCall(api, stream)
}

// dataPlane tells the APIs served at data endpoints.
func dataPlane(api API) bool {
	switch api {
	case GetMedia, GetMediaForFragmentList, ListFragments, PutMedia:
		return true
	}
	return false
}

// lookup looks a request's stream up by name or ARN, answering the error
// when there is none.
func (s *Server) lookup(w http.ResponseWriter, name, arn string) *stream {
	name, status, code := s.resolve(name, arn)
	if status != 0 {
		writeError(w, status, code, "Either StreamName or a valid StreamARN is required.")
		return nil
	}
	st := s.streamNamed(name)
	if st == nil {
		writeError(w, http.StatusNotFound, kvsaws.ErrResourceNotFound, "The requested stream is not found or not active.")
	}
	return st
}
