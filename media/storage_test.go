package media_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"importops/config"
	"importops/media"
	"importops/media/mediatest"
)

// Every Storage behaves alike; the same tests run on each.
func TestStorageConformance(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(*testing.T) media.Storage{
		"dir": func(t *testing.T) media.Storage { return media.Dir{Root: t.TempDir()} },
		"s3":  func(t *testing.T) media.Storage { return mediatest.NewS3(t) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testStorage(t, open(t))
		})
	}
}

func testStorage(t *testing.T, s media.Storage) {
	ctx := context.Background()
	read := func(key string) ([]byte, error) {
		t.Helper()
		f, err := s.Open(ctx, key)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(f)
	}

	t.Run("put open delete", func(t *testing.T) {
		key := "photos/org-1/photo-1-large"
		if _, err := read(key); !errors.Is(err, media.ErrNotExist) {
			t.Fatalf("open before put: %v, want ErrNotExist", err)
		}
		if err := s.Put(ctx, key, []byte("first")); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, key, []byte("second")); err != nil {
			t.Fatal(err)
		}
		if got, err := read(key); err != nil || string(got) != "second" {
			t.Fatalf("read = %q, %v", got, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := read(key); !errors.Is(err, media.ErrNotExist) {
			t.Fatalf("open after delete: %v, want ErrNotExist", err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("delete twice: %v", err)
		}
	})

	t.Run("bad keys", func(t *testing.T) {
		for _, key := range []string{"", "/etc/passwd", "../escape", "a/../../b", "a//b", "a/", "a b", "a\\b", "é"} {
			if err := s.Put(ctx, key, []byte("x")); err == nil {
				t.Errorf("Put(%q) accepted", key)
			}
			if _, err := s.Open(ctx, key); err == nil || errors.Is(err, media.ErrNotExist) {
				t.Errorf("Open(%q) = %v, want a bad-key error", key, err)
			}
			if err := s.Delete(ctx, key); err == nil {
				t.Errorf("Delete(%q) accepted", key)
			}
		}
	})

	t.Run("processed photo round trip", func(t *testing.T) {
		in := mediatest.JPEG(t, 400, 300, mediatest.Meta{Orientation: 6, GPS: true, Comment: "Secret comment"})
		p, err := media.Process(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		base := "photos/org-1/photo-2"
		if err := media.PutAll(ctx, s, base, p); err != nil {
			t.Fatal(err)
		}
		for _, v := range p.Variants() {
			got, err := read(media.VariantKey(base, v.Name))
			if err != nil || !bytes.Equal(got, v.Data) {
				t.Fatalf("%s variant read back %d bytes, %v", v.Name, len(got), err)
			}
			if found, err := mediatest.Metadata(got); err != nil || len(found) > 0 ||
				bytes.Contains(got, mediatest.GPSBytes()) || bytes.Contains(got, []byte("Secret comment")) {
				t.Fatalf("%s variant stored with metadata %v (%v)", v.Name, found, err)
			}
		}
		media.DeleteAll(ctx, s, media.VariantKeys(base)...)
		for _, key := range media.VariantKeys(base) {
			if _, err := read(key); !errors.Is(err, media.ErrNotExist) {
				t.Fatalf("%s after DeleteAll: %v", key, err)
			}
		}
	})

	t.Run("sweep removes old files no row refers to", func(t *testing.T) {
		for _, key := range []string{"photos/org/kept-full", "photos/org/orphan-full", "logos/orphan.png", "backups/not-ours"} {
			if err := s.Put(ctx, key, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		var asked []string
		known := func(_ context.Context, keys []string) (map[string]bool, error) {
			asked = append(asked, keys...)
			return map[string]bool{"photos/org/kept-full": true}, nil
		}
		// Files younger than the cutoff are spared, row or not.
		if n, err := media.Sweep(ctx, s, known, time.Now().Add(-time.Hour)); err != nil || n != 0 || len(asked) != 0 {
			t.Fatalf("sweep of young files: removed %d, asked about %v, %v", n, asked, err)
		}
		n, err := media.Sweep(ctx, s, known, time.Now().Add(time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("sweep: removed %d, %v; want the 2 orphans", n, err)
		}
		for _, key := range []string{"photos/org/kept-full", "backups/not-ours"} {
			if got, err := read(key); err != nil || string(got) != "x" {
				t.Errorf("%s was swept: %v", key, err)
			}
		}
		for _, key := range []string{"photos/org/orphan-full", "logos/orphan.png"} {
			if _, err := read(key); !errors.Is(err, media.ErrNotExist) {
				t.Errorf("%s after the sweep: %v, want ErrNotExist", key, err)
			}
		}
		media.DeleteAll(ctx, s, "photos/org/kept-full", "backups/not-ours")
	})

	t.Run("concurrent writers", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				key := fmt.Sprintf("logos/logo-%d.png", i%2) // two keys, four writers each
				if err := s.Put(ctx, key, bytes.Repeat([]byte{byte(i % 2)}, 64<<10)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for i := range 2 {
			got, err := read(fmt.Sprintf("logos/logo-%d.png", i))
			if err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, 64<<10)) {
				t.Fatalf("logo-%d: %d bytes, %v", i, len(got), err)
			}
		}
	})
}

func TestOpenDefaultsToMediaDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "media")
	s, err := media.Open(context.Background(), config.Config{MediaDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := s.(media.Dir); !ok || d.Root != dir {
		t.Fatalf("Open = %#v, want Dir at %s", s, dir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("MEDIA_DIR not created: %v", err)
	}
}

// Not parallel: it sets the environment the way an operator would.
func TestOpenS3FromTheEnvironment(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("photos"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	t.Setenv("MEDIA_STORE", "s3://photos/importops/test")
	t.Setenv("MEDIA_S3_ENDPOINT", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	t.Setenv("AWS_REGION", "")
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := media.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "logos/x.png", []byte("logo")); err != nil {
		t.Fatal(err)
	}
	obj, err := backend.GetObject("photos", "importops/test/logos/x.png", nil)
	if err != nil {
		t.Fatalf("object not under the prefix: %v", err)
	}
	defer obj.Contents.Close()
	if b, _ := io.ReadAll(obj.Contents); string(b) != "logo" {
		t.Fatalf("stored %q", b)
	}

	// A bucket that is not there stops the server at start.
	t.Setenv("MEDIA_STORE", "s3://no-such-bucket")
	if cfg, err = config.FromEnv(os.Getenv); err != nil {
		t.Fatal(err)
	}
	if _, err := media.Open(context.Background(), cfg); err == nil {
		t.Fatal("Open accepted a missing bucket")
	}
}

func TestParseStore(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"s3://photos":                {"photos", ""},
		"s3://photos/":               {"photos", ""},
		"s3://photos/importops/prod": {"photos", "importops/prod"},
	} {
		b, p, err := media.ParseStore(in)
		if err != nil || b != want[0] || p != want[1] {
			t.Errorf("ParseStore(%q) = %q, %q, %v; want %q, %q", in, b, p, err, want[0], want[1])
		}
	}
	for _, in := range []string{"photos", "s3:/photos", "https://photos/x", "s3://", "s3://key:secret@photos", "s3://photos?region=x", "s3://photos/a//b", "s3://photos/../x"} {
		if _, _, err := media.ParseStore(in); err == nil {
			t.Errorf("ParseStore(%q) accepted", in)
		}
	}
}
