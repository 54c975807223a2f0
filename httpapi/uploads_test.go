package httpapi

import "testing"

func TestUploadSlots(t *testing.T) {
	s := newUploadSlots(4, 3, 2)
	var releases []func()
	take := func(org, user string) bool {
		release, ok := s.take(org, user)
		if ok {
			releases = append(releases, release)
		}
		return ok
	}
	if !take("a", "a1") || !take("a", "a1") {
		t.Fatal("a user's first two uploads refused")
	}
	if take("a", "a1") {
		t.Error("a user's third upload admitted (per-user bound 2)")
	}
	if !take("a", "a2") {
		t.Fatal("another user of the organization refused")
	}
	if take("a", "a3") {
		t.Error("an organization's fourth upload admitted (per-organization bound 3)")
	}
	if !take("b", "b1") {
		t.Fatal("another organization refused")
	}
	if take("c", "c1") {
		t.Error("a fifth upload admitted (global bound 4)")
	}
	releases[0]()
	releases[0]() // twice is once
	if !take("c", "c1") {
		t.Error("a released slot was not given back")
	}
	if take("d", "d1") {
		t.Error("releasing twice gave back two slots")
	}
}
