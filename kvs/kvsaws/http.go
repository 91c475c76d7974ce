package kvsaws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigningName is the SigV4 service name of every KVS API.
const SigningName = "kinesisvideo"

// HTTPDataPlane calls the KVS data plane over HTTP with the SDK's parts:
// the configuration's credentials, region and HTTP client, and its SigV4
// signer. It is the DataPlane a Client uses unless given another.
type HTTPDataPlane struct {
	Credentials aws.CredentialsProvider
	Region      string
	HTTPClient  aws.HTTPClient
	Signer      *v4.Signer
}

// NewHTTPDataPlane returns an HTTPDataPlane for cfg.
func NewHTTPDataPlane(cfg aws.Config) *HTTPDataPlane {
	client := cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTPDataPlane{Credentials: cfg.Credentials, Region: cfg.Region, HTTPClient: client, Signer: v4.NewSigner()}
}

// ListFragments calls POST /listFragments.
func (p *HTTPDataPlane) ListFragments(ctx context.Context, endpoint string, in *ListFragmentsInput) (*ListFragmentsOutput, error) {
	resp, err := p.do(ctx, endpoint, "ListFragments", "/listFragments", in)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out ListFragmentsOutput
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("kvsaws: ListFragments: decoding the response: %w", err)
	}
	return &out, nil
}

// GetMediaForFragmentList calls POST /getMediaForFragmentList. The caller
// reads and closes the payload.
func (p *HTTPDataPlane) GetMediaForFragmentList(ctx context.Context, endpoint string, in *GetMediaForFragmentListInput) (*MediaOutput, error) {
	resp, err := p.do(ctx, endpoint, "GetMediaForFragmentList", "/getMediaForFragmentList", in)
	if err != nil {
		return nil, err
	}
	return &MediaOutput{ContentType: resp.Header.Get("Content-Type"), Payload: resp.Body}, nil
}

// GetMedia calls POST /getMedia. The caller reads and closes the payload.
func (p *HTTPDataPlane) GetMedia(ctx context.Context, endpoint string, in *GetMediaInput) (*MediaOutput, error) {
	resp, err := p.do(ctx, endpoint, "GetMedia", "/getMedia", in)
	if err != nil {
		return nil, err
	}
	return &MediaOutput{ContentType: resp.Header.Get("Content-Type"), Payload: resp.Body}, nil
}

// do sends a signed JSON POST and returns a successful response, or the
// error response decoded as an *APIError.
func (p *HTTPDataPlane) do(ctx context.Context, endpoint, op, path string, in any) (*http.Response, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("kvsaws: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if p.Credentials == nil {
		return nil, fmt.Errorf("kvsaws: %s: no credentials", op)
	}
	creds, err := p.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("kvsaws: %s: credentials: %w", op, err)
	}
	sum := sha256.Sum256(body)
	if err := p.Signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningName, p.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("kvsaws: %s: signing: %w", op, err)
	}
	resp, err := p.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, decodeAPIError(op, resp.StatusCode, resp.Header.Get, b)
	}
	return resp, nil
}
