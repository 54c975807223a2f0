// Package mediatest helps test uploads: an in-process S3 fake, images
// carrying metadata built byte by byte, and a check that finds metadata
// blocks in a JPEG or PNG.
package mediatest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"importops/media"
)

// NewS3 starts an in-process S3 server (gofakes3) with an empty bucket
// and returns storage on it, under a key prefix, opened the way the
// server opens a real bucket. It stops when t ends.
func NewS3(t testing.TB) *media.S3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("importops-test"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	s, err := media.OpenS3(context.Background(), media.S3Config{
		Bucket: "importops-test", Prefix: "media", Endpoint: srv.URL, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test-access-key", "test-secret-key", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Meta is the metadata JPEG writes into a test photo.
type Meta struct {
	Orientation int    // EXIF orientation, 1-8; 0 writes none
	GPS         bool   // an EXIF GPS block holding GPSLatitude and GPSLongitude
	Comment     string // a COM segment
	XMP         string // an XMP packet (APP1) holding this text
}

// The GPS position JPEG writes: 41°17'30.61"S 174°46'12.34"E, as the
// EXIF rationals; a processed image must not contain these bytes.
var gpsLatitude = rationals(41, 1, 17, 1, 3061, 100)
var gpsLongitude = rationals(174, 1, 46, 1, 1234, 100)

// GPSBytes are the bytes of the GPS position a test JPEG carries.
func GPSBytes() []byte { return append(append([]byte{}, gpsLatitude...), gpsLongitude...) }

// JPEG returns a w×h JPEG whose left half is red and right half blue,
// with meta's segments after its SOI marker.
func JPEG(t testing.TB, w, h int, meta Meta) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, halves(w, h, 255), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	plain := buf.Bytes()
	var segs []byte
	if meta.Orientation != 0 || meta.GPS {
		segs = append(segs, segment(0xE1, exif(meta))...)
	}
	if meta.XMP != "" {
		packet := "http://ns.adobe.com/xap/1.0/\x00" +
			`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
			`<rdf:Description>` + meta.XMP + `</rdf:Description></rdf:RDF></x:xmpmeta>`
		segs = append(segs, segment(0xE1, []byte(packet))...)
	}
	if meta.Comment != "" {
		segs = append(segs, segment(0xFE, []byte(meta.Comment))...)
	}
	out := append([]byte{}, plain[:2]...) // SOI
	out = append(out, segs...)
	return append(out, plain[2:]...)
}

// PNG returns a w×h PNG, left half red and right half blue, whose pixels
// are half transparent when alpha.
func PNG(t testing.TB, w, h int, alpha bool) []byte {
	t.Helper()
	a := uint8(255)
	if alpha {
		a = 128
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, halves(w, h, a)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// PNGHeader is the start of a PNG declaring w×h pixels: the signature
// and a valid IHDR chunk, then an empty IEND. Decoding it for real would
// allocate w×h×4 bytes.
func PNGHeader(w, h int) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6 // 8 bits per sample, RGBA
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	return append(out, chunk("IEND", nil)...)
}

// WebP is a 1×1 lossless WebP (one transparent pixel).
var WebP = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

// Metadata lists the metadata blocks in a JPEG (APPn and COM segments)
// or a PNG (any chunk but IHDR, PLTE, tRNS, IDAT and IEND); empty when
// there is none. Anything else is an error.
func Metadata(data []byte) ([]string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		return jpegMetadata(data)
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return pngMetadata(data)
	}
	return nil, fmt.Errorf("neither JPEG nor PNG")
}

func jpegMetadata(data []byte) ([]string, error) {
	var found []string
	for i := 2; ; {
		if i+4 > len(data) || data[i] != 0xFF {
			return nil, fmt.Errorf("bad JPEG segment at %d", i)
		}
		marker := data[i+1]
		if marker == 0xDA { // SOS: entropy-coded data follows
			return found, nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if marker >= 0xE0 && marker <= 0xEF {
			found = append(found, fmt.Sprintf("APP%d", marker-0xE0))
		}
		if marker == 0xFE {
			found = append(found, "COM")
		}
		i += 2 + n
	}
}

func pngMetadata(data []byte) ([]string, error) {
	var found []string
	for i := 8; i+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		switch typ {
		case "IHDR", "PLTE", "tRNS", "IDAT":
		case "IEND":
			return found, nil
		default:
			found = append(found, typ)
		}
		i += 12 + n
	}
	return nil, fmt.Errorf("PNG without IEND")
}

// halves is a w×h image, left half red and right half blue.
func halves(w, h int, alpha uint8) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{R: 255, A: alpha}
			if x >= w/2 {
				c = color.NRGBA{B: 255, A: alpha}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func segment(marker byte, body []byte) []byte {
	out := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(out[2:], uint16(len(body)+2))
	return append(out, body...)
}

func chunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// exif is an APP1 Exif body: a big-endian TIFF header, IFD0 with the
// orientation and a pointer to the GPS IFD, the GPS IFD, then the GPS
// rationals.
func exif(meta Meta) []byte {
	be := binary.BigEndian
	type entry struct {
		tag, typ    uint16
		count, data uint32 // data: the value (left-justified) or an offset
	}
	ifd := func(es []entry) []byte {
		b := be.AppendUint16(nil, uint16(len(es)))
		for _, e := range es {
			b = be.AppendUint16(b, e.tag)
			b = be.AppendUint16(b, e.typ)
			b = be.AppendUint32(b, e.count)
			b = be.AppendUint32(b, e.data)
		}
		return be.AppendUint32(b, 0) // no next IFD
	}
	const short, long, ascii, rational = 3, 4, 2, 5
	var ifd0 []entry
	if meta.Orientation != 0 {
		ifd0 = append(ifd0, entry{0x0112, short, 1, uint32(meta.Orientation) << 16})
	}
	gpsAt := uint32(8 + 2 + 12*(len(ifd0)+1) + 4)
	if meta.GPS {
		ifd0 = append(ifd0, entry{0x8825, long, 1, gpsAt})
	} else {
		gpsAt = 0
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	tiff = append(tiff, ifd(ifd0)...)
	if meta.GPS {
		dataAt := gpsAt + 2 + 12*4 + 4
		tiff = append(tiff, ifd([]entry{
			{0x0001, ascii, 2, 'S' << 24},
			{0x0002, rational, 3, dataAt},
			{0x0003, ascii, 2, 'E' << 24},
			{0x0004, rational, 3, dataAt + 24},
		})...)
		tiff = append(tiff, gpsLatitude...)
		tiff = append(tiff, gpsLongitude...)
	}
	return append([]byte("Exif\x00\x00"), tiff...)
}

func rationals(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return b
}
