package e2e

// Photos and logos: multipart uploads checked to be images, stored under
// MEDIA_DIR, served through signed short-lived URLs that need no bearer
// header, and the gallery and hero photo of a vehicle.

import (
	"bytes"
	"errors"
	"image"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"importops/apptest"
)

// stSamePicture asserts that served, sent with contentType, is the picture
// want: an image in the format the Content-Type names, of the same size,
// with pixels close to want's. The server re-encodes uploads (dropping
// their metadata), so the bytes themselves may differ.
func stSamePicture(t testing.TB, served []byte, contentType string, want image.Image) {
	t.Helper()
	got, format, err := image.Decode(bytes.NewReader(served))
	if err != nil {
		t.Errorf("served %d bytes that are not an image: %v", len(served), err)
		return
	}
	if contentType != "image/"+format {
		t.Errorf("Content-Type = %q but the bytes are %s", contentType, format)
	}
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Errorf("served image is %v, want %v", got.Bounds().Size(), want.Bounds().Size())
		return
	}
	var diff, n float64
	b, wb := got.Bounds(), want.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r1, g1, b1, _ := got.At(b.Min.X+x, b.Min.Y+y).RGBA()
			r2, g2, b2, _ := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
			for _, d := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}} {
				diff += math.Abs(float64(d[0]>>8) - float64(d[1]>>8))
				n++
			}
		}
	}
	if mean := diff / n; mean > 12 {
		t.Errorf("served picture differs from the upload by %.1f per channel on average", mean)
	}
}

// stMediaFiles returns every regular file under dir, by path relative to it.
func stMediaFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // gone while the walk went by, as below
		}
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			// Another test's upload, written under a temporary name, was
			// renamed or removed while the walk went by.
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return nil
	})
	if err != nil {
		t.Fatalf("walk MEDIA_DIR: %v", err)
	}
	return files
}

// stFilesHolding counts the files under dir whose content is data.
func stFilesHolding(t testing.TB, dir string, data []byte) int {
	t.Helper()
	n := 0
	for _, b := range stMediaFiles(t, dir) {
		if bytes.Equal(b, data) {
			n++
		}
	}
	return n
}

// stGet fetches a URL anonymously (no Authorization header).
func stGet(t testing.TB, env *apptest.Env, u string) (int, string, []byte) {
	t.Helper()
	res, body := env.Get(t, u)
	return res.StatusCode, res.Header.Get("Content-Type"), body
}

func stPhotoIDs(photos []staffPhoto) []string {
	var ids []string
	for _, p := range photos {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestMediaUploadPhoto(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Photo Upload Ltd", "NZ")
	t.Parallel()

	for _, tc := range []struct {
		name, filename string
		data           []byte
		w, h           int
	}{
		{"PNG", "front.png", testPNG(t, 3, 2), 3, 2},
		{"JPEG", "side.jpg", testJPEG(t, 8, 5), 8, 5},
		{"JPEG whose name says .png", "misnamed.png", testJPEG(t, 6, 6), 6, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVehicle(t, env, org.Token)
			caption := "Front three-quarter"
			var out struct{ UploadVehiclePhoto staffPhoto }
			uploadPhotoRes(t, env, org.Token, v, tc.filename, tc.data, &caption).Decode(t, &out)
			p := out.UploadVehiclePhoto

			if p.ID == "" || p.Caption == nil || *p.Caption != caption {
				t.Errorf("photo = %+v, want an id and caption %q", p, caption)
			}
			if p.Width == nil || *p.Width != tc.w || p.Height == nil || *p.Height != tc.h {
				t.Errorf("photo size = %v×%v, want %d×%d", p.Width, p.Height, tc.w, tc.h)
			}
			status, ct, body := stGet(t, env, p.URL)
			if status != http.StatusOK {
				t.Fatalf("GET photo url without a bearer header: status %d, want 200", status)
			}
			stSamePicture(t, body, ct, gradientImage(tc.w, tc.h))
			if n := stFilesHolding(t, env.MediaDir, body); n < 1 {
				t.Errorf("no file under MEDIA_DIR holds the served photo")
			}

			var read struct{ Vehicle struct{ Photos []staffPhoto } }
			env.Do(t, org.Token, `query($v: ID!) { vehicle(id: $v) { photos { id url caption width height } } }`, apptest.Vars{"v": v}).Decode(t, &read)
			if ids := stPhotoIDs(read.Vehicle.Photos); !slices.Equal(ids, []string{p.ID}) {
				t.Fatalf("vehicle photos = %v, want [%s]", ids, p.ID)
			}
			status, ct, body = stGet(t, env, read.Vehicle.Photos[0].URL)
			if status != http.StatusOK {
				t.Fatalf("GET url from vehicle.photos: status %d, want 200", status)
			}
			stSamePicture(t, body, ct, gradientImage(tc.w, tc.h))
		})
	}

	t.Run("a valid PNG with PHP appended is served without the PHP", func(t *testing.T) {
		t.Parallel()
		data := append(testPNG(t, 4, 4), []byte("<?php system($_GET['c']); ?>")...)
		res := uploadPhotoRes(t, env, org.Token, newVehicle(t, env, org.Token), "poly.png", data, nil)
		if len(res.Errors) > 0 {
			stExpectError(t, res, "BAD_USER_INPUT") // refusing it is fine too
			return
		}
		var out struct{ UploadVehiclePhoto staffPhoto }
		res.Decode(t, &out)
		status, ct, body := stGet(t, env, out.UploadVehiclePhoto.URL)
		if status != http.StatusOK {
			t.Fatalf("GET photo url: status %d", status)
		}
		if bytes.Contains(body, []byte("<?php")) {
			t.Errorf("served photo still carries the appended PHP")
		}
		stSamePicture(t, body, ct, gradientImage(4, 4))
		for name, b := range stMediaFiles(t, env.MediaDir) {
			if bytes.Contains(b, []byte("<?php")) {
				t.Errorf("MEDIA_DIR file %s carries the appended PHP", name)
			}
		}
	})

	t.Run("caption is optional", func(t *testing.T) {
		t.Parallel()
		p := uploadPhoto(t, env, org.Token, newVehicle(t, env, org.Token), "", testPNG(t, 2, 2))
		if p.Caption != nil {
			t.Errorf("caption = %q, want null", *p.Caption)
		}
	})

	t.Run("the signed URL is short-lived", func(t *testing.T) {
		t.Parallel()
		p := uploadPhoto(t, env, org.Token, newVehicle(t, env, org.Token), "", testPNG(t, 2, 3))
		u, err := url.Parse(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		if u.Query().Get("sig") == "" {
			t.Errorf("photo url %q carries no signature", p.URL)
		}
		exp, err := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
		now := time.Now()
		if err != nil || exp <= now.Unix() || exp > now.Add(time.Hour).Unix() {
			t.Errorf("photo url exp = %q, want a Unix time within the next hour", u.Query().Get("exp"))
		}
	})
}

func TestMediaSignedURLTampering(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Tamper Ltd", "NZ")
	t.Parallel()
	v := newVehicle(t, env, org.Token)
	first := uploadPhoto(t, env, org.Token, v, "", testPNG(t, 4, 4))
	second := uploadPhoto(t, env, org.Token, v, "", testPNG(t, 5, 5))

	u, err := url.Parse(first.URL)
	if err != nil {
		t.Fatal(err)
	}
	exp, sig := u.Query().Get("exp"), u.Query().Get("sig")
	expN, _ := strconv.ParseInt(exp, 10, 64)
	flip := func(s string) string {
		if s == "" {
			return "x"
		}
		last := s[len(s)-1]
		repl := byte('A')
		if last == 'A' {
			repl = 'B'
		}
		return s[:len(s)-1] + string(repl)
	}
	with := func(path string, q url.Values) string {
		c := *u
		c.Path = path
		c.RawQuery = q.Encode()
		return c.String()
	}
	secondPath := func() string {
		su, _ := url.Parse(second.URL)
		return su.Path
	}()

	if status, _, _ := stGet(t, env, first.URL); status != http.StatusOK {
		t.Fatalf("untampered URL: status %d, want 200", status)
	}
	for _, tc := range []struct{ name, url string }{
		{"signature altered", with(u.Path, url.Values{"exp": {exp}, "sig": {flip(sig)}})},
		{"expiry moved later", with(u.Path, url.Values{"exp": {strconv.FormatInt(expN+3600, 10)}, "sig": {sig}})},
		{"expiry moved earlier", with(u.Path, url.Values{"exp": {strconv.FormatInt(expN-60, 10)}, "sig": {sig}})},
		{"expiry in the past", with(u.Path, url.Values{"exp": {strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)}, "sig": {sig}})},
		{"signature missing", with(u.Path, url.Values{"exp": {exp}})},
		{"expiry missing", with(u.Path, url.Values{"sig": {sig}})},
		{"no query at all", with(u.Path, url.Values{})},
		{"signature of another photo", with(secondPath, url.Values{"exp": {exp}, "sig": {sig}})},
	} {
		t.Run(tc.name+" is 404", func(t *testing.T) {
			status, _, body := stGet(t, env, tc.url)
			if status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", tc.url, status)
			}
			if _, _, err := image.DecodeConfig(bytes.NewReader(body)); err == nil {
				t.Errorf("GET %s served an image", tc.url)
			}
		})
	}
}

func TestMediaRejectedUploads(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Rejected Uploads Ltd", "NZ")
	t.Parallel()
	v := newVehicle(t, env, org.Token)

	pngThenPHP := append(append([]byte{}, rawPNG(1, 1, pngRGB, nil)[:16]...), []byte("<?php system($_GET['c']); ?>")...)
	for _, tc := range []struct {
		name, filename string
		data           []byte
	}{
		{"a text file", "notes.txt", []byte("Just some text, not a picture.\n")},
		{"a PHP file named .png", "shell.png", []byte("<?php system($_GET['c']); ?>\n")},
		{"PHP behind a PNG signature", "shell.png", pngThenPHP},
		{"an SVG named .png", "logo.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
		{"an empty file", "empty.png", nil},
		{"a PNG declaring 60000×60000 pixels", "huge.png", rawPNG(60000, 60000, pngRGB, nil)},
		{"a truncated PNG", "cut.png", testPNG(t, 8, 8)[:40]},
	} {
		t.Run(tc.name+" is BAD_USER_INPUT and stores nothing", func(t *testing.T) {
			res := uploadPhotoRes(t, env, org.Token, v, tc.filename, tc.data, nil)
			stExpectError(t, res, "BAD_USER_INPUT")
			if n := stCount(t, "photos", org.ID); n != 0 {
				t.Errorf("photos has %d rows after a refused upload, want 0", n)
			}
			if files := stMediaFiles(t, env.MediaDir); len(files) != 0 {
				t.Errorf("MEDIA_DIR holds %d files after a refused upload, want 0: %v", len(files), slices.Sorted(maps.Keys(files)))
			}
		})
	}

	t.Run("a caption of 501 characters is BAD_USER_INPUT and stores nothing", func(t *testing.T) {
		caption := strings.Repeat("c", 501)
		stExpectError(t, uploadPhotoRes(t, env, org.Token, v, "ok.png", testPNG(t, 2, 2), &caption), "BAD_USER_INPUT")
		if n := stCount(t, "photos", org.ID); n != 0 {
			t.Errorf("photos has %d rows, want 0", n)
		}
		if n := len(stMediaFiles(t, env.MediaDir)); n != 0 {
			t.Errorf("MEDIA_DIR holds %d files, want 0", n)
		}
	})

	t.Run("a text file as the organization logo is BAD_USER_INPUT and stores nothing", func(t *testing.T) {
		res := env.Upload(t, org.Token, `mutation($file: Upload!) { uploadOrganizationLogo(file: $file) { logoUrl } }`, nil, "file", "logo.png", []byte("not an image"))
		stExpectError(t, res, "BAD_USER_INPUT")
		var logo *string
		if err := testDB.Get(&logo, `SELECT logo_key FROM organizations WHERE id = $1`, org.ID); err != nil {
			t.Fatal(err)
		}
		if logo != nil {
			t.Errorf("organization logo_key = %q after a refused upload, want null", *logo)
		}
		if n := len(stMediaFiles(t, env.MediaDir)); n != 0 {
			t.Errorf("MEDIA_DIR holds %d files, want 0", n)
		}
	})

	t.Run("the vehicle has no photos", func(t *testing.T) {
		if v := stVehicleByID(t, env, org.Token, v); len(v.Photos) != 0 || v.HeroPhoto != nil {
			t.Errorf("photos = %v, hero = %+v; want none", stPhotoIDs(v.Photos), v.HeroPhoto)
		}
	})
}

func TestMediaGalleryAndHero(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Gallery Ltd", "NZ")
	t.Parallel()

	const setHero = `mutation($v: ID!, $p: ID) { setHeroPhoto(vehicleId: $v, photoId: $p) { id heroPhoto { id url } photos { id } } }`
	type heroResult struct {
		SetHeroPhoto struct {
			ID        string
			HeroPhoto *staffPhoto
			Photos    []staffPhoto
		}
	}
	// gallery makes a vehicle with three photos uploaded in order.
	// The i-th photo is (i+1)×1 pixels.
	gallery := func(t *testing.T) (string, []staffPhoto) {
		v := newVehicle(t, env, org.Token)
		var photos []staffPhoto
		for i := range 3 {
			photos = append(photos, uploadPhoto(t, env, org.Token, v, "", testPNG(t, i+1, 1)))
		}
		return v, photos
	}

	t.Run("photos list in upload order", func(t *testing.T) {
		t.Parallel()
		v, photos := gallery(t)
		got := stVehicleByID(t, env, org.Token, v)
		if ids := stPhotoIDs(got.Photos); !slices.Equal(ids, stPhotoIDs(photos)) {
			t.Errorf("photos = %v, want upload order %v", ids, stPhotoIDs(photos))
		}
		for i, p := range got.Photos {
			if p.Width == nil || *p.Width != i+1 {
				t.Errorf("photo %d width = %v, want %d", i, p.Width, i+1)
			}
		}
	})

	t.Run("setHeroPhoto sets the hero; its URL works", func(t *testing.T) {
		t.Parallel()
		v, photos := gallery(t)
		var out heroResult
		env.Do(t, org.Token, setHero, apptest.Vars{"v": v, "p": photos[1].ID}).Decode(t, &out)
		if h := out.SetHeroPhoto.HeroPhoto; h == nil || h.ID != photos[1].ID {
			t.Fatalf("heroPhoto = %+v, want %s", h, photos[1].ID)
		}
		if got := stVehicleByID(t, env, org.Token, v); got.HeroPhoto == nil || got.HeroPhoto.ID != photos[1].ID {
			t.Errorf("heroPhoto read back = %+v, want %s", got.HeroPhoto, photos[1].ID)
		}
		status, ct, body := stGet(t, env, out.SetHeroPhoto.HeroPhoto.URL)
		if status != http.StatusOK {
			t.Fatalf("GET hero url: status %d, want 200", status)
		}
		stSamePicture(t, body, ct, gradientImage(2, 1))
	})

	t.Run("setHeroPhoto with photoId null clears the hero and keeps the gallery", func(t *testing.T) {
		t.Parallel()
		v, photos := gallery(t)
		env.Do(t, org.Token, setHero, apptest.Vars{"v": v, "p": photos[0].ID}).Decode(t, &heroResult{})
		var out heroResult
		env.Do(t, org.Token, setHero, apptest.Vars{"v": v, "p": nil}).Decode(t, &out)
		if out.SetHeroPhoto.HeroPhoto != nil {
			t.Errorf("heroPhoto after clearing = %+v, want null", out.SetHeroPhoto.HeroPhoto)
		}
		got := stVehicleByID(t, env, org.Token, v)
		if got.HeroPhoto != nil || !slices.Equal(stPhotoIDs(got.Photos), stPhotoIDs(photos)) {
			t.Errorf("after clearing: hero %+v, photos %v; want null and all three", got.HeroPhoto, stPhotoIDs(got.Photos))
		}
	})

	t.Run("setHeroPhoto with a photo of another vehicle is refused", func(t *testing.T) {
		t.Parallel()
		v, _ := gallery(t)
		otherVehicle := newVehicle(t, env, org.Token)
		foreign := uploadPhoto(t, env, org.Token, otherVehicle, "", testPNG(t, 7, 1))
		res := env.Do(t, org.Token, setHero, apptest.Vars{"v": v, "p": foreign.ID})
		if len(res.Errors) == 0 {
			t.Fatalf("setHeroPhoto accepted another vehicle's photo: %s", res.Body)
		}
		stCheckErrors(t, res)
		if c := res.Code(); c != "BAD_USER_INPUT" && c != "NOT_FOUND" {
			t.Errorf("code = %s, want BAD_USER_INPUT or NOT_FOUND", c)
		}
		if got := stVehicleByID(t, env, org.Token, v); got.HeroPhoto != nil {
			t.Errorf("heroPhoto = %+v, want null", got.HeroPhoto)
		}
	})

	t.Run("deleting the hero photo removes it, clears the hero and its URL 404s", func(t *testing.T) {
		t.Parallel()
		v, photos := gallery(t)
		// A size no other subtest uploads, so its stored files are its own.
		hero := uploadPhoto(t, env, org.Token, v, "", testPNG(t, 13, 3))
		env.Do(t, org.Token, setHero, apptest.Vars{"v": v, "p": hero.ID}).Decode(t, &heroResult{})
		oldURL := hero.URL
		status, _, served := stGet(t, env, oldURL)
		if status != http.StatusOK {
			t.Fatalf("before delete: GET url status %d, want 200", status)
		}
		var out struct{ DeleteVehiclePhoto string }
		env.Do(t, org.Token, `mutation($id: ID!) { deleteVehiclePhoto(id: $id) }`, apptest.Vars{"id": hero.ID}).Decode(t, &out)
		if out.DeleteVehiclePhoto != hero.ID {
			t.Errorf("deleteVehiclePhoto = %q, want %q", out.DeleteVehiclePhoto, hero.ID)
		}
		got := stVehicleByID(t, env, org.Token, v)
		if got.HeroPhoto != nil {
			t.Errorf("heroPhoto after deleting it = %+v, want null", got.HeroPhoto)
		}
		if ids := stPhotoIDs(got.Photos); !slices.Equal(ids, stPhotoIDs(photos)) {
			t.Errorf("photos after delete = %v, want %v", ids, stPhotoIDs(photos))
		}
		if status, _, _ := stGet(t, env, oldURL); status != http.StatusNotFound {
			t.Errorf("GET deleted photo's signed url: status %d, want 404", status)
		}
		if n := stFilesHolding(t, env.MediaDir, served); n != 0 {
			t.Errorf("the deleted photo's file is still under MEDIA_DIR (%d copies)", n)
		}
		var rows int
		if err := testDB.Get(&rows, `SELECT count(*) FROM photos WHERE id = $1`, hero.ID); err != nil {
			t.Fatal(err)
		}
		if rows != 0 {
			t.Errorf("photos row of the deleted photo still exists")
		}
		stExpectError(t, env.Do(t, org.Token, `mutation($id: ID!) { deleteVehiclePhoto(id: $id) }`, apptest.Vars{"id": hero.ID}), "NOT_FOUND")
	})

	t.Run("deleting a gallery photo keeps the hero", func(t *testing.T) {
		t.Parallel()
		v, photos := gallery(t)
		env.Do(t, org.Token, setHero, apptest.Vars{"v": v, "p": photos[1].ID}).Decode(t, &heroResult{})
		env.Do(t, org.Token, `mutation($id: ID!) { deleteVehiclePhoto(id: $id) }`, apptest.Vars{"id": photos[0].ID}).Decode(t, &struct{}{})
		got := stVehicleByID(t, env, org.Token, v)
		if got.HeroPhoto == nil || got.HeroPhoto.ID != photos[1].ID {
			t.Errorf("heroPhoto = %+v, want %s", got.HeroPhoto, photos[1].ID)
		}
		if ids := stPhotoIDs(got.Photos); !slices.Equal(ids, stPhotoIDs(photos[1:])) {
			t.Errorf("photos = %v, want %v", ids, stPhotoIDs(photos[1:]))
		}
	})
}

func TestMediaOrganizationLogo(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Logo Ltd", "NZ")
	t.Parallel()
	const m = `mutation($file: Upload!) { uploadOrganizationLogo(file: $file) { id logoUrl } }`
	type result struct {
		UploadOrganizationLogo struct {
			ID      string
			LogoURL *string
		}
	}

	var out result
	env.Upload(t, org.Token, m, nil, "file", "logo.png", testPNG(t, 6, 2)).Decode(t, &out)
	if out.UploadOrganizationLogo.ID != org.ID || out.UploadOrganizationLogo.LogoURL == nil {
		t.Fatalf("uploadOrganizationLogo = %+v, want the organization with a logoUrl", out.UploadOrganizationLogo)
	}
	firstURL := *out.UploadOrganizationLogo.LogoURL

	status, ct, firstServed := stGet(t, env, firstURL)
	t.Run("the logo URL works without sign-in", func(t *testing.T) {
		if status != http.StatusOK {
			t.Fatalf("GET logo: status %d, want 200", status)
		}
		stSamePicture(t, firstServed, ct, gradientImage(6, 2))
	})

	t.Run("viewer shows the logo URL", func(t *testing.T) {
		var v struct {
			Viewer struct{ Organization struct{ LogoURL *string } }
		}
		env.Do(t, org.Token, `{ viewer { organization { logoUrl } } }`, nil).Decode(t, &v)
		if v.Viewer.Organization.LogoURL == nil || *v.Viewer.Organization.LogoURL != firstURL {
			t.Errorf("viewer logoUrl = %v, want %s", v.Viewer.Organization.LogoURL, firstURL)
		}
	})

	t.Run("a new logo replaces the old one", func(t *testing.T) {
		var out result
		env.Upload(t, org.Token, m, nil, "file", "logo.jpg", testJPEG(t, 9, 3)).Decode(t, &out)
		if out.UploadOrganizationLogo.LogoURL == nil || *out.UploadOrganizationLogo.LogoURL == firstURL {
			t.Fatalf("logoUrl after replacing = %v, want a new URL", out.UploadOrganizationLogo.LogoURL)
		}
		status, ct, body := stGet(t, env, *out.UploadOrganizationLogo.LogoURL)
		if status != http.StatusOK {
			t.Fatalf("GET new logo: status %d, want 200", status)
		}
		stSamePicture(t, body, ct, gradientImage(9, 3))
		if status, _, _ := stGet(t, env, firstURL); status != http.StatusNotFound {
			t.Errorf("GET old logo URL: status %d, want 404", status)
		}
		if n := stFilesHolding(t, env.MediaDir, firstServed); n != 0 {
			t.Errorf("the replaced logo's file is still under MEDIA_DIR")
		}
	})
}
