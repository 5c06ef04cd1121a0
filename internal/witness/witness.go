// Package witness is a C2SP tlog-witness: it cosigns a log's checkpoint
// only after checking that the log grew consistently from the last
// checkpoint it cosigned, so a log that forks, or shows one party a
// history and the other another, is caught. Each party runs one.
//
// The state — per log, the last cosigned size and root — is one SQLite
// file; the check of the old size and the update are one atomic
// compare-and-swap, and the state is durable before the witness answers.
package witness

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite"

	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Files in a witness's data directory.
const (
	dbFile  = "witness.db"
	keyFile = "witness.key"
)

// maxRequest bounds an add-checkpoint body: 63 proof lines and a
// checkpoint with its signatures.
const maxRequest = 32 << 10

const schema = `
CREATE TABLE IF NOT EXISTS logs (
	origin TEXT PRIMARY KEY,
	vkey   TEXT NOT NULL,
	size   INTEGER NOT NULL,
	hash   BLOB NOT NULL
);
-- Requests signed by a log that did not prove consistency: evidence.
CREATE TABLE IF NOT EXISTS alarms (
	id      INTEGER PRIMARY KEY,
	origin  TEXT NOT NULL,
	reason  TEXT NOT NULL,
	request BLOB NOT NULL
);`

// Witness cosigns checkpoints.
type Witness struct {
	db     *sql.DB
	signer *fnote.Signer
	vkey   string
	log    *slog.Logger
}

func openDB(dir string) (*sql.DB, error) {
	dsn := "file:" + (&url.URL{Path: filepath.Join(dir, dbFile)}).EscapedPath() +
		"?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Init creates a witness named name in dir and returns its cosignature
// verifier key.
func Init(dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", err
	}
	if err := entry.WriteSecretFile(filepath.Join(dir, keyFile), []byte(skey+"\n")); err != nil {
		return "", err
	}
	db, err := openDB(dir)
	if err != nil {
		return "", err
	}
	db.Close()
	w, err := Open(dir, nil)
	if err != nil {
		return "", err
	}
	defer w.Close()
	return w.VerifierKey(), nil
}

// AddLog makes the witness in dir follow the log whose checkpoints vkey
// verifies (its name is the log's origin).
func AddLog(ctx context.Context, dir, vkey string) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	db, err := openDB(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `INSERT INTO logs (origin, vkey, size, hash) VALUES (?, ?, 0, ?)`, v.Name(), vkey, []byte{})
	return err
}

// Open opens the witness in dir.
func Open(dir string, logger *slog.Logger) (*Witness, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	skey, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	signer, err := fnote.NewSignerForCosignatureV1(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, err
	}
	db, err := openDB(dir)
	if err != nil {
		return nil, err
	}
	w := &Witness{db: db, signer: signer, log: logger}
	w.vkey, err = cosignatureVKey(strings.TrimSpace(string(skey)))
	if err != nil {
		db.Close()
		return nil, err
	}
	return w, nil
}

// cosignatureVKey derives the cosignature/v1 verifier key of an Ed25519
// signed-note private key.
func cosignatureVKey(skey string) (string, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", err
	}
	// PRIVATE+KEY+name+hash+base64(alg||seed); the base64 may hold '+'.
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", errors.New("malformed witness key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 {
		return "", errors.New("witness key is not Ed25519")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := tlog.VerifierKey(s.Name(), pub)
	if err != nil {
		return "", err
	}
	return fnote.VKeyToCosignatureV1(vkey)
}

// Close closes the witness's state.
func (w *Witness) Close() error { return w.db.Close() }

// VerifierKey is the witness's cosignature/v1 verifier key.
func (w *Witness) VerifierKey() string { return w.vkey }

// Name is the witness's name.
func (w *Witness) Name() string { return w.signer.Name() }

// failure is an add-checkpoint refusal with its HTTP status.
type failure struct {
	status int
	msg    string
	known  int64 // for 409: the size of the latest cosigned checkpoint
}

func (f *failure) Error() string { return f.msg }

func fail(status int, format string, args ...any) *failure {
	return &failure{status: status, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP serves POST /add-checkpoint, and GET /healthz for monitoring.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" && r.Method == http.MethodGet {
		if err := w.db.PingContext(r.Context()); err != nil {
			http.Error(rw, "state unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
		return
	}
	if r.URL.Path != "/add-checkpoint" {
		http.NotFound(rw, r)
		return
	}
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", "POST")
		http.Error(rw, "add-checkpoint takes POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxRequest))
	if err != nil {
		http.Error(rw, "request too large or unreadable", http.StatusBadRequest)
		return
	}
	cosig, err := w.AddCheckpoint(r.Context(), body)
	var f *failure
	switch {
	case errors.As(err, &f) && f.status == http.StatusConflict:
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", f.known)
	case errors.As(err, &f):
		http.Error(rw, f.msg, f.status)
	case err != nil:
		w.log.Error("add-checkpoint", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
	default:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Write(cosig)
	}
}

// AddCheckpoint processes an add-checkpoint request body and returns the
// cosignature lines, or a *failure.
func (w *Witness) AddCheckpoint(ctx context.Context, body []byte) ([]byte, error) {
	head, signed, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return nil, fail(http.StatusBadRequest, "the body has no empty line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	sizeText, ok := strings.CutPrefix(lines[0], "old ")
	old, err := strconv.ParseInt(sizeText, 10, 64)
	if !ok || err != nil || old < 0 || strconv.FormatInt(old, 10) != sizeText {
		return nil, fail(http.StatusBadRequest, "the first line must be \"old\" and a decimal size")
	}
	if len(lines)-1 > 63 {
		return nil, fail(http.StatusBadRequest, "more than 63 consistency proof lines")
	}
	var proof sumtlog.TreeProof
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != sumtlog.HashSize {
			return nil, fail(http.StatusBadRequest, "a consistency proof line is not a base64 hash")
		}
		proof = append(proof, sumtlog.Hash(h))
	}
	origin, _, _ := strings.Cut(string(signed), "\n")
	var vkey string
	var known int64
	var knownHash []byte
	err = w.db.QueryRowContext(ctx, `SELECT vkey, size, hash FROM logs WHERE origin = ?`, origin).Scan(&vkey, &known, &knownHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fail(http.StatusNotFound, "unknown log %q", origin)
	}
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return nil, fail(http.StatusForbidden, "no signature by the log's key verifies")
		}
		return nil, fail(http.StatusBadRequest, "malformed checkpoint: %v", err)
	}
	cp, err := tlog.OpenCheckpoint(signed, origin, v)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "malformed checkpoint: %v", err)
	}
	if old > cp.Size {
		return nil, fail(http.StatusBadRequest, "old size %d is beyond the checkpoint's %d", old, cp.Size)
	}
	if old != known {
		return nil, &failure{status: http.StatusConflict, msg: "old size is not the last cosigned size", known: known}
	}
	// The log must prove that the new tree extends the one last cosigned.
	var bad string
	switch {
	case old == 0 && len(proof) > 0:
		bad = "a proof from size 0 must be empty"
	case old == 0:
	case old == cp.Size && !bytes.Equal(knownHash, cp.Root[:]):
		bad = fmt.Sprintf("same size %d, different root: the log forked", old)
	default:
		if err := sumtlog.CheckTree(proof, cp.Size, cp.Root, old, sumtlog.Hash(knownHash)); err != nil {
			bad = fmt.Sprintf("the consistency proof from %d to %d does not verify", old, cp.Size)
		}
	}
	if bad != "" {
		w.log.Error("log misbehaviour", "origin", origin, "reason", bad)
		w.db.ExecContext(ctx, `INSERT INTO alarms (origin, reason, request) VALUES (?, ?, ?)`, origin, bad, body)
		return nil, fail(http.StatusUnprocessableEntity, "%s", bad)
	}
	// Compare and swap: only the state this request was checked against
	// may be replaced, so concurrent requests never roll the state back.
	// The size identifies that state: a root is never replaced at the
	// same size (that is the fork refused above).
	res, err := w.db.ExecContext(ctx, `UPDATE logs SET size = ?, hash = ? WHERE origin = ? AND size = ?`,
		cp.Size, cp.Root[:], origin, known)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		var now int64
		w.db.QueryRowContext(ctx, `SELECT size FROM logs WHERE origin = ?`, origin).Scan(&now)
		return nil, &failure{status: http.StatusConflict, msg: "the state moved on", known: now}
	}
	text, _, _ := bytes.Cut(signed, []byte("\n\n"))
	cosigned, err := note.Sign(&note.Note{Text: string(text) + "\n"}, w.signer)
	if err != nil {
		return nil, err
	}
	_, sigs, _ := bytes.Cut(cosigned, []byte("\n\n"))
	return sigs, nil
}

// Alarms lists the misbehaviour the witness recorded.
func (w *Witness) Alarms(ctx context.Context) ([]string, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT origin, reason FROM alarms ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o, r string
		rows.Scan(&o, &r)
		out = append(out, o+": "+r)
	}
	return out, rows.Err()
}

// Local is a witness serving on loopback beside a log, as the demo and
// the benchmark run them.
type Local struct {
	*Witness
	Peer Peer
	srv  *http.Server
}

// StartLocal starts the witness kept in dir (creating it, named name and
// following the log logKey verifies, if dir holds none) on a free
// loopback port.
func StartLocal(ctx context.Context, dir, name, logKey string, logger *slog.Logger) (*Local, error) {
	if _, err := os.Stat(filepath.Join(dir, keyFile)); errors.Is(err, os.ErrNotExist) {
		if _, err := Init(dir, name); err != nil {
			return nil, err
		}
		if err := AddLog(ctx, dir, logKey); err != nil {
			return nil, err
		}
	}
	w, err := Open(dir, logger)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.Close()
		return nil, err
	}
	l := &Local{Witness: w, srv: &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second}}
	l.Peer = Peer{Name: w.Name(), VKey: w.VerifierKey(), URL: "http://" + ln.Addr().String()}
	go l.srv.Serve(ln)
	return l, nil
}

// Close stops serving and closes the witness's state.
func (l *Local) Close() error {
	l.srv.Close()
	return l.Witness.Close()
}
