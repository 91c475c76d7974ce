package kvstest

import (
	"errors"
	"io"
	"time"
)

// Ingest returns a writer that feeds a stream from this process as a
// PutMedia body would, without HTTP: the bytes of each Write are cut into
// fragments at once (a block written is served by a live GetMedia before
// Write returns), with RELATIVE fragment timecodes from start, under
// PutMedia's rules: media PutMedia would refuse with an ERROR ack fails
// the Write, and the fragment it was in is cut off. Close ends the media,
// completing its last fragment. It sends no acks, takes none of the
// stream's PutMedia connections and has no idle limit. It is what a
// benchmark of many live streams feeds them with, so that the emulator's
// ingest costs no HTTP round trip (kvsemu -fleet).
func (s *Server) Ingest(stream string, start time.Time) (io.WriteCloser, error) {
	st := s.streamNamed(stream)
	if st == nil {
		return nil, ErrNoStream
	}
	st.mu.Lock()
	st.live, st.lastIngest = true, time.Now()
	st.mu.Unlock()
	in := &ingest{st: st}
	in.seg = newSegmenter(&putSink{s: s, st: st, ack: func(Ack) {}}, true, true, start, dropEndOfFragment)
	return in, nil
}

// errIngestClosed is the error of a Write after Close.
var errIngestClosed = errors.New("kvstest: write to a closed Ingest")

// ingest is the writer of Ingest.
type ingest struct {
	st  *stream
	seg *segmenter
	err error
}

func (in *ingest) Write(p []byte) (int, error) {
	if in.err != nil {
		return 0, in.err
	}
	in.st.mu.Lock()
	in.st.lastIngest = time.Now()
	in.st.mu.Unlock()
	if err := in.seg.Write(p); err != nil {
		in.fail(err)
		return 0, err
	}
	return len(p), nil
}

func (in *ingest) Close() error {
	if in.err != nil {
		if in.err == errIngestClosed {
			return nil
		}
		return in.err
	}
	if err := in.seg.Close(); err != nil {
		in.fail(err)
		return err
	}
	in.err = errIngestClosed
	return nil
}

// fail ends the media with err, cutting off the fragment being ingested.
func (in *ingest) fail(err error) {
	in.err = err
	if f := in.seg.cur; f != nil {
		in.st.mu.Lock()
		f.aborted = true
		in.st.notify()
		in.st.mu.Unlock()
	}
}
