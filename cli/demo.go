package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"importops/auth"
	"importops/config"
	"importops/db"
	"importops/domain"
)

// The demo organization, found again on later runs by its owner's email.
const (
	demoOrgName  = "Harbour Imports Demo"
	demoCountry  = "NZ"
	demoEmail    = "demo@importops.test"
	demoPassword = "harbour-demo-pass"
	demoVIN      = "JTMHV05J704DEMO01"
	demoStock    = "HID-DEMO-0001"
)

// demo makes sure the demo organization and its vehicle exist, prints how
// to use them, and then serves exactly as serve does. The vehicle, notes
// and tracking link are made through the real GraphQL API, in process.
func demo(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	defer a.sweepMedia(ctx)()

	passwords := auth.NewPasswords(cfg.BcryptCost)
	org, user, err := demoOwner(ctx, a.store, passwords)
	if err != nil {
		return err
	}
	token, tokenHash := auth.NewToken()
	if err := a.store.CreateToken(ctx, user.ID, tokenHash); err != nil {
		return fmt.Errorf("demo: create token: %w", err)
	}
	api := &gqlClient{handler: a.handler, token: token}
	v, err := demoVehicle(ctx, api, time.Now())
	if err != nil {
		return err
	}
	staffEmail, err := demoStaff(ctx, api, a.store, passwords)
	if err != nil {
		return err
	}
	return a.listenAndServe(ctx, func(addr net.Addr) {
		printDemo(stdout, demoSummary{
			Org: org, Email: user.Email, Token: token, Vehicle: v,
			LocalURL: localURL(addr), Playground: !cfg.Production(), StaffEmail: staffEmail,
		})
	})
}

// demoOwner returns the demo organization and owner, creating them on the
// first run.
func demoOwner(ctx context.Context, store *db.Store, passwords *auth.Passwords) (*domain.Organization, *domain.User, error) {
	user, hash, err := store.UserByEmail(ctx, demoEmail)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	if user != nil {
		if !passwords.Check(hash, demoPassword) {
			return nil, nil, fmt.Errorf("demo: the account %s exists but its password is no longer the demo password; use another database", demoEmail)
		}
		org, err := store.Organization(ctx, user.OrganizationID)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: load organization: %w", err)
		}
		return org, user, nil
	}
	hash, err = passwords.Hash(demoPassword)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: hash password: %w", err)
	}
	org, user, err := store.CreateOrganization(ctx, db.NewOrganization{
		Name: demoOrgName, Country: demoCountry,
		OwnerEmail: demoEmail, OwnerName: "Demo Owner", OwnerPasswordHash: hash,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: create organization: %w", err)
	}
	return org, user, nil
}

// demoVehicleInfo is what the demo prints about its vehicle.
type demoVehicleInfo struct {
	ID, Title, TrackingURL, Slug string
}

type linkFields struct {
	URL  string `json:"url"`
	Slug string `json:"slug"`
}

const (
	qDemoVehicles = `query DemoVehicles($search: String) {
  vehicles(first: 50, search: $search) { edges { node { id title vin trackingLink { url slug } } } }
}`
	qCreateCustomer = `mutation DemoCustomer($input: CustomerInput!) { createCustomer(input: $input) { id } }`
	qCreateVehicle  = `mutation DemoVehicle($input: CreateVehicleInput!) { createVehicle(input: $input) { id title } }`
	qAddNote        = `mutation DemoNote($vehicleId: ID!, $body: String!, $scope: NoteScope!) {
  addNote(vehicleId: $vehicleId, body: $body, scope: $scope) { id }
}`
	qCreateLink = `mutation DemoLink($vehicleId: ID!) {
  createTrackingLink(vehicleId: $vehicleId, options: {showPhoto: true, showEstimatedArrival: true, showProgress: true, showCustomerNotes: true}) { url slug }
}`
	qVehicleLink = `query DemoVehicleLink($id: ID!) { vehicle(id: $id) { trackingLink { url slug } } }`
)

// demoVehicle finds the demo vehicle (by its VIN) or creates it with a
// customer and two notes, then makes sure it has a tracking link.
func demoVehicle(ctx context.Context, api *gqlClient, now time.Time) (demoVehicleInfo, error) {
	var found struct {
		Vehicles struct {
			Edges []struct {
				Node struct {
					ID           string      `json:"id"`
					Title        string      `json:"title"`
					VIN          *string     `json:"vin"`
					TrackingLink *linkFields `json:"trackingLink"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"vehicles"`
	}
	if err := api.do(ctx, qDemoVehicles, map[string]any{"search": demoVIN}, &found); err != nil {
		return demoVehicleInfo{}, err
	}
	var v demoVehicleInfo
	var link *linkFields
	for _, e := range found.Vehicles.Edges {
		if e.Node.VIN != nil && strings.EqualFold(*e.Node.VIN, demoVIN) {
			v.ID, v.Title, link = e.Node.ID, e.Node.Title, e.Node.TrackingLink
			break
		}
	}
	if v.ID == "" {
		created, err := createDemoVehicle(ctx, api, now)
		if err != nil {
			return demoVehicleInfo{}, err
		}
		v = created
	}
	if link == nil {
		var out struct {
			CreateTrackingLink linkFields `json:"createTrackingLink"`
		}
		err := api.do(ctx, qCreateLink, map[string]any{"vehicleId": v.ID}, &out)
		switch {
		case err == nil:
			link = &out.CreateTrackingLink
		case domain.IsCode(err, domain.Conflict): // made meanwhile: reuse it
			var again struct {
				Vehicle struct {
					TrackingLink *linkFields `json:"trackingLink"`
				} `json:"vehicle"`
			}
			if err := api.do(ctx, qVehicleLink, map[string]any{"id": v.ID}, &again); err != nil {
				return demoVehicleInfo{}, err
			}
			if again.Vehicle.TrackingLink == nil {
				return demoVehicleInfo{}, fmt.Errorf("demo: vehicle %s has no tracking link", v.ID)
			}
			link = again.Vehicle.TrackingLink
		default:
			return demoVehicleInfo{}, err
		}
	}
	v.TrackingURL, v.Slug = link.URL, link.Slug
	return v, nil
}

func createDemoVehicle(ctx context.Context, api *gqlClient, now time.Time) (demoVehicleInfo, error) {
	var customer struct {
		CreateCustomer struct {
			ID string `json:"id"`
		} `json:"createCustomer"`
	}
	err := api.do(ctx, qCreateCustomer, map[string]any{"input": map[string]any{
		"name": "Aroha Ngata", "email": "aroha.ngata@example.com", "phone": "+64 21 555 0142",
	}}, &customer)
	if err != nil {
		return demoVehicleInfo{}, err
	}
	var vehicle struct {
		CreateVehicle struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"createVehicle"`
	}
	err = api.do(ctx, qCreateVehicle, map[string]any{"input": map[string]any{
		"year": 2019, "make": "Toyota", "model": "Land Cruiser",
		"vin": demoVIN, "stockNumber": demoStock,
		"customerId":       customer.CreateCustomer.ID,
		"stage":            string(domain.StageInTransit),
		"estimatedArrival": domain.DateOf(now.AddDate(0, 0, 21)).String(),
		"agreedSalePrice":  map[string]any{"amount": "68500.00", "currency": "NZD"},
	}}, &vehicle)
	if err != nil {
		return demoVehicleInfo{}, err
	}
	id := vehicle.CreateVehicle.ID
	for _, n := range []struct {
		scope domain.NoteScope
		body  string
	}{
		{domain.ScopeCustomer, "Your Land Cruiser is on the water and due at the Port of Auckland in about three weeks. We'll be in touch as soon as it lands."},
		{domain.ScopeInternal, "Deposit received. Book compliance before arrival; the buyer wants a tow bar fitted."},
	} {
		var out json.RawMessage
		if err := api.do(ctx, qAddNote, map[string]any{"vehicleId": id, "body": n.body, "scope": string(n.scope)}, &out); err != nil {
			return demoVehicleInfo{}, err
		}
	}
	return demoVehicleInfo{ID: id, Title: vehicle.CreateVehicle.Title}, nil
}

// gqlClient runs GraphQL operations against the server's own handler, in
// process, as a signed-in staff member.
type gqlClient struct {
	handler http.Handler
	token   string
}

// gqlError is a GraphQL error answered by the handler.
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

func (c *gqlClient) do(ctx context.Context, query string, vars map[string]any, out any) error {
	op := operationName(query)
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("demo: %s: %w", op, err)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	rec := httptest.NewRecorder()
	c.handler.ServeHTTP(rec, req)

	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		return fmt.Errorf("demo: %s: status %d, response is not JSON: %.200q", op, rec.Code, rec.Body.String())
	}
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		code, _ := e.Extensions["code"].(string)
		// Keep the code, so callers can tell a CONFLICT from a failure.
		return fmt.Errorf("demo: %s: %w", op, &domain.Error{Code: domain.Code(code), Message: e.Message})
	}
	if err := json.Unmarshal(res.Data, out); err != nil {
		return fmt.Errorf("demo: %s: decode %s: %w", op, res.Data, err)
	}
	return nil
}

// operationName is the name after "query"/"mutation", for messages.
func operationName(query string) string {
	f := strings.FieldsFunc(query, func(r rune) bool { return r == ' ' || r == '(' || r == '{' || r == '\n' })
	if len(f) > 1 {
		return f[1]
	}
	return "operation"
}

// localURL is where this machine reaches the listener.
func localURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

type demoSummary struct {
	Org          *domain.Organization
	Email, Token string
	Vehicle      demoVehicleInfo
	LocalURL     string
	Playground   bool
	StaffEmail   string // the STAFF member's sign-in (demoStaffPassword)
}

func printDemo(w io.Writer, s demoSummary) {
	publicQuery, _ := json.Marshal(map[string]any{
		"query":     "query($slug: String!) { publicTracking(slug: $slug) { organization { name locale } vehicle { title } progress { current } estimatedArrival notes { body } } }",
		"variables": map[string]string{"slug": s.Vehicle.Slug},
	})
	playground := ""
	if s.Playground {
		playground = "   (GraphQL playground: " + s.LocalURL + "/)"
	}
	if !s.Org.SubscriptionStatus.IsOpen() {
		fmt.Fprintf(w, "\nNote: the organization's subscription is %s, so its tracking links show \"link not available\".\nReopen it with: importops admin set-subscription --org %s --status ACTIVE\n",
			s.Org.SubscriptionStatus, s.Org.ID)
	}
	viewerQuery := `{"query":"{ viewer { user { email role } organization { name subscriptionStatus } } }"}`
	fmt.Fprintf(w, `
ImportOps demo is running.

  Organization:    %s (%s), id %s
  Owner sign-in:   %s / %s
  Staff sign-in:   %s / %s
  Staff token:     %s
  Vehicle:         %s, id %s
  Tracking URL:    %s

GraphQL endpoint:  %s/graphql%s

The customer's view of the tracking link (no sign-in):
  curl -s %s/graphql -H 'Content-Type: application/json' \
    -d %s

Staff requests carry the token:
  curl -s %s/graphql -H 'Content-Type: application/json' \
    -H 'Authorization: Bearer %s' \
    -d '%s'

Press Ctrl+C to stop.
`,
		s.Org.Name, s.Org.Country, s.Org.ID,
		s.Email, demoPassword,
		s.StaffEmail, demoStaffPassword,
		s.Token,
		s.Vehicle.Title, s.Vehicle.ID,
		s.Vehicle.TrackingURL,
		s.LocalURL, playground,
		s.LocalURL, shellQuote(string(publicQuery)),
		s.LocalURL, s.Token, viewerQuery,
	)
}

// shellQuote wraps s in single quotes for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
