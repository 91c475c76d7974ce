package kvstest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	kvtypes "github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"
	"github.com/aws/smithy-go"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvsgen"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestStreamLifecycle goes the way a user of the SDK does: CreateStream
// through the control plane, PutMedia into it, read it back with
// ListFragments and GetMediaForFragmentList, DeleteStream, and then the
// stream is gone for the data plane too.
func TestStreamLifecycle(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	kv := kinesisvideo.NewFromConfig(srv.Config())
	created, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("cam"), DataRetentionInHours: aws.Int32(24)})
	if err != nil {
		t.Fatal(err)
	}
	g := kvsgen.Generator{Fragments: 4, FPS: 10, FragmentDuration: 500 * time.Millisecond, Media: true, Start: time.Now().Add(-time.Minute)}
	acks, err := kvstest.Produce(ctx, srv.Config(), srv.URL(), "cam", bytes.NewReader(g.Bytes()), 1000)
	if err != nil {
		t.Fatal(err)
	}
	persisted := 0
	for _, a := range acks {
		if a.EventType == kvstest.EventPersisted {
			persisted++
		}
	}
	if persisted != g.Fragments {
		t.Fatalf("%d PERSISTED acks, want %d: %+v", persisted, g.Fragments, acks)
	}
	c := kvsaws.NewFromConfig(srv.Config())
	sel := kvsaws.Range(kvsaws.ServerTimestamp, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	n := 0
	for f, err := range c.FetchRange(ctx, *created.StreamARN, sel) {
		if err != nil {
			t.Fatal(err)
		}
		if f.Track(kvsgen.VideoTrackNumber) == nil || len(f.Frames) == 0 {
			t.Errorf("fragment %d: no video frames", f.Index)
		}
		n++
	}
	if n != g.Fragments {
		t.Fatalf("read back %d fragments, want %d", n, g.Fragments)
	}
	if _, err := kv.DeleteStream(ctx, &kinesisvideo.DeleteStreamInput{StreamARN: created.StreamARN}); err != nil {
		t.Fatal(err)
	}
	for _, err := range c.ListFragments(ctx, "cam", sel) {
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != kvsaws.CodeResourceNotFound {
			t.Errorf("after DeleteStream: %v, want ResourceNotFound", err)
		}
		break
	}
	var nf *kvtypes.ResourceNotFoundException
	if _, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam")}); !errors.As(err, &nf) {
		t.Errorf("DescribeStream after DeleteStream: %v", err)
	}
}
