package cli

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLogFormats: the server logs text lines in development and JSON in
// production, LOG_FORMAT overrides either, and the logs go to stderr only.
func TestLogFormats(t *testing.T) {
	t.Parallel()
	textListening := regexp.MustCompile(`(?m)^time=\d\d:\d\d:\d\d\.\d{3} level=INFO msg=(listening) addr=127\.0\.0\.1:\d+$`)
	for _, c := range []struct {
		name, appEnv, logFormat string
		json                    bool
	}{
		{"development", "development", "", false},
		{"production", "production", "", true},
		{"development with LOG_FORMAT=json", "development", "json", true},
		{"production with LOG_FORMAT=text", "production", "text", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t, map[string]string{"APP_ENV": c.appEnv, "LOG_FORMAT": c.logFormat, "SHUTDOWN_DRAIN_DELAY": "0s"})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr syncBuffer
			done := make(chan error, 1)
			go func() { done <- Run(ctx, []string{"serve"}, env, &stdout, &stderr) }()
			if c.json {
				waitFor(t, "a JSON listening line", &stderr, listeningRE, done)
			} else {
				waitFor(t, "a text listening line", &stderr, textListening, done)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) < 3 {
				t.Fatalf("only %d log lines:\n%s", len(lines), stderr.String())
			}
			for _, line := range lines {
				var v map[string]any
				isJSON := json.Unmarshal([]byte(line), &v) == nil
				if isJSON != c.json {
					t.Errorf("log line is JSON: %v, want %v: %s", isJSON, c.json, line)
				}
				if !c.json && !strings.HasPrefix(line, "time=") {
					t.Errorf("text line does not start with the time: %s", line)
				}
			}
			if stdout.String() != "" {
				t.Errorf("serve wrote to stdout: %q", stdout.String())
			}
		})
	}
}

func TestBadLogFormat(t *testing.T) {
	t.Parallel()
	r := runCLI(t, testEnv(t, map[string]string{"LOG_FORMAT": "xml"}), "serve")
	if r.code != ExitFailure || !strings.Contains(r.report, "LOG_FORMAT must be text or json") {
		t.Fatalf("LOG_FORMAT=xml: exit %d, %q", r.code, r.report)
	}
}
