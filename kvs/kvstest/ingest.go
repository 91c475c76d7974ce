package kvstest

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

// putSink adds the fragments PutMedia cuts to a stream, and acknowledges
// them.
type putSink struct {
	s   *Server
	st  *stream
	ack func(Ack)
	// size is the body size of the last fragment: the next one's body
	// is made that large at once, not grown a block at a time.
	size int
}

func (p *putSink) begin(f *fragment) error {
	st := p.st
	st.mu.Lock()
	if st.deleted {
		st.mu.Unlock()
		return &ingestError{ErrorIDStreamDeleted, "the stream was deleted"}
	}
	f.body = slices.Grow(f.body, p.size+p.size/8)
	f.server = time.Now().Truncate(time.Millisecond)
	if n := len(st.frags); n > 0 && !f.server.After(st.frags[n-1].server) {
		f.server = st.frags[n-1].server.Add(time.Millisecond) // server timestamps increase
	}
	st.add(f)
	st.mu.Unlock()
	p.ack(Ack{EventType: EventBuffering, FragmentTimecode: f.timecode, FragmentNumber: f.number})
	return nil
}

func (p *putSink) grow(f *fragment, elem []byte) error {
	st := p.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.deleted {
		return &ingestError{ErrorIDStreamDeleted, "the stream was deleted"}
	}
	f.body = append(f.body, elem...)
	st.notify()
	return nil
}

func (p *putSink) finish(f *fragment) error {
	st := p.st
	st.mu.Lock()
	p.size = len(f.body)
	f.done = true
	st.notify()
	st.mu.Unlock()
	p.ack(Ack{EventType: EventReceived, FragmentTimecode: f.timecode, FragmentNumber: f.number})
	st.mu.Lock()
	retention := st.retention
	st.mu.Unlock()
	if retention <= 0 {
		return nil
	}
	if err := persist(st, f); err != nil {
		return &ingestError{ErrorIDPersistenceFailed, err.Error()}
	}
	st.mu.Lock()
	f.persisted = true
	st.notify()
	st.mu.Unlock()
	p.ack(Ack{EventType: EventPersisted, FragmentTimecode: f.timecode, FragmentNumber: f.number})
	return nil
}

// putMedia serves PutMedia: it reads the MKV body as it comes, cuts it into
// fragments at Clusters and acknowledges each, flushed as it happens, until
// the body ends, fails or idles past the limit. The body faults, slowness
// and connection limit set for PutMedia apply to the request body as it is
// read.
func (s *Server) putMedia(w http.ResponseWriter, r *http.Request) {
	name, arn := r.Header.Get("x-amzn-stream-name"), r.Header.Get("x-amzn-stream-arn")
	if (name == "") == (arn == "") {
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "specify either x-amzn-stream-name or x-amzn-stream-arn, not both")
		return
	}
	relative := false
	switch strings.ToUpper(r.Header.Get("x-amzn-fragment-timecode-type")) {
	case "", "ABSOLUTE":
	case "RELATIVE":
		relative = true
	default:
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE")
		return
	}
	start := time.Now()
	if v := r.Header.Get("x-amzn-producer-start-timestamp"); v != "" {
		t, ok := parseStartTimestamp(v)
		if !ok {
			writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "invalid x-amzn-producer-start-timestamp")
			return
		}
		start = t
	}
	acks := true
	switch r.Header.Get("x-amzn-fragment-acknowledgment-required") {
	case "", "1":
	case "0":
		acks = false
	default:
		writeError(w, http.StatusBadRequest, kvsaws.CodeInvalidArgument, "x-amzn-fragment-acknowledgment-required must be 0 or 1")
		return
	}
	st := s.lookup(w, name, arn)
	if st == nil {
		return
	}
	s.mu.Lock()
	if !s.limits.acquire(PutMedia, st.name) {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, kvsaws.CodeConnectionLimitExceeded, "too many PutMedia connections to the stream")
		return
	}
	plan, slow := s.faults.planBody(&s.mu, PutMedia, st.name), s.faults.slowness(PutMedia, st.name)
	s.mu.Unlock()
	defer s.releaseConnection(PutMedia, st.name)

	rc := http.NewResponseController(w)
	rc.EnableFullDuplex() // HTTP/1.1: acks go out while the body comes in
	if strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		// Go's server sends 100 Continue on the body's first read only
		// until the response starts, and the 200 goes out first: without
		// it curl waits a second before sending the body.
		w.WriteHeader(http.StatusContinue)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	var line []byte
	// ack writes one ack and flushes it, one HTTP chunk each: the C
	// producer's parser takes only the first ack of each piece curl hands
	// it, and drops the rest.
	ack := func(a Ack) {
		if !acks {
			return
		}
		line = appendAck(line[:0], a)
		w.Write(line)
		rc.Flush()
	}
	st.mu.Lock()
	st.live, st.lastIngest = true, time.Now()
	st.mu.Unlock()

	seg := newSegmenter(&putSink{s: s, st: st, ack: ack}, true, relative, start, dropEndOfFragment)
	fail := func(err error) {
		var cur Ack
		if f := seg.cur; f != nil {
			st.mu.Lock()
			f.aborted = true
			st.notify()
			st.mu.Unlock()
			cur = Ack{FragmentTimecode: f.timecode, FragmentNumber: f.number}
		}
		var ie *ingestError
		if err != nil && errors.As(err, &ie) {
			cur.EventType, cur.ErrorID = EventError, ie.id
			ack(cur)
		}
	}

	// The body is read ahead into two buffers in turn: one is decoded
	// while the next read fills the other, and neither is made again.
	size := 32 << 10
	if slow.chunk > 0 {
		size = slow.chunk
	}
	chunks, free := make(chan []byte), make(chan []byte, 2)
	free <- make([]byte, size)
	free <- make([]byte, size)
	readErr, done := make(chan error, 1), make(chan struct{})
	defer close(done)
	go func() {
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-done:
				return
			}
			n, err := r.Body.Read(buf)
			if n > 0 {
				select {
				case chunks <- buf[:n]:
				case <-done:
					return
				}
			} else {
				free <- buf
			}
			if err != nil {
				readErr <- err
				return
			}
			if slow.chunk > 0 {
				select {
				case <-time.After(slow.delay):
				case <-done:
					return
				}
			}
		}
	}()
	lim := s.liveLimits()
	tick := time.NewTicker(lim.IdleAck)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case buf := <-chunks:
			last = time.Now()
			st.mu.Lock()
			st.lastIngest = last
			st.mu.Unlock()
			b, stop := plan.next(buf)
			if err := seg.Write(b); err != nil {
				fail(err)
				return
			}
			free <- buf[:cap(buf)] // the segmenter keeps what it needs
			switch stop {
			case CutBody:
				fail(nil)
				panic(http.ErrAbortHandler) // drop the connection
			case EndBody:
				if err := seg.Close(); err != nil {
					fail(err)
				}
				return
			}
		case err := <-readErr:
			if err == io.EOF {
				err = seg.Close()
			}
			if err != nil {
				fail(err) // a broken body is no MKV error: no ack
			}
			return
		case <-tick.C:
			idle := time.Since(last)
			if idle >= lim.PutMediaIdle {
				fail(nil)
				return
			}
			if idle >= lim.IdleAck {
				ack(Ack{EventType: EventIdle})
			}
		case <-r.Context().Done():
			fail(nil)
			return
		}
	}
}

// parseStartTimestamp reads x-amzn-producer-start-timestamp: seconds since
// the epoch, then optionally "." and milliseconds as an integer, the way
// the C producer writes it ("%llu.%llu" of s and ms, not zero-padded:
// "1796525882.5" is 5 ms past the second).
func parseStartTimestamp(v string) (time.Time, bool) {
	secs, ms, dot := strings.Cut(v, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, false
	}
	var milli int64
	if dot {
		if milli, err = strconv.ParseInt(ms, 10, 64); err != nil || milli < 0 || milli > 999 {
			return time.Time{}, false
		}
	}
	return time.UnixMilli(sec*1000 + milli), true
}
