package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvsmkv/kvsmkv/internal/awstest"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestKeyframes follows an emulator stream of real H.264 from the start and
// gets one image per keyframe (one per fragment), each decodable, named by
// fragment number and wall clock.
func TestKeyframes(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("cam", kvstest.StreamConfig{Fragments: 3, Media: true})
	awstest.EmulatorEnv(t)
	dir := t.TempDir()
	var stderr bytes.Buffer
	if code := run([]string{"-endpoint", srv.URL(), "-stream", "cam", "-from", "earliest", "-n", "3", "-out", dir}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("%d files, want 3: %v", len(files), files)
	}
	_, haveFFmpeg := exec.LookPath("ffmpeg")
	for i, f := range files {
		if !strings.HasPrefix(f.Name(), string(numbers[i])+"-2017") {
			t.Errorf("file %d is %s, want fragment %s and its wall clock", i, f.Name(), numbers[i])
		}
		path := filepath.Join(dir, f.Name())
		if haveFFmpeg != nil {
			if filepath.Ext(path) != ".h264" {
				t.Errorf("without ffmpeg: %s, want .h264", path)
			}
			continue
		}
		if filepath.Ext(path) != ".jpg" {
			t.Errorf("%s, want a JPEG", path)
		}
		out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) == "" {
			t.Errorf("ffprobe %s: %v %s", path, err, out)
		}
	}
}
