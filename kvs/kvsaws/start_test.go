package kvsaws_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// TestStartAt follows from a fragment number as Amazon Connect hands it
// out: StartAt's selector begins with that fragment, where
// FRAGMENT_NUMBER begins with the next one; a number the stream does not
// have is an error.
func TestStartAt(t *testing.T) {
	srv := kvstest.NewServer()
	t.Cleanup(srv.Close)
	numbers := srv.AddStream("call", kvstest.StreamConfig{Fragments: 6, Call: kvsgen.ConnectCall})
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	first := func(sel kvsaws.StartSelector) tags.FragmentNumber {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for ev, err := range c.FollowFrames(ctx, "call", sel) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind == kvs.FragmentStartEvent {
				// The tags before the Cluster are there before any frame.
				if _, ok := ev.Fragment.Tag(kvsgen.TagContactID); !ok || ev.Fragment.Tracks == nil {
					t.Errorf("fragment %s starts without its ContactId or its tracks: %+v", ev.Fragment.Number, ev.Fragment.Tags)
				}
				return ev.Fragment.Number
			}
		}
		t.Fatal("the follow ended without a fragment")
		return ""
	}
	for _, i := range []int{0, 3, 5} {
		sel, err := c.StartAt(context.Background(), "call", numbers[i])
		if err != nil {
			t.Fatal(err)
		}
		if got := first(sel); got != numbers[i] {
			t.Errorf("StartAt(fragment %d) begins with %s, want %s", i, got, numbers[i])
		}
	}
	if got := first(kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtFragmentNumber, AfterFragmentNumber: numbers[3]}); got != numbers[4] {
		t.Errorf("FRAGMENT_NUMBER of fragment 3 begins with %s, want fragment 4, %s", got, numbers[4])
	}
	_, err := c.StartAt(context.Background(), "call", "91343852333181432392682062607743920146159169999")
	var fe *tags.FragmentError
	if !errors.As(err, &fe) {
		t.Errorf("StartAt of a fragment the stream does not have: %v, want a *tags.FragmentError", err)
	}
}
