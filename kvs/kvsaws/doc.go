// Package kvsaws reads Amazon Kinesis Video Streams from AWS: a Client,
// made from an aws.Config as the SDK's clients are, that resolves and
// caches data endpoints with GetDataEndpoint, lists fragments with
// ListFragments (all pages, in order), fetches them with
// GetMediaForFragmentList (batches of at most 1000, bounded concurrency,
// results in request order) and follows a stream with GetMedia, resuming
// from the last continuation token when a body ends, stalls or breaks.
// Every response body is read as it streams by a kvs.Reader.
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	...
//	client := kvsaws.NewFromConfig(cfg)
//	start := kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}
//	for f, err := range client.Follow(ctx, "front-door", start) {
//		...
//	}
//
// The data-plane APIs are not in the Go module proxy these builds use, so
// they are called through a thin client on the SDK's parts (HTTPDataPlane:
// the SigV4 signer, the credentials, the HTTP client) with the API's own
// shapes and field names; DataPlane is an interface a user can replace
// with the official clients. Errors the service answers with are
// *APIError, which implements smithy.APIError.
package kvsaws
