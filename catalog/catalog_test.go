package catalog

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"importops/domain"
)

// Every catalog has every message English has, and nothing English lacks.
func TestEveryCatalogHasEveryEnglishMessage(t *testing.T) {
	en, err := MessageIDs("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range domain.Stages {
		if !slices.Contains(en, StageID(s)) {
			t.Errorf("en: no label for stage %s", s)
		}
	}
	for _, lang := range domain.Languages {
		ids, err := MessageIDs(lang)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		for _, id := range en {
			if !slices.Contains(ids, id) {
				t.Errorf("%s: message %s missing", lang, id)
			}
		}
		for _, id := range ids {
			if !slices.Contains(en, id) {
				t.Errorf("%s: message %s is not in English", lang, id)
			}
		}
	}
}

// Every message renders in every language, in every plural form CLDR
// gives a count there, with its fields filled: a missing form (Arabic's
// "few" for 3..10) or a mistyped field fails here, not on a customer's
// screen.
func TestEveryMessageRendersInEveryPluralForm(t *testing.T) {
	en, _ := MessageIDs("en")
	raw, _ := files.ReadFile("messages/en.json")
	var msgs map[string]any
	if err := json.Unmarshal(raw, &msgs); err != nil {
		t.Fatal(err)
	}
	plural := map[string]bool{}
	for id, m := range msgs {
		_, plural[id] = m.(map[string]any)
	}
	if !plural["Step"] {
		t.Fatal("Step should be a plural message")
	}
	data := map[string]string{"Org": "ORG", "Title": "TITLE", "Step": "STEP", "Total": "TOTAL", "URL": "URL"}
	for _, lang := range domain.Languages {
		loc := i18n.NewLocalizer(bundle, lang)
		for _, id := range en {
			counts := []any{nil}
			if plural[id] {
				counts = []any{0, 1, 2, 3, 8, 11, 100, 102, 1000000}
			}
			for _, n := range counts {
				s, tag, err := loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateData: data})
				if err != nil {
					t.Errorf("%s %s (count %v): %v", lang, id, n, err)
					continue
				}
				if tag.String() != lang {
					t.Errorf("%s %s: answered in %s", lang, id, tag)
				}
				if strings.Contains(s, "<no value>") || strings.Contains(s, "{{") {
					t.Errorf("%s %s: unfilled field in %q", lang, id, s)
				}
			}
		}
	}
}

func TestStageLabels(t *testing.T) {
	if got := For("de").Stage(domain.StageInTransit); got != "Unterwegs" {
		t.Errorf("de IN_TRANSIT = %q, want Unterwegs", got)
	}
	if got := For("xx").Stage(domain.StageInTransit); got != "In transit" {
		t.Errorf("unsupported language IN_TRANSIT = %q, want English", got)
	}
	for _, lang := range domain.Languages[1:] {
		for _, s := range domain.Stages {
			if For(lang).Stage(s) == For("en").Stage(s) {
				t.Errorf("%s: %s label is the English one", lang, s)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":                        "en",
		"de-CH,de;q=0.9,en;q=0.8": "de",
		"ar-AE":                   "ar",
		"pt-BR,pt;q=0.9":          "pt",
		"zh-CN":                   "en",
		"!!!":                     "en",
	} {
		if got := Negotiate(accept); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", accept, got, want)
		}
	}
}
