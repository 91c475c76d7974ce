package kvsaws_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// newCRCPlane is newPlane with Clusters that start with a CRC-32, as
// GetMedia writes them.
func newCRCPlane(n int) *plane {
	g := kvsgen.Generator{Fragments: n, GetMedia: true, FPS: 10, VideoBitrate: 40_000, FragmentDuration: 500e6, Audio: true, KnownSizeCluster: true, CRC: true}
	p := &plane{}
	for i := range n {
		p.units = append(p.units, g.Unit(i))
		p.number = append(p.number, tags.FragmentNumber((kvsgen.Generator{}).FragmentNumber(i)))
	}
	return p
}

// flipFrame returns a plan that flips a byte inside the n-th block of unit
// u, which its Cluster's CRC-32 covers, in the servings for which when
// returns true.
func flipFrame(t *testing.T, p *plane, u, n int, when func(call int) bool) func(call, first int, body []byte) []byte {
	off := blockOffset(t, p, u, n, func(ev *mkv.Event) int64 { return ev.DataOffset() + ev.Size - 1 })
	return patch(p, off, when, func(b byte) byte { return b ^ 0xFF })
}

// TestFollowDamaged serves fragment 5 with a frame byte flipped under its
// Cluster's CRC-32. Damaged once, the follow asks for it again and
// delivers the good copy: every fragment once, intact. Damaged every time,
// it counts towards MaxFailures: a *FollowError wrapping the *kvs.Damage
// after MaxFailures sessions, or, with SkipFailing, fragment 5 delivered
// with its Damage and the follow going on.
func TestFollowDamaged(t *testing.T) {
	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}
	follow := func(p *plane, opts func(o *kvsaws.FollowOptions)) (got []string, err error) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for f, err := range scripted(p).Follow(ctx, "cam", start, opts) {
			if err != nil {
				return got, err
			}
			got = append(got, fmt.Sprintf("%d %s %v", f.Index, f.Number, f.State()))
			if len(got) == len(p.units) {
				break
			}
		}
		return got, nil
	}
	want := func(p *plane, damaged int) []string {
		var w []string
		for i := range p.units {
			s := kvs.Intact
			if i == damaged {
				s = kvs.Damaged
			}
			w = append(w, fmt.Sprintf("%d %s %v", i, p.number[i], s))
		}
		return w
	}

	p := newCRCPlane(8)
	p.plan = flipFrame(t, p, 5, 2, func(call int) bool { return call == 0 })
	got, err := follow(p, func(o *kvsaws.FollowOptions) { o.MaxFailures = 3 })
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want(p, -1)) {
		t.Errorf("damaged once:\n got %v, %v\nwant %v", got, err, want(p, -1))
	}
	if p.calls != 2 {
		t.Errorf("damaged once: %d GetMedia calls, want 2", p.calls)
	}

	p = newCRCPlane(8)
	p.plan = flipFrame(t, p, 5, 2, func(int) bool { return true })
	got, err = follow(p, func(o *kvsaws.FollowOptions) { o.MaxFailures = 3 })
	var ferr *kvsaws.FollowError
	var d *kvs.Damage
	if !errors.As(err, &ferr) || !errors.As(err, &d) || !errors.Is(err, mkv.ErrChecksum) || ferr.Fragment != p.number[5] || ferr.Failures != 3 || len(got) != 5 {
		t.Fatalf("damaged every time: %d fragments, error %v; want 5 and a *FollowError wrapping a CRC-32 mismatch", len(got), err)
	}
	if d.ID != mkv.IDCluster || d.Offset != ferr.Offset {
		t.Errorf("damaged every time: damage %+v, FollowError offset %d; want the Cluster's", d, ferr.Offset)
	}
	if p.calls != 3 {
		t.Errorf("damaged every time: %d GetMedia calls, want 3", p.calls)
	}

	p = newCRCPlane(8)
	p.plan = flipFrame(t, p, 5, 2, func(int) bool { return true })
	got, err = follow(p, func(o *kvsaws.FollowOptions) { o.MaxFailures, o.SkipFailing = 2, true })
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want(p, 5)) {
		t.Errorf("damaged every time, SkipFailing:\n got %v, %v\nwant %v", got, err, want(p, 5))
	}

	// FollowFrames: the good copy's FragmentEnd, its frames not sent twice.
	p = newCRCPlane(8)
	clean, _, _ := frameLog(t, scripted(newCRCPlane(8)), p)
	p.plan = flipFrame(t, p, 5, 2, func(call int) bool { return call == 0 })
	frames, cut, _ := frameLog(t, scripted(p), p)
	if len(cut) != 0 || len(frames) != len(clean) {
		t.Errorf("FollowFrames, damaged once: %d frames (want %d), cut %v", len(frames), len(clean), cut)
	}
}
