// Package kvs reads Amazon Kinesis Video Streams media — the payload of
// GetMedia and GetMediaForFragmentList — incrementally, and hands out one
// Fragment per unit of the response (an EBML header and its Segment), with
// its number, timestamps, in-band error, all of its tags and its frames,
// correctly paired, as the bytes arrive.
//
// Read whole fragments:
//
//	r := kvs.NewReader(resp.Payload)
//	for f, err := range r.All() {
//		if err != nil {
//			return err // cut off (errors.Is(err, io.ErrUnexpectedEOF)) or malformed
//		}
//		if f.Err != nil {
//			log.Printf("fragment %s: %v", f.Number, f.Err) // in-band error: data, not failure
//			continue
//		}
//		for _, fr := range f.Frames {
//			use(f.WallClock(&fr), fr.Track, fr.Keyframe, fr.Data)
//		}
//	}
//
// or stream frames without ever holding a fragment's frames, with
// NextEvent or Events: each fragment's start with the tags that came
// before its Cluster (to decide what to do with it before any frame), each
// frame as soon as its block is read, and each fragment's end with the
// tags that came after its Cluster.
//
// Every unit is a fragment, including units without a Cluster (error units,
// empty fragments) and units without KVS tags; the last one is delivered at
// the end of input, and a GetMedia fragment as soon as its trailing
// CONTINUATION_TOKEN tags arrive. Input cut off inside a unit delivers that
// fragment's complete frames and tags, marked Partial, then the error.
//
// # Frame bytes
//
// One rule for every reader of this module, kvsaws's client included:
// frame bytes are lent, never given. Frame.Data, however it is reached —
// a Fragment of Next or All, an Event of NextEvent, Events or a
// PushReader's handler, a fragment or event of kvsaws's Follow,
// FollowFrames, GetFragments or FetchRange — is a slice of memory the
// reader reuses: valid until the next call of the reader, that is until
// the loop body of an iterator or the handler returns, so that reading
// allocates nothing per frame; an Event and the Frame it points to are
// lent the same way. A Fragment itself, its Tags, its Tracks and the
// Frames list of Next are the caller's. To keep frame bytes past that
// point, copy them at the call: f.Clone() for a fragment and all its
// frames, bytes.Clone(fr.Data) for one frame. No option changes this.
//
// Damage is data. The reader verifies every CRC-32 element a producer
// wrote (KVS starts every Cluster of GetMedia output with one, and the
// other masters of each unit), as the bytes pass, in every reading mode;
// a mismatch is a Damage record on the fragment (Fragment.Damage, with the
// element, its offset and both CRCs; errors.Is(d, mkv.ErrChecksum)), and
// reading goes on. Fragment.State sums a fragment up: Intact, Partial (the
// input ended inside it) or Damaged. Frames handed out by NextEvent or a
// PushReader come before their Cluster ends, when its CRC-32 is checked:
// those of a damaged Cluster were unverified, and the FragmentEvent says
// so. WithoutCRC turns the check off. WithResync makes a malformed unit
// (an invalid ID or size, an element past its parent, a Segment that is
// not one, junk between units) a Damage record too: what was complete of
// the fragment is delivered, and reading resumes at the next EBML header
// that validates, the bytes skipped counted (Damage.Skipped,
// Reader.Skipped). Unknown sizes limit what can be told: bytes after a
// unit whose Segment has unknown size are inside that Segment as far as
// the format goes, so junk after a unit that a CONTINUATION_TOKEN did not
// close (an error unit, GetMediaForFragmentList output) damages it.
//
// No added latency: a frame is handed out as soon as the bytes of its block
// are in. The decoder underneath makes one Read when it needs bytes and
// decodes whatever that Read returned; it never waits to fill its buffer,
// and nothing is held back for the element that follows. On loopback, a
// frame written by a live GetMedia reaches a FollowFrames loop in about
// 0.4 ms (p99 about 1 ms; BenchmarkFollowLatency in bench/).
package kvs
