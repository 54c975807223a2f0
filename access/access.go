// Package access is the one place that decides what each role may do
// (shared/spec/team.graphql's role table). Resolvers ask it; nothing else
// compares roles.
package access

import (
	"importops/auth"
	"importops/domain"
)

// Action is something a member may or may not do.
type Action string

const (
	// Records: vehicles, customers, photos, notes, costs, payments and
	// tracking links, read and written.
	Records Action = "records"
	// ReadTeam: the list of the organization's members.
	ReadTeam Action = "read team"
	// Organization: the organization's settings (name, country, logo).
	Organization Action = "organization"
	// Team: invites and the roles and removal of ADMIN and STAFF members.
	Team Action = "team"
	// Owners: inviting, promoting to, demoting or removing an OWNER.
	Owners Action = "owners"
)

// allowed is the role table.
var allowed = map[domain.Role]map[Action]bool{
	domain.RoleOwner: {Records: true, ReadTeam: true, Organization: true, Team: true, Owners: true},
	domain.RoleAdmin: {Records: true, ReadTeam: true, Organization: true, Team: true},
	domain.RoleStaff: {Records: true, ReadTeam: true},
}

// Can reports whether role may do a; an unknown role may do nothing.
func Can(role domain.Role, a Action) bool { return allowed[role][a] }

// errForbidden is the one refusal: it names no rule a caller could probe.
var errForbidden = domain.Errorf(domain.Forbidden, "your role does not allow this")

// Check returns FORBIDDEN unless v's role may do every one of actions.
func Check(v *auth.Viewer, actions ...Action) error {
	for _, a := range actions {
		if !Can(v.Role, a) {
			return errForbidden
		}
	}
	return nil
}

// Holding is the action needed to give a member role, or to change or
// remove a member who holds it: OWNER is the owners' business alone.
func Holding(role domain.Role) Action {
	if role == domain.RoleOwner {
		return Owners
	}
	return Team
}

// CheckRoleChange allows changing a member's role from one role to
// another: the team action, and the right to both roles.
func CheckRoleChange(v *auth.Viewer, from, to domain.Role) error {
	return Check(v, Team, Holding(from), Holding(to))
}
