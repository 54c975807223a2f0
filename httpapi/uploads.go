package httpapi

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"importops/auth"
	"importops/db"
	"importops/domain"
)

// Upload bodies being read at once are budgeted globally, per
// organization and per user, so that one tenant stalling uploads holds
// only its own share. gqlgen keeps up to maxMultipartMemory of each in
// memory and spools the rest to a temp file, so the global bound also
// bounds the memory uploads can hold.
const (
	maxConcurrentUploads = 16
	maxUploadsPerOrg     = 6
	maxUploadsPerUser    = 3
	maxMultipartMemory   = 1 << 20
)

// An upload body that stops moving for uploadStallTimeout is cut off (its
// read fails and the request ends, freeing its slot); one that keeps
// moving gets at most uploadTime (bodyDeadlines) in all.
const uploadStallTimeout = 10 * time.Second

const uploadsLimit = "uploads" // the metrics label of a refused upload

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
// whose bearer token is valid, and only while the caller, its
// organization and the server each have an upload slot free: every
// upload mutation is for staff, and an anonymous client must not make the
// server hold upload bodies. The caller calls release when the request is
// done. The returned request carries the token's owner, so the operation
// does not look it up again, and a body that stalls is cut off.
func (h *handlers) admitUpload(w http.ResponseWriter, r *http.Request) (_ *http.Request, release func(), f *refusal) {
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
	release, ok = h.uploads.take(owner.OrganizationID, owner.UserID)
	if !ok {
		h.metrics.rateLimited.WithLabelValues(uploadsLimit).Inc()
		return r, nil, &errUploadsBusy
	}
	r = r.WithContext(context.WithValue(r.Context(), tokenOwnerKey{}, owner))
	r.Body = newStallBody(w, r.Body, time.Now())
	return r, release, nil
}

// uploadSlots counts the upload bodies being read, in all and by
// organization and user.
type uploadSlots struct {
	mu      sync.Mutex
	total   int
	byOrg   map[string]int
	byUser  map[string]int
	max     int
	perOrg  int
	perUser int
}

func newUploadSlots(max, perOrg, perUser int) *uploadSlots {
	return &uploadSlots{max: max, perOrg: perOrg, perUser: perUser,
		byOrg: map[string]int{}, byUser: map[string]int{}}
}

// take claims a slot for a user of an organization; release gives it back.
func (s *uploadSlots) take(orgID, userID string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= s.max || s.byOrg[orgID] >= s.perOrg || s.byUser[userID] >= s.perUser {
		return nil, false
	}
	s.total++
	s.byOrg[orgID]++
	s.byUser[userID]++
	var once sync.Once
	return func() { once.Do(func() { s.give(orgID, userID) }) }, true
}

func (s *uploadSlots) give(orgID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.byOrg[orgID]--; s.byOrg[orgID] == 0 {
		delete(s.byOrg, orgID) // the maps hold only organizations uploading now
	}
	if s.byUser[userID]--; s.byUser[userID] == 0 {
		delete(s.byUser, userID)
	}
}

// stallBody moves the connection's read deadline uploadStallTimeout past
// each read that brings bytes, never past uploadTime after the upload
// began: a body that stops moving fails its next read. Once the body has
// ended (or failed) the deadline is left alone: bodyDeadlines lifts it at
// the end of the body, so that the wait for a decode slot and the
// decoding are not cut off.
type stallBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	last  time.Time // when the deadline was last moved
	end   time.Time
	ended bool
}

func newStallBody(w http.ResponseWriter, body io.ReadCloser, now time.Time) *stallBody {
	b := &stallBody{ReadCloser: body, rc: http.NewResponseController(w), end: now.Add(uploadTime)}
	b.extend(now)
	return b
}

func (b *stallBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case b.ended:
	case err != nil:
		b.ended = true
	case n > 0:
		if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond { // not a syscall per small read
			b.extend(now)
		}
	}
	return n, err
}

func (b *stallBody) extend(now time.Time) {
	b.last = now
	// A server that cannot set deadlines (http.ErrNotSupported) keeps its
	// own; the slot is still given back when the request ends.
	deadline := now.Add(uploadStallTimeout)
	if deadline.After(b.end) {
		deadline = b.end
	}
	_ = b.rc.SetReadDeadline(deadline)
}

// tokenOwnerKey carries a bearer token's owner already looked up for this
// request.
type tokenOwnerKey struct{}

// knownTokenOwner is the owner admitUpload found, or nil.
func knownTokenOwner(ctx context.Context) *db.TokenOwner {
	o, _ := ctx.Value(tokenOwnerKey{}).(*db.TokenOwner)
	return o
}
