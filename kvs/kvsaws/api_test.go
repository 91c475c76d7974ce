package kvsaws_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

func httpPlane(t *testing.T, h http.HandlerFunc) (*kvsaws.HTTPDataPlane, string) {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return kvsaws.NewHTTPDataPlane(aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", "")}), srv.URL
}

// TestListFragmentsTimestampForms decodes a ListFragments page whose
// timestamps are written as AWS services write JSON numbers: exponent,
// integer, decimal, and null for absent.
func TestListFragmentsTimestampForms(t *testing.T) {
	dp, url := httpPlane(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"Fragments":[
			{"FragmentNumber":"9","ProducerTimestamp":1.735442939457E9,"ServerTimestamp":1735442940},
			{"FragmentNumber":"10","ProducerTimestamp":1735442941.457,"ServerTimestamp":null}]}`))
	})
	out, err := dp.ListFragments(context.Background(), url, &kvsaws.ListFragmentsInput{StreamName: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 12, 29, 3, 28, 59, 457e6, time.UTC)
	if len(out.Fragments) != 2 || !out.Fragments[0].ProducerTimestamp.Time().Equal(want) ||
		!out.Fragments[1].ProducerTimestamp.Time().Equal(want.Add(2*time.Second)) ||
		out.Fragments[0].ServerTimestamp.Time().Unix() != 1735442940 || !out.Fragments[1].ServerTimestamp.IsZero() {
		t.Errorf("decoded %+v", out.Fragments)
	}
	kvsaws.SortFragments(out.Fragments)
	if out.Fragments[0].FragmentNumber != "9" {
		t.Errorf("sorted: %v first", out.Fragments[0].FragmentNumber)
	}
}

// TestErrorTypeForms reads the error type in the SDK's order from each
// form AWS answers with: the X-Amzn-ErrorType header (cut at ':'), the
// body's "code", and "__type" with a namespace.
func TestErrorTypeForms(t *testing.T) {
	tests := []struct {
		name   string
		header string
		body   string
	}{
		{"header", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.kinesisvideo/", `{"message":"gone"}`},
		{"code", "", `{"code":"ResourceNotFoundException","message":"gone"}`},
		{"__type", "", `{"__type":"com.amazonaws.kinesisvideo#ResourceNotFoundException","Message":"gone"}`},
		{"header first", "ResourceNotFoundException", `{"code":"Other","__type":"Another","message":"gone"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dp, url := httpPlane(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("X-Amzn-ErrorType", tt.header)
				}
				w.Header().Set("X-Amzn-RequestId", "req-1")
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(tt.body))
			})
			_, err := dp.GetMedia(context.Background(), url, &kvsaws.GetMediaInput{StreamName: "cam"})
			var api smithy.APIError
			var e *kvsaws.APIError
			if !errors.As(err, &api) || api.ErrorCode() != kvsaws.CodeResourceNotFound || api.ErrorMessage() != "gone" ||
				!errors.As(err, &e) || e.StatusCode != 404 || e.RequestID != "req-1" || e.Operation != "GetMedia" {
				t.Errorf("got %#v", err)
			}
		})
	}
}

// TestInvalidInput refuses what the service would refuse, before a call.
func TestInvalidInput(t *testing.T) {
	c := scripted(newPlane(1, nil))
	ctx := context.Background()
	for name, err := range map[string]error{
		"empty selector": first(c.FetchRange(ctx, "cam", kvsaws.FragmentSelector{})),
		"no end":         first(c.ListFragments(ctx, "cam", kvsaws.FragmentSelector{FragmentSelectorType: kvsaws.ServerTimestamp})),
		"backwards":      first(c.ListFragments(ctx, "cam", kvsaws.Range(kvsaws.ServerTimestamp, time.Now(), time.Now().Add(-time.Hour)))),
		"no stream":      first(c.Follow(ctx, "", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow})),
		"no token":       first(c.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtContinuationToken})),
		"unknown type":   first(c.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: "LATEST"})),
	} {
		if !errors.Is(err, kvsaws.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
}

func first[T any](seq func(func(T, error) bool)) error {
	var got error
	for _, err := range seq {
		got = err
		break
	}
	return got
}
