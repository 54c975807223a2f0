package schema

import "testing"

// TestSchemaMatchesTeamContract checks the team addition (invites, roles,
// sessions) against shared/spec/team.graphql.
func TestSchemaMatchesTeamContract(t *testing.T) { testContractAddition(t, "team.graphql") }
