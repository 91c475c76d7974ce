package kvsaws

import (
	"context"
	"fmt"

	"github.com/kvsmkv/kvsmkv/tags"
)

// StartAt returns a start selector with which GetMedia, Follow and
// FollowFrames begin with fragment n itself, where FRAGMENT_NUMBER begins
// with the fragment after it: what a consumer handed Amazon Connect's
// StartFragmentNumber (the first fragment of a contact) needs. It reads
// the fragment's server timestamp from its tags with
// GetMediaForFragmentList and selects by it, SERVER_TIMESTAMP beginning
// with the fragment that has that timestamp. A fragment the stream does
// not have is an error wrapping the in-band *tags.FragmentError.
//
// Fragments of equal server timestamps are not told apart: a follow that
// must not see one before n compares fragment numbers (every fragment of
// a stream has a greater number than those before it). A number handed
// out while its fragment is still being produced may not be served by
// GetMediaForFragmentList yet, and comes back as that error: try again
// after a fragment's duration.
func (c *Client) StartAt(ctx context.Context, stream string, n tags.FragmentNumber) (StartSelector, error) {
	for f, err := range c.GetFragments(ctx, stream, []tags.FragmentNumber{n}) {
		switch {
		case err != nil:
			return StartSelector{}, err
		case f.Err != nil:
			return StartSelector{}, fmt.Errorf("kvsaws: fragment %s of %s: %w", n, stream, f.Err)
		case f.ServerTimestamp.IsZero():
			return StartSelector{}, fmt.Errorf("kvsaws: fragment %s of %s has no server timestamp", n, stream)
		}
		return StartSelector{StartSelectorType: StartAtServerTimestamp, StartTimestamp: f.ServerTimestamp}, nil
	}
	return StartSelector{}, fmt.Errorf("kvsaws: fragment %s of %s: GetMediaForFragmentList returned nothing", n, stream)
}
