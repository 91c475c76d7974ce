// Package awstest holds test helpers that read from KVS through kvsaws (an
// emulator's endpoint), kept apart from mkvtest so that the tests of mkv, kvs
// and fuzz never pull in the AWS SDK.
package awstest

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/tags"
)

// ClusterOffset returns the offset of the Cluster in the GetMedia unit
// of stream's fragment after the one numbered after, read from the KVS
// data endpoint (an emulator's) with cfg: corrupting its first byte makes
// an invalid element ID there.
func ClusterOffset(t testing.TB, cfg aws.Config, endpoint, stream string, after tags.FragmentNumber) int64 {
	t.Helper()
	in := &kvsaws.GetMediaInput{StreamName: stream, StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtFragmentNumber, AfterFragmentNumber: after}}
	out, err := kvsaws.NewHTTPDataPlane(cfg).GetMedia(context.Background(), endpoint, in)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Payload.Close()
	body, err := io.ReadAll(out.Payload)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(body, mkv.AppendHeader(nil, mkv.IDCluster, mkv.UnknownSize, 8)[:4])
	if at < 0 {
		t.Fatal("no Cluster in the unit")
	}
	return int64(at)
}
