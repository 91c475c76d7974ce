package kvstest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
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
	st := s.streams.newStream(name, retention)
	st.live = true
	if err := saveStream(s.dataDir, st); err != nil {
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
	seg := newSegmenter(&c, false, false, time.Time{}, dropKVSTags)
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
	s.mu.Lock()
	st := s.streams.newStream(name, 24*time.Hour)
	s.mu.Unlock()
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
	if err := saveStream(s.dataDir, st); err != nil {
		return err
	}
	for _, f := range st.frags {
		if err := persist(st, f); err != nil {
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
	// Call makes the stream a phone call's audio instead of video, as
	// Amazon Connect or the Chime SDK Voice Connector write it
	// (kvsgen.CallKind), with a second call (another ContactId or
	// TransactionId) from fragment CallChange on; a CallChange of 0 is
	// the middle of the stream, and one past its end keeps one call.
	Call       kvsgen.CallKind
	CallChange int
}

// Defaults of StreamConfig.
const (
	defaultFragments        = 10
	defaultFragmentDuration = 2 * time.Second
)

// Length returns how long the generated stream lasts: Fragments times
// FragmentDuration, defaults applied. A stream that should end at a time
// t starts at t.Add(-c.Length()).
func (c StreamConfig) Length() time.Duration {
	n, d := c.Fragments, c.FragmentDuration
	if n == 0 {
		n = defaultFragments
	}
	if d == 0 {
		d = defaultFragmentDuration
	}
	return time.Duration(n) * d
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
		g.Fragments = defaultFragments
	}
	if g.VideoBitrate == 0 {
		g.VideoBitrate = 1_000_000
	}
	if g.FragmentDuration == 0 {
		g.FragmentDuration = defaultFragmentDuration
	}
	if c.Call != kvsgen.NoCall {
		g.Call, g.CallChange = c.Call, c.CallChange
		if g.CallChange == 0 {
			g.CallChange = g.Fragments / 2
		}
	}
	s.mu.Lock()
	st := s.streams.newStream(name, 24*time.Hour)
	s.mu.Unlock()
	g.Number = func(i int) string { return string(fragmentNumber(st.numbers, i)) }
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
	s.streams.put(st, c.Call.MediaType())
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

// OpenDataDir keeps the server's streams in dir, creating it if needed, and
// loads the streams kept there. From then on every stream created with
// CreateStream or AddStreamFromFile, and every fragment persisted, is
// written to dir before it is acknowledged, so that it survives a restart,
// even after the process is killed; generated streams (AddStream) stay in
// memory. Call it before adding streams.
func (s *Server) OpenDataDir(dir string) error {
	root := filepath.Join(dir, "streams")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	var loaded []*stream
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		st, err := loadStream(filepath.Join(root, e.Name()))
		if err != nil {
			return err
		}
		loaded = append(loaded, st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataDir = dir
	for _, st := range loaded {
		s.streams.put(st, "video/h264")
		s.streams.ranges = max(s.streams.ranges, st.numbers+1)
	}
	return nil
}
