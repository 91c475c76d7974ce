package kvstest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestAdminStreamEndsNow checks that a stream generated through the admin
// endpoint ends when it is added, unless its spec says when it starts.
func TestAdminStreamEndsNow(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	tests := []struct {
		name, spec string
		first      func(added time.Time) time.Time
	}{
		{"now", "fragments=5,duration=1s,counting", func(added time.Time) time.Time { return added.Add(-5 * time.Second) }},
		{"start", "fragments=5,counting,start=2020-01-02T03:04:05Z", func(time.Time) time.Time { return time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added := time.Now()
			resp, err := http.Post(srv.URL()+kvstest.AdminPrefix+"streams", "application/json",
				strings.NewReader(`{"Name":"`+tt.name+`","Spec":"`+tt.spec+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("admin: %s", resp.Status)
			}
			frags := srv.Fragments(tt.name)
			if len(frags) != 5 {
				t.Fatalf("%d fragments, want 5", len(frags))
			}
			// Timestamps are in milliseconds.
			got, want := frags[0].ProducerTimestamp.Time(), tt.first(added).Truncate(time.Millisecond)
			if d := got.Sub(want); d < 0 || d > time.Since(added) {
				t.Errorf("first fragment at %v, want %v (up to the time the call took later)", got, want)
			}
		})
	}
}
