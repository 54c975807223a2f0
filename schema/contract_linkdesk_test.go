package schema

import "testing"

// TestSchemaMatchesLinkDeskContract: the link desk's addition
// (shared/spec/link-desk.graphql), loaded with the main contract.
func TestSchemaMatchesLinkDeskContract(t *testing.T) {
	testContractAddition(t, "link-desk.graphql")
}
