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

func newLimits() limits {
	return limits{
		rates: map[API]int{}, calls: map[rateKey][]time.Time{},
		// KVS's documented connection limits per stream.
		conns:  map[API]int{GetMedia: 3, GetMediaForFragmentList: 5},
		active: map[rateKey]int{}, total: map[API]int{}, peak: map[API]int{}, requests: map[API]int{},
	}
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

// release gives back a connection acquire took. Call it with s.mu held.
func (l *limits) release(api API, stream string) {
	l.active[rateKey{api, stream}]--
	l.total[api]--
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
