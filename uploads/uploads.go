// Package uploads is the upload workflows: a vehicle photo or an
// organization logo is checked, made publishable (media.Process), stored,
// and recorded in one transaction; its files are removed again when the
// record fails, and once the record of a deleted photo is gone. A server
// killed between storing and recording leaves files no row refers to,
// which media.Sweep removes later.
package uploads

import (
	"context"
	"io"

	"github.com/google/uuid"

	"importops/db"
	"importops/domain"
	"importops/media"
	"importops/tracking"
)

// Service runs the upload workflows over the store and the media storage.
type Service struct {
	store *db.Store
	media media.Storage
}

func New(store *db.Store, m media.Storage) *Service {
	return &Service{store: store, media: m}
}

// AddVehiclePhoto adds the upload file as a photo of the organization's
// vehicle, in every size the pages use.
func (s *Service) AddVehiclePhoto(ctx context.Context, orgID, vehicleID string, file io.Reader, caption *string) (*domain.Photo, error) {
	if caption != nil {
		if err := domain.ValidateOptionalText("caption", *caption, domain.MaxCaptionLen); err != nil {
			return nil, err
		}
	}
	// Check before storing anything, so a bad id leaves no file behind.
	if err := s.store.CheckVehicle(ctx, orgID, vehicleID); err != nil {
		return nil, err
	}
	pic, err := readImage(ctx, file)
	if err != nil {
		return nil, err
	}
	// Every size is stored now; serving never resizes.
	id := uuid.NewString()
	base := "photos/" + orgID + "/" + id
	if err := media.PutAll(ctx, s.media, base, pic); err != nil {
		return nil, err
	}
	p, err := s.store.AddPhoto(ctx, orgID, vehicleID, db.NewPhoto{
		ID: id, StorageKey: base, ContentType: pic.Full.ContentType, Caption: caption,
		Width: pic.Full.Width, Height: pic.Full.Height, Objects: mediaObjects(base, pic),
	})
	if err != nil {
		media.DeleteAll(context.WithoutCancel(ctx), s.media, media.VariantKeys(base)...)
		return nil, err
	}
	return p, nil
}

// DeleteVehiclePhoto deletes the organization's photo, then its files.
func (s *Service) DeleteVehiclePhoto(ctx context.Context, orgID, photoID string) error {
	p, err := s.store.DeletePhoto(ctx, orgID, photoID)
	if err != nil {
		return err
	}
	// The rows are gone; a stray file is harmless. The base key itself is
	// the file of a photo stored before variants existed.
	media.DeleteAll(context.WithoutCancel(ctx), s.media, append(media.VariantKeys(p.StorageKey), p.StorageKey)...)
	return nil
}

// SetOrganizationLogo makes the upload file the organization's logo and
// removes the logo it replaces.
func (s *Service) SetOrganizationLogo(ctx context.Context, orgID string, file io.Reader) (*domain.Organization, error) {
	pic, err := readImage(ctx, file)
	if err != nil {
		return nil, err
	}
	// A logo is shown small: its large size (at most 1280 px wide) is the
	// one file kept, under a new random key.
	key := "logos/" + tracking.NewSlug() + pic.Large.Ext()
	if err := s.media.Put(ctx, key, pic.Large.Data); err != nil {
		return nil, err
	}
	org, old, err := s.store.SetOrganizationLogoObject(ctx, orgID, mediaObject(key, pic.Large))
	if err != nil {
		media.DeleteAll(context.WithoutCancel(ctx), s.media, key)
		return nil, err
	}
	if old != nil {
		media.DeleteAll(context.WithoutCancel(ctx), s.media, *old)
	}
	return org, nil
}

// readImage reads an upload and makes it publishable: checked, oriented,
// stripped of its metadata and resized (see media.Process).
func readImage(ctx context.Context, file io.Reader) (media.Processed, error) {
	data, err := media.ReadUpload(file)
	if err != nil {
		return media.Processed{}, err
	}
	return media.Process(ctx, data)
}

// mediaObjects are the records of p's variants stored under base.
func mediaObjects(base string, p media.Processed) []db.MediaObject {
	var out []db.MediaObject
	for _, v := range p.Variants() {
		out = append(out, mediaObject(media.VariantKey(base, v.Name), v))
	}
	return out
}

func mediaObject(key string, v media.Variant) db.MediaObject {
	return db.MediaObject{Key: key, ContentType: v.ContentType, Width: v.Width, Height: v.Height,
		Size: int64(len(v.Data)), ETag: v.ETag}
}
