package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPostgresFilesAcrossProcesses: two truce serve processes over one
// PostgreSQL database, each with its own data directory holding a copy of
// the same keys (as a standby on another machine would): an evidence file
// uploaded to one downloads from the other, byte for byte, and neither
// data directory holds it. The second is only read from.
func TestPostgresFilesAcrossProcesses(t *testing.T) {
	db := pgDatabase(t)
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	members := filepath.Join(dir, "members.yaml")
	var yaml strings.Builder
	for _, m := range []struct{ id, role, party string }{{"monitor", "monitor", "MECH"}, {"af-liaison", "liaison", "AF"}} {
		pub, errOut, code := run(t, "key", "generate", "--out", filepath.Join(dir, m.id+".key"), "--member", m.id)
		if code != 0 {
			t.Fatalf("key generate = %d %s", code, errOut)
		}
		fmt.Fprintf(&yaml, "- id: %s\n  name: %s\n  role: %s\n  party: %s\n  keys: [%q]\n", m.id, m.id, m.role, m.party, strings.TrimSpace(pub))
	}
	os.WriteFile(members, []byte(yaml.String()), 0o600)
	if out, errOut, code := run(t, "init", "--data", first, "--db", db, "--origin", "truce.example.org/pg-files",
		"--agreement", "../../internal/demo/agreement.yaml", "--members", members); code != 0 {
		t.Fatalf("init --db = %d %s %s", code, out, errOut)
	}
	// The second directory: the same keys and the same database, nothing
	// else.
	copyTree(t, filepath.Join(first, "keys"), filepath.Join(second, "keys"))
	copyTree(t, filepath.Join(first, "database"), filepath.Join(second, "database"))

	s1 := start(t, "serve", "--data", first, "--addr", "127.0.0.1:0")
	s2 := start(t, "serve", "--data", second, "--addr", "127.0.0.1:0")
	token := func(member string) string {
		tok, errOut, code := run(t, "token", "issue", "--data", first, "--member", member)
		if code != 0 {
			t.Fatalf("token issue %s = %d %s", member, code, errOut)
		}
		return strings.TrimSpace(tok)
	}
	monitor, liaison := token("monitor"), token("af-liaison")

	// Over three chunks of the database's, not a multiple of one.
	file := make([]byte, 3<<20+12345)
	rand.Read(file)
	sum := sha256.Sum256(file)
	sha := hex.EncodeToString(sum[:])
	code, body := call(t, "POST", s1.url+"/api/v1/blobs?name=ridge.jpg", monitor, "image/jpeg", file)
	var stored struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	}
	if code != http.StatusCreated || json.Unmarshal(body, &stored) != nil || stored.SHA256 != sha || stored.Size != int64(len(file)) {
		t.Fatalf("upload to the first = %d %.200s", code, body)
	}

	began := time.Now()
	code, got := call(t, "GET", s2.url+"/api/v1/blobs/"+sha, monitor, "", nil)
	if code != 200 || !bytes.Equal(got, file) {
		t.Fatalf("download from the second = %d, %d bytes, same %v", code, len(got), bytes.Equal(got, file))
	}
	t.Logf("%d bytes uploaded to the first process, downloaded from the second in %v", len(file), time.Since(began))

	// The second serves it as the first would: to no one else.
	if code, got := call(t, "GET", s2.url+"/api/v1/blobs/"+sha, liaison, "", nil); code != http.StatusNotFound || bytes.Contains(got, file[:64]) {
		t.Fatalf("another party's liaison downloads it from the second: %d", code)
	}
	if code, _ := call(t, "GET", s2.url+"/api/v1/blobs/"+sha, "", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("anonymous download from the second: %d", code)
	}
	for _, d := range []string{first, second} {
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.Contains(e.Name(), sha) {
				t.Errorf("the file is in a data directory: %s", p)
			}
			if err == nil && !e.IsDir() && strings.HasPrefix(e.Name(), ".upload-") {
				t.Errorf("an upload was left behind: %s", p)
			}
			return nil
		})
	}
}

// call sends a request with a bearer token (if any) and returns the status
// and body.
func call(t *testing.T, method, url, token, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// copyTree copies a file, or a directory and what is in it, keeping modes.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if e.IsDir() {
			return os.MkdirAll(dst, fi.Mode().Perm())
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
