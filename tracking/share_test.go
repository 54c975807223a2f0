package tracking

import (
	"strings"
	"testing"

	"importops/domain"
)

// The share message is in the organization's language, names the vehicle
// and carries the URL whole, in every supported language.
func TestShareMessageInEveryLanguage(t *testing.T) {
	const url = "https://track.example/t/AbCdEfGhIjKlMnOpQrStUvWxYz012345"
	english := ShareMessage("en", "Harbour Imports", "2019 Toyota Land Cruiser", url)
	seen := map[string]string{}
	for _, lang := range domain.Languages {
		msg := ShareMessage(lang, "Harbour Imports", "2019 Toyota Land Cruiser", url)
		for _, want := range []string{url, "2019 Toyota Land Cruiser", "Harbour Imports"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: share message %q lacks %q", lang, msg, want)
			}
		}
		if lang != "en" && msg == english {
			t.Errorf("%s: share message is the English one: %q", lang, msg)
		}
		if other, dup := seen[msg]; dup {
			t.Errorf("%s and %s share one message: %q", lang, other, msg)
		}
		seen[msg] = lang
	}
	if got := ShareMessage("xx", "Harbour Imports", "2019 Toyota Land Cruiser", url); got != english {
		t.Errorf("an unsupported language got %q, want English %q", got, english)
	}
}
