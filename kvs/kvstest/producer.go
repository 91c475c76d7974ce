package kvstest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/mkv"
)

// Producer feeds a stream through PutMedia from an MKV source, as a KVS
// producer does: one long chunked POST of the source's bytes as they are,
// paced at the media's own frame rate (or faster), signed with SigV4 as the
// KVS C producer signs it (the payload hash of an empty body), reading the
// acks as they come.
type Producer struct {
	// Config gives the credentials, the region and the HTTP client, such
	// as Server.Config().
	Config aws.Config
	// Endpoint is the data endpoint, such as Server.URL().
	Endpoint string
	// Stream is the stream's name.
	Stream string
	// Speed paces the media: 1 sends each block when its time has come
	// since the first, 10 ten times as fast; 0 sends as fast as it can.
	Speed float64
	// Relative sends RELATIVE fragment timecodes, from StartTimestamp
	// (default now); by default they are ABSOLUTE.
	Relative       bool
	StartTimestamp time.Time
	// OnAck, when set, is called with each ack as it arrives.
	OnAck func(Ack)
}

// AckError reports an ERROR ack: the media was refused at that fragment.
type AckError struct{ Ack Ack }

func (e *AckError) Error() string {
	return fmt.Sprintf("kvstest: PutMedia ERROR ack, ErrorId %d, fragment %q", e.Ack.ErrorID, e.Ack.FragmentNumber)
}

// Produce sends src to the stream with PutMedia at speed (see
// Producer.Speed), and returns the acks received.
func Produce(ctx context.Context, cfg aws.Config, endpoint, stream string, src io.Reader, speed float64) ([]Ack, error) {
	p := Producer{Config: cfg, Endpoint: endpoint, Stream: stream, Speed: speed}
	return p.Produce(ctx, src)
}

// emptySHA256 is the payload hash streaming producers sign.
var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// Produce sends src, an MKV stream, and returns the acks received until
// the response ended. An ERROR ack ends it with an *AckError; an error
// response with a *kvsaws.APIError.
func (p *Producer) Produce(ctx context.Context, src io.Reader) ([]Ack, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.Endpoint, "/")+"/putMedia", pr)
	if err != nil {
		return nil, fmt.Errorf("kvstest: %w", err)
	}
	req.ContentLength = -1
	start := p.StartTimestamp
	if start.IsZero() {
		start = time.Now()
	}
	timecodes := "ABSOLUTE"
	if p.Relative {
		timecodes = "RELATIVE"
	}
	req.Header.Set("x-amzn-stream-name", p.Stream)
	req.Header.Set("x-amzn-fragment-timecode-type", timecodes)
	req.Header.Set("x-amzn-producer-start-timestamp", strconv.FormatFloat(float64(start.UnixMilli())/1000, 'f', 3, 64))
	req.Header.Set("x-amzn-fragment-acknowledgment-required", "1")
	if p.Config.Credentials == nil {
		return nil, errors.New("kvstest: Producer.Config has no credentials")
	}
	creds, err := p.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("kvstest: %w", err)
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, kvsaws.SigningName, p.Config.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("kvstest: %w", err)
	}

	sent := make(chan error, 1)
	go func() {
		err := p.send(ctx, pw, src)
		pw.CloseWithError(err)
		sent <- err
	}()
	var client aws.HTTPClient = http.DefaultClient
	if p.Config.HTTPClient != nil {
		client = p.Config.HTTPClient
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		pr.CloseWithError(err)
		<-sent
		return nil, fmt.Errorf("kvstest: PutMedia: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		cancel()
		pr.CloseWithError(errors.New("kvstest: PutMedia refused"))
		<-sent
		return nil, apiError(resp)
	}
	var acks []Ack
	var ackErr error
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var a Ack
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			ackErr = fmt.Errorf("kvstest: PutMedia: invalid ack %q", line)
			break
		}
		acks = append(acks, a)
		if p.OnAck != nil {
			p.OnAck(a)
		}
		if a.EventType == EventError && ackErr == nil {
			ackErr = &AckError{a}
		}
	}
	// The response is over: a sender still sending has no one to send to.
	pr.CloseWithError(io.ErrClosedPipe)
	sendErr := <-sent
	switch {
	case ackErr != nil:
		return acks, ackErr
	case sc.Err() != nil:
		return acks, fmt.Errorf("kvstest: PutMedia: %w", sc.Err())
	case sendErr != nil && !errors.Is(sendErr, io.ErrClosedPipe):
		return acks, sendErr
	}
	return acks, nil
}

// apiError reads an error response.
func apiError(resp *http.Response) error {
	var body struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	code, _, _ := strings.Cut(resp.Header.Get("x-amzn-ErrorType"), ":")
	return &kvsaws.APIError{
		Operation: "PutMedia", StatusCode: resp.StatusCode, Code: code,
		Message: body.Message + body.Message2, RequestID: resp.Header.Get("x-amz-RequestId"),
	}
}

// recorder keeps the bytes a decoder reads, from offset base on.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

// upTo returns the recorded bytes before offset to.
func (r *recorder) upTo(to int64) []byte { return r.buf[:to-r.base] }

// forget drops the recorded bytes before offset to.
func (r *recorder) forget(to int64) {
	r.buf = append(r.buf[:0], r.buf[to-r.base:]...)
	r.base = to
}

// send writes src to w, each block when its time has come. Input that is
// not MKV is sent as it is, for the service to refuse.
func (p *Producer) send(ctx context.Context, w io.Writer, src io.Reader) error {
	if p.Speed == 0 {
		// As fast as it can: nothing to pace, so nothing to decode; each
		// read goes out as it came (a live source's block at a time).
		_, err := io.Copy(w, src)
		return err
	}
	rec := &recorder{r: src}
	d := mkv.NewDecoder(rec)
	scale := uint64(mkv.DefaultTimecodeScale)
	var cluster int64
	var first time.Duration
	began, started := time.Time{}, false
	flush := func(to int64) error {
		if _, err := w.Write(rec.upTo(to)); err != nil {
			return err
		}
		rec.forget(to)
		return nil
	}
	for {
		ev, err := d.Next()
		if err != nil {
			if err := flush(rec.base + int64(len(rec.buf))); err != nil {
				return err
			}
			if err == io.EOF {
				return nil
			}
			// Not MKV, or cut off: send the rest as it is.
			_, err = io.Copy(w, src)
			return err
		}
		switch {
		case ev.Kind == mkv.Value && ev.ID == mkv.IDTimecodeScale && ev.Uint > 0:
			scale = ev.Uint
		case ev.Kind == mkv.Value && ev.ID == mkv.IDTimecode:
			cluster = int64(ev.Uint)
		case ev.Kind == mkv.BlockKind:
			t := time.Duration(cluster+int64(ev.Block.Timecode)) * time.Duration(scale)
			if !started {
				began, first, started = time.Now(), t, true
			}
			if p.Speed > 0 {
				at := began.Add(time.Duration(float64(t-first) / p.Speed))
				if wait := time.Until(at); wait > 0 {
					select {
					case <-time.After(wait):
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
			if err := flush(d.InputOffset()); err != nil {
				return err
			}
		}
	}
}
