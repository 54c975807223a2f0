package e2e

// Issue 10's attacks on the production build (APP_ENV=production, rate
// limits on): uploads, decoding and logins.

import (
	"bytes"
	"compress/zlib"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"importops/apptest"
)

// hdEnv is a server as production runs it, behind a trusted proxy at
// 127.0.0.1 so tests can speak for many client addresses.
func hdEnv(t *testing.T) *apptest.Env {
	t.Helper()
	return apptest.NewWith(t, testDB, apptest.Options{Env: map[string]string{
		"APP_ENV": "production", "RATE_LIMITS": "on", "TRUSTED_PROXIES": "127.0.0.1",
	}})
}

// hdBlackPNG is a real, complete w×h 8-bit greyscale PNG of black pixels:
// a few KB on the wire however many pixels it declares, which is what
// makes it a decompression bomb. It is written row by row, so the test
// never holds the pixels.
func hdBlackPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	// Rows of a filter byte 0 then w black pixels: all zeros, written a
	// megabyte's worth of rows at a time.
	perWrite := max(1, (1<<20)/(1+w))
	rows := make([]byte, perWrite*(1+w))
	for left := h; left > 0; left -= perWrite {
		if _, err := zw.Write(rows[:min(left, perWrite)*(1+w)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return rawPNG(w, h, pngGrey, idat.Bytes())
}

// TestHardeningPixelBombsRefused (issue 10, items 3 and 4): a complete
// 40-megapixel PNG, and images within the area cap but with an extreme
// side, are BAD_USER_INPUT before they are decoded, and store nothing.
func TestHardeningPixelBombsRefused(t *testing.T) {
	env := hdEnv(t)
	org := env.NewOrg(t, "Pixel Bomb Imports", "NZ")
	t.Parallel()
	v := newVehicle(t, env, org.Token)
	for _, tc := range []struct {
		name string
		w, h int
	}{
		{"40 megapixels (8000×5000)", 8000, 5000},
		{"40,000,000×1", 40_000_000, 1},
		{"20,000,000×1 (within the area cap)", 20_000_000, 1},
		{"1×20,000,000", 1, 20_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := hdBlackPNG(t, tc.w, tc.h)
			res := uploadPhotoRes(t, env, org.Token, v, "bomb.png", data, nil)
			stExpectError(t, res, "BAD_USER_INPUT")
			if strings.Contains(strings.ToLower(string(res.Body)), "jpeg") {
				t.Errorf("the refusal leaks an encoder's message: %s", res.Body)
			}
			if n := stCount(t, "photos", org.ID); n != 0 {
				t.Errorf("photos has %d rows after a refused upload, want 0", n)
			}
			if files := stMediaFiles(t, env.MediaDir); len(files) != 0 {
				t.Errorf("MEDIA_DIR holds %d files after a refused upload", len(files))
			}
		})
	}
	// A picture of an ordinary shape and size still goes through.
	uploadPhoto(t, env, org.Token, v, "", testPNG(t, 64, 48))
}

// TestHardeningLoginLockout (issue 10, item 8): strangers failing at an
// account do not lock its owner out of the address they sign in from,
// while guessing from one address stays limited.
func TestHardeningLoginLockout(t *testing.T) {
	env := hdEnv(t)
	owner := env.NewOrg(t, "Lockout Imports", "NZ")
	other := env.NewOrg(t, "Guessed Account Imports", "NZ")
	t.Parallel()
	const usual = "203.0.113.200" // where the owner signs in from
	if r := rlFrom(t, env, usual, "", rlLogin, apptest.Vars{"e": owner.Email, "p": owner.Password}); rlCode(r) != "" {
		t.Fatalf("the owner's first login: %s", r.body)
	}
	for i := range 10 {
		ip := "198.51.100." + strconv.Itoa(i+1)
		if r := rlFrom(t, env, ip, "", rlLogin, apptest.Vars{"e": owner.Email, "p": "wrong password"}); rlCode(r) != "UNAUTHENTICATED" {
			t.Fatalf("stranger's failed login %d: %s", i+1, r.body)
		}
	}
	r := rlFrom(t, env, usual, "", rlLogin, apptest.Vars{"e": owner.Email, "p": owner.Password})
	if rlCode(r) != "" || !strings.Contains(string(r.body), `"token"`) {
		t.Fatalf("the owner's right password from the usual address after 10 strangers' failures: %s", r.body)
	}
	// A stranger still cannot go on guessing this account...
	if r := rlFrom(t, env, "198.51.100.77", "", rlLogin, apptest.Vars{"e": owner.Email, "p": owner.Password}); rlCode(r) != "RATE_LIMITED" {
		t.Errorf("a new address on the account strangers failed at 10 times: %s, want RATE_LIMITED", r.body)
	}

	// ... and 20 wrong passwords from one address are refused, whether it
	// is a stranger's on a fresh account or the owner's usual one.
	guess := func(ip, email string) (refused int, last secResponse) {
		for range 20 {
			last = rlFrom(t, env, ip, "", rlLogin, apptest.Vars{"e": email, "p": "wrong password"})
			switch rlCode(last) {
			case "RATE_LIMITED":
				refused++
			case "UNAUTHENTICATED":
			default:
				t.Fatalf("a wrong password: %s", last.body)
			}
		}
		return refused, last
	}
	if n, last := guess("192.0.2.60", other.Email); n == 0 {
		t.Errorf("20 wrong passwords from one address were never RATE_LIMITED")
	} else {
		rlRetryAfter(t, last, time.Minute)
	}
	if n, _ := guess(usual, owner.Email); n == 0 {
		t.Errorf("20 wrong passwords from the owner's usual address were never RATE_LIMITED")
	}
}

// hdStall starts an upload whose body stops after its first 64 KB; close
// the returned writer to end it.
func hdStall(t *testing.T, env *apptest.Env, token, vehicleID string) (*io.PipeWriter, chan *http.Response) {
	t.Helper()
	contentType, head := multipartStart(t, vehicleID)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", pr)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("GraphQL-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+token)
	go func() { _, _ = pw.Write(head) }()
	done := make(chan *http.Response, 1)
	go func() {
		res, _ := env.Server.Client().Do(req)
		if res != nil {
			res.Body.Close()
		}
		done <- res
	}()
	return pw, done
}

// TestHardeningUploadsPerOrganization (issue 10, item 2): one
// organization stalling 12 uploads takes only its own share of the
// upload slots; another organization's upload goes through.
func TestHardeningUploadsPerOrganization(t *testing.T) {
	env := hdEnv(t)
	greedy := env.NewOrg(t, "Stalling Imports", "NZ")
	victim := env.NewOrg(t, "Patient Imports", "NZ")
	t.Parallel()
	greedyVehicle := newVehicle(t, env, greedy.Token)
	victimVehicle := newVehicle(t, env, victim.Token)

	var writers []*io.PipeWriter
	var dones []chan *http.Response
	for range 12 {
		pw, done := hdStall(t, env, greedy.Token, greedyVehicle)
		writers, dones = append(writers, pw), append(dones, done)
	}
	defer func() {
		for _, pw := range writers {
			pw.CloseWithError(io.ErrUnexpectedEOF)
		}
		for _, d := range dones {
			<-d
		}
	}()
	// Wait until the stalled organization is refused: its uploads hold
	// every slot they may.
	contentType, head := multipartStart(t, greedyVehicle)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := secSend(t, env, "POST", "/graphql", map[string]string{
			"Content-Type": contentType, "GraphQL-Preflight": "1", "Authorization": "Bearer " + greedy.Token,
		}, bytes.NewReader(head))
		if r.status == http.StatusTooManyRequests && rlCode(r) == "RATE_LIMITED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stalling organization was never refused another upload (last %d: %s)", r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res := uploadPhotoRes(t, env, victim.Token, victimVehicle, "photo.png", testPNG(t, 32, 24), nil)
	if res.Code() != "" {
		t.Fatalf("another organization's upload while one stalls 12: %d %s", res.Status, res.Body)
	}
}

// TestHardeningStalledUploadIsCutOff (issue 10, item 2): an upload body
// that stops moving is cut off within seconds, and its slot is given back:
// a user who stalled every upload slot they have can upload again.
func TestHardeningStalledUploadIsCutOff(t *testing.T) {
	env := hdEnv(t)
	org := env.NewOrg(t, "Stalled Uploads Imports", "NZ")
	t.Parallel()
	vehicle := newVehicle(t, env, org.Token)
	var writers []*io.PipeWriter
	var dones []chan *http.Response
	defer func() {
		for _, pw := range writers {
			pw.Close()
		}
	}()
	contentType, head := multipartStart(t, vehicle)
	another := func() secResponse {
		return secSend(t, env, "POST", "/graphql", map[string]string{
			"Content-Type": contentType, "GraphQL-Preflight": "1", "Authorization": "Bearer " + org.Token,
		}, bytes.NewReader(head))
	}
	// Stall uploads until the user is refused another: every slot they may
	// hold is held.
	deadline := time.Now().Add(10 * time.Second)
	for {
		pw, done := hdStall(t, env, org.Token, vehicle)
		writers, dones = append(writers, pw), append(dones, done)
		time.Sleep(50 * time.Millisecond)
		if r := another(); r.status == http.StatusTooManyRequests {
			break
		}
		if time.Now().After(deadline) || len(writers) > 20 {
			t.Fatalf("%d stalled uploads and the user was never refused another", len(writers))
		}
	}
	// The stalled bodies are cut off: their requests end though the
	// client never finishes or hangs up.
	cutOff := time.After(30 * time.Second)
	for i, done := range dones {
		select {
		case <-done:
		case <-cutOff:
			t.Fatalf("stalled upload %d of %d still held 30 s after its body stopped", i+1, len(dones))
		}
	}
	res := uploadPhotoRes(t, env, org.Token, vehicle, "photo.png", testPNG(t, 32, 24), nil)
	if res.Code() != "" {
		t.Fatalf("an upload after the stalled ones were cut off: %d %s", res.Status, res.Body)
	}
}
