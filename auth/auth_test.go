package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// An unknown email must cost what a wrong password costs, so that login
// times do not tell which accounts exist: one bcrypt comparison, against a
// hash at the accounts' own cost. Asserted on the work done rather than on
// timings, which a loaded machine makes meaningless.
func TestUnknownAccountSpendsOneComparisonAtTheAccountsCost(t *testing.T) {
	const cost = bcrypt.MinCost + 2
	p := NewPasswords(cost)
	dummy := p.dummy
	comparisons := 0
	p.dummy = func() []byte { comparisons++; return dummy() }

	if p.Check("", "password1") {
		t.Fatal("an unknown account (empty hash) matched a password")
	}
	if comparisons != 1 {
		t.Fatalf("an unknown account spent %d dummy comparisons, want 1", comparisons)
	}
	if got, err := bcrypt.Cost(dummy()); err != nil || got != cost {
		t.Fatalf("the dummy hash has cost %d (%v), want the accounts' cost %d", got, err, cost)
	}
	account, err := p.Hash("password1")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := bcrypt.Cost([]byte(account)); got != cost {
		t.Fatalf("an account's hash has cost %d, want %d", got, cost)
	}
	if p.Check(account, "password2") || !p.Check(account, "password1") {
		t.Fatal("Check does not tell the right password from a wrong one")
	}
}
