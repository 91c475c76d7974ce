// Package kvstest is a local Kinesis Video Streams emulator, so that
// programs that read KVS can be tested without an AWS account: an HTTP
// server that speaks the wire protocol of the control plane
// (CreateStream, DescribeStream, ListStreams, DeleteStream,
// GetDataEndpoint) and of ListFragments, GetMediaForFragmentList and
// GetMedia, with the shapes and errors of AWS's API models; verifies every
// request's SigV4 signature as AWS does, over the headers the client
// signed, so that the AWS CLI, boto3 and the SDKs all work against it;
// serves streams of generated fragments in the layout KVS writes; and
// injects the faults real streams meet: error responses (in each form AWS
// names error types), throttling, KVS's per-stream rate and connection
// limits, data endpoints that move, bodies cut off or trickling a few
// bytes at a time, missing fragments. Faults can be scoped to a stream,
// and are also set over HTTP under AdminPrefix. The command
// examples/kvsemu runs it as a server.
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
