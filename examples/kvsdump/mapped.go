package main

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime/debug"

	"github.com/kvsmkv/kvsmkv/kvs"
)

// mapWindow is how much of a file is mapped at a time: the process never
// holds more of its input than this in its address space.
const mapWindow = 8 << 20

// errStopped ends a PushReader whose events are no longer wanted.
var errStopped = errors.New("kvsdump: stopped")

// mappable says whether f can be read in place: a regular file, read from
// its start, on a system where kvsdump maps files.
func mappable(f *os.File) bool {
	if !canMap || !regular(f) {
		return false
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	return err == nil && pos == 0
}

// mappedEvents reads the regular file f in place, a window at a time,
// through a kvs.PushReader: the decoder reads the elements' headers where
// they lie in the page cache, and the frames' bytes, which the metadata
// does not need, are neither copied nor, mostly, even mapped. It gives the
// events a kvs.Reader on the file would. A file that gets shorter while it
// is read ends with an error, not a crash.
func (in *input) mappedEvents(f *os.File, opts []kvs.Option) iter.Seq2[*kvs.Event, error] {
	return func(yield func(*kvs.Event, error) bool) {
		stopped, inBody := false, false
		p := kvs.NewPushReader(func(ev *kvs.Event) error {
			inBody = true
			more := yield(ev, nil)
			inBody = false
			if !more {
				stopped = true
				return errStopped
			}
			return nil
		}, opts...)
		err := in.pushMapped(f, p, &inBody)
		if err == nil {
			err = p.Close()
		}
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// pushMapped maps f window by window, up to its size when each window is
// mapped, and writes each window to p.
func (in *input) pushMapped(f *os.File, p *kvs.PushReader, inBody *bool) (err error) {
	// A mapped page past the end of a file that shrank faults: the runtime
	// then panics with an error that has the address, instead of crashing.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault || *inBody {
				panic(r)
			}
			err = fmt.Errorf("%s got shorter while it was read, before byte %s", in.name, commas(in.n))
		}
	}()
	for {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if in.n >= st.Size() {
			return nil
		}
		if err := in.pushWindow(f, p, int(min(st.Size()-in.n, mapWindow))); err != nil {
			return err
		}
	}
}

// pushWindow maps the next n bytes of f and writes them to p. The window
// is unmapped when it returns, by a fault's panic too.
func (in *input) pushWindow(f *os.File, p *kvs.PushReader, n int) error {
	b, unmap, err := mapRange(f, in.n, n)
	if err != nil {
		return err
	}
	defer unmap()
	if k := min(n, 4-len(in.head)); k > 0 {
		in.head = append(in.head, b[:k]...)
	}
	in.n += int64(n)
	_, err = p.Write(b)
	return err
}
