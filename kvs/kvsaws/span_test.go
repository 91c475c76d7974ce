package kvsaws_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

// TestFragmentSpan finds the earliest and latest timestamps of a stream's
// fragments, of either kind, all of them or the first listed up to a
// limit, and fails for a stream that does not exist.
func TestFragmentSpan(t *testing.T) {
	srv, _ := emulator(t, 6)
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	infos := srv.Fragments("cam")
	ctx := context.Background()
	tests := []struct {
		name  string
		typ   kvsaws.FragmentSelectorType
		limit int
		want  kvsaws.Span
	}{
		{"producer, all", kvsaws.ProducerTimestamp, 0, kvsaws.Span{Fragments: 6, Complete: true, First: infos[0].ProducerTimestamp.Time(), Last: infos[5].ProducerTimestamp.Time()}},
		{"server, all", kvsaws.ServerTimestamp, 6, kvsaws.Span{Fragments: 6, Complete: true, First: infos[0].ServerTimestamp.Time(), Last: infos[5].ServerTimestamp.Time()}},
		{"first 4", kvsaws.ProducerTimestamp, 4, kvsaws.Span{Fragments: 4, First: infos[0].ProducerTimestamp.Time(), Last: infos[3].ProducerTimestamp.Time()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.FragmentSpan(ctx, "cam", tt.typ, tt.limit)
			if err != nil || got.Fragments != tt.want.Fragments || got.Complete != tt.want.Complete || !got.First.Equal(tt.want.First) || !got.Last.Equal(tt.want.Last) {
				t.Errorf("FragmentSpan = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if _, err := c.FragmentSpan(ctx, "nope", kvsaws.ProducerTimestamp, 0); !errors.Is(err, kvsaws.ErrResourceNotFound) {
		t.Errorf("FragmentSpan of a stream not found: %v, want ErrResourceNotFound", err)
	}
}

// TestDescribeEmpty names the empty range and where the stream's
// fragments are, and says whether there are any elsewhere.
func TestDescribeEmpty(t *testing.T) {
	srv, _ := emulator(t, 3)
	c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
	ctx := context.Background()
	start, end := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)
	msg, elsewhere := c.DescribeEmpty(ctx, "cam", kvsaws.ServerTimestamp, start, end, 0)
	want := "no fragment of cam in 2000-01-01T00:00:00Z to 2000-01-02T00:00:00Z (server timestamps); its 3 fragments are from "
	if !elsewhere || !strings.HasPrefix(msg, want) {
		t.Errorf("DescribeEmpty = %q, %v; want %q..., true", msg, elsewhere, want)
	}
	msg, elsewhere = c.DescribeEmpty(ctx, "nope", kvsaws.ProducerTimestamp, start, end, 0)
	if want := "no fragment of nope in 2000-01-01T00:00:00Z to 2000-01-02T00:00:00Z (producer timestamps)"; elsewhere || msg != want {
		t.Errorf("DescribeEmpty of a stream not found = %q, %v; want %q, false", msg, elsewhere, want)
	}
}
