package httpapi

import (
	"errors"
	"io"
	"net/http"
	"time"

	"importops/media"
)

// staffPhoto serves a photo to whoever holds a valid signed URL.
func (h *handlers) staffPhoto(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("photoID")
	q := r.URL.Query()
	if !h.Signer.Verify(r.URL.Path, q.Get("exp"), q.Get("sig"), time.Now()) {
		http.NotFound(w, r)
		return
	}
	p, err := h.Store.PhotoByID(r.Context(), id)
	if err != nil || p == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "private, max-age=600")
	h.serveMedia(w, r, p.StorageKey, p.ContentType)
}

// publicPhoto serves a photo only while its link is available and shows it.
func (h *handlers) publicPhoto(w http.ResponseWriter, r *http.Request) {
	p, err := h.Tracking.PublicPhoto(r.Context(), r.PathValue("slug"), r.PathValue("photoID"))
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "public photo", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p == nil {
		http.NotFound(w, r)
		return
	}
	// Never cached past the link's life: a revoke must take effect at once.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.serveMedia(w, r, p.StorageKey, p.ContentType)
}

// logo serves an organization's logo; its key is random and unlisted.
func (h *handlers) logo(w http.ResponseWriter, r *http.Request) {
	key := "logos/" + r.PathValue("key")
	if _, err := h.Store.OrganizationByLogoKey(r.Context(), key); err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	h.serveMedia(w, r, key, "")
}

func (h *handlers) serveMedia(w http.ResponseWriter, r *http.Request, key, contentType string) {
	f, err := h.Media.Open(r.Context(), key)
	if errors.Is(err, media.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "open media", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if rs, ok := f.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", time.Time{}, rs)
		return
	}
	_, _ = io.Copy(w, f)
}
