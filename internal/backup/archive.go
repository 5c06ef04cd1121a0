// Package backup makes and restores backups of an instance, and writes
// its log as static tlog-tiles files for a mirror.
//
// A backup is one file:
//
//	truce-backup 2            a first line naming the format
//	{"format":2,…}            the header, one line of JSON, in clear
//	age-encryption.org/v1 …   the rest, encrypted with age to the end
//
// The header says in clear only what is needed before decrypting and is
// not confidential: which log the backup is of (its origin and verifier
// key), the kind of store, the committed tree and the newest signed
// checkpoint at the moment of the snapshot (all of which the log
// publishes), how the rest is encrypted, and how many parts it holds and
// their total size. The rest is an encrypted tar stream: manifest.json,
// the manifest (the header's facts and each part's name, size and
// SHA-256), then the database snapshot (database/truce.db, or
// database/<table>.copy for each table of a PostgreSQL schema), the
// evidence files (blobs/<sha256>) and the keys (keys/log.key,
// keys/system.key, keys/custody.key), in the manifest's order. A reader
// decrypts and checks the manifest first, against the header, and then
// every part against the manifest.
//
// The parts' names are not in clear because an evidence file's part is
// named by its hash, and the log seals evidence registrations: a list of
// hashes in clear would say which files the mechanism holds. Everything
// else is encrypted too, not only the keys: the database holds the
// openings of sealed entries (the mechanism's confidential work),
// members' e-mail addresses and credential hashes, and the evidence files
// may be confidential. A database password (DIR/database, --db) is never
// in a backup.
//
// Format 1, written by earlier builds, held the whole manifest in clear
// (the encrypted manifest.json was the same bytes). It is still read and
// restored, with every check of format 2: a backup an operator kept must
// stay restorable by the build that replaces the one that wrote it, and
// what its clear manifest says was said when it was written. Only format
// 2 is written.
package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/store/postgres"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Magic is the first line of a backup file this build writes.
const Magic = "truce-backup 2\n"

// magic1 is the first line of a backup file of format 1.
const magic1 = "truce-backup 1\n"

// Format is the format version this build writes.
const Format = 2

// Kinds of store a backup holds.
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// Names of parts.
const (
	manifestName = "manifest.json"
	sqliteName   = "database/truce.db"
)

// keyFiles are the instance's keys, as they are named in the data
// directory and in a backup.
var keyFiles = []string{instance.LogKeyFile, instance.SystemKeyFile, instance.CustodyKeyFile}

// maxManifest bounds the manifest (it lists every evidence file).
const maxManifest = 64 << 20

// maxHeader bounds the header line of format 2 (a checkpoint, a key and
// a few numbers).
const maxHeader = 1 << 20

// minPart is the fewest bytes a part takes in the manifest's JSON: the
// header's count of parts is at most maxManifest/minPart.
const minPart = len(`{"name":"keys/log.key","size":0,"sha256":""},`) + 64

// maxKeyFile bounds a key part, which restore reads into memory: a key
// file is a line or two.
const maxKeyFile = 64 << 10

// Header is what a backup of format 2 says in clear: nothing
// confidential. Its facts are the manifest's (Manifest.header).
type Header struct {
	Format int    `json:"format"`
	Origin string `json:"origin"`
	LogKey string `json:"log_key"`
	Store  string `json:"store"`
	// TreeSize, TreeRoot and Checkpoint are the manifest's.
	TreeSize   int64  `json:"tree_size"`
	TreeRoot   string `json:"tree_root"`
	Checkpoint string `json:"checkpoint"`
	Encryption string `json:"encryption"`
	// Parts and Bytes are how many parts the backup holds and their
	// total size.
	Parts int   `json:"parts"`
	Bytes int64 `json:"parts_bytes"`
}

// Manifest describes a backup: in format 2 it is encrypted with the
// parts (manifest.json), in format 1 it was also in clear.
type Manifest struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	Origin  string    `json:"origin"`
	// LogKey is the log's checkpoint verifier key (signed-note).
	LogKey string `json:"log_key"`
	Store  string `json:"store"`
	// Schema and Tables describe a PostgreSQL dump: its schema version
	// and the tables (with their columns) of database/<table>.copy.
	Schema int              `json:"schema_version,omitempty"`
	Tables []postgres.Table `json:"tables,omitempty"`
	// TreeSize and TreeRoot are the committed tree in the snapshot;
	// Checkpoint is its newest signed checkpoint (for TreeSize, or a
	// little less: the log signs a few times a second).
	TreeSize   int64  `json:"tree_size"`
	TreeRoot   string `json:"tree_root"`
	Checkpoint string `json:"checkpoint"`
	// Encryption says how the parts are encrypted.
	Encryption string `json:"encryption"`
	Parts      []Part `json:"parts"`
}

// Part is one file of a backup.
type Part struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

var (
	hexHash   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
)

// invalid is a refusal of a damaged or altered backup.
func invalid(format string, args ...any) error {
	return truce.Errorf(truce.CodeInvalid, "the backup is damaged or was altered: "+format, args...)
}

// root is TreeRoot decoded.
func (m *Manifest) root() (tlog.Hash, error) { return decodeRoot(m.TreeRoot) }

func decodeRoot(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("the tree root %q is not a base64 hash", s)
	}
	copy(h[:], b)
	return h, nil
}

// checkpoint opens the manifest's checkpoint with its log key.
func (m *Manifest) checkpoint() (tlog.Checkpoint, note.Verifier, error) {
	return openCheckpoint(m.Origin, m.LogKey, m.Checkpoint)
}

func openCheckpoint(origin, logKey, checkpoint string) (tlog.Checkpoint, note.Verifier, error) {
	v, err := note.NewVerifier(logKey)
	if err != nil {
		return tlog.Checkpoint{}, nil, fmt.Errorf("the log key: %v", err)
	}
	if v.Name() != origin {
		return tlog.Checkpoint{}, nil, fmt.Errorf("the log key is named %q, the origin is %q", v.Name(), origin)
	}
	cp, err := tlog.OpenCheckpoint([]byte(checkpoint), origin, v)
	if err != nil {
		return cp, nil, fmt.Errorf("the checkpoint does not verify with the log key: %v", err)
	}
	return cp, v, nil
}

// checkLog checks the facts a backup states of its log: an origin, a
// tree root, and a checkpoint signed by the log key for that tree or an
// earlier one.
func checkLog(origin, logKey string, treeSize int64, treeRoot, checkpoint string) error {
	if origin == "" {
		return fmt.Errorf("no origin")
	}
	root, err := decodeRoot(treeRoot)
	if err != nil {
		return err
	}
	cp, _, err := openCheckpoint(origin, logKey, checkpoint)
	if err != nil {
		return err
	}
	if cp.Size > treeSize || (cp.Size == treeSize && cp.Root != root) {
		return fmt.Errorf("the checkpoint (%d entries) is not of the tree (%d entries)", cp.Size, treeSize)
	}
	return nil
}

// header is what a backup of format 2 with this manifest says in clear.
func (m *Manifest) header() Header {
	h := Header{Format: m.Format, Origin: m.Origin, LogKey: m.LogKey, Store: m.Store, TreeSize: m.TreeSize, TreeRoot: m.TreeRoot,
		Checkpoint: m.Checkpoint, Encryption: m.Encryption, Parts: len(m.Parts)}
	for _, p := range m.Parts {
		h.Bytes += p.Size // check bounds each part, so that this does not overflow
	}
	return h
}

// check checks a header: its facts agree with each other, and it counts
// at least the parts of its kind of store and no more than a manifest can
// list.
func (h *Header) check() error {
	if h.Format != Format {
		return fmt.Errorf("header format %d in a file of format %d", h.Format, Format)
	}
	if err := checkLog(h.Origin, h.LogKey, h.TreeSize, h.TreeRoot, h.Checkpoint); err != nil {
		return err
	}
	if h.Store != StoreSQLite && h.Store != StorePostgres {
		return fmt.Errorf("unknown store %q", h.Store)
	}
	if h.Parts < 1+len(keyFiles) || h.Parts > maxManifest/minPart || h.Bytes < 0 {
		return fmt.Errorf("%d parts of %d bytes", h.Parts, h.Bytes)
	}
	return nil
}

// check checks that the manifest is one this build reads: its facts
// agree with each other and its parts are the parts of its kind of store,
// each once, in order, and each of a size a backup can hold. The caller
// checks that its format is the file's.
func (m *Manifest) check() error {
	if m.Format != 1 && m.Format != Format {
		return fmt.Errorf("manifest format %d; this build reads formats 1 and %d", m.Format, Format)
	}
	if err := checkLog(m.Origin, m.LogKey, m.TreeSize, m.TreeRoot, m.Checkpoint); err != nil {
		return err
	}
	var want []string
	switch m.Store {
	case StoreSQLite:
		if m.Schema != 0 || len(m.Tables) != 0 {
			return fmt.Errorf("a SQLite backup with PostgreSQL tables")
		}
		want = append(want, sqliteName)
	case StorePostgres:
		if m.Schema < 1 || len(m.Tables) == 0 {
			return fmt.Errorf("a PostgreSQL backup without its schema version or tables")
		}
		for _, t := range m.Tables {
			if !tableName.MatchString(t.Name) || len(t.Columns) == 0 {
				return fmt.Errorf("table %q", t.Name)
			}
			want = append(want, tablePart(t.Name))
		}
	default:
		return fmt.Errorf("unknown store %q", m.Store)
	}
	if len(m.Parts) < len(want)+len(keyFiles) {
		return fmt.Errorf("%d parts", len(m.Parts))
	}
	blobs := m.Parts[len(want) : len(m.Parts)-len(keyFiles)]
	for i, p := range blobs {
		sha, ok := strings.CutPrefix(p.Name, "blobs/")
		if !ok || !hexHash.MatchString(sha) || p.SHA256 != sha || (i > 0 && blobs[i-1].Name >= p.Name) {
			return fmt.Errorf("evidence file part %q", p.Name)
		}
		want = append(want, p.Name)
	}
	want = append(want, keyFiles...)
	for i, p := range m.Parts {
		if p.Name != want[i] {
			return fmt.Errorf("part %d is %q, expected %q", i, p.Name, want[i])
		}
		if p.Size < 0 || p.Size > maxPart || !hexHash.MatchString(p.SHA256) || (isKey(p.Name) && p.Size > maxKeyFile) {
			return fmt.Errorf("part %q: size %d, SHA-256 %q", p.Name, p.Size, p.SHA256)
		}
	}
	return nil
}

// maxPart bounds a part's size (a petabyte), so that the sum of a
// manifest's sizes cannot overflow.
const maxPart = 1 << 50

func tablePart(name string) string { return "database/" + name + ".copy" }

// clearText is what a backup says in clear: the format 1 manifest and
// its line, or the format 2 header.
type clearText struct {
	m      *Manifest // format 1
	line   []byte    // format 1: the manifest's line
	header *Header   // format 2
	n      int64     // the bytes the two lines take
}

// readClear reads the first two lines of a backup: the format line, and
// the manifest of format 1 or the header of format 2, which it checks.
func readClear(r io.Reader) (clearText, error) {
	br := bufio.NewReaderSize(r, 4096)
	magic, err := br.ReadString('\n')
	if magic != Magic && magic != magic1 {
		if err != nil && !errors.Is(err, io.EOF) {
			return clearText{}, err
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(magic), "truce-backup "); ok && !strings.ContainsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
			return clearText{}, truce.Errorf(truce.CodeInvalid, "a truce backup of format %s: this build reads formats 1 and %d (restore it with a later build)", v, Format)
		}
		return clearText{}, truce.Errorf(truce.CodeInvalid, "not a truce backup (its first line is not %q)", strings.TrimSpace(Magic))
	}
	limit := maxHeader
	if magic == magic1 {
		limit = maxManifest
	}
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > limit {
			return clearText{}, invalid("the line after the format line is over %d bytes", limit)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return clearText{}, invalid("the line after the format line is cut short")
		}
	}
	line = line[:len(line)-1]
	c := clearText{n: int64(len(magic) + len(line) + 1)}
	if magic == magic1 {
		c.m, err = parseManifest(line, 1)
		c.line = line
		return c, err
	}
	c.header = new(Header)
	if err := decodeStrict(line, c.header); err != nil {
		return clearText{}, invalid("the header: %v", err)
	}
	if err := c.header.check(); err != nil {
		return clearText{}, invalid("the header: %v", err)
	}
	return c, nil
}

// parseManifest decodes and checks a manifest of the given format.
func parseManifest(b []byte, format int) (*Manifest, error) {
	var m Manifest
	if err := decodeStrict(b, &m); err != nil {
		return nil, invalid("the manifest: %v", err)
	}
	if m.Format != format {
		return nil, invalid("the manifest is of format %d in a file of format %d", m.Format, format)
	}
	if err := m.check(); err != nil {
		return nil, invalid("the manifest: %v", err)
	}
	return &m, nil
}

// decodeStrict decodes one JSON value that is all of b, with no field v
// does not have.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// marshal encodes the manifest (without a newline).
func (m *Manifest) marshal() ([]byte, error) {
	return json.Marshal(m)
}

// hashingReader hashes what is read through it.
type hashingReader struct {
	r io.Reader
	h hashState
	n int64
}

type hashState = interface {
	io.Writer
	Sum([]byte) []byte
}

func newHashingReader(r io.Reader) *hashingReader { return &hashingReader{r: r, h: sha256.New()} }

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (h *hashingReader) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// isKey says whether a part is one of the keys.
func isKey(name string) bool { return slices.Contains(keyFiles, name) }
