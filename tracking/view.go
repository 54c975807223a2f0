package tracking

import (
	"time"

	"importops/catalog"
	"importops/domain"
)

// View is everything a customer may see through a tracking link, already
// filtered by the link's options. Both publicTracking and the /t/ page
// render it; it holds no private value by construction.
type View struct {
	Organization     PublicOrganization
	Vehicle          PublicVehicle
	HeroPhoto        *PublicPhoto
	Progress         *Progress
	EstimatedArrival *domain.Date
	Notes            []PublicNote
	Photos           []PublicPhoto
	ExpiresAt        *time.Time
}

type PublicOrganization struct {
	Name string
	// LogoPath is the logo's URL path on the server's origin.
	LogoPath *string
	Country  string
	Locale   string
	// Language and TimeZone are the organization's (chosen, or its
	// country's defaults): the page's words and its calendar days.
	Language string
	TimeZone string
}

type PublicVehicle struct {
	Year  int
	Make  string
	Model string
	Title string
}

type PublicPhoto struct {
	// ID is used only to build URLs and is not exposed in the schema.
	ID string `json:"-"`
	// Path is the photo's URL path on the server's origin.
	Path    string
	Caption *string
	Width   *int
	Height  *int
}

type PublicNote struct {
	Body      string
	CreatedAt time.Time
}

type Progress struct {
	Current domain.Stage
	Stages  []ProgressStage
}

type ProgressStage struct {
	Stage   domain.Stage
	Label   string
	Reached bool
	Current bool
}

// NewProgress lays out every stage of the journey, marking those reached,
// labelled in lang.
func NewProgress(current domain.Stage, lang string) *Progress {
	text := catalog.For(lang)
	p := &Progress{Current: current}
	at := current.Index()
	for i, s := range domain.Stages {
		p.Stages = append(p.Stages, ProgressStage{
			Stage:   s,
			Label:   text.Stage(s),
			Reached: i <= at,
			Current: i == at,
		})
	}
	return p
}
