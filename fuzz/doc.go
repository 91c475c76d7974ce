// Package fuzz holds kvsmkv's fuzz targets and its table of hostile inputs:
// the mkv decoder, the kvs reader and the tags parsers on arbitrary bytes,
// and a differential target that decodes the same input whole, one byte at a
// time and pushed in chunks of the fuzzer's choosing. Every input must give a
// typed error or a clean end, never a panic or a hang, in memory bounded by
// the maximum element size.
//
// The seeds run with go test ./fuzz/...; fuzz one target with, for example,
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzDecoder$' -fuzztime 60s
package fuzz
