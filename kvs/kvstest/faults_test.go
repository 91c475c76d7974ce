package kvstest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

var everything = kvsaws.Range(kvsaws.ProducerTimestamp, time.Unix(0, 0), time.Now())

// TestErrorForms checks that each form in which AWS names an error's type
// reaches the client as the same typed error.
func TestErrorForms(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("cam", kvstest.StreamConfig{Fragments: 2})
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	for _, form := range []kvstest.ErrorForm{kvstest.ErrorInHeader, kvstest.ErrorInCode, kvstest.ErrorInType} {
		srv.Inject(kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.ListFragments}, Status: 400, Type: kvsaws.CodeClientLimitExceeded, Form: form})
		_, err := dp.ListFragments(context.Background(), srv.URL(), &kvsaws.ListFragmentsInput{StreamName: "cam", FragmentSelector: &everything})
		var e *kvsaws.APIError
		if !errors.As(err, &e) || e.Code != kvsaws.CodeClientLimitExceeded || e.StatusCode != 400 {
			t.Errorf("form %d: %v", form, err)
		}
	}
}

// TestRateLimit checks KVS's per-stream, per-API rate: the calls past the
// limit within a second are refused with ClientLimitExceeded, other
// streams and APIs are not, and without a limit a burst passes.
func TestRateLimit(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("a", kvstest.StreamConfig{Fragments: 1})
	srv.AddStream("b", kvstest.StreamConfig{Fragments: 1})
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	list := func(stream string) error {
		_, err := dp.ListFragments(context.Background(), srv.URL(), &kvsaws.ListFragmentsInput{StreamName: stream, FragmentSelector: &everything})
		return err
	}
	for range 20 {
		if err := list("a"); err != nil {
			t.Fatalf("no limit set: %v", err)
		}
	}
	srv.EnforceKVSLimits()
	refused := 0
	start := time.Now()
	for range 8 {
		var e *kvsaws.APIError
		if err := list("a"); errors.As(err, &e) && e.Code == kvsaws.CodeClientLimitExceeded {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// 8 calls over more than a second could rightly all pass: judge the
	// count only when the burst took less.
	if time.Since(start) < time.Second && refused != 3 {
		t.Errorf("%d of 8 calls refused at 5 a second, want 3", refused)
	}
	if err := list("b"); err != nil {
		t.Errorf("another stream: %v", err)
	}
	if _, err := dp.GetMediaForFragmentList(context.Background(), srv.URL(), &kvsaws.GetMediaForFragmentListInput{StreamName: "a", Fragments: srv.AddStream("c", kvstest.StreamConfig{Fragments: 1})}); err != nil {
		t.Errorf("another API: %v", err)
	}
}

// TestScopedFault checks that a fault for one stream leaves another's
// calls alone and waits for its own.
func TestScopedFault(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("a", kvstest.StreamConfig{Fragments: 1})
	srv.AddStream("b", kvstest.StreamConfig{Fragments: 1})
	srv.Inject(kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.ListFragments, Stream: "b"}, Status: 500, Type: "InternalFailure"})
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	for _, tt := range []struct {
		stream string
		fails  bool
	}{{"a", false}, {"a", false}, {"b", true}, {"b", false}} {
		_, err := dp.ListFragments(context.Background(), srv.URL(), &kvsaws.ListFragmentsInput{StreamName: tt.stream, FragmentSelector: &everything})
		if (err != nil) != tt.fails {
			t.Errorf("stream %s: %v, want failure %v", tt.stream, err, tt.fails)
		}
	}
}

// TestFaultCount checks that a fault with a Count strikes that many calls,
// and that faults strike in the order injected.
func TestFaultCount(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("a", kvstest.StreamConfig{Fragments: 1})
	srv.Inject(
		kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.ListFragments}, Status: 500, Type: "InternalFailure", Count: 2},
		kvstest.Throttled(kvstest.ListFragments, 1),
	)
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	for i, want := range []string{"InternalFailure", "InternalFailure", kvsaws.CodeClientLimitExceeded, ""} {
		_, err := dp.ListFragments(context.Background(), srv.URL(), &kvsaws.ListFragmentsInput{StreamName: "a", FragmentSelector: &everything})
		var apiErr *kvsaws.APIError
		switch {
		case want == "" && err != nil:
			t.Errorf("call %d: %v, want none", i, err)
		case want != "" && (!errors.As(err, &apiErr) || apiErr.Code != want):
			t.Errorf("call %d: %v, want %s", i, err, want)
		}
	}
}

// TestInjectRefuses checks that Inject and the admin endpoint refuse a
// fault that lacks what its kind needs.
func TestInjectRefuses(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	for _, tt := range []struct {
		name  string
		fault kvstest.Fault
		path  string
		body  string
	}{
		{name: "no kind", fault: kvstest.Fault{Scope: kvstest.Scope{API: kvstest.GetMedia}}, path: "nothing", body: `{"API":"GetMedia"}`},
		{name: "no API", fault: kvstest.Fault{Kind: kvstest.CutBody, At: 10}, path: "cut", body: `{"At":10}`},
		{name: "no status", fault: kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.GetMedia}, Type: "X"}, path: "fail", body: `{"API":"GetMedia","Type":"X"}`},
		{name: "error unit without a fragment", fault: kvstest.Fault{Kind: kvstest.InBandError, Scope: kvstest.Scope{Stream: "a"}}, path: "error-unit", body: `{"Stream":"a","Code":"X"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("Inject(%+v) did not refuse it", tt.fault)
					}
				}()
				srv.Inject(tt.fault)
			}()
			resp, err := http.Post(srv.URL()+kvstest.AdminPrefix+tt.path, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 4 {
				t.Errorf("POST %s %s: %s, want a refusal", tt.path, tt.body, resp.Status)
			}
		})
	}
}

// TestMoveEndpoint checks that a moved data endpoint refuses calls with
// InvalidEndpointException, and that the client, told to call
// GetDataEndpoint again, does so and carries on.
func TestMoveEndpoint(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("cam", kvstest.StreamConfig{Fragments: 3})
	old := srv.DataEndpoint("cam")
	srv.Inject(kvstest.Fault{Kind: kvstest.MoveEndpoint, Scope: kvstest.Scope{Stream: "cam"}})
	if srv.DataEndpoint("cam") == old {
		t.Fatal("the endpoint did not move")
	}
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	_, err := dp.ListFragments(context.Background(), old, &kvsaws.ListFragmentsInput{StreamName: "cam", FragmentSelector: &everything})
	var e *kvsaws.APIError
	if !errors.As(err, &e) || e.Code != kvsaws.CodeInvalidEndpoint || e.StatusCode != 400 {
		t.Fatalf("old endpoint: %v", err)
	}
	c := kvsaws.NewFromConfig(srv.Config())
	get := func() int {
		n := 0
		for _, err := range c.GetFragments(context.Background(), "cam", numbers) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	if n := get(); n != 3 {
		t.Fatalf("%d fragments", n)
	}
	srv.Inject(kvstest.Fault{Kind: kvstest.MoveEndpoint, Scope: kvstest.Scope{Stream: "cam"}})
	if n := get(); n != 3 {
		t.Errorf("%d fragments after the move", n)
	}
	if n := srv.Requests(kvstest.GetDataEndpoint); n != 2 {
		t.Errorf("%d GetDataEndpoint calls, want 2", n)
	}
}

// TestTimestampForms checks that ListFragments writes each form and that
// every form reads back as the same timestamps.
func TestTimestampForms(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("cam", kvstest.StreamConfig{Fragments: 4, Start: time.Date(2017, 11, 28, 6, 55, 8, 0, time.UTC), FragmentDuration: 1500 * time.Millisecond})
	want := srv.Fragments("cam")
	tests := []struct {
		form kvstest.TimestampForm
		has  []string
	}{
		{kvstest.TimestampDecimal, []string{`"ProducerTimestamp":1511852108.0,`, `1511852109.5,`}},
		{kvstest.TimestampExponent, []string{`"ProducerTimestamp":1.511852108E9,`, `1.5118521095E9,`}},
		{kvstest.TimestampInteger, []string{`"ProducerTimestamp":1511852108,`, `15118521095E-1,`}},
		{kvstest.TimestampMixed, []string{`E9,`, `E-`}},
	}
	for _, tt := range tests {
		srv.SetTimestampForm(tt.form)
		body := rawCall(t, srv, "/listFragments", `{"StreamName":"cam","FragmentSelector":{"FragmentSelectorType":"PRODUCER_TIMESTAMP","TimestampRange":{"StartTimestamp":0,"EndTimestamp":2e9}}}`)
		if tt.form == kvstest.TimestampMixed && !regexp.MustCompile(`Timestamp":[0-9]+\.[0-9]+,`).MatchString(body) {
			t.Errorf("mixed: no plain decimal in %s", body)
		}
		for _, s := range tt.has {
			if !strings.Contains(body, s) {
				t.Errorf("form %d: no %s in %s", tt.form, s, body)
			}
		}
		got, err := kvsaws.NewHTTPDataPlane(srv.Config()).ListFragments(context.Background(), srv.URL(), &kvsaws.ListFragmentsInput{StreamName: "cam", FragmentSelector: &everything})
		if err != nil {
			t.Fatal(err)
		}
		kvsaws.SortFragments(got.Fragments)
		for i, f := range got.Fragments {
			if !f.ProducerTimestamp.Equal(want[i].ProducerTimestamp) || !f.ServerTimestamp.Equal(want[i].ServerTimestamp) {
				t.Errorf("form %d, fragment %d: %v %v, want %v %v", tt.form, i, f.ProducerTimestamp, f.ServerTimestamp, want[i].ProducerTimestamp, want[i].ServerTimestamp)
			}
		}
	}
}

// TestListFragmentsNextTokenOnly pages as AWS's ListFragmentWorker does:
// the first request with a FragmentSelector, the next ones with only the
// stream and the NextToken.
func TestListFragmentsNextTokenOnly(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("cam", kvstest.StreamConfig{Fragments: 7})
	dp := kvsaws.NewHTTPDataPlane(srv.Config())
	in := &kvsaws.ListFragmentsInput{StreamName: "cam", MaxResults: 3, FragmentSelector: &everything}
	seen := map[string]bool{}
	for pages := 1; ; pages++ {
		out, err := dp.ListFragments(context.Background(), srv.URL(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Fragments {
			seen[string(f.FragmentNumber)] = true
		}
		if out.NextToken == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		in = &kvsaws.ListFragmentsInput{StreamName: "cam", MaxResults: 3, NextToken: out.NextToken}
	}
	if len(seen) != 7 {
		t.Errorf("%d distinct fragments, want 7", len(seen))
	}
	_, err := dp.ListFragments(context.Background(), srv.URL(), &kvsaws.ListFragmentsInput{StreamName: "cam"})
	var e *kvsaws.APIError
	if !errors.As(err, &e) || e.Code != kvsaws.CodeInvalidArgument || e.StatusCode != 400 {
		t.Errorf("neither selector nor token: %v", err)
	}
}

// rawCall posts a signed JSON body and returns the answer's body.
func rawCall(t *testing.T, srv *kvstest.Server, path, body string) string {
	t.Helper()
	r, _ := http.NewRequest("POST", srv.URL()+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	creds := aws.Credentials{AccessKeyID: kvstest.AccessKeyID, SecretAccessKey: kvstest.SecretAccessKey}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "kinesisvideo", kvstest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	io.Copy(&b, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, b.String())
	}
	return b.String()
}
