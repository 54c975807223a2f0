package db

import (
	"strings"
	"testing"
)

func TestRedactHidesThePasswordWhereverItIsWritten(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:s3cret-pw@db.example.com:5432/importops?sslmode=require",
		"postgres://app@db.example.com/importops?password=s3cret-pw&sslmode=require",
		"host=db.example.com user=app password=s3cret-pw dbname=importops",
		"host=db.example.com password='s3cret-pw with spaces' dbname=importops",
	} {
		got := Redact(dsn)
		if strings.Contains(got, "s3cret-pw") {
			t.Errorf("Redact(%q) = %q: the password shows", dsn, got)
		}
		if !strings.Contains(got, "db.example.com") {
			t.Errorf("Redact(%q) = %q: the host should stay for the reader", dsn, got)
		}
	}
}
