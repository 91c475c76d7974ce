package kvsaws_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// TestRangeTimestampForms reads a time range from an emulator that writes
// its JSON timestamps in each form AWS services use: every fragment comes
// back, with its exact timestamps.
func TestRangeTimestampForms(t *testing.T) {
	for name, form := range map[string]kvstest.TimestampForm{
		"exponent": kvstest.TimestampExponent, "integer": kvstest.TimestampInteger,
		"decimal": kvstest.TimestampDecimal, "mixed": kvstest.TimestampMixed,
	} {
		t.Run(name, func(t *testing.T) {
			srv, numbers := emulator(t, 12)
			srv.SetTimestampForm(form)
			want := srv.Fragments("cam")
			c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
			i := 0
			for f, err := range c.ListFragments(context.Background(), "cam", allRange()) {
				if err != nil {
					t.Fatal(err)
				}
				if f.FragmentNumber != numbers[i] || !f.ProducerTimestamp.Equal(want[i].ProducerTimestamp) || !f.ServerTimestamp.Equal(want[i].ServerTimestamp) {
					t.Fatalf("fragment %d: %+v, want %+v", i, f, want[i])
				}
				i++
			}
			n := 0
			for _, err := range c.FetchRange(context.Background(), "cam", allRange()) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if i != len(numbers) || n != len(numbers) {
				t.Errorf("listed %d and fetched %d fragments, want %d", i, n, len(numbers))
			}
		})
	}
}

// TestErrorFormsFromEmulator gets the same typed error from each form the
// emulator, like AWS, can name an error type in.
func TestErrorFormsFromEmulator(t *testing.T) {
	for name, form := range map[string]kvstest.ErrorForm{"header": kvstest.ErrorInHeader, "code": kvstest.ErrorInCode, "type": kvstest.ErrorInType} {
		t.Run(name, func(t *testing.T) {
			srv, _ := emulator(t, 2)
			srv.Inject(kvstest.Fault{Kind: kvstest.FailCall, Scope: kvstest.Scope{API: kvstest.ListFragments}, Status: 400, Type: kvsaws.CodeNotAuthorized, Form: form})
			c := kvsaws.NewFromConfig(srv.Config(), fastRetries)
			for _, err := range c.ListFragments(context.Background(), "cam", allRange()) {
				var api *kvsaws.APIError
				if !errors.As(err, &api) || api.Code != kvsaws.CodeNotAuthorized || api.StatusCode != 400 {
					t.Fatalf("got %v, want NotAuthorizedException", err)
				}
				break
			}
		})
	}
}
