package domain

import (
	"io"
	"slices"
	"time"
)

// LinkState is where a tracking link stands now; tracking.State decides it.
type LinkState string

const (
	LinkLive      LinkState = "LIVE"
	LinkExpired   LinkState = "EXPIRED"
	LinkSuspended LinkState = "SUSPENDED"
	LinkEnded     LinkState = "ENDED"
)

// LinkStates lists every state.
var LinkStates = []LinkState{LinkLive, LinkExpired, LinkSuspended, LinkEnded}

func (s LinkState) IsValid() bool { return slices.Contains(LinkStates, s) }

func (s *LinkState) UnmarshalGQL(v any) error { return unmarshalEnum(s, v, "TrackingLinkState") }
func (s LinkState) MarshalGQL(w io.Writer)    { marshalEnum(w, s) }

// LinkEventKind is what happened to a tracking link.
type LinkEventKind string

const (
	EventCreated             LinkEventKind = "CREATED"
	EventUpdated             LinkEventKind = "UPDATED"
	EventRevoked             LinkEventKind = "REVOKED"
	EventRegenerated         LinkEventKind = "REGENERATED"
	EventVehicleDeleted      LinkEventKind = "VEHICLE_DELETED"
	EventExpirySetOnDelivery LinkEventKind = "EXPIRY_SET_ON_DELIVERY"
)

var linkEventKinds = []LinkEventKind{
	EventCreated, EventUpdated, EventRevoked, EventRegenerated, EventVehicleDeleted, EventExpirySetOnDelivery,
}

func (k LinkEventKind) IsValid() bool { return slices.Contains(linkEventKinds, k) }

func (k *LinkEventKind) UnmarshalGQL(v any) error {
	return unmarshalEnum(k, v, "TrackingLinkEventKind")
}
func (k LinkEventKind) MarshalGQL(w io.Writer) { marshalEnum(w, k) }

// LinkEvent is one entry of a link's history; ActorID is nil when the
// system did it, Actor is the user read with it.
type LinkEvent struct {
	LinkID  string
	Kind    LinkEventKind
	At      time.Time
	ActorID *string
	Actor   *User
	// Changed names the options an UPDATED event changed, in the order of
	// LinkOptionNames; empty for other kinds.
	Changed []string
}

// LinkOptionNames are the option names TrackingLinkEvent.changed uses.
var LinkOptionNames = []string{
	"showPhoto", "showEstimatedArrival", "showProgress", "showCustomerNotes", "photoIds", "expiresAt",
}

// MaxLinkExpiryDays bounds Organization.linkExpiryDaysAfterDelivery.
const MaxLinkExpiryDays = 365

// ValidateLinkExpiryDays checks linkExpiryDaysAfterDelivery (nil: off).
func ValidateLinkExpiryDays(days *int) error {
	if days != nil && (*days < 1 || *days > MaxLinkExpiryDays) {
		return badInput("linkExpiryDaysAfterDelivery must be between 1 and %d, or null", MaxLinkExpiryDays)
	}
	return nil
}
