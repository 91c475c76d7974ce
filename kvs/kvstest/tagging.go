package kvstest

import (
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

// The error types of the control plane's tagging and updates.
const (
	ErrTagsPerResourceExceeded = "TagsPerResourceExceededLimitException"
	ErrUnsupportedOperation    = "UnsupportedOperationException"
	// ErrUnknownOperation answers a path that is no operation (404).
	ErrUnknownOperation = "UnknownOperationException"
)

// maxTags and maxRetentionHours are KVS's limits: 50 tags a stream, a
// data retention of at most 87,600 hours (ten years).
const (
	maxTags           = 50
	maxRetentionHours = 87600
)

// checkTags checks tags against the model's TagKey and TagValue lengths
// and, merged into have, the limit of tags a stream holds. It returns the
// status, type and message to refuse them with, or 0.
func checkTags(have, tags map[string]string) (int, string, string) {
	if len(tags) == 0 {
		return http.StatusBadRequest, kvsaws.CodeInvalidArgument, "Tags must hold 1 to 50 tags."
	}
	n := len(have)
	for k, v := range tags {
		if l := utf8.RuneCountInString(k); l < 1 || l > 128 {
			return http.StatusBadRequest, kvsaws.CodeInvalidArgument, "A tag key must be 1 to 128 characters."
		}
		if utf8.RuneCountInString(v) > 256 {
			return http.StatusBadRequest, kvsaws.CodeInvalidArgument, "A tag value must be at most 256 characters."
		}
		if _, ok := have[k]; !ok {
			n++
		}
	}
	if n > maxTags {
		return http.StatusBadRequest, ErrTagsPerResourceExceeded, "A stream can have at most 50 tags."
	}
	return 0, "", ""
}

// tagStream adds tags to a stream, replacing the values of keys it has:
// TagStream (by name or ARN, Tags a map) and TagResource (by ARN, Tags a
// list of Key and Value).
func (s *Server) tagStream(w http.ResponseWriter, name, arn string, tags map[string]string) {
	st := s.lookup(w, name, arn)
	if st == nil {
		return
	}
	s.mu.Lock()
	status, code, msg := checkTags(st.tags, tags)
	if status == 0 {
		if st.tags == nil {
			st.tags = map[string]string{}
		}
		for k, v := range tags {
			st.tags[k] = v
		}
		if err := saveStreamFile(st); err != nil {
			status, code, msg = http.StatusInternalServerError, "InternalFailure", err.Error()
		}
	}
	s.mu.Unlock()
	if status != 0 {
		writeError(w, status, code, msg)
		return
	}
	writeJSON(w, struct{}{})
}

// untagStream removes the tags of keys from a stream.
func (s *Server) untagStream(w http.ResponseWriter, name, arn string, keys []string) {
	if len(keys) == 0 || len(keys) > maxTags {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "TagKeyList must hold 1 to 50 keys.")
		return
	}
	st := s.lookup(w, name, arn)
	if st == nil {
		return
	}
	s.mu.Lock()
	for _, k := range keys {
		delete(st.tags, k)
	}
	err := saveStreamFile(st)
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	writeJSON(w, struct{}{})
}

// listTags answers a stream's tags, all on one page.
func (s *Server) listTags(w http.ResponseWriter, name, arn string) {
	st := s.lookup(w, name, arn)
	if st == nil {
		return
	}
	s.mu.Lock()
	out := map[string]string{}
	for k, v := range st.tags {
		out[k] = v
	}
	s.mu.Unlock()
	writeJSON(w, map[string]map[string]string{"Tags": out})
}

func (s *Server) tagStreamOp(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		StreamName, StreamARN string
		Tags                  map[string]string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid TagStream request: "+err.Error())
		return
	}
	s.tagStream(w, in.StreamName, in.StreamARN, in.Tags)
}

func (s *Server) untagStreamOp(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		StreamName, StreamARN string
		TagKeyList            []string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid UntagStream request: "+err.Error())
		return
	}
	s.untagStream(w, in.StreamName, in.StreamARN, in.TagKeyList)
}

func (s *Server) listTagsForStream(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ StreamName, StreamARN, NextToken string }
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid ListTagsForStream request: "+err.Error())
		return
	}
	s.listTags(w, in.StreamName, in.StreamARN)
}

// resourceARN reads the ResourceARN of the *Resource operations, which
// must name a stream (signaling channels are not emulated).
func resourceARN(w http.ResponseWriter, body []byte, in any) (string, bool) {
	if err := json.Unmarshal(body, in); err != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid request: "+err.Error())
		return "", false
	}
	var arn struct{ ResourceARN string }
	json.Unmarshal(body, &arn)
	if arn.ResourceARN == "" {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "ResourceARN is required.")
		return "", false
	}
	return arn.ResourceARN, true
}

func (s *Server) tagResource(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ Tags []struct{ Key, Value string } }
	arn, ok := resourceARN(w, body, &in)
	if !ok {
		return
	}
	if len(in.Tags) > maxTags {
		writeError(w, http.StatusBadRequest, ErrTagsPerResourceExceeded, "A stream can have at most 50 tags.")
		return
	}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[t.Key] = t.Value
	}
	s.tagStream(w, "", arn, tags)
}

func (s *Server) untagResource(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ TagKeyList []string }
	if arn, ok := resourceARN(w, body, &in); ok {
		s.untagStream(w, "", arn, in.TagKeyList)
	}
}

func (s *Server) listTagsForResource(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ NextToken string }
	if arn, ok := resourceARN(w, body, &in); ok {
		s.listTags(w, "", arn)
	}
}

// StreamTags returns a stream's tags (TagStream's, CreateStream's), or nil
// when there is no such stream.
func (s *Server) StreamTags(name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams.get(name)
	if st == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range st.tags {
		out[k] = v
	}
	return out
}

// update applies change to a stream whose version is current, giving it a
// new version: UpdateDataRetention and UpdateStream. change runs with s.mu
// held and returns the status, type and message to refuse with, or 0.
func (s *Server) update(w http.ResponseWriter, name, arn, current string, change func(st *stream) (int, string, string)) {
	if current == "" {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "CurrentVersion is required.")
		return
	}
	st := s.lookup(w, name, arn)
	if st == nil {
		return
	}
	s.mu.Lock()
	status, code, msg := 0, "", ""
	switch {
	case current != st.version:
		status, code, msg = http.StatusBadRequest, ErrVersionMismatch, "The stream version "+current+" is not the current one."
	default:
		status, code, msg = change(st)
	}
	if status == 0 {
		s.streams.newVersion(st)
		if err := saveStreamFile(st); err != nil {
			status, code, msg = http.StatusInternalServerError, "InternalFailure", err.Error()
		}
	}
	s.mu.Unlock()
	if status != 0 {
		writeError(w, status, code, msg)
		return
	}
	writeJSON(w, struct{}{})
}

func (s *Server) updateDataRetention(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		StreamName, StreamARN, CurrentVersion, Operation string
		DataRetentionChangeInHours                       int
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid UpdateDataRetention request: "+err.Error())
		return
	}
	sign := 1
	switch in.Operation {
	case "INCREASE_DATA_RETENTION":
	case "DECREASE_DATA_RETENTION":
		sign = -1
	default:
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "Operation must be INCREASE_DATA_RETENTION or DECREASE_DATA_RETENTION.")
		return
	}
	if in.DataRetentionChangeInHours < 1 {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "DataRetentionChangeInHours must be at least 1.")
		return
	}
	s.update(w, in.StreamName, in.StreamARN, in.CurrentVersion, func(st *stream) (int, string, string) {
		st.mu.Lock()
		defer st.mu.Unlock()
		hours := int(st.retention/time.Hour) + sign*in.DataRetentionChangeInHours
		if hours < 0 || hours > maxRetentionHours {
			return http.StatusBadRequest, kvsaws.CodeInvalidArgument, "The data retention must stay between 0 and 87600 hours."
		}
		st.retention = time.Duration(hours) * time.Hour
		return 0, "", ""
	})
}

func (s *Server) updateStream(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		StreamName, StreamARN, CurrentVersion string
		DeviceName, MediaType                 *string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid UpdateStream request: "+err.Error())
		return
	}
	s.update(w, in.StreamName, in.StreamARN, in.CurrentVersion, func(st *stream) (int, string, string) {
		if in.DeviceName != nil {
			st.device = *in.DeviceName
		}
		if in.MediaType != nil {
			st.mediaType = *in.MediaType
		}
		return 0, "", ""
	})
}

// notEmulated lists the operations of the kinesisvideo and
// kinesis-video-archived-media API models the emulator does not serve, by
// path: each answers UnsupportedOperationException naming itself.
var notEmulated = func() map[string]API {
	m := map[string]API{}
	for _, op := range []string{
		"CreateSignalingChannel", "DeleteEdgeConfiguration", "DeleteSignalingChannel", "DescribeEdgeConfiguration",
		"DescribeImageGenerationConfiguration", "DescribeMappedResourceConfiguration", "DescribeMediaStorageConfiguration",
		"DescribeNotificationConfiguration", "DescribeSignalingChannel", "DescribeStreamStorageConfiguration",
		"GetSignalingChannelEndpoint", "ListEdgeAgentConfigurations", "ListSignalingChannels", "StartEdgeConfigurationUpdate",
		"UpdateImageGenerationConfiguration", "UpdateMediaStorageConfiguration", "UpdateNotificationConfiguration",
		"UpdateSignalingChannel", "UpdateStreamStorageConfiguration",
		"GetClip", "GetDASHStreamingSessionURL", "GetHLSStreamingSessionURL", "GetImages",
	} {
		m[string(op[0]-'A'+'a')+op[1:]] = API(op)
	}
	return m
}()

// notEmulatedAPIs are the GetDataEndpoint APIName values of operations
// the emulator does not serve: it hands out no endpoint for them.
var notEmulatedAPIs = map[string]API{
	"GET_HLS_STREAMING_SESSION_URL": "GetHLSStreamingSessionURL", "GET_DASH_STREAMING_SESSION_URL": "GetDASHStreamingSessionURL",
	"GET_CLIP": "GetClip", "GET_IMAGES": "GetImages",
}

// unsupported answers an operation the emulator does not serve: a 400
// UnsupportedOperationException naming it, which AWS's clients print as
// such (the C producer reads 404 as "no such stream" and waits; a 400 is
// an error it reports).
func unsupported(w http.ResponseWriter, api API) {
	writeError(w, http.StatusBadRequest, ErrUnsupportedOperation, "kvsemu does not emulate "+string(api))
}
