package config

import (
	"strings"
	"testing"
	"time"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestTrustedProxies(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{"TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::ffff:198.51.100.1"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if want := "10.0.0.0/8 192.0.2.7/32 2001:db8::/32 198.51.100.1/32"; strings.Join(got, " ") != want {
		t.Errorf("TrustedProxies = %v, want %s", got, want)
	}
	if _, err := FromEnv(envOf(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"})); err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") {
		t.Errorf("a host name in TRUSTED_PROXIES: %v, want an error naming it", err)
	}
}

func TestTimeoutDefaults(t *testing.T) {
	dev, err := FromEnv(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if dev.DBStatementTimeout != 5*time.Second || dev.DBLockTimeout != 3*time.Second ||
		dev.DBIdleInTxSessionTimeout != 10*time.Second || dev.DBConnectTimeout != 5*time.Second {
		t.Errorf("database timeouts %+v", dev)
	}
	if dev.ShutdownDrainDelay != 0 {
		t.Errorf("development drain delay %v, want 0", dev.ShutdownDrainDelay)
	}
	prod, err := FromEnv(envOf(map[string]string{"APP_ENV": "production"}))
	if err != nil || prod.ShutdownDrainDelay != 5*time.Second {
		t.Errorf("production drain delay %v (%v), want 5s", prod.ShutdownDrainDelay, err)
	}
	if _, err := FromEnv(envOf(map[string]string{"DB_STATEMENT_TIMEOUT": "soon"})); err == nil || !strings.Contains(err.Error(), "DB_STATEMENT_TIMEOUT") {
		t.Errorf("a bad DB_STATEMENT_TIMEOUT: %v", err)
	}
}
