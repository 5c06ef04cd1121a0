// Package instance lays out and opens a Truce data directory:
//
//	DIR/truce.db         the database (log and projections), or
//	DIR/database         the address (postgres://…) of the PostgreSQL
//	                     database that holds them instead
//	DIR/keys/log.key     the checkpoint signing key (signed-note format)
//	DIR/keys/system.key  the system author's entry signing key
//	DIR/keys/custody.key the key that encrypts custodial keys at rest
//	DIR/blobs/           evidence files, by SHA-256 (SQLite only)
//	DIR/spool/           uploads being received (PostgreSQL only)
//
// Keys are files readable only by their owner; nothing secret is in the
// database or the log.
//
// With PostgreSQL, the log, its projections, the credentials' hashes and
// the evidence files are in the database; the keys stay in the data
// directory. The files move so that every process over the database (a
// standby on another machine, which takes over when the leader dies) reads
// the files any of them received, and a copy of the database is a copy of
// them; uploads are spooled to DIR/spool on their way in. The keys stay so
// that whoever can read the database (its operator, its backups, a
// standby's replica) cannot sign entries or open custodial keys: every
// process that serves needs its own copy of DIR/keys. An instance whose
// files were in DIR/blobs before they moved has them copied in by truce
// migrate (the directory is left for its operator to remove). A data
// directory made with init --db names its database in DIR/database
// (readable only by its owner, as it may carry a password), so that every
// command finds it; --db on a command names it in its place.
package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/custody"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/postgres"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/tlog"
)

// File names within a data directory.
const (
	DBFile         = "truce.db"
	DatabaseFile   = "database"
	LogKeyFile     = "keys/log.key"
	SystemKeyFile  = "keys/system.key"
	CustodyKeyFile = "keys/custody.key"
	BlobDir        = "blobs"
	SpoolDir       = "spool"
)

// Meta keys.
const (
	MetaOrigin = "origin"
	MetaVKey   = "log_vkey"
)

// Member is a member to register at init.
type Member struct {
	ID, Name   string
	Role       truce.Role
	Party      string
	PublicKeys []string
	// Custodial gives the member a key the server holds, for the browser.
	Custodial bool
}

// InitOptions describe a new instance.
type InitOptions struct {
	Origin    string
	Name      string
	Exercise  bool
	Agreement *truce.Agreement
	Members   []Member
	Clock     func() time.Time
	Logger    *slog.Logger
	// DB, if set, is a PostgreSQL database (postgres://…) to keep the log
	// in instead of DIR/truce.db; it must hold no instance yet.
	DB string
}

// Options configure Open.
type Options struct {
	Clock   func() time.Time
	Logger  *slog.Logger
	Migrate bool
	// DB, if set, is the PostgreSQL database (postgres://…) holding the
	// log, in place of the one the data directory names.
	DB                 string
	CheckpointInterval time.Duration
	// Advertise is where this process serves (a URL), which it names in
	// the lease of a database several processes share, for standbys to
	// point clients to.
	Advertise string
	// LeaseTTL is how long a lease on a shared database lasts unrenewed
	// (default sequencer.Lease's).
	LeaseTTL time.Duration
	// WrapLeases, if set, wraps the database's leases (tests: a leader
	// whose renewals stop, as if paused).
	WrapLeases func(store.Leases) store.Leases
	// StoreOptions are passed to the SQLite store (crash tests).
	StoreOptions sqlite.Options
}

// Instance is an open data directory.
type Instance struct {
	lock     *os.File
	Dir      string
	Origin   string
	VKey     string
	Verifier note.Verifier
	Store    store.Store
	Seq      *sequencer.Sequencer
	Vault    *custody.Vault
}

// Exists reports whether dir holds an instance.
func Exists(dir string) bool {
	for _, f := range []string{DBFile, DatabaseFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// Database is the PostgreSQL database the instance in dir keeps its log
// in: db if set, else the one DIR/database names; "" for DIR/truce.db.
func Database(dir, db string) (string, error) {
	if db == "" {
		b, err := os.ReadFile(filepath.Join(dir, DatabaseFile))
		if errors.Is(err, os.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		db = strings.TrimSpace(string(b))
	}
	if !postgres.IsURL(db) {
		return "", fmt.Errorf("the database %q is not a postgres:// or postgresql:// URL", redact(db))
	}
	return db, nil
}

// redact hides a password in a database address shown in an error.
func redact(db string) string {
	u, err := url.Parse(db)
	if err != nil {
		return "the database address (unreadable, not shown)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "REDACTED")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// openDB opens the instance's database: the PostgreSQL database db or
// dir names, else DIR/truce.db with so.
func openDB(ctx context.Context, dir, db string, so sqlite.Options) (store.Store, error) {
	url, err := Database(dir, db)
	if err != nil {
		return nil, err
	}
	if url != "" {
		return postgres.Open(ctx, url, postgres.Options{Migrate: so.Migrate, Fail: so.Fail})
	}
	return sqlite.Open(ctx, filepath.Join(dir, DBFile), so)
}

// Init creates an instance in dir: keys, database, and the first entries
// of its log (the instance, its agreement, its members), signed by the
// system key.
func Init(ctx context.Context, dir string, o InitOptions) error {
	if Exists(dir) {
		return fmt.Errorf("%s already holds an instance", dir)
	}
	if o.Agreement == nil {
		return errors.New("an agreement is required")
	}
	// A PostgreSQL database is looked at first: one that holds an instance
	// already is refused before anything is written in dir.
	var (
		db         store.Store
		vkey, spub string
	)
	if o.DB != "" {
		pg, err := Database(dir, o.DB)
		if err != nil {
			return err
		}
		if db, err = postgres.Open(ctx, pg, postgres.Options{Migrate: true}); err != nil {
			return err
		}
		if origin, err := db.Meta(ctx, MetaOrigin); !errors.Is(err, store.ErrNotFound) {
			db.Close()
			if err != nil {
				return err
			}
			return fmt.Errorf("the database already holds the instance %s", origin)
		}
		vkey, spub, err = initKeys(dir, o.Origin)
		if err == nil {
			err = entry.WriteSecretFile(filepath.Join(dir, DatabaseFile), []byte(pg+"\n"))
		}
		if err == nil {
			err = setMeta(ctx, db, o.Origin, vkey)
		}
		db.Close()
		if err != nil {
			return err
		}
	} else {
		var err error
		if vkey, spub, err = initKeys(dir, o.Origin); err != nil {
			return err
		}
		if db, err = sqlite.Open(ctx, filepath.Join(dir, DBFile), sqlite.Options{Migrate: true}); err != nil {
			return err
		}
		err = setMeta(ctx, db, o.Origin, vkey)
		db.Close()
		if err != nil {
			return err
		}
	}
	in, err := Open(ctx, dir, Options{Clock: o.Clock, Logger: o.Logger, DB: o.DB})
	if err != nil {
		return err
	}
	defer in.Close()
	name := o.Name
	if name == "" {
		name = o.Agreement.Title
	}
	steps := []struct {
		kind string
		body any
	}{
		{rules.KindInstanceCreated, rules.Instance{Rules: rules.LatestVersion, Origin: o.Origin, Name: name, Exercise: o.Exercise, SystemKey: spub, LogKey: vkey}},
		{rules.KindAgreementAdopted, o.Agreement},
	}
	for _, m := range o.Members {
		reg := rules.MemberRegistration{ID: m.ID, Name: m.Name, Role: m.Role, Party: m.Party, Keys: m.PublicKeys}
		if m.Custodial {
			k, err := in.Vault.NewKey(ctx, m.ID)
			if err != nil {
				return err
			}
			reg.Custodial = []string{k.PublicKey()}
		}
		steps = append(steps, struct {
			kind string
			body any
		}{rules.KindMemberRegistered, reg})
	}
	for _, st := range steps {
		if _, err := in.Seq.SubmitSystem(ctx, st.kind, st.body); err != nil {
			return fmt.Errorf("%s: %w", st.kind, err)
		}
	}
	return nil
}

// initKeys writes a new instance's keys in dir/keys and returns the log's
// verifier key and the system key's public key.
func initKeys(dir, origin string) (vkey, spub string, err error) {
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return "", "", err
	}
	skey, vkey, err := tlog.GenerateLogKey(origin)
	if err != nil {
		return "", "", fmt.Errorf("origin %q: %w", origin, err)
	}
	if err := entry.WriteSecretFile(filepath.Join(dir, LogKeyFile), []byte(skey+"\n")); err != nil {
		return "", "", err
	}
	sys, err := entry.GenerateKey(truce.SystemAuthor)
	if err != nil {
		return "", "", err
	}
	if err := entry.WriteKeyFile(filepath.Join(dir, SystemKeyFile), sys); err != nil {
		return "", "", err
	}
	return vkey, sys.PublicKey(), custody.GenerateKeyFile(filepath.Join(dir, CustodyKeyFile))
}

// setMeta records a new instance's origin and verifier key.
func setMeta(ctx context.Context, db store.Store, origin, vkey string) error {
	if err := db.SetMeta(ctx, MetaOrigin, origin); err != nil {
		return err
	}
	return db.SetMeta(ctx, MetaVKey, vkey)
}

// Open opens the instance in dir and starts its sequencer. On SQLite only
// one process may have an instance open this way at a time: the data
// directory is locked. On PostgreSQL several may, each from its own
// directory or the same one: the one that holds the database's lease
// sequences, the others stand by (sequencer.Lease).
func Open(ctx context.Context, dir string, o Options) (*Instance, error) {
	if !Exists(dir) {
		return nil, fmt.Errorf("%s holds no instance (run truce init)", dir)
	}
	pg, err := Database(dir, o.DB)
	if err != nil {
		return nil, err
	}
	var lock *os.File
	if pg == "" {
		if lock, err = lockDir(dir); err != nil {
			return nil, err
		}
	}
	so := o.StoreOptions
	so.Migrate = so.Migrate || o.Migrate
	db, err := openDB(ctx, dir, o.DB, so)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	in := &Instance{Dir: dir, Store: db, lock: lock}
	if err := in.open(ctx, o); err != nil {
		in.Close()
		return nil, err
	}
	if o.Migrate {
		if err := in.moveFiles(ctx, o.Logger); err != nil {
			in.Close()
			return nil, err
		}
	}
	return in, nil
}

// OpenStore opens an instance's database for reading and checking, without
// sequencing: it may run beside a serving process.
func OpenStore(ctx context.Context, dir string) (*Instance, error) {
	return OpenStoreAt(ctx, dir, "")
}

// OpenStoreAt is OpenStore with the instance's log in the PostgreSQL
// database db ("": the one the data directory names).
func OpenStoreAt(ctx context.Context, dir, db string) (*Instance, error) {
	if !Exists(dir) && db == "" {
		return nil, fmt.Errorf("%s holds no instance", dir)
	}
	st, err := openDB(ctx, dir, db, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	in := &Instance{Dir: dir, Store: st}
	if err := in.readMeta(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return in, nil
}

func (in *Instance) readMeta(ctx context.Context) error {
	var err error
	if in.Origin, err = in.Store.Meta(ctx, MetaOrigin); err != nil {
		return fmt.Errorf("reading origin: %w", err)
	}
	if in.VKey, err = in.Store.Meta(ctx, MetaVKey); err != nil {
		return fmt.Errorf("reading log key: %w", err)
	}
	in.Verifier, err = note.NewVerifier(in.VKey)
	return err
}

func (in *Instance) open(ctx context.Context, o Options) error {
	if err := in.readMeta(ctx); err != nil {
		return err
	}
	dir, db := in.Dir, in.Store
	skey, err := os.ReadFile(filepath.Join(dir, LogKeyFile))
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return fmt.Errorf("%s: %w", LogKeyFile, err)
	}
	if signer.Name() != in.Origin || signer.KeyHash() != in.Verifier.KeyHash() {
		return fmt.Errorf("%s does not match the log's verifier key", LogKeyFile)
	}
	sys, err := entry.ReadKeyFile(filepath.Join(dir, SystemKeyFile))
	if err != nil {
		return err
	}
	if in.Vault, err = custody.Open(db, filepath.Join(dir, CustodyKeyFile)); err != nil {
		return err
	}
	var lease *sequencer.Lease
	if l, ok := db.(store.Leases); ok {
		if o.WrapLeases != nil {
			l = o.WrapLeases(l)
		}
		host, _ := os.Hostname()
		lease = &sequencer.Lease{Leases: l, Holder: fmt.Sprintf("%s:%d", host, os.Getpid()), Addr: o.Advertise, TTL: o.LeaseTTL}
	}
	in.Seq, err = sequencer.Open(ctx, sequencer.Config{
		Store: db, LogKey: signer, System: sys, Clock: o.Clock, Logger: o.Logger,
		CheckpointInterval: o.CheckpointInterval, Lease: lease, Check: in.checkKeys(ctx, sys),
	})
	return err
}

// Blobs opens the instance's store of files (evidence, raw pages) kept by
// their hash: in its PostgreSQL database when it has one, so that every
// process over that database reads them, else in DIR/blobs.
func (in *Instance) Blobs() (blob.Store, error) {
	if db, ok := in.Store.(filesInDB); ok {
		return db.Files(in.spool())
	}
	return blob.Open(filepath.Join(in.Dir, BlobDir))
}

// Close stops the sequencer and closes the database.
func (in *Instance) Close() error {
	if in.Seq != nil {
		in.Seq.Close()
	}
	err := in.Store.Close()
	if in.lock != nil {
		in.lock.Close()
	}
	return err
}

// lockDir takes an exclusive lock on dir, so two processes never sequence
// one log.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "truce.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by another truce process", dir)
	}
	return f, nil
}
