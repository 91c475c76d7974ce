package tags

// Key identifies a KVS tag whatever its spelling.
type Key uint8

// The KVS tags.
const (
	// KeyOther is any tag that is not a KVS tag: producer metadata, muxer tags.
	KeyOther Key = iota
	// KeyFragmentNumber is the fragment's number, a decimal string.
	KeyFragmentNumber
	// KeyServerTimestamp is when KVS received the fragment, in decimal seconds.
	KeyServerTimestamp
	// KeyProducerTimestamp is the producer's timestamp of the fragment's start.
	KeyProducerTimestamp
	// KeyMillisBehindNow is how far GetMedia's chunk is behind the newest one.
	KeyMillisBehindNow
	// KeyContinuationToken resumes a GetMedia session after this chunk.
	KeyContinuationToken
	// KeyErrorCode is the text of an in-band GetMedia error.
	KeyErrorCode
	// KeyErrorID is the integer code of an in-band GetMedia error.
	KeyErrorID
	// KeyExceptionErrorCode is the code of a GetMediaForFragmentList error.
	KeyExceptionErrorCode
	// KeyExceptionMessage is the message of a GetMediaForFragmentList error.
	KeyExceptionMessage
)

// Prefix starts the name of every KVS tag.
const Prefix = "AWS_KINESISVIDEO_"

// The names as KVS writes them. Where two spellings exist, the first is the
// one GetMedia writes and the documentation of GetMedia names, the second
// (…_SIDE_…) the one GetMediaForFragmentList's documentation names.
const (
	NameFragmentNumber        = Prefix + "FRAGMENT_NUMBER"
	NameServerTimestamp       = Prefix + "SERVER_TIMESTAMP"
	NameServerSideTimestamp   = Prefix + "SERVER_SIDE_TIMESTAMP"
	NameProducerTimestamp     = Prefix + "PRODUCER_TIMESTAMP"
	NameProducerSideTimestamp = Prefix + "PRODUCER_SIDE_TIMESTAMP"
	NameMillisBehindNow       = Prefix + "MILLIS_BEHIND_NOW"
	NameContinuationToken     = Prefix + "CONTINUATION_TOKEN"
	NameErrorCode             = Prefix + "ERROR_CODE"
	NameErrorID               = Prefix + "ERROR_ID"
	NameExceptionErrorCode    = Prefix + "EXCEPTION_ERROR_CODE"
	NameExceptionMessage      = Prefix + "EXCEPTION_MESSAGE"
)

var keys = map[string]Key{
	NameFragmentNumber:        KeyFragmentNumber,
	NameServerTimestamp:       KeyServerTimestamp,
	NameServerSideTimestamp:   KeyServerTimestamp,
	NameProducerTimestamp:     KeyProducerTimestamp,
	NameProducerSideTimestamp: KeyProducerTimestamp,
	NameMillisBehindNow:       KeyMillisBehindNow,
	NameContinuationToken:     KeyContinuationToken,
	NameErrorCode:             KeyErrorCode,
	NameErrorID:               KeyErrorID,
	NameExceptionErrorCode:    KeyExceptionErrorCode,
	NameExceptionMessage:      KeyExceptionMessage,
}

var keyNames = [...]string{
	KeyOther:              "other",
	KeyFragmentNumber:     NameFragmentNumber,
	KeyServerTimestamp:    NameServerTimestamp,
	KeyProducerTimestamp:  NameProducerTimestamp,
	KeyMillisBehindNow:    NameMillisBehindNow,
	KeyContinuationToken:  NameContinuationToken,
	KeyErrorCode:          NameErrorCode,
	KeyErrorID:            NameErrorID,
	KeyExceptionErrorCode: NameExceptionErrorCode,
	KeyExceptionMessage:   NameExceptionMessage,
}

// Lookup returns the key of a tag name, in any of its spellings, or KeyOther.
// Trailing NUL bytes, which C producers may leave, are ignored.
func Lookup(name string) Key {
	return keys[TrimNUL(name)]
}

// String returns the key's name as GetMedia writes it.
func (k Key) String() string {
	if int(k) < len(keyNames) {
		return keyNames[k]
	}
	return "other"
}

// TrimNUL removes the NUL bytes that pad a string's end.
func TrimNUL(s string) string {
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s
}
