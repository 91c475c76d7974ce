package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kvsmkv/kvsmkv/internal/atomicfile"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, content := range []string{"first", "second, longer"} {
		if err := atomicfile.WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files left in the directory, want only the file", len(entries))
	}
	if !atomicfile.IsTemp(".f.json.tmp-123") || atomicfile.IsTemp("f.json") || atomicfile.IsTemp("000001.frag") {
		t.Error("IsTemp does not tell temporary files from others")
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
