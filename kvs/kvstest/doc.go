// Package kvstest is a local Kinesis Video Streams emulator, so that
// programs that read KVS can be tested without an AWS account: an HTTP
// server that speaks the wire protocol of GetDataEndpoint, ListFragments,
// GetMediaForFragmentList and GetMedia, checks every request's SigV4
// signature against its static test credentials, serves streams of
// generated fragments in the layout KVS writes, and injects the faults real
// streams meet: error responses, throttling, connection limits, bodies cut
// off or trickling a few bytes at a time, missing fragments.
//
// Its Generator writes the KVS-shaped streams it serves, for tests, fuzz
// seeds and benchmarks of programs that read KVS.
//
//	srv := kvstest.NewServer()
//	defer srv.Close()
//	srv.AddStream("cam", kvstest.StreamConfig{Fragments: 100})
//	client := kvsaws.NewFromConfig(srv.Config())
//	for f, err := range client.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtEarliest}) {
//		...
//	}
package kvstest
