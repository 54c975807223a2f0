package media

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object is a stored file as a listing sees it.
type Object struct {
	Key     string
	ModTime time.Time
}

// listPage is how many objects a listing hands over at once: one query
// of the database checks them.
const listPage = 1000

// DebrisAge is how old a file without a row must be before a sweep
// removes it. An upload writes its files a moment before the row that
// records them commits; an hour is far longer than any upload takes, so
// replicas sharing MEDIA_DIR or a bucket never lose a file in flight.
const DebrisAge = time.Hour

// swept are the key prefixes the server writes under: a sweep never
// touches anything else that shares the directory or the bucket.
var swept = []string{"photos/", "logos/"}

func ours(key string) bool {
	for _, p := range swept {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// KnownKeys reports which of keys a row of the database refers to.
type KnownKeys func(ctx context.Context, keys []string) (map[string]bool, error)

// Sweep removes the debris of uploads that never committed (a server
// killed mid-upload): every file under photos/ and logos/ last changed
// before cutoff that no row refers to, including half-written temporary
// files. It returns how many it removed.
func Sweep(ctx context.Context, s Storage, known KnownKeys, cutoff time.Time) (removed int, err error) {
	err = s.List(ctx, func(objs []Object) error {
		var old []string
		for _, o := range objs {
			if o.ModTime.Before(cutoff) && ours(o.Key) {
				old = append(old, o.Key)
			}
		}
		if len(old) == 0 {
			return nil
		}
		keep, err := known(ctx, old)
		if err != nil {
			return err
		}
		for _, k := range old {
			if keep[k] {
				continue
			}
			if err := s.Delete(ctx, k); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("sweep media: %w", err)
	}
	return removed, nil
}

// List hands every file under the root to fn, a page at a time,
// temporary files included.
func (d Dir) List(ctx context.Context, fn func([]Object) error) error {
	var page []Object
	err := filepath.WalkDir(d.Root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(d.Root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); validKey(key) { // anything else is not ours to judge
			page = append(page, Object{Key: key, ModTime: info.ModTime()})
		}
		if len(page) == listPage {
			err, page = fn(page), nil
		}
		return err
	})
	if err == nil && len(page) > 0 {
		err = fn(page)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("media: list %s: %w", d.Root, err)
	}
	return nil
}

// List hands every object under the prefix to fn, a page at a time.
func (s *S3) List(ctx context.Context, fn func([]Object) error) error {
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix), MaxKeys: aws.Int32(listPage),
	})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("media: list: %w", err)
		}
		page := make([]Object, 0, len(out.Contents))
		for _, o := range out.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || !validKey(key) {
				continue // not ours to judge
			}
			page = append(page, Object{Key: key, ModTime: aws.ToTime(o.LastModified)})
		}
		if err := fn(page); err != nil {
			return err
		}
	}
	return nil
}
