// Package resolvers is the GraphQL layer: it decodes input, checks the
// caller, calls the store or a service, and maps the result. Rules and SQL
// live elsewhere.
package resolvers

import (
	"time"

	"importops/db"
	"importops/media"
	"importops/team"
	"importops/tracking"
	"importops/uploads"
)

// Resolver carries the dependencies of every resolver.
type Resolver struct {
	store    *db.Store
	signer   *media.Signer
	tracking *tracking.Service
	uploads  *uploads.Service
	baseURL  string
	now      func() time.Time
	team     *team.Service
}

func New(store *db.Store, m media.Storage, signer *media.Signer, t *tracking.Service, publicBaseURL string, team *team.Service) *Resolver {
	return &Resolver{store: store, signer: signer, tracking: t, uploads: uploads.New(store, m),
		baseURL: publicBaseURL, now: time.Now, team: team}
}
