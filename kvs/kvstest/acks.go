package kvstest

import (
	"strconv"

	"github.com/kvsmkv/kvsmkv/tags"
)

// Ack is an acknowledgement event of PutMedia. KVS writes them as JSON
// objects, one a line, on the response of the PutMedia request: for each
// fragment BUFFERING when its first bytes arrive, RECEIVED when it is
// complete and PERSISTED when it is stored (only on streams with a data
// retention), ERROR with an ErrorId when the media is refused, and IDLE
// while no data comes.
type Ack struct {
	EventType string `json:"EventType"`
	// FragmentTimecode is the fragment's Cluster Timecode as the producer
	// wrote it; absent (0) in IDLE acks.
	FragmentTimecode int64               `json:"FragmentTimecode"`
	FragmentNumber   tags.FragmentNumber `json:"FragmentNumber"`
	ErrorID          int                 `json:"ErrorId,omitempty"`
}

// The EventType values of acks.
const (
	EventBuffering = "BUFFERING"
	EventReceived  = "RECEIVED"
	EventPersisted = "PERSISTED"
	EventError     = "ERROR"
	EventIdle      = "IDLE"
)

// appendAck appends a as KVS writes it, with its newline.
func appendAck(b []byte, a Ack) []byte {
	b = append(b, `{"EventType":"`...)
	b = append(b, a.EventType...)
	b = append(b, '"')
	if a.FragmentNumber != "" {
		b = append(b, `,"FragmentTimecode":`...)
		b = strconv.AppendInt(b, a.FragmentTimecode, 10)
		b = append(b, `,"FragmentNumber":"`...)
		b = append(b, a.FragmentNumber...)
		b = append(b, '"')
	}
	if a.ErrorID != 0 {
		b = append(b, `,"ErrorId":`...)
		b = strconv.AppendInt(b, int64(a.ErrorID), 10)
	}
	return append(b, "}\n"...)
}
