package kvsreport

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvsmkv/kvsmkv/internal/mediatest"
)

// reportRecords are three streams: one contiguous, one with gaps, in-band
// errors and damaged fragments, one with a fragment the service does not have (no timestamp).
func reportRecords() []Record {
	var rs []Record
	for i := range 400 {
		rs = append(rs, rec("front-door", fmt.Sprint(1000+i), time.Duration(i)*2*time.Second, 2*time.Second))
	}
	for i := range 150 {
		if i%40 == 39 {
			continue // a gap
		}
		r := rec("back-yard", fmt.Sprint(2000+i), time.Duration(i)*2*time.Second, 2*time.Second)
		if i%50 == 7 {
			r.Error = &Error{Code: "FRAGMENT_NOT_FOUND", ID: 4000}
		}
		switch {
		case i == 120:
			r.Partial = true
			r.Damaged = []Damage{{Offset: int64(i) * 1000, Element: "Cluster", Cause: "invalid element size", Skipped: 77}}
		case i%50 == 20:
			r.Damaged = []Damage{{Offset: int64(i) * 1000, Element: "Cluster", Cause: "CRC-32 mismatch", Stored: "0x00000001", Computed: "0x00000002"}}
		}
		rs = append(rs, r)
	}
	for i := range 20 {
		rs = append(rs, rec("garage <&>", fmt.Sprint(3000+i), time.Duration(i)*2*time.Second+time.Hour, 2*time.Second))
	}
	rs = append(rs, Record{Stream: "garage <&>", FragmentNumber: "3999", Error: &Error{Code: "ResourceNotFoundException", Message: "Fragment 3999 not found"}})
	return rs
}

// svgInfo is what a timeline holds, read back from the page.
type svgInfo struct {
	stream    string
	fragments string
	bars      int
	titles    []string
	gaps      int
	marks     int
	// damaged counts the bars of damaged fragments; damages are the hover
	// texts of the marks under them.
	damaged int
	damages []string
}

// parseReport reads the page as XML (it is written well-formed) and returns
// its timelines and the number of summary table rows.
func parseReport(t *testing.T, page []byte) (svgs []*svgInfo, rows int) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var cur *svgInfo
	var inBar, inSummary bool
	attr := func(e xml.StartElement, name string) string {
		for _, a := range e.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page is not well-formed: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch {
			case e.Name.Local == "table" && attr(e, "class") == "summary":
				inSummary = true
			case e.Name.Local == "tr" && inSummary:
				rows++
			case e.Name.Local == "svg":
				cur = &svgInfo{stream: attr(e, "data-stream"), fragments: attr(e, "data-fragments")}
				svgs = append(svgs, cur)
			case e.Name.Local == "rect" && strings.HasPrefix(attr(e, "class"), "frag"):
				cur.bars++
				if attr(e, "class") == "frag damaged" {
					cur.damaged++
				}
				inBar = true
			case e.Name.Local == "path" && attr(e, "class") == "damage":
				var title struct {
					Text string `xml:"title"`
				}
				if err := d.DecodeElement(&title, &e); err != nil {
					t.Fatal(err)
				}
				cur.damages = append(cur.damages, title.Text)
			case e.Name.Local == "rect" && attr(e, "class") == "gap":
				cur.gaps++
			case e.Name.Local == "path" && attr(e, "class") == "mark":
				cur.marks++
			case e.Name.Local == "title" && inBar:
				var s string
				if err := d.DecodeElement(&s, &e); err != nil {
					t.Fatal(err)
				}
				cur.titles = append(cur.titles, s)
				inBar = false
			}
		case xml.EndElement:
			if e.Name.Local == "table" {
				inSummary = false
			}
		}
	}
	return svgs, rows - 1 // the header row
}

func TestWriteHTML(t *testing.T) {
	records := reportRecords()
	var page bytes.Buffer
	if err := WriteHTML(&page, records, Options{Title: "audit", Gap: time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, external := range []string{"<script", "src=", "<link", "@import", "url(", "http://", "https://"} {
		if external == "http://" {
			// The SVG namespace is the only URL allowed.
			if strings.Count(page.String(), external) != strings.Count(page.String(), `xmlns="http://www.w3.org/2000/svg"`) {
				t.Errorf("the page refers to a URL other than the SVG namespace")
			}
			continue
		}
		if strings.Contains(page.String(), external) {
			t.Errorf("the page holds %q: it must load nothing", external)
		}
	}
	svgs, rows := parseReport(t, page.Bytes())
	if rows != 3 {
		t.Errorf("summary table has %d rows, want 3", rows)
	}
	want := map[string]struct{ bars, gaps, marks int }{
		"front-door": {400, 0, 0},
		"back-yard":  {147, 3 + 3, 3}, // 3 missing fragments, 3 error fragments (which cover no time)
		"garage <&>": {20, 0, 0},
	}
	if len(svgs) != len(want) {
		t.Fatalf("%d timelines, want %d", len(svgs), len(want))
	}
	for _, s := range svgs {
		w, ok := want[s.stream]
		if !ok {
			t.Errorf("timeline of unknown stream %q", s.stream)
			continue
		}
		if s.bars != w.bars || s.fragments != fmt.Sprint(w.bars) {
			t.Errorf("%s: %d bars (data-fragments %s), want one per fragment: %d", s.stream, s.bars, s.fragments, w.bars)
		}
		if s.gaps != w.gaps || s.marks != w.marks {
			t.Errorf("%s: %d gaps and %d error marks, want %d and %d", s.stream, s.gaps, s.marks, w.gaps, w.marks)
		}
		if wantDamaged := map[string]int{"back-yard": 3}[s.stream]; s.damaged != wantDamaged || len(s.damages) != wantDamaged {
			t.Errorf("%s: %d damaged bars and %d damage marks, want %d", s.stream, s.damaged, len(s.damages), wantDamaged)
		}
		for _, title := range s.damages {
			if !strings.Contains(title, "\ndamaged: ") || !strings.Contains(title, " in Cluster at offset ") {
				t.Errorf("%s: damage mark's hover text %q lacks the cause and offset", s.stream, title)
			}
		}
		for _, title := range s.titles {
			if !strings.HasPrefix(title, "fragment ") || !strings.Contains(title, "\nproducer 20") || !strings.Contains(title, "\nserver ") {
				t.Errorf("%s: hover text %q lacks the fragment number or timestamps", s.stream, title)
				break
			}
		}
	}
	if !strings.Contains(page.String(), "damaged: invalid element size in Cluster at offset 120000 (77 bytes skipped)") ||
		!strings.Contains(page.String(), `<td class="num bad" title="77 bytes skipped">3</td>`) {
		t.Errorf("the damage of back-yard's fragment 2120 is not in its hover text, or the summary does not count 3 damaged fragments")
	}
	if !strings.Contains(page.String(), "ResourceNotFoundException") || !strings.Contains(page.String(), "fragment 3999") {
		t.Errorf("the fragment without a timestamp is not listed")
	}

	// Past MaxBars, a timeline draws its spans.
	page.Reset()
	if err := WriteHTML(&page, records, Options{Gap: time.Second, MaxBars: 100}); err != nil {
		t.Fatal(err)
	}
	svgs, _ = parseReport(t, page.Bytes())
	for _, s := range svgs {
		if s.stream == "front-door" && (s.bars != 0 || !strings.Contains(page.String(), `class="span"`)) {
			t.Errorf("front-door over MaxBars: %d bars, want its spans", s.bars)
		}
		if s.stream == "garage <&>" && s.bars != 20 {
			t.Errorf("garage under MaxBars: %d bars, want 20", s.bars)
		}
	}
}

// findChromium returns the path of a headless browser, or skips the test.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	mediatest.Skip(t, "chromium", "apt-get install chromium")
	return ""
}

// TestWriteHTMLFits lays the report out in headless Chromium at 1300 px,
// with a stream named by a long file path and in-band errors of several
// codes: the page is no wider than the window, so the summary's error
// columns stay on screen.
func TestWriteHTMLFits(t *testing.T) {
	chromium := findChromium(t)
	long := "/home/someone/captures/2026-11-24/front-door-camera-north-entrance/getmedia-response-2026-11-24T10-00-00Z-to-2026-11-24T11-00-00Z.mkv"
	var records []Record
	for i := range 30 {
		r := rec(long, fmt.Sprint(1000+i), time.Duration(i)*2*time.Second, 2*time.Second)
		switch i % 3 {
		case 1:
			r.Error = &Error{Code: "FRAGMENT_NOT_FOUND_IN_THE_STREAM_ARCHIVE", ID: 4000}
		case 2:
			r.Error = &Error{Code: "FRAGMENT_METADATA_LIMIT_REACHED_FOR_THIS_STREAM", ID: 4010}
		}
		records = append(records, r)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, records, Options{Title: long, Gap: time.Second}); err != nil {
		t.Fatal(err)
	}
	// The page loads nothing; the copy laid out here reports its width.
	page.WriteString("<script>document.body.setAttribute('data-width', document.documentElement.scrollWidth)</script>\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1300,800", "--dump-dom", "file://"+file)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`data-width="(\d+)"`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the laid-out page has no data-width: %.300s", out)
	}
	if w, _ := strconv.Atoi(string(m[1])); w > 1300 {
		t.Errorf("the page is %d px wide in a 1300 px window: the summary runs off screen", w)
	}
}

// TestWriteHTMLRenders renders the report in headless Chromium and checks
// that the screenshot is not blank and shows the bars' colour.
func TestWriteHTMLRenders(t *testing.T) {
	chromium := findChromium(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	var page bytes.Buffer
	if err := WriteHTML(&page, reportRecords(), Options{Title: "audit", Gap: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "out.png")
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=1200,800", "file://"+file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	var nonWhite, barBlue, damagedPurple int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r < 245 || g < 245 || bl < 245 {
				nonWhite++
			}
			if near(r, 0x3b) && near(g, 0x7d) && near(bl, 0xd8) {
				barBlue++
			}
			if near(r, 0x7b) && near(g, 0x1f) && near(bl, 0xa2) {
				damagedPurple++
			}
		}
	}
	total := b.Dx() * b.Dy()
	t.Logf("screenshot %dx%d: %d non-white pixels, %d of the bars' blue, %d of the damaged purple", b.Dx(), b.Dy(), nonWhite, barBlue, damagedPurple)
	if nonWhite < total/50 {
		t.Errorf("screenshot is blank: %d of %d pixels are not white", nonWhite, total)
	}
	if damagedPurple < 50 {
		t.Errorf("screenshot shows %d pixels of the damaged fragments' purple, want their bars and marks", damagedPurple)
	}
	if barBlue < 5000 {
		t.Errorf("screenshot shows %d pixels of the bars' blue, want the timelines' bars", barBlue)
	}
}

func near(a, b uint32) bool { return a+12 >= b && a <= b+12 }
