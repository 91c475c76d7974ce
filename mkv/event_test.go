package mkv

import (
	"fmt"
	"testing"
	"time"
)

// TestEventString checks that an event prints its kind, element, offset
// and value, and that StringValue is the value of a string element.
func TestEventString(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"start", Event{Kind: Start, ID: IDCluster, Type: TypeMaster, Offset: 4242, Size: 1234}, "start Cluster at 4242, size 1234"},
		{"start unknown size", Event{Kind: Start, ID: IDSegment, Type: TypeMaster, Offset: 40, Size: UnknownSize}, "start Segment at 40, unknown size"},
		{"end", Event{Kind: End, ID: IDCluster, Type: TypeMaster, Offset: 4242, Size: 99}, "end Cluster at 4242, size 99"},
		{"uint", Event{Kind: Value, ID: IDTimecode, Type: TypeUint, Offset: 7, Uint: 1000}, "value Timecode at 7: 1000"},
		{"int", Event{Kind: Value, ID: IDReferenceBlock, Type: TypeInt, Offset: 8, Int: -33}, "value ReferenceBlock at 8: -33"},
		{"float", Event{Kind: Value, ID: IDDuration, Type: TypeFloat, Offset: 9, Float: 2.5}, "value Duration at 9: 2.5"},
		{"string", Event{Kind: Value, ID: IDCodecID, Type: TypeString, Offset: 301, Bytes: []byte("V_MPEG4/ISO/AVC")}, `value CodecID at 301: "V_MPEG4/ISO/AVC"`},
		{"date", Event{Kind: Value, ID: IDDateUTC, Type: TypeDate, Offset: 10, Int: int64(24 * time.Hour)}, "value DateUTC at 10: 2001-01-02T00:00:00Z"},
		{"binary", Event{Kind: Value, ID: IDCodecPrivate, Type: TypeBinary, Offset: 11, Bytes: make([]byte, 38)}, "value CodecPrivate at 11: 38 bytes"},
		{"block", Event{Kind: BlockKind, ID: IDSimpleBlock, Type: TypeBlock, Offset: 4263, Block: Block{Track: 1, Keyframe: true, Frames: [][]byte{{1}}}},
			"block SimpleBlock at 4263: track 1, keyframe, 1 frame"},
		{"laced block", Event{Kind: BlockKind, ID: IDSimpleBlock, Type: TypeBlock, Offset: 5, Block: Block{Track: 2, Frames: [][]byte{{1}, {2}, {3}}}},
			"block SimpleBlock at 5: track 2, 3 frames"},
		{"skip", Event{Kind: Skip, ID: 0x4F00, Offset: 12, Size: 3}, "skip 0x4F00 at 12, size 3"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(&tt.ev); got != tt.want {
			t.Errorf("%s: fmt.Sprint(ev) = %q, want %q", tt.name, got, tt.want)
		}
	}
	ev := Event{Kind: Value, ID: IDCodecID, Type: TypeString, Bytes: []byte("A_AAC")}
	if got := ev.StringValue(); got != "A_AAC" {
		t.Errorf("StringValue() = %q, want %q", got, "A_AAC")
	}
}
