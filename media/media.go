// Package media turns uploads into clean stored images and serves them:
// the pipeline sniffs, bounds, orients and re-encodes an upload (dropping
// every metadata block) and derives the sizes the pages use; Storage keeps
// the files in a local directory or an S3-compatible bucket; Signer makes
// the short-lived URLs that let an <img> tag fetch a photo without a
// bearer header.
package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers the decoders Inspect accepts
	_ "image/png"
	"io"

	_ "golang.org/x/image/webp"

	"importops/domain"
)

// Upload limits. 24 megapixels is more than any phone's photo; a side of
// 16,000 px keeps every variant within what the JPEG and WebP formats can
// hold (65,535 and 16,383) and refuses 40,000,000×1 strips that are small
// in area but cannot be encoded.
const (
	MaxUploadBytes = 20 << 20
	MaxPixels      = 24_000_000
	MaxSide        = 16_000
)

// Image is what Inspect learned of an upload from its header alone.
type Image struct {
	Format string // "jpeg", "png" or "webp"
	Width  int
	Height int
	// DecodeBytes estimates the memory decoding and processing it takes:
	// the decoded pixels plus an 8-bit RGBA copy (orientation and resizing
	// work on one).
	DecodeBytes int64
}

// accepted are the formats an upload may be in. Other decoders may be
// registered in the binary (image/gif by the resize library): they are
// refused here.
var accepted = map[string]bool{"jpeg": true, "png": true, "webp": true}

// ErrNotImage is what the client is told about anything but an accepted image.
var ErrNotImage = domain.Errorf(domain.BadInput, "file must be a JPEG, PNG or WebP image of at most 20 MB")

// ErrTooManyPixels refuses an image whose decoded size would be too large.
var ErrTooManyPixels = domain.Errorf(domain.BadInput, "image must be at most %d megapixels and %d pixels on each side",
	MaxPixels/1_000_000, MaxSide)

// Inspect reads the image header of data (never the file name or the
// declared content type) and refuses what is not an accepted image, or
// whose pixel count would be too large to decode. Nothing the size of the
// image is allocated here.
func Inspect(data []byte) (Image, error) {
	if len(data) > MaxUploadBytes {
		return Image{}, ErrNotImage
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || !accepted[format] {
		return Image{}, ErrNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxSide || cfg.Height > MaxSide ||
		int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return Image{}, ErrTooManyPixels
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	return Image{Format: format, Width: cfg.Width, Height: cfg.Height,
		DecodeBytes: pixels * (bytesPerPixel(cfg.ColorModel) + 4)}, nil
}

// bytesPerPixel is what a decoder of Go's image packages allocates per
// pixel for model.
func bytesPerPixel(model color.Model) int64 {
	switch model {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // at most: 4:4:4 chroma
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := model.(color.Palette); ok {
		return 1
	}
	return 4
}

// ReadUpload reads at most MaxUploadBytes of r.
func ReadUpload(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxUploadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if len(data) > MaxUploadBytes {
		return nil, ErrNotImage
	}
	return data, nil
}
