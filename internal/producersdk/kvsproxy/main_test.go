package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// syncBuffer is a log the proxy's handler goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// putMediaBody is a body as the C SDK writes it, cut down: some bytes, a
// Cluster with Timecode tc, a block's worth of bytes, the end-of-fragment
// marker, more bytes. It returns the marker's offset.
func putMediaBody(tc int64) ([]byte, int) {
	var b []byte
	b = append(b, []byte("\x1a\x45\xdf\xa3 header")...)
	b = append(b, clusterPrefix...)
	b = binary.BigEndian.AppendUint64(b, uint64(tc))
	b = append(b, bytes.Repeat([]byte{0xA3, 0x42}, 100)...)
	at := len(b)
	b = append(b, eofrMarker...)
	b = append(b, []byte("after")...)
	return b, at
}

func TestBodyTee(t *testing.T) {
	const tc = 1796526238090
	body, at := putMediaBody(tc)
	for _, tt := range []struct {
		name string
		r    func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte a read", iotest.OneByteReader},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var log syncBuffer
			p := newProxy(&url.URL{}, "", "", &log)
			f, err := os.Create(filepath.Join(t.TempDir(), "body.mkv"))
			if err != nil {
				t.Fatal(err)
			}
			tee := &bodyTee{p: p, id: 7, r: io.NopCloser(tt.r(bytes.NewReader(body))), f: f}
			if _, err := io.Copy(io.Discard, tee); err != nil {
				t.Fatal(err)
			}
			if err := tee.Close(); err != nil {
				t.Fatal(err)
			}
			saved, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(saved, body) {
				t.Errorf("saved %d bytes, want the %d of the body", len(saved), len(body))
			}
			want := fmt.Sprintf("#7 request body: end-of-fragment marker after Cluster %d at byte %d\n", tc, at)
			if got := log.String(); strings.Count(got, "end-of-fragment") != 1 || !strings.Contains(got, want) {
				t.Errorf("log:\n%s\nwant one line ending %q", got, want)
			}
		})
	}
}

// chunks is a reader that returns its slices one per Read.
type chunks [][]byte

func (c *chunks) Read(p []byte) (int, error) {
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*c)[0])
	(*c)[0] = (*c)[0][n:]
	if len((*c)[0]) == 0 {
		*c = (*c)[1:]
	}
	return n, nil
}

func TestAckLoggerOneLinePerRead(t *testing.T) {
	var log syncBuffer
	in := chunks{[]byte("{\"EventType\":\"BUFFERING\"}\n{\"EventType\":\"RECEIVED\"}\n{\"Event"), []byte("Type\":\"PERSISTED\"}\n"), []byte("{\"EventType\":\"IDLE\"}")}
	a := &ackLogger{p: newProxy(&url.URL{}, "", "", &log), id: 3, r: io.NopCloser(&in)}
	var got []string
	buf := make([]byte, 1024)
	for {
		n, err := a.Read(buf)
		if n > 0 {
			got = append(got, string(buf[:n]))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"{\"EventType\":\"BUFFERING\"}\n", "{\"EventType\":\"RECEIVED\"}\n", "{\"EventType\":\"PERSISTED\"}\n", "{\"EventType\":\"IDLE\"}"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reads %q, want %q", got, want)
	}
	if n := strings.Count(log.String(), "#3 ack {"); n != 4 {
		t.Errorf("log has %d ack lines, want 4:\n%s", n, log.String())
	}
}

func TestProxy(t *testing.T) {
	body, _ := putMediaBody(1000)
	emu := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/getDataEndpoint":
			fmt.Fprintf(w, `{"DataEndpoint": "http://%s/ep/1"}`, r.Context().Value(http.LocalAddrContextKey))
		case "/ep/1/putMedia":
			if c := r.Header.Get("Connection"); c != "keep-alive" {
				t.Errorf("emulator got Connection %q, want keep-alive (the C SDK signs it)", c)
			}
			got, err := io.ReadAll(r.Body)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("emulator got %d bytes, %v; want the %d of the body", len(got), err, len(body))
			}
			fmt.Fprintln(w, `{"EventType":"PERSISTED","FragmentTimecode":1000}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer emu.Close()
	tu, err := url.Parse(emu.URL)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var log syncBuffer
	p := newProxy(tu, "http://proxy.test", dir, &log)
	srv := httptest.NewServer(p)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/getDataEndpoint", "application/json", strings.NewReader(`{"StreamName": "s", "APIName": "PUT_MEDIA"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"DataEndpoint": "http://proxy.test/ep/1"}`; string(b) != want {
		t.Errorf("GetDataEndpoint through the proxy: %s, want %s", b, want)
	}

	req, err := http.NewRequest("POST", srv.URL+"/ep/1/putMedia", io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "keep-alive")
	req.Header.Set("Expect", "100-continue")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"EventType\":\"PERSISTED\",\"FragmentTimecode\":1000}\n"; string(b) != want {
		t.Errorf("PutMedia acks through the proxy: %q, want %q", b, want)
	}
	saved, err := os.ReadFile(filepath.Join(dir, "putmedia-2.mkv"))
	if err != nil || !bytes.Equal(saved, body) {
		t.Errorf("saved body: %d bytes, %v; want the %d sent", len(saved), err, len(body))
	}
	if !strings.Contains(log.String(), "#2 ack {\"EventType\":\"PERSISTED\"") {
		t.Errorf("log has no PutMedia ack line:\n%s", log.String())
	}
}
