package mediatest

import "testing"

// TestSummary checks the line Main prints from the skips Skip counted.
func TestSummary(t *testing.T) {
	tests := []struct {
		name  string
		skips map[string]int
		want  string
	}{
		{"none", nil, ""},
		{"one", map[string]int{"ffmpeg not found (apt-get install ffmpeg mkvtoolnix)": 1}, "1 test skipped: ffmpeg not found (apt-get install ffmpeg mkvtoolnix)"},
		{"one reason", map[string]int{"mkvinfo not found (apt-get install ffmpeg mkvtoolnix)": 3}, "3 tests skipped: mkvinfo not found (apt-get install ffmpeg mkvtoolnix)"},
		{"two reasons", map[string]int{"mkvinfo not found (x)": 2, "KVS corpus not found (y)": 1}, "3 tests skipped: 1: KVS corpus not found (y); 2: mkvinfo not found (x)"},
	}
	defer func(saved map[string]int) { skips.n = saved }(skips.n)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skips.n = tt.skips
			if got := Summary(); got != tt.want {
				t.Errorf("Summary() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSkip checks that Skip skips the test and counts it.
func TestSkip(t *testing.T) {
	defer func(saved map[string]int) { skips.n = saved }(skips.n)
	skips.n = nil
	skipped := false
	t.Run("skipped", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Skip(t, "sometool", "apt-get install sometool")
	})
	if !skipped {
		t.Error("Skip did not skip the test")
	}
	if got, want := Summary(), "1 test skipped: sometool not found (apt-get install sometool)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}
