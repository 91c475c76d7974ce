package kvstest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

// Server is the emulator. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	streams   registry
	faults    faults
	limits    limits
	ctl       control
	requestID int
	dataDir   string
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
		if e := verify(r, body); e != nil {
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
			return &Fault{Kind: FailCall, Status: http.StatusBadRequest, Type: kvsaws.CodeInvalidEndpoint}
		}
	}
	if f := s.limits.overRate(api, stream); f != nil {
		return f
	}
	return s.faults.takeCall(api, stream)
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
		writeError(w, http.StatusNotFound, kvsaws.CodeResourceNotFound, "The requested stream is not found or not active.")
	}
	return st
}

// handleStreaming wraps an operation whose request body is a long-lived
// stream (PutMedia) with handle: handle checks the request as if its body
// were empty, which is the payload hash streaming producers sign (the
// SHA-256 of "", as the KVS C producer does), and serve reads the body as
// it comes.
func (s *Server) handleStreaming(api API, serve func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		head := r.Clone(r.Context())
		head.Body = http.NoBody
		s.handle(api, func(w http.ResponseWriter, _ *http.Request, _ []byte) { serve(w, r) })(w, head)
	}
}

// streamNamed returns the stream called name, or nil.
func (s *Server) streamNamed(name string) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams.get(name)
}

func (s *Server) liveLimits() LiveLimits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.live.withDefaults()
}

// resolve returns the name of the stream a request names by name or ARN,
// "" with the status and type to refuse it with.
func (s *Server) resolve(name, arn string) (string, int, string) {
	if arn == "" {
		if name == "" {
			return "", http.StatusBadRequest, kvsaws.CodeInvalidArgument
		}
		return name, 0, ""
	}
	m := arnPattern.FindStringSubmatch(arn)
	if m == nil || name != "" && name != m[1] {
		return "", http.StatusBadRequest, kvsaws.CodeInvalidArgument
	}
	st := s.streamNamed(m[1])
	if st == nil || strconv.FormatInt(st.created.UnixMilli(), 10) != m[2] {
		return "", http.StatusNotFound, kvsaws.CodeResourceNotFound
	}
	return m[1], 0, ""
}

func (s *Server) timestamps() *timestamps {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctl.answers++
	return &timestamps{form: s.ctl.form, n: s.ctl.answers}
}

// releaseConnection gives back a connection of api on stream that
// limits.acquire took.
func (s *Server) releaseConnection(api API, stream string) {
	s.mu.Lock()
	s.limits.release(api, stream)
	s.mu.Unlock()
}
