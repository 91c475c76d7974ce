package fuzz

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kvsmkv/kvsmkv/internal/mkvtest"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// The limits the targets decode with: small, so that the memory bound is
// tight and the fuzzer reaches it.
const (
	maxElement = 64 << 10
	bufferSize = 4 << 10
)

var opts = []mkv.Option{mkv.WithMaxElementSize(maxElement), mkv.WithBufferSize(bufferSize), mkv.WithMaxDepth(24), mkv.WithCRC(true)}

// checkErr fails unless err is nil (a clean end) or a *mkv.SyntaxError
// whose offset is inside the input.
func checkErr(t *testing.T, err error, n int) {
	t.Helper()
	if err == nil {
		return
	}
	var se *mkv.SyntaxError
	if !errors.As(err, &se) {
		if errors.Is(err, io.ErrUnexpectedEOF) { // kvs: a unit cut before its Segment or token
			return
		}
		t.Fatalf("untyped error %T: %v", err, err)
	}
	if se.Offset < 0 || se.Offset > int64(n) {
		t.Fatalf("error offset %d outside the %d-byte input: %v", se.Offset, n, err)
	}
}

// allocated returns the bytes run allocates.
func allocated(run func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzDecoder decodes arbitrary bytes: no panic, a typed error or a clean
// end, at most one event per input byte (bounded work), and allocations
// bounded by the maximum element size plus a constant.
func FuzzDecoder(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		events := 0
		var err error
		n := allocated(func() {
			err = mkvtest.Pull(bytes.NewReader(data), func(*mkv.Event) error {
				events++
				return nil
			}, opts...)
		})
		checkErr(t, err, len(data))
		if events > len(data)+1 {
			t.Fatalf("%d events from %d bytes", events, len(data))
		}
		if limit := uint64(4*maxElement + 64<<10); n > limit {
			t.Fatalf("allocated %d bytes decoding %d bytes, limit %d", n, len(data), limit)
		}
	})
}

// FuzzDifferential decodes the same bytes whole, one byte at a time and
// pushed in chunks whose sizes the fuzzer picks: the events and the final
// error must be identical.
func FuzzDifferential(f *testing.F) {
	for i, s := range seeds(f) {
		// Decoding one byte at a time is slow: small seeds keep the
		// fuzzer's minimization of new inputs short.
		f.Add(s[:min(len(s), 8<<10)], []byte{byte(i), 1, 200, 7})
	}
	f.Fuzz(func(t *testing.T, data, chunks []byte) {
		want, wantErr := mkvtest.PullTrace(bytes.NewReader(data), opts...)
		got, err := mkvtest.PullTrace(iotest.OneByteReader(bytes.NewReader(data)), opts...)
		compare(t, "one-byte", want, got, wantErr, err)
		sizes := make([]int, len(chunks))
		for i, c := range chunks {
			sizes[i] = int(c) + 1
		}
		got, err = mkvtest.Collect(func(fn func(*mkv.Event) error) error { return mkvtest.Push(data, sizes, fn, opts...) })
		compare(t, "push", want, got, wantErr, err)
	})
}

func compare(t *testing.T, how string, want, got []string, wantErr, err error) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s: events mismatch (-whole +%s):\n%s", how, how, diff)
	}
	if errText(wantErr) != errText(err) {
		t.Fatalf("%s: error %v, whole input gave %v", how, err, wantErr)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzReader reads arbitrary bytes as KVS fragments, whole and streaming:
// no panic, typed errors, fragments inside the input and in order, and the
// same fragments both ways.
func FuzzReader(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ro := kvs.WithDecoderOptions(opts...)
		var whole []*kvs.Fragment
		var wholeErr error
		n := allocated(func() {
			r := kvs.NewReader(bytes.NewReader(data), ro, kvs.WithoutFrameData())
			for {
				f, err := r.Next()
				if err != nil {
					if err != io.EOF {
						wholeErr = err
					}
					return
				}
				whole = append(whole, f)
			}
		})
		checkErr(t, wholeErr, len(data))
		if limit := uint64(4*maxElement + 64<<10 + 512*len(data)); n > limit {
			t.Fatalf("allocated %d bytes reading %d bytes, limit %d", n, len(data), limit)
		}
		end := int64(0)
		for _, f := range whole {
			if f.Offset < end || f.Size < 0 || f.Offset+f.Size > int64(len(data)) {
				t.Fatalf("fragment %d at %d+%d, after %d, in %d bytes", f.Index, f.Offset, f.Size, end, len(data))
			}
			end = f.Offset + f.Size
		}

		r := kvs.NewReader(bytes.NewReader(data), ro)
		var streamed []*kvs.Fragment
		var err error
		for {
			var ev *kvs.Event
			if ev, err = r.NextEvent(); err != nil {
				break
			}
			if ev.Kind == kvs.FragmentEvent {
				streamed = append(streamed, ev.Fragment)
			}
		}
		if err == io.EOF {
			err = nil
		}
		if errText(err) != errText(wholeErr) || len(streamed) != len(whole) {
			t.Fatalf("streaming gave %d fragments and %v, whole %d and %v", len(streamed), err, len(whole), wholeErr)
		}
		for i := range whole {
			w := *whole[i]
			w.Frames = nil
			if diff := cmp.Diff(&w, streamed[i], cmp.Comparer(func(a, b tags.Timestamp) bool { return a == b }), cmpopts.EquateNaNs()); diff != "" {
				t.Fatalf("fragment %d: whole and streaming differ (-whole +streaming):\n%s", i, diff)
			}
		}
	})
}

// FuzzTags parses arbitrary strings as fragment numbers, timestamps,
// millis and error tags: no panic, and what parses is consistent.
func FuzzTags(f *testing.F) {
	for _, s := range []string{"91343852333181432392682062607743920146159169392", "1511852109.126", "0.000", "5.000\x00",
		"4000", "FRAGMENT_NOT_FOUND", "1.0000000001", "", "00012", "99999999999999999999.1"} {
		f.Add(s, "10")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if n, err := tags.ParseFragmentNumber(a); err == nil {
			if n.Compare(n) != 0 || len(n) == 0 || len(n) > tags.MaxFragmentNumberLength {
				t.Fatalf("fragment number %q", n)
			}
			if m, err := tags.ParseFragmentNumber(b); err == nil && n.Compare(m) != -m.Compare(n) {
				t.Fatalf("Compare(%q, %q) not antisymmetric", n, m)
			}
		} else if !errors.Is(err, tags.ErrFragmentNumber) {
			t.Fatalf("untyped error %v", err)
		}
		if ts, err := tags.ParseTimestamp(a); err == nil {
			sec, nsec := ts.Seconds()
			if ts.IsZero() || ts.Text() != tags.TrimNUL(a) || nsec < 0 || nsec > 999999999 || ts.Time().Unix() != sec {
				t.Fatalf("timestamp %q: %d s %d ns, %v", a, sec, nsec, ts.Time())
			}
		} else if !errors.Is(err, tags.ErrTimestamp) {
			t.Fatalf("untyped error %v", err)
		}
		tags.ParseMillis(a)
		var e tags.FragmentError
		e.Set(tags.Lookup(b), a)
		e.Set(tags.KeyErrorID, a)
		if e.Error() == "" {
			t.Fatal("empty error text")
		}
	})
}
