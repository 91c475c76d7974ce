package kvstest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/tags"
)

// The data plane: ListFragments, GetMediaForFragmentList and GetMedia
// (whose live part is follow, in live.go).

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
	st := s.lookup(w, in.StreamName, in.StreamARN)
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
	if s.limits.maxResults > 0 {
		page = min(page, s.limits.maxResults)
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
	st := s.lookup(w, in.StreamName, in.StreamARN)
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
				b = kvsgen.Generator{SideSpelling: true}.Error(string(n), kvsgen.ErrorUnit{Exception: true, Code: "ResourceNotFoundException", Message: "Fragment " + string(n) + " not found"})
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
	st := s.lookup(w, in.StreamName, in.StreamARN)
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

// serveMedia answers with a media body of stream that body writes, under
// the stream's connection limit, with the faults and slowness asked for.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, api API, stream string, body func(out *mediaOut)) {
	s.mu.Lock()
	if !s.limits.acquire(api, stream) {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, kvsaws.CodeConnectionLimitExceeded, "too many connections")
		return
	}
	out := &mediaOut{w: w, r: r, plan: s.faults.planBody(&s.mu, api, stream), slow: s.faults.slowness(api, stream)}
	s.mu.Unlock()
	defer s.releaseConnection(api, stream)

	w.Header().Set("Content-Type", "video/webm")
	w.WriteHeader(http.StatusOK)
	out.flusher, _ = w.(http.Flusher)
	out.flush() // the headers, before a live body's first fragment
	body(out)
}
