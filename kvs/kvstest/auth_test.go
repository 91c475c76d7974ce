package kvstest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestSignatures sends requests signed the ways AWS's clients sign them,
// and wrongly, and checks each answer's status and error type. The
// requests are signed by the SDK's signer over the headers present at
// signing time; headers added after it (as botocore adds
// amz-sdk-invocation-id, the C producer x-amz-security-token) are not in
// SignedHeaders, and the server must verify over the client's list.
func TestSignatures(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("cam", kvstest.StreamConfig{Fragments: 1})
	body := []byte(`{"StreamName": "cam", "APIName": "GET_MEDIA"}`)
	good := aws.Credentials{AccessKeyID: kvstest.AccessKeyID, SecretAccessKey: kvstest.SecretAccessKey}
	hash := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	tests := []struct {
		name string
		// before runs before signing, after after it.
		before, after func(r *http.Request)
		creds         aws.Credentials
		payload       string // the payload hash signed (default: the body's)
		region        string
		service       string
		when          time.Time
		status        int
		code          string
	}{
		{name: "botocore's header set", before: func(r *http.Request) {
			r.Header = http.Header{"Content-Type": {"application/json"}}
		}, after: func(r *http.Request) {
			r.Header.Set("Amz-Sdk-Invocation-Id", "ab6f7d0a")
			r.Header.Set("Amz-Sdk-Request", "attempt=1")
			r.Header.Set("User-Agent", "aws-cli/1.45.11")
		}, status: 200},
		{name: "a signed session token", creds: aws.Credentials{AccessKeyID: kvstest.AccessKeyID, SecretAccessKey: kvstest.SecretAccessKey, SessionToken: "tok"}, status: 200},
		{name: "an unsigned session token", after: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "tok") }, status: 200},
		{name: "UNSIGNED-PAYLOAD", before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }, payload: "UNSIGNED-PAYLOAD", status: 403, code: "InvalidSignatureException"},
		{name: "a payload hash header of another body", before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", hash([]byte("{}"))) }, payload: hash([]byte("{}")), status: 403, code: "InvalidSignatureException"},
		{name: "a payload hash header", before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", hash(body)) }, status: 200},
		{name: "values with runs of spaces", before: func(r *http.Request) { r.Header.Set("X-Custom", "  a   b  ") }, status: 200},
		{name: "a signed header changed", before: func(r *http.Request) { r.Header.Set("X-Custom", "a") }, after: func(r *http.Request) { r.Header.Set("X-Custom", "b") }, status: 403, code: "InvalidSignatureException"},
		{name: "another body", payload: hash([]byte("{}")), status: 403, code: "InvalidSignatureException"},
		{name: "wrong secret", creds: aws.Credentials{AccessKeyID: kvstest.AccessKeyID, SecretAccessKey: "nope"}, status: 403, code: "InvalidSignatureException"},
		{name: "unknown key", creds: aws.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: kvstest.SecretAccessKey}, status: 403, code: "UnrecognizedClientException"},
		{name: "wrong region", region: "eu-west-1", status: 403, code: "InvalidSignatureException"},
		{name: "wrong service", service: "kinesis", status: 403, code: "InvalidSignatureException"},
		{name: "6 minutes old", when: time.Now().Add(-6 * time.Minute), status: 403, code: "InvalidSignatureException"},
		{name: "6 minutes ahead", when: time.Now().Add(6 * time.Minute), status: 403, code: "InvalidSignatureException"},
		{name: "4 minutes old", when: time.Now().Add(-4 * time.Minute), status: 200},
		{name: "no signature", after: func(r *http.Request) { r.Header.Del("Authorization") }, status: 403, code: "MissingAuthenticationTokenException"},
		{name: "incomplete", after: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+kvstest.AccessKeyID+"/20260101/us-west-2/kinesisvideo/aws4_request")
		}, status: 400, code: "IncompleteSignatureException"},
		{name: "no date", after: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, status: 400, code: "IncompleteSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest("POST", srv.URL()+"/getDataEndpoint", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", "application/json")
			if tt.before != nil {
				tt.before(r)
			}
			creds, payload, region, service, when := good, hash(body), kvstest.Region, "kinesisvideo", time.Now()
			if tt.creds.AccessKeyID != "" {
				creds = tt.creds
			}
			if tt.payload != "" {
				payload = tt.payload
			}
			if tt.region != "" {
				region = tt.region
			}
			if tt.service != "" {
				service = tt.service
			}
			if !tt.when.IsZero() {
				when = tt.when
			}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payload, service, region, when); err != nil {
				t.Fatal(err)
			}
			if tt.after != nil {
				tt.after(r)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var msg struct{ Message string }
			json.NewDecoder(resp.Body).Decode(&msg)
			code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
			if resp.StatusCode != tt.status || code != tt.code {
				t.Errorf("got %d %q (%s), want %d %q", resp.StatusCode, code, msg.Message, tt.status, tt.code)
			}
			if resp.StatusCode != 200 && msg.Message == "" {
				t.Errorf("no message")
			}
		})
	}
}
