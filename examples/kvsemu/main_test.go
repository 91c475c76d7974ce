package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	"github.com/aws/smithy-go"
)

// start runs kvsemu on a free port and returns the variables it exports.
func start(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), w, io.Discard)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d", code)
		}
	})
	env := map[string]string{}
	sc := bufio.NewScanner(r)
	for len(env) < 5 && sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok || !strings.HasPrefix(sc.Text(), "export ") {
			t.Fatalf("not an export: %q", sc.Text())
		}
		env[k] = v
	}
	go io.Copy(io.Discard, r)
	return env
}

// TestServe starts the command and uses it as the exports say: the SDK's
// client, the admin endpoint, and the AWS CLI when installed.
func TestServe(t *testing.T) {
	env := start(t, "-stream", "cam=fragments=3,audio", "-stream", "plain=counting")
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		if env[k] == "" {
			t.Fatalf("no %s in %v", k, env)
		}
	}
	if !strings.HasPrefix(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:") {
		t.Errorf("endpoint %s is not on loopback", env["AWS_ENDPOINT_URL"])
	}
	cfg := aws.Config{
		Region:           env["AWS_REGION"],
		Credentials:      credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint:     aws.String(env["AWS_ENDPOINT_URL"]),
		RetryMaxAttempts: 1,
	}
	kv := kinesisvideo.NewFromConfig(cfg)
	ctx := context.Background()
	list, err := kv.ListStreams(ctx, &kinesisvideo.ListStreamsInput{})
	if err != nil || len(list.StreamInfoList) != 2 {
		t.Fatalf("ListStreams: %+v, %v", list, err)
	}

	resp, err := http.Post(env["AWS_ENDPOINT_URL"]+"/_kvsemu/fail", "application/json",
		strings.NewReader(`{"API":"DescribeStream","Status":500,"Type":"InternalFailure","Form":"type","Stream":"cam"}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin: %v %v", resp, err)
	}
	resp.Body.Close()
	_, err = kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InternalFailure" {
		t.Errorf("injected fault: %v", err)
	}
	// The limits are on: the sixth call within a second is refused.
	var refused error
	for range 6 {
		if _, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("plain")}); err != nil {
			refused = err
		}
	}
	if !errors.As(refused, &api) || api.ErrorCode() != "ClientLimitExceededException" {
		t.Errorf("sixth call in a burst: %v", refused)
	}

	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws not installed (apt-get install awscli)")
	}
	cmd := exec.Command("aws", "kinesisvideo", "describe-stream", "--stream-name", "cam", "--output", "text", "--query", "StreamInfo.Status")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ACTIVE" {
		t.Errorf("aws describe-stream with the exports: %v\n%s", err, out)
	}
}

// TestFlags checks that bad flags are refused before serving.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-stream", "=fragments=2"}, {"-stream", "cam=fragments=x"}, {"-timestamps", "roman"}, {"extra"}} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
