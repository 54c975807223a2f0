package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"importops/config"
)

// Storage keeps media files by key. Keys are slash-separated paths of
// letters, digits, '-', '_' and '.', such as "photos/<org>/<id>-large".
// A stored file is never changed: a new upload gets new keys.
type Storage interface {
	Put(ctx context.Context, key string, data []byte) error
	// Open returns ErrNotExist for an unknown key.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete of an unknown key is not an error.
	Delete(ctx context.Context, key string) error
	// List hands every stored file to fn, a page at a time (see Sweep).
	List(ctx context.Context, fn func([]Object) error) error
}

// ErrNotExist is returned by Open for an unknown key.
var ErrNotExist = errors.New("media: no such file")

// Open returns the storage the configuration names: MEDIA_STORE
// s3://bucket/prefix is an S3-compatible bucket (see OpenS3); unset, it is
// the directory MEDIA_DIR, created if need be.
func Open(ctx context.Context, cfg config.Config) (Storage, error) {
	if cfg.MediaStore == "" {
		if err := os.MkdirAll(cfg.MediaDir, 0o750); err != nil {
			return nil, fmt.Errorf("create MEDIA_DIR: %w", err)
		}
		return Dir{Root: cfg.MediaDir}, nil
	}
	bucket, prefix, err := ParseStore(cfg.MediaStore)
	if err != nil {
		return nil, err
	}
	return OpenS3(ctx, S3Config{Bucket: bucket, Prefix: prefix, Endpoint: cfg.MediaS3Endpoint})
}

// ParseStore splits MEDIA_STORE, s3://bucket/optional/prefix.
func ParseStore(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("MEDIA_STORE must be s3://bucket or s3://bucket/prefix, not %q", s)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" && !validKey(prefix) {
		return "", "", fmt.Errorf("MEDIA_STORE prefix %q may hold only letters, digits and -_./", prefix)
	}
	return u.Host, prefix, nil
}

// PutAll stores every variant of p under base, removing what it stored
// when one fails.
func PutAll(ctx context.Context, s Storage, base string, p Processed) error {
	var done []string
	for _, v := range p.Variants() {
		key := VariantKey(base, v.Name)
		if err := s.Put(ctx, key, v.Data); err != nil {
			DeleteAll(context.WithoutCancel(ctx), s, done...)
			return err
		}
		done = append(done, key)
	}
	return nil
}

// DeleteAll removes keys, best effort: a stray file is harmless, an
// error here must not undo what the caller already committed.
func DeleteAll(ctx context.Context, s Storage, keys ...string) {
	for _, k := range keys {
		_ = s.Delete(ctx, k)
	}
}

// validKey keeps keys to plain relative paths on every backend.
func validKey(key string) bool {
	if key == "" || len(key) > 512 || key[0] == '/' || key[len(key)-1] == '/' {
		return false
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	for _, c := range key {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '/':
		default:
			return false
		}
	}
	return true
}

func badKey(key string) error { return fmt.Errorf("media: bad key %q", key) }
