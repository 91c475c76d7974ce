package bench

import (
	"bytes"
	"hash/fnv"
	"io"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/remko/go-mkvparse"
)

// extract is what every benchmark of a full reading must agree on: the
// stream's tags, flattened as "name=value" in document order, hashed, and
// its frame count.
type extract struct {
	tags   uint64
	ntags  int
	frames int
}

type tagHash struct {
	h interface {
		Write([]byte) (int, error)
		Sum64() uint64
	}
	n int
}

func newTagHash() *tagHash { return &tagHash{h: fnv.New64a()} }

func (t *tagHash) add(name, value string) {
	t.h.Write([]byte(name))
	t.h.Write([]byte{'='})
	t.h.Write([]byte(value))
	t.h.Write([]byte{'\n'})
	t.n++
}

// ours reads the stream with kvs once and returns what it extracts.
func ours(b *testing.B) extract {
	th := newTagHash()
	frames := 0
	r := kvs.NewReader(bytes.NewReader(input(b)), kvs.WithoutFrameData())
	for f, err := range r.All() {
		if err != nil {
			b.Fatal(err)
		}
		var walk func([]mkv.SimpleTag)
		walk = func(ts []mkv.SimpleTag) {
			for _, t := range ts {
				th.add(t.Name, t.Value)
				walk(t.Tags)
			}
		}
		for _, t := range f.Tags {
			walk([]mkv.SimpleTag{t.SimpleTag})
		}
		frames += len(f.Frames)
	}
	return extract{th.h.Sum64(), th.n, frames}
}

func check(b *testing.B, who string, got, want extract) {
	if got != want {
		b.Fatalf("%s extracted %d tags (hash %x) and %d frames; kvsmkv %d tags (hash %x) and %d frames",
			who, got.ntags, got.tags, got.frames, want.ntags, want.tags, want.frames)
	}
}

// framesIn counts the frames of a SimpleBlock or Block from its lacing
// header (Matroska section 10.3).
func framesIn(block []byte) int {
	if len(block) == 0 {
		return 0
	}
	tl := 1
	for c := block[0]; c&0x80 == 0 && tl < 8; c <<= 1 {
		tl++
	}
	if len(block) < tl+3 {
		return 0
	}
	if block[tl+2]&0x06 == 0 {
		return 1
	}
	if len(block) < tl+4 {
		return 0
	}
	return int(block[tl+3]) + 1
}

// ebml-go's streaming form: a channel receives each Segment as soon as it is
// decoded, so that memory holds one fragment, not the stream.
type (
	egSimpleTag struct {
		TagName   string        `ebml:"TagName"`
		TagString string        `ebml:"TagString"`
		TagBinary []byte        `ebml:"TagBinary"`
		SimpleTag []egSimpleTag `ebml:"SimpleTag"`
	}
	egTag struct {
		SimpleTag []egSimpleTag `ebml:"SimpleTag"`
	}
	egTags struct {
		Tag []egTag `ebml:"Tag"`
	}
	egCluster struct {
		Timecode    uint64       `ebml:"Timecode"`
		SimpleBlock []ebml.Block `ebml:"SimpleBlock"`
	}
	egSegment struct {
		Tags    []egTags    `ebml:"Tags"`
		Cluster []egCluster `ebml:"Cluster"`
	}
	egStream struct {
		Header  chan struct{}  `ebml:"EBML"`
		Segment chan egSegment `ebml:"Segment"`
	}
)

// BenchmarkEBMLGo decodes the stream with github.com/at-wat/ebml-go's
// Unmarshal, Segments streamed through a channel, tags and blocks
// included.
func BenchmarkEBMLGo(b *testing.B) {
	data := input(b)
	want := ours(b)
	start(b, len(data))
	for b.Loop() {
		segs := make(chan egSegment, 1)
		got := make(chan extract)
		go func() {
			th := newTagHash()
			frames := 0
			var walk func([]egSimpleTag)
			walk = func(ts []egSimpleTag) {
				for _, t := range ts {
					th.add(t.TagName, t.TagString)
					walk(t.SimpleTag)
				}
			}
			for s := range segs {
				for _, tg := range s.Tags {
					for _, t := range tg.Tag {
						walk(t.SimpleTag)
					}
				}
				for _, c := range s.Cluster {
					for _, blk := range c.SimpleBlock {
						frames += len(blk.Data)
					}
				}
			}
			got <- extract{th.h.Sum64(), th.n, frames}
		}()
		v := egStream{Header: make(chan struct{}, 1<<10), Segment: segs}
		go func() {
			for range v.Header {
			}
		}()
		err := ebml.Unmarshal(readerOnly{bytes.NewReader(data)}, &v, ebml.WithIgnoreUnknown(true))
		close(segs)
		close(v.Header)
		if err != nil && err != io.EOF {
			b.Fatal(err)
		}
		check(b, "ebml-go", <-got, want)
	}
}

// fullReader makes every Read fill its buffer, as go-mkvparse needs: it
// stops early on a short read.
type fullReader struct{ r io.Reader }

func (f fullReader) Read(p []byte) (int, error) {
	n, err := io.ReadFull(f.r, p)
	if err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, err
}

type mkvparseHandler struct {
	th        *tagHash
	frames    int
	name, val string
	stack     []bool // open SimpleTags: whether their name/value was hashed
}

func (h *mkvparseHandler) flush() {
	if n := len(h.stack); n > 0 && !h.stack[n-1] {
		h.th.add(h.name, h.val)
		h.stack[n-1] = true
	}
}

func (h *mkvparseHandler) HandleMasterBegin(id mkvparse.ElementID, _ mkvparse.ElementInfo) (bool, error) {
	if id == mkvparse.SimpleTagElement {
		h.flush() // the parent's name and value come before its nested tags
		h.stack = append(h.stack, false)
		h.name, h.val = "", ""
	}
	return true, nil
}

func (h *mkvparseHandler) HandleMasterEnd(id mkvparse.ElementID, _ mkvparse.ElementInfo) error {
	if id == mkvparse.SimpleTagElement {
		h.flush()
		h.stack = h.stack[:len(h.stack)-1]
	}
	return nil
}

func (h *mkvparseHandler) HandleString(id mkvparse.ElementID, v string, _ mkvparse.ElementInfo) error {
	switch id {
	case mkvparse.TagNameElement:
		h.name = v
	case mkvparse.TagStringElement:
		h.val = v
	}
	return nil
}

func (h *mkvparseHandler) HandleInteger(mkvparse.ElementID, int64, mkvparse.ElementInfo) error {
	return nil
}

func (h *mkvparseHandler) HandleFloat(mkvparse.ElementID, float64, mkvparse.ElementInfo) error {
	return nil
}

func (h *mkvparseHandler) HandleDate(mkvparse.ElementID, time.Time, mkvparse.ElementInfo) error {
	return nil
}

func (h *mkvparseHandler) HandleBinary(id mkvparse.ElementID, v []byte, _ mkvparse.ElementInfo) error {
	if id == mkvparse.SimpleBlockElement || id == mkvparse.BlockElement {
		h.frames += framesIn(v)
	}
	return nil
}

// BenchmarkMkvparse decodes the stream with github.com/remko/go-mkvparse
// v0.14.0, behind a reader that fills every Read.
func BenchmarkMkvparse(b *testing.B) {
	data := input(b)
	want := ours(b)
	start(b, len(data))
	for b.Loop() {
		h := &mkvparseHandler{th: newTagHash()}
		if err := mkvparse.Parse(fullReader{readerOnly{bytes.NewReader(data)}}, h); err != nil {
			b.Fatal(err)
		}
		check(b, "go-mkvparse", extract{h.th.h.Sum64(), h.th.n, h.frames}, want)
	}
}
