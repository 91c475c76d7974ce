package fuzz

import (
	"io"

	"github.com/kvsmkv/kvsmkv/internal/mkvtest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// Shape is a hostile stream: valid Matroska, or valid but cut off, that
// costs a careless reader far more than its bytes. The benchmarks in bench
// measure the kvs reader's time and peak heap on each shape at 10 MB
// against the mkv decoder's; the tests here check the errors.
type Shape struct {
	Name string
	// Whole and Streaming are the causes the kvs reader ends with, with
	// its default budgets, on the shape at 1 MB or more: reading whole
	// fragments (Next) and streaming (NextEvent, PushReader); nil for a
	// clean end.
	Whole, Streaming error
	build            func(n int) []byte
}

// Bytes returns the shape as a stream of about n bytes (n of 1 KiB or more).
func (s Shape) Bytes(n int) []byte { return s.build(n) }

// Shapes returns the hostile shapes.
func Shapes() []Shape {
	el, unknown, u := mkvtest.El, mkvtest.Unknown, mkvtest.Uint
	seg := func(children ...[]byte) []byte {
		return append(mkvtest.EBMLHeader(), unknown(mkv.IDSegment, children...)...)
	}
	cluster := func(blocks []byte) []byte {
		return seg(unknown(mkv.IDCluster, el(mkv.IDTimecode, u(0)), blocks))
	}
	// repeat appends unit(0), unit(1), ... until they make n bytes.
	repeat := func(n int, unit func(i int) []byte) []byte {
		var out []byte
		for i := 0; len(out) < n; i++ {
			out = append(out, unit(i)...)
		}
		return out
	}
	return []Shape{
		{
			// Every block names a track of its own, with a 3-byte number:
			// a reader that adds a track per unknown number and searches
			// them one by one is quadratic.
			Name: "distinct-tracks", Whole: kvs.ErrTooManyTracks, Streaming: kvs.ErrTooManyTracks,
			build: func(n int) []byte {
				return cluster(repeat(n, func(i int) []byte {
					t := 1 + i%(1<<21-2)
					return el(mkv.IDSimpleBlock, []byte{0x20 | byte(t>>16), byte(t >> 8), byte(t), 0, 0, 0x80, 0})
				}))
			},
		},
		{
			// Empty TrackEntries (AE 80): two bytes for a track each.
			Name: "empty-trackentries", Whole: kvs.ErrTooManyTracks, Streaming: kvs.ErrTooManyTracks,
			build: func(n int) []byte {
				return seg(el(mkv.IDTracks, repeat(n, func(int) []byte { return []byte{0xAE, 0x80} })))
			},
		},
		{
			// Empty SimpleTags (67 C8 80): three bytes for a tag each.
			Name: "empty-simpletags", Whole: kvs.ErrTooManyTags, Streaming: kvs.ErrTooManyTags,
			build: func(n int) []byte {
				return seg(el(mkv.IDTags, el(mkv.IDTag, repeat(n, func(int) []byte { return []byte{0x67, 0xC8, 0x80} }))))
			},
		},
		{
			// SimpleBlocks of one 1-byte frame: a frame per 7 bytes. Held
			// whole, each costs a Frame; streamed, nothing.
			Name: "tiny-blocks", Whole: kvs.ErrTooManyFrames, Streaming: nil,
			build: func(n int) []byte {
				return cluster(repeat(n, func(int) []byte { return mkvtest.SimpleBlock(1, 0, 0x80, []byte{0}) }))
			},
		},
		{
			// A SimpleBlock declaring 60 MiB (under the maximum element
			// size) of which the stream holds only what is left of n:
			// memory must follow the bytes that arrive.
			Name: "huge-declared", Whole: io.ErrUnexpectedEOF, Streaming: io.ErrUnexpectedEOF,
			build: func(n int) []byte {
				head := append(mkvtest.IDBytes(mkv.IDSimpleBlock), 0x01, 0, 0, 0, 0x03, 0xC0, 0, 0, 0x81, 0, 0, 0x80)
				return cluster(append(head, make([]byte, n)...))
			},
		},
	}
}
