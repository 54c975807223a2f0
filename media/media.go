// Package media stores uploaded images and signs the short-lived URLs that
// let an <img> tag fetch them without a bearer header.
package media

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers the decoders Inspect accepts
	_ "image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/image/webp"

	"importops/domain"
)

// Upload limits.
const (
	MaxUploadBytes = 20 << 20
	MaxPixels      = 40_000_000
)

// Image is what Inspect learned of an upload.
type Image struct {
	ContentType string
	Ext         string
	Width       int
	Height      int
}

var formats = map[string]Image{
	"jpeg": {ContentType: "image/jpeg", Ext: ".jpg"},
	"png":  {ContentType: "image/png", Ext: ".png"},
	"webp": {ContentType: "image/webp", Ext: ".webp"},
}

// ErrNotImage is what the client is told about anything but an accepted image.
var ErrNotImage = domain.Errorf(domain.BadInput, "file must be a JPEG, PNG or WebP image of at most 20 MB")

// Inspect reads the image header of data (never the file name or the
// declared content type) and refuses what is not an accepted image, or
// whose pixel count would be too large to decode.
func Inspect(data []byte) (Image, error) {
	if len(data) > MaxUploadBytes {
		return Image{}, ErrNotImage
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Image{}, ErrNotImage
	}
	img, ok := formats[format]
	if !ok {
		return Image{}, ErrNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return Image{}, domain.Errorf(domain.BadInput, "image must be at most %d megapixels", MaxPixels/1_000_000)
	}
	img.Width, img.Height = cfg.Width, cfg.Height
	return img, nil
}

// ReadUpload reads at most MaxUploadBytes of r.
func ReadUpload(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxUploadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if len(data) > MaxUploadBytes {
		return nil, ErrNotImage
	}
	return data, nil
}

// Storage keeps media files by key.
type Storage interface {
	Put(ctx context.Context, key string, data []byte) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// ErrNotExist is returned by Open for an unknown key.
var ErrNotExist = errors.New("media: no such file")

// Dir is Storage in a local directory (MEDIA_DIR).
type Dir struct{ Root string }

func (d Dir) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("media: bad key %q", key)
	}
	return filepath.Join(d.Root, filepath.FromSlash(key)), nil
}

func (d Dir) Put(_ context.Context, key string, data []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	// Write then rename, so a reader never sees half a file.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	return os.Rename(tmp, p)
}

func (d Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotExist
	}
	return f, err
}

func (d Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media: %w", err)
	}
	return nil
}

// Signer makes and checks expiring HMAC signatures for media paths.
type Signer struct {
	key []byte
	ttl time.Duration
}

// URLLifetime is how long a signed staff media URL works.
const URLLifetime = 15 * time.Minute

func NewSigner(key []byte) *Signer { return &Signer{key: key, ttl: URLLifetime} }

// Sign returns path with exp and sig query parameters. Expiry is rounded
// up to the minute so URLs stay stable (and cacheable) for a while.
func (s *Signer) Sign(path string, now time.Time) string {
	exp := now.Add(s.ttl).Truncate(time.Minute).Add(time.Minute).Unix()
	return path + "?exp=" + strconv.FormatInt(exp, 10) + "&sig=" + s.mac(path, exp)
}

// Verify reports whether sig signs path until exp and exp has not passed.
func (s *Signer) Verify(path, exp, sig string, now time.Time) bool {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > e {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.mac(path, e)))
}

func (s *Signer) mac(path string, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%s\n%d", path, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
