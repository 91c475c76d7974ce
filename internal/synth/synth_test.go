package synth

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bitString renders the bits written so far as '0' and '1'.
func bitString(w *bitWriter) string {
	var sb strings.Builder
	n := len(w.buf) * 8
	if w.used != 0 {
		n -= 8 - w.used
	}
	for k := 0; k < n; k++ {
		sb.WriteByte('0' + w.buf[k/8]>>uint(7-k%8)&1)
	}
	return sb.String()
}

func TestBitWriter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(w *bitWriter)
		want  string
	}{
		{"u", func(w *bitWriter) { w.u(3, 5); w.u(1, 0); w.u(10, 0x2a5) }, "10101010100101"},
		{"u64", func(w *bitWriter) { w.u(64, 1<<63|1) }, "1" + strings.Repeat("0", 62) + "1"},
		{"flag", func(w *bitWriter) { w.flag(true); w.flag(false); w.flag(true) }, "101"},
		{"ue 0", func(w *bitWriter) { w.ue(0) }, "1"},
		{"ue 1", func(w *bitWriter) { w.ue(1) }, "010"},
		{"ue 2", func(w *bitWriter) { w.ue(2) }, "011"},
		{"ue 3", func(w *bitWriter) { w.ue(3) }, "00100"},
		{"ue 6", func(w *bitWriter) { w.ue(6) }, "00111"},
		{"ue 7", func(w *bitWriter) { w.ue(7) }, "0001000"},
		{"ue 25", func(w *bitWriter) { w.ue(25) }, "000011010"},
		{"ue 30", func(w *bitWriter) { w.ue(30) }, "000011111"},
		{"ue max", func(w *bitWriter) { w.ue(math.MaxUint32) }, strings.Repeat("0", 32) + "1" + strings.Repeat("0", 32)},
		{"se 0", func(w *bitWriter) { w.se(0) }, "1"},
		{"se 1", func(w *bitWriter) { w.se(1) }, "010"},
		{"se -1", func(w *bitWriter) { w.se(-1) }, "011"},
		{"se 2", func(w *bitWriter) { w.se(2) }, "00100"},
		{"se -2", func(w *bitWriter) { w.se(-2) }, "00101"},
		{"se 3", func(w *bitWriter) { w.se(3) }, "00110"},
		{"align", func(w *bitWriter) { w.u(3, 7); w.align(); w.u(1, 1) }, "111000001"},
		{"align aligned", func(w *bitWriter) { w.u(8, 0xff); w.align(); w.u(1, 1) }, "111111111"},
		{"trailing", func(w *bitWriter) { w.u(2, 3); w.trailing() }, "11100000"},
		{"trailing aligned", func(w *bitWriter) { w.u(8, 0); w.trailing() }, "0000000010000000"},
		{"bytes", func(w *bitWriter) { w.u(4, 0); w.align(); w.bytes([]byte{0xa5, 0x01}); w.u(1, 1) }, "00000000" + "10100101" + "00000001" + "1"},
	} {
		var w bitWriter
		tc.write(&w)
		if got := bitString(&w); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestBitWriterBytesUnaligned(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("bytes when not byte-aligned did not panic")
		}
	}()
	var w bitWriter
	w.u(1, 1)
	w.bytes([]byte{1})
}

func TestAppendEscaped(t *testing.T) {
	for _, tc := range []struct{ in, want []byte }{
		{[]byte{}, []byte{}},
		{[]byte{0, 0}, []byte{0, 0}},
		{[]byte{0, 0, 0}, []byte{0, 0, 3, 0}},
		{[]byte{0, 0, 1}, []byte{0, 0, 3, 1}},
		{[]byte{0, 0, 2}, []byte{0, 0, 3, 2}},
		{[]byte{0, 0, 3}, []byte{0, 0, 3, 3}},
		{[]byte{0, 0, 4}, []byte{0, 0, 4}},
		{[]byte{0, 1, 0, 1}, []byte{0, 1, 0, 1}},
		{[]byte{0, 0, 0, 0, 0}, []byte{0, 0, 3, 0, 0, 3, 0}},
		{[]byte{0, 0, 3, 0, 0, 1}, []byte{0, 0, 3, 3, 0, 0, 3, 1}},
		{[]byte{5, 0, 0, 0x80}, []byte{5, 0, 0, 0x80}},
	} {
		if got := appendEscaped([]byte{}, tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("appendEscaped(% x) = % x, want % x", tc.in, got, tc.want)
		}
	}
}

// unescape removes emulation prevention bytes from a NAL unit payload.
func unescape(b []byte) []byte {
	var out []byte
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

func TestEscapeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 2000; n++ {
		in := make([]byte, r.Intn(40))
		for k := range in {
			in[k] = byte(r.Intn(5)) // mostly 0..3: many escapes
		}
		esc := appendEscaped(nil, in)
		for k := 2; k < len(esc); k++ {
			if esc[k-2] == 0 && esc[k-1] == 0 && esc[k] <= 2 {
				t.Fatalf("% x escapes to % x, with 00 00 %02x", in, esc, esc[k])
			}
		}
		if got := unescape(esc); !bytes.Equal(got, in) {
			t.Fatalf("% x escapes to % x, which unescapes to % x", in, esc, got)
		}
	}
}

// bitReader reads the fields of an RBSP.
type bitReader struct {
	b   []byte
	pos int
}

func (r *bitReader) u(n int) uint64 {
	var v uint64
	for k := 0; k < n; k++ {
		v = v<<1 | uint64(r.b[r.pos/8]>>uint(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) ue() uint64 {
	n := 0
	for r.u(1) == 0 {
		n++
	}
	return 1<<uint(n) - 1 + r.u(n)
}

// TestSyntax reads back the SPS and slice header fields that ffmpeg does
// not hold the stream to: frame_num counting up from 0 at each IDR and
// wrapping at MaxFrameNum, idr_pic_id differing between consecutive IDR
// frames.
func TestSyntax(t *testing.T) {
	v := mustVideo(t, VideoConfig{KeyframeInterval: 20})
	sps, _ := parseAVCC(t, v.CodecPrivate())
	r := bitReader{b: unescape(sps[1:])}
	fields := []uint64{r.u(8), r.u(8), r.u(8), r.ue(), r.ue(), r.ue(), r.ue(), r.u(1), r.ue(), r.ue(), r.u(1), r.u(1), r.u(1)}
	// profile, constraint flags, level, sps id, log2_max_frame_num_minus4,
	// pic_order_cnt_type, max_num_ref_frames, gaps, width and height in
	// MBs minus 1, frame_mbs_only, direct_8x8_inference, cropping.
	if want := []uint64{66, 0xc0, 40, 0, log2MaxFrameNum - 4, 2, 1, 0, 9, 5, 1, 1, 0}; fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("SPS fields %v, want %v", fields, want)
	}
	lastIDR := uint64(1 << 20)
	for i := 0; i < 45; i++ {
		f, key := v.Frame(i)
		nal := nalUnits(t, f)[0]
		r := bitReader{b: unescape(nal[1:])}
		first, typ, pps, frameNum := r.ue(), r.ue(), r.ue(), r.u(log2MaxFrameNum)
		wantType := uint64(sliceTypeP)
		if key {
			wantType = sliceTypeI
		}
		if first != 0 || typ != wantType || pps != 0 {
			t.Errorf("frame %d: first_mb_in_slice %d, slice_type %d, pps %d", i, first, typ, pps)
		}
		if want := uint64(i%20) % (1 << log2MaxFrameNum); frameNum != want {
			t.Errorf("frame %d: frame_num %d, want %d", i, frameNum, want)
		}
		if key {
			id := r.ue()
			if id == lastIDR {
				t.Errorf("frame %d: idr_pic_id %d, as in the IDR frame before", i, id)
			}
			lastIDR = id
		}
	}
}

// readCounter reads the frame counter drawn in a luma plane, with '?' for
// a digit matching no glyph.
func readCounter(luma []byte, width int) string {
	var s []byte
	for k := 0; k < counterDigits; k++ {
		var g uint16
		for gy := 0; gy < 5; gy++ {
			for gx := 0; gx < 3; gx++ {
				g <<= 1
				x, y := counterX+k*digitPitch+gx*fontScale, counterY+gy*fontScale
				if luma[y*width+x] > 128 {
					g |= 1
				}
			}
		}
		c := byte('?')
		for d, want := range glyphs {
			if g == want {
				c = byte('0' + d)
			}
		}
		s = append(s, c)
	}
	return string(s)
}

// blockX returns the left edge of the moving block in a luma plane, -1 if
// there is none.
func blockX(luma []byte, width, height int) int {
	row := luma[(blockY(height)+blockSize/2)*width:][:width]
	for x := range row {
		if row[x] == white && row[(x+width-1)%width] != white {
			return x
		}
	}
	return -1
}

// checkPicture checks that a luma plane shows the counter and the block
// of frame i.
func checkPicture(t *testing.T, luma []byte, width, height, i int) {
	t.Helper()
	if want := fmt.Sprintf("%06d", i%1000000); width >= counterW && blockY(height) >= counterH {
		if got := readCounter(luma, width); got != want {
			t.Errorf("frame %d: counter reads %s", i, got)
		}
	}
	if got, want := blockX(luma, width, height), blockStep*i%width; got != want {
		t.Errorf("frame %d: block at x=%d, want %d", i, got, want)
	}
}

func TestPicture(t *testing.T) {
	for _, i := range []int{0, 1, 9, 10, 39, 40, 123456, 1234567} {
		p := picture(160, 96, i)
		checkPicture(t, p, 160, 96, i)
		if !bytes.Equal(p, picture(160, 96, i)) {
			t.Errorf("picture %d differs between calls", i)
		}
		for k, v := range p {
			if v < black || v > white {
				t.Fatalf("picture %d: sample %d is %d, outside 16..235", i, k, v)
			}
		}
	}
	if bytes.Equal(picture(160, 96, 7), picture(160, 96, 8)) {
		t.Error("frames 7 and 8 are the same picture")
	}
	// Tiny sizes clip the counter and wrap the block without panicking.
	picture(16, 16, 5)
}

func TestNewErrors(t *testing.T) {
	for _, c := range []VideoConfig{{Width: 100}, {Height: 8}, {Width: -16}, {KeyframeInterval: -1}} {
		if _, err := NewVideo(c); err == nil {
			t.Errorf("NewVideo(%+v) did not fail", c)
		}
	}
	for _, c := range []AudioConfig{{SampleRate: 47999}, {Channels: 7}, {Channels: 9}, {Channels: -1}} {
		if _, err := NewAudio(c); err == nil {
			t.Errorf("NewAudio(%+v) did not fail", c)
		}
	}
}

func mustVideo(t *testing.T, c VideoConfig) *Video {
	t.Helper()
	v, err := NewVideo(c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// nalUnits splits a frame of 4-byte length-prefixed NAL units.
func nalUnits(t *testing.T, frame []byte) [][]byte {
	t.Helper()
	var nals [][]byte
	for len(frame) > 0 {
		if len(frame) < 4 {
			t.Fatalf("%d bytes left after the last NAL unit", len(frame))
		}
		n := binary.BigEndian.Uint32(frame)
		if n == 0 || uint64(n) > uint64(len(frame)-4) {
			t.Fatalf("NAL unit length %d with %d bytes left", n, len(frame)-4)
		}
		nals = append(nals, frame[4:4+n])
		frame = frame[4+n:]
	}
	return nals
}

// parseAVCC returns the SPS and PPS of an avcC with 4-byte lengths, one SPS
// and one PPS.
func parseAVCC(t *testing.T, b []byte) (sps, pps []byte) {
	t.Helper()
	if len(b) < 8 || b[0] != 1 || b[4] != 0xff || b[5] != 0xe1 {
		t.Fatalf("avcC header % x", b[:min(len(b), 8)])
	}
	n := int(binary.BigEndian.Uint16(b[6:]))
	sps, b = b[8:8+n], b[8+n:]
	if len(b) < 3 || b[0] != 1 {
		t.Fatalf("avcC PPS count % x", b)
	}
	n = int(binary.BigEndian.Uint16(b[1:]))
	pps, b = b[3:3+n], b[3+n:]
	if len(b) != 0 {
		t.Fatalf("avcC: %d bytes after the PPS", len(b))
	}
	if sps[0]&0x1f != nalSPS || pps[0]&0x1f != nalPPS {
		t.Fatalf("avcC NAL unit types %d, %d", sps[0]&0x1f, pps[0]&0x1f)
	}
	return sps, pps
}

func TestVideoFrames(t *testing.T) {
	v := mustVideo(t, VideoConfig{KeyframeInterval: 10})
	if c := v.Config(); c.Width != 160 || c.Height != 96 || c.KeyframeInterval != 10 {
		t.Errorf("Config() = %+v", c)
	}
	sps, _ := parseAVCC(t, v.CodecPrivate())
	if p := v.CodecPrivate(); p[1] != sps[1] || p[2] != sps[2] || p[3] != sps[3] || sps[1] != 66 || sps[3] != 40 {
		t.Errorf("avcC profile/level % x, SPS % x", p[1:4], sps[1:4])
	}
	fresh := mustVideo(t, VideoConfig{KeyframeInterval: 10})
	for i := 0; i < 25; i++ {
		f, key := v.Frame(i)
		if key != (i%10 == 0) || key != v.Keyframe(i) {
			t.Errorf("frame %d: keyframe %v", i, key)
		}
		// The same bytes from another encoder, asked in another order,
		// and when appended.
		if g, _ := fresh.Frame(24 - i); !bytes.Equal(g, mustFrame(v, 24-i)) {
			t.Errorf("frame %d differs between encoders", 24-i)
		}
		if g, _ := v.AppendFrame([]byte{9}, i); g[0] != 9 || !bytes.Equal(g[1:], f) {
			t.Errorf("frame %d: AppendFrame differs from Frame", i)
		}
		nals := nalUnits(t, f)
		wantType := byte(nalSlice)
		if key {
			wantType = nalIDR
		}
		if len(nals) != 1 || nals[0][0]&0x1f != wantType || nals[0][0]>>5 == 0 {
			t.Errorf("frame %d: NAL header %#x, %d NAL units", i, nals[0][0], len(nals))
		}
		// 60 macroblocks of 384 samples in a keyframe; a few macroblocks
		// (counter digits, the block's old and new place) in a P frame.
		if key && (len(f) < 60*384 || len(f) > 60*390+64) || !key && len(f) > 6*390+64 {
			t.Errorf("frame %d (keyframe %v) is %d bytes", i, key, len(f))
		}
		if bytes.Contains(nals[0][1:], []byte{0, 0, 1}) || bytes.Contains(nals[0][1:], []byte{0, 0, 0}) {
			t.Errorf("frame %d: start code prefix inside a NAL unit", i)
		}
	}
}

func mustFrame(v *Video, i int) []byte {
	f, _ := v.Frame(i)
	return f
}

// needTools skips the test unless the programs are installed.
func needTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not installed (apt-get install ffmpeg), needed to decode the synthetic media", n)
		}
	}
}

// run runs a program and returns its standard output; it fails the test
// if the program fails or writes anything to standard error.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// annexB returns frames from to from+n-1 as an Annex B byte stream, the
// SPS and PPS from the avcC first.
func annexB(t *testing.T, v *Video, from, n int) []byte {
	t.Helper()
	start := []byte{0, 0, 0, 1}
	sps, pps := parseAVCC(t, v.CodecPrivate())
	b := append(append(append(append([]byte{}, start...), sps...), start...), pps...)
	for i := from; i < from+n; i++ {
		f, _ := v.Frame(i)
		for _, nal := range nalUnits(t, f) {
			b = append(append(b, start...), nal...)
		}
	}
	return b
}

// checkDecoded checks raw yuv420p frames decoded by ffmpeg against the
// pictures of frames from to from+n-1: luma sample for sample, chroma grey.
func checkDecoded(t *testing.T, out []byte, c VideoConfig, from, n int) {
	t.Helper()
	lumaSize := c.Width * c.Height
	frameSize := lumaSize * 3 / 2
	if len(out) != n*frameSize {
		t.Fatalf("decoded %d bytes, %.2f frames, want %d frames", len(out), float64(len(out))/float64(frameSize), n)
	}
	var prev []byte
	for k := 0; k < n; k++ {
		i := from + k
		f := out[k*frameSize : (k+1)*frameSize]
		luma := f[:lumaSize]
		if want := picture(c.Width, c.Height, i); !bytes.Equal(luma, want) {
			diff := 0
			for j := range want {
				if luma[j] != want[j] {
					diff++
				}
			}
			t.Errorf("frame %d: %d of %d luma samples differ from the encoder's picture", i, diff, lumaSize)
		}
		if !bytes.Equal(f[lumaSize:], bytes.Repeat([]byte{greyChroma}, lumaSize/2)) {
			t.Errorf("frame %d: chroma is not all %d", i, greyChroma)
		}
		checkPicture(t, luma, c.Width, c.Height, i)
		if prev != nil && bytes.Equal(prev, luma) {
			t.Errorf("frames %d and %d decode the same", i-1, i)
		}
		prev = luma
	}
}

func TestVideoDecodesWithFFmpeg(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe")
	for _, tc := range []struct {
		name    string
		c       VideoConfig
		from, n int
	}{
		{"defaults, frame_num wraps at 16, 2nd GOP at 30", VideoConfig{}, 0, 40},
		{"from the keyframe at 30", VideoConfig{}, 30, 12},
		{"64x48 GOP 4", VideoConfig{Width: 64, Height: 48, KeyframeInterval: 4}, 0, 10},
		{"64x32 every frame IDR", VideoConfig{Width: 64, Height: 32, KeyframeInterval: 1}, 0, 5},
		{"320x240 GOP 50", VideoConfig{Width: 320, Height: 240, KeyframeInterval: 50}, 0, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := mustVideo(t, tc.c)
			c := v.Config()
			file := filepath.Join(t.TempDir(), "v.h264")
			if err := os.WriteFile(file, annexB(t, v, tc.from, tc.n), 0o644); err != nil {
				t.Fatal(err)
			}
			info := string(run(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,profile,level,width,height",
				"-of", "default=nw=1", file))
			want := fmt.Sprintf("codec_name=h264\nprofile=Constrained Baseline\nwidth=%d\nheight=%d\nlevel=40\n", c.Width, c.Height)
			if info != want {
				t.Errorf("ffprobe: %q, want %q", info, want)
			}
			out := run(t, "ffmpeg", "-v", "error", "-f", "h264", "-i", file, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-")
			checkDecoded(t, out, c, tc.from, tc.n)
		})
	}
}

func mustAudio(t *testing.T, c AudioConfig) *Audio {
	t.Helper()
	a, err := NewAudio(c)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAudioSpecificConfig(t *testing.T) {
	for _, tc := range []struct {
		c    AudioConfig
		want []byte
	}{
		// audioObjectType 2, samplingFrequencyIndex, channelConfiguration,
		// three zero GASpecificConfig flags.
		{AudioConfig{}, []byte{0x11, 0x90}},                               // 00010 0011 0010 000
		{AudioConfig{SampleRate: 44100, Channels: 1}, []byte{0x12, 0x08}}, // 00010 0100 0001 000
		{AudioConfig{SampleRate: 8000, Channels: 8}, []byte{0x15, 0xb8}},  // 00010 1011 0111 000
		{AudioConfig{SampleRate: 96000, Channels: 6}, []byte{0x10, 0x30}}, // 00010 0000 0110 000
		{AudioConfig{SampleRate: 7350, Channels: 3}, []byte{0x16, 0x18}},  // 00010 1100 0011 000
	} {
		a := mustAudio(t, tc.c)
		if got := a.CodecPrivate(); !bytes.Equal(got, tc.want) {
			t.Errorf("%+v: AudioSpecificConfig % x, want % x", tc.c, got, tc.want)
		}
	}
	if c := mustAudio(t, AudioConfig{}).Config(); c != (AudioConfig{SampleRate: 48000, Channels: 2}) {
		t.Errorf("default Config() = %+v", c)
	}
	// Mono: SCE (id 0, tag 0), global_gain 0, ics_info and three flags
	// all zero, END (id 7): 32 bits.
	if got := mustAudio(t, AudioConfig{Channels: 1}).Frame(0); !bytes.Equal(got, []byte{0, 0, 0, 7}) {
		t.Errorf("mono frame % x", got)
	}
}

// adts returns an ADTS header (ISO/IEC 13818-7 / 14496-3 1.A.2) for a raw
// frame of n bytes, with the object type, rate and channels read from an
// AudioSpecificConfig.
func adts(asc []byte, n int) []byte {
	aot := asc[0] >> 3
	rate := (asc[0]&7)<<1 | asc[1]>>7
	ch := asc[1] >> 3 & 0xf
	size := n + 7
	var w bitWriter
	w.u(12, 0xfff)
	w.u(1, 0) // ID: MPEG-4
	w.u(2, 0) // layer
	w.u(1, 1) // protection_absent
	w.u(2, uint64(aot-1))
	w.u(4, uint64(rate))
	w.u(1, 0) // private_bit
	w.u(3, uint64(ch))
	w.u(4, 0) // original_copy, home, copyright bits
	w.u(13, uint64(size))
	w.u(11, 0x7ff) // adts_buffer_fullness: variable rate
	w.u(2, 0)      // number_of_raw_data_blocks_in_frame - 1
	return w.buf
}

func TestAudioDecodesWithFFmpeg(t *testing.T) {
	needTools(t, "ffmpeg")
	const n = 20
	for _, c := range []AudioConfig{{}, {SampleRate: 44100, Channels: 1}, {SampleRate: 16000, Channels: 6}, {SampleRate: 48000, Channels: 8}} {
		a := mustAudio(t, c)
		c = a.Config()
		t.Run(fmt.Sprintf("%dHz/%dch", c.SampleRate, c.Channels), func(t *testing.T) {
			var b []byte
			for i := 0; i < n; i++ {
				f := a.Frame(i)
				b = append(append(b, adts(a.CodecPrivate(), len(f))...), f...)
			}
			file := filepath.Join(t.TempDir(), "a.aac")
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out := run(t, "ffmpeg", "-v", "error", "-f", "aac", "-i", file, "-f", "s16le", "-")
			if want := n * AudioFrameSamples * c.Channels * 2; len(out) != want {
				t.Errorf("decoded %d bytes, want %d (%d frames of %d samples, %d channels)", len(out), want, n, AudioFrameSamples, c.Channels)
			}
			if !bytes.Equal(out, make([]byte, len(out))) {
				t.Error("decoded audio is not silence")
			}
		})
	}
}

// Matroska elements for a minimal file (IDs from RFC 9559).
const (
	idEBML          = 0x1a45dfa3
	idDocType       = 0x4282
	idSegment       = 0x18538067
	idInfo          = 0x1549a966
	idTimestampScal = 0x2ad7b1
	idTracks        = 0x1654ae6b
	idTrackEntry    = 0xae
	idTrackNumber   = 0xd7
	idTrackUID      = 0x73c5
	idTrackType     = 0x83
	idCodecID       = 0x86
	idCodecPrivate  = 0x63a2
	idVideo         = 0xe0
	idPixelWidth    = 0xb0
	idPixelHeight   = 0xba
	idAudio         = 0xe1
	idSamplingFreq  = 0xb5
	idChannels      = 0x9f
	idCluster       = 0x1f43b675
	idTimestamp     = 0xe7
	idSimpleBlock   = 0xa3
)

// ebmlElement returns an element with an 8-byte size.
func ebmlElement(id uint32, payload ...[]byte) []byte {
	var b []byte
	for s := 24; s >= 0; s -= 8 {
		if id>>uint(s) != 0 {
			b = append(b, byte(id>>uint(s)))
		}
	}
	size := 0
	for _, p := range payload {
		size += len(p)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(size)|1<<56)
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

func ebmlUint(id uint32, v uint64) []byte {
	return ebmlElement(id, binary.BigEndian.AppendUint64(nil, v))
}

// matroska returns a Matroska file with the video as track 1 and the audio
// as track 2, each with its CodecPrivate, all frames in one cluster in time
// order.
func matroska(v *Video, a *Audio, videoFrames, audioFrames int) []byte {
	vc, ac := v.Config(), a.Config()
	tracks := ebmlElement(idTracks,
		ebmlElement(idTrackEntry, ebmlUint(idTrackNumber, 1), ebmlUint(idTrackUID, 1), ebmlUint(idTrackType, 1),
			ebmlElement(idCodecID, []byte("V_MPEG4/ISO/AVC")), ebmlElement(idCodecPrivate, v.CodecPrivate()),
			ebmlElement(idVideo, ebmlUint(idPixelWidth, uint64(vc.Width)), ebmlUint(idPixelHeight, uint64(vc.Height)))),
		ebmlElement(idTrackEntry, ebmlUint(idTrackNumber, 2), ebmlUint(idTrackUID, 2), ebmlUint(idTrackType, 2),
			ebmlElement(idCodecID, []byte("A_AAC")), ebmlElement(idCodecPrivate, a.CodecPrivate()),
			ebmlElement(idAudio, ebmlElement(idSamplingFreq, binary.BigEndian.AppendUint64(nil, math.Float64bits(float64(ac.SampleRate)))),
				ebmlUint(idChannels, uint64(ac.Channels)))))
	block := func(track byte, ms int, key bool, data []byte) []byte {
		flags := byte(0)
		if key {
			flags = 0x80
		}
		return ebmlElement(idSimpleBlock, []byte{0x80 | track, byte(ms >> 8), byte(ms), flags}, data)
	}
	cluster := [][]byte{ebmlUint(idTimestamp, 0)}
	for vi, ai := 0, 0; vi < videoFrames || ai < audioFrames; {
		vms := vi * 40
		ams := ai * AudioFrameSamples * 1000 / ac.SampleRate
		if vi < videoFrames && (ai == audioFrames || vms <= ams) {
			f, key := v.Frame(vi)
			cluster = append(cluster, block(1, vms, key, f))
			vi++
		} else {
			cluster = append(cluster, block(2, ams, true, a.Frame(ai)))
			ai++
		}
	}
	return append(ebmlElement(idEBML, ebmlElement(idDocType, []byte("matroska"))),
		ebmlElement(idSegment, ebmlElement(idInfo, ebmlUint(idTimestampScal, 1000000)), tracks,
			ebmlElement(idCluster, cluster...))...)
}

// TestMatroskaDecodesWithFFmpeg checks the CodecPrivate bytes: ffmpeg
// decodes the Matroska tracks from them alone, with no parameter sets in
// the frames and no ADTS headers.
func TestMatroskaDecodesWithFFmpeg(t *testing.T) {
	needTools(t, "ffmpeg")
	const videoFrames, audioFrames = 35, 60
	v := mustVideo(t, VideoConfig{})
	a := mustAudio(t, AudioConfig{})
	file := filepath.Join(t.TempDir(), "av.mkv")
	if err := os.WriteFile(file, matroska(v, a, videoFrames, audioFrames), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, "ffmpeg", "-v", "error", "-i", file, "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-")
	checkDecoded(t, out, v.Config(), 0, videoFrames)
	out = run(t, "ffmpeg", "-v", "error", "-i", file, "-map", "0:a", "-f", "s16le", "-")
	if want := audioFrames * AudioFrameSamples * 2 * 2; len(out) != want {
		t.Errorf("decoded %d audio bytes, want %d", len(out), want)
	}
}
