package kvstest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/tags"
)

// awsEnv points AWS's own clients at the emulator with its credentials,
// and away from any configuration of the machine.
func awsEnv(t *testing.T, srv *kvstest.Server) []string {
	none := filepath.Join(t.TempDir(), "none")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+kvstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+kvstest.SecretAccessKey,
		"AWS_REGION="+kvstest.Region, "AWS_DEFAULT_REGION="+kvstest.Region,
		"AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"AWS_ENDPOINT_URL="+srv.URL())
}

// TestAWSCLI drives the emulator with the AWS CLI, as a user would: the
// control plane at the emulator's URL, the data plane at the endpoint
// get-data-endpoint gives, and the MKV get-media writes read back with
// kvs.Reader (and mkvinfo).
func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws not installed (apt-get install awscli)")
	}
	srv := kvstest.NewServer()
	defer srv.Close()
	numbers := srv.AddStream("gen", kvstest.StreamConfig{Fragments: 5, Media: true, Audio: true, FragmentDuration: 500 * 1e6})
	srv.SetMaxResults(2) // so that the CLI pages
	env := awsEnv(t, srv)
	dir := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--output", "json")...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if e, ok := err.(*exec.ExitError); ok {
				stderr = string(e.Stderr)
			}
			t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return v
	}
	ep := "--endpoint-url=" + srv.URL()

	created := run("kinesisvideo", "create-stream", ep, "--stream-name", "cli", "--data-retention-in-hours", "24")
	if arn, _ := created["StreamARN"].(string); !strings.HasPrefix(arn, "arn:aws:kinesisvideo:us-west-2:") {
		t.Errorf("create-stream: %v", created)
	}
	// Stream tags and retention, and a typed error for what is not
	// emulated (commands with an empty answer print nothing).
	quiet := func(args ...string) (string, error) {
		cmd := exec.Command("aws", args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := quiet("kinesisvideo", "tag-stream", ep, "--stream-name", "cli", "--tags", "owner=me,site=door"); err != nil {
		t.Fatalf("tag-stream: %v %s", err, out)
	}
	if got := run("kinesisvideo", "list-tags-for-stream", ep, "--stream-arn", created["StreamARN"].(string))["Tags"]; fmt.Sprint(got) != "map[owner:me site:door]" {
		t.Errorf("list-tags-for-stream: %v", got)
	}
	version := run("kinesisvideo", "describe-stream", ep, "--stream-name", "cli")["StreamInfo"].(map[string]any)["Version"].(string)
	if out, err := quiet("kinesisvideo", "update-data-retention", ep, "--stream-name", "cli", "--current-version", version,
		"--operation", "DECREASE_DATA_RETENTION", "--data-retention-change-in-hours", "20"); err != nil {
		t.Fatalf("update-data-retention: %v %s", err, out)
	}
	if hours := run("kinesisvideo", "describe-stream", ep, "--stream-name", "cli")["StreamInfo"].(map[string]any)["DataRetentionInHours"]; hours != 4.0 {
		t.Errorf("retention after the decrease: %v", hours)
	}
	msg, err := quiet("kinesisvideo", "describe-notification-configuration", ep, "--stream-name", "cli")
	if err == nil || !strings.Contains(msg, "(UnsupportedOperationException)") || !strings.Contains(msg, "kvsemu does not emulate DescribeNotificationConfiguration") {
		t.Errorf("an operation not emulated: %v %s", err, msg)
	}
	msg, err = quiet("kinesisvideo", "update-data-retention", ep, "--stream-name", "cli", "--current-version", version,
		"--operation", "INCREASE_DATA_RETENTION", "--data-retention-change-in-hours", "1")
	if err == nil || !strings.Contains(msg, "(VersionMismatchException)") {
		t.Errorf("a stale version: %v %s", err, msg)
	}

	info := run("kinesisvideo", "describe-stream", ep, "--stream-name", "gen")["StreamInfo"].(map[string]any)
	if info["Status"] != "ACTIVE" || info["StreamName"] != "gen" {
		t.Errorf("describe-stream: %v", info)
	}
	if list := run("kinesisvideo", "list-streams", ep)["StreamInfoList"].([]any); len(list) != 2 {
		t.Errorf("list-streams: %v", list)
	}
	data := run("kinesisvideo", "get-data-endpoint", ep, "--stream-name", "gen", "--api-name", "LIST_FRAGMENTS")["DataEndpoint"].(string)
	if data != srv.DataEndpoint("gen") {
		t.Errorf("get-data-endpoint: %s", data)
	}
	frags := run("kinesis-video-archived-media", "list-fragments", "--endpoint-url", data, "--stream-name", "gen",
		"--fragment-selector", "FragmentSelectorType=SERVER_TIMESTAMP,TimestampRange={StartTimestamp=0,EndTimestamp=2000000000}")["Fragments"].([]any)
	if len(frags) != 5 {
		t.Errorf("list-fragments: %d fragments, want 5", len(frags))
	}

	check := func(file string, want []tags.FragmentNumber, getMedia bool) {
		t.Helper()
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var got []tags.FragmentNumber
		for frag, err := range kvs.NewReader(f).All() {
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			got = append(got, frag.Number)
			if frag.ProducerTimestamp.IsZero() || frag.ServerTimestamp.IsZero() || len(frag.Tracks) != 2 || getMedia && frag.ContinuationToken == "" {
				t.Errorf("%s: fragment %s: %+v", file, frag.Number, frag)
			}
		}
		if len(got) != len(want) || len(got) > 0 && got[0] != want[0] {
			t.Errorf("%s: fragments %v, want %v", file, got, want)
		}
		if _, err := exec.LookPath("mkvinfo"); err == nil {
			if out, _ := exec.Command("mkvinfo", file).CombinedOutput(); !strings.Contains(string(out), "Cluster") || strings.Contains(string(out), "rror") {
				t.Errorf("mkvinfo %s:\n%s", file, out)
			}
		}
	}
	list := filepath.Join(dir, "list.mkv")
	out := run("kinesis-video-archived-media", "get-media-for-fragment-list", "--endpoint-url", data, "--stream-name", "gen", list,
		"--fragments", string(numbers[1]), string(numbers[3]))
	if out["ContentType"] != "video/webm" {
		t.Errorf("get-media-for-fragment-list: %v", out)
	}
	check(list, []tags.FragmentNumber{numbers[1], numbers[3]}, false)

	media := filepath.Join(dir, "media.mkv")
	data = run("kinesisvideo", "get-data-endpoint", ep, "--stream-name", "gen", "--api-name", "GET_MEDIA")["DataEndpoint"].(string)
	run("kinesis-video-media", "get-media", "--endpoint-url", data, "--stream-name", "gen", "--start-selector", "StartSelectorType=EARLIEST", media)
	check(media, numbers, true)
}

// TestBoto3 drives the emulator with boto3: the control plane, and
// ListFragments through boto3's paginator at the data endpoint.
func TestBoto3(t *testing.T) {
	if exec.Command("python3", "-c", "import boto3").Run() != nil {
		t.Skip("python3 with boto3 not installed (apt-get install python3-boto3)")
	}
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.AddStream("gen", kvstest.StreamConfig{Fragments: 5})
	srv.SetMaxResults(2)
	const script = `
import boto3, json, os
kv = boto3.client("kinesisvideo", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
arn = kv.create_stream(StreamName="py", DataRetentionInHours=1)["StreamARN"]
info = kv.describe_stream(StreamARN=arn)["StreamInfo"]
names = [s["StreamName"] for s in kv.list_streams()["StreamInfoList"]]
ep = kv.get_data_endpoint(StreamName="gen", APIName="LIST_FRAGMENTS")["DataEndpoint"]
am = boto3.client("kinesis-video-archived-media", endpoint_url=ep)
frags = []
for page in am.get_paginator("list_fragments").paginate(StreamName="gen",
        FragmentSelector={"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": {"StartTimestamp": 0, "EndTimestamp": 2000000000}}):
    frags += [f["FragmentNumber"] for f in page["Fragments"]]
kv.tag_stream(StreamARN=arn, Tags={"owner": "py"})
tags = kv.list_tags_for_stream(StreamName="py")["Tags"]
try:
    kv.describe_signaling_channel(ChannelName="x")
    unsupported = "no error"
except kv.exceptions.ClientError as e:
    unsupported = e.response["Error"]["Code"]
media = boto3.client("kinesis-video-media", endpoint_url=ep).get_media(StreamName="gen", StartSelector={"StartSelectorType": "EARLIEST"})
body = media["Payload"].read()
kv.delete_stream(StreamARN=arn)
print(json.dumps({"status": info["Status"], "created": info["CreationTime"].timestamp(), "names": names,
    "fragments": sorted(frags), "bytes": len(body), "tags": tags, "unsupported": unsupported, "after": [s["StreamName"] for s in kv.list_streams()["StreamInfoList"]]}))
`
	cmd := exec.Command("python3", "-c", script)
	cmd.Env = awsEnv(t, srv)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	var got struct {
		Status      string
		Created     float64
		Names       []string
		Fragments   []string
		Bytes       int
		After       []string
		Tags        map[string]string
		Unsupported string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Status != "ACTIVE" || got.Created < 1.7e9 || len(got.Names) != 2 || len(got.Fragments) != 5 || got.Bytes == 0 || len(got.After) != 1 ||
		got.Tags["owner"] != "py" || got.Unsupported != kvstest.ErrUnsupportedOperation {
		t.Errorf("boto3: %+v", got)
	}
}
