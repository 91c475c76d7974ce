package mkv

import "fmt"

// maxTrackLen is the longest track number VINT a block may carry: the
// Matroska specification caps TrackNumber at 8 bytes.
const maxTrackLen = 8

var (
	errBlockHeader = fmt.Errorf("%w: shorter than its track number, timecode and flags", ErrInvalidBlock)
	errTrackNumber = fmt.Errorf("%w: bad track number", ErrInvalidBlock)
	errLaceCount   = fmt.Errorf("%w: laced without a frame count", ErrInvalidBlock)
	errLaceSizes   = fmt.Errorf("%w: lace sizes exceed the block", ErrInvalidBlock)
	errFixedLace   = fmt.Errorf("%w: fixed-size lacing does not divide the block evenly", ErrInvalidBlock)
)

// parseBlock decodes the data of a SimpleBlock or Block (Matroska section
// 10) into b, splitting laced frames (section 10.3). frames is reused storage
// for b.Frames. Frames are slices of data.
func parseBlock(data []byte, b *Block, frames [][]byte) ([][]byte, error) {
	if len(data) == 0 {
		return frames, errBlockHeader
	}
	tl := vintLen(data[0])
	if tl == 0 || tl > maxTrackLen {
		return frames, errTrackNumber
	}
	if len(data) < tl+3 {
		return frames, errBlockHeader
	}
	track, _ := readSize(data[:tl])
	flags := data[tl+2]
	// Field by field: a composite literal would clear Frames too, a
	// pointer store that costs a write-barrier check for every block.
	b.Track = uint64(track)
	b.Timecode = int16(uint16(data[tl])<<8 | uint16(data[tl+1]))
	b.Keyframe = flags&0x80 != 0
	b.Invisible = flags&0x08 != 0
	b.Discardable = flags&0x01 != 0
	b.Lacing = Lacing(flags >> 1 & 3)
	p := data[tl+3:]
	frames = frames[:0]
	if b.Lacing == NoLacing {
		b.Frames = append(frames, p)
		return b.Frames, nil
	}
	if len(p) == 0 {
		return frames, errLaceCount
	}
	n := int(p[0]) + 1
	p = p[1:]
	switch b.Lacing {
	case FixedLacing:
		if len(p)%n != 0 {
			return frames, errFixedLace
		}
		size := len(p) / n
		for i := 0; i < n; i++ {
			frames = append(frames, p[i*size:(i+1)*size:(i+1)*size])
		}
		b.Frames = frames
		return frames, nil
	case XiphLacing:
		return xiphLaces(p, n, b, frames)
	default:
		return ebmlLaces(p, n, b, frames)
	}
}

// xiphLaces splits Xiph-laced frames: each size but the last is a run of
// 255s ended by a byte below 255, summed.
func xiphLaces(p []byte, n int, b *Block, frames [][]byte) ([][]byte, error) {
	i, total := 0, 0
	// Sizes are recorded as the lengths of placeholder slices, turned into
	// the real frames once the table's length is known (cutLaces).
	for f := 0; f < n-1; f++ {
		size := 0
		for {
			if i >= len(p) {
				return frames, errLaceSizes
			}
			c := p[i]
			i++
			size += int(c)
			if c != 255 {
				break
			}
		}
		total += size
		if total > len(p) {
			return frames, errLaceSizes
		}
		frames = append(frames, p[:size:size])
	}
	return cutLaces(p, i, total, b, frames)
}

// ebmlLaces splits EBML-laced frames: the first size is a VINT, each later
// one a signed VINT difference from the previous size.
func ebmlLaces(p []byte, n int, b *Block, frames [][]byte) ([][]byte, error) {
	i, total, size := 0, 0, int64(0)
	for f := 0; f < n-1; f++ {
		if i >= len(p) {
			return frames, errLaceSizes
		}
		l := vintLen(p[i])
		if l == 0 || i+l > len(p) {
			return frames, errLaceSizes
		}
		v, _ := readSize(p[i : i+l])
		if f == 0 {
			size = v
		} else {
			size += v - (int64(1)<<(7*uint(l)-1) - 1)
		}
		i += l
		if size < 0 || size > int64(len(p)) {
			return frames, errLaceSizes
		}
		total += int(size)
		if total > len(p) {
			return frames, errLaceSizes
		}
		frames = append(frames, p[:size:size])
	}
	return cutLaces(p, i, total, b, frames)
}

// cutLaces turns the lace sizes recorded as the lengths of frames into
// slices of the data after the lace table, which starts at p[start:], and
// appends the last frame, whatever remains.
func cutLaces(p []byte, start, total int, b *Block, frames [][]byte) ([][]byte, error) {
	data := p[start:]
	if total > len(data) {
		return frames, errLaceSizes
	}
	at := 0
	for i, f := range frames {
		frames[i] = data[at : at+len(f) : at+len(f)]
		at += len(f)
	}
	frames = append(frames, data[at:])
	b.Frames = frames
	return frames, nil
}
