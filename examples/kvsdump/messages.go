package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kvsmkv/kvsmkv/mkv"
)

// ebmlMagic is the ID of the EBML header, the first four bytes of every
// EBML stream (RFC 8794 section 8.1).
var ebmlMagic = []byte{0x1A, 0x45, 0xDF, 0xA3}

// describe words an error that ended the input for a person: what is
// wrong and where, in the terms of the file rather than of the decoder.
// in is the file or standard input read, or nil for KVS.
func describe(err error, in *input) string {
	var se *mkv.SyntaxError
	switch {
	case in != nil && !isEBML(in.head):
		return fmt.Sprintf("%s: offset 0: not an EBML stream (starts with % x)", in.name, in.head)
	case errors.As(err, &se) && errors.Is(err, io.ErrUnexpectedEOF):
		return cutOff(se, in)
	case errors.As(err, &se):
		return fmt.Sprintf("%smalformed %s at offset %s: %v", inputName(in), elementName(se.ID), commas(se.Offset), cause(se.Err))
	}
	return err.Error()
}

// isEBML tells whether the first bytes of an input are those of an EBML
// stream, or could be when fewer than four.
func isEBML(head []byte) bool {
	if len(head) < len(ebmlMagic) {
		return bytes.HasPrefix(ebmlMagic, head)
	}
	return bytes.HasPrefix(head, ebmlMagic)
}

// cutOff words an input that ended inside an element: "cut off inside
// SimpleBlock at offset 1,180 (element of 4,211 bytes, 3,077 read); the
// input ended at 4,257 bytes". The element's size is read again from its
// header, when the input still has it.
func cutOff(se *mkv.SyntaxError, in *input) string {
	msg := fmt.Sprintf("%scut off inside %s at offset %s", inputName(in), elementName(se.ID), commas(se.Offset))
	if se.Err != io.ErrUnexpectedEOF { // a cause of the reader's, such as a GetMedia fragment without its token
		msg += " (" + strings.TrimSuffix(cause(se.Err), ": "+io.ErrUnexpectedEOF.Error()) + ")"
	}
	if in == nil {
		return msg
	}
	if size, ok := elementSize(in.at(se.Offset, 12), se.ID); ok {
		msg += fmt.Sprintf(" (element of %s bytes, %s read)", commas(size), commas(in.n-se.Offset))
	}
	return msg + fmt.Sprintf("; the input ended at %s bytes", commas(in.n))
}

func inputName(in *input) string {
	if in == nil {
		return ""
	}
	return in.name + ": "
}

func elementName(id mkv.ID) string {
	if id == 0 {
		return "an element header"
	}
	return id.Name()
}

// cause is an error's text without its package prefix.
func cause(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i > 0 && !strings.Contains(s[:i], " ") {
		return s[i+2:]
	}
	return s
}

// elementSize returns the whole size (header and data) of the element
// whose header b starts with, if it is element id and its size is known
// (RFC 8794 sections 4 and 6).
func elementSize(b []byte, id mkv.ID) (int64, bool) {
	idLen := vintLen(b)
	if idLen == 0 || idLen > 4 || len(b) < idLen {
		return 0, false
	}
	var got uint32
	for _, c := range b[:idLen] {
		got = got<<8 | uint32(c)
	}
	if mkv.ID(got) != id {
		return 0, false
	}
	sizeLen := vintLen(b[idLen:])
	if sizeLen == 0 || len(b) < idLen+sizeLen {
		return 0, false
	}
	p := b[idLen : idLen+sizeLen]
	size := int64(p[0] & (0xFF >> sizeLen))
	unknown := size == int64(0xFF>>sizeLen)
	for _, c := range p[1:] {
		size = size<<8 | int64(c)
		unknown = unknown && c == 0xFF
	}
	if unknown {
		return 0, false
	}
	return int64(idLen+sizeLen) + size, true
}

// vintLen is the length of the variable-size integer b starts with, from
// the leading zero bits of its first byte, or 0.
func vintLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	for n := 1; n <= 8; n++ {
		if b[0]&(0x80>>(n-1)) != 0 {
			return n
		}
	}
	return 0
}

// commas writes n with thousands separators: 50000 is "50,000".
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + commas(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
