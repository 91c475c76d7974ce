// Package mkv decodes EBML and Matroska (RFC 8794, RFC 9559) incrementally,
// as bytes arrive, in bounded memory, into a flat stream of events: the start
// and end of every master element, every value decoded, every SimpleBlock
// and Block split into frames, and every skipped element.
//
// It is the engine under kvsmkv's reader of Amazon Kinesis Video Streams
// media, where a response is a concatenation of units, each an EBML header
// followed by a Segment of unknown size, with Clusters of known or unknown
// size. Unknown sizes end as RFC 8794 section 6.2 says: at an element that
// cannot be a descendant, at a new EBML header, or at the end of input.
//
// There are two doors to one state machine. A Decoder pulls from an
// io.Reader:
//
//	d := mkv.NewDecoder(r)
//	for {
//		ev, err := d.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			return err // *mkv.SyntaxError, with the offset and the element
//		}
//		if ev.Kind == mkv.BlockKind {
//			use(ev.Block.Track, ev.Block.Frames)
//		}
//	}
//
// A PushDecoder takes chunks of any size with Write and calls a handler for
// each event, with no goroutine in between. Both give the same events however
// the input is cut, and neither decodes a byte twice: an incomplete element
// waits in the buffer until the bytes it needs have come.
//
// With WithCRC the decoder verifies the CRC-32 element that may start a
// master (RFC 8794 section 11.3.1), as the bytes pass, and reports the
// result on the master's End event (Event.Checksum): a mismatch is data,
// not an error. With WithResync a fault other than the end of input is a
// Damage event, after which the decoder scans for the next unit and says
// how many bytes it skipped in a Resync event; without it, the first fault
// is the decoder's final error.
//
// Events and the frames and values they hold are slices of the decoder's
// buffer, valid until the next call (zero copy). The pull decoder's buffer
// grows from 64 KiB to its size (WithBufferSize; by default 1 MiB, or
// 256 KiB on Intel CPUs, where smaller reads are faster) as reads fill it,
// and past that only to hold an element larger than itself, up to
// WithMaxElementSize; a larger element, whatever size it declares, fails
// with ErrTooLarge before anything is allocated for it.
package mkv
