package kvstest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// small is a generated stream of small fragments.
var small = kvstest.StreamConfig{Fragments: 3, FragmentDuration: 200 * time.Millisecond, FPS: 10, VideoBitrate: 8000}

// media reads a GetMediaForFragmentList body of stream: the bytes that
// came and the error that ended it.
func media(t *testing.T, srv *kvstest.Server, stream string, numbers []tags.FragmentNumber) ([]byte, error) {
	t.Helper()
	out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMediaForFragmentList(context.Background(), srv.URL(),
		&kvsaws.GetMediaForFragmentListInput{StreamName: stream, Fragments: numbers})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	return io.ReadAll(out.Payload)
}

// flipped is b with the bytes at offsets corrupt as CorruptBody does.
func flipped(b []byte, at ...int) []byte {
	b = bytes.Clone(b)
	for _, i := range at {
		if b[i] == 0 {
			b[i] = 0xFF
		} else {
			b[i] = 0
		}
	}
	return b
}

// TestBodyFaults checks each body fault on GetMediaForFragmentList bodies:
// what the next bodies of two streams bring, once or every time, scoped
// to a stream or to a fragment wherever it is served.
func TestBodyFaults(t *testing.T) {
	type fetch struct {
		stream string
		from   int // the first fragment asked for
		// want derives the expected body from the clean one.
		want func(clean []byte, unit0 int) []byte
		cut  bool
	}
	same := func(clean []byte, _ int) []byte { return clean }
	tests := []struct {
		name    string
		faults  func(srv *kvstest.Server, a []tags.FragmentNumber)
		fetches []fetch
	}{
		{
			name: "corrupt once",
			faults: func(srv *kvstest.Server, _ []tags.FragmentNumber) {
				srv.Inject(kvstest.Fault{Kind: kvstest.CorruptBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: 100})
			},
			fetches: []fetch{
				{stream: "b", want: func(c []byte, _ int) []byte { return flipped(c, 100) }},
				{stream: "a", want: same},
				{stream: "b", want: same},
			},
		},
		{
			name: "corrupt every time, one stream",
			faults: func(srv *kvstest.Server, _ []tags.FragmentNumber) {
				srv.Inject(kvstest.Fault{Kind: kvstest.CorruptBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList, Stream: "b"}, At: 7, EveryTime: true})
			},
			fetches: []fetch{
				{stream: "a", want: same},
				{stream: "b", want: func(c []byte, _ int) []byte { return flipped(c, 7) }},
				{stream: "b", want: func(c []byte, _ int) []byte { return flipped(c, 7) }},
			},
		},
		{
			name: "end early",
			faults: func(srv *kvstest.Server, _ []tags.FragmentNumber) {
				srv.Inject(kvstest.Fault{Kind: kvstest.EndBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: 500})
			},
			fetches: []fetch{
				{stream: "a", want: func(c []byte, _ int) []byte { return c[:500] }},
				{stream: "a", want: same},
			},
		},
		{
			name: "cut, one stream",
			faults: func(srv *kvstest.Server, _ []tags.FragmentNumber) {
				srv.Inject(kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList, Stream: "a"}, At: 300})
			},
			fetches: []fetch{
				{stream: "b", want: same},
				{stream: "a", want: func(c []byte, _ int) []byte { return c[:300] }, cut: true},
				{stream: "a", want: same},
			},
		},
		{
			name: "cuts queued, one a body",
			faults: func(srv *kvstest.Server, _ []tags.FragmentNumber) {
				srv.Inject(kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: 200}, kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList}, At: 100})
			},
			fetches: []fetch{
				{stream: "a", want: func(c []byte, _ int) []byte { return c[:200] }, cut: true},
				{stream: "b", want: func(c []byte, _ int) []byte { return c[:100] }, cut: true},
				{stream: "a", want: same},
			},
		},
		{
			name: "corrupt a fragment wherever it is served",
			faults: func(srv *kvstest.Server, a []tags.FragmentNumber) {
				srv.Inject(kvstest.Fault{Kind: kvstest.CorruptBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList, Stream: "a", Fragment: a[1]}, At: 10, EveryTime: true})
			},
			fetches: []fetch{
				{stream: "a", want: func(c []byte, unit0 int) []byte { return flipped(c, unit0+10) }},
				{stream: "a", from: 1, want: func(c []byte, _ int) []byte { return flipped(c, 10) }},
				{stream: "b", want: same},
			},
		},
		{
			name: "end a fragment's first serving early",
			faults: func(srv *kvstest.Server, a []tags.FragmentNumber) {
				srv.Inject(kvstest.Fault{Kind: kvstest.EndBody, Scope: kvstest.Scope{API: kvstest.GetMediaForFragmentList, Fragment: a[2]}, At: 20})
			},
			fetches: []fetch{
				{stream: "a", from: 2, want: func(c []byte, _ int) []byte { return c[:20] }},
				{stream: "a", from: 2, want: same},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := kvstest.NewServer()
			defer srv.Close()
			numbers := map[string][]tags.FragmentNumber{"a": srv.AddStream("a", small)}
			b := small
			b.Audio = true
			numbers["b"] = srv.AddStream("b", b)
			clean := map[string][][]byte{}
			for _, s := range []string{"a", "b"} {
				for from := range numbers[s] {
					body, err := media(t, srv, s, numbers[s][from:])
					if err != nil {
						t.Fatal(err)
					}
					clean[s] = append(clean[s], body)
				}
			}
			unit0 := len(clean["a"][0]) - len(clean["a"][1])
			tt.faults(srv, numbers["a"])
			for i, f := range tt.fetches {
				got, err := media(t, srv, f.stream, numbers[f.stream][f.from:])
				if cut := errors.Is(err, io.ErrUnexpectedEOF); cut != f.cut || (err != nil && !cut) {
					t.Errorf("fetch %d of %s: error %v, want a cut %v", i, f.stream, err, f.cut)
				}
				if want := f.want(clean[f.stream][f.from], unit0); !bytes.Equal(got, want) {
					t.Errorf("fetch %d of %s: %d bytes, want %d; equal to the clean body: %v", i, f.stream, len(got), len(want), bytes.Equal(got, clean[f.stream][f.from]))
				}
			}
		})
	}
}

// TestErrorUnit serves a fragment of GetMedia as an in-band error unit:
// the reader gets it as a fragment with Err set, between the others,
// until the error unit is lifted.
func TestErrorUnit(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("cam", small)
	read := func() []*kvs.Fragment {
		out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMedia(context.Background(), srv.URL(),
			&kvsaws.GetMediaInput{StreamName: "cam", StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Payload.Close()
		frags, _ := fragmentFrames(t, out.Payload)
		return frags
	}
	srv.Inject(kvstest.Fault{Kind: kvstest.InBandError, Scope: kvstest.Scope{Stream: "cam", Fragment: numbers[1]}, Unit: kvsgen.ErrorUnit{Code: "KMS_ACCESS_DENIED", ID: 4500}})
	frags := read()
	if len(frags) != 3 {
		t.Fatalf("%d units, want 3", len(frags))
	}
	for i, f := range frags {
		if f.Number != numbers[i] {
			t.Errorf("unit %d: fragment %s, want %s", i, f.Number, numbers[i])
		}
		if i != 1 && (f.Err != nil || !f.HasCluster) {
			t.Errorf("unit %d: error %v, cluster %v", i, f.Err, f.HasCluster)
		}
	}
	if e := frags[1].Err; e == nil || e.Code != "KMS_ACCESS_DENIED" || e.ID != 4500 || frags[1].HasCluster {
		t.Errorf("error unit: %+v, cluster %v", e, frags[1].HasCluster)
	}
	srv.Inject(kvstest.Fault{Kind: kvstest.InBandError, Scope: kvstest.Scope{Stream: "cam", Fragment: numbers[1]}, Unit: kvsgen.ErrorUnit{}})
	for i, f := range read() {
		if f.Err != nil {
			t.Errorf("unit %d after the error was lifted: %v", i, f.Err)
		}
	}
}

// TestConnectionsPerStream holds one GetMedia body open on stream a with
// a limit of one: a second on a is refused with ConnectionLimitExceeded,
// one on b is served.
func TestConnectionsPerStream(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("a", small)
	srv.AddStream("b", small)
	srv.LimitConnections(kvstest.GetMedia, 1)
	srv.Inject(kvstest.Fault{Kind: kvstest.SlowBody, Scope: kvstest.Scope{API: kvstest.GetMedia, Stream: "a"}, Chunk: 1, Delay: time.Second})
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	get := func(stream string) (*kvsaws.MediaOutput, error) {
		return dp.GetMedia(context.Background(), srv.URL(), &kvsaws.GetMediaInput{StreamName: stream, StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}})
	}
	held, err := get("a")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Payload.Close()
	_, err = get("a")
	var e *kvsaws.APIError
	if !errors.As(err, &e) || e.Code != kvsaws.CodeConnectionLimitExceeded {
		t.Errorf("second body of a: %v, want ConnectionLimitExceeded", err)
	}
	other, err := get("b")
	if err != nil {
		t.Fatalf("body of b: %v", err)
	}
	defer other.Payload.Close()
	if _, err := io.ReadAll(other.Payload); err != nil {
		t.Errorf("body of b, not slowed: %v", err)
	}
}

// TestPutMediaFaults applies body faults to what PutMedia reads: a clean
// early end keeps the fragments before it, a corrupt EBML header is
// refused with an ERROR ack, a cut drops the connection, the
// fragment it cut short lost.
func TestPutMediaFaults(t *testing.T) {
	src := writeSource(t, 4, 2, 30, false, start)
	// The end of the third fragment's first block: two fragments are
	// complete before it.
	third := src.blockEnds[2][0]
	tests := []struct {
		name    string
		fault   kvstest.Fault
		persist int
		ackErr  int // the ErrorId of the ERROR ack expected, if any
		broken  bool
	}{
		{name: "end early", fault: kvstest.Fault{Kind: kvstest.EndBody, At: third}, persist: 2, ackErr: kvstest.ErrorIDInvalidMKV},
		{name: "corrupt", fault: kvstest.Fault{Kind: kvstest.CorruptBody, At: 0}, ackErr: kvstest.ErrorIDInvalidMKV},
		{name: "cut", fault: kvstest.Fault{Kind: kvstest.CutBody, At: third}, persist: 2, broken: true},
		{name: "other stream", fault: kvstest.Fault{Kind: kvstest.CutBody, Scope: kvstest.Scope{Stream: "other"}, At: third}, persist: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := kvstest.NewServer()
			defer srv.Close()
			if err := srv.CreateStream("cam", time.Hour); err != nil {
				t.Fatal(err)
			}
			f := tt.fault
			f.Scope.API = kvstest.PutMedia
			srv.Inject(f)
			acks, err := kvstest.Produce(context.Background(), srv.Config(), srv.URL(), "cam", bytes.NewReader(src.bytes), 0)
			switch {
			case tt.ackErr != 0 && !isAckError(err, tt.ackErr):
				t.Errorf("error %v, want an ERROR ack %d", err, tt.ackErr)
			case tt.broken && (err == nil || !strings.Contains(err.Error(), "EOF")):
				t.Errorf("error %v, want a broken response", err)
			case tt.ackErr == 0 && !tt.broken && err != nil:
				t.Error(err)
			}
			persisted := 0
			for _, a := range acks {
				if a.EventType == kvstest.EventPersisted {
					persisted++
				}
			}
			if persisted != tt.persist || len(srv.Fragments("cam")) != tt.persist {
				t.Errorf("%d PERSISTED acks, %d fragments listed, want %d", persisted, len(srv.Fragments("cam")), tt.persist)
			}
		})
	}
}

// TestAdminBodyFaults sets the body faults and error units through the
// admin endpoint.
func TestAdminBodyFaults(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("cam", small)
	clean, err := media(t, srv, "cam", numbers)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, body string }{
		{"end-early", `{"API":"GetMediaForFragmentList","At":50,"Stream":"cam"}`},
		{"corrupt", `{"API":"GetMediaForFragmentList","At":3,"Fragment":"` + string(numbers[0]) + `"}`},
		{"error-unit", `{"Stream":"cam","Fragment":"` + string(numbers[2]) + `","Code":"KMS_ACCESS_DENIED","ID":4500}`},
	} {
		resp, err := http.Post(srv.URL()+kvstest.AdminPrefix+tt.path, "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: %s", tt.path, resp.Status)
		}
	}
	if got, err := media(t, srv, "cam", numbers); err != nil || !bytes.Equal(got, flipped(clean, 3)[:50]) {
		t.Errorf("body with end-early and corrupt: %d bytes, %v", len(got), err)
	}
	out, err := kvsaws.NewHTTPDataPlane(srv.Config()).GetMedia(context.Background(), srv.URL(),
		&kvsaws.GetMediaInput{StreamName: "cam", StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	frags, _ := fragmentFrames(t, out.Payload)
	if len(frags) != 3 || frags[2].Err == nil || frags[2].Err.ID != 4500 {
		t.Errorf("GetMedia after error-unit: %d units", len(frags))
	}
	resp, err := http.Post(srv.URL()+kvstest.AdminPrefix+"error-unit", "application/json", strings.NewReader(`{"Code":"X"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("error unit without a stream: %s", resp.Status)
	}
}
