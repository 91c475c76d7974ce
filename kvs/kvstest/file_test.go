package kvstest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
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
