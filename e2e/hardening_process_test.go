package e2e

// Issue 10 tests that run the built binary as a process: killed
// mid-upload, and measured (its RSS) while it decodes.

import (
	"bytes"
	"compress/zlib"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"importops/apptest"
)

// dbOrphans are the files under the process's MEDIA_DIR that no row
// refers to, split by age: old ones (changed over an hour ago) are debris.
func dbOrphans(t *testing.T, proc *apptest.Process) (old, young []string) {
	t.Helper()
	for rel := range stMediaFiles(t, proc.MediaDir) {
		key := filepath.ToSlash(rel)
		known, err := proc.Store.KnownMediaKeys(context.Background(), []string{key})
		if err != nil {
			t.Fatal(err)
		}
		if known[key] {
			continue
		}
		info, err := os.Stat(filepath.Join(proc.MediaDir, rel))
		if err != nil {
			continue // removed meanwhile
		}
		if time.Since(info.ModTime()) > time.Hour {
			old = append(old, key)
		} else {
			young = append(young, key)
		}
	}
	slices.Sort(old)
	slices.Sort(young)
	return old, young
}

// dbSpooled are the multipart spool files (gqlgen-*) anywhere under dir.
func dbSpooled(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "gqlgen-") {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// dbUpload sends an upload of a photo whose body is body, declaring
// length bytes; it answers on the returned channel (nil when the
// connection broke).
func dbUpload(proc *apptest.Process, token string, contentType string, length int64, body io.Reader) chan *http.Response {
	req, _ := http.NewRequest(http.MethodPost, proc.BaseURL+"/graphql", body)
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("GraphQL-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+token)
	done := make(chan *http.Response, 1)
	go func() {
		res, _ := proc.Server.Client().Do(req)
		if res != nil {
			res.Body.Close()
		}
		done <- res
	}()
	return done
}

// TestHardeningKillMidUploadLeavesNoDebris (issue 10, item 5): after a
// kill -9 in the middle of uploads and a restart, every file in
// MEDIA_DIR older than an hour has a row, files younger than that are
// spared (another replica's upload in flight), and no multipart spool
// file remains.
func TestHardeningKillMidUploadLeavesNoDebris(t *testing.T) {
	bin := apptest.BuildServer(t)
	tmp := t.TempDir() // the server's TMPDIR, where spool files go by default
	proc := apptest.StartProcess(t, testDB, bin, map[string]string{
		"APP_ENV": "production", "RATE_LIMITS": "on", "TMPDIR": tmp,
		"SECRET_KEY": "debris-test-secret-key-debris-test!", "PUBLIC_BASE_URL": "http://127.0.0.1",
		"SHUTDOWN_DRAIN_DELAY": "0s",
		// The test holds a row lock to stop an upload between its files
		// and its row; the server must wait for it, not give up.
		"DB_LOCK_TIMEOUT": "60s",
	})
	org := proc.NewOrg(t, "Crash Imports", "NZ")
	vehicle := newVehicle(t, proc.Env, org.Token)
	kept := uploadPhoto(t, proc.Env, org.Token, vehicle, "", testPNG(t, 64, 48))

	// An upload declaring 5 MB that stops after 2 MB: past the 1 MB kept
	// in memory, the rest is spooled to a temporary file.
	contentType, head := multipartStart(t, vehicle)
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		_, _ = pw.Write(head)
		_, _ = pw.Write(bytes.Repeat([]byte{0xff}, 2<<20))
	}()
	spoolDone := dbUpload(proc, org.Token, contentType, 5<<20, pr)

	// An upload whose files get written but whose row cannot commit: the
	// test holds the vehicle's row lock that adding a photo takes.
	tx, err := testDB.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SELECT 1 FROM vehicles WHERE id = $1 FOR UPDATE`, vehicle); err != nil {
		t.Fatal(err)
	}
	var photo bytes.Buffer
	ct := apptest.MultipartUpload(&photo, uploadPhotoMutation, apptest.Vars{"v": vehicle}, "file", "photo.png", testPNG(t, 80, 60))
	lockedDone := dbUpload(proc, org.Token, ct, int64(photo.Len()), &photo)

	deadline := time.Now().Add(20 * time.Second)
	for {
		old, young := dbOrphans(t, proc)
		spooled := dbSpooled(t, tmp)
		var spooledBytes int64
		for _, p := range spooled {
			if info, err := os.Stat(p); err == nil {
				spooledBytes += info.Size()
			}
		}
		if len(old)+len(young) >= 3 && spooledBytes >= 512<<10 {
			break // the blocked upload's three files are written, the other is spooling
		}
		if time.Now().After(deadline) {
			t.Fatalf("uploads in flight never left their files: orphans %v %v, spooled %v (%d bytes)", old, young, spooled, spooledBytes)
		}
		time.Sleep(10 * time.Millisecond)
	}
	proc.Kill(t)
	pw.CloseWithError(io.ErrUnexpectedEOF) // the client stops sending
	<-spoolDone
	<-lockedDone
	tx.Rollback()

	// A half-written file, as a kill in the middle of a write leaves.
	orgDir := filepath.Join(proc.MediaDir, "photos", org.ID)
	if err := os.WriteFile(filepath.Join(orgDir, ".put-123456"), []byte("half a pict"), 0o640); err != nil {
		t.Fatal(err)
	}
	// All of it is made old, as debris found at a later start would be...
	twoHoursAgo := time.Now().Add(-2 * time.Hour)
	for rel := range stMediaFiles(t, proc.MediaDir) {
		if err := os.Chtimes(filepath.Join(proc.MediaDir, rel), twoHoursAgo, twoHoursAgo); err != nil {
			t.Fatal(err)
		}
	}
	// ...but for a file another replica is uploading right now.
	inFlight := filepath.Join(orgDir, "in-flight-full")
	if err := os.WriteFile(inFlight, []byte("not committed yet"), 0o640); err != nil {
		t.Fatal(err)
	}
	debris, _ := dbOrphans(t, proc)
	if len(debris) < 4 {
		t.Fatalf("only %d old files without a row before the restart (%v): the test did not leave the debris it checks", len(debris), debris)
	}
	if len(dbSpooled(t, tmp)) == 0 {
		t.Fatal("no spool file before the restart: the test did not leave the debris it checks")
	}
	t.Logf("debris before the restart: %v, spooled %v", debris, dbSpooled(t, tmp))

	proc.Start(t)
	deadline = time.Now().Add(10 * time.Second)
	for {
		old, _ := dbOrphans(t, proc)
		spooled := dbSpooled(t, tmp)
		if len(old) == 0 && len(spooled) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the restart: old files without a row %v, spool files %v", old, spooled)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(inFlight); err != nil {
		t.Errorf("a file younger than an hour was swept: %v", err)
	}
	u, err := url.Parse(kept.URL) // PUBLIC_BASE_URL has no port: ask the process
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := stGet(t, proc.Env, u.RequestURI()); status != http.StatusOK {
		t.Errorf("the committed photo after the sweep: %d", status)
	}
}

// hdTrueColourPNG is a complete w×h 8-bit RGB PNG of a colour gradient,
// every row alike (PNG's Up filter makes each row after the first all
// zeros): about a hundred KB on the wire for tens of megapixels.
func hdTrueColourPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	first := make([]byte, 1+3*w) // filter 0 (None), then the gradient
	for x := range w {
		first[1+3*x], first[2+3*x], first[3+3*x] = byte(x), byte(x>>4), byte(255-x)
	}
	if _, err := zw.Write(first); err != nil {
		t.Fatal(err)
	}
	up := make([]byte, 1+3*w)
	up[0] = 2 // Up: the same as the row above
	for range h - 1 {
		if _, err := zw.Write(up); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return rawPNG(w, h, pngRGB, idat.Bytes())
}

// hdProcMemory is a VmHWM (peak) or VmRSS line of /proc/<pid>/status, in
// bytes.
func hdProcMemory(t *testing.T, pid int, field string) int64 {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestHardeningDecodeMemoryIsBounded (issue 10, item 3): six 24-megapixel
// true-colour photos uploaded at once to the production binary keep its
// peak RSS under 400 MiB, and the memory is given back afterwards.
func TestHardeningDecodeMemoryIsBounded(t *testing.T) {
	bin := apptest.BuildServer(t)
	proc := apptest.StartProcess(t, testDB, bin, map[string]string{
		"APP_ENV": "production", "RATE_LIMITS": "on", "TMPDIR": t.TempDir(),
		"SECRET_KEY": "memory-test-secret-key-memory-test!", "SHUTDOWN_DRAIN_DELAY": "0s",
	})
	org := proc.NewOrg(t, "Big Photo Imports", "NZ")
	second := proc.NewOrg(t, "Other Big Photo Imports", "NZ") // per-user slots: 3
	vehicles := []string{newVehicle(t, proc.Env, org.Token), newVehicle(t, proc.Env, second.Token)}
	tokens := []string{org.Token, second.Token}
	photo := hdTrueColourPNG(t, 6000, 4000)
	t.Logf("a 6000×4000 RGB PNG of %d KB; server RSS before: %d MiB", len(photo)>>10, hdProcMemory(t, proc.Pid(), "VmRSS")>>20)

	var dones []chan *http.Response
	for i := range 6 {
		var body bytes.Buffer
		ct := apptest.MultipartUpload(&body, uploadPhotoMutation, apptest.Vars{"v": vehicles[i%2]}, "file", "big.png", photo)
		dones = append(dones, dbUpload(proc, tokens[i%2], ct, int64(body.Len()), &body))
	}
	for i, done := range dones {
		res := <-done
		if res == nil || res.StatusCode != http.StatusOK {
			t.Fatalf("upload %d: %v", i+1, res)
		}
	}
	var photos int
	if err := testDB.Get(&photos, `SELECT count(*) FROM photos WHERE organization_id = ANY($1)`, pq.Array([]string{org.ID, second.ID})); err != nil {
		t.Fatal(err)
	}
	if photos != 6 {
		t.Fatalf("%d photos stored, want 6", photos)
	}
	peak := hdProcMemory(t, proc.Pid(), "VmHWM")
	t.Logf("peak RSS over six 24 MP uploads at once: %d MiB", peak>>20)
	if peak > 400<<20 {
		t.Errorf("peak RSS %d MiB, want under 400 MiB", peak>>20)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rss := hdProcMemory(t, proc.Pid(), "VmRSS")
		if rss < 150<<20 {
			t.Logf("RSS after: %d MiB", rss>>20)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("RSS still %d MiB 10 s after the uploads: the memory was not given back", rss>>20)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
