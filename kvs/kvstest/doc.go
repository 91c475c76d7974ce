// Package kvstest is a local Kinesis Video Streams emulator, so that
// programs that read or write KVS can be tested without an AWS account: an
// HTTP server that speaks the wire protocol of the control plane
// (CreateStream, DescribeStream, ListStreams, DeleteStream,
// GetDataEndpoint, the stream tags of TagStream, UntagStream,
// ListTagsForStream, TagResource, UntagResource and ListTagsForResource,
// UpdateDataRetention, UpdateStream) and of ListFragments,
// GetMediaForFragmentList, GetMedia and PutMedia, with the shapes and
// errors of AWS's API models; verifies every request's SigV4 signature as
// AWS does, over the headers the client signed and the body it sent, so
// that the AWS CLI, boto3, the SDKs and AWS's producer SDKs all work
// against it; and
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
// Its streams hold fragments, each with a 47-digit fragment number (each
// stream numbers from a range of its own, so that fragments of two
// streams never share a number), producer and server timestamps, a
// duration and a size, served in the layouts KVS writes (the KVS tags
// before the Cluster; GetMedia's MILLIS_BEHIND_NOW and CONTINUATION_TOKEN
// after it). A stream is generated (AddStream), loaded from an MKV file,
// one fragment per Cluster (AddStreamFromFile: the file's own
// AWS_KINESISVIDEO_* tags, such as a GetMedia capture carries, are
// dropped for the emulator's, per API; its other tags are kept), or
// created empty (CreateStream) and fed with PutMedia, the real ingest
// protocol: a long chunked MKV body answered by BUFFERING, RECEIVED,
// PERSISTED, ERROR and IDLE acks as they happen. The
// Producer sends a file through PutMedia at its own frame rate, or faster.
// GetMedia at the live edge of a stream being produced writes each frame as
// soon as it is ingested, and ends after the limits of LiveLimits. With
// OpenDataDir, streams and fragments are kept on disk: a fragment
// acknowledged PERSISTED survives a restart, even after kill -9.
//
// The streams it generates are kvsgen's, which tests, fuzz seeds and
// benchmarks use without a server.
//
// # PutMedia as the producer SDKs use it
//
// AWS's C producer SDK (v1.6.4 tried; the engine under the C++ SDK and
// GStreamer's kvssink) streams into the emulator with its default
// settings; what its state machine relies on is emulated:
//
//   - A fragment ends at the next Cluster, at the end of its Segment or of
//     the body, or at once at a Tags element holding the SimpleTag
//     AWS_KINESISVIDEO_END_OF_FRAGMENT (EndOfFragment), which the SDK
//     writes on stop and then holds the body open until that fragment's
//     PERSISTED ack: RECEIVED and PERSISTED follow the marker at once.
//   - The marker is a signal of the protocol, not media: it is neither
//     stored nor served. KVS's documentation lists the tags GetMedia and
//     GetMediaForFragmentList add to a fragment and says the producer's
//     fragment metadata is served with it; it names no end-of-fragment tag
//     (only the producer SDKs' sources do), so the emulator serves the
//     metadata and drops the marker (not checked against the service).
//   - The producer's other Tags (fragment metadata, one Tags a pair, after
//     the fragment's blocks; Amazon Connect's ContactId and the like) are
//     kept with the fragment they follow, and served in place by GetMedia
//     and GetMediaForFragmentList; Tags before a Segment's first Cluster,
//     or after a marker, go with the next fragment.
//   - Each ack is written and flushed alone, one HTTP chunk each: the C
//     producer's parser takes only the first ack of each piece curl hands
//     it. BUFFERING is sent when a fragment's Cluster Timecode is read,
//     well within the 5 s after which the SDK calls the connection stale;
//     acks carry the Cluster Timecode as sent.
//   - x-amzn-fragment-acknowledgment-required: 0 sends no ack at all.
//   - Expect: 100-continue (curl sends it) is answered before the 200.
//   - x-amzn-producer-start-timestamp is seconds, "." and milliseconds as
//     an integer, as the C producer writes it ("1511852108.5" is 5 ms past
//     the second); it places RELATIVE timecodes.
//   - ERROR acks carry KVS's ErrorId: 4001 (fragment over 50 MB), 4002
//     (over 10 s), 4004 (timecode going back), 4006 (invalid MKV), 4008
//     (stream deleted), 4010 (a block of a track not in Tracks), 4012 (too
//     many tracks), 5001 (not stored); each ends the response, as the SDK
//     expects (it reconnects, or skips the fragment for a non-retriable
//     id).
//   - IDLE acks every LiveLimits.IdleAck (3 s) while no data comes, and the
//     end of the response after LiveLimits.PutMediaIdle (30 s). The C
//     producer ignores IDLE acks, and its curl gives up below 30 bytes a
//     second over 30 s.
//
// Not emulated: the other ErrorIds (4000, 4003, 4005, 4007, 4009 (too much
// fragment metadata), 4011, the KMS ones 4500-4507, 5000) are never sent;
// KVS's ingest throughput limits (12.5 MB/s, five fragments a second), its
// limit on a PutMedia's duration, and its real ack latencies. Stream tags
// are kept and listed, with no other effect.
//
// # The control plane
//
// CreateStream keeps its Tags; TagStream, UntagStream and ListTagsForStream
// (by name or ARN) and TagResource, UntagResource and ListTagsForResource
// (by the stream's ARN) manage them, at most 50 a stream
// (TagsPerResourceExceededLimitException; keys and values are checked for
// length, not for the model's character pattern). UpdateDataRetention and
// UpdateStream check CurrentVersion (VersionMismatchException) and give
// the stream a new version; a retention stays within 0 to 87,600 hours.
// Every other operation of the kinesisvideo and
// kinesis-video-archived-media models (signaling channels, edge, media
// storage, notification and image generation configurations, HLS and DASH
// sessions, clips, images) answers 400 UnsupportedOperationException "kvsemu
// does not emulate OPERATION", which AWS's clients print as such (the C
// producer reads a 404 as a missing stream and waits); GetDataEndpoint
// answers the same for those APIs rather than an endpoint. A path that is
// no operation answers a typed 404, UnknownOperationException.
//
// A request's signature covers its body: a control-plane body is hashed,
// and an X-Amz-Content-Sha256 header naming another hash (UNSIGNED-PAYLOAD
// included) is refused with 403 InvalidSignatureException, the answer of
// AWS's JSON-protocol services to a body that is not the one signed (S3's
// XAmzContentSHA256Mismatch is S3's own). PutMedia's body is streamed and
// acted on as it comes: producers sign it as the empty string (the C
// producer sends no header), which is checked, or UNSIGNED-PAYLOAD; a
// header naming any other hash is refused.
//
// Its files, from the requests down: routes.go (NewServer: each operation
// at its path); control.go (CreateStream, DescribeStream, ListStreams,
// DeleteStream, GetDataEndpoint), tagging.go (stream tags, the updates, the
// operations not emulated), dataplane.go and live.go (ListFragments,
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
