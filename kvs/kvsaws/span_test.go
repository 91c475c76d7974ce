package kvsaws_test

import (
	"context"
	"errors"
	"testing"

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
