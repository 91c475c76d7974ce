package kvs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// The API names GetDataEndpoint takes, one endpoint each.
const (
	APIGetMedia                = "GET_MEDIA"
	APIGetMediaForFragmentList = "GET_MEDIA_FOR_FRAGMENT_LIST"
	APIListFragments           = "LIST_FRAGMENTS"
)

// Fragment selector types of ListFragments.
const (
	ProducerTimestampSelector = "PRODUCER_TIMESTAMP"
	ServerTimestampSelector   = "SERVER_TIMESTAMP"
)

// Start selector types of GetMedia.
const (
	StartAtNow               = "NOW"
	StartAtEarliest          = "EARLIEST"
	StartAtFragmentNumber    = "FRAGMENT_NUMBER"
	StartAtServerTimestamp   = "SERVER_TIMESTAMP"
	StartAtProducerTimestamp = "PRODUCER_TIMESTAMP"
	StartAtContinuationToken = "CONTINUATION_TOKEN"
)

// Error types (x-amz-ErrorType) of the KVS media APIs.
const (
	ErrResourceNotFound        = "ResourceNotFoundException"
	ErrInvalidArgument         = "InvalidArgumentException"
	ErrNotAuthorized           = "NotAuthorizedException"
	ErrClientLimitExceeded     = "ClientLimitExceededException"
	ErrConnectionLimitExceeded = "ConnectionLimitExceededException"
	ErrInvalidEndpoint         = "InvalidEndpointException"
)

// EpochTime is a timestamp as the KVS JSON APIs write it: seconds since the
// Unix epoch, with a fraction ("1511852109.126").
type EpochTime struct{ time.Time }

// MarshalJSON writes seconds with millisecond precision.
func (t EpochTime) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Appendf(nil, "%s%d.%03d", sign, ms/1000, ms%1000), nil
}

// UnmarshalJSON reads seconds, exactly to the nanosecond (no float64).
func (t *EpochTime) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || len(frac) > 9 {
		return fmt.Errorf("kvs: invalid timestamp %s", b)
	}
	var ns int64
	if frac != "" {
		frac += strings.Repeat("0", 9-len(frac))
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return fmt.Errorf("kvs: invalid timestamp %s", b)
		}
	}
	if strings.HasPrefix(whole, "-") {
		ns = -ns
	}
	t.Time = time.Unix(sec, ns).UTC()
	return nil
}

// TimestampRange is a time range of ListFragments, both ends included.
type TimestampRange struct {
	StartTimestamp EpochTime `json:"StartTimestamp"`
	EndTimestamp   EpochTime `json:"EndTimestamp"`
}

// FragmentSelector chooses fragments by producer or server timestamp.
type FragmentSelector struct {
	FragmentSelectorType string         `json:"FragmentSelectorType"`
	TimestampRange       TimestampRange `json:"TimestampRange"`
}

// ListFragmentsInput is the request of ListFragments.
type ListFragmentsInput struct {
	StreamName       string            `json:"StreamName,omitempty"`
	StreamARN        string            `json:"StreamARN,omitempty"`
	MaxResults       int64             `json:"MaxResults,omitempty"`
	NextToken        string            `json:"NextToken,omitempty"`
	FragmentSelector *FragmentSelector `json:"FragmentSelector,omitempty"`
}

// FragmentInfo is the Fragment shape of ListFragments: a fragment's
// metadata.
type FragmentInfo struct {
	FragmentNumber               string    `json:"FragmentNumber"`
	FragmentSizeInBytes          int64     `json:"FragmentSizeInBytes"`
	ProducerTimestamp            EpochTime `json:"ProducerTimestamp"`
	ServerTimestamp              EpochTime `json:"ServerTimestamp"`
	FragmentLengthInMilliseconds int64     `json:"FragmentLengthInMilliseconds"`
}

// ListFragmentsOutput is the response of ListFragments.
type ListFragmentsOutput struct {
	Fragments []FragmentInfo `json:"Fragments"`
	NextToken string         `json:"NextToken,omitempty"`
}

// GetMediaForFragmentListInput is the request of GetMediaForFragmentList:
// at most 1000 fragment numbers.
type GetMediaForFragmentListInput struct {
	StreamName string   `json:"StreamName,omitempty"`
	StreamARN  string   `json:"StreamARN,omitempty"`
	Fragments  []string `json:"Fragments"`
}

// StartSelector says where GetMedia starts.
type StartSelector struct {
	StartSelectorType   string     `json:"StartSelectorType"`
	AfterFragmentNumber string     `json:"AfterFragmentNumber,omitempty"`
	StartTimestamp      *EpochTime `json:"StartTimestamp,omitempty"`
	ContinuationToken   string     `json:"ContinuationToken,omitempty"`
}

// GetMediaInput is the request of GetMedia.
type GetMediaInput struct {
	StreamName    string        `json:"StreamName,omitempty"`
	StreamARN     string        `json:"StreamARN,omitempty"`
	StartSelector StartSelector `json:"StartSelector"`
}

// MediaOutput is the response of GetMedia and GetMediaForFragmentList: the
// MKV payload, to be read and closed.
type MediaOutput struct {
	ContentType string
	Payload     io.ReadCloser
}

// DataPlane is the KVS data plane: the three calls kvsmkv makes on a data
// endpoint. HTTPDataPlane implements it on aws-sdk-go-v2's parts; an adapter
// to the official kinesisvideoarchivedmedia and kinesisvideomedia clients is a
// few lines, since the shapes and field names are the API's own.
type DataPlane interface {
	ListFragments(ctx context.Context, endpoint string, in *ListFragmentsInput) (*ListFragmentsOutput, error)
	GetMediaForFragmentList(ctx context.Context, endpoint string, in *GetMediaForFragmentListInput) (*MediaOutput, error)
	GetMedia(ctx context.Context, endpoint string, in *GetMediaInput) (*MediaOutput, error)
}

// APIError is an error response of a KVS API. It implements smithy.APIError,
// so the SDK's retryers and errors.As(err, &smithy.APIError) work with it.
type APIError struct {
	// Operation is the API called, such as "GetMedia".
	Operation string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the x-amz-ErrorType, such as "ResourceNotFoundException".
	Code string
	// Message is the message of the response body.
	Message string
	// RequestID is the x-amz-RequestId, for AWS support.
	RequestID string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("kvs: %s: %s (HTTP %d)", e.Operation, e.Code, e.StatusCode)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// ErrorCode returns the error type.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage returns the message.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault says whether the service or the client is at fault.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode returns the HTTP status, for the SDK's retryers.
func (e *APIError) HTTPStatusCode() int { return e.StatusCode }

// decodeAPIError reads an error response: the type from the x-amz-ErrorType
// header (or x-amzn-ErrorType, or the body's __type), the message from the
// body.
func decodeAPIError(op string, status int, header func(string) string, body []byte) *APIError {
	e := &APIError{Operation: op, StatusCode: status}
	var b struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
		Type     string `json:"__type"`
	}
	json.Unmarshal(body, &b)
	e.Message = b.Message + b.Message2
	e.Code = header("x-amz-ErrorType")
	if e.Code == "" {
		e.Code = header("x-amzn-ErrorType")
	}
	if e.Code == "" {
		e.Code = b.Type
	}
	// "ResourceNotFoundException:http://..." and "aws.protocol#Name" forms.
	e.Code, _, _ = strings.Cut(e.Code, ":")
	if i := strings.LastIndexByte(e.Code, '#'); i >= 0 {
		e.Code = e.Code[i+1:]
	}
	if e.Code == "" {
		e.Code = fmt.Sprintf("HTTP%d", status)
	}
	e.RequestID = header("x-amz-RequestId")
	if e.RequestID == "" {
		e.RequestID = header("x-amzn-RequestId")
	}
	return e
}
