package domain

import (
	"io"
	"slices"
	"strconv"
)

// Stage is a step of the import journey.
type Stage string

const (
	StagePurchased        Stage = "PURCHASED"
	StageAwaitingShipment Stage = "AWAITING_SHIPMENT"
	StageInTransit        Stage = "IN_TRANSIT"
	StageArrived          Stage = "ARRIVED"
	StageCustomsCleared   Stage = "CUSTOMS_CLEARED"
	StageCompliance       Stage = "COMPLIANCE"
	StageReadyForDelivery Stage = "READY_FOR_DELIVERY"
	StageDelivered        Stage = "DELIVERED"
)

// Stages lists the journey in order.
var Stages = []Stage{
	StagePurchased, StageAwaitingShipment, StageInTransit, StageArrived,
	StageCustomsCleared, StageCompliance, StageReadyForDelivery, StageDelivered,
}

// Index is the position of s in the journey, -1 when unknown.
func (s Stage) Index() int { return slices.Index(Stages, s) }

func (s Stage) IsValid() bool { return s.Index() >= 0 }

func (s *Stage) UnmarshalGQL(v any) error { return unmarshalEnum(s, v, "Stage") }
func (s Stage) MarshalGQL(w io.Writer)    { marshalEnum(w, s) }

// NoteScope says who may read a note.
type NoteScope string

const (
	ScopeCustomer NoteScope = "CUSTOMER"
	ScopeInternal NoteScope = "INTERNAL"
)

func (s NoteScope) IsValid() bool { return s == ScopeCustomer || s == ScopeInternal }

func (s *NoteScope) UnmarshalGQL(v any) error { return unmarshalEnum(s, v, "NoteScope") }
func (s NoteScope) MarshalGQL(w io.Writer)    { marshalEnum(w, s) }

// Role is a staff member's role in the organization.
type Role string

const (
	RoleOwner Role = "OWNER"
	RoleAdmin Role = "ADMIN"
	RoleStaff Role = "STAFF"
)

func (r Role) IsValid() bool { return r == RoleOwner || r == RoleAdmin || r == RoleStaff }

func (r *Role) UnmarshalGQL(v any) error { return unmarshalEnum(r, v, "Role") }
func (r Role) MarshalGQL(w io.Writer)    { marshalEnum(w, r) }

// SubscriptionStatus is the organization's billing state.
type SubscriptionStatus string

const (
	SubscriptionTrialing SubscriptionStatus = "TRIALING"
	SubscriptionActive   SubscriptionStatus = "ACTIVE"
	SubscriptionPastDue  SubscriptionStatus = "PAST_DUE"
	SubscriptionLocked   SubscriptionStatus = "LOCKED"
	SubscriptionCanceled SubscriptionStatus = "CANCELED"
)

var subscriptionStatuses = []SubscriptionStatus{
	SubscriptionTrialing, SubscriptionActive, SubscriptionPastDue, SubscriptionLocked, SubscriptionCanceled,
}

func (s SubscriptionStatus) IsValid() bool { return slices.Contains(subscriptionStatuses, s) }

// IsOpen reports whether public tracking links work under this status.
func (s SubscriptionStatus) IsOpen() bool {
	return s == SubscriptionTrialing || s == SubscriptionActive
}

func (s *SubscriptionStatus) UnmarshalGQL(v any) error {
	return unmarshalEnum(s, v, "SubscriptionStatus")
}
func (s SubscriptionStatus) MarshalGQL(w io.Writer) { marshalEnum(w, s) }

type enum interface {
	~string
	IsValid() bool
}

func unmarshalEnum[T enum](dst *T, v any, name string) error {
	str, ok := v.(string)
	if !ok {
		return badInput("%s must be a string", name)
	}
	val := T(str)
	if !val.IsValid() {
		return badInput("%q is not a valid %s", str, name)
	}
	*dst = val
	return nil
}

func marshalEnum[T ~string](w io.Writer, v T) {
	_, _ = io.WriteString(w, strconv.Quote(string(v)))
}
