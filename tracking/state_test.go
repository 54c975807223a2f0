package tracking

import (
	"slices"
	"testing"
	"time"

	"importops/db"
	"importops/domain"
)

// TestStateOverEveryCombination: LIVE exactly when nothing stops the
// link, and the longest-lasting cause otherwise; Available agrees.
func TestStateOverEveryCombination(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	statuses := []domain.SubscriptionStatus{
		domain.SubscriptionTrialing, domain.SubscriptionActive, domain.SubscriptionPastDue,
		domain.SubscriptionLocked, domain.SubscriptionCanceled,
	}
	for _, ended := range []*time.Time{nil, &past} {
		for _, deleted := range []*time.Time{nil, &past} {
			for _, expires := range []*time.Time{nil, &past, &now, &future} {
				for _, sub := range statuses {
					f := Facts{EndedAt: ended, VehicleDeletedAt: deleted, ExpiresAt: expires, Subscription: sub}
					var want domain.LinkState
					switch {
					case ended != nil || deleted != nil:
						want = domain.LinkEnded
					case sub != domain.SubscriptionActive && sub != domain.SubscriptionTrialing:
						want = domain.LinkSuspended
					case expires != nil && !now.Before(*expires):
						want = domain.LinkExpired
					default:
						want = domain.LinkLive
					}
					if got := State(f, now); got != want {
						t.Errorf("State(%+v) = %s, want %s", f, got, want)
					}
					l := &db.PublicLink{EndedAt: ended, VehicleDeletedAt: deleted, ExpiresAt: expires, SubscriptionStatus: string(sub)}
					if Available(l, now) != (want == domain.LinkLive) {
						t.Errorf("Available(%+v) = %v, want %v", f, Available(l, now), want == domain.LinkLive)
					}
				}
			}
		}
	}
	if Available(nil, now) {
		t.Error("no link is available")
	}
}

// TestStateFactsFollowState: the list's filter codes are what State says.
func TestStateFactsFollowState(t *testing.T) {
	cases := []struct {
		state domain.LinkState
		sub   domain.SubscriptionStatus
		want  []int
	}{
		{domain.LinkLive, domain.SubscriptionActive, []int{db.LinkFactsCode(false, false)}},
		{domain.LinkExpired, domain.SubscriptionActive, []int{db.LinkFactsCode(false, true)}},
		{domain.LinkEnded, domain.SubscriptionActive, []int{db.LinkFactsCode(true, false), db.LinkFactsCode(true, true)}},
		{domain.LinkSuspended, domain.SubscriptionActive, []int{}},
		{domain.LinkSuspended, domain.SubscriptionLocked, []int{db.LinkFactsCode(false, false), db.LinkFactsCode(false, true)}},
		{domain.LinkLive, domain.SubscriptionLocked, []int{}},
		{domain.LinkEnded, domain.SubscriptionLocked, []int{db.LinkFactsCode(true, false), db.LinkFactsCode(true, true)}},
	}
	for _, c := range cases {
		got := StateFacts(c.state, c.sub)
		slices.Sort(got)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("StateFacts(%s, %s) = %v, want %v", c.state, c.sub, got, c.want)
		}
	}
}
