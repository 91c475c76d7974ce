package kvstest_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"
	"github.com/aws/smithy-go"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestSDKClient calls the emulator with the SDK's own kinesisvideo client:
// signed right it answers, signed wrong it refuses as KVS does.
func TestSDKClient(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("cam", kvstest.StreamConfig{Fragments: 2})
	in := &kinesisvideo.GetDataEndpointInput{StreamName: aws.String("cam"), APIName: types.APINameGetMedia}

	out, err := kinesisvideo.NewFromConfig(srv.Config()).GetDataEndpoint(context.Background(), in)
	if err != nil || aws.ToString(out.DataEndpoint) != srv.DataEndpoint("cam") {
		t.Fatalf("GetDataEndpoint: %v, %v", out, err)
	}

	cfg := srv.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(kvstest.AccessKeyID, "not the secret", "")
	cfg.RetryMaxAttempts = 1
	_, err = kinesisvideo.NewFromConfig(cfg).GetDataEndpoint(context.Background(), in)
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v", err)
	}

	in.StreamName = aws.String("nope")
	_, err = kinesisvideo.NewFromConfig(srv.Config()).GetDataEndpoint(context.Background(), in)
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown stream: %v, want the SDK's ResourceNotFoundException", err)
	}
	if n := srv.Requests(kvstest.GetDataEndpoint); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestGetMediaNow checks that GetMedia from NOW on a stream with nothing
// newer gives an empty body, and that faults come in the order given.
func TestGetMediaNow(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("cam", kvstest.StreamConfig{Fragments: 2})
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	ctx := context.Background()
	out, err := dp.GetMedia(ctx, srv.URL(), &kvsaws.GetMediaInput{StreamName: "cam", StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out.Payload)
	out.Payload.Close()
	if err != nil || len(b) != 0 || out.ContentType != "video/webm" {
		t.Fatalf("NOW: %d bytes, %q, %v", len(b), out.ContentType, err)
	}
	srv.Inject(kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.GetMedia}, Status: 500, Type: "InternalFailure"}, kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.GetMedia}, Status: 400, Type: kvsaws.CodeConnectionLimitExceeded})
	for _, want := range []string{"InternalFailure", kvsaws.CodeConnectionLimitExceeded} {
		_, err := dp.GetMedia(ctx, srv.URL(), &kvsaws.GetMediaInput{StreamName: "cam", StartSelector: kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}})
		var e *kvsaws.APIError
		if !errors.As(err, &e) || e.Code != want {
			t.Fatalf("got %v, want %s", err, want)
		}
	}
}
