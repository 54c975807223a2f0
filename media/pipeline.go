package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"runtime/debug"

	"github.com/disintegration/imaging"
	"golang.org/x/sync/semaphore"
)

// Derived widths: the page's srcset and the ?w= parameter of photo URLs
// name them. An image is never upscaled to reach them.
const (
	LargeWidth = 1280
	SmallWidth = 320
)

// Variant names. A variant is stored under VariantKey(base, name).
const (
	Full  = "full"  // the whole picture, re-encoded; kept, not served
	Large = "large" // at most LargeWidth wide; what photo URLs serve
	Small = "small" // at most SmallWidth wide; ?w=320
)

const jpegQuality = 85

// Decoding is bounded twice: by count, since it is CPU work, and by the
// memory the images' headers say they need, so that a few large images
// at once cannot take hundreds of MB (one at MaxPixels needs up to 192 MB).
const (
	maxDecodes   = 2
	decodeBudget = 256 << 20
	// Past freeAfterBytes, the heap a decode grew is handed back to the
	// OS at once: the server's steady heap is a few MB, and with GOGC at
	// 400 it would otherwise keep hundreds of MB of garbage.
	freeAfterBytes = 32 << 20
)

var (
	decoding     = make(chan struct{}, maxDecodes)
	decodeMemory = semaphore.NewWeighted(decodeBudget)
)

// Variant is one stored rendition of an upload.
type Variant struct {
	Name        string
	ContentType string // image/jpeg or image/png
	Width       int
	Height      int
	Data        []byte
	// ETag is a strong entity tag (quoted): a hash of Data.
	ETag string
}

// Ext is the file extension of v's format.
func (v Variant) Ext() string {
	if v.ContentType == "image/png" {
		return ".png"
	}
	return ".jpg"
}

// Processed is an upload made safe to publish, in every stored size.
type Processed struct {
	Full, Large, Small Variant
}

// Variants lists the renditions to store.
func (p Processed) Variants() []Variant { return []Variant{p.Full, p.Large, p.Small} }

// VariantKey is where the variant name of the image stored at base lives.
func VariantKey(base, name string) string { return base + "-" + name }

// VariantKeys are the keys of every variant of the image at base.
func VariantKeys(base string) []string {
	return []string{VariantKey(base, Full), VariantKey(base, Large), VariantKey(base, Small)}
}

// VariantForWidth maps the w query parameter of a photo URL to the
// variant it serves: absent or "1280" is the large one, "320" the small
// one; any other value is not served.
func VariantForWidth(w string) (string, bool) {
	switch w {
	case "", "1280":
		return Large, true
	case "320":
		return Small, true
	}
	return "", false
}

// Process checks an upload and re-encodes it for publishing:
//
//   - the format is sniffed from the bytes (JPEG, PNG or WebP), and the
//     pixel count read from the header is capped BEFORE anything is
//     decoded, so a decompression bomb is refused without allocating it;
//   - the EXIF orientation is applied to the pixels;
//   - the pixels are encoded afresh (JPEG, or PNG when the image has
//     transparency): no byte of the upload's metadata (EXIF with GPS, XMP,
//     ICC profile, comments) is carried over, since Go's encoders write
//     none;
//   - the large and small widths are derived (never upscaled).
//
// Anything unacceptable is a BAD_USER_INPUT error saying what is accepted.
func Process(ctx context.Context, data []byte) (Processed, error) {
	info, err := Inspect(data)
	if err != nil {
		return Processed{}, err
	}
	cost := min(info.DecodeBytes, decodeBudget)
	if err := decodeMemory.Acquire(ctx, cost); err != nil {
		return Processed{}, err
	}
	defer decodeMemory.Release(cost)
	select {
	case decoding <- struct{}{}:
		defer func() { <-decoding }()
	case <-ctx.Done():
		return Processed{}, ctx.Err()
	}
	p, err := process(data)
	if info.DecodeBytes > freeAfterBytes {
		debug.FreeOSMemory() // the pixels are garbage now that process returned
	}
	return p, err
}

// process decodes, orients and re-encodes data, whose header Inspect
// accepted.
func process(data []byte) (Processed, error) {
	// AutoOrientation reads the orientation tag of a JPEG's EXIF block
	// while the image is decoded, then rotates or flips the pixels.
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		return Processed{}, ErrNotImage // a valid header over a broken body
	}
	enc := encodeJPEG
	if !opaque(img) {
		enc = encodePNG
	}
	var p Processed
	if p.Full, err = variant(Full, img, enc); err != nil {
		return Processed{}, err
	}
	large := shrink(img, LargeWidth)
	if p.Large, err = reuseOr(p.Full, Large, large, img, enc); err != nil {
		return Processed{}, err
	}
	small := shrink(large, SmallWidth)
	if p.Small, err = reuseOr(p.Large, Small, small, large, enc); err != nil {
		return Processed{}, err
	}
	return p, nil
}

// shrink scales img down to width, keeping its aspect; a narrower image
// is returned as it is.
func shrink(img image.Image, width int) image.Image {
	if img.Bounds().Dx() <= width {
		return img
	}
	return imaging.Resize(img, width, 0, imaging.Lanczos)
}

// reuseOr is prev renamed when img was not shrunk from src, else img encoded.
func reuseOr(prev Variant, name string, img, src image.Image, enc encoder) (Variant, error) {
	if img == src {
		prev.Name = name
		return prev, nil
	}
	return variant(name, img, enc)
}

type encoder func(*bytes.Buffer, image.Image) (contentType string, err error)

func variant(name string, img image.Image, enc encoder) (Variant, error) {
	var buf bytes.Buffer
	ct, err := enc(&buf, img)
	if err != nil {
		return Variant{}, fmt.Errorf("encode %s image: %w", name, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	b := img.Bounds()
	return Variant{
		Name: name, ContentType: ct, Width: b.Dx(), Height: b.Dy(), Data: buf.Bytes(),
		ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`,
	}, nil
}

func encodeJPEG(w *bytes.Buffer, img image.Image) (string, error) {
	// An opaque NRGBA image has the same bytes as an RGBA one, which the
	// JPEG encoder converts much faster than an arbitrary image.
	if n, ok := img.(*image.NRGBA); ok {
		img = &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	return "image/jpeg", jpeg.Encode(w, img, &jpeg.Options{Quality: jpegQuality})
}

func encodePNG(w *bytes.Buffer, img image.Image) (string, error) {
	return "image/png", png.Encode(w, img)
}

// opaque reports whether img has no transparent pixel.
func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}
