package kvsreport

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the JSON object of r to b and returns the extended
// buffer: the same bytes as json.Marshal(r), field by field, with no
// reflection and no allocation beyond b's growth (record_test.go compares
// the two), so that kvsdump can write a line per fragment at the speed of
// its input.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	if r.Stream != "" {
		b = append(appendString(append(b, `"stream":`...), r.Stream), ',')
	}
	b = strconv.AppendInt(append(b, `"index":`...), int64(r.Index), 10)
	b = strconv.AppendInt(append(b, `,"offset":`...), r.Offset, 10)
	b = strconv.AppendInt(append(b, `,"size":`...), r.Size, 10)
	if r.Partial {
		b = append(b, `,"partial":true`...)
	}
	if len(r.Damaged) > 0 {
		b = append(b, `,"damaged":[`...)
		for i := range r.Damaged {
			d := &r.Damaged[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(append(b, `{"offset":`...), d.Offset, 10)
			b = appendOptString(b, `,"element":`, d.Element)
			b = appendString(append(b, `,"cause":`...), d.Cause)
			b = appendOptString(b, `,"stored":`, d.Stored)
			b = appendOptString(b, `,"computed":`, d.Computed)
			if d.Skipped != 0 {
				b = strconv.AppendInt(append(b, `,"skipped":`...), d.Skipped, 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendOptString(b, `,"fragmentNumber":`, r.FragmentNumber)
	b = appendOptString(b, `,"serverTimestamp":`, r.ServerTimestamp)
	b = appendOptString(b, `,"producerTimestamp":`, r.ProducerTimestamp)
	if r.DurationMillis != 0 {
		b = strconv.AppendInt(append(b, `,"durationMs":`...), r.DurationMillis, 10)
	}
	if r.MillisBehindNow != nil {
		b = strconv.AppendInt(append(b, `,"millisBehindNow":`...), *r.MillisBehindNow, 10)
	}
	b = appendOptString(b, `,"continuationToken":`, r.ContinuationToken)
	if e := r.Error; e != nil {
		b = append(b, `,"error":{`...)
		sep := ""
		if e.Code != "" {
			b = appendString(append(b, `"code":`...), e.Code)
			sep = ","
		}
		if e.ID != 0 {
			b = strconv.AppendInt(append(append(b, sep...), `"id":`...), int64(e.ID), 10)
			sep = ","
		}
		if e.Message != "" {
			b = appendString(append(append(b, sep...), `"message":`...), e.Message)
		}
		b = append(b, '}')
	}
	if len(r.Tags) > 0 {
		b = appendTags(append(b, `,"tags":`...), r.Tags)
	}
	if len(r.Tracks) > 0 {
		b = append(b, `,"tracks":[`...)
		for i := range r.Tracks {
			t := &r.Tracks[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(append(b, `{"number":`...), t.Number, 10)
			b = appendString(append(b, `,"type":`...), t.Type)
			b = appendOptString(b, `,"codecId":`, t.CodecID)
			b = strconv.AppendInt(append(b, `,"blocks":`...), int64(t.Blocks), 10)
			b = strconv.AppendInt(append(b, `,"frames":`...), int64(t.Frames), 10)
			b = strconv.AppendInt(append(b, `,"keyframes":`...), int64(t.Keyframes), 10)
			if t.Bytes != 0 {
				b = strconv.AppendInt(append(b, `,"bytes":`...), t.Bytes, 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendTags appends a list of tags and the tags nested in them.
func appendTags(b []byte, ts []Tag) []byte {
	b = append(b, '[')
	for i := range ts {
		t := &ts[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(append(b, `{"name":`...), t.Name)
		if t.Value != nil {
			b = appendString(append(b, `,"value":`...), *t.Value)
		}
		if len(t.Binary) > 0 {
			b = append(b, `,"binary":"`...)
			b = base64.StdEncoding.AppendEncode(b, t.Binary)
			b = append(b, '"')
		}
		if len(t.Tags) > 0 {
			b = appendTags(append(b, `,"tags":`...), t.Tags)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendOptString appends a field whose name and colon are key, unless s
// is empty (omitempty).
func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

// appendString appends s as a JSON string, escaped as encoding/json does
// by default: quotes, backslashes and control characters, <, > and & for
// HTML, U+2028 and U+2029 for JavaScript, and each byte of invalid UTF-8
// as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
