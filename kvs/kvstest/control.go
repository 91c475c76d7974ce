package kvstest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

// DataEndpoint returns the data endpoint GetDataEndpoint gives for stream:
// the emulator's URL with a path that a MoveEndpoint fault invalidates.
func (s *Server) DataEndpoint(stream string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataEndpoint(stream)
}

// dataEndpoint is stream's data endpoint; s.mu is held.
func (s *Server) dataEndpoint(stream string) string {
	epoch := 1
	if st := s.streams.get(stream); st != nil {
		epoch = st.epoch
	}
	return fmt.Sprintf("%s/ep/%d", s.srv.URL, epoch)
}

func (s *Server) getDataEndpoint(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ StreamName, StreamARN, APIName string }
	if json.Unmarshal(body, &in) != nil || !apiNames[in.APIName] {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "APIName must be one of the model's APIName values")
		return
	}
	if api, ok := notEmulatedAPIs[in.APIName]; ok {
		unsupported(w, api)
		return
	}
	st := s.lookup(w, in.StreamName, in.StreamARN)
	if st == nil {
		return
	}
	writeJSON(w, map[string]string{"DataEndpoint": s.DataEndpoint(st.name)})
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
	case retention < 0 || retention > maxRetentionHours:
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "DataRetentionInHours must be 0 to 87600")
		return
	}
	if len(in.Tags) > 0 {
		if status, code, msg := checkTags(nil, in.Tags); status != 0 {
			writeError(w, status, code, msg)
			return
		}
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
	st.device, st.mediaType = in.DeviceName, in.MediaType
	if in.KmsKeyID != "" {
		st.kmsKeyID = in.KmsKeyID
	}
	if len(in.Tags) > 0 {
		st.tags = in.Tags
		err = saveStreamFile(st)
	}
	arn := st.arn()
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	writeJSON(w, map[string]string{"StreamARN": arn})
}

func (s *Server) describeStream(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ StreamName, StreamARN string }
	if json.Unmarshal(body, &in) != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid DescribeStream request")
		return
	}
	st := s.lookup(w, in.StreamName, in.StreamARN)
	if st == nil {
		return
	}
	ts := s.timestamps()
	s.mu.Lock()
	info := st.info(ts)
	s.mu.Unlock()
	writeJSON(w, map[string]streamInfo{"StreamInfo": info})
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
	for _, st := range s.streams.byName {
		if c := in.StreamNameCondition; c == nil || strings.HasPrefix(st.name, c.ComparisonValue) {
			list = append(list, st.info(ts))
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
	st := s.lookup(w, "", in.StreamARN)
	if st == nil {
		return
	}
	s.mu.Lock()
	version := st.version
	s.mu.Unlock()
	if in.CurrentVersion != "" && in.CurrentVersion != version {
		writeError(w, http.StatusBadRequest, ErrVersionMismatch, "The stream version "+in.CurrentVersion+" is not the current one.")
		return
	}
	if err := s.DeleteStream(st.name); err != nil && !errors.Is(err, ErrNoStream) {
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
