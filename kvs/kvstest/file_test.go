package kvstest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/internal/corpus"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// TestAddStreamFromFile loads MKV files as streams, one fragment per
// Cluster: reading them back with GetMediaForFragmentList gives the file's
// frames, track by track, and timestamps that increase.
func TestAddStreamFromFile(t *testing.T) {
	files := []struct {
		name string
		src  func(t *testing.T) *source
	}{
		{name: "mkv.Writer", src: func(t *testing.T) *source { return writeSource(t, 5, 3, 30, true, start) }},
		{name: "mkv.Writer from 0", src: func(t *testing.T) *source { return writeSource(t, 5, 3, 30, false, time.Unix(0, 0)) }},
		{name: "ffmpeg", src: ffmpegSource},
	}
	for _, tt := range files {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src(t)
			srv := kvstest.NewServer()
			defer srv.Close()
			if err := srv.AddStreamFromFile("file", src.path); err != nil {
				t.Fatal(err)
			}
			listed := srv.Fragments("file")
			if len(listed) != len(src.frames) {
				t.Fatalf("%d fragments, want one per Cluster: %d", len(listed), len(src.frames))
			}
			now := time.Now()
			for i, f := range listed {
				if i > 0 && (f.ProducerTimestamp.Compare(listed[i-1].ProducerTimestamp) <= 0 || f.ServerTimestamp.Compare(listed[i-1].ServerTimestamp) <= 0) {
					t.Errorf("fragment %d: timestamps %s, %s do not increase", i, f.ProducerTimestamp, f.ServerTimestamp)
				}
				if f.ServerTimestamp.Time().After(now) || f.ProducerTimestamp.Time().Year() < 2001 {
					t.Errorf("fragment %d: server timestamp %s, producer %s", i, f.ServerTimestamp, f.ProducerTimestamp)
				}
			}
			frags, served := fetch(t, srv, "file", listed)
			for i, f := range frags {
				// The producer's Cluster Timecode is served as it was.
				if i > 0 && f.ClusterTimestamp <= frags[i-1].ClusterTimestamp {
					t.Errorf("fragment %d: Cluster at %v after %v", i, f.ClusterTimestamp, frags[i-1].ClusterTimestamp)
				}
			}
			if diff := cmp.Diff(perTrack(src.frames), perTrack(served)); diff != "" {
				t.Errorf("frames per track mismatch (-file +served):\n%s", diff)
			}
		})
	}
}

// perTrack gathers frames by track.
func perTrack(clusters [][]frame) map[uint64][]frame {
	out := map[uint64][]frame{}
	for _, c := range clusters {
		for _, f := range c {
			out[f.Track] = append(out[f.Track], f)
		}
	}
	return out
}

// ffmpegSource makes a file with ffmpeg: H.264 and AAC, a keyframe every
// half second.
func ffmpegSource(t *testing.T) *source {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	path := filepath.Join(t.TempDir(), "ffmpeg.mkv")
	args := []string{"-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x96:rate=30", "-f", "lavfi", "-i", "sine=sample_rate=48000",
		"-t", "3", "-c:v", "libx264", "-g", "15", "-c:a", "aac", "-cluster_time_limit", "500", path}
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make H.264 and AAC: %v: %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := readSource(t, path, b)
	if len(s.frames) < 2 || !slices.ContainsFunc(s.frames[0], func(f frame) bool { return f.Track == 2 }) {
		t.Fatalf("ffmpeg wrote %d Clusters", len(s.frames))
	}
	return s
}

// TestAddStreamFromCapture loads a GetMedia capture, whose fragments carry
// KVS's tags of 2017: each API serves the emulator's own KVS tags in their
// place, one fragment number a fragment, MILLIS_BEHIND_NOW only in
// GetMedia, and the producer's tags as they were.
func TestAddStreamFromCapture(t *testing.T) {
	path := filepath.Join(corpus.Dir(t), "output_get_media.mkv")
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.AddStreamFromFile("capture", path); err != nil {
		t.Fatal(err)
	}
	listed := srv.Fragments("capture")
	count := func(f *kvs.Fragment, name string) (n int) {
		for _, tag := range f.Tags {
			if tag.Name == name {
				n++
			}
		}
		return n
	}
	check := func(api string, frags []*kvs.Fragment, getMedia bool) {
		t.Helper()
		if len(frags) != len(listed) {
			t.Fatalf("%s: %d fragments, want %d", api, len(frags), len(listed))
		}
		behind := 0
		if getMedia {
			behind = 1
		}
		for i, f := range frags {
			if f.Number != listed[i].FragmentNumber || count(f, tags.NameFragmentNumber) != 1 || count(f, tags.NameMillisBehindNow) != behind ||
				count(f, tags.NameServerTimestamp)+count(f, tags.NameServerSideTimestamp) != 1 || !f.ServerTimestamp.Equal(listed[i].ServerTimestamp) {
				t.Errorf("%s: fragment %d (%s, listed %s): tags %v", api, i, f.Number, listed[i].FragmentNumber, f.Tags)
			}
			if v, ok := f.Tag("MAJOR_BRAND"); !ok || v != "M4V " {
				t.Errorf("%s: fragment %d: the producer's MAJOR_BRAND tag %q, %v", api, i, v, ok)
			}
		}
	}
	frags, _ := fetch(t, srv, "capture", listed)
	check("GetMediaForFragmentList", frags, false)

	out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMedia(context.Background(), srv.URL(), &kvsaws.GetMediaInput{
		StreamName: "capture", StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	frags, _ = fragmentFrames(t, out.Payload)
	check("GetMedia", frags, true)
}
