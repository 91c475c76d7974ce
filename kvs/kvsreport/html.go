package kvsreport

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
	"time"
)

// DefaultMaxBars is the number of fragments of one stream past which its
// timeline draws spans instead of one bar per fragment.
const DefaultMaxBars = 20000

// Options configure a report.
type Options struct {
	// Title heads the page (default "KVS fragments").
	Title string
	// Gap is the longest space between fragments that is not a gap.
	Gap time.Duration
	// MaxBars bounds the bars of one stream's timeline (default
	// DefaultMaxBars): a stream with more fragments is drawn as its
	// spans, so that the file stays small (a bar is about 250 bytes).
	MaxBars int
}

// Geometry of a timeline, in SVG user units.
const (
	svgWidth   = 1160
	plotLeft   = 30
	plotRight  = svgWidth - 30
	barTop     = 22
	barHeight  = 34
	axisTop    = barTop + barHeight + 6
	svgHeight  = axisTop + 22
	maxListed  = 200 // gaps and untimed errors listed under a timeline
	minBarSize = 0.5
)

// WriteHTML writes a report of records as one self-contained HTML page:
// a summary table (fragments, time covered, media, gaps, in-band errors by
// code, fragments cut off and damaged, with the bytes skipped past the
// damage as the count's hover text, per stream), then a timeline per
// stream drawn in inline SVG, with a bar per fragment (class "frag",
// "frag error" for one with an in-band error, "frag damaged" for one with
// damage), each gap shaded (class "gap"), each in-band error marked above
// the bar (class "mark") and each damaged fragment below it (class
// "damage"), every one with hover text (an SVG title) that gives the
// fragment number and timestamps, and the damage's cause and offset. The
// page loads nothing: no script, font or image.
func WriteHTML(w io.Writer, records []Record, opts Options) error {
	if opts.Title == "" {
		opts.Title = "KVS fragments"
	}
	if opts.MaxBars <= 0 {
		opts.MaxBars = DefaultMaxBars
	}
	summaries := Summarize(records, opts.Gap)
	byStream := map[string][]Record{}
	for _, r := range records {
		byStream[r.Stream] = append(byStream[r.Stream], r)
	}
	b := bufio.NewWriter(w)
	p := &page{w: b}
	p.head(opts, summaries)
	for i := range summaries {
		p.stream(i, &summaries[i], byStream[summaries[i].Stream], opts)
	}
	p.printf("</body>\n</html>\n")
	return b.Flush()
}

type page struct {
	w *bufio.Writer
}

func (p *page) printf(format string, args ...any) { fmt.Fprintf(p.w, format, args...) }

const style = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px}
p.note{color:#555;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef2f7}td{white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.bad{color:#b00020;font-weight:600}
h1,h2,td.name,td.errors{white-space:normal;overflow-wrap:anywhere}td.name{min-width:8em}td.errors{min-width:12em}
svg{display:block;width:100%;height:auto;max-width:1160px;background:#fafafa;border:1px solid #ddd}
rect.frag{fill:#3b7dd8}rect.frag.error{fill:#d0021b}rect.span{fill:#3b7dd8}
rect.frag.damaged{fill:#7b1fa2;stroke:#111;stroke-width:1;stroke-dasharray:3 2}path.damage{fill:#7b1fa2}
rect.gap{fill:#ffd54f;fill-opacity:.55;stroke:#e0a800;stroke-width:.5}
path.mark{fill:#d0021b}
line.tick{stroke:#999;stroke-width:1}text{font:11px system-ui,sans-serif;fill:#444}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-2px}
`

func (p *page) head(opts Options, summaries []Summary) {
	esc := html.EscapeString
	p.printf("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		esc(opts.Title), style)
	p.printf("<h1>%s</h1>\n<p class=\"note\">Producer time, UTC. Gaps are spaces of more than %s between fragments."+
		"<span class=\"legend\"><span style=\"background:#3b7dd8\"></span>fragment<span style=\"background:#ffd54f\"></span>gap"+
		"<span style=\"background:#d0021b\"></span>in-band error<span style=\"background:#7b1fa2\"></span>damaged</span></p>\n", esc(opts.Title), opts.Gap)
	p.printf("<table class=\"summary\">\n<thead><tr><th>stream</th><th>fragments</th><th>from</th><th>to</th><th>media</th>" +
		"<th>gaps</th><th>longest gap</th><th>in-band errors</th><th>cut off</th><th>damaged</th></tr></thead>\n<tbody>\n")
	for i := range summaries {
		s := &summaries[i]
		gaps := s.Gaps()
		var longest time.Duration
		for _, g := range gaps {
			longest = max(longest, g.Duration())
		}
		p.printf("<tr><td class=\"name\"><a href=\"#stream-%d\">%s</a></td><td class=\"num\">%d</td><td>%s</td><td>%s</td><td class=\"num\">%s</td>"+
			"<td class=\"num%s\">%d</td><td class=\"num\">%s</td><td class=\"errors%s\">%s</td><td class=\"num\">%d</td><td class=\"num%s\" title=\"%d bytes skipped\">%d</td></tr>\n",
			i, esc(s.Stream), s.Fragments, timeText(s.Start()), timeText(s.End()),
			time.Duration(s.DurationMillis)*time.Millisecond, badIf(len(gaps) > 0), len(gaps), dashIfZero(longest),
			badIf(len(s.Errors) > 0), esc(errorsText(s.Errors)), s.Partial, badIf(s.Damaged > 0), s.SkippedBytes, s.Damaged)
	}
	p.printf("</tbody>\n</table>\n")
}

func badIf(b bool) string {
	if b {
		return " bad"
	}
	return ""
}

func dashIfZero(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.String()
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(TimeLayout)
}

// errorsText lists error counts by code, most frequent first.
func errorsText(errs map[string]int) string {
	if len(errs) == 0 {
		return "-"
	}
	codes := make([]string, 0, len(errs))
	for c := range errs {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if errs[codes[i]] != errs[codes[j]] {
			return errs[codes[i]] > errs[codes[j]]
		}
		return codes[i] < codes[j]
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s \u00d7%d", c, errs[c])
	}
	return strings.Join(parts, ", ")
}

// axis maps producer time to x.
type axis struct {
	t0   time.Time
	span time.Duration
}

func (a axis) x(t time.Time) float64 {
	return plotLeft + float64(t.Sub(a.t0))/float64(a.span)*(plotRight-plotLeft)
}

func (p *page) stream(i int, s *Summary, records []Record, opts Options) {
	esc := html.EscapeString
	sort.SliceStable(records, func(i, j int) bool { return records[i].Producer().Before(records[j].Producer()) })
	var timed, untimed []Record
	for _, r := range records {
		if r.Producer().IsZero() {
			untimed = append(untimed, r)
		} else {
			timed = append(timed, r)
		}
	}
	p.printf("<section class=\"stream\" id=\"stream-%d\">\n<h2>%s</h2>\n", i, esc(s.Stream))
	a := axis{}
	for _, r := range timed {
		start, end := r.Producer(), r.Producer().Add(r.Duration())
		if a.t0.IsZero() || start.Before(a.t0) {
			a.t0 = start
		}
		if d := end.Sub(a.t0); d > a.span {
			a.span = d
		}
	}
	if a.span <= 0 {
		a.span = time.Second
	}
	bars := len(timed) <= opts.MaxBars
	p.printf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" data-stream=\"%s\" data-fragments=\"%d\" data-bars=\"%t\">\n",
		svgWidth, svgHeight, svgWidth, svgHeight, esc(s.Stream), len(timed), bars)
	p.printf("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#eceff3\"/>\n", plotLeft, barTop, plotRight-plotLeft, barHeight)
	for _, g := range s.Gaps() {
		x0, x1 := a.x(g.Start), a.x(g.End)
		p.printf("<rect class=\"gap\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\"><title>gap of %s\nfrom %s (after %s)\nto %s (before %s)</title></rect>\n",
			x0, barTop-6, max(x1-x0, 2), barHeight+12, g.Duration(), timeText(g.Start), esc(g.After), timeText(g.End), esc(g.Before))
	}
	if bars {
		for _, r := range timed {
			p.bar(a, r)
		}
	} else {
		for _, sp := range s.Spans {
			x0, x1 := a.x(sp.Start), a.x(sp.End)
			p.printf("<rect class=\"span\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\"><title>%d fragments\n%s to %s\nfirst %s\nlast %s</title></rect>\n",
				x0, barTop, max(x1-x0, minBarSize), barHeight, sp.Fragments, timeText(sp.Start), timeText(sp.End), esc(sp.First), esc(sp.Last))
		}
	}
	for _, r := range timed {
		x := a.x(r.Producer())
		if r.Error != nil {
			p.printf("<path class=\"mark\" d=\"M%.2f %d l-5 -10 h10 z\"><title>%s</title></path>\n", x, barTop-2, esc(hoverText(r)))
		}
		if len(r.Damaged) > 0 {
			p.printf("<path class=\"damage\" d=\"M%.2f %d l-5 10 h10 z\"><title>%s</title></path>\n", x, barTop+barHeight+2, esc(hoverText(r)))
		}
	}
	p.ticks(a)
	p.printf("</svg>\n")
	p.lists(s, untimed)
	p.printf("</section>\n")
}

func (p *page) bar(a axis, r Record) {
	x0, x1 := a.x(r.Producer()), a.x(r.Producer().Add(r.Duration()))
	class := "frag"
	switch {
	case len(r.Damaged) > 0:
		class = "frag damaged"
	case r.Error != nil:
		class = "frag error"
	}
	p.printf("<rect class=\"%s\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\"><title>%s</title></rect>\n",
		class, x0, barTop, max(x1-x0-0.2, minBarSize), barHeight, html.EscapeString(hoverText(r)))
}

// hoverText is a fragment's hover text: number, timestamps, duration, error.
func hoverText(r Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fragment %s\nproducer %s\nserver %s\nduration %s", orDash(r.FragmentNumber),
		orDash(r.ProducerTimestamp), orDash(r.ServerTimestamp), r.Duration())
	if e := r.Error; e != nil {
		fmt.Fprintf(&b, "\nerror %s", e.Key())
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
	}
	if r.Partial {
		b.WriteString("\ncut off")
	}
	for i := range r.Damaged {
		b.WriteString("\ndamaged: " + r.Damaged[i].Text())
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tickSteps are the spacings the axis picks from.
var tickSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// ticks draws at most about 8 labelled ticks at round times.
func (p *page) ticks(a axis) {
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if a.span/s <= 8 {
			step = s
			break
		}
	}
	layout := "15:04:05"
	if a.span > 24*time.Hour {
		layout = "01-02 15:04"
	}
	t0 := a.t0.UTC()
	first := t0.Truncate(step)
	if first.Before(t0) {
		first = first.Add(step)
	}
	for t := first; !t.After(t0.Add(a.span)); t = t.Add(step) {
		x := a.x(t)
		p.printf("<line class=\"tick\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/><text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, axisTop-4, x, axisTop+2, x, axisTop+15, t.Format(layout))
	}
}

// lists writes the gaps, and the errors that have no time to be drawn at
// (a fragment the service does not have), under a timeline.
func (p *page) lists(s *Summary, untimed []Record) {
	esc := html.EscapeString
	if gaps := s.Gaps(); len(gaps) > 0 {
		p.printf("<details><summary>%d gaps</summary>\n<table class=\"gaps\"><thead><tr><th>from</th><th>to</th><th>length</th><th>after fragment</th><th>before fragment</th></tr></thead><tbody>\n", len(gaps))
		for i, g := range gaps {
			if i == maxListed {
				p.printf("<tr><td colspan=\"5\">and %d more</td></tr>\n", len(gaps)-i)
				break
			}
			p.printf("<tr><td>%s</td><td>%s</td><td class=\"num\">%s</td><td>%s</td><td>%s</td></tr>\n",
				timeText(g.Start), timeText(g.End), g.Duration(), esc(g.After), esc(g.Before))
		}
		p.printf("</tbody></table>\n</details>\n")
	}
	if len(untimed) > 0 {
		p.printf("<details open=\"open\"><summary>fragments without a producer timestamp: %d</summary>\n<ul class=\"untimed\">\n", len(untimed))
		for i, r := range untimed {
			if i == maxListed {
				p.printf("<li>and %d more</li>\n", len(untimed)-i)
				break
			}
			p.printf("<li>%s</li>\n", esc(strings.ReplaceAll(hoverText(r), "\n", "; ")))
		}
		p.printf("</ul>\n</details>\n")
	}
}
