package main

import (
	"fmt"
	"io"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
)

// fileOptions are the reader options of a file or standard input: those
// of every source, and resynchronisation (kvs.WithResync) unless -strict,
// so that a damaged unit costs its own fragment and not the rest. KVS
// reads (-stream, -emulate) go without it: a unit cut short there is
// asked for again by kvsaws, not skipped; a CRC-32 mismatch is reported on
// its fragment either way.
func (c *config) fileOptions() []kvs.Option {
	if c.strict {
		return c.live.readerOpts
	}
	return append(c.live.readerOpts[:len(c.live.readerOpts):len(c.live.readerOpts)], kvs.WithResync())
}

// damageCount counts the damaged fragments printed, for the line on
// standard error that ends a dump with any.
type damageCount struct {
	fragments int
	skipped   int64
	first     *kvs.Fragment
}

func (c *damageCount) add(f *kvs.Fragment) {
	if len(f.Damage) == 0 {
		return
	}
	c.fragments++
	for _, d := range f.Damage {
		c.skipped += d.Skipped
	}
	if c.first == nil {
		c.first = f
	}
}

// report writes, when fragments were damaged, one line that counts them
// and the bytes skipped, and words the first damage: "kvsdump: FILE: 2
// fragments damaged, 1,234 bytes skipped (first: CRC-32 mismatch in
// Cluster at offset 549,084)". It says whether it wrote it.
func (c *damageCount) report(w io.Writer, name func() string) bool {
	if c.fragments == 0 {
		return false
	}
	noun := "fragments"
	if c.fragments == 1 {
		noun = "fragment"
	}
	d := kvsreport.RecordOf(c.first).Damaged[0]
	where := d.Cause
	if d.Element != "" {
		where += " in " + d.Element
	}
	fmt.Fprintf(w, "kvsdump: %s: %d %s damaged, %s bytes skipped (first: %s at offset %s)\n",
		name(), c.fragments, noun, commas(c.skipped), where, commas(d.Offset))
	return true
}

// sourceName names what the dump read, for the damage line: the file, the
// stream, or the streams.
func (d *dumper) sourceName() string {
	switch {
	case d.src != nil && d.src.in != nil:
		return d.src.in.name
	case d.c.emulate:
		return "stream kvsdump-demo"
	case d.c.streams.file != "":
		return "the streams of " + d.c.streams.file
	case d.c.several():
		return "streams " + d.c.live.stream
	}
	return "stream " + d.c.live.stream
}

// damageTexts words each damage of f for the table's ERROR column:
// "damaged: CRC-32 mismatch in Cluster at offset 549084 (stored
// 0x1c2d3e4f, computed 0x0a0b0c0d)".
func damageTexts(f *kvs.Fragment) []string {
	if len(f.Damage) == 0 {
		return nil
	}
	r := kvsreport.RecordOf(f)
	texts := make([]string, len(r.Damaged))
	for i := range r.Damaged {
		texts[i] = "damaged: " + r.Damaged[i].Text()
	}
	return texts
}

// leadingJunk says whether f is all there is so far of an input that does
// not start as an EBML stream: the first fragment, damaged from offset 0
// to its end.
func (d *dumper) leadingJunk(f *kvs.Fragment) bool {
	in := d.src.in
	return in != nil && !isEBML(in.head) && d.fragments == 0 && d.junk == nil && f.Offset == 0 &&
		len(f.Damage) == 1 && f.Damage[0].Offset == 0 && f.Damage[0].Skipped == f.Size
}

// flushJunk prints the fragment of the junk an input starts with, held
// back by leadingJunk, now that a unit follows it; it says whether to go
// on.
func (d *dumper) flushJunk() (code int, more bool) {
	j := d.junk
	if j == nil {
		return exitOK, true
	}
	d.junk = nil
	return d.fragment(j)
}
