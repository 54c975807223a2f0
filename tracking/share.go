package tracking

import (
	"fmt"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"importops/catalog"
)

// ShareMessage is the message staff paste into an email, SMS or chat to
// send a tracking link, in language lang (a BCP 47 tag; English when it is
// not supported), from the customer page's message catalogs.
func ShareMessage(lang, orgName, vehicleTitle, url string) string {
	return catalog.For(lang).Get("ShareMessage", "Title", vehicleTitle, "Org", orgName, "URL", url)
}

// qrQuietZone is the blank border, in modules, that readers need around
// a QR code (ISO/IEC 18004 asks for 4).
const qrQuietZone = 4

// QRCodeSVG is url as a QR code: a complete, standalone SVG document,
// one path of dark modules on a white background. Medium error
// correction (15%) survives a smudged print.
func QRCodeSVG(url string) (string, error) {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("encode QR code: %w", err)
	}
	q.DisableBorder = true
	bits := q.Bitmap()
	n := len(bits) + 2*qrQuietZone
	var path strings.Builder
	for y, row := range bits {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x+qrQuietZone, y+qrQuietZone, run, run)
			x += run - 1
		}
	}
	size := strconv.Itoa(n)
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ` + size + ` ` + size +
		`" width="` + strconv.Itoa(n*8) + `" height="` + strconv.Itoa(n*8) + `" shape-rendering="crispEdges">` +
		`<rect width="` + size + `" height="` + size + `" fill="#fff"/>` +
		`<path fill="#000" d="` + path.String() + `"/></svg>` + "\n", nil
}
