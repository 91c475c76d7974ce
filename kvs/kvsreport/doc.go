// Package kvsreport turns fragments into records and records into a report:
// Record is a fragment's metadata (RecordOf: kvsdump's JSON line of a
// fragment, written by AppendJSON; FromFragment adds the stream, the
// duration and each track's bytes), Summary what a stream's
// records add up to (fragments, media, the spans the media covers and the
// gaps between them, in-band errors by code), and WriteHTML one
// self-contained HTML page with a summary table and a timeline per stream
// in inline SVG: a bar per fragment, gaps shaded, in-band errors marked,
// hover text with each fragment's number and timestamps.
//
//	var records []kvsreport.Record
//	for f, err := range client.FetchRange(ctx, "front-door", sel) {
//		if err != nil {
//			return err
//		}
//		records = append(records, kvsreport.FromFragment("front-door", f))
//	}
//	err := kvsreport.WriteHTML(file, records, kvsreport.Options{Gap: time.Second})
//
// kvsdump -html and kvsbeam's kvsaudit -html write their reports with it.
package kvsreport
