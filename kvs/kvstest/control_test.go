package kvstest_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"
	"github.com/aws/smithy-go"

	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestControlPlane drives the control plane with the SDK's kinesisvideo
// client: create, describe (by name and by ARN), list, get data
// endpoints for every API, delete, and the model's errors.
func TestControlPlane(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("generated", kvstest.StreamConfig{Fragments: 1})
	cfg := srv.Config()
	cfg.RetryMaxAttempts = 1
	kv := kinesisvideo.NewFromConfig(cfg)
	ctx := context.Background()

	created, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("cam"), DataRetentionInHours: aws.Int32(48), MediaType: aws.String("video/h264")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.StreamARN)
	m := regexp.MustCompile(`^arn:aws:kinesisvideo:us-west-2:[0-9]{12}:stream/cam/([0-9]{13})$`).FindStringSubmatch(arn)
	if m == nil {
		t.Fatalf("ARN %q is not KVS's format", arn)
	}
	for _, in := range []*kinesisvideo.DescribeStreamInput{{StreamName: aws.String("cam")}, {StreamARN: aws.String(arn)}} {
		out, err := kv.DescribeStream(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		info := out.StreamInfo
		if aws.ToString(info.StreamName) != "cam" || aws.ToString(info.StreamARN) != arn || info.Status != types.StatusActive ||
			aws.ToInt32(info.DataRetentionInHours) != 48 || aws.ToString(info.MediaType) != "video/h264" || aws.ToString(info.Version) == "" ||
			fmt.Sprint(info.CreationTime.UnixMilli()) != m[1] {
			t.Errorf("DescribeStream: %+v", info)
		}
	}
	_, err = kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("cam")})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("CreateStream again: %v, want ResourceInUseException", err)
	}

	list, err := kv.ListStreams(ctx, &kinesisvideo.ListStreamsInput{})
	if err != nil || len(list.StreamInfoList) != 2 || aws.ToString(list.StreamInfoList[0].StreamName) != "cam" || aws.ToString(list.StreamInfoList[1].StreamName) != "generated" {
		t.Fatalf("ListStreams: %+v, %v", list, err)
	}
	var names []string
	for p := kinesisvideo.NewListStreamsPaginator(kv, &kinesisvideo.ListStreamsInput{MaxResults: aws.Int32(1)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.StreamInfoList {
			names = append(names, aws.ToString(s.StreamName))
		}
	}
	if fmt.Sprint(names) != "[cam generated]" {
		t.Errorf("paged ListStreams: %v", names)
	}
	list, err = kv.ListStreams(ctx, &kinesisvideo.ListStreamsInput{StreamNameCondition: &types.StreamNameCondition{ComparisonOperator: types.ComparisonOperatorBeginsWith, ComparisonValue: aws.String("gen")}})
	if err != nil || len(list.StreamInfoList) != 1 {
		t.Errorf("ListStreams BEGINS_WITH gen: %+v, %v", list, err)
	}

	// Endpoints for the APIs the emulator serves; a typed error naming
	// the operation for the others.
	for _, api := range types.APIName("").Values() {
		out, err := kv.GetDataEndpoint(ctx, &kinesisvideo.GetDataEndpointInput{StreamARN: aws.String(arn), APIName: api})
		var ae smithy.APIError
		switch api {
		case types.APINameGetHlsStreamingSessionUrl, types.APINameGetDashStreamingSessionUrl, types.APINameGetClip, types.APINameGetImages:
			if !errors.As(err, &ae) || ae.ErrorCode() != kvstest.ErrUnsupportedOperation || !strings.Contains(ae.ErrorMessage(), "does not emulate Get") {
				t.Errorf("GetDataEndpoint %s: %v, want %s", api, err, kvstest.ErrUnsupportedOperation)
			}
		default:
			if err != nil || aws.ToString(out.DataEndpoint) != srv.DataEndpoint("cam") {
				t.Errorf("GetDataEndpoint %s: %v", api, err)
			}
		}
	}

	errorCases := []struct {
		name string
		call func() error
		code string
	}{
		{"GetDataEndpoint without a stream", func() error {
			_, err := kv.GetDataEndpoint(ctx, &kinesisvideo.GetDataEndpointInput{APIName: types.APINameGetMedia})
			return err
		}, "InvalidArgumentException"},
		{"an ARN of another creation", func() error {
			_, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamARN: aws.String("arn:aws:kinesisvideo:us-west-2:123456789012:stream/cam/1")})
			return err
		}, "ResourceNotFoundException"},
		{"a malformed ARN", func() error {
			_, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamARN: aws.String("arn:cam")})
			return err
		}, "InvalidArgumentException"},
		{"a stale version", func() error {
			_, err := kv.DeleteStream(ctx, &kinesisvideo.DeleteStreamInput{StreamARN: aws.String(arn), CurrentVersion: aws.String("old")})
			return err
		}, "VersionMismatchException"},
		{"a bad name", func() error {
			_, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("a/b")})
			return err
		}, "InvalidArgumentException"},
		{"delete", func() error {
			_, err := kv.DeleteStream(ctx, &kinesisvideo.DeleteStreamInput{StreamARN: aws.String(arn)})
			return err
		}, ""},
		{"describe the deleted", func() error {
			_, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam")})
			return err
		}, "ResourceNotFoundException"},
	}
	for _, tt := range errorCases {
		err := tt.call()
		var api smithy.APIError
		if tt.code == "" && err != nil || tt.code != "" && (!errors.As(err, &api) || api.ErrorCode() != tt.code) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.code)
		}
	}
}
