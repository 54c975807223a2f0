package httpapi

import (
	"bytes"
	"html/template"
	"net/http"

)

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Organization.Locale}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Vehicle.Title}} · {{.Organization.Name}}</title>
</head>
<body>
<header>{{with .Organization.LogoURL}}<img src="{{.}}" alt="" height="48">{{end}}<p>{{.Organization.Name}}</p></header>
<main>
<h1>{{.Vehicle.Title}}</h1>
{{with .HeroPhoto}}<img src="{{.URL}}" alt="{{with .Caption}}{{.}}{{else}}Vehicle photo{{end}}" style="max-width:100%">{{end}}
{{with .Progress}}<ol aria-label="Progress">{{range .Stages}}<li{{if .Current}} aria-current="step"{{end}}>{{if .Reached}}✔ {{end}}{{.Label}}</li>{{end}}</ol>{{end}}
{{with .EstimatedArrival}}<p>Estimated arrival: <time datetime="{{.}}">{{.}}</time></p>{{end}}
{{if .Notes}}<section><h2>Updates</h2>{{range .Notes}}<article><p>{{.Body}}</p><time datetime="{{.CreatedAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}">{{.CreatedAt.UTC.Format "2006-01-02"}}</time></article>{{end}}</section>{{end}}
{{if .Photos}}<section><h2>Photos</h2>{{range .Photos}}<a href="{{.URL}}"><img src="{{.URL}}" alt="{{with .Caption}}{{.}}{{else}}Vehicle photo{{end}}" style="max-width:100%"></a>{{end}}</section>{{end}}
</main>
</body>
</html>
`))

// notAvailablePage is the same bytes for every reason a link does not work.
var notAvailablePage = []byte(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>Link not available</title></head>
<body><main><h1>Link not available</h1>
<p>This tracking link is not available. Please ask the business that sent it for a new one.</p></main></body>
</html>
`)

// trackingPage renders the customer's page from the same View as the
// publicTracking query.
func (h *handlers) trackingPage(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Robots-Tag", "noindex, nofollow")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hdr.Set("Content-Type", "text/html; charset=utf-8")

	view, err := h.Tracking.View(r.Context(), r.PathValue("slug"))
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "tracking page", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if view == nil {
		w.WriteHeader(http.StatusNotFound)
		w.Write(notAvailablePage)
		return
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, view); err != nil {
		h.Logger.ErrorContext(r.Context(), "render tracking page", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Write(buf.Bytes())
}

