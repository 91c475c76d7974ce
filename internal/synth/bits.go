package synth

import "math/bits"

// bitWriter appends bits, most significant first, to a byte slice.
type bitWriter struct {
	buf  []byte
	used int // bits used in the last byte of buf; 0 when byte-aligned
}

// u writes the n low bits of v (n <= 64), as u(n) in H.264 and the bit
// fields of ISO/IEC 14496-3.
func (w *bitWriter) u(n int, v uint64) {
	for i := n - 1; i >= 0; i-- {
		if w.used == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>uint(i)&1 != 0 {
			w.buf[len(w.buf)-1] |= 0x80 >> uint(w.used)
		}
		w.used = (w.used + 1) & 7
	}
}

// flag writes one bit.
func (w *bitWriter) flag(b bool) {
	if b {
		w.u(1, 1)
	} else {
		w.u(1, 0)
	}
}

// ue writes an unsigned Exp-Golomb code, ue(v) (H.264 9.1).
func (w *bitWriter) ue(v uint32) {
	x := uint64(v) + 1
	n := bits.Len64(x)
	w.u(n-1, 0)
	w.u(n, x)
}

// se writes a signed Exp-Golomb code, se(v) (H.264 9.1.1): k > 0 maps to
// 2k-1 and k <= 0 to -2k.
func (w *bitWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*int64(v) - 1))
	} else {
		w.ue(uint32(-2 * int64(v)))
	}
}

// align writes zero bits up to the next byte boundary (pcm_alignment_zero_bit,
// byte_alignment() of AAC).
func (w *bitWriter) align() {
	w.used = 0 // the unused bits of the last byte are already zero
}

// trailing writes rbsp_trailing_bits(): a one bit, then zero bits up to the
// byte boundary.
func (w *bitWriter) trailing() {
	w.u(1, 1)
	w.align()
}

// bytes writes whole bytes; the writer must be byte-aligned.
func (w *bitWriter) bytes(p []byte) {
	if w.used != 0 {
		panic("synth: bitWriter.bytes when not byte-aligned")
	}
	w.buf = append(w.buf, p...)
}

// appendEscaped appends an RBSP to dst with emulation prevention (H.264
// 7.4.1): a 0x03 byte goes after any two zero bytes that precede a byte
// 0x00 to 0x03, so that no start code prefix appears inside a NAL unit. The
// RBSPs here end in rbsp_trailing_bits, so their last byte is never zero
// and needs no final 0x03.
func appendEscaped(dst, rbsp []byte) []byte {
	zeros := 0
	for _, b := range rbsp {
		if zeros >= 2 && b <= 3 {
			dst = append(dst, 3)
			zeros = 0
		}
		dst = append(dst, b)
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return dst
}
