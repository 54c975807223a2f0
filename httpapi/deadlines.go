package httpapi

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// Per-request deadlines, set through http.ResponseController: the server
// has no global ReadTimeout or WriteTimeout (httpserver), which would cut
// long-lived streams too.
const (
	// bodyBaseTime is the time any request body gets to arrive, and
	// bodyMinRate the pace (bytes a second) a longer one must keep on
	// average beyond it: a small body gets a few seconds, a body that
	// trickles in is cut off at its deadline, not held for minutes.
	bodyBaseTime = 5 * time.Second
	bodyMinRate  = 16 << 10
	// unknownLength is what a body of unknown length (chunked) is given
	// time for: the largest JSON body accepted.
	unknownLength = maxJSONBody
	// uploadTime is an upload's: up to 20 MB over a slow uplink (0.6
	// Mbit/s). The upload handling may shorten it for a body that stops
	// moving.
	uploadTime = 5 * time.Minute
	// writeTime bounds sending a response that is not a stream: a client
	// that stops reading does not hold its handler forever.
	writeTime = time.Minute
)

// bodyDeadlines gives each request a read deadline that fits its body
// (none without a body) and a write deadline; a stream (Server-Sent
// Events, a WebSocket upgrade) gets neither and sets its own. The read
// deadline is lifted once the body is read, so it never cuts a slow
// handler's own work, and the connection's next request starts afresh:
// net/http sets the read deadline for each request's headers, and this
// sets the write deadline on every request.
func bodyDeadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if isStream(r) {
			_ = rc.SetWriteDeadline(time.Time{})
			next.ServeHTTP(w, r)
			return
		}
		now := time.Now()
		_ = rc.SetWriteDeadline(now.Add(writeTime))
		if r.Body != nil && r.Body != http.NoBody {
			if rc.SetReadDeadline(now.Add(bodyTime(r))) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bodyTime is how long r's body may take to arrive.
func bodyTime(r *http.Request) time.Duration {
	if isMultipart(r) {
		return uploadTime
	}
	n := r.ContentLength
	if n < 0 {
		n = unknownLength
	}
	return bodyBaseTime + time.Duration(n)*time.Second/bodyMinRate
}

// isStream tells a request whose answer is long-lived.
func isStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream") ||
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// deadlineBody lifts the read deadline once the body has been read.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		// net/http now reads ahead on the connection to notice a client
		// that goes away; that read must not time out.
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
