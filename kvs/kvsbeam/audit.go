package kvsbeam

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/kvsmkv/kvsmkv/kvs/kvsreport"
)

// Summarize sums records, a PCollection<kvsreport.Record>, per stream and
// returns a PCollection<kvsreport.Summary>, one per stream: fragments,
// media, the spans covered and the gaps longer than gap between them,
// in-band errors by code, fragments cut off, and fragments damaged (a
// CRC-32 mismatch, a unit skipped) with the bytes skipped. It is a combine, so each worker sums its share
// and only summaries travel.
func Summarize(s beam.Scope, gap time.Duration, records beam.PCollection) beam.PCollection {
	s = s.Scope("kvsbeam.Summarize")
	keyed := beam.ParDo(s, keyByStream, records)
	sums := beam.CombinePerKey(s, &summaryFn{GapMillis: gap.Milliseconds()}, keyed)
	return beam.DropKey(s, sums)
}

func keyByStream(r kvsreport.Record) (string, kvsreport.Record) { return r.Stream, r }

// summaryFn combines records into a kvsreport.Summary.
type summaryFn struct {
	GapMillis int64
}

func (f *summaryFn) CreateAccumulator() kvsreport.Summary {
	return kvsreport.NewSummary("", time.Duration(f.GapMillis)*time.Millisecond)
}

func (f *summaryFn) AddInput(a kvsreport.Summary, r kvsreport.Record) kvsreport.Summary {
	a.Stream = r.Stream
	a.Add(r)
	return a
}

func (f *summaryFn) MergeAccumulators(a, b kvsreport.Summary) kvsreport.Summary {
	if a.Stream == "" {
		a.Stream = b.Stream
	}
	a.Merge(b)
	return a
}

// AuditOptions configure Audit.
type AuditOptions struct {
	Options
	// Gap is the longest space between fragments that is not a gap.
	Gap time.Duration
	// Out is the prefix of the outputs: Out+"-fragments.jsonl" gets a
	// JSON line per fragment, Out+"-summary.jsonl" one per stream. A
	// local path, or any filesystem Beam has (gs:// on Dataflow).
	Out string
	// HTML, when set, is where the HTML report goes.
	HTML string
	// Title heads the HTML report.
	Title string
}

// Audit reads requests (a PCollection<Request>) with ReadFragments, writes
// the records and per-stream summaries as JSON Lines under opts.Out and,
// with opts.HTML, the HTML report (kvsreport.WriteHTML, which gathers the
// records on one worker: about 200 bytes each). It returns the records and
// the summaries.
func Audit(s beam.Scope, opts AuditOptions, requests beam.PCollection) (records, summaries beam.PCollection) {
	records = ReadFragments(s, opts.Options, requests)
	return records, writeAudit(s, opts, records)
}

// writeAudit sums records per stream and writes the outputs of Audit; it
// returns the summaries.
func writeAudit(s beam.Scope, opts AuditOptions, records beam.PCollection) beam.PCollection {
	summaries := Summarize(s, opts.Gap, records)
	s = s.Scope("kvsbeam.Audit")
	textio.Write(s, opts.Out+"-fragments.jsonl", beam.ParDo(s, recordJSON, records))
	textio.Write(s, opts.Out+"-summary.jsonl", beam.ParDo(s, summaryJSON, summaries))
	if opts.HTML != "" {
		all := beam.GroupByKey(s, beam.AddFixedKey(s, records))
		beam.ParDo0(s, &writeHTMLFn{Path: opts.HTML, Title: opts.Title, GapMillis: opts.Gap.Milliseconds()}, all)
	}
	return summaries
}

func recordJSON(r kvsreport.Record) (string, error) {
	b, err := json.Marshal(r)
	return string(b), err
}

func summaryJSON(s kvsreport.Summary) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// writeHTMLFn writes the HTML report of all records, which a group by a
// fixed key has gathered.
type writeHTMLFn struct {
	Path      string
	Title     string
	GapMillis int64
}

func (f *writeHTMLFn) ProcessElement(ctx context.Context, _ int, group func(*kvsreport.Record) bool) (err error) {
	var records []kvsreport.Record
	var r kvsreport.Record
	for group(&r) {
		records = append(records, r)
		r = kvsreport.Record{}
	}
	// Records arrive in no particular order; the report's lists follow
	// the input's, so sort them for a page that is the same every run.
	sort.SliceStable(records, func(i, j int) bool {
		if records[i].Stream != records[j].Stream {
			return records[i].Stream < records[j].Stream
		}
		return records[i].Index < records[j].Index
	})
	fs, err := filesystem.New(ctx, f.Path)
	if err != nil {
		return fmt.Errorf("kvsbeam: HTML report %s: %w", f.Path, err)
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, f.Path)
	if err != nil {
		return fmt.Errorf("kvsbeam: HTML report %s: %w", f.Path, err)
	}
	defer func() { err = errors.Join(err, w.Close()) }()
	b := bufio.NewWriter(w)
	opts := kvsreport.Options{Title: f.Title, Gap: time.Duration(f.GapMillis) * time.Millisecond}
	if err := kvsreport.WriteHTML(b, records, opts); err != nil {
		return fmt.Errorf("kvsbeam: HTML report %s: %w", f.Path, err)
	}
	return b.Flush()
}

func init() {
	register.Function1x2(keyByStream)
	register.Function1x2(recordJSON)
	register.Function1x2(summaryJSON)
	register.Combiner2[kvsreport.Summary, kvsreport.Record](&summaryFn{})
	register.DoFn3x1[context.Context, int, func(*kvsreport.Record) bool, error](&writeHTMLFn{})
	register.Emitter2[string, kvsreport.Record]()
	register.Iter1[kvsreport.Record]()
}
