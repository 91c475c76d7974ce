package kvstest

import (
	"time"
)

// limits are the limits KVS puts on calls and the counters of calls,
// guarded by Server.mu.
type limits struct {
	// rates are calls a second per stream (or account), and calls the
	// times of the calls within the last second.
	rates map[API]int
	calls map[rateKey][]time.Time
	// conns are the bodies that may stream at once per stream; active,
	// total and peak count them.
	conns  map[API]int
	active map[rateKey]int
	total  map[API]int
	peak   map[API]int
	// requests counts the calls of each API.
	requests   map[API]int
	maxResults int
	live       LiveLimits
}

type rateKey struct {
	api    API
	stream string
}

func newLimits() limits {
	return limits{
		rates: map[API]int{}, calls: map[rateKey][]time.Time{},
		// KVS's documented connection limits per stream.
		conns:  map[API]int{GetMedia: 3, GetMediaForFragmentList: 5},
		active: map[rateKey]int{}, total: map[API]int{}, peak: map[API]int{}, requests: map[API]int{},
	}
}

// SetRateLimit makes calls of api on one stream (or, for ListStreams and
// CreateStream, on the account) fail with ClientLimitExceededException
// past perSecond calls in any one second, as KVS enforces its limits; 0
// lifts the limit. The emulator enforces no rate unless asked, so that
// tests may burst; EnforceKVSLimits sets KVS's own.
func (s *Server) SetRateLimit(api API, perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.rates[api] = perSecond
}

// EnforceKVSLimits sets the request rates KVS documents: 5 calls a second
// per stream of each stream API, 50 a second of ListStreams and
// CreateStream. (The connection limits, 3 GetMedia and 5
// GetMediaForFragmentList bodies at once, are on by default.)
func (s *Server) EnforceKVSLimits() {
	for _, api := range []API{GetDataEndpoint, ListFragments, GetMediaForFragmentList, GetMedia, PutMedia, DescribeStream, DeleteStream} {
		s.SetRateLimit(api, 5)
	}
	s.SetRateLimit(ListStreams, 50)
	s.SetRateLimit(CreateStream, 50)
}

// overRate counts a call of api on stream and returns the fault of a call
// past the rate limit, or nil. Call it with s.mu held.
func (l *limits) overRate(api API, stream string) *Fault {
	limit := l.rates[api]
	if limit <= 0 {
		return nil
	}
	k := rateKey{api, stream}
	now := time.Now()
	recent := l.calls[k]
	for len(recent) > 0 && now.Sub(recent[0]) >= time.Second {
		recent = recent[1:]
	}
	if len(recent) >= limit {
		l.calls[k] = recent
		f := Throttled(api, 1)
		return &f
	}
	l.calls[k] = append(recent, now)
	return nil
}

// LimitConnections sets how many bodies of api may stream at once on one
// stream, as KVS limits them; more fail with ConnectionLimitExceeded. The
// defaults are KVS's: 3 for GetMedia, 5 for GetMediaForFragmentList, none
// for PutMedia (KVS refuses a second PutMedia connection of a stream:
// set 1 to do the same).
func (s *Server) LimitConnections(api API, n int) {
	s.mu.Lock()
	s.limits.conns[api] = n
	s.mu.Unlock()
}

// SetMaxResults caps the page size of ListFragments below its 1000.
func (s *Server) SetMaxResults(n int) {
	s.mu.Lock()
	s.limits.maxResults = n
	s.mu.Unlock()
}

// Requests returns how many calls of api the emulator received.
func (s *Server) Requests(api API) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.requests[api]
}

// PeakConnections returns the most bodies of api that streamed at once,
// over all streams.
func (s *Server) PeakConnections(api API) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.peak[api]
}

// acquire takes one of the connections of api on stream, and reports false
// when they are all taken. Call it with s.mu held.
func (l *limits) acquire(api API, stream string) bool {
	k := rateKey{api, stream}
	if limit := l.conns[api]; limit > 0 && l.active[k] >= limit {
		return false
	}
	l.active[k]++
	l.total[api]++
	l.peak[api] = max(l.peak[api], l.total[api])
	return true
}

// release gives back a connection acquire took.
func (s *Server) release(api API, stream string) {
	s.mu.Lock()
	s.limits.active[rateKey{api, stream}]--
	s.limits.total[api]--
	s.mu.Unlock()
}

// LiveLimits bound live sessions. A zero field takes the default in its
// comment.
type LiveLimits struct {
	// GetMediaSession ends a GetMedia session this long after it started,
	// as the service ends long sessions (default 10 minutes; the client
	// resumes with the last continuation token).
	GetMediaSession time.Duration
	// GetMediaIdle ends a GetMedia session waiting at the live edge of a
	// stream that has received no data for this long (default 5 s).
	// Streams that never took PutMedia (generated ones, ones from files)
	// are archives: GetMedia ends at their end without waiting.
	GetMediaIdle time.Duration
	// PutMediaIdle ends a PutMedia request that has sent no data for this
	// long (default 30 s, KVS's); IDLE acks come every IdleAck meanwhile
	// (default 3 s).
	PutMediaIdle, IdleAck time.Duration
}

func (l LiveLimits) withDefaults() LiveLimits {
	if l.GetMediaSession <= 0 {
		l.GetMediaSession = 10 * time.Minute
	}
	if l.GetMediaIdle <= 0 {
		l.GetMediaIdle = 5 * time.Second
	}
	if l.PutMediaIdle <= 0 {
		l.PutMediaIdle = 30 * time.Second
	}
	if l.IdleAck <= 0 {
		l.IdleAck = 3 * time.Second
	}
	return l
}

// SetLiveLimits sets the limits of live GetMedia and PutMedia sessions.
func (s *Server) SetLiveLimits(l LiveLimits) {
	s.mu.Lock()
	s.limits.live = l.withDefaults()
	s.mu.Unlock()
}

func (s *Server) liveLimits() LiveLimits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.live.withDefaults()
}
