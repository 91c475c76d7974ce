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
// The data-plane APIs go through DataPlane, by default HTTPDataPlane, a
// client built from the SDK's parts (the SigV4 signer, the credentials,
// the HTTP client) with the API's own shapes and field names. Errors the
// service answers with are *APIError, which implements smithy.APIError and
// matches the ErrResourceNotFound... values with errors.Is. Frame bytes are
// lent, as by every reader of kvs (see kvs, "Frame bytes"), and the end of
// ctx ends a follow without an error.
//
// One process can follow a fleet of streams, a goroutine each: a follow
// holds one connection and, while frames come, a 32 KiB decoder buffer,
// none while it waits on an idle stream; the client's default transport
// (FleetTransport) keeps each follow's connection for its next session.
// bench/cmd/fleet measures a thousand.
package kvsaws
