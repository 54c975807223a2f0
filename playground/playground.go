// Package playground serves GraphiQL, the GraphQL IDE for developers, from
// the binary itself: the page and its bundle (built by
// scripts/build-playground from the npm packages pinned in
// scripts/playground) are embedded, so it works with no internet access.
package playground

import (
	"embed"
	"io/fs"
	"net/http"
)

// The built bundle and the page that loads it.
//
//go:embed index.html dist/playground.js dist/playground.css
var files embed.FS

// policy lets the page load and connect to this origin only. Inline
// styles stay allowed: GraphiQL's components set them at run time.
const policy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Routes registers the page at GET / and its assets under GET /playground/.
func Routes(mux *http.ServeMux) {
	dist, err := fs.Sub(files, "dist")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	assets := http.StripPrefix("/playground/", http.FileServerFS(dist))
	mux.Handle("GET /{$}", secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, files, "index.html")
	})))
	mux.Handle("GET /playground/", secure(assets))
}

func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
