// Package kvsgen writes KVS-shaped MKV streams for tests, fuzz seeds and
// benchmarks of programs that read Kinesis Video Streams: what GetMedia
// and GetMediaForFragmentList return, one unit per fragment, each an EBML
// header and a Segment with Info, Tracks, the KVS tags before the Cluster
// and a Cluster of unknown size, with the variations real producers and
// the service write (side spellings of the timestamp tags, NUL-padded
// tags, BlockGroups, laced audio, CRC-32, in-band error units, decodable
// H.264 and AAC), and phone calls as Amazon Connect and the Chime SDK
// Voice Connector write them (Generator.Call). It imports only mkv and the standard library: a test
// that needs a stream needs no server (kvstest, the emulator, serves these
// streams over HTTP).
//
// A Generator is a value: the same Generator always writes the same bytes,
// and its Frames, Tracks, Times and FragmentNumber methods say what it
// wrote, for tests to compare what a reader returns with.
//
//	g := kvsgen.Generator{Fragments: 2, Audio: true, GetMedia: true}
//	for f, err := range kvs.NewReader(g.Reader()).All() {
//		...
//	}
package kvsgen
