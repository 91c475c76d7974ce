package kvstest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// endOfFragment is the Tags element AWS's C producer writes to end a
// fragment, byte for byte: 8-byte sizes, no Targets, an empty TagString.
func endOfFragment() []byte {
	name := kvstest.EndOfFragment
	simple := mkv.AppendHeader(nil, mkv.IDTagName, int64(len(name)), 8)
	simple = append(simple, name...)
	simple = mkv.AppendHeader(simple, mkv.IDTagString, 0, 8)
	tag := append(mkv.AppendHeader(nil, mkv.IDSimpleTag, int64(len(simple)), 8), simple...)
	tags := append(mkv.AppendHeader(nil, mkv.IDTag, int64(len(tag)), 8), tag...)
	return append(mkv.AppendHeader(nil, mkv.IDTags, int64(len(tags)), 8), tags...)
}

// liveSource is a producer's body as the C producer streams it: a header,
// then Clusters of unknown size, from base on; cuts are the offsets where
// each Cluster's last block ends.
func liveSource(t *testing.T, fragments, perFragment int, base time.Duration) ([]byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := mkv.NewStreamWriter(&buf, mkv.WriterOptions{Tracks: []mkv.Track{{
		Number: 1, Type: mkv.VideoTrack, CodecID: "V_MPEG4/ISO/AVC", CodecPrivate: []byte{1, 0x42, 0, 0x1e, 0xff, 0xe1, 0},
		DefaultDuration: 40 * time.Millisecond, Width: 640, Height: 480,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fragments * perFragment {
		if err := w.WriteFrame(1, base+time.Duration(i)*40*time.Millisecond, i%perFragment == 0, bytes.Repeat([]byte{byte(i)}, 300)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	src := readSource(t, "", buf.Bytes())
	var cuts []int
	for _, ends := range src.blockEnds {
		cuts = append(cuts, int(ends[len(ends)-1]))
	}
	return buf.Bytes(), cuts
}

// absolute is the Cluster time of an ABSOLUTE producer's first frame.
var absolute = time.Duration(start.UnixMilli()) * time.Millisecond

// signedPutMedia is a PutMedia request signed as the C producer signs it:
// the empty string's hash, no X-Amz-Content-Sha256; header adds headers
// before signing.
func signedPutMedia(t *testing.T, srv *kvstest.Server, stream string, body io.Reader, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.DataEndpoint(stream)+"/putMedia", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header.Set("x-amzn-stream-name", stream)
	req.Header.Set("x-amzn-fragment-timecode-type", "ABSOLUTE")
	req.Header.Set("x-amzn-fragment-acknowledgment-required", "1")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	creds, _ := srv.Config().Credentials.Retrieve(context.Background())
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, empty, kvsaws.SigningName, kvstest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestProducerSDKWire plays the KVS C producer's wire behaviour without the
// SDK: CreateStream then TagStream by ARN; PutMedia with a chunked body
// where each fragment's blocks are followed by a producer metadata Tags and
// the end-of-fragment Tags, the body held open until that fragment's
// PERSISTED ack has come; then the end of the body, after which no ack
// follows. The stream serves the frames, each fragment with its metadata and
// without the marker.
func TestProducerSDKWire(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	kv := kinesisvideo.NewFromConfig(srv.Config())
	created, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("sdk"), DataRetentionInHours: aws.Int32(2), MediaType: aws.String("video/h264")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.TagStream(ctx, &kinesisvideo.TagStreamInput{StreamARN: created.StreamARN, Tags: map[string]string{"owner": "kvsprobe", "purpose": "emulator test"}}); err != nil {
		t.Fatalf("TagStream: %v", err)
	}
	listed, err := kv.ListTagsForStream(ctx, &kinesisvideo.ListTagsForStreamInput{StreamName: aws.String("sdk")})
	if err != nil || !cmp.Equal(listed.Tags, map[string]string{"owner": "kvsprobe", "purpose": "emulator test"}) {
		t.Fatalf("ListTagsForStream: %v, %v", listed, err)
	}

	body, cuts := liveSource(t, 3, 5, absolute)
	pr, pw := io.Pipe()
	defer pw.Close()
	resp, err := srv.Config().HTTPClient.Do(signedPutMedia(t, srv, "sdk", pr, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PutMedia: %s", resp.Status)
	}
	acks := &ackReader{bufio.NewScanner(resp.Body)}
	from := 0
	for i, cut := range cuts {
		meta := mkv.AppendTags(nil, 0, []mkv.SimpleTag{{Name: "ContactId", Value: fmt.Sprintf("contact-%d", i)}})
		chunk := append(append(append([]byte(nil), body[from:cut]...), meta...), endOfFragment()...)
		from = cut
		if _, err := pw.Write(chunk); err != nil {
			t.Fatal(err)
		}
		// The body stays open: the fragment's acks come all the same.
		var got []string
		var number string
		for range 3 {
			a := acks.next(t)
			got = append(got, a.EventType)
			if number == "" {
				number = string(a.FragmentNumber)
			}
			if string(a.FragmentNumber) != number {
				t.Errorf("fragment %d: ack %+v for another fragment than %s", i, a, number)
			}
		}
		if want := []string{kvstest.EventBuffering, kvstest.EventReceived, kvstest.EventPersisted}; !cmp.Equal(got, want) {
			t.Fatalf("fragment %d: acks %v before the body ends, want %v", i, got, want)
		}
	}
	pw.Close()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || strings.Contains(string(rest), "EventType\":\"RECEIVED") || strings.Contains(string(rest), "PERSISTED") {
		t.Errorf("after the body's end: %q, %v; want no more acks", rest, err)
	}

	infos := srv.Fragments("sdk")
	if len(infos) != 3 {
		t.Fatalf("%d fragments stored, want 3", len(infos))
	}
	frags, frames := fetch(t, srv, "sdk", infos)
	for i, f := range frags {
		if v, ok := f.Tag("ContactId"); !ok || v != fmt.Sprintf("contact-%d", i) {
			t.Errorf("fragment %d: ContactId %q, %v", i, v, ok)
		}
		if _, ok := f.Tag(kvstest.EndOfFragment); ok {
			t.Errorf("fragment %d: the end-of-fragment marker is served", i)
		}
		if len(frames[i]) != 5 {
			t.Errorf("fragment %d: %d frames, want 5", i, len(frames[i]))
		}
	}
}

// TestPutMediaWithoutAcks sends x-amzn-fragment-acknowledgment-required: 0:
// the fragments are stored and the response carries no ack.
func TestPutMediaWithoutAcks(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.CreateStream("quiet", time.Hour)
	body, _ := liveSource(t, 2, 4, absolute)
	resp, err := srv.Config().HTTPClient.Do(signedPutMedia(t, srv, "quiet", bytes.NewReader(append(body, endOfFragment()...)),
		map[string]string{"x-amzn-fragment-acknowledgment-required": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rest, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || err != nil || len(rest) != 0 {
		t.Errorf("PutMedia without acks: %s, %q, %v", resp.Status, rest, err)
	}
	if n := len(srv.Fragments("quiet")); n != 2 {
		t.Errorf("%d fragments stored, want 2", n)
	}
}

// TestPutMediaContinue sends PutMedia as curl does, with Expect:
// 100-continue, over a bare connection: the emulator answers 100 Continue
// before any of the body is sent, then 200 and the acks, one a chunk.
func TestPutMediaContinue(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.CreateStream("curl", time.Hour)
	body, _ := liveSource(t, 1, 3, 0)
	req := signedPutMedia(t, srv, "curl", nil, map[string]string{
		// RELATIVE, from a start the C producer writes "%llu.%llu": 5 ms.
		"x-amzn-fragment-timecode-type": "RELATIVE", "x-amzn-producer-start-timestamp": "1511852108.5",
	})
	u, _ := url.Parse(srv.URL())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second)) // a hang fails, not blocks
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n", req.URL.Path, u.Host)
	req.Header.Write(&head)
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("first answer %q, %v; want 100 Continue before the body", line, err)
	}
	fmt.Fprintf(conn, "%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	for {
		line, err = r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "HTTP/1.1 ") {
			break
		}
	}
	if !strings.HasPrefix(line, "HTTP/1.1 200 ") {
		t.Fatalf("then %q, want 200", line)
	}
	for line != "\r\n" {
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	// The response is chunked, one ack a chunk: the C producer reads only
	// the first ack of what curl hands it at once.
	var acks []kvstest.Ack
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		var size int
		if _, err := fmt.Sscanf(line, "%x", &size); err != nil {
			t.Fatalf("chunk size %q: %v", line, err)
		}
		if size == 0 {
			break
		}
		chunk := make([]byte, size+2)
		if _, err := io.ReadFull(r, chunk); err != nil {
			t.Fatal(err)
		}
		text := string(chunk[:size])
		if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "}\n") {
			t.Errorf("chunk %q, want one ack", text)
		}
		acks = append(acks, readAcks(t, strings.NewReader(text))...)
	}
	checkAcks(t, acks, 1)
	infos := srv.Fragments("curl")
	if len(infos) != 1 || !infos[0].ProducerTimestamp.Time().Equal(time.UnixMilli(1511852108005)) {
		t.Errorf("fragments %+v, want one from 1511852108.005", infos)
	}
}

// readAcks reads every ack of a PutMedia response but IDLE ones.
func readAcks(t *testing.T, body io.Reader) []kvstest.Ack {
	t.Helper()
	var acks []kvstest.Ack
	for sc := bufio.NewScanner(body); sc.Scan(); {
		var a kvstest.Ack
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("ack %q: %v", sc.Text(), err)
		}
		if a.EventType != kvstest.EventIdle {
			acks = append(acks, a)
		}
	}
	return acks
}

// TestPutMediaPayloadHash refuses a PutMedia whose X-Amz-Content-Sha256
// names a hash its streamed body cannot be checked against before it is
// read, and takes UNSIGNED-PAYLOAD.
func TestPutMediaPayloadHash(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	srv.CreateStream("cam", time.Hour)
	body, _ := liveSource(t, 1, 2, absolute)
	for _, tt := range []struct {
		payload string
		status  int
	}{
		{"UNSIGNED-PAYLOAD", http.StatusOK},
		{"0000000000000000000000000000000000000000000000000000000000000000", http.StatusForbidden},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL()+"/putMedia", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("x-amzn-stream-name", "cam")
		req.Header.Set("X-Amz-Content-Sha256", tt.payload)
		creds, _ := srv.Config().Credentials.Retrieve(context.Background())
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, tt.payload, kvsaws.SigningName, kvstest.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Config().HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
		if resp.StatusCode != tt.status || tt.status != http.StatusOK && code != kvstest.ErrInvalidSignature {
			t.Errorf("payload %s: %s %q, want %d", tt.payload, resp.Status, code, tt.status)
		}
	}
}

// TestStreamTagsAndUpdates manages a stream's tags and retention with the
// Go SDK: the *Resource variants by ARN, version checks, bounds, and a
// typed error for an operation the emulator does not serve.
func TestStreamTagsAndUpdates(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	kv := kinesisvideo.NewFromConfig(srv.Config())
	created, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("cam"), DataRetentionInHours: aws.Int32(1), Tags: map[string]string{"site": "door"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := created.StreamARN
	if _, err := kv.TagResource(ctx, &kinesisvideo.TagResourceInput{ResourceARN: arn, Tags: []types.Tag{{Key: aws.String("floor"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.UntagStream(ctx, &kinesisvideo.UntagStreamInput{StreamARN: arn, TagKeyList: []string{"site"}}); err != nil {
		t.Fatal(err)
	}
	got, err := kv.ListTagsForResource(ctx, &kinesisvideo.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || !cmp.Equal(got.Tags, map[string]string{"floor": "2"}) || !cmp.Equal(srv.StreamTags("cam"), got.Tags) {
		t.Fatalf("ListTagsForResource: %+v, %v", got, err)
	}
	if _, err := kv.UntagResource(ctx, &kinesisvideo.UntagResourceInput{ResourceARN: arn, TagKeyList: []string{"floor"}}); err != nil {
		t.Fatal(err)
	}

	version := func() string {
		info, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(info.StreamInfo.Version)
	}
	v1 := version()
	if _, err := kv.UpdateDataRetention(ctx, &kinesisvideo.UpdateDataRetentionInput{StreamARN: arn, CurrentVersion: aws.String(v1),
		Operation: types.UpdateDataRetentionOperationIncreaseDataRetention, DataRetentionChangeInHours: aws.Int32(23)}); err != nil {
		t.Fatal(err)
	}
	info, _ := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam")})
	if aws.ToInt32(info.StreamInfo.DataRetentionInHours) != 24 || aws.ToString(info.StreamInfo.Version) == v1 {
		t.Errorf("after the increase: %+v", info.StreamInfo)
	}
	if _, err := kv.UpdateStream(ctx, &kinesisvideo.UpdateStreamInput{StreamName: aws.String("cam"), CurrentVersion: aws.String(version()), MediaType: aws.String("audio/aac")}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"a stale version", func() error {
			_, err := kv.UpdateDataRetention(ctx, &kinesisvideo.UpdateDataRetentionInput{StreamARN: arn, CurrentVersion: aws.String(v1),
				Operation: types.UpdateDataRetentionOperationDecreaseDataRetention, DataRetentionChangeInHours: aws.Int32(1)})
			return err
		}, kvstest.ErrVersionMismatch},
		{"below 0 hours", func() error {
			_, err := kv.UpdateDataRetention(ctx, &kinesisvideo.UpdateDataRetentionInput{StreamARN: arn, CurrentVersion: aws.String(version()),
				Operation: types.UpdateDataRetentionOperationDecreaseDataRetention, DataRetentionChangeInHours: aws.Int32(25)})
			return err
		}, kvsaws.CodeInvalidArgument},
		{"UpdateStream at a stale version", func() error {
			_, err := kv.UpdateStream(ctx, &kinesisvideo.UpdateStreamInput{StreamARN: arn, CurrentVersion: aws.String(v1)})
			return err
		}, kvstest.ErrVersionMismatch},
		{"51 tags", func() error {
			tags := map[string]string{}
			for i := range 51 {
				tags[fmt.Sprint("k", i)] = "v"
			}
			_, err := kv.TagStream(ctx, &kinesisvideo.TagStreamInput{StreamARN: arn, Tags: tags})
			return err
		}, kvstest.ErrTagsPerResourceExceeded},
		{"tags of a missing stream", func() error {
			_, err := kv.ListTagsForStream(ctx, &kinesisvideo.ListTagsForStreamInput{StreamName: aws.String("nope")})
			return err
		}, kvsaws.CodeResourceNotFound},
		{"an operation not emulated", func() error {
			_, err := kv.DescribeImageGenerationConfiguration(ctx, &kinesisvideo.DescribeImageGenerationConfigurationInput{StreamARN: arn})
			return err
		}, kvstest.ErrUnsupportedOperation},
	}
	for _, tt := range cases {
		err := tt.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	var ae smithy.APIError
	_, err = kv.DescribeMediaStorageConfiguration(ctx, &kinesisvideo.DescribeMediaStorageConfigurationInput{ChannelARN: arn})
	if !errors.As(err, &ae) || ae.ErrorMessage() != "kvsemu does not emulate DescribeMediaStorageConfiguration" {
		t.Errorf("DescribeMediaStorageConfiguration: %v", err)
	}
}

// TestStreamTagsKept keeps a stream's tags, retention and range of
// fragment numbers in the data directory across a restart; a stream
// created after it numbers its fragments apart from the first's.
func TestStreamTagsKept(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv := kvstest.NewServer()
	if err := srv.OpenDataDir(dir); err != nil {
		t.Fatal(err)
	}
	kv := kinesisvideo.NewFromConfig(srv.Config())
	if _, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("kept"), DataRetentionInHours: aws.Int32(1), Tags: map[string]string{"site": "door"}}); err != nil {
		t.Fatal(err)
	}
	info, _ := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("kept")})
	if _, err := kv.UpdateDataRetention(ctx, &kinesisvideo.UpdateDataRetentionInput{StreamName: aws.String("kept"), CurrentVersion: info.StreamInfo.Version,
		Operation: types.UpdateDataRetentionOperationIncreaseDataRetention, DataRetentionChangeInHours: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	body, _ := liveSource(t, 1, 2, absolute)
	resp, err := srv.Config().HTTPClient.Do(signedPutMedia(t, srv, "kept", bytes.NewReader(body), nil))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	first := srv.Fragments("kept")
	srv.Close()

	srv = kvstest.NewServer()
	defer srv.Close()
	if err := srv.OpenDataDir(dir); err != nil {
		t.Fatal(err)
	}
	kv = kinesisvideo.NewFromConfig(srv.Config())
	info, err = kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("kept")})
	if err != nil || aws.ToInt32(info.StreamInfo.DataRetentionInHours) != 6 || !cmp.Equal(srv.StreamTags("kept"), map[string]string{"site": "door"}) {
		t.Errorf("after a restart: %+v, tags %v, %v", info, srv.StreamTags("kept"), err)
	}
	srv.CreateStream("new", time.Hour)
	resp, err = srv.Config().HTTPClient.Do(signedPutMedia(t, srv, "new", bytes.NewReader(body), nil))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	second := srv.Fragments("new")
	if len(first) != 1 || len(second) != 1 || first[0].FragmentNumber == second[0].FragmentNumber || len(second[0].FragmentNumber) != len(first[0].FragmentNumber) {
		t.Errorf("fragment numbers %v and %v, want one each, apart, of one length", first, second)
	}
}

// TestUnknownPath answers a path that is no operation with a typed JSON
// error, not Go's "404 page not found".
func TestUnknownPath(t *testing.T) {
	srv := kvstest.NewServer()
	defer srv.Close()
	for _, path := range []string{"/nothingHere", "/ep/x/getMedia"} {
		resp, err := http.Post(srv.URL()+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		var msg struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&msg)
		resp.Body.Close()
		code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
		if resp.StatusCode != http.StatusNotFound || code != kvstest.ErrUnknownOperation || !strings.Contains(msg.Message, "kvsemu") {
			t.Errorf("%s: %s %q %q", path, resp.Status, code, msg.Message)
		}
	}
}
