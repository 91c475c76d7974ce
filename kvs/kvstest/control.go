package kvstest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/tags"
)

// AccountID is the AWS account of the emulator's stream ARNs.
const AccountID = "123456789012"

// The control-plane operations, and PutMedia.
const (
	CreateStream   API = "CreateStream"
	DescribeStream API = "DescribeStream"
	ListStreams    API = "ListStreams"
	DeleteStream   API = "DeleteStream"
	PutMedia       API = "PutMedia"
)

// The error types of the control plane that kvsaws does not name.
const (
	ErrResourceInUse   = "ResourceInUseException"
	ErrVersionMismatch = "VersionMismatchException"
)

// control is the emulator's control-plane state, guarded by Server.mu.
type control struct {
	meta    map[string]*streamMeta
	form    TimestampForm
	rates   map[API]int
	calls   map[rateKey][]time.Time
	version int
	answers int // answers with timestamps, so that mixed forms vary
}

// streamMeta is what DescribeStream tells of a stream.
type streamMeta struct {
	name, device, mediaType, kmsKeyID, version string
	created                                    time.Time
	retention                                  int
	epoch                                      int // of the data endpoint
}

func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /createStream", s.handle(CreateStream, s.createStream))
	mux.HandleFunc("POST /describeStream", s.handle(DescribeStream, s.describeStream))
	mux.HandleFunc("POST /listStreams", s.handle(ListStreams, s.listStreams))
	mux.HandleFunc("POST /deleteStream", s.handle(DeleteStream, s.deleteStream))
	s.adminRoutes(mux)
}

// put adds a stream and records its control-plane side; s.mu is held.
func (s *Server) put(st *stream, mediaType string) *streamMeta {
	s.streams[st.name] = st
	m := s.register(st.name, "", mediaType, int(st.retention/time.Hour))
	if !st.created.IsZero() {
		m.created = st.created.UTC().Truncate(time.Millisecond)
	}
	return m
}

// register records the control-plane side of a new stream; s.mu is held.
func (s *Server) register(name, device, mediaType string, retention int) *streamMeta {
	if s.ctl.meta == nil {
		s.ctl.meta = map[string]*streamMeta{}
	}
	s.ctl.version++
	m := &streamMeta{
		name: name, device: device, mediaType: mediaType, retention: retention,
		kmsKeyID: "arn:aws:kms:" + Region + ":" + AccountID + ":alias/aws/kinesisvideo",
		version:  fmt.Sprintf("KVSMKV%014d", s.ctl.version),
		created:  time.Now().UTC().Truncate(time.Millisecond),
		epoch:    1,
	}
	s.ctl.meta[name] = m
	return m
}

// arn is a stream's ARN in KVS's format, ending in its creation time in
// epoch milliseconds.
func (m *streamMeta) arn() string {
	return fmt.Sprintf("arn:aws:kinesisvideo:%s:%s:stream/%s/%d", Region, AccountID, m.name, m.created.UnixMilli())
}

// arnPattern is the model's ResourceARN pattern, with the parts the
// emulator reads captured.
var arnPattern = regexp.MustCompile(`^arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/([a-zA-Z0-9_.-]+)/([0-9]+)$`)

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
	s.mu.Lock()
	meta := s.ctl.meta[m[1]]
	s.mu.Unlock()
	if meta == nil || strconv.FormatInt(meta.created.UnixMilli(), 10) != m[2] {
		return "", http.StatusNotFound, kvsaws.CodeResourceNotFound
	}
	return m[1], 0, ""
}

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

// dataEndpoint is stream's data endpoint; s.mu is held.
func (s *Server) dataEndpoint(stream string) string {
	epoch := 1
	if m := s.ctl.meta[stream]; m != nil {
		epoch = m.epoch
	}
	return fmt.Sprintf("%s/ep/%d", s.srv.URL, epoch)
}

// endpoints serves data endpoints, URL/ep/N/..., by taking the prefix off
// the path and keeping N in the request's context for admit.
func endpoints(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/ep/"); ok {
			n, path, _ := strings.Cut(rest, "/")
			epoch, err := strconv.Atoi(n)
			if err != nil {
				http.NotFound(w, r)
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

// TimestampForm is how the emulator writes the timestamps of its JSON
// answers (ListFragments, DescribeStream, ListStreams): every form is a
// JSON number of epoch seconds, as the model's timestamp members are, and
// AWS's services write them in more than one.
type TimestampForm int

// The timestamp forms.
const (
	// TimestampMixed cycles through the other forms, value by value and
	// answer by answer, so that clients meet all of them (the default).
	TimestampMixed TimestampForm = iota
	// TimestampDecimal writes 1511852108.513.
	TimestampDecimal
	// TimestampExponent writes 1.511852108513E9, as KVS's Java does.
	TimestampExponent
	// TimestampInteger writes an integer, 1511852108, scaled by an exponent
	// when the time has a fraction of a second: 1511852108513E-3.
	TimestampInteger
)

// SetTimestampForm sets how the emulator writes JSON timestamps.
func (s *Server) SetTimestampForm(f TimestampForm) {
	s.mu.Lock()
	s.ctl.form = f
	s.mu.Unlock()
}

// timestamps writes the timestamps of one answer in the server's form.
type timestamps struct {
	form TimestampForm
	n    int
}

func (s *Server) timestamps() *timestamps {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctl.answers++
	return &timestamps{form: s.ctl.form, n: s.ctl.answers}
}

// number formats t, a time as seconds and nanoseconds since the epoch.
func (ts *timestamps) number(t tags.Timestamp) json.Number {
	form := ts.form
	if form == TimestampMixed {
		form = TimestampDecimal + TimestampForm(ts.n%3)
		ts.n++
	}
	sec, nsec := t.Seconds()
	frac := strings.TrimRight(fmt.Sprintf("%09d", nsec), "0")
	whole := strconv.FormatInt(sec, 10)
	switch {
	case form == TimestampExponent && sec > 0:
		digits := strings.TrimRight(whole[1:]+frac, "0")
		if digits == "" {
			digits = "0"
		}
		return json.Number(fmt.Sprintf("%s.%sE%d", whole[:1], digits, len(whole)-1))
	case form == TimestampInteger && frac == "":
		return json.Number(whole)
	case form == TimestampInteger && sec >= 0:
		return json.Number(strings.TrimLeft(whole+frac, "0") + "E-" + strconv.Itoa(len(frac)))
	case frac == "":
		return json.Number(whole + ".0")
	}
	return json.Number(whole + "." + frac)
}

func (s *Server) createStream(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		DeviceName, StreamName, MediaType, KmsKeyID string
		DataRetentionInHours                        *int
		Tags                                        map[string]string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid CreateStream request: "+err.Error())
		return
	}
	retention := 0
	if in.DataRetentionInHours != nil {
		retention = *in.DataRetentionInHours
	}
	switch {
	case !validStreamName(in.StreamName):
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "StreamName must match [a-zA-Z0-9_.-]+, 1 to 256 characters")
		return
	case retention < 0:
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "DataRetentionInHours must be at least 0")
		return
	case len(in.Tags) > 50:
		writeError(w, http.StatusBadRequest, "TagsPerResourceExceededLimitException", "at most 50 tags")
		return
	}
	s.mu.Lock()
	// An empty stream: no fragments until media is put into it.
	st, err := s.createLocked(in.StreamName, time.Duration(retention)*time.Hour)
	if err != nil {
		s.mu.Unlock()
		if errors.Is(err, ErrStreamExists) {
			writeError(w, http.StatusBadRequest, ErrResourceInUse, "The stream "+in.StreamName+" already exists.")
		} else {
			writeError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		}
		return
	}
	m := s.ctl.meta[st.name]
	m.device, m.mediaType = in.DeviceName, in.MediaType
	if in.KmsKeyID != "" {
		m.kmsKeyID = in.KmsKeyID
	}
	arn := m.arn()
	s.mu.Unlock()
	writeJSON(w, map[string]string{"StreamARN": arn})
}

// streamInfo is the StreamInfo shape; nil strings are written as the
// service writes absent members, null.
type streamInfo struct {
	CreationTime           json.Number
	DataRetentionInHours   int
	DeviceName             *string
	IngestionConfiguration *struct{}
	KmsKeyID               string `json:"KmsKeyId"`
	MediaType              *string
	Status                 string
	StreamARN              string
	StreamName             string
	Version                string
}

func (m *streamMeta) info(ts *timestamps) streamInfo {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return streamInfo{
		CreationTime: ts.number(tags.FromTime(m.created)), DataRetentionInHours: m.retention,
		DeviceName: opt(m.device), KmsKeyID: m.kmsKeyID, MediaType: opt(m.mediaType),
		Status: "ACTIVE", StreamARN: m.arn(), StreamName: m.name, Version: m.version,
	}
}

// meta looks a request's stream up, answering the error when there is
// none.
func (s *Server) meta(w http.ResponseWriter, name, arn string) *streamMeta {
	name, status, code := s.resolve(name, arn)
	if status != 0 {
		writeError(w, status, code, "Either StreamName or a valid StreamARN is required.")
		return nil
	}
	s.mu.Lock()
	m := s.ctl.meta[name]
	s.mu.Unlock()
	if m == nil {
		writeError(w, http.StatusNotFound, kvsaws.CodeResourceNotFound, "The requested stream is not found or not active.")
	}
	return m
}

func (s *Server) describeStream(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ StreamName, StreamARN string }
	if json.Unmarshal(body, &in) != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid DescribeStream request")
		return
	}
	m := s.meta(w, in.StreamName, in.StreamARN)
	if m == nil {
		return
	}
	writeJSON(w, map[string]streamInfo{"StreamInfo": m.info(s.timestamps())})
}

func (s *Server) listStreams(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		MaxResults          *int
		NextToken           string
		StreamNameCondition *struct{ ComparisonOperator, ComparisonValue string }
	}
	if json.Unmarshal(body, &in) != nil || in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 10000) {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid ListStreams request")
		return
	}
	if c := in.StreamNameCondition; c != nil && c.ComparisonOperator != "BEGINS_WITH" {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "ComparisonOperator must be BEGINS_WITH")
		return
	}
	page := 10000
	if in.MaxResults != nil {
		page = *in.MaxResults
	}
	start := 0
	if in.NextToken != "" {
		b, err := base64.StdEncoding.DecodeString(in.NextToken)
		if err == nil {
			start, err = strconv.Atoi(string(b))
		}
		if err != nil || start < 0 {
			writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid NextToken")
			return
		}
	}
	ts := s.timestamps()
	s.mu.Lock()
	var list []streamInfo
	for _, m := range s.ctl.meta {
		if c := in.StreamNameCondition; c == nil || strings.HasPrefix(m.name, c.ComparisonValue) {
			list = append(list, m.info(ts))
		}
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].StreamName < list[j].StreamName })
	start = min(start, len(list))
	end := min(start+page, len(list))
	out := struct {
		StreamInfoList []streamInfo
		NextToken      string `json:",omitempty"`
	}{StreamInfoList: append([]streamInfo{}, list[start:end]...)}
	if end < len(list) {
		out.NextToken = base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	writeJSON(w, out)
}

func (s *Server) deleteStream(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ StreamARN, CurrentVersion string }
	if json.Unmarshal(body, &in) != nil || in.StreamARN == "" {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "StreamARN is required")
		return
	}
	m := s.meta(w, "", in.StreamARN)
	if m == nil {
		return
	}
	if in.CurrentVersion != "" && in.CurrentVersion != m.version {
		writeError(w, http.StatusBadRequest, ErrVersionMismatch, "The stream version "+in.CurrentVersion+" is not the current one.")
		return
	}
	if err := s.DeleteStream(m.name); err != nil && !errors.Is(err, ErrNoStream) {
		writeError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	writeJSON(w, struct{}{})
}

// apiNames are the model's APIName values, for GetDataEndpoint.
var apiNames = map[string]bool{
	"PUT_MEDIA": true, "GET_MEDIA": true, "LIST_FRAGMENTS": true, "GET_MEDIA_FOR_FRAGMENT_LIST": true,
	"GET_HLS_STREAMING_SESSION_URL": true, "GET_DASH_STREAMING_SESSION_URL": true, "GET_CLIP": true, "GET_IMAGES": true,
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
