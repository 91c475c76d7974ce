// Package kvstest is a local Kinesis Video Streams emulator, so that
// programs that read or write KVS can be tested without an AWS account: an
// HTTP server that speaks the wire protocol of the control plane
// (CreateStream, DescribeStream, ListStreams, DeleteStream,
// GetDataEndpoint) and of ListFragments, GetMediaForFragmentList, GetMedia
// and PutMedia, with the shapes and errors of AWS's API models; verifies
// every request's SigV4 signature as AWS does, over the headers the client
// signed, so that the AWS CLI, boto3 and the SDKs all work against it; and
// injects the faults real streams meet: error responses (in each form AWS
// names error types), throttling, KVS's per-stream rate and connection
// limits, data endpoints that move, bodies cut off, ending cleanly but
// early, carrying a corrupt byte (once or every time a fragment is served)
// or trickling a few bytes at a time, in-band error units in GetMedia,
// missing fragments. A fault is one Fault value, of a FaultKind and a
// Scope (an API, a stream, a fragment), given to Server.Inject or POSTed
// under AdminPrefix; faults apply to PutMedia's body and live GetMedia
// too. The command examples/kvsemu runs it as a server.
//
// Its streams hold fragments, each with a 47-digit fragment number,
// producer and server timestamps, a duration and a size, served in the
// layouts KVS writes (the KVS tags before the Cluster; GetMedia's
// MILLIS_BEHIND_NOW and CONTINUATION_TOKEN after it). A stream is
// generated (AddStream), loaded from an MKV file, one fragment per Cluster
// (AddStreamFromFile), or created empty (CreateStream) and fed with
// PutMedia, the real ingest protocol: a long chunked MKV body answered by
// BUFFERING, RECEIVED, PERSISTED, ERROR and IDLE acks as they happen. The
// Producer sends a file through PutMedia at its own frame rate, or faster.
// GetMedia at the live edge of a stream being produced writes each frame as
// soon as it is ingested, and ends after the limits of LiveLimits. With
// OpenDataDir, streams and fragments are kept on disk: a fragment
// acknowledged PERSISTED survives a restart, even after kill -9.
//
// The streams it generates are kvsgen's, which tests, fuzz seeds and
// benchmarks use without a server.
//
// Its files, from the requests down: routes.go (NewServer: each operation
// at its path); control.go (CreateStream, DescribeStream, ListStreams,
// DeleteStream, GetDataEndpoint), dataplane.go and live.go (ListFragments,
// GetMediaForFragmentList, GetMedia), ingest.go (PutMedia), streams.go
// (the Server's streams: generated, from files, created, deleted) and
// admin.go (Inject, the limits and forms, the admin endpoint); persist.go
// (the data directory); server.go (Server and what every request goes
// through: signature, moved endpoints, rates, injected faults, the stream
// lookup); auth.go (SigV4), limits.go (rates, connections, live limits),
// mediabody.go (a media body as faults shape it), faults.go (Fault and
// the injected faults), segment.go (MKV cut into fragments), producer.go;
// store.go (fragments, streams and the one registry of them),
// endpoints.go, timestamps.go, acks.go, respond.go and api.go.
//
//	srv := kvstest.NewServer()
//	defer srv.Close()
//	srv.CreateStream("cam", 24*time.Hour)
//	go kvstest.Produce(ctx, srv.Config(), srv.URL(), "cam", file, 1)
//	client := kvsaws.NewFromConfig(srv.Config())
//	for f, err := range client.Follow(ctx, "cam", kvsaws.StartSelector{StartSelectorType: kvsaws.StartAtNow}) {
//		...
//	}
package kvstest
