package mkv

import (
	"encoding/binary"
	"math"
)

// appendID appends an element ID as its bytes on the wire.
func appendID(b []byte, id ID) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// appendSize appends a data size in the shortest VINT (RFC 8794 section 4),
// never the reserved all-ones value.
func appendSize(b []byte, n uint64) []byte {
	l := 1
	for l < 8 && n >= 1<<(7*l)-1 {
		l++
	}
	return appendSizeLen(b, n, l)
}

// appendSizeLen appends a data size as an l-byte VINT.
func appendSizeLen(b []byte, n uint64, l int) []byte {
	v := n | 1<<(7*l)
	for i := l - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// appendElement appends a whole element with data.
func appendElement(b []byte, id ID, data []byte) []byte {
	return append(appendSize(appendID(b, id), uint64(len(data))), data...)
}

func appendUint(b []byte, id ID, v uint64) []byte {
	var d [8]byte
	binary.BigEndian.PutUint64(d[:], v)
	i := 0
	for i < 7 && d[i] == 0 {
		i++
	}
	return appendElement(b, id, d[i:])
}

func appendFloat(b []byte, id ID, v float64) []byte {
	var d [8]byte
	binary.BigEndian.PutUint64(d[:], math.Float64bits(v))
	return appendElement(b, id, d[:])
}

func appendString(b []byte, id ID, s string) []byte {
	return append(appendSize(appendID(b, id), uint64(len(s))), s...)
}
