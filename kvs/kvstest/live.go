package kvstest

import (
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

// follow writes GetMedia's body: the fragments of st from index first on,
// and at the live edge of a stream that takes PutMedia, each fragment as it
// is ingested: its unit's header, Info, Tracks and the KVS tags before the
// Cluster as soon as the Cluster starts, then each of the Cluster's blocks
// as soon as it arrives, flushed, then the trailing tags once the fragment
// is complete. It ends after the session limit, when the stream has been
// idle for the idle limit, at the end of an archive, or when the client
// goes away.
func (s *Server) follow(out *mediaOut, st *stream, first int) {
	lim := s.liveLimits()
	began := time.Now()
	session := time.NewTimer(lim.GetMediaSession)
	defer session.Stop()
	// idle is set again at every wait: one timer a session, not one a
	// frame.
	var idle *time.Timer
	defer func() {
		if idle != nil {
			idle.Stop()
		}
	}()

	// wait waits for ch, the stream's change signal taken with the state
	// that made the caller wait, and reports false when the session ends.
	// It also returns true when the idle limit may have passed, so that
	// the caller looks again.
	wait := func(ch <-chan struct{}) bool {
		st.mu.Lock()
		live, last := st.live && !st.deleted, st.lastIngest
		st.mu.Unlock()
		if !live {
			return false
		}
		if last.Before(began) {
			last = began
		}
		d := time.Until(last.Add(lim.GetMediaIdle))
		if d <= 0 {
			return false
		}
		if idle == nil {
			idle = time.NewTimer(d)
		} else {
			idle.Reset(d)
		}
		select {
		case <-ch:
			return true
		case <-idle.C:
			return true
		case <-session.C:
			return false
		case <-out.r.Context().Done():
			return false
		}
	}

	for i := first; ; i++ {
		if time.Since(began) >= lim.GetMediaSession {
			return
		}
		var f *fragment
		var last int
		for f == nil {
			st.mu.Lock()
			if st.deleted {
				st.mu.Unlock()
				return
			}
			if i < len(st.frags) {
				f, last = st.frags[i], len(st.frags)-1
				st.mu.Unlock()
				break
			}
			ch := st.changed
			st.mu.Unlock()
			if !wait(ch) {
				return
			}
		}
		st.mu.Lock()
		aborted := f.aborted
		st.mu.Unlock()
		if aborted {
			continue
		}
		out.unit(f.number)
		s.mu.Lock()
		e, ok := s.faults.errorUnit(st.name, f.number)
		s.mu.Unlock()
		if ok {
			if !out.write(kvsgen.Generator{}.Error(string(f.number), e)) {
				return
			}
			out.flush()
			continue
		}
		if f.gen != nil {
			behind := int64(last-i) * f.duration.Milliseconds()
			if !out.write(f.unit(true, behind)) {
				return
			}
			out.flush()
			continue
		}
		if !out.write(f.head(false)) {
			return
		}
		out.flush()
		sent := 0
		for {
			st.mu.Lock()
			body, done, aborted, deleted, ch := f.body, f.done, f.aborted, st.deleted, st.changed
			st.mu.Unlock()
			if sent < len(body) {
				if !out.write(body[sent:]) {
					return
				}
				out.flush()
				sent = len(body)
				continue
			}
			if aborted {
				break // the unit ends cut off; the next one's EBML header ends it
			}
			if done {
				behind := max(time.Since(f.server)-f.duration, 0).Milliseconds()
				if !out.write(f.tail(true, behind)) {
					return
				}
				out.flush()
				break
			}
			if deleted || !wait(ch) {
				return
			}
		}
	}
}
