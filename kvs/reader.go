package kvs

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
	"unsafe"

	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// Reader reads the fragments of a GetMedia or GetMediaForFragmentList
// response from an io.Reader as its bytes arrive, two ways through one
// state machine: whole fragments with Next (or All), or events with
// NextEvent (or Events), where each frame is handed out as soon as its
// block is read and never held. The two may be mixed: Next gathers the
// frames of the fragment that NextEvent has not handed out yet.
type Reader struct {
	d *mkv.Decoder
	a assembler

	next int       // the next pending frame NextEvent hands out
	ev   Event     // reused by NextEvent
	done *Fragment // a fragment whose start NextEvent reported, to end next

	// Frame bytes of the fragment Next is gathering, and where each ends:
	// lent with the fragment Next returns, and reused from the next call
	// on.
	arena     []byte
	ends      []int
	lent      bool
	hintBytes int // frame bytes of the last fragment, to size the next one's
}

// NewReader returns a Reader of the response body r.
func NewReader(r io.Reader, opts ...Option) *Reader {
	rd := &Reader{}
	rd.a.init(opts)
	rd.d = mkv.NewDecoder(r, rd.a.opts.mkv...)
	return rd
}

// Next returns the next whole fragment. The Fragment belongs to the
// caller, except its frames' bytes (Frame.Data): they live in a buffer the
// reader recycles, valid until the next call to Next, NextEvent or their
// iterators (as mkv's frames are), so that reading frames allocates
// nothing per frame; to keep them, keep f.Clone() (see the package doc,
// "Frame bytes"). A GetMedia fragment is returned as soon as its
// trailing CONTINUATION_TOKEN tags have been read; other fragments when
// their unit ends. At the end of the input Next returns io.EOF. When the
// input is cut off or malformed inside a unit, or a fragment goes past a
// budget (ErrBudget), Next first returns what was complete of that
// fragment, marked Partial, then the error: a *mkv.SyntaxError, with
// errors.Is(err, io.ErrUnexpectedEOF) when cut off. With WithResync a
// malformed unit is no error: its fragment comes Damaged and reading goes
// on. A fragment carrying an in-band error (Fragment.Err) or Damage (a
// CRC-32 mismatch) is not an error of Next.
func (r *Reader) Next() (*Fragment, error) {
	if r.lent {
		r.arena, r.lent = r.arena[:0], false
	}
	if f := r.done; f != nil {
		// NextEvent reported its start: it ends now.
		r.done = nil
		r.attach(f)
		return f, nil
	}
	r.gather() // the frames NextEvent did not hand out
	f, err := r.pull(true)
	if err != nil {
		return nil, err
	}
	r.attach(f)
	return f, nil
}

// All returns an iterator over the fragments of Next. It stops at the end of
// the input, or yields (nil, err) once for an error.
func (r *Reader) All() iter.Seq2[*Fragment, error] {
	return func(yield func(*Fragment, error) bool) {
		for {
			f, err := r.Next()
			if err == io.EOF || !yield(f, err) || err != nil {
				return
			}
		}
	}
}

// NextEvent returns the next event: each fragment's start, each frame as
// soon as its block has arrived, and each fragment's end. A fragment
// starts (FragmentStartEvent) before its first frame, with the tags that
// came before its Cluster and its tracks, so that a consumer can decide
// what to do with a fragment (by its ContactId, say) before any of its
// frames; a fragment without frames starts just before it ends. Frames
// are never held, so a pipeline reading this way holds no fragment's
// frames in memory. Fragments complete as with Next (including partial
// ones before an error), and the end of input is io.EOF. The Event and
// the Frame it holds are valid until the next call.
func (r *Reader) NextEvent() (*Event, error) {
	for {
		if r.next < len(r.a.pending) {
			if f := r.a.frag; r.a.opens(f) {
				r.ev = Event{Kind: FragmentStartEvent, Fragment: f}
				return &r.ev, nil
			}
			r.ev = Event{Kind: FrameEvent, Fragment: r.a.frag, Frame: &r.a.pending[r.next]}
			r.next++
			return &r.ev, nil
		}
		if f := r.done; f != nil {
			r.done = nil
			r.ev = Event{Kind: FragmentEvent, Fragment: f}
			return &r.ev, nil
		}
		f, err := r.pull(false)
		if err != nil {
			return nil, err
		}
		if f != nil {
			if r.a.opens(f) {
				r.done = f
				r.ev = Event{Kind: FragmentStartEvent, Fragment: f}
				return &r.ev, nil
			}
			r.ev = Event{Kind: FragmentEvent, Fragment: f}
			return &r.ev, nil
		}
	}
}

// Events returns an iterator over the events of NextEvent.
func (r *Reader) Events() iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for {
			ev, err := r.NextEvent()
			if err == io.EOF || !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// InputOffset returns the number of bytes of the response decoded so far.
func (r *Reader) InputOffset() int64 { return r.d.InputOffset() }

// Skipped returns the number of bytes resynchronisation (WithResync) has
// skipped so far, the sum of the Skipped of the Damage records delivered.
func (r *Reader) Skipped() int64 { return r.a.skipped }

// pull decodes until a fragment is complete (returned), or the input ends
// or fails. With whole, it gathers each block's frames into the fragment as
// it goes; without, it returns (nil, nil) as soon as frames are pending,
// for NextEvent to hand out.
func (r *Reader) pull(whole bool) (*Fragment, error) {
	r.a.pending, r.next = r.a.pending[:0], 0
	// Whole fragments without frame data: the frames go straight into
	// their fragment, never pending.
	r.a.direct = whole && r.a.opts.noData
	for {
		if f := r.a.done; f != nil {
			r.a.done = nil
			return f, nil
		}
		if r.a.err != nil {
			return nil, r.a.err
		}
		if len(r.a.pending) > 0 {
			if !whole {
				return nil, nil
			}
			r.gather()
			r.a.pending, r.next = r.a.pending[:0], 0
			continue
		}
		ev, err := r.d.Next()
		if err != nil {
			r.a.finish(err, r.d.InputOffset())
			continue
		}
		r.a.handle(ev)
	}
}

// gather adds the frames NextEvent has not handed out to the fragment
// being read, copying their bytes unless WithoutFrameData, within the
// fragment's budgets.
func (r *Reader) gather() {
	a := &r.a
	f := a.frag
	if f == nil {
		return
	}
	a.sizeFrames(f)
	for _, fr := range a.pending[r.next:] {
		if len(f.Frames) >= a.opts.maxFrames {
			a.overBudget(fr.Offset, a.blockID, ErrTooManyFrames)
			return
		}
		if !a.opts.noData {
			if a.held += int64(len(fr.Data)); a.held > a.opts.maxBytes {
				a.overBudget(fr.Offset, a.blockID, ErrFragmentTooLarge)
				return
			}
			if r.arena == nil {
				r.arena = make([]byte, 0, min(r.hintBytes+r.hintBytes/8, int(a.opts.maxBytes)))
			}
			r.arena = append(r.arena, fr.Data...)
			r.ends = append(r.ends, len(r.arena))
		}
		fr.Data = nil
		f.Frames = append(f.Frames, fr)
	}
	r.next = len(a.pending)
}

// attach gives a completed fragment its frames' bytes: they were appended
// to one buffer, sliced now that it will not move any more.
func (r *Reader) attach(f *Fragment) {
	if !r.a.opts.noData && len(r.ends) == len(f.Frames) {
		start := 0
		for i := range f.Frames {
			f.Frames[i].Data = r.arena[start:r.ends[i]:r.ends[i]]
			start = r.ends[i]
		}
		r.hintBytes = len(r.arena)
	}
	r.lent = true
	r.ends = r.ends[:0]
	if len(f.Frames) > 0 {
		r.a.hintFrames = len(f.Frames)
	}
}

// PushReader is the push door of the fragment reader, for bytes that
// arrive by callback (a GStreamer appsink, a WebSocket, a PutMedia body):
// Write them in chunks of any size, cut anywhere, and the handler gets
// the same events NextEvent gives, as soon as they are complete. It shares
// Reader's state machine and starts no goroutine.
type PushReader struct {
	a      assembler
	p      *mkv.PushDecoder
	handle func(*Event) error
	ev     Event
}

// NewPushReader returns a PushReader that calls handle for every event.
// The Event, its Frame and the frame's Data are valid only until handle
// returns. An error from handle stops reading and is returned by Write or
// Close.
func NewPushReader(handle func(*Event) error, opts ...Option) *PushReader {
	p := &PushReader{handle: handle}
	p.a.init(opts)
	p.p = mkv.NewPushDecoder(func(ev *mkv.Event) error {
		p.a.handle(ev)
		if err := p.emit(); err != nil {
			return err
		}
		if p.a.err != nil {
			return p.a.err // a budget: the fragment it cut short went out
		}
		return nil
	}, p.a.opts.mkv...)
	return p
}

// Write reads b, calling the handler for every event it completes. It
// returns len(b) and nil, or the first error: the handler's, or a
// *mkv.SyntaxError for malformed input, after the handler got the
// fragment the fault cut short, marked Partial. Errors are final.
func (p *PushReader) Write(b []byte) (int, error) {
	n, err := p.p.Write(b)
	if err != nil && p.a.err == nil && isSyntax(err) {
		return n, p.fail(err)
	}
	return n, err
}

// Close tells the reader that the input has ended: the last fragment is
// delivered, and an input cut off inside a unit ends with its partial
// fragment and a *mkv.SyntaxError wrapping io.ErrUnexpectedEOF.
func (p *PushReader) Close() error {
	err := p.p.Close()
	if err == nil {
		err = io.EOF
	} else if !isSyntax(err) || p.a.err != nil {
		return err
	}
	if err := p.fail(err); err != io.EOF {
		return err
	}
	return nil
}

// InputOffset returns the number of bytes of the input decoded so far.
func (p *PushReader) InputOffset() int64 { return p.p.InputOffset() }

// Skipped returns the number of bytes resynchronisation (WithResync) has
// skipped so far (see Reader.Skipped).
func (p *PushReader) Skipped() int64 { return p.a.skipped }

// fail ends the input with err (io.EOF at a clean end) and delivers what
// completes.
func (p *PushReader) fail(err error) error {
	p.a.finish(err, p.p.InputOffset())
	if herr := p.emit(); herr != nil {
		return herr
	}
	return p.a.err
}

// emit hands the frames and the fragment the last event completed to the
// handler.
func (p *PushReader) emit() error {
	if len(p.a.pending) > 0 && p.a.opens(p.a.frag) {
		p.ev = Event{Kind: FragmentStartEvent, Fragment: p.a.frag}
		if err := p.handle(&p.ev); err != nil {
			return err
		}
	}
	for i := range p.a.pending {
		p.ev = Event{Kind: FrameEvent, Fragment: p.a.frag, Frame: &p.a.pending[i]}
		if err := p.handle(&p.ev); err != nil {
			return err
		}
	}
	p.a.pending = p.a.pending[:0]
	if f := p.a.done; f != nil {
		p.a.done = nil
		if p.a.opens(f) {
			p.ev = Event{Kind: FragmentStartEvent, Fragment: f}
			if err := p.handle(&p.ev); err != nil {
				return err
			}
		}
		p.ev = Event{Kind: FragmentEvent, Fragment: f}
		return p.handle(&p.ev)
	}
	return nil
}

func isSyntax(err error) bool {
	var se *mkv.SyntaxError
	return errors.As(err, &se)
}

// EventKind says what an Event reports: FrameEvent, FragmentEvent,
// FragmentStartEvent or ReconnectEvent (go doc kvs.FrameEvent shows them
// all). A Reader and a PushReader report the first three; kvsaws's
// FollowFrames reports those with the same meaning, and ReconnectEvent,
// which only a client that reconnects has.
type EventKind uint8

// The kinds of Event.
const (
	// FrameEvent delivers one frame, with the fragment read so far: the
	// tags before the Cluster, the tracks, the counts.
	FrameEvent EventKind = iota + 1
	// FragmentEvent reports a fragment complete, with all its tags,
	// those after the Cluster included, or cut off: then its Fragment is
	// Partial, and its frames delivered so far are all there will be.
	FragmentEvent
	// FragmentStartEvent opens a fragment, with the tags before its
	// Cluster and its tracks, before its first frame (or, for a fragment
	// without frames, before its FragmentEvent): every fragment has one,
	// so a consumer can decide per fragment, from tags such as Amazon
	// Connect's ContactId, before it sees a frame.
	FragmentStartEvent
	// ReconnectEvent says a GetMedia session ended and the next begins,
	// with Err saying why (kvsaws's FollowFrames only). It is information,
	// not a failure: no frame is lost or repeated across it.
	ReconnectEvent
)

var eventKindNames = [...]string{"", "frame", "fragment", "fragment start", "reconnect"}

func (k EventKind) String() string {
	if k != 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one step of reading: a fragment's start, a frame, or a
// fragment's end (and, from kvsaws's FollowFrames, a reconnect).
type Event struct {
	Kind EventKind
	// Fragment is the fragment the event belongs to (nil in a
	// ReconnectEvent). In a FrameEvent it is still being read; the
	// FragmentEvent that completes it carries the same pointer. Its Frames
	// are those gathered by Next, if any.
	Fragment *Fragment
	// Frame is the frame of a FrameEvent. It, and its Data, are valid
	// only until the next call.
	Frame *Frame
	// Err is why a ReconnectEvent happened, never nil in one; nil in
	// every other event.
	Err error
}

// assembler turns mkv events into fragments and frames: the state machine
// both doors of the reader share. After each event, pending holds the
// frames of a block just read and done a fragment just completed.
type assembler struct {
	opts options
	err  error // the end of input (io.EOF) or the fault, once reached

	// Resynchronisation: the decoder's last fault, until the scan after
	// it ends, and the bytes skipped in all.
	fault   *Damage
	skipped int64

	// The unit being read.
	unit       bool
	unitStart  int64
	index      int
	frag       *Fragment
	last       *Fragment // the fragment completed last in this unit
	hasSegment bool
	scale      uint64
	clusterTC  int64
	sawCluster bool
	clusters   int // Clusters started in the unit
	track      *mkv.Track
	tagStack   []Tag
	tokenSeen  bool // a CONTINUATION_TOKEN in the Tags element being read
	getMedia   bool // a fragment ended with CONTINUATION_TOKEN tags
	group      mkv.BlockGroup
	blockID    mkv.ID // the SimpleBlock or Block of the frames pending

	// The budgets of the fragment being read (see options.go): its
	// SimpleTags and the bytes held for it. Its tracks are indexed by
	// number once they are more than a few: a linear search costs more
	// than a map only past that, and hostile input may name thousands.
	tags     int
	held     int64
	byNumber map[uint64]int
	indexed  int // tracks of the fragment in byNumber

	// pending are the frames of the last block, for NextEvent to hand out
	// or Next to gather; direct puts them in their fragment instead.
	pending    []Frame
	direct     bool
	opened     *Fragment // the last fragment whose start was reported
	hintFrames int       // frames of the last fragment, to size the next one's
	done       *Fragment

	// strs holds the bytes of the strings of tags read (see str), and
	// the sizes of the last fragment's lists size the next one's.
	strs                 []byte
	hintTags, hintTracks int
}

// knownNames are the KVS tag names and the usual languages, which every
// fragment repeats: a string equal to one shares the constant instead of
// being a string of its own.
var knownNames = map[string]string{}

func init() {
	for _, n := range []string{
		tags.NameFragmentNumber, tags.NameServerTimestamp, tags.NameServerSideTimestamp,
		tags.NameProducerTimestamp, tags.NameProducerSideTimestamp, tags.NameMillisBehindNow,
		tags.NameContinuationToken, tags.NameErrorCode, tags.NameErrorID,
		tags.NameExceptionErrorCode, tags.NameExceptionMessage, "und", "eng",
	} {
		knownNames[n] = n
	}
}

// strsChunk is the size of the chunks the strings of tags are cut from.
const strsChunk = 4 << 10

// str returns b as a string. Short strings are cut from a chunk shared by
// the tags of several fragments, one allocation for many: bytes appended
// to a chunk are never written again, so the strings stay immutable, and
// a string kept keeps at most its chunk alive.
func (a *assembler) str(b []byte) string {
	if s, ok := knownNames[string(b)]; ok {
		return s
	}
	if len(b) == 0 || len(b) > strsChunk/8 {
		return string(b)
	}
	if cap(a.strs)-len(a.strs) < len(b) {
		a.strs = make([]byte, 0, strsChunk)
	}
	at := len(a.strs)
	a.strs = append(a.strs, b...)
	return unsafe.String(&a.strs[at], len(b))
}

func (a *assembler) init(opts []Option) {
	a.index = -1
	a.opts = defaultOptions()
	for _, o := range opts {
		o(&a.opts)
	}
	// The reader's own choices first, so that WithDecoderOptions may
	// override them.
	own := []mkv.Option{mkv.WithCRC(!a.opts.noCRC)}
	if a.opts.resync {
		own = append(own, mkv.WithResync())
	}
	a.opts.mkv = append(own, a.opts.mkv...)
}

// Causes of a cut-off response that the mkv decoder cannot see: unknown
// sizes let a cut between two elements pass for an end.
var (
	errNoSegment = fmt.Errorf("kvs: unit ends before its Segment: %w", io.ErrUnexpectedEOF)
	errNoToken   = fmt.Errorf("kvs: GetMedia fragment ends before its CONTINUATION_TOKEN: %w", io.ErrUnexpectedEOF)
)

// finish ends the input with err from the decoder (io.EOF at a clean end)
// at offset end, completing the unit being read.
func (a *assembler) finish(err error, end int64) {
	if err == io.EOF && a.unit && !a.hasSegment {
		// An EBML header whose Segment never came: the input was cut
		// between the two.
		err = &mkv.SyntaxError{Offset: a.unitStart, ID: mkv.IDEBML, Err: errNoSegment}
	} else if err == io.EOF && a.getMedia && a.frag != nil && !a.frag.Continued && a.frag.Err == nil {
		// In a GetMedia response, whose fragments all end with
		// CONTINUATION_TOKEN tags, an end without one is a cut.
		err = &mkv.SyntaxError{Offset: a.frag.Offset, ID: mkv.IDSegment, Err: errNoToken}
	}
	if err == io.EOF {
		a.endUnit(end)
	} else if a.frag != nil {
		a.complete(end, true)
	}
	a.err = err
}

// overBudget ends the input with a budget's error at the element at off:
// the fragment being read is delivered as it is, Partial.
func (a *assembler) overBudget(off int64, id mkv.ID, err error) {
	a.finish(&mkv.SyntaxError{Offset: off, ID: id, Err: err}, off)
}

// hold counts n bytes held for the fragment, and reports whether they fit
// its budget; when not, the input ends with ErrFragmentTooLarge.
func (a *assembler) hold(ev *mkv.Event, n int) bool {
	if a.held += int64(n); a.held > a.opts.maxBytes {
		a.overBudget(ev.Offset, ev.ID, ErrFragmentTooLarge)
		return false
	}
	return true
}

// handle applies one mkv event to the unit being read.
func (a *assembler) handle(ev *mkv.Event) {
	if ev.Kind == mkv.Damage || ev.Kind == mkv.Resync {
		a.resync(ev)
		return
	}
	if a.group.Open() || ev.ID == mkv.IDBlockGroup {
		if a.group.Add(ev) {
			if g := &a.group; g.HasBlock {
				a.frames(&g.Block, mkv.IDBlock, g.Offset, !g.Referenced, g.Duration)
			}
		}
		if ev.ID == mkv.IDBlockGroup || ev.ID == mkv.IDBlock {
			return
		}
	}
	switch ev.Kind {
	case mkv.Start:
		a.start(ev)
	case mkv.End:
		if ev.Checksum.Mismatch() {
			a.checksum(ev)
		}
		a.end(ev)
	case mkv.Value:
		a.value(ev)
	case mkv.BlockKind:
		a.frames(&ev.Block, ev.ID, ev.Offset, ev.Block.Keyframe, -1)
	}
}

func (a *assembler) start(ev *mkv.Event) {
	switch ev.ID {
	case mkv.IDEBML:
		if ev.Depth == 0 {
			a.endUnit(ev.Offset)
			a.beginUnit(ev.Offset)
		}
	case mkv.IDSegment:
		if ev.Depth == 0 {
			if !a.unit || a.hasSegment {
				a.endUnit(ev.Offset)
				a.beginUnit(ev.Offset)
			}
			a.hasSegment = true
		}
	case mkv.IDTrackEntry:
		f := a.f(ev.Offset)
		if len(f.Tracks) >= a.opts.maxTracks {
			a.overBudget(ev.Offset, ev.ID, ErrTooManyTracks)
			return
		}
		if f.Tracks == nil {
			f.Tracks = make([]Track, 0, min(max(a.hintTracks, 1), a.opts.maxTracks))
		}
		f.Tracks = append(f.Tracks, Track{Track: mkv.NewTrack()})
		a.track = &f.Tracks[len(f.Tracks)-1].Track
	case mkv.IDCluster:
		a.f(ev.Offset).HasCluster = true
		a.clusterTC = 0
		a.clusters++
		a.sawCluster = true
	case mkv.IDTags:
		a.tokenSeen = false
	case mkv.IDSimpleTag:
		a.f(ev.Offset)
		if a.tags++; a.tags > a.opts.maxTags {
			a.overBudget(ev.Offset, ev.ID, ErrTooManyTags)
			return
		}
		a.tagStack = append(a.tagStack, Tag{SimpleTag: mkv.SimpleTag{Language: "und", Default: true}, AfterCluster: a.sawCluster})
	}
}

func (a *assembler) end(ev *mkv.Event) {
	switch ev.ID {
	case mkv.IDSegment:
		if ev.Depth != 0 {
			return
		}
		if f := a.frag; a.getMedia && f != nil && !f.Continued && f.Err == nil {
			// An unknown-size Segment also ends at the end of input:
			// a GetMedia fragment without its CONTINUATION_TOKEN is
			// complete only if another unit follows (see finish).
			return
		}
		a.endUnit(ev.DataOffset() + ev.Size)
	case mkv.IDTrackEntry:
		a.track = nil
	case mkv.IDSimpleTag:
		n := len(a.tagStack) - 1
		if n < 0 {
			return
		}
		t := a.tagStack[n]
		a.tagStack = a.tagStack[:n]
		if n > 0 {
			p := &a.tagStack[n-1]
			p.Tags = append(p.Tags, t.SimpleTag)
			return
		}
		f := a.f(ev.Offset)
		if f.Tags == nil {
			f.Tags = make([]Tag, 0, min(max(a.hintTags, 1), a.opts.maxTags))
		}
		f.Tags = append(f.Tags, t)
		a.applyKVS(f, &t)
	case mkv.IDTags:
		if a.tokenSeen && a.frag != nil {
			// GetMedia writes CONTINUATION_TOKEN last in a unit: the
			// fragment is complete now, not when the next one starts.
			a.getMedia = true
			a.complete(ev.DataOffset()+ev.Size, false)
		}
	}
}

func (a *assembler) value(ev *mkv.Event) {
	switch ev.ID {
	case mkv.IDTimecodeScale:
		if ev.Uint > 0 {
			a.scale = ev.Uint
			a.f(ev.Offset).TimecodeScale = ev.Uint
		}
		return
	case mkv.IDTimecode:
		f := a.f(ev.Offset)
		a.clusterTC = int64(min(ev.Uint, 1<<62))
		if a.clusters == 1 {
			f.ClusterTimestamp = time.Duration(a.clusterTC * int64(a.scale))
		}
		return
	}
	if n := len(a.tagStack); n > 0 {
		t := &a.tagStack[n-1]
		switch ev.ID {
		case mkv.IDTagName:
			if a.hold(ev, len(ev.Bytes)) {
				t.Name = a.str(ev.Bytes)
			}
		case mkv.IDTagString:
			if a.hold(ev, len(ev.Bytes)) {
				t.Value = a.str(ev.Bytes)
			}
		case mkv.IDTagBinary:
			if a.hold(ev, len(ev.Bytes)) {
				t.Binary = append([]byte(nil), ev.Bytes...)
			}
		case mkv.IDTagLanguage:
			if a.hold(ev, len(ev.Bytes)) {
				t.Language = a.str(ev.Bytes)
			}
		case mkv.IDTagDefault:
			t.Default = ev.Uint != 0
		}
		return
	}
	if a.track != nil && a.hold(ev, len(ev.Bytes)) {
		switch ev.ID {
		case mkv.IDCodecID:
			a.track.CodecID = a.str(ev.Bytes)
		case mkv.IDName:
			a.track.Name = a.str(ev.Bytes)
		case mkv.IDLanguage:
			a.track.Language = a.str(ev.Bytes)
		default:
			a.track.Set(ev)
		}
	}
}

// applyKVS records the typed value of a top-level KVS tag. A value that
// does not parse leaves the typed field unset; the tag is in Tags anyway.
func (a *assembler) applyKVS(f *Fragment, t *Tag) {
	k := tags.Lookup(t.Name)
	switch k {
	case tags.KeyOther:
	case tags.KeyFragmentNumber:
		if n, err := tags.ParseFragmentNumber(t.Value); err == nil {
			f.Number = n
		}
	case tags.KeyServerTimestamp:
		if ts, err := tags.ParseTimestamp(t.Value); err == nil {
			f.ServerTimestamp = ts
		}
	case tags.KeyProducerTimestamp:
		if ts, err := tags.ParseTimestamp(t.Value); err == nil {
			f.ProducerTimestamp = ts
		}
	case tags.KeyMillisBehindNow:
		if v, err := tags.ParseMillis(t.Value); err == nil {
			f.MillisBehindNow, f.HasMillisBehindNow = v, true
		}
	case tags.KeyContinuationToken:
		f.ContinuationToken = t.Value
		a.tokenSeen = true
	default:
		if f.Err == nil {
			f.Err = &tags.FragmentError{}
		}
		f.Err.Set(k, t.Value)
	}
}

// frames counts the frames of a block (a SimpleBlock or the Block of a
// BlockGroup, id, at offset) in its track and queues them in pending. dur is the
// BlockDuration in ticks, or -1.
func (a *assembler) frames(b *mkv.Block, id mkv.ID, offset int64, key bool, dur int64) {
	f := a.f(offset)
	t := a.trackOf(f, b.Track)
	if t == nil {
		if len(f.Tracks) >= a.opts.maxTracks {
			a.overBudget(offset, id, ErrTooManyTracks)
			return
		}
		f.Tracks = append(f.Tracks, Track{Track: mkv.Track{Number: b.Track}})
		t = &f.Tracks[len(f.Tracks)-1]
		a.track = nil // the append may have moved the TrackEntry being read
	}
	a.blockID = id
	t.Blocks++
	timing := mkv.Timing(b, a.clusterTC, a.scale, t.DefaultDuration, dur)
	// Two loops, not one with tests on a.direct per frame: that costs
	// NextEvent about 2% (BenchmarkRatio/Streaming).
	if a.direct {
		a.sizeFrames(f)
		for i, data := range b.Frames {
			if len(f.Frames) >= a.opts.maxFrames {
				a.overBudget(offset, id, ErrTooManyFrames)
				return
			}
			t.Frames++
			if key {
				t.Keyframes++
			}
			fr := grow(&f.Frames)
			fr.Track, fr.Keyframe, fr.Invisible, fr.Discardable = b.Track, key, b.Invisible, b.Discardable
			fr.Timestamp, fr.Duration, fr.Offset, fr.Size = timing.Time(i), timing.Duration, offset, len(data)
		}
		return
	}
	for i, data := range b.Frames {
		t.Frames++
		if key {
			t.Keyframes++
		}
		fr := grow(&a.pending)
		fr.Track, fr.Keyframe, fr.Invisible, fr.Discardable = b.Track, key, b.Invisible, b.Discardable
		fr.Timestamp, fr.Duration, fr.Offset, fr.Size, fr.Data = timing.Time(i), timing.Duration, offset, len(data), data
	}
}

// opens tells whether f's FragmentStartEvent is still to be reported,
// and notes that it is reported now.
func (a *assembler) opens(f *Fragment) bool {
	if f == nil || a.opened == f {
		return false
	}
	a.opened = f
	return true
}

// grow extends *s by one Frame and returns it, for the caller to set field
// by field: appending a Frame literal copies it whole, with the bookkeeping
// of its pointer, for every frame.
func grow(s *[]Frame) *Frame {
	n := len(*s)
	if n == cap(*s) {
		*s = append(*s, Frame{})
	}
	*s = (*s)[:n+1]
	return &(*s)[n]
}

// sizeFrames gives f room for as many frames as the last fragment had,
// and an eighth more, within the budget.
func (a *assembler) sizeFrames(f *Fragment) {
	if f.Frames == nil && a.hintFrames > 0 {
		f.Frames = make([]Frame, 0, min(a.hintFrames+a.hintFrames/8, a.opts.maxFrames))
	}
}

// trackOf returns the track of f numbered n (the first, if several are),
// or nil: a linear search among a few tracks, a map look-up among more.
// Tracks are indexed once complete, when a block needs them, so a track's
// number is final when it is indexed.
func (a *assembler) trackOf(f *Fragment, n uint64) *Track {
	const few = 8
	if len(f.Tracks) <= few {
		return f.Track(n)
	}
	if a.byNumber == nil {
		a.byNumber = make(map[uint64]int, 2*few)
	}
	for ; a.indexed < len(f.Tracks); a.indexed++ {
		t := &f.Tracks[a.indexed]
		if &t.Track == a.track {
			break // the TrackEntry being read
		}
		if _, ok := a.byNumber[t.Number]; !ok {
			a.byNumber[t.Number] = a.indexed
		}
	}
	if i, ok := a.byNumber[n]; ok {
		return &f.Tracks[i]
	}
	return nil
}

// newFragment makes f the fragment being read, with fresh budgets.
func (a *assembler) newFragment(f *Fragment) {
	a.frag = f
	a.tags, a.held, a.indexed = 0, 0, 0
	clear(a.byNumber)
}

// f returns the fragment being read, starting a unit if the input has
// elements before any EBML header, or a continued fragment if the unit's
// fragment was completed early.
func (a *assembler) f(offset int64) *Fragment {
	if !a.unit {
		a.beginUnit(offset)
	}
	if a.frag == nil {
		f := &Fragment{Index: a.index, Offset: offset, Continued: true, TimecodeScale: a.scale}
		if l := a.last; l != nil {
			f.Number = l.Number
			f.HasCluster, f.ClusterTimestamp = l.HasCluster, l.ClusterTimestamp
			for _, t := range l.Tracks {
				t.Blocks, t.Frames, t.Keyframes = 0, 0, 0
				f.Tracks = append(f.Tracks, t)
			}
		}
		a.newFragment(f)
	}
	return a.frag
}

func (a *assembler) beginUnit(offset int64) {
	a.unit, a.unitStart = true, offset
	a.index++
	a.hasSegment, a.sawCluster, a.tokenSeen = false, false, false
	a.scale = mkv.DefaultTimecodeScale
	a.clusterTC, a.clusters = 0, 0
	a.track = nil
	a.tagStack = a.tagStack[:0]
	a.group.Reset()
	a.last = nil
	a.newFragment(&Fragment{Index: a.index, Offset: offset, TimecodeScale: a.scale})
}

func (a *assembler) endUnit(offset int64) {
	if a.frag != nil {
		a.complete(offset, false)
	}
	a.unit = false
}

// complete hands the fragment being read to the caller.
func (a *assembler) complete(end int64, partial bool) {
	f := a.frag
	f.Size = end - f.Offset
	f.Partial = partial
	if f.Err != nil {
		f.Err.FragmentNumber = f.Number
	}
	a.last, a.frag, a.done = f, nil, f
	a.track = nil
	if len(f.Tags) > 0 {
		a.hintTags = len(f.Tags)
	}
	if len(f.Tracks) > 0 {
		a.hintTracks = len(f.Tracks)
	}
}
