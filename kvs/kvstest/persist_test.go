package kvstest_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// crashDir names the data directory of the child process of TestDurability.
const crashDir = "KVSTEST_CRASH_DIR"

// TestDurability ingests in a child process that is killed with SIGKILL
// after some PERSISTED acks; the server restarted on the same data
// directory lists every fragment acknowledged PERSISTED and serves it
// byte for byte as before.
func TestDurability(t *testing.T) {
	if dir := os.Getenv(crashDir); dir != "" {
		crashChild(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurability$")
	cmd.Env = append(os.Environ(), crashDir+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sums := map[tags.FragmentNumber]string{}
	sc := bufio.NewScanner(stdout)
	for len(sums) < 5 && sc.Scan() {
		if number, sum, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "PERSISTED "), " "); ok && strings.HasPrefix(sc.Text(), "PERSISTED ") {
			sums[tags.FragmentNumber(number)] = sum
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	go io.Copy(io.Discard, stdout)
	cmd.Wait()
	if len(sums) < 5 {
		t.Fatalf("the child acknowledged %d fragments before it ended", len(sums))
	}
	// Acks the child printed after the fifth were read too late to count:
	// every fragment counted must be there.
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.OpenDataDir(dir); err != nil {
		t.Fatal(err)
	}
	listed := map[tags.FragmentNumber]bool{}
	for _, f := range srv.Fragments("cam") {
		listed[f.FragmentNumber] = true
	}
	for n, want := range sums {
		if !listed[n] {
			t.Errorf("fragment %s acknowledged PERSISTED, not listed after the restart", n)
			continue
		}
		if got := unitSum(t, srv, n); got != want {
			t.Errorf("fragment %s: served %s after the restart, %s before", n, got, want)
		}
	}
	// The stream takes PutMedia again, numbering on.
	src := writeSource(t, 2, 2, 30, false, start.Add(time.Hour))
	acks, err := kvstest.Produce(context.Background(), srv.Config(), srv.URL(), "cam", bytes.NewReader(src.bytes), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acks {
		if listed[a.FragmentNumber] {
			t.Errorf("new fragment numbered %s, as an old one", a.FragmentNumber)
		}
	}
}

// crashChild ingests a long stream into a server on dir, printing each
// fragment acknowledged PERSISTED with the SHA-256 of what
// GetMediaForFragmentList serves of it, until it is killed.
func crashChild(t *testing.T, dir string) {
	srv := kvstest.NewServer()
	defer srv.Close()
	if err := srv.OpenDataDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateStream("cam", time.Hour); err != nil {
		t.Fatal(err)
	}
	src := writeSource(t, 400, 2, 30, false, start)
	p := kvstest.Producer{Config: srv.Config(), Endpoint: srv.URL(), Stream: "cam", Speed: 4,
		OnAck: func(a kvstest.Ack) {
			if a.EventType == kvstest.EventPersisted {
				fmt.Printf("PERSISTED %s %s\n", a.FragmentNumber, unitSum(t, srv, a.FragmentNumber))
			}
		}}
	p.Produce(context.Background(), bytes.NewReader(src.bytes))
}

// unitSum returns the SHA-256 of fragment n as GetMediaForFragmentList
// serves it.
func unitSum(t testing.TB, srv *kvstest.Server, n tags.FragmentNumber) string {
	out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMediaForFragmentList(context.Background(), srv.URL(),
		&kvsaws.GetMediaForFragmentListInput{StreamName: "cam", Fragments: []tags.FragmentNumber{n}})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	h := sha256.New()
	if _, err := io.Copy(h, out.Payload); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
