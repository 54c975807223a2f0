package httpapi

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"importops/auth"
	"importops/db"
	"importops/domain"
)

// maxConcurrentUploads bounds the upload bodies read at once. gqlgen keeps
// up to maxMultipartMemory of each in memory and spools the rest to a temp
// file, so this bounds the memory uploads can hold.
const (
	maxConcurrentUploads = 8
	maxMultipartMemory   = 1 << 20
)

var (
	errUploadAuth  = refusal{http.StatusUnauthorized, domain.Unauthenticated, "uploads need Authorization: Bearer <token> of a signed-in staff member"}
	errUploadsBusy = refusal{http.StatusTooManyRequests, domain.RateLimited, "too many uploads in progress; try again in a few seconds"}
	errUploadCheck = refusal{http.StatusInternalServerError, domain.Internal, "internal error"}
)

func isMultipart(r *http.Request) bool {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && mediaType == "multipart/form-data"
}

// admitUpload lets a multipart request's body be read only for a caller
// whose bearer token is valid, and only while fewer than
// maxConcurrentUploads are being read: every upload mutation is for staff,
// and an anonymous client must not make the server hold upload bodies.
// The caller calls release when the request is done. The returned request
// carries the token's owner, so the operation does not look it up again.
func (h *handlers) admitUpload(r *http.Request) (_ *http.Request, release func(), f *refusal) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" || len(token) > 256 {
		return r, nil, &errUploadAuth
	}
	owner, err := h.Store.TokenOwner(r.Context(), auth.HashToken(token))
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "authenticate upload", "error", err)
		return r, nil, &errUploadCheck
	}
	if owner == nil {
		return r, nil, &errUploadAuth
	}
	select {
	case h.uploads <- struct{}{}:
		r = r.WithContext(context.WithValue(r.Context(), tokenOwnerKey{}, owner))
		return r, func() { <-h.uploads }, nil
	default:
		return r, nil, &errUploadsBusy
	}
}

// tokenOwnerKey carries a bearer token's owner already looked up for this
// request.
type tokenOwnerKey struct{}

// knownTokenOwner is the owner admitUpload found, or nil.
func knownTokenOwner(ctx context.Context) *db.TokenOwner {
	o, _ := ctx.Value(tokenOwnerKey{}).(*db.TokenOwner)
	return o
}
