// Package art draws pictures in code: photo-like scenes of a car and a
// logo, encoded as the JPEG and PNG files a business would upload. The
// demo and the tests use them, so no binary fixture is needed.
package art

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
)

// Palette colours a scene: sky top and horizon, ground, sun and the car's
// paint.
type Palette struct{ SkyTop, SkyLow, Ground, Sun, Paint color.RGBA }

var (
	Day   = Palette{RGB(0x4a90d9), RGB(0xbfe0f5), RGB(0x6f7a63), RGB(0xfff6d5), RGB(0xeeeeea)}
	Dawn  = Palette{RGB(0x6b7fb8), RGB(0xf6c39b), RGB(0x5d5a55), RGB(0xffe2b0), RGB(0x2f4a6b)}
	Dusk  = Palette{RGB(0x2b2d5c), RGB(0xe07a5f), RGB(0x3b3a3a), RGB(0xffc38a), RGB(0x8c1c13)}
	Night = Palette{RGB(0x0d1b2a), RGB(0x33507a), RGB(0x1f2629), RGB(0xdfe8f5), RGB(0x9aa4ad)}
)

// RGB is an opaque colour from 0xRRGGBB.
func RGB(v uint32) color.RGBA { return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255} }

func mix(a, b color.RGBA, f float64) color.RGBA {
	f = math.Max(0, math.Min(1, f))
	m := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*f + .5) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}

// Scene is a photo-like w×h JPEG: a sky, a sun, the ground, and a car.
func Scene(w, h int, p Palette) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fw, fh := float64(w), float64(h)
	horizon := .62 * fh
	sunX, sunY, sunR := .78*fw, .3*fh, .07*fw
	// The car, in units of the image width, standing on the ground.
	cx, base := .5*fw, .84*fh
	bodyW, bodyH, cabW, cabH, wheelR := .56*fw, .1*fw, .32*fw, .085*fw, .055*fw
	for y := 0; y < h; y++ {
		fy := float64(y)
		var row color.RGBA
		if fy < horizon {
			row = mix(p.SkyTop, p.SkyLow, fy/horizon)
		} else {
			row = mix(mix(p.Ground, p.SkyLow, .25), p.Ground, (fy-horizon)/(fh-horizon)*1.5)
		}
		for x := 0; x < w; x++ {
			fx := float64(x)
			c := row
			if fy < horizon {
				if d := math.Hypot(fx-sunX, fy-sunY); d < sunR*3 {
					c = mix(c, p.Sun, math.Pow(math.Max(0, 1-d/(sunR*3)), 2)*.6)
					if d < sunR {
						c = p.Sun
					}
				}
			}
			dx := math.Abs(fx - cx)
			switch {
			case math.Hypot(fx-(cx-bodyW*.3), fy-base) < wheelR || math.Hypot(fx-(cx+bodyW*.3), fy-base) < wheelR:
				c = RGB(0x1c1c1c)
				if math.Hypot(fx-(cx-bodyW*.3), fy-base) < wheelR*.45 || math.Hypot(fx-(cx+bodyW*.3), fy-base) < wheelR*.45 {
					c = RGB(0x9a9a9a)
				}
			case dx < bodyW/2 && fy > base-bodyH && fy < base:
				c = mix(p.Paint, RGB(0x000000), (fy-(base-bodyH))/bodyH*.35)
			case fy > base-bodyH-cabH && fy <= base-bodyH && dx < cabW/2-(base-bodyH-fy)*.45:
				c = p.Paint
				if dx < cabW/2-(base-bodyH-fy)*.45-.012*fw && fy > base-bodyH-cabH+.012*fw && dx > .01*fw {
					c = mix(RGB(0x27313d), p.SkyLow, .35) // windows
				}
			case fy >= base && fy < base+wheelR && dx < bodyW/2+wheelR:
				c = mix(c, RGB(0x000000), .35*(1-(fy-base)/wheelR)) // shadow
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 82}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Logo is a 256×256 PNG: a rounded navy square with a white wave.
func Logo() ([]byte, error) {
	const n = 256
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	navy, white := RGB(0x12355b), RGB(0xffffff)
	for y := range n {
		for x := range n {
			fx, fy := float64(x), float64(y)
			// Rounded square, radius 56.
			qx, qy := math.Max(math.Abs(fx-127.5)-72, 0), math.Max(math.Abs(fy-127.5)-72, 0)
			if math.Hypot(qx, qy) > 56 {
				continue
			}
			c := navy
			wave := 128 + 26*math.Sin((fx-40)/176*2*math.Pi)
			if math.Abs(fy-wave) < 12 && fx > 48 && fx < 208 {
				c = white
			}
			if math.Abs(fy-wave-46) < 9 && fx > 64 && fx < 192 {
				c = mix(navy, white, .55)
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
