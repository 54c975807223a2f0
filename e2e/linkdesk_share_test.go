package e2e

import (
	"image"
	"image/draw"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/srwiley/oksvg"
	"github.com/srwiley/rasterx"

	"importops/apptest"
)

// ldDecodeQR rasterizes an SVG document (oksvg, a real SVG renderer) and
// reads the QR code in it with ZXing's decoder (gozxing).
func ldDecodeQR(t *testing.T, svg string) string {
	t.Helper()
	icon, err := oksvg.ReadIconStream(strings.NewReader(svg), oksvg.StrictErrorMode)
	if err != nil {
		t.Fatalf("qrCodeSvg is not an SVG document oksvg reads: %v\n%.300s", err, svg)
	}
	const size = 400
	icon.SetTarget(0, 0, size, size)
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	icon.Draw(rasterx.NewDasher(size, size, rasterx.NewScannerGV(size, size, img, img.Bounds())), 1)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no QR code decoded from qrCodeSvg: %v", err)
	}
	return res.GetText()
}

func TestLinkDeskShareKit(t *testing.T) {
	env, org := tlStart(t, "Harbour Share Imports", "NZ")
	vid := createVehicle(t, env, org.Token, apptest.Vars{"year": 2019, "make": "Toyota", "model": "Land Cruiser"})
	link := createLink(t, env, org.Token, vid, nil)

	var out struct {
		Vehicle struct {
			TrackingLink struct {
				URL          string
				ShareMessage string
				QRCodeSvg    string `json:"qrCodeSvg"`
			}
		}
	}
	env.Do(t, org.Token, `query($id: ID!) { vehicle(id: $id) { trackingLink { url shareMessage qrCodeSvg } } }`,
		apptest.Vars{"id": vid}).Decode(t, &out)
	l := out.Vehicle.TrackingLink
	if l.URL != link.URL {
		t.Fatalf("url %q, want %q", l.URL, link.URL)
	}
	// English (the organization's country is NZ), naming the vehicle and
	// carrying the URL.
	for _, want := range []string{l.URL, "2019 Toyota Land Cruiser", "Harbour Share Imports", "Follow your"} {
		if !strings.Contains(l.ShareMessage, want) {
			t.Fatalf("shareMessage %q does not contain %q", l.ShareMessage, want)
		}
	}
	svg := strings.TrimSpace(l.QRCodeSvg)
	if !strings.HasPrefix(svg, "<?xml") || !strings.Contains(svg, `xmlns="http://www.w3.org/2000/svg"`) || !strings.HasSuffix(svg, "</svg>") {
		t.Fatalf("qrCodeSvg is not a standalone SVG document: %.200s", svg)
	}
	if got := ldDecodeQR(t, l.QRCodeSvg); got != l.URL {
		t.Fatalf("the QR code decodes to %q, want the link's url %q", got, l.URL)
	}

	// A new slug, a new code.
	regen := tlRegenerate(t, env, org.Token, vid)
	env.Do(t, org.Token, `query($id: ID!) { vehicle(id: $id) { trackingLink { url shareMessage qrCodeSvg } } }`,
		apptest.Vars{"id": vid}).Decode(t, &out)
	if got := ldDecodeQR(t, out.Vehicle.TrackingLink.QRCodeSvg); got != regen.URL || got == link.URL {
		t.Fatalf("after regenerate the QR code decodes to %q, want %q", got, regen.URL)
	}
	tlWantCode(t, env.Do(t, "", `query($id: ID!) { vehicle(id: $id) { trackingLink { qrCodeSvg } } }`,
		apptest.Vars{"id": vid}), "UNAUTHENTICATED")
}
