package kvstest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
)

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
	s := &Server{streams: registry{byName: map[string]*stream{}}, faults: newFaults(), limits: newLimits()}
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
	route("tagStream", TagStream, s.tagStreamOp)
	route("untagStream", UntagStream, s.untagStreamOp)
	route("listTagsForStream", ListTagsForStream, s.listTagsForStream)
	route("TagResource", TagResource, s.tagResource)
	route("UntagResource", UntagResource, s.untagResource)
	route("ListTagsForResource", ListTagsForResource, s.listTagsForResource)
	route("updateDataRetention", UpdateDataRetention, s.updateDataRetention)
	route("updateStream", UpdateStream, s.updateStream)
	for path, api := range notEmulated {
		route(path, api, func(w http.ResponseWriter, _ *http.Request, _ []byte) { unsupported(w, api) })
	}
	mux.HandleFunc("POST /putMedia", s.handleStreaming(PutMedia, s.putMedia))
	s.adminRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, ErrUnknownOperation, "kvsemu knows no operation at "+r.Method+" "+r.URL.Path)
	})
	s.srv = httptest.NewUnstartedServer(endpoints(mux))
	return s
}
