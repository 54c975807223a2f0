package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"importops/domain"
	"importops/media"
)

// Photo URLs serve the large size (at most media.LargeWidth px wide);
// ?w=320 serves the small one and any other w is 404 (see
// media.VariantForWidth). Every size was made at upload: nothing is
// resized here.

// staffPhoto serves a photo to whoever holds a valid signed URL. The
// signature covers the path and expiry, not w: w only picks a size.
func (h *handlers) staffPhoto(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now()
	exp, ok := h.Signer.Verify(r.URL.Path, q.Get("exp"), q.Get("sig"), now)
	if !ok {
		http.NotFound(w, r)
		return
	}
	size, ok := media.VariantForWidth(q.Get("w"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	p, err := h.Store.PhotoByID(r.Context(), r.PathValue("photoID"))
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "staff photo", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p == nil {
		http.NotFound(w, r)
		return
	}
	// Cached by the browser until the URL expires, not a second longer.
	maxAge := int64(exp.Sub(now) / time.Second)
	h.serveMedia(w, r, media.VariantKey(p.StorageKey, size), "private, max-age="+strconv.FormatInt(max(maxAge, 0), 10))
}

// publicPhoto serves a photo only while its link is available and shows it.
func (h *handlers) publicPhoto(w http.ResponseWriter, r *http.Request) {
	size, ok := media.VariantForWidth(r.URL.Query().Get("w"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	p, err := h.Tracking.PublicPhoto(r.Context(), r.PathValue("slug"), r.PathValue("photoID"))
	if domain.IsCode(err, domain.RateLimited) {
		_, _, _, wait := requestInfo(r.Context()).snapshot()
		writeRateLimited(w, r, wait)
		return
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "public photo", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	// Kept only by the customer's browser and revalidated on every use (a
	// 304 costs no bytes): a revoked or expired link stops showing its
	// photos at once, never cached past the link's life.
	h.serveMedia(w, r, media.VariantKey(p.StorageKey, size), "private, no-cache")
}

// logo serves an organization's logo; its key is random and unlisted,
// and changes with every upload.
func (h *handlers) logo(w http.ResponseWriter, r *http.Request) {
	key := "logos/" + r.PathValue("key")
	if _, err := h.Store.OrganizationByLogoKey(r.Context(), key); err != nil {
		http.NotFound(w, r)
		return
	}
	h.serveMedia(w, r, key, "public, max-age=3600")
}

// serveMedia sends the stored file at key with its strong ETag, answering
// a matching If-None-Match with 304 without reading the file. A key with
// no record (a photo stored before variants existed) is not served.
func (h *handlers) serveMedia(w http.ResponseWriter, r *http.Request, key, cacheControl string) {
	obj, err := h.Store.MediaObject(r.Context(), key)
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "load media object", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if obj == nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("ETag", obj.ETag)
	hdr.Set("Cache-Control", cacheControl)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if etagMatch(r.Header.Get("If-None-Match"), obj.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	f, err := h.Media.Open(r.Context(), key)
	if err != nil {
		hdr.Del("ETag")
		hdr.Del("Cache-Control")
		if errors.Is(err, media.ErrNotExist) {
			h.Logger.WarnContext(r.Context(), "media file missing", "error", err)
			http.NotFound(w, r)
			return
		}
		h.Logger.ErrorContext(r.Context(), "open media", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	hdr.Set("Content-Type", obj.ContentType)
	if rs, ok := f.(io.ReadSeeker); ok {
		// A local file: ServeContent adds Range support.
		http.ServeContent(w, r, "", time.Time{}, rs)
		return
	}
	hdr.Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	if _, err := io.Copy(w, f); err != nil {
		h.Logger.WarnContext(r.Context(), "send media", "error", err)
	}
}

// etagMatch is If-None-Match's weak comparison (RFC 9110, 13.1.2): "*"
// or any listed tag equal to etag once a W/ prefix is ignored.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
