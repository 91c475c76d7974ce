package kvstest

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/atomicfile"
	"github.com/kvsmkv/kvsmkv/tags"
)

// The layout of a data directory:
//
//	DIR/streams/<hex of the stream name>/stream.json   the stream
//	DIR/streams/<hex of the stream name>/<seq>.frag    one per fragment
//
// A fragment file is a line of JSON (its metadata and the sizes of its
// parts) followed by the parts. Every file is written to a temporary file,
// synced, and renamed into place, and the directory synced, before the
// fragment is acknowledged PERSISTED: a fragment so acknowledged survives
// the process being killed.

type streamFile struct {
	Name      string
	Created   time.Time
	Retention time.Duration
	Live      bool
	// Numbers is the stream's range of fragment numbers.
	Numbers int
	Tags    map[string]string `json:",omitempty"`
}

type fragmentFile struct {
	Seq                     int
	Number                  tags.FragmentNumber
	Producer, Server        time.Time
	Timecode                int64
	Duration                time.Duration
	Header, Pre, Body, Post int
}

// saveStream creates the directory of a new stream in dataDir, if there is
// one, and its stream.json. Call it with Server.mu held.
func saveStream(dataDir string, st *stream) error {
	if dataDir == "" {
		return nil
	}
	st.dir = filepath.Join(dataDir, "streams", hex.EncodeToString([]byte(st.name)))
	if err := os.RemoveAll(st.dir); err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	if err := os.MkdirAll(st.dir, 0o755); err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	return saveStreamFile(st)
}

// saveStreamFile writes a stream's stream.json, if it is kept on disk:
// when it is created and when its retention or tags change. Call it with
// Server.mu held.
func saveStreamFile(st *stream) error {
	if st.dir == "" {
		return nil
	}
	st.mu.Lock()
	sf := streamFile{Name: st.name, Created: st.created, Retention: st.retention, Live: st.live, Numbers: st.numbers, Tags: st.tags}
	st.mu.Unlock()
	b, err := json.Marshal(sf)
	if err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	return writeFileSync(st.dir, "stream.json", b)
}

// persist writes a complete fragment to the stream's directory, if it has
// one, and returns once it is on disk.
func persist(st *stream, f *fragment) error {
	if st.dir == "" {
		return nil
	}
	meta, err := json.Marshal(fragmentFile{
		Seq: f.seq, Number: f.number, Producer: f.producer, Server: f.server, Timecode: f.timecode,
		Duration: f.duration, Header: len(f.header), Pre: len(f.pre), Body: len(f.body), Post: len(f.post),
	})
	if err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	b := make([]byte, 0, len(meta)+1+int(f.size()))
	b = append(append(append(b, meta...), '\n'), f.header...)
	b = append(append(append(b, f.pre...), f.body...), f.post...)
	return writeFileSync(st.dir, fmt.Sprintf("%012d.frag", f.seq), b)
}

// writeFileSync writes name in dir atomically and durably.
func writeFileSync(dir, name string, b []byte) error {
	if err := atomicfile.WriteFile(filepath.Join(dir, name), b); err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	return nil
}

// removeStreamDir deletes a stream's directory, if it has one.
func removeStreamDir(st *stream) error {
	if st.dir == "" {
		return nil
	}
	if err := os.RemoveAll(st.dir); err != nil {
		return fmt.Errorf("kvstest: %w", err)
	}
	return nil
}

// loadStream reads a stream's directory: stream.json and its fragments in
// order. Temporary files left by a kill are removed.
func loadStream(dir string) (*stream, error) {
	b, err := os.ReadFile(filepath.Join(dir, "stream.json"))
	if err != nil {
		return nil, fmt.Errorf("kvstest: %w", err)
	}
	var sf streamFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("kvstest: %s: %w", dir, err)
	}
	st := newStream(sf.Name, sf.Retention, sf.Numbers)
	st.created, st.live, st.dir, st.tags = sf.Created, sf.Live, dir, sf.Tags
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("kvstest: %w", err)
	}
	var names []string
	for _, e := range entries {
		switch {
		case atomicfile.IsTemp(e.Name()):
			os.Remove(filepath.Join(dir, e.Name()))
		case strings.HasSuffix(e.Name(), ".frag"):
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, name := range names {
		f, err := loadFragment(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		st.index[f.number] = len(st.frags)
		st.frags = append(st.frags, f)
		st.nextSeq = f.seq + 1
	}
	return st, nil
}

func loadFragment(path string) (*fragment, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kvstest: %w", err)
	}
	defer file.Close()
	r := bufio.NewReader(file)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("kvstest: %s: %w", path, err)
	}
	var m fragmentFile
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("kvstest: %s: %w", path, err)
	}
	f := &fragment{
		seq: m.Seq, number: m.Number, producer: m.Producer, server: m.Server, timecode: m.Timecode,
		duration: m.Duration, done: true, persisted: true,
	}
	for _, p := range []struct {
		to *[]byte
		n  int
	}{{&f.header, m.Header}, {&f.pre, m.Pre}, {&f.body, m.Body}, {&f.post, m.Post}} {
		if p.n < 0 || p.n > maxFragmentSize*2 {
			return nil, fmt.Errorf("kvstest: %s: invalid part size", path)
		}
		*p.to = make([]byte, p.n)
		if _, err := io.ReadFull(r, *p.to); err != nil {
			return nil, fmt.Errorf("kvstest: %s: %w", path, err)
		}
	}
	return f, nil
}
