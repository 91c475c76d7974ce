// Command kvsproxy is a logging reverse proxy for watching a KVS client, such
// as AWS's C producer SDK, talk to kvsemu. It logs every request (method,
// path, all headers, transfer encoding, JSON body) and response (status,
// headers, body; for PutMedia each ack with its arrival time), saves each
// PutMedia body to DIR/putmedia-N.mkv as it streams, notes the C SDK's
// end-of-fragment markers in those bodies, and rewrites GetDataEndpoint
// answers so that data-plane calls also come through the proxy. The Host
// header is passed unchanged, so SigV4 signatures still verify at the
// emulator.
//
//	kvsproxy -listen 127.0.0.1:0 -target http://127.0.0.1:4567 -dir /tmp/capture
//
// The first line it prints is "listening on URL"; port 0 picks a free port.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:4580", "address to listen on (port 0 picks one)")
	target := flag.String("target", "http://127.0.0.1:4567", "emulator URL")
	dir := flag.String("dir", ".", "directory for PutMedia bodies")
	flag.Parse()
	tu, err := url.Parse(*target)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	p := newProxy(tu, "http://"+ln.Addr().String(), *dir, os.Stdout)
	p.logf("listening on %s", p.self)
	log.Fatal(http.Serve(ln, p))
}

// proxy forwards to the emulator at target and logs to out.
type proxy struct {
	target *url.URL
	self   string // the proxy's own URL, put in GetDataEndpoint answers
	dir    string
	rp     *httputil.ReverseProxy
	start  time.Time
	seq    atomic.Int64
	mu     sync.Mutex // serialises out
	out    io.Writer
}

func newProxy(target *url.URL, self, dir string, out io.Writer) *proxy {
	p := &proxy{target: target, self: self, dir: dir, start: time.Now(), out: out}
	p.rp = httputil.NewSingleHostReverseProxy(target)
	// Acks must reach the client as they come.
	p.rp.FlushInterval = -1
	p.rp.Transport = keepConnection{http.DefaultTransport}
	p.rp.ModifyResponse = p.modifyResponse
	return p
}

func (p *proxy) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "%9.1fms ", float64(time.Since(p.start).Microseconds())/1000)
	fmt.Fprintf(p.out, format, args...)
	fmt.Fprintln(p.out)
}

type idKey struct{}

type connKey struct{}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := p.seq.Add(1)
	p.logf("#%d %s %s %s host=%s content-length=%d transfer-encoding=%v%s", id, r.Method, r.URL.RequestURI(), r.Proto, r.Host,
		r.ContentLength, r.TransferEncoding, headers(r.Header))
	if strings.HasSuffix(r.URL.Path, "/putMedia") {
		f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("putmedia-%d.mkv", id)))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		r.Body = &bodyTee{p: p, id: id, r: r.Body, f: f}
		// Acks go out while the body still comes in; without full duplex
		// Go's server cuts the request body once the response started.
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			p.logf("#%d full duplex: %v", id, err)
		}
	} else if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			p.logf("#%d request body: %v", id, err)
		}
		p.logf("#%d request body %s", id, b)
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	ctx := context.WithValue(r.Context(), idKey{}, id)
	ctx = context.WithValue(ctx, connKey{}, r.Header.Get("Connection"))
	p.rp.ServeHTTP(w, r.WithContext(ctx))
	p.logf("#%d done", id)
}

func (p *proxy) modifyResponse(resp *http.Response) error {
	id, _ := resp.Request.Context().Value(idKey{}).(int64)
	p.logf("#%d response %s%s", id, resp.Status, headers(resp.Header))
	if strings.HasSuffix(resp.Request.URL.Path, "/putMedia") && resp.StatusCode == http.StatusOK {
		resp.Body = &ackLogger{p: p, id: id, r: resp.Body}
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if strings.HasSuffix(resp.Request.URL.Path, "/getDataEndpoint") {
		b = bytes.ReplaceAll(b, []byte(strings.TrimSuffix(p.target.String(), "/")), []byte(p.self))
		resp.Header.Del("Content-Length")
		resp.ContentLength = int64(len(b))
	}
	p.logf("#%d response body %s", id, b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// keepConnection fixes up what ReverseProxy and Go's transport change in a
// request the C SDK signed.
type keepConnection struct{ rt http.RoundTripper }

func (k keepConnection) RoundTrip(r *http.Request) (*http.Response, error) {
	// ReverseProxy drops hop-by-hop headers, but the C SDK signs
	// "connection" (and transfer-encoding, which Go's transport sends
	// again for a chunked body): put Connection back.
	if c, _ := r.Context().Value(connKey{}).(string); c != "" {
		r.Header.Set("Connection", c)
	}
	// The proxy's own server already answered the client's Expect; Go's
	// transport would not send the body after a 200 that comes before
	// "100 Continue".
	r.Header.Del("Expect")
	return k.rt.RoundTrip(r)
}

func headers(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "\n      %s: %s", k, v)
		}
	}
	return b.String()
}

// clusterPrefix is how the C SDK starts a Cluster: unknown size, then an
// 8-byte Timecode whose value follows.
var clusterPrefix = []byte{0x1F, 0x43, 0xB6, 0x75, 0xFF, 0xE7, 0x88}

// eofrMarker is the C SDK's end-of-fragment Tags element, byte for byte: a
// Tag whose SimpleTag is named AWS_KINESISVIDEO_END_OF_FRAGMENT with an
// empty TagString, every size 8 bytes long.
var eofrMarker = func() []byte {
	size := func(id []byte, n int) []byte {
		return append(append([]byte{}, id...), 0x01, 0, 0, 0, 0, 0, 0, byte(n))
	}
	name := []byte("AWS_KINESISVIDEO_END_OF_FRAGMENT")
	b := size([]byte{0x12, 0x54, 0xC3, 0x67}, 72)
	b = append(b, size([]byte{0x73, 0x73}, 62)...)
	b = append(b, size([]byte{0x67, 0xC8}, 52)...)
	b = append(b, size([]byte{0x45, 0xA3}, len(name))...)
	b = append(b, name...)
	return append(b, size([]byte{0x44, 0x87}, 0)...)
}()

// bodyTee copies a streamed PutMedia body to a file and logs its end and
// the end-of-fragment markers in it, with the Timecode of the Cluster
// before each.
type bodyTee struct {
	p         *proxy
	id        int64
	r         io.ReadCloser
	f         *os.File
	n         int64
	closed    bool
	clusterSc []byte // unscanned tail for clusterPrefix
	eofrSc    []byte // unscanned tail for eofrMarker
	lastTC    int64
}

func (t *bodyTee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		if _, werr := t.f.Write(p[:n]); werr != nil {
			t.p.logf("#%d saving the body: %v", t.id, werr)
		}
		t.scan(p[:n])
		t.n += int64(n)
	}
	if err != nil {
		t.p.logf("#%d request body read ended after %d bytes: %v", t.id, t.n, err)
	}
	return n, err
}

// scan finds Cluster starts and end-of-fragment markers across reads; t.n
// is the body offset of b.
func (t *bodyTee) scan(b []byte) {
	t.clusterSc = append(t.clusterSc, b...)
	for {
		i := bytes.Index(t.clusterSc, clusterPrefix)
		if i < 0 {
			t.clusterSc = append([]byte(nil), t.clusterSc[max(0, len(t.clusterSc)-len(clusterPrefix)+1):]...)
			break
		}
		if i+len(clusterPrefix)+8 > len(t.clusterSc) {
			t.clusterSc = append([]byte(nil), t.clusterSc[i:]...)
			break
		}
		var tc int64
		for _, c := range t.clusterSc[i+len(clusterPrefix) : i+len(clusterPrefix)+8] {
			tc = tc<<8 | int64(c)
		}
		t.lastTC = tc
		t.clusterSc = t.clusterSc[i+len(clusterPrefix)+8:]
	}
	end := t.n + int64(len(b)) // body offset just after b
	t.eofrSc = append(t.eofrSc, b...)
	for {
		i := bytes.Index(t.eofrSc, eofrMarker)
		if i < 0 {
			t.eofrSc = append([]byte(nil), t.eofrSc[max(0, len(t.eofrSc)-len(eofrMarker)+1):]...)
			break
		}
		at := end - int64(len(t.eofrSc)) + int64(i)
		t.eofrSc = t.eofrSc[i+len(eofrMarker):]
		t.p.logf("#%d request body: end-of-fragment marker after Cluster %d at byte %d", t.id, t.lastTC, at)
	}
}

func (t *bodyTee) Close() error {
	if !t.closed {
		t.closed = true
		t.p.logf("#%d request body closed, %d bytes saved to %s", t.id, t.n, t.f.Name())
		if err := t.f.Close(); err != nil {
			t.p.logf("#%d saving the body: %v", t.id, err)
		}
	}
	return t.r.Close()
}

// ackLogger logs each ack line of a PutMedia response and hands the proxy
// at most one ack line per Read, so that with FlushInterval -1 each ack
// leaves the proxy in its own HTTP chunk, as kvsemu writes them: the C SDK
// reads only the first ack of each chunk curl hands it (PIC AckParser.c),
// and Go's chunked reader may join chunks that arrived together.
type ackLogger struct {
	p       *proxy
	id      int64
	r       io.ReadCloser
	pending []byte
	err     error
}

func (a *ackLogger) Read(p []byte) (int, error) {
	for a.err == nil && bytes.IndexByte(a.pending, '\n') < 0 {
		buf := make([]byte, 32<<10)
		n, err := a.r.Read(buf)
		a.pending = append(a.pending, buf[:n]...)
		if err != nil {
			a.err = err
			a.p.logf("#%d response body ended: %v (pending %q)", a.id, err, a.pending)
		}
	}
	if len(a.pending) == 0 {
		return 0, a.err
	}
	line := a.pending
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i+1]
	}
	n := copy(p, line)
	if s := strings.TrimSpace(string(p[:n])); s != "" {
		a.p.logf("#%d ack %s", a.id, s)
	}
	a.pending = a.pending[n:]
	return n, nil
}

func (a *ackLogger) Close() error { return a.r.Close() }
