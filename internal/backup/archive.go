// Package backup makes and restores backups of an instance, and writes
// its log as static tlog-tiles files for a mirror.
//
// A backup is one file:
//
//	truce-backup 1            a first line naming the format
//	{"format":1,…}            the manifest, one line of JSON, in clear
//	age-encryption.org/v1 …   the parts, encrypted with age to the end
//
// The manifest says what the backup is of: the log's origin and verifier
// key, the kind of store, the committed tree and the newest signed
// checkpoint at the moment of the snapshot, and each part's name, size
// and SHA-256. The parts are an encrypted tar stream: manifest.json (the
// same bytes as the manifest line, so that the manifest in clear is
// checked against what the encryption authenticates), then the database
// snapshot (database/truce.db, or database/<table>.copy for each table of
// a PostgreSQL schema), the evidence files (blobs/<sha256>) and the keys
// (keys/log.key, keys/system.key, keys/custody.key), in the manifest's
// order.
//
// Everything but the manifest is encrypted, not only the keys: the
// database holds the openings of sealed entries (the mechanism's
// confidential work), members' e-mail addresses and credential hashes,
// and the evidence files may be confidential too. The manifest holds
// nothing secret. A database password (DIR/database, --db) is never in a
// backup.
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

// Magic is the first line of a backup file.
const Magic = "truce-backup 1\n"

// Format is the manifest's format version.
const Format = 1

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

// maxManifest bounds the manifest line (it lists every evidence file).
const maxManifest = 64 << 20

// maxKeyFile bounds a key part, which restore reads into memory: a key
// file is a line or two.
const maxKeyFile = 64 << 10

// Manifest describes a backup.
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
func (m *Manifest) root() (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(m.TreeRoot)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("the tree root %q is not a base64 hash", m.TreeRoot)
	}
	copy(h[:], b)
	return h, nil
}

// checkpoint opens the manifest's checkpoint with its log key.
func (m *Manifest) checkpoint() (tlog.Checkpoint, note.Verifier, error) {
	v, err := note.NewVerifier(m.LogKey)
	if err != nil {
		return tlog.Checkpoint{}, nil, fmt.Errorf("the log key: %v", err)
	}
	if v.Name() != m.Origin {
		return tlog.Checkpoint{}, nil, fmt.Errorf("the log key is named %q, the origin is %q", v.Name(), m.Origin)
	}
	cp, err := tlog.OpenCheckpoint([]byte(m.Checkpoint), m.Origin, v)
	if err != nil {
		return cp, nil, fmt.Errorf("the checkpoint does not verify with the log key: %v", err)
	}
	return cp, v, nil
}

// check checks that the manifest is one this build writes: its facts
// agree with each other and its parts are the parts of its kind of store,
// each once, in order.
func (m *Manifest) check() error {
	if m.Format != Format {
		return fmt.Errorf("manifest format %d; this build reads format %d", m.Format, Format)
	}
	if m.Origin == "" {
		return fmt.Errorf("no origin")
	}
	root, err := m.root()
	if err != nil {
		return err
	}
	cp, _, err := m.checkpoint()
	if err != nil {
		return err
	}
	if cp.Size > m.TreeSize || (cp.Size == m.TreeSize && cp.Root != root) {
		return fmt.Errorf("the checkpoint (%d entries) is not of the tree (%d entries)", cp.Size, m.TreeSize)
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
		if p.Size < 0 || !hexHash.MatchString(p.SHA256) || (isKey(p.Name) && p.Size > maxKeyFile) {
			return fmt.Errorf("part %q: size %d, SHA-256 %q", p.Name, p.Size, p.SHA256)
		}
	}
	return nil
}

func tablePart(name string) string { return "database/" + name + ".copy" }

// readManifest reads the first two lines of a backup: the format line and
// the manifest, which it checks. It returns the manifest, its bytes, and
// how many bytes the two lines took.
func readManifest(r io.Reader) (*Manifest, []byte, int64, error) {
	br := bufio.NewReaderSize(r, 4096)
	magic, err := br.ReadString('\n')
	if magic != Magic {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, 0, err
		}
		return nil, nil, 0, truce.Errorf(truce.CodeInvalid, "not a truce backup (its first line is not %q)", strings.TrimSpace(Magic))
	}
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxManifest {
			return nil, nil, 0, invalid("the manifest is over %d bytes", maxManifest)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, nil, 0, invalid("the manifest line is cut short")
		}
	}
	line = line[:len(line)-1]
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, nil, 0, invalid("the manifest: %v", err)
	}
	if dec.More() {
		return nil, nil, 0, invalid("the manifest line holds more than the manifest")
	}
	if err := m.check(); err != nil {
		return nil, nil, 0, invalid("the manifest: %v", err)
	}
	return &m, line, int64(len(Magic) + len(line) + 1), nil
}

// marshal encodes the manifest as its line (without the newline).
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
