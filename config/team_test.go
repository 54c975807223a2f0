package config

import (
	"strings"
	"testing"
)

func TestStaffAppURL(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://localhost:8080"},
		{map[string]string{"PUBLIC_BASE_URL": "https://track.example.com/"}, "https://track.example.com"},
		{map[string]string{"PUBLIC_BASE_URL": "https://track.example.com", "STAFF_APP_URL": "https://app.example.com/"}, "https://app.example.com"},
	} {
		cfg, err := FromEnv(envOf(c.env))
		if err != nil || cfg.StaffAppURL != c.want {
			t.Errorf("%v: StaffAppURL %q (%v), want %q", c.env, cfg.StaffAppURL, err, c.want)
		}
	}
	if _, err := FromEnv(envOf(map[string]string{"STAFF_APP_URL": "app.example.com"})); err == nil || !strings.Contains(err.Error(), "STAFF_APP_URL") {
		t.Errorf("STAFF_APP_URL without a scheme: %v, want an error naming it", err)
	}
}

func TestBcryptCost(t *testing.T) {
	if cfg, err := FromEnv(envOf(nil)); err != nil || cfg.BcryptCost != 10 {
		t.Errorf("default BcryptCost %d (%v), want 10", cfg.BcryptCost, err)
	}
	for _, v := range []string{"3", "32", "ten"} {
		if _, err := FromEnv(envOf(map[string]string{"BCRYPT_COST": v})); err == nil || !strings.Contains(err.Error(), "BCRYPT_COST") {
			t.Errorf("BCRYPT_COST=%s: %v, want an error naming it", v, err)
		}
	}
}
