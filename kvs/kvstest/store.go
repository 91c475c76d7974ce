package kvstest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
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
	name    string
	created time.Time
	// retention changes with UpdateDataRetention, under both Server.mu and
	// mu: read it under either.
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
	// nextSeq numbers the next fragment; numbers is the stream's range of
	// fragment numbers (see fragmentNumber).
	nextSeq, numbers int

	// What DescribeStream tells of the stream, and its data endpoint's
	// epoch, which MoveEndpoint advances: guarded by Server.mu.
	device, mediaType, kmsKeyID, version string
	epoch                                int
	// tags are the stream's own tags (CreateStream, TagStream).
	tags map[string]string
}

func newStream(name string, retention time.Duration, numbers int) *stream {
	return &stream{
		name: name, created: time.Now(), retention: retention, numbers: numbers,
		index: map[tags.FragmentNumber]int{}, changed: make(chan struct{}),
	}
}

// firstNumber, numberStep and rangeStep make fragment numbers like KVS's:
// 47 decimal digits, consecutive fragments of a stream differing by 2^92
// and streams 2^124 apart, so that every stream has its own numbers (room
// for 2^32 fragments a stream and some 10^8 streams below 10^47).
var firstNumber, numberStep, rangeStep = func() (*big.Int, *big.Int, *big.Int) {
	n, _ := new(big.Int).SetString(kvsgen.Generator{}.FragmentNumber(0), 10)
	return n, new(big.Int).Lsh(big.NewInt(1), 92), new(big.Int).Lsh(big.NewInt(1), 124)
}()

// fragmentNumber is the number of fragment seq of the stream whose range
// is numbers: range 0 numbers as kvsgen's generator does.
func fragmentNumber(numbers, seq int) tags.FragmentNumber {
	n := new(big.Int).Mul(rangeStep, big.NewInt(int64(numbers)))
	n.Add(n, new(big.Int).Mul(numberStep, big.NewInt(int64(seq))))
	return tags.FragmentNumber(n.Add(n, firstNumber).String())
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
	f.number = fragmentNumber(st.numbers, f.seq)
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

// registry is the emulator's streams by name, guarded by Server.mu: the
// one place a stream is looked up, by the data plane, the control plane
// and the faults alike.
type registry struct {
	byName map[string]*stream
	// version numbers the streams' versions; ranges counts the ranges of
	// fragment numbers given out.
	version, ranges int
}

// newStream makes a stream with a range of fragment numbers of its own.
func (r *registry) newStream(name string, retention time.Duration) *stream {
	r.ranges++
	return newStream(name, retention, r.ranges-1)
}

// get returns the stream called name, or nil.
func (r *registry) get(name string) *stream { return r.byName[name] }

// put adds st, replacing any stream of its name, as a new stream of the
// control plane: a new version, the default KMS key, the first data
// endpoint.
func (r *registry) put(st *stream, mediaType string) {
	st.mediaType, st.device = mediaType, ""
	st.kmsKeyID = "arn:aws:kms:" + Region + ":" + AccountID + ":alias/aws/kinesisvideo"
	r.newVersion(st)
	st.created = st.created.UTC().Truncate(time.Millisecond)
	st.epoch = 1
	r.byName[st.name] = st
}

// newVersion gives st a new version, as every change of it does.
func (r *registry) newVersion(st *stream) {
	r.version++
	st.version = fmt.Sprintf("KVSMKV%014d", r.version)
}

// remove removes the stream called name, and returns it (nil if none).
func (r *registry) remove(name string) *stream {
	st := r.byName[name]
	delete(r.byName, name)
	return st
}

// streamInfo is the StreamInfo shape; nil strings are written as the
// service writes absent members, null.
type streamInfo struct {
	CreationTime           json.Number
	DataRetentionInHours   int
	DeviceName             *string
	IngestionConfiguration *struct{}
	KmsKeyID               string `json:"KmsKeyId"`
	MediaType              *string
	Status                 string
	StreamARN              string
	StreamName             string
	Version                string
}

// info is what DescribeStream tells of a stream; s.mu is held.
func (st *stream) info(ts *timestamps) streamInfo {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return streamInfo{
		CreationTime: ts.number(tags.FromTime(st.created)), DataRetentionInHours: int(st.retention / time.Hour),
		DeviceName: opt(st.device), KmsKeyID: st.kmsKeyID, MediaType: opt(st.mediaType),
		Status: "ACTIVE", StreamARN: st.arn(), StreamName: st.name, Version: st.version,
	}
}

// arn is a stream's ARN in KVS's format, ending in its creation time in
// epoch milliseconds.
func (st *stream) arn() string {
	return fmt.Sprintf("arn:aws:kinesisvideo:%s:%s:stream/%s/%d", Region, AccountID, st.name, st.created.UnixMilli())
}
