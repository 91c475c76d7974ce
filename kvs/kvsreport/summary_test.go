package kvsreport

import (
	"encoding/json"
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// rec is a record of fragment n starting at offset from t0.
func rec(stream, n string, offset, dur time.Duration) Record {
	return Record{Stream: stream, FragmentNumber: n, ProducerTimestamp: t0.Add(offset).Format(TimeLayout), DurationMillis: dur.Milliseconds()}
}

func TestSummary(t *testing.T) {
	notFound := Record{Stream: "a", FragmentNumber: "9", Error: &Error{Code: "ResourceNotFoundException"}}
	timedErr := rec("a", "5", 4*time.Second, 2*time.Second)
	timedErr.Error = &Error{ID: 4000}
	tests := []struct {
		name      string
		records   []Record
		gap       time.Duration
		wantSpans []Span
		wantGaps  []Gap
		wantErrs  map[string]int
		wantDurMs int64
	}{
		{
			name:      "contiguous",
			records:   []Record{rec("a", "1", 0, 2*time.Second), rec("a", "2", 2*time.Second, 2*time.Second), rec("a", "3", 4*time.Second, 2*time.Second)},
			gap:       time.Second,
			wantSpans: []Span{{t0, t0.Add(6 * time.Second), "1", "3", 3}},
			wantDurMs: 6000,
		},
		{
			name:      "space within the threshold",
			records:   []Record{rec("a", "1", 0, 2*time.Second), rec("a", "2", 2500*time.Millisecond, 2*time.Second)},
			gap:       time.Second,
			wantSpans: []Span{{t0, t0.Add(4500 * time.Millisecond), "1", "2", 2}},
			wantDurMs: 4000,
		},
		{
			name:      "gap, out of order",
			records:   []Record{rec("a", "3", 10*time.Second, 2*time.Second), rec("a", "1", 0, 2*time.Second), rec("a", "2", 2*time.Second, 2*time.Second)},
			gap:       time.Second,
			wantSpans: []Span{{t0, t0.Add(4 * time.Second), "1", "2", 2}, {t0.Add(10 * time.Second), t0.Add(12 * time.Second), "3", "3", 1}},
			wantGaps:  []Gap{{t0.Add(4 * time.Second), t0.Add(10 * time.Second), 6000, "2", "3"}},
			wantDurMs: 6000,
		},
		{
			name:      "errors leave a gap and are counted",
			records:   []Record{rec("a", "1", 0, 2*time.Second), rec("a", "2", 2*time.Second, 2*time.Second), timedErr, rec("a", "6", 6*time.Second, 2*time.Second), notFound},
			gap:       time.Second,
			wantSpans: []Span{{t0, t0.Add(4 * time.Second), "1", "2", 2}, {t0.Add(6 * time.Second), t0.Add(8 * time.Second), "6", "6", 1}},
			wantGaps:  []Gap{{t0.Add(4 * time.Second), t0.Add(6 * time.Second), 2000, "2", "6"}},
			wantErrs:  map[string]int{"ResourceNotFoundException": 1, "ERROR_ID 4000": 1},
			wantDurMs: 6000,
		},
		{
			name:      "a long fragment covers the next ones",
			records:   []Record{rec("a", "1", 0, 10*time.Second), rec("a", "2", 2*time.Second, time.Second), rec("a", "3", 12*time.Second, time.Second)},
			gap:       time.Second,
			wantSpans: []Span{{t0, t0.Add(10 * time.Second), "1", "1", 2}, {t0.Add(12 * time.Second), t0.Add(13 * time.Second), "3", "3", 1}},
			wantGaps:  []Gap{{t0.Add(10 * time.Second), t0.Add(12 * time.Second), 2000, "1", "3"}},
			wantDurMs: 12000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSummary("a", tt.gap)
			for _, r := range tt.records {
				s.Add(r)
			}
			if diff := cmp.Diff(tt.wantSpans, s.Spans); diff != "" {
				t.Errorf("Spans mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantGaps, s.Gaps()); diff != "" {
				t.Errorf("Gaps() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErrs, s.Errors); diff != "" {
				t.Errorf("Errors mismatch (-want +got):\n%s", diff)
			}
			if s.Fragments != len(tt.records) || s.DurationMillis != tt.wantDurMs {
				t.Errorf("Fragments, DurationMillis = %d, %d; want %d, %d", s.Fragments, s.DurationMillis, len(tt.records), tt.wantDurMs)
			}
		})
	}
}

// TestSummaryMergeOrder checks that any split of the records into
// Summaries merged in any order gives the Summary of them all, as a
// distributed combine needs.
func TestSummaryMergeOrder(t *testing.T) {
	var records []Record
	off := time.Duration(0)
	rnd := rand.New(rand.NewSource(1))
	for i := range 500 {
		d := time.Duration(1000+rnd.Intn(2000)) * time.Millisecond
		r := rec("a", strconv.Itoa(i+1), off, d)
		if rnd.Intn(50) == 0 {
			r.Error = &Error{Code: "X"}
		}
		if rnd.Intn(40) == 0 {
			r.Partial = true
			r.Damaged = []Damage{{Offset: int64(i), Cause: "invalid element size", Skipped: int64(rnd.Intn(1000))}}
		}
		records = append(records, r)
		off += d + time.Duration(rnd.Intn(1500))*time.Millisecond
	}
	want := NewSummary("a", time.Second)
	for _, r := range records {
		want.Add(r)
	}
	if len(want.Gaps()) < 10 || want.Damaged < 5 {
		t.Fatalf("only %d gaps and %d damaged fragments: the test needs more", len(want.Gaps()), want.Damaged)
	}
	for seed := range int64(20) {
		rnd := rand.New(rand.NewSource(seed))
		parts := make([]Summary, 1+rnd.Intn(8))
		for i := range parts {
			parts[i] = NewSummary("a", time.Second)
		}
		for _, i := range rnd.Perm(len(records)) {
			parts[rnd.Intn(len(parts))].Add(records[i])
		}
		got := NewSummary("a", time.Second)
		for _, i := range rnd.Perm(len(parts)) {
			got.Merge(parts[i])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("seed %d: merged Summary mismatch (-want +got):\n%s", seed, diff)
		}
	}
}

// TestSummaryJSON checks that a Summary survives JSON (kvsbeam codes it so)
// and that its JSON lists the gaps.
func TestSummaryJSON(t *testing.T) {
	s := NewSummary("a", time.Second)
	for _, r := range []Record{rec("a", "1", 0, 2*time.Second), rec("a", "2", 5*time.Second, 2*time.Second)} {
		s.Add(r)
	}
	s.Add(Record{Stream: "a", Error: &Error{Code: "X"}})
	s.Add(Record{Stream: "a", Damaged: []Damage{{Cause: "CRC-32 mismatch"}, {Cause: "invalid element ID", Skipped: 40}}})
	s.Add(Record{Stream: "a", Partial: true, Damaged: []Damage{{Cause: "invalid element size", Skipped: 2}}})
	if s.Damaged != 2 || s.SkippedBytes != 42 || s.Partial != 1 {
		t.Errorf("Damaged, SkippedBytes, Partial = %d, %d, %d; want 2, 42, 1", s.Damaged, s.SkippedBytes, s.Partial)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back); diff != "" {
		t.Errorf("JSON round trip mismatch (-want +got):\n%s", diff)
	}
	var view struct{ Gaps []Gap }
	if err := json.Unmarshal(b, &view); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Gaps(), view.Gaps); diff != "" {
		t.Errorf("JSON gaps mismatch (-want +got):\n%s", diff)
	}
}
