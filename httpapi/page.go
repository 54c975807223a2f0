package httpapi

import (
	"bytes"
	"net/http"
	"time"

	"importops/catalog"
	"importops/domain"
	"importops/media"
	"importops/page"
	"importops/tracking"
)

// pageCSP allows the page exactly what it uses: images from its own
// origin, its one inline stylesheet by hash, its one script file from its
// own origin, and connections to its own origin (the subscription and the
// refresh). No inline script, font, frame or form; no other origin.
var pageCSP = "default-src 'none'; img-src 'self'; style-src " + page.StyleSource() +
	"; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageHeaders is the one place the customer page's security headers are
// set; every answer of GET /t/{slug} carries them, whatever its status
// and whether it was stored or rendered. The URL is a capability: it must
// not leak through Referer, be indexed, or be kept in a shared cache.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

func setPageHeaders(h http.Header) {
	for k, v := range pageHeaderValues {
		h[k] = v
	}
}

// pageHeaderValues are shared by every answer: each value's capacity is
// its length, so a handler that adds to one appends to a copy.
var pageHeaderValues = func() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), "+
		"geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()")
	for k, v := range h {
		h[k] = v[:len(v):len(v)]
	}
	return h
}()

// trackingPage renders the customer's page from the same View, through the
// same availability rule, as the publicTracking query.
func (h *handlers) trackingPage(w http.ResponseWriter, r *http.Request) {
	view, err := h.Tracking.View(r.Context(), r.PathValue("slug"))
	if domain.IsCode(err, domain.RateLimited) {
		_, _, _, wait := requestInfo(r.Context()).snapshot()
		writeRateLimited(w, r, wait)
		return
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "tracking page", "error", err)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(page.ServerError(browserLanguage(r)))
		return
	}
	if view == nil {
		w.WriteHeader(http.StatusNotFound)
		w.Write(page.NotAvailable(browserLanguage(r)))
		return
	}
	bp := answerBufs.Get().(*[]byte)
	defer answerBufs.Put(bp)
	buf := bytes.NewBuffer((*bp)[:0])
	if err := page.Render(buf, view, h.Config.PublicBaseURL); err != nil {
		h.Logger.ErrorContext(r.Context(), "tracking page", "error", err)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(page.ServerError(view.Organization.Language))
		return
	}
	w.Write(buf.Bytes())
	*bp = buf.Bytes()[:0]
}

// browserLanguage is the language of a page that names no organization
// (a link that does not work): the one the browser asks for.
func browserLanguage(r *http.Request) string {
	return catalog.Negotiate(r.Header.Get("Accept-Language"))
}

// previewPage is the customer page of a staff preview (trackingPreview's
// pageUrl): signed with the server's secret, working for at most
// tracking.PreviewLifetime, with a visible "Preview" marker, the page's
// strict headers (X-Robots-Tag: noindex among them) and never an open.
// Anything wrong with it looks like a link that is not available.
func (h *handlers) previewPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now()
	browserLang := catalog.Negotiate(r.Header.Get("Accept-Language"))
	_, ok := h.Signer.Verify(r.URL.Path, q.Get("exp"), q.Get("sig"), now)
	var req tracking.PreviewRequest
	if ok {
		req, ok = tracking.ParsePreviewPath(r.URL.Path)
	}
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		w.Write(page.NotAvailable(browserLang))
		return
	}
	view, err := h.Tracking.Preview(r.Context(), req.OrganizationID, req.VehicleID, req.Options, func(photoID string) string {
		return h.Signer.Sign(media.StaffPhotoPath(photoID), now)
	})
	if domain.IsCode(err, domain.NotFound) {
		w.WriteHeader(http.StatusNotFound)
		w.Write(page.NotAvailable(browserLang))
		return
	}
	var buf bytes.Buffer
	if err == nil {
		err = page.RenderPreview(&buf, view, h.Config.PublicBaseURL)
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "preview page", "error", err)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(page.ServerError(browserLang))
		return
	}
	w.Write(buf.Bytes())
}

// pageScript serves the tracking page's script. It holds no data of any
// link, so it may be cached; an hour keeps a fix from waiting long.
func pageScript(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(page.Script())
}
