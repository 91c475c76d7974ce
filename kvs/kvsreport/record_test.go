package kvsreport

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
)

func TestFromFragment(t *testing.T) {
	g := kvsgen.Generator{
		Fragments: 3, FPS: 10, Audio: true, ProducerTags: true,
		Errors: map[int]kvsgen.ErrorUnit{1: {Code: "FRAGMENT_NOT_FOUND", ID: 4000}},
	}
	r := kvs.NewReader(bytes.NewReader(g.Bytes()))
	var got []Record
	for f, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, FromFragment("cam", f))
	}
	for i := range got {
		checkAppendJSON(t, &got[i])
	}
	if len(got) != 3 {
		t.Fatalf("%d records, want 3", len(got))
	}
	for _, i := range []int{0, 2} {
		rec := got[i]
		var wantBytes = map[uint64]int64{}
		for _, fr := range g.Frames(i) {
			wantBytes[fr.Track] += int64(len(fr.Data))
		}
		gotBytes := map[uint64]int64{}
		for _, tr := range rec.Tracks {
			gotBytes[tr.Number] = tr.Bytes
		}
		if diff := cmp.Diff(wantBytes, gotBytes); diff != "" {
			t.Errorf("record %d track bytes mismatch (-want +got):\n%s", i, diff)
		}
		producer, _ := g.Times(i)
		if want := time.Unix(0, int64(producer)).UTC(); !rec.Producer().Equal(want) {
			t.Errorf("record %d Producer() = %v, want %v", i, rec.Producer(), want)
		}
		if d := rec.Duration(); d < 1900*time.Millisecond || d > 2*time.Second {
			t.Errorf("record %d Duration() = %v, want about 2s (10 fps video over 2 s)", i, d)
		}
		if rec.Stream != "cam" || rec.Error != nil || len(rec.CustomTags()) == 0 || len(rec.CustomTags()) == len(rec.Tags) {
			t.Errorf("record %d: stream %q, error %v, %d custom tags of %d", i, rec.Stream, rec.Error, len(rec.CustomTags()), len(rec.Tags))
		}
	}
	if e := got[1].Error; e == nil || e.Code != "FRAGMENT_NOT_FOUND" || e.ID != 4000 || e.Key() != "FRAGMENT_NOT_FOUND" {
		t.Errorf("record 1 Error = %+v, want FRAGMENT_NOT_FOUND 4000", e)
	}
}

// TestRecordJSONNames checks the JSON field names against kvsdump's.
func TestRecordJSONNames(t *testing.T) {
	v := int64(5)
	r := Record{Stream: "s", Index: 1, Offset: 6, Size: 2, Partial: true,
		Damaged:        []Damage{{Offset: 7, Element: "Cluster", Cause: "CRC-32 mismatch", Stored: "0x00000001", Computed: "0x00000002", Skipped: 8}},
		FragmentNumber: "3", ServerTimestamp: "x", ProducerTimestamp: "y",
		DurationMillis: 4, MillisBehindNow: &v, ContinuationToken: "c", Error: &Error{"E", 1, "m"},
		Tags: []Tag{{Name: "n", Binary: []byte{1}}}, Tracks: []Track{{1, "video", "V", 1, 2, 3, 4}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"stream":"s","index":1,"offset":6,"size":2,"partial":true,` +
		`"damaged":[{"offset":7,"element":"Cluster","cause":"CRC-32 mismatch","stored":"0x00000001","computed":"0x00000002","skipped":8}],` +
		`"fragmentNumber":"3","serverTimestamp":"x","producerTimestamp":"y",` +
		`"durationMs":4,"millisBehindNow":5,"continuationToken":"c","error":{"code":"E","id":1,"message":"m"},` +
		`"tags":[{"name":"n","binary":"AQ=="}],"tracks":[{"number":1,"type":"video","codecId":"V","blocks":1,"frames":2,"keyframes":3,"bytes":4}]}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
}
