package media_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"runtime"
	"strings"
	"testing"

	"importops/domain"
	"importops/media"
	"importops/media/mediatest"
)

func process(t *testing.T, data []byte) media.Processed {
	t.Helper()
	p, err := media.Process(context.Background(), data)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return p
}

func decode(t *testing.T, v media.Variant) image.Image {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(v.Data))
	if err != nil {
		t.Fatalf("decode %s variant: %v", v.Name, err)
	}
	if want := strings.TrimPrefix(v.ContentType, "image/"); format != want {
		t.Fatalf("%s variant is %s, labelled %s", v.Name, format, v.ContentType)
	}
	if b := img.Bounds(); b.Dx() != v.Width || b.Dy() != v.Height {
		t.Fatalf("%s variant is %v, labelled %dx%d", v.Name, b, v.Width, v.Height)
	}
	return img
}

func TestProcessStripsEveryMetadataBlock(t *testing.T) {
	t.Parallel()
	const comment = "shot at 12 Secret Lane by camera SN-483920"
	const xmp = "<xmp:CreatorTool>SecretEditor 9000</xmp:CreatorTool>"
	in := mediatest.JPEG(t, 640, 480, mediatest.Meta{Orientation: 1, GPS: true, Comment: comment, XMP: xmp})
	// The fixture does carry what must go.
	if found, err := mediatest.Metadata(in); err != nil || len(found) != 3 {
		t.Fatalf("fixture metadata = %v, %v; want APP1 APP1 COM", found, err)
	}
	for _, needle := range [][]byte{mediatest.GPSBytes(), []byte(comment), []byte(xmp)} {
		if !bytes.Contains(in, needle) {
			t.Fatalf("fixture lacks %q", needle)
		}
	}

	p := process(t, in)
	for _, v := range p.Variants() {
		if found, err := mediatest.Metadata(v.Data); err != nil || len(found) != 0 {
			t.Errorf("%s variant: metadata blocks %v (%v)", v.Name, found, err)
		}
		for _, needle := range [][]byte{mediatest.GPSBytes(), []byte(comment), []byte("Secret"), []byte("Exif\x00\x00"), []byte("ns.adobe.com")} {
			if bytes.Contains(v.Data, needle) {
				t.Errorf("%s variant still contains %q", v.Name, needle)
			}
		}
		if v.ContentType != "image/jpeg" {
			t.Errorf("%s variant is %s, want image/jpeg", v.Name, v.ContentType)
		}
		decode(t, v)
	}
}

func TestProcessAppliesOrientation(t *testing.T) {
	t.Parallel()
	red := func(c [3]uint32) bool { return c[0] > 0xc000 && c[2] < 0x4000 }
	blue := func(c [3]uint32) bool { return c[2] > 0xc000 && c[0] < 0x4000 }
	at := func(img image.Image, x, y int) [3]uint32 {
		r, g, b, _ := img.At(x, y).RGBA()
		return [3]uint32{r, g, b}
	}
	// The fixture is 80×40, red on the left and blue on the right.
	for _, tc := range []struct {
		orientation int
		w, h        int
		redAt       image.Point // a point well inside the red half once oriented
		blueAt      image.Point
	}{
		{1, 80, 40, image.Pt(10, 20), image.Pt(70, 20)},
		{3, 80, 40, image.Pt(70, 20), image.Pt(10, 20)}, // turned 180°
		{6, 40, 80, image.Pt(20, 10), image.Pt(20, 70)}, // turned 90° clockwise: left goes to the top
		{8, 40, 80, image.Pt(20, 70), image.Pt(20, 10)}, // turned 90° anticlockwise
	} {
		p := process(t, mediatest.JPEG(t, 80, 40, mediatest.Meta{Orientation: tc.orientation, GPS: true}))
		if p.Full.Width != tc.w || p.Full.Height != tc.h {
			t.Errorf("orientation %d: %dx%d, want %dx%d", tc.orientation, p.Full.Width, p.Full.Height, tc.w, tc.h)
			continue
		}
		img := decode(t, p.Full)
		if c := at(img, tc.redAt.X, tc.redAt.Y); !red(c) {
			t.Errorf("orientation %d: %v is %v, want red", tc.orientation, tc.redAt, c)
		}
		if c := at(img, tc.blueAt.X, tc.blueAt.Y); !blue(c) {
			t.Errorf("orientation %d: %v is %v, want blue", tc.orientation, tc.blueAt, c)
		}
		if bytes.Contains(p.Full.Data, mediatest.GPSBytes()) {
			t.Errorf("orientation %d: GPS kept", tc.orientation)
		}
	}
}

func TestProcessDerivesSizesWithoutUpscaling(t *testing.T) {
	t.Parallel()
	p := process(t, mediatest.JPEG(t, 1400, 700, mediatest.Meta{}))
	for _, tc := range []struct {
		v    media.Variant
		name string
		w, h int
	}{
		{p.Full, media.Full, 1400, 700},
		{p.Large, media.Large, media.LargeWidth, 640},
		{p.Small, media.Small, media.SmallWidth, 160},
	} {
		if tc.v.Name != tc.name || tc.v.Width != tc.w || tc.v.Height != tc.h {
			t.Errorf("variant %s %dx%d, want %s %dx%d", tc.v.Name, tc.v.Width, tc.v.Height, tc.name, tc.w, tc.h)
		}
		decode(t, tc.v)
		if !strings.HasPrefix(tc.v.ETag, `"`) || !strings.HasSuffix(tc.v.ETag, `"`) || len(tc.v.ETag) < 20 {
			t.Errorf("variant %s ETag %q is not a strong tag", tc.name, tc.v.ETag)
		}
	}
	if p.Full.ETag == p.Large.ETag || p.Large.ETag == p.Small.ETag {
		t.Error("different bytes share an ETag")
	}

	// Narrower than both widths: every size is the picture itself.
	p = process(t, mediatest.JPEG(t, 300, 200, mediatest.Meta{}))
	for _, v := range p.Variants() {
		if v.Width != 300 || v.Height != 200 || !bytes.Equal(v.Data, p.Full.Data) || v.ETag != p.Full.ETag {
			t.Errorf("variant %s of a 300×200 image is %dx%d", v.Name, v.Width, v.Height)
		}
	}
}

func TestProcessFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"opaque PNG", mediatest.PNG(t, 50, 40, false), "image/jpeg"},
		{"PNG with alpha", mediatest.PNG(t, 50, 40, true), "image/png"},
		{"WebP with alpha", mediatest.WebP, "image/png"},
	} {
		p := process(t, tc.in)
		for _, v := range p.Variants() {
			if v.ContentType != tc.want {
				t.Errorf("%s: %s variant is %s, want %s", tc.name, v.Name, v.ContentType, tc.want)
			}
			decode(t, v)
			if found, err := mediatest.Metadata(v.Data); err != nil || len(found) != 0 {
				t.Errorf("%s: metadata %v (%v)", tc.name, found, err)
			}
		}
	}
}

func TestProcessRefusesWhatIsNotAnAcceptedImage(t *testing.T) {
	t.Parallel()
	var gifData bytes.Buffer
	if err := gif.Encode(&gifData, image.NewPaletted(image.Rect(0, 0, 4, 4), []color.Color{color.Black}), nil); err != nil {
		t.Fatal(err)
	}
	jpg := mediatest.JPEG(t, 64, 64, mediatest.Meta{})
	for _, tc := range []struct {
		name string
		in   []byte
		msg  string
	}{
		{"empty", nil, "JPEG, PNG or WebP"},
		{"text", []byte("just some notes, not a photo\n"), "JPEG, PNG or WebP"},
		{"PHP", []byte("<?php system($_GET['c']); ?>\n"), "JPEG, PNG or WebP"},
		{"PHP behind a PNG signature", []byte("\x89PNG\r\n\x1a\n<?php system($_GET['c']); ?>"), "JPEG, PNG or WebP"},
		{"GIF", gifData.Bytes(), "JPEG, PNG or WebP"},
		{"truncated JPEG", jpg[:len(jpg)/2], "JPEG, PNG or WebP"},
		{"60000×60000 PNG", mediatest.PNGHeader(60000, 60000), "24 megapixels"},
		{"40,000,000×1 PNG", mediatest.PNGHeader(40_000_000, 1), "16000 pixels on each side"},
		{"16,001×1 PNG", mediatest.PNGHeader(16_001, 1), "16000 pixels on each side"},
		{"over 20 MB", append(bytes.Clone(jpg), make([]byte, media.MaxUploadBytes)...), "JPEG, PNG or WebP"},
	} {
		_, err := media.Process(context.Background(), tc.in)
		if domain.ErrorCode(err) != domain.BadInput || !strings.Contains(domain.ErrorMessage(err), tc.msg) {
			t.Errorf("%s: error %v, want BAD_USER_INPUT mentioning %q", tc.name, err, tc.msg)
		}
	}
}

// Not parallel: it measures the whole process's allocations.
func TestDecompressionBombIsRefusedWithoutAllocatingIt(t *testing.T) {
	bomb := mediatest.PNGHeader(60000, 60000) // 14.4 GB as RGBA
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := media.Process(context.Background(), bomb)
	runtime.ReadMemStats(&after)
	if domain.ErrorCode(err) != domain.BadInput {
		t.Fatalf("error %v, want BAD_USER_INPUT", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes", n)
	}
}

// The memory a decode is budgeted comes from the header: the decoded
// pixels at the format's depth plus an RGBA copy.
func TestInspectEstimatesDecodeMemory(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data []byte
		want int64
	}{
		{"8-bit RGB PNG (decoded as RGBA)", mediatest.PNGHeader(4000, 3000), 4000 * 3000 * (4 + 4)},
		{"24 MP, the cap", mediatest.PNGHeader(6000, 4000), 6000 * 4000 * (4 + 4)},
	} {
		img, err := media.Inspect(tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if img.DecodeBytes != tc.want {
			t.Errorf("%s: DecodeBytes %d, want %d", tc.name, img.DecodeBytes, tc.want)
		}
	}
}

func TestReadUploadStopsAtTheLimit(t *testing.T) {
	t.Parallel()
	if _, err := media.ReadUpload(bytes.NewReader(make([]byte, media.MaxUploadBytes))); err != nil {
		t.Fatalf("exactly 20 MB: %v", err)
	}
	_, err := media.ReadUpload(bytes.NewReader(make([]byte, media.MaxUploadBytes+1)))
	if domain.ErrorCode(err) != domain.BadInput {
		t.Fatalf("20 MB + 1: %v, want BAD_USER_INPUT", err)
	}
}

func TestVariantForWidth(t *testing.T) {
	t.Parallel()
	for w, want := range map[string]string{"": media.Large, "1280": media.Large, "320": media.Small, "640": "", "full": "", "-1": ""} {
		got, ok := media.VariantForWidth(w)
		if got != want || ok != (want != "") {
			t.Errorf("VariantForWidth(%q) = %q, %v; want %q", w, got, ok, want)
		}
	}
}
