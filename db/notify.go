package db

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
)

// PublicChannel is the PostgreSQL NOTIFY channel on which every write that
// can change what a tracking link shows announces it. Each server replica
// LISTENs on it and drops the public views the payload names, so a cached
// view is never served after the write that changed it has committed.
//
// A payload is a change key: "org:<id>" (the organization's name, country,
// logo or subscription changed: every view of its links), "vehicle:<id>"
// (the vehicle, its link, hero photo, picked photos or customer notes
// changed), or FlushAll. Anything else is read as FlushAll. After changing
// data by hand in psql, run:
//
//	NOTIFY importops_public, '*';
const PublicChannel = "importops_public"

// FlushAll is the change key that drops every cached public view.
const FlushAll = "*"

// OrgKey and VehicleKey are the change keys of an organization and a vehicle.
func OrgKey(id string) string     { return "org:" + id }
func VehicleKey(id string) string { return "vehicle:" + id }

// ParseKey splits a change key into its kind ("org", "vehicle") and id;
// ok is false for FlushAll and anything unknown.
func ParseKey(key string) (kind, id string, ok bool) {
	kind, id, ok = strings.Cut(key, ":")
	if !ok || id == "" || (kind != "org" && kind != "vehicle") {
		return "", "", false
	}
	return kind, id, true
}

const sqlNotifyPublic = `SELECT pg_notify($1, $2)`

// publicChanges holds the change keys announced inside each open
// transaction of a Store, so that they reach this process's own listeners
// synchronously when the transaction commits (see OnPublicChange).
type publicChanges struct {
	mu      sync.Mutex
	pending map[*sqlx.Tx][]string
	hooks   []func(key string)
}

// OnPublicChange registers fn to be called with each change key of every
// transaction of this Store, right after it commits and before the store
// method returns. Other processes learn the same keys through LISTEN on
// PublicChannel; this hook makes the writer's own process see its write at
// once, without waiting for its notification to come back.
func (s *Store) OnPublicChange(fn func(key string)) {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	s.changes.hooks = append(s.changes.hooks, fn)
}

// notifyPublic announces, inside tx, that the public views named by keys
// change. PostgreSQL delivers the notification only if and when tx
// commits, to every listening replica.
func (s *Store) notifyPublic(ctx context.Context, tx *sqlx.Tx, keys ...string) error {
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, sqlNotifyPublic, PublicChannel, k); err != nil {
			return fmt.Errorf("notify %s: %w", PublicChannel, err)
		}
	}
	s.notifiedPublic(tx, keys...)
	return nil
}

// notifiedPublic records keys that a statement of tx sent pg_notify for
// itself, for the hooks when tx commits.
func (s *Store) notifiedPublic(tx *sqlx.Tx, keys ...string) {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	if s.changes.pending == nil {
		s.changes.pending = make(map[*sqlx.Tx][]string)
	}
	s.changes.pending[tx] = append(s.changes.pending[tx], keys...)
}

// committed hands the change keys of a committed tx to the hooks.
func (s *Store) committed(tx *sqlx.Tx) {
	s.changes.mu.Lock()
	keys := s.changes.pending[tx]
	delete(s.changes.pending, tx)
	s.changes.mu.Unlock()
	s.publicChanged(keys...)
}

// publicChanged hands committed change keys to the hooks: those of a
// transaction, or of a statement that ran alone (and so committed) and
// sent pg_notify for itself.
func (s *Store) publicChanged(keys ...string) {
	s.changes.mu.Lock()
	hooks := s.changes.hooks
	s.changes.mu.Unlock()
	for _, k := range keys {
		for _, fn := range hooks {
			fn(k)
		}
	}
}

// forget drops the change keys of a tx that did not commit.
func (s *Store) forget(tx *sqlx.Tx) {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	delete(s.changes.pending, tx)
}
