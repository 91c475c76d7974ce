package kvsaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/kvsmkv/kvsmkv/tags"
)

// APIName names a data-plane API, for GetDataEndpoint: each has an
// endpoint of its own.
type APIName string

// The API names of GetDataEndpoint that the Client uses.
const (
	APIGetMedia                APIName = "GET_MEDIA"
	APIGetMediaForFragmentList APIName = "GET_MEDIA_FOR_FRAGMENT_LIST"
	APIListFragments           APIName = "LIST_FRAGMENTS"
	APIPutMedia                APIName = "PUT_MEDIA"
)

// FragmentSelectorType says which timestamps a ListFragments time range is
// on.
type FragmentSelectorType string

// The fragment selector types of ListFragments.
const (
	ProducerTimestamp FragmentSelectorType = "PRODUCER_TIMESTAMP"
	ServerTimestamp   FragmentSelectorType = "SERVER_TIMESTAMP"
)

// StartSelectorType says where GetMedia starts.
type StartSelectorType string

// The start selector types of GetMedia.
const (
	StartAtNow               StartSelectorType = "NOW"
	StartAtEarliest          StartSelectorType = "EARLIEST"
	StartAtFragmentNumber    StartSelectorType = "FRAGMENT_NUMBER"
	StartAtServerTimestamp   StartSelectorType = "SERVER_TIMESTAMP"
	StartAtProducerTimestamp StartSelectorType = "PRODUCER_TIMESTAMP"
	StartAtContinuationToken StartSelectorType = "CONTINUATION_TOKEN"
)

// Error codes (x-amzn-ErrorType) of the KVS APIs, as APIError.Code holds
// them.
const (
	CodeResourceNotFound        = "ResourceNotFoundException"
	CodeInvalidArgument         = "InvalidArgumentException"
	CodeNotAuthorized           = "NotAuthorizedException"
	CodeClientLimitExceeded     = "ClientLimitExceededException"
	CodeConnectionLimitExceeded = "ConnectionLimitExceededException"
	CodeInvalidEndpoint         = "InvalidEndpointException"
)

// Errors to match an error response by its code, as the SDK's typed
// exceptions are matched: errors.Is(err, ErrResourceNotFound) holds when
// err is or wraps an *APIError whose Code is CodeResourceNotFound, and
// errors.As(err, &apiErr) then gives the *APIError itself.
var (
	ErrResourceNotFound        error = &CodeError{CodeResourceNotFound}
	ErrInvalidArgument         error = &CodeError{CodeInvalidArgument}
	ErrNotAuthorized           error = &CodeError{CodeNotAuthorized}
	ErrClientLimitExceeded     error = &CodeError{CodeClientLimitExceeded}
	ErrConnectionLimitExceeded error = &CodeError{CodeConnectionLimitExceeded}
	ErrInvalidEndpoint         error = &CodeError{CodeInvalidEndpoint}
)

// CodeError is an error code to match with errors.Is: every *APIError with
// that Code matches it. The ErrResourceNotFound... values are CodeErrors;
// &CodeError{Code: "AccessDeniedException"} matches a code they leave out.
type CodeError struct {
	Code string
}

func (e *CodeError) Error() string { return "kvsaws: " + e.Code }

// ErrInvalidInput is the cause of a request the Client refuses to send: a
// missing stream, selector type or time range.
var ErrInvalidInput = errors.New("kvsaws: invalid input")

// TimestampRange is a time range of ListFragments, both ends included.
type TimestampRange struct {
	StartTimestamp tags.Timestamp `json:"StartTimestamp"`
	EndTimestamp   tags.Timestamp `json:"EndTimestamp"`
}

// FragmentSelector chooses fragments by producer or server timestamp.
type FragmentSelector struct {
	FragmentSelectorType FragmentSelectorType `json:"FragmentSelectorType"`
	TimestampRange       TimestampRange       `json:"TimestampRange"`
}

// Range returns the selector of the fragments whose timestamps of type typ
// are between start and end, both included.
func Range(typ FragmentSelectorType, start, end time.Time) FragmentSelector {
	return FragmentSelector{FragmentSelectorType: typ, TimestampRange: TimestampRange{tags.FromTime(start), tags.FromTime(end)}}
}

// validate reports a selector the service would refuse.
func (s *FragmentSelector) validate() error {
	r := s.TimestampRange
	switch {
	case s.FragmentSelectorType != ProducerTimestamp && s.FragmentSelectorType != ServerTimestamp:
		return fmt.Errorf("%w: FragmentSelectorType %q is not PRODUCER_TIMESTAMP or SERVER_TIMESTAMP", ErrInvalidInput, s.FragmentSelectorType)
	case r.StartTimestamp.IsZero() || r.EndTimestamp.IsZero():
		return fmt.Errorf("%w: the time range needs a StartTimestamp and an EndTimestamp", ErrInvalidInput)
	case r.StartTimestamp.Compare(r.EndTimestamp) > 0:
		return fmt.Errorf("%w: StartTimestamp %v is after EndTimestamp %v", ErrInvalidInput, r.StartTimestamp, r.EndTimestamp)
	}
	return nil
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
	FragmentNumber               tags.FragmentNumber `json:"FragmentNumber"`
	FragmentSizeInBytes          int64               `json:"FragmentSizeInBytes"`
	ProducerTimestamp            tags.Timestamp      `json:"ProducerTimestamp"`
	ServerTimestamp              tags.Timestamp      `json:"ServerTimestamp"`
	FragmentLengthInMilliseconds int64               `json:"FragmentLengthInMilliseconds"`
}

// ListFragmentsOutput is the response of ListFragments.
type ListFragmentsOutput struct {
	Fragments []FragmentInfo `json:"Fragments"`
	NextToken string         `json:"NextToken,omitempty"`
}

// GetMediaForFragmentListInput is the request of GetMediaForFragmentList:
// at most 1000 fragment numbers.
type GetMediaForFragmentListInput struct {
	StreamName string                `json:"StreamName,omitempty"`
	StreamARN  string                `json:"StreamARN,omitempty"`
	Fragments  []tags.FragmentNumber `json:"Fragments"`
}

// StartSelector says where GetMedia starts: StartSelectorType, with
// AfterFragmentNumber, StartTimestamp or ContinuationToken as the type
// needs.
type StartSelector struct {
	StartSelectorType   StartSelectorType   `json:"StartSelectorType"`
	AfterFragmentNumber tags.FragmentNumber `json:"AfterFragmentNumber,omitempty"`
	StartTimestamp      tags.Timestamp      `json:"StartTimestamp,omitzero"`
	ContinuationToken   string              `json:"ContinuationToken,omitempty"`
}

// validate reports a selector that lacks what its type needs.
func (s *StartSelector) validate() error {
	var missing string
	switch s.StartSelectorType {
	case StartAtNow, StartAtEarliest:
	case StartAtFragmentNumber:
		if s.AfterFragmentNumber == "" {
			missing = "AfterFragmentNumber"
		}
	case StartAtServerTimestamp, StartAtProducerTimestamp:
		if s.StartTimestamp.IsZero() {
			missing = "StartTimestamp"
		}
	case StartAtContinuationToken:
		if s.ContinuationToken == "" {
			missing = "ContinuationToken"
		}
	default:
		return fmt.Errorf("%w: unknown StartSelectorType %q", ErrInvalidInput, s.StartSelectorType)
	}
	if missing != "" {
		return fmt.Errorf("%w: StartSelectorType %s needs %s", ErrInvalidInput, s.StartSelectorType, missing)
	}
	return nil
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
	// Code is the error type, such as "ResourceNotFoundException".
	Code string
	// Message is the message of the response body.
	Message string
	// RequestID is the x-amz-RequestId, for AWS support.
	RequestID string
	// Err is the error the SDK's client returned, for a control-plane
	// call made through it (GetDataEndpoint); nil for the data plane.
	Err error
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("kvsaws: %s: %s (HTTP %d)", e.Operation, e.Code, e.StatusCode)
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

// Unwrap returns Err.
func (e *APIError) Unwrap() error { return e.Err }

// Is makes the error match the *CodeError of its Code (ErrResourceNotFound
// for a ResourceNotFoundException, ...).
func (e *APIError) Is(target error) bool {
	c, ok := target.(*CodeError)
	return ok && c.Code == e.Code
}

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

// decodeAPIError reads an error response as aws-sdk-go-v2's REST-JSON
// deserializers do: the type from the X-Amzn-ErrorType header, else the
// body's "code", else its "__type", each cut at ':' and after '#'; the
// message from the body's "message" or "Message".
func decodeAPIError(op string, status int, header func(string) string, body []byte) *APIError {
	e := &APIError{Operation: op, StatusCode: status}
	var b struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
		Code     string `json:"code"`
		Type     string `json:"__type"`
	}
	_ = json.Unmarshal(body, &b) // a body that is not JSON leaves the header
	e.Message = b.Message + b.Message2
	for _, c := range []string{header("X-Amzn-ErrorType"), header("X-Amz-ErrorType"), b.Code, b.Type} {
		if c != "" {
			e.Code = c
			break
		}
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
