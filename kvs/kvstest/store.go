package kvstest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// Errors of the stream store, for errors.Is.
var (
	// ErrStreamExists means a stream of that name exists already.
	ErrStreamExists = errors.New("kvstest: stream exists")
	// ErrNoStream means no stream has that name.
	ErrNoStream = errors.New("kvstest: stream not found")
	// ErrStreamName means a name is not a valid KVS stream name (1 to 256
	// of a-z, A-Z, 0-9, '_', '.' and '-').
	ErrStreamName = errors.New("kvstest: invalid stream name")
)

// fragment is one fragment of a stream: its metadata and what GetMedia and
// GetMediaForFragmentList render of it. A generated fragment is rendered by
// its Generator; an ingested one is kept as the producer's bytes, which KVS
// serves unchanged, cut in the parts around which it writes its tags.
type fragment struct {
	seq      int // position in the stream, from 0; its number derives from it
	number   tags.FragmentNumber
	producer time.Time
	server   time.Time
	// timecode is the Cluster's Timecode as the producer wrote it, in its
	// TimecodeScale ticks: the FragmentTimecode of PutMedia's acks.
	timecode int64
	duration time.Duration

	// gen and genIndex render a generated fragment: unit genIndex of gen.
	gen      *kvsgen.Generator
	genIndex int
	genSize  int64

	// The parts of an ingested fragment: the EBML header, the Segment's
	// start, Info and Tracks (shared by the fragments of one Segment); the
	// producer's Tags before the Cluster; the Cluster's children, growing
	// while the fragment is ingested; the producer's Tags after it.
	header, pre, body, post []byte

	// done is set when the fragment is complete, persisted when it is
	// stored (listed, and served by GetMediaForFragmentList), aborted when
	// its ingest failed: it is then neither.
	done, persisted, aborted bool
}

// size is the FragmentSizeInBytes: the bytes the producer sent of it.
func (f *fragment) size() int64 {
	if f.gen != nil {
		return f.genSize
	}
	return int64(len(f.header) + len(f.pre) + clusterHeaderSize + len(f.body) + len(f.post))
}

func (f *fragment) info() kvsaws.FragmentInfo {
	return kvsaws.FragmentInfo{
		FragmentNumber:               f.number,
		FragmentSizeInBytes:          f.size(),
		ProducerTimestamp:            tags.FromTime(f.producer),
		ServerTimestamp:              tags.FromTime(f.server),
		FragmentLengthInMilliseconds: f.duration.Milliseconds(),
	}
}

// clusterHeaderSize is the size of the unknown-size Cluster header the
// emulator writes: a 4-byte ID and an 8-byte size.
const clusterHeaderSize = 12

// head returns an ingested fragment's unit up to its Cluster's children:
// EBML header, Segment, Info, Tracks, the producer's Tags, the KVS tags
// (with GetMediaForFragmentList's spellings when side is set), and the
// Cluster's header, of unknown size as KVS writes it.
func (f *fragment) head(side bool) []byte {
	b := append([]byte(nil), f.header...)
	b = append(b, f.pre...)
	serverName, producerName := "SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"
	if side {
		serverName, producerName = "SERVER_SIDE_TIMESTAMP", "PRODUCER_SIDE_TIMESTAMP"
	}
	b = mkv.AppendTags(b, 0, []mkv.SimpleTag{
		{Name: tags.NameFragmentNumber, Value: string(f.number)},
		{Name: tags.Prefix + serverName, Value: tags.FromTime(f.server).Text()},
		{Name: tags.Prefix + producerName, Value: tags.FromTime(f.producer).Text()},
	})
	return mkv.AppendHeader(b, mkv.IDCluster, mkv.UnknownSize, 8)
}

// tail returns what follows an ingested fragment's Cluster: the producer's
// Tags, and for GetMedia the MILLIS_BEHIND_NOW and CONTINUATION_TOKEN tags.
func (f *fragment) tail(getMedia bool, behind int64) []byte {
	b := append([]byte(nil), f.post...)
	if getMedia {
		b = mkv.AppendTags(b, 0, []mkv.SimpleTag{
			{Name: tags.Prefix + "MILLIS_BEHIND_NOW", Value: strconv.FormatInt(behind, 10)},
			{Name: tags.Prefix + "CONTINUATION_TOKEN", Value: string(f.number)},
		})
	}
	return b
}

// unit returns a complete fragment's whole unit, as GetMediaForFragmentList
// (side spellings) or GetMedia (trailing tags, behind ms behind now) write it.
func (f *fragment) unit(getMedia bool, behind int64) []byte {
	if f.gen != nil {
		c := *f.gen
		c.SideSpelling = !getMedia
		c.GetMedia = getMedia
		c.MillisBehindNow = func(int) int64 { return behind }
		return c.Unit(f.genIndex)
	}
	b := f.head(!getMedia)
	b = append(b, f.body...)
	return append(b, f.tail(getMedia, behind)...)
}

// stream is a stream of fragments, complete ones and at most one being
// ingested (the last).
type stream struct {
	name      string
	created   time.Time
	retention time.Duration
	// dir is where the stream is kept on disk, or "" when in memory.
	dir string

	mu    sync.Mutex
	frags []*fragment
	index map[tags.FragmentNumber]int
	// changed is closed, and replaced, whenever frags or a fragment of it
	// changes: live readers wait on it.
	changed chan struct{}
	// live is set on streams that take PutMedia (created empty, or
	// ingested into): GetMedia at their end waits for more, up to the idle
	// limit. Generated streams and streams from files are archives.
	live       bool
	lastIngest time.Time
	deleted    bool
	// nextSeq numbers the next fragment.
	nextSeq int

	// What DescribeStream tells of the stream, and its data endpoint's
	// epoch, which MoveEndpoint advances: guarded by Server.mu.
	device, mediaType, kmsKeyID, version string
	epoch                                int
}

func newStream(name string, retention time.Duration) *stream {
	return &stream{
		name: name, created: time.Now(), retention: retention,
		index: map[tags.FragmentNumber]int{}, changed: make(chan struct{}),
	}
}

// notify wakes the live readers. Call it with st.mu held.
func (st *stream) notify() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// add appends a fragment, numbering it. Call it with st.mu held.
func (st *stream) add(f *fragment) {
	f.seq = st.nextSeq
	st.nextSeq++
	f.number = tags.FragmentNumber(kvsgen.Generator{}.FragmentNumber(f.seq))
	st.index[f.number] = len(st.frags)
	st.frags = append(st.frags, f)
	st.notify()
}

// list returns the metadata of the persisted fragments, in order.
func (st *stream) list() []kvsaws.FragmentInfo {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []kvsaws.FragmentInfo
	for _, f := range st.frags {
		if f.persisted {
			out = append(out, f.info())
		}
	}
	return out
}

// persistedFragment returns the persisted fragment numbered n, or nil.
func (st *stream) persistedFragment(n tags.FragmentNumber) *fragment {
	st.mu.Lock()
	defer st.mu.Unlock()
	if i, ok := st.index[n]; ok && st.frags[i].persisted {
		return st.frags[i]
	}
	return nil
}

// validStreamName reports whether name is a KVS StreamName: the model's
// pattern [a-zA-Z0-9_.-]+, 1 to 256 characters (a regexp of it compiles
// 256 copies of the class, thousands of allocations at start-up).
func validStreamName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// CreateStream creates an empty stream that takes PutMedia, keeping its
// fragments for retention (KVS's DataRetentionInHours; fragments of a
// stream with no retention are served live by GetMedia but neither
// persisted nor listed, and PutMedia sends no PERSISTED acks for them).
// With a data directory the stream is kept on disk.
func (s *Server) CreateStream(name string, retention time.Duration) error {
	if !validStreamName(name) {
		return ErrStreamName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.createLocked(name, retention)
	return err
}

// createLocked creates an empty stream that takes PutMedia; s.mu is held.
func (s *Server) createLocked(name string, retention time.Duration) (*stream, error) {
	if s.streams.get(name) != nil {
		return nil, ErrStreamExists
	}
	st := newStream(name, retention)
	st.live = true
	if err := s.saveStream(st); err != nil {
		return nil, err
	}
	s.streams.put(st, "video/h264")
	return st, nil
}

// DeleteStream deletes a stream and its fragments, from disk too. PutMedia
// into it ends with an ERROR ack (4008), and live GetMedia of it ends.
func (s *Server) DeleteStream(name string) error {
	s.mu.Lock()
	st := s.streams.remove(name)
	s.mu.Unlock()
	if st == nil {
		return ErrNoStream
	}
	st.mu.Lock()
	st.deleted = true
	st.notify()
	st.mu.Unlock()
	return removeStreamDir(st)
}

// registry is the emulator's streams by name, guarded by Server.mu: the
// one place a stream is looked up, by the data plane, the control plane
// and the faults alike.
type registry struct {
	byName map[string]*stream
	// version numbers the streams' versions.
	version int
}

// get returns the stream called name, or nil.
func (r *registry) get(name string) *stream { return r.byName[name] }

// put adds st, replacing any stream of its name, as a new stream of the
// control plane: a new version, the default KMS key, the first data
// endpoint.
func (r *registry) put(st *stream, mediaType string) {
	r.version++
	st.mediaType, st.device = mediaType, ""
	st.kmsKeyID = "arn:aws:kms:" + Region + ":" + AccountID + ":alias/aws/kinesisvideo"
	st.version = fmt.Sprintf("KVSMKV%014d", r.version)
	st.created = st.created.UTC().Truncate(time.Millisecond)
	st.epoch = 1
	r.byName[st.name] = st
}

// remove removes the stream called name, and returns it (nil if none).
func (r *registry) remove(name string) *stream {
	st := r.byName[name]
	delete(r.byName, name)
	return st
}

// streamNamed returns the stream called name, or nil.
func (s *Server) streamNamed(name string) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams.get(name)
}

// AddStreamFromFile adds a stream whose fragments are the Clusters of the
// MKV file at path, one fragment per Cluster, replacing any stream of that
// name. Fragments are numbered as KVS numbers them; their producer
// timestamps are their Cluster times, taken as relative to the start of
// the stream when they are before 2001 (files that start at 0), so that
// the stream ends now; their server timestamps are the times they would
// have arrived at, had the file been produced in real time until now. The
// stream is an archive until PutMedia adds to it, kept in the data
// directory if there is one, with a retention of 24 hours.
func (s *Server) AddStreamFromFile(name, path string) error {
	if !validStreamName(name) {
		return ErrStreamName
	}
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	defer file.Close()
	var c collector
	seg := newSegmenter(&c, false, false, time.Time{})
	buf := make([]byte, 256<<10)
	for {
		n, err := file.Read(buf)
		if n > 0 {
			if err := seg.Write(buf[:n]); err != nil {
				return fmt.Errorf("kvstest: %s: %w", path, err)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("kvstest: %w", err)
		}
	}
	if err := seg.Close(); err != nil {
		return fmt.Errorf("kvstest: %s: %w", path, err)
	}

	now := time.Now().Truncate(time.Millisecond)
	st := newStream(name, 24*time.Hour)
	if len(c.frags) > 0 {
		lastEnd := c.frags[len(c.frags)-1].producer.Add(c.frags[len(c.frags)-1].duration)
		shift := time.Duration(0)
		if lastEnd.Before(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)) {
			shift = now.Sub(lastEnd)
			lastEnd = now
		}
		for i, f := range c.frags {
			f.producer = f.producer.Add(shift).Truncate(time.Millisecond)
			f.server = now.Add(-lastEnd.Sub(f.producer))
			if i > 0 && !f.server.After(c.frags[i-1].server) {
				f.server = c.frags[i-1].server.Add(time.Millisecond)
			}
			f.persisted = true
			st.add(f)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.saveStream(st); err != nil {
		return err
	}
	for _, f := range st.frags {
		if err := s.persist(st, f); err != nil {
			return err
		}
	}
	s.streams.put(st, "video/h264")
	return nil
}

// collector keeps the fragments a segmenter cuts from a file.
type collector struct{ frags []*fragment }

func (c *collector) begin(f *fragment) error { c.frags = append(c.frags, f); return nil }

func (c *collector) grow(f *fragment, elem []byte) error {
	f.body = append(f.body, elem...)
	return nil
}

func (c *collector) finish(f *fragment) error { f.done = true; return nil }

// StreamConfig describes a generated stream. Zero fields take the defaults
// in their comments.
type StreamConfig struct {
	// Fragments is the number of fragments (default 10).
	Fragments int
	// FragmentDuration is each fragment's length (default 2s).
	FragmentDuration time.Duration
	// FPS and VideoBitrate shape the video (defaults 30 and 1,000,000).
	FPS, VideoBitrate int
	// Audio adds an audio track.
	Audio bool
	// Start is the producer timestamp of the first fragment (default
	// 2017-11-28T06:55:08.513Z).
	Start time.Time
	// Media makes the frames decodable H.264 and AAC (Generator.Media)
	// instead of counting bytes of the VideoBitrate.
	Media bool
}

// AddStream adds a stream of generated fragments, replacing any stream of
// that name, and returns their fragment numbers in order. A generated
// stream is an archive: GetMedia ends at its end, unless PutMedia adds to
// it. It is kept in memory only.
func (s *Server) AddStream(name string, c StreamConfig) []tags.FragmentNumber {
	g := kvsgen.Generator{
		Fragments: c.Fragments, FragmentDuration: c.FragmentDuration, FPS: c.FPS, VideoBitrate: c.VideoBitrate,
		Audio: c.Audio, Start: c.Start, ProducerTags: true, Media: c.Media,
	}
	if g.Fragments == 0 {
		g.Fragments = 10
	}
	if g.VideoBitrate == 0 {
		g.VideoBitrate = 1_000_000
	}
	if g.FragmentDuration == 0 {
		g.FragmentDuration = 2 * time.Second
	}
	st := newStream(name, 24*time.Hour)
	var numbers []tags.FragmentNumber
	for i := range g.Fragments {
		p, sv := g.Times(i)
		st.add(&fragment{
			producer: time.Unix(0, int64(p)), server: time.Unix(0, int64(sv)), duration: g.FragmentDuration,
			gen: &g, genIndex: i, genSize: int64(len(g.Unit(i))), done: true, persisted: true,
		})
		numbers = append(numbers, st.frags[i].number)
	}
	s.mu.Lock()
	s.streams.put(st, "video/h264")
	s.mu.Unlock()
	return numbers
}

// Fragments returns the metadata of a stream's persisted fragments, in
// order, or nil when there is no such stream.
func (s *Server) Fragments(name string) []kvsaws.FragmentInfo {
	st := s.streamNamed(name)
	if st == nil {
		return nil
	}
	return st.list()
}
