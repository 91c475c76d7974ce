package kvsaws

import (
	"net/http"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestFleetClient checks the HTTP client a Client uses for the one it is
// given: with none, or the SDK's, one tuned for many long-lived streams to
// a host (the SDK's keeping its other settings, and left as it was);
// another is used as it is.
func TestFleetClient(t *testing.T) {
	transport := func(c any) *http.Transport {
		switch c := c.(type) {
		case *http.Client:
			return c.Transport.(*http.Transport)
		case *awshttp.BuildableClient:
			return c.GetTransport()
		}
		t.Fatalf("a client of type %T", c)
		return nil
	}
	if got := transport(fleetClient(nil)); got.MaxIdleConnsPerHost != MaxIdleConnsPerHost || got.Proxy == nil {
		t.Errorf("no client: MaxIdleConnsPerHost %d, proxy from the environment %v; want %d, true", got.MaxIdleConnsPerHost, got.Proxy != nil, MaxIdleConnsPerHost)
	}
	if fleetClient(nil) != fleetClient(nil) {
		t.Error("two Clients given no HTTP client do not share one")
	}

	sdk := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.IdleConnTimeout = 7 * time.Second })
	got := transport(fleetClient(sdk))
	if got.MaxIdleConnsPerHost != MaxIdleConnsPerHost || got.MaxConnsPerHost != 0 || got.IdleConnTimeout != 7*time.Second {
		t.Errorf("the SDK's client: MaxIdleConnsPerHost %d, MaxConnsPerHost %d, IdleConnTimeout %v; want %d, 0, 7s",
			got.MaxIdleConnsPerHost, got.MaxConnsPerHost, got.IdleConnTimeout, MaxIdleConnsPerHost)
	}
	if n := sdk.GetTransport().MaxIdleConnsPerHost; n == MaxIdleConnsPerHost {
		t.Error("the SDK client given was changed, not a copy of it")
	}

	own := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 3}}
	if fleetClient(own) != own {
		t.Error("a client of the caller's own was replaced")
	}
}
