package kvstest

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
	TagStream               API = "TagStream"
	UntagStream             API = "UntagStream"
	ListTagsForStream       API = "ListTagsForStream"
	TagResource             API = "TagResource"
	UntagResource           API = "UntagResource"
	ListTagsForResource     API = "ListTagsForResource"
	UpdateDataRetention     API = "UpdateDataRetention"
	UpdateStream            API = "UpdateStream"
)

// AccountID is the AWS account of the emulator's stream ARNs.
const AccountID = "123456789012"

// The error types of the control plane that kvsaws does not name.
const (
	ErrResourceInUse   = "ResourceInUseException"
	ErrVersionMismatch = "VersionMismatchException"
)

// rateKey keys what is counted or set per API and stream.
type rateKey struct {
	api  API
	name string // of the stream, "" for the API's setting
}
