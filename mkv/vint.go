package mkv

import "math/bits"

// vintLen returns the length in bytes of the variable-size integer that
// starts with b (RFC 8794 section 4): the number of leading zero bits plus
// one. It returns 0 for 0x00, which starts no valid VINT of up to 8 bytes.
func vintLen(b byte) int {
	if b == 0 {
		return 0
	}
	return bits.LeadingZeros8(b) + 1
}

// readID returns the element ID in p (1 to 4 bytes), marker bit kept, and
// whether it is valid: RFC 8794 section 5 reserves IDs whose VINT_DATA bits
// are all zeros or all ones.
func readID(p []byte) (ID, bool) {
	var v uint32
	for _, c := range p {
		v = v<<8 | uint32(c)
	}
	mask := uint32(1)<<(7*uint(len(p))) - 1
	d := v & mask
	return ID(v), d != 0 && d != mask
}

// readSize returns the data size in p (1 to 8 bytes) and whether it is the
// reserved "unknown size" value, all VINT_DATA bits set (RFC 8794 section 6.2).
func readSize(p []byte) (size int64, unknown bool) {
	v := uint64(p[0]) & (0xFF >> len(p))
	for _, c := range p[1:] {
		v = v<<8 | uint64(c)
	}
	mask := uint64(1)<<(7*uint(len(p))) - 1
	return int64(v), v == mask
}
