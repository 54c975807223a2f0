// Package catalog holds every word a customer reads (the tracking page,
// the "link not available" page, the stage labels), one message file per
// supported language (messages/<lang>.json), with CLDR plural rules
// through go-i18n. English is the source: a test fails when another
// catalog lacks one of its messages.
package catalog

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"importops/domain"
)

//go:embed messages/*.json
var files embed.FS

var bundle = func() *i18n.Bundle {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, l := range domain.Languages {
		if _, err := b.LoadMessageFileFS(files, path.Join("messages", l+".json")); err != nil {
			panic(fmt.Sprintf("catalog %s: %v", l, err))
		}
	}
	return b
}()

// matcher picks a supported language for a browser's Accept-Language.
var matcher = func() language.Matcher {
	tags := make([]language.Tag, len(domain.Languages))
	for i, l := range domain.Languages {
		tags[i] = language.MustParse(l)
	}
	return language.NewMatcher(tags)
}()

// Text is one language's catalog.
type Text struct {
	lang string
	loc  *i18n.Localizer
	// plain holds the messages without fields as rendered (id -> string):
	// every page shows a dozen, and a Localize call costs a lookup and a
	// template execution each time. The catalog never changes at run time.
	plain *sync.Map
}

// texts are the languages' catalogs, made once: a Localizer parses its
// language tags when it is made, and every page asks for one.
var texts = func() map[string]Text {
	m := make(map[string]Text, len(domain.Languages))
	for _, l := range domain.Languages {
		m[l] = Text{lang: l, loc: i18n.NewLocalizer(bundle, l), plain: new(sync.Map)}
	}
	return m
}()

// For returns the catalog of a supported language; English for any other.
func For(lang string) Text {
	if t, ok := texts[lang]; ok {
		return t
	}
	return texts[domain.Languages[0]]
}

// Negotiate picks the supported language a browser prefers, for pages that
// belong to no organization (an unknown link); English when none matches.
func Negotiate(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return domain.Languages[0]
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return domain.Languages[0]
	}
	return domain.Languages[i]
}

// Lang is the catalog's language tag.
func (t Text) Lang() string { return t.lang }

// Dir is the text direction of the language, for <html dir>.
func (t Text) Dir() string {
	if domain.RightToLeft(t.lang) {
		return "rtl"
	}
	return "ltr"
}

// Get returns message id with its {{.Name}} fields filled from data (name,
// value pairs). A message missing from the catalog falls back to English,
// which the catalog test rules out.
func (t Text) Get(id string, data ...string) string {
	if len(data) == 0 && t.plain != nil {
		if s, ok := t.plain.Load(id); ok {
			return s.(string)
		}
		s := t.localize(&i18n.LocalizeConfig{MessageID: id})
		t.plain.Store(id, s) // ids are the code's constants: a bounded set
		return s
	}
	return t.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: pairs(data)})
}

// Plural returns message id in the CLDR plural form of count (Arabic has
// six, Japanese one).
func (t Text) Plural(id string, count int, data ...string) string {
	return t.localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: pairs(data)})
}

// Stage is the customer-facing name of a stage.
func (t Text) Stage(s domain.Stage) string { return t.Get(StageID(s)) }

// StageID is the message id of a stage's label.
func StageID(s domain.Stage) string { return "Stage_" + string(s) }

func (t Text) localize(c *i18n.LocalizeConfig) string {
	s, err := t.loc.Localize(c)
	if err != nil && s == "" {
		// Only a catalog bug gets here (the tests cover every message in
		// every language): show the id rather than nothing.
		return c.MessageID
	}
	return s
}

func pairs(kv []string) map[string]string {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// MessageIDs lists the ids a language's file defines, for the tests.
func MessageIDs(lang string) ([]string, error) {
	buf, err := files.ReadFile(path.Join("messages", lang+".json"))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf, &m); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	return ids, nil
}
