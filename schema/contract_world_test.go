package schema

import "testing"

func TestContractWorld(t *testing.T) { testContractAddition(t, "customer-page-world.graphql") }
