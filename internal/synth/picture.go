package synth

import "strconv"

// Luma sample values of the picture. They stay within the video range
// 16..235, so no sample is zero.
const (
	black = 16
	white = 235
	// greyChroma is the value of every Cb and Cr sample.
	greyChroma = 128
)

// The frame counter: counterDigits decimal digits (the frame index modulo
// 10^counterDigits, zero-padded), white on a black box at the top left.
// Each digit is a 3x5 glyph drawn with fontScale x fontScale pixels per
// glyph pixel, digitPitch pixels apart.
const (
	counterDigits = 6
	fontScale     = 2
	digitPitch    = 4 * fontScale
	counterX      = 2 // left edge of the first digit
	counterY      = 3 // top edge of the digits
	counterW      = counterX + counterDigits*digitPitch
	counterH      = 16
)

// glyphs are the digits 0-9, 3 pixels wide and 5 high, one row per 3 bits,
// the top row in the high bits, the left pixel in each row's high bit.
var glyphs = [10]uint16{
	0b111_101_101_101_111, // 0
	0b010_110_010_010_111, // 1
	0b111_001_111_100_111, // 2
	0b111_001_111_001_111, // 3
	0b101_101_111_001_001, // 4
	0b111_100_111_001_111, // 5
	0b111_100_111_101_111, // 6
	0b111_001_001_001_001, // 7
	0b111_101_111_101_111, // 8
	0b111_101_111_001_111, // 9
}

// glyphPixel reports whether the glyph of digit d is lit at column gx
// (0..2) and row gy (0..4).
func glyphPixel(d, gx, gy int) bool {
	return glyphs[d]>>uint(14-3*gy-gx)&1 != 0
}

// Moving block: blockSize x blockSize white pixels that move blockStep
// pixels right each frame, wrapping around the right edge.
const (
	blockSize = 16
	blockStep = 4
)

// blockY is the top of the moving block: the macroblock row in the middle
// of the picture.
func blockY(height int) int { return height / 16 / 2 * 16 }

// picture returns the luma plane, width x height samples in raster order,
// of frame i (i >= 0): a static gradient background, the moving block and
// the frame counter. It is a pure function of its arguments, which is what
// lets the encoder code any frame on its own.
func picture(width, height, i int) []byte {
	p := make([]byte, width*height)
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			p[y*width+x] = byte(40 + (x+2*y)%64*2) // 40..166
		}
	}

	bx, by := blockStep*i%width, blockY(height)
	for y := by; y < by+blockSize && y < height; y++ {
		for dx := 0; dx < blockSize; dx++ {
			p[y*width+(bx+dx)%width] = white
		}
	}

	set := func(x, y int, v byte) {
		if x < width && y < height {
			p[y*width+x] = v
		}
	}
	for y := 0; y < counterH; y++ {
		for x := 0; x < counterW; x++ {
			set(x, y, black)
		}
	}
	s := strconv.Itoa(i)
	for len(s) < counterDigits {
		s = "0" + s
	}
	s = s[len(s)-counterDigits:]
	for k := 0; k < counterDigits; k++ {
		d := int(s[k] - '0')
		for gy := 0; gy < 5; gy++ {
			for gx := 0; gx < 3; gx++ {
				if !glyphPixel(d, gx, gy) {
					continue
				}
				x0, y0 := counterX+k*digitPitch+gx*fontScale, counterY+gy*fontScale
				for y := y0; y < y0+fontScale; y++ {
					for x := x0; x < x0+fontScale; x++ {
						set(x, y, white)
					}
				}
			}
		}
	}
	return p
}
