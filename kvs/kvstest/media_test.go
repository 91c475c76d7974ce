package kvstest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// frame is a frame as the tests compare them.
type frame struct {
	Track uint64
	Key   bool
	Data  string
}

// source is an MKV file for a producer: fragments of perFragment video
// frames at fps (a keyframe first, so one Cluster each), with audio blocks
// between them when audio is set, its frames absolute in time from start.
type source struct {
	path   string
	bytes  []byte
	frames [][]frame // per Cluster
	// blockEnds are the offsets just past each block, per Cluster.
	blockEnds [][]int64
}

func writeSource(t testing.TB, fragments, perFragment, fps int, audio bool, start time.Time) *source {
	t.Helper()
	tracks := []mkv.Track{{Number: 1, Type: mkv.VideoTrack, CodecID: "V_MPEG4/ISO/AVC", CodecPrivate: []byte{1, 0x42, 0, 0x1e, 0xff, 0xe1, 0}, DefaultDuration: time.Second / time.Duration(fps), Width: 160, Height: 96}}
	if audio {
		tracks = append(tracks, mkv.Track{Number: 2, Type: mkv.AudioTrack, CodecID: "A_AAC", CodecPrivate: []byte{0x11, 0x90}, SamplingRate: 48000, Channels: 2})
	}
	path := filepath.Join(t.TempDir(), "source.mkv")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mkv.NewWriter(file, mkv.WriterOptions{Tracks: tracks})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Duration(start.UnixMilli()) * time.Millisecond
	for i := range fragments * perFragment {
		at := base + time.Duration(i)*time.Second/time.Duration(fps)
		data := make([]byte, 200+i%50)
		for j := range data {
			data[j] = byte(i*7 + j)
		}
		if err := w.WriteFrame(1, at, i%perFragment == 0, data); err != nil {
			t.Fatal(err)
		}
		if audio {
			if err := w.WriteFrame(2, at+time.Millisecond, true, data[:40]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readSource(t, path, b)
}

// readSource reads the Clusters and blocks of an MKV file.
func readSource(t testing.TB, path string, b []byte) *source {
	t.Helper()
	s := &source{path: path, bytes: b}
	d := mkv.NewDecoder(bytesReader(b))
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Kind == mkv.Start && ev.ID == mkv.IDCluster:
			s.frames = append(s.frames, nil)
			s.blockEnds = append(s.blockEnds, nil)
		case ev.Kind == mkv.BlockKind:
			n := len(s.frames) - 1
			for _, f := range ev.Block.Frames {
				s.frames[n] = append(s.frames[n], frame{ev.Block.Track, ev.Block.Keyframe, string(f)})
			}
			s.blockEnds[n] = append(s.blockEnds[n], d.InputOffset())
		}
	}
	return s
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b} }

// fragmentFrames reads whole fragments from a media body.
func fragmentFrames(t testing.TB, body io.Reader) ([]*kvs.Fragment, [][]frame) {
	t.Helper()
	var frags []*kvs.Fragment
	var frames [][]frame
	for f, err := range kvs.NewReader(body).All() {
		if err != nil {
			t.Fatal(err)
		}
		frags = append(frags, f)
		frames = append(frames, framesOf(f))
	}
	return frags, frames
}

func framesOf(f *kvs.Fragment) []frame {
	var out []frame
	for _, fr := range f.Frames {
		out = append(out, frame{fr.Track, fr.Keyframe, string(fr.Data)})
	}
	return out
}

// fetch reads fragments of a stream with GetMediaForFragmentList.
func fetch(t testing.TB, srv *kvstest.Server, stream string, numbers []kvsaws.FragmentInfo) ([]*kvs.Fragment, [][]frame) {
	t.Helper()
	in := &kvsaws.GetMediaForFragmentListInput{StreamName: stream}
	for _, f := range numbers {
		in.Fragments = append(in.Fragments, f.FragmentNumber)
	}
	out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMediaForFragmentList(context.Background(), srv.URL(), in)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	return fragmentFrames(t, out.Payload)
}

// putMedia starts a PutMedia request with a plain http.Client, signed as
// the KVS C producer signs it, and returns its response.
func putMedia(t testing.TB, srv *kvstest.Server, stream string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/putMedia", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header.Set("x-amzn-stream-name", stream)
	req.Header.Set("x-amzn-fragment-timecode-type", "ABSOLUTE")
	req.Header.Set("x-amzn-producer-start-timestamp", "1511852108.5")
	creds, _ := srv.Config().Credentials.Retrieve(context.Background())
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, empty, kvsaws.SigningName, kvstest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Config().HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PutMedia: %s %s", resp.Status, b)
	}
	return resp
}

// ackReader reads acks from a PutMedia response.
type ackReader struct{ sc *bufio.Scanner }

func (r *ackReader) next(t testing.TB) kvstest.Ack {
	t.Helper()
	for r.sc.Scan() {
		var a kvstest.Ack
		if err := json.Unmarshal(r.sc.Bytes(), &a); err != nil {
			t.Fatalf("ack %q: %v", r.sc.Text(), err)
		}
		if a.EventType != kvstest.EventIdle {
			return a
		}
	}
	t.Fatalf("acks ended: %v", r.sc.Err())
	return kvstest.Ack{}
}

// checkAcks checks that acks are BUFFERING, RECEIVED and PERSISTED for each
// of n fragments, in order, numbers increasing, and returns the numbers.
func checkAcks(t testing.TB, acks []kvstest.Ack, n int) []string {
	t.Helper()
	var numbers []string
	var want, got []string
	var last tags.FragmentNumber
	for _, a := range acks {
		if a.EventType == kvstest.EventIdle {
			continue
		}
		got = append(got, a.EventType)
		if a.EventType == kvstest.EventPersisted {
			if a.FragmentNumber.Compare(last) <= 0 {
				t.Errorf("fragment number %s after %s", a.FragmentNumber, last)
			}
			last = a.FragmentNumber
			numbers = append(numbers, string(a.FragmentNumber))
		}
	}
	for range n {
		want = append(want, kvstest.EventBuffering, kvstest.EventReceived, kvstest.EventPersisted)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("acks mismatch (-want +got):\n%s", diff)
	}
	return numbers
}

func isAckError(err error, id int) bool {
	var ae *kvstest.AckError
	return errors.As(err, &ae) && ae.Ack.ErrorID == id
}
