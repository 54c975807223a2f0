package domain

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Owned is implemented by every object that belongs to one organization.
// The @staffOnly directive resolves a field only when Owner() is the
// caller's organization.
type Owned interface {
	Owner() string
}

type Organization struct {
	ID                 string
	Name               string
	Country            string
	SubscriptionStatus SubscriptionStatus
	LogoKey            *string
	// LinkExpiryDaysAfterDelivery: a link stops working this many days
	// after its vehicle reaches DELIVERED; nil: off.
	LinkExpiryDaysAfterDelivery *int
	// LanguageSet and TimeZoneSet are what updateOrganization chose; nil
	// follows the country (DefaultLanguage, DefaultTimeZone).
	LanguageSet *string
	TimeZoneSet *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (o *Organization) Owner() string { return o.ID }

// Language is the language of the organization's customer pages.
func (o *Organization) Language() string { return EffectiveLanguage(o.LanguageSet, o.Country) }

// TimeZone is the IANA zone of the organization's calendar days.
func (o *Organization) TimeZone() string { return EffectiveTimeZone(o.TimeZoneSet, o.Country) }

// Locale is the BCP 47 tag derived from the organization's country.
func (o *Organization) Locale() string { return LocaleForCountry(o.Country) }

type User struct {
	ID             string
	OrganizationID string
	Email          string
	Name           string
	Role           Role
	CreatedAt      time.Time
}

func (u *User) Owner() string { return u.OrganizationID }

type Customer struct {
	ID             string
	OrganizationID string
	Name           string
	Email          *string
	Phone          *string
	CreatedAt      time.Time
}

func (c *Customer) Owner() string { return c.OrganizationID }

type Money struct {
	Amount   decimal.Decimal
	Currency string
}

type Vehicle struct {
	ID               string
	OrganizationID   string
	Year             int
	Make             string
	Model            string
	VIN              *string
	StockNumber      *string
	CustomerID       *string
	Stage            Stage
	EstimatedArrival *Date
	HeroPhotoID      *string
	AgreedSalePrice  *Money
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (v *Vehicle) Owner() string { return v.OrganizationID }

// Title is "year make model", e.g. "2019 Toyota Land Cruiser".
func (v *Vehicle) Title() string { return VehicleTitle(v.Year, v.Make, v.Model) }

func VehicleTitle(year int, make, model string) string {
	return fmt.Sprintf("%d %s %s", year, make, model)
}

type Photo struct {
	ID             string
	OrganizationID string
	VehicleID      string
	StorageKey     string
	ContentType    string
	Caption        *string
	Width          *int
	Height         *int
	CreatedAt      time.Time
}

func (p *Photo) Owner() string { return p.OrganizationID }

type Note struct {
	ID             string
	OrganizationID string
	VehicleID      string
	AuthorID       *string
	Body           string
	Scope          NoteScope
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (n *Note) Owner() string { return n.OrganizationID }

type CostItem struct {
	ID             string
	OrganizationID string
	VehicleID      string
	Category       string
	Description    *string
	Amount         Money
	CreatedAt      time.Time
}

func (c *CostItem) Owner() string { return c.OrganizationID }

type Payment struct {
	ID             string
	OrganizationID string
	VehicleID      string
	Amount         Money
	ReceivedAt     time.Time
	Reference      *string
	CreatedAt      time.Time
}

func (p *Payment) Owner() string { return p.OrganizationID }

// TrackingLink is a public link to one vehicle. A link that has been
// revoked or replaced keeps its row (EndedAt set) as history.
type TrackingLink struct {
	ID                   string
	OrganizationID       string
	VehicleID            string
	Slug                 string
	ShowPhoto            bool
	ShowEstimatedArrival bool
	ShowProgress         bool
	ShowCustomerNotes    bool
	// PhotoIDs are the picked gallery photos, in the order picked.
	PhotoIDs    []string
	ExpiresAt   *time.Time
	CreatedByID *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	EndedAt     *time.Time
	// Opens by real clients (see the opens package).
	OpenCount     int
	FirstOpenedAt *time.Time
	LastOpenedAt  *time.Time
	// VehicleDeletedAt is set once the link's vehicle is deleted.
	VehicleDeletedAt *time.Time
}

func (l *TrackingLink) Owner() string { return l.OrganizationID }

// Field is one field of a partial update: when Set is false the stored
// value stays; otherwise it becomes Value (nil clears a nullable field).
type Field[T any] struct {
	Set   bool
	Value T
}

// Set returns a Field that changes the value to v.
func Set[T any](v T) Field[T] { return Field[T]{Set: true, Value: v} }

// Invite asks someone to join an organization with a role. Token is set
// only on the invite just made: the database keeps its hash alone.
type Invite struct {
	ID             string
	OrganizationID string
	Email          string
	Role           Role
	InvitedByID    *string
	ExpiresAt      time.Time
	CreatedAt      time.Time
	Token          string
}

func (i *Invite) Owner() string { return i.OrganizationID }
