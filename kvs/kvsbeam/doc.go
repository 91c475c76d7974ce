// Package kvsbeam reads Kinesis Video Streams at scale as Apache Beam
// transforms: fragment metadata (ReadFragments), keyframes or all frames of
// chosen tracks as stand-alone Annex-B (ReadFrames), per-stream summaries
// (Summarize), and the kvsaudit pipeline (Audit, cmd/kvsaudit) that writes
// them as JSON Lines and an HTML report. The same pipeline runs on Beam's
// local runner, prism, in tests and on Dataflow, Flink or Spark at scale.
//
// It is a module of its own, so that the kvsmkv library never requires
// Beam.
//
//	p, s := beam.NewPipelineWithRoot()
//	reqs := beam.Create(s, kvsbeam.Request{Stream: "front-door", Start: t1, End: t2})
//	records := kvsbeam.ReadFragments(s, kvsbeam.Options{}, reqs) // PCollection<kvsreport.Record>
//	summaries := kvsbeam.Summarize(s, time.Second, records)      // PCollection<kvsreport.Summary>
//
// Each request is listed with ListFragments on one worker and cut into
// batches of at most 1000 fragments; a group-by-key on "stream#shard",
// at most Options.Shards (5) shards a stream, spreads the batches over the
// workers and bounds the GetMediaForFragmentList calls open on a stream,
// whatever the number of workers, under KVS's limit of 5 connections per
// stream. Each worker makes its kvsaws client in the DoFns' Setup from the
// standard AWS configuration (config.LoadDefaultConfig: environment, shared
// files, instance or workload role), with Options.Endpoint for an
// emulator. Throttling and connection limits are retried with backoff,
// broken bodies from their first missing fragment, and a failed bundle's
// outputs are discarded by the runner when it retries it, so every
// fragment is in the output once.
package kvsbeam
