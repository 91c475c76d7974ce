package kvstest

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// arnPattern is the model's ResourceARN pattern, with the parts the
// emulator reads captured.
var arnPattern = regexp.MustCompile(`^arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/([a-zA-Z0-9_.-]+)/([0-9]+)$`)

// streamName is the stream a request names, for rate limits and scoped
// faults: PutMedia names it in headers, the others in the JSON body.
func streamName(r *http.Request, body []byte) string {
	var in struct{ StreamName, StreamARN string }
	if body == nil {
		in.StreamName, in.StreamARN = r.Header.Get("x-amzn-stream-name"), r.Header.Get("x-amzn-stream-arn")
	} else {
		json.Unmarshal(body, &in)
	}
	if m := arnPattern.FindStringSubmatch(in.StreamARN); in.StreamName == "" && m != nil {
		return m[1]
	}
	return in.StreamName
}

// endpointKey keys the data endpoint a request came through in its
// context.
type endpointKey struct{}

// endpointRef is the data endpoint a request came through, and the path it
// was sent to (which its signature covers).
type endpointRef struct {
	epoch int
	path  string
}

// endpoints serves data endpoints, URL/ep/N/..., by taking the prefix off
// the path and keeping N in the request's context for admit.
func endpoints(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/ep/"); ok {
			n, path, _ := strings.Cut(rest, "/")
			epoch, err := strconv.Atoi(n)
			if err != nil {
				writeError(w, http.StatusNotFound, ErrUnknownOperation, "kvsemu knows no data endpoint at "+r.URL.Path)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), endpointKey{}, endpointRef{epoch, r.URL.Path}))
			u := *r.URL
			u.Path, u.RawPath = "/"+path, ""
			r.URL = &u
		}
		next.ServeHTTP(w, r)
	})
}

// dataPlane tells the APIs served at data endpoints.
func dataPlane(api API) bool {
	switch api {
	case GetMedia, GetMediaForFragmentList, ListFragments, PutMedia:
		return true
	}
	return false
}
